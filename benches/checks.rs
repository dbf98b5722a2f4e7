//! CPU per check of every check type (`cargo bench --bench checks`; `-- --quick`: 100 nodes,
//! fewer rounds), issue 16.
//!
//! N probers (one per node, as the supervisor's checker threads hold them) are run in rounds
//! from one thread against loopback endpoints in this process; the CPU time of that thread
//! (`getrusage(RUSAGE_THREAD)`, user + system) divided by the checks made is the checker's cost
//! per check; the endpoints' threads are not counted. exec's programs (`/bin/true`) are counted
//! separately (`RUSAGE_CHILDREN`). Every type is compared with litmus measured in the same run.
//! TLS: steady keep-alive, a resumed session on every check (new connection, abbreviated
//! handshake), and a full handshake on every check (a fresh prober: no session cache).

// A benchmark, like a test, may stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use big_brother::health::probe::{CheckPlan, Probe, Prober, TlsPlan};
use big_brother::health::serve::LitmusServer;
use big_brother::supervisor::checker::raise_fd_limit;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const BUDGET: Duration = Duration::from_secs(2);
const NAME: &str = "node.bench";

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    println!("big_brother check-type benchmarks ({} build)", profile());
    println!(
        "machine: {} CPUs; checker CPU per check (user+sys of the checking thread), loopback\n",
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    let (sizes, rounds): (&[usize], u32) = if quick {
        (&[100], 3)
    } else {
        (&[100, 1000], 5)
    };
    raise_fd_limit(8 * 1000 + 256);
    let pki = Pki::new();
    for &n in sizes {
        println!("{n} nodes, {rounds} measured rounds after one warm-up round:");
        println!(
            "  {:<28} {:>12} {:>10} {:>14}",
            "type", "CPU/check", "vs litmus", "wall/round"
        );
        let litmus = LitmusServer::start(local(), "app", 87.0).unwrap();
        let tls_srv = LitmusServer::start_tls(local(), "app", 87.0, pki.server()).unwrap();
        let tcp = Acceptor::start(b"");
        let agent = Acceptor::start(b"ready up 87%\n");
        let lit = |addr| {
            Probe::Litmus {
                path: "/app/status".into(),
            }
            .at(addr)
        };
        let base = measure(n, rounds, Mode::Keep, || lit(litmus.addr()).plan(None));
        report("litmus (keep-alive)", base, base);
        let http = || {
            Probe::Http {
                path: "/app/status".into(),
                expect_status: vec![(200, 299)],
                expect_body: Some("Health".into()),
            }
            .at(litmus.addr())
            .plan(None)
        };
        report(
            "http (keep-alive)",
            measure(n, rounds, Mode::Keep, http),
            base,
        );
        report(
            "tcp (connect)",
            measure(n, rounds, Mode::Keep, || Probe::Tcp.at(tcp.addr).plan(None)),
            base,
        );
        report(
            "agent (connect, line)",
            measure(n, rounds, Mode::Keep, || {
                Probe::Agent.at(agent.addr).plan(None)
            }),
            base,
        );
        let exec = || {
            Probe::Exec {
                argv: vec!["/bin/true".into()],
                env: vec![],
            }
            .at(local())
            .plan(None)
        };
        let m = measure(n, rounds, Mode::Keep, exec);
        report("exec (/bin/true)", m, base);
        println!(
            "  {:<28} {:>9.1} µs   (the programs themselves, not the checker)",
            "  exec children", m.children_us
        );
        let tls = || lit(tls_srv.addr()).plan(pki.plan());
        report(
            "litmus+TLS keep-alive",
            measure(n, rounds, Mode::Keep, tls),
            base,
        );
        report(
            "litmus+TLS resumed",
            measure(n, rounds, Mode::Reset, tls),
            base,
        );
        report(
            "litmus+TLS full handshake",
            measure(n, rounds, Mode::Fresh, tls),
            base,
        );
        println!();
    }
}

fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

struct At(Probe, SocketAddr);

trait AtExt {
    fn at(self, addr: SocketAddr) -> At;
}

