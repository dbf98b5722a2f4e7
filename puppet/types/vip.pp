# @summary One virtual IP (an `ocf:heartbeat:IPaddr2` primitive), the talk's
#   `{ 'address' => '204.109.13.7', 'nic' => 'eth10' }`. `cidr_netmask` defaults to 32 (IPv4)
#   or 128 (IPv6).
type Pacemaker::Vip = Struct[{
    'address'                => Pacemaker::Ipaddress,
    Optional['nic']          => Pacemaker::Nic,
    Optional['cidr_netmask'] => Integer[1, 128],
}]
