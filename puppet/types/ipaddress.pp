# @summary An IPv4 or IPv6 address (VIPs, nodes, the sorry server, a TCP/UDP service).
type Pacemaker::Ipaddress = Variant[Pacemaker::Ipv4, Pacemaker::Ipv6]
