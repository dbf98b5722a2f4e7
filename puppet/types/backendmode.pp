# @summary Which nodes serve: every healthy one, weighted (active_active), or only the healthy one
#   with the lowest priority (active_passive).
type Pacemaker::Backendmode = Enum['active_active', 'active_passive']
