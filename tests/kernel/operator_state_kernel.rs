//! Kernel tier of issue 15: graceful removal and `drain --wait` against the real kernel's IPVS
//! (`dry_run=false`), with a real TCP connection held open through the service. Two network
//! namespaces the test makes: the director's (the test's `in_netns`: a dummy link with the VIP,
//! and one end of a veth pair) and the real servers' (a thread that unshares its own: the other
//! veth end with the nodes' addresses, their litmus_paper look-alikes and an echo service on
//! port 80, routing back through the director so NAT replies pass it). A local client connects
//! to the VIP; IPVS schedules it (LOCAL_OUT) and masquerades it to a node, and `ipvsadm -Ln`
//! counts it as the node's `ActiveConn`. `#[ignore]`d on the host; run in the VM with
//! `tests/vm/run -- <tests binary> --include-ignored operator_state_kernel`.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use big_brother::health::serve::LitmusServer;

use super::ocf_kernel::ipvsadm;
use crate::ocf_support::{wait_for, Cluster};
use crate::util::{in_netns, require_tool, run};

const KERNEL: [(&str, &str); 1] = [("OCF_RESKEY_dry_run", "false")];
const VIP: &str = "192.0.2.90";
const NODES: [&str; 2] = ["198.51.100.91", "198.51.100.92"];

fn sh(argv: &[&str]) {
    run(Command::new(require_tool(argv[0])).args(&argv[1..])).expect_code(0);
}

/// The real servers' namespace: returns their health ports once everything listens. The
/// thread lives (and keeps the servers up) until `stop` is dropped.
fn start_servers(stop: mpsc::Receiver<()>) -> Vec<u16> {
    let (tid_tx, tid_rx) = mpsc::channel();
    let (moved_tx, moved_rx) = mpsc::channel::<()>();
    let (ports_tx, ports_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("servers-netns".into())
        .spawn(move || {
            // SAFETY: unshare(2) with CLONE_NEWNET only changes this thread's namespace; the
            // threads and processes it starts inherit it.
            let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "unshare: {}", std::io::Error::last_os_error());
            // SAFETY: gettid has no preconditions.
            tid_tx.send(unsafe { libc::gettid() }).unwrap();
            moved_rx.recv().unwrap();
            sh(&["ip", "link", "set", "lo", "up"]);
            for n in NODES {
                sh(&["ip", "addr", "add", &format!("{n}/24"), "dev", "bbv1"]);
            }
            sh(&["ip", "link", "set", "bbv1", "up"]);
            sh(&["ip", "route", "add", "default", "via", "198.51.100.1"]);
            let health: Vec<LitmusServer> = NODES
                .iter()
                .map(|n| LitmusServer::start(format!("{n}:0").parse().unwrap(), "kst1", 100.0))
                .collect::<Result<_, _>>()
                .unwrap();
            let echo = TcpListener::bind("0.0.0.0:80").unwrap();
            std::thread::spawn(move || {
                for conn in echo.incoming().flatten() {
                    std::thread::spawn(move || {
                        let mut w = conn.try_clone().unwrap();
                        for line in BufReader::new(conn).lines() {
                            let Ok(line) = line else { break };
                            if writeln!(w, "{line}").is_err() {
                                break;
                            }
                        }
                    });
                }
            });
            ports_tx
                .send(health.iter().map(|h| h.addr().port()).collect())
                .unwrap();
            let _ = stop.recv();
            drop(health);
        })
        .unwrap();
    let tid = tid_rx.recv().unwrap();
    sh(&["ip", "link", "set", "bbv1", "netns", &tid.to_string()]);
    moved_tx.send(()).unwrap();
    ports_rx.recv_timeout(Duration::from_secs(30)).unwrap()
}

fn spec(c: &Cluster, ports: &[u16], nodes: &[usize]) -> String {
    let mut s = format!(
        "name = \"{}\"\nprotocol = \"tcp\"\naddress = \"{VIP}\"\nport = 80\nforward = \"nat\"\n\
         check_interval = \"500ms\"\nramp_up_time = \"1ms\"\nremoval_timeout = \"60s\"\n",
        c.name
    );
    for &i in nodes {
        s.push_str(&format!(
            "[[node]]\naddress = \"{}\"\nport = {}\npath = \"/kst1/status\"\n",
            NODES[i], ports[i]
        ));
    }
    s
}

/// A client connection through the VIP that echoes.
fn client() -> BufReader<TcpStream> {
    let s = TcpStream::connect_timeout(
        &SocketAddr::new(VIP.parse().unwrap(), 80),
        Duration::from_secs(5),
    )
    .expect("a connection through the VIP");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    BufReader::new(s)
}

fn echo(c: &mut BufReader<TcpStream>, text: &str) {
    writeln!(c.get_mut(), "{text}").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), text, "the connection still works");
}

