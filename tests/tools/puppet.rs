//! The Puppet tier: the `pacemaker` module in `puppet/` checked by `puppet parser validate`,
//! `puppet epp validate` and `puppet-lint`, then `pacemaker::ipvs_resource` applied for real with
//! `puppet apply` and the cargo-built big_brother against a file-backed CIB (`CIB_file`).
//!
//! Every Puppet run gets its own confdir, vardir, codedir, rundir, logdir and publicdir in a
//! temp dir, and the module path holds one symlink `pacemaker` -> `puppet/`, so the host's Puppet
//! setup is neither read nor written. (The rspec-puppet catalog tests run as their own tier in
//! `tests/run-all`: `cd puppet && rspec`.)

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::util::{bin, repo, require_tool, run, Run};

/// The talk's manifest, character for character (REFERENCE.md, "The talk's Puppet usage").
const TALK: &str = r#"node "load1" {
  pacemaker::ipvs_resource { "webapp":
    description   => "Braintree Webapp",
    supervisor_id => "webapp",
    ip_resources  => [
      { 'address' => '204.109.13.7', 'nic' => 'eth10' }
    ]
  }
}
"#;

/// `puppet apply --detailed-exitcodes`: 0 nothing to do, 2 changes made, 4 failures, 1 the
/// catalog did not compile.
const NO_CHANGE: i32 = 0;
const CHANGED: i32 = 2;
const FAILED: i32 = 4;
const NO_CATALOG: i32 = 1;

/// One load balancer's worth of Puppet state, a spec directory and a file CIB.
struct Lab {
    dir: TempDir,
}

