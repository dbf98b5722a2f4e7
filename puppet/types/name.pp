# @summary A cluster name usable in Pacemaker ids and file names: a letter, then up to 63
#   letters, digits, '_', '-' or '.' (the spec's `name`, the OCF `cluster` parameter).
type Pacemaker::Name = Pattern[/\A[A-Za-z][A-Za-z0-9_.-]{0,63}\z/]
