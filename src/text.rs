//! Text that crosses a trust boundary: which characters are safe where, and the two ways
//! big_brother makes untrusted text safe — **cleaning** (what a health endpoint says, before it
//! is stored: [`clean`]) and **escaping** (anything shown on a terminal or log: [`for_terminal`];
//! the API's formats build on [`is_unsafe`]). One table of Unicode classes serves them all
//! (issue 12 found three copies).
//!
//! The classes that matter (general categories of Unicode 15):
//! - controls (Cc: C0, DEL, C1): terminal escapes, BEL, line breaks;
//! - format characters (Cf): bidirectional overrides and isolates (U+202E reverses what a
//!   terminal shows), zero-width characters, the BOM, tag characters — invisible by design, so
//!   they can only hide or disguise text;
//! - the line and paragraph separators (Zl U+2028, Zp U+2029): line breaks for JSON readers and
//!   editors;
//! - noncharacters (U+FDD0–U+FDEF and the last two code points of every plane), which no text
//!   should carry; U+FFFE/U+FFFF are also outside XML 1.0's `Char`;
//! - space separators other than U+0020 (Zs): shown as blanks, so [`clean`] makes them one.
//!
//! Private-use and unassigned code points are left alone: printable by some font or none, they
//! neither move nor hide the text around them.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Format characters (general category Cf) as of Unicode 15.0 (checked against Python's
/// `unicodedata` by `tests/process/health.rs`), sorted, as inclusive ranges.
const FORMAT: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// Space separators other than U+0020 (general category Zs), as inclusive ranges.
const SPACES: &[(u32, u32)] = &[
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
];

fn within(table: &[(u32, u32)], c: char) -> bool {
    let c = u32::from(c);
    table.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// A format character (Cf).
pub fn is_format(c: char) -> bool {
    within(FORMAT, c)
}

/// The line or paragraph separator (Zl, Zp).
pub fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// U+FDD0–U+FDEF and the last two code points of every plane.
pub fn is_noncharacter(c: char) -> bool {
    let u = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&u) || u & 0xFFFE == 0xFFFE
}

/// XML 1.0's `Char` production: `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
/// [#x10000-#x10FFFF]`. Surrogates cannot occur in a Rust `char`.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Whether `c` must not reach a reader raw: a control, a format character, a line or paragraph
/// separator, or a noncharacter.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_format(c) || is_line_separator(c) || is_noncharacter(c)
}

/// A character that shows as itself: not a control, format character or line separator, and
/// one XML 1.0 can hold (so a value a spec may carry into the CIB). Noncharacters other than
/// U+FFFE/U+FFFF pass: they move and hide nothing, and specs have always accepted them.
pub fn is_printable(c: char) -> bool {
    // ASCII first: no format character or separator lives there, so printable is exactly
    // U+0020–U+007E. It is nearly every character of every spec, and the general path walks the
    // format table (the fuzzers spent a tenth of their time there, issue 19).
    if c.is_ascii() {
        return matches!(c, ' '..='~');
    }
    !c.is_control() && !is_format(c) && !is_line_separator(c) && is_xml_char(c)
}

/// The first character of `s` that is not [`is_printable`], if any.
pub fn first_unprintable(s: &str) -> Option<char> {
    s.chars().find(|c| !is_printable(*c))
}

/// `s` with every character that is not [`is_printable`] written as `\u{…}`, and `\` doubled
/// when anything was escaped (so the escape cannot be forged). Unchanged (borrowed) when there is
/// nothing to escape, which is the ordinary case.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if s.chars().all(is_printable) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if is_printable(c) => out.push(c),
            c => push_escaped(&mut out, c),
        }
    }
    Cow::Owned(out)
}

/// Like [`for_terminal`], but a line break stays a line break (for multi-line messages whose
/// lines are ours).
pub fn lines_for_terminal(s: &str) -> String {
    s.split('\n')
        .map(for_terminal)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Escapes a value for a double-quoted XML attribute — the one escaper of the crm face and the
/// CIB drains. Besides the five XML specials, tab, CR and LF are written as character references
/// so they survive re-reading (attribute-value normalisation would turn them into spaces); a
/// character XML 1.0 cannot hold at all (callers check their input, so only a bug gets here)
/// becomes the visible `\u{hex}` rather than a document that no longer parses.
pub fn xml_attr(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if is_xml_char(c) => out.push(c),
            c => push_escaped(&mut out, c),
        }
    }
    out
}