/// `-> ADDR:80 Masq W Active Inactive` of a node, if present.
fn row(node: &str) -> Option<String> {
    ipvsadm()
        .into_iter()
        .find(|l| l.starts_with(&format!("-> {node}:80 ")))
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn operator_state_kernel_removal_waits_for_a_held_connection_and_drain_wait_follows_it() {
    in_netns(|| {
        sh(&["ip", "link", "add", "bb0", "type", "dummy"]);
        sh(&["ip", "link", "set", "bb0", "up"]);
        sh(&["ip", "addr", "add", &format!("{VIP}/32"), "dev", "bb0"]);
        sh(&[
            "ip", "link", "add", "bbv0", "type", "veth", "peer", "name", "bbv1",
        ]);
        sh(&["ip", "addr", "add", "198.51.100.1/24", "dev", "bbv0"]);
        sh(&["ip", "link", "set", "bbv0", "up"]);
        let (stop_tx, stop_rx) = mpsc::channel();
        let ports = start_servers(stop_rx);

        let c = Cluster::new("kst1", &[]);
        std::fs::write(&c.config, spec(&c, &ports, &[0])).unwrap();
        c.agent("start", &KERNEL).expect_code(0);
        wait_for("node 0 serving", Duration::from_secs(10), || {
            row(NODES[0]).is_some_and(|r| r.contains(" Masq 100 "))
        });
        let mut held = client();
        echo(&mut held, "before");
        wait_for(
            "the held connection counted",
            Duration::from_secs(10),
            || {
                row(NODES[0]).as_deref()
                    == Some(format!("-> {}:80 Masq 100 1 0", NODES[0]).as_str())
            },
        );

        // Item 3: node 0 leaves the spec, node 1 joins; node 0 stays at 0 while the
        // connection is open, and the connection keeps working.
        std::fs::write(&c.config, spec(&c, &ports, &[1])).unwrap();
        c.agent("reload-agent", &KERNEL).expect_code(0);
        wait_for("node 1 serving", Duration::from_secs(10), || {
            row(NODES[1]).is_some_and(|r| r.contains(" Masq 100 "))
        });
        assert_eq!(
            row(NODES[0]).as_deref(),
            Some(format!("-> {}:80 Masq 0 1 0", NODES[0]).as_str()),
            "{:?}",
            ipvsadm()
        );
        std::thread::sleep(Duration::from_secs(2));
        echo(&mut held, "during the removal");
        assert!(row(NODES[0]).is_some(), "kept while the connection is open");
        let st = c.status().unwrap();
        assert_eq!(st["removing"][0]["id"], format!("{}:80", NODES[0]), "{st}");
        assert_eq!(st["removing"][0]["active_conns"], 1, "{st}");
        drop(held);
        wait_for("node 0 deleted", Duration::from_secs(15), || {
            row(NODES[0]).is_none()
        });
        let log = c.log_text();
        assert!(
            log.contains(&format!(
                "node {}:80 removed: no active connections left",
                NODES[0]
            )),
            "{log}"
        );

        // Item 2: a connection to node 1 holds `drain --wait`; the timeout says what is left.
        let mut held = client();
        echo(&mut held, "to node 1");
        wait_for("counted", Duration::from_secs(10), || {
            row(NODES[1]).is_some_and(|r| r.ends_with(" 1 0"))
        });
        let config = c.config.display().to_string();
        let drain = |wait: &str| {
            let mut cmd = c.command("drain", &KERNEL);
            cmd.args(["kst1", NODES[1], "--config", &config, "--wait", wait]);
            cmd
        };
        let r = run(&mut drain("1500ms"));
        r.expect_code(1);
        assert!(
            r.stderr().contains(&format!(
                "kst1: {}:80: timed out after 1500ms: 1 active connection left (weight 0)",
                NODES[1]
            )),
            "{}",
            r.stderr()
        );
        let out = c.dir.path().join("wait.out");
        let mut waiting = drain("30s")
            .stdout(std::fs::File::create(&out).unwrap())
            .spawn()
            .unwrap();
        // It has looked at the kernel and seen the connection (the VM is slow to start it).
        wait_for(
            "drain --wait to see the connection",
            Duration::from_secs(15),
            || {
                std::fs::read_to_string(&out)
                    .unwrap_or_default()
                    .contains("weight 0, 1 active connection; waiting (at most 30s)")
            },
        );
        std::thread::sleep(Duration::from_secs(1));
        assert!(
            waiting.try_wait().unwrap().is_none(),
            "held by the connection"
        );
        echo(&mut held, "drained, still served");
        drop(held);
        let end = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = waiting.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < end, "drain --wait did not return");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(status.code(), Some(0));
        let t = ipvsadm();
        assert!(
            t.iter()
                .any(|l| l.starts_with(&format!("-> {}:80 Masq 0 0 ", NODES[1]))),
            "{t:?}"
        );
        c.agent("stop", &KERNEL).expect_code(0);
        drop(stop_tx);
    });
}
