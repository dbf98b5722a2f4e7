# @summary How long a node taken out of the spec keeps its connections before its destination is
#   deleted: a Pacemaker::Duration of at most 24 hours (`86400000ms`, `86400s`, `1440m`, `24h`).
#   One pattern per unit (any may match).
type Pacemaker::Removaltimeout = Pattern[
  /\A0*([1-9]\d{0,6}|[1-7]\d{7}|8[0-5]\d{6}|86[0-3]\d{5}|86400000)ms\z/,
  /\A0*([1-9]\d{0,3}|[1-7]\d{4}|8[0-5]\d{3}|86[0-3]\d\d|86400)s\z/,
  /\A0*([1-9]\d{0,2}|1[0-3]\d\d|14[0-3]\d|1440)(m|min)\z/,
  /\A0*([1-9]|1\d|2[0-4])h\z/,
]
