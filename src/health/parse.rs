//! What a litmus_paper answer means, as pure functions over an already-read HTTP response.
//!
//! litmus_paper (1.6.2) answers `GET /<service>/status` with **200 when health > 0 and 503 when
//! it is 0**, an `X-Health: N` header, `X-Health-Forced: up|down|health` when forced, and a body
//! whose first line is `Health: N`, followed by `Measured Health: N`, `Forced Reason: …` (only
//! when forced) and one line per dependency and metric. The talk's slide shows the older
//! forced-down body, `Health: 0` and the reason on the next line; both are understood.
//!
//! Rules (matching the original big_brother, which reads `X-Health` first, then the body):
//! - 2xx: health = `X-Health` if present, else the body's `Health:` line.
//! - 503 carrying a litmus_paper answer: health 0, and the forced reason is kept — this is a node
//!   saying "no traffic, because …", not an HTTP error.
//! - 3xx: an error naming the location (redirects are never followed: a health URL that moved
//!   is a configuration problem to show, not to paper over).
//! - anything else, or a number outside 0..=100: an error, which the policy counts as health 0.

use super::{clean_text, CheckError, Health};

/// An HTTP response as the client read it. Header names are lower-case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a header that decides something, by lower-case name: repeats of one value
    /// are that value, two different values are a malformed answer (which one the node meant
    /// cannot be known, and guessing "the first" would let a proxy or a second writer decide).
    pub fn only(&self, name: &str) -> Result<Option<&str>, CheckError> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if let (Some(a), Some(b)) = (first, values.find(|v| Some(*v) != first)) {
            return Err(CheckError::Malformed(format!(
                "two different {} headers ({:?} and {:?})",
                display_name(name),
                clean_text(a),
                clean_text(b)
            )));
        }
        Ok(first)
    }
}

