# @summary A positive duration with a unit, as the spec writes it: `2s`, `120s`, `2000ms`, `2m`,
#   `1h` (units ms, s, m, min, h). Bare numbers are refused: `2` could mean seconds or ms.
type Pacemaker::Duration = Pattern[/\A0*[1-9][0-9]{0,8}(ms|s|m|min|h)\z/]
