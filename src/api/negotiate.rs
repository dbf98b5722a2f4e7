//! Content negotiation for `GET /` (RFC 9110 §12.5.1), pure: the status page goes to a client
//! whose `Accept` prefers `text/html` to `text/plain`, the original's text to everyone else.
//!
//! The rule, decided on the two representations we have:
//! - each media range in `Accept` gets its weight (`q`, 0–1 in thousandths; 1 when absent); a
//!   range whose `q` is malformed counts for nothing (it is skipped, never guessed);
//! - a representation takes the weight of the **most specific** range that matches it
//!   (`text/html;charset=utf-8` > `text/html` > `text/*` > `*/*`; among equally specific ones,
//!   the highest); a range with any media-type parameter other than `charset=utf-8` matches
//!   neither of ours (`text/html;level=1` names something else);
//! - HTML only when its weight is above 0 **and strictly above** plain text's; ties, no `Accept`
//!   and anything unparseable give the text. So `*/*` (curl, Ruby's Net::HTTP — what
//!   litmus_paper uses —, Python's urllib, Go's net/http) and `text/*` keep today's answer, and
//!   a browser's `text/html,…,*/*;q=0.8` gets the page.

/// Weight in thousandths (RFC 9110 §12.4.2: at most three decimals).
type Quality = u16;

/// How specifically a range names a representation; `None` when it does not match it.
type Specificity = u8;

/// Whether the client behind `accept` (the combined `Accept` value) prefers the HTML page.
pub fn prefers_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let html = quality(accept, "html");
    html > 0 && html > quality(accept, "plain")
}

/// The weight `accept` gives `text/<subtype>; charset=utf-8`.
fn quality(accept: &str, subtype: &str) -> Quality {
    let mut best: Option<(Specificity, Quality)> = None;
    for element in accept.split(',') {
        let Some((spec, q)) = weigh(element, subtype) else {
            continue;
        };
        best = match best {
            Some((s, bq)) if s > spec || (s == spec && bq >= q) => Some((s, bq)),
            _ => Some((spec, q)),
        };
    }
    best.map_or(0, |(_, q)| q)
}

/// One `media-range [; params] [; q=…]`: how specifically it matches `text/<subtype>` and with
/// what weight, or `None` when it does not match (or cannot be read).
fn weigh(element: &str, subtype: &str) -> Option<(Specificity, Quality)> {
    let mut parts = element.split(';');
    let range = parts.next()?.trim();
    let (t, s) = range.split_once('/')?;
    let (t, s) = (t.trim(), s.trim());
    let mut spec = match (t, s) {
        ("*", "*") => 0,
        (t, "*") if t.eq_ignore_ascii_case("text") => 1,
        (t, s) if t.eq_ignore_ascii_case("text") && s.eq_ignore_ascii_case(subtype) => 2,
        _ => return None,
    };
    let mut q = 1000;
    // Parameters before `q` are the media type's; after it, accept-ext (ignored).
    let mut after_q = false;
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let (k, v) = p.split_once('=')?;
        let (k, v) = (k.trim(), v.trim());
        if after_q {
            continue;
        }
        if k.eq_ignore_ascii_case("q") {
            q = parse_q(v)?;
            after_q = true;
        } else if k.eq_ignore_ascii_case("charset")
            && v.trim_matches('"').eq_ignore_ascii_case("utf-8")
            && spec == 2
        {
            spec = 3;
        } else {
            return None;
        }
    }
    Some((spec, q))
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn parse_q(v: &str) -> Option<Quality> {
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, f),
        None => (v, ""),
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: Quality = 0;
    for (i, b) in frac.bytes().enumerate() {
        let place: Quality = [100, 10, 1][i];
        thousandths += Quality::from(b - b'0') * place;
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What real clients send for a page load (as their current releases do).
    const CHROMIUM: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
    const FIREFOX: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const W3M: &str = "text/html, text/*;q=0.5, image/*";

    #[test]
    fn browsers_get_the_page() {
        for a in [
            CHROMIUM,
            FIREFOX,
            W3M,
            "text/html",
            "TEXT/HTML",
            "text/html; q=1.000",
        ] {
            assert!(prefers_html(Some(a)), "{a}");
        }
        assert!(prefers_html(Some("text/plain;q=0.5, text/html")));
        assert!(prefers_html(Some(
            "text/html;charset=UTF-8, text/plain;q=0.999"
        )));
        assert!(prefers_html(Some("text/html, text/plain;q=0")));
        assert!(prefers_html(Some("*/*;q=0.1, text/html;q=0.2")));
    }

    #[test]
    fn everyone_else_keeps_the_text() {
        for a in [
            None,
            Some(""),
            Some("*/*"),                               // curl, Net::HTTP, urllib, Go
            Some("text/*"),                            // a tie
            Some("text/plain, text/html"),             // a tie: the original's answer
            Some("text/html;q=0.5, text/plain;q=0.5"), // a tie
            Some("text/plain"),
            Some("application/json"),
            Some("text/html;q=0"), // explicitly not HTML
            Some("text/html;q=0, */*"),
            Some("text/html;level=1"), // another representation
            Some("text/html;charset=latin1"),
            Some("text/plain;charset=utf-8, text/html"), // the more specific plain wins the tie
            Some("*/*;q=0.8, text/plain;q=0.9, text/html;q=0.9"),
        ] {
            assert!(!prefers_html(a), "{a:?}");
        }
    }

    /// Malformed ranges and weights count for nothing; they never make HTML win.
    #[test]
    fn garbage_is_skipped() {
        for a in [
            "text/html;q=2",
            "text/html;q=1.5",
            "text/html;q=0.1234",
            "text/html;q=-1",
            "text/html;q=",
            "text/html;q=x",
            "text/html;q",
            "text/html;=1",
            "text",
            "html",
            "/html",
            "*/html",
            ";;;,,,",
            "text/html;q=0.5;q=0.9, text/plain;q=0.6",
        ] {
            assert!(!prefers_html(Some(a)), "{a}");
        }
        // One bad element does not spoil the others.
        assert!(prefers_html(Some(
            "text/html;q=7, text/html;q=0.5, text/plain;q=0.2"
        )));
        // Extension parameters after q are ignored.
        assert!(prefers_html(Some(
            "text/html;q=0.9;ext=1, text/plain;q=0.8"
        )));
    }

    #[test]
    fn qvalues() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1."), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("0.8"), Some(800));
        assert_eq!(parse_q("0.05"), Some(50));
        assert_eq!(parse_q("0.001"), Some(1));
        for bad in [
            "1.001", "2", "0.0001", "", ".5", "0,5", "+0.5", "01", "0.5 ",
        ] {
            assert_eq!(parse_q(bad), None, "{bad}");
        }
    }
}
