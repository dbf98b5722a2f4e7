//! keepalived.conf → spec text: golden files for the fixtures (tests/fixtures/keepalived/,
//! written for these tests in the style of keepalived users' configs), refusals, what is
//! reported as not carried, and garbage that must never panic.
//! `BB_BLESS=1 cargo test keepalived` rewrites the golden files after a deliberate change.

use std::path::{Path, PathBuf};

use super::convert::checker::split_command;
use super::*;

/// Where the headers say the file came from: fixed, so the golden bytes do not depend on the
/// checkout's path.
const SOURCE: &str = "/etc/keepalived/keepalived.conf";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keepalived")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap()
}

fn conv(text: &str) -> Import {
    convert(Path::new(SOURCE), text, None).unwrap()
}

/// Every spec of `name.conf`, concatenated, against `name.golden.toml`.
fn golden(name: &str) -> Import {
    let import = conv(&read(&format!("{name}.conf")));
    let mut got = String::new();
    for c in &import.clusters {
        got.push_str(&format!("### {}.toml\n", c.name));
        got.push_str(&c.toml);
    }
    let path = fixtures().join(format!("{name}.golden.toml"));
    if std::env::var_os("BB_BLESS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert_eq!(got, want, "{name}: output differs from {}", path.display());
    import
}

fn dropped_keys(i: &Import) -> Vec<String> {
    let mut v: Vec<String> = i
        .dropped
        .iter()
        .chain(i.clusters.iter().flat_map(|c| c.dropped.iter()))
        .map(|d| format!("{}:{}", d.line, d.key))
        .collect();
    v.sort();
    v
}

#[test]
fn web_conf_converts_to_the_golden_specs() {
    let i = golden("web");
    assert_eq!(
        i.names,
        ["tcp_192.0.2.10_80", "tcp_192.0.2.10_443", "fwmark_7"]
    );
    let d = dropped_keys(&i);
    for want in [
        "5:global_defs",
        "13:vrrp_instance VI_1",
        "38:digest",
        "43:delay_before_retry",
        "65:ha_suspend",
        "83:quorum",
        "91:notify_down",
        "101:SMTP_CHECK",
    ] {
        assert!(d.contains(&want.to_string()), "{want} not reported: {d:?}");
    }
    let web = &i.clusters[0].toml;
    for part in [
        "protocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\n",
        "scheduler = \"rr\"",
        "forward = \"nat\"",
        "persistence_timeout = \"50s\"",
        "check_interval = \"6s\"",
        "check_timeout = \"3s\"",
        "fall = 4",
        "[sorry_server]\naddress = \"198.51.100.250\"\nport = 8080\nweight = 1\n",
        "check = \"http\"\npath = \"/health\"\nexpect_status = [200]\n",
        "expect_status = [\"200-299\"]",
        "max_weight = 2",
    ] {
        assert!(web.contains(part), "{part:?} missing:\n{web}");
    }
    let ssl = &i.clusters[1].toml;
    for part in [
        "forward = \"dr\"",
        "port = 8443\n",
        "tls = true\ntls_verify = false",
        "path = \"/status%20page\"",
    ] {
        assert!(ssl.contains(part), "{part:?} missing:\n{ssl}");
    }
    // The real server's port equals the service's: no real_port; the check port is connect_port.
    assert!(!ssl.contains("real_port = 443"), "{ssl}");
    let fw = &i.clusters[2].toml;
    for part in [
        "fwmark = 7\n",
        "forward = \"ipip\"",
        "scheduler = \"sh\"",
        "max_weight = 65535",
        "check = \"tcp\"",
        "check_command = [\"/usr/local/bin/check_smtp\", \"--host\", \"198.51.100.4\", \"quoted arg\"]",
        "check_timeout = \"2s\"",
    ] {
        assert!(fw.contains(part), "{part:?} missing:\n{fw}");
    }
    assert!(
        !fw.contains("real_port"),
        "no real_port on a fwmark service: {fw}"
    );
    let notes = i.clusters[2].notes.join("\n");
    assert!(notes.contains("weight 70000 is above"), "{notes}");
    assert!(
        notes.contains("sorry_server port 25 is left out"),
        "{notes}"
    );
    assert!(
        fw.contains("[sorry_server]\naddress = \"198.51.100.251\"\nweight = 1\n"),
        "{fw}"
    );
    assert!(notes.contains("misc_dynamic"), "{notes}");
    assert!(
        notes.contains("real_server 198.51.100.5 25 has no checker"),
        "{notes}"
    );
}

#[test]
fn plain_conf_converts_to_the_golden_spec() {
    let i = golden("plain");
    assert_eq!(i.clusters.len(), 1);
    assert!(!i.clusters[0].toml.contains("real_port"));
}

#[test]
fn not_carried_messages_name_file_line_and_key() {
    let i = conv(&read("web.conf"));
    let m = i.dropped[0].message(Path::new("/k.conf"));
    assert_eq!(
        m,
        "/k.conf:5: global_defs: not carried: keepalived's daemon settings (router id, SMTP, scripts); big_brother has none of them"
    );
    let hostile = Dropped {
        line: 1,
        key: "a\u{1b}[2J".into(),
        why: "x".into(),
    };
    assert!(!hostile.message(Path::new("/k")).contains('\u{1b}'));
}

#[test]
fn cluster_selects_one_virtual_server() {
    let i = convert(Path::new(SOURCE), &read("web.conf"), Some("fwmark_7")).unwrap();
    assert_eq!(i.clusters.len(), 1);
    assert_eq!(i.clusters[0].name, "fwmark_7");
    assert_eq!(i.names.len(), 3);
    let none = convert(Path::new(SOURCE), &read("web.conf"), Some("nope")).unwrap();
    assert!(none.clusters.is_empty());
}

fn problems(text: &str) -> Vec<String> {
    match convert(Path::new("/k.conf"), text, None) {
        Ok(i) => panic!(
            "accepted: {:?}",
            i.clusters.iter().map(|c| &c.toml).collect::<Vec<_>>()
        ),
        Err(e) => e.to_string().lines().map(str::to_string).collect(),
    }
}

#[test]
fn include_and_shell_commands_are_refused_with_reasons() {
    let p = problems(&read("include.conf"));
    assert!(
        p[0].starts_with("/k.conf:4:1: include: expected no `include`"),
        "{p:?}"
    );
    let p = problems(&read("shell.conf"));
    assert!(
        p[0].starts_with("/k.conf:5:13: misc_path: expected a command without shell syntax"),
        "{p:?}"
    );
    assert!(p[0].contains("\"|\""), "{p:?}");
    assert!(problems("$X=1\n")[0].contains("config parameters"));
    assert!(problems("@lb1 global_defs {\n}\n")[0].contains("conditional lines"));
}

#[test]
fn wrong_values_are_problems_with_line_and_column() {
    let p = problems(
        "virtual_server 192.0.2.1 99999 {\n}\nvirtual_server 192.0.2.1 80 {\n  lb_algo fastest\n  lb_kind XX\n  protocol SCTP\n}\nvirtual_server fwmark 0 {\n}\nvirtual_server fwmark 1 {\n  delay_loop 0.01\n  real_server 10.0.0.1 80 {\n    weight -1\n    HTTP_GET {\n      url {\n        status_code 700\n      }\n    }\n  }\n}\n",
    );
    let all = p.join("\n");
    for want in [
        "/k.conf:1:1: virtual_server: expected a port from 1 to 65535, not \"99999\"",
        "/k.conf:6:3: protocol: expected TCP or UDP",
        "/k.conf:8:1: virtual_server: expected a firewall mark",
        "/k.conf:11:3: delay_loop: expected a delay_loop big_brother can check at",
        "/k.conf:13:5: weight: expected a weight from 0 to 65535",
        "/k.conf:16:9: status_code: expected HTTP status codes from 100 to 599",
    ] {
        assert!(all.contains(want), "{want:?} not in\n{all}");
    }
    // A virtual_server refused for its service is not read further; the next one is.
    assert!(!all.contains("lb_algo"), "{all}");
    let p =
        problems("virtual_server 192.0.2.1 80 {\n  lb_algo fastest\n  lb_kind XX\n}\n").join("\n");
    assert!(
        p.contains("/k.conf:2:3: lb_algo: expected a kernel scheduler"),
        "{p}"
    );
    assert!(
        p.contains("/k.conf:3:3: lb_kind: expected NAT, DR or TUN"),
        "{p}"
    );
}

#[test]
fn a_service_twice_is_refused() {
    let p = problems("virtual_server 192.0.2.1 80 {\n}\nvirtual_server 192.0.2.1 80 {\n}\n");
    assert!(p[0].contains("3:1: virtual_server: expected each service once, but tcp_192.0.2.1_80 is also on line 1"), "{p:?}");
    // UDP and TCP on the same address and port are two services.
    let i =
        conv("virtual_server 192.0.2.1 53 {\n protocol UDP\n}\nvirtual_server 192.0.2.1 53 {\n}\n");
    assert_eq!(i.names, ["udp_192.0.2.1_53", "tcp_192.0.2.1_53"]);
}

#[test]
fn ipv6_services_get_valid_names() {
    let i = conv("virtual_server 2001:db8::10 443 {\n real_server 2001:db8::1 443 {\n  TCP_CHECK {\n  }\n }\n}\n");
    assert_eq!(i.names, ["tcp_2001-db8--10_443"]);
    assert!(i.clusters[0].toml.contains("address = \"2001:db8::1\""));
}

#[test]
fn commands_split_without_a_shell() {
    assert_eq!(
        split_command("/bin/x a 'b c' \"d\"").unwrap(),
        ["/bin/x", "a", "b c", "d"]
    );
    assert_eq!(split_command("  /bin/x  ").unwrap(), ["/bin/x"]);
    for bad in [
        "x a",
        "",
        "/bin/x > /tmp/y",
        "/bin/x $HOME",
        "/bin/x 'open",
        "/bin/a;b",
        "/bin/x `id`",
        "/bin/x *",
    ] {
        assert!(split_command(bad).is_err(), "{bad:?} accepted");
    }
    let many = format!("/bin/x{}", " a".repeat(64));
    assert!(split_command(&many).is_err());
}

#[test]
fn durations_and_counts_are_bounded() {
    let p = problems("virtual_server fwmark 1 {\n delay_loop 99999999999999999999\n persistence_timeout 4294967296\n}\n").join("\n");
    assert!(
        p.contains("2:2: delay_loop: expected a number of seconds"),
        "{p}"
    );
    assert!(
        p.contains("3:2: persistence_timeout: expected a count"),
        "{p}"
    );
    let i = conv("virtual_server fwmark 1 {\n delay_loop 0.5\n real_server 10.0.0.1 80 {\n  TCP_CHECK {\n   connect_timeout 3\n  }\n }\n}\n");
    let t = &i.clusters[0].toml;
    assert!(t.contains("check_interval = \"500ms\""), "{t}");
    // A budget longer than the interval is cut to it, and said so.
    assert!(t.contains("check_timeout = \"500ms\""), "{t}");
    assert!(i.clusters[0]
        .notes
        .iter()
        .any(|n| n.contains("longer than delay_loop")));
}

#[test]
fn too_many_virtual_servers_are_refused() {
    let mut t = String::new();
    for m in 1..=(MAX_SERVICES + 2) {
        t.push_str(&format!("virtual_server fwmark {m} {{\n}}\n"));
    }
    let p = problems(&t);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("at most 1024 virtual_server blocks"), "{p:?}");
}

