# @summary `tls_server_name`: a DNS name (labels of letters, digits and inner hyphens, at most
#   253 characters) or an IP address.
type Pacemaker::Servername = Variant[
  Pacemaker::Ipaddress,
  Pattern[/\A(?=.{1,253}\z)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\z/],
]
