# @summary One real server. `port` is its litmus_paper port (health checks); `path` defaults to
#   `/<name>/status`; `real_port` is the IPVS real-server port (not for fwmark services);
#   `max_weight` caps its weight (default 100); lower `priority` serves first in active_passive;
#   `upper_threshold` / `lower_threshold` are its connection thresholds; the check keys
#   (`check`, `expect_status`, ... `tls_verify`) override the cluster's.
type Pacemaker::Node = Struct[{
    'address'              => Pacemaker::Ipaddress,
    'port'                 => Pacemaker::Port,
    Optional['path']       => Pacemaker::Urlpath,
    Optional['real_port']  => Pacemaker::Port,
    Optional['max_weight'] => Integer[0, 65535],
    Optional['priority']   => Integer,
    # Connection thresholds (`ipvsadm -x` / `-y`, issue 17).
    Optional['upper_threshold'] => Pacemaker::Threshold,
    Optional['lower_threshold'] => Pacemaker::Threshold,
    # The check keys, overriding the cluster's for this node (issue 16).
    Optional['check']           => Pacemaker::Check,
    Optional['expect_status']   => Pacemaker::Expectstatus,
    Optional['expect_body']     => Pacemaker::Expectbody,
    Optional['check_command']   => Pacemaker::Checkcommand,
    Optional['tls']             => Boolean,
    Optional['tls_server_name'] => Pacemaker::Servername,
    Optional['tls_ca_file']     => Pacemaker::Specpath,
    Optional['tls_verify']      => Boolean,
}]