#[test]
fn garbage_never_panics() {
    let words = [
        "virtual_server",
        "real_server",
        "HTTP_GET",
        "SSL_GET",
        "TCP_CHECK",
        "MISC_CHECK",
        "url",
        "path",
        "status_code",
        "misc_path",
        "weight",
        "fwmark",
        "1",
        "80",
        "192.0.2.1",
        "::1",
        "{",
        "}",
        "\n",
        "\"",
        "#",
        "!",
        "-1",
        "200-",
        "0.",
        ".5",
        "delay_loop",
        "retry",
        "connect_timeout",
        "include",
        "\u{202e}",
        "lb_kind",
        "TUN",
        "sorry_server",
        "protocol",
    ];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..3000 {
        let mut s = String::new();
        for _ in 0..(x % 120) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(words[(x % words.len() as u64) as usize]);
            s.push(if x % 3 == 0 { '\n' } else { ' ' });
        }
        let _ = convert(Path::new("/k"), &s, None);
        let _ = import(Path::new("/k"), &s, None, None);
    }
}

/// Every converted spec validates, check keys included.
#[test]
fn converted_specs_validate() {
    for name in ["web", "plain"] {
        let i = import(
            Path::new(SOURCE),
            &read(&format!("{name}.conf")),
            None,
            None,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!i.clusters.is_empty());
    }
}

