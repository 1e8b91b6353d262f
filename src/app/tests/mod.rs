//! The real app driven through egui_kittest's accessibility queries: choose
//! a lesson, press Play, advance frames, and check that the state and the
//! displayed numbers change as the lesson says; drag every slider to its
//! extremes; load a broken file. Time is fixed per step, so runs are
//! deterministic.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use dpo_lab::method::MethodKind;

use super::DpoLabApp;
use super::settings::Playback;
use approx::assert_abs_diff_eq;
pub(super) use dpo_lab::lesson::Stop;
use dpo_lab::tolerance::{IDENTITY_ABS, ROUNDING_ABS};

mod controls;
mod experiments;
mod files;
mod lessons;
mod plots;
mod projector;

/// Updates one frame may train in tests: a count, never a clock, so what a
/// test sees does not depend on how fast or busy the machine is.
const TEST_BUDGET: super::FrameBudget = super::FrameBudget::Updates(200);

/// The app as the window opens it, but training a fixed number of updates
/// per frame.
fn app(scenario: Option<&str>) -> DpoLabApp {
    DpoLabApp::new(scenario).with_budget(TEST_BUDGET)
}

fn harness(scenario: Option<&str>) -> Harness<'static, DpoLabApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .with_step_dt(1.0 / 60.0)
        .build_ui_state(|ui, app: &mut DpoLabApp| app.frame(ui), app(scenario))
}

/// Plays at a fixed `n` updates a frame (the default paces by time).
fn per_frame(h: &mut Harness<'static, DpoLabApp>, n: usize) {
    let s = &mut h.state_mut().settings;
    s.playback = Playback::PerFrame;
    s.steps_per_frame = n;
}

/// Plays as fast as the frame budget allows (200 updates a frame in tests).
fn fast(h: &mut Harness<'static, DpoLabApp>) {
    h.state_mut().settings.playback = Playback::Fast;
}

/// Presses Play and runs frames until the runs stop (at most `max`
/// frames); returns the frames run.
fn play_to_end(h: &mut Harness<'static, DpoLabApp>, max: u32) -> u32 {
    h.get_by_label("Play").click();
    h.run_steps(1);
    let mut frames = 1;
    while h.state().playing() && frames < max {
        h.run_steps(1);
        frames += 1;
    }
    frames
}

fn slider<'a>(h: &'a Harness<'static, DpoLabApp>, label: &'a str) -> egui_kittest::Node<'a> {
    h.get_by_role_and_label(egui::accesskit::Role::Slider, label)
}

/// The guided order, as the app reads it from the scenario files.
fn stops() -> Vec<Stop> {
    dpo_lab::lesson::guided().expect("the built-in lessons check")
}

/// Stop `i`'s title as the picker shows it ("7 · Online DPO").
fn stop_title(i: usize) -> String {
    stops()[i].display_title()
}

fn pick_lesson(h: &mut Harness<'static, DpoLabApp>, title: &str) {
    h.get_by_label("Lesson").click();
    h.run_steps(2);
    h.get_by_label(title).click();
    h.run_steps(2);
    let want = stops()
        .iter()
        .position(|s| s.display_title() == title)
        .expect("a guided stop");
    assert_eq!(h.state().lessons.current, Some(want), "picked {title}");
}

/// Runs frames (20 ms apart) while `busy` holds, failing with `what` after
/// `secs` seconds: for the app's background threads.
fn run_while(
    h: &mut Harness<'static, DpoLabApp>,
    secs: u64,
    what: &str,
    busy: impl Fn(&DpoLabApp) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while busy(h.state()) {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.run_steps(1);
    }
}

/// Runs frames until the Experiments tab's background job is done.
fn wait_for_experiment(h: &mut Harness<'static, DpoLabApp>) {
    run_while(h, 300, "experiment still running", |app| {
        app.experiments.busy()
    });
    h.run_steps(2);
}

