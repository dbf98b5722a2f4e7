# @summary A connection count for a node's upper_threshold / lower_threshold (0: none).
type Pacemaker::Threshold = Integer[0, 1000000]
