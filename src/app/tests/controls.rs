//! Sliders, pickers, shortcuts and settings changes.

use super::*;

#[test]
fn keyboard_shortcuts_play_step_and_reset() {
    let mut h = harness(None);
    h.run_steps(1);
    h.key_press(egui::Key::S);
    h.run_steps(1);
    assert_eq!(h.state().session().runs[0].run.steps_done(), 1);
    h.key_press(egui::Key::Space);
    h.run_steps(5);
    assert!(h.state().playing());
    h.key_press(egui::Key::Space);
    h.run_steps(1);
    assert!(!h.state().playing());
    h.key_press(egui::Key::R);
    h.run_steps(1);
    assert_eq!(h.state().session().runs[0].run.steps_done(), 0);
}

#[test]
fn beta_slider_moves_pi_star_instantly() {
    let mut h = harness(None);
    h.run_steps(1);
    let before = h.state().session().optimum.log_policy.clone();
    slider(&h, "β (KL weight)").set_value_accesskit(0.01);
    h.run_steps(2);
    let s = h.state().session();
    assert_abs_diff_eq!(s.optimum.beta, 0.01, epsilon = IDENTITY_ABS);
    assert_ne!(before, s.optimum.log_policy);
    // Small β: π* sits on the best answer.
    assert!(s.optimum.log_policy[0].exp() > 0.99);
}

#[test]
fn every_slider_to_its_extremes_never_panics() {
    for lesson in [0, 5, 7] {
        let mut h = harness(None);
        h.run_steps(1);
        pick_lesson(&mut h, &stop_title(lesson));
        for label in [
            "β (KL weight)",
            "learning rate",
            "total steps",
            "per run",
            "steps / frame",
            "seed",
            "resample every",
            "bars shown",
        ] {
            // The steps-per-frame slider shows when that pace is chosen.
            if label == "steps / frame" {
                per_frame(&mut h, 5);
                h.run_steps(1);
            }
            for value in [-1e12, 1e12, f64::NAN] {
                slider(&h, label).set_value_accesskit(value);
                h.run_steps(1);
                h.key_press(egui::Key::S);
                h.run_steps(2);
            }
        }
        h.get_by_label("Play").click();
        h.run_steps(10);
        // Whatever the sliders asked for, the app holds settings the
        // library accepts (a refused one is undone with a message), and
        // every run on screen is a probability distribution.
        let mut raw = h.state().session().scenario.raw.clone();
        h.state().settings.apply_to(&mut raw);
        assert!(
            dpo_lab::scenario::Scenario::check(raw).is_ok(),
            "the app kept settings the library refuses"
        );
        for r in &h.state().session().runs {
            let total: f64 = r.log_probs.iter().map(|l| l.exp()).sum();
            // At the sliders' extremes (lr up to 1e6) logits reach ~1e8,
            // where one ulp is ~1e-8: Σ π is exact to that, not to 1e-9.
            assert!((total - 1.0).abs() < 1e-6, "Σ π = {total}");
            assert_eq!(
                r.log_probs.len(),
                h.state().session().scenario.problem.len()
            );
        }
    }
}

#[test]
fn a_rejected_setting_is_undone_with_a_message() {
    // A flat log-linear policy needs features the ood-leak file does not give.
    let mut h = harness(Some("ood-leak"));
    h.run_steps(1);
    h.state_mut().settings.policy = dpo_lab::policy::PolicyClass::Loglinear;
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, crate::app::Command::Rebuild);
    h.run_steps(1);
    let status = h.state().message().expect("message").clone();
    assert!(
        status.is_error() && status.text().contains("policy.features"),
        "{status:?}"
    );
    assert_eq!(
        h.state().settings.policy,
        dpo_lab::policy::PolicyClass::Tabular
    );
    assert!(h.query_by_label_contains("change undone").is_some());
}

#[test]
fn data_size_and_solution_set_sliders_to_their_extremes() {
    let mut h = harness(None);
    h.run_steps(1);
    // Sampled data shows the "pairs drawn" slider.
    pick_lesson(&mut h, &stop_title(6));
    for value in [-1e12, 1e12, f64::NAN, 1.0] {
        slider(&h, "pairs drawn").set_value_accesskit(value);
        h.run_steps(2);
    }
    h.key_press(egui::Key::S);
    h.run_steps(2);
    // The solution-set slider on the derivation tab.
    pick_lesson(&mut h, &stop_title(5));
    h.get_by_label("Derivation").click();
    h.run_steps(2);
    for value in [-1e12, 1e12, f64::NAN, 0.95] {
        slider(&h, "move t onto out-of-data responses").set_value_accesskit(value);
        h.run_steps(2);
    }
    let shift = h.state().derivation.shift;
    assert!((0.0..=0.95).contains(&shift), "{shift}");
}

#[test]
fn a_multi_prompt_scenario_lets_the_user_pick_the_prompt_shown() {
    // The app trained only the first prompt and never said so.
    let path =
        std::env::temp_dir().join(format!("dpo-lab-two-prompts-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        r#"
name = "two-prompts"
[space]
responses = ["A", "B", "C"]
[reference]
probs = [0.5, 0.3, 0.2]
[reward]
values = [1.0, 0.0, -1.0]
[[prompts]]
name = "second"
reference = { probs = [0.2, 0.3, 0.5] }
reward = { values = [-1.0, 2.0, 0.0] }
"#,
    )
    .expect("write scenario");
    let mut h = harness(Some(path.to_str().expect("utf-8 path")));
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("prompt 1 of 2: prompt 1")
            .is_some()
    );
    h.get_by_label("prompt").click();
    h.run_steps(2);
    h.get_by_label("prompt 2 of 2: second").click();
    h.run_steps(3);
    let s = h.state().session();
    assert_eq!(s.scenario.focused_prompt(), 1);
    // What is shown is the second prompt's problem: its reference.
    assert_abs_diff_eq!(
        s.scenario.problem.log_ref[0].exp(),
        0.2,
        epsilon = ROUNDING_ABS
    );
    assert!(
        h.query_by_label_contains("· prompt 2 of 2: second")
            .is_some()
    );
}

