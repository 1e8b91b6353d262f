//! Projector layouts, Present mode, help.

use super::*;

/// The projector check (issue 12): at 1024×768 and 1280×720, zoom 1.0,
/// 1.25 and 1.5, every guided stop's own tab draws its key labels on screen without
/// scrolling — the pinned focus responses, the legend, every curve's
/// title — and every plot keeps at least two readable tick labels per
/// axis. Set DPO_LAB_PROJECTOR_SHOTS=1 to also write the screenshots under
/// assets/projector/ (software rendering), DPO_LAB_PROJECTOR_DIR=D to write
/// every stop's into D.
#[test]
fn projector_layouts_keep_every_label_on_screen() {
    let shots = std::env::var_os("DPO_LAB_PROJECTOR_SHOTS").is_some();
    let mut failures = Vec::new();
    for (w, hgt) in [(1024.0, 768.0), (1280.0, 720.0)] {
        // DPO_LAB_PROJECTOR_ZOOMS="1.75,2": other zoom levels, to explore.
        let zooms: Vec<f32> = std::env::var("DPO_LAB_PROJECTOR_ZOOMS").map_or_else(
            |_| vec![1.0, 1.25, 1.5],
            |z| z.split(',').filter_map(|v| v.trim().parse().ok()).collect(),
        );
        for zoom in zooms {
            let builder = Harness::builder()
                .with_size(egui::vec2(w, hgt))
                .with_step_dt(1.0 / 60.0);
            let builder = if shots { builder.wgpu() } else { builder };
            let mut h = builder.build_ui_state(|ui, app: &mut DpoLabApp| app.frame(ui), app(None));
            h.run_steps(1);
            for (i, stop) in stops().iter().enumerate() {
                let lesson = &stop.lesson;
                // Straight to the stop (at zoom 2 the picker's list is
                // longer than the window and scrolls).
                let ctx = h.ctx.clone();
                h.state_mut().apply(&ctx, crate::app::Command::Guided(i));
                h.run_steps(2);
                h.state_mut().settings.zoom = zoom;
                fast(&mut h);
                if !h.state().session().runs.is_empty() {
                    h.get_by_label("Play").click();
                }
                h.run_steps(4);
                wait_for_experiment(&mut h);
                h.run_steps(2);
                // What is visible: the window above the status bar.
                let mut screen = h.ctx.content_rect();
                if let Some(status) = h.query_all_by_label_contains(" responses · ").next() {
                    screen.max.y = status.rect().min.y;
                }
                let at = format!("{w}×{hgt} zoom {zoom}, {}", stop.display_title());
                let mut fail = |what: String| failures.push(format!("{at}: {what}"));
                let on_screen = |r: egui::Rect| screen.expand(1.0).contains_rect(r);
                let texts = painted_texts(&h);
                // Nothing spills past the window.
                for t in texts_past_edge(&h, h.ctx.content_rect()) {
                    fail(format!("text past the window's edge: {t}"));
                }
                // The stop opens on its own tab, with the toolbar and the
                // lesson strip in at most a quarter of the height (at zoom
                // 1; zoomed, Present keeps to it: its own test).
                if h.state().settings.tab != lesson.tab {
                    fail(format!("opened on {:?}", h.state().settings.tab));
                }
                let quarter = h.ctx.content_rect().height() / 4.0;
                if zoom == 1.0 && h.state().toolbar_height > quarter {
                    fail(format!(
                        "toolbar and strip {:.0} points tall, over a quarter ({quarter:.0})",
                        h.state().toolbar_height
                    ));
                }
                // A small focus answer (opened in log scale) is seen at a
                // glance: its bar is 20 pixels or more. (Where the focus is
                // large, its fall may be the point, as at stop 10.)
                if lesson.tab == crate::app::settings::Tab::Overview
                    && h.state().settings.log_scale
                    && let Some(px) = h.state().focus_bar.map(|p| p * h.ctx.pixels_per_point())
                    && px < 20.0
                {
                    fail(format!("the focus answer's bar is {px:.1} px tall"));
                }
                // Results shown are this scenario's.
                if lesson.tab == crate::app::settings::Tab::Experiments {
                    let name = h.state().session().scenario.name().to_string();
                    if h.query_by_label_contains(&format!("Computed on {name} at"))
                        .is_none()
                    {
                        fail(format!("no result computed on {name}"));
                    }
                }
                if lesson.tab == crate::app::settings::Tab::Overview {
                    let s = &h.state().session().scenario;
                    for &y in &s.focus_responses {
                        let out = if s.data.in_data[y] { "" } else { " ×" };
                        let k = h
                            .state()
                            .pinned
                            .iter()
                            .position(|&p| p == y)
                            .expect("pinned");
                        let name = format!("{} {}{out}", k + 1, s.problem.space.name(y));
                        match h.query_by_label(&name) {
                            Some(n) if on_screen(n.rect()) => {}
                            n => fail(format!(
                                "pinned {name:?} not on screen: {:?} in {screen:?}",
                                n.map(|n| n.rect())
                            )),
                        }
                    }
                    let legend: Vec<String> = h
                        .state()
                        .session()
                        .runs
                        .iter()
                        .map(|r| crate::app::session::method_label(r.kind).to_string())
                        .collect();
                    for l in legend {
                        // The legend's entry, not the Methods checkbox of
                        // the same name (which may be scrolled away).
                        if !h.query_all_by_label(&l).any(|n| on_screen(n.rect())) {
                            fail(format!("legend {l:?} not on screen"));
                        }
                    }
                    // The bars: y ticks between the legend row and the names.
                    let top = h
                        .query_by_label("(hover a bar for its numbers)")
                        .map(|n| n.rect().max.y);
                    let first = h
                        .state()
                        .bar_order
                        .as_ref()
                        .map(|(_, (o, _))| o[0])
                        .expect("bars");
                    let out = if s.data.in_data[first] { "" } else { " ×" };
                    let first_name = format!("1 {}{out}", s.problem.space.name(first));
                    let bottom = h.query_by_label(&first_name).map(|n| n.rect().min.y);
                    if let (Some(top), Some(bottom)) = (top, bottom) {
                        let area = egui::Rect::from_x_y_ranges(screen.x_range(), top..=bottom);
                        let t = ticks_in(&texts, area);
                        if t.len() < 4 {
                            fail(format!("bars have too few tick labels: {t:?}"));
                        }
                    } else {
                        fail("bars' legend or names missing".into());
                    }
                    // Every curve: its title on screen, and ticks under it
                    // (in a small window one curve is shown, at full size:
                    // its ticks are checked under the row of titles).
                    let compact = h.query_by_label("(click a title to enlarge it)").is_none();
                    let titles: &[&str] = if compact {
                        &["OOD mass"]
                    } else {
                        &[
                            "OOD mass",
                            "expected true reward",
                            "KL(π || π_ref)",
                            "training loss",
                        ]
                    };
                    let rects: Vec<egui::Rect> = titles
                        .iter()
                        .filter_map(|t| h.query_by_label(t).map(|n| n.rect()))
                        .collect();
                    if rects.len() < titles.len() {
                        fail(format!(
                            "curve titles missing ({} of {})",
                            rects.len(),
                            titles.len()
                        ));
                    }
                    for (k, r) in rects.iter().enumerate() {
                        if !on_screen(*r) {
                            fail(format!("curve {:?} off screen at {r:?}", titles[k]));
                            continue;
                        }
                        let right = rects.get(k + 1).map_or(screen.max.x, |n| {
                            if n.min.x > r.min.x {
                                n.min.x
                            } else {
                                screen.max.x
                            }
                        });
                        let area = if compact {
                            egui::Rect::from_min_max(egui::pos2(r.min.x - 4.0, r.max.y), screen.max)
                        } else {
                            egui::Rect::from_min_max(
                                egui::pos2(r.min.x - 4.0, r.max.y),
                                egui::pos2(right, (r.max.y + 160.0).min(screen.max.y)),
                            )
                        };
                        let t = ticks_in(&texts, area);
                        if t.len() < if compact { 4 } else { 3 } {
                            fail(format!(
                                "curve {:?} has too few tick labels: {t:?}",
                                titles[k]
                            ));
                        }
                    }
                } else if lesson.tab == crate::app::settings::Tab::Frontier {
                    let t = ticks_in(&texts, screen);
                    if t.len() < 4 {
                        fail(format!("reward–KL plot has too few tick labels: {t:?}"));
                    }
                } else {
                    // The other tabs: what the stop is about on screen, and
                    // the plot between `top` and `bottom` with its ticks.
                    let (must, plot): (&[&str], Option<(&str, &str)>) = match lesson.tab {
                        crate::app::settings::Tab::Derivation => match lesson.derivation {
                            crate::app::derivation::Section::Squeezing => (
                                &[
                                    "Squeezing (Ren & Sutherland 2024)",
                                    "rare (rejected)",
                                    "top",
                                ][..],
                                None,
                            ),
                            _ => (&["β·KL(π||π*)", "The DPO loss of one pair"][..], None),
                        },
                        crate::app::settings::Tab::Compare => (
                            &["offline-vs-online (this run)", "win", "loss"][..],
                            Some(("(online DPO against offline DPO):", "step")),
                        ),
                        _ if lesson.experiment
                            == Some(crate::app::experiments::Experiment::Remedies) =>
                        {
                            (&["dpo:rpo", "dpo:dpop", "online-dpo", "rlhf"][..], None)
                        }
                        _ if lesson.experiment
                            == Some(crate::app::experiments::Experiment::Resampling) =>
                        {
                            (
                                &["KL(π || π*)", "mass never drawn", "never drawn"][..],
                                Some(("mass never drawn", "resample every K steps")),
                            )
                        }
                        _ => (
                            &["N = 30", "N = 3000", "gold", "proxy"][..],
                            Some(("N = 3000", "d = √KL(π || π_ref)")),
                        ),
                    };
                    for m in must {
                        if !h.query_all_by_label(m).any(|n| on_screen(n.rect())) {
                            fail(format!("{m:?} not on screen"));
                        }
                    }
                    if let Some((top, bottom)) = plot {
                        let top = texts.iter().find(|(t, _)| t == top).map(|(_, p)| p.y);
                        let bottom = texts.iter().find(|(t, _)| t == bottom).map(|(_, p)| p.y);
                        match (top, bottom) {
                            (Some(a), Some(b)) if a < b && b <= screen.max.y => {
                                let area = egui::Rect::from_x_y_ranges(screen.x_range(), a..=b);
                                let t = ticks_in(&texts, area);
                                if t.len() < 5 {
                                    fail(format!("plot has too few tick labels: {t:?}"));
                                }
                            }
                            other => {
                                fail(format!("plot's legend or axis label missing: {other:?}"))
                            }
                        }
                    }
                }
                // DPO_LAB_PROJECTOR_DIR=somewhere: every stop's shot there
                // (to look at, not committed).
                if let Some(dir) = std::env::var_os("DPO_LAB_PROJECTOR_DIR") {
                    let dir = std::path::Path::new(&dir);
                    std::fs::create_dir_all(dir).expect("dir");
                    let file = dir.join(format!(
                        "stop{:02}-{}x{}-zoom{}.png",
                        i + 1,
                        w as u32,
                        hgt as u32,
                        zoom
                    ));
                    h.render().expect("renderer").save(file).expect("png");
                }
                if shots && matches!(i, 5 | 9) {
                    let dir =
                        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/projector");
                    std::fs::create_dir_all(&dir).expect("dir");
                    let file = dir.join(format!(
                        "stop{}-{}x{}-zoom{}.png",
                        i + 1,
                        w as u32,
                        hgt as u32,
                        zoom
                    ));
                    h.render().expect("renderer").save(file).expect("png");
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn nice_grid_labels_a_one_two_five_step_that_fits() {
    // 0.19 over about 100 points: labels every 0.05 (26 points apart).
    let marks = crate::app::plots::nice_grid(egui_plot::GridInput {
        bounds: (-0.01, 0.18),
        base_step_size: 0.015,
    });
    let step = |v: f64| {
        marks
            .iter()
            .find(|m| (m.value - v).abs() < 1e-9)
            .map(|m| m.step_size)
    };
    assert_eq!(step(0.05), Some(0.05));
    assert_eq!(step(0.15), Some(0.05));
    assert_eq!(step(0.0), Some(0.5));
    assert_eq!(step(0.01), None, "0.005 would be finer than egui's grid");
    // -4 … 1 over 60 points: labels every 2.
    let marks = crate::app::plots::nice_grid(egui_plot::GridInput {
        bounds: (-4.0, 1.0),
        base_step_size: 0.67,
    });
    let labelled: Vec<f64> = marks
        .iter()
        .filter(|m| m.step_size >= 2.0)
        .map(|m| m.value)
        .collect();
    assert_eq!(labelled, vec![-4.0, -2.0, 0.0]);
    // Levels nest: every mark lies on the finest one.
    let finest = marks
        .iter()
        .map(|m| m.step_size)
        .fold(f64::INFINITY, f64::min);
    assert!(
        marks
            .iter()
            .all(|m| (m.value / finest - (m.value / finest).round()).abs() < 1e-6)
    );
}

/// Stop 6's point is "the the the" leaving 0.0002 for 0.0137: at
/// 1024×768 its bar is at least 20 pixels tall, with its ratio written on
/// the plot, in the normal view and in Present (where the key curve sits
/// beside it and the toolbar keeps to a quarter of the height).
#[test]
fn stop_6_shows_its_focus_bar_and_ratio_in_both_views() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1024.0, 768.0))
        .with_step_dt(1.0 / 60.0)
        .build_ui_state(|ui, app: &mut DpoLabApp| app.frame(ui), app(None));
    h.run_steps(1);
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, crate::app::Command::Guided(5));
    h.run_steps(2);
    fast(&mut h);
    play_to_end(&mut h, u32::MAX);
    h.run_steps(2);
    let s = h.state().session();
    let y = s.scenario.focus_responses[0];
    let run = s.runs.first().expect("offline DPO");
    let ratio = format!(
        "'{}' {}",
        s.scenario.problem.space.name(y),
        dpo_lab::numerics::ratio((run.log_probs[y] - s.scenario.problem.log_ref[y]).exp())
    );
    for present in [false, true] {
        if present {
            h.get_by_label("Present").click();
            h.run_steps(3);
        }
        let px = h.state().focus_bar.expect("focus bar drawn") * h.ctx.pixels_per_point();
        eprintln!(
            "present {present}: focus bar {px:.0} px, toolbar {:.0} of {:.0} points",
            h.state().toolbar_height,
            h.ctx.content_rect().height()
        );
        assert!(px >= 20.0, "present {present}: the focus bar is {px:.1} px");
        assert!(
            painted_texts(&h).iter().any(|(t, _)| *t == ratio),
            "present {present}: {ratio} on the plot"
        );
        let quarter = h.ctx.content_rect().height() / 4.0;
        assert!(
            h.state().toolbar_height <= quarter,
            "present {present}: toolbar {} > {quarter}",
            h.state().toolbar_height
        );
    }
    let key = crate::app::curves::curve_titles(h.state().session())
        .into_iter()
        .find(|(c, _)| *c == stops()[5].lesson.key_curve)
        .expect("stop 6's key curve is drawn")
        .1;
    assert!(h.query_all_by_label_contains(key).next().is_some());
}

#[test]
fn presenter_mode_hides_the_controls_and_enlarges_the_text() {
    let mut h = harness(None);
    h.run_steps(2);
    assert!(h.query_by_label("OOD mass").is_some());
    assert!(h.query_by_label("Training").is_some());
    h.get_by_label("Present").click();
    h.run_steps(3);
    assert!(h.state().settings.zoom >= 1.5);
    assert!(h.query_by_label("Training").is_none(), "side panel hidden");
    // A slide: the bars and the stop's key curve (stop 1: the expected
    // true reward), nothing else.
    let key = crate::app::curves::curve_titles(h.state().session())
        .into_iter()
        .find(|(c, _)| *c == stops()[0].lesson.key_curve)
        .expect("stop 1's key curve is drawn")
        .1;
    assert!(
        h.query_all_by_label_contains(key).next().is_some(),
        "the key curve {key:?} beside the bars"
    );
    assert!(h.query_by_label("1 concise and correct").is_some());
    h.get_by_label("Leave presenter").click();
    h.run_steps(3);
    assert_eq!(h.state().settings.zoom, 1.0);
    assert!(h.query_by_label("Training").is_some());
    // F11 toggles it too.
    h.key_press(egui::Key::F11);
    h.run_steps(2);
    assert!(h.state().presenter.is_some());
}

#[test]
fn help_shows_the_glossary_and_the_shortcuts() {
    let mut h = harness(None);
    h.run_steps(2);
    h.get_by_label("Help").click();
    h.run_steps(4);
    for (_, meaning) in crate::app::help::GLOSSARY {
        assert!(
            h.query_by_label(meaning).is_some(),
            "{meaning:?} in the glossary"
        );
    }
    assert!(h.query_by_label("F11 or P").is_some());
    // The key to every series' marker and line, with the OOD mark.
    assert!(h.query_by_label("Series:").is_some());
    assert!(h.query_all_by_label("IPO").count() >= 1);
    assert!(h.query_all_by_label("× = out of the data").count() >= 1);
    h.get_by_label("Help").click();
    h.run_steps(2);
    assert!(h.query_by_label("F11 or P").is_none());
}
