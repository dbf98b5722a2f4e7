//! `big_brother validate`: exit codes and messages that name the file, the position, the key
//! and what was expected.

use crate::util::{bb, repo, write};

const GOOD: &str = r#"
name = "webapp"
fwmark = 7
[[vip]]
address = "192.0.2.7"
nic = "eth0"
[[node]]
address = "198.51.100.1"
port = 80
"#;

fn rejects(body: &str, key: &str, expected_part: &str) {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "c.toml", body);
    let r = bb(&["validate", f.to_str().unwrap()]);
    r.expect_code(6);
    let err = r.stderr();
    assert!(
        err.contains(f.to_str().unwrap()),
        "message must name the file: {err}"
    );
    assert!(err.contains(key), "message must name `{key}`: {err}");
    assert!(
        err.contains(expected_part),
        "message must say `{expected_part}`: {err}"
    );
}

#[test]
fn example_specs_are_valid() {
    let ex = repo().join("crm/examples/webapp.toml");
    bb(&["validate", ex.to_str().unwrap()]).expect_code(0);
}

#[test]
fn good_minimal_spec() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "c.toml", GOOD);
    bb(&["validate", f.to_str().unwrap()]).expect_code(0);
}

#[test]
fn each_rule_is_enforced_with_a_located_message() {
    rejects(
        &format!("shedular = \"wlc\"\n{GOOD}"),
        "shedular",
        "unknown field",
    );
    rejects(
        &format!("{GOOD}\nshedular = \"wlc\"\n"),
        "node[0]",
        "unknown field",
    );
    rejects(
        &GOOD.replace("fwmark = 7", "fwmark = 0"),
        "fwmark",
        "from 1",
    );
    rejects(
        &GOOD.replace(
            "fwmark = 7",
            "fwmark = 7\naddress = \"192.0.2.7\"\nport = 443",
        ),
        "fwmark",
        "not both",
    );
    rejects(
        &format!("scheduler = \"fastest\"\n{GOOD}"),
        "scheduler",
        "twos",
    );
    rejects(
        &format!("forward = \"tun\"\n{GOOD}"),
        "forward",
        "ipip, dr, nat",
    );
    rejects(
        &format!("check_interval = \"0s\"\n{GOOD}"),
        "check_interval",
        "greater than zero",
    );
    rejects(
        &format!("ramp_up_time = \"-5s\"\n{GOOD}"),
        "ramp_up_time",
        "positive",
    );
    rejects(
        &GOOD.replace("192.0.2.7", "192.0.2.300"),
        "vip[0].address",
        "IPv4 or IPv6",
    );
    rejects(
        &GOOD.replace("198.51.100.1", "2001:db8::zz"),
        "node[0].address",
        "IPv4 or IPv6",
    );
    rejects(
        &GOOD.replace("port = 80", "port = 0"),
        "node[0].port",
        "from 1 to 65535",
    );
    rejects(
        &format!("{GOOD}path = \"status\"\n"),
        "node[0].path",
        "starting with '/'",
    );
    rejects(
        &GOOD.replace("\"webapp\"", "\"web app\""),
        "name",
        "Pacemaker ids",
    );
    rejects(
        &format!("{GOOD}\n[[node]]\naddress = \"198.51.100.1\"\nport = 81\n"),
        "node[1].address",
        "listed twice",
    );
    rejects(
        &format!("{GOOD}\n[[vip]]\naddress = \"192.0.2.7\"\n"),
        "vip[1].address",
        "listed twice",
    );
}

#[test]
fn more_than_4096_nodes_is_rejected() {
    let mut body = String::from("name = \"big\"\nfwmark = 1\n[[vip]]\naddress = \"192.0.2.1\"\n");
    for i in 0..4097u32 {
        body.push_str(&format!(
            "[[node]]\naddress = \"10.{}.{}.{}\"\nport = 80\n",
            i / 65536,
            (i / 256) % 256,
            i % 256
        ));
    }
    rejects(&body, "node", "at most 4096 nodes per cluster, not 4097");
}

#[test]
fn durations_accept_documented_forms() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["2s", "120s", "2000ms"] {
        // Top-level keys go before the first table header.
        let f = write(
            dir.path(),
            "c.toml",
            &format!("check_interval = \"{d}\"\n{GOOD}"),
        );
        bb(&["validate", f.to_str().unwrap()]).expect_code(0);
    }
}

