//! The reference engine: one event at a time, per customer, in the order DESIGN.md gives:
//! record the event in the customer's state, evaluate the rules its type triggers, keep the
//! eligible and deliverable offers, apply the contact policy, arbitrate, emit decisions.

use crate::decision::Decision;
use crate::event::Event;
use crate::policy;
use crate::state::{Contact, CustomerState, EventEnv};
use crate::stats::Stats;
use crate::tier::{self, ProgramCode, Tier};
use offer_compiler::eval::{Evaluator, condition};
use offer_compiler::ir::{ChannelId, OfferId, Program, RuleId, SeriesId};
use offer_compiler::schema::Schema;
use offer_compiler::value::{EvalError, Value, ops, time};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

/// Why an event was not processed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error(
        "line {line}: customer `{key}` has an event at {at} after one at {previous}; a customer's events must come in time order"
    )]
    OutOfOrder {
        line: u64,
        key: String,
        at: String,
        previous: String,
    },
}

/// The schema of a shared program, for the evaluator.
#[derive(Clone, Debug)]
struct ProgramSchema(Arc<Program>);

impl Deref for ProgramSchema {
    type Target = Schema;
    fn deref(&self) -> &Schema {
        &self.0.schema
    }
}

pub struct Engine {
    program: Arc<Program>,
    evaluator: Evaluator<ProgramSchema>,
    /// The program's expressions in native code, where they compile.
    code: ProgramCode,
    /// `latest_slot[record]`: where the customer state keeps that type's latest event.
    latest_slot: Vec<Option<usize>>,
    /// `series_of[record]`: the series an event of that type may enter.
    series_of: Vec<Vec<SeriesId>>,
    tz_slot: Option<u32>,
    customers: HashMap<Arc<str>, CustomerState>,
    scratch: Scratch,
    pub stats: Stats,
}

/// Buffers the engine reuses from event to event.
struct Scratch {
    /// For arbitration: each offer's place among an event's candidates.
    offer_slots: Vec<u32>,
    /// The matcher's outcomes, one per rule the event triggers.
    outcomes: Vec<u8>,
}

/// No place among the candidates.
const NONE: u32 = u32::MAX;

/// One offer that a rule put forward for the event being processed.
struct Candidate {
    offer: OfferId,
    rule: RuleId,
    score: f64,
}

impl Engine {
    /// An engine that runs the program's expressions in native code where they compile.
    pub fn new(program: Program) -> Engine {
        Engine::with_tier(program, Tier::Native)
    }

    pub fn with_tier(program: Program, tier: Tier) -> Engine {
        let program = Arc::new(program);
        let code = ProgramCode::new(&program, tier);
        let mut evaluator = Evaluator::new(ProgramSchema(program.clone()));
        let exprs = program
            .rules
            .iter()
            .filter_map(|r| r.condition.as_ref())
            .chain(
                program
                    .offers
                    .iter()
                    .flat_map(|o| o.eligible.iter().chain(&o.deliverable).chain([&o.value])),
            )
            .chain(
                program
                    .state
                    .series
                    .iter()
                    .filter_map(|s| s.filter.as_ref()),
            );
        evaluator.prepare(exprs);
        let records = program.schema.records.len();
        let mut latest_slot = vec![None; records];
        for (i, id) in program.state.latest.iter().enumerate() {
            if let Some(slot) = latest_slot.get_mut(*id as usize) {
                *slot = Some(i);
            }
        }
        let mut series_of = vec![Vec::new(); records];
        for (i, s) in program.state.series.iter().enumerate() {
            if let Some(list) = series_of.get_mut(s.event as usize) {
                list.push(i as SeriesId);
            }
        }
        let offer_slots = vec![NONE; program.offers.len()];
        Engine {
            tz_slot: program.schema.profile_timezone_slot(),
            stats: Stats::for_program(&program),
            program,
            evaluator,
            code,
            latest_slot,
            series_of,
            customers: HashMap::new(),
            scratch: Scratch {
                offer_slots,
                outcomes: Vec::new(),
            },
        }
    }

    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// The program's expressions in native code: how many of them, which are interpreted and
    /// why, and why none is when the JIT is not available here.
    pub fn native_code(&self) -> &ProgramCode {
        &self.code
    }

    pub fn customers(&self) -> usize {
        self.customers.len()
    }

