//! The specs `big_brother import` writes from the original's example config fit in one real
//! CIB: `crm apply` writes their groups (VIP-less: only the big_brother primitive each) and the
//! real `crm_verify` accepts the result. The import itself is checked in `process::import`.

use crate::tools::crm::FileCib;
use crate::util::{bb, repo};

#[test]
fn imported_specs_apply_to_a_real_cib() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("specs");
    let legacy = repo().join("tests/fixtures/legacy/big_brother.conf");
    bb(&[
        "import",
        legacy.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ])
    .expect_code(0);
    let files: Vec<String> = ["webapp", "api", "search", "payments"]
        .iter()
        .map(|n| out.join(format!("{n}.toml")).to_str().unwrap().to_string())
        .collect();
    let cib = FileCib::new();
    let mut args = vec!["crm", "apply"];
    args.extend(files.iter().map(String::as_str));
    cib.bb(&args).expect_code(0);
    cib.verify();
    for id in ["ipvs_webapp", "ipvs_api", "ipvs_search", "ipvs_payments"] {
        assert!(cib.has_id(id), "{id}");
    }
}
