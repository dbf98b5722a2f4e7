# @summary Persistence granularity (`ipvsadm -M`): a dotted IPv4 netmask for an IPv4 service, an
#   IPv6 prefix length for an IPv6 one.
type Pacemaker::Persistencenetmask = Variant[Pacemaker::Ipv4, Integer[1, 128]]
