//! Splits a file into top-level items with a logos lexer, so that pest, which stops at the first
//! error, parses each item on its own and one broken item does not hide the others.
//!
//! An item starts at a declaration keyword at bracket depth zero, or at a declaration keyword in
//! the first column of a line whatever the depth: a missing `}` then costs one item, not the rest
//! of the file.

use crate::span::Span;
use logos::Logos;

/// The deepest bracket and ternary nesting accepted in one item. Deeper input gets a diagnostic
/// instead of recursing in the parser and later passes.
pub const MAX_NESTING: usize = 96;

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\x0C\u{FEFF}]+")]
pub enum Token {
    #[token("import")]
    #[token("schema")]
    #[token("offer")]
    #[token("rule")]
    #[token("policy")]
    #[token("channel")]
    #[token("let")]
    Declaration,
    #[token("{")]
    #[token("(")]
    #[token("[")]
    Open,
    #[token("}")]
    #[token(")")]
    #[token("]")]
    Close,
    #[token("?")]
    Question,
    #[token(",")]
    Comma,
    #[regex(r"//[^\n]*", allow_greedy = true)]
    LineComment,
    #[regex(r"/\*([^*]|\*+[^*/])*\*+/")]
    BlockComment,
    #[regex(r#"[rRbB]{0,2}"""([^"\\]|\\.|"[^"]|""[^"])*""""#)]
    #[regex(r#"[rRbB]{0,2}'''([^'\\]|\\.|'[^']|''[^'])*'''"#)]
    #[regex(r#"[rRbB]{0,2}"([^"\\\n]|\\.)*""#)]
    #[regex(r#"[rRbB]{0,2}'([^'\\\n]|\\.)*'"#)]
    String,
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", priority = 1)]
    Word,
    #[regex(r"[0-9][0-9A-Za-z_.]*")]
    Number,
    #[regex(r#"[^A-Za-z0-9_{}()\[\]?,"'/ \t\r\n\x0C\u{FEFF}]+"#)]
    #[token("/")]
    Punct,
}

/// One top-level item's text range and whether its brackets nest too deeply to parse safely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemText {
    pub span: Span,
    /// Where nesting first went past [`MAX_NESTING`], if it did.
    pub too_deep_at: Option<Span>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub items: Vec<ItemText>,
    /// Text before the first declaration that is not whitespace or comments.
    pub stray: Vec<Span>,
    /// Characters the lexer could not read (an unterminated string, a stray byte).
    pub bad_tokens: Vec<Span>,
}

/// How deeply the parser will recurse at a point of an item: open brackets, plus the `?` of
/// the ternary chains still open around it (`a ? b : c ? d : e` recurses once per `?`).
///
/// A ternary chain ends with the bracket it is in, or at a `,` beside it, so `?`s are counted
/// per bracket level: a list of a hundred ternaries is two deep, not a hundred.
#[derive(Debug)]
struct Nesting {
    /// The `?`s of each open bracket level, the item's top level first.
    ternaries: Vec<usize>,
    /// Their sum.
    open_ternaries: usize,
}

impl Nesting {
    fn new() -> Nesting {
        Nesting {
            ternaries: vec![0],
            open_ternaries: 0,
        }
    }

    fn brackets(&self) -> usize {
        self.ternaries.len() - 1
    }

    fn depth(&self) -> usize {
        self.brackets() + self.open_ternaries
    }

    fn token(&mut self, token: Token) {
        match token {
            Token::Open => self.ternaries.push(0),
            Token::Close if self.ternaries.len() > 1 => {
                let closed = self.ternaries.pop().unwrap_or(0);
                self.open_ternaries = self.open_ternaries.saturating_sub(closed);
            }
            Token::Comma => {
                if let Some(level) = self.ternaries.last_mut() {
                    self.open_ternaries = self.open_ternaries.saturating_sub(std::mem::take(level));
                }
            }
            Token::Question => {
                if let Some(level) = self.ternaries.last_mut() {
                    *level += 1;
                    self.open_ternaries += 1;
                }
            }
            _ => {}
        }
    }
}

/// Declarations whose item ends at the `}` that closes their first `{`: what follows on the
/// same level is not theirs.
fn ends_at_its_brace(keyword: &str) -> bool {
    matches!(keyword, "schema" | "offer" | "rule" | "policy")
}

