# @summary The server that gets traffic only while every node is down (big_brother's downpage).
type Pacemaker::Sorryserver = Struct[{
    'address'          => Pacemaker::Ipaddress,
    Optional['port']   => Pacemaker::Port,
    Optional['weight'] => Integer[1, 65535],
}]
