//! Every check type of `health::probe` against loopback endpoints, friendly and hostile (issue
//! 16): each check ends within its budget plus a small slack, with an error that says why.
//! Certificates (CA, leaf, expired leaf, foreign CA) are minted here at test time with rcgen.
//!
//! Every server listens on 127.0.0.1 port 0 and stops when dropped (or after 30 s).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use big_brother::health::probe::{CheckPlan, PlanError, Probe, Prober, TlsPlan, Verdict};
use big_brother::health::serve::LitmusServer;
use big_brother::health::{CheckError, Phase};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const BUDGET: Duration = Duration::from_millis(600);
/// Scheduling on a loaded two-core machine.
const SLACK: Duration = Duration::from_millis(400);
const NAME: &str = "node.test";

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn plan(probe: Probe, addr: SocketAddr, tls: Option<TlsPlan>) -> CheckPlan {
    CheckPlan {
        probe,
        tls,
        addr,
        real_port: 8080,
    }
}

/// Runs one check and asserts it ended within the budget plus slack.
fn timed(p: &mut Prober) -> Result<Verdict, CheckError> {
    let t = Instant::now();
    let r = p.check(BUDGET);
    let took = t.elapsed();
    assert!(took < BUDGET + SLACK, "check took {took:?}: {r:?}");
    r
}

fn litmus() -> Probe {
    Probe::Litmus {
        path: "/webapp/status".into(),
    }
}

fn http(ranges: &[(u16, u16)], body: Option<&str>) -> Probe {
    Probe::Http {
        path: "/webapp/status".into(),
        expect_status: ranges.to_vec(),
        expect_body: body.map(String::from),
    }
}

// ---------------------------------------------------------------------------------------------
// Certificates

struct Ca {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
    pem: PathBuf,
    _dir: tempfile::TempDir,
}

fn ca(cn: &str) -> Ca {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pem");
    std::fs::write(&pem, cert.pem()).unwrap();
    Ca {
        cert,
        key,
        pem,
        _dir: dir,
    }
}

/// A server configuration with a leaf for `names` signed by `ca`; `expired`: valid 2000–2001.
#[allow(deprecated)] // ring's provider: see health::tls
fn server(ca: &Ca, names: &[&str], expired: bool) -> Arc<rustls::ServerConfig> {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    Arc::new(config)
}

fn trusting(ca: &Ca) -> Option<TlsPlan> {
    Some(TlsPlan {
        server_name: NAME.into(),
        ca_file: Some(ca.pem.clone()),
        verify: true,
    })
}

// ---------------------------------------------------------------------------------------------
// A raw endpoint: each accepted connection is handed to `behave` on its own thread.

