//! Replaying event files through the engine: read, process, hand each decision to a sink, count
//! every rejected line, and stop at the first one in strict mode.

use crate::decision::Decision;
use crate::engine::Engine;
use crate::event::Event;
use crate::ingest::IngestError;

/// How a replay ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every line was read (bad lines were counted and reported).
    Completed,
    /// Strict mode stopped at this error.
    Stopped(String),
    /// The file could not be read any further (an I/O error, a directory).
    Unreadable(String),
}

pub struct Replay<'a> {
    pub engine: &'a mut Engine,
    pub strict: bool,
    /// Gets every decision; an error (a full disk) ends the replay.
    pub on_decision: &'a mut dyn FnMut(&Decision) -> std::io::Result<()>,
    /// Gets every rejected line and out-of-order event, as a message.
    pub on_error: &'a mut dyn FnMut(&str),
}

impl Replay<'_> {
    /// Replays one source. Returns early with `Stopped` in strict mode.
    pub fn run(
        &mut self,
        events: impl Iterator<Item = Result<Event, IngestError>>,
    ) -> std::io::Result<Outcome> {
        let mut decisions: Vec<Decision> = Vec::new();
        for item in events {
            let failure = match item {
                Ok(event) => match self.engine.process(&event, &mut decisions) {
                    Ok(()) => None,
                    Err(e) => Some(e.to_string()),
                },
                Err(e) if e.fatal => return Ok(Outcome::Unreadable(e.to_string())),
                Err(e) => {
                    self.engine.stats.rejected += 1;
                    self.engine.stats.example(|| e.to_string());
                    Some(e.to_string())
                }
            };
            for d in decisions.drain(..) {
                (self.on_decision)(&d)?;
            }
            if let Some(message) = failure {
                (self.on_error)(&message);
                if self.strict {
                    return Ok(Outcome::Stopped(message));
                }
            }
        }
        Ok(Outcome::Completed)
    }
}
