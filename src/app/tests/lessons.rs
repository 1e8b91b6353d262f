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

/// Lesson 9's 5,000 steps were still at 4,280 after 40 s: the default pace
/// now plays every lesson in about 300 frames, and "as fast as 60 fps
/// allows" trains as many steps as fit in each frame's budget.
#[test]
fn lessons_play_through_in_a_few_hundred_frames() {
    for lesson in [8, 6] {
        let mut h = harness(None);
        h.run_steps(1);
        pick_lesson(&mut h, &stop_title(lesson));
        let s = &h.state().settings;
        assert!(
            s.steps_per_frame as u64 * 300 >= s.steps.min(300_000),
            "{} per frame for {} steps",
            s.steps_per_frame,
            s.steps
        );
        h.state_mut().settings.fast = true;
        h.get_by_label("Play").click();
        h.run_steps(1);
        assert!(h.state().playing());
        let mut frames = 1;
        while h.state().playing() && frames < 2000 {
            h.run_steps(1);
            frames += 1;
        }
        assert!(
            h.state().session().finished(),
            "{}: not finished after {frames} frames",
            &stop_title(lesson)
        );
    }
}

#[test]
fn try_this_buttons_change_the_setting_and_keep_the_previous_run() {
    let mut h = harness(None);
    h.run_steps(1);
    pick_lesson(&mut h, "5 · OOD leak");
    h.state_mut().settings.steps_per_frame = 100;
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
    h.state_mut().settings.steps_per_frame = 400;
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
    h.state_mut().settings.steps_per_frame = 400;
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
    h.state_mut().settings.steps_per_frame = 400;
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
/// log scale, because a pinned focus answer holds under 2 % of the
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
        .any(|&y| s.problem.log_ref[y].exp() < 0.02);
    assert!(tiny, "the the the is under 2 % of the reference");
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