#[test]
fn missing_file_names_it() {
    let r = bb(&["validate", "/nonexistent/spec.toml"]);
    r.expect_code(6);
    assert!(r.stderr().contains("/nonexistent/spec.toml"));
}

#[test]
fn specs_that_clash_are_rejected_together() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.toml", GOOD);
    let b = write(
        dir.path(),
        "b.toml",
        &GOOD.replace("fwmark = 7", "fwmark = 8"),
    );
    let r = bb(&["validate", a.to_str().unwrap(), b.to_str().unwrap()]);
    r.expect_code(6);
    assert!(
        r.stderr().contains("b.toml") && r.stderr().contains("name"),
        "{}",
        r.stderr()
    );
    let c = write(
        dir.path(),
        "c.toml",
        &GOOD
            .replace("\"webapp\"", "\"other\"")
            .replace("fwmark = 7", "fwmark = 8"),
    );
    let r = bb(&["validate", a.to_str().unwrap(), c.to_str().unwrap()]);
    r.expect_code(6);
    assert!(r.stderr().contains("vip.address"), "{}", r.stderr());
}

/// The talk's Puppet define gives only a name, a description and VIPs: such a *staged* spec is
/// valid (its CIB group can be generated), and `validate` says loudly that it cannot run yet.
#[test]
fn staged_spec_without_service_or_nodes_is_valid_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "webapp.toml",
        "name = \"webapp\"\ndescription = \"Braintree Webapp\"\n[[vip]]\naddress = \"192.0.2.7\"\nnic = \"eth10\"\n",
    );
    let r = bb(&["validate", f.to_str().unwrap()]);
    r.expect_code(0);
    let err = r.stderr();
    for part in [
        f.to_str().unwrap(),
        "staged",
        "fwmark",
        "node",
        "at least one",
    ] {
        assert!(err.contains(part), "note must mention `{part}`: {err}");
    }
}

#[test]
fn service_without_nodes_is_staged_too() {
    let dir = tempfile::tempdir().unwrap();
    let body = GOOD.split("[[node]]").next().unwrap();
    let f = write(dir.path(), "c.toml", body);
    let r = bb(&["validate", f.to_str().unwrap()]);
    r.expect_code(0);
    assert!(r.stderr().contains("staged"), "{}", r.stderr());
    assert!(!r.stderr().contains("fwmark"), "{}", r.stderr());
}

#[test]
fn a_runnable_spec_gets_no_staged_note() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "c.toml", GOOD);
    let r = bb(&["validate", f.to_str().unwrap()]);
    r.expect_code(0);
    assert!(!r.stderr().contains("staged"), "{}", r.stderr());
}

#[test]
fn nodes_or_sorry_server_without_a_service_are_rejected() {
    rejects(
        &GOOD.replace("fwmark = 7\n", ""),
        "fwmark",
        "a service for the nodes",
    );
    let vip_only = GOOD
        .split("[[node]]")
        .next()
        .unwrap()
        .replace("fwmark = 7\n", "");
    rejects(
        &format!("{vip_only}[sorry_server]\naddress = \"198.51.100.9\"\n"),
        "fwmark",
        "a service for the nodes",
    );
}

/// Issue 12, item 7: only regular files, at most 1 MiB, are read; a device, a FIFO or a symlink
/// to a device is refused at once (no read, no wait), naming the file.
#[test]
fn only_regular_files_up_to_1_mib_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let zero = dir.path().join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let big = write(
        dir.path(),
        "big.toml",
        &format!("{GOOD}{}", "#".repeat(1024 * 1024)),
    );
    for (f, what) in [
        (
            "/dev/zero".to_string(),
            "a regular file, not a character device",
        ),
        (
            zero.to_str().unwrap().to_string(),
            "a regular file, not a character device",
        ),
        (
            fifo.to_str().unwrap().to_string(),
            "a regular file, not a FIFO",
        ),
        (
            dir.path().to_str().unwrap().to_string(),
            "a regular file, not a directory",
        ),
        (
            big.to_str().unwrap().to_string(),
            "a file of at most 1024 KiB",
        ),
    ] {
        let t = std::time::Instant::now();
        let r = bb(&["validate", &f]);
        r.expect_code(6);
        assert!(
            r.stderr().contains(&format!("{f}: expected {what}")),
            "{f}: {}",
            r.stderr()
        );
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "{f}: {:?}",
            t.elapsed()
        );
    }
    // A symlink to a spec is a spec.
    let good = write(dir.path(), "good.toml", GOOD);
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink(&good, &link).unwrap();
    bb(&["validate", link.to_str().unwrap()]).expect_code(0);
}

