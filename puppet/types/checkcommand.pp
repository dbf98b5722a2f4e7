# @summary `check_command` of an exec check: the program's absolute path, then up to 63
#   arguments. No shell and no PATH lookup.
type Pacemaker::Checkcommand = Tuple[Pacemaker::Specpath, Pacemaker::Argument, 1, 64]
