//! Constant folding: a node whose operands are constants becomes the constant it evaluates to,
//! computed by the reference evaluator, so that folding can never disagree with run time. A
//! constant that is an error stays in place (it is what the program computes) and is reported
//! as a warning, since such an expression always fails.

use crate::eval::{self, Evaluator, NO_ENV};
use crate::ir::{Expr, ExprKind, Var};
use crate::schema::Schema;
use crate::span::Span;
use crate::types::Ty;
use crate::value::Value;

/// A sub-expression that always evaluates to an error, first where it arises.
#[derive(Clone, Debug, PartialEq)]
pub struct AlwaysFails {
    pub span: Span,
    pub error: String,
}

pub fn fold(e: Expr, schema: &Schema) -> Expr {
    fold_reporting(e, schema, &mut Vec::new())
}

pub fn fold_reporting(e: Expr, schema: &Schema, failures: &mut Vec<AlwaysFails>) -> Expr {
    let evaluator = Evaluator::new(schema);
    Folder {
        evaluator,
        failures,
    }
    .fold(e)
}

struct Folder<'s, 'f> {
    evaluator: Evaluator<&'s Schema>,
    failures: &'f mut Vec<AlwaysFails>,
}

impl Folder<'_, '_> {
    fn fold(&mut self, mut e: Expr) -> Expr {
        self.fold_children(&mut e);
        match &e.kind {
            // `?x` means something only as an element of its literal: the literal folds instead.
            ExprKind::Const(_) | ExprKind::Var(_) | ExprKind::OptionalEntry(_) => return e,
            // A constant condition picks its branch whatever the branches are.
            ExprKind::Cond { cond, .. } if matches!(cond.as_const(), Some(Value::Bool(_))) => {
                let pick_then = matches!(cond.as_const(), Some(Value::Bool(true)));
                let ExprKind::Cond {
                    then, otherwise, ..
                } = e.kind
                else {
                    return e;
                };
                let mut picked = if pick_then { *then } else { *otherwise };
                picked.span = e.span;
                return picked;
            }
            // The absorbing operand decides `&&` and `||` even next to errors or unknowns.
            ExprKind::And(ops) | ExprKind::Or(ops) => {
                let absorbing = matches!(e.kind, ExprKind::Or(_));
                if ops
                    .iter()
                    .any(|o| matches!(o.as_const(), Some(Value::Bool(b)) if *b == absorbing))
                {
                    return Expr::constant(Value::Bool(absorbing), e.ty, e.span);
                }
                // `true && x` is `x` when `x` is a bool (an error stays an error either way).
                if ops.iter().all(|o| o.ty == Ty::Bool) {
                    return drop_neutral(e, absorbing);
                }
            }
            _ => {}
        }
        // An error type marks an expression already reported: folding it would report it again.
        let poisoned = e.ty == Ty::Error || eval::children(&e).iter().any(|c| c.ty == Ty::Error);
        if poisoned || !self.closed(&e) {
            return e;
        }
        let value = self.evaluator.eval(&e, &NO_ENV);
        if let Value::Error(err) = &value
            && !eval::children(&e)
                .iter()
                .any(|c| matches!(c.as_const(), Some(Value::Error(_))))
        {
            self.failures.push(AlwaysFails {
                span: e.span,
                error: err.to_string(),
            });
        }
        Expr::constant(value, e.ty, e.span)
    }

