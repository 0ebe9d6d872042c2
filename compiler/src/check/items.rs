//! Items: imports, channels, constants, offers, rules and the contact policy, checked in an order
//! where every name an item may use is known first.

use super::expr::{ExprChecker, Scope};
use super::{Ctx, list_names, schema};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::fold;
use crate::ir::{self, CapScope, ChannelId, ContactPolicy, OfferId, Origin};
use crate::span::Span;
use crate::syntax::ast::{self, Item};
use crate::types::Ty;
use crate::value::{Nanos, Value};
use std::collections::HashMap;

const OFFER_PROPERTIES: [&str; 8] = [
    "title",
    "description",
    "price",
    "valid_for",
    "channels",
    "eligible",
    "deliverable",
    "value",
];

pub(super) fn check_items(ctx: &mut Ctx<'_>) -> ir::Program {
    let items: Vec<(usize, &Item)> = ctx.items().collect();
    check_imports(ctx, &items);

    let records: Vec<(usize, &ast::RecordDecl)> = items
        .iter()
        .filter_map(|(f, i)| match i {
            Item::Schema(s) => Some(s.records.iter().map(move |r| (*f, r))),
            _ => None,
        })
        .flatten()
        .collect();
    ctx.schema = schema::build(ctx, &records);

    declare_channels(ctx, &items);
    for (file, item) in &items {
        if let Item::Let(decl) = item {
            ctx.declare_constant(*file, decl);
        }
    }
    let offer_decls = declare_offers(ctx, &items);
    ctx.check_all_constants();

    let offers: Vec<ir::Offer> = offer_decls
        .iter()
        .map(|(file, decl)| check_offer(ctx, *file, decl))
        .collect();
    let mut rules = Vec::new();
    let mut rule_names: HashMap<&str, Span> = HashMap::new();
    for (file, item) in &items {
        let Item::Rule(decl) = item else { continue };
        if let Some(first) = rule_names.get(decl.name.name.as_str()) {
            let d = Diagnostic::error(
                Code::Duplicate,
                ctx.file_name(*file),
                decl.name.span,
                format!("rule `{}` is declared twice", decl.name.name),
            )
            .with_secondary(*first, "first declared here");
            ctx.push(d);
            continue;
        }
        rule_names.insert(&decl.name.name, decl.name.span);
        if let Some(rule) = check_rule(ctx, *file, decl) {
            rules.push(rule);
        }
    }
    let policy = check_policy(ctx, &items);
    lint_unused_offers(ctx, &offer_decls, &items);

    let mut triggers: Vec<Vec<ir::RuleId>> = vec![Vec::new(); ctx.schema.records.len()];
    for (i, rule) in rules.iter().enumerate() {
        if let Some(list) = triggers.get_mut(rule.trigger as usize) {
            list.push(i as ir::RuleId);
        }
    }
    ir::Program {
        schema: Default::default(),
        channels: ctx.channels.clone(),
        offers,
        rules,
        triggers,
        policy,
        state: Default::default(),
    }
}

