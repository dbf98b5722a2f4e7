# @summary One real server. `port` is its litmus_paper port (health checks); `path` defaults to
#   `/<name>/status`; `real_port` is the IPVS real-server port (not for fwmark services);
#   `max_weight` caps its weight (default 100); lower `priority` serves first in active_passive.
type Pacemaker::Node = Struct[{
    'address'              => Pacemaker::Ipaddress,
    'port'                 => Pacemaker::Port,
    Optional['path']       => Pacemaker::Urlpath,
    Optional['real_port']  => Pacemaker::Port,
    Optional['max_weight'] => Integer[0, 65535],
    Optional['priority']   => Integer,
}]
