# @summary Where big_brother runs: only on the director holding the VIPs (cold, the talk's
#   group) or on every director, so a failover moves only the VIPs (warm).
type Pacemaker::Standby = Enum['cold', 'warm']
