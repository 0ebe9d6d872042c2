//! What a replay did, counted: events, decisions per offer and per rule, what the policy
//! suppressed, and every kind of error, with a few examples so that a person can find them.

use offer_compiler::ir::Program;
use std::fmt::Write as _;
use std::time::Duration;

/// How many example errors a summary keeps.
const EXAMPLES: usize = 5;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub events: u64,
    /// Lines that did not make an event (malformed, unknown type, wrong field type).
    pub rejected: u64,
    /// Events older than their customer's previous event.
    pub out_of_order: u64,
    pub customers: u64,
    /// Per rule: how often its condition held.
    pub fired: Vec<u64>,
    /// Per rule: conditions that ended in an error.
    pub rule_errors: Vec<u64>,
    /// Per rule and per offer: decisions sent.
    pub by_rule: Vec<u64>,
    pub by_offer: Vec<u64>,
    pub decisions: u64,
    pub ineligible: u64,
    pub undeliverable: u64,
    /// `eligible`, `deliverable` or `value` of an offer ended in an error.
    pub offer_errors: u64,
    /// The filter of a windowed aggregate (`count(E where ...)`) ended in an error.
    pub filter_errors: u64,
    pub suppressed_quiet_hours: u64,
    pub suppressed_caps: u64,
    /// Candidates left without a free channel in their event.
    pub lost_arbitration: u64,
    pub examples: Vec<String>,
}

impl Stats {
    pub fn for_program(program: &Program) -> Stats {
        let rules = program.rules.len();
        Stats {
            fired: vec![0; rules],
            rule_errors: vec![0; rules],
            by_rule: vec![0; rules],
            by_offer: vec![0; program.offers.len()],
            ..Stats::default()
        }
    }

    pub fn errors(&self) -> u64 {
        self.rejected
            + self.out_of_order
            + self.rule_errors.iter().sum::<u64>()
            + self.offer_errors
            + self.filter_errors
    }

    pub fn suppressed(&self) -> u64 {
        self.suppressed_quiet_hours + self.suppressed_caps
    }

    pub fn example(&mut self, message: impl FnOnce() -> String) {
        if self.examples.len() < EXAMPLES {
            self.examples.push(message());
        }
    }

    /// The summary table of a replay that took `elapsed`.
    /// The summary table; with the replay's duration, the event rate too (left out where the
    /// output must not depend on timing, as in snapshots).
    pub fn render(&self, program: &Program, elapsed: Option<Duration>) -> String {
        let mut out = String::new();
        let timing = match elapsed {
            Some(elapsed) => {
                let secs = elapsed.as_secs_f64();
                let rate = if secs > 0.0 {
                    self.events as f64 / secs
                } else {
                    0.0
                };
                format!(", {secs:.2} s, {} events/s", group(rate as u64))
            }
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "events      {:>12}   ({} customer{}{timing})",
            group(self.events),
            group(self.customers),
            if self.customers == 1 { "" } else { "s" }
        );
        let _ = writeln!(out, "decisions   {:>12}", group(self.decisions));
        let _ = writeln!(
            out,
            "suppressed  {:>12}   (caps {}, quiet hours {})",
            group(self.suppressed()),
            group(self.suppressed_caps),
            group(self.suppressed_quiet_hours)
        );
        let _ = writeln!(
            out,
            "filtered    {:>12}   (ineligible {}, undeliverable {}, no free channel {})",
            group(self.ineligible + self.undeliverable + self.lost_arbitration),
            group(self.ineligible),
            group(self.undeliverable),
            group(self.lost_arbitration)
        );
        let rule_errors: u64 = self.rule_errors.iter().sum();
        let _ = writeln!(
            out,
            "errors      {:>12}   (rejected lines {}, out of order {}, rules {}, offers {}, filters {})",
            group(self.errors()),
            group(self.rejected),
            group(self.out_of_order),
            group(rule_errors),
            group(self.offer_errors),
            group(self.filter_errors)
        );
        let width = program
            .rules
            .iter()
            .map(|r| r.name.len())
            .chain(program.offers.iter().map(|o| o.name.len()))
            .max()
            .unwrap_or(4)
            .max(5);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<width$}  {:>10}  {:>10}  {:>8}",
            "rule", "fired", "decisions", "errors"
        );
        for (i, rule) in program.rules.iter().enumerate() {
            let at = |v: &Vec<u64>| group(v.get(i).copied().unwrap_or(0));
            let _ = writeln!(
                out,
                "{:<width$}  {:>10}  {:>10}  {:>8}",
                rule.name,
                at(&self.fired),
                at(&self.by_rule),
                at(&self.rule_errors)
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "{:<width$}  {:>10}", "offer", "decisions");
        for (i, offer) in program.offers.iter().enumerate() {
            let _ = writeln!(
                out,
                "{:<width$}  {:>10}",
                offer.name,
                group(self.by_offer.get(i).copied().unwrap_or(0))
            );
        }
        if !self.examples.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "first errors:");
            for e in &self.examples {
                let _ = writeln!(out, "  {e}");
            }
        }
        out
    }
}

/// `1234567` as `1,234,567`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_thousands() {
        assert_eq!(super::group(0), "0");
        assert_eq!(super::group(999), "999");
        assert_eq!(super::group(69_659), "69,659");
        assert_eq!(super::group(1_234_567), "1,234,567");
    }
}
