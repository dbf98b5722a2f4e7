//! Cluster-wide drains, kept in the Pacemaker CIB (issue 15) so that every director applies the
//! same ones: after a failover, on a warm standby, after a reboot.
//!
//! **Where.** One `cluster_property_set` per cluster in `crm_config`, id `big_brother-<cluster>`,
//! one `nvpair` per drained node: name `drain-<node id>`, value
//! `at=<RFC 3339 UTC> by=<user>@<host> reason=<text>`. This is the place resource agents already
//! use for cluster-wide state of their own (ClusterLabs' `mysql` agent keeps its replication
//! info in the set `mysql_replication` with `crm_attribute --type crm_config`), and crmsh checks
//! only `cib-bootstrap-options` against the known cluster options, so it leaves this set alone.
//! It survives `big_brother crm apply` (which replaces only the cluster's group or clone in
//! `resources`), Puppet runs (which only run `crm apply`) and `cibadmin --upgrade` (nvpairs in
//! property sets are unchanged by every schema since pacemaker-1.0), and a change to it makes
//! the scheduler compute a transition with no action: nothing restarts or reloads. The
//! alternatives and why not are in `docs/ARCHITECTURE.md`, "Decisions".
//!
//! **How.** Only `cibadmin` is run, with an argv (no shell) and the document on stdin; it
//! honours `CIB_file=` itself, so every verb works offline on a file as the `crm` verbs do. A
//! drain is one `cibadmin --modify --allow-create` (atomic: the set is created with its first
//! nvpair or the nvpair merged into it), an undrain one `cibadmin --delete --xpath`; both are
//! read back, so a write the CIB did not keep is an error, never a silent success.
//!
//! **Bounds.** Every run is killed after [`TIMEOUT`]; its output is read up to [`MAX_XML`]
//! bytes (more is an error); at most [`MAX_DRAINS`] drains are taken from a set; a reason is at
//! most [`MAX_REASON`] bytes of printable text (`text::is_printable`: no control, line-break,
//! bidi or zero-width character), checked before anything is written.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use quick_xml::events::Event;
use quick_xml::Reader as XmlReader;
use serde::{Deserialize, Serialize};

use crate::spec::validate::pacemaker_storable;
use crate::text;
use crate::tool;

/// The one Pacemaker tool this module runs.
pub const CIBADMIN: &str = "cibadmin";
/// Longest a `cibadmin` run may take before it is killed (it is also passed `--timeout`).
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Most bytes of `cibadmin` output read: a set of [`MAX_DRAINS`] drains with long reasons
/// stays well below.
pub const MAX_XML: usize = 1024 * 1024;
/// Most drains taken from one cluster's set (the spec caps a cluster's nodes at 1024 too).
pub const MAX_DRAINS: usize = 1024;
/// Longest reason, in bytes.
pub const MAX_REASON: usize = 256;
/// Longest user or host name recorded (longer ones are cut).
const MAX_NAME: usize = 64;
/// Most bytes of a failing run's stderr kept for the message.
const MAX_STDERR: usize = 4096;

/// One drain as the CIB records it.
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

/// The drains of one cluster, by node id.
pub type Drains = BTreeMap<String, Record>;

/// Why the CIB could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CibError {
    /// No Pacemaker here: `cibadmin` is not installed, or no CIB manager answers (and no
    /// `CIB_file` is set). Drains can then only be local.
    #[error("no Pacemaker CIB on this machine: {0}")]
    Unreachable(String),
    #[error("cannot run cibadmin: {0}")]
    Spawn(#[source] io::Error),
    #[error("`{argv}` failed ({}): {}", exit_text(*code), stderr.trim())]
    Failed {
        argv: String,
        code: Option<i32>,
        stderr: String,
    },
    #[error("`{argv}` did not finish within {} s; killed", TIMEOUT.as_secs())]
    Timeout { argv: String },
    #[error("`{argv}` printed more than {MAX_XML} bytes")]
    TooBig { argv: String },
    #[error("unreadable XML from `{argv}`: {message}")]
    BadXml { argv: String, message: String },
    #[error("the CIB set {set} holds more than {MAX_DRAINS} drains")]
    TooMany { set: String },
    #[error("the reason is {len} bytes long; at most {MAX_REASON}")]
    ReasonTooLong { len: usize },
    #[error(
        "the reason has {ch:?} beside non-ASCII text, which Pacemaker 2.1 writes into the CIB \
         unescaped (the CIB would no longer validate); leave out & < > \" or write the reason in \
         ASCII"
    )]
    ReasonMarkup { ch: char },
    #[error(
        "the reason contains {} (character {position}); only printable text is kept in the CIB \
         (no control characters, line breaks, bidi or zero-width characters)",
        text::quoted(&ch.to_string(), 4)
    )]
    ReasonChar { ch: char, position: usize },
    /// The write returned success but reading back shows it did not take effect.
    #[error("the CIB did not keep the change: {0}")]
    NotKept(String),
}

