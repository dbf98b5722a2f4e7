//! Who, when and why, as the CIB records a drain or an override (issue 15): the value
//! `at=<RFC 3339 UTC> by=<user>@<host> reason=<text>` of a drain's nvpair, and the tail of an
//! override's (`state::cib_override`). Its own module so that the drains' store
//! (`super::cib_drain`) and the overrides' values can both use it.

use serde::{Deserialize, Serialize};
use std::time::SystemTime;

use crate::text;

/// Longest reason, in bytes.
pub const MAX_REASON: usize = 256;
/// Longest user or host name recorded (longer ones are cut).
const MAX_NAME: usize = 64;

/// One drain as the CIB records it (an override's value ends with the same fields).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The node's id (`spec::Node::id`).
    pub node: String,
    /// When, RFC 3339 UTC (`2026-12-06T04:42:26Z`), as written by the drain command.
    pub at: String,
    /// Who: `user@host`.
    pub by: String,
    /// Why (may be empty).
    pub reason: String,
}

impl Record {
    /// The nvpair value: `at=… by=… reason=…` (reason last: it may contain spaces).
    pub fn value(&self) -> String {
        format!("at={} by={} reason={}", self.at, self.by, self.reason)
    }

    /// Reads a value back. One written by hand that does not follow the format is still a
    /// drain: the whole (cleaned) value becomes its reason.
    pub fn parse(node: &str, value: &str) -> Record {
        let parsed = (|| {
            let rest = value.strip_prefix("at=")?;
            let (at, rest) = rest.split_once(" by=")?;
            let (by, reason) = rest.split_once(" reason=").or_else(|| {
                rest.strip_suffix(" reason")
                    .map(|by| (by, ""))
                    .or(Some((rest, "")))
            })?;
            (!at.contains(' ') && !by.contains(' ')).then_some((at, by, reason))
        })();
        let (at, by, reason) = parsed.unwrap_or(("", "", value));
        Record {
            node: node.to_string(),
            at: text::clean(at, MAX_NAME),
            by: text::clean(by, 2 * MAX_NAME + 1),
            reason: text::clean(reason, MAX_REASON),
        }
    }

    /// A record for a drain made now by this process's user on this host.
    pub fn now(node: &str, reason: &str) -> Record {
        let secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Record {
            node: node.to_string(),
            at: text::utc_rfc3339(secs),
            by: format!("{}@{}", who(), host()),
            reason: reason.to_string(),
        }
    }
}

/// Who runs this: the sudo caller when root got there through sudo (that is the person), else
/// the name of the real uid, else `uid N`. Only printable, space-free text, cut to 64.
fn who() -> String {
    // SAFETY: getuid cannot fail and touches no memory of ours.
    let uid = unsafe { libc::getuid() };
    let sudo = std::env::var("SUDO_USER").ok().filter(|_| uid == 0);
    let name = sudo
        .or_else(|| user_name(uid))
        .unwrap_or_else(|| format!("uid{uid}"));
    token(&name)
}

/// The user name of `uid` from the password database (NSS: files, LDAP, sssd alike).
fn user_name(uid: libc::uid_t) -> Option<String> {
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: `passwd` is plain old data that getpwuid_r fills; `buf` outlives the call and its
    // length is passed, and `result` points at `pwd` or is null.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// This host's name (the kernel's, as `hostname` prints it).
fn host() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = name.trim();
    token(if name.is_empty() {
        "unknown-host"
    } else {
        name
    })
}

/// Printable ASCII without spaces, `@` or `&` (a field of the nvpair value, which must stay
/// ASCII so a reason's `&` is escaped; see `cib_drain::check_reason`), at most [`MAX_NAME`] characters.
fn token(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() && *c != '@' && *c != '&')
        .take(MAX_NAME)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_hand_written_ones_are_still_drains() {
        let r = Record {
            node: "[2001:db8::1]:80".into(),
            at: "2026-12-06T04:42:26Z".into(),
            by: "alice@lb1".into(),
            reason: "kernel upgrade, by=me reason=x".into(),
        };
        assert_eq!(Record::parse(&r.node, &r.value()), r);
        let empty = Record {
            reason: String::new(),
            ..r.clone()
        };
        assert_eq!(Record::parse(&r.node, &empty.value()), empty);
        let hand = Record::parse("10.0.0.1", "maintenance\u{1b}[31m");
        assert_eq!((hand.at.as_str(), hand.by.as_str()), ("", ""));
        assert_eq!(hand.reason, "maintenance [31m");
    }

    #[test]
    fn who_and_host_are_tokens() {
        assert!(!who().is_empty() && !who().contains(' '));
        assert!(!host().is_empty() && !host().contains(' '));
        assert_eq!(token("a b@c\u{7}d&é"), "abcd");
    }
}