    fn fold_children(&mut self, e: &mut Expr) {
        let take = |slot: &mut Box<Expr>, f: &mut Self| {
            let inner = std::mem::replace(
                slot.as_mut(),
                Expr::constant(Value::Null, Ty::Null, Span::default()),
            );
            **slot = f.fold(inner);
        };
        match &mut e.kind {
            ExprKind::Const(_)
            | ExprKind::Var(_)
            | ExprKind::Aggregate { .. }
            | ExprKind::Latest { .. }
            | ExprKind::Previous { .. }
            | ExprKind::Since { .. }
            | ExprKind::Seen { .. } => {}
            ExprKind::Field { base, .. }
            | ExprKind::HasField { base, .. }
            | ExprKind::SelectKey { base, .. }
            | ExprKind::HasKey { base, .. } => take(base, self),
            ExprKind::Unary { arg, .. } | ExprKind::Matches { arg, .. } => take(arg, self),
            ExprKind::Binary { lhs, rhs, .. } => {
                take(lhs, self);
                take(rhs, self);
            }
            ExprKind::Index { base, index } | ExprKind::OptionalIndex { base, index } => {
                take(base, self);
                take(index, self);
            }
            ExprKind::OptionalSelect { base, .. } | ExprKind::OptionalEntry(base) => {
                take(base, self);
            }
            ExprKind::Let { value, body, .. } => {
                take(value, self);
                take(body, self);
            }
            ExprKind::Cond {
                cond,
                then,
                otherwise,
            } => {
                take(cond, self);
                take(then, self);
                take(otherwise, self);
            }
            ExprKind::And(items)
            | ExprKind::Or(items)
            | ExprKind::List(items)
            | ExprKind::Call { args: items, .. } => {
                let owned = std::mem::take(items);
                *items = owned.into_iter().map(|i| self.fold(i)).collect();
            }
            ExprKind::Map(entries) => {
                let owned = std::mem::take(entries);
                *entries = owned
                    .into_iter()
                    .map(|(k, v)| (self.fold(k), self.fold(v)))
                    .collect();
            }
            ExprKind::Record { fields, .. } => {
                let owned = std::mem::take(fields);
                *fields = owned
                    .into_iter()
                    .map(|(slot, v)| (slot, self.fold(v)))
                    .collect();
            }
            ExprKind::Comprehension(c) => {
                let range = std::mem::replace(
                    &mut c.range,
                    Expr::constant(Value::Null, Ty::Null, Span::default()),
                );
                c.range = self.fold(range);
                c.predicate = c.predicate.take().map(|p| self.fold(p));
                c.transform = c.transform.take().map(|t| self.fold(t));
            }
        }
    }

    /// Whether `e` reads nothing but constants (and the variables of comprehensions inside it).
    fn closed(&self, e: &Expr) -> bool {
        let own_locals = match &e.kind {
            ExprKind::Comprehension(c) => Some(c.var),
            ExprKind::Let { var, .. } => Some(*var),
            _ => None,
        };
        match &e.kind {
            _ if let Some(first) = own_locals => {
                let mut closed = true;
                eval::visit(e, &mut |n| match &n.kind {
                    ExprKind::Var(Var::Local(i)) if *i >= first => {}
                    ExprKind::Var(_)
                    | ExprKind::Aggregate { .. }
                    | ExprKind::Latest { .. }
                    | ExprKind::Previous { .. }
                    | ExprKind::Since { .. }
                    | ExprKind::Seen { .. } => closed = false,
                    _ => {}
                });
                closed
            }
            ExprKind::Aggregate { .. }
            | ExprKind::Latest { .. }
            | ExprKind::Previous { .. }
            | ExprKind::Since { .. }
            | ExprKind::Seen { .. }
            | ExprKind::Var(_) => false,
            // `?x` with a constant `x` is as constant as its literal.
            _ => eval::children(e).iter().all(|c| match &c.kind {
                ExprKind::OptionalEntry(inner) => inner.as_const().is_some(),
                _ => c.as_const().is_some(),
            }),
        }
    }
}

/// Drops the operands of `&&` (`||`) that are constant `true` (`false`).
fn drop_neutral(e: Expr, absorbing: bool) -> Expr {
    let (ExprKind::And(ops) | ExprKind::Or(ops)) = e.kind else {
        return e;
    };
    let neutral = |o: &Expr| matches!(o.as_const(), Some(Value::Bool(b)) if *b != absorbing);
    let mut kept: Vec<Expr> = ops.into_iter().filter(|o| !neutral(o)).collect();
    match (kept.pop(), kept.is_empty()) {
        (None, _) => Expr::constant(Value::Bool(!absorbing), e.ty, e.span),
        (Some(only), true) => only,
        (Some(last), false) => {
            kept.push(last);
            let kind = if absorbing {
                ExprKind::Or(kept)
            } else {
                ExprKind::And(kept)
            };
            Expr {
                kind,
                ty: e.ty,
                span: e.span,
            }
        }
    }
}
