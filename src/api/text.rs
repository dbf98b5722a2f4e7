//! Text the API quotes from files (node ids, a supervisor's backend error) on its way to a
//! client, escaped for where it goes. The status files are written by our own supervisors, but
//! what they quote came from specs, backends and the kernel; the API does not rely on anyone
//! upstream having cleaned it (issue 12): a control character must not reach the terminal of
//! an operator running `curl`, and a quote or line feed must not forge a Prometheus sample.
//!
//! "Unsafe" is [`crate::text::is_unsafe`] (controls, format characters, line separators,
//! noncharacters): each becomes visible text, `\u{1b}`, so nothing is silently lost.
//!
//! One function per destination: [`plain`] (text/plain), [`json_string`], [`prometheus_label`],
//! [`html`] (the status page: element text and double-quoted attribute values alike).

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::text::{is_unsafe, push_escaped};

/// For plain text (`text/plain` answers): what a terminal would get ([`crate::text::for_terminal`]).
pub fn plain(s: &str) -> Cow<'_, str> {
    crate::text::for_terminal(s)
}

/// A JSON string literal (RFC 8259), quotes included: `"` and `\` escaped, and every unsafe
/// character as `\uXXXX` (a surrogate pair beyond the BMP), so it reads back exactly while the
/// raw answer shows none of them.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_unsafe(c) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Prometheus label value (text exposition format 0.0.4), without its quotes: `\` and `"`
/// escaped as the format requires, and each unsafe character — line feed included — as the
/// text `\u{hex}` (its backslash escaped), since the format has no escape for the others and a
/// raw one would reach whoever reads the label.
pub fn prometheus_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// For HTML (the status page), in element text and in double-quoted attribute values alike:
/// the five characters that can end or start markup (`&`, `<`, `>`, `"`, `'`) as character
/// references, and each unsafe character as the text `\u{hex}`, as in [`plain`] — a bidi
/// override would otherwise reorder what the operator sees around it. Nothing that comes out
/// can open a tag, an entity, a comment or leave an attribute.
pub fn html(s: &str) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| matches!(c, '&' | '<' | '>' | '"' | '\'') || is_unsafe(c))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_unsafe(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVIL: &str = "a\u{1b}[31m\u{7}\r\n\u{9b}\u{7f}\u{202e}\u{2066}\u{200b}\u{feff}\u{2028}\u{e0041}\u{fffe}é\"\\";

    #[test]
    fn plain_text_shows_what_it_escapes() {
        assert!(matches!(plain("192.0.2.1:80 é"), Cow::Borrowed(_)));
        assert_eq!(
            plain(EVIL),
            "a\\u{1b}[31m\\u{7}\\u{d}\\u{a}\\u{9b}\\u{7f}\\u{202e}\\u{2066}\\u{200b}\\u{feff}\\u{2028}\\u{e0041}\\u{fffe}é\"\\\\"
        );
    }

    #[test]
    fn json_reads_back_exactly() {
        let j = json_string(EVIL);
        assert!(!j.chars().any(is_unsafe), "{j}");
        assert!(j.contains("\\udb40\\udc41"), "a surrogate pair: {j}");
        let back: String = serde_json::from_str(&j).unwrap();
        assert_eq!(back, EVIL);
        assert_eq!(json_string("10.0.0.1"), "\"10.0.0.1\"");
    }

    #[test]
    fn prometheus_labels_cannot_break_out() {
        let l = prometheus_label("x\"} 1\nforged 1");
        assert_eq!(l, "x\\\"} 1\\\\u{a}forged 1");
        assert!(!l.contains('\n'));
        let l = prometheus_label(EVIL);
        assert!(!l.chars().any(is_unsafe), "{l}");
        // Every backslash starts one of the format's escapes.
        let mut chars = l.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                assert!(matches!(chars.next(), Some('\\' | '"' | 'n')), "{l}");
            }
        }
    }

    #[test]
    fn html_cannot_open_markup() {
        assert!(matches!(html("192.0.2.1:80 é"), Cow::Borrowed(_)));
        assert_eq!(
            html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            html("\"'><img src=x onerror=alert(1)>&amp;"),
            "&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;"
        );
        let h = html(EVIL);
        assert!(!h.chars().any(is_unsafe), "{h}");
        assert!(h.contains("\\u{202e}") && h.contains("\\u{e0041}"), "{h}");
        // What is left cannot start a tag, a reference or leave a quoted attribute: every `&`
        // starts one of the five references written above.
        for s in [EVIL, "<a href='x'>&lt;</a>\"", "&#x3c;script&#x3e;"] {
            let h = html(s);
            assert!(!h.contains(['<', '>', '"', '\'']), "{h}");
            for (i, _) in h.match_indices('&') {
                let rest = &h[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                        .iter()
                        .any(|r| rest.starts_with(r)),
                    "{h}"
                );
            }
        }
    }
}
