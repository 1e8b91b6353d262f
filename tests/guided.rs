//! The guided stops, read from the scenario files' `[[lesson]]` tables: the
//! order is numbered without gaps, every stop checks against its scenario,
//! every "predict, then play" question has the author's answer — read off
//! training by the library, at seeds 0–4 (or `DPO_LAB_LESSON_SEEDS`) and
//! for runs twice as long — and a teacher's own file with a lesson loads,
//! or says which key is wrong.

use dpo_lab::lesson::{Curve, Outcome, Quantity, Tab, Tweak, guided};
use dpo_lab::loss::LossName;
use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{RawScenario, Scenario, builtins, load_raw};

#[path = "support/grid.rs"]
mod grid;

#[test]
fn the_guided_order_is_numbered_and_every_stop_checks_on_its_scenario() {
    let stops = guided().expect("the built-in lessons check");
    assert!(stops.len() >= 16, "the lecture's stops and more");
    for (i, s) in stops.iter().enumerate() {
        assert_eq!(s.lesson.stop, Some(i + 1));
        assert!(s.display_title().starts_with(&format!("{} · ", i + 1)));
        let scenario = Scenario::check(load_raw(&s.scenario).expect("built in"))
            .unwrap_or_else(|e| panic!("{}: {e}", s.scenario));
        // The checked scenario carries the same lesson.
        assert!(
            scenario.lessons.contains(&s.lesson),
            "{}",
            s.display_title()
        );
        if let Some(p) = &s.lesson.predict {
            assert!(
                scenario.methods.contains(&p.method),
                "{}: the watched method {} must run when the stop opens",
                s.display_title(),
                p.method.name()
            );
        }
    }
}

/// Every prediction's author's answer is what training does, clear-cut
/// (beyond twice the "stays" band, or within half of it), at every seed
/// and for twice the stop's steps: the reveal teaches the lesson rather
/// than a seed's accident or a run cut short.
#[test]
fn every_prediction_is_the_authors_answer_over_seeds_and_longer_runs() {
    let mut asked = 0;
    for stop in guided().expect("checks") {
        let Some(pred) = &stop.lesson.predict else {
            continue;
        };
        asked += 1;
        let base = load_raw(&stop.scenario).expect("built in");
        for seed in grid::seeds() {
            for longer in [1, 2] {
                let mut raw = base.clone();
                raw.train.seed = Some(seed);
                let steps = Scenario::check(raw.clone()).expect("checks").train.steps();
                raw.train.steps = Some((steps * longer) as u64);
                let e = pred.evaluate(&raw).expect("trains");
                let band = Outcome::stays_band(e.start);
                let clear = match e.outcome {
                    Outcome::Stays => (e.now - e.start).abs() <= band / 2.0,
                    _ => (e.now - e.start).abs() >= 2.0 * band,
                };
                assert!(
                    e.outcome == pred.expect && clear,
                    "{} seed {seed} steps ×{longer}: {} to {} is {:?}, the lesson says {:?}",
                    stop.display_title(),
                    e.start,
                    e.now,
                    e.outcome,
                    pred.expect
                );
            }
        }
    }
    assert!(asked > 0);
}

/// A change a prediction assumes is applied before training: stop 12's
/// rpo question trains with the rpo loss, and plain DPO would answer the
/// other way (so the assumption matters).
#[test]
fn an_assumed_change_is_applied_before_the_answer_is_read() {
    let stop = guided()
        .expect("checks")
        .into_iter()
        .find(|s| {
            s.lesson
                .predict
                .as_ref()
                .is_some_and(|p| p.assumes == Some(Tweak::Loss(LossName::Rpo)))
        })
        .expect("a stop asks about rpo");
    let pred = stop.lesson.predict.clone().expect("asks");
    let raw = load_raw(&stop.scenario).expect("built in");
    let with = pred.evaluate(&raw).expect("trains");
    let without = dpo_lab::lesson::Prediction {
        assumes: None,
        ..pred.clone()
    }
    .evaluate(&raw)
    .expect("trains");
    assert_eq!(with.outcome, Outcome::Falls);
    assert_eq!(without.outcome, Outcome::Rises);
}

const TEACHER: &str = r#"
name = "my-stop"
description = "Two answers."

[space]
kind = "flat"
responses = ["good", "bad"]

[reference]
probs = [0.5, 0.5]

