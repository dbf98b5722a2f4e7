//! The original big_brother's YAML, read the way Ruby read it: a small tree of positioned nodes
//! built from `saphyr-parser` events, with plain scalars resolved by YAML 1.1 rules as Ruby's
//! Psych does (`yes`/`on` are booleans, `0x1f` and `1_000` are integers, an empty value is null).
//! Aliases are expanded and `<<` merge keys applied, as Psych does. Unlike Psych, a key given
//! twice in one mapping is an error: Psych silently kept the last one, which hides typos.
//!
//! Alias expansion is bounded ("billion laughs": nine levels of ten aliases fit in 1 KiB and
//! expand to a billion values), and so is nesting ([`MAX_DEPTH`]): the tree may hold at most [`MAX_VALUES`] values and keys and
//! [`MAX_TEXT_BYTES`] of scalar text once every alias is expanded, and an alias may nest at
//! most [`MAX_ALIAS_DEPTH`] deep. The cost of an alias is known before it is copied, so a
//! hostile file is refused before it costs memory.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

/// Most values and keys the expanded tree may hold. A big_brother config with a hundred
/// clusters of fifty nodes has about 25,000.
pub const MAX_VALUES: usize = 200_000;
/// Most bytes of scalar text the expanded tree may hold (8 × the file size cap).
pub const MAX_TEXT_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting of lists and maps. A big_brother config needs 6 (clusters, a cluster, its
/// nodes, a node); `- - - - x` nests one level per two bytes, and a tree nested a hundred
/// thousand deep overflows the stack when it is dropped.
pub const MAX_DEPTH: usize = 64;
/// Deepest nesting of aliases: an alias to an anchored node that itself holds an alias is depth
/// 2. `<<: *defaults` is depth 1.
pub const MAX_ALIAS_DEPTH: usize = 8;

/// A value with the 1-based line and column where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys are unique (checked while building).
    Map(Vec<(Key, Node)>),
}

/// A mapping key: always a scalar, kept as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub line: usize,
    pub column: usize,
}

/// A YAML text that cannot be read, with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl Node {
    /// How a value is named in "expected …, not X" messages.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Null => "nothing".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => format!("the number {f}"),
            Value::Str(s) => format!("the string {}", crate::text::quoted(s, 80)),
            Value::Seq(_) => "a list".into(),
            Value::Map(_) => "a map".into(),
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value under `key` of a map node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }
}

/// Parses the first and only document of `text`. `Ok(None)` for a text with no document at all
/// (empty, or only comments).
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    let mut b = Builder::default();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| YamlError {
            line: Some(e.marker().line()),
            column: Some(e.marker().col() + 1),
            message: e.info().to_string(),
        })?;
        b.event(event, span)?;
    }
    Ok(b.document)
}

enum Frame {
    Seq {
        items: Vec<Node>,
        at: (usize, usize),
        anchor: usize,
        cost: Cost,
    },
    Map {
        entries: Vec<(Key, Node)>,
        key: Option<Key>,
        at: (usize, usize),
        anchor: usize,
        cost: Cost,
    },
}

impl Frame {
    fn cost(&mut self) -> &mut Cost {
        match self {
            Frame::Seq { cost, .. } | Frame::Map { cost, .. } => cost,
        }
    }
}

/// What a subtree costs once expanded: values and keys, scalar bytes, and how deep the aliases
/// inside it nest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cost {
    values: usize,
    bytes: usize,
    alias_depth: usize,
}

impl Cost {
    /// What opening a sequence or mapping costs: one value (its entries are charged as they
    /// come).
    const COLLECTION: Cost = Cost {
        values: 1,
        bytes: 0,
        alias_depth: 0,
    };

    fn add(&mut self, other: Cost) {
        self.values = self.values.saturating_add(other.values);
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.alias_depth = self.alias_depth.max(other.alias_depth);
    }
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    /// Each anchored node with what it costs to copy.
    anchors: HashMap<usize, (Node, Cost)>,
    document: Option<Node>,
    documents: usize,
    /// The whole tree so far.
    total: Cost,
}

