//! The reference evaluator of IR expressions: CEL semantics over [`Value`], with the operators of
//! [`crate::value::ops`]. It lives beside the IR because three users need exactly one meaning of
//! an expression: constant folding here, `offer eval`, and the runtime's interpreter, which
//! supplies the customer's state through [`Env`]. The JIT is checked against it.
//!
//! Recursion follows the expression tree, whose depth the parser bounds.

use crate::ir::{
    AggregateFn, BinaryOp, ComprehensionKind, Expr, ExprKind, Func, SeriesId, UnaryOp, Var,
};
use crate::schema::Schema;
use crate::types::{RecordId, Ty};
use crate::value::{EvalError, MapKey, MapValue, Nanos, RecordValue, Value, ops};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

/// What an expression may read besides constants: the event being processed, the customer's
/// profile and history, outside bindings. Every method has an answer for "not here" (an error
/// value), so constant folding can run with [`NO_ENV`].
pub trait Env {
    /// The event being processed, as a record value.
    fn event(&self) -> Value;
    fn profile(&self) -> Value;
    fn now(&self) -> Option<Nanos>;
    fn binding(&self, index: u32) -> Value;
    /// The latest `event`, the one being processed included.
    fn latest(&self, event: RecordId) -> Value;
    /// The `event` before the one being processed: its time and record.
    fn previous(&self, event: RecordId) -> Option<(Nanos, Value)>;
    fn aggregate(&self, func: AggregateFn, series: SeriesId, window: Option<Nanos>) -> Value;

    /// The event being processed, borrowed, for reading its fields without copying the record.
    fn event_record(&self) -> Option<&RecordValue> {
        None
    }

    /// The profile, borrowed, likewise.
    fn profile_record(&self) -> Option<&RecordValue> {
        None
    }
}

/// Variables bound by position and nothing else (no event, no customer): what a constant
/// sees, and what `offer eval` gives an expression.
#[derive(Clone, Debug, Default)]
pub struct Bindings(pub Vec<Value>);

/// No variables at all.
pub const NO_ENV: Bindings = Bindings(Vec::new());

fn unavailable(what: &str) -> Value {
    Value::error(EvalError::Message(format!("{what} is not available here")))
}

impl Env for Bindings {
    fn event(&self) -> Value {
        unavailable("the event")
    }
    fn profile(&self) -> Value {
        unavailable("the profile")
    }
    fn now(&self) -> Option<Nanos> {
        None
    }
    fn binding(&self, index: u32) -> Value {
        self.0
            .get(index as usize)
            .cloned()
            .unwrap_or_else(|| unavailable("the variable"))
    }
    fn latest(&self, _event: RecordId) -> Value {
        unavailable("the customer's history")
    }
    fn previous(&self, _event: RecordId) -> Option<(Nanos, Value)> {
        None
    }
    fn aggregate(&self, _func: AggregateFn, _series: SeriesId, _window: Option<Nanos>) -> Value {
        unavailable("the customer's history")
    }
}

/// How much one evaluation may do, in steps: a step per comprehension iteration, and what
/// operators and functions read and build, by size (see `Evaluator::eval_in`). A million steps
/// is a fraction of a second; a rule or a constant that needs more is an error, not a stalled
/// engine or compiler.
pub const EVAL_BUDGET: u64 = 1_000_000;

/// The largest string, bytes, list or map (in bytes, roughly) one evaluation may build.
pub const MAX_VALUE_BYTES: usize = 1 << 24;

/// The state of one evaluation: comprehension and `cel.bind` variables by number, and what is
/// left of the budget.
#[derive(Debug)]
pub struct Frame {
    locals: Vec<Value>,
    fuel: u64,
}

impl Frame {
    /// Takes `cost` from the budget; false when it is spent.
    fn spend(&mut self, cost: u64) -> bool {
        match self.fuel.checked_sub(cost) {
            Some(left) => {
                self.fuel = left;
                true
            }
            None => {
                self.fuel = 0;
                false
            }
        }
    }
}

impl std::ops::Deref for Frame {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.locals
    }
}

impl std::ops::DerefMut for Frame {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.locals
    }
}

