# @summary An IPVS scheduler the kernel ships (`net/netfilter/ipvs/ip_vs_*.c`).
type Pacemaker::Scheduler = Enum['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']
