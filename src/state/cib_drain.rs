//! Cluster-wide drains and overrides, kept in the Pacemaker CIB (issue 15) so that every
//! director applies the same ones: after a failover, on a warm standby, after a reboot. This
//! module reads and writes the set; the overrides' values are `super::cib_override`'s.
//!
//! **Where.** One `cluster_property_set` per cluster in `crm_config`, id `big_brother-<cluster>`,
//! one `nvpair` per drained node: name `drain-<node id>`, value
//! `at=<RFC 3339 UTC> by=<user>@<host> reason=<text>`; the overrides beside them (`override`,
//! `override-<node id>`). New nvpairs get ids no other id of ours can equal ([`pair_id`]). This is the place resource agents already
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
//! bytes (more is an error); at most [`MAX_DRAINS`] drains, and as many node overrides, are
//! taken from a set; a reason is at
//! most [`MAX_REASON`] bytes of printable text (`text::is_printable`: no control, line-break,
//! bidi or zero-width character), checked before anything is written.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use quick_xml::events::Event;
use quick_xml::Reader as XmlReader;

use super::cib_override::{self, BadValue, Overrides};
pub use super::cib_record::{Record, MAX_REASON};
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
/// Most bytes of a failing run's stderr kept for the message.
const MAX_STDERR: usize = 4096;

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
    #[error("the CIB set {set} holds more than {MAX_DRAINS} {what}")]
    TooMany { set: String, what: &'static str },
    /// An override whose value cannot be read (written by hand?): the supervisor keeps the
    /// state it read last until it is fixed or cleared (`big_brother override … clear`).
    #[error(
        "the CIB set {set} has {name} = {}: expected {expected}",
        text::quoted(value, 80)
    )]
    BadOverride {
        set: String,
        name: String,
        value: String,
        expected: &'static str,
    },
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

/// The nvpair name of a node's drain.
pub fn drain_name(node: &str) -> String {
    format!("{DRAIN_PREFIX}{node}")
}

/// The prefix of a drain's nvpair name (then the node id).
pub const DRAIN_PREFIX: &str = "drain-";

/// The nvpair name of an override: the cluster's (`None`) or a node's.
pub fn override_name(node: Option<&str>) -> String {
    node.map_or_else(
        || cib_override::CLUSTER_NAME.to_string(),
        |n| format!("{}{n}", cib_override::NODE_PREFIX),
    )
}

/// The id of a new nvpair: `big_brother.<cluster>.<name>`, with every character of the name
/// outside `[A-Za-z0-9.-]` written `_` and its two hex digits (`:` → `_3a`; per UTF-8 byte).
///
/// It can collide with no other id big_brother makes: set ids start `big_brother-` and the crm
/// face's ids `ipvs_`, `ip_`, `colocation_`, `order_` or a cluster name followed by `_group`
/// (which ends in letters a name part never has); among these ids, the name part starts at the
/// last `.drain-` or `.override` (a node id is an address: hex digits, `.`, `:`, `[`, `]`, so
/// its escaped form never spells either), so different (cluster, name) pairs give different ids
/// even though cluster names may contain `.` and `-`. The escape is one-to-one (`_` itself is
/// escaped). An nvpair that already exists keeps its own id (see [`put`]): drains written
/// before this scheme (`big_brother-<cluster>-drain-<node>`) and pairs set by hand with
/// `crm_attribute` are updated in place, never doubled.
pub fn pair_id(cluster: &str, name: &str) -> String {
    let mut out = format!("big_brother.{cluster}.");
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("_{b:02x}"));
            }
        }
    }
    out
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

/// Everything big_brother keeps in one cluster's set, as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CibSet {
    pub drains: Drains,
    pub overrides: Overrides,
    /// Override nvpairs whose value cannot be read (see [`CibSet::checked`]).
    pub bad: Vec<BadValue>,
    /// big_brother's nvpairs as found, name → (id, value): an update keeps the id, and a write
    /// is read back by its value.
    pairs: BTreeMap<String, (String, String)>,
}

