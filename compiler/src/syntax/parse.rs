//! Parsing: each item that the splitter found goes through pest on its own, and the pest pairs
//! become the syntax tree with absolute byte spans. Every failure is a diagnostic; nothing here
//! panics, and no tree deeper than [`MAX_EXPR_DEPTH`] leaves this module, so later passes may
//! recurse over expressions without risking the stack.

use super::ast::*;
use super::items::{self, Split};
use super::literal;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use pest::Parser as _;
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/offer.pest"]
struct OfferParser;

/// The deepest expression tree accepted (a chain `a + b + ...` of 300 terms is 300 deep). CEL
/// implementations use a similar bound; the conformance suite needs far less.
pub const MAX_EXPR_DEPTH: u32 = 250;

/// One file's syntax: the items that parsed, and the diagnostics of those that did not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedFile {
    pub items: Vec<Item>,
    pub diagnostics: Vec<Diagnostic>,
    /// Items that did not parse, so that checking can stay quiet about what they would have
    /// declared instead of reporting every use of it.
    pub broken: Vec<BrokenItem>,
}

/// What is known of an item that did not parse: its keyword and, when it got that far, its
/// name (`offer Boost { ...` is a broken offer named `Boost`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenItem {
    pub keyword: String,
    pub name: Option<String>,
}

impl BrokenItem {
    fn of(slice: &str) -> BrokenItem {
        let mut words = slice
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty());
        BrokenItem {
            keyword: words.next().unwrap_or_default().to_string(),
            name: words.next().map(str::to_string),
        }
    }
}

/// Parses a whole file. `file` is the id diagnostics carry.
pub fn parse_file(file: &str, text: &str) -> ParsedFile {
    // Punctuation that pest expected is only recorded with error detail on (a global switch).
    pest::set_error_detail(true);
    let Split {
        items,
        stray,
        bad_tokens,
    } = items::split_items(text);
    let mut out = ParsedFile::default();
    for span in stray {
        out.diagnostics.push(stray_text(file, text, span));
    }
    for item in &items {
        let slice = text.get(item.span.range()).unwrap_or("");
        if let Some(at) = item.too_deep_at {
            out.diagnostics.push(too_deep(file, at));
            out.broken.push(BrokenItem::of(slice));
            continue;
        }
        if let Some(bad) = bad_tokens
            .iter()
            .find(|b| item.span.start <= b.start && b.end <= item.span.end)
        {
            out.diagnostics.push(unterminated(file, *bad));
            out.broken.push(BrokenItem::of(slice));
            continue;
        }
        let mut builder = Builder::new(file, item.span.start as usize);
        match OfferParser::parse(Rule::item, slice) {
            Ok(mut pairs) => {
                if let Some(parsed) = pairs.next().and_then(|p| builder.item(p)) {
                    out.items.push(parsed);
                }
            }
            Err(e) => {
                builder.diags.push(pest_error(
                    file,
                    item.span.start as usize,
                    slice,
                    &e,
                    "item",
                ));
                out.broken.push(BrokenItem::of(slice));
            }
        }
        out.diagnostics.append(&mut builder.diags);
    }
    out
}

/// Parses one expression (for `offer eval` and the conformance runner).
pub fn parse_expression(file: &str, text: &str) -> (Option<Expr>, Vec<Diagnostic>) {
    pest::set_error_detail(true);
    if let Some(at) = items::expression_too_deep(text) {
        return (None, vec![too_deep(file, at)]);
    }
    if let Some(bad) = items::first_bad_token(text) {
        return (None, vec![unterminated(file, bad)]);
    }
    let mut builder = Builder::new(file, 0);
    let expr = match OfferParser::parse(Rule::expr_input, text) {
        Ok(mut pairs) => pairs
            .next()
            .and_then(|p| p.into_inner().next())
            .map(|p| builder.expr(p).expr),
        Err(e) => {
            builder
                .diags
                .push(pest_error(file, 0, text, &e, "expression"));
            None
        }
    };
    (expr, builder.diags)
}

/// The grammar's `reserved` words: CEL's literals and reserved words, and the rule clauses.
/// Whether `name` is one of the language's reserved words, which cannot name anything.
pub fn is_reserved(name: &str) -> bool {
    RESERVED.contains(&name)
}

const RESERVED: [&str; 25] = [
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
    "and",
    "then",
    "where",
    "when",
];

const DECLARATIONS: [&str; 7] = [
    "import", "schema", "offer", "rule", "policy", "channel", "let",
];

/// Text outside every item: a misspelt declaration keyword, a `}` too many, or words.
fn stray_text(file: &str, text: &str, span: Span) -> Diagnostic {
    let stray = text.get(span.range()).unwrap_or("");
    let first_word: String = stray
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let first = span.start as usize;
    let head = |len: usize| Span::new(first, first + len.max(1).min(stray.len().max(1)));
    if let Some(suggestion) = (!first_word.is_empty())
        .then(|| crate::diagnostic::did_you_mean(&first_word, DECLARATIONS))
        .flatten()
    {
        return Diagnostic::error(
            Code::StrayText,
            file,
            head(first_word.len()),
            format!("unknown declaration `{first_word}`"),
        )
        .with_label("not a declaration keyword")
        .with_help(suggestion);
    }
    if stray.starts_with('}') {
        return Diagnostic::error(
            Code::StrayText,
            file,
            head(1),
            "unexpected `}`: no item is open here",
        )
        .with_label("one `}` too many")
        .with_help("remove it, or check the braces of the item before it");
    }
    Diagnostic::error(Code::StrayText, file, span, "expected a declaration")
        .with_label("not part of any item")
        .with_help(
            "a file holds `import`, `schema`, `offer`, `rule`, `policy`, `channel` and `let` items",
        )
}

