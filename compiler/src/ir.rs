//! The typed intermediate representation: what the checker produces, the optimiser folds, the
//! bundle stores, the interpreter runs and the JIT will compile.
//!
//! Shaped for native code: every node carries its static type; names are gone (fields are slots
//! of the schema's flat layout, variables are numbered, functions are an enum); rules are grouped
//! by the event type that triggers them; temporal forms point into a state plan that says which
//! per-customer state the runtime keeps. Errors are values: a node that can fail yields
//! [`crate::value::Value::Error`], and only `And`, `Or` and the comprehensions absorb them.

use crate::schema::Schema;
use crate::span::Span;
use crate::types::{RecordId, Ty};
use crate::value::time::TimePart;
use crate::value::{Money, Nanos, Value};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub type OfferId = u32;
pub type RuleId = u32;
pub type ChannelId = u32;
pub type SeriesId = u32;

/// A checked, lowered program: everything the runtime needs and nothing it would look up by
/// name while events flow.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub schema: Schema,
    pub channels: Vec<String>,
    pub offers: Vec<Offer>,
    pub rules: Vec<Rule>,
    /// `triggers[event type]`: the rules that event type triggers, in declaration order.
    pub triggers: Vec<Vec<RuleId>>,
    pub policy: ContactPolicy,
    pub state: StatePlan,
}

/// Where a declaration came from: an index into the bundle's source map, and its span there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub file: u32,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub price: Option<Money>,
    pub valid_for: Option<Nanos>,
    /// In order of preference; never empty (an offer without `channels` goes to every channel).
    pub channels: Vec<ChannelId>,
    /// `eligible:` — who may get the offer at all.
    pub eligible: Option<Expr>,
    /// `deliverable:` — whether an order could be fulfilled for this customer now.
    pub deliverable: Option<Expr>,
    /// `value:` — what one acceptance is worth to arbitration (a double).
    pub value: Expr,
    pub origin: Origin,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub trigger: RecordId,
    /// The `where` filter and the `and` conditions joined into one `And` node (CEL semantics:
    /// a false condition wins over an error in another); `None` when the rule has neither.
    pub condition: Option<Expr>,
    pub offers: Vec<OfferId>,
    pub weight: f64,
    pub origin: Origin,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactPolicy {
    pub quiet_hours: Vec<QuietHours>,
    pub caps: Vec<Cap>,
}

/// A daily span of local time in which no decision is sent; `start > end` wraps past midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub start_minute: u32,
    pub end_minute: u32,
}

/// `at_most count per window per scope`, over the half-open window `(now - window, now]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cap {
    pub count: u64,
    pub window: Nanos,
    pub scope: CapScope,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CapScope {
    /// All decisions to one customer.
    Customer,
    /// Decisions of one offer to one customer.
    Offer,
}

/// The per-customer state the runtime must keep, derived from the program and nothing more.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatePlan {
    /// Windowed aggregates read this history.
    pub series: Vec<Series>,
    /// Event types whose latest occurrence the runtime keeps per customer: read by `last`,
    /// `since`, `seen`, or a field of an event type other than the trigger.
    pub latest: Vec<RecordId>,
    /// Whether any expression reads the profile (quiet hours read its time zone too).
    pub profile: bool,
    /// How far back the contact log must reach for the caps (the longest cap window).
    pub contact_window: Option<Nanos>,
}