    /// Processes one event, appending its decisions to `out`.
    pub fn process(&mut self, event: &Event, out: &mut Vec<Decision>) -> Result<(), EventError> {
        let program = self.program.clone();
        let state = match self.customers.get_mut(&event.key) {
            Some(s) => s,
            None => {
                self.stats.customers += 1;
                self.customers
                    .entry(event.key.clone())
                    .or_insert_with(|| CustomerState::new(&program))
            }
        };
        if let Some(previous) = state.last_at
            && event.at < previous
        {
            self.stats.out_of_order += 1;
            let error = EventError::OutOfOrder {
                line: event.line,
                key: event.key.to_string(),
                at: time::format_timestamp(event.at),
                previous: time::format_timestamp(previous),
            };
            self.stats.example(|| error.to_string());
            return Err(error);
        }
        state.last_at = Some(event.at);
        self.stats.events += 1;
        let record = Value::Record(event.record.clone());
        if program.schema.profile == Some(event.ty) {
            state.profile = Some(record.clone());
        }
        let now = event.at;

        // Series first: an aggregate's window `(now - d, now]` includes the event itself.
        if let Some(series) = self.series_of.get(event.ty as usize) {
            let mut entries: Vec<(SeriesId, Value)> = Vec::new();
            {
                let env = EventEnv {
                    program: &program,
                    latest_slot: &self.latest_slot,
                    state,
                    event_ty: event.ty,
                    event: &record,
                    now,
                };
                for &id in series {
                    let Some(plan) = program.state.series.get(id as usize) else {
                        continue;
                    };
                    let admitted = match plan.filter.as_ref().map(|f| {
                        condition(tier::eval(
                            &self.code.filters,
                            id as usize,
                            f,
                            &self.evaluator,
                            &env,
                        ))
                    }) {
                        None | Some(Ok(true)) => true,
                        Some(Ok(false)) => false,
                        // The event stays out of the series, and the error is counted.
                        Some(Err(e)) => {
                            self.stats.filter_errors += 1;
                            let name = program
                                .schema
                                .record(plan.event)
                                .map_or("?", |r| r.name.as_str());
                            self.stats.example(|| {
                                format!(
                                    "line {}, customer `{}`, a `{name} where ...` filter: {e}",
                                    event.line, event.key
                                )
                            });
                            false
                        }
                    };
                    if !admitted {
                        continue;
                    }
                    let value = match plan.field {
                        None => Value::Null,
                        Some(slot) => match event.record.fields.get(slot as usize) {
                            Some(Some(v)) => v.clone(),
                            _ => continue,
                        },
                    };
                    entries.push((id, value));
                }
            }
            for (id, value) in entries {
                if let Some(s) = state.series.get_mut(id as usize) {
                    s.push(now, value);
                }
            }
        }

        let env = EventEnv {
            program: &program,
            latest_slot: &self.latest_slot,
            state,
            event_ty: event.ty,
            event: &record,
            now,
        };
        let candidates = candidates(
            &program,
            &self.evaluator,
            &self.code,
            &env,
            &mut self.stats,
            event,
            &mut self.scratch,
        );
        let tz = self.tz_slot.and_then(|slot| match &state.profile {
            Some(Value::Record(p)) => match p.fields.get(slot as usize) {
                Some(Some(Value::Timezone(z) | Value::String(z))) => Some(z.clone()),
                _ => None,
            },
            _ => None,
        });
        let first = out.len();
        if !candidates.is_empty() && policy::quiet(&program.policy, now, tz.as_deref()) {
            self.stats.suppressed_quiet_hours += candidates.len() as u64;
        } else {
            let mut used_channels: Vec<ChannelId> = Vec::new();
            for c in candidates {
                if policy::broken_cap(&program.policy, &state.contacts, c.offer, now).is_some() {
                    self.stats.suppressed_caps += 1;
                    continue;
                }
                let Some(offer) = program.offer(c.offer) else {
                    continue;
                };
                let Some(&channel) = offer.channels.iter().find(|ch| !used_channels.contains(ch))
                else {
                    self.stats.lost_arbitration += 1;
                    continue;
                };
                used_channels.push(channel);
                state.contacts.push_back(Contact {
                    at: now,
                    offer: c.offer,
                });
                out.push(Decision {
                    at: now,
                    key: event.key.clone(),
                    offer: c.offer,
                    rule: c.rule,
                    score: c.score,
                    channel,
                    // An offer valid past the last representable instant (year 9999) expires
                    // then, rather than having no expiry at all.
                    expires: offer.valid_for.map(|v| {
                        now.saturating_add(v)
                            .clamp(time::MIN_TIMESTAMP, time::MAX_TIMESTAMP)
                    }),
                });
            }
        }
        for d in out.get(first..).unwrap_or(&[]) {
            self.stats.decisions += 1;
            bump(&mut self.stats.by_offer, d.offer as usize);
            bump(&mut self.stats.by_rule, d.rule as usize);
        }
        policy::prune(&mut state.contacts, program.state.contact_window, now);
        if let Some(slot) = self.latest_slot.get(event.ty as usize).copied().flatten()
            && let Some(latest) = state.latest.get_mut(slot)
        {
            *latest = Some((now, record));
        }
        Ok(())
    }
}

fn bump(counts: &mut [u64], i: usize) {
    if let Some(c) = counts.get_mut(i) {
        *c += 1;
    }
}

