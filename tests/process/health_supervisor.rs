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
use big_brother::supervisor::checker::FAULT_ENV;

use crate::ocf_support::{is_supervisor, signal, wait_for};
use crate::util::{bin, run, Run};

/// Shared with the operator-state tests (`super::operator_state`).
pub(crate) struct Lb {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) name: String,
    pub(crate) config: PathBuf,
    pub(crate) servers: Vec<LitmusServer>,
    /// Top-level spec keys added to every spec written (`panic_threshold = 50`…).
    pub(crate) extra: std::cell::RefCell<String>,
}

impl Lb {
    /// Node i is 127.0.2.(i+1), answering like litmus_paper with `healths[i]`.
    pub(crate) fn new(name: &str, healths: &[f64]) -> Lb {
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
            extra: Default::default(),
        };
        lb.write_spec("1s");
        lb
    }

    pub(crate) fn write_spec(&self, ramp_up_time: &str) {
        self.write_spec_every("500ms", ramp_up_time);
    }

    /// The spec with its own `check_interval`.
    pub(crate) fn write_spec_every(&self, check_interval: &str, ramp_up_time: &str) {
        let mut s = format!(
            "name = \"{}\"\nfwmark = 41\ncheck_interval = \"{check_interval}\"\nramp_up_time = \"{ramp_up_time}\"\n{}\n\
             [[vip]]\naddress = \"192.0.2.41\"\n",
            self.name,
            self.extra.borrow()
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

    pub(crate) fn id(&self, i: usize) -> String {
        self.servers[i].addr().ip().to_string()
    }

    pub(crate) fn rsctmp(&self) -> PathBuf {
        self.dir.path().join("rsctmp")
    }

    pub(crate) fn state_dir(&self) -> PathBuf {
        self.rsctmp().join("big_brother").join(&self.name)
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
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
    pub(crate) fn agent(&self, action: &str) -> Run {
        self.agent_env(action, &[])
    }

    /// The same with more environment (the supervisor `start` launches inherits it).
    pub(crate) fn agent_env(&self, action: &str, env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(&[action]);
        cmd.env("OCF_RESOURCE_INSTANCE", format!("ipvs_{}", self.name));
        cmd.envs(env.iter().copied());
        run(&mut cmd)
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ha.log")).unwrap_or_default()
    }

    /// `status.json` as the supervisor wrote it (read directly: no process per poll).
    pub(crate) fn status_file(&self) -> Value {
        crate::util::merged_status(&self.state_dir()).unwrap_or(Value::Null)
    }

    /// An operator command.
    pub(crate) fn bb(&self, args: &[&str]) -> Run {
        run(&mut self.command(args))
    }

    pub(crate) fn drain(&self, verb: &str, i: usize) {
        let config = self.config.display().to_string();
        self.bb(&[verb, &self.name, &self.id(i), "--config", &config])
            .expect_code(0);
    }

    /// Weights in the dry-run "kernel", in node order (0 for a missing destination).
    pub(crate) fn weights(&self) -> Vec<u64> {
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

    /// Waits until the weights in the table satisfy `f` and `status.json` agrees with them
    /// (the supervisor writes the table, then the status file: reading only the first could
    /// see a status one tick old).
    pub(crate) fn wait_weights(&self, what: &str, f: impl Fn(&[u64]) -> bool) {
        wait_for(what, Duration::from_secs(15), || {
            let w = self.weights();
            f(&w) && self.status_weights() == w
        });
    }

    /// The weights `status.json` says were applied, in node order.
    pub(crate) fn status_weights(&self) -> Vec<u64> {
        let st = self.status_file();
        (0..self.servers.len())
            .map(|i| st["nodes"][i]["weight"].as_u64().unwrap_or(u64::MAX))
            .collect()
    }

    pub(crate) fn status_json(&self) -> Value {
        let r = self.bb(&["status", &self.name, "--json"]);
        serde_json::from_str(&r.stdout()).unwrap_or_else(|e| panic!("{e}: {}", r.stdout()))
    }

    pub(crate) fn pid(&self) -> i32 {
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
fn start_at_a_long_interval_checks_every_node_within_seconds() {
    // A 30 s interval: the first round still comes within 2 s, so `start` returns with every
    // node checked and weighted in seconds. Before, its first checks were spread over the whole
    // interval and `start` waited for them up to half its timeout (10 s here), then started
    // with most nodes at 0 and "not checked yet".
    let lb = Lb::new("core_long", &[80.0, 60.0, 100.0, 40.0, 90.0, 70.0]);
    lb.write_spec_every("30s", "1ms");
    let t0 = std::time::Instant::now();
    lb.agent("start").expect_code(0);
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(8), "start took {took:?}");
    // Ready with every node's health in the table (the ramp is 1 ms; at most a tick to finish).
    lb.wait_weights("every node at its health", |w| {
        w == [80, 60, 100, 40, 90, 70]
    });
    assert!(!lb.log().contains("not checked yet"), "{}", lb.log());
    lb.agent("stop").expect_code(0);
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

/// Issue 12, item 1: litmus answers whose chunk size is 2^64 - 1 panicked the node's checker
/// thread; the supervisor carried on without it and the node stayed at weight 100, its check
/// counter frozen, while `monitor` said 0. Now it is a failed check like any bad answer: the
/// node goes to 0, its checks go on, and it comes back when its answers do.
#[test]
fn a_malformed_chunked_answer_takes_a_serving_node_to_zero() {
    let lb = Lb::new("core3", &[100.0, 100.0]);
    lb.agent("start").expect_code(0);
    lb.wait_weights("both nodes at 100", |w| w == [100, 100]);
    lb.servers[0].set_raw(Some(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          1\r\nH\r\nffffffffffffffff\r\nYY\r\n0\r\n\r\n"
            .to_vec(),
    ));
    lb.wait_weights("node 0 to go to 0", |w| w == [0, 100]);
    let node0 = |st: &Value| st["nodes"][0].clone();
    let n0 = node0(&lb.status_file());
    assert_eq!(n0["state"], "down", "{n0}");
    assert_eq!(
        n0["last_error"], "response body larger than 65536 bytes",
        "{n0}"
    );
    let checks = n0["checks"].as_u64().unwrap();
    wait_for("node 0's checks to go on", Duration::from_secs(15), || {
        node0(&lb.status_file())["checks"].as_u64() >= Some(checks + 2)
    });
    // The second answer of the issue: two body bytes, then 2^64 - 2.
    lb.servers[0].set_raw(Some(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          2\r\nHe\r\nfffffffffffffffe\r\nYY\r\n0\r\n\r\n"
            .to_vec(),
    ));
    let checks = node0(&lb.status_file())["checks"].as_u64().unwrap();
    wait_for("two more checks of node 0", Duration::from_secs(15), || {
        node0(&lb.status_file())["checks"].as_u64() >= Some(checks + 2)
    });
    let st = lb.status_file();
    assert_eq!(st["checkers"]["restarts"], 0, "nothing died: {st}");
    assert_eq!(lb.weights(), [0, 100]);
    lb.agent("monitor").expect_code(0);
    lb.servers[0].set_raw(None);
    lb.wait_weights("node 0 to serve again", |w| w[0] > 0 && w[1] == 100);
    lb.agent("stop").expect_code(0);
}

/// A checker thread that dies (here by the test fault knob, at its third check) is restarted by
/// the controller and counted, in `status.json`, `big_brother status` and the log; the node
/// keeps following its health and `monitor` stays 0.
#[test]
fn a_checker_thread_that_dies_is_restarted_and_counted() {
    let lb = Lb::new("core4", &[80.0, 60.0]);
    let fault = format!("die@{}#3", lb.servers[0].addr());
    lb.agent_env("start", &[(FAULT_ENV, &fault)]).expect_code(0);
    wait_for("one restart", Duration::from_secs(10), || {
        lb.status_file()["checkers"]["restarts"] == 1
    });
    lb.servers[0].set_measured(40.0);
    lb.wait_weights("weights to follow health", |w| w == [40, 60]);
    let st = lb.status_file();
    assert_eq!(
        st["checkers"]["restarted"],
        serde_json::json!({ lb.id(0): 1 }),
        "{st}"
    );
    assert_eq!(st["checkers"]["error"], Value::Null);
    let out = lb.bb(&["status", "core4"]).stdout();
    assert!(
        out.contains(&format!("checker restarts: 1 ({} ×1;", lb.id(0))),
        "{out}"
    );
    let want = format!(
        "node {}: its checker thread had stopped (fault knob: checker thread of {} dies); restarted",
        lb.id(0),
        lb.servers[0].addr()
    );
    assert!(lb.log().contains(&want), "{}", lb.log());
    lb.agent("monitor").expect_code(0);
    lb.agent("stop").expect_code(0);
}

/// Issue 12: a checker stuck in a way nobody foresaw must not keep traffic flowing to its node.
/// The fault knob makes node 0's checker hang from its fourth check on, replacements included:
/// the node goes from 100 to 0 once it has had no result for `stale_after` (3 s here), its
/// checker is replaced once, and when the replacement is stuck too the supervisor reports that
/// it cannot keep its checkers running, so `monitor` fails and Pacemaker recovers.
#[test]
fn a_stuck_checker_cannot_freeze_a_weight() {
    let lb = Lb::new("core5", &[100.0, 100.0]);
    let fault = format!("hang@{}#4", lb.servers[0].addr());
    lb.agent_env("start", &[(FAULT_ENV, &fault)]).expect_code(0);
    lb.wait_weights("both nodes at 100", |w| w == [100, 100]);
    lb.wait_weights("node 0 to go to 0 without results", |w| w == [0, 100]);
    let log = lb.log();
    let line = log
        .lines()
        .find(|l| l.contains(&format!("node {}: no check result for ", lb.id(0))))
        .unwrap_or_else(|| panic!("no staleness line in the log:\n{log}"));
    assert!(
        line.ends_with(
            " s (its checker stopped reporting); counted as failed until results come again"
        ),
        "{line}"
    );
    wait_for("the replacement's verdict", Duration::from_secs(10), || {
        lb.status_file()["checkers"]["error"].is_string()
    });
    let st = lb.status_file();
    assert_eq!(st["checkers"]["restarts"], 1, "replaced once: {st}");
    let n0 = &st["nodes"][0];
    assert_eq!(
        (n0["weight"].as_u64(), n0["state"].as_str()),
        (Some(0), Some("down")),
        "{n0}"
    );
    assert!(
        n0["last_error"]
            .as_str()
            .unwrap()
            .starts_with("no check result for "),
        "{n0}"
    );
    let error = format!(
        "the checker of {} is stuck, and so was the one that replaced it",
        lb.servers[0].addr()
    );
    assert_eq!(st["checkers"]["error"], error.as_str());
    let m = lb.agent("monitor");
    m.expect_code(1);
    assert!(
        m.stderr()
            .contains(&format!("cannot keep its health checkers running: {error}")),
        "{}",
        m.stderr()
    );
    let out = lb.bb(&["status", "core5"]).stdout();
    assert!(out.contains(&format!("checker error: {error}")), "{out}");
    assert_eq!(
        lb.weights(),
        [0, 100],
        "still no traffic to the silent node"
    );
    // A stop is not held up by the stuck threads.
    lb.agent("stop").expect_code(0);
}

/// When a dead checker cannot be started again the supervisor says so persistently: `monitor`
/// fails (Pacemaker recovers the resource) and the node, silent, goes to 0.
#[test]
fn a_checker_that_cannot_be_restarted_fails_monitor() {
    let lb = Lb::new("core6", &[100.0, 100.0]);
    let fault = format!("nospawn@{}#3", lb.servers[0].addr());
    lb.agent_env("start", &[(FAULT_ENV, &fault)]).expect_code(0);
    wait_for("the checker error", Duration::from_secs(10), || {
        lb.status_file()["checkers"]["error"].is_string()
    });
    let m = lb.agent("monitor");
    m.expect_code(1);
    let want = format!(
        "cannot keep its health checkers running: cannot start the checker of {}: fault knob: thread start refused",
        lb.servers[0].addr()
    );
    assert!(m.stderr().contains(&want), "{}", m.stderr());
    lb.wait_weights("the silent node to go to 0", |w| w == [0, 100]);
    assert_eq!(lb.status_file()["checkers"]["restarts"], 0);
    lb.agent("stop").expect_code(0);
}

/// Issue 12, item 6 (health part): peer text with bidi overrides, line separators, zero-width
/// characters, a BOM or terminal escapes reaches neither `status`, `status.json` nor the log.
#[test]
fn hostile_text_in_answers_is_cleaned_everywhere() {
    let lb = Lb::new("core7", &[100.0, 100.0]);
    lb.agent("start").expect_code(0);
    let hostile = [
        '\u{202e}', '\u{2028}', '\u{2029}', '\u{200b}', '\u{feff}', '\u{2066}', '\x1b', '\x07',
        '\u{85}',
    ];
    lb.servers[0].force(Some(Forced::Down(
        "apt \u{202e}sedargpu\u{202c}\u{2028}forged line\u{200b}\u{feff}\x1b[31m red\x07".into(),
    )));
    lb.servers[1].set_raw(Some(
        "HTTP/1.1 302 Found\r\nLocation: http://192.0.2.9/\u{202e}gnp.evil\u{2029}x\r\nContent-Length: 0\r\n\r\n"
            .as_bytes()
            .to_vec(),
    ));
    lb.wait_weights("both nodes down", |w| w == [0, 0]);
    let st = lb.status_file();
    assert_eq!(
        st["nodes"][0]["forced_reason"], "apt sedargpu forged line [31m red",
        "{st}"
    );
    assert_eq!(
        st["nodes"][1]["last_error"],
        "redirect (HTTP 302) to \"http://192.0.2.9/gnp.evil x\" not followed",
        "{st}"
    );
    let text = lb.bb(&["status", "core7"]).stdout();
    let json = std::fs::read_to_string(lb.state_dir().join("status.json")).unwrap();
    let api_json = lb.bb(&["status", "core7", "--json"]).stdout();
    for (what, out) in [
        ("status", &text),
        ("status.json", &json),
        ("status --json", &api_json),
        ("log", &lb.log()),
    ] {
        for ch in hostile {
            assert!(
                !out.contains(ch),
                "{what} holds U+{:04X}:\n{out}",
                u32::from(ch)
            );
        }
    }
    assert!(
        text.contains("forced: apt sedargpu forged line [31m red"),
        "{text}"
    );
    lb.agent("stop").expect_code(0);
}

/// Issue 17: the service options and node thresholds reach the (dry-run) kernel table and the
/// status (text and JSON), and a reload changes them in place: same service, nodes kept.
#[test]
fn service_options_and_thresholds_are_programmed_shown_and_reloaded_in_place() {
    let lb = Lb::new("core3", &[100.0, 100.0]);
    let spec = |mask: &str, upper: u32| {
        let mut s = format!(
            "name = \"core3\"\nfwmark = 43\ncheck_interval = \"500ms\"\nramp_up_time = \"1ms\"\n\
             scheduler = \"sh\"\nscheduler_flags = [\"sh-fallback\", \"sh-port\"]\none_packet = true\n\
             persistence_timeout = \"300s\"\npersistence_netmask = \"{mask}\"\n\
             [[vip]]\naddress = \"192.0.2.43\"\n"
        );
        for srv in &lb.servers {
            s.push_str(&format!(
                "[[node]]\naddress = \"{}\"\nport = {}\npath = \"/core3/status\"\n\
                 upper_threshold = {upper}\nlower_threshold = 10\n",
                srv.addr().ip(),
                srv.addr().port(),
            ));
        }
        std::fs::write(&lb.config, s).unwrap();
    };
    spec("255.255.255.0", 100);
    lb.agent("start").expect_code(0);
    lb.wait_weights("both nodes up", |w| w == [100, 100]);
    let table = || -> Value {
        let text = std::fs::read_to_string(lb.state_dir().join("dryrun-ipvs.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let t = table();
    let svc = &t["services"][0]["service"];
    // persistent 0x1 | one-packet 0x4 | sh-fallback 0x8 | sh-port 0x10
    assert_eq!(svc["flags"], 0x1 | 0x4 | 0x8 | 0x10, "{t}");
    assert_eq!(svc["timeout"], 300, "{t}");
    assert_eq!(svc["persistence_netmask"], "255.255.255.0", "{t}");
    for d in t["services"][0]["dests"].as_array().unwrap() {
        assert_eq!(
            (&d["upper_threshold"], &d["lower_threshold"]),
            (&100.into(), &10.into()),
            "{t}"
        );
    }
    let st = lb.status_json();
    let s = &st["status"]["service"];
    assert_eq!(
        s["scheduler_flags"],
        serde_json::json!(["sh-fallback", "sh-port"]),
        "{st}"
    );
    assert_eq!(s["one_packet"], true, "{st}");
    assert_eq!(s["persistence_netmask"], "255.255.255.0", "{st}");
    assert_eq!(st["status"]["dests"][0]["upper_threshold"], 100, "{st}");
    let out = lb.bb(&["status", "core3"]).stdout();
    assert!(
        out.contains("persistent 300s mask 255.255.255.0, flags sh-fallback,sh-port, one-packet"),
        "{out}"
    );
    assert!(out.contains("thresholds: upper 100, lower 10"), "{out}");

    // A reload with a new mask and thresholds: edited in place, weights kept.
    spec("255.255.0.0", 200);
    lb.agent("reload-agent").expect_code(0);
    wait_for("the new options", Duration::from_secs(15), || {
        let t = table();
        t["services"][0]["service"]["persistence_netmask"] == "255.255.0.0"
            && t["services"][0]["dests"][0]["upper_threshold"] == 200
    });
    let t = table();
    assert_eq!(t["services"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(lb.weights(), [100, 100]);
    assert_eq!(lb.status_json()["status"]["reload"]["ok"], true);
    lb.agent("stop").expect_code(0);
}