/// The lexer reads every character but an opening quote without its closing one.
fn unterminated(file: &str, at: Span) -> Diagnostic {
    Diagnostic::error(Code::Syntax, file, at, "unterminated string literal")
        .with_label("this string has no closing quote")
        .with_help("close the string on the same line, or use `\"\"\"` for several lines")
}

fn too_deep(file: &str, at: Span) -> Diagnostic {
    Diagnostic::error(Code::TooDeep, file, at, "expression nests too deeply")
        .with_label("nesting goes past the limit here")
        .with_help("split the expression into smaller ones, for example with `let` constants")
}

/// An expression with the depth of its tree, so that depth is known without a second walk.
struct Built {
    expr: Expr,
    depth: u32,
}

struct Builder<'f> {
    file: &'f str,
    /// Where the parsed text starts in the file: pest's spans are relative to the item.
    offset: usize,
    diags: Vec<Diagnostic>,
    reported_depth: bool,
}

impl<'f> Builder<'f> {
    fn new(file: &'f str, offset: usize) -> Builder<'f> {
        Builder {
            file,
            offset,
            diags: Vec::new(),
            reported_depth: false,
        }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    /// A selected field's name; a quoted one (`` `content-type` ``) without its backquotes.
    fn field_ident(&self, pair: Pair<'_, Rule>) -> Ident {
        let text = pair.as_str();
        Ident {
            span: self.span(&pair),
            name: text
                .strip_prefix('`')
                .and_then(|t| t.strip_suffix('`'))
                .unwrap_or(text)
                .to_string(),
        }
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            span: self.span(&pair),
            name: pair.as_str().to_string(),
        }
    }

    fn error(&mut self, code: Code, span: Span, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(code, self.file, span, message));
    }

    // ------------------------------------------------------------------------------- items

