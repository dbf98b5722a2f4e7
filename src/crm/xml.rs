//! A small XML element tree for CIB fragments: parsed from what `cibadmin` prints (quick-xml),
//! written back as Pacemaker prints it (2-space indentation, `<x/>` for empty elements, one
//! element per line, trailing newline).
//!
//! The CIB has no mixed content, so the tree keeps elements, comments and non-blank text, and
//! drops whitespace-only text (indentation). Attribute order is kept as given: the generator
//! builds elements with alphabetical attributes (as Pacemaker's own tools print them), and a
//! parsed CIB is written back in its own order, so an edited copy differs from the original only
//! where it was edited (`crm_diff` sees nothing else). Attribute values are always escaped,
//! including `\n`, `\r` and `\t`, which XML would otherwise normalise to spaces on reading.

use std::fmt::Write as _;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// One element with its attributes (in order) and children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// A child of an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    /// Comment text without `<!--`/`-->`.
    Comment(String),
    /// Unescaped, non-blank character data.
    Text(String),
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("malformed XML at byte {position}: {message}")]
    Malformed { position: u64, message: String },
    #[error("no root element")]
    Empty,
    #[error("more than one root element (<{first}> and <{second}>)")]
    SeveralRoots { first: String, second: String },
}

impl Element {
    pub fn new(name: &str) -> Element {
        Element {
            name: name.to_string(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Builder: appends an attribute (callers add them in alphabetical order).
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Element {
        self.attrs.push((name.to_string(), value.into()));
        self
    }

    /// Builder: appends a child element.
    pub fn child(mut self, child: Element) -> Element {
        self.children.push(Node::Element(child));
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn id(&self) -> Option<&str> {
        self.get("id")
    }

    /// Child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// Child elements, mutable, in order.
    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// First child element named `name`.
    pub fn first(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    pub fn first_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.elements_mut().find(|e| e.name == name)
    }

    /// Depth-first search (self included) for an element named `name` with id `id`.
    pub fn find(&self, name: &str, id: &str) -> Option<&Element> {
        if self.name == name && self.id() == Some(id) {
            return Some(self);
        }
        self.elements().find_map(|c| c.find(name, id))
    }

    /// Like [`Element::find`], mutable.
    pub fn find_mut(&mut self, name: &str, id: &str) -> Option<&mut Element> {
        if self.name == name && self.id() == Some(id) {
            return Some(self);
        }
        self.elements_mut().find_map(|c| c.find_mut(name, id))
    }

    /// Every `id` attribute in this subtree, self included, in document order.
    pub fn ids(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_ids(&mut out);
        out
    }

    fn collect_ids<'a>(&'a self, out: &mut Vec<&'a str>) {
        if let Some(id) = self.id() {
            out.push(id);
        }
        for c in self.elements() {
            c.collect_ids(out);
        }
    }

    /// Pacemaker-style text: 2-space indentation, one element per line, trailing newline.
    pub fn to_pretty(&self) -> String {
        let mut out = String::new();
        self.write_into(&mut out, 0);
        out
    }

    fn write_into(&self, out: &mut String, depth: usize) {
        let pad = "  ".repeat(depth);
        out.push_str(&pad);
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            let _ = write!(out, " {k}=\"{}\"", escape_attr(v));
        }
        if self.children.is_empty() {
            out.push_str("/>\n");
            return;
        }
        out.push_str(">\n");
        for c in &self.children {
            match c {
                Node::Element(e) => e.write_into(out, depth + 1),
                Node::Comment(t) => {
                    let _ = writeln!(out, "{pad}  <!--{t}-->");
                }
                Node::Text(t) => {
                    let _ = writeln!(out, "{pad}  {}", escape_text(t));
                }
            }
        }
        let _ = writeln!(out, "{pad}</{}>", self.name);
    }
}

/// Escapes an attribute value (the one escaper, shared with the CIB drains and overrides).
pub use crate::text::xml_attr as escape_attr;

fn escape_text(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Parses a document with exactly one root element (a leading XML declaration, comments and
/// processing instructions outside the root are ignored).
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut roots = parse_many(text)?.into_iter();
    let first = roots.next().ok_or(XmlError::Empty)?;
    if let Some(second) = roots.next() {
        return Err(XmlError::SeveralRoots {
            first: first.name,
            second: second.name,
        });
    }
    Ok(first)
}

/// Parses a sequence of top-level elements (what `generate --format group` prints for several
/// specs). Text outside elements must be blank.
pub fn parse_many(text: &str) -> Result<Vec<Element>, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut roots = Vec::new();
    let malformed = |reader: &Reader<&[u8]>, message: String| XmlError::Malformed {
        position: reader.buffer_position(),
        message,
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(&reader, e.to_string()))?;
        match event {
            Event::Start(s) => stack.push(start(&reader, &s)?),
            Event::Empty(s) => {
                let e = start(&reader, &s)?;
                attach(&mut stack, &mut roots, e);
            }
            Event::End(_) => {
                let e = stack
                    .pop()
                    .ok_or_else(|| malformed(&reader, "unmatched end tag".into()))?;
                attach(&mut stack, &mut roots, e);
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| malformed(&reader, e.to_string()))?;
                if !s.trim().is_empty() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(Node::Text(s.trim().to_string())),
                        None => {
                            return Err(malformed(
                                &reader,
                                format!("text outside any element: {:?}", s.trim()),
                            ))
                        }
                    }
                }
            }
            Event::CData(c) => {
                let s = String::from_utf8_lossy(&c).into_owned();
                if let Some(parent) = stack.last_mut() {
                    if !s.trim().is_empty() {
                        parent.children.push(Node::Text(s));
                    }
                }
            }
            Event::Comment(c) => {
                if let Some(parent) = stack.last_mut() {
                    parent
                        .children
                        .push(Node::Comment(String::from_utf8_lossy(&c).into_owned()));
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(malformed(
            &reader,
            format!("element <{}> is not closed", open.name),
        ));
    }
    Ok(roots)
}

/// Places a finished element under the open one, or as a root.
fn attach(stack: &mut [Element], roots: &mut Vec<Element>, e: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(e)),
        None => roots.push(e),
    }
}

