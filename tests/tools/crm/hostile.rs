//! Issue 12, item 4: `crm generate` prints well-formed XML whatever the spec and `--config-dir`
//! hold. What XML 1.0 cannot carry (U+FFFE, U+FFFF, C0 controls) and what a terminal should
//! not show raw is refused by validation (exit 6, located) or by the argument parser (exit 2);
//! everything accepted — XML specials, quotes, accents, every character a NIC name may have —
//! is escaped, and the real `xmllint` accepts every format. A property test (pure) covers random
//! descriptions, NIC names and directories; a batch of accepted random inputs goes through
//! `xmllint` in one run.

use std::path::Path;

use big_brother::crm::generate::{self, config_dir_problem, Format};
use big_brother::crm::xml;
use big_brother::spec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::{path_str, FileCib};
use crate::util::{self, bb, require_tool};

/// A spec with a description and one VIP with `nic`, each as a TOML string (escaped by the TOML
/// serializer, so any text at all can be written).
fn spec_with(name: &str, fwmark: u32, description: &str, nic: Option<&str>) -> String {
    let mut t = format!(
        "name = \"{name}\"\ndescription = {}\nfwmark = {fwmark}\n[[vip]]\naddress = \"192.0.2.{}\"\n",
        toml::Value::String(description.into()),
        fwmark % 250 + 1
    );
    if let Some(n) = nic {
        t.push_str(&format!("nic = {}\n", toml::Value::String(n.into())));
    }
    t.push_str("[[node]]\naddress = \"198.51.100.1\"\nport = 80\n");
    t
}

/// Characters an attacker would try first, mixed with ordinary ones.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => proptest::char::range('\u{0}', '\u{20}'),
        2 => prop::sample::select(vec![
            '\u{FFFE}', '\u{FFFF}', '\u{7F}', '\u{85}', '\u{202E}', '\u{2028}', '\u{200B}',
            '\u{FEFF}', '\u{D7FF}', '\u{E000}', '\u{FFFD}', '\u{10FFFF}',
        ]),
        6 => prop::sample::select(vec![
            '&', '<', '>', '"', '\'', ';', '#', '/', ' ', 'é', 'a', 'Z', '0', '.', '-', '%', ']',
        ]),
    ]
}