/// Appends `c` as the visible text `\u{hex}`.
pub fn push_escaped(out: &mut String, c: char) {
    // Writing into a String cannot fail.
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

/// A quoted, escaped value for "not …" messages, cut to `max` characters (a 1 MiB string does
/// not belong in an error line).
pub fn quoted(s: &str, max: usize) -> String {
    let mut q = String::new();
    let count = s.chars().count();
    if count > max {
        let cut: String = s.chars().take(max).collect();
        let _ = write!(q, "{cut:?}… ({count} characters)");
    } else {
        let _ = write!(q, "{s:?}");
    }
    for_terminal(&q).into_owned()
}

/// Seconds as `45s`, `12m03s`, `3h07m`, `2d04h`.
pub fn ago(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..=86_399 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// Unix seconds as (year, month, day, hour, minute, second) in UTC (proleptic Gregorian; any
/// u64 works).
fn civil(secs: u64) -> (i64, i64, i64, u64, u64, u64) {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Unix seconds as `2026-12-04 17:41:42 UTC`.
pub fn utc(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// Unix seconds as RFC 3339 in UTC, `2026-12-04T17:41:42Z` (what the CIB drains record).
pub fn utc_rfc3339(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Keep,
    Blank,
    Drop,
}

fn class(ch: char) -> Class {
    if ch.is_whitespace() || ch.is_control() || is_line_separator(ch) || within(SPACES, ch) {
        Class::Blank
    } else if is_format(ch) || is_noncharacter(ch) {
        Class::Drop
    } else {
        Class::Keep
    }
}

/// Makes peer-supplied text safe to store and print (status, `status.json`, logs, terminals):
/// - **blanks**: controls, line and paragraph separators and every other space separator become
///   one ASCII space, and runs of blanks collapse (leading and trailing ones go);
/// - **dropped**: format characters and noncharacters;
/// - **cut** to `limit` characters (an ellipsis marks the cut).
pub fn clean(raw: &str, limit: usize) -> String {
    let mut out = String::new();
    let mut kept = 0usize;
    let mut blank = true; // drops leading blanks
    for ch in raw.chars() {
        let ch = match class(ch) {
            Class::Drop => continue,
            Class::Blank => ' ',
            Class::Keep => ch,
        };
        if ch == ' ' {
            if blank {
                continue;
            }
            blank = true;
        } else {
            blank = false;
        }
        if kept >= limit {
            out.truncate(out.trim_end().len());
            out.push('…');
            return out;
        }
        out.push(ch);
        kept += 1;
    }
    out.truncate(out.trim_end().len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_attr_escapes_specials_and_keeps_the_rest() {
        assert_eq!(xml_attr("a&\"<b>'"), "a&amp;&quot;&lt;b&gt;&apos;");
        assert_eq!(xml_attr("a\nb\tc\r"), "a&#10;b&#9;c&#13;");
        assert_eq!(xml_attr("6.1 → 6.6"), "6.1 → 6.6");
        assert_eq!(xml_attr("a\u{1}b\u{fffe}"), "a\\u{1}b\\u{fffe}");
    }

    /// The ASCII shortcut of `is_printable` says what the general rule says, for every ASCII
    /// character.
    #[test]
    fn printable_ascii_agrees_with_the_general_rule() {
        for b in 0u8..=0x7F {
            let c = char::from(b);
            let general =
                !c.is_control() && !is_format(c) && !is_line_separator(c) && is_xml_char(c);
            assert_eq!(is_printable(c), general, "{b:#04x}");
        }
    }

    const EVIL: &str = "a\u{1b}[31m\u{7}\r\n\u{9b}\u{7f}\u{202e}\u{2066}\u{200b}\u{feff}\u{2028}\u{e0041}\u{fffe}é\"\\";

    #[test]
    fn durations_read_well() {
        assert_eq!(ago(0), "0s");
        assert_eq!(ago(59), "59s");
        assert_eq!(ago(61), "1m01s");
        assert_eq!(ago(3600 + 7 * 60), "1h07m");
        assert_eq!(ago(2 * 86_400 + 4 * 3600), "2d04h");
    }

    #[test]
    fn tables_are_sorted_and_disjoint() {
        for table in [FORMAT, SPACES] {
            for w in table.windows(2) {
                assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:x?}");
            }
        }
    }

    #[test]
    fn xml_chars_are_the_productions() {
        for ok in [
            '\t',
            '\n',
            '\r',
            ' ',
            'a',
            'é',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{10000}',
            '\u{10FFFF}',
            '\u{7F}',
            '\u{85}',
        ] {
            assert!(is_xml_char(ok), "{ok:?}");
        }
        for bad in [
            '\0', '\u{1}', '\u{8}', '\u{B}', '\u{C}', '\u{1B}', '\u{1F}', '\u{FFFE}', '\u{FFFF}',
        ] {
            assert!(!is_xml_char(bad), "{bad:?}");
        }
    }

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
            '\u{ad}',
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
            let nonchar_xml_holds = is_noncharacter(c) && is_xml_char(c);
            assert_eq!(is_printable(c), nonchar_xml_holds, "{c:?}");
        }
        for c in [
            'a', ' ', 'é', 'ß', '€', '中', '😀', ':', '[', '"', '\\', '\u{fffd}',
        ] {
            assert!(!is_unsafe(c), "{c:?}");
            assert!(is_printable(c), "{c:?}");
        }
    }

    #[test]
    fn terminal_text_is_escaped_only_when_needed() {
        assert!(matches!(for_terminal("plain é"), Cow::Borrowed("plain é")));
        assert_eq!(for_terminal("a\u{1b}[2J\u{7}b"), "a\\u{1b}[2J\\u{7}b");
        assert_eq!(for_terminal("x\u{202E}y\\"), "x\\u{202e}y\\\\");
        assert_eq!(lines_for_terminal("a\u{1b}\nb"), "a\\u{1b}\nb");
        let q = quoted(&"x".repeat(500), 10);
        assert!(q.starts_with("\"xxxxxxxxxx\"… (500 characters)"), "{q}");
        assert_eq!(quoted("a\u{2028}b", 80), "\"a\\u{2028}b\"");
        let t = for_terminal(EVIL);
        assert!(!t.chars().any(is_unsafe), "{t}");
    }

    #[test]
    fn clean_strips_escapes_and_caps_length() {
        assert_eq!(clean("apt\x1b[31m upgrades\r\n", 200), "apt [31m upgrades");
        assert_eq!(clean("  a \t\t b  ", 200), "a b");
        let long = "x".repeat(1000);
        assert_eq!(clean(&long, 200).chars().count(), 201);
        assert!(clean(&long, 200).ends_with('…'));
        // The cut never leaves a blank before the ellipsis.
        let spaced = format!("{} {}", "x".repeat(199), "y".repeat(10));
        assert_eq!(clean(&spaced, 200), format!("{}…", "x".repeat(199)));
        assert_eq!(clean("", 200), "");
        assert_eq!(clean("\u{200b}\u{feff} \u{2028}", 200), "");
    }

    /// Issue 12, item 6: a litmus "Forced Reason" reordered by U+202E, broken by U+2028, or
    /// disguised with U+200B / U+FEFF reached `status` and `status.json` as sent.
    #[test]
    fn clean_drops_format_characters_and_blanks_separators() {
        let c = |s: &str| clean(s, 200);
        assert_eq!(c("apt \u{202e}sedargpu\u{202c} done"), "apt sedargpu done");
        assert_eq!(
            c("line one\u{2028}line two\u{2029}x"),
            "line one line two x"
        );
        assert_eq!(c("\u{feff}up\u{200b}grade\u{2060}s"), "upgrades");
        assert_eq!(c("a\u{2066}b\u{2069}c\u{200e}d\u{200f}e"), "abcde");
        assert_eq!(c("tag\u{e0041}\u{e007f}s"), "tags");
        assert_eq!(c("nbsp\u{a0}\u{3000}ideographic"), "nbsp ideographic");
        assert_eq!(c("c1\u{85}next\u{9b}31m"), "c1 next 31m");
        assert_eq!(c("non\u{fffe}\u{ffff}\u{fdd0}\u{10ffff}char"), "nonchar");
        // What is kept is kept exactly: letters of any script, emoji, combining marks.
        let fine = "Wartung: Kühlung ausgefallen — 冷却 🔥 é";
        assert_eq!(c(fine), fine);
        let cleaned = c(EVIL);
        assert!(!cleaned.chars().any(is_unsafe), "{cleaned}");
    }
}