impl CibError {
    /// A refusal of the write for lack of permission (cibadmin says so in its message).
    pub fn is_denied(&self) -> bool {
        matches!(self, CibError::Failed { stderr, .. }
            if stderr.contains("Permission denied") || stderr.contains("Insufficient privileges"))
    }
}

fn exit_text(code: Option<i32>) -> String {
    code.map_or_else(|| "killed by a signal".into(), |c| format!("exit {c}"))
}

/// Checks a reason before anything is written.
pub fn check_reason(reason: &str) -> Result<(), CibError> {
    if reason.len() > MAX_REASON {
        return Err(CibError::ReasonTooLong { len: reason.len() });
    }
    if let Some((i, ch)) = reason
        .chars()
        .enumerate()
        .find(|(_, c)| !text::is_printable(*c))
    {
        return Err(CibError::ReasonChar {
            ch,
            position: i + 1,
        });
    }
    // Pacemaker 2.1.5 (Debian 12) stops escaping an attribute value at its first non-ASCII
    // character: `6.1 → 6.6 <reboot>` is written into the CIB with a raw `<`, and the whole CIB
    // then fails its schema (found again by this command's read-back; the spec's description
    // has the same rule). Markup characters are fine in an ASCII reason.
    if !pacemaker_storable(reason) {
        let ch = reason
            .chars()
            .find(|c| matches!(c, '&' | '<' | '>' | '"'))
            .unwrap_or('&');
        return Err(CibError::ReasonMarkup { ch });
    }
    Ok(())
}

/// The id of a cluster's property set.
pub fn set_id(cluster: &str) -> String {
    format!("big_brother-{cluster}")
}

/// XPath of a cluster's property set. Cluster names and node ids hold no quote (a cluster name
/// is letters, digits, `_-.`; a node id an address and port), so nothing needs escaping.
pub fn set_xpath(cluster: &str) -> String {
    format!(
        "/cib/configuration/crm_config/cluster_property_set[@id='{}']",
        set_id(cluster)
    )
}

fn pair_name(node: &str) -> String {
    format!("drain-{node}")
}

/// The nvpair's id: unique in the CIB, and an XML ID (`:`, `[` and `]` of IPv6 ids become `_`,
/// as the crm face does for VIP ids).
fn pair_id(cluster: &str, node: &str) -> String {
    let safe: String = node
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("big_brother-{cluster}-drain-{safe}")
}

