//! The supervisor core end to end: the real binary started as Pacemaker would (`start`, dry-run
//! backend), litmus_paper look-alikes on loopback whose health and forcing change, and the
//! operator commands `status`, `drain`, `undrain`. Weights must follow health, a forced-down
//! reason must show, drains must survive a crash-restart and a reload, a restart must adopt the
//! weights it finds instead of re-ramping from 0, and recoveries must ramp.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use big_brother::health::serve::{Forced, LitmusServer};

use crate::ocf_support::{is_supervisor, signal, wait_for};
use crate::util::{bin, run, Run};

struct Lb {
    dir: tempfile::TempDir,
    name: String,
    config: PathBuf,
    servers: Vec<LitmusServer>,
}

impl Lb {
    /// Node i is 127.0.2.(i+1), answering like litmus_paper with `healths[i]`.
    fn new(name: &str, healths: &[f64]) -> Lb {
        let dir = tempfile::tempdir().unwrap();
        let servers = healths
            .iter()
            .enumerate()
            .map(|(i, &h)| {
                let ip = format!("127.0.2.{}:0", i + 1);
                LitmusServer::start(ip.parse().unwrap(), name, h).unwrap()
            })
            .collect();
        let config = dir.path().join(format!("{name}.toml"));
        let lb = Lb {
            dir,
            name: name.into(),
            config,
            servers,
        };
        lb.write_spec("1s");
        lb
    }

    fn write_spec(&self, ramp_up_time: &str) {
        let mut s = format!(
            "name = \"{}\"\nfwmark = 41\ncheck_interval = \"500ms\"\nramp_up_time = \"{ramp_up_time}\"\n\
             [[vip]]\naddress = \"192.0.2.41\"\n",
            self.name
        );
        for srv in &self.servers {
            s.push_str(&format!(
                "[[node]]\naddress = \"{}\"\nport = {}\npath = \"/{}/status\"\n",
                srv.addr().ip(),
                srv.addr().port(),
                self.name
            ));
        }
        std::fs::write(&self.config, s).unwrap();
    }

    fn id(&self, i: usize) -> String {
        self.servers[i].addr().ip().to_string()
    }

    fn rsctmp(&self) -> PathBuf {
        self.dir.path().join("rsctmp")
    }