impl Lab {
    /// A fresh lab: an empty CIB with stonith disabled (as on any test cluster; `crm_verify`
    /// refuses resources without fencing otherwise) and a module path holding `pacemaker`.
    fn new() -> Lab {
        for tool in [
            "puppet",
            "cibadmin",
            "crm_attribute",
            "crm_resource",
            "crm_verify",
            "crm_diff",
        ] {
            require_tool(tool);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let lab = Lab { dir };
        std::fs::create_dir(lab.path("modules")).expect("modules dir");
        // The node's /etc; the define creates big_brother/ in it.
        std::fs::create_dir(lab.path("etc")).expect("etc dir");
        std::os::unix::fs::symlink(repo().join("puppet"), lab.path("modules/pacemaker"))
            .expect("module symlink");
        let empty = run(Command::new("cibadmin").arg("--empty"));
        empty.expect_code(0);
        std::fs::write(lab.cib(), empty.stdout()).expect("write cib");
        lab.cib_tool(
            "crm_attribute",
            &["-t", "crm_config", "-n", "stonith-enabled", "-v", "false"],
        )
        .expect_code(0);
        lab
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn cib(&self) -> PathBuf {
        self.path("cib.xml")
    }

    /// The spec directory the define is pointed at (the node's /etc/big_brother).
    fn config_dir(&self) -> PathBuf {
        self.path("etc/big_brother")
    }

    fn spec(&self, name: &str) -> PathBuf {
        self.config_dir().join(format!("{name}.toml"))
    }

    /// Resource defaults put in front of a manifest: the binary under test and the lab's spec
    /// directory. The talk's manifest itself stays untouched.
    fn defaults(&self) -> String {
        format!(
            "Pacemaker::Ipvs_resource {{\n  binary     => '{}',\n  config_dir => '{}',\n}}\n",
            bin().display(),
            self.config_dir().display()
        )
    }

    /// Runs a Pacemaker CLI tool against the lab's CIB file.
    fn cib_tool(&self, tool: &str, args: &[&str]) -> Run {
        run(Command::new(tool).args(args).env("CIB_file", self.cib()))
    }

    /// `puppet apply` of `manifest` (after the resource defaults) as node `load1`, with Puppet's
    /// state under `state` (one directory per simulated load balancer).
    fn apply_as(&self, state: &str, manifest: &str) -> Run {
        let state = self.path(state);
        let site = state.join("site.pp");
        std::fs::create_dir_all(&state).expect("state dir");
        std::fs::write(&site, format!("{}{manifest}", self.defaults())).expect("site.pp");
        let mut cmd = Command::new("puppet");
        cmd.arg("apply")
            .args(puppet_dirs(&state))
            .arg("--modulepath")
            .arg(self.path("modules"))
            .args([
                "--certname",
                "load1",
                "--detailed-exitcodes",
                "--color=false",
            ])
            .arg(&site)
            .env("CIB_file", self.cib());
        run(&mut cmd)
    }

    fn apply(&self, manifest: &str) -> Run {
        self.apply_as("load1", manifest)
    }

    /// The cluster's group as the CIB holds it, or `None` when there is none.
    fn group(&self, name: &str) -> Option<String> {
        let xpath = format!("//group[@id='{name}_group']");
        let r = self.cib_tool("cibadmin", &["--query", "--xpath", &xpath]);
        match r.code() {
            0 => Some(r.stdout()),
            // ENXIO: no such element.
            105 => None,
            _ => {
                r.expect_code(0);
                unreachable!()
            }
        }
    }

    /// The whole CIB file: equal bytes before and after a run prove the run wrote nothing (any
    /// write bumps `epoch`/`num_updates`).
    fn cib_bytes(&self) -> String {
        std::fs::read_to_string(self.cib()).expect("read cib")
    }

    fn verify(&self) {
        run(Command::new("crm_verify")
            .arg("--xml-file")
            .arg(self.cib())
            .arg("-V"))
        .expect_code(0);
    }

    /// Asserts that the CIB holds exactly what `big_brother crm generate` makes of the spec.
    fn assert_group_is_generated(&self, name: &str) {
        let spec = self.spec(name);
        let generated = run(Command::new(bin())
            .args(["crm", "generate", "--config-dir"])
            .arg(self.config_dir())
            .arg(&spec));
        generated.expect_code(0);
        let live = self.group(name).expect("group in the CIB");
        let a = self.dir.path().join("generated.xml");
        let b = self.dir.path().join("live.xml");
        std::fs::write(&a, generated.stdout()).expect("write");
        std::fs::write(&b, &live).expect("write");
        let diff = run(Command::new("crm_diff")
            .arg("--original")
            .arg(&a)
            .arg("--new")
            .arg(&b));
        assert_eq!(
            diff.code(),
            0,
            "CIB group differs from `crm generate`:\n{}\n--- generated\n{}\n--- live\n{live}",
            diff.stdout(),
            generated.stdout()
        );
    }

    fn meta(&self, rsc: &str, attr: &str) -> Option<String> {
        let r = self.cib_tool(
            "crm_resource",
            &["--resource", rsc, "--meta", "--get-parameter", attr],
        );
        (r.code() == 0).then(|| r.stdout().trim().to_string())
    }
}

/// Puppet's own directories, all inside `state`.
fn puppet_dirs(state: &Path) -> Vec<String> {
    [
        "confdir",
        "vardir",
        "codedir",
        "rundir",
        "logdir",
        "publicdir",
    ]
    .iter()
    .flat_map(|d| [format!("--{d}"), state.join(d).display().to_string()])
    .collect()
}

/// Output of a run, both streams, for `contains` checks.
fn said(r: &Run) -> String {
    format!("{}{}", r.stdout(), r.stderr())
}

/// The talk's manifest with extra parameters spliced in after `ip_resources`.
fn talk_with(extra: &str) -> String {
    TALK.replace("    ]\n  }", &format!("    ],\n{extra}\n  }}"))
}

#[test]
fn module_passes_parser_validate_epp_validate_and_lint() {
    require_tool("puppet");
    require_tool("puppet-lint");
    let module = repo().join("puppet");
    let state = tempfile::tempdir().expect("temp dir");
    let mut manifests: Vec<PathBuf> = Vec::new();
    for sub in ["manifests", "types", "functions"] {
        for e in std::fs::read_dir(module.join(sub)).expect("module dir") {
            manifests.push(e.expect("entry").path());
        }
    }
    assert!(manifests.len() >= 3, "module has manifests: {manifests:?}");
    run(Command::new("puppet")
        .args(["parser", "validate"])
        .args(puppet_dirs(state.path()))
        .args(&manifests))
    .expect_code(0);
    run(Command::new("puppet")
        .args(["epp", "validate"])
        .args(puppet_dirs(state.path()))
        .arg(module.join("templates/spec.toml.epp")))
    .expect_code(0);
    // --relative: the module's directory is `puppet/`, not `pacemaker/`.
    let lint = run(Command::new("puppet-lint")
        .args(["--relative", "--fail-on-warnings", "."])
        .current_dir(&module));
    lint.expect_code(0);
    assert_eq!(lint.stdout().trim(), "", "puppet-lint has remarks");
}

#[test]
fn puppet_lint_really_fails_on_a_warning() {
    // The lint test above proves something only if lint can fail here.
    require_tool("puppet-lint");
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = crate::util::write(
        dir.path(),
        "bad.pp",
        "# @summary x\nclass bad { file { '/tmp/x': ensure => present, mode => 644 } }\n",
    );
    let r = run(Command::new("puppet-lint")
        .arg("--fail-on-warnings")
        .arg(&bad));
    assert_ne!(r.code(), 0, "puppet-lint accepted {}", bad.display());
}

/// The talk's exact manifest compiles, writes a staged spec, puts the group into the CIB as
/// `crm generate` makes it (crm_verify passes), and a second run changes nothing.
#[test]
fn the_talks_exact_manifest_applies_and_is_idempotent() {
    let lab = Lab::new();
    let first = lab.apply(TALK);
    first.expect_code(CHANGED);
    let out = said(&first);
    assert!(
        out.contains("cluster webapp is staged"),
        "Puppet must warn that the talk's cluster has no service/nodes yet:\n{out}"
    );

    let spec = lab.spec("webapp");
    let text = std::fs::read_to_string(&spec).expect("spec written");
    assert!(
        text.ends_with(
            "name = \"webapp\"\ndescription = \"Braintree Webapp\"\n\n[[vip]]\naddress = \"204.109.13.7\"\nnic = \"eth10\"\n"
        ),
        "{text}"
    );
    let meta = std::fs::metadata(&spec).expect("stat spec");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o644);
    assert_eq!((meta.uid(), meta.gid()), (0, 0));

    lab.verify();
    lab.assert_group_is_generated("webapp");
    let group = lab.group("webapp").expect("group");
    for part in [
        "description=\"Braintree Webapp\"",
        "name=\"cluster\" value=\"webapp\"",
        "value=\"204.109.13.7\"",
        "name=\"nic\" value=\"eth10\"",
        "type=\"IPaddr2\"",
    ] {
        assert!(group.contains(part), "group lacks {part}:\n{group}");
    }

    let before = lab.cib_bytes();
    let second = lab.apply(TALK);
    second.expect_code(NO_CHANGE);
    assert_eq!(lab.cib_bytes(), before, "second run wrote the CIB");
}

/// A complete cluster (service + nodes): no staged warning, and editing the node list rewrites
/// the spec only — the CIB never mentions nodes, so it is not written.
#[test]
fn a_new_node_changes_the_spec_and_not_the_cib() {
    let lab = Lab::new();
    let one =
        talk_with("    fwmark => 7,\n    nodes  => [{ 'address' => '10.0.0.1', 'port' => 80 }],");
    let r = lab.apply(&one);
    r.expect_code(CHANGED);
    assert!(!said(&r).contains("staged"), "{}", said(&r));
    lab.verify();
    lab.assert_group_is_generated("webapp");
    run(Command::new(bin()).arg("validate").arg(lab.spec("webapp"))).expect_code(0);

    let cib = lab.cib_bytes();
    let spec_before = std::fs::read_to_string(lab.spec("webapp")).expect("spec");
    let two = talk_with(
        "    fwmark => 7,\n    nodes  => [{ 'address' => '10.0.0.1', 'port' => 80 }, { 'address' => '10.0.0.2', 'port' => 80 }],",
    );
    let r = lab.apply(&two);
    r.expect_code(CHANGED);
    let spec_after = std::fs::read_to_string(lab.spec("webapp")).expect("spec");
    assert_ne!(spec_before, spec_after);
    assert!(
        spec_after.contains("address = \"10.0.0.2\""),
        "{spec_after}"
    );
    assert!(
        !said(&r).contains("crm apply webapp]/returns: executed"),
        "crm apply ran for a node change:\n{}",
        said(&r)
    );
    assert_eq!(lab.cib_bytes(), cib, "a node change wrote the CIB");
    lab.apply(&two).expect_code(NO_CHANGE);
}

/// An operator's `target-role=Stopped` is not undone by Puppet, neither by a run with nothing
/// to do nor by one that must update the group.
#[test]
fn an_operators_stop_survives_puppet_runs() {
    let lab = Lab::new();
    lab.apply(TALK).expect_code(CHANGED);
    lab.cib_tool(
        "crm_resource",
        &[
            "--resource",
            "webapp_group",
            "--meta",
            "--set-parameter",
            "target-role",
            "--parameter-value",
            "Stopped",
        ],
    )
    .expect_code(0);
    assert_eq!(
        lab.meta("webapp_group", "target-role").as_deref(),
        Some("Stopped")
    );

    let cib = lab.cib_bytes();
    lab.apply(TALK).expect_code(NO_CHANGE);
    assert_eq!(lab.cib_bytes(), cib);

    let renamed = TALK.replace("Braintree Webapp", "Braintree Web App");
    lab.apply(&renamed).expect_code(CHANGED);
    let group = lab.group("webapp").expect("group");
    assert!(group.contains("Braintree Web App"), "{group}");
    assert_eq!(
        lab.meta("webapp_group", "target-role").as_deref(),
        Some("Stopped"),
        "apply dropped the operator's target-role:\n{group}"
    );
    lab.verify();
    lab.apply(&renamed).expect_code(NO_CHANGE);
}

/// `ensure => absent` deletes the group, then the spec; other clusters stay; a second run
/// changes nothing.
#[test]
fn ensure_absent_removes_group_and_spec_once() {
    let lab = Lab::new();
    let api = "pacemaker::ipvs_resource { 'api':\n  ip_resources => [{ 'address' => '192.0.2.9' }],\n  fwmark       => 9,\n}\n";
    lab.apply(&format!("{TALK}{api}")).expect_code(CHANGED);
    assert!(lab.group("webapp").is_some() && lab.group("api").is_some());
    lab.verify();

    let gone = TALK.replace("    ]\n  }", "    ],\n    ensure        => absent,\n  }");
    assert_ne!(gone, TALK);
    let r = lab.apply(&format!("{gone}{api}"));
    r.expect_code(CHANGED);
    assert_eq!(lab.group("webapp"), None, "group still in the CIB");
    assert!(!lab.spec("webapp").exists(), "spec still there");
    assert!(lab.group("api").is_some(), "another cluster was removed");
    assert!(lab.spec("api").exists());
    lab.verify();

    let cib = lab.cib_bytes();
    lab.apply(&format!("{gone}{api}")).expect_code(NO_CHANGE);
    assert_eq!(lab.cib_bytes(), cib);
}

/// A second load balancer applying the same manifest to the same CIB does nothing: apply only
/// acts when the CIB differs.
#[test]
fn a_second_load_balancer_does_not_fight() {
    let lab = Lab::new();
    lab.apply_as("load1", TALK).expect_code(CHANGED);
    let cib = lab.cib_bytes();
    let r = lab.apply_as("load2", TALK);
    r.expect_code(NO_CHANGE);
    assert_eq!(lab.cib_bytes(), cib, "the second balancer wrote the CIB");
}

/// A typo fails the compile with Puppet's message naming the parameter; nothing is written.
#[test]
fn a_typo_fails_the_compile_and_touches_nothing() {
    let lab = Lab::new();
    let cib = lab.cib_bytes();
    for (extra, says) in [
        ("    scheduler => 'wcl',", "parameter 'scheduler'"),
        (
            "    schedular => 'wlc',",
            "has no parameter named 'schedular'",
        ),
        ("    check_interval => '2',", "parameter 'check_interval'"),
        (
            "    fwmark => 7,\n    on_change => '/usr/local/bin/notify --team lb',",
            "parameter 'on_change' expects a Pacemaker::Onchange",
        ),
        (
            "    fwmark => 7,\n    on_change => ['/bin/true'],\n    on_change_timeout => '6m',",
            "parameter 'on_change_timeout'",
        ),
        (
            "    fwmark => 7,\n    on_change_timeout => '10s',",
            "on_change_timeout needs on_change",
        ),
        (
            "    fwmark => 7,\n    nodes => [{ 'adress' => '10.0.0.1', 'port' => 80 }],",
            "parameter 'nodes' index 0",
        ),
    ] {
        let r = lab.apply(&talk_with(extra));
        r.expect_code(NO_CATALOG);
        assert!(said(&r).contains(says), "wanted `{says}`:\n{}", said(&r));
        assert!(!lab.spec("webapp").exists());
        assert_eq!(lab.cib_bytes(), cib);
    }
}

/// `override_dir`, `on_change` and `on_change_timeout` reach a spec `big_brother validate`
/// accepts, and big_brother's own loader reads back every argument exactly as the manifest wrote
/// it: quotes, backslashes, `$`, a newline, a tab, an empty argument and a control character all
/// survive Puppet's strings and the template's TOML escaping.
#[test]
fn hook_and_override_dir_reach_the_spec_exactly() {
    let lab = Lab::new();
    let manifest = talk_with(concat!(
        "    fwmark            => 7,\n",
        "    nodes             => [{ 'address' => '10.0.0.1', 'port' => 80 }],\n",
        "    override_dir      => '/srv/big brother/overrides',\n",
        r#"    on_change         => ['/bin/sh', '-c', "printf '%s\\n' \"\$BB_MESSAGE\" \\\n  | logger -t \"lb #1\"\tx", 'sh', '', 'C:\\new', "bell\u0007"],"#,
        "\n    on_change_timeout => '5m',",
    ));
    let r = lab.apply(&manifest);
    r.expect_code(CHANGED);
    assert!(!said(&r).contains("staged"), "{}", said(&r));

    let spec = lab.spec("webapp");
    let text = std::fs::read_to_string(&spec).expect("spec written");
    assert!(
        text.contains(concat!(
            "override_dir = \"/srv/big brother/overrides\"\n",
            r#"on_change = ["/bin/sh", "-c", "printf '%s\\n' \"$BB_MESSAGE\" \\\n  | logger -t \"lb #1\"\tx", "sh", "", "C:\\new", "bell\u0007"]"#,
            "\non_change_timeout = \"5m\"\n",
        )),
        "{text}"
    );
    run(Command::new(bin()).arg("validate").arg(&spec)).expect_code(0);
    let loaded = big_brother::spec::load(&spec).expect("big_brother loads the spec");
    let hook = loaded.on_change.expect("on_change in the spec");
    assert_eq!(
        hook.argv,
        [
            "/bin/sh",
            "-c",
            "printf '%s\\n' \"$BB_MESSAGE\" \\\n  | logger -t \"lb #1\"\tx",
            "sh",
            "",
            "C:\\new",
            "bell\u{7}",
        ]
    );
    assert_eq!(hook.timeout, std::time::Duration::from_secs(300));
    assert_eq!(loaded.override_dir, Path::new("/srv/big brother/overrides"));
    lab.verify();
    lab.apply(&manifest).expect_code(NO_CHANGE);
}

/// What the types cannot see (a node listed twice) big_brother's own validation catches in
/// `validate_cmd`: the good spec on disk and the CIB stay as they were.
#[test]
fn a_spec_big_brother_refuses_never_replaces_the_good_one() {
    let lab = Lab::new();
    let good =
        talk_with("    fwmark => 7,\n    nodes  => [{ 'address' => '10.0.0.1', 'port' => 80 }],");
    lab.apply(&good).expect_code(CHANGED);
    let spec = std::fs::read_to_string(lab.spec("webapp")).expect("spec");
    let cib = lab.cib_bytes();

    let twice = talk_with(
        "    fwmark => 7,\n    nodes  => [{ 'address' => '10.0.0.1', 'port' => 80 }, { 'address' => '10.0.0.1', 'port' => 81 }],",
    );
    let r = lab.apply(&twice);
    r.expect_code(FAILED);
    assert!(said(&r).contains("listed twice"), "{}", said(&r));
    assert_eq!(
        std::fs::read_to_string(lab.spec("webapp")).expect("spec"),
        spec
    );
    assert_eq!(lab.cib_bytes(), cib);
}

/// Quotes, backslashes and XML specials survive TOML (the template's escaping) and the CIB;
/// non-ASCII text too.
#[test]
fn descriptions_reach_the_cib_exactly() {
    let lab = Lab::new();
    let quoted = TALK.replace(
        "\"Braintree Webapp\"",
        r#"'Braintree "Webapp" \ & <co> #1'"#,
    );
    assert_ne!(quoted, TALK);
    lab.apply(&quoted).expect_code(CHANGED);
    lab.verify();
    lab.assert_group_is_generated("webapp");
    let group = lab.group("webapp").expect("group");
    assert!(
        group.contains(r#"description="Braintree &quot;Webapp&quot; \ &amp; &lt;co&gt; #1""#),
        "{group}"
    );
    lab.apply(&quoted).expect_code(NO_CHANGE);

    let swiss = TALK.replace("Braintree Webapp", "Braintree Zürich ☃");
    lab.apply(&swiss).expect_code(CHANGED);
    lab.verify();
    let group = lab.group("webapp").expect("group");
    assert!(
        group.contains("description=\"Braintree Zürich ☃\""),
        "{group}"
    );
    lab.apply(&swiss).expect_code(NO_CHANGE);
}
