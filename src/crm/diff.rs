//! Is the live group what the spec generates? Both sides are normalised the same way — operator
//! meta attributes removed, comments dropped, attributes sorted, indentation ignored — and then
//! compared as trees. When they differ, the operator gets a unified diff of the normalised text
//! (`-` live CIB, `+` spec), the form every operator already reads.
//!
//! Operator meta attributes (`target-role`, `is-managed` in a group's or its primitives'
//! `<meta_attributes>`) are how people stop or unmanage a resource by hand (`crm resource stop`,
//! `crm_resource --meta`). They are not part of the spec, so their presence is not a difference,
//! and `apply` carries them over (see `plan`). Any other extra element is a difference. Child
//! order is kept: it is meaningful for a group's members and harmless elsewhere (a reordered
//! list is rewritten in the spec's order).

use super::xml::{Element, Node};

/// Meta attribute names that belong to the operator, not to the spec.
pub const OPERATOR_META: &[&str] = &["target-role", "is-managed"];

/// Lines of context around each change in [`unified`].
const CONTEXT: usize = 3;

/// Largest table (old lines × new lines) the line diff computes exactly; beyond it the diff
/// shows everything as replaced (still correct, only less precise). Groups are small.
const MAX_CELLS: usize = 4_000_000;

/// The outcome of comparing one group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// The live group is what the spec generates (operator meta attributes aside).
    InSync,
    /// No group with that id in the CIB.
    Missing,
    /// The group exists but differs; `diff` is a unified diff of the normalised XML.
    Differs { diff: String },
}

/// True for a `<meta_attributes>` nvpair that belongs to the operator.
pub fn is_operator_nvpair(e: &Element) -> bool {
    e.name == "nvpair" && e.get("name").is_some_and(|n| OPERATOR_META.contains(&n))
}

/// Resources whose own `<meta_attributes>` may hold operator meta attributes.
pub fn is_resource(e: &Element) -> bool {
    matches!(e.name.as_str(), "group" | "clone" | "primitive")
}

/// A copy of `resource` without operator meta attributes (on it and on the groups, clones and
/// primitives inside it); a `<meta_attributes>` block left empty disappears.
pub fn strip_operator_meta(resource: &Element) -> Element {
    let mut g = resource.clone();
    strip_all(&mut g);
    g
}

fn strip_all(e: &mut Element) {
    if is_resource(e) {
        strip_one(e);
    }
    for c in e.elements_mut().filter(|c| is_resource(c)) {
        strip_all(c);
    }
}

fn strip_one(e: &mut Element) {
    for m in e.elements_mut().filter(|c| c.name == "meta_attributes") {
        m.children
            .retain(|n| !matches!(n, Node::Element(nv) if is_operator_nvpair(nv)));
    }
    e.children.retain(|n| match n {
        Node::Element(m) if m.name == "meta_attributes" => m.elements().next().is_some(),
        _ => true,
    });
}

/// Comments dropped, attributes sorted by name, recursively.
pub fn normalize(e: &Element) -> Element {
    let mut attrs = e.attrs.clone();
    attrs.sort();
    let mut children: Vec<Node> = e
        .children
        .iter()
        .filter_map(|n| match n {
            Node::Element(c) => Some(Node::Element(normalize(c))),
            Node::Text(t) => Some(Node::Text(t.clone())),
            Node::Comment(_) => None,
        })
        .collect();
    // A clone's attribute blocks and its primitive may come in any order (the schema
    // interleaves them); crmsh writes the blocks first, as the generator does.
    if e.name == "clone" {
        children.sort_by_key(|n| !matches!(n, Node::Element(c) if c.name.ends_with("_attributes")));
    }
    Element {
        name: e.name.clone(),
        attrs,
        children,
    }
}

/// Compares the live group (if any) with the generated one.
pub fn compare(live: Option<&Element>, wanted: &Element) -> Comparison {
    compare_all(live.as_slice(), &[wanted])
}