#[test]
fn the_loss_picker_offers_every_loss_and_retrains_with_it() {
    use strum::IntoEnumIterator;
    let mut h = harness(Some("ood-leak"));
    h.run_steps(1);
    for loss in dpo_lab::loss::LossName::iter() {
        let name: &str = loss.into();
        h.state_mut().settings.loss = loss;
        let ctx = h.ctx.clone();
        h.state_mut().apply(&ctx, crate::app::Command::Rebuild);
        h.run_steps(1);
        assert_eq!(h.state().session().scenario.train.loss().name(), name);
        assert!(
            h.state().message().is_none_or(|m| !m.is_error()),
            "{name}: {:?}",
            h.state().message()
        );
    }
    // The picker itself is on screen with the current loss.
    assert!(h.query_by_label("loss").is_some());
}

/// Moving β in lesson 1 to 300 made DPO oscillate with loss ~20,000 and
/// never reach π*: with lr·β² kept (the default) it converges there too.
#[test]
fn moving_beta_keeps_the_effective_step_and_still_converges() {
    let mut h = harness(None);
    h.run_steps(1);
    let (lr0, b0) = (h.state().settings.lr, h.state().settings.beta);
    slider(&h, "β (KL weight)").set_value_accesskit(300.0);
    h.run_steps(2);
    let s = &h.state().settings;
    let expected = lr0 * (b0 / s.beta).powi(2);
    assert!(
        (s.lr - expected).abs() <= IDENTITY_ABS * expected,
        "lr {} vs {expected}",
        s.lr
    );
    assert!(h.query_by_label_contains("effective step").is_some());
    fast(&mut h);
    h.get_by_label("Play").click();
    for _ in 0..200 {
        h.run_steps(1);
        if !h.state().playing() {
            break;
        }
    }
    let run = &h.state().session().runs[0];
    assert!(
        run.metrics.kl_to_optimal < dpo_lab::tolerance::CONVERGED_KL,
        "KL(π‖π*) = {}",
        run.metrics.kl_to_optimal
    );
}

#[test]
fn a_settings_change_keeps_the_previous_runs_as_a_ghost_and_says_what_was_reset() {
    let mut h = harness(None);
    h.run_steps(2);
    per_frame(&mut h, 100);
    h.get_by_label("Play").click();
    h.run_steps(5);
    let before = h
        .state()
        .session()
        .run_of(MethodKind::Dpo)
        .expect("on")
        .log_probs
        .clone();
    h.state_mut().settings.beta = 0.5;
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, crate::app::Command::Rebuild);
    h.run_steps(2);
    let ghost = h.state().ghost.as_ref().expect("ghost kept");
    assert_eq!(ghost.what, "β 1 to 0.5");
    let g = ghost
        .runs
        .iter()
        .find(|r| r.kind == MethodKind::Dpo)
        .expect("DPO ghost");
    assert_eq!(g.log_probs, before, "the ghost is the run as it stood");
    assert!(!g.history.is_empty());
    let msg = h
        .state()
        .message
        .as_ref()
        .expect("message")
        .text()
        .to_string();
    assert!(
        msg.contains("β 1 to 0.5") && msg.contains("restarted"),
        "{msg}"
    );
    assert!(h.query_by_label("faded: before β 1 to 0.5").is_some());
    // The new runs start from π_ref; Reset keeps the ghost.
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, crate::app::Command::Reset);
    assert!(h.state().ghost.is_some());
    // Hidden with its checkbox; a new lesson clears it.
    h.get_by_label("previous run").click();
    h.run_steps(2);
    assert!(h.query_by_label("faded: before β 1 to 0.5").is_none());
    pick_lesson(&mut h, &stop_title(4));
    assert!(h.state().ghost.is_none());
}

/// The view buttons stay together (issue 12: "A+ moves when the toolbar
/// re-wraps"): at 1024×768 and 1280×720, at every zoom from 1.0 to 1.9,
/// A−, A+ and Help share one row, and pressing A+ again and again moves
/// the group off the first row at most once (never back and forth).
#[test]
fn the_zoom_buttons_stay_together_as_the_text_grows() {
    for (w, hgt) in [(1024.0, 768.0), (1280.0, 720.0)] {
        let mut h = Harness::builder()
            .with_size(egui::vec2(w, hgt))
            .build_ui_state(|ui, app: &mut DpoLabApp| app.frame(ui), app(None));
        h.run_steps(3);
        let mut on_first_row = Vec::new();
        for _ in 0..10 {
            let y = |label: &str| h.get_by_label(label).rect().center().y;
            let (minus, plus, help, title) = (y("A−"), y("A+"), y("Help"), y("DPO Lab"));
            assert!(
                (minus - plus).abs() < 1.0 && (plus - help).abs() < 1.0,
                "{w}×{hgt} zoom {}: A− {minus}, A+ {plus}, Help {help}",
                h.state().settings.zoom
            );
            on_first_row.push((plus - title).abs() < 1.0);
            h.get_by_label("A+").click();
            h.run_steps(3);
        }
        let moves = on_first_row.windows(2).filter(|p| p[0] != p[1]).count();
        assert!(
            moves <= 1,
            "{w}×{hgt}: first row at each zoom {on_first_row:?}"
        );
        assert!(
            on_first_row.windows(2).all(|p| p[0] || !p[1]),
            "{w}×{hgt}: the group came back up {on_first_row:?}"
        );
    }
}
