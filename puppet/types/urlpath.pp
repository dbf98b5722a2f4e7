# @summary The path of a node's litmus_paper health endpoint: starts with '/', no spaces,
#   control characters or '#'.
type Pacemaker::Urlpath = Pattern[/\A\/[^[:space:][:cntrl:]#]*\z/]
