//! What the packages are made of, tools tier: the man pages and completions that
//! `examples/gen_docs` writes (this module compiles the same code, `examples/gen_docs/docs`),
//! read back with the real man(1) and bash; the example spec, the systemd unit and the changelog
//! checked against the binary. Building, installing and purging the packages is the package
//! tier (`tests/package/run`, in a chroot).

use std::path::Path;
use std::process::Command;

use big_brother::ocf::metadata::ACTIONS;
use big_brother::ocf::params::PARAMS;
use clap::CommandFactory;

use crate::util::{bb, repo, require_tool, run};

#[path = "../../examples/gen_docs/docs/mod.rs"]
#[allow(dead_code)]
mod docs;

/// The visible subcommands' page names, `big_brother-crm-apply`, from the clap definitions.
fn subcommand_pages() -> Vec<String> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = format!("{prefix}-{}", sub.get_name());
            out.push(name.clone());
            walk(sub, &name, out);
        }
    }
    let mut out = Vec::new();
    let cmd = big_brother::cli::Cli::command().disable_help_subcommand(true);
    walk(&cmd, "big_brother", &mut out);
    out
}

fn generate(dir: &Path) -> Vec<String> {
    docs::generate(dir, "2026-01-02")
        .unwrap()
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect()
}

/// `man -l` of a page, formatted for a wide terminal; fails on any groff warning.
fn man(page: &Path) -> String {
    require_tool("man");
    let r = run(Command::new("man")
        .args(["--warnings", "-l"])
        .arg(page)
        .env("MANWIDTH", "200")
        .env("LC_ALL", "C.UTF-8"));
    r.expect_code(0);
    assert_eq!(r.stderr(), "", "groff warnings in {}", page.display());
    // man-db drops bold and underline when its output is not a terminal; justification adds
    // spaces, so whitespace runs become one space.
    r.stdout().split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_page_and_completion_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let files = generate(dir.path());
    let mut want: Vec<String> = subcommand_pages()
        .iter()
        .map(|p| format!("man8/{p}.8"))
        .collect();
    want.push("man8/big_brother.8".into());
    want.push("man7/ocf_braintree_ocf_big_brother.7".into());
    want.push("man7/ocf_braintree_ipvs_sync.7".into());
    want.push("completions/big_brother".into());
    want.push("completions/_big_brother".into());
    want.sort();
    assert_eq!(files, want);
    assert!(
        want.contains(&"man8/big_brother-crm-apply.8".to_string()),
        "nested subcommands get pages: {want:?}"
    );
    assert!(
        !files.iter().any(|f| f.contains("supervise")),
        "the hidden `supervise` gets no page"
    );
}

#[test]
fn pages_render_without_warnings_and_say_what_clap_says() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let top = man(&dir.path().join("man8/big_brother.8"));
    for section in [
        "SYNOPSIS",
        "SUBCOMMANDS",
        "AGENT MODE",
        "FILES",
        "EXIT STATUS",
    ] {
        assert!(top.contains(section), "{section} in big_brother(8):\n{top}");
    }
    for page in subcommand_pages() {
        // Each page is listed by its parent: big_brother(8) lists big_brother-crm(8), which
        // lists big_brother-crm-apply(8).
        let parent = page.rsplit_once('-').map(|(p, _)| p).unwrap();
        let listing = man(&dir.path().join(format!("man8/{parent}.8")));
        assert!(
            listing.contains(&format!("{page}(8)")),
            "{page} in {parent}:\n{listing}"
        );
        let text = man(&dir.path().join(format!("man8/{page}.8")));
        assert!(
            text.contains(&format!("SEE ALSO {parent}(8)")),
            "{page}:\n{text}"
        );
    }
    let apply = man(&dir.path().join("man8/big_brother-crm-apply.8"));
    assert!(apply.contains("--config-dir"), "{apply}");
}

#[test]
fn sync_agent_page_comes_from_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let text = man(&dir.path().join("man7/ocf_braintree_ipvs_sync.7"));
    for p in big_brother::ocf::sync::metadata::PARAMS {
        assert!(
            text.contains(&format!("OCF_RESKEY_{}=", p.name)),
            "{}",
            p.name
        );
    }
    for (name, _, _) in big_brother::ocf::sync::metadata::ACTIONS {
        assert!(text.contains(name), "action {name}");
    }
    assert!(
        text.contains("primitive ipvs_sync ocf:braintree:ipvs_sync"),
        "{text}"
    );
    assert!(text.contains("interval=30s"), "{text}");
}

