//! Checker tests on whole programs: what the IR and the state plan hold. Diagnostics of every
//! kind are covered by the corpus in `tests/cases`.

use crate::db::{self, Database};
use crate::ir::{AggregateFn, CapScope, ExprKind, Var};
use crate::value::Value;

fn check(src: &str) -> crate::check::Checked {
    let mut db = Database::new();
    let program = db.program("t.offer", src, &mut |_| None);
    db::checked(&db, program).clone()
}

const SCHEMA: &str = r#"
schema {
  profile customer key id { id: string, tier: enum { basic, gold }, tz: timezone }
  event purchase { amount: double, items: int }
  event visit { page: string }
}
offer A { title: "a", channels: [email] }
offer B { title: "b", channels: [sms, email] }
"#;

#[test]
fn the_state_plan_holds_what_the_rules_read_and_nothing_more() {
    let checked = check(&format!(
        "{SCHEMA}
rule r1 {{ when purchase and count(purchase, 30d) >= 2 && count(purchase, 90d) < 5 then recommend A }}
rule r2 {{ when visit and sum(purchase.amount, 7d) > 10.0 && since(purchase) < 1d then recommend B }}
policy contact {{ at_most 1 per 2d per customer  at_most 1 per 14d per offer }}"
    ));
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let state = &checked.program.state;
    // Two windows over the same events share one series, kept for the longer window.
    assert_eq!(state.series.len(), 2, "{:?}", state.series);
    assert_eq!(state.series[0].field, None);
    assert_eq!(state.series[0].retention, Some(90 * 86_400 * 1_000_000_000));
    assert_eq!(state.series[1].field, Some(0));
    assert_eq!(state.series[1].retention, Some(7 * 86_400 * 1_000_000_000));
    // `since(purchase)` needs the latest purchase; nothing reads visits or the profile.
    assert_eq!(state.latest, vec![1]);
    assert!(!state.profile);
    assert_eq!(state.contact_window, Some(14 * 86_400 * 1_000_000_000));
    assert_eq!(checked.program.policy.caps[1].scope, CapScope::Offer);
}

#[test]
fn a_program_without_history_keeps_no_state() {
    let checked = check(&format!(
        "{SCHEMA}\nrule r {{ when visit where page == \"/\" then recommend A }}"
    ));
    let state = &checked.program.state;
    assert!(state.series.is_empty() && state.latest.is_empty() && !state.profile);
    assert_eq!(state.contact_window, None);
}

#[test]
fn quiet_hours_need_the_profile_for_its_time_zone() {
    let checked = check(&format!(
        "{SCHEMA}\nrule r {{ when visit then recommend A }}\npolicy contact {{ quiet_hours 22:00..07:00 local }}"
    ));
    assert!(checked.program.state.profile);
}

#[test]
fn rules_are_grouped_by_trigger_and_fields_are_slots() {
    let checked = check(&format!(
        "{SCHEMA}
rule v {{ when visit then recommend A }}
rule p {{ when purchase where items > 2 then recommend B }}
rule v2 {{ when visit where customer.tier == gold then recommend B }}"
    ));
    let program = &checked.program;
    assert_eq!(program.rules_for(1), &[1]);
    assert_eq!(program.rules_for(2), &[0, 2]);
    let condition = program.rules[1].condition.as_ref().unwrap();
    let ExprKind::Binary { lhs, .. } = &condition.kind else {
        panic!("{condition:?}")
    };
    let ExprKind::Field { base, slot } = &lhs.kind else {
        panic!("{lhs:?}")
    };
    assert_eq!(*slot, 1, "`items` is the second field of `purchase`");
    assert!(matches!(base.kind, ExprKind::Var(Var::Event)));
    let condition = program.rules[2].condition.as_ref().unwrap();
    let ExprKind::Binary { lhs, rhs, .. } = &condition.kind else {
        panic!()
    };
    assert!(matches!(lhs.kind, ExprKind::Field { slot: 1, .. }));
    assert!(matches!(rhs.as_const(), Some(Value::Enum(e)) if e.index == 1));
}

