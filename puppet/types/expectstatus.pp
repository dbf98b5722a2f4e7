# @summary `expect_status` of an http check: 1 to 32 items, each a code 100–599 or an inclusive
#   range such as `'200-299'` (big_brother checks that a range runs from low to high).
type Pacemaker::Expectstatus = Array[Variant[Integer[100, 599], Pattern[/\A[1-5][0-9]{2}-[1-5][0-9]{2}\z/]], 1, 32]
