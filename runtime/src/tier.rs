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

impl ProgramCode {
    pub fn new(program: &Program, tier: Tier) -> ProgramCode {
        let places: Vec<Option<&Expr>> = program
            .offers
            .iter()
            .map(|o| o.eligible.as_ref())
            .chain(program.offers.iter().map(|o| o.deliverable.as_ref()))
            .chain(program.offers.iter().map(|o| Some(&o.value)))
            .chain(program.state.series.iter().map(|s| s.filter.as_ref()))
            .map(computed)
            .collect();
        let conditions = program
            .rules
            .iter()
            .filter(|r| computed(r.condition.as_ref()).is_some())
            .count();
        let mut code = ProgramCode {
            expressions: places.iter().flatten().count() + conditions,
            ..ProgramCode::default()
        };
        let (mut natives, mut matchers, interpreted) = match tier {
            Tier::Interpreter => (Vec::new(), Vec::new(), Vec::new()),
            Tier::Native => match compile(program, &places) {
                Ok(compiled) => compiled,
                Err(why) => {
                    code.unavailable = Some(why);
                    (Vec::new(), Vec::new(), Vec::new())
                }
            },
        };
        code.interpreted = interpreted;
        natives.resize_with(places.len(), || None);
        matchers.resize_with(program.triggers.len(), || None);
        code.native = natives.iter().flatten().count()
            + matchers
                .iter()
                .flatten()
                .map(|m| m.native().0)
                .sum::<usize>();
        code.matchers = matchers;
        let mut natives = natives.into_iter();
        let offers = program.offers.len();
        code.eligible = natives.by_ref().take(offers).collect();
        code.deliverable = natives.by_ref().take(offers).collect();
        code.value = natives.by_ref().take(offers).collect();
        code.filters = natives.collect();
        code
    }
}

type Natives = (
    Vec<Option<NativeExpr>>,
    Vec<Option<Matcher>>,
    Vec<(String, String)>,
);

/// Native code for each place the JIT compiles, in the places' order, and a matcher per event
/// type that triggers rules.
fn compile(program: &Program, places: &[Option<&Expr>]) -> Result<Natives, String> {
    let mut jit = Jit::new().map_err(|e| e.to_string())?;
    let mut interpreted = Vec::new();
    let exprs: Vec<Option<usize>> = places
        .iter()
        .enumerate()
        .map(|(i, e)| match e.map(|e| jit.compile(e)) {
            Some(Ok(at)) => Some(at),
            Some(Err(why)) => {
                interpreted.push((place_name(program, i), why.0));
                None
            }
            None => None,
        })
        .collect();
    // The event type of each matcher, in the order they are compiled.
    let mut matcher_events = Vec::new();
    let matchers: Vec<Option<usize>> = program
        .triggers
        .iter()
        .enumerate()
        .map(|(event, rules)| {
            let conditions: Vec<Option<&Expr>> = rules
                .iter()
                .map(|&r| computed(program.rule(r).and_then(|r| r.condition.as_ref())))
                .collect();
            if !conditions.iter().any(Option::is_some) {
                return None;
            }
            match jit.compile_matcher(&conditions) {
                Ok(at) => {
                    matcher_events.push(event);
                    Some(at)
                }
                Err(why) => {
                    let name = program
                        .schema
                        .record(event as u32)
                        .map_or("?", |r| r.name.as_str());
                    interpreted.push((format!("the rules `{name}` triggers"), why.0));
                    None
                }
            }
        })
        .collect();
    let compiled = jit.finish().map_err(|e| e.to_string())?;
    for (event, m) in compiled.matchers.iter().enumerate() {
        let rules = matcher_events
            .get(event)
            .and_then(|&e| program.triggers.get(e));
        for (n, why) in m.left_out() {
            let rule = rules
                .and_then(|r| r.get(*n))
                .and_then(|&r| program.rule(r))
                .map_or("?", |r| r.name.as_str());
            interpreted.push((format!("rule `{rule}`"), why.0.clone()));
        }
    }
    let mut compiled_exprs: Vec<Option<NativeExpr>> =
        compiled.exprs.into_iter().map(Some).collect();
    let mut compiled_matchers: Vec<Option<Matcher>> =
        compiled.matchers.into_iter().map(Some).collect();
    Ok((
        exprs
            .into_iter()
            .map(|i| take(i, &mut compiled_exprs))
            .collect(),
        matchers
            .into_iter()
            .map(|i| take(i, &mut compiled_matchers))
            .collect(),
        interpreted,
    ))
}

/// An expression that computes something: a constant (an offer's default `value`, a condition
/// folded away) is only read, by either tier.
fn computed(e: Option<&Expr>) -> Option<&Expr> {
    e.filter(|e| e.as_const().is_none())
}

/// The compiled thing at `at`, moved out.
fn take<T>(at: Option<usize>, from: &mut [Option<T>]) -> Option<T> {
    at.and_then(|i| from.get_mut(i)?.take())
}

/// Where the `i`th of the places `ProgramCode::new` lists is, for people.
fn place_name(program: &Program, i: usize) -> String {
    let offers = program.offers.len();
    let offer = |at: usize| program.offers.get(at).map_or("?", |o| o.name.as_str());
    if i < 3 * offers {
        let what = ["eligible", "deliverable", "value"]
            .get(i / offers)
            .copied()
            .unwrap_or("?");
        return format!("`{what}` of offer `{}`", offer(i % offers));
    }
    let event = program
        .state
        .series
        .get(i - 3 * offers)
        .and_then(|s| program.schema.record(s.event))
        .map_or("?", |r| r.name.as_str());
    format!("the filter of `{event} where ...`")
}

/// The engine, native code included, may move to another thread (a service's worker).
const _: fn() = || {
    fn send<T: Send>() {}
    send::<crate::engine::Engine>();
    send::<ProgramCode>();
};