    fn state_dir(&self) -> PathBuf {
        self.rsctmp().join("big_brother").join(&self.name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args).env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        let env = [
            ("OCF_ROOT", "/usr/lib/ocf".to_string()),
            ("OCF_RESKEY_cluster", self.name.clone()),
            ("OCF_RESKEY_config", self.config.display().to_string()),
            ("OCF_RESKEY_dry_run", "true".into()),
            ("OCF_RESKEY_CRM_meta_timeout", "20000".into()),
            ("OCF_RESKEY_CRM_meta_interval", "61000".into()),
            ("HA_RSCTMP", self.rsctmp().display().to_string()),
            (
                "HA_LOGFILE",
                self.dir.path().join("ha.log").display().to_string(),
            ),
            ("HA_LOGFACILITY", "none".into()),
            (
                "BIG_BROTHER_DATA_DIR",
                self.dir.path().join("data").display().to_string(),
            ),
        ];
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// An OCF action, as Pacemaker runs it.
    fn agent(&self, action: &str) -> Run {
        let mut cmd = self.command(&[action]);
        cmd.env("OCF_RESOURCE_INSTANCE", format!("ipvs_{}", self.name));
        run(&mut cmd)
    }

    /// An operator command.
    fn bb(&self, args: &[&str]) -> Run {
        run(&mut self.command(args))
    }

    fn drain(&self, verb: &str, i: usize) {
        let config = self.config.display().to_string();
        self.bb(&[verb, &self.name, &self.id(i), "--config", &config])
            .expect_code(0);
    }

    /// Weights in the dry-run "kernel", in node order (0 for a missing destination).
    fn weights(&self) -> Vec<u64> {
        let text =
            std::fs::read_to_string(self.state_dir().join("dryrun-ipvs.json")).unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let dests = v["services"][0]["dests"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (0..self.servers.len())
            .map(|i| {
                dests
                    .iter()
                    .find(|d| d["address"] == self.id(i).as_str())
                    .and_then(|d| d["weight"].as_u64())
                    .unwrap_or(0)
            })
            .collect()
    }

    fn wait_weights(&self, what: &str, f: impl Fn(&[u64]) -> bool) {
        wait_for(what, Duration::from_secs(15), || f(&self.weights()));
    }

    fn status_json(&self) -> Value {
        let r = self.bb(&["status", &self.name, "--json"]);
        serde_json::from_str(&r.stdout()).unwrap_or_else(|e| panic!("{e}: {}", r.stdout()))
    }

    fn pid(&self) -> i32 {
        std::fs::read_to_string(self.state_dir().join("lock"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for Lb {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(self.state_dir().join("lock"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            if is_supervisor(pid) {
                signal(pid, libc::SIGKILL);
            }
        }
    }
}

#[test]
fn weights_follow_health_drains_persist_restarts_adopt() {
    let lb = Lb::new("core1", &[80.0, 60.0, 100.0]);
    lb.agent("start").expect_code(0);
    lb.wait_weights("weights = health after the 1 s ramp", |w| {
        w == [80, 60, 100]
    });

    // Health changes; a forced down shows with its reason.
    lb.servers[1].set_measured(30.0);
    lb.servers[0].force(Some(Forced::Down("apt upgrades".into())));
    lb.wait_weights("weights to follow", |w| w == [0, 30, 100]);
    let r = lb.bb(&["status", "core1"]);
    r.expect_code(0);
    let out = r.stdout();
    let row = |id: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row for {id}:\n{out}"))
            .to_string()
    };
    let r0 = row(&lb.id(0));
    assert!(
        r0.contains("forced_down") && r0.contains("forced: apt upgrades"),
        "{out}"
    );
    assert!(row(&lb.id(1)).contains(" 30 "), "{out}");
    assert!(out.starts_with("core1: running (pid "), "{out}");

    // Drain the healthiest node: weight 0, shown as drained (not failed).
    lb.drain("drain", 2);
    lb.wait_weights("the drain", |w| w == [0, 30, 0]);
    let st = lb.status_json();
    assert_eq!(st["state"], "running");
    assert_eq!(st["drained"], serde_json::json!([lb.id(2)]));
    assert_eq!(st["status"]["nodes"][2]["state"], "drained");
    assert_eq!(st["status"]["nodes"][0]["state"], "forced_down");

    // Crash, then restart with a long ramp: the surviving weights are adopted (a restart that
    // re-ramped from 0 would show ~1 here), the drain and the forced down still hold.
    lb.servers[1].set_measured(90.0);
    lb.wait_weights("node 1 at 90", |w| w == [0, 90, 0]);
    signal(lb.pid(), libc::SIGKILL);
    wait_for(
        "the crashed supervisor's lock",
        Duration::from_secs(5),
        || lb.bb(&["status", "core1"]).code() == 7,
    );
    lb.write_spec("120s");
    lb.agent("start").expect_code(0);
    assert_eq!(lb.weights(), [0, 90, 0], "adopted, not re-ramped");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(lb.weights(), [0, 90, 0]);

    // A reload keeps the drain too.
    lb.agent("reload-agent").expect_code(0);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(lb.weights(), [0, 90, 0]);
    assert_eq!(lb.status_json()["status"]["reload"]["generation"], 1);

    // Back from 0 — undrained, force lifted — both ramp (120 s ramp: still small).
    lb.drain("undrain", 2);
    lb.servers[0].force(None);
    lb.wait_weights("both to start ramping", |w| w[0] > 0 && w[2] > 0);
    let w = lb.weights();
    assert!(w[0] < 20 && w[2] < 20, "recoveries must ramp, got {w:?}");
    assert_eq!(w[1], 90);
    lb.agent("stop").expect_code(0);
    let r = lb.bb(&["status", "core1"]);
    r.expect_code(7);
    assert!(r.stdout().starts_with("core1: stopped"), "{}", r.stdout());
}

#[test]
fn status_without_supervisors() {
    let lb = Lb::new("core2", &[50.0]);
    let r = lb.bb(&["status"]);
    r.expect_code(7);
    assert!(
        r.stdout().contains("no clusters supervised"),
        "{}",
        r.stdout()
    );
    assert_eq!(lb.bb(&["status", "--json"]).stdout().trim(), "[]");
    // A drain is visible before any supervisor runs.
    lb.drain("drain", 0);
    let r = lb.bb(&["status", "core2"]);
    r.expect_code(7);
    assert!(
        r.stdout().contains(&format!("drained: {}", lb.id(0))),
        "{}",
        r.stdout()
    );
}
