//! The two tiers an expression of the program runs in: native code where the JIT compiles it,
//! the reference interpreter otherwise (and always, with [`Tier::Interpreter`]). Both give one
//! result: native code hands every evaluation it has no value for back to the interpreter.
//!
//! The rules an event type triggers are compiled together into one [`Matcher`], which loads
//! the fields they read once and evaluates all their conditions in one call; offers'
//! expressions and series filters are compiled one by one.

use offer_compiler::eval::{Env, Evaluator};
use offer_compiler::ir::{Expr, Program};
use offer_compiler::schema::Schema;
use offer_compiler::value::Value;
use offer_jit::{Jit, Matcher, NativeExpr};
use std::ops::Deref;

/// Which tier the engine runs expressions in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tier {
    /// Native code where it compiles, the interpreter for the rest.
    #[default]
    Native,
    /// The reference interpreter only (for comparison and explanation).
    Interpreter,
}

/// The value of `e`, the expression at `places[i]`: natively if it has native code there.
pub fn eval<S: Deref<Target = Schema>>(
    places: &[Option<NativeExpr>],
    i: usize,
    e: &Expr,
    evaluator: &Evaluator<S>,
    env: &dyn Env,
) -> Value {
    match places.get(i).and_then(Option::as_ref) {
        Some(native) => native.eval(e, evaluator, env),
        None => evaluator.eval(e, env),
    }
}

/// The program's expressions in native code, by place, with how many of them are native.
#[derive(Debug, Default)]
pub struct ProgramCode {
    /// Per event type: the conditions of the rules it triggers, in trigger order.
    pub matchers: Vec<Option<Matcher>>,
    /// Per offer: `eligible`, `deliverable`, `value`.
    pub eligible: Vec<Option<NativeExpr>>,
    pub deliverable: Vec<Option<NativeExpr>>,
    pub value: Vec<Option<NativeExpr>>,
    /// Per series: its filter.
    pub filters: Vec<Option<NativeExpr>>,
    pub native: usize,
    pub expressions: usize,
    /// The expressions left to the interpreter: where they are, and why.
    pub interpreted: Vec<(String, String)>,
    /// Why the JIT could not run at all, if it could not.
    pub unavailable: Option<String>,
}

/// Where an expression compiled one by one sits in the program.
#[derive(Clone, Copy)]
enum Place {
    Eligible(usize),
    Deliverable(usize),
    Value(usize),
    Filter(usize),
}

impl ProgramCode {
    pub fn new(program: &Program, tier: Tier) -> ProgramCode {
        let offers = program.offers.len();
        let mut code = ProgramCode {
            eligible: none(offers),
            deliverable: none(offers),
            value: none(offers),
            filters: none(program.state.series.len()),
            matchers: none(program.triggers.len()),
            ..ProgramCode::default()
        };
        let places: Vec<(Place, &Expr)> = program
            .offers
            .iter()
            .enumerate()
            .flat_map(|(i, o)| {
                [
                    (Place::Eligible(i), o.eligible.as_ref()),
                    (Place::Deliverable(i), o.deliverable.as_ref()),
                    (Place::Value(i), Some(&o.value)),
                ]
            })
            .chain(
                program
                    .state
                    .series
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (Place::Filter(i), s.filter.as_ref())),
            )
            .filter_map(|(place, e)| Some((place, computed(e)?)))
            .collect();
        let conditions = program
            .rules
            .iter()
            .filter(|r| computed(r.condition.as_ref()).is_some())
            .count();
        code.expressions = places.len() + conditions;
        if tier == Tier::Native
            && let Err(why) = code.compile(program, &places)
        {
            code.unavailable = Some(why);
        }
        code
    }

    /// Compiles every place and every event type's rules, keeping what compiles and saying why
    /// the rest does not.
    fn compile(&mut self, program: &Program, places: &[(Place, &Expr)]) -> Result<(), String> {
        let mut jit = Jit::new().map_err(|e| e.to_string())?;
        // What compiled, in the order the JIT gives it back.
        let mut compiled_places = Vec::new();
        for &(place, e) in places {
            match jit.compile(e) {
                Ok(_) => compiled_places.push(place),
                Err(why) => self.interpreted.push((place_name(program, place), why.0)),
            }
        }
        let mut compiled_events = Vec::new();
        for (event, rules) in program.triggers.iter().enumerate() {
            let conditions: Vec<Option<&Expr>> = rules
                .iter()
                .map(|&r| computed(program.rule(r).and_then(|r| r.condition.as_ref())))
                .collect();
            if !conditions.iter().any(Option::is_some) {
                continue;
            }
            match jit.compile_matcher(&conditions) {
                Ok(_) => compiled_events.push(event),
                Err(why) => {
                    let name = program
                        .schema
                        .record(event as u32)
                        .map_or("?", |r| r.name.as_str());
                    self.interpreted
                        .push((format!("the rules `{name}` triggers"), why.0));
                }
            }
        }
        let compiled = jit.finish().map_err(|e| e.to_string())?;
        for (place, native) in compiled_places.into_iter().zip(compiled.exprs) {
            let (list, i) = match place {
                Place::Eligible(i) => (&mut self.eligible, i),
                Place::Deliverable(i) => (&mut self.deliverable, i),
                Place::Value(i) => (&mut self.value, i),
                Place::Filter(i) => (&mut self.filters, i),
            };
            if let Some(slot) = list.get_mut(i) {
                *slot = Some(native);
                self.native += 1;
            }
        }
        for (event, matcher) in compiled_events.into_iter().zip(compiled.matchers) {
            let rules = program.triggers.get(event).map_or(&[][..], Vec::as_slice);
            for (n, why) in matcher.left_out() {
                let rule = rules
                    .get(*n)
                    .and_then(|&r| program.rule(r))
                    .map_or("?", |r| r.name.as_str());
                self.interpreted
                    .push((format!("rule `{rule}`"), why.0.clone()));
            }
            self.native += matcher.native().0;
            if let Some(slot) = self.matchers.get_mut(event) {
                *slot = Some(matcher);
            }
        }
        Ok(())
    }
}

fn none<T>(n: usize) -> Vec<Option<T>> {
    std::iter::repeat_with(|| None).take(n).collect()
}

/// An expression that computes something: a constant (an offer's default `value`, a condition
/// folded away) is only read, by either tier.
fn computed(e: Option<&Expr>) -> Option<&Expr> {
    e.filter(|e| e.as_const().is_none())
}

/// Where a place is, for people.
fn place_name(program: &Program, place: Place) -> String {
    let offer = |i: usize| program.offers.get(i).map_or("?", |o| o.name.as_str());
    match place {
        Place::Eligible(i) => format!("`eligible` of offer `{}`", offer(i)),
        Place::Deliverable(i) => format!("`deliverable` of offer `{}`", offer(i)),
        Place::Value(i) => format!("`value` of offer `{}`", offer(i)),
        Place::Filter(i) => {
            let event = program
                .state
                .series
                .get(i)
                .and_then(|s| program.schema.record(s.event))
                .map_or("?", |r| r.name.as_str());
            format!("the filter of `{event} where ...`")
        }
    }
}

/// The engine, native code included, may move to another thread (a service's worker).
const _: fn() = || {
    fn send<T: Send>() {}
    send::<crate::engine::Engine>();
    send::<ProgramCode>();
};
