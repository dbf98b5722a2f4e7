//! The crm face's only code that runs Pacemaker's tools (the cluster-wide drains have their own,
//! smaller runner in `state::cib_drain`): `cibadmin` (read and write the CIB), `crm_diff`
//! (turn an edited copy into a patch), `crm_resource` (set `target-role`) and `crm_mon` (what
//! runs where). The environment is inherited, so `CIB_file=/path/cib.xml` makes every call act
//! on a file instead of the live cluster — which is how the tests run.
//!
//! Tools are looked up on `PATH`, then in `/usr/sbin` and `/sbin` (Puppet's `exec` and cron have
//! a short `PATH`). Documents are passed on stdin (`--xml-pipe`), never in argv: a group with
//! many VIPs can exceed the kernel's 128 KiB limit for one argument.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::error::CrmError;
use super::xml::{self, Element};

/// Pacemaker tools this module runs.
pub const CIBADMIN: &str = "cibadmin";
pub const CRM_DIFF: &str = "crm_diff";
pub const CRM_RESOURCE: &str = "crm_resource";
pub const CRM_MON: &str = "crm_mon";

/// Finds `tool` on `PATH` or in the sbin directories.
pub fn find_tool(tool: &'static str) -> Result<PathBuf, CrmError> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .ok_or(CrmError::ToolMissing { tool })
}

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
    let mut child = Command::new(&path)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| CrmError::Spawn { tool, source })?;
    // Feed stdin from a thread so a tool that writes before it has read everything cannot
    // deadlock against us.
    let out = std::thread::scope(|s| {
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            s.spawn(move || {
                // A tool that exits early closes the pipe; its exit status tells the story.
                let _ = pipe.write_all(text.as_bytes());
            });
        }
        child.wait_with_output()
    })
    .map_err(|source| CrmError::Spawn { tool, source })?;
    let code = out.status.code();
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
