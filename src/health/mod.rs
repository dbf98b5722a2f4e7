//! Health checks against litmus_paper: what a node's answer means ([`parse`], pure) and how it
//! is fetched ([`client`], a small HTTP/1.1 GET on `std::net`).
//!
//! Invariant: every check ends in either a [`Health`] (0.0..=100.0, never NaN) or a
//! [`CheckError`] that says what went wrong in words an operator can act on. A check error counts
//! as health 0 in the weight policy; it never takes the process down.

pub mod client;
pub mod parse;
pub mod serve;

use std::fmt;
use std::io;

/// Largest body big_brother reads from a health endpoint. litmus_paper's answer is a few hundred
/// bytes; anything near this limit is not a litmus_paper answer.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Most protocol text read in one check: every status line and header block (interim 1xx
/// responses included), then the chunk size lines and trailers of a chunked body, together.
pub const HEAD_LIMIT: usize = 16 * 1024;

/// Most interim (1xx) responses accepted before the answer to one check. RFC 9110 allows any
/// number; a health endpoint has no reason to send more than one or two (`103 Early Hints`).
pub const INTERIM_LIMIT: usize = 4;

/// Longest reason kept from an answer (forced-down reason, error detail): enough for a sentence,
/// short enough for a status table.
pub const REASON_LIMIT: usize = 200;

/// A node's own verdict, as litmus_paper answered it.
#[derive(Clone, Debug, PartialEq)]
pub struct Health {
    /// 0.0..=100.0 (fractional allowed, never NaN).
    pub value: f64,
    /// Why the health was forced (`litmusctl force down|up|health … -r REASON`), if it was.
    pub forced_reason: Option<String>,
}

impl Health {
    pub fn new(value: f64) -> Health {
        Health {
            value,
            forced_reason: None,
        }
    }
}

/// Where in a check something went wrong or ran out of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Connect,
    Send,
    Head,
    Body,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connecting",
            Phase::Send => "sending the request",
            Phase::Head => "waiting for the response headers",
            Phase::Body => "reading the body",
        })
    }
}