struct Raw {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn raw(behave: fn(TcpStream, &AtomicBool)) -> Raw {
    let listener = TcpListener::bind(local()).unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(30);
        while !s.load(Ordering::SeqCst) && Instant::now() < until {
            match listener.accept() {
                Ok((c, _)) => {
                    c.set_nonblocking(false).unwrap();
                    let s = Arc::clone(&s);
                    thread::spawn(move || behave(c, &s));
                }
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    Raw { addr, stop }
}

/// Sleeps in small steps until stopped (at most 30 s).
fn idle(stop: &AtomicBool) {
    let until = Instant::now() + Duration::from_secs(30);
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        thread::sleep(Duration::from_millis(20));
    }
}

fn answer(mut c: TcpStream, line: &[u8], stop: &AtomicBool) {
    let _ = c.write_all(line);
    let _ = c.flush();
    drop(c);
    let _ = stop;
}

// ---------------------------------------------------------------------------------------------
// litmus and http, plain and TLS

#[test]
fn litmus_through_the_prober_is_todays_check() {
    let srv = LitmusServer::start(local(), "webapp", 87.0).unwrap();
    let mut p = Prober::new(plan(litmus(), srv.addr(), None)).unwrap();
    for _ in 0..3 {
        let v = timed(&mut p).unwrap();
        assert_eq!((v.health.value, v.drain, v.output), (87.0, false, None));
    }
    assert_eq!(srv.connections(), 1, "keep-alive as before");
    srv.set_measured(0.0);
    assert_eq!(timed(&mut p).unwrap().health.value, 0.0);
}

#[test]
fn http_status_ranges_and_body() {
    let srv = LitmusServer::start(local(), "webapp", 87.0).unwrap();
    let mut ok = Prober::new(plan(
        http(&[(200, 299)], Some("Health: 87")),
        srv.addr(),
        None,
    ))
    .unwrap();
    assert_eq!(timed(&mut ok).unwrap().health.value, 100.0);
    let mut body = Prober::new(plan(
        http(&[(200, 299)], Some("I am fine")),
        srv.addr(),
        None,
    ))
    .unwrap();
    let e = timed(&mut body).unwrap_err();
    assert_eq!(e.to_string(), "body does not contain \"I am fine\"");
    // A plain web application: any 2xx, any body, no litmus answer needed.
    srv.set_raw(Some(
        b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n".to_vec(),
    ));
    let mut app = Prober::new(plan(http(&[(200, 299)], None), srv.addr(), None)).unwrap();
    assert_eq!(timed(&mut app).unwrap().health.value, 100.0);
    srv.set_raw(Some(
        b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n".to_vec(),
    ));
    let e = timed(&mut app).unwrap_err();
    assert_eq!(e.to_string(), "HTTP 503 Busy (expected 200-299)");
    let mut busy_ok = Prober::new(plan(
        http(&[(200, 200), (503, 503)], None),
        srv.addr(),
        None,
    ))
    .unwrap();
    assert!(timed(&mut busy_ok).is_ok());
}

#[test]
fn tls_litmus_and_http_keep_alive_and_resume() {
    let ca = ca("test CA");
    let srv =
        LitmusServer::start_tls(local(), "webapp", 87.0, server(&ca, &[NAME], false)).unwrap();
    let mut p = Prober::new(plan(litmus(), srv.addr(), trusting(&ca))).unwrap();
    assert_eq!(timed(&mut p).unwrap().health.value, 87.0);
    assert_eq!(timed(&mut p).unwrap().health.value, 87.0);
    assert_eq!(p.machine().unwrap().connects, 1, "keep-alive over TLS");
    // A new connection (after an error, say) resumes the TLS session: no full handshake.
    p.reset();
    assert_eq!(timed(&mut p).unwrap().health.value, 87.0);
    assert_eq!(p.machine().unwrap().resumed, 1);
    assert_eq!(srv.connections(), 2);
    let mut h = Prober::new(plan(
        http(&[(200, 299)], Some("Health")),
        srv.addr(),
        trusting(&ca),
    ))
    .unwrap();
    assert_eq!(timed(&mut h).unwrap().health.value, 100.0);
    // An IP address as the name works when the certificate names it.
    let ip = LitmusServer::start_tls(local(), "webapp", 50.0, server(&ca, &["127.0.0.1"], false))
        .unwrap();
    let tls = Some(TlsPlan {
        server_name: "127.0.0.1".into(),
        ca_file: Some(ca.pem.clone()),
        verify: true,
    });
    let mut p = Prober::new(plan(litmus(), ip.addr(), tls)).unwrap();
    assert_eq!(timed(&mut p).unwrap().health.value, 50.0);
}

fn tls_error(p: &mut Prober) -> String {
    match timed(p) {
        Err(CheckError::Tls(why)) => {
            eprintln!("TLS error as operators see it: {why}");
            why
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[test]
fn tls_refuses_wrong_name_untrusted_ca_and_expired_certificate() {
    let ca_ = ca("test CA");
    let wrong = LitmusServer::start_tls(
        local(),
        "webapp",
        87.0,
        server(&ca_, &["other.test"], false),
    )
    .unwrap();
    let why = tls_error(&mut Prober::new(plan(litmus(), wrong.addr(), trusting(&ca_))).unwrap());
    assert!(why.contains("not valid for name \"node.test\""), "{why}");

    let foreign = ca("someone else's CA");
    let untrusted =
        LitmusServer::start_tls(local(), "webapp", 87.0, server(&foreign, &[NAME], false)).unwrap();
    let why =
        tls_error(&mut Prober::new(plan(litmus(), untrusted.addr(), trusting(&ca_))).unwrap());
    assert_eq!(
        why,
        format!(
            "certificate not signed by a CA in CA file {}",
            ca_.pem.display()
        )
    );

    let expired =
        LitmusServer::start_tls(local(), "webapp", 87.0, server(&ca_, &[NAME], true)).unwrap();
    let why = tls_error(&mut Prober::new(plan(litmus(), expired.addr(), trusting(&ca_))).unwrap());
    assert!(why.to_lowercase().contains("expired"), "{why}");

    // The system store knows none of these.
    let system = Some(TlsPlan {
        server_name: NAME.into(),
        ca_file: None,
        verify: true,
    });
    let why = tls_error(&mut Prober::new(plan(litmus(), untrusted.addr(), system)).unwrap());
    assert_eq!(why, "certificate not signed by a CA in the system CA store");

    // tls_verify = false: all three pass (encrypted, not authenticated).
    for srv in [&wrong, &untrusted, &expired] {
        let off = Some(TlsPlan {
            server_name: NAME.into(),
            ca_file: None,
            verify: false,
        });
        let mut p = Prober::new(plan(litmus(), srv.addr(), off)).unwrap();
        assert_eq!(timed(&mut p).unwrap().health.value, 87.0);
    }
    // These servers saw the handshakes fail and stay up for the others.
    assert_eq!(wrong.requests(), 1);
}

#[test]
fn tls_hostile_servers_fail_at_the_budget() {
    let ca_ = ca("test CA");
    // Accepts and never says a word.
    let hang = raw(|c, stop| {
        idle(stop);
        drop(c);
    });
    let e =
        timed(&mut Prober::new(plan(litmus(), hang.addr, trusting(&ca_))).unwrap()).unwrap_err();
    assert_eq!(
        e,
        CheckError::Timeout {
            phase: Phase::Handshake,
            budget_ms: 600
        }
    );
    // Starts a handshake record (length 1,000) and sends it one byte every 50 ms.
    let trickle = raw(|mut c, stop| {
        let _ = c.write_all(&[0x16, 0x03, 0x03, 0x03, 0xe8]);
        let until = Instant::now() + Duration::from_secs(30);
        while !stop.load(Ordering::SeqCst) && Instant::now() < until {
            if c.write_all(&[0x02]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let e =
        timed(&mut Prober::new(plan(litmus(), trickle.addr, trusting(&ca_))).unwrap()).unwrap_err();
    assert!(
        matches!(
            e,
            CheckError::Timeout {
                phase: Phase::Handshake,
                ..
            }
        ),
        "{e:?}"
    );
    // A plain HTTP server on the TLS port: it takes the ClientHello for a bad request and hangs
    // up without a word.
    let plain = LitmusServer::start(local(), "webapp", 87.0).unwrap();
    let mut p = Prober::new(plan(litmus(), plain.addr(), trusting(&ca_))).unwrap();
    let e = timed(&mut p).unwrap_err();
    assert_eq!(
        e.to_string(),
        "connection closed by the node while in the TLS handshake"
    );
    // Plaintext sent at once, unasked.
    let eager = raw(|c, stop| answer(c, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", stop));
    let why = tls_error(
        &mut Prober::new(plan(http(&[(200, 299)], None), eager.addr, trusting(&ca_))).unwrap(),
    );
    assert!(why.contains("is the port speaking TLS?"), "{why}");
}

/// The TLS configuration of `tls_trickled_answer`'s server (a `fn` cannot capture it).
static TRICKLE_TLS: std::sync::OnceLock<Arc<rustls::ServerConfig>> = std::sync::OnceLock::new();

#[test]
fn tls_answer_trickled_after_the_handshake_fails_at_the_budget() {
    let ca_ = ca("test CA");
    TRICKLE_TLS.get_or_init(|| server(&ca_, &[NAME], false));
    let srv = raw(|c, stop| {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let conn = rustls::ServerConnection::new(TRICKLE_TLS.get().unwrap().clone()).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, c);
        let mut req = [0u8; 1024];
        if tls.read(&mut req).is_err() {
            return;
        }
        let until = Instant::now() + Duration::from_secs(30);
        for b in b"HTTP/1.1 200 OK\r\nX-Health: 100\r\n".iter().cycle() {
            if stop.load(Ordering::SeqCst) || Instant::now() > until {
                return;
            }
            if tls.write_all(&[*b]).and_then(|_| tls.flush()).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let mut p = Prober::new(plan(litmus(), srv.addr, trusting(&ca_))).unwrap();
    let e = timed(&mut p).unwrap_err();
    assert!(
        matches!(
            e,
            CheckError::Timeout {
                phase: Phase::Head,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn plan_errors_are_found_before_any_check() {
    let addr = local();
    let bad_ca = Some(TlsPlan {
        server_name: NAME.into(),
        ca_file: Some("/nonexistent/ca.pem".into()),
        verify: true,
    });
    assert!(matches!(
        Prober::new(plan(litmus(), addr, bad_ca)),
        Err(PlanError::CaFile { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let e = Prober::new(plan(
        litmus(),
        addr,
        Some(TlsPlan {
            server_name: NAME.into(),
            ca_file: Some(empty),
            verify: true,
        }),
    ))
    .err()
    .unwrap();
    assert!(e.to_string().contains("no PEM certificate"), "{e}");
    let bad_name = Some(TlsPlan {
        server_name: "not a name!".into(),
        ca_file: None,
        verify: true,
    });
    assert!(matches!(
        Prober::new(plan(litmus(), addr, bad_name)),
        Err(PlanError::ServerName { .. })
    ));
    let tls = trusting(&ca("x"));
    assert_eq!(
        Prober::new(plan(Probe::Tcp, addr, tls)).err(),
        Some(PlanError::TlsNotAllowed)
    );
    let relative = Probe::Exec {
        argv: vec!["check.sh".into()],
        env: vec![],
    };
    assert!(matches!(
        Prober::new(plan(relative, addr, None)),
        Err(PlanError::Exec(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// tcp

#[test]
fn tcp_connects_or_says_why() {
    let listener = TcpListener::bind(local()).unwrap();
    let mut p = Prober::new(plan(Probe::Tcp, listener.local_addr().unwrap(), None)).unwrap();
    assert_eq!(timed(&mut p).unwrap().health.value, 100.0);
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let mut p = Prober::new(plan(Probe::Tcp, closed, None)).unwrap();
    match timed(&mut p) {
        Err(CheckError::Io {
            phase: Phase::Connect,
            kind,
            ..
        }) => {
            assert_eq!(kind, std::io::ErrorKind::ConnectionRefused)
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// agent

fn agent(behave: fn(TcpStream, &AtomicBool)) -> (Raw, Prober) {
    let srv = raw(behave);
    let p = Prober::new(plan(Probe::Agent, srv.addr, None)).unwrap();
    (srv, p)
}

#[test]
fn agent_lines() {
    let (_s, mut p) = agent(|c, s| answer(c, b"ready up 87%\n", s));
    let v = timed(&mut p).unwrap();
    assert_eq!((v.health.value, v.drain), (87.0, false));
    assert_eq!(v.output.as_deref(), Some("ready up 87%"));
    let (_s, mut p) = agent(|c, s| answer(c, b"drain\r\n", s));
    let v = timed(&mut p).unwrap();
    assert_eq!((v.health.value, v.drain), (100.0, true));
    // Without a newline, the line ends at close.
    let (_s, mut p) = agent(|c, s| answer(c, b"up", s));
    assert_eq!(timed(&mut p).unwrap().health.value, 100.0);
    let (_s, mut p) = agent(|c, s| answer(c, b"failed#database unreachable\n", s));
    assert_eq!(
        timed(&mut p).unwrap_err().to_string(),
        "agent says failed: database unreachable"
    );
    let (_s, mut p) = agent(|c, s| answer(c, b"maint\n", s));
    assert_eq!(timed(&mut p).unwrap_err().to_string(), "agent says maint");
    let (_s, mut p) = agent(|c, s| answer(c, b"HTTP/1.1 400 Bad Request\r\n", s));
    assert!(matches!(timed(&mut p), Err(CheckError::Malformed(_))));
}

#[test]
fn hostile_agents() {
    // Never answers.
    let (_s, mut p) = agent(|c, s| {
        idle(s);
        drop(c)
    });
    assert!(matches!(
        timed(&mut p),
        Err(CheckError::Timeout {
            phase: Phase::Line,
            ..
        })
    ));
    // An endless line.
    let (_s, mut p) =
        agent(
            |mut c, s| {
                while !s.load(Ordering::SeqCst) && c.write_all(&[b'u'; 4096]).is_ok() {}
            },
        );
    assert!(matches!(timed(&mut p), Err(CheckError::TooLarge { .. })));
    // One byte every 50 ms.
    let (_s, mut p) = agent(|mut c, s| {
        while !s.load(Ordering::SeqCst) && c.write_all(b"u").is_ok() {
            thread::sleep(Duration::from_millis(50));
        }
    });
    assert!(matches!(
        timed(&mut p),
        Err(CheckError::Timeout {
            phase: Phase::Line,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// exec

fn exec(script: &str) -> Prober {
    let argv = vec!["/bin/sh".into(), "-c".into(), script.into(), "check".into()];
    let probe = Probe::Exec {
        argv,
        env: vec![("BB_CLUSTER".into(), "web".into())],
    };
    Prober::new(plan(probe, "127.0.0.2:8443".parse().unwrap(), None)).unwrap()
}

/// Whether `pid` is gone (or a zombie of someone else's, about to be).
fn gone(pid: u32) -> bool {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(s)
                if s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                return true
            }
            Ok(_) if Instant::now() > until => return false,
            Ok(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[test]
fn exec_exit_status_is_misc_dynamic() {
    let v = timed(&mut exec("echo all good")).unwrap();
    assert_eq!(
        (v.health.value, v.output.as_deref()),
        (100.0, Some("all good"))
    );
    let e = timed(&mut exec("echo disk full >&2; exit 1")).unwrap_err();
    assert_eq!(e.to_string(), "check command exited 1 (down): disk full");
    assert_eq!(timed(&mut exec("exit 2")).unwrap().health.value, 0.0);
    assert_eq!(timed(&mut exec("exit 42")).unwrap().health.value, 40.0);
    assert_eq!(timed(&mut exec("exit 255")).unwrap().health.value, 100.0);
    let e = timed(&mut exec("kill -TERM $$")).unwrap_err();
    assert_eq!(e.to_string(), "check command killed by signal 15");
    let probe = Probe::Exec {
        argv: vec!["/nonexistent/check".into()],
        env: vec![],
    };
    let e = timed(&mut Prober::new(plan(probe, local(), None)).unwrap()).unwrap_err();
    assert!(matches!(e, CheckError::Spawn(_)), "{e:?}");
}

#[test]
fn exec_environment_and_descriptors_are_minimal() {
    let v = timed(&mut exec("env | sort | tr '\\n' ' '")).unwrap();
    let env = v.output.unwrap();
    assert!(env.contains("BB_NODE_ADDRESS=127.0.0.2 "), "{env}");
    assert!(env.contains("BB_NODE_PORT=8443 "), "{env}");
    assert!(env.contains("BB_REAL_PORT=8080 "), "{env}");
    assert!(env.contains("BB_CLUSTER=web "), "{env}");
    assert!(env.contains("PATH=/usr/sbin:/usr/bin:/sbin:/bin "), "{env}");
    assert!(!env.contains("HOME="), "{env}");
    // A descriptor the test process holds (std opens it close-on-exec) is not inherited.
    // So is one inherited without close-on-exec (as from a careless parent), made here.
    let _held = std::fs::File::open("/proc/self/status").unwrap();
    let mut fds = [0; 2];
    // SAFETY: two ints for pipe(2) to fill.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let v = timed(&mut exec("ls /proc/$$/fd")).unwrap();
    assert_eq!(
        v.output.as_deref(),
        Some("0 1 2"),
        "only stdin, stdout, stderr"
    );
    // SAFETY: the two descriptors made above, closed once.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    let v = timed(&mut exec("pwd; cat; echo end")).unwrap();
    assert_eq!(v.output.as_deref(), Some("/ end"), "cwd /, stdin empty");
}

#[test]
fn exec_hostile_programs_end_at_the_budget_with_their_group() {
    // Hangs.
    let e = timed(&mut exec("exec sleep 30")).unwrap_err();
    assert_eq!(
        e,
        CheckError::Timeout {
            phase: Phase::Run,
            budget_ms: 600
        }
    );
    // Forks a child that keeps stdout open and then exits 0 itself: healthy at once, and the
    // grandchild is killed with the group (it cannot hold the check to the budget).
    let started = Instant::now();
    let v = timed(&mut exec("sleep 30 & echo $!; exit 0")).unwrap();
    assert!(started.elapsed() < BUDGET / 2, "{:?}", started.elapsed());
    let pid: u32 = v.output.unwrap().parse().unwrap();
    assert!(gone(pid), "grandchild {pid} survived its check");
    // Forks and hangs: both killed at the budget.
    let e = timed(&mut exec("sleep 30 & echo $! >&2; sleep 30")).unwrap_err();
    assert!(matches!(
        e,
        CheckError::Timeout {
            phase: Phase::Run,
            ..
        }
    ));
    // Floods stdout forever: bounded memory, killed at the budget.
    let e = timed(&mut exec(
        "while :; do echo flood flood flood flood flood; done",
    ))
    .unwrap_err();
    assert!(matches!(
        e,
        CheckError::Timeout {
            phase: Phase::Run,
            ..
        }
    ));
    // Floods then exits: the output is kept bounded and says how much there was.
    let v = timed(&mut exec("head -c 1000000 /dev/zero | tr '\\0' x; exit 0")).unwrap();
    let out = v.output.unwrap();
    assert!(out.len() < 4200, "{}", out.len());
    assert!(
        out.ends_with("(1000000 bytes in all)"),
        "{}",
        &out[out.len() - 40..]
    );
}

#[test]
fn exec_leaves_no_zombie() {
    // The leader's pid is printed; after the check it must not be our child any more.
    for script in ["echo $$", "echo $$; exit 1", "echo $$; exec sleep 30"] {
        let mut p = exec(script);
        let r = timed(&mut p);
        let out = match &r {
            Ok(v) => v.output.clone(),
            Err(CheckError::Exec { output, .. }) => Some(output.clone()),
            Err(_) => None,
        };
        if let Some(pid) = out.and_then(|o| o.parse::<u32>().ok()) {
            assert!(
                std::fs::metadata(format!("/proc/{pid}")).is_err(),
                "{script}: {pid} still exists (zombie?)"
            );
        }
    }
}