pub fn split_items(text: &str) -> Split {
    let mut items: Vec<ItemText> = Vec::new();
    let mut stray: Vec<Span> = Vec::new();
    let mut bad_tokens = Vec::new();
    let mut nesting = Nesting::new();
    let mut current: Option<ItemText> = None;
    // Whether the current item is a braced one, and whether its braces have closed: text after
    // that is stray, so that a misspelt keyword (`rules r { ... }`) or an extra `}` costs no
    // valid item before it.
    let mut braced = false;
    let mut closed = false;
    let mut after_stray_gap = true;
    let mut lexer = Token::lexer(text);
    while let Some(token) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(range.start, range.end);
        // Only the byte before: looking back along the line made a long line quadratic.
        let at_line_start = text
            .get(..range.start)
            .is_none_or(|before| before.is_empty() || before.ends_with('\n'));
        match token {
            Ok(Token::Declaration) if nesting.brackets() == 0 || at_line_start => {
                if let Some(item) = current.take() {
                    items.push(item);
                }
                nesting = Nesting::new();
                current = Some(ItemText {
                    span,
                    too_deep_at: None,
                });
                braced = ends_at_its_brace(text.get(range).unwrap_or(""));
                closed = false;
                after_stray_gap = true;
                continue;
            }
            Ok(Token::LineComment | Token::BlockComment) => continue,
            Ok(token) => {
                if let Some(item) = current.as_mut().filter(|_| !closed) {
                    nesting.token(token);
                    item.span.end = span.end;
                    if nesting.depth() > MAX_NESTING && item.too_deep_at.is_none() {
                        item.too_deep_at = Some(span);
                    }
                    closed = braced && token == Token::Close && nesting.brackets() == 0;
                    continue;
                }
            }
            Err(()) => bad_tokens.push(span),
        }
        if current.is_some() && !closed {
            // An unreadable token inside an item is the item's; its parse reports it.
            if let Some(item) = current.as_mut() {
                item.span.end = span.end;
            }
            continue;
        }
        match stray.last_mut() {
            Some(last) if !after_stray_gap => *last = last.to(span),
            _ => {
                stray.push(span);
                after_stray_gap = false;
            }
        }
    }
    if let Some(item) = current.take() {
        items.push(item);
    }
    Split {
        items,
        stray,
        bad_tokens,
    }
}

/// The first stretch the lexer cannot read in a lone expression (an unterminated string).
pub fn first_bad_token(text: &str) -> Option<Span> {
    let mut lexer = Token::lexer(text);
    while let Some(token) = lexer.next() {
        if token.is_err() {
            let r = lexer.span();
            return Some(Span::new(r.start, r.end));
        }
    }
    None
}

/// Nesting check for a lone expression (`offer eval`), with the same limit as items.
pub fn expression_too_deep(text: &str) -> Option<Span> {
    let mut nesting = Nesting::new();
    let mut lexer = Token::lexer(text);
    while let Some(token) = lexer.next() {
        if let Ok(token) = token {
            nesting.token(token);
        }
        if nesting.depth() > MAX_NESTING {
            let r = lexer.span();
            return Some(Span::new(r.start, r.end));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(src: &'a str, split: &Split) -> Vec<&'a str> {
        split.items.iter().map(|i| &src[i.span.range()]).collect()
    }

    #[test]
    fn splits_at_declarations_outside_brackets() {
        let src = "import std.telco\n// c\noffer A { title: \"rule { x\" }\nrule r { when e then recommend A }\n";
        let split = split_items(src);
        assert_eq!(
            texts(src, &split),
            vec![
                "import std.telco",
                "offer A { title: \"rule { x\" }",
                "rule r { when e then recommend A }"
            ]
        );
        assert!(split.stray.is_empty());
    }

    #[test]
    fn a_missing_brace_costs_one_item() {
        let src = "offer A { title: \"a\"\nrule r { when e then recommend A }\n";
        let split = split_items(src);
        assert_eq!(split.items.len(), 2);
    }

    #[test]
    fn keywords_inside_an_item_do_not_split_it() {
        let src = "rule r { when offer where x then recommend A }";
        assert_eq!(split_items(src).items.len(), 1);
    }

    #[test]
    fn deep_nesting_is_flagged() {
        let src = format!(
            "offer A {{ value: {}1{} }}",
            "(".repeat(200),
            ")".repeat(200)
        );
        let split = split_items(&src);
        assert!(split.items[0].too_deep_at.is_some());
    }

    #[test]
    fn ternaries_nest_only_in_a_chain() {
        let many = format!("let xs = [{}]", vec!["c ? 1 : 0"; 200].join(", "));
        assert_eq!(split_items(&many).items[0].too_deep_at, None);
        assert_eq!(expression_too_deep(&many[9..]), None);
        let grouped = format!("let x = {}", vec!["(c ? 1 : 0)"; 200].join(" + "));
        assert_eq!(split_items(&grouped).items[0].too_deep_at, None);
        let chain = format!("let x = {}0", "c ? 1 : ".repeat(MAX_NESTING + 1));
        assert!(split_items(&chain).items[0].too_deep_at.is_some());
        assert!(expression_too_deep(&chain[8..]).is_some());
        let inside = format!("let x = [{}0]", "c ? 1 : ".repeat(MAX_NESTING));
        assert!(split_items(&inside).items[0].too_deep_at.is_some());
    }

    #[test]
    fn a_long_line_splits_in_linear_time() {
        let long = format!("let a = {}1\nlet b = 2", "(".repeat(400_000));
        let started = std::time::Instant::now();
        let split = split_items(&long);
        assert_eq!(split.items.len(), 2);
        assert!(split.items[0].too_deep_at.is_some());
        // Quadratic, this took minutes; linear, well under a second even in a debug build.
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }

    #[test]
    fn stray_text_before_first_item() {
        let split = split_items("garbage here\noffer A {}");
        assert_eq!(split.stray.len(), 1);
        assert_eq!(split.items.len(), 1);
    }
}
