# @summary An absolute path as the spec file takes it: '/' first, then anything but control
#   characters (spaces are fine: the path goes into the spec, never into a command line — unlike
#   Pacemaker::Abspath). Used for `override_dir` and the program `on_change` runs.
type Pacemaker::Specpath = Pattern[/\A\/[^[:cntrl:]]*\z/]
