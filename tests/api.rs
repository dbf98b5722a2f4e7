//! `big_brother api`, process tier: the real binary serving a private `HA_RSCTMP` on a loopback
//! port, talked to over raw TCP (so malformed requests can be sent). Every route, against a real
//! dry-run supervisor and against hand-made state directories (stale heartbeat, crash
//! leftovers); bad requests, methods that would change state, the connection cap, the loopback
//! rule; the metrics page parsed by the official Prometheus Python client.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::ocf_support::{Behaviour, Cluster};
use crate::util::{bb, bin, run};

/// A running `big_brother api`, killed by pid when dropped.
struct Api {
    child: Child,
    addr: SocketAddr,
}

impl Api {
    fn start(rsctmp: &Path, config_dir: &Path) -> Api {
        let mut child = Command::new(bin())
            .args(["api", "--listen", "127.0.0.1:0", "--rsctmp"])
            .arg(rsctmp)
            .arg("--config-dir")
            .arg(config_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .parse()
            .unwrap();
        Api { child, addr }
    }

    /// Sends `raw` and reads the whole answer (the server closes after one).
    fn raw(&self, raw: &[u8]) -> Answer {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        s.write_all(raw).unwrap();
        read_answer(&mut s)
    }

    fn get(&self, path: &str) -> Answer {
        self.raw(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

fn read_answer(s: &mut TcpStream) -> Answer {
    let mut bytes = Vec::new();
    let _ = s.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete answer: {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// A cluster whose nodes answer `Health: 100` and `Health: 40`, no ramp.
fn started_cluster(name: &str) -> Cluster {
    let c = Cluster::new(name, &[Behaviour::Health(100), Behaviour::Health(40)]);
    let text = c.spec_text(7, 2).replacen(
        "check_interval",
        "ramp_up_time = \"1ms\"\ncheck_interval",
        1,
    );
    std::fs::write(&c.config, text).unwrap();
    c.agent("start", &[]).expect_code(0);
    c
}

#[test]
fn the_originals_routes_against_a_running_supervisor() {
    let c = started_cluster("web1");
    let api = Api::start(&c.rsctmp, c.dir.path());

    // The 1 ms ramp may still be running at the first tick: wait for the next.
    crate::ocf_support::wait_for("full weights", Duration::from_secs(10), || {
        api.get("/cluster/web1")
            .body
            .contains("CombinedWeight: 140")
    });
    let a = api.get("/cluster/web1");
    assert_eq!(a.status, 200);
    assert_eq!(a.body, "Running: true\nCombinedWeight: 140\n");
    assert_eq!(
        a.header("Content-Type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(a.header("Connection").as_deref(), Some("close"));
    assert_eq!(api.get("/cluster/web1/status").body, a.body);
    // litmus_paper's big_brother_service metric: `status =~ /CombinedWeight: (\d+)/`.
    assert!(a.body.lines().any(|l| l == "CombinedWeight: 140"));

    let a = api.get("/cluster/web1/status_detail");
    assert_eq!(
        a.header("Content-Type").as_deref(),
        Some("application/json")
    );
    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"nodes": {"127.0.0.1": 100, "127.0.0.2": 40}, "cluster": "web1", "running": true})
    );

    let a = api.get("/");
    assert!(a.body.starts_with("Big Brother: "), "{}", a.body);
    assert!(
        a.body
            .contains("Running:\n+ web1 (7) - CombinedWeight: 140\n"),
        "{}",
        a.body
    );

    let a = api.get("/metrics");
    assert_eq!(
        a.header("Content-Type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    for line in [
        "big_brother_cluster_running{cluster=\"web1\"} 1",
        "big_brother_cluster_combined_weight{cluster=\"web1\"} 140",
        "big_brother_node_weight{cluster=\"web1\",node=\"127.0.0.2\"} 40",
        "big_brother_node_health{cluster=\"web1\",node=\"127.0.0.1\"} 100",
        "big_brother_cluster_drift_repairs_total{cluster=\"web1\"} 0",
    ] {
        assert!(a.body.lines().any(|l| l == line), "{line} in\n{}", a.body);
    }
    assert!(a
        .body
        .lines()
        .any(|l| l.starts_with("big_brother_node_check_latency_seconds{cluster=\"web1\"")));
    prometheus_parses(&a.body);

    // HEAD: the same head, no body.
    let a = api.raw(b"HEAD /cluster/web1 HTTP/1.1\r\n\r\n");
    assert_eq!((a.status, a.body.as_str()), (200, ""));
    let full = "Running: true\nCombinedWeight: 140\n".len().to_string();
    assert_eq!(a.header("Content-Length"), Some(full), "as for GET");

    // Stopped: still known from its spec in the config dir, not running.
    c.agent("stop", &[]).expect_code(0);
    let a = api.get("/cluster/web1");
    assert_eq!(
        (a.status, a.body.as_str()),
        (200, "Running: false\nCombinedWeight: 0\n")
    );
    assert!(api.get("/").body.contains("Stopped:\n- web1\n"));
}

/// Parses `/metrics` with the official Prometheus client's parser (python3-prometheus-client).
fn prometheus_parses(text: &str) {
    let py = "/usr/bin/python3";
    let r = run(Command::new(py).args(["-c", "import prometheus_client"]));
    assert_eq!(
        r.code(),
        0,
        "python3-prometheus-client is missing; run tests/install-deps\n{}",
        r.stderr()
    );
    let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\n\
                  fams = list(p(sys.stdin.read()))\nprint(len(fams), sum(len(f.samples) for f in fams))\n";
    let r = crate::util::run_with_stdin(Command::new(py).args(["-c", script]), text);
    r.expect_code(0);
    let counts: Vec<usize> = r
        .stdout()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(counts[0], 15, "every family parsed: {}", r.stdout());
    assert!(counts[1] > 10, "{}", r.stdout());
}

/// A state directory made by hand: `status.json` with `updated_at`, and the lock held by this
/// test process when `hold` (returned; the lock lasts as long as the file).
fn fake_cluster(rsctmp: &Path, name: &str, updated_at: u64, hold: bool) -> Option<File> {
    let dir = rsctmp.join("big_brother").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let status = serde_json::json!({
        "cluster": name, "pid": 4242, "config": "/etc/big_brother/x.toml",
        "config_digest": "fnv1a64:0", "dry_run": true, "started_at": 1, "updated_at": updated_at,
        "check_interval_ms": 1000, "tick": 9, "ready": true,
        "service": {"key": {"kind": "tcp", "address": "192.0.2.80", "port": 443}, "scheduler": "wlc"},
        "reload": {"generation": 2, "ok": false, "error": "bad spec", "at": 5},
        "dests": [], "nodes": [
            {"id": "192.0.2.1:443", "address": "192.0.2.1", "health": 50.0, "weight": 50,
             "state": "up", "since": 1},
            {"id": "192.0.2.2:443", "address": "192.0.2.2", "weight": 30, "state": "up", "since": 1}
        ]
    });
    std::fs::write(dir.join("status.json"), status.to_string()).unwrap();
    std::fs::write(dir.join("lock"), "4242\n").unwrap();
    let lock = File::open(dir.join("lock")).unwrap();
    if !hold {
        return None;
    }
    // SAFETY: flock on a descriptor we own and keep open.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0);
    Some(lock)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn running_is_monitors_rule() {
    let d = tempfile::tempdir().unwrap();
    let rsctmp = d.path().join("rsctmp");
    let _fresh = fake_cluster(&rsctmp, "fresh", now(), true);
    let _stale = fake_cluster(&rsctmp, "stale", now() - 120, true);
    // A crash: lock free, status and (in the kernel) weights left behind.
    let _crashed = fake_cluster(&rsctmp, "crashed", now(), false);
    let api = Api::start(&rsctmp, &d.path().join("no-config-dir"));

    assert_eq!(
        api.get("/cluster/fresh").body,
        "Running: true\nCombinedWeight: 80\n"
    );
    assert_eq!(
        api.get("/cluster/stale").body,
        "Running: false\nCombinedWeight: 80\n"
    );
    assert_eq!(
        api.get("/cluster/crashed").body,
        "Running: false\nCombinedWeight: 80\n"
    );
    let index = api.get("/").body;
    assert!(
        index.contains("+ fresh (TCP 192.0.2.80:443) - CombinedWeight: 80\n"),
        "{index}"
    );
    assert!(
        index.contains("- stale (TCP 192.0.2.80:443) (supervisor pid 4242 stopped reporting"),
        "{index}"
    );
    let m = api.get("/metrics").body;
    assert!(m.contains("big_brother_cluster_running{cluster=\"stale\"} 0\n"));
    assert!(m.contains("big_brother_cluster_reloads_total{cluster=\"fresh\"} 2\n"));
    assert!(m.contains("big_brother_cluster_reload_failed{cluster=\"fresh\"} 1\n"));
    assert!(
        !m.contains("big_brother_node_health{cluster=\"fresh\",node=\"192.0.2.2:443\"}"),
        "no health yet: no sample"
    );
    prometheus_parses(&m);
    let v: serde_json::Value =
        serde_json::from_str(&api.get("/cluster/stale/status_detail").body).unwrap();
    assert_eq!(v["running"], false);
    assert_eq!(v["nodes"]["192.0.2.1:443"], 50);
}

#[test]
fn bad_requests_and_state_changes_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let rsctmp = d.path().join("rsctmp");
    let _c = fake_cluster(&rsctmp, "web2", now(), true);
    std::fs::write(d.path().join("secret.toml"), "x").unwrap();
    let api = Api::start(&rsctmp, &d.path().join("cfg"));

    // Pacemaker owns start and stop: the original's PUT and DELETE, and anything else, are 405.
    for m in ["PUT", "DELETE", "POST", "PATCH"] {
        let a = api
            .raw(format!("{m} /cluster/web2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nOK").as_bytes());
        assert_eq!(a.status, 405, "{m}: {a:?}");
        assert_eq!(a.header("Allow").as_deref(), Some("GET, HEAD"));
        assert!(a.body.contains("read-only"), "{}", a.body);
    }
    assert_eq!(
        api.get("/cluster/web2").body,
        "Running: true\nCombinedWeight: 80\n",
        "nothing changed"
    );

    let a = api.get("/cluster/nosuch");
    assert_eq!(
        (a.status, a.body.as_str()),
        (404, "Cluster nosuch not found")
    );
    for p in [
        "/cluster/..%2Fsecret",
        "/cluster/../secret",
        "/cluster/web2/nodes",
        "/nope",
        "/cluster/",
    ] {
        assert_eq!(api.get(p).status, 404, "{p}");
    }

    let cases: &[(&[u8], u16)] = &[
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
    ];
    for (raw, code) in cases {
        let a = api.raw(raw);
        assert_eq!(a.status, *code, "{:?}: {a:?}", String::from_utf8_lossy(raw));
    }
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(10_000));
    assert_eq!(api.raw(long.as_bytes()).status, 414);
    let huge: String = (0..200)
        .map(|i| format!("X-H{i}: {}\r\n", "v".repeat(100)))
        .collect();
    let a = api.raw(format!("GET / HTTP/1.1\r\n{huge}\r\n").as_bytes());
    assert_eq!(a.status, 431, "{a:?}");

    // A client that sends half a request and stalls gets 408 within the budget.
    let started = Instant::now();
    let a = api.raw(b"GET /cluster/web2 HTT");
    assert_eq!(a.status, 408);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
    // Still serving.
    assert_eq!(api.get("/cluster/web2").status, 200);
}

#[test]
fn connections_beyond_the_cap_get_503() {
    let d = tempfile::tempdir().unwrap();
    let rsctmp = d.path().join("rsctmp");
    let api = Api::start(&rsctmp, d.path());
    // 64 idle connections occupy every slot (each waits for a request until its budget ends).
    let idle: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(api.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let a = api.get("/");
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(a.header("Retry-After").as_deref(), Some("1"));
    drop(idle);
    // Slots free up as the server notices the closed connections.
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if api.get("/").status == 200 {
            break;
        }
        assert!(Instant::now() < end, "slots never freed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn only_loopback_unless_allowed() {
    let r = bb(&["api", "--listen", "192.0.2.1:9292"]);
    r.expect_code(2);
    assert!(r.stderr().contains("--allow-remote"), "{}", r.stderr());
    // With the flag the check passes and binding is tried (and fails: not our address).
    let r = bb(&["api", "--listen", "192.0.2.1:9292", "--allow-remote"]);
    r.expect_code(1);
    assert!(
        r.stderr().contains("cannot listen on 192.0.2.1:9292"),
        "{}",
        r.stderr()
    );
    let r = bb(&["api", "--listen", "not-an-address"]);
    r.expect_code(2);
    // The port is taken: a clear error, exit 1.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let r = bb(&["api", "--listen", &format!("127.0.0.1:{port}")]);
    r.expect_code(1);
    assert!(r.stderr().contains("cannot listen"), "{}", r.stderr());
}
