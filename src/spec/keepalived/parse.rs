//! keepalived.conf's syntax, read by hand: no crate parses it. A line is a keyword and its
//! arguments; `{` opens a block for the statement before it (on the same line or alone on the
//! next), `}` closes it; `#` and `!` start a comment outside quotes; `"…"` quotes an argument
//! with spaces. Everything is bounded (token length, nesting depth, statement count), so a
//! hostile file costs at most its size (already capped by the bounded reader) in work.

use std::fmt;

/// Deepest nesting keepalived itself uses is 3 (`virtual_server { real_server { HTTP_GET {
/// url {`): 4); 16 leaves room and stops a stack of `{` at once.
pub const MAX_DEPTH: usize = 16;
/// Longest token: a `misc_path` with its arguments is the longest real one.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Most statements in one file (a 1 MiB file of one-word lines has ~500,000).
pub const MAX_STATEMENTS: usize = 200_000;
/// Most arguments on one line.
pub const MAX_ARGS: usize = 256;

/// One statement: `keyword arg… [{ block }]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    pub key: String,
    pub args: Vec<String>,
    /// 1-based line and column of the keyword.
    pub line: usize,
    pub column: usize,
    pub block: Option<Vec<Stmt>>,
}

impl Stmt {
    /// The statements of this block (none for a plain statement).
    pub fn children(&self) -> &[Stmt] {
        self.block.as_deref().unwrap_or(&[])
    }
}

/// Why the text is not keepalived.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub expected: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: expected {}",
            self.line, self.column, self.key, self.expected
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Open,
    Close,
    /// End of a line: ends a statement.
    Eol,
}

struct Token {
    tok: Tok,
    line: usize,
    column: usize,
}

fn err(line: usize, column: usize, key: &str, expected: impl Into<String>) -> SyntaxError {
    SyntaxError {
        line,
        column,
        key: key.into(),
        expected: expected.into(),
    }
}

/// Most tokens in one file: a 1 MiB file of braces has a million; far more than any real file.
const MAX_TOKENS: usize = 1_100_000;

/// Splits the text into words, braces and line ends, in one pass (columns counted as it goes,
/// so a 1 MiB line costs no more than a 1 MiB file of short lines).
fn tokenize(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut out: Vec<Token> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i.saturating_add(1);
        let chars: Vec<char> = raw.chars().collect();
        let mut at = 0;
        while let Some(&ch) = chars.get(at) {
            let column = at.saturating_add(1);
            if out.len() >= MAX_TOKENS {
                return Err(err(
                    line,
                    column,
                    "",
                    format!("at most {MAX_TOKENS} words and braces in one file"),
                ));
            }
            match ch {
                c if c.is_whitespace() => at += 1,
                // A comment starts where a word could: `path /a!b` keeps its `!`.
                '#' | '!' => break,
                '{' | '}' => {
                    at += 1;
                    let tok = if ch == '{' { Tok::Open } else { Tok::Close };
                    out.push(Token { tok, line, column });
                }
                '"' => {
                    at += 1;
                    let mut word = String::new();
                    let mut closed = false;
                    while let Some(&c) = chars.get(at) {
                        at += 1;
                        if c == '"' {
                            closed = true;
                            break;
                        }
                        word.push(c);
                        if word.len() > MAX_TOKEN_BYTES {
                            return Err(err(
                                line,
                                column,
                                "\"",
                                format!("a quoted string of at most {MAX_TOKEN_BYTES} bytes"),
                            ));
                        }
                    }
                    if !closed {
                        return Err(err(line, column, "\"", "a closing `\"` on the same line"));
                    }
                    out.push(Token {
                        tok: Tok::Word(word),
                        line,
                        column,
                    });
                }
                _ => {
                    let mut word = String::new();
                    while let Some(&c) = chars.get(at) {
                        if c.is_whitespace() || matches!(c, '{' | '}' | '"') {
                            break;
                        }
                        word.push(c);
                        at += 1;
                        if word.len() > MAX_TOKEN_BYTES {
                            return Err(err(
                                line,
                                column,
                                "",
                                format!("a word of at most {MAX_TOKEN_BYTES} bytes"),
                            ));
                        }
                    }
                    out.push(Token {
                        tok: Tok::Word(word),
                        line,
                        column,
                    });
                }
            }
        }
        // One line end per run of lines: blank lines cost nothing.
        if out.last().is_some_and(|t| t.tok != Tok::Eol) {
            out.push(Token {
                tok: Tok::Eol,
                line,
                column: chars.len().saturating_add(1),
            });
        }
    }
    Ok(out)
}

/// Parses keepalived.conf text into its statements.
pub fn parse(text: &str) -> Result<Vec<Stmt>, SyntaxError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        at: 0,
        count: 0,
    };
    p.block(0, None)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    count: usize,
}