/// Whether a function's work grows with its arguments' size (`contains`, `format`), or not
/// (`size`, `type`, the optionals' accessors), which are charged a step.
pub fn reads_through(func: Func) -> bool {
    !matches!(
        func,
        Func::Size
            | Func::TypeOf
            | Func::ToDyn
            | Func::ToInt
            | Func::ToUint
            | Func::ToDouble
            | Func::ToBool
            | Func::ToTimestamp
            | Func::ToDuration
            | Func::TimePart(_)
            | Func::OptionalOf
            | Func::OptionalNone
            | Func::OptionalHasValue
            | Func::OptionalValue
            | Func::OptionalOrValue
            | Func::OptionalOfNonZeroValue
            | Func::OptionalOr
    )
}

/// What compiling a pattern costs, per unit of its size, against a step of evaluation.
const REGEX_COMPILE_COST: u64 = 200;

/// The size of a value in budget steps, counted no further than `limit`: one for a scalar, one
/// per 16 bytes of a string or bytes, the sum of the parts of a list, map, record or optional
/// (every occurrence of a shared part counted).
#[inline]
pub fn cost(v: &Value, limit: u64) -> u64 {
    match v {
        Value::Null
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Uint(_)
        | Value::Double(_)
        | Value::Timestamp(_)
        | Value::Duration(_) => 1,
        _ => composite_cost(v, limit),
    }
}

fn composite_cost(v: &Value, limit: u64) -> u64 {
    match v {
        Value::String(s) => 1 + (s.len() / 16) as u64,
        Value::Bytes(b) => 1 + (b.len() / 16) as u64,
        Value::List(items) => parts_cost(items.iter(), limit),
        Value::Map(m) => {
            parts_cost(m.entries.values(), limit).saturating_add(m.entries.len() as u64)
        }
        Value::Record(r) => parts_cost(r.fields.iter().flatten(), limit),
        Value::Optional(Some(inner)) => 1 + cost(inner, limit),
        _ => 1,
    }
}

fn parts_cost<'v>(parts: impl Iterator<Item = &'v Value>, limit: u64) -> u64 {
    let mut total: u64 = 1;
    for part in parts {
        total = total.saturating_add(cost(part, limit.saturating_sub(total)));
        if total > limit {
            break;
        }
    }
    total
}

fn over_budget() -> Value {
    Value::error(EvalError::Budget(EVAL_BUDGET))
}

/// Evaluates expressions of one program. Holds the regexes of the program's constant patterns,
/// compiled once. `S` is whatever holds the schema: a reference while compiling, a shared
/// program at run time.
#[derive(Debug)]
pub struct Evaluator<S> {
    schema: S,
    regexes: HashMap<Arc<str>, regex::Regex>,
}

impl<S: Deref<Target = Schema>> Evaluator<S> {
    pub fn new(schema: S) -> Evaluator<S> {
        Evaluator {
            schema,
            regexes: HashMap::new(),
        }
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Compiles the constant pattern of every `matches` in `exprs` ahead of evaluation.
    pub fn prepare<'e>(&mut self, exprs: impl IntoIterator<Item = &'e Expr>) {
        for e in exprs {
            visit(e, &mut |node| {
                if let ExprKind::Matches { pattern, .. } = &node.kind
                    && !self.regexes.contains_key(pattern)
                    && let Ok(re) = ops::compile_regex(pattern)
                {
                    self.regexes.insert(pattern.clone(), re);
                }
            });
        }
    }

    pub fn eval(&self, e: &Expr, env: &dyn Env) -> Value {
        let mut frame = Frame {
            locals: Vec::new(),
            fuel: EVAL_BUDGET,
        };
        self.eval_in(e, env, &mut frame)
    }

    /// Evaluates to a bool: `Ok(b)`, or the error (a non-bool result is a `no such overload`).
    pub fn eval_bool(&self, e: &Expr, env: &dyn Env) -> Result<bool, Arc<EvalError>> {
        condition(self.eval(e, env))
    }