    fn item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        let decl = pair.into_inner().next()?;
        let span = self.span(&decl);
        Some(match decl.as_rule() {
            Rule::import_decl => {
                let path = decl
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::qual_name)
                    .map(|q| q.into_inner().map(|i| self.ident(i)).collect())
                    .unwrap_or_default();
                Item::Import(Import { path, span })
            }
            Rule::channel_decl => {
                let name = self.ident(decl.into_inner().nth(1)?);
                Item::Channel(ChannelDecl { name, span })
            }
            Rule::let_decl => {
                let mut inner = decl.into_inner().skip(1);
                let name = self.ident(inner.next()?);
                let value = self.expr(inner.next()?).expr;
                Item::Let(LetDecl { name, value, span })
            }
            Rule::schema_decl => {
                let records = decl
                    .into_inner()
                    .filter(|p| matches!(p.as_rule(), Rule::profile_decl | Rule::event_decl))
                    .filter_map(|p| self.record(p))
                    .collect();
                Item::Schema(SchemaDecl { records, span })
            }
            Rule::offer_decl => {
                let mut inner = decl.into_inner().skip(1);
                let name = self.ident(inner.next()?);
                let mut props = Vec::new();
                for prop in inner {
                    let prop_span = self.span(&prop);
                    let mut parts = prop.into_inner();
                    let (Some(pname), Some(value)) = (parts.next(), parts.next()) else {
                        continue;
                    };
                    props.push(Prop {
                        name: self.ident(pname),
                        value: self.expr(value).expr,
                        span: prop_span,
                    });
                }
                Item::Offer(OfferDecl { name, props, span })
            }
            Rule::rule_decl => self.rule(decl, span)?,
            Rule::policy_decl => self.policy(decl, span)?,
            _ => return None,
        })
    }

    fn record(&mut self, pair: Pair<'_, Rule>) -> Option<RecordDecl> {
        let span = self.span(&pair);
        let is_profile = pair.as_rule() == Rule::profile_decl;
        let mut inner = pair.into_inner().filter(|p| {
            !matches!(
                p.as_rule(),
                Rule::kw_profile | Rule::kw_event | Rule::kw_key
            )
        });
        let name = self.ident(inner.next()?);
        let key = if is_profile {
            Some(self.ident(inner.next()?))
        } else {
            None
        };
        let fields = self.fields(inner.next()?);
        Some(RecordDecl {
            is_profile,
            name,
            key,
            fields,
            span,
        })
    }

    fn fields(&mut self, list: Pair<'_, Rule>) -> Vec<FieldDecl> {
        list.into_inner()
            .filter_map(|field| {
                let span = self.span(&field);
                let mut parts = field.into_inner();
                let name = self.ident(parts.next()?);
                if RESERVED.contains(&name.name.as_str()) {
                    let d = Diagnostic::error(
                        Code::Syntax,
                        self.file,
                        name.span,
                        format!("`{}` is a reserved word and cannot name a field", name.name),
                    )
                    .with_help("pick another name, such as `when_at` or `kind`");
                    self.diags.push(d);
                }
                let ty = self.type_expr(parts.next()?)?;
                Some(FieldDecl { name, ty, span })
            })
            .collect()
    }

    fn type_expr(&mut self, pair: Pair<'_, Rule>) -> Option<TypeExpr> {
        let inner = pair.into_inner().next()?;
        let span = self.span(&inner);
        Some(match inner.as_rule() {
            Rule::ident => TypeExpr::Named(self.ident(inner)),
            Rule::enum_type => TypeExpr::Enum {
                variants: inner
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::ident)
                    .map(|p| self.ident(p))
                    .collect(),
                span,
            },
            Rule::record_type => TypeExpr::Record {
                fields: self.fields(inner.into_inner().next()?),
                span,
            },
            Rule::generic_type => {
                let mut parts = inner.into_inner();
                let name = self.ident(parts.next()?);
                let args = parts.filter_map(|p| self.type_expr(p)).collect();
                TypeExpr::Generic { name, args, span }
            }
            _ => return None,
        })
    }

    fn rule(&mut self, decl: Pair<'_, Rule>, span: Span) -> Option<Item> {
        let mut inner = decl.into_inner().skip(1);
        let name = self.ident(inner.next()?);
        let mut when = inner.next()?.into_inner().skip(1);
        let trigger = self.ident(when.next()?);
        let filter = when.nth(1).map(|p| self.expr(p).expr);
        let mut conditions = Vec::new();
        let mut offers = Vec::new();
        let mut weight = None;
        for clause in inner {
            match clause.as_rule() {
                Rule::and_clause => {
                    if let Some(e) = clause.into_inner().nth(1) {
                        conditions.push(self.expr(e).expr);
                    }
                }
                Rule::then_clause => {
                    for part in clause.into_inner() {
                        match part.as_rule() {
                            Rule::ident => offers.push(self.ident(part)),
                            Rule::weight => {
                                let wspan = self.span(&part);
                                match part.as_str().parse::<f64>() {
                                    Ok(w) if w.is_finite() => weight = Some((w, wspan)),
                                    _ => self.error(Code::InvalidLiteral, wspan, "invalid weight"),
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Some(Item::Rule(RuleDecl {
            name,
            trigger,
            filter,
            conditions,
            offers,
            weight,
            span,
        }))
    }

    fn policy(&mut self, decl: Pair<'_, Rule>, span: Span) -> Option<Item> {
        let mut inner = decl.into_inner().skip(1);
        let name = self.ident(inner.next()?);
        let mut quiet_hours = Vec::new();
        let mut caps = Vec::new();
        for stmt in inner {
            let stmt_span = self.span(&stmt);
            match stmt.as_rule() {
                Rule::quiet_hours => {
                    let times: Vec<_> = stmt
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::time_of_day)
                        .collect();
                    let [start, end] = times.as_slice() else {
                        continue;
                    };
                    let (Some(start_minute), Some(end_minute)) =
                        (self.time_of_day(start), self.time_of_day(end))
                    else {
                        continue;
                    };
                    quiet_hours.push(QuietHours {
                        start_minute,
                        end_minute,
                        span: stmt_span,
                    });
                }
                Rule::cap => {
                    let mut count = None;
                    let mut window = None;
                    let mut scope = None;
                    for part in stmt.into_inner() {
                        let pspan = self.span(&part);
                        match part.as_rule() {
                            Rule::cap_count => match part.as_str().parse::<u64>() {
                                Ok(n) => count = Some(n),
                                Err(_) => self.error(
                                    Code::InvalidLiteral,
                                    pspan,
                                    "cap count is too large",
                                ),
                            },
                            Rule::duration_lit => match literal::duration(part.as_str()) {
                                Ok(d) => window = Some((d, pspan)),
                                Err(e) => self.error(Code::InvalidLiteral, pspan, e),
                            },
                            Rule::ident => scope = Some(self.ident(part)),
                            _ => {}
                        }
                    }
                    if let (Some(count), Some((window, window_span)), Some(scope)) =
                        (count, window, scope)
                    {
                        caps.push(CapDecl {
                            count,
                            window,
                            window_span,
                            scope,
                            span: stmt_span,
                        });
                    }
                }
                _ => {}
            }
        }
        Some(Item::Policy(PolicyDecl {
            name,
            quiet_hours,
            caps,
            span,
        }))
    }

    fn time_of_day(&mut self, pair: &Pair<'_, Rule>) -> Option<u32> {
        let span = self.span(pair);
        let (h, m) = pair.as_str().split_once(':')?;
        match (h.parse::<u32>(), m.parse::<u32>()) {
            (Ok(h), Ok(m)) if h < 24 && m < 60 => Some(h * 60 + m),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        Code::InvalidLiteral,
                        self.file,
                        span,
                        format!("`{}` is not a time of day", pair.as_str()),
                    )
                    .with_help("write hours 00 to 23 and minutes 00 to 59, as in `22:00`"),
                );
                None
            }
        }
    }

    // ------------------------------------------------------------------------------- expressions

    /// Wraps a node, reporting (once per item) a tree deeper than [`MAX_EXPR_DEPTH`].
    fn node(&mut self, kind: ExprKind, span: Span, depth: u32) -> Built {
        if depth > MAX_EXPR_DEPTH {
            if !self.reported_depth {
                self.reported_depth = true;
                self.diags.push(too_deep(self.file, span));
            }
            return Built {
                expr: Expr {
                    kind: ExprKind::Invalid,
                    span,
                },
                depth: 1,
            };
        }
        Built {
            expr: Expr { kind, span },
            depth,
        }
    }

    fn invalid(&mut self, span: Span) -> Built {
        Built {
            expr: Expr {
                kind: ExprKind::Invalid,
                span,
            },
            depth: 1,
        }
    }

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Built {
        let pair = skip_single_child_levels(pair);
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr => {
                let mut inner = pair.into_inner();
                let Some(first) = inner.next() else {
                    return self.invalid(span);
                };
                let cond = self.expr(first);
                match inner.next() {
                    None => cond,
                    Some(tail) => {
                        let mut parts = tail.into_inner();
                        let (Some(t), Some(o)) = (parts.next(), parts.next()) else {
                            return self.invalid(span);
                        };
                        let then = self.expr(t);
                        let otherwise = self.expr(o);
                        let depth = 1 + cond.depth.max(then.depth).max(otherwise.depth);
                        self.node(
                            ExprKind::Ternary {
                                cond: Box::new(cond.expr),
                                then: Box::new(then.expr),
                                otherwise: Box::new(otherwise.expr),
                            },
                            span,
                            depth,
                        )
                    }
                }
            }
            Rule::logical_or
            | Rule::logical_and
            | Rule::relation
            | Rule::addition
            | Rule::multiplication => self.binary_chain(pair),
            Rule::unary => self.unary(pair),
            Rule::member => self.member(pair),
            _ => self.primary(pair),
        }
    }

    /// `a op b op c` as a left-leaning tree, built in a loop.
    fn binary_chain(&mut self, pair: Pair<'_, Rule>) -> Built {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let Some(first) = inner.next() else {
            return self.invalid(span);
        };
        let mut acc = self.expr(first);
        while let (Some(op_pair), Some(rhs_pair)) = (inner.next(), inner.next()) {
            let op = match op_pair.as_str() {
                "||" => BinaryOp::Or,
                "&&" => BinaryOp::And,
                "==" => BinaryOp::Eq,
                "!=" => BinaryOp::Ne,
                "<" => BinaryOp::Lt,
                "<=" => BinaryOp::Le,
                ">" => BinaryOp::Gt,
                ">=" => BinaryOp::Ge,
                "in" => BinaryOp::In,
                "+" => BinaryOp::Add,
                "-" => BinaryOp::Sub,
                "*" => BinaryOp::Mul,
                "/" => BinaryOp::Div,
                _ => BinaryOp::Rem,
            };
            let rhs = self.expr(rhs_pair);
            let node_span = acc.expr.span.to(rhs.expr.span);
            let depth = 1 + acc.depth.max(rhs.depth);
            acc = self.node(
                ExprKind::Binary {
                    op,
                    lhs: Box::new(acc.expr),
                    rhs: Box::new(rhs.expr),
                },
                node_span,
                depth,
            );
        }
        acc
    }

    fn unary(&mut self, pair: Pair<'_, Rule>) -> Built {
        let span = self.span(&pair);
        let parts: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
        let Some((operand, ops)) = parts.split_last() else {
            return self.invalid(span);
        };
        // A minus right before an integer literal is part of the literal, so that the smallest
        // int (`-9223372036854775808`) can be written.
        let (mut acc, ops) = match (ops.split_last(), literal_text(operand)) {
            (Some((minus, rest)), Some((Rule::int_lit, text))) if minus.as_str() == "-" => {
                let lit_span = self.span(minus).to(self.span(operand));
                let built = match literal::int(text, true) {
                    Ok(i) => Built {
                        expr: Expr {
                            kind: ExprKind::Literal(Literal::Int(i)),
                            span: lit_span,
                        },
                        depth: 1,
                    },
                    Err(e) => {
                        self.error(Code::InvalidLiteral, lit_span, e);
                        self.invalid(lit_span)
                    }
                };
                (built, rest)
            }
            _ => (self.expr(operand.clone()), ops),
        };
        for op_pair in ops.iter().rev() {
            let op = if op_pair.as_str() == "!" {
                UnaryOp::Not
            } else {
                UnaryOp::Neg
            };
            let node_span = self.span(op_pair).to(acc.expr.span);
            let depth = acc.depth + 1;
            acc = self.node(
                ExprKind::Unary {
                    op,
                    operand: Box::new(acc.expr),
                },
                node_span,
                depth,
            );
        }
        acc
    }

    fn member(&mut self, pair: Pair<'_, Rule>) -> Built {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let Some(first) = inner.next() else {
            return self.invalid(span);
        };
        let mut acc = self.expr(first);
        for postfix in inner {
            let post_span = self.span(&postfix);
            let node_span = acc.expr.span.to(post_span);
            match postfix.as_rule() {
                Rule::select => {
                    let mut parts = postfix.into_inner().peekable();
                    let optional = parts.next_if(|p| p.as_rule() == Rule::opt_mark).is_some();
                    let Some(name) = parts.next() else { continue };
                    let field = self.field_ident(name);
                    match parts.next() {
                        Some(args) if optional => {
                            let _ = args;
                            self.error(
                                Code::Syntax,
                                post_span,
                                "`.?` selects a field; it cannot call a method",
                            );
                            return self.invalid(node_span);
                        }
                        Some(args) => {
                            let (args, depth) = self.args(args);
                            let depth = 1 + depth.max(acc.depth);
                            acc = self.node(
                                ExprKind::Call {
                                    target: Some(Box::new(acc.expr)),
                                    func: field,
                                    args,
                                },
                                node_span,
                                depth,
                            );
                        }
                        None => {
                            let depth = acc.depth + 1;
                            // The pair runs on over the blanks where arguments could have
                            // been; the selection ends with its field.
                            let node_span = acc.expr.span.to(field.span);
                            acc = self.node(
                                ExprKind::Select {
                                    base: Box::new(acc.expr),
                                    field,
                                    optional,
                                },
                                node_span,
                                depth,
                            );
                        }
                    }
                }
                Rule::index => {
                    let mut parts = postfix.into_inner().peekable();
                    let optional = parts.next_if(|p| p.as_rule() == Rule::opt_mark).is_some();
                    let Some(index_pair) = parts.next() else {
                        continue;
                    };
                    let index = self.expr(index_pair);
                    let depth = 1 + acc.depth.max(index.depth);
                    acc = self.node(
                        ExprKind::Index {
                            base: Box::new(acc.expr),
                            index: Box::new(index.expr),
                            optional,
                        },
                        node_span,
                        depth,
                    );
                }
                _ => {}
            }
        }
        acc
    }

    fn args(&mut self, pair: Pair<'_, Rule>) -> (Vec<Expr>, u32) {
        let mut depth = 0;
        let args = pair
            .into_inner()
            .map(|a| {
                let b = self.expr(a);
                depth = depth.max(b.depth);
                b.expr
            })
            .collect();
        (args, depth)
    }

    fn primary(&mut self, pair: Pair<'_, Rule>) -> Built {
        let span = self.span(&pair);
        let leaf = |kind| Built {
            expr: Expr { kind, span },
            depth: 1,
        };
        match pair.as_rule() {
            Rule::paren => match pair.into_inner().next() {
                Some(inner) => {
                    let mut b = self.expr(inner);
                    b.expr.span = span;
                    b
                }
                None => self.invalid(span),
            },
            Rule::ident => leaf(ExprKind::Ident {
                name: pair.as_str().to_string(),
                global: false,
            }),
            Rule::global_ident | Rule::call => {
                let global = pair.as_rule() == Rule::global_ident;
                let mut inner = pair.into_inner();
                let Some(name) = inner.next() else {
                    return self.invalid(span);
                };
                match inner.next() {
                    Some(args) => {
                        let func = self.ident(name);
                        let (args, depth) = self.args(args);
                        self.node(
                            ExprKind::Call {
                                target: None,
                                func,
                                args,
                            },
                            span,
                            depth + 1,
                        )
                    }
                    None => leaf(ExprKind::Ident {
                        name: name.as_str().to_string(),
                        global,
                    }),
                }
            }
            Rule::list_lit => {
                let mut depth = 0;
                let mut items = Vec::new();
                for elem in pair.into_inner() {
                    let mut parts = elem.into_inner().peekable();
                    let optional = parts.next_if(|p| p.as_rule() == Rule::opt_mark).is_some();
                    let Some(value) = parts.next() else { continue };
                    let value = self.expr(value);
                    depth = depth.max(value.depth);
                    items.push(Element {
                        value: value.expr,
                        optional,
                    });
                }
                self.node(ExprKind::List(items), span, depth + 1)
            }
            Rule::map_lit => {
                let mut depth = 0;
                let mut entries = Vec::new();
                for entry in pair.into_inner() {
                    let mut kv = entry.into_inner().peekable();
                    let optional = kv.next_if(|p| p.as_rule() == Rule::opt_mark).is_some();
                    let (Some(k), Some(v)) = (kv.next(), kv.next()) else {
                        continue;
                    };
                    let k = self.expr(k);
                    let v = self.expr(v);
                    depth = depth.max(k.depth).max(v.depth);
                    entries.push(MapEntry {
                        key: k.expr,
                        value: v.expr,
                        optional,
                    });
                }
                self.node(ExprKind::Map(entries), span, depth + 1)
            }
            Rule::message_lit => self.message(pair, span),
            Rule::temporal => self.temporal(pair),
            _ => self.literal(pair),
        }
    }

    fn message(&mut self, pair: Pair<'_, Rule>, span: Span) -> Built {
        let mut global = false;
        let mut names: Vec<Pair<'_, Rule>> = Vec::new();
        let mut fields = Vec::new();
        let mut depth = 0;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::leading_dot => global = true,
                Rule::ident => names.push(part),
                _ => {
                    let mut inner = part.into_inner().peekable();
                    let optional = inner.next_if(|p| p.as_rule() == Rule::opt_mark).is_some();
                    let (Some(field), Some(value)) = (inner.next(), inner.next()) else {
                        continue;
                    };
                    let field = self.ident(field);
                    let value = self.expr(value);
                    depth = depth.max(value.depth);
                    fields.push(FieldInit {
                        field,
                        value: value.expr,
                        optional,
                    });
                }
            }
        }
        let (Some(first), Some(last)) = (names.first(), names.last()) else {
            return self.invalid(span);
        };
        // The name without the blanks and comments CEL allows between its parts.
        let text: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        let name = Ident {
            name: text.join("."),
            span: self.span(first).to(self.span(last)),
        };
        self.node(
            ExprKind::Message {
                name,
                global,
                fields,
            },
            span,
            depth + 1,
        )
    }

    fn temporal(&mut self, pair: Pair<'_, Rule>) -> Built {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let Some(func_pair) = inner.next() else {
            return self.invalid(span);
        };
        let func_span = self.span(&func_pair);
        let Some(func) = TemporalFn::from_name(func_pair.as_str()) else {
            return self.invalid(span);
        };
        let Some(event_ref) = inner.next() else {
            return self.invalid(span);
        };
        let mut names = event_ref.into_inner();
        let Some(event) = names.next().map(|p| self.ident(p)) else {
            return self.invalid(span);
        };
        let field = names.next().map(|p| self.ident(p));
        let mut filter = None;
        let mut window = None;
        let mut depth = 1;
        let mut after_where = false;
        for part in inner {
            if part.as_rule() == Rule::kw_where {
                after_where = true;
                continue;
            }
            let b = self.expr(part);
            depth = depth.max(b.depth);
            if std::mem::take(&mut after_where) {
                filter = Some(Box::new(b.expr));
            } else {
                window = Some(Box::new(b.expr));
            }
        }
        self.node(
            ExprKind::Temporal(Temporal {
                func,
                func_span,
                event,
                field,
                filter,
                window,
            }),
            span,
            depth + 1,
        )
    }

    fn literal(&mut self, pair: Pair<'_, Rule>) -> Built {
        let span = self.span(&pair);
        let text = pair.as_str();
        let decoded = match pair.as_rule() {
            Rule::int_lit => literal::int(text, false).map(Literal::Int),
            Rule::uint_lit => literal::uint(text).map(Literal::Uint),
            Rule::double_lit => literal::double(text).map(Literal::Double),
            Rule::string_lit | Rule::bytes_lit => literal::string_or_bytes(text),
            Rule::bool_lit => Ok(Literal::Bool(text == "true")),
            Rule::null_lit => Ok(Literal::Null),
            Rule::duration_lit => literal::duration(text).map(Literal::Duration),
            Rule::timestamp_lit => literal::timestamp(text).map(Literal::Timestamp),
            Rule::money_lit => literal::money(text).map(Literal::Money),
            _ => Err(format!("unexpected `{text}`")),
        };
        match decoded {
            Ok(lit) => Built {
                expr: Expr {
                    kind: ExprKind::Literal(lit),
                    span,
                },
                depth: 1,
            },
            Err(message) => {
                self.error(Code::InvalidLiteral, span, message);
                self.invalid(span)
            }
        }
    }
}