fn pos(span: &Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

fn err_at(at: (usize, usize), message: impl Into<String>) -> YamlError {
    YamlError {
        line: Some(at.0),
        column: Some(at.1),
        message: message.into(),
    }
}

fn is_core(tag: &Tag, suffix: &str) -> bool {
    tag.is_yaml_core_schema() && tag.suffix == suffix
}

impl Builder {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let at = pos(&span);
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(err_at(
                        at,
                        "one YAML document (big_brother read only the first; remove the second `---`)",
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(t) = &tag {
                    if !t.is_yaml_core_schema() {
                        return Err(err_at(
                            at,
                            format!("a plain value, not one tagged {}{}", t.handle, t.suffix),
                        ));
                    }
                }
                let forced_str = tag.as_deref().is_some_and(|t| is_core(t, "str"));
                let value = if style == ScalarStyle::Plain && !forced_str {
                    resolve(&text)
                } else {
                    Value::Str(text.to_string())
                };
                let node = Node {
                    value,
                    line: at.0,
                    column: at.1,
                };
                let cost = Cost {
                    values: 1,
                    bytes: text.len(),
                    alias_depth: 0,
                };
                self.charge(cost, at)?;
                self.add_to_parent(cost);
                if anchor > 0 {
                    self.anchors.insert(anchor, (node.clone(), cost));
                }
                self.push(node, Some(text.as_ref()), at)?;
            }
            Event::Alias(id) => {
                let Some((_, anchored)) = self.anchors.get(&id) else {
                    return Err(err_at(at, "an alias to an anchor defined before it"));
                };
                let cost = Cost {
                    alias_depth: anchored.alias_depth + 1,
                    ..*anchored
                };
                if cost.alias_depth > MAX_ALIAS_DEPTH {
                    return Err(err_at(
                        at,
                        format!(
                            "aliases nested at most {MAX_ALIAS_DEPTH} deep (an alias to an anchor holding an alias to …); this one is {} deep",
                            cost.alias_depth
                        ),
                    ));
                }
                // Charged before the copy is made: a refused alias costs nothing.
                self.charge(cost, at)?;
                self.add_to_parent(cost);
                let Some((node, _)) = self.anchors.get(&id).cloned() else {
                    return Err(err_at(at, "an alias to an anchor defined before it"));
                };
                // An alias used as a key: its scalar text is the key.
                let key_text = match &node.value {
                    Value::Str(s) => Some(s.clone()),
                    Value::Int(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                };
                self.push(node, key_text.as_deref(), at)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(tag.as_deref(), "seq", at)?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    at,
                    anchor,
                    cost: Cost::COLLECTION,
                });
            }
            Event::MappingStart(anchor, tag) => {
                self.open(tag.as_deref(), "map", at)?;
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    key: None,
                    at,
                    anchor,
                    cost: Cost::COLLECTION,
                });
            }
            // The parser pairs ends with starts, so the frame is the collection this closes.
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = self.stack.pop() {
                    let (value, at, anchor, cost) = match frame {
                        Frame::Seq {
                            items,
                            at,
                            anchor,
                            cost,
                        } => (Value::Seq(items), at, anchor, cost),
                        Frame::Map {
                            entries,
                            at,
                            anchor,
                            cost,
                            ..
                        } => (Value::Map(merge_keys(entries)?), at, anchor, cost),
                    };
                    self.close(value, at, anchor, cost)?;
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    fn check_depth(&self, at: (usize, usize)) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(err_at(
                at,
                format!(
                    "lists and maps nested at most {MAX_DEPTH} deep (a big_brother config needs 6)"
                ),
            ));
        }
        Ok(())
    }

    /// Counts `cost` into the whole tree, or refuses it when the tree would outgrow its bounds.
    fn charge(&mut self, cost: Cost, at: (usize, usize)) -> Result<(), YamlError> {
        let mut total = self.total;
        total.add(cost);
        if total.values > MAX_VALUES {
            return Err(err_at(
                at,
                format!("at most {MAX_VALUES} values once aliases are expanded (a big_brother config needs far fewer)"),
            ));
        }
        if total.bytes > MAX_TEXT_BYTES {
            return Err(err_at(
                at,
                format!("at most {} MiB of text once aliases are expanded (this file's aliases expand past that)", MAX_TEXT_BYTES / (1024 * 1024)),
            ));
        }
        self.total = total;
        Ok(())
    }

    /// What opening a collection checks: its tag, the nesting depth, the values budget.
    fn open(&mut self, tag: Option<&Tag>, kind: &str, at: (usize, usize)) -> Result<(), YamlError> {
        check_collection_tag(tag, kind, at)?;
        self.check_depth(at)?;
        self.charge(Cost::COLLECTION, at)
    }

    /// Places a collection just closed: remembered under its anchor (with what it cost, so an
    /// alias is charged the same), counted into its parent, pushed.
    fn close(
        &mut self,
        value: Value,
        at: (usize, usize),
        anchor: usize,
        cost: Cost,
    ) -> Result<(), YamlError> {
        let node = Node {
            value,
            line: at.0,
            column: at.1,
        };
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), cost));
        }
        self.add_to_parent(cost);
        self.push(node, None, at)
    }

    /// Counts `cost` into the open collection (a scalar or alias placed in it, or a child
    /// collection just closed; the whole tree was charged as the parts arrived).
    fn add_to_parent(&mut self, cost: Cost) {
        if let Some(f) = self.stack.last_mut() {
            f.cost().add(cost);
        }
    }

    /// Places a finished node: as a key or value of the open mapping, an item of the open
    /// sequence, or the document itself.
    fn push(
        &mut self,
        node: Node,
        key_text: Option<&str>,
        at: (usize, usize),
    ) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.document = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    let Some(name) = key_text else {
                        return Err(err_at(at, "a plain key, not a list or map used as a key"));
                    };
                    // `<<` may repeat its merge sources only through a list; a real key twice is
                    // a mistake Psych would have hidden.
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == name) {
                        return Err(err_at(
                            at,
                            format!(
                                "each key once in a map, but {} is also on line {}",
                                crate::text::quoted(name, 80),
                                first.line
                            ),
                        ));
                    }
                    *key = Some(Key {
                        name: name.to_string(),
                        line: at.0,
                        column: at.1,
                    });
                }
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }
}

