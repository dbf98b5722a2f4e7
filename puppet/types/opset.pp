# @summary Timeouts and the monitor interval of one primitive's operations in the CIB.
type Pacemaker::Opset = Struct[{
    Optional['start_timeout']    => Pacemaker::Duration,
    Optional['stop_timeout']     => Pacemaker::Duration,
    Optional['monitor_interval'] => Pacemaker::Duration,
    Optional['monitor_timeout']  => Pacemaker::Duration,
}]
