//! One customer's state, exactly what the program's state plan asks for: the profile, the
//! latest event of the types read later, the series of the windowed aggregates, and the recent
//! contacts that the caps count.

use crate::series::SeriesState;
use offer_compiler::eval::Env;
use offer_compiler::ir::{AggregateFn, OfferId, Program, SeriesId};
use offer_compiler::types::RecordId;
use offer_compiler::value::{EvalError, Nanos, RecordValue, Value};
use std::collections::VecDeque;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomerState {
    pub profile: Option<Value>,
    /// Indexed like `StatePlan::latest`: time and record of the latest event of that type.
    pub latest: Vec<Option<(Nanos, Value)>>,
    /// Indexed like `StatePlan::series`.
    pub series: Vec<SeriesState>,
    /// Decisions sent inside the longest cap window, oldest first.
    pub contacts: VecDeque<Contact>,
    /// The time of the customer's last event: their events must come in time order.
    pub last_at: Option<Nanos>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contact {
    pub at: Nanos,
    pub offer: OfferId,
}

impl CustomerState {
    pub fn new(program: &Program) -> CustomerState {
        CustomerState {
            profile: None,
            latest: vec![None; program.state.latest.len()],
            series: program.state.series.iter().map(SeriesState::new).collect(),
            contacts: VecDeque::new(),
            last_at: None,
        }
    }
}

/// What expressions see while one event is processed: that event, and the customer's state
/// before the event is recorded as their latest of its type.
pub struct EventEnv<'a> {
    pub program: &'a Program,
    /// `latest_slot[record]`: the index into `CustomerState::latest`, if that type is kept.
    pub latest_slot: &'a [Option<usize>],
    pub state: &'a CustomerState,
    pub event_ty: RecordId,
    pub event: &'a Value,
    pub now: Nanos,
}

impl EventEnv<'_> {
    fn record_name(&self, id: RecordId) -> String {
        self.program
            .schema
            .record(id)
            .map_or_else(|| "event".to_string(), |r| r.name.clone())
    }

    fn kept(&self, id: RecordId) -> Option<&(Nanos, Value)> {
        let slot = self.latest_slot.get(id as usize).copied().flatten()?;
        self.state.latest.get(slot)?.as_ref()
    }
}

impl Env for EventEnv<'_> {
    fn event(&self) -> Value {
        self.event.clone()
    }

    fn profile(&self) -> Value {
        match &self.state.profile {
            Some(p) => p.clone(),
            None => {
                let name = self
                    .program
                    .schema
                    .profile
                    .map_or_else(|| "profile".to_string(), |p| self.record_name(p));
                Value::error(EvalError::NoProfile(name))
            }
        }
    }

    fn now(&self) -> Option<Nanos> {
        Some(self.now)
    }

    fn binding(&self, _index: u32) -> Value {
        Value::error(EvalError::Message(
            "no variables are bound while events are processed".into(),
        ))
    }

    fn latest(&self, event: RecordId) -> Value {
        if event == self.event_ty {
            return self.event.clone();
        }
        match self.kept(event) {
            Some((_, record)) => record.clone(),
            None => Value::error(EvalError::NoHistory(self.record_name(event))),
        }
    }

    fn previous(&self, event: RecordId) -> Option<(Nanos, Value)> {
        self.kept(event).cloned()
    }

    fn event_record(&self) -> Option<&RecordValue> {
        match self.event {
            Value::Record(r) => Some(r),
            _ => None,
        }
    }

    fn profile_record(&self) -> Option<&RecordValue> {
        match &self.state.profile {
            Some(Value::Record(r)) => Some(r),
            _ => None,
        }
    }

    fn aggregate(&self, func: AggregateFn, series: SeriesId, window: Option<Nanos>) -> Value {
        let value_ty = self
            .program
            .state
            .series
            .get(series as usize)
            .and_then(|s| s.value_ty.as_ref());
        match self.state.series.get(series as usize) {
            Some(s) => s.aggregate(func, window, self.now, value_ty),
            None => Value::error(EvalError::Message("unknown series".into())),
        }
    }
}