/// The history of one event type, filtered, with the value of one field: what `count`, `sum`,
/// `min`, `max` and `avg` over that event type read. Aggregates that differ only in their
/// window share a series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub event: RecordId,
    /// Evaluated when an event arrives, with that event as `Var::Event`; only matching events
    /// enter the series.
    pub filter: Option<Expr>,
    /// The aggregated field's slot; `None` for a count.
    pub field: Option<u32>,
    /// The field's type (int, uint, double, money or duration).
    pub value_ty: Option<Ty>,
    /// How long entries are kept: the longest window that reads the series; `None` keeps running
    /// totals over the whole history instead of entries.
    pub retention: Option<Nanos>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    Const(Value),
    Var(Var),
    /// A field of a record value by slot. An absent required field is an error value; an
    /// optional field yields an optional value.
    Field {
        base: Box<Expr>,
        slot: u32,
    },
    /// `has(record.field)`.
    HasField {
        base: Box<Expr>,
        slot: u32,
    },
    /// `map.key` or a field of a `dyn` value, by name.
    SelectKey {
        base: Box<Expr>,
        key: Arc<str>,
    },
    /// `has(map.key)`.
    HasKey {
        base: Box<Expr>,
        key: Arc<str>,
    },
    /// `list[i]` or `map[key]`.
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// `base.?key`: an optional value, empty when the map (or record) has no such key; an
    /// empty optional base stays empty.
    OptionalSelect {
        base: Box<Expr>,
        key: Arc<str>,
    },
    /// `base[?index]`: an optional value, empty when the list or map has no such element.
    OptionalIndex {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// `?x` as an element of a list literal or the value of a map entry: the optional `x`'s
    /// value is added, or the element left out when it is empty. Only a direct child of
    /// `List` or `Map`.
    OptionalEntry(Box<Expr>),
    /// `cel.bind(var, value, body)`: `body` with the local `var` bound to `value`.
    Let {
        var: u32,
        value: Box<Expr>,
        body: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        arg: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// Conjunction of two or more operands, error-absorbing: any false operand makes it false.
    And(Vec<Expr>),
    /// Disjunction, error-absorbing: any true operand makes it true.
    Or(Vec<Expr>),
    Cond {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Call {
        func: Func,
        args: Vec<Expr>,
    },
    /// `s.matches(pattern)` with a constant pattern, compiled once when the program is loaded.
    Matches {
        arg: Box<Expr>,
        pattern: Arc<str>,
    },
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    /// `Type{field: value, ...}`: a record of `record`'s `size` slots with the given ones set
    /// (an `OptionalEntry` value sets its slot only when it has a value).
    Record {
        record: RecordId,
        size: u32,
        fields: Vec<(u32, Expr)>,
    },
    Comprehension(Box<Comprehension>),
    /// A windowed aggregate over a series of the state plan; `window` `None` is the whole history.
    Aggregate {
        func: AggregateFn,
        series: SeriesId,
        window: Option<Nanos>,
    },
    /// The customer's latest event of a type, the one being processed included: what `E.field`
    /// reads for an event type `E` in an offer, or in a rule that `E` does not trigger.
    Latest {
        event: RecordId,
    },
    /// `last(E)`: the customer's `E` before the event being processed (an error if none).
    Previous {
        event: RecordId,
    },
    /// `since(E)`: time from the previous `E` to now.
    Since {
        event: RecordId,
    },
    /// `seen(E)`: whether there was a previous `E`.
    Seen {
        event: RecordId,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Var {
    /// The event being processed (the rule's trigger, or the event entering a series).
    Event,
    /// The customer's profile.
    Profile,
    /// The time of the event being processed.
    Now,
    /// A comprehension variable, numbered from the outermost.
    Local(u32),
    /// A variable bound from outside (`offer eval --bindings`), by position.
    Binding(u32),
}

pub use crate::syntax::ast::{BinaryOp, UnaryOp};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comprehension {
    pub kind: ComprehensionKind,
    /// The element variable (for a map range, the key; with two variables, the index or key).
    pub var: u32,
    /// The second variable of the two-variable forms (`all(i, v, p)`, `transformList`): the
    /// element, or the map's value.
    pub var2: Option<u32>,
    pub range: Expr,
    /// The predicate of `all`/`exists`/`exists_one`/`filter`, or the filter of a three-argument
    /// `map`.
    pub predicate: Option<Expr>,
    /// The transform of `map`.
    pub transform: Option<Expr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ComprehensionKind {
    All,
    Exists,
    ExistsOne,
    Map,
    Filter,
    /// `transformMap(k, v, [p,] f)`: a map from each key to `f`.
    TransformMap,
    /// `opt.optMap(x, f)`: over an optional's value, `optional.of(f)`, or empty.
    OptionalMap,
    /// `opt.optFlatMap(x, f)`: `f` (itself optional) over an optional's value, or empty.
    OptionalFlatMap,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AggregateFn {
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

/// Built-in functions, resolved by the checker. Receiver-style calls (`s.size()`) take the
/// receiver as the first argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Func {
    Size,
    Contains,
    StartsWith,
    EndsWith,
    /// `matches` with a pattern computed at run time.
    MatchesDynamic,
    ToInt,
    ToUint,
    ToDouble,
    ToString,
    ToBytes,
    ToBool,
    ToTimestamp,
    ToDuration,
    /// `dyn(x)`: the value unchanged, its static type forgotten.
    ToDyn,
    TypeOf,
    TimePart(TimePart),
    OptionalOf,
    OptionalNone,
    OptionalHasValue,
    OptionalValue,
    OptionalOrValue,
    /// `optional.ofNonZeroValue(x)`: empty for a zero value (`0`, `''`, `[]`, `null`, ...).
    OptionalOfNonZeroValue,
    /// `a.or(b)`: `a` if it has a value, else `b`.
    OptionalOr,
    /// A function of one of CEL's extension libraries.
    Library(crate::library::LibraryFn),
    /// A function the host declared to the checker (by its index among the declarations); it
    /// has no implementation here, so a call evaluates to an error.
    Declared(u32),
}

impl Expr {
    pub fn constant(value: Value, ty: Ty, span: Span) -> Expr {
        Expr {
            kind: ExprKind::Const(value),
            ty,
            span,
        }
    }

    pub fn as_const(&self) -> Option<&Value> {
        match &self.kind {
            ExprKind::Const(v) => Some(v),
            _ => None,
        }
    }
}

impl Program {
    pub fn rules_for(&self, event: RecordId) -> &[RuleId] {
        self.triggers.get(event as usize).map_or(&[], Vec::as_slice)
    }

    pub fn offer(&self, id: OfferId) -> Option<&Offer> {
        self.offers.get(id as usize)
    }

    pub fn rule(&self, id: RuleId) -> Option<&Rule> {
        self.rules.get(id as usize)
    }

    pub fn channel_name(&self, id: ChannelId) -> &str {
        self.channels.get(id as usize).map_or("?", String::as_str)
    }
}
