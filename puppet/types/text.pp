# @summary Free text without control characters (a cluster's description).
type Pacemaker::Text = Pattern[/\A[^[:cntrl:]]*\z/]
