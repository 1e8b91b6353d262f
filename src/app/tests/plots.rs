//! The bars and curves: pinned answers, scales, markers, tooltips.

use super::*;

#[test]
fn focus_responses_are_pinned_and_bars_keep_their_slots_while_playing() {
    let mut h = harness(None);
    h.run_steps(1);
    pick_lesson(&mut h, "6 · \"the the the\"");
    let s = h.state().session();
    let focus: Vec<usize> = ["the the the", "the cat the"]
        .iter()
        .map(|n| s.scenario.problem.space.index_of(n).expect("in space"))
        .collect();
    assert_eq!(h.state().pinned, focus);
    let order = |h: &Harness<'static, DpoLabApp>| {
        h.state()
            .bar_order
            .as_ref()
            .map(|(_, (o, _))| o.clone())
            .expect("drawn")
    };
    assert_eq!(order(&h)[..2], focus[..]);
    assert!(h.query_by_label("1 the the the ×").is_some());
    h.state_mut().settings.sort = crate::app::settings::SortBy::Current;
    h.run_steps(2);
    h.get_by_label("Play").click();
    h.run_steps(2);
    let during = order(&h);
    h.run_steps(10);
    assert!(h.state().playing());
    assert_eq!(
        order(&h),
        during,
        "bars keep their slots while training plays"
    );
    assert_eq!(during[..2], focus[..]);
    // Click a name to pin it: it joins the pinned slots; click to unpin.
    let third = during[2];
    let s = &h.state().session().scenario;
    let out = if s.data.in_data[third] { "" } else { " ×" };
    let label = format!("3 {}{out}", s.problem.space.name(third));
    h.get_by_label(&label).click();
    h.run_steps(2);
    assert_eq!(h.state().pinned, [focus.clone(), vec![third]].concat());
    h.get_by_label(&label).click();
    h.run_steps(2);
    assert_eq!(h.state().pinned, focus);
}

#[test]
fn log_scale_ticks_read_as_probabilities() {
    assert_eq!(crate::app::plots::log_tick(12.0), "1");
    assert_eq!(crate::app::plots::log_tick(11.0), "0.1");
    assert_eq!(crate::app::plots::log_tick(9.0), "1e-3");
    assert_eq!(crate::app::plots::log_tick(0.0), "1e-12");
    assert_eq!(crate::app::plots::log_tick(9.5), "");
    assert_eq!(
        crate::app::plots::log_tick(13.0),
        "",
        "no probability above 1"
    );
}

#[test]
fn a_click_on_a_curve_title_enlarges_it_and_all_curves_goes_back() {
    // A window tall enough for the grid of curves.
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(
            |ui, app: &mut DpoLabApp| app.frame(ui),
            app(Some("length-bias")),
        );
    h.run_steps(2);
    // Sequence spaces add the mean-length curve (lesson 8 talks about it).
    assert!(h.query_by_label("mean length").is_some());
    h.get_by_label("training loss").click();
    h.run_steps(2);
    assert_eq!(h.state().enlarged_curve, Some(3));
    assert!(
        h.query_by_label("OOD mass").is_none(),
        "only the enlarged curve"
    );
    h.get_by_label("All curves").click();
    h.run_steps(2);
    assert_eq!(h.state().enlarged_curve, None);
    assert!(h.query_by_label("OOD mass").is_some());
}

#[test]
fn slow_motion_step_lists_the_pairs_each_run_trained_on() {
    let mut h = harness(None);
    h.run_steps(1);
    pick_lesson(&mut h, "5 · OOD leak");
    h.get_by_label("Step").click();
    h.run_steps(2);
    let s = h.state().session();
    let online = s.run_of(MethodKind::OnlineDpo).expect("on");
    for (b, r) in online.before_step.iter().zip(&s.scenario.problem.log_ref) {
        assert_abs_diff_eq!(*b, *r, epsilon = ROUNDING_ABS);
    }
    let pairs = online.run.last_pairs();
    assert_eq!(pairs.len(), s.scenario.online.batch(), "the sampled batch");
    let label = format!(
        "Last step, online DPO ({} pairs, weight in brackets; marks on the bars show where each bar was)",
        pairs.len()
    );
    assert!(h.query_by_label_contains(&label).is_some(), "{label}");
    // The listed pairs are the batch's, as the annotator ordered them.
    let space = &s.scenario.problem.space;
    let listed = pairs
        .iter()
        .filter(|p| {
            let text = format!(
                "'{}' over '{}'",
                space.name(p.chosen),
                space.name(p.rejected)
            );
            h.query_all_by_label_contains(&text).next().is_some()
        })
        .count();
    assert!(listed > 0, "no pair of the batch is listed");
    // Playing clears the slow-motion view.
    h.get_by_label("Play").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("Last step,").is_none());
}

