# @summary The check type of a cluster or node (issue 16): `litmus` (big_brother's default),
#   `http`, `tcp`, `agent` or `exec`.
type Pacemaker::Check = Enum['litmus', 'http', 'tcp', 'agent', 'exec']