/// What validates today: a converted spec with its check keys taken out. Proves everything
/// else the converter writes (service, scheduler, forward, durations, fall/rise, sorry server,
/// nodes, real_port, max_weight) is what main's spec rules accept.
#[test]
fn converted_specs_validate_without_their_check_keys() {
    let check_keys = [
        "check =",
        "path =",
        "expect_status =",
        "tls =",
        "tls_verify =",
        "tls_server_name =",
        "check_command =",
    ];
    for name in ["web", "plain"] {
        let i = conv(&read(&format!("{name}.conf")));
        for c in &i.clusters {
            let stripped: String = c
                .toml
                .lines()
                .filter(|l| !check_keys.iter().any(|k| l.starts_with(k)))
                .map(|l| format!("{l}\n"))
                .collect();
            crate::spec::parse(Path::new("/etc/big_brother/x.toml"), &stripped)
                .unwrap_or_else(|e| panic!("{}: {e}\n{stripped}", c.name));
        }
    }
}

/// Issue 17: persistence_granularity, ops, the scheduler flags and the real servers'
/// thresholds are carried (they were dropped before), and the spec they make validates.
#[test]
fn service_options_and_thresholds_are_carried() {
    let text = "virtual_server 192.0.2.53 53 {\n  protocol UDP\n  lvs_sched sh\n  flag-1\n  sh-port\n  ops\n  persistence_timeout 300\n  persistence_granularity 255.255.255.0\n  real_server 10.0.0.1 53 {\n    uthreshold 100\n    lthreshold 50\n    TCP_CHECK {\n      connect_port 53\n    }\n  }\n  real_server 10.0.0.2 53 {\n    lthreshold 5\n    TCP_CHECK {\n      connect_port 53\n    }\n  }\n}\nvirtual_server 2001:db8::80 80 {\n  lvs_sched wlc\n  sh-port\n  ops\n  persistence_timeout 60\n  persistence_granularity 64\n  real_server 2001:db8::1 80 {\n    TCP_CHECK {\n    }\n  }\n}\nvirtual_server 192.0.2.80 80 {\n  persistence_granularity 24\n  real_server 10.0.0.1 80 {\n  }\n}\n";
    let i = import(Path::new(SOURCE), text, None, None).unwrap_or_else(|e| panic!("{e}"));
    let udp = &i.clusters[0].toml;
    for line in [
        "persistence_timeout = \"300s\"\n",
        "persistence_netmask = \"255.255.255.0\"\n",
        "scheduler_flags = [\"sh-fallback\", \"sh-port\"]\n",
        "one_packet = true\n",
        "upper_threshold = 100\nlower_threshold = 50\n",
    ] {
        assert!(udp.contains(line), "{line:?} not in\n{udp}");
    }
    assert!(udp.contains("lthreshold 5 is left out"), "{udp}");
    let v6 = &i.clusters[1].toml;
    assert!(v6.contains("persistence_netmask = 64\n"), "{v6}");
    assert!(
        !v6.contains("scheduler_flags") && !v6.contains("one_packet"),
        "{v6}"
    );
    assert!(
        v6.contains("sh-port: scheduler \"wlc\" does not read this flag"),
        "{v6}"
    );
    assert!(v6.contains("ops is left out"), "{v6}");
    // A prefix length on an IPv4 service becomes its netmask; without persistence it is left out.
    let v4 = &i.clusters[2].toml;
    assert!(!v4.contains("persistence_netmask ="), "{v4}");
    assert!(v4.contains("persistence_granularity is left out"), "{v4}");
    let p = problems("virtual_server 192.0.2.1 80 {\n  persistence_timeout 5\n  persistence_granularity 33\n}\nvirtual_server 192.0.2.2 80 {\n  real_server 10.0.0.1 80 {\n    uthreshold 1000001\n  }\n}\n");
    let all = p.join("\n");
    assert!(all.contains("/k.conf:3:3: persistence_granularity: expected a netmask such as 255.255.255.0 or a prefix length from 1 to 32, not \"33\""), "{all}");
    assert!(
        all.contains("uthreshold: expected a connection threshold from 0 to 1000000, not 1000001"),
        "{all}"
    );
    let ok = conv(
        "virtual_server 192.0.2.1 80 {\n  persistence_timeout 5\n  persistence_granularity 24\n}\n",
    );
    assert!(ok.clusters[0]
        .toml
        .contains("persistence_netmask = \"255.255.255.0\"\n"));
}

#[test]
fn host_wide_global_defs_point_to_the_ipvs_sync_agent() {
    let text = "global_defs {\n  router_id lb1\n  lvs_timeouts tcp 7200 tcpfin 120 udp 300\n  \
                lvs_sync_daemon eth1 VI_1 id 42\n}\n\
                virtual_server 192.0.2.1 80 {\n  real_server 198.51.100.1 80 {\n    \
                TCP_CHECK {\n    }\n  }\n}\n";
    let i = conv(text);
    let notes: Vec<String> = i
        .dropped
        .iter()
        .map(|d| d.message(Path::new("/k.conf")))
        .collect();
    assert_eq!(notes.len(), 3, "{notes:#?}");
    assert!(notes[0].starts_with("/k.conf:1: global_defs: not carried"));
    assert!(
        notes[1].starts_with("/k.conf:3: lvs_timeouts")
            && notes[1].contains("ipvs_sync agent (crm generate --ipvs-timeouts"),
        "{notes:#?}"
    );
    assert!(
        notes[2].starts_with("/k.conf:4: lvs_sync_daemon")
            && notes[2].contains("--sync-interface IF --sync-id N"),
        "{notes:#?}"
    );
}
