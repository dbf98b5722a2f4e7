//! `crm check` / `crm apply` and the supervisor running a spec on this machine: a spec-only
//! change (a node added; nodes never appear in the CIB) makes check exit 1 and apply reload the
//! running supervisor in place — same pid, service never deleted — and a spec made invalid is
//! refused without disturbing it.

use std::process::Command;
use std::time::Duration;

use crate::ocf_support::{wait_for, Behaviour, Cluster};
use crate::util::{bin, require_tool, run, Run};

/// `big_brother crm VERB SPEC` with the cluster's environment and a file CIB.
fn crm(c: &Cluster, cib: &std::path::Path, verb: &str) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(["crm", verb, c.config.to_str().unwrap()])
        .env("CIB_file", cib)
        .env("HA_RSCTMP", &c.rsctmp)
        .env("HA_LOGFILE", &c.log)
        .env("HA_LOGFACILITY", "none");
    run(&mut cmd)
}

#[test]
fn spec_only_change_reloads_the_local_supervisor_in_place() {
    require_tool("cibadmin");
    let c = Cluster::new("rel", &[Behaviour::Health(80), Behaviour::Health(60)]);
    c.write_spec(7, 1);
    let cib = c.dir.path().join("cib.xml");
    let empty = run(Command::new(require_tool("cibadmin")).arg("--empty"));
    std::fs::write(&cib, empty.expect_code(0).stdout()).unwrap();

    crm(&c, &cib, "apply").expect_code(0);
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();
    crm(&c, &cib, "check").expect_code(0);

    // One more node: the CIB stays in sync, the running supervisor does not.
    c.write_spec(7, 2);
    let r = crm(&c, &cib, "check");
    r.expect_code(1);
    assert!(r.stdout().contains("runs an older"), "{}", r.stdout());
    let before = std::fs::read(&cib).unwrap();
    let r = crm(&c, &cib, "apply");
    r.expect_code(0);
    assert!(
        r.stdout().contains("reloaded the supervisor here"),
        "{}",
        r.stdout()
    );
    assert_eq!(
        std::fs::read(&cib).unwrap(),
        before,
        "a spec-only change must not write the CIB"
    );
    assert_eq!(c.pid(), Some(pid), "reload, not restart");
    wait_for(
        "the new node in the dry-run table",
        Duration::from_secs(10),
        || c.table().is_some_and(|t| t.len() == 2),
    );
    crm(&c, &cib, "check").expect_code(0);
    assert!(
        !c.log_text().contains("removing the old one") && !c.log_text().contains(": removed FWM"),
        "the service must never be deleted: {}",
        c.log_text()
    );

    // An invalid spec: refused before anything is touched; the old one keeps running.
    std::fs::write(
        &c.config,
        c.spec_text(7, 2).replace("fwmark = 7", "fwmark = 0"),
    )
    .unwrap();
    let r = crm(&c, &cib, "apply");
    r.expect_code(6);
    assert!(r.stderr().contains("fwmark"), "{}", r.stderr());
    assert_eq!(c.pid(), Some(pid));
    assert_eq!(c.table().map(|t| t.len()), Some(2));
    c.agent("monitor", &[]).expect_code(0);
    c.agent("stop", &[]).expect_code(0);
}
