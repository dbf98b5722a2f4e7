//! Durations as the spec writes them: `2s`, `120s`, `2000ms` (also `m` and `h`), and the canonical
//! form Pacemaker gets back (`61s`, `1500ms`), so generated XML is byte-stable.

use std::time::Duration;

/// Parses `<digits><unit>` with unit `ms`, `s`, `m` or `h`. Zero and negative values are errors:
/// an interval or timeout of zero is never what an operator meant.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.starts_with('-') {
        return Err(format!("a positive duration, not the negative {text:?}"));
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "a duration like \"2s\", \"120s\" or \"2000ms\", not {text:?}"
        ));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("a duration that fits in 64 bits, not {text:?}"))?;
    let ms_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "" => {
            return Err(format!(
                "a duration with a unit (ms, s, m, h), like \"{n}s\", not the bare number {text:?}"
            ))
        }
        _ => {
            return Err(format!(
                "a duration unit of ms, s, m or h, not {unit:?} in {text:?}"
            ))
        }
    };
    let ms = n
        .checked_mul(ms_per_unit)
        .ok_or_else(|| format!("a duration shorter than 584 million years, not {text:?}"))?;
    if ms == 0 {
        return Err(format!("a duration greater than zero, not {text:?}"));
    }
    Ok(Duration::from_millis(ms))
}

/// Pacemaker's spelling: whole seconds as `Ns`, anything finer as `Nms`.
pub fn render(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_spec_forms() {
        assert_eq!(parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("120s"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("2000ms"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn rejects_zero_negative_and_unitless() {
        for bad in [
            "0s",
            "0ms",
            "-2s",
            "2",
            "s",
            "",
            "2 parsecs",
            "2S",
            "99999999999999999999s",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn renders_canonically() {
        assert_eq!(render(Duration::from_millis(2000)), "2s");
        assert_eq!(render(Duration::from_millis(1500)), "1500ms");
        assert_eq!(render(Duration::from_secs(61)), "61s");
    }
}