    /// Evaluates `e` without copying what it can borrow: a constant, or a present field of
    /// the event or the profile. Operators read their operands through this, which spares the
    /// reference counting of strings, lists and records on the hot path.
    fn eval_cow<'v>(&'v self, e: &'v Expr, env: &'v dyn Env, locals: &mut Frame) -> Cow<'v, Value> {
        let record = |var: &Expr| match var.kind {
            ExprKind::Var(Var::Event) => env.event_record(),
            ExprKind::Var(Var::Profile) => env.profile_record(),
            _ => None,
        };
        match &e.kind {
            ExprKind::Const(v) => Cow::Borrowed(v),
            ExprKind::Field { base, slot } if !matches!(e.ty, Ty::Optional(_)) => {
                match record(base).and_then(|r| r.fields.get(*slot as usize)) {
                    Some(Some(v)) => Cow::Borrowed(v),
                    _ => Cow::Owned(self.eval_in(e, env, locals)),
                }
            }
            _ => Cow::Owned(self.eval_in(e, env, locals)),
        }
    }

    /// What costs: comprehension steps, operators and functions by the size of what they read
    /// (a comparison of two long lists, `contains` on a long string) and by the size of what
    /// they build, counted deeply, since shared parts (`[l, l, l]`) cost to compare, print and
    /// store as often as they occur. Reading a variable, a field or a constant costs nothing.
    fn eval_in(&self, e: &Expr, env: &dyn Env, locals: &mut Frame) -> Value {
        let value = self.eval_node(e, env, locals);
        let builds = matches!(
            e.kind,
            ExprKind::Binary {
                op: BinaryOp::Add,
                ..
            } | ExprKind::Call { .. }
                | ExprKind::List(_)
                | ExprKind::Map(_)
                | ExprKind::Record { .. }
                | ExprKind::Comprehension(_)
        );
        if !builds || value.is_error() {
            return value;
        }
        let too_long = match &value {
            Value::String(s) => s.len() > MAX_VALUE_BYTES,
            Value::Bytes(b) => b.len() > MAX_VALUE_BYTES,
            _ => false,
        };
        if too_long || !locals.spend(cost(&value, locals.fuel)) {
            return over_budget();
        }
        value
    }

    fn eval_node(&self, e: &Expr, env: &dyn Env, locals: &mut Frame) -> Value {
        match &e.kind {
            ExprKind::Const(v) => v.clone(),
            ExprKind::Var(var) => match var {
                Var::Event => env.event(),
                Var::Profile => env.profile(),
                Var::Now => env
                    .now()
                    .map_or_else(|| unavailable("`now`"), Value::Timestamp),
                Var::Local(i) => locals
                    .get(*i as usize)
                    .cloned()
                    .unwrap_or_else(|| unavailable("the variable")),
                Var::Binding(i) => env.binding(*i),
            },
            ExprKind::Field { base, slot } => {
                let base = self.eval_in(base, env, locals);
                self.field(&base, *slot, &e.ty)
            }
            ExprKind::HasField { base, slot } => match self.eval_in(base, env, locals) {
                Value::Record(r) => {
                    Value::Bool(r.fields.get(*slot as usize).is_some_and(Option::is_some))
                }
                err @ Value::Error(_) => err,
                other => no_overload("has", &other),
            },
            ExprKind::SelectKey { base, key } => {
                let base = self.eval_in(base, env, locals);
                self.select_key(&base, key)
            }
            ExprKind::HasKey { base, key } => match self.eval_in(base, env, locals) {
                Value::Optional(None) => Value::Bool(false),
                Value::Optional(Some(inner)) => self.has_key(&inner, key),
                other => self.has_key(&other, key),
            },
            ExprKind::Index { base, index } | ExprKind::OptionalIndex { base, index } => {
                let container = self.eval_in(base, env, locals);
                let key = self.eval_in(index, env, locals);
                match container {
                    // After an optional, indexing is optional indexing (chaining).
                    Value::Optional(None) => container,
                    Value::Optional(Some(inner)) => ops::optional_index(&inner, &key),
                    container if matches!(e.kind, ExprKind::OptionalIndex { .. }) => {
                        ops::optional_index(&container, &key)
                    }
                    container => ops::index(&container, &key),
                }
            }
            ExprKind::OptionalSelect { base, key } => match self.eval_in(base, env, locals) {
                Value::Optional(None) => Value::Optional(None),
                Value::Optional(Some(inner)) => self.optional_select(&inner, key),
                other => self.optional_select(&other, key),
            },
            // Only reached when a literal's element is evaluated on its own (never by the
            // literal, which unwraps it): the optional itself.
            ExprKind::OptionalEntry(inner) => self.eval_in(inner, env, locals),
            ExprKind::Let { var, value, body } => {
                let v = self.eval_in(value, env, locals);
                let slot = *var as usize;
                if locals.len() <= slot {
                    locals.resize(slot + 1, Value::Null);
                }
                if let Some(local) = locals.get_mut(slot) {
                    *local = v;
                }
                self.eval_in(body, env, locals)
            }
            ExprKind::Unary { op, arg } => {
                let v = self.eval_in(arg, env, locals);
                match op {
                    UnaryOp::Not => ops::not(&v),
                    UnaryOp::Neg => ops::neg(&v),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let a = self.eval_cow(lhs, env, locals);
                let b = self.eval_cow(rhs, env, locals);
                // A map is searched, not read through.
                let read_b = match (op, b.as_ref()) {
                    (BinaryOp::In, Value::Map(_)) => 1,
                    _ => cost(&b, locals.fuel),
                };
                let read = cost(&a, locals.fuel).saturating_add(read_b);
                if !locals.spend(read) {
                    return over_budget();
                }
                binary(*op, &a, &b)
            }
            ExprKind::And(operands) => self.junction(operands, env, locals, false),
            ExprKind::Or(operands) => self.junction(operands, env, locals, true),
            ExprKind::Cond {
                cond,
                then,
                otherwise,
            } => match self.eval_in(cond, env, locals) {
                Value::Bool(true) => self.eval_in(then, env, locals),
                Value::Bool(false) => self.eval_in(otherwise, env, locals),
                err @ Value::Error(_) => err,
                other => no_overload("_?_:_", &other),
            },
            ExprKind::Call { func, args } => {
                let values: Vec<Value> =
                    args.iter().map(|a| self.eval_in(a, env, locals)).collect();
                let mut read = if reads_through(*func) {
                    values
                        .iter()
                        .fold(0u64, |n, v| n.saturating_add(cost(v, locals.fuel)))
                } else {
                    1
                };
                if *func == Func::MatchesDynamic {
                    // The pattern is compiled on every call.
                    let pattern = values.get(1).map_or(0, |p| cost(p, locals.fuel));
                    read = read.saturating_add(REGEX_COMPILE_COST.saturating_mul(pattern));
                }
                if !locals.spend(read) {
                    return over_budget();
                }
                call(*func, &values)
            }
            ExprKind::Matches { arg, pattern } => {
                let s = self.eval_in(arg, env, locals);
                if !locals.spend(cost(&s, locals.fuel)) {
                    return over_budget();
                }
                match self.regexes.get(pattern) {
                    Some(re) => ops::matches(&s, re),
                    None => ops::matches_pattern(&s, &Value::String(pattern.clone())),
                }
            }
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match self.element(item, env, locals) {
                        Ok(Some(v)) => out.push(v),
                        Ok(None) => {}
                        Err(e) => return e,
                    }
                }
                Value::list(out)
            }
            ExprKind::Map(entries) => {
                let mut map = MapValue::default();
                for (k, v) in entries {
                    let key = self.eval_in(k, env, locals);
                    if key.is_error() {
                        return key;
                    }
                    let value = match self.element(v, env, locals) {
                        Ok(Some(v)) => v,
                        Ok(None) => continue,
                        Err(e) => return e,
                    };
                    let shown = key.to_string();
                    let key = match MapKey::from_value(&key) {
                        Ok(k) if !matches!(key, Value::Double(_)) => k,
                        Ok(_) | Err(_) => {
                            return Value::error(EvalError::InvalidArgument(format!(
                                "unsupported map key type: {}",
                                key.type_name()
                            )));
                        }
                    };
                    if map.entries.insert(key, value).is_some() {
                        return Value::error(EvalError::InvalidArgument(format!(
                            "duplicate map key {shown}"
                        )));
                    }
                }
                Value::Map(Arc::new(map))
            }
            ExprKind::Record {
                record,
                size,
                fields,
            } => {
                let mut values: Vec<Option<Value>> = vec![None; *size as usize];
                for (slot, v) in fields {
                    match self.element(v, env, locals) {
                        Ok(Some(v)) => {
                            if let Some(place) = values.get_mut(*slot as usize) {
                                *place = Some(v);
                            }
                        }
                        Ok(None) => {}
                        Err(e) => return e,
                    }
                }
                Value::Record(Arc::new(RecordValue {
                    ty: *record,
                    fields: values,
                }))
            }
            ExprKind::Comprehension(c) => self.comprehension(c, env, locals),
            ExprKind::Aggregate {
                func,
                series,
                window,
            } => env.aggregate(*func, *series, *window),
            ExprKind::Latest { event } => env.latest(*event),
            ExprKind::Previous { event } => match env.previous(*event) {
                Some((_, record)) => record,
                None => self.no_history(*event),
            },
            ExprKind::Since { event } => match (env.previous(*event), env.now()) {
                (Some((at, _)), Some(now)) => {
                    ops::sub(&Value::Timestamp(now), &Value::Timestamp(at))
                }
                (None, _) => self.no_history(*event),
                (_, None) => unavailable("`now`"),
            },
            ExprKind::Seen { event } => Value::Bool(env.previous(*event).is_some()),
        }
    }

    /// `has(v.key)` on an evaluated `v`: a map's key, a record's present field.
    fn has_key(&self, v: &Value, key: &Arc<str>) -> Value {
        match v {
            Value::Map(m) => Value::Bool(m.entries.contains_key(&MapKey::String(key.clone()))),
            Value::Record(r) => Value::Bool(
                self.schema
                    .record(r.ty)
                    .and_then(|def| def.field(key))
                    .is_some_and(|(slot, _)| {
                        r.fields.get(slot as usize).is_some_and(Option::is_some)
                    }),
            ),
            Value::Error(_) => v.clone(),
            other => no_overload("has", other),
        }
    }

    /// An element of a list literal or a map entry's value: `None` for an empty `?x`.
    fn element(
        &self,
        item: &Expr,
        env: &dyn Env,
        locals: &mut Frame,
    ) -> Result<Option<Value>, Value> {
        let (optional, inner) = match &item.kind {
            ExprKind::OptionalEntry(inner) => (true, inner.as_ref()),
            _ => (false, item),
        };
        match self.eval_in(inner, env, locals) {
            err @ Value::Error(_) => Err(err),
            Value::Optional(None) if optional => Ok(None),
            Value::Optional(Some(v)) if optional => Ok(Some(v.as_ref().clone())),
            other if optional => Err(no_overload("?", &other)),
            v => Ok(Some(v)),
        }
    }

    /// `v.?key`: the value under `key` as an optional, empty when there is none.
    fn optional_select(&self, v: &Value, key: &Arc<str>) -> Value {
        match v {
            Value::Map(m) => m
                .entries
                .get(&MapKey::String(key.clone()))
                .map_or(Value::Optional(None), ops::optional_of),
            Value::Record(r) => match self.schema.record(r.ty).and_then(|def| def.field(key)) {
                Some((slot, _)) => r
                    .fields
                    .get(slot as usize)
                    .and_then(Option::as_ref)
                    .map_or(Value::Optional(None), ops::optional_of),
                None => Value::error(EvalError::NoSuchField(key.to_string())),
            },
            Value::Error(_) => v.clone(),
            other => no_overload("_?._", other),
        }
    }

    fn no_history(&self, event: RecordId) -> Value {
        let name = self
            .schema
            .record(event)
            .map_or("event", |r| r.name.as_str());
        Value::error(EvalError::NoHistory(name.to_string()))
    }

    fn field(&self, base: &Value, slot: u32, ty: &Ty) -> Value {
        match base {
            Value::Optional(None) => base.clone(),
            Value::Optional(Some(inner)) => self.field(inner, slot, ty),
            Value::Record(r) => match r.fields.get(slot as usize) {
                Some(Some(v)) if matches!(ty, Ty::Optional(_)) => {
                    Value::Optional(Some(Arc::new(v.clone())))
                }
                Some(Some(v)) => v.clone(),
                _ if matches!(ty, Ty::Optional(_)) => Value::Optional(None),
                _ => {
                    let name = self
                        .schema
                        .record(r.ty)
                        .map(|def| {
                            let field = def
                                .fields
                                .get(slot as usize)
                                .map_or("?", |f| f.name.as_str());
                            format!("{}.{field}", def.name)
                        })
                        .unwrap_or_else(|| "field".to_string());
                    Value::error(EvalError::Unset(name))
                }
            },
            Value::Error(_) => base.clone(),
            other => no_overload("select", other),
        }
    }

    fn select_key(&self, base: &Value, key: &Arc<str>) -> Value {
        match base {
            // Optional chaining: after an optional, a selection is an optional selection.
            Value::Optional(None) => base.clone(),
            Value::Optional(Some(inner)) => self.optional_select(inner, key),
            Value::Map(m) => m
                .entries
                .get(&MapKey::String(key.clone()))
                .cloned()
                .unwrap_or_else(|| Value::error(EvalError::NoSuchKey(key.to_string()))),
            Value::Record(r) => match self.schema.record(r.ty).and_then(|def| def.field(key)) {
                Some((slot, def)) => self.field(base, slot, &def.ty),
                None => Value::error(EvalError::NoSuchField(key.to_string())),
            },
            Value::Error(_) => base.clone(),
            other => no_overload("select", other),
        }
    }

    /// `&&` (`absorbing` false) and `||` (`absorbing` true) over any number of operands, left to
    /// right: the absorbing value wins over errors, an error wins over the other value.
    fn junction(
        &self,
        operands: &[Expr],
        env: &dyn Env,
        locals: &mut Frame,
        absorbing: bool,
    ) -> Value {
        let mut error: Option<Value> = None;
        for operand in operands {
            let v = self.eval_in(operand, env, locals);
            if let Some(decided) = junction_step(absorbing, v, &mut error) {
                return decided;
            }
        }
        error.unwrap_or(Value::Bool(!absorbing))
    }

    fn comprehension(
        &self,
        c: &crate::ir::Comprehension,
        env: &dyn Env,
        locals: &mut Frame,
    ) -> Value {
        use ComprehensionKind as K;
        let range = self.eval_in(&c.range, env, locals);
        // Each step binds (first, second): a list's element (or index and element with two
        // variables), a map's key (or key and value), an optional's value.
        let two = c.var2.is_some();
        let steps: Vec<(Value, Value)> = match &range {
            Value::List(items) if two => items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v.clone()))
                .collect(),
            Value::List(items) => items.iter().map(|v| (v.clone(), Value::Null)).collect(),
            Value::Map(m) => m
                .entries
                .iter()
                .map(|(k, v)| (k.to_value(), v.clone()))
                .collect(),
            Value::Optional(o) if matches!(c.kind, K::OptionalMap | K::OptionalFlatMap) => o
                .iter()
                .map(|v| (v.as_ref().clone(), Value::Null))
                .collect(),
            Value::Error(_) => return range,
            other => return no_overload(kind_name(c.kind), other),
        };
        let slots = std::iter::once(c.var).chain(c.var2);
        let needed = slots.map(|s| s as usize + 1).max().unwrap_or(0);
        if locals.len() < needed {
            locals.resize(needed, Value::Null);
        }
        let mut error: Option<Value> = None;
        let mut count: usize = 0;
        let mut out: Vec<Value> = Vec::new();
        let mut out_map = MapValue::default();
        for (first, second) in steps {
            if !locals.spend(1) {
                return over_budget();
            }
            let element = if two { second.clone() } else { first.clone() };
            let key = first.clone();
            if let Some(local) = locals.get_mut(c.var as usize) {
                *local = first;
            }
            if let Some(v2) = c.var2
                && let Some(local) = locals.get_mut(v2 as usize)
            {
                *local = second;
            }
            let keep = match &c.predicate {
                Some(p) => match self.eval_in(p, env, locals) {
                    Value::Bool(b) => Some(b),
                    err @ Value::Error(_) => {
                        if !matches!(c.kind, K::All | K::Exists) {
                            return err;
                        }
                        error.get_or_insert(err);
                        None
                    }
                    other => return no_overload(kind_name(c.kind), &other),
                },
                None => Some(true),
            };
            match (c.kind, keep) {
                (K::All, Some(false)) => return Value::Bool(false),
                (K::Exists, Some(true)) => return Value::Bool(true),
                (K::ExistsOne, Some(true)) => count += 1,
                (K::Filter, Some(true)) => out.push(element),
                (K::Map | K::TransformMap | K::OptionalMap | K::OptionalFlatMap, Some(true)) => {
                    let Some(t) = &c.transform else { continue };
                    let v = self.eval_in(t, env, locals);
                    if v.is_error() {
                        return v;
                    }
                    match c.kind {
                        K::TransformMap => match MapKey::from_value(&key) {
                            Ok(k) => {
                                out_map.entries.insert(k, v);
                            }
                            Err(e) => return Value::error(e),
                        },
                        K::OptionalMap => return ops::optional_of(&v),
                        K::OptionalFlatMap => {
                            return match v {
                                Value::Optional(_) => v,
                                other => no_overload("optFlatMap", &other),
                            };
                        }
                        _ => out.push(v),
                    }
                }
                _ => {}
            }
        }
        match c.kind {
            K::All => error.unwrap_or(Value::Bool(true)),
            K::Exists => error.unwrap_or(Value::Bool(false)),
            K::ExistsOne => Value::Bool(count == 1),
            K::Map | K::Filter => Value::list(out),
            K::TransformMap => Value::Map(Arc::new(out_map)),
            K::OptionalMap | K::OptionalFlatMap => Value::Optional(None),
        }
    }
}

