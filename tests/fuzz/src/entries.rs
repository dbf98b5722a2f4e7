//! The fuzz targets' entry points: one function per input that crosses a trust boundary, each
//! taking the raw bytes an attacker (or a broken peer) controls and driving them through the
//! same public code paths production uses. Shared, by `#[path]`, between the coverage-guided
//! fuzzer (`tests/fuzz/targets/*.rs`, run by `tests/fuzz/run`) and the corpus replay of
//! `cargo test` (`tests/process/fuzz_corpora.rs`), so the replay proves exactly what the fuzzer
//! ran. A function returns normally for every input: a panic, an abort or a hang is the finding.

use std::cell::{OnceCell, RefCell};
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use big_brother::api::http::{discard_body, read_request};
use big_brother::api::routes::respond;
use big_brother::api::view::{ClusterView, Clusters, Files};
use big_brother::health::plan::{CheckPlan, Probe};
use big_brother::health::probe::Prober;
use big_brother::ipvs::netlink::{codec, family, message};
use big_brother::ipvs::{Family, ServiceKey};
use big_brother::state::status::{Now, Status};
use big_brother::state::{heartbeat as beat, snapshot, StateDir};

/// One entry point: bytes in, nothing out (a panic or a hang is the finding).
pub type Entry = fn(&[u8]);

/// Every target, by the name of its binary and corpus directory.
pub const TARGETS: &[(&str, Entry)] = &[
    ("spec_toml", spec_toml),
    ("legacy_yaml", legacy_yaml),
    ("keepalived_conf", keepalived_conf),
    ("health_litmus", health_litmus),
    ("health_http", health_http),
    ("health_agent", health_agent),
    ("api_request", api_request),
    ("netlink_reply", netlink_reply),
    ("cib_xml", cib_xml),
    ("status_json", status_json),
    ("heartbeat", heartbeat),
    ("snapshot_json", snapshot_json),
];

/// A spec file as the agent's `config` parameter reads it (TOML, or legacy YAML detected by its
/// content), validated, then turned into the CIB group `crm generate` writes.
pub fn spec_toml(data: &[u8]) {
    let file = Path::new("/etc/big_brother/webapp.toml");
    if let Ok(spec) = big_brother::spec::load_cluster_from(file, data.to_vec(), "webapp") {
        let group = big_brother::crm::generate::group(&spec, None);
        let _ = group.to_pretty();
    }
}

/// `big_brother import` of the original's YAML config: every cluster, in memory.
pub fn legacy_yaml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let file = Path::new("/etc/big_brother/big_brother.conf");
    let _ = big_brother::spec::legacy::import(file, &text, None, None);
}

/// `big_brother import --from keepalived`.
pub fn keepalived_conf(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let file = Path::new("/etc/keepalived/keepalived.conf");
    let _ = big_brother::spec::keepalived::convert(file, &text, None);
}

/// How a fake node answers: `Http` reads the request head before answering, `Agent` speaks
/// first (HAProxy's agent protocol has no request).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Speaks {
    Http,
    Agent,
}

/// A loopback node that answers each connection with the next payload, then half-closes: the
/// bytes reach the checker through a real socket, as a hostile node's would.
struct Node {
    addr: SocketAddr,
    payloads: Mutex<SyncSender<Vec<u8>>>,
}

fn node(speaks: Speaks) -> &'static Node {
    static HTTP: OnceLock<Node> = OnceLock::new();
    static AGENT: OnceLock<Node> = OnceLock::new();
    let cell = match speaks {
        Speaks::Http => &HTTP,
        Speaks::Agent => &AGENT,
    };
    cell.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let (tx, rx) = sync_channel::<Vec<u8>>(1);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let Ok(payload) = rx.recv() else { return };
                answer(&mut conn, speaks, &payload);
            }
        });
        Node {
            addr,
            payloads: Mutex::new(tx),
        }
    })
}

fn answer(conn: &mut TcpStream, speaks: Speaks, payload: &[u8]) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(2)));
    if speaks == Speaks::Http {
        // The request head: answering before it is read would let a reset race the answer.
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    }
    let _ = conn.write_all(payload);
    let _ = conn.shutdown(Shutdown::Write);
    // Until the checker closes: closing first with unread bytes would reset the connection.
    let mut sink = [0u8; 1024];
    while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
}

