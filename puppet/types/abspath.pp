# @summary An absolute path made of letters, digits and `._+-` only. Stricter than "starts with
#   /" on purpose: these paths reach `validate_cmd`, which Puppet runs as one command string.
type Pacemaker::Abspath = Pattern[/\A(\/[A-Za-z0-9._+-]+)+\z/]
