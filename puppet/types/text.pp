# @summary Free text for the group's description: no control characters, and either plain ASCII
#   or free of `& < > "`. Pacemaker 2.1.5 (Debian 12) stores an attribute unescaped from its first
#   non-ASCII character on, so `Café & Bar` would corrupt the CIB; big_brother's spec validation
#   refuses it, and this type refuses it at compile time.
type Pacemaker::Text = Pattern[/\A[ -~]*\z/, /\A[^[:cntrl:]&<>"]*\z/]