#[test]
fn agent_page_comes_from_the_parameter_and_action_tables() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let text = man(&dir.path().join("man7/ocf_braintree_ocf_big_brother.7"));
    for p in PARAMS {
        assert!(
            text.contains(&format!("OCF_RESKEY_{}=", p.name)),
            "{}",
            p.name
        );
        // The first words of the long description, as meta-data prints them.
        let start: String = p
            .longdesc
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains(&start), "{start:?} in:\n{text}");
        if let Some(d) = p.default {
            assert!(
                text.contains(&format!("default {d})")),
                "{} default",
                p.name
            );
        }
    }
    for a in ACTIONS {
        assert!(text.contains(a.name), "action {}", a.name);
        if let Some(i) = a.interval {
            assert!(text.contains(&format!("interval={}s", i.as_secs())));
        }
    }
    for section in [
        "SUPPORTED PARAMETERS",
        "SUPPORTED ACTIONS",
        "EXAMPLE CRM SHELL",
        "EXAMPLE PCS",
    ] {
        assert!(text.contains(section), "{section}");
    }
    assert!(text.contains("primitive ipvs_webapp ocf:braintree:ocf_big_brother"));
    assert!(text.contains("pcs resource create ipvs_webapp ocf:braintree:ocf_big_brother"));
}

#[test]
fn generation_is_reproducible() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let files = generate(a.path());
    assert_eq!(files, generate(b.path()));
    for f in files {
        assert_eq!(
            std::fs::read(a.path().join(&f)).unwrap(),
            std::fs::read(b.path().join(&f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn bash_completion_completes_subcommands_and_options() {
    let bash = require_tool("bash");
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let script = dir.path().join("completions/big_brother");
    let complete = |words: &[&str]| {
        let line = words.join(" ");
        let r = run(Command::new(&bash).arg("-c").arg(format!(
            "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; \
             COMP_POINT={}; _big_brother big_brother '{}' '{}'; echo \"${{COMPREPLY[*]}}\"",
            script.display(),
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            words.len() - 1,
            line.len(),
            words[words.len() - 1],
            words[words.len() - 2],
        )));
        r.expect_code(0);
        r.stdout()
    };
    assert!(complete(&["big_brother", "cr"]).contains("crm"));
    let crm = complete(&["big_brother", "crm", ""]);
    for sub in ["generate", "check", "apply", "remove"] {
        assert!(crm.contains(sub), "{sub} in {crm:?}");
    }
    assert!(complete(&["big_brother", "api", "--"]).contains("--allow-remote"));
    assert!(
        !complete(&["big_brother", "su"]).contains("supervise"),
        "the internal subcommand is not offered"
    );
    let zsh = std::fs::read_to_string(dir.path().join("completions/_big_brother")).unwrap();
    assert!(!zsh.contains("supervise"), "nor by zsh");
}

#[test]
fn the_packaged_example_spec_validates() {
    let spec = repo().join("packaging/webapp.toml.example");
    let r = bb(&["validate", spec.to_str().unwrap()]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("ok (cluster webapp, 2 nodes, 1 VIPs)"),
        "{}",
        r.stdout()
    );
}

#[test]
fn the_units_command_line_is_one_big_brother_accepts() {
    let unit = std::fs::read_to_string(repo().join("packaging/big_brother-api.service")).unwrap();
    let exec: Vec<&str> = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line")
        .split_whitespace()
        .collect();
    assert_eq!(exec[0], "/usr/sbin/big_brother", "the packaged link");
    let mut args = exec[1..].to_vec();
    args.push("--help");
    bb(&args).expect_code(0);
}

#[test]
fn the_changelog_names_the_crate_version() {
    // packaging/build refuses to build otherwise; this catches it in `cargo test` already.
    let changelog = std::fs::read_to_string(repo().join("packaging/debian/changelog")).unwrap();
    let first = changelog.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("big-brother ({}) ", env!("CARGO_PKG_VERSION"))),
        "packaging/debian/changelog starts with {first:?}: add an entry for {}",
        env!("CARGO_PKG_VERSION")
    );
}