fn check_collection_tag(
    tag: Option<&Tag>,
    suffix: &str,
    at: (usize, usize),
) -> Result<(), YamlError> {
    match tag {
        Some(t) if !is_core(t, suffix) => Err(err_at(
            at,
            format!(
                "a plain list or map, not one tagged {}{}",
                t.handle, t.suffix
            ),
        )),
        _ => Ok(()),
    }
}

/// Applies YAML 1.1 merge keys: `<<: *defaults` (or a list of them) adds the keys the map does
/// not set itself; with a list, earlier maps win.
fn merge_keys(entries: Vec<(Key, Node)>) -> Result<Vec<(Key, Node)>, YamlError> {
    if !entries.iter().any(|(k, _)| k.name == "<<") {
        return Ok(entries);
    }
    let mut own = Vec::new();
    let mut sources = Vec::new();
    for (k, v) in entries {
        if k.name != "<<" {
            own.push((k, v));
            continue;
        }
        match v.value {
            Value::Map(m) => sources.push(m),
            Value::Seq(items) => {
                for item in items {
                    match item.value {
                        Value::Map(m) => sources.push(m),
                        _ => {
                            return Err(err_at(
                                (item.line, item.column),
                                "a map (an alias like *defaults) in the list after `<<`",
                            ))
                        }
                    }
                }
            }
            _ => {
                return Err(err_at(
                    (v.line, v.column),
                    "a map or a list of maps after `<<`",
                ))
            }
        }
    }
    for source in sources {
        for (k, v) in source {
            if !own.iter().any(|(o, _)| o.name == k.name) {
                own.push((k, v));
            }
        }
    }
    Ok(own)
}