/// One check of `probe` against a node that answers `data`.
fn check(speaks: Speaks, probe: Probe, data: &[u8]) {
    let n = node(speaks);
    let plan = CheckPlan {
        probe,
        tls: None,
        addr: n.addr,
        real_port: 80,
    };
    let Ok(mut prober) = Prober::new(plan) else {
        panic!("a plain plan is always runnable")
    };
    {
        let tx = n.payloads.lock().unwrap_or_else(|e| e.into_inner());
        let Ok(()) = tx.send(data.to_vec()) else {
            panic!("the fake node's thread is gone")
        };
    }
    // The node closes after its answer: no check may wait for its budget here.
    let _ = prober.check(Duration::from_secs(10));
}

/// A litmus check: socket bytes → HTTP client → `X-Health` / `Health:` interpretation.
pub fn health_litmus(data: &[u8]) {
    check(
        Speaks::Http,
        Probe::Litmus {
            path: "/status".into(),
        },
        data,
    );
}

/// An http check with a status range and a body expectation.
pub fn health_http(data: &[u8]) {
    check(
        Speaks::Http,
        Probe::Http {
            path: "/health".into(),
            expect_status: vec![(200, 299), (418, 418)],
            expect_body: Some("OK".into()),
        },
        data,
    );
}

/// An agent check: socket bytes → one line → HAProxy's words.
pub fn health_agent(data: &[u8]) {
    check(Speaks::Agent, Probe::Agent, data);
}

/// The API: a request head (and the body it announces) read from a connection, then answered.
pub fn api_request(data: &[u8]) {
    struct NoClusters;
    impl Clusters for NoClusters {
        fn names(&self) -> Vec<String> {
            Vec::new()
        }
        fn view(&self, _: &str) -> Option<ClusterView> {
            None
        }
    }
    let mut r = BufReader::new(data);
    let deadline = Instant::now() + Duration::from_secs(5);
    let Ok(req) = read_request(&mut r, deadline) else {
        return;
    };
    if let Some(len) = req.content_length {
        let _ = discard_body(&mut r, len, deadline);
    }
    let resp = respond(&req, &NoClusters, SystemTime::now());
    let _ = resp.write_to(&mut std::io::sink(), req.method == "HEAD");
}

/// One netlink datagram from the kernel: split, classified, and every data body decoded as each
/// reply the controller reads.
pub fn netlink_reply(data: &[u8]) {
    for part in message::split(data) {
        let Ok((header, body)) = part else { continue };
        let Ok(message::Kind::Data(body)) = message::classify(&header, body) else {
            continue;
        };
        let _ = family::parse_reply(body);
        let _ = codec::parse_info(body);
        let _ = codec::parse_service(body);
        let _ = codec::parse_dest(body, Family::V4);
        let _ = codec::parse_dest(body, Family::V6);
        let _ = codec::parse_daemon(body);
        let _ = codec::parse_config(body);
    }
}

/// The CIB as `cibadmin --query` prints it, read by `crm check` / `apply`: parsed, then planned
/// against the group generated from the talk's example.
pub fn cib_xml(data: &[u8]) {
    use big_brother::crm::{diff, plan, xml};
    let text = String::from_utf8_lossy(data);
    let _ = xml::parse_many(&text);
    let Ok(cib) = xml::parse(&text) else { return };
    let wanted = wanted_group();
    let live = plan::live_group(&cib, "webapp_group");
    let _ = diff::compare(live, wanted);
    let _ = plan::plan_apply(&cib, wanted);
    let _ = plan::plan_remove(&cib, "webapp_group");
    let _ = plan::running_members(&cib, "webapp_group");
}

fn wanted_group() -> &'static big_brother::crm::xml::Element {
    static GROUP: OnceLock<big_brother::crm::xml::Element> = OnceLock::new();
    GROUP.get_or_init(|| {
        let text = include_str!("../../../crm/examples/webapp.toml");
        let spec = big_brother::spec::parse(Path::new("webapp.toml"), text)
            .expect("the talk's example is valid");
        big_brother::crm::generate::group(&spec, None)
    })
}

