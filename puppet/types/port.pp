# @summary A TCP/UDP port.
type Pacemaker::Port = Integer[1, 65535]