impl CibSet {
    /// The set as the supervisor takes it: an override it cannot read makes the whole read an
    /// error, so the state read last stays in force (an override edited by hand into nonsense
    /// must not silently lift itself).
    pub fn checked(self, cluster: &str) -> Result<CibSet, CibError> {
        match self.bad.first() {
            Some(b) => Err(CibError::BadOverride {
                set: set_id(cluster),
                name: b.name.clone(),
                value: b.value.clone(),
                expected: b.expected,
            }),
            None => Ok(self),
        }
    }

    /// A set as a read would give it (tests of the readers).
    #[cfg(test)]
    pub fn of(drains: Drains, overrides: Overrides) -> CibSet {
        CibSet {
            drains,
            overrides,
            ..CibSet::default()
        }
    }

    /// The value of one of big_brother's nvpairs, as stored.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.pairs.get(name).map(|(_, v)| v.as_str())
    }
}

/// Drains and overrides of `cluster` in one read. A cluster with no set has none.
pub fn read_set(cluster: &str) -> Result<CibSet, CibError> {
    let xpath = set_xpath(cluster);
    let args = ["--query", "--xpath", xpath.as_str()];
    let ran = cibadmin(&args, None)?;
    let argv = || format!("{CIBADMIN} {}", args.join(" "));
    match ran.code {
        Some(0) => parse_set(&ran.stdout, &set_id(cluster)).map_err(|e| match e {
            ParseError::TooMany(what) => CibError::TooMany {
                set: set_id(cluster),
                what,
            },
            ParseError::Xml(message) => CibError::BadXml {
                argv: argv(),
                message,
            },
        }),
        // No set (yet): no drain. A missing CIB_file gives the same code, but a file named
        // there that does not exist is a mistake worth saying.
        Some(NO_MATCH) if cib_file().is_none_or(|f| f.exists()) => Ok(CibSet::default()),
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

/// Why a set could not be parsed.
#[derive(Debug, PartialEq, Eq)]
enum ParseError {
    Xml(String),
    /// More than the bound of drains or of node overrides.
    TooMany(&'static str),
}

/// The set in a `<cluster_property_set>` as cibadmin prints it: nvpairs named `drain-<id>`,
/// `override` and `override-<id>`; other nvpairs are left alone (room for more later).
fn parse_set(xml: &[u8], set: &str) -> Result<CibSet, ParseError> {
    let text = std::str::from_utf8(xml).map_err(|e| ParseError::Xml(format!("not UTF-8: {e}")))?;
    let mut reader = XmlReader::from_str(text);
    let mut out = CibSet::default();
    let mut depth = 0usize;
    let mut in_set = false;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| ParseError::Xml(format!("at byte {}: {e}", reader.buffer_position())))?;
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
        let attr = |name: &str| -> Result<Option<String>, ParseError> {
            for a in e.attributes() {
                let a = a.map_err(|err| ParseError::Xml(err.to_string()))?;
                if a.key.as_ref() == name.as_bytes() {
                    let v = a
                        .unescape_value()
                        .map_err(|err| ParseError::Xml(err.to_string()))?;
                    return Ok(Some(v.into_owned()));
                }
            }
            Ok(None)
        };
        if depth == 0 {
            in_set =
                e.name().as_ref() == b"cluster_property_set" && attr("id")?.as_deref() == Some(set);
        } else if depth == 1 && in_set && e.name().as_ref() == b"nvpair" {
            if let Some(name) = attr("name")? {
                let value = attr("value")?.unwrap_or_default();
                if take_pair(&mut out, &name, &value)? {
                    let id = attr("id")?.unwrap_or_default();
                    out.pairs.insert(name, (id, value));
                }
            }
        }
        if !empty {
            depth += 1;
        }
    }
    Ok(out)
}

/// Files one nvpair into the set; false when it is not one of big_brother's.
fn take_pair(out: &mut CibSet, name: &str, value: &str) -> Result<bool, ParseError> {
    if let Some(node) = name.strip_prefix(DRAIN_PREFIX).filter(|n| !n.is_empty()) {
        if out.drains.len() >= MAX_DRAINS {
            return Err(ParseError::TooMany("drains"));
        }
        let node = text::clean(node, 128);
        let record = Record::parse(&node, value);
        out.drains.insert(node, record);
    } else if name == cib_override::CLUSTER_NAME {
        match cib_override::parse_cluster(value) {
            Ok(o) => out.overrides.cluster = Some(o),
            Err(b) => out.bad.push(b),
        }
    } else if let Some(node) = name
        .strip_prefix(cib_override::NODE_PREFIX)
        .filter(|n| !n.is_empty())
    {
        if out.overrides.nodes.len() + out.bad.len() >= MAX_DRAINS {
            return Err(ParseError::TooMany("node overrides"));
        }
        let node = text::clean(node, 128);
        match cib_override::parse_node(&node, value) {
            Ok(o) => {
                out.overrides.nodes.insert(node, o);
            }
            Err(b) => out.bad.push(b),
        }
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// Sets one nvpair of the cluster's set to `value` (creating the set with it; an nvpair of
/// that name keeps its id), then reads the set back: the value must be there as written.
/// `before` is the set as read just before (for the id).
pub fn put(cluster: &str, before: &CibSet, name: &str, value: &str) -> Result<CibSet, CibError> {
    let id = before
        .pairs
        .get(name)
        .map_or_else(|| pair_id(cluster, name), |(id, _)| id.clone());
    // Wrapped in <crm_config> rather than `--scope crm_config`: with the scope, Pacemaker 2.1.5
    // counts the creation of a new set as a status-like update (num_updates, not epoch), so the
    // CIB's disk copy — what supervisors watch (`Reader`) — is not rewritten and the first
    // drain of a cluster reached the other director only at the next refresh.
    let doc = format!(
        "<crm_config>\n<cluster_property_set id=\"{}\">\n  <nvpair id=\"{}\" name=\"{}\" value=\"{}\"/>\n</cluster_property_set>\n</crm_config>\n",
        set_id(cluster),
        text::xml_attr(&id),
        text::xml_attr(name),
        text::xml_attr(value),
    );
    let args = ["--modify", "--allow-create", "--xml-pipe"];
    let ran = cibadmin(&args, Some(&doc))?;
    if ran.code != Some(0) {
        return Err(CibError::Failed {
            argv: format!("{CIBADMIN} {}", args.join(" ")),
            code: ran.code,
            stderr: ran.stderr,
        });
    }
    let after = read_set(cluster)?;
    match after.value(name) {
        Some(v) if v == value => Ok(after),
        Some(v) => Err(CibError::NotKept(format!("{name} reads back as {v:?}"))),
        None => Err(CibError::NotKept(format!(
            "no {name} in {} after the write",
            set_id(cluster)
        ))),
    }
}

/// Removes one nvpair of the cluster's set (nothing to remove is fine), then reads back.
pub fn delete(cluster: &str, name: &str) -> Result<CibSet, CibError> {
    // Names are built from a node id or a constant: no quote (see `set_xpath`).
    let xpath = format!("{}/nvpair[@name='{name}']", set_xpath(cluster));
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
    let after = read_set(cluster)?;
    if after.value(name).is_some() {
        return Err(CibError::NotKept(format!(
            "{name} is still in {} after the delete",
            set_id(cluster)
        )));
    }
    Ok(after)
}

/// Records a drain in the CIB (creating the cluster's set with it), then reads it back.
pub fn write(cluster: &str, before: &CibSet, record: &Record) -> Result<(), CibError> {
    check_reason(&record.reason)?;
    put(cluster, before, &drain_name(&record.node), &record.value()).map(|_| ())
}

/// Removes a node's drain from the CIB (nothing to remove is fine), then reads back.
pub fn remove(cluster: &str, node: &str) -> Result<(), CibError> {
    delete(cluster, &drain_name(node)).map(|_| ())
}

/// Where a cluster node's CIB manager keeps its copy of the CIB on disk. Every node's
/// `pacemaker-based` rewrites it (a new file renamed into place) after each change to the
/// configuration — drains and overrides are configuration — and never for status updates.
pub const LIVE_COPY: &str = "/var/lib/pacemaker/cib/cib.xml";

/// Against the live cluster, the query runs again at least this often even when the disk copy
/// did not change: the safety net for a copy that could not be written (a full disk) or a node
/// whose CIB directory is elsewhere. Longer than the cluster tier's 30 s drain bound, so that
/// bound holds only if the disk copy really signals changes. Five minutes, not one: each
/// refresh is a `cibadmin` process (~29 ms of CPU natively), and a director carries one
/// supervisor per cluster — a hundred clusters refreshing every minute spent several times
/// the supervisors' own CPU on it (issue 18).
pub const REFRESH_EVERY: Duration = Duration::from_secs(300);

/// A file's identity and contents' stamp: (inode, mtime, size).
type Stamp = (u64, SystemTime, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    std::fs::metadata(path).ok().map(|m| {
        (
            m.ino(),
            m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            m.len(),
        )
    })
}

/// The supervisor's reader: re-runs the query only when the CIB may have changed.
///
/// With `CIB_file` the file is what cibadmin reads, so an unchanged file is an unchanged CIB.
/// Against the live cluster, the node's disk copy ([`LIVE_COPY`]) is the signal: a query is a
/// `cibadmin` process (IPC to the CIB manager, the XML parsed twice) that costs a director far
/// more than the supervisor itself — under software emulation it kept a passive director's CPU
/// busy enough to slow the `IPaddr2` start of a failover by tens of seconds (issue 14) — while a
/// `stat` costs microseconds. Without a disk copy every poll queries, as before; with one, an
/// unchanged copy is trusted for at most [`REFRESH_EVERY`].
///
/// Why no change can be missed: the CIB manager applies a change in memory before it writes the
/// copy, and the stamp is taken before the query and kept only after it succeeded, so a change
/// that lands between the two leaves a stamp that differs at the next poll.
#[derive(Debug)]
pub struct Reader {
    cluster: String,
    live_copy: PathBuf,
    seen: Option<Stamp>,
    queried: Option<Instant>,
}

impl Reader {
    pub fn new(cluster: &str) -> Reader {
        Reader::with_live_copy(cluster, Path::new(LIVE_COPY))
    }

    /// A reader whose live-cluster signal is `live_copy` (tests).
    pub fn with_live_copy(cluster: &str, live_copy: &Path) -> Reader {
        Reader {
            cluster: cluster.to_string(),
            live_copy: live_copy.to_path_buf(),
            seen: None,
            queried: None,
        }
    }

    /// `Ok(None)` when the CIB did not change since the last successful read. A set with an
    /// override that cannot be read is an error ([`CibSet::checked`]).
    pub fn poll(&mut self) -> Result<Option<CibSet>, CibError> {
        let (sig, refresh) = match cib_file() {
            Some(f) => (stamp(&f), None),
            None => (stamp(&self.live_copy), Some(REFRESH_EVERY)),
        };
        let age = self.queried.map(|t| t.elapsed());
        if !must_query(sig, self.seen, age, refresh) {
            return Ok(None);
        }
        let set = read_set(&self.cluster)?.checked(&self.cluster)?;
        self.seen = sig;
        self.queried = Some(Instant::now());
        Ok(Some(set))
    }
}

/// Whether the reader must query: no stamp now (no file to watch), none kept (no successful
/// read yet), a changed one, or — when `refresh` is set — a last query older than it.
fn must_query(
    now: Option<Stamp>,
    seen: Option<Stamp>,
    since_query: Option<Duration>,
    refresh: Option<Duration>,
) -> bool {
    let unchanged = now.is_some() && now == seen;
    let fresh = match (refresh, since_query) {
        (None, _) => true,
        (Some(limit), Some(age)) => age < limit,
        (Some(_), None) => false,
    };
    !(unchanged && fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::overrides::Override;

    /// Issue 14: against the live cluster the disk copy's stamp decides, with the refresh as
    /// the safety net; with `CIB_file` only the file's stamp.
    #[test]
    fn the_query_runs_only_when_the_cib_may_have_changed() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let a = Some((7, t0, 100));
        let b = Some((8, t0 + Duration::from_secs(1), 101));
        let s = |n| Some(Duration::from_secs(n));
        let live = s(60);
        assert!(must_query(a, None, None, live), "first read");
        assert!(
            !must_query(a, a, s(1), live),
            "unchanged copy, recent query"
        );
        assert!(must_query(b, a, s(1), live), "the copy was rewritten");
        assert!(must_query(a, a, s(60), live), "refresh due");
        assert!(must_query(None, None, s(1), live), "no copy: every poll");
        assert!(
            must_query(a, a, None, live),
            "kept stamp without a query time"
        );
        assert!(
            !must_query(a, a, None, None),
            "CIB_file unchanged: never a refresh"
        );
        assert!(must_query(b, a, s(1), None), "CIB_file changed");
    }

    #[test]
    fn a_reader_with_a_copy_that_does_not_change_does_not_query_twice() {
        // A query here would fail (no CIB manager answers for this made-up cluster, or no
        // cibadmin at all): Ok(None) proves none ran.
        assert!(cib_file().is_none(), "unit tests run without CIB_file");
        let dir = std::env::temp_dir().join(format!("bb-cibcopy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let copy = dir.join("cib.xml");
        std::fs::write(&copy, "<cib/>").unwrap();
        let mut r = Reader::with_live_copy("nosuchcluster", &copy);
        r.seen = stamp(&copy);
        r.queried = Some(Instant::now());
        assert!(
            matches!(r.poll(), Ok(None)),
            "unchanged copy, recent query: no query"
        );
        std::fs::remove_dir_all(&dir).unwrap();
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
            pair_id("webapp", &drain_name("[2001:db8::1]:80")),
            "big_brother.webapp.drain-_5b2001_3adb8_3a_3a1_5d_3a80"
        );
        assert_eq!(
            pair_id("webapp", &drain_name("10.0.0.1")),
            "big_brother.webapp.drain-10.0.0.1"
        );
        assert_eq!(
            pair_id("webapp", &override_name(None)),
            "big_brother.webapp.override"
        );
        assert_eq!(
            pair_id("webapp", &override_name(Some("10.0.0.1:80"))),
            "big_brother.webapp.override-10.0.0.1_3a80"
        );
        assert_ne!(
            pair_id("w", &drain_name("2001:db8::1:80")),
            pair_id("w", &drain_name("[2001:db8::1]:80"))
        );
        assert_eq!(pair_id("w", "a_b"), "big_brother.w.a_5fb");
    }

    /// Every id big_brother makes, over cluster names chosen to look like the others' parts
    /// (`.`, `-`, `drain`, `override`, addresses) and every kind of node id: no two equal, and
    /// none equal to a set id or one of the crm face's ids.
    #[test]
    fn no_two_ids_collide() {
        let clusters = [
            "w",
            "w.drain-10.0.0.1",
            "w-drain-10.0.0.1",
            "w.override",
            "w.override-10.0.0.1",
            "w-override",
            "w.10",
            "w.10.0",
            "big_brother.w",
            "drain-1",
            "override",
        ];
        let nodes = [
            "10.0.0.1",
            "0.0.1",
            "0.1",
            "1",
            "10.0.0.1:80",
            "2001:db8::1",
            "2001:db8::1:80",
            "[2001:db8::1]:80",
            "::1",
            "[::1]:80",
            "::ffff:10.0.0.1",
        ];
        let mut seen = std::collections::BTreeMap::new();
        let mut add = |id: String, what: String| {
            if let Some(other) = seen.insert(id.clone(), what.clone()) {
                panic!("{id} is both {other} and {what}");
            }
        };
        for c in clusters {
            add(set_id(c), format!("the set of {c}"));
            for crm in [
                crate::crm::generate::group_id(c),
                crate::crm::generate::ipvs_id(c),
            ] {
                add(crm.clone(), format!("crm {crm}"));
            }
            add(
                pair_id(c, &override_name(None)),
                format!("{c}: cluster override"),
            );
            for n in nodes {
                add(pair_id(c, &drain_name(n)), format!("{c}: drain {n}"));
                add(
                    pair_id(c, &override_name(Some(n))),
                    format!("{c}: override {n}"),
                );
            }
        }
    }

    #[test]
    fn parses_only_its_own_set_and_bounds_it() {
        let xml = br#"<cluster_property_set id="big_brother-webapp">
  <nvpair id="x1" name="drain-10.0.0.1" value="at=2026-12-06T04:42:26Z by=root@lb1 reason=a &amp; b"/>
  <nvpair id="x2" name="other" value="1"/>
  <nvpair id="x3" name="drain-10.0.0.2"/>
  <nvpair id="x4" name="override" value="down at=2026-12-06T04:42:26Z by=root@lb1 reason=r"/>
  <nvpair id="x5" name="override-10.0.0.2" value="40 at=2026-12-06T04:42:26Z by=bob@lb2 reason=half"/>
</cluster_property_set>"#;
        let s = parse_set(xml, "big_brother-webapp").unwrap();
        let d = &s.drains;
        assert_eq!(d.len(), 2);
        assert_eq!(d["10.0.0.1"].reason, "a & b");
        assert_eq!(d["10.0.0.1"].by, "root@lb1");
        assert_eq!(d["10.0.0.2"].reason, "");
        let c = s.overrides.cluster.as_ref().unwrap();
        assert_eq!((c.state, c.record.reason.as_str()), (Override::Down, "r"));
        assert_eq!(s.overrides.nodes["10.0.0.2"].weight, 40);
        assert_eq!(s.overrides.nodes["10.0.0.2"].record.by, "bob@lb2");
        assert!(s.bad.is_empty());
        assert_eq!(s.pairs["override"].0, "x4", "ids kept for updates");
        assert_eq!(s.value("other"), None, "not ours");
        assert_eq!(
            parse_set(xml, "big_brother-shop").unwrap(),
            CibSet::default()
        );
        let mut many = String::from("<cluster_property_set id=\"s\">");
        for i in 0..=MAX_DRAINS {
            many.push_str(&format!(
                "<nvpair id=\"i{i}\" name=\"drain-n{i}\" value=\"\"/>"
            ));
        }
        many.push_str("</cluster_property_set>");
        assert_eq!(
            parse_set(many.as_bytes(), "s"),
            Err(ParseError::TooMany("drains"))
        );
        let many = many.replace("drain-", "override-");
        assert_eq!(
            parse_set(many.as_bytes(), "s"),
            Err(ParseError::TooMany("node overrides"))
        );
        assert!(parse_set(b"<cluster_property_set id=\"s\"><nvpair", "s").is_err());
    }

    #[test]
    fn a_bad_override_fails_the_checked_read_only() {
        let xml = br#"<cluster_property_set id="s">
  <nvpair id="x1" name="drain-10.0.0.1" value=""/>
  <nvpair id="x2" name="override-10.0.0.1" value="lots"/>
</cluster_property_set>"#;
        let s = parse_set(xml, "s").unwrap();
        assert_eq!(s.drains.len(), 1, "the drains are still read");
        assert_eq!(s.bad.len(), 1);
        let e = s.checked("web").unwrap_err();
        assert!(matches!(e, CibError::BadOverride { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "the CIB set big_brother-web has override-10.0.0.1 = \"lots\": expected a weight \
             0–65535, then `at=… by=… reason=…`"
        );
    }
}