fn kind_name(kind: ComprehensionKind) -> &'static str {
    match kind {
        ComprehensionKind::All => "all",
        ComprehensionKind::Exists => "exists",
        ComprehensionKind::ExistsOne => "exists_one",
        ComprehensionKind::Map => "map",
        ComprehensionKind::Filter => "filter",
        ComprehensionKind::TransformMap => "transformMap",
        ComprehensionKind::OptionalMap => "optMap",
        ComprehensionKind::OptionalFlatMap => "optFlatMap",
    }
}

fn no_overload(name: &str, v: &Value) -> Value {
    if v.is_error() {
        return v.clone();
    }
    Value::error(EvalError::NoSuchOverload(format!(
        "{name}({})",
        v.type_name()
    )))
}

/// A binary operator on two evaluated operands (`&&` and `||` are junctions, not here).
pub fn binary(op: BinaryOp, a: &Value, b: &Value) -> Value {
    match op {
        BinaryOp::Add => ops::add(a, b),
        BinaryOp::Sub => ops::sub(a, b),
        BinaryOp::Mul => ops::mul(a, b),
        BinaryOp::Div => ops::div(a, b),
        BinaryOp::Rem => ops::rem(a, b),
        BinaryOp::Eq => ops::eq(a, b),
        BinaryOp::Ne => ops::ne(a, b),
        BinaryOp::Lt => ops::less(a, b),
        BinaryOp::Le => ops::less_eq(a, b),
        BinaryOp::Gt => ops::greater(a, b),
        BinaryOp::Ge => ops::greater_eq(a, b),
        BinaryOp::In => ops::contains_elem(b, a),
        BinaryOp::And | BinaryOp::Or => {
            let absorbing = op == BinaryOp::Or;
            let mut error = None;
            junction_step(absorbing, a.clone(), &mut error)
                .or_else(|| junction_step(absorbing, b.clone(), &mut error))
                .unwrap_or_else(|| error.unwrap_or(Value::Bool(!absorbing)))
        }
    }
}