/// YAML 1.1 resolution of a plain scalar, as Psych's `ScalarScanner` does it for the types the
/// config uses: null, booleans, integers (decimal with `_`/`,`, `0x`, `0o`/leading-0 octal,
/// `0b`) and floats. Everything else is a string.
pub fn resolve(text: &str) -> Value {
    let t = text.trim();
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    match t.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => return Value::Bool(true),
        "no" | "false" | "off" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = int(t) {
        return Value::Int(n);
    }
    if let Some(f) = float(t) {
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}

fn int(t: &str) -> Option<i64> {
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty() || body.starts_with(['_', ',']) {
        return None;
    }
    let digits = |s: &str, radix: u32, commas: bool| -> Option<i64> {
        let clean: String = s
            .chars()
            .filter(|c| *c != '_' && !(commas && *c == ','))
            .collect();
        if clean.is_empty() {
            return None;
        }
        i64::from_str_radix(&clean, radix).ok()
    };
    let n = if let Some(h) = body.strip_prefix("0x") {
        digits(h, 16, false)?
    } else if let Some(b) = body.strip_prefix("0b") {
        digits(b, 2, false)?
    } else if let Some(o) = body.strip_prefix("0o") {
        digits(o, 8, false)?
    } else if body.len() > 1 && body.starts_with('0') {
        digits(&body[1..], 8, false)?
    } else if body
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'_' || b == b',')
    {
        digits(body, 10, true)?
    } else {
        return None;
    };
    Some(if neg { -n } else { n })
}

