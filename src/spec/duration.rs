//! Durations as the spec writes them: `2s`, `120s`, `2000ms` (also `m` and `h`), and the canonical
//! form Pacemaker gets back (`61s`, `1500ms`), so generated XML is byte-stable.

use std::time::Duration;

/// Parses `<digits><unit>` with unit `ms`, `s`, `m` or `h`. Zero and negative values are errors:
/// an interval or timeout of zero is never what an operator meant. Every step is checked
/// arithmetic: any number of digits is an error, never an overflow.
pub fn parse(text: &str) -> Result<Duration, String> {
    match parse_ms(text)? {
        Some(ms) => Ok(Duration::from_millis(ms)),
        None => Err(format!(
            "a duration shorter than 584 million years, not {}",
            quoted(text)
        )),
    }
}

/// [`parse`], then `min <= d <= max`; the error says the bound (`"2000m"` for a check interval
/// is a typo, not 33 hours).
pub fn parse_within(text: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let out_of_range = || {
        format!(
            "a duration from {} to {}, not {}",
            human(min),
            human(max),
            quoted(text)
        )
    };
    match parse_ms(text)? {
        Some(ms) => {
            let d = Duration::from_millis(ms);
            if d < min || d > max {
                Err(out_of_range())
            } else {
                Ok(d)
            }
        }
        None => Err(out_of_range()),
    }
}

/// Milliseconds, or `None` when the value does not fit in 64 bits of them.
fn parse_ms(text: &str) -> Result<Option<u64>, String> {
    let t = text.trim();
    if t.starts_with('-') {
        return Err(format!(
            "a positive duration, not the negative {}",
            quoted(text)
        ));
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "a duration like \"2s\", \"120s\" or \"2000ms\", not {}",
            quoted(text)
        ));
    }
    let ms_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "" => {
            return Err(format!(
                "a duration with a unit (ms, s, m, h), like {}, not the bare number {}",
                quoted(&format!("{digits}s")),
                quoted(text)
            ))
        }
        _ => {
            return Err(format!(
                "a duration unit of ms, s, m or h, not {} in {}",
                quoted(unit),
                quoted(text)
            ))
        }
    };
    let mut n: u64 = 0;
    for d in digits.bytes() {
        match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
        {
            Some(next) => n = next,
            None => return Ok(None),
        }
    }
    let Some(ms) = n.checked_mul(ms_per_unit) else {
        return Ok(None);
    };
    if ms == 0 {
        return Err(format!(
            "a duration greater than zero, not {}",
            quoted(text)
        ));
    }
    Ok(Some(ms))
}

/// A value as messages show it: quoted, escaped, cut short.
fn quoted(text: &str) -> String {
    crate::text::quoted(text, 40)
}

/// The largest unit that divides `d` exactly: `5m`, `1h`, `24h`, `100ms` (for messages and docs).
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "0s".into()
    } else if ms % 3_600_000 == 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
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
    fn huge_values_are_errors_not_overflows() {
        let max = Duration::from_secs(300);
        for huge in [
            "18446744073709551615ms",
            "18446744073709551616ms",
            "18446744073709551615h",
            "2000m",
            "301s",
        ] {
            let e = parse_within(huge, Duration::from_millis(100), max).unwrap_err();
            assert!(
                e.starts_with("a duration from 100ms to 5m, not"),
                "{huge}: {e}"
            );
        }
        let digits = format!("{}s", "9".repeat(100_000));
        assert!(parse(&digits).is_err());
        assert!(parse_within(&digits, Duration::ZERO, max)
            .unwrap_err()
            .contains("characters)"));
        assert_eq!(
            parse("18446744073709551615ms"),
            Ok(Duration::from_millis(u64::MAX))
        );
        assert!(parse("18446744073709552s").is_err());
        assert_eq!(parse_within("5m", Duration::ZERO, max), Ok(max));
        assert!(parse_within("99ms", Duration::from_millis(100), max).is_err());
        assert!(parse_within("0s", Duration::ZERO, max)
            .unwrap_err()
            .contains("greater than zero"));
    }

    #[test]
    fn human_picks_the_largest_exact_unit() {
        assert_eq!(human(Duration::from_secs(300)), "5m");
        assert_eq!(human(Duration::from_secs(86_400)), "24h");
        assert_eq!(human(Duration::from_millis(100)), "100ms");
        assert_eq!(human(Duration::from_secs(90)), "90s");
    }

    #[test]
    fn renders_canonically() {
        assert_eq!(render(Duration::from_millis(2000)), "2s");
        assert_eq!(render(Duration::from_millis(1500)), "1500ms");
        assert_eq!(render(Duration::from_secs(61)), "61s");
    }
}
