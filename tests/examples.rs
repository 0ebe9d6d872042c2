//! The examples, run as their READMEs run them, with their figures checked against values
//! computed here from the raw data files without the compiler or the engine.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly"
)]

use offer_cli::commands::run::{FormatArg, RunArgs, run};
use offer_tests::{repo_root, shared_dir};
use std::collections::HashMap;
use std::path::PathBuf;

const DAY: i64 = 86_400;

/// Replays an example through `offer run` exactly as its README does, and returns the
/// decisions as (rule, offer, customer) and the printed summary. It is replayed a second time
/// with `--interpret`, which must write the same decisions byte for byte.
fn replay(args: RunArgs) -> (Vec<(String, String, String)>, String) {
    let interpreted = RunArgs {
        interpret: true,
        out: args
            .out
            .as_ref()
            .map(|p| p.with_extension("interpreted.ndjson")),
        ..args.clone()
    };
    let (decisions, summary) = replay_once(args.clone());
    let (_, interpreted_summary) = replay_once(interpreted.clone());
    let text = |a: &RunArgs| std::fs::read(a.out.as_ref().unwrap()).unwrap();
    assert!(
        text(&args) == text(&interpreted),
        "native code and the interpreter wrote different decisions"
    );
    assert!(
        interpreted_summary.contains("interpreted (--interpret)"),
        "{interpreted_summary}"
    );
    (decisions, summary)
}

fn replay_once(args: RunArgs) -> (Vec<(String, String, String)>, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run(&args, false, &mut out, &mut err);
    let summary = String::from_utf8_lossy(&out).to_string();
    assert_eq!(
        code,
        0,
        "offer run failed:\n{}\n{summary}",
        String::from_utf8_lossy(&err)
    );
    let path = args
        .out
        .expect("the examples write their decisions to a file");
    let text = std::fs::read_to_string(&path).unwrap();
    let decisions = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            (s("rule"), s("offer"), s("key"))
        })
        .collect();
    (decisions, summary)
}

fn out_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn count_by<'a>(items: impl Iterator<Item = &'a str>) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    for i in items {
        *counts.entry(i.to_string()).or_insert(0) += 1;
    }
    counts
}

/// The summary's row for `name`: its numbers, in order.
fn summary_row(summary: &str, name: &str) -> Vec<u64> {
    let line = summary
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row `{name}` in:\n{summary}"));
    line.split_whitespace()
        .skip(1)
        .filter_map(|w| {
            w.trim_matches(|c: char| !c.is_ascii_digit())
                .replace(',', "")
                .parse()
                .ok()
        })
        .collect()
}

/// The example keeps an exact copy of the shared data set it credits.
fn assert_same_as_shared(copy: &str, shared: &str) {
    let Some(dir) = shared_dir() else {
        eprintln!("note: ../shared is absent, the copy of {shared} is not compared");
        return;
    };
    let ours = std::fs::read(repo_root().join(copy)).unwrap();
    let theirs = std::fs::read(dir.join(shared)).unwrap();
    assert!(ours == theirs, "{copy} differs from ../shared/{shared}");
}

// ------------------------------------------------------------------------------------- winback