/// One operand of `&&` (`absorbing` false) or `||` (`absorbing` true): the absorbing value
/// decides the whole, whatever comes before or after; an error or a non-bool is kept, the first
/// one winning, for the end.
fn junction_step(absorbing: bool, v: Value, error: &mut Option<Value>) -> Option<Value> {
    match v {
        Value::Bool(b) if b == absorbing => Some(Value::Bool(absorbing)),
        Value::Bool(_) => None,
        err @ Value::Error(_) => {
            error.get_or_insert(err);
            None
        }
        other => {
            let symbol = if absorbing { "_||_" } else { "_&&_" };
            error.get_or_insert_with(|| no_overload(symbol, &other));
            None
        }
    }
}

/// A built-in function on evaluated arguments.
pub fn call(func: Func, args: &[Value]) -> Value {
    // The checker holds each call to an arity its function takes; a missing argument (only
    // possible where it could not) reads as null, which no overload takes.
    let arg = |i: usize| args.get(i).unwrap_or(&Value::Null);
    let first = arg(0);
    let second = || arg(1);
    match func {
        Func::Size => ops::size(first),
        Func::Contains => ops::contains(first, second()),
        Func::StartsWith => ops::starts_with(first, second()),
        Func::EndsWith => ops::ends_with(first, second()),
        Func::MatchesDynamic => ops::matches_pattern(first, second()),
        Func::ToInt => ops::to_int(first),
        Func::ToUint => ops::to_uint(first),
        Func::ToDouble => ops::to_double(first),
        Func::ToString => ops::to_string(first),
        Func::ToBytes => ops::to_bytes(first),
        Func::ToBool => ops::to_bool(first),
        Func::ToTimestamp => ops::to_timestamp(first),
        Func::ToDuration => ops::to_duration(first),
        Func::ToDyn => first.clone(),
        Func::TypeOf => ops::type_of(first),
        Func::TimePart(part) => ops::time_part(first, part, args.get(1)),
        Func::OptionalOf => ops::optional_of(first),
        Func::OptionalNone => Value::Optional(None),
        Func::OptionalHasValue => ops::has_value(first),
        Func::OptionalValue => ops::optional_value(first),
        Func::OptionalOrValue => ops::or_value(first, second()),
        Func::OptionalOfNonZeroValue => ops::optional_of_non_zero(first),
        Func::OptionalOr => ops::optional_or(first, second()),
        Func::Library(f) => crate::library::call(f, args),
        Func::Declared(i) => Value::error(EvalError::NoSuchOverload(format!(
            "declared function #{i} has no implementation"
        ))),
    }
}