/// `x-health-forced` as litmus_paper spells it, for messages.
fn display_name(name: &str) -> String {
    name.split('-')
        .map(|w| match w {
            "x" => "X".to_string(),
            w => {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Interprets one response from a health endpoint.
pub fn interpret(resp: &Response) -> Result<Health, CheckError> {
    let body = String::from_utf8_lossy(&resp.body);
    let x_health = resp.only("x-health")?;
    resp.only("x-health-forced")?;
    match resp.status {
        200..=299 => {
            let value = match x_health {
                Some(h) => number(h).map_err(|e| CheckError::NotLitmus(format!("X-Health {e}")))?,
                None => body_health(&body)?,
            };
            Ok(Health {
                value,
                forced_reason: forced_reason(resp, &body, value),
            })
        }
        300..=399 => Err(CheckError::Redirect {
            status: resp.status,
            location: clean_text(resp.header("location").unwrap_or("")),
        }),
        503 if x_health.is_some() || body_health(&body).is_ok() => Ok(Health {
            value: 0.0,
            forced_reason: forced_reason(resp, &body, 0.0),
        }),
        status => Err(CheckError::Status {
            status,
            reason: clean_text(&resp.reason),
        }),
    }
}

/// The value of the body's `Health: N` line.
pub fn body_health(body: &str) -> Result<f64, CheckError> {
    let line = body
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("Health:"))
        .ok_or_else(|| {
            let first = body.lines().map(str::trim).find(|l| !l.is_empty());
            CheckError::NotLitmus(match first {
                Some(l) => format!("no \"Health: N\" line (first line: {:?})", clean_text(l)),
                None => "empty body".to_string(),
            })
        })?;
    number(line).map_err(|e| CheckError::NotLitmus(format!("Health: {e}")))
}

/// A health number: decimal, finite, 0..=100.
pub fn number(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let ok_chars = !t.is_empty()
        && t.chars().all(|c| c.is_ascii_digit() || c == '.')
        && t.chars().filter(|&c| c == '.').count() <= 1;
    let v: f64 = if ok_chars { t.parse().ok() } else { None }
        .ok_or_else(|| format!("expected a number from 0 to 100, got {:?}", clean_text(t)))?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("expected a number from 0 to 100, got {v}"));
    }
    Ok(v)
}

/// The operator's reason when the health was forced (`litmusctl force … -r REASON`).
fn forced_reason(resp: &Response, body: &str, value: f64) -> Option<String> {
    let mut lines = body.lines().map(str::trim).filter(|l| !l.is_empty());
    if let Some(r) = body
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("Forced Reason:"))
    {
        let r = clean_text(r);
        if !r.is_empty() {
            return Some(r);
        }
    }
    let forced = resp.header("x-health-forced").map(clean_text);
    // The talk's format: "Health: 0" and the reason as the next, free-text line.
    if value == 0.0 && lines.next().is_some_and(|l| l.starts_with("Health:")) {
        if let Some(next) = lines.next() {
            if !next.starts_with("Measured Health:") && !next.contains("::") {
                return Some(clean_text(next));
            }
        }
    }
    forced.map(|how| format!("forced {how}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            reason: match status {
                200 => "OK",
                503 => "Service Unavailable",
                _ => "Whatever",
            }
            .into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// litmus_paper 1.6.2's healthy answer.
    const HEALTHY: &str = "Health: 82\nMeasured Health: 82\n\
        Dependency::HTTP(http://localhost/heartbeat): OK\nMetric::CPULoad(100): 82\n";

    #[test]
    fn healthy_answer() {
        let h = interpret(&resp(200, &[("x-health", "82")], HEALTHY)).unwrap();
        assert_eq!(h, Health::new(82.0));
        // Body alone, fractional.
        let h = interpret(&resp(200, &[], "Health: 87.5\n")).unwrap();
        assert_eq!(h.value, 87.5);
    }

    #[test]
    fn header_takes_precedence_over_body() {
        let h = interpret(&resp(200, &[("x-health", "40")], HEALTHY)).unwrap();
        assert_eq!(h.value, 40.0);
    }

    #[test]
    fn forced_down_503_keeps_the_reason() {
        let body = "Health: 0\nMeasured Health: 82\nForced Reason: apt upgrades\n\
            Dependency::HTTP(http://localhost/heartbeat): OK\n";
        let r = resp(503, &[("x-health", "0"), ("x-health-forced", "down")], body);
        let h = interpret(&r).unwrap();
        assert_eq!(h.value, 0.0);
        assert_eq!(h.forced_reason.as_deref(), Some("apt upgrades"));
    }

    #[test]
    fn talk_format_forced_down() {
        let h = interpret(&resp(503, &[], "Health: 0\napt upgrades\n")).unwrap();
        assert_eq!(h.value, 0.0);
        assert_eq!(h.forced_reason.as_deref(), Some("apt upgrades"));
    }

    #[test]
    fn forced_without_reason_says_how() {
        let h = interpret(&resp(503, &[("x-health-forced", "down")], "Health: 0\n")).unwrap();
        assert_eq!(h.forced_reason.as_deref(), Some("forced down"));
        let h = interpret(&resp(
            200,
            &[("x-health", "30"), ("x-health-forced", "health")],
            "Health: 30\nMeasured Health: 90\nForced Reason: canary\n",
        ))
        .unwrap();
        assert_eq!(h.value, 30.0);
        assert_eq!(h.forced_reason.as_deref(), Some("canary"));
    }

    #[test]
    fn measured_zero_is_not_a_forced_reason() {
        let body = "Health: 0\nMeasured Health: 0\nDependency::HTTP(x): FAIL\n";
        let h = interpret(&resp(503, &[("x-health", "0")], body)).unwrap();
        assert_eq!(h, Health::new(0.0));
    }

    #[test]
    fn plain_503_is_an_error() {
        let e = interpret(&resp(503, &[], "<html>busy</html>")).unwrap_err();
        assert!(matches!(e, CheckError::Status { status: 503, .. }), "{e}");
    }

    #[test]
    fn errors_for_everything_else() {
        let e = interpret(&resp(500, &[], "Health: 100")).unwrap_err();
        assert_eq!(e.to_string(), "HTTP 500 Whatever");
        let e = interpret(&resp(302, &[("location", "http://x/")], "")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "redirect (HTTP 302) to \"http://x/\" not followed"
        );
        let e = interpret(&resp(404, &[("x-health", "0")], "NOT FOUND")).unwrap_err();
        assert!(matches!(e, CheckError::Status { status: 404, .. }));
        for bad in [
            "",
            "garbage",
            "Health: lots",
            "Health: 101",
            "Health: -1",
            "Health: NaN",
            "Health: inf",
            "Health: 1e2",
            "Health:",
            "Health: 5.5.5",
        ] {
            let e = interpret(&resp(200, &[], bad)).unwrap_err();
            assert!(matches!(e, CheckError::NotLitmus(_)), "{bad:?}: {e}");
        }
        let e = interpret(&resp(200, &[("x-health", "x")], HEALTHY)).unwrap_err();
        assert!(matches!(e, CheckError::NotLitmus(_)), "{e}");
    }

    #[test]
    fn deciding_headers_must_agree() {
        let two = resp(
            200,
            &[("x-health", "100"), ("x-health", "0")],
            "Health: 50\n",
        );
        let e = interpret(&two).unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed answer: two different X-Health headers (\"100\" and \"0\")"
        );
        let same = resp(
            200,
            &[("x-health", "40"), ("x-health", "40")],
            "Health: 50\n",
        );
        assert_eq!(interpret(&same).unwrap().value, 40.0);
        let forced = resp(
            503,
            &[("x-health-forced", "down"), ("x-health-forced", "up")],
            "Health: 0\n",
        );
        assert!(matches!(interpret(&forced), Err(CheckError::Malformed(_))));
    }

    #[test]
    fn numbers() {
        assert_eq!(number("0"), Ok(0.0));
        assert_eq!(number(" 100 "), Ok(100.0));
        assert_eq!(number("99.99"), Ok(99.99));
        assert_eq!(number(".5"), Ok(0.5));
        assert!(number("100.01").is_err());
        assert!(number("+5").is_err());
    }

    #[test]
    fn hostile_reason_is_cleaned() {
        let body = "Health: 0\nForced Reason: \x1b]0;pwned\x07 upgrade\n";
        let h = interpret(&resp(503, &[], body)).unwrap();
        assert_eq!(h.forced_reason.as_deref(), Some("]0;pwned upgrade"));
    }

    proptest::proptest! {
        /// Whatever the bytes, interpreting never panics and any health is in range.
        #[test]
        fn never_panics(status in 100u16..600, body in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
                        header in proptest::option::of(".{0,12}")) {
            let mut r = Response { status, reason: String::new(), headers: vec![], body };
            if let Some(h) = header { r.headers.push(("x-health".into(), h)); }
            if let Ok(h) = interpret(&r) {
                proptest::prop_assert!((0.0..=100.0).contains(&h.value));
            }
        }

        #[test]
        fn any_valid_number_round_trips(v in 0u32..=10000) {
            let text = format!("Health: {}.{:02}\n", v / 100, v % 100);
            let h = interpret(&Response { status: 200, body: text.into_bytes(), ..Default::default() }).unwrap();
            proptest::prop_assert!((h.value - f64::from(v) / 100.0).abs() < 1e-9);
        }
    }
}
