# @summary One argument of the `on_change` command: any text without NUL (the one character a
#   program's argument cannot hold). Newlines and quotes are fine; the spec escapes them.
type Pacemaker::Argument = Pattern[/\A[^\x00]*\z/]