#[test]
fn hovering_a_bar_shows_its_numbers_in_an_unclipped_tooltip() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut DpoLabApp| app.frame(ui), app(None));
    h.run_steps(1);
    pick_lesson(&mut h, "5 · OOD leak");
    h.run_steps(2);
    // Slot positions from the bars' painted x tick labels "1" and "2" (the
    // first such pair side by side on one line).
    let texts = painted_texts(&h);
    let (one, two) = texts
        .iter()
        .filter(|(t, _)| t == "1")
        .find_map(|(_, p1)| {
            texts
                .iter()
                .find(|(t, p2)| t == "2" && (p2.y - p1.y).abs() < 1.0 && p2.x - p1.x > 50.0)
                .map(|(_, p2)| (*p1, *p2))
        })
        .expect("the bars' x ticks");
    // π_ref is the first of four series: its bar sits left of the slot.
    let series = h.state().session().runs.len() + 2;
    let width = 0.8 / series as f32;
    let x = one.x + (-0.4 + width * 0.5) * (two.x - one.x);
    h.hover_at(egui::pos2(x, one.y - 40.0));
    h.run_steps(2);
    // Slot 1 is the pinned "gibberish"; the first series is π_ref.
    let s = &h.state().session().scenario.problem;
    let y = s.space.index_of("gibberish").expect("in space");
    let text = format!(
        "gibberish  (out of data)\nπ_ref: {:.6}\nimplicit reward β·log(π/π_ref): 0.0000\ntrue reward: {:.4}",
        s.log_ref[y].exp(),
        s.reward[y]
    );
    assert!(h.query_by_label(&text).is_some(), "tooltip {text:?}");
}

/// Colour is never the only cue (issue 12): with every method on, each
/// series' own marker shape is painted in its colour on the bars, the
/// curves and the legend, and no two series share a shape.
#[test]
fn every_series_is_drawn_with_its_own_marker_not_only_its_colour() {
    let mut h = harness(Some("the-the-the"));
    h.run_steps(2);
    {
        let s = &mut h.state_mut().settings;
        s.dpo = true;
        s.online = true;
        s.ipo = true;
        s.rlhf = true;
        s.grpo = true;
        s.rloo = true;
        s.steps = 40;
        s.steps_per_frame = 40;
        s.playback = Playback::PerFrame;
    }
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, crate::app::Command::Rebuild);
    h.get_by_label("Play").click();
    h.run_steps(6);
    assert!(h.state().session().finished());
    let want = |kind: Option<MethodKind>| match dpo_lab::palette::marker(kind) {
        dpo_lab::palette::Marker::Circle => "circle",
        dpo_lab::palette::Marker::Square => "square",
        dpo_lab::palette::Marker::Diamond => "diamond",
        dpo_lab::palette::Marker::Triangle => "triangle up",
        dpo_lab::palette::Marker::TriangleDown => "triangle down",
        dpo_lab::palette::Marker::Plus => "plus",
        dpo_lab::palette::Marker::TriangleRight => "triangle right",
        dpo_lab::palette::Marker::TriangleLeft => "triangle left",
    };
    let kinds = dpo_lab::palette::ALL;
    let painted = painted_markers(&h);
    for kind in kinds {
        let c = crate::app::plots::color(kind);
        let n = painted
            .iter()
            .filter(|(g, col)| *g == want(kind) && *col == c)
            .count();
        // One on every bar (the top K and "rest") and the legend's swatch;
        // the methods' curves add theirs.
        let at_least = h.state().settings.top_k + 2;
        assert!(
            n >= at_least,
            "{kind:?}: {n} {} markers in its colour",
            want(kind)
        );
    }
    let shapes: std::collections::BTreeSet<&str> = kinds.iter().map(|&k| want(k)).collect();
    assert_eq!(shapes.len(), kinds.len(), "one shape per series");
}
