//! Which characters a string from a spec or a legacy file may carry to where it ends up, and how
//! such strings are shown on a terminal.
//!
//! Three sinks matter: the CIB (XML 1.0, which cannot hold most C0 controls nor U+FFFE/U+FFFF,
//! not even as character references), a terminal or log (where ESC, BEL, CR and the Unicode
//! format characters — bidirectional overrides, zero-width characters, line separators — change
//! what the reader sees beyond the character itself), and line-based protocols such as the NSCA
//! line the imported `on_change` hook writes. Validation refuses what a sink cannot take;
//! [`for_terminal`] escapes whatever is printed, so even a refused value is shown harmlessly.

use std::borrow::Cow;
use std::fmt::Write as _;

/// XML 1.0's `Char` production: `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
/// [#x10000-#x10FFFF]`. Surrogates cannot occur in a Rust `char`.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Unicode format characters (general category Cf) and the line and paragraph separators (Zl,
/// Zp): invisible, or reordering or breaking the text around them. The list is Unicode 15's.
pub fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// A character that shows as itself: not a control (C0, DEL, C1), not a format or separator
/// character, and one XML 1.0 can hold.
pub fn is_printable(c: char) -> bool {
    !c.is_control() && !is_format(c) && is_xml_char(c)
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
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn printable_excludes_controls_and_format_characters() {
        for bad in [
            '\u{1B}',
            '\u{7}',
            '\n',
            '\t',
            '\u{7F}',
            '\u{85}',
            '\u{202E}',
            '\u{2028}',
            '\u{200B}',
            '\u{FEFF}',
            '\u{FFFE}',
            '\u{E0041}',
        ] {
            assert!(!is_printable(bad), "{bad:?}");
        }
        for ok in ['a', ' ', 'é', 'ß', '中', '€', '\u{1F600}'] {
            assert!(is_printable(ok), "{ok:?}");
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
    }
}