/// A condition's value as a bool: `Ok(b)`, or the error (a non-bool is a `no such overload`).
pub fn condition(v: Value) -> Result<bool, Arc<EvalError>> {
    match v {
        Value::Bool(b) => Ok(b),
        Value::Error(err) => Err(err),
        other => Err(Arc::new(EvalError::NoSuchOverload(format!(
            "a condition must be a bool, not {}",
            other.type_name()
        )))),
    }
}

/// Calls `f` on every node of `e`, parents before children.
pub fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    for child in children(e) {
        visit(child, f);
    }
}

/// The direct sub-expressions of a node.
pub fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Const(_)
        | ExprKind::Var(_)
        | ExprKind::Aggregate { .. }
        | ExprKind::Latest { .. }
        | ExprKind::Previous { .. }
        | ExprKind::Since { .. }
        | ExprKind::Seen { .. } => Vec::new(),
        ExprKind::Field { base, .. }
        | ExprKind::HasField { base, .. }
        | ExprKind::SelectKey { base, .. }
        | ExprKind::HasKey { base, .. } => vec![base],
        ExprKind::Unary { arg, .. } | ExprKind::Matches { arg, .. } => vec![arg],
        ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
        ExprKind::Index { base, index } | ExprKind::OptionalIndex { base, index } => {
            vec![base, index]
        }
        ExprKind::OptionalSelect { base, .. } | ExprKind::OptionalEntry(base) => vec![base],
        ExprKind::Let { value, body, .. } => vec![value, body],
        ExprKind::And(items)
        | ExprKind::Or(items)
        | ExprKind::List(items)
        | ExprKind::Call { args: items, .. } => items.iter().collect(),
        ExprKind::Cond {
            cond,
            then,
            otherwise,
        } => vec![cond, then, otherwise],
        ExprKind::Map(entries) => entries.iter().flat_map(|(k, v)| [k, v]).collect(),
        ExprKind::Record { fields, .. } => fields.iter().map(|(_, v)| v).collect(),
        ExprKind::Comprehension(c) => std::iter::once(&c.range)
            .chain(c.predicate.as_ref())
            .chain(c.transform.as_ref())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err() -> Value {
        Value::error(EvalError::DivisionByZero)
    }

    #[test]
    fn two_operand_junctions_absorb_errors_like_n_ary_ones() {
        let (t, f) = (Value::Bool(true), Value::Bool(false));
        assert_eq!(binary(BinaryOp::And, &err(), &f), f);
        assert_eq!(binary(BinaryOp::And, &f, &err()), f);
        assert_eq!(binary(BinaryOp::And, &t, &err()), err());
        assert_eq!(binary(BinaryOp::Or, &err(), &t), t);
        assert_eq!(binary(BinaryOp::Or, &f, &f), f);
        assert!(binary(BinaryOp::Or, &Value::Int(1), &f).is_error());
        assert_eq!(binary(BinaryOp::Or, &Value::Int(1), &t), t);
    }
}
