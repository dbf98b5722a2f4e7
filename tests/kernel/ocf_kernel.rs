//! Kernel tier of the OCF agent: `dry_run=false`, the supervisor programming the real kernel's
//! IPVS over netlink, cross-checked with `ipvsadm -Ln`; and `ocf-tester` against the installed
//! agent in that mode. Needs root and `ip_vs`, so every test is `#[ignore]`d on the host and runs
//! in the QEMU VM: `tests/vm/run -- <tests binary> --include-ignored ocf_kernel` (tests/run-all
//! does). Each test runs in a fresh network namespace (the agent, its supervisor and the
//! loopback health endpoints all inherit it), so nothing leaks between tests.

use std::process::Command;
use std::time::Duration;

use crate::ocf_support::{expect_reason, is_supervisor, signal, wait_for, Behaviour, Cluster};
use crate::util::{bin, in_netns, repo, require_tool, run};

const UP: Behaviour = Behaviour::Health(100);
const KERNEL: [(&str, &str); 1] = [("OCF_RESKEY_dry_run", "false")];

/// `ipvsadm -Ln`, whitespace collapsed, headers dropped.
pub fn ipvsadm() -> Vec<String> {
    let r = run(Command::new(require_tool("ipvsadm")).arg("-Ln"));
    r.expect_code(0);
    r.stdout()
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| {
            !l.is_empty()
                && !["IP Virtual Server", "Prot LocalAddress", "-> RemoteAddress"]
                    .iter()
                    .any(|h| l.starts_with(h))
        })
        .collect()
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn ocf_kernel_lifecycle_programs_real_ipvs() {
    in_netns(|| {
        let c = Cluster::new("kern1", &[UP, UP]);
        c.probe().expect_code(7);
        c.agent("start", &KERNEL).expect_code(0);
        let t = ipvsadm();
        assert_eq!(t[0], "FWM 7 wlc", "{t:?}");
        assert_eq!(t.len(), 3, "service and both nodes: {t:?}");
        assert!(t[1].starts_with("-> 127.0.0.1:0 Tunnel"), "{t:?}");
        c.agent("monitor", &KERNEL).expect_code(0);
        c.agent("monitor", &[KERNEL[0], ("OCF_CHECK_LEVEL", "10")])
            .expect_code(0);
        c.agent("start", &KERNEL).expect_code(0);

        // A weight changed behind the supervisor's back is put back within a tick or two.
        let r = run(Command::new(require_tool("ipvsadm")).args([
            "-e",
            "-f",
            "7",
            "-r",
            "127.0.0.1",
            "-i",
            "-w",
            "77",
        ]));
        r.expect_code(0);
        wait_for("the drift to be repaired", Duration::from_secs(10), || {
            !ipvsadm().iter().any(|l| l.contains(" 77 "))
        });

        // SIGKILL: the service stays in the kernel with no supervisor → failed, then stop
        // removes it.
        let pid = c.pid().unwrap();
        signal(pid, libc::SIGKILL);
        wait_for("the lock to be released", Duration::from_secs(10), || {
            !is_supervisor(pid)
        });
        let r = c.agent("monitor", &KERNEL);
        r.expect_code(1);
        expect_reason(&r, "no supervisor runs");
        // A restart adopts the kernel's service instead of re-creating it.
        c.agent("start", &KERNEL).expect_code(0);
        assert_eq!(ipvsadm().len(), 3);
        c.agent("stop", &KERNEL).expect_code(0);
        assert_eq!(ipvsadm(), Vec::<String>::new(), "stop removed the service");
        c.agent("monitor", &KERNEL).expect_code(7);
        c.agent("stop", &KERNEL).expect_code(0);
    });
}

/// The half of `ocf::without_kernel_ipvs_start_is_not_installed` that needs a kernel with IPVS:
/// `validate-all` at level 10 opens the kernel backend (0), and the fault knob that makes the
/// process tier's kernel look IPVS-less does so here too (5), so that test's premise is real.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn ocf_kernel_validate_all_level_10_opens_the_kernel_backend() {
    in_netns(|| {
        let c = Cluster::new("kern3", &[UP]);
        c.agent("validate-all", &[KERNEL[0], ("OCF_CHECK_LEVEL", "10")])
            .expect_code(0);
        let r = c.agent(
            "validate-all",
            &[
                KERNEL[0],
                ("OCF_CHECK_LEVEL", "10"),
                ("BIG_BROTHER_FAULT_IPVS_FAMILY", "bb-no-ipvs"),
            ],
        );
        r.expect_code(5);
        expect_reason(&r, "not available");
    });
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn ocf_kernel_ocf_tester_passes_against_real_ipvs() {
    in_netns(|| {
        let d = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            d.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let prefix = d.path().join("root");
        run(Command::new(repo().join("agents/install"))
            .arg("--prefix")
            .arg(&prefix)
            .arg(bin()))
        .expect_code(0);
        let agent = prefix.join("usr/lib/ocf/resource.d/braintree/ocf_big_brother");
        let c = Cluster::new("kern2", &[UP, Behaviour::Health(40)]);
        let r = run(Command::new(require_tool("ocf-tester"))
            .args(["-n", "ipvs_kern2", "-o", "cluster=kern2", "-o", "dry_run=0"])
            .arg("-o")
            .arg(format!("config={}", c.config.display()))
            .arg(&agent)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HA_RSCTMP", d.path().join("rsctmp"))
            .env("HA_LOGFACILITY", "none"));
        r.expect_code(0);
        assert!(r.stdout().contains("passed all tests"), "{}", r.stdout());
        assert_eq!(ipvsadm(), Vec::<String>::new(), "ocf-tester ends stopped");
    });
}
