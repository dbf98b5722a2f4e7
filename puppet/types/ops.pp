# @summary Operation settings for the big_brother primitive (`ipvs`) and each VIP (`vip`).
type Pacemaker::Ops = Struct[{
    Optional['ipvs'] => Pacemaker::Opset,
    Optional['vip']  => Pacemaker::Opset,
}]
