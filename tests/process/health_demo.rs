//! `big_brother demo` as an operator runs it: the real binary (whose demo drives the real
//! supervisor controller), loopback endpoints, plain output (stdout is a pipe here), and Ctrl-C.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{bb, bin};

/// Lines of plain output about one node.
fn lines_for<'a>(out: &'a str, id: &str) -> Vec<&'a str> {
    out.lines()
        .filter(|l| l.split_whitespace().nth(1) == Some(id))
        .collect()
}

/// The weight a plain change line reports (`… weight 12 -> 34 …`).
fn new_weight(line: &str) -> u32 {
    let w: Vec<&str> = line.split_whitespace().collect();
    let i = w.iter().position(|&x| x == "->").unwrap();
    w[i + 1].parse().unwrap()
}

#[test]
fn demo_tells_the_whole_story() {
    // 15 s gives the demo a 500 ms check interval: its story stays readable on a loaded machine
    // (at 6 s, 200 ms steps could be missed when the CPU is busy elsewhere).
    let r = bb(&["demo", "--duration", "15s", "--nodes", "4"]);
    r.expect_code(0);
    let out = r.stdout();
    let explain = format!("--- stdout\n{out}\n--- stderr\n{}", r.stderr());
    // Adopted weights: the first line per node is its old weight, never a drop to 0.
    for id in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        let first = lines_for(&out, id)[0];
        assert!(
            new_weight(first) >= 85,
            "{id} not adopted: {first}\n{explain}"
        );
    }
    // The forced-down node: weight 0 at once with the reason, then back up through a ramp.
    let forced = lines_for(&out, "127.0.0.4");
    let down = forced
        .iter()
        .position(|l| l.contains("forced_down") && l.contains("forced: apt upgrades"))
        .unwrap_or_else(|| panic!("no forced-down line\n{explain}"));
    assert_eq!(new_weight(forced[down]), 0, "{explain}");
    let after: Vec<u32> = forced[down + 1..].iter().map(|l| new_weight(l)).collect();
    assert!(
        after.len() >= 3,
        "no ramp after the force was lifted\n{explain}"
    );
    assert!(
        after.windows(2).all(|w| w[0] <= w[1]),
        "{after:?}\n{explain}"
    );
    assert!(
        after[0] <= 10,
        "recovery must ramp from 0, got {after:?}\n{explain}"
    );
    // The new node (the last one) ramps from 0 rather than jumping to its health.
    let newcomer: Vec<u32> = lines_for(&out, "127.0.0.5")
        .iter()
        .map(|l| new_weight(l))
        .collect();
    assert_eq!(newcomer.first(), Some(&0), "{explain}");
    assert!(newcomer.len() >= 4, "{newcomer:?}\n{explain}");
    assert!(newcomer.windows(2).all(|w| w[0] <= w[1]), "{newcomer:?}");
    // The final table: the degraded node at 20, everybody serving.
    let table = out.split("final state").nth(1).expect("final table");
    let row = |id: &str| {
        table
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} missing from the final table\n{explain}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("127.0.0.3")[1..3], ["20", "20"], "{explain}");
    for id in ["127.0.0.4", "127.0.0.5"] {
        assert_eq!(row(id)[3], "up", "{explain}");
    }
    // The drained node: weight 0 shown as drained, then back and ramping.
    let steady = lines_for(&out, "127.0.0.2");
    let drained = steady
        .iter()
        .position(|l| l.contains(" drained ") && new_weight(l) == 0)
        .unwrap_or_else(|| panic!("no drained line\n{explain}"));
    assert!(
        steady[drained + 1..]
            .iter()
            .all(|l| l.contains("ramping") || l.contains(" up ")),
        "{explain}"
    );
    assert!(
        ["ramping", "up"].contains(&row("127.0.0.2")[3].as_str()),
        "{explain}"
    );
}

#[test]
fn demo_rejects_bad_arguments() {
    let r = bb(&["demo", "--nodes", "2"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("--nodes: expected 4 to 64, not 2"),
        "{}",
        r.stderr()
    );
    bb(&["demo", "--duration", "1s"]).expect_code(2);
}

#[test]
fn demo_stops_on_ctrl_c() {
    let mut child = Command::new(bin())
        .args(["demo", "--duration", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: kill(2) on the PID of a child we spawned and have not reaped yet.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "demo ignored SIGINT for 10s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("final state"), "{stdout}");
}
