//! The layering of `src/` (docs/ARCHITECTURE.md, "Layers"), checked on every `cargo test` so a
//! new import that would bend it fails here, with the edge named, instead of in a later review.
//!
//! Read from the sources the way `shared/tools/modgraph.py` reads them: every non-test
//! `crate::<room>` path in a room's files is an edge from that room; `#[cfg(test)]` modules and
//! `*_tests.rs` files are left out (tests may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each room and its layer: a room may use rooms of lower layers only. Rooms of one layer are
/// peers and never use each other (the agent, the supervisor, the API and the CIB generator are
/// four faces over the same shared rooms, not clients of one another).
const LAYERS: &[(&str, u8)] = &[
    // Leaves: text handling, the exit-code type, logging, running an outside tool.
    ("text", 0),
    ("exit", 0),
    ("log", 0),
    ("tool", 0),
    // Mechanisms that know nothing of big_brother's model: the kernel, the health protocol.
    ("ipvs", 1),
    ("health", 1),
    // The model: what a spec says.
    ("spec", 2),
    // What the faces share on disk: state directory, lock, status file, drains, backend choice.
    ("state", 3),
    // The application's error, wrapping the rooms below.
    ("error", 4),
    // The faces.
    ("ocf", 5),
    ("supervisor", 5),
    ("api", 5),
    ("crm", 5),
    // The command line: maps each face's outcome to an exit code.
    ("commands", 6),
    ("cli", 7),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's text without inline test modules (they sit at the end by convention) and `//`
/// comments.
fn production_text(path: &Path) -> String {
    strip_comments(without_test_module(&fs::read_to_string(path).unwrap()))
}

/// Cut at the first `#[cfg(test)] [pub] mod name {` (an inline module; `mod tests;` is a file
/// of its own, skipped by name).
fn without_test_module(text: &str) -> &str {
    let mut from = 0;
    while let Some(i) = text[from..].find("#[cfg(test)]") {
        let at = from + i;
        let rest = text[at + "#[cfg(test)]".len()..].trim_start();
        let rest = rest.strip_prefix("pub ").unwrap_or(rest);
        if let Some(m) = rest.strip_prefix("mod ") {
            let head: String = m.chars().take_while(|c| *c != ';' && *c != '{').collect();
            if m[head.len()..].starts_with('{') {
                return &text[..at];
            }
        }
        from = at + 1;
    }
    text
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| l.find("//").map_or(l, |i| &l[..i]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path that follows `prefix` in `text`, as its segments (`crate::spec::model::Node`
/// gives `[spec, model, Node]` for `crate::`); `{` groups end the path.
fn paths_after(text: &str, prefix: &str) -> BTreeSet<Vec<String>> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(ident) {
            continue;
        }
        let mut path = Vec::new();
        let mut tail = rest;
        loop {
            let seg: String = tail.chars().take_while(|c| ident(*c)).collect();
            if seg.is_empty() {
                break;
            }
            tail = &tail[seg.len()..];
            path.push(seg);
            match tail.strip_prefix("::") {
                Some(t) => tail = t,
                None => break,
            }
        }
        if !path.is_empty() {
            found.insert(path);
        }
    }
    found
}

/// The first segment of every path after `prefix`.
fn idents_after(text: &str, prefix: &str) -> BTreeSet<String> {
    paths_after(text, prefix)
        .into_iter()
        .map(|mut p| p.swap_remove(0))
        .collect()
}

struct File {
    room: String,
    /// Path of the module inside its room (`controller::watch`), empty for the room's root.
    module: Vec<String>,
    text: String,
}

fn files() -> Vec<File> {
    let root = src();
    let mut paths = Vec::new();
    rust_files(&root, &mut paths);
    paths
        .into_iter()
        .filter_map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            if name == "tests.rs" || name == "fixtures.rs" || name.ends_with("_tests.rs") {
                return None;
            }
            let rel = p.strip_prefix(&root).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|s| s.to_str().unwrap().to_string())
                .collect();
            let room = parts.remove(0);
            if room == "main" || room == "lib" {
                return None;
            }
            if parts.last().is_some_and(|l| l == "mod") {
                parts.pop();
            }
            Some(File {
                room,
                module: parts,
                text: production_text(&p),
            })
        })
        .collect()
}