fn hostile_string(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(hostile_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

/// The first `<group>` in document order (the root itself for `--format group`).
fn find_group(e: &xml::Element) -> Option<&xml::Element> {
    if e.name == "group" {
        return Some(e);
    }
    e.elements().find_map(find_group)
}

/// True when every character is one XML 1.0 can hold.
fn xml_chars_only(s: &str) -> bool {
    s.chars().all(big_brother::text::is_xml_char)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// Whatever validation and `--config-dir` accept renders to XML made only of XML 1.0
    /// characters, which reads back to the same values.
    #[test]
    fn whatever_is_accepted_renders_well_formed(
        description in hostile_string(24),
        nic in proptest::option::of(hostile_string(16)),
        dir in hostile_string(24),
    ) {
        let text = spec_with("h", 1, &description, nic.as_deref());
        let Ok(s) = spec::parse(Path::new("h.toml"), &text) else {
            return Ok(());
        };
        let dir = format!("/{dir}");
        let config_dir = config_dir_problem(&dir).is_none().then(|| Path::new(&dir));
        for format in [Format::Group, Format::Resources, Format::Cib] {
            let out = generate::render_all(std::slice::from_ref(&s), config_dir, format);
            prop_assert!(xml_chars_only(&out), "not XML 1.0 text:\n{:?}", out);
            let root = xml::parse(&out).unwrap();
            let group = find_group(&root).unwrap();
            prop_assert_eq!(group.get("description"), s.description.as_deref());
            if let Some(d) = config_dir {
                let config = group.find("nvpair", "ipvs_h_config").and_then(|n| n.get("value"));
                let want = d.join("h.toml").display().to_string();
                prop_assert_eq!(config, Some(want.as_str()));
            }
        }
    }
}

#[test]
fn what_xml_cannot_hold_is_refused_with_a_location() {
    let cib = FileCib::new();
    for (i, bad) in [
        "\u{FFFE}",
        "\u{FFFF}",
        "\u{1}",
        "\u{8}",
        "\u{B}",
        "\u{C}",
        "\u{1B}[2J",
        "\u{7}",
        "\u{7F}",
        "\u{202E}",
        "\u{2028}",
        "tab\there",
        "line\nbreak",
    ]
    .iter()
    .enumerate()
    {
        let f = cib.spec(
            &format!("bad{i}.toml"),
            &spec_with("bad", 1, &format!("Braintree {bad} Webapp"), None),
        );
        for args in [vec!["validate", &f], vec!["crm", "generate", &f]] {
            let r = cib.bb(&args);
            r.expect_code(6);
            assert!(
                r.stdout().is_empty() || args[0] == "validate",
                "{}",
                r.stdout()
            );
            let err = r.stderr();
            assert!(
                err.contains(&format!(
                    "{f}:2:15: description: expected a description of printable text"
                )),
                "{bad:?}: {err}"
            );
            // The message shows the character escaped, never raw.
            assert!(
                !err.chars()
                    .any(|c| c != '\n' && !big_brother::text::is_printable(c)),
                "{bad:?}: {err:?}"
            );
        }
        let r = cib.bb(&["crm", "apply", &f]);
        r.expect_code(6);
    }
    // A NIC is ASCII without spaces, '/' or ':'.
    let f = cib.spec("nic.toml", &spec_with("n", 1, "ok", Some("eth\u{FFFE}")));
    let r = bb(&["crm", "generate", &f]);
    r.expect_code(6);
    assert!(
        r.stderr()
            .contains("vip[0].nic: expected a network interface name"),
        "{}",
        r.stderr()
    );
}

#[test]
fn config_dir_must_be_printable_text() {
    let webapp = super::webapp();
    for bad in [
        "/srv/\u{1}bb",
        "/srv/\u{FFFE}",
        "/srv/\u{1B}[2J",
        "/srv/a\nb",
        "/srv/\u{202E}bb",
    ] {
        let r = bb(&["crm", "generate", "--config-dir", bad, &webapp]);
        r.expect_code(2);
        assert!(
            r.stderr()
                .contains("expected a directory path without control or format characters"),
            "{bad:?}: {}",
            r.stderr()
        );
        assert!(r.stdout().is_empty());
    }
    let long = format!("/{}", "d".repeat(4096));
    let r = bb(&["crm", "generate", "--config-dir", &long, &webapp]);
    r.expect_code(2);
    assert!(r.stderr().contains("at most 4096 bytes"), "{}", r.stderr());
}

/// Every accepted oddity, in every format, through the real `xmllint`: hand-picked edges plus
/// 100 random accepted inputs, all checked in one run. `xmllint` itself is shown to refuse the
/// characters validation keeps out, so this test could catch them.
#[test]
fn xmllint_accepts_every_format_for_hostile_but_valid_inputs() {
    let xmllint = require_tool("xmllint");
    let dir = tempfile::tempdir().unwrap();
    let mut specs: Vec<(String, Option<String>)> = vec![
        (
            spec_with(
                "edge1",
                1,
                "A & B <\"c\"> 'd' ;#%]]> -- <!-- ?>",
                Some("!\"#$%&'()*+,-.;"),
            ),
            Some("/srv/a b/&<>\"'/]]>".into()),
        ),
        (
            spec_with(
                "edge2",
                2,
                "Café Zürich 中文 😀 \u{E000}\u{FFFD}\u{10FFFF}\u{D7FF}",
                Some("<=>?@[\\]^_`{|}~"),
            ),
            Some("/srv/ü/ﬀ".into()),
        ),
        (spec_with("edge3", 3, "", None), None),
    ];
    let mut runner = TestRunner::deterministic();
    let strategy = (
        hostile_string(24),
        proptest::option::of(hostile_string(16)),
        hostile_string(24),
    );
    let mut tries = 0;
    while specs.len() < 103 {
        tries += 1;
        assert!(
            tries < 100_000,
            "too few accepted random inputs ({})",
            specs.len()
        );
        let (d, nic, cdir) = strategy.new_tree(&mut runner).unwrap().current();
        let n = specs.len();
        let text = spec_with(
            &format!("r{n}"),
            u32::try_from(n).unwrap() + 1,
            &d,
            nic.as_deref(),
        );
        if spec::parse(Path::new("r.toml"), &text).is_err() {
            continue;
        }
        let cdir = format!("/{cdir}");
        specs.push((text, config_dir_problem(&cdir).is_none().then_some(cdir)));
    }
    let mut outputs = Vec::new();
    for (i, (text, cdir)) in specs.iter().enumerate() {
        let f = util::write(dir.path(), &format!("s{i}.toml"), text);
        for format in ["group", "resources", "cib"] {
            let mut args = vec!["crm", "generate", "--format", format];
            if let Some(d) = cdir {
                args.extend(["--config-dir", d.as_str()]);
            }
            args.push(path_str(&f));
            let out = bb(&args).expect_code(0).stdout();
            outputs.push(util::write(dir.path(), &format!("s{i}-{format}.xml"), &out));
        }
    }
    let r = util::run(
        std::process::Command::new(&xmllint)
            .arg("--noout")
            .args(&outputs),
    );
    r.expect_code(0);
    assert_eq!(r.stderr(), "", "xmllint warnings");

    // The control: what validation refuses, xmllint refuses too.
    for bad in ['\u{FFFE}', '\u{FFFF}', '\u{1}', '\u{1B}'] {
        let f = util::write(
            dir.path(),
            "bad.xml",
            &format!("<group description=\"a{bad}b\" id=\"g\"/>\n"),
        );
        let r = util::run(std::process::Command::new(&xmllint).arg("--noout").arg(&f));
        assert_ne!(r.code(), 0, "xmllint accepted {bad:?}");
    }
}