[reward]
values = [1.0, 0.0]

[train]
beta = 1.0
lr = 5.0
steps = 300

[[lesson]]
title = "My own stop"
tab = "frontier"
notice = "DPO moves mass to the good answer."
try_this = [{ beta = 0.5 }, { add_online = true }]
key_curve = "expected-reward"

[lesson.predict]
question = "What will DPO do to the good answer?"
watch = "probability"
response = "good"
expect = "rises"
"#;

#[test]
fn a_teachers_own_file_with_a_lesson_loads_and_its_prediction_evaluates() {
    let raw = RawScenario::parse(TEACHER, "my-stop.toml").expect("parses");
    let s = Scenario::check(raw.clone()).expect("checks");
    let l = &s.lessons[0];
    assert_eq!(l.display_title(), "My own stop");
    assert_eq!(l.tab, Tab::Frontier);
    assert_eq!(l.key_curve, Curve::ExpectedReward);
    assert_eq!(l.try_this, vec![Tweak::Beta(0.5), Tweak::AddOnline]);
    let p = l.predict.as_ref().expect("asks");
    assert_eq!(p.quantity, Quantity::Probability("good".into()));
    assert_eq!(p.method, MethodKind::Dpo);
    let e = p.evaluate(&raw).expect("trains");
    assert_eq!(e.start, 0.5);
    assert_eq!(e.outcome, Outcome::Rises);
    // "Try this: add online DPO" makes the file open with both runs.
    let mut more = raw.clone();
    Tweak::AddOnline.apply(&mut more);
    let s = Scenario::check(more).expect("checks");
    assert_eq!(s.methods, vec![MethodKind::Dpo, MethodKind::OnlineDpo]);
}

#[test]
fn a_broken_lesson_names_its_key() {
    let cases = [
        ("tab = \"frontier\"", "tab = \"slides\"", "lesson[0].tab"),
        (
            "{ beta = 0.5 }",
            "{ beta = 0.5, loss = \"ipo\" }",
            "lesson[0].try_this[0]",
        ),
        (
            "{ beta = 0.5 }",
            "{ beta = -0.5 }",
            "lesson[0].try_this[0].beta",
        ),
        (
            "response = \"good\"",
            "response = \"great\"",
            "lesson[0].predict.response",
        ),
        (
            "expect = \"rises\"",
            "expect = \"soars\"",
            "lesson[0].predict.expect",
        ),
        (
            "watch = \"probability\"",
            "watch = \"vibes\"",
            "lesson[0].predict.watch",
        ),
        (
            "key_curve = \"expected-reward\"",
            "key_curve = \"fun\"",
            "lesson[0].key_curve",
        ),
        (
            "expect = \"rises\"",
            "expect = \"rises\"\nmethod = \"optimal\"",
            "lesson[0].predict.method",
        ),
    ];
    for (from, to, key) in cases {
        assert!(TEACHER.contains(from), "{from}");
        let text = TEACHER.replace(from, to);
        let e = RawScenario::parse(&text, "my-stop.toml")
            .and_then(Scenario::check)
            .expect_err(to)
            .to_string();
        assert!(e.starts_with(key), "{to}: {e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
    // An unknown key in a lesson is a parse error naming it.
    let e = RawScenario::parse(
        &TEACHER.replace("title = ", "titel = \"x\"\ntitle = "),
        "my-stop.toml",
    )
    .expect_err("unknown key")
    .to_string();
    assert!(e.contains("titel"), "{e}");
}

/// The app shows each lesson's description, notice, titles and questions:
/// they use the app's words, not command-line flags or JSON keys.
#[test]
fn lesson_texts_use_app_words_not_flags() {
    for raw in builtins() {
        let name = &raw.name;
        let mut texts = vec![("description", raw.description.clone())];
        texts.extend(raw.notice.clone().map(|n| ("notice", n)));
        for l in &raw.lessons {
            texts.push(("lesson title", l.title.clone()));
            texts.push(("lesson notice", l.notice.clone()));
            texts.extend(l.predict.as_ref().map(|p| ("question", p.question.clone())));
        }
        for (what, text) in texts {
            for bad in [" --", "ood_top", "kl_to_optimal", "rewards/accuracies"] {
                assert!(!text.contains(bad), "{name}: {what} contains {bad:?}");
            }
        }
    }
}
