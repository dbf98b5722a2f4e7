//! Text the API quotes from files (node ids, a supervisor's backend error) on its way to a
//! client, escaped for where it goes. The status files are written by our own supervisors, but
//! what they quote came from specs, backends and the kernel; the API does not rely on anyone
//! upstream having cleaned it (issue 12): a control character must not reach the terminal of
//! an operator running `curl`, and a quote or line feed must not forge a Prometheus sample.
//!
//! "Unsafe" ([`is_unsafe`]): C0 and C1 controls and DEL (terminal escapes, line breaks), the
//! Unicode format characters (bidi overrides and isolates, zero-width characters, the BOM,
//! invisible tag characters), the line and paragraph separators, and noncharacters. Each
//! becomes visible text, `\u{1b}`, so nothing is silently lost.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a client raw.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_format(c) || matches!(c, '\u{2028}' | '\u{2029}') || is_noncharacter(c)
}

/// Unicode general category Cf (Format), Unicode 15.1: invisible characters that change how
/// the text around them shows (U+202E reverses it) or hide text (tags, zero-width).
fn is_format(c: char) -> bool {
    matches!(
        u32::from(c),
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// U+FDD0–U+FDEF and the last two code points of every plane.
fn is_noncharacter(c: char) -> bool {
    let u = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&u) || u & 0xFFFE == 0xFFFE
}

/// For plain text (`text/plain` answers): each unsafe character as `\u{hex}`.
pub fn plain(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            // Writing into a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    const EVIL: &str = "a\u{1b}[31m\u{7}\r\n\u{9b}\u{7f}\u{202e}\u{2066}\u{200b}\u{feff}\u{2028}\u{e0041}\u{fffe}é\"\\";

    #[test]
    fn what_is_unsafe() {
        for c in [
            '\0',
            '\t',
            '\n',
            '\r',
            '\u{1b}',
            '\u{7f}',
            '\u{85}',
            '\u{9b}',
            '\u{200e}',
            '\u{202e}',
            '\u{2069}',
            '\u{200b}',
            '\u{feff}',
            '\u{2028}',
            '\u{2029}',
            '\u{e0041}',
            '\u{fdd0}',
            '\u{ffff}',
            '\u{10fffe}',
        ] {
            assert!(is_unsafe(c), "{c:?}");
        }
        for c in [
            'a', ' ', 'é', '€', '中', '😀', ':', '[', '"', '\\', '\u{fffd}',
        ] {
            assert!(!is_unsafe(c), "{c:?}");
        }
    }

    #[test]
    fn plain_text_shows_what_it_escapes() {
        assert!(matches!(plain("192.0.2.1:80 é"), Cow::Borrowed(_)));
        assert_eq!(
            plain(EVIL),
            "a\\u{1b}[31m\\u{7}\\u{d}\\u{a}\\u{9b}\\u{7f}\\u{202e}\\u{2066}\\u{200b}\\u{feff}\\u{2028}\\u{e0041}\\u{fffe}é\"\\"
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
}
