//! The crm face's only code that runs Pacemaker's tools (through `crate::tool`, which the
//! cluster-wide drains in `state::cib_drain` share): `cibadmin` (read and write the CIB), `crm_diff`
//! (turn an edited copy into a patch), `crm_resource` (set `target-role`) and `crm_mon` (what
//! runs where). The environment is inherited, so `CIB_file=/path/cib.xml` makes every call act
//! on a file instead of the live cluster — which is how the tests run.
//!
//! Tools are looked up on `PATH`, then in `/usr/sbin` and `/sbin` (Puppet's `exec` and cron have
//! a short `PATH`). Documents are passed on stdin (`--xml-pipe`), never in argv: a group with
//! many VIPs can exceed the kernel's 128 KiB limit for one argument.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::tool::RunError;

use super::error::CrmError;
use super::xml::{self, Element};

/// Pacemaker tools this module runs.
pub const CIBADMIN: &str = "cibadmin";
pub const CRM_DIFF: &str = "crm_diff";
pub const CRM_RESOURCE: &str = "crm_resource";
pub const CRM_MON: &str = "crm_mon";

/// Finds `tool` on `PATH` or in the sbin directories.
pub fn find_tool(tool: &'static str) -> Result<PathBuf, CrmError> {
    crate::tool::find(tool).ok_or(CrmError::ToolMissing { tool })
}

/// How long one tool may run: far more than any takes (a `cibadmin --patch` waits for the CIB
/// manager, `crm_mon` for the cluster), so only a hung one is stopped.
const TOOL_TIME: Duration = Duration::from_secs(120);
/// The most output read from a tool: a whole CIB with its status section is a few MiB.
const TOOL_OUTPUT: usize = 64 << 20;
/// The most of a tool's stderr kept for its error message.
const TOOL_STDERR: usize = 64 << 10;

/// What a finished tool printed.
struct Ran {
    code: Option<i32>,
    stdout: String,
}