/// The pair a precedence level stands for when it holds one child and no operator (an `expr`
/// without `?`, a `logical_or` of one `logical_and`, ..., a `member` without postfix): that
/// child, found in a loop. Every bracket goes down all ten levels of the grammar, and building
/// them with one call each cost about 35 KB of stack per bracket in a debug build, so that the
/// nesting [`items::MAX_NESTING`] allows overflowed a 2 MiB thread; now a bracket costs two
/// calls.
fn skip_single_child_levels(mut pair: Pair<'_, Rule>) -> Pair<'_, Rule> {
    while matches!(
        pair.as_rule(),
        Rule::expr
            | Rule::logical_or
            | Rule::logical_and
            | Rule::relation
            | Rule::addition
            | Rule::multiplication
            | Rule::unary
            | Rule::member
    ) {
        let mut inner = pair.clone().into_inner();
        match (inner.next(), inner.next()) {
            (Some(only), None) => pair = only,
            _ => break,
        }
    }
    pair
}

/// The literal rule and text of a unary operand that is a bare literal (`member` with one
/// `primary` and no postfix), for folding a minus into it.
fn literal_text<'i>(operand: &Pair<'i, Rule>) -> Option<(Rule, &'i str)> {
    let mut inner = operand.clone().into_inner();
    let primary = inner.next()?;
    if inner.next().is_some() {
        return None;
    }
    Some((primary.as_rule(), primary.as_str()))
}