fn float(t: &str) -> Option<f64> {
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // Only what looks like a number: digits, one dot, an exponent; `_` separators allowed.
    let body = t.trim_start_matches(['-', '+']);
    let first = body.chars().next()?;
    if !(first.is_ascii_digit() || first == '.') || !body.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '_' | 'e' | 'E' | '-' | '+'))
    {
        return None;
    }
    let clean: String = t.chars().filter(|c| *c != '_').collect();
    clean.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        parse(text).unwrap().unwrap()
    }

    #[test]
    fn scalars_resolve_like_psych() {
        assert_eq!(resolve(""), Value::Null);
        assert_eq!(resolve("~"), Value::Null);
        for t in ["yes", "Yes", "ON", "true", "True"] {
            assert_eq!(resolve(t), Value::Bool(true), "{t}");
        }
        for t in ["no", "OFF", "false"] {
            assert_eq!(resolve(t), Value::Bool(false), "{t}");
        }
        assert_eq!(resolve("y"), Value::Str("y".into()));
        assert_eq!(resolve("10000"), Value::Int(10000));
        assert_eq!(resolve("10_000"), Value::Int(10000));
        assert_eq!(resolve("1,000"), Value::Int(1000));
        assert_eq!(resolve("-3"), Value::Int(-3));
        assert_eq!(resolve("0x1f"), Value::Int(31));
        assert_eq!(resolve("017"), Value::Int(15));
        assert_eq!(resolve("0"), Value::Int(0));
        assert_eq!(resolve("1.5"), Value::Float(1.5));
        assert_eq!(resolve("127.0.0.1"), Value::Str("127.0.0.1".into()));
        assert_eq!(resolve("/test/valid"), Value::Str("/test/valid".into()));
        assert_eq!(resolve("wrr"), Value::Str("wrr".into()));
        assert_eq!(resolve("1e3"), Value::Float(1000.0));
        assert_eq!(resolve("e3"), Value::Str("e3".into()));
    }

    #[test]
    fn quoted_and_tagged_scalars_stay_strings() {
        let d = doc("a: \"7\"\nb: '7'\nc: !!str 7\nd: 7\n");
        assert_eq!(d.get("a").unwrap().value, Value::Str("7".into()));
        assert_eq!(d.get("b").unwrap().value, Value::Str("7".into()));
        assert_eq!(d.get("c").unwrap().value, Value::Str("7".into()));
        assert_eq!(d.get("d").unwrap().value, Value::Int(7));
    }

    #[test]
    fn positions_are_one_based() {
        let d = doc("---\nclusters:\n  - cluster_name: web\n    fwmark: 7\n");
        let c = &d.get("clusters").unwrap();
        let Value::Seq(items) = &c.value else {
            panic!()
        };
        let fw = items[0].get("fwmark").unwrap();
        assert_eq!((fw.line, fw.column), (4, 13));
        let (k, _) = &items[0].as_map().unwrap()[0];
        assert_eq!((k.name.as_str(), k.line, k.column), ("cluster_name", 3, 5));
    }

    #[test]
    fn aliases_and_merge_keys() {
        let d = doc(
            "base: &b\n  scheduler: wlc\n  fwmark: 1\nweb:\n  <<: *b\n  fwmark: 2\nother: *b\n",
        );
        let web = d.get("web").unwrap();
        assert_eq!(web.get("fwmark").unwrap().value, Value::Int(2));
        assert_eq!(
            web.get("scheduler").unwrap().value,
            Value::Str("wlc".into())
        );
        assert_eq!(
            d.get("other").unwrap().get("fwmark").unwrap().value,
            Value::Int(1)
        );
    }

    #[test]
    fn duplicate_keys_and_syntax_errors_are_located() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("also on line 1"), "{e:?}");
        let e = parse("clusters:\n  - cluster_name: web\n   fwmark: [1\n").unwrap_err();
        assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
        assert!(parse("a: !ruby/object:Foo 1\n").is_err());
    }

    /// Issue 12, item 8: the "billion laughs" shape is refused before it is expanded.
    #[test]
    fn alias_expansion_is_bounded() {
        let mut laughs =
            String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..=9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert!(laughs.len() < 1024, "{}", laughs.len());
        let t = std::time::Instant::now();
        let e = parse(&laughs).unwrap_err();
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        assert!(e.message.contains("at most 200000 values"), "{e:?}");
        assert!(e.line.is_some());

        // Deep but cheap: ten levels of one alias each.
        let mut deep = String::from("d0: &d0 x\n");
        for i in 1..=MAX_ALIAS_DEPTH + 1 {
            deep.push_str(&format!("d{i}: &d{i} [*d{}]\n", i - 1));
        }
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nested at most 8 deep"), "{e:?}");
        assert_eq!(e.line, Some(MAX_ALIAS_DEPTH + 2));
        let ok: String = deep
            .lines()
            .take(MAX_ALIAS_DEPTH + 1)
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse(&ok).is_ok());

        // Few values, much text: one 64 KiB scalar aliased 200 times.
        let big = format!(
            "s: &s {}\nl: [{}]\n",
            "x".repeat(65_536),
            vec!["*s"; 200].join(", ")
        );
        let e = parse(&big).unwrap_err();
        assert!(e.message.contains("MiB of text"), "{e:?}");
    }

    /// Deep nesting is refused by the parser's own recursion limit, at once, with a position
    /// (no stack overflow building or dropping the tree).
    #[test]
    fn deep_nesting_is_refused() {
        let flow = format!("clusters: {}{}", "[".repeat(200_000), "]".repeat(200_000));
        let e = parse(&flow).unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
        let dashes = format!("{}x", "- ".repeat(150_000));
        let e = parse(&dashes).unwrap_err();
        assert!(e.message.contains("nested at most 64 deep"), "{e:?}");
        assert_eq!((e.line, e.column), (Some(1), Some(129)));
        let block: String = (0..65)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(parse(&block)
            .unwrap_err()
            .message
            .contains("nested at most 64"));
        let ok: String = (0..64)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn costs_count_each_value_once() {
        let mut b = Builder::default();
        let text = "a: &x [1, 2, {k: v}]\nb: *x\n";
        for item in Parser::new_from_str(text) {
            let (event, span) = item.unwrap();
            b.event(event, span).unwrap();
        }
        // root map 1 + keys a, b 2 + seq 1 + 1, 2 2 + map 1 + k, v 2 = 9; the alias adds 6.
        assert_eq!(b.total.values, 15);
        assert_eq!(b.total.alias_depth, 1);
        assert_eq!(
            b.anchors[&1].1,
            Cost {
                values: 6,
                bytes: 4,
                alias_depth: 0
            }
        );
    }

    #[test]
    fn empty_text_has_no_document() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }
}