/// Where a file CIB is (`CIB_file`), if one is used instead of the live cluster.
pub fn cib_file() -> Option<PathBuf> {
    std::env::var_os("CIB_file")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// What a finished run printed.
struct Ran {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `cibadmin args…` with `stdin`, bounded in time and output.
fn cibadmin(args: &[&str], stdin: Option<&str>) -> Result<Ran, CibError> {
    let Some(path) = tool::find(CIBADMIN) else {
        return Err(CibError::Unreachable(
            "cibadmin is not installed (pacemaker-cli-utils)".into(),
        ));
    };
    let argv = format!("{CIBADMIN} {}", args.join(" "));
    let secs = TIMEOUT.as_secs().to_string();
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["--timeout", &secs]);
    let limits = tool::Limits {
        time: TIMEOUT,
        stdout: MAX_XML,
        stderr: MAX_STDERR,
    };
    let out = tool::run(&path, &full, stdin, limits).map_err(|e| match e {
        tool::RunError::Spawn(e) => CibError::Spawn(e),
        tool::RunError::Timeout => CibError::Timeout { argv },
        tool::RunError::TooBig => CibError::TooBig { argv },
    })?;
    Ok(Ran {
        code: out.code,
        stdout: out.stdout,
        stderr: text::clean(&String::from_utf8_lossy(&out.stderr), MAX_STDERR),
    })
}

/// cibadmin's exit code when nothing matched the query (`pcmk_rc_no_such_device`, "No such
/// device or address"); also what a missing `CIB_file` gives.
const NO_MATCH: i32 = 105;
/// cibadmin's exit code when it cannot connect to the CIB manager (no cluster running here).
const NOT_CONNECTED: i32 = 102;

/// The drains recorded for `cluster` in the CIB. A cluster with no set has none.
pub fn read(cluster: &str) -> Result<Drains, CibError> {
    let xpath = set_xpath(cluster);
    let args = ["--query", "--xpath", xpath.as_str()];
    let ran = cibadmin(&args, None)?;
    let argv = || format!("{CIBADMIN} {}", args.join(" "));
    match ran.code {
        Some(0) => parse_set(&ran.stdout, &set_id(cluster)).map_err(|message| {
            if message.starts_with("more than") {
                CibError::TooMany {
                    set: set_id(cluster),
                }
            } else {
                CibError::BadXml {
                    argv: argv(),
                    message,
                }
            }
        }),
        // No set (yet): no drain. A missing CIB_file gives the same code, but a file named
        // there that does not exist is a mistake worth saying.
        Some(NO_MATCH) if cib_file().is_none_or(|f| f.exists()) => Ok(Drains::new()),
        Some(NOT_CONNECTED) if cib_file().is_none() => {
            Err(CibError::Unreachable(ran.stderr.trim().to_string()))
        }
        code => Err(CibError::Failed {
            argv: argv(),
            code,
            stderr: ran.stderr,
        }),
    }
}

/// The drains in a `<cluster_property_set>` as cibadmin prints it: nvpairs named `drain-<id>`;
/// other nvpairs are left alone (room for more of big_brother's state later).
fn parse_set(xml: &[u8], set: &str) -> Result<Drains, String> {
    let text = std::str::from_utf8(xml).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut reader = XmlReader::from_str(text);
    let mut drains = Drains::new();
    let mut depth = 0usize;
    let mut in_set = false;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        let (e, empty) = match &ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    in_set = false;
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let attr = |name: &str| -> Result<Option<String>, String> {
            for a in e.attributes() {
                let a = a.map_err(|err| err.to_string())?;
                if a.key.as_ref() == name.as_bytes() {
                    let v = a.unescape_value().map_err(|err| err.to_string())?;
                    return Ok(Some(v.into_owned()));
                }
            }
            Ok(None)
        };
        if depth == 0 {
            in_set =
                e.name().as_ref() == b"cluster_property_set" && attr("id")?.as_deref() == Some(set);
        } else if depth == 1 && in_set && e.name().as_ref() == b"nvpair" {
            if let (Some(name), value) = (attr("name")?, attr("value")?) {
                if let Some(node) = name.strip_prefix("drain-").filter(|n| !n.is_empty()) {
                    if drains.len() >= MAX_DRAINS {
                        return Err(format!("more than {MAX_DRAINS} drains"));
                    }
                    let node = text::clean(node, 128);
                    let record = Record::parse(&node, value.as_deref().unwrap_or(""));
                    drains.insert(node, record);
                }
            }
        }
        if !empty {
            depth += 1;
        }
    }
    Ok(drains)
}

/// Records a drain in the CIB (creating the cluster's set with it), then reads it back.
pub fn write(cluster: &str, record: &Record) -> Result<(), CibError> {
    check_reason(&record.reason)?;
    let doc = format!(
        "<cluster_property_set id=\"{}\">\n  <nvpair id=\"{}\" name=\"{}\" value=\"{}\"/>\n</cluster_property_set>\n",
        set_id(cluster),
        pair_id(cluster, &record.node),
        text_attr(&pair_name(&record.node)),
        text_attr(&record.value()),
    );
    let args = [
        "--modify",
        "--allow-create",
        "--scope",
        "crm_config",
        "--xml-pipe",
    ];
    let ran = cibadmin(&args, Some(&doc))?;
    if ran.code != Some(0) {
        return Err(CibError::Failed {
            argv: format!("{CIBADMIN} {}", args.join(" ")),
            code: ran.code,
            stderr: ran.stderr,
        });
    }
    match read(cluster)?.get(&record.node) {
        Some(r) if r.value() == record.value() => Ok(()),
        Some(r) => Err(CibError::NotKept(format!(
            "{} reads back as {:?}",
            record.node,
            r.value()
        ))),
        None => Err(CibError::NotKept(format!(
            "no drain of {} in {} after the write",
            record.node,
            set_id(cluster)
        ))),
    }
}

/// Removes a node's drain from the CIB (nothing to remove is fine), then reads back.
pub fn remove(cluster: &str, node: &str) -> Result<(), CibError> {
    let xpath = format!("{}/nvpair[@name='{}']", set_xpath(cluster), pair_name(node));
    let args = ["--delete", "--xpath", xpath.as_str()];
    let ran = cibadmin(&args, None)?;
    // Deleting what is not there is no error for cibadmin; NO_MATCH is tolerated all the same.
    if !matches!(ran.code, Some(0 | NO_MATCH)) {
        return Err(CibError::Failed {
            argv: format!("{CIBADMIN} {}", args.join(" ")),
            code: ran.code,
            stderr: ran.stderr,
        });
    }
    if read(cluster)?.contains_key(node) {
        return Err(CibError::NotKept(format!(
            "{node} is still drained in {} after the delete",
            set_id(cluster)
        )));
    }
    Ok(())
}

