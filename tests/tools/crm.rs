//! The CIB face against the real Pacemaker tools: `cibadmin`, `crm_verify`, `crm_diff`,
//! `crm_resource`, `crm_mon`, `crm_simulate` and crmsh's `crm`. Every test works on its own
//! file-backed CIB (`CIB_file=` in a temp dir, set on every command), never on a live cluster.
//!
//! Helpers live here; the tests are in `crm/*.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::util::{self, require_tool, Run};

mod apply;
mod generate;
mod hostile;
mod random;
mod remove;
mod warm;

/// A scratch CIB file, empty except `stonith-enabled=false` (so `crm_verify` judges our
/// resources, not the missing fencing), plus a place for spec files.
pub struct FileCib {
    pub dir: TempDir,
    pub path: PathBuf,
}

impl FileCib {
    pub fn new() -> FileCib {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cib.xml");
        let empty = util::run(Command::new(require_tool("cibadmin")).arg("--empty"));
        empty.expect_code(0);
        std::fs::write(&path, empty.out.stdout.clone()).unwrap();
        let cib = FileCib { dir, path };
        cib.tool(
            "crm_attribute",
            &[
                "--type",
                "crm_config",
                "--name",
                "stonith-enabled",
                "--update",
                "false",
            ],
        )
        .expect_code(0);
        cib
    }

    /// A Pacemaker (or crmsh) tool acting on this CIB file.
    pub fn cmd(&self, tool: &str) -> Command {
        let mut c = Command::new(require_tool(tool));
        c.env("CIB_file", &self.path);
        c
    }

    pub fn tool(&self, tool: &str, args: &[&str]) -> Run {
        util::run(self.cmd(tool).args(args))
    }

    pub fn tool_stdin(&self, tool: &str, args: &[&str], input: &str) -> Run {
        util::run_with_stdin(self.cmd(tool).args(args), input)
    }

    /// Creates an empty property set with `id` in `crm_config`: an id a write of ours needs,
    /// taken, so the CIB's schema check refuses that write.
    pub fn take_id(&self, id: &str) {
        self.tool(
            "cibadmin",
            &[
                "--create",
                "--scope",
                "crm_config",
                "--xml-text",
                &format!("<cluster_property_set id=\"{id}\"/>"),
            ],
        )
        .expect_code(0);
    }

    /// `big_brother ARGS` on this CIB file.
    pub fn bb(&self, args: &[&str]) -> Run {
        util::bb_env(args, &[("CIB_file", &self.path)])
    }

    /// Writes a spec file into the scratch dir; returns its path as a string.
    pub fn spec(&self, file: &str, text: &str) -> String {
        util::write(self.dir.path(), file, text)
            .to_str()
            .unwrap()
            .to_string()
    }

    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap()
    }

    /// Saves a copy of the CIB file under `name` (for `crm_diff`).
    pub fn snapshot(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::copy(&self.path, &p).unwrap();
        p
    }

    /// `crm_verify --xml-file` must accept the whole CIB.
    pub fn verify(&self) {
        let r = util::run(
            Command::new(require_tool("crm_verify"))
                .arg("--xml-file")
                .arg(&self.path),
        );
        r.expect_code(0);
    }

    /// True when any element in the CIB has this id.
    pub fn has_id(&self, id: &str) -> bool {
        let r = self.tool(
            "cibadmin",
            &["--query", "--xpath", &format!("//*[@id='{id}']")],
        );
        match r.code() {
            0 => true,
            105 => false,
            _ => panic!("unexpected: {}", r.stderr()),
        }
    }

    /// The `<configuration>` section as text.
    pub fn configuration(&self) -> String {
        let r = self.tool("cibadmin", &["--query", "--scope", "configuration"]);
        r.expect_code(0);
        r.stdout()
    }
}

/// A valid spec: a fwmark service with the given VIPs (`address` or `address/mask@nic`).
pub fn spec_text(name: &str, fwmark: u32, vips: &[&str]) -> String {
    let mut t = format!("name = \"{name}\"\ndescription = \"Cluster {name}\"\nfwmark = {fwmark}\n");
    let mut v6 = false;
    for v in vips {
        let (addr_mask, nic) = match v.split_once('@') {
            Some((a, n)) => (a, Some(n)),
            None => (*v, None),
        };
        let (addr, mask) = match addr_mask.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (addr_mask, None),
        };
        v6 |= addr.contains(':');
        t.push_str(&format!("\n[[vip]]\naddress = \"{addr}\"\n"));
        if let Some(n) = nic {
            t.push_str(&format!("nic = \"{n}\"\n"));
        }
        if let Some(m) = mask {
            t.push_str(&format!("cidr_netmask = {m}\n"));
        }
    }
    let node = if v6 {
        "2001:db8:ffff::1"
    } else {
        "198.51.100.1"
    };
    t.push_str(&format!("\n[[node]]\naddress = \"{node}\"\nport = 80\n"));
    t
}

/// The example every README shows.
pub fn webapp() -> String {
    path_str(&util::repo().join("crm/examples/webapp.toml")).to_string()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