/// Every text the last frame painted, with its centre (points).
fn painted_texts(h: &Harness<'static, DpoLabApp>) -> Vec<(String, egui::Pos2)> {
    fn walk(shape: &egui::Shape, out: &mut Vec<(String, egui::Pos2)>) {
        match shape {
            egui::Shape::Text(t) => {
                let r = t.galley.rect.translate(t.pos.to_vec2());
                out.push((t.galley.text().to_string(), r.center()));
            }
            egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for c in &h.output().shapes {
        walk(&c.shape, &mut out);
    }
    out
}

/// Texts the last frame painted (visibly, inside their clip) past the
/// right or bottom edge of `screen`.
fn texts_past_edge(h: &Harness<'static, DpoLabApp>, screen: egui::Rect) -> Vec<String> {
    fn walk(shape: &egui::Shape, clip: egui::Rect, screen: egui::Rect, out: &mut Vec<String>) {
        match shape {
            egui::Shape::Text(t) => {
                let r = t.galley.rect.translate(t.pos.to_vec2()).intersect(clip);
                let visible = r.is_positive() && !t.galley.text().trim().is_empty();
                if visible && (r.max.x > screen.max.x + 1.0 || r.max.y > screen.max.y + 1.0) {
                    out.push(format!("{:?} at {r:?}", t.galley.text()));
                }
            }
            egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, clip, screen, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for c in &h.output().shapes {
        walk(&c.shape, c.clip_rect, screen, &mut out);
    }
    out
}

/// Tick-like texts (numbers, "1e-4") painted inside `area`.
fn ticks_in(texts: &[(String, egui::Pos2)], area: egui::Rect) -> Vec<String> {
    let mut t: Vec<String> = texts
        .iter()
        .filter(|(s, p)| area.contains(*p) && s.trim().parse::<f64>().is_ok())
        .map(|(s, _)| s.clone())
        .collect();
    t.sort();
    t.dedup();
    t
}

/// The painted markers of one frame: (geometry, colour) of every filled
/// circle, filled convex polygon (by its corner count and which way it
/// points) and line segment.
fn painted_markers(h: &Harness<'static, DpoLabApp>) -> Vec<(&'static str, egui::Color32)> {
    fn polygon(pts: &[egui::Pos2]) -> &'static str {
        let (lo, hi) = pts
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), p| {
                (a.min(p.y), b.max(p.y))
            });
        let near = |y: f32, v: f32| (y - v).abs() < 0.25;
        let at_top = pts.iter().filter(|p| near(p.y, lo)).count();
        let at_bottom = pts.iter().filter(|p| near(p.y, hi)).count();
        match (pts.len(), at_top, at_bottom) {
            (3, 1, 2) => "triangle up",
            (3, 2, 1) => "triangle down",
            (4, 2, 2) => "square",
            (4, 1, 1) => "diamond",
            // A point sideways: its apex is the vertex in the middle.
            (3, 1, 1) => {
                let apex = pts
                    .iter()
                    .find(|p| !near(p.y, lo) && !near(p.y, hi))
                    .map_or(0.0, |p| p.x);
                if pts.iter().all(|p| p.x <= apex + 0.01) {
                    "triangle right"
                } else {
                    "triangle left"
                }
            }
            _ => "other",
        }
    }
    fn walk(shape: &egui::Shape, out: &mut Vec<(&'static str, egui::Color32)>) {
        match shape {
            egui::Shape::Circle(c) if c.fill.a() > 0 => out.push(("circle", c.fill)),
            egui::Shape::Rect(r) if r.fill.a() > 0 => out.push(("square", r.fill)),
            egui::Shape::Path(p) if p.closed && p.fill.a() > 0 => {
                out.push((polygon(&p.points), p.fill));
            }
            egui::Shape::LineSegment { points, stroke } => {
                let d = points[1] - points[0];
                let kind = if d.x.abs() < 0.01 || d.y.abs() < 0.01 {
                    "plus"
                } else {
                    "cross"
                };
                out.push((kind, stroke.color));
            }
            egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for c in &h.output().shapes {
        walk(&c.shape, &mut out);
    }
    out
}
