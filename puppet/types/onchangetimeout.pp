# @summary How long `on_change` may run before its process group is killed: a Pacemaker::Duration
#   of at most 5 minutes (`300000ms`, `300s`, `5m`). One pattern per unit (any may match).
type Pacemaker::Onchangetimeout = Pattern[
  /\A0*([1-9]\d{0,4}|[12]\d{5}|300000)ms\z/,
  /\A0*([1-9]\d?|[12]\d\d|300)s\z/,
  /\A0*[1-5](m|min)\z/,
]