/// Days since 1970-01-01 of a `YYYYMMDD` date (Howard Hinnant's days-from-civil).
fn days(date: &str) -> i64 {
    let y: i64 = date[0..4].parse().unwrap();
    let m: i64 = date[4..6].parse().unwrap();
    let d: i64 = date[6..8].parse().unwrap();
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[derive(Default, Debug, PartialEq)]
struct Figures {
    fired: HashMap<&'static str, u64>,
    decisions: HashMap<&'static str, u64>,
    suppressed: u64,
    ineligible: u64,
}

/// The winback program's logic written out by hand over the raw purchases.
fn winback_figures(text: &str) -> Figures {
    // (rule, offer, score = weight × value)
    let offers: [(&str, &str, f64); 3] = [
        ("third_purchase_in_90_days", "LoyaltyClub", 1.0 * 5.0),
        (
            "first_purchase_after_120_quiet_days",
            "WelcomeBack",
            1.2 * 8.0,
        ),
        ("big_basket", "ThankYouVoucher", 0.8 * 3.0),
    ];
    let mut figures = Figures::default();
    let mut history: HashMap<String, Vec<i64>> = HashMap::new();
    let mut contacts: HashMap<String, Vec<(i64, &str)>> = HashMap::new();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let [customer, date, cds, dollars] = cells[..] else {
            continue;
        };
        let now = days(date) * DAY;
        let cds: i64 = cds.parse().unwrap();
        let dollars: f64 = dollars.parse().unwrap();
        let purchases = history.entry(customer.to_string()).or_default();
        let previous = purchases.last().copied();
        purchases.push(now);
        let in_90_days = purchases.iter().filter(|t| **t > now - 90 * DAY).count();
        let mut candidates = Vec::new();
        if in_90_days == 3 {
            candidates.push(offers[0]);
        }
        if previous.is_some_and(|p| now - p >= 120 * DAY) {
            candidates.push(offers[1]);
        }
        if cds >= 5 && dollars >= 75.0 {
            *figures.fired.entry("big_basket").or_default() += 1;
            if cds <= 40 {
                candidates.push(offers[2]);
            } else {
                figures.ineligible += 1;
            }
        }
        for (rule, _, _) in &candidates {
            if *rule != "big_basket" {
                *figures.fired.entry(rule).or_default() += 1;
            }
        }
        candidates.sort_by(|a, b| b.2.total_cmp(&a.2));
        let sent = contacts.entry(customer.to_string()).or_default();
        for (rule, offer, _) in candidates {
            let last_30 = sent.iter().filter(|(t, _)| *t > now - 30 * DAY).count();
            let same_180 = sent
                .iter()
                .filter(|(t, o)| *t > now - 180 * DAY && *o == offer)
                .count();
            if last_30 >= 1 || same_180 >= 1 {
                figures.suppressed += 1;
                continue;
            }
            sent.push((now, offer));
            *figures.decisions.entry(rule).or_default() += 1;
        }
    }
    figures
}

#[test]
fn winback_on_the_cdnow_purchases() {
    let root = repo_root();
    let data = root.join("examples/winback/data/CDNOW_master.txt");
    assert_same_as_shared(
        "examples/winback/data/CDNOW_master.txt",
        "data/cdnow/CDNOW_master.txt",
    );
    let expected = winback_figures(&std::fs::read_to_string(&data).unwrap());
    let args = RunArgs {
        program: root.join("examples/winback/winback.offer"),
        events: vec![data],
        format: Some(FormatArg::Ssv),
        event_type: Some("purchase".into()),
        key_column: Some("customer_id".into()),
        time_column: Some("date".into()),
        time_format: Some("%Y%m%d".into()),
        out: Some(out_file("winback-decisions.ndjson")),
        no_progress: true,
        ..RunArgs::default()
    };
    let (decisions, summary) = replay(args);
    let by_rule = count_by(decisions.iter().map(|(r, _, _)| r.as_str()));
    for (rule, n) in &expected.decisions {
        assert_eq!(
            by_rule.get(*rule).copied().unwrap_or(0),
            *n,
            "decisions of {rule}"
        );
        assert_eq!(
            summary_row(&summary, rule),
            vec![expected.fired[rule], *n, 0],
            "summary row of {rule}"
        );
    }
    assert_eq!(
        decisions.len() as u64,
        expected.decisions.values().sum::<u64>()
    );
    assert_eq!(summary_row(&summary, "events")[0], 69_659);
    assert_eq!(summary_row(&summary, "events")[1], 23_570, "customers");
    assert_eq!(summary_row(&summary, "suppressed")[0], expected.suppressed);
    assert_eq!(summary_row(&summary, "errors")[0], 0);
    // Three rule conditions and one eligibility; the offers' constant values need no code.
    assert!(
        summary.contains("expressions: all 4 in native code"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("ineligible {}", expected.ineligible)),
        "{summary}"
    );
    // The figures are not trivially zero: every rule sends thousands of offers.
    assert!(
        expected.decisions.values().all(|n| *n > 1000),
        "{expected:?}"
    );
}

// ------------------------------------------------------------------------------------- telco

type Candidates = Vec<(&'static str, &'static str, f64)>;

/// Puts an offer forward; an offer already there keeps the better score.
fn best(rule: &'static str, offer: &'static str, score: f64, candidates: &mut Candidates) {
    match candidates.iter_mut().find(|c| c.1 == offer) {
        Some(c) if score > c.2 => *c = (rule, offer, score),
        Some(_) => {}
        None => candidates.push((rule, offer, score)),
    }
}