impl AtExt for Probe {
    fn at(self, addr: SocketAddr) -> At {
        At(self, addr)
    }
}

impl At {
    fn plan(self, tls: Option<TlsPlan>) -> CheckPlan {
        CheckPlan {
            probe: self.0,
            tls,
            addr: self.1,
            real_port: 80,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// One prober per node for the whole run (keep-alive where the type has it).
    Keep,
    /// `reset()` before every check: a new connection, TLS session resumed.
    Reset,
    /// A new prober for every check: a new connection and a full TLS handshake.
    Fresh,
}

#[derive(Clone, Copy)]
struct Figures {
    cpu_us: f64,
    wall_ms: f64,
    children_us: f64,
    errors: u64,
}

fn measure(n: usize, rounds: u32, mode: Mode, plan: impl Fn() -> CheckPlan) -> Figures {
    let mut probers: Vec<Prober> = (0..n).map(|_| Prober::new(plan()).unwrap()).collect();
    let mut errors = 0u64;
    let round = |probers: &mut Vec<Prober>, errors: &mut u64| {
        for p in probers.iter_mut() {
            match mode {
                Mode::Keep => {}
                Mode::Reset => p.reset(),
                Mode::Fresh => *p = Prober::new(plan()).unwrap(),
            }
            if p.check(BUDGET).is_err() {
                *errors += 1;
            }
        }
    };
    round(&mut probers, &mut 0);
    let (cpu0, kids0) = (cpu(libc::RUSAGE_THREAD), cpu(libc::RUSAGE_CHILDREN));
    let t = Instant::now();
    for _ in 0..rounds {
        round(&mut probers, &mut errors);
    }
    let wall = t.elapsed();
    let (cpu1, kids1) = (cpu(libc::RUSAGE_THREAD), cpu(libc::RUSAGE_CHILDREN));
    let checks = (n as f64) * f64::from(rounds);
    Figures {
        cpu_us: (cpu1 - cpu0).as_secs_f64() * 1e6 / checks,
        wall_ms: wall.as_secs_f64() * 1e3 / f64::from(rounds),
        children_us: (kids1 - kids0).as_secs_f64() * 1e6 / checks,
        errors,
    }
}

fn report(name: &str, f: Figures, base: Figures) {
    println!(
        "  {:<28} {:>9.1} µs {:>9.2}× {:>11.1} ms{}",
        name,
        f.cpu_us,
        f.cpu_us / base.cpu_us,
        f.wall_ms,
        if f.errors > 0 {
            format!("   ({} failed checks!)", f.errors)
        } else {
            String::new()
        }
    );
}

fn cpu(who: libc::c_int) -> Duration {
    // SAFETY: rusage is plain data; getrusage writes into it only.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to our rusage.
    unsafe { libc::getrusage(who, &mut ru) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Accepts connections, writes `line` (maybe nothing) and closes: tcp and agent endpoints.
struct Acceptor {
    addr: SocketAddr,
}

impl Acceptor {
    fn start(line: &'static [u8]) -> Acceptor {
        let l = TcpListener::bind(local()).unwrap();
        let addr = l.local_addr().unwrap();
        // Lives as long as the benchmark process.
        thread::spawn(move || {
            for mut c in l.incoming().flatten() {
                let _ = c.write_all(line);
            }
        });
        Acceptor { addr }
    }
}

struct Pki {
    ca: tempfile::NamedTempFile,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

impl Pki {
    fn new() -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec![NAME.to_string()])
            .unwrap()
            .signed_by(&key, &ca, &ca_key)
            .unwrap();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(ca.pem().as_bytes()).unwrap();
        Pki {
            ca: file,
            chain: vec![leaf.der().clone()],
            key: key.serialize_der(),
        }
    }

    #[allow(deprecated)] // ring's provider: see health::tls
    fn server(&self) -> Arc<rustls::ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let c = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(self.chain.clone(), key)
        .unwrap();
        Arc::new(c)
    }

    fn plan(&self) -> Option<TlsPlan> {
        Some(TlsPlan {
            server_name: NAME.into(),
            ca_file: Some(self.ca.path().to_path_buf()),
            verify: true,
        })
    }
}