/// Escapes an attribute value (the reason and node id are checked printable already; `&`, `<`,
/// `"` and friends still need it).
fn text_attr(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if text::is_printable(c) => out.push(c),
            // Not reachable for checked input; never let a raw control into the document.
            c => text::push_escaped(&mut out, c),
        }
    }
    out
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
/// ASCII so a reason's `&` is escaped; see [`check_reason`]), at most [`MAX_NAME`] characters.
fn token(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() && *c != '@' && *c != '&')
        .take(MAX_NAME)
        .collect()
}

/// The supervisor's reader: re-runs the query only when it may have changed. With `CIB_file`
/// the file is what cibadmin reads, so an unchanged file (inode, mtime, size) is an unchanged
/// CIB and costs a `stat`; against the live cluster every poll is a query.
#[derive(Debug)]
pub struct Reader {
    cluster: String,
    seen: Option<(u64, SystemTime, u64)>,
}

impl Reader {
    pub fn new(cluster: &str) -> Reader {
        Reader {
            cluster: cluster.to_string(),
            seen: None,
        }
    }

    /// `Ok(None)` when the file CIB did not change since the last successful read.
    pub fn poll(&mut self) -> Result<Option<Drains>, CibError> {
        let sig = cib_file().and_then(|f| {
            std::fs::metadata(f).ok().map(|m| {
                (
                    m.ino(),
                    m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    m.len(),
                )
            })
        });
        if sig.is_some() && sig == self.seen {
            return Ok(None);
        }
        let drains = read(&self.cluster)?;
        self.seen = sig;
        Ok(Some(drains))
    }
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
    fn reasons_are_bounded_and_printable() {
        assert!(check_reason("").is_ok());
        assert!(check_reason("kernel 6.1 → 6.6 «upgrade» and reboot").is_ok());
        assert!(check_reason(&"x".repeat(MAX_REASON)).is_ok());
        assert!(check_reason("disk & fan").is_ok());
        assert!(check_reason("disk <fan> \"x\" 'y'").is_ok());
        assert!(check_reason("l'été").is_ok());
        for bad in [
            "disque & ventilateur échangés",
            "6.1 → 6.6 <reboot>",
            "«a» \"b\"",
        ] {
            assert!(
                matches!(check_reason(bad), Err(CibError::ReasonMarkup { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            check_reason(&"x".repeat(MAX_REASON + 1)),
            Err(CibError::ReasonTooLong { len: 257 })
        ));
        for bad in [
            "a\nb",
            "a\tb",
            "a\u{1b}[2Jb",
            "a\u{202e}b",
            "a\u{7f}",
            "a\u{85}b",
        ] {
            let e = check_reason(bad).unwrap_err();
            assert!(
                matches!(e, CibError::ReasonChar { position: 2, .. }),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn ids_are_xml_ids_and_distinct() {
        assert_eq!(
            pair_id("webapp", "[2001:db8::1]:80"),
            "big_brother-webapp-drain-_2001_db8__1__80"
        );
        assert_eq!(
            pair_id("webapp", "10.0.0.1"),
            "big_brother-webapp-drain-10.0.0.1"
        );
        assert_ne!(
            pair_id("w", "2001:db8::1:80"),
            pair_id("w", "[2001:db8::1]:80")
        );
        assert_eq!(text_attr("a&\"<b>'"), "a&amp;&quot;&lt;b&gt;&apos;");
    }

    #[test]
    fn parses_only_its_own_set_and_bounds_it() {
        let xml = br#"<cluster_property_set id="big_brother-webapp">
  <nvpair id="x1" name="drain-10.0.0.1" value="at=2026-12-06T04:42:26Z by=root@lb1 reason=a &amp; b"/>
  <nvpair id="x2" name="other" value="1"/>
  <nvpair id="x3" name="drain-10.0.0.2"/>
</cluster_property_set>"#;
        let d = parse_set(xml, "big_brother-webapp").unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d["10.0.0.1"].reason, "a & b");
        assert_eq!(d["10.0.0.1"].by, "root@lb1");
        assert_eq!(d["10.0.0.2"].reason, "");
        assert!(parse_set(xml, "big_brother-shop").unwrap().is_empty());
        let mut many = String::from("<cluster_property_set id=\"s\">");
        for i in 0..=MAX_DRAINS {
            many.push_str(&format!(
                "<nvpair id=\"i{i}\" name=\"drain-n{i}\" value=\"\"/>"
            ));
        }
        many.push_str("</cluster_property_set>");
        assert!(parse_set(many.as_bytes(), "s")
            .unwrap_err()
            .starts_with("more than"));
        assert!(parse_set(b"<cluster_property_set id=\"s\"><nvpair", "s").is_err());
    }

    #[test]
    fn who_and_host_are_tokens() {
        assert!(!who().is_empty() && !who().contains(' '));
        assert!(!host().is_empty() && !host().contains(' '));
        assert_eq!(token("a b@c\u{7}d&é"), "abcd");
    }
}
