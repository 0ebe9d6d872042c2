//! One customer's history of one series of the state plan: the entries inside the longest
//! window that reads it, or running totals when an aggregate reads the whole history.
//!
//! Windows are half-open, `(now - window, now]`: an entry exactly one window old is out. The
//! same rule holds for every window in the product.

use offer_compiler::ir::{AggregateFn, Series};
use offer_compiler::types::Ty;
use offer_compiler::value::{EvalError, Money, Nanos, Value, ops};
use std::cmp::Ordering;
use std::collections::VecDeque;

#[derive(Clone, Debug, PartialEq)]
pub enum SeriesState {
    /// Entries in time order: time and the aggregated field's value (`Null` for a count).
    Window {
        retention: Nanos,
        entries: VecDeque<(Nanos, Value)>,
    },
    Totals(Totals),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Totals {
    count: u64,
    sum: Option<Value>,
    min: Option<Value>,
    max: Option<Value>,
}

impl SeriesState {
    pub fn new(plan: &Series) -> SeriesState {
        match plan.retention {
            Some(retention) => SeriesState::Window {
                retention,
                entries: VecDeque::new(),
            },
            None => SeriesState::Totals(Totals {
                count: 0,
                sum: None,
                min: None,
                max: None,
            }),
        }
    }

    /// Adds an entry at `at` (never earlier than the previous one) and forgets what no window
    /// can read any more.
    pub fn push(&mut self, at: Nanos, value: Value) {
        match self {
            SeriesState::Window { retention, entries } => {
                entries.push_back((at, value));
                let horizon = at.saturating_sub(*retention);
                while entries.front().is_some_and(|(t, _)| *t <= horizon) {
                    entries.pop_front();
                }
            }
            SeriesState::Totals(t) => {
                t.count += 1;
                if !matches!(value, Value::Null) {
                    t.sum = Some(match t.sum.take() {
                        Some(s) => ops::add(&s, &value),
                        None => value.clone(),
                    });
                    if t.min.as_ref().is_none_or(|m| less(&value, m)) {
                        t.min = Some(value.clone());
                    }
                    if t.max.as_ref().is_none_or(|m| less(m, &value)) {
                        t.max = Some(value);
                    }
                }
            }
        }
    }

    /// The aggregate over `(now - window, now]`, or over the whole history for `None`.
    /// `value_ty` is the aggregated field's type, for the sum of nothing.
    pub fn aggregate(
        &self,
        func: AggregateFn,
        window: Option<Nanos>,
        now: Nanos,
        value_ty: Option<&Ty>,
    ) -> Value {
        match self {
            SeriesState::Window { entries, .. } => {
                let from = window.map_or(Nanos::MIN, |w| now.saturating_sub(w));
                let values = entries
                    .iter()
                    .filter(|(t, _)| *t > from && *t <= now)
                    .map(|(_, v)| v);
                fold(func, values, value_ty)
            }
            SeriesState::Totals(t) => match func {
                AggregateFn::Count => count(t.count),
                AggregateFn::Sum => t.sum.clone().unwrap_or_else(|| zero(value_ty)),
                AggregateFn::Min => t.min.clone().unwrap_or_else(empty),
                AggregateFn::Max => t.max.clone().unwrap_or_else(empty),
                AggregateFn::Avg => match &t.sum {
                    Some(sum) => average(sum, t.count),
                    None => empty(),
                },
            },
        }
    }
}

fn fold<'v>(
    func: AggregateFn,
    values: impl Iterator<Item = &'v Value>,
    value_ty: Option<&Ty>,
) -> Value {
    let mut n: u64 = 0;
    let mut acc: Option<Value> = None;
    for v in values {
        n += 1;
        acc = Some(match (func, acc) {
            (AggregateFn::Count, _) => Value::Null,
            (_, None) => v.clone(),
            (AggregateFn::Sum | AggregateFn::Avg, Some(a)) => ops::add(&a, v),
            (AggregateFn::Min, Some(a)) => {
                if less(v, &a) {
                    v.clone()
                } else {
                    a
                }
            }
            (AggregateFn::Max, Some(a)) => {
                if less(&a, v) {
                    v.clone()
                } else {
                    a
                }
            }
        });
    }
    match func {
        AggregateFn::Count => count(n),
        AggregateFn::Sum => acc.unwrap_or_else(|| zero(value_ty)),
        AggregateFn::Min | AggregateFn::Max => acc.unwrap_or_else(empty),
        AggregateFn::Avg => match acc {
            Some(sum) => average(&sum, n),
            None => empty(),
        },
    }
}