impl Parser {
    /// Statements until the `}` closing a block opened on `opened` (or the end of the text at
    /// the top, `opened` None).
    fn block(
        &mut self,
        depth: usize,
        opened: Option<(usize, usize, &str)>,
    ) -> Result<Vec<Stmt>, SyntaxError> {
        let mut stmts: Vec<Stmt> = Vec::new();
        // The last statement may still take a `{` on the next line.
        let mut may_open = false;
        loop {
            let Some(t) = self.tokens.get(self.at) else {
                return match opened {
                    None => Ok(stmts),
                    Some((line, column, key)) => Err(err(
                        line,
                        column,
                        key,
                        "a `}` closing the block opened here",
                    )),
                };
            };
            let (line, column) = (t.line, t.column);
            match &t.tok {
                Tok::Eol => {
                    self.at += 1;
                }
                Tok::Close => {
                    self.at += 1;
                    return match opened {
                        Some(_) => Ok(stmts),
                        None => Err(err(line, column, "}", "a `}` only after a block's `{`")),
                    };
                }
                Tok::Open => {
                    self.at += 1;
                    let Some(last) = stmts.last_mut().filter(|s| may_open && s.block.is_none())
                    else {
                        return Err(err(
                            line,
                            column,
                            "{",
                            "a `{` after a keyword (it opens that keyword's block)",
                        ));
                    };
                    let key = last.key.clone();
                    last.block = Some(self.nested(depth, line, column, &key)?);
                    may_open = false;
                    continue;
                }
                Tok::Word(w) => {
                    self.count += 1;
                    if self.count > MAX_STATEMENTS {
                        return Err(err(
                            line,
                            column,
                            w,
                            format!("at most {MAX_STATEMENTS} statements in one file"),
                        ));
                    }
                    let key = w.clone();
                    self.at += 1;
                    let mut args = Vec::new();
                    let mut block = None;
                    while let Some(t) = self.tokens.get(self.at) {
                        match &t.tok {
                            Tok::Word(a) => {
                                if args.len() >= MAX_ARGS {
                                    return Err(err(
                                        line,
                                        column,
                                        &key,
                                        format!("at most {MAX_ARGS} arguments"),
                                    ));
                                }
                                args.push(a.clone());
                                self.at += 1;
                            }
                            Tok::Open => {
                                let (l, c) = (t.line, t.column);
                                self.at += 1;
                                block = Some(self.nested(depth, l, c, &key)?);
                                break;
                            }
                            Tok::Close | Tok::Eol => break,
                        }
                    }
                    may_open = block.is_none();
                    stmts.push(Stmt {
                        key,
                        args,
                        line,
                        column,
                        block,
                    });
                    continue;
                }
            }
            // A line end keeps `may_open` (`{` alone on the next line); anything else ends it.
        }
    }

    fn nested(
        &mut self,
        depth: usize,
        line: usize,
        column: usize,
        key: &str,
    ) -> Result<Vec<Stmt>, SyntaxError> {
        if depth >= MAX_DEPTH {
            return Err(err(
                line,
                column,
                key,
                format!("blocks nested at most {MAX_DEPTH} deep"),
            ));
        }
        self.block(depth + 1, Some((line, column, key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &[Stmt]) -> Vec<&str> {
        s.iter().map(|s| s.key.as_str()).collect()
    }

    #[test]
    fn blocks_comments_and_quotes() {
        let t = "! Configuration\nglobal_defs {\n  router_id lb1 # me\n}\nvirtual_server 192.0.2.1 80\n{\n  misc_path \"/bin/x -a 'b'\"\n  url { path /a }\n}\n";
        let s = parse(t).unwrap();
        assert_eq!(keys(&s), ["global_defs", "virtual_server"]);
        assert_eq!(s[0].children()[0].args, ["lb1"]);
        let vs = &s[1];
        assert_eq!((vs.line, vs.column), (5, 1));
        assert_eq!(vs.args, ["192.0.2.1", "80"]);
        assert_eq!(vs.children()[0].args, ["/bin/x -a 'b'"]);
        assert_eq!(vs.children()[1].children()[0].args, ["/a"]);
    }

    #[test]
    fn broken_shapes_are_errors_with_lines() {
        assert_eq!(parse("a {\n b 1\n").unwrap_err().line, 1);
        assert_eq!(parse("}\n").unwrap_err().key, "}");
        assert_eq!(parse("\n{\n").unwrap_err().line, 2);
        assert_eq!(parse("a \"open\n").unwrap_err().key, "\"");
        let deep = "a {\n".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().expected.contains("nested"));
        let long = "x".repeat(MAX_TOKEN_BYTES + 1);
        assert!(parse(&long).is_err());
    }

    #[test]
    fn a_brace_on_the_next_line_after_a_blank_line_is_not_attached_to_a_closed_block() {
        let s = parse("a {\n}\n{\n}\n");
        assert!(s.is_err());
    }

    #[test]
    fn comment_marks_inside_words_are_part_of_them() {
        let s = parse("path /a!b#c ! comment\n").unwrap();
        assert_eq!(s[0].args, ["/a!b#c"]);
    }

    #[test]
    fn big_inputs_cost_linear_time() {
        // A 1 MiB line of words and one of braces: well under a second each (quadratic column
        // counting would take hours).
        let started = std::time::Instant::now();
        let words = "a ".repeat(512 * 1024);
        assert!(parse(&words).unwrap_err().expected.contains("arguments"));
        let braces = "a {} ".repeat(200 * 1024);
        assert!(parse(&braces).unwrap_err().expected.contains("statements"));
        let flat = "}{".repeat(512 * 1024);
        assert!(parse(&flat).is_err());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn garbage_never_panics() {
        // A deterministic pseudo-random walk over the characters that matter to the parser.
        let alphabet: Vec<char> = "{}\"#! \n\tab1.\u{202e}é\r".chars().collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            let mut s = String::new();
            for _ in 0..(x % 200) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let _ = parse(&s);
        }
    }
}
