//! The syntax tree of one file, with absolute byte spans. Produced per item by the parser;
//! names are unresolved strings here and become ids in the checker.

use crate::span::Span;
use crate::value::Nanos;
use crate::value::money::Money;

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import(Import),
    Schema(SchemaDecl),
    Offer(OfferDecl),
    Rule(RuleDecl),
    Policy(PolicyDecl),
    Channel(ChannelDecl),
    Let(LetDecl),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Schema(s) => s.span,
            Item::Offer(o) => o.span,
            Item::Rule(r) => r.span,
            Item::Policy(p) => p.span,
            Item::Channel(c) => c.span,
            Item::Let(l) => l.span,
        }
    }

    /// The declared name, for items that have one.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Offer(o) => Some(&o.name),
            Item::Rule(r) => Some(&r.name),
            Item::Policy(p) => Some(&p.name),
            Item::Channel(c) => Some(&c.name),
            Item::Let(l) => Some(&l.name),
            Item::Import(_) | Item::Schema(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub path: Vec<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChannelDecl {
    pub name: Ident,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LetDecl {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SchemaDecl {
    pub records: Vec<RecordDecl>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordDecl {
    pub is_profile: bool,
    pub name: Ident,
    /// The key field of a profile.
    pub key: Option<Ident>,
    pub fields: Vec<FieldDecl>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    Named(Ident),
    Generic {
        name: Ident,
        args: Vec<TypeExpr>,
        span: Span,
    },
    Enum {
        variants: Vec<Ident>,
        span: Span,
    },
    Record {
        fields: Vec<FieldDecl>,
        span: Span,
    },
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(i) => i.span,
            TypeExpr::Generic { span, .. }
            | TypeExpr::Enum { span, .. }
            | TypeExpr::Record { span, .. } => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct OfferDecl {
    pub name: Ident,
    pub props: Vec<Prop>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Prop {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleDecl {
    pub name: Ident,
    pub trigger: Ident,
    /// `when EVENT where FILTER`.
    pub filter: Option<Expr>,
    /// Each `and` condition, in source order.
    pub conditions: Vec<Expr>,
    pub offers: Vec<Ident>,
    pub weight: Option<(f64, Span)>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDecl {
    pub name: Ident,
    pub quiet_hours: Vec<QuietHours>,
    pub caps: Vec<CapDecl>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QuietHours {
    /// Minutes after local midnight; `start > end` wraps past midnight.
    pub start_minute: u32,
    pub end_minute: u32,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CapDecl {
    pub count: u64,
    pub window: Nanos,
    pub window_span: Span,
    pub scope: Ident,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// A name; `global` when written with a leading dot (`.x`).
    Ident {
        name: String,
        global: bool,
    },
    /// `base.field`, or `base.?field` (`optional`), which gives an optional value.
    Select {
        base: Box<Expr>,
        field: Ident,
        optional: bool,
    },
    /// `func(args)` or `target.func(args)`; macros such as `has` and `all` are calls here.
    Call {
        target: Option<Box<Expr>>,
        func: Ident,
        args: Vec<Expr>,
    },
    /// `base[index]`, or `base[?index]` (`optional`).
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
        optional: bool,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    List(Vec<Element>),
    Map(Vec<MapEntry>),
    /// `Type{field: value, ...}`: a record value; `name` as written (dots included), `global`
    /// with a leading dot.
    Message {
        name: Ident,
        global: bool,
        fields: Vec<FieldInit>,
    },
    Temporal(Temporal),
    /// Stands where a diagnostic was already reported (an invalid literal, nesting too deep), so
    /// that later stages skip it without reporting it again.
    Invalid,
}

/// An element of a list literal; `optional` for `?x`, which adds the value of the optional `x`
/// when it has one.
#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub value: Expr,
    pub optional: bool,
}

/// An entry of a map literal; `optional` for `?k: v`, where `v` is optional and the entry is
/// left out when it is empty.
#[derive(Clone, Debug, PartialEq)]
pub struct MapEntry {
    pub key: Expr,
    pub value: Expr,
    pub optional: bool,
}

/// A field of a message literal; `optional` for `?field: opt`, set only when `opt` has a value.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldInit {
    pub field: Ident,
    pub value: Expr,
    pub optional: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Temporal {
    pub func: TemporalFn,
    pub func_span: Span,
    pub event: Ident,
    /// `sum(purchase.amount, 90d)`: the field aggregated.
    pub field: Option<Ident>,
    pub filter: Option<Box<Expr>>,
    pub window: Option<Box<Expr>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TemporalFn {
    Count,
    Sum,
    Min,
    Max,
    Avg,
    Last,
    Since,
    Seen,
}

impl TemporalFn {
    pub fn name(self) -> &'static str {
        match self {
            TemporalFn::Count => "count",
            TemporalFn::Sum => "sum",
            TemporalFn::Min => "min",
            TemporalFn::Max => "max",
            TemporalFn::Avg => "avg",
            TemporalFn::Last => "last",
            TemporalFn::Since => "since",
            TemporalFn::Seen => "seen",
        }
    }

    pub fn from_name(name: &str) -> Option<TemporalFn> {
        Some(match name {
            "count" => TemporalFn::Count,
            "sum" => TemporalFn::Sum,
            "min" => TemporalFn::Min,
            "max" => TemporalFn::Max,
            "avg" => TemporalFn::Avg,
            "last" => TemporalFn::Last,
            "since" => TemporalFn::Since,
            "seen" => TemporalFn::Seen,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Double(f64),
    String(String),
    Bytes(Vec<u8>),
    Duration(Nanos),
    Timestamp(Nanos),
    Money(Money),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}