/// Compares what is live of one cluster (its group, clone and constraints, in the generated
/// order; empty when none) with what the spec generates. One element each side is exactly
/// [`compare`]: the diff of a cold group reads as it always did.
pub fn compare_all(live: &[&Element], wanted: &[&Element]) -> Comparison {
    if live.is_empty() {
        return Comparison::Missing;
    }
    let norm = |es: &[&Element]| -> Vec<Element> {
        es.iter()
            .map(|e| normalize(&strip_operator_meta(e)))
            .collect()
    };
    let (l, w) = (norm(live), norm(wanted));
    if l == w {
        return Comparison::InSync;
    }
    let text = |es: &[Element]| es.iter().map(Element::to_pretty).collect::<String>();
    Comparison::Differs {
        diff: unified(&text(&l), &text(&w), "live CIB", "spec"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Same,
    Del,
    Add,
}

/// A unified diff (`diff -u` layout, 3 lines of context) from `old` to `new`; empty when equal.
pub fn unified(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let script = edit_script(&a, &b);
    if script.iter().all(|(t, _)| *t == Tag::Same) {
        return String::new();
    }
    // Old/new line number (1-based) of each script entry.
    let mut pos = Vec::with_capacity(script.len());
    let (mut i, mut j) = (1usize, 1usize);
    for (t, _) in &script {
        pos.push((i, j));
        match t {
            Tag::Same => {
                i += 1;
                j += 1;
            }
            Tag::Del => i += 1,
            Tag::Add => j += 1,
        }
    }
    // Hunks: ranges of the script around changes, merged when their context overlaps.
    let changes: Vec<usize> = (0..script.len())
        .filter(|&k| script[k].0 != Tag::Same)
        .collect();
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &k in &changes {
        let start = k.saturating_sub(CONTEXT);
        let end = (k + CONTEXT + 1).min(script.len());
        match hunks.last_mut() {
            Some(h) if start <= h.1 => h.1 = end,
            _ => hunks.push((start, end)),
        }
    }
    let mut out = format!("--- {old_label}\n+++ {new_label}\n");
    for (s, e) in hunks {
        let slice = &script[s..e];
        let old_n = slice.iter().filter(|(t, _)| *t != Tag::Add).count();
        let new_n = slice.iter().filter(|(t, _)| *t != Tag::Del).count();
        let (os, ns) = pos[s];
        let old_start = if old_n == 0 { os - 1 } else { os };
        let new_start = if new_n == 0 { ns - 1 } else { ns };
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(old_start, old_n),
            range(new_start, new_n)
        ));
        for (t, line) in slice {
            let mark = match t {
                Tag::Same => ' ',
                Tag::Del => '-',
                Tag::Add => '+',
            };
            out.push(mark);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `start,count` as `diff -u` writes it (`start` alone when the count is 1).
fn range(start: usize, count: usize) -> String {
    if count == 1 {
        start.to_string()
    } else {
        format!("{start},{count}")
    }
}

/// Longest-common-subsequence edit script over lines, with common prefix and suffix trimmed
/// first (most group changes are a few lines in the middle).
fn edit_script<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(Tag, &'a str)> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut out: Vec<(Tag, &str)> = a[..prefix].iter().map(|l| (Tag::Same, *l)).collect();
    if ma.len().saturating_mul(mb.len()) > MAX_CELLS {
        out.extend(ma.iter().map(|l| (Tag::Del, *l)));
        out.extend(mb.iter().map(|l| (Tag::Add, *l)));
    } else {
        // lcs[i][j] = LCS length of ma[i..] and mb[j..].
        let (n, m) = (ma.len(), mb.len());
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        let at = |i: usize, j: usize| i * (m + 1) + j;
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[at(i, j)] = if ma[i] == mb[j] {
                    lcs[at(i + 1, j + 1)] + 1
                } else {
                    lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && ma[i] == mb[j] {
                out.push((Tag::Same, ma[i]));
                i += 1;
                j += 1;
            } else if j < m && (i == n || lcs[at(i, j + 1)] >= lcs[at(i + 1, j)]) {
                out.push((Tag::Add, mb[j]));
                j += 1;
            } else {
                out.push((Tag::Del, ma[i]));
                i += 1;
            }
        }
        // Show removals before additions within a changed run, as diff -u does.
        let mut k = 0;
        while k < out.len() {
            if out[k].0 == Tag::Same {
                k += 1;
                continue;
            }
            let end = (k..out.len())
                .find(|&e| out[e].0 == Tag::Same)
                .unwrap_or(out.len());
            out[k..end].sort_by_key(|(t, _)| *t != Tag::Del);
            k = end;
        }
    }
    out.extend(a[a.len() - suffix..].iter().map(|l| (Tag::Same, *l)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::xml::parse;

    const GROUP: &str = r#"<group id="g">
  <primitive class="ocf" id="p" provider="x" type="y">
    <instance_attributes id="p_ia">
      <nvpair id="p_a" name="a" value="1"/>
    </instance_attributes>
  </primitive>
  <primitive class="ocf" id="q" provider="x" type="y"/>
</group>
"#;

    #[test]
    fn equal_groups_are_in_sync_whatever_the_layout() {
        let live = parse(
            "<group id='g'><!-- hand edit --><primitive type='y' provider='x' id='p' class='ocf'>\
             <instance_attributes id='p_ia'><nvpair value='1' name='a' id='p_a'/></instance_attributes>\
             </primitive><primitive class='ocf' id='q' provider='x' type='y'/></group>",
        )
        .unwrap();
        assert_eq!(
            compare(Some(&live), &parse(GROUP).unwrap()),
            Comparison::InSync
        );
    }

    #[test]
    fn operator_meta_is_ignored_other_meta_is_not() {
        let wanted = parse(GROUP).unwrap();
        let with_ops = GROUP
            .replace(
                "</group>",
                "<meta_attributes id=\"g-m\"><nvpair id=\"g-m-t\" name=\"target-role\" value=\"Stopped\"/></meta_attributes></group>",
            )
            .replace(
                "type=\"y\"/>",
                "type=\"y\"><meta_attributes id=\"q-m\"><nvpair id=\"q-m-i\" name=\"is-managed\" value=\"false\"/></meta_attributes></primitive>",
            );
        let live = parse(&with_ops).unwrap();
        assert_eq!(compare(Some(&live), &wanted), Comparison::InSync);

        let sticky = with_ops.replace(
            "name=\"target-role\" value=\"Stopped\"/>",
            "name=\"target-role\" value=\"Stopped\"/><nvpair id=\"g-m-s\" name=\"resource-stickiness\" value=\"100\"/>",
        );
        match compare(Some(&parse(&sticky).unwrap()), &wanted) {
            Comparison::Differs { diff } => {
                assert!(diff.contains("-    <nvpair id=\"g-m-s\" name=\"resource-stickiness\""));
                assert!(!diff.contains("target-role"), "{diff}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_and_changed_values_are_reported() {
        let wanted = parse(GROUP).unwrap();
        assert_eq!(compare(None, &wanted), Comparison::Missing);
        let live = parse(&GROUP.replace("value=\"1\"", "value=\"2\"")).unwrap();
        let Comparison::Differs { diff } = compare(Some(&live), &wanted) else {
            panic!("should differ")
        };
        assert_eq!(
            diff,
            "--- live CIB\n+++ spec\n@@ -1,7 +1,7 @@\n <group id=\"g\">\n   <primitive class=\"ocf\" id=\"p\" provider=\"x\" type=\"y\">\n     <instance_attributes id=\"p_ia\">\n-      <nvpair id=\"p_a\" name=\"a\" value=\"2\"/>\n+      <nvpair id=\"p_a\" name=\"a\" value=\"1\"/>\n     </instance_attributes>\n   </primitive>\n   <primitive class=\"ocf\" id=\"q\" provider=\"x\" type=\"y\"/>\n"
        );
    }

    #[test]
    fn unified_layout_matches_diff_u() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n";
        let new = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n";
        assert_eq!(
            unified(old, new, "o", "n"),
            "--- o\n+++ n\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -9,3 +9,4 @@\n i\n j\n k\n+l\n"
        );
        assert_eq!(unified(old, old, "o", "n"), "");
        assert_eq!(
            unified("", "x\n", "o", "n"),
            "--- o\n+++ n\n@@ -0,0 +1 @@\n+x\n"
        );
    }

    #[test]
    fn removed_primitive_shows_as_removed_lines() {
        let wanted = parse(GROUP).unwrap();
        let live = parse(&GROUP.replace(
            "</group>",
            "<primitive class=\"ocf\" id=\"r\" provider=\"x\" type=\"y\"/></group>",
        ))
        .unwrap();
        let Comparison::Differs { diff } = compare(Some(&live), &wanted) else {
            panic!()
        };
        assert!(
            diff.contains("\n-  <primitive class=\"ocf\" id=\"r\""),
            "{diff}"
        );
        assert!(
            !diff
                .lines()
                .any(|l| l.starts_with('+') && !l.starts_with("+++")),
            "{diff}"
        );
    }
}
