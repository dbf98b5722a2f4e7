# @summary The `on_change` command as an argument array: an absolute path to the program, then up
#   to 63 arguments. There is no shell and no PATH lookup; to run a shell script, name the shell:
#   `['/bin/sh', '-c', '...', 'arg0']`.
type Pacemaker::Onchange = Tuple[Pacemaker::Specpath, Pacemaker::Argument, 1, 64]