/// The retention program's logic written out by hand over the raw CSV.
fn telco_figures(
    path: &std::path::Path,
) -> (HashMap<&'static str, u64>, HashMap<&'static str, u64>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let mut fired: HashMap<&'static str, u64> = HashMap::new();
    let mut decisions: HashMap<&'static str, u64> = HashMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        let get = |name: &str| {
            row.get(headers.iter().position(|h| h == name).unwrap())
                .unwrap()
                .trim()
        };
        let yes = |name: &str| matches!(get(name), "1" | "1.0" | "Yes");
        let tenure: i64 = get("tenure").parse().unwrap();
        let monthly: f64 = get("monthly_charges").parse().unwrap();
        let total: Option<f64> = get("total_charges").parse().ok();
        let month_to_month = get("contract") == "Month-to-month";
        let internet = get("internet_service");
        // (rule, offer, weight × value), for the offers that pass eligibility and delivery.
        let mut candidates: Candidates = Vec::new();
        let contract_value = monthly * 12.0 * 0.85 * 0.1;
        if month_to_month && internet == "Fiber optic" && tenure < 12 {
            *fired.entry("new_month_to_month_on_fiber").or_default() += 1;
            best(
                "new_month_to_month_on_fiber",
                "ContractUpgrade12m",
                1.5 * contract_value,
                &mut candidates,
            );
        }
        if internet != "No" && get("tech_support") == "No" && get("online_security") == "No" {
            *fired.entry("internet_without_support").or_default() += 1;
            if tenure >= 3 {
                best(
                    "internet_without_support",
                    "TechSupportTrial",
                    4.0,
                    &mut candidates,
                );
            }
        }
        if yes("senior_citizen") && monthly > 80.0 {
            *fired.entry("senior_high_bill").or_default() += 1;
            best("senior_high_bill", "SeniorSaver", 6.0, &mut candidates);
            if month_to_month {
                best(
                    "senior_high_bill",
                    "ContractUpgrade12m",
                    contract_value,
                    &mut candidates,
                );
            }
        }
        if get("streaming_tv") == "Yes" && get("streaming_movies") == "Yes" {
            *fired.entry("streamer").or_default() += 1;
            if total.is_some_and(|t| t > 500.0) {
                best("streamer", "StreamingBundle", 0.5 * 2.5, &mut candidates);
            }
        }
        // One offer per subscriber per day: the best score wins; ties keep rule order.
        candidates.sort_by(|a, b| b.2.total_cmp(&a.2));
        if let Some((_, offer, _)) = candidates.first() {
            *decisions.entry(offer).or_default() += 1;
        }
    }
    (fired, decisions)
}

#[test]
fn retention_on_the_telco_subscribers() {
    let root = repo_root();
    let data = root.join("examples/telco-retention/data/wa_churn.csv");
    assert_same_as_shared(
        "examples/telco-retention/data/wa_churn.csv",
        "data/telco_churn/wa_churn.csv",
    );
    let (fired, expected) = telco_figures(&data);
    let args = RunArgs {
        program: root.join("examples/telco-retention/retention.offer"),
        events: vec![data],
        event_type: Some("subscriber".into()),
        key_column: Some("@row".into()),
        at: Some("2026-01-01T09:00:00Z".into()),
        out: Some(out_file("retention-decisions.ndjson")),
        no_progress: true,
        ..RunArgs::default()
    };
    let (decisions, summary) = replay(args);
    let by_offer = count_by(decisions.iter().map(|(_, o, _)| o.as_str()));
    for (offer, n) in &expected {
        assert_eq!(
            by_offer.get(*offer).copied().unwrap_or(0),
            *n,
            "decisions of {offer}:\n{summary}"
        );
    }
    assert_eq!(by_offer.len(), expected.len());
    for (rule, n) in &fired {
        assert_eq!(summary_row(&summary, rule)[0], *n, "fired {rule}");
    }
    assert_eq!(summary_row(&summary, "events")[0], 7_043);
    assert_eq!(summary_row(&summary, "errors")[0], 0);
    let customers = count_by(decisions.iter().map(|(_, _, k)| k.as_str()));
    assert!(
        customers.values().all(|n| *n == 1),
        "one offer per subscriber"
    );
    assert!(expected.values().all(|n| *n > 100), "{expected:?}");
}