/// Runs `tool args…` with `stdin` piped in; `ok` lists the exit codes that are not failures.
fn run(
    tool: &'static str,
    args: &[&str],
    stdin: Option<&str>,
    ok: &[i32],
) -> Result<Ran, CrmError> {
    let path = find_tool(tool)?;
    let argv = format!("{tool} {}", args.join(" "));
    let limits = crate::tool::Limits {
        time: TOOL_TIME,
        stdout: TOOL_OUTPUT,
        stderr: TOOL_STDERR,
    };
    let out = crate::tool::run(&path, args, stdin, limits).map_err(|e| {
        let source = match e {
            RunError::Spawn(e) => e,
            RunError::Timeout => io::Error::new(
                io::ErrorKind::TimedOut,
                format!("`{argv}` still ran after {} s; killed", TOOL_TIME.as_secs()),
            ),
            RunError::TooBig => io::Error::new(
                io::ErrorKind::InvalidData,
                format!("`{argv}` printed more than {} MiB", TOOL_OUTPUT >> 20),
            ),
        };
        CrmError::Spawn { tool, source }
    })?;
    let code = out.code;
    if !code.is_some_and(|c| ok.contains(&c)) {
        return Err(CrmError::ToolFailed {
            argv,
            code,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(Ran {
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    })
}

fn parse(argv: &str, text: &str) -> Result<Element, CrmError> {
    xml::parse(text).map_err(|source| CrmError::BadXml {
        argv: argv.to_string(),
        source,
    })
}

/// `cibadmin --query --scope resources`: the live `<resources>` section.
pub fn query_resources() -> Result<Element, CrmError> {
    let args = ["--query", "--scope", "resources"];
    let ran = run(CIBADMIN, &args, None, &[0])?;
    parse("cibadmin --query --scope resources", &ran.stdout)
}

/// `cibadmin --query --scope configuration`: resources and constraints, without `<status>`.
pub fn query_configuration() -> Result<Element, CrmError> {
    let args = ["--query", "--scope", "configuration"];
    let ran = run(CIBADMIN, &args, None, &[0])?;
    parse("cibadmin --query --scope configuration", &ran.stdout)
}

/// `cibadmin --query`: the whole CIB (`<cib>` with configuration and status).
pub fn query_cib() -> Result<Element, CrmError> {
    let ran = run(CIBADMIN, &["--query"], None, &[0])?;
    parse("cibadmin --query", &ran.stdout)
}

/// `cibadmin --create --scope resources`: adds a new group. Returns the command for messages.
pub fn create(group: &Element) -> Result<String, CrmError> {
    let args = ["--create", "--scope", "resources", "--xml-pipe"];
    run(CIBADMIN, &args, Some(&group.to_pretty()), &[0])?;
    Ok(format!("{CIBADMIN} {}", args.join(" ")))
}

/// `cibadmin --replace --xpath …`: swaps one group in a single CIB transaction.
pub fn replace_group(group_id: &str, group: &Element) -> Result<String, CrmError> {
    let xpath = group_xpath(group_id);
    let args = ["--replace", "--xpath", xpath.as_str(), "--xml-pipe"];
    run(CIBADMIN, &args, Some(&group.to_pretty()), &[0])?;
    Ok(format!(
        "{CIBADMIN} --replace --xpath \"{xpath}\" --xml-pipe"
    ))
}

/// XPath of a group below `<resources>` (also inside a clone). Cluster names cannot contain
/// quotes, so the id needs no escaping.
pub fn group_xpath(group_id: &str) -> String {
    format!("/cib/configuration/resources//group[@id='{group_id}']")
}

/// Writes `new` over `old` as one `cibadmin --patch`: `crm_diff` computes the change set between
/// the two (both printed here, without `<status>`, so only real edits differ) and the CIB applies
/// it atomically. Used when a group change must also delete constraints.
pub fn patch(old: &Element, new: &Element) -> Result<String, CrmError> {
    let dir = tempfile::tempdir().map_err(CrmError::Temp)?;
    let old_path = dir.path().join("old.xml");
    let new_path = dir.path().join("new.xml");
    std::fs::write(&old_path, without_status(old).to_pretty()).map_err(CrmError::Temp)?;
    std::fs::write(&new_path, without_status(new).to_pretty()).map_err(CrmError::Temp)?;
    let (o, n) = (
        old_path.display().to_string(),
        new_path.display().to_string(),
    );
    // crm_diff exits 1 when the documents differ: that is the normal case here.
    let diff = run(
        CRM_DIFF,
        &["--no-version", "--original", &o, "--new", &n],
        None,
        &[0, 1],
    )?;
    if diff.code == Some(0) {
        return Ok("nothing (crm_diff found no change)".to_string());
    }
    let args = ["--patch", "--xml-pipe"];
    run(CIBADMIN, &args, Some(&diff.stdout), &[0])?;
    Ok(format!(
        "{CRM_DIFF} --no-version | {CIBADMIN} --patch --xml-pipe"
    ))
}

fn without_status(cib: &Element) -> Element {
    let mut c = cib.clone();
    c.children
        .retain(|n| !matches!(n, xml::Node::Element(e) if e.name == "status"));
    c
}

/// `crm_resource --resource ID --meta --set-parameter target-role --parameter-value Stopped`.
/// Without `--force`, crm_resource also sets it on members that carry their own `target-role`,
/// which would otherwise keep them running.
pub fn stop(resource: &str) -> Result<String, CrmError> {
    let args = [
        "--resource",
        resource,
        "--meta",
        "--set-parameter",
        "target-role",
        "--parameter-value",
        "Stopped",
    ];
    run(CRM_RESOURCE, &args, None, &[0])?;
    Ok(format!("{CRM_RESOURCE} {}", args.join(" ")))
}

/// `crm_mon --one-shot --output-as=xml`: the cluster status as Pacemaker sees it.
pub fn status() -> Result<Element, CrmError> {
    let args = ["--one-shot", "--output-as=xml"];
    let ran = run(CRM_MON, &args, None, &[0])?;
    parse("crm_mon --one-shot --output-as=xml", &ran.stdout)
}