/// Why a check gave no usable health. Each counts as health 0.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CheckError {
    #[error("timed out {phase} (check budget {budget_ms} ms)")]
    Timeout { phase: Phase, budget_ms: u64 },
    /// Refused, reset, unreachable…: the kind is kept so callers can branch on it.
    #[error("{phase}: {detail}")]
    Io {
        phase: Phase,
        kind: io::ErrorKind,
        detail: String,
    },
    #[error("connection closed by the node while {phase}")]
    Closed { phase: Phase },
    #[error("redirect (HTTP {status}) to {location:?} not followed")]
    Redirect { status: u16, location: String },
    #[error("HTTP {status} {reason}")]
    Status { status: u16, reason: String },
    #[error("response {what} larger than {limit} bytes")]
    TooLarge { what: &'static str, limit: usize },
    #[error("more than {limit} {what}")]
    TooMany { what: &'static str, limit: usize },
    #[error("malformed answer: {0}")]
    Malformed(String),
    #[error("not a litmus_paper answer: {0}")]
    NotLitmus(String),
    /// The check panicked (a big_brother bug); the message is the panic's.
    #[error("internal error in the check (a big_brother bug, please report): {0}")]
    Internal(String),
    /// The node's checker produced no result for this long (it is stuck or dead); set by the
    /// supervisor, not by a check.
    #[error("no check result for {secs} s (its checker stopped reporting)")]
    NoResult { secs: u64 },
}

impl CheckError {
    pub(crate) fn io(phase: Phase, e: &io::Error) -> CheckError {
        CheckError::Io {
            phase,
            kind: e.kind(),
            detail: e.to_string(),
        }
    }
}

/// Makes peer-supplied text safe to store and print (status, `status.json`, logs, terminals):
/// - **blanks**: control characters (Unicode Cc: C0, DEL, C1 — terminal escapes, newlines,
///   BEL), line and paragraph separators (Zl U+2028, Zp U+2029: line breaks for JSON readers and
///   editors) and every other space separator (Zs, e.g. U+00A0, U+3000) become one ASCII space,
///   and runs of blanks collapse;
/// - **dropped**: format characters (Cf: bidirectional overrides and isolates such as U+202E,
///   which reorder what a terminal shows; zero-width U+200B–U+200D and U+2060; the BOM U+FEFF;
///   soft hyphen; tag characters …), which are invisible by design and so can only hide or
///   disguise text, and noncharacters (U+FDD0–U+FDEF, U+xxFFFE/U+xxFFFF), which no text
///   should carry;
/// - **cut** to [`REASON_LIMIT`] characters (an ellipsis marks the cut).
///
/// Private-use and unassigned code points are kept: they are printable by some font or none, and
/// neither moves or hides the text around them.
pub fn clean_text(raw: &str) -> String {
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
        if kept >= REASON_LIMIT {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Keep,
    Blank,
    Drop,
}

/// Format characters (general category Cf) as of Unicode 15.0 (checked against Python's
/// `unicodedata` by `tests/health.rs`).
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

/// Space separators other than U+0020 (general category Zs).
const SPACES: &[(u32, u32)] = &[
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
];

fn class(ch: char) -> Class {
    let c = u32::from(ch);
    let within = |table: &[(u32, u32)]| table.iter().any(|&(lo, hi)| (lo..=hi).contains(&c));
    if ch.is_whitespace() || ch.is_control() || c == 0x2028 || c == 0x2029 || within(SPACES) {
        Class::Blank
    } else if within(FORMAT) || (0xFDD0..=0xFDEF).contains(&c) || c & 0xFFFE == 0xFFFE {
        Class::Drop
    } else {
        Class::Keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_strips_escapes_and_caps_length() {
        assert_eq!(clean_text("apt\x1b[31m upgrades\r\n"), "apt [31m upgrades");
        assert_eq!(clean_text("  a \t\t b  "), "a b");
        let long = "x".repeat(1000);
        assert_eq!(clean_text(&long).chars().count(), REASON_LIMIT + 1);
        assert!(clean_text(&long).ends_with('…'));
        // The cut never leaves a blank before the ellipsis.
        let spaced = format!("{} {}", "x".repeat(REASON_LIMIT - 1), "y".repeat(10));
        assert_eq!(
            clean_text(&spaced),
            format!("{}…", "x".repeat(REASON_LIMIT - 1))
        );
        assert_eq!(clean_text(""), "");
        assert_eq!(clean_text("\u{200b}\u{feff} \u{2028}"), "");
    }

    /// Issue 12, item 6: a litmus "Forced Reason" reordered by U+202E, broken by U+2028, or
    /// disguised with U+200B / U+FEFF reached `status` and `status.json` as sent.
    #[test]
    fn clean_text_drops_format_characters_and_blanks_separators() {
        assert_eq!(
            clean_text("apt \u{202e}sedargpu\u{202c} done"),
            "apt sedargpu done"
        );
        assert_eq!(
            clean_text("line one\u{2028}line two\u{2029}x"),
            "line one line two x"
        );
        assert_eq!(clean_text("\u{feff}up\u{200b}grade\u{2060}s"), "upgrades");
        assert_eq!(clean_text("a\u{2066}b\u{2069}c\u{200e}d\u{200f}e"), "abcde");
        assert_eq!(clean_text("tag\u{e0041}\u{e007f}s"), "tags");
        assert_eq!(
            clean_text("nbsp\u{a0}\u{3000}ideographic"),
            "nbsp ideographic"
        );
        assert_eq!(clean_text("c1\u{85}next\u{9b}31m"), "c1 next 31m");
        assert_eq!(
            clean_text("non\u{fffe}\u{ffff}\u{fdd0}\u{10ffff}char"),
            "nonchar"
        );
        // What is kept is kept exactly: letters of any script, emoji, combining marks.
        let fine = "Wartung: Kühlung ausgefallen — 冷却 🔥 é";
        assert_eq!(clean_text(fine), fine);
    }

    #[test]
    fn tables_are_sorted_and_disjoint() {
        for table in [FORMAT, SPACES] {
            for w in table.windows(2) {
                assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:x?}");
            }
        }
    }
}
