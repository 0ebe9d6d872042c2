//! The contact policy: quiet hours in the customer's own time zone, and caps counted over the
//! half-open window `(now - window, now]`.

use crate::state::Contact;
use offer_compiler::ir::{CapScope, ContactPolicy, OfferId};
use offer_compiler::value::{Nanos, time};
use std::collections::VecDeque;

/// Whether `at` falls in quiet hours where the customer lives (`tz` an IANA name; UTC when
/// unknown). DST is the time zone database's: local clock time is what counts.
pub fn quiet(policy: &ContactPolicy, at: Nanos, tz: Option<&str>) -> bool {
    if policy.quiet_hours.is_empty() {
        return false;
    }
    let minute = tz
        .and_then(|z| time::local_minute_of_day(at, z).ok())
        .unwrap_or_else(|| utc_minute(at));
    policy.quiet_hours.iter().any(|q| {
        if q.start_minute < q.end_minute {
            (q.start_minute..q.end_minute).contains(&minute)
        } else {
            minute >= q.start_minute || minute < q.end_minute
        }
    })
}

fn utc_minute(at: Nanos) -> u32 {
    let minute = at.div_euclid(60 * time::NANOS_PER_SECOND).rem_euclid(1440);
    u32::try_from(minute).unwrap_or(0)
}

/// The first cap that one more contact of `offer` at `now` would break, by its index.
pub fn broken_cap(
    policy: &ContactPolicy,
    contacts: &VecDeque<Contact>,
    offer: OfferId,
    now: Nanos,
) -> Option<usize> {
    policy.caps.iter().position(|cap| {
        let from = now.saturating_sub(cap.window);
        let used = contacts
            .iter()
            .filter(|c| c.at > from && c.at <= now)
            .filter(|c| cap.scope == CapScope::Customer || c.offer == offer)
            .count() as u64;
        used >= cap.count
    })
}

/// Forgets contacts that no cap window reaches any more.
pub fn prune(contacts: &mut VecDeque<Contact>, window: Option<Nanos>, now: Nanos) {
    let Some(window) = window else {
        contacts.clear();
        return;
    };
    let horizon = now.saturating_sub(window);
    while contacts.front().is_some_and(|c| c.at <= horizon) {
        contacts.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offer_compiler::ir::{Cap, QuietHours};

    const HOUR: Nanos = 3_600 * time::NANOS_PER_SECOND;

    #[test]
    fn quiet_hours_wrap_midnight_in_local_time() {
        let policy = ContactPolicy {
            quiet_hours: vec![QuietHours {
                start_minute: 22 * 60,
                end_minute: 8 * 60,
            }],
            caps: vec![],
        };
        // 2026-06-01T20:00:00Z is 23:00 in Helsinki (UTC+3 in summer): quiet there, not in UTC.
        let at = time::parse_timestamp("2026-06-01T20:00:00Z").unwrap();
        assert!(quiet(&policy, at, Some("Europe/Helsinki")));
        assert!(!quiet(&policy, at, None));
        assert!(quiet(&policy, at + 3 * HOUR, None));
        assert!(!quiet(&policy, at + 13 * HOUR, None));
    }

    #[test]
    fn caps_count_the_half_open_window() {
        let policy = ContactPolicy {
            quiet_hours: vec![],
            caps: vec![
                Cap {
                    count: 1,
                    window: 24 * HOUR,
                    scope: CapScope::Offer,
                },
                Cap {
                    count: 2,
                    window: 24 * HOUR,
                    scope: CapScope::Customer,
                },
            ],
        };
        let mut contacts = VecDeque::from([Contact { at: 0, offer: 0 }]);
        assert_eq!(broken_cap(&policy, &contacts, 0, HOUR), Some(0));
        assert_eq!(broken_cap(&policy, &contacts, 1, HOUR), None);
        // Exactly one window later the first contact no longer counts.
        assert_eq!(broken_cap(&policy, &contacts, 0, 24 * HOUR), None);
        contacts.push_back(Contact { at: HOUR, offer: 1 });
        assert_eq!(broken_cap(&policy, &contacts, 2, 2 * HOUR), Some(1));
        prune(&mut contacts, Some(24 * HOUR), 24 * HOUR);
        assert_eq!(contacts.len(), 1);
    }
}