#[test]
fn every_room_has_a_layer() {
    let layers: BTreeMap<_, _> = LAYERS.iter().copied().collect();
    let rooms: BTreeSet<String> = files().into_iter().map(|f| f.room).collect();
    let missing: Vec<_> = rooms
        .iter()
        .filter(|r| !layers.contains_key(r.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "rooms without a layer in tests/structure.rs: {missing:?}"
    );
    assert!(
        rooms.len() >= 14,
        "read too few rooms from {}: {rooms:?}",
        src().display()
    );
}

#[test]
fn rooms_use_only_lower_layers() {
    let layers: BTreeMap<_, _> = LAYERS.iter().copied().collect();
    let mut wrong = BTreeSet::new();
    let mut edges = 0;
    for file in files() {
        let from = layers[file.room.as_str()];
        for to in idents_after(&file.text, "crate::") {
            if to == file.room {
                continue;
            }
            edges += 1;
            match layers.get(to.as_str()) {
                Some(&layer) if layer < from => {}
                _ => {
                    wrong.insert(format!("{} (layer {from}) uses {to}", file.room));
                }
            }
        }
    }
    assert!(
        edges > 30,
        "found only {edges} edges: is the reader still right?"
    );
    assert!(wrong.is_empty(), "edges against the layering: {wrong:#?}");
}

/// Inside a room, file-level imports form no cycle (two files that need each other are one
/// module, or share a third).
#[test]
fn no_file_cycles_inside_a_room() {
    let all = files();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &all {
        let me = [file.room.clone()]
            .into_iter()
            .chain(file.module.iter().cloned())
            .collect::<Vec<_>>();
        let name = me.join("::");
        let targets = graph.entry(name).or_default();
        // `crate::room::a::b` and `super::a::b` name modules (or items in them); the longest
        // prefix that is a file is the edge's target.
        for path in paths_after(&file.text, &format!("crate::{}::", file.room)) {
            targets.insert(format!("{}::{}", file.room, path.join("::")));
        }
        if me.len() >= 2 {
            let parent = me[..me.len() - 1].join("::");
            for path in paths_after(&file.text, "super::") {
                targets.insert(format!("{parent}::{}", path.join("::")));
            }
        }
    }
    let names: BTreeSet<String> = graph.keys().cloned().collect();
    let file_of = |path: &str| -> Option<String> {
        let mut p = path.to_string();
        loop {
            if names.contains(&p) {
                return Some(p);
            }
            p = p.rsplit_once("::")?.0.to_string();
        }
    };
    let graph: BTreeMap<String, BTreeSet<String>> = graph
        .iter()
        .map(|(from, to)| {
            let to = to
                .iter()
                .filter_map(|t| file_of(t))
                // A module's own items and its ancestors (a child re-exporting through its
                // parent's `mod` line is the parent's structure, not a cycle).
                .filter(|t| t != from && !from.starts_with(&format!("{t}::")))
                .collect();
            (from.clone(), to)
        })
        .collect();
    let mut cycles = BTreeSet::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if next == start {
                    cycles.insert(path.join(" -> ") + " -> " + start);
                } else if path.len() < 8 && seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    assert!(graph.len() > 60, "read only {} files", graph.len());
    assert!(cycles.is_empty(), "file cycles: {cycles:#?}");
}

/// The process tier needs nothing beyond Rust and Python's standard library: a test there that
/// asks for an external tool belongs in `tools::` (where CI installs the tool).
#[test]
fn process_tier_asks_for_no_tool() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/process");
    let mut paths = Vec::new();
    rust_files(&dir, &mut paths);
    assert!(
        paths.len() >= 5,
        "read only {} process-tier files",
        paths.len()
    );
    let offenders: Vec<_> = paths
        .iter()
        .filter(|p| fs::read_to_string(p).unwrap().contains("require_tool("))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "process-tier files that need a tool: {offenders:?}"
    );
}

#[test]
fn the_reader_sees_a_layering_violation() {
    // Guard against a reader that finds nothing: a made-up file using a higher room is caught.
    let text =
        "use crate::supervisor::Control;\nfn f() { crate::text::clean(\"\"); } // crate::api";
    let found = idents_after(&strip_comments(text), "crate::");
    assert_eq!(
        found,
        ["supervisor", "text"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    assert!(idents_after("notcrate::x", "crate::").is_empty());
    let paths = paths_after("use super::demo::error::{DemoError, X};", "super::");
    assert_eq!(
        paths.into_iter().collect::<Vec<_>>(),
        vec![vec!["demo", "error"]]
    );
    let with_tests =
        "use crate::text;\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\nmod t {\n use crate::api;\n}";
    let kept = without_test_module(with_tests);
    assert!(
        kept.contains("mod tests;") && !kept.contains("crate::api"),
        "{kept}"
    );
}
