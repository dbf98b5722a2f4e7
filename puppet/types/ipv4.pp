# @summary A dotted-quad IPv4 address, no leading zeros (as big_brother parses it).
type Pacemaker::Ipv4 = Pattern[/\A((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\z/]