/// A scratch state directory per process; files are rewritten for every input. On tmpfs
/// (`/dev/shm`) when there is one: rewriting a file in place on ext4 makes `close` start its
/// writeback (ext4's `auto_da_alloc` for truncated files), a disk write per input that held
/// `status_json` at ~340 inputs/s; the bytes and the code paths are the same on either.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a temporary directory")
    })
    .path()
}

/// `status.json` as `monitor`, `status` and the API read it: the API's index, detail, status
/// and metrics pages rendered from it.
pub fn status_json(data: &[u8]) {
    let rsctmp = scratch().join("rsctmp");
    let state = StateDir::new(&rsctmp, "webapp");
    let _ = state.create();
    let _ = std::fs::write(state.status(), data);
    if let Ok(Some(status)) = Status::read(&state.status()) {
        let now = Now::read();
        let wall = now.wall;
        let _ = (
            status.fresh(now),
            status.age(wall),
            status.combined_weight(),
        );
    }
    // The files as the API reads them, without asking the kernel for its sync daemons; each
    // page reads them through `Files` once per input, not once per page (five pages read the
    // same status.json five times, ~110 system calls per input), so the renderers and the
    // reader both run for every input at several times the rate.
    struct NoKernel {
        files: Files,
        names: OnceCell<Vec<String>>,
        views: RefCell<Vec<(String, Option<ClusterView>)>>,
    }
    impl Clusters for NoKernel {
        fn names(&self) -> Vec<String> {
            self.names.get_or_init(|| self.files.names()).clone()
        }
        fn view(&self, name: &str) -> Option<ClusterView> {
            if let Some((_, v)) = self.views.borrow().iter().find(|(n, _)| n == name) {
                return v.clone();
            }
            let v = self.files.view(name);
            self.views.borrow_mut().push((name.to_string(), v.clone()));
            v
        }
    }
    let files = NoKernel {
        files: Files {
            rsctmp,
            config_dir: None,
        },
        names: OnceCell::new(),
        views: RefCell::new(Vec::new()),
    };
    let now = Now::read();
    for head in [
        "GET / HTTP/1.1\r\nAccept: text/html\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1\r\n\r\n",
        "GET /cluster/webapp/status HTTP/1.1\r\n\r\n",
        "GET /cluster/webapp/status_detail HTTP/1.1\r\n\r\n",
    ] {
        let mut r = BufReader::new(head.as_bytes());
        if let Ok(req) = read_request(&mut r, Instant::now() + Duration::from_secs(5)) {
            let _ = respond(&req, &files, now);
        }
    }
}

/// The crash snapshot `start` reads back after Pacemaker's recovery (`crash-weights.json`).
pub fn snapshot_json(data: &[u8]) {
    let state = StateDir::at(&scratch().join("snapshot"));
    let _ = state.create();
    let _ = std::fs::write(state.path().join(snapshot::FILE_NAME), data);
    let key = ServiceKey::fwmark(Family::V4, 7);
    let _ = snapshot::take(&state, &key);
}

/// `<state>/heartbeat` as `Status::read` merges it with `status.json`: the raw bytes (a torn or
/// scribbled line), and the same bytes sealed with their checksum (so the fields behind it are
/// reached), each beside a whole status file.
pub fn heartbeat(data: &[u8]) {
    let _ = beat::Beat::parse(data);
    let sealed = std::str::from_utf8(data).ok().and_then(beat::seal);
    if let Some(line) = &sealed {
        let _ = beat::Beat::parse(line);
    }
    let state = StateDir::new(&scratch().join("rsctmp-heartbeat"), "webapp");
    let status = state.status();
    if Status::read(&status).ok().flatten().is_none() {
        let _ = state.create();
        let _ = std::fs::write(&status, SEED_STATUS);
    }
    for bytes in [Some(data), sealed.as_ref().map(|l| &l[..])]
        .into_iter()
        .flatten()
    {
        let _ = std::fs::write(beat::path_beside(&status), bytes);
        if let Ok(Some(s)) = Status::read(&status) {
            let _ = (s.fresh(Now::read()), s.age(Now::read().wall));
        }
    }
}

/// A whole status file for the heartbeat to go with (the talk's cluster, three nodes).
pub const SEED_STATUS: &[u8] = include_bytes!("../corpus/status_json/running.json");
