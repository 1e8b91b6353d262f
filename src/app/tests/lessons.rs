//! Guided stops: arriving, playing, "Try this", predictions.

use super::*;

#[test]
fn opens_on_the_first_lesson_with_pi_star() {
    let mut h = harness(None);
    h.run_steps(2);
    assert_eq!(h.state().session().scenario.name(), "optimal-policy");
    assert!(h.query_by_label_contains("What to notice").is_some());
    assert!(!h.state().playing());
}

#[test]
fn ood_leak_lesson_play_raises_ood_mass_under_offline_dpo_only() {
    let mut h = harness(None);
    h.run_steps(1);
    pick_lesson(&mut h, &stop_title(4));
    assert_eq!(h.state().session().scenario.name(), "ood-leak");
    let dpo_start = h
        .state()
        .session()
        .run_of(MethodKind::Dpo)
        .expect("on")
        .metrics
        .ood_mass;
    h.get_by_label("Play").click();
    h.run_steps(300);
    let s = h.state().session();
    let dpo = s.run_of(MethodKind::Dpo).expect("offline DPO runs");
    let online = s.run_of(MethodKind::OnlineDpo).expect("online DPO runs");
    assert!(
        dpo.run.steps_done() > 100,
        "trained while playing: {}",
        dpo.run.steps_done()
    );
    assert!(
        dpo.metrics.ood_mass > 2.0 * dpo_start,
        "{} vs {dpo_start}",
        dpo.metrics.ood_mass
    );
    assert!(online.metrics.ood_mass < dpo_start);
    // The status bar shows the steps it took.
    let shown = format!("offline DPO {}/", dpo.run.steps_done());
    assert!(
        h.query_by_label_contains(&shown).is_some(),
        "status shows {shown}"
    );
    assert!(h.query_by_label_contains("OOD top").is_some());
}

#[test]
fn every_tab_draws_for_every_lesson() {
    let mut h = harness(None);
    h.run_steps(1);
    for stop in stops() {
        pick_lesson(&mut h, &stop.display_title());
        h.key_press(egui::Key::S);
        for tab in [
            "Overview",
            "Reward–KL",
            "Derivation",
            "Online vs offline",
            "Experiments",
            "About this lesson",
        ] {
            h.get_by_label(tab).click();
            h.run_steps(2);
        }
    }
    // The derivation tab shows the identities for the current policy.
    pick_lesson(&mut h, &stop_title(3));
    h.get_by_label("Derivation").click();
    h.run_steps(2);
    assert!(h.query_by_label("J(π*) − J(π)").is_some());
    assert!(h.query_by_label("β·KL(π||π*)").is_some());
}

/// Every run's `log π` as it stands.
fn policies(h: &Harness<'static, DpoLabApp>) -> Vec<Vec<f64>> {
    let runs = &h.state().session().runs;
    runs.iter().map(|r| r.log_probs.clone()).collect()
}

/// Plays stop `i` with its default (paced) settings at a simulated 60
/// frames a second; returns the seconds until its runs finished and until
/// they settled (every run's policy within 5 % of its start-to-end
/// total-variation distance of where it ends). Checks that the stop's
/// predictions come out as their authors expect.
fn play_paced(i: usize) -> Option<(f64, f64)> {
    let mut h = harness(None);
    h.run_steps(1);
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, crate::app::Command::Guided(i));
    h.run_steps(2);
    assert_eq!(h.state().settings.playback, Playback::Paced);
    if h.state().session().runs.is_empty() {
        return None;
    }
    let start = policies(&h);
    h.get_by_label("Play").click();
    h.run_steps(1);
    let mut seen: Vec<(f64, Vec<Vec<f64>>)> = Vec::new();
    let mut frames = 1_u32;
    while h.state().playing() {
        assert!(
            frames < 60 * 60,
            "{}: still playing after 60 s",
            stop_title(i)
        );
        h.run_steps(1);
        frames += 1;
        seen.push((f64::from(frames) / 60.0, policies(&h)));
    }
    assert!(
        h.state().session().finished(),
        "{}: stopped early",
        stop_title(i)
    );
    let tv = |a: &[f64], b: &[f64]| -> f64 {
        0.5 * a
            .iter()
            .zip(b)
            .map(|(x, y)| (x.exp() - y.exp()).abs())
            .sum::<f64>()
    };
    let end = policies(&h);
    let settled = seen
        .iter()
        .rev()
        .find(|(_, now)| {
            now.iter().zip(&end).zip(&start).any(|((p, e), s)| {
                let whole = tv(s, e);
                whole > 0.0 && tv(p, e) > 0.05 * whole
            })
        })
        .map_or(0.0, |(t, _)| *t);
    let stop = &stops()[i];
    for pred in stop.lesson.predict.iter().filter(|p| p.assumes.is_none()) {
        let got = h.state().session().prediction(pred);
        assert_eq!(
            got.map(|e| e.outcome),
            Some(pred.expect),
            "{}: {}",
            stop_title(i),
            pred.question
        );
    }
    Some((f64::from(frames) / 60.0, settled))
}