fn check_imports(ctx: &mut Ctx<'_>, items: &[(usize, &Item)]) {
    for (file, item) in items {
        let Item::Import(import) = item else { continue };
        let path: Vec<&str> = import.path.iter().map(|i| i.name.as_str()).collect();
        let name = path.join(".");
        if ctx.modules().iter().any(|m| m.name == name) {
            continue;
        }
        let known: Vec<&str> = crate::stdlib::MODULES.iter().map(|m| m.name).collect();
        let help = if name.starts_with("std.") || name == "std" {
            did_you_mean(&name, known.iter().copied()).or_else(|| {
                Some(format!(
                    "the standard library has {}",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        } else {
            Some(format!(
                "expected a file `{}.offer` beside this one",
                path.join("/")
            ))
        };
        let mut d = Diagnostic::error(
            Code::UnknownImport,
            ctx.file_name(*file),
            import.span,
            format!("cannot find module `{name}`"),
        )
        .with_label("no such module");
        d.help = help;
        ctx.push(d);
    }
}

fn declare_channels(ctx: &mut Ctx<'_>, items: &[(usize, &Item)]) {
    let mut spans: HashMap<String, (usize, Span)> = HashMap::new();
    for (file, item) in items {
        let Item::Channel(c) = item else { continue };
        if let Some((first_file, first)) = spans.get(&c.name.name) {
            let mut d = Diagnostic::error(
                Code::Duplicate,
                ctx.file_name(*file),
                c.name.span,
                format!("channel `{}` is declared twice", c.name.name),
            );
            if first_file == file {
                d = d.with_secondary(*first, "first declared here");
            }
            ctx.push(d);
            continue;
        }
        spans.insert(c.name.name.clone(), (*file, c.name.span));
        ctx.channels.push(c.name.name.clone());
    }
}

fn declare_offers<'a>(
    ctx: &mut Ctx<'a>,
    items: &[(usize, &'a Item)],
) -> Vec<(usize, &'a ast::OfferDecl)> {
    let mut out = Vec::new();
    let mut first_spans: Vec<Span> = Vec::new();
    for (file, item) in items {
        let Item::Offer(decl) = item else { continue };
        if let Some(&id) = ctx.offers.get(&decl.name.name) {
            let mut d = Diagnostic::error(
                Code::Duplicate,
                ctx.file_name(*file),
                decl.name.span,
                format!("offer `{}` is declared twice", decl.name.name),
            );
            if let Some(first) = first_spans.get(id as usize) {
                d = d.with_secondary(*first, "first declared here");
            }
            ctx.push(d);
            continue;
        }
        ctx.offers
            .insert(decl.name.name.clone(), out.len() as OfferId);
        first_spans.push(decl.name.span);
        out.push((*file, decl));
    }
    out
}

/// Checks one expression in `scope`, folds it, and reports sub-expressions that always fail.
fn expression(ctx: &mut Ctx<'_>, file: usize, scope: Scope, e: &ast::Expr) -> ir::Expr {
    let (folded, failures) = checked_and_folded(ctx, file, scope, e);
    warn_failures(ctx, file, failures);
    folded
}

/// Checks and folds one expression; also returns where it always fails.
fn checked_and_folded(
    ctx: &mut Ctx<'_>,
    file: usize,
    scope: Scope,
    e: &ast::Expr,
) -> (ir::Expr, Vec<fold::AlwaysFails>) {
    let mut checker = ExprChecker { ctx, file, scope };
    let checked = checker.check(e);
    let mut failures = Vec::new();
    let folded = fold::fold_reporting(checked, &ctx.schema, &mut failures);
    (folded, failures)
}

fn warn_failures(ctx: &mut Ctx<'_>, file: usize, failures: Vec<fold::AlwaysFails>) {
    for f in failures {
        let d = Diagnostic::warning(
            Code::AlwaysFails,
            ctx.file_name(file),
            f.span,
            "this always fails",
        )
        .with_label(f.error);
        ctx.push(d);
    }
}

pub(super) fn check_constant(
    ctx: &mut Ctx<'_>,
    file: usize,
    decl: &ast::LetDecl,
) -> Option<(Value, Ty)> {
    let (checked, failures) = checked_and_folded(ctx, file, Scope::constant(), &decl.value);
    if checked.ty == Ty::Error {
        return None;
    }
    match checked.as_const() {
        // A constant that is an error is no constant: say where it fails, once.
        Some(Value::Error(e)) => {
            let span = failures.first().map_or(decl.value.span, |f| f.span);
            let d = Diagnostic::error(
                Code::ConstantFails,
                ctx.file_name(file),
                span,
                format!("`{}` always fails", decl.name.name),
            )
            .with_label(e.to_string());
            ctx.push(d);
            None
        }
        Some(v) => {
            warn_failures(ctx, file, failures);
            Some((v.clone(), checked.ty.clone()))
        }
        None => {
            let d = Diagnostic::error(
                Code::NotConstant,
                ctx.file_name(file),
                decl.value.span,
                "a `let` must be a constant",
            )
            .with_help("a constant can use literals, operators, functions and other constants");
            ctx.push(d);
            None
        }
    }
}

fn check_offer(ctx: &mut Ctx<'_>, file: usize, decl: &ast::OfferDecl) -> ir::Offer {
    let mut offer = ir::Offer {
        name: decl.name.name.clone(),
        title: None,
        description: None,
        price: None,
        valid_for: None,
        channels: Vec::new(),
        eligible: None,
        deliverable: None,
        value: ir::Expr::constant(Value::Double(1.0), Ty::Double, decl.name.span),
        origin: Origin {
            file: file as u32,
            span: decl.span,
        },
    };
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let fname = ctx.file_name(file);
    for prop in &decl.props {
        let pname = prop.name.name.as_str();
        if let Some(first) = seen.get(pname) {
            let d = Diagnostic::error(
                Code::Duplicate,
                fname,
                prop.name.span,
                format!("`{pname}` is given twice"),
            )
            .with_secondary(*first, "first given here");
            ctx.push(d);
            continue;
        }
        seen.insert(pname, prop.name.span);
        match pname {
            "title" | "description" => {
                let text = constant_of(
                    ctx,
                    file,
                    &prop.value,
                    Ty::String,
                    "a string such as \"7-day roaming pass\"",
                );
                if let Some(Value::String(s)) = text {
                    if pname == "title" {
                        offer.title = Some(s.to_string());
                    } else {
                        offer.description = Some(s.to_string());
                    }
                }
            }
            "price" => {
                if let Some(Value::Money(m)) = constant_of(
                    ctx,
                    file,
                    &prop.value,
                    Ty::Money,
                    "an amount such as `9.99 EUR`",
                ) {
                    offer.price = Some(m);
                }
            }
            "valid_for" => {
                if let Some(Value::Duration(d)) = constant_of(
                    ctx,
                    file,
                    &prop.value,
                    Ty::Duration,
                    "a duration such as `7d`",
                ) {
                    if d > 0 {
                        offer.valid_for = Some(d);
                    } else {
                        let d = Diagnostic::error(
                            Code::BadOffer,
                            fname,
                            prop.value.span,
                            "an offer must be valid for longer than zero",
                        )
                        .with_help("leave `valid_for` out for an offer that does not expire");
                        ctx.push(d);
                    }
                }
            }
            "channels" => offer.channels = channels(ctx, file, &prop.value),
            "eligible" | "deliverable" => {
                let e = expression(ctx, file, Scope::offer(), &prop.value);
                if !Ty::Bool.accepts(&e.ty) {
                    let d = Diagnostic::error(
                        Code::TypeMismatch,
                        fname,
                        prop.value.span,
                        format!("`{pname}` must be a bool, not {}", ctx_show(ctx, &e.ty)),
                    );
                    ctx.push(d);
                }
                if pname == "eligible" {
                    offer.eligible = Some(e);
                } else {
                    offer.deliverable = Some(e);
                }
            }
            "value" => {
                let e = expression(ctx, file, Scope::offer(), &prop.value);
                offer.value = match e.ty {
                    Ty::Double | Ty::Dyn | Ty::Error => e,
                    Ty::Int | Ty::Uint => {
                        let span = e.span;
                        fold::fold(
                            ir::Expr {
                                kind: ir::ExprKind::Call {
                                    func: ir::Func::ToDouble,
                                    args: vec![e],
                                },
                                ty: Ty::Double,
                                span,
                            },
                            &ctx.schema,
                        )
                    }
                    ref other => {
                        let d = Diagnostic::error(
                            Code::TypeMismatch,
                            fname,
                            prop.value.span,
                            format!("`value` must be a number, not {}", ctx_show(ctx, other)),
                        )
                        .with_help("the value is what one acceptance is worth to arbitration, as in `value: 6.50`");
                        ctx.push(d);
                        e
                    }
                };
            }
            other => {
                let mut d = Diagnostic::error(
                    Code::UnknownProperty,
                    fname,
                    prop.name.span,
                    format!("unknown offer property `{other}`"),
                )
                .with_label("not an offer property");
                d.help = did_you_mean(other, OFFER_PROPERTIES).or_else(|| {
                    Some(format!(
                        "an offer has {}",
                        list_names(&OFFER_PROPERTIES.map(String::from))
                    ))
                });
                ctx.push(d);
            }
        }
    }
    if offer.channels.is_empty() {
        offer.channels = (0..ctx.channels.len() as ChannelId).collect();
    }
    offer
}

fn ctx_show(ctx: &Ctx<'_>, ty: &Ty) -> String {
    crate::types::TyDisplay {
        ty,
        schema: Some(&ctx.schema),
    }
    .to_string()
}

/// A property that must be a constant of type `want`.
fn constant_of(
    ctx: &mut Ctx<'_>,
    file: usize,
    e: &ast::Expr,
    want: Ty,
    example: &str,
) -> Option<Value> {
    let checked = expression(ctx, file, Scope::constant(), e);
    if checked.ty == Ty::Error {
        return None;
    }
    let fname = ctx.file_name(file);
    if !want.accepts(&checked.ty) {
        let d = Diagnostic::error(
            Code::TypeMismatch,
            fname,
            e.span,
            format!("expected {example}, found {}", ctx_show(ctx, &checked.ty)),
        );
        ctx.push(d);
        return None;
    }
    match checked.as_const() {
        Some(v) if !v.is_error() => Some(v.clone()),
        _ => {
            let d = Diagnostic::error(
                Code::NotConstant,
                fname,
                e.span,
                format!("expected {example}, a constant"),
            );
            ctx.push(d);
            None
        }
    }
}

fn channels(ctx: &mut Ctx<'_>, file: usize, e: &ast::Expr) -> Vec<ChannelId> {
    let fname = ctx.file_name(file);
    let ast::ExprKind::List(items) = &e.kind else {
        let d = Diagnostic::error(
            Code::TypeMismatch,
            fname,
            e.span,
            "`channels` is a list of channel names",
        )
        .with_help("write `channels: [app, sms]`");
        ctx.push(d);
        return Vec::new();
    };
    if items.is_empty() {
        let d = Diagnostic::error(Code::BadOffer, fname, e.span, "an offer needs at least one channel")
            .with_help("list where it may be sent, as in `[app, sms]`, or leave `channels` out for any channel");
        ctx.push(d);
    }
    let mut out = Vec::new();
    for element in items {
        let item = &element.value;
        let (
            ast::ExprKind::Ident {
                name,
                global: false,
            },
            false,
        ) = (&item.kind, element.optional)
        else {
            let d = Diagnostic::error(
                Code::TypeMismatch,
                fname,
                item.span,
                "expected a channel name",
            )
            .with_help("write channel names without quotes, as in `[app, sms]`");
            ctx.push(d);
            continue;
        };
        match ctx.channels.iter().position(|c| c == name) {
            Some(i) if out.contains(&(i as ChannelId)) => {
                let d = Diagnostic::warning(
                    Code::Duplicate,
                    fname,
                    item.span,
                    format!("channel `{name}` is listed twice"),
                );
                ctx.push(d);
            }
            Some(i) => out.push(i as ChannelId),
            None if ctx.broken.channels.contains(name) => {}
            None => {
                let mut d = Diagnostic::error(
                    Code::UnknownChannel,
                    fname,
                    item.span,
                    format!("unknown channel `{name}`"),
                )
                .with_label("not a declared channel");
                d.help =
                    did_you_mean(name, ctx.channels.iter().map(String::as_str)).or_else(|| {
                        Some(format!(
                            "the channels are {}; declare others with `channel {name}`",
                            list_names(&ctx.channels)
                        ))
                    });
                ctx.push(d);
            }
        }
    }
    out
}

fn check_rule(ctx: &mut Ctx<'_>, file: usize, decl: &ast::RuleDecl) -> Option<ir::Rule> {
    let trigger = ctx.expect_event(file, &decl.trigger);
    let fname = ctx.file_name(file);
    let mut offers = Vec::new();
    for o in &decl.offers {
        match ctx.offers.get(&o.name) {
            Some(&id) if offers.contains(&id) => {
                let d = Diagnostic::warning(
                    Code::Duplicate,
                    fname,
                    o.span,
                    format!("`{}` is recommended twice", o.name),
                );
                ctx.push(d);
            }
            Some(&id) => offers.push(id),
            None if ctx.broken.offers.contains(&o.name) => {}
            None => {
                let names: Vec<String> = ctx.offers.keys().cloned().collect();
                let mut d = Diagnostic::error(
                    Code::UnknownOffer,
                    fname,
                    o.span,
                    format!("unknown offer `{}`", o.name),
                )
                .with_label("no offer has this name");
                d.help = did_you_mean(&o.name, names.iter().map(String::as_str));
                ctx.push(d);
            }
        }
    }
    let weight = match decl.weight {
        Some((w, _)) => w,
        None => 1.0,
    };
    let trigger = trigger?;
    let mut conditions: Vec<ir::Expr> = Vec::new();
    for cond in decl.filter.iter().chain(&decl.conditions) {
        let e = expression(ctx, file, Scope::rule(trigger), cond);
        if !Ty::Bool.accepts(&e.ty) {
            let shown = ctx_show(ctx, &e.ty);
            let mut d = Diagnostic::error(
                Code::TypeMismatch,
                fname,
                cond.span,
                format!("a rule condition must be a bool, not {shown}"),
            )
            .with_label(format!("this is {shown}"));
            if matches!(e.ty, Ty::Optional(_)) {
                d = d.with_help(
                    "test an optional with `.hasValue()`, or read it with `.orValue(false)`",
                );
            }
            ctx.push(d);
        }
        if let Some(Value::Bool(false)) = e.as_const() {
            let d = Diagnostic::warning(
                Code::AlwaysFalse,
                fname,
                cond.span,
                "this condition is always false",
            )
            .with_help(format!("rule `{}` can never fire", decl.name.name));
            ctx.push(d);
        }
        conditions.push(e);
    }
    let condition = match conditions.len() {
        0 => None,
        1 => conditions.pop(),
        _ => {
            let span = conditions
                .first()
                .map_or(decl.span, |c| c.span)
                .to(conditions.last().map_or(decl.span, |c| c.span));
            Some(ir::Expr {
                kind: ir::ExprKind::And(conditions),
                ty: Ty::Bool,
                span,
            })
        }
    };
    // Folding the conjunction drops the conditions that are always true.
    let condition = condition
        .map(|c| fold::fold(c, &ctx.schema))
        .filter(|c| !matches!(c.as_const(), Some(Value::Bool(true))));
    (offers.len() == decl.offers.len()).then(|| ir::Rule {
        name: decl.name.name.clone(),
        trigger,
        condition,
        offers,
        weight,
        origin: Origin {
            file: file as u32,
            span: decl.span,
        },
    })
}

fn check_policy(ctx: &mut Ctx<'_>, items: &[(usize, &Item)]) -> ContactPolicy {
    let mut policy = ContactPolicy::default();
    let mut first: Option<Span> = None;
    for (file, item) in items {
        let Item::Policy(decl) = item else { continue };
        let fname = ctx.file_name(*file);
        if decl.name.name != "contact" {
            let mut d = Diagnostic::error(
                Code::BadPolicy,
                fname,
                decl.name.span,
                format!("unknown policy `{}`", decl.name.name),
            )
            .with_help("the contact policy is written `policy contact { ... }`");
            if let Some(s) = did_you_mean(&decl.name.name, ["contact"]) {
                d.help = Some(s);
            }
            ctx.push(d);
            continue;
        }
        if let Some(f) = first {
            let d = Diagnostic::error(
                Code::Duplicate,
                fname,
                decl.name.span,
                "there is already a contact policy",
            )
            .with_secondary(f, "the first one")
            .with_help("put all quiet hours and caps in one `policy contact`");
            ctx.push(d);
            continue;
        }
        first = Some(decl.name.span);
        let quiet_before = policy.quiet_hours.len();
        for q in &decl.quiet_hours {
            if q.start_minute == q.end_minute {
                let d = Diagnostic::error(
                    Code::BadPolicy,
                    fname,
                    q.span,
                    "quiet hours that start when they end are empty",
                );
                ctx.push(d);
                continue;
            }
            policy.quiet_hours.push(ir::QuietHours {
                start_minute: q.start_minute,
                end_minute: q.end_minute,
            });
        }
        if policy.quiet_hours.len() > quiet_before
            && let Some(q) = decl.quiet_hours.first()
        {
            lint_quiet_hours_zone(ctx, *file, q.span);
        }
        for cap in &decl.caps {
            if let Some(c) = check_cap(ctx, *file, cap) {
                policy.caps.push(c);
            }
        }
    }
    policy
}

/// Quiet hours are kept in the customer's time zone: the profile's `timezone` field. Say so when
/// there is none (UTC is used) or several (the first is used).
fn lint_quiet_hours_zone(ctx: &mut Ctx<'_>, file: usize, span: Span) {
    let profile = ctx.schema.profile.and_then(|p| ctx.schema.record(p));
    let zones: Vec<String> = profile
        .map(|p| {
            p.fields
                .iter()
                .filter(|f| f.ty == Ty::Timezone || f.ty == Ty::optional(Ty::Timezone))
                .map(|f| f.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let fname = ctx.file_name(file);
    let d = match zones.as_slice() {
        [] => Diagnostic::warning(Code::QuietHoursZone, fname, span, "quiet hours are kept in UTC")
            .with_label("no customer time zone")
            .with_help("give the profile a field such as `tz: timezone` to keep them in each customer's local time"),
        [_] => return,
        [first, ..] => Diagnostic::warning(
            Code::QuietHoursZone,
            fname,
            span,
            format!("quiet hours are kept in `{first}`, the first time zone of the profile"),
        )
        .with_help(format!("the profile has {} `timezone` fields", zones.len())),
    };
    ctx.push(d);
}

fn check_cap(ctx: &mut Ctx<'_>, file: usize, cap: &ast::CapDecl) -> Option<ir::Cap> {
    let fname = ctx.file_name(file);
    let profile_name = ctx
        .schema
        .profile
        .and_then(|p| ctx.schema.record(p))
        .map(|r| r.name.clone());
    let scope = match cap.scope.name.as_str() {
        "offer" => Some(CapScope::Offer),
        "customer" => Some(CapScope::Customer),
        name if Some(name) == profile_name.as_deref() => Some(CapScope::Customer),
        _ if ctx.broken.schema => None,
        name => {
            let mut options = vec!["offer".to_string(), "customer".to_string()];
            options.extend(profile_name.clone());
            let mut d = Diagnostic::error(
                Code::UnknownCapScope,
                fname,
                cap.scope.span,
                format!("unknown cap scope `{name}`"),
            )
            .with_label("counts per what?");
            d.help = did_you_mean(name, options.iter().map(String::as_str))
                .or_else(|| Some(format!("a cap counts per {}", list_names(&options))));
            ctx.push(d);
            None
        }
    };
    if cap.count == 0 {
        let d = Diagnostic::error(
            Code::BadPolicy,
            fname,
            cap.span,
            "a cap of zero can never be satisfied",
        )
        .with_help("to stop an offer, remove it from the rules");
        ctx.push(d);
        return None;
    }
    if cap.window <= 0 {
        let d = Diagnostic::error(
            Code::BadPolicy,
            fname,
            cap.window_span,
            "a cap's window must be longer than zero",
        );
        ctx.push(d);
        return None;
    }
    let window: Nanos = cap.window;
    scope.map(|scope| ir::Cap {
        count: cap.count,
        window,
        scope,
    })
}

/// Looks at the rules as written, so that a rule with a mistake elsewhere still counts as using
/// the offers it names.
fn lint_unused_offers(
    ctx: &mut Ctx<'_>,
    offers: &[(usize, &ast::OfferDecl)],
    items: &[(usize, &Item)],
) {
    if ctx.broken.rules {
        return;
    }
    for (file, decl) in offers {
        let used = items.iter().any(|(_, item)| {
            matches!(item, Item::Rule(r) if r.offers.iter().any(|o| o.name == decl.name.name))
        });
        if !used {
            let d = Diagnostic::warning(
                Code::UnusedOffer,
                ctx.file_name(*file),
                decl.name.span,
                format!("no rule recommends `{}`", decl.name.name),
            )
            .with_help("add it to a rule's `then recommend`, or remove it");
            ctx.push(d);
        }
    }
}