fn less(a: &Value, b: &Value) -> bool {
    ops::compare(a, b).ok().flatten() == Some(Ordering::Less)
}

fn count(n: u64) -> Value {
    i64::try_from(n).map_or_else(|_| Value::error(EvalError::Overflow), Value::Int)
}

fn zero(ty: Option<&Ty>) -> Value {
    match ty {
        Some(Ty::Uint) => Value::Uint(0),
        Some(Ty::Double) => Value::Double(0.0),
        Some(Ty::Duration) => Value::Duration(0),
        Some(Ty::Money) => Value::Money(Money::ZERO),
        _ => Value::Int(0),
    }
}

fn empty() -> Value {
    Value::error(EvalError::Message("no events in the window".into()))
}

/// The mean: a double for numbers, exact money (half to even) and durations otherwise.
fn average(sum: &Value, n: u64) -> Value {
    let n_int = Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
    match sum {
        Value::Int(i) => Value::Double(*i as f64 / n as f64),
        Value::Uint(u) => Value::Double(*u as f64 / n as f64),
        Value::Double(d) => Value::Double(d / n as f64),
        Value::Money(_) => ops::div(sum, &n_int),
        Value::Duration(d) => Value::Duration(d / i128::from(n.max(1))),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Nanos = 86_400 * 1_000_000_000;

    fn window(days: i128) -> SeriesState {
        SeriesState::Window {
            retention: days * DAY,
            entries: VecDeque::new(),
        }
    }

    #[test]
    fn windows_are_half_open() {
        let mut s = window(90);
        s.push(0, Value::Int(5));
        s.push(10 * DAY, Value::Int(7));
        // Exactly 90 days after the first entry, it is out of the window.
        assert_eq!(
            s.aggregate(AggregateFn::Count, Some(90 * DAY), 90 * DAY, None),
            Value::Int(1)
        );
        assert_eq!(
            s.aggregate(AggregateFn::Count, Some(90 * DAY), 90 * DAY - 1, None),
            Value::Int(2)
        );
        assert_eq!(
            s.aggregate(AggregateFn::Sum, Some(90 * DAY), 10 * DAY, Some(&Ty::Int)),
            Value::Int(12)
        );
        assert_eq!(
            s.aggregate(AggregateFn::Avg, Some(90 * DAY), 10 * DAY, Some(&Ty::Int)),
            Value::Double(6.0)
        );
        assert_eq!(
            s.aggregate(AggregateFn::Max, Some(5 * DAY), 10 * DAY, Some(&Ty::Int)),
            Value::Int(7)
        );
    }

    #[test]
    fn entries_older_than_the_retention_are_forgotten() {
        let mut s = window(1);
        for i in 0..1000 {
            s.push(i * DAY, Value::Null);
        }
        let SeriesState::Window { entries, .. } = &s else {
            panic!()
        };
        assert_eq!(entries.len(), 1);
    }

    #[test]
    fn empty_windows() {
        let s = window(30);
        assert_eq!(
            s.aggregate(AggregateFn::Count, Some(DAY), 0, None),
            Value::Int(0)
        );
        assert_eq!(
            s.aggregate(AggregateFn::Sum, Some(DAY), 0, Some(&Ty::Double)),
            Value::Double(0.0)
        );
        assert!(
            s.aggregate(AggregateFn::Min, Some(DAY), 0, Some(&Ty::Double))
                .is_error()
        );
        assert!(
            s.aggregate(AggregateFn::Avg, Some(DAY), 0, Some(&Ty::Double))
                .is_error()
        );
    }

    #[test]
    fn running_totals_for_the_whole_history() {
        let plan = Series {
            event: 0,
            filter: None,
            field: Some(0),
            value_ty: Some(Ty::Double),
            retention: None,
        };
        let mut s = SeriesState::new(&plan);
        for (i, v) in [3.0, 1.0, 2.0].into_iter().enumerate() {
            s.push(i as Nanos * DAY * 1000, Value::Double(v));
        }
        let at = |f| s.aggregate(f, None, 10_000 * DAY, Some(&Ty::Double));
        assert_eq!(at(AggregateFn::Count), Value::Int(3));
        assert_eq!(at(AggregateFn::Sum), Value::Double(6.0));
        assert_eq!(at(AggregateFn::Min), Value::Double(1.0));
        assert_eq!(at(AggregateFn::Max), Value::Double(3.0));
        assert_eq!(at(AggregateFn::Avg), Value::Double(2.0));
    }
}
