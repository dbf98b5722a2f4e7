# @summary An IPv6 address in RFC 4291 text form (full, compressed, or ending in a dotted quad),
#   without a zone index. The dotted-quad forms check shape only; big_brother's own validation
#   (`validate_cmd`) has the last word on group counts. One pattern per form (any may match;
#   `\h` is a hex digit).
type Pacemaker::Ipv6 = Pattern[
  /\A(\h{1,4}:){7}\h{1,4}\z/,
  /\A(\h{1,4}:){1,7}:\z/,
  /\A(\h{1,4}:){1,6}:\h{1,4}\z/,
  /\A(\h{1,4}:){1,5}(:\h{1,4}){1,2}\z/,
  /\A(\h{1,4}:){1,4}(:\h{1,4}){1,3}\z/,
  /\A(\h{1,4}:){1,3}(:\h{1,4}){1,4}\z/,
  /\A(\h{1,4}:){1,2}(:\h{1,4}){1,5}\z/,
  /\A\h{1,4}:(:\h{1,4}){1,6}\z/,
  /\A:((:\h{1,4}){1,7}|:)\z/,
  /\A(\h{1,4}:){6}((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\z/,
  /\A((\h{1,4}:){0,4}\h{1,4})?::(\h{1,4}:){0,4}((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\z/,
]