/// The offers of the rules that fire, eligible and deliverable, best first. An offer that
/// several rules put forward is checked once and goes with the rule that weighs most (the
/// first of them on a tie).
///
/// `scratch.offer_slots` maps an offer to its place in the list being built (`NONE` for none
/// yet); it is left as it was found, so that one buffer serves every event without a per-event
/// clearing.
fn candidates(
    program: &Program,
    evaluator: &Evaluator<ProgramSchema>,
    code: &ProgramCode,
    env: &EventEnv<'_>,
    stats: &mut Stats,
    event: &Event,
    scratch: &mut Scratch,
) -> Vec<Candidate> {
    let Scratch {
        offer_slots: slot_of,
        outcomes,
    } = scratch;
    let mut best: Vec<(OfferId, RuleId, f64)> = Vec::new();
    outcomes.clear();
    if let Some(Some(matcher)) = code.matchers.get(event.ty as usize) {
        matcher.run(evaluator, env, outcomes);
    }
    for (n, &rule_id) in program.rules_for(event.ty).iter().enumerate() {
        let Some(rule) = program.rule(rule_id) else {
            continue;
        };
        let fires = match (&rule.condition, outcomes.get(n).copied()) {
            (None, _) => Ok(true),
            (Some(_), Some(offer_jit::TRUE)) => Ok(true),
            (Some(_), Some(offer_jit::FALSE)) => Ok(false),
            (Some(c), _) => condition(evaluator.eval(c, env)),
        };
        match fires {
            Ok(true) => bump(&mut stats.fired, rule_id as usize),
            Ok(false) => continue,
            Err(e) => {
                bump(&mut stats.rule_errors, rule_id as usize);
                stats.example(|| {
                    format!(
                        "line {}, customer `{}`, rule `{}`: {e}",
                        event.line, event.key, rule.name
                    )
                });
                continue;
            }
        }
        for &offer in &rule.offers {
            let Some(slot) = slot_of.get_mut(offer as usize) else {
                continue;
            };
            match best.get_mut(*slot as usize) {
                Some(entry) if rule.weight > entry.2 => *entry = (offer, rule_id, rule.weight),
                Some(_) => {}
                None => {
                    *slot = best.len() as u32;
                    best.push((offer, rule_id, rule.weight));
                }
            }
        }
    }
    for (offer, _, _) in &best {
        if let Some(slot) = slot_of.get_mut(*offer as usize) {
            *slot = NONE;
        }
    }
    let mut out: Vec<Candidate> = Vec::with_capacity(best.len());
    for (offer_id, rule_id, weight) in best {
        let Some(offer) = program.offer(offer_id) else {
            continue;
        };
        let failure = |stats: &mut Stats, what: &str, e: &dyn std::fmt::Display| {
            stats.offer_errors += 1;
            stats.example(|| {
                format!(
                    "line {}, customer `{}`, {what} of offer `{}`: {e}",
                    event.line, event.key, offer.name
                )
            });
        };
        // Eligibility, then deliverability: a false one filters the offer out, and so does an
        // error (counted as the offer's).
        let gates = [
            (offer.eligible.as_ref(), &code.eligible, Gate::Eligible),
            (
                offer.deliverable.as_ref(),
                &code.deliverable,
                Gate::Deliverable,
            ),
        ];
        let mut filtered = false;
        for (expr, places, gate) in gates {
            let Some(expr) = expr else { continue };
            let holds = tier::eval(places, offer_id as usize, expr, evaluator, env);
            match (condition(holds), gate) {
                (Ok(true), _) => continue,
                (Ok(false), Gate::Eligible) => stats.ineligible += 1,
                (Ok(false), Gate::Deliverable) => stats.undeliverable += 1,
                (Err(e), Gate::Eligible) => failure(stats, "`eligible`", &e),
                (Err(e), Gate::Deliverable) => failure(stats, "`deliverable`", &e),
            }
            filtered = true;
            break;
        }
        if filtered {
            continue;
        }
        let value = match tier::eval(&code.value, offer_id as usize, &offer.value, evaluator, env) {
            Value::Double(v) => v,
            Value::Int(i) => i as f64,
            Value::Error(e) => {
                failure(stats, "`value`", &e);
                continue;
            }
            other => {
                let e = EvalError::NoSuchOverload(format!(
                    "a value must be a number, not {}",
                    other.type_name()
                ));
                failure(stats, "`value`", &e);
                continue;
            }
        };
        let score = weight * value;
        // A NaN would win every comparison and an infinity says nothing: neither ranks.
        if !score.is_finite() {
            let e = EvalError::Range(format!(
                "the score {} × {} is not a finite number",
                ops::format_double(weight),
                ops::format_double(value)
            ));
            failure(stats, "`value`", &e);
            continue;
        }
        out.push(Candidate {
            offer: offer_id,
            rule: rule_id,
            score,
        });
    }
    // Best score first; ties keep rule order, then offer order (the sort is stable).
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

#[derive(Clone, Copy)]
enum Gate {
    Eligible,
    Deliverable,
}