// ----------------------------------------------------------------------------------- errors

/// `whole` names what was being parsed ("item", or "expression" for `offer eval`), for "the end
/// of the ...".
fn pest_error(
    file: &str,
    offset: usize,
    text: &str,
    e: &pest::error::Error<Rule>,
    whole: &str,
) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let reported = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // pest gives up when the thread's stack runs low ("stack limit reached"): the text nests
    // deeper than this thread can parse, which its parse attempts would only garble.
    if let ErrorVariant::CustomError { message } = &e.variant
        && message.contains("stack")
    {
        let found = found_at(text, reported);
        return too_deep(
            file,
            Span::new(offset + reported, offset + reported + found.len()),
        );
    }
    // With error detail on, pest also records the furthest position any attempt reached and what
    // it wanted there; that is where the text went wrong, often past `reported`.
    let mut rules: Vec<Rule> = Vec::new();
    let mut tokens: Vec<String> = Vec::new();
    if let ErrorVariant::ParsingError { positives, .. } = &e.variant {
        rules.extend(positives.iter().copied());
    }
    let mut pos = reported;
    if let Some(attempts) = e.parse_attempts() {
        let further = attempts.max_position > reported
            && text
                .get(attempts.max_position..)
                .is_some_and(|rest| !rest.starts_with(char::is_whitespace));
        if further {
            pos = attempts.max_position;
            rules = attempts
                .call_stacks()
                .iter()
                .filter_map(|c| c.deepest.get_rule().copied())
                .collect();
        }
        if further || attempts.max_position == reported {
            let closers_only = !further;
            tokens.extend(
                attempts
                    .expected_tokens()
                    .iter()
                    .map(|t| t.to_string())
                    .filter(|t| !closers_only || matches!(t.as_str(), "}" | ")" | "]" | "," | ":")),
            );
        }
    }
    let found = found_at(text, pos);
    let span = Span::new(offset + pos, offset + pos + found.len());
    let mut expected: Vec<String> = Vec::new();
    let end = format!("the end of the {whole}");
    for rule in rules {
        if let Some(word) = describe(rule) {
            push_unique(&mut expected, if word == END { end.clone() } else { word });
        }
    }
    let wants_expression = expected.iter().any(|w| w == EXPRESSION);
    let named: Vec<String> = tokens
        .iter()
        .filter_map(|t| describe_token(t, wants_expression))
        .collect();
    // Past the reported position, pest folds a missing token into the rule around it ("a
    // property" where only the `:` is missing): the token alone says it better.
    if pos != reported && !named.is_empty() {
        expected.clear();
    }
    for word in named {
        push_unique(&mut expected, word);
    }
    if wants_expression {
        expected.retain(|w| w == EXPRESSION || !w.starts_with("a duration"));
    }
    let found_text = if found.is_empty() {
        end.clone()
    } else {
        format!("`{found}`")
    };
    let diagnostic = match expected.as_slice() {
        [] => Diagnostic::error(Code::Syntax, file, span, format!("unexpected {found_text}")),
        [only] if *only == end && whole == "item" => Diagnostic::error(
            Code::Syntax,
            file,
            span,
            format!("unexpected {found_text} after the end of the item"),
        )
        .with_help("an item ends at its closing `}`: check the braces before this point"),
        list => {
            let d = Diagnostic::error(
                Code::Syntax,
                file,
                span,
                format!("expected {}, found {found_text}", join_or(list)),
            );
            if found.is_empty() && whole == "item" && list.iter().any(|w| w == "`}`") {
                d.with_help("the item ends here: is a closing `}` missing?")
            } else {
                d
            }
        }
    };
    let diagnostic = diagnostic.with_label("here");
    // After a dot only a name can come, whatever the token is.
    if matches!(expected.as_slice(), [only] if only == "a field name") {
        return diagnostic
            .with_help("a selection takes a field name after the dot, as in `m.key` or `m.?key`");
    }
    // A hint about the very token found says more than one about the item's shape.
    match hint_for(found) {
        Some(help) => diagnostic.with_help(help),
        None => diagnostic,
    }
}

