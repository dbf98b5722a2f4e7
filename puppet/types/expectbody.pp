# @summary `expect_body` of an http check: a substring of 1 to 1024 characters without control
#   characters.
type Pacemaker::Expectbody = Pattern[/\A[^[:cntrl:]]{1,1024}\z/]
