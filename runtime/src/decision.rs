//! Decision records: which offer goes to which customer on which channel, why and with what
//! score, one JSON object per line.

use offer_compiler::ir::{ChannelId, OfferId, Program, RuleId};
use offer_compiler::value::{Nanos, time};
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub at: Nanos,
    pub key: Arc<str>,
    pub offer: OfferId,
    pub rule: RuleId,
    /// Rule weight × offer value.
    pub score: f64,
    pub channel: ChannelId,
    /// `at + valid_for`, when the offer has a validity.
    pub expires: Option<Nanos>,
}

#[derive(Serialize)]
struct Record<'a> {
    at: String,
    key: &'a str,
    offer: &'a str,
    rule: &'a str,
    score: f64,
    channel: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
}

impl Decision {
    /// The decision as one line of NDJSON (without the newline).
    pub fn to_json(&self, program: &Program) -> String {
        let record = Record {
            at: time::format_timestamp(self.at),
            key: &self.key,
            offer: program.offer(self.offer).map_or("?", |o| o.name.as_str()),
            rule: program.rule(self.rule).map_or("?", |r| r.name.as_str()),
            score: shown_score(self.score),
            channel: program.channel_name(self.channel),
            expires: self.expires.map(time::format_timestamp),
        };
        serde_json::to_string(&record).unwrap_or_default()
    }
}

/// The score to nine decimal places: `0.8 × 3.0` is written `2.4`, not `2.4000000000000004`.
/// Arbitration ranks by the exact product; only the record is rounded.
fn shown_score(score: f64) -> f64 {
    let rounded = (score * 1e9).round() / 1e9;
    if rounded.is_finite() { rounded } else { score }
}

#[cfg(test)]
mod tests {
    #[test]
    fn scores_are_written_without_binary_noise() {
        assert_eq!(super::shown_score(0.8 * 3.0), 2.4);
        assert_eq!(super::shown_score(1.5 * 72.114), 108.171);
        assert_eq!(super::shown_score(1e300), 1e300);
    }
}