fn start(reader: &Reader<&[u8]>, s: &BytesStart) -> Result<Element, XmlError> {
    let malformed = |message: String| XmlError::Malformed {
        position: reader.buffer_position(),
        message,
    };
    let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
    let mut e = Element::new(&name);
    for a in s.attributes() {
        let a = a.map_err(|err| malformed(err.to_string()))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a
            .unescape_value()
            .map_err(|err| malformed(format!("attribute {key} of <{name}>: {err}")))?;
        e.attrs.push((key, value.into_owned()));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_pacemaker_style_text() {
        let text = "<group description=\"a &amp; b\" id=\"g\">\n  <primitive id=\"p\"/>\n  <!-- note -->\n</group>\n";
        let e = parse(text).unwrap();
        assert_eq!(e.get("description"), Some("a & b"));
        assert_eq!(e.to_pretty(), text);
    }

    #[test]
    fn escapes_every_special_in_attributes() {
        let e = Element::new("x").attr("v", "a&b<c>d\"e'f\ng\th");
        let text = e.to_pretty();
        assert_eq!(
            text,
            "<x v=\"a&amp;b&lt;c&gt;d&quot;e&apos;f&#10;g&#9;h\"/>\n"
        );
        assert_eq!(parse(&text).unwrap(), e);
    }

    #[test]
    fn ignores_indentation_but_keeps_text() {
        let e = parse("<?xml version=\"1.0\"?>\n<a>\n   <b>  hi &lt;there&gt; </b>\n</a>").unwrap();
        let b = e.first("b").unwrap();
        assert_eq!(b.children, vec![Node::Text("hi <there>".into())]);
    }

    #[test]
    fn rejects_broken_documents() {
        assert!(matches!(parse(""), Err(XmlError::Empty)));
        assert!(matches!(parse("<a>"), Err(XmlError::Malformed { .. })));
        assert!(matches!(parse("<a></b>"), Err(XmlError::Malformed { .. })));
        assert!(matches!(
            parse("<a/><b/>"),
            Err(XmlError::SeveralRoots { .. })
        ));
        assert!(matches!(parse("junk"), Err(XmlError::Malformed { .. })));
        assert_eq!(parse_many("<a/>\n<b/>\n").unwrap().len(), 2);
    }

    #[test]
    fn finds_by_name_and_id() {
        let e = parse("<r><g id=\"x\"><p id=\"y\"/></g><p id=\"z\"/></r>").unwrap();
        assert_eq!(e.find("p", "y").and_then(|p| p.id()), Some("y"));
        assert!(e.find("g", "y").is_none());
        assert_eq!(e.ids(), vec!["x", "y", "z"]);
    }
}