/// 200,000 `[[vip]]` tables are refused (by size), never printed; 257 (under the size cap) by
/// the VIP cap, like nodes.
#[test]
fn vip_counts_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let mut huge = String::from("name = \"big\"\nfwmark = 1\n");
    for i in 0..200_000u32 {
        huge.push_str(&format!(
            "[[vip]]\naddress = \"10.{}.{}.{}\"\n",
            i / 65536,
            (i / 256) % 256,
            i % 256
        ));
    }
    let f = write(dir.path(), "huge.toml", &huge);
    let r = bb(&["crm", "generate", f.to_str().unwrap()]);
    r.expect_code(6);
    assert!(r.stdout().is_empty(), "{} bytes printed", r.stdout().len());
    assert!(r.stderr().contains("at most 1024 KiB"), "{}", r.stderr());

    let cut: String = huge
        .split("[[vip]]")
        .take(258)
        .collect::<Vec<_>>()
        .join("[[vip]]");
    let f = write(dir.path(), "many.toml", &cut);
    let r = bb(&["crm", "generate", f.to_str().unwrap()]);
    r.expect_code(6);
    assert!(r.stdout().is_empty());
    assert!(
        r.stderr()
            .contains("vip: expected at most 256 VIPs per cluster, not 257"),
        "{}",
        r.stderr()
    );
    let at_cap: String = huge
        .split("[[vip]]")
        .take(257)
        .collect::<Vec<_>>()
        .join("[[vip]]");
    let f = write(dir.path(), "cap.toml", &at_cap);
    bb(&["validate", f.to_str().unwrap()]).expect_code(0);
}

/// Issue 12, item 5: absurd durations are refused with the bound, not run.
#[test]
fn durations_have_documented_bounds() {
    rejects(
        &format!("check_interval = \"18446744073709551615ms\"\n{GOOD}"),
        ":1:18: check_interval",
        "expected a duration from 100ms to 5m, not \"18446744073709551615ms\"",
    );
    rejects(
        &format!("check_interval = \"2000m\"\n{GOOD}"),
        "check_interval",
        "from 100ms to 5m, not \"2000m\"",
    );
    rejects(
        &format!("ramp_up_time = \"999999999h\"\n{GOOD}"),
        "ramp_up_time",
        "from 1ms to 1h",
    );
    rejects(
        &format!("{GOOD}[ops.ipvs]\nstop_timeout = \"2h\"\n"),
        "ops.ipvs.stop_timeout",
        "from 1ms to 1h",
    );
}

/// Issue 12, items 4 and 6: what validation says about a file never carries its control or
/// bidirectional characters to the terminal raw, not even in a key the parser refuses.
#[test]
fn messages_never_carry_raw_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    for (i, body) in [
        format!("\"evil\\u001b]0;pwned\\u0007\" = 1\n{GOOD}"),
        format!("description = \"\\u001b[2J\\u202e\"\n{GOOD}"),
        GOOD.replace("eth0", "eth\\u001b"),
        GOOD.replace("webapp", "web\\u0007app"),
    ]
    .iter()
    .enumerate()
    {
        let f = write(dir.path(), &format!("c{i}.toml"), body);
        let r = bb(&["validate", f.to_str().unwrap()]);
        r.expect_code(6);
        let err = r.stderr();
        assert!(err.contains(f.to_str().unwrap()), "{err}");
        assert!(
            !err.chars()
                .any(|c| c != '\n' && (c.is_control() || c == '\u{202e}')),
            "{body}: {err:?}"
        );
        assert!(err.contains("\\u{1b}") || err.contains("\\u{7}"), "{err}");
    }
    // A non-UTF-8 file is located at its first bad byte.
    let f = dir.path().join("latin1.toml");
    std::fs::write(&f, b"name = \"w\"\ndescription = \"caf\xe9\"\n").unwrap();
    let r = bb(&["validate", f.to_str().unwrap()]);
    r.expect_code(6);
    assert!(
        r.stderr().contains(&format!(
            "{}:2:19: expected UTF-8 text, not the byte 0xE9",
            f.display()
        )),
        "{}",
        r.stderr()
    );
}