/// What a writer of other languages probably meant by a token CEL spells differently.
fn hint_for(found: &str) -> Option<String> {
    Some(match found {
        "=" => "to compare, write `==`; a `let` binds with `=` at the top level only".to_string(),
        "or" | "OR" => "write `||` for \"or\"".to_string(),
        "AND" | "&" => {
            "write `&&` for \"and\" (a rule's conditions may also be joined by `and`)".to_string()
        }
        "not" | "NOT" => "write `!` for \"not\"".to_string(),
        "|" => "write `||` for \"or\"".to_string(),
        c if c
            .chars()
            .next()
            .is_some_and(|c| !c.is_ascii() && c.is_alphanumeric()) =>
        {
            "names are made of ASCII letters, digits and `_`".to_string()
        }
        _ => return None,
    })
}

const EXPRESSION: &str = "an expression";
const END: &str = "the end of the item";

fn push_unique(list: &mut Vec<String>, word: String) {
    if !list.contains(&word) {
        list.push(word);
    }
}

fn join_or(list: &[String]) -> String {
    match list {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The word or character at `pos`, for "found `x`".
fn found_at(text: &str, pos: usize) -> &str {
    let rest = text.get(pos..).unwrap_or("");
    let mut chars = rest.char_indices();
    match chars.next() {
        None => "",
        Some((_, c)) if c.is_alphanumeric() || c == '_' => {
            let end = rest
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            rest.get(..end).unwrap_or("")
        }
        Some((_, c)) => rest.get(..c.len_utf8()).unwrap_or(""),
    }
}

/// What a user would call the thing a grammar rule stands for; `None` for rules that only add
/// noise to "expected ..." (operators that could continue an expression).
fn describe(rule: Rule) -> Option<String> {
    let word = match rule {
        Rule::EOI => END,
        Rule::expr
        | Rule::logical_or
        | Rule::logical_and
        | Rule::relation
        | Rule::addition
        | Rule::multiplication
        | Rule::unary
        | Rule::member
        | Rule::paren
        | Rule::list_lit
        | Rule::map_lit
        | Rule::message_lit
        | Rule::call
        | Rule::global_ident
        | Rule::temporal
        | Rule::int_lit
        | Rule::uint_lit
        | Rule::double_lit
        | Rule::string_lit
        | Rule::bytes_lit
        | Rule::bool_lit
        | Rule::null_lit
        | Rule::money_lit
        | Rule::timestamp_lit
        | Rule::prefix_op => EXPRESSION,
        Rule::duration_lit => "a duration such as `7d`",
        Rule::ident | Rule::qual_name => "a name",
        Rule::field_name | Rule::quoted_field => "a field name",
        Rule::type_expr | Rule::enum_type | Rule::record_type | Rule::generic_type => "a type",
        Rule::field | Rule::field_list => "a field such as `plan: string`",
        Rule::offer_prop => "a property such as `title: \"...\"`",
        Rule::profile_decl | Rule::event_decl => "`profile` or `event`",
        Rule::quiet_hours | Rule::cap => "`quiet_hours` or `at_most`",
        Rule::time_of_day => "a time of day such as `22:00`",
        Rule::cap_count => "a count",
        Rule::weight => "a number",
        Rule::event_ref => "an event type",
        Rule::and_clause => "`and`",
        Rule::then_clause => "`then`",
        Rule::when_clause => "`when`",
        Rule::kw_import => "`import`",
        Rule::kw_schema => "`schema`",
        Rule::kw_profile => "`profile`",
        Rule::kw_event => "`event`",
        Rule::kw_key => "`key`",
        Rule::kw_enum => "`enum`",
        Rule::kw_offer => "`offer`",
        Rule::kw_rule => "`rule`",
        Rule::kw_when => "`when`",
        Rule::kw_where => "`where`",
        Rule::kw_and => "`and`",
        Rule::kw_then => "`then`",
        Rule::kw_recommend => "`recommend`",
        Rule::kw_weight => "`weight`",
        Rule::kw_policy => "`policy`",
        Rule::kw_quiet => "`quiet_hours`",
        Rule::kw_local => "`local`",
        Rule::kw_at_most => "`at_most`",
        Rule::kw_per => "`per`",
        Rule::kw_channel => "`channel`",
        Rule::kw_let => "`let`",
        _ => return None,
    };
    Some(word.to_string())
}

/// Punctuation worth naming in "expected ...". Operators are left out, as they would only say
/// that an expression could go on, and so are brackets that open an expression when "an
/// expression" is already said.
fn describe_token(token: &str, wants_expression: bool) -> Option<String> {
    let opens_expression = matches!(token, "(" | "[" | "{" | "." | "-" | "!");
    let worth_naming = matches!(
        token,
        "{" | "}" | "(" | ")" | "[" | "]" | "," | ":" | "=" | ".."
    );
    (worth_naming && !(wants_expression && opens_expression)).then(|| format!("`{token}`"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn expr(text: &str) -> Expr {
        let (e, diags) = parse_expression("t", text);
        assert!(diags.is_empty(), "{diags:?}");
        e.unwrap()
    }

    fn err(text: &str) -> Diagnostic {
        let (_, diags) = parse_expression("t", text);
        diags.into_iter().next().unwrap()
    }

    #[test]
    fn precedence_and_associativity() {
        let e = expr("1 + 2 * 3 - 4");
        let ExprKind::Binary {
            op: BinaryOp::Sub,
            lhs,
            ..
        } = e.kind
        else {
            panic!()
        };
        assert!(matches!(
            lhs.kind,
            ExprKind::Binary {
                op: BinaryOp::Add,
                ..
            }
        ));
        assert!(matches!(
            expr("a || b && c").kind,
            ExprKind::Binary {
                op: BinaryOp::Or,
                ..
            }
        ));
        assert!(matches!(
            expr("a ? b : c ? d : e").kind,
            ExprKind::Ternary { .. }
        ));
    }

    #[test]
    fn minus_folds_into_int_literals() {
        assert_eq!(
            expr("-9223372036854775808").kind,
            ExprKind::Literal(Literal::Int(i64::MIN))
        );
        assert!(matches!(
            expr("--19").kind,
            ExprKind::Unary {
                op: UnaryOp::Neg,
                ..
            }
        ));
        assert_eq!(err("9223372036854775808").code, Code::InvalidLiteral);
    }

    #[test]
    fn members_calls_and_macros() {
        let e = expr("[1, 2].all(x, x > 0) && has(a.b) && a.b[0].c");
        assert!(matches!(
            e.kind,
            ExprKind::Binary {
                op: BinaryOp::And,
                ..
            }
        ));
        assert!(matches!(expr("{'as': 1}.as").kind, ExprKind::Select { .. }));
        assert!(matches!(
            expr(".x").kind,
            ExprKind::Ident { global: true, .. }
        ));
    }

    #[test]
    fn temporal_forms() {
        let ExprKind::Temporal(t) = expr("count(purchase where amount > 10, 30d)").kind else {
            panic!()
        };
        assert_eq!(t.func, TemporalFn::Count);
        assert!(t.filter.is_some() && t.window.is_some());
        let ExprKind::Temporal(t) = expr("sum(purchase.amount, 90d)").kind else {
            panic!()
        };
        assert_eq!(t.field.unwrap().name, "amount");
        assert!(t.filter.is_none());
        assert!(matches!(
            expr("last(purchase).amount").kind,
            ExprKind::Select { .. }
        ));
    }

    #[test]
    fn deep_trees_are_errors() {
        let chain = vec!["1"; 400].join(" + ");
        assert_eq!(err(&chain).code, Code::TooDeep);
        let nested = format!("{}1{}", "(".repeat(300), ")".repeat(300));
        assert_eq!(err(&nested).code, Code::TooDeep);
        let negs = format!("{}1", "-".repeat(1000));
        assert_eq!(err(&negs).code, Code::TooDeep);
    }

    /// Brackets as deep as the splitter allows used to take 35 KB of stack each in a debug
    /// build: sixty of them overflowed a 2 MiB thread.
    #[test]
    fn brackets_at_the_nesting_limit_fit_a_default_thread_stack() {
        let depth = items::MAX_NESTING;
        let texts = [
            format!("{}1{}", "(".repeat(depth), ")".repeat(depth)),
            format!("{}1{}", "[".repeat(depth), "]".repeat(depth)),
            format!("{}1{}", "{1: ".repeat(depth), "}".repeat(depth)),
            format!("{}1{}", "f(".repeat(depth), ")".repeat(depth)),
        ];
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                for text in &texts {
                    let (e, diags) = parse_expression("t", text);
                    assert!(diags.is_empty() && e.is_some(), "{diags:?}");
                    let file = format!("let c = {text}");
                    assert!(parse_file("f", &file).diagnostics.is_empty());
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    /// With less stack than the nesting needs, pest stops; that is a `too_deep`, not a syntax
    /// error that points at a bracket. (pest guards its stack on the main desktop targets
    /// only; elsewhere this thread would overflow.)
    #[test]
    #[cfg(all(
        any(target_arch = "x86_64", target_arch = "aarch64"),
        any(
            all(target_os = "linux", target_env = "gnu"),
            target_os = "macos",
            all(target_os = "windows", target_env = "msvc")
        )
    ))]
    fn running_out_of_stack_in_pest_is_too_deep() {
        let text = format!("{}1{}", "(".repeat(96), ")".repeat(96));
        let diags = std::thread::Builder::new()
            .stack_size(160 * 1024)
            .spawn(move || parse_expression("t", &text).1)
            .unwrap()
            .join()
            .unwrap();
        assert!(diags.iter().all(|d| d.code == Code::TooDeep), "{diags:?}");
    }

    #[test]
    fn items_parse_into_the_tree() {
        let src = r#"
import std.telco
schema {
  profile subscriber key id { id: string, plan: enum { prepaid, postpaid }, tz: timezone }
  event topup { amount: money, tags: list<string>, meta: optional<map<string, int>> }
}
offer Boost { title: "1 GB" price: 4.99 EUR valid_for: 7d channels: [app, sms] }
rule r {
  when topup where amount > 10.00 EUR
  and count(topup, 30d) >= 3
  then recommend Boost, Other weight 0.5
}
policy contact { quiet_hours 22:00..08:00 local  at_most 2 per 1d per subscriber }
channel kiosk
let partners = ["SE", "NO"]
"#;
        let parsed = parse_file("f", src);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert_eq!(parsed.items.len(), 7);
        let Item::Rule(rule) = &parsed.items[3] else {
            panic!()
        };
        assert_eq!(rule.trigger.name, "topup");
        assert!(rule.filter.is_some());
        assert_eq!(rule.conditions.len(), 1);
        assert_eq!(rule.offers.len(), 2);
        assert_eq!(rule.weight.map(|w| w.0), Some(0.5));
        assert_eq!(&src[rule.trigger.span.range()], "topup");
        let Item::Policy(p) = &parsed.items[4] else {
            panic!()
        };
        assert_eq!(p.quiet_hours[0].start_minute, 22 * 60);
        assert_eq!(p.caps[0].count, 2);
    }

    #[test]
    fn one_broken_item_leaves_the_others() {
        let src =
            "offer A { title: }\noffer B { title: \"b\" }\nrule r { when e then recommend B }";
        let parsed = parse_file("f", src);
        assert_eq!(parsed.items.len(), 2);
        assert_eq!(parsed.diagnostics.len(), 1);
        let d = &parsed.diagnostics[0];
        assert_eq!(d.code, Code::Syntax);
        assert_eq!(&src[d.primary.span.range()], "}");
        assert!(d.message.contains("an expression"), "{}", d.message);
    }

    #[test]
    fn unterminated_strings_are_named() {
        let parsed = parse_file("f", "offer A { title: \"abc\n}\noffer B {}");
        assert_eq!(parsed.diagnostics[0].message, "unterminated string literal");
        assert_eq!(parsed.items.len(), 1);
    }
}