/// Every guided stop, played as it opens, moves for at least 5 s of the
/// simulated clock and finishes within 12 s (at 60 frames a second; a
/// slower machine takes longer), its predictions as the author expects.
fn stops_play_at_a_pace_a_room_can_follow(parity: usize) {
    let mut report = Vec::new();
    for i in (0..stops().len()).filter(|i| i % 2 == parity) {
        let Some((finished, settled)) = play_paced(i) else {
            continue;
        };
        report.push(format!(
            "{}: settles {settled:.1} s, ends {finished:.1} s",
            stop_title(i)
        ));
        assert!(settled >= 5.0 && finished <= 12.0, "{}", report.join("\n"));
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn odd_stops_play_at_a_pace_a_room_can_follow() {
    stops_play_at_a_pace_a_room_can_follow(0);
}

#[test]
fn even_stops_play_at_a_pace_a_room_can_follow() {
    stops_play_at_a_pace_a_room_can_follow(1);
}

/// "As fast as possible" finishes a long lesson in a few hundred frames.
#[test]
fn as_fast_as_possible_plays_through_in_a_few_hundred_frames() {
    let mut h = harness(None);
    h.run_steps(1);
    pick_lesson(&mut h, &stop_title(8));
    fast(&mut h);
    let frames = play_to_end(&mut h, 2000);
    assert!(
        h.state().session().finished(),
        "not finished after {frames} frames"
    );
}

#[test]
fn try_this_buttons_change_the_setting_and_keep_the_previous_run() {
    let mut h = harness(None);
    h.run_steps(1);
    pick_lesson(&mut h, "5 · OOD leak");
    per_frame(&mut h, 100);
    h.get_by_label("Play").click();
    h.run_steps(4);
    let (beta0, lr0) = (h.state().settings.beta, h.state().settings.lr);
    h.get_by_label("β = 0.1").click();
    h.run_steps(2);
    let s = &h.state().settings;
    assert_eq!(s.beta, 0.1);
    // "keep lr·β² fixed" is on: the effective step is unchanged.
    assert_abs_diff_eq!(s.lr * 0.01, lr0 * beta0 * beta0, epsilon = 1e-9 * lr0);
    assert_eq!(h.state().session().scenario.train.beta(), 0.1);
    assert!(
        h.state().ghost.is_some(),
        "the runs before the change stay faded"
    );
    // Every stop's buttons apply cleanly (the library accepts each).
    for stop in stops() {
        for &t in &stop.lesson.try_this {
            let title = stop.display_title();
            pick_lesson(&mut h, &title);
            h.get_by_label(&t.label()).click();
            h.run_steps(2);
            assert!(
                !h.state().message.as_ref().is_some_and(|m| m.is_error()),
                "{}: {} gave {:?}",
                title,
                t.label(),
                h.state().message
            );
        }
    }
}

#[test]
fn predict_then_play_reveals_what_the_runs_did() {
    let mut h = harness(None);
    h.run_steps(1);
    pick_lesson(&mut h, "6 · \"the the the\"");
    assert!(h.query_by_label("(choose, then press Play)").is_some());
    h.get_by_label("rises").click();
    h.run_steps(1);
    assert!(
        h.query_by_label("(press Play: revealed when the runs finish)")
            .is_some()
    );
    fast(&mut h);
    h.get_by_label("Play").click();
    h.run_steps(4);
    assert!(h.state().session().finished());
    let s = h.state().session();
    let y = s
        .scenario
        .problem
        .space
        .index_of("the the the")
        .expect("in space");
    let run = s.run_of(MethodKind::Dpo).expect("on");
    let (start, now) = (s.scenario.problem.log_ref[y].exp(), run.log_probs[y].exp());
    assert!(now > start);
    let shown = format!(
        "It rises: {} to {} (your prediction was right)",
        dpo_lab::numerics::tick(start),
        dpo_lab::numerics::tick(now)
    );
    assert!(h.query_by_label(&shown).is_some(), "{shown}");
    // A wrong guess is called wrong: the chosen log-prob falls in lesson 10.
    pick_lesson(&mut h, "10 · Likelihood displacement");
    assert_eq!(h.state().lessons.predicted, None, "a new stop asks afresh");
    h.get_by_label("rises").click();
    fast(&mut h);
    h.get_by_label("Play").click();
    h.run_steps(4);
    assert!(h.query_by_label_contains("It falls").is_some());
    assert!(
        h.query_by_label_contains("not what you predicted")
            .is_some()
    );
    // A question about a "Try this" change waits for it: stop 12 asks
    // about the rpo loss.
    pick_lesson(&mut h, "12 · Remedies for the leak");
    h.get_by_label("falls").click();
    h.run_steps(1);
    assert!(
        h.query_by_label("(press \"loss rpo\" under Try this first)")
            .is_some()
    );
    h.get_by_label("loss rpo").click();
    h.run_steps(2);
    assert_eq!(h.state().settings.loss, dpo_lab::loss::LossName::Rpo);
    fast(&mut h);
    h.get_by_label("Play").click();
    h.run_steps(4);
    assert!(h.query_by_label_contains("It falls").is_some());
    assert!(
        h.query_by_label_contains("your prediction was right")
            .is_some()
    );
}

/// A guided stop on the Derivation tab shows its own section first
/// (squeezing at stop 14), and "Show first" reorders the sections.
#[test]
fn derivation_shows_the_stops_section_first_and_the_row_reorders() {
    let mut h = harness(None);
    h.run_steps(1);
    pick_lesson(&mut h, "14 · Squeezing");
    h.run_steps(2);
    let y = |h: &Harness<'static, DpoLabApp>, label: &str| {
        h.query_all_by_label(label)
            .next()
            .map(|n| n.rect().min.y)
            .unwrap_or(f32::INFINITY)
    };
    let (squeeze, closed) = (
        "Squeezing (Ren & Sutherland 2024)",
        "The closed form, checked live",
    );
    assert!(y(&h, squeeze) < y(&h, closed), "squeezing first at stop 14");
    h.get_by_label("closed form").click();
    h.run_steps(2);
    assert!(
        y(&h, closed) < y(&h, squeeze),
        "closed form first once picked"
    );
    // The next stop on Derivation (4 · The DPO loss) starts at the closed form.
    pick_lesson(&mut h, "4 · The DPO loss");
    assert_eq!(
        h.state().derivation.first,
        crate::app::derivation::Section::ClosedForm
    );
}

/// Stop 6's point is a bar of 0.0002 → 0.0137: the stop opens the bars in
/// log scale, because a pinned focus answer holds under 5 % of the
/// reference; a stop whose focus is large keeps the linear axis.
#[test]
fn a_tiny_focus_answer_opens_the_bars_in_log_scale() {
    let mut h = harness(None);
    h.run_steps(1);
    assert!(!h.state().settings.log_scale, "the first stop is linear");
    pick_lesson(&mut h, &stop_title(5));
    assert_eq!(h.state().session().scenario.name(), "the-the-the");
    let s = &h.state().session().scenario;
    let tiny = s
        .focus_responses
        .iter()
        .any(|&y| s.problem.log_ref[y].exp() < crate::app::TINY_FOCUS);
    assert!(tiny, "the the the is under 5 % of the reference");
    assert!(h.state().settings.log_scale);
    h.run_steps(2);
    assert!(
        painted_texts(&h)
            .iter()
            .any(|(t, _)| t.contains("probability (log scale)")),
        "the bars' axis says log scale"
    );
    pick_lesson(&mut h, &stop_title(9));
    assert_eq!(
        h.state().session().scenario.name(),
        "likelihood-displacement"
    );
    assert!(
        !h.state().settings.log_scale,
        "a large focus keeps the linear axis"
    );
}