#[test]
fn constant_conditions_fold_away() {
    let checked = check(&format!(
        "{SCHEMA}\nlet limit = 2 + 3\nrule r {{ when purchase where 1 + 2 == 3 and items > limit * 2 then recommend A }}"
    ));
    let rule = &checked.program.rules[0];
    // `1 + 2 == 3` folds to true and drops out of the conjunction; `limit * 2` is 10.
    let ExprKind::Binary { rhs, .. } = &rule.condition.as_ref().unwrap().kind else {
        panic!("{:?}", rule.condition)
    };
    assert_eq!(rhs.as_const(), Some(&Value::Int(10)));
    let checked = check(&format!(
        "{SCHEMA}\nrule r {{ when purchase where true and 2 > 1 then recommend A }}"
    ));
    assert_eq!(
        checked.program.rules[0].condition, None,
        "an always-true condition is no condition"
    );
}

#[test]
fn aggregates_have_the_types_of_their_fields() {
    let checked = check(&format!(
        "{SCHEMA}\nrule r {{ when purchase and avg(purchase.items, 7d) > 1.5 && max(purchase.amount, 7d) > 2.0 && count(purchase) > 1 then recommend A }}"
    ));
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let mut funcs = Vec::new();
    crate::eval::visit(
        checked.program.rules[0].condition.as_ref().unwrap(),
        &mut |n| {
            if let ExprKind::Aggregate { func, window, .. } = &n.kind {
                funcs.push((*func, n.ty.clone(), window.is_some()));
            }
        },
    );
    use crate::types::Ty;
    assert_eq!(
        funcs,
        vec![
            (AggregateFn::Avg, Ty::Double, true),
            (AggregateFn::Max, Ty::Double, true),
            (AggregateFn::Count, Ty::Int, false)
        ]
    );
    // A whole-history count keeps running totals, a series apart from the windowed ones.
    assert_eq!(
        checked
            .program
            .state
            .series
            .iter()
            .filter(|s| s.retention.is_none())
            .count(),
        1
    );
}

#[test]
fn offers_without_channels_may_use_any() {
    let checked = check("offer Any { title: \"x\" }");
    assert_eq!(
        checked.program.offers[0].channels.len(),
        checked.program.channels.len()
    );
    assert!(checked.program.channels.iter().any(|c| c == "email"));
}

#[test]
fn bindings_and_optional_elements_are_constants() {
    let checked = check(&format!(
        "{SCHEMA}
let X = cel.bind(a, 1, a + 1)
let Y = cel.block([2, cel.index(0) * 10], cel.index(1))
let Z = [?optional.of(1), ?optional.none(), 3]
rule r {{ when visit where X == 2 && Y == 20 && size(Z) == 2 then recommend A }}"
    ));
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    // The condition folded away: every part of it was known when compiling.
    let rule = &checked.program.rules[0];
    assert!(
        rule.condition
            .as_ref()
            .is_none_or(|c| c.as_const() == Some(&Value::Bool(true))),
        "{:?}",
        rule.condition
    );
}

/// The messages and helps of a program's diagnostics, in order.
fn said(src: &str) -> Vec<(String, Option<String>)> {
    check(src)
        .diagnostics
        .iter()
        .map(|d| (d.message.clone(), d.help.clone()))
        .collect()
}

#[test]
fn a_record_literal_with_a_wrong_field_is_one_error_with_a_suggestion() {
    let said = said(&format!(
        "{SCHEMA}\nrule r {{ when visit and purchase{{itme: 2}}.items == 2 then recommend A, B }}"
    ));
    assert_eq!(
        said,
        vec![(
            "`purchase` has no field `itme`".to_string(),
            Some("did you mean `items`?".to_string())
        )]
    );
}

#[test]
fn has_of_a_bare_field_suggests_its_selection() {
    let said = said(&format!(
        "{SCHEMA}\nrule r {{ when visit and has(page) then recommend A }}"
    ));
    assert_eq!(
        said.first().and_then(|(_, help)| help.clone()).as_deref(),
        Some("write `has(visit.page)`")
    );
}

#[test]
fn an_aggregate_without_a_field_suggests_a_number_field() {
    let said = said(&format!(
        "{SCHEMA}\nrule r {{ when visit and sum(purchase, 7d) > 1.0 then recommend A }}"
    ));
    assert_eq!(
        said.first().and_then(|(_, help)| help.clone()).as_deref(),
        Some("name the field, keeping your window: `sum(purchase.amount, ...)`")
    );
}
