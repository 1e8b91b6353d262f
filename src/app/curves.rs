//! The curves over training steps (and pass@k against k): one spec per
//! curve, drawn full-size, enlarged on a click, or one at a time when
//! space is short.

use dpo_lab::lesson::Curve;
use egui_plot::{Line, Plot, PlotPoints, Points};

use dpo_lab::method::MethodKind;
use dpo_lab::metrics::Metrics;
use dpo_lab::palette::{Dash, MARKERS_PER_CURVE};

use super::cue;
use super::session::{Ghost, Session, method_label};

use super::plots::{color, nice_grid};

type Pick = fn(&Metrics) -> f64;

/// One plot of the curves: its title, y unit, main value (solid), TRL's
/// companions drawn beside it (suffix, value, line pattern) and π*'s
/// value as a reference line where one exists.
struct CurveSpec {
    /// Which curve (a lesson's `key_curve` names it).
    curve: Curve,
    /// Over training steps, or pass@k against k at the current policy.
    pass_at_k: bool,
    title: &'static str,
    unit: &'static str,
    pick: Pick,
    extra: &'static [(&'static str, Pick, Dash)],
    optimum: Option<f64>,
}

/// The session's curves and their titles, in order.
#[cfg(test)]
pub fn curve_titles(session: &Session) -> Vec<(Curve, &'static str)> {
    curve_specs(session)
        .iter()
        .map(|c| (c.curve, c.title))
        .collect()
}

/// The curve plots of this session: OOD mass, E r, KL, loss, TRL's rewards
/// and logps, and the mean length on sequence spaces.
fn curve_specs(session: &Session) -> Vec<CurveSpec> {
    let p = &session.scenario.problem;
    let star = &session.optimum.log_policy;
    let here = dpo_lab::optimal::point(&session.optimum, &p.log_ref, &p.reward);
    // π*'s own metrics, from the library (OOD mass, mean length).
    let star_ratio: Vec<f64> = star
        .iter()
        .zip(&p.log_ref)
        .map(|(a, b)| if *b == f64::NEG_INFINITY { 0.0 } else { a - b })
        .collect();
    let star_m = dpo_lab::metrics::evaluate(
        p,
        star,
        &session.scenario.data,
        star,
        &star_ratio,
        session.optimum.beta,
        0.0,
    );
    let star_ood = star_m.ood_mass;
    let mut specs = vec![
        CurveSpec {
            pass_at_k: false,
            curve: Curve::OodMass,
            title: "OOD mass",
            unit: "mass",
            pick: |m| m.ood_mass,
            extra: &[],
            optimum: Some(star_ood),
        },
        CurveSpec {
            pass_at_k: false,
            curve: Curve::ExpectedReward,
            title: "expected true reward",
            unit: "E r",
            pick: |m| m.expected_reward,
            extra: &[],
            optimum: Some(here.expected_reward),
        },
        CurveSpec {
            pass_at_k: false,
            curve: Curve::Kl,
            title: "KL(π || π_ref)",
            unit: "KL",
            pick: |m| m.kl_to_ref,
            extra: &[],
            optimum: Some(here.kl_to_ref),
        },
        CurveSpec {
            pass_at_k: false,
            curve: Curve::Loss,
            title: "training loss",
            unit: "loss",
            pick: |m| m.loss,
            extra: &[],
            optimum: None,
        },
        CurveSpec {
            pass_at_k: false,
            curve: Curve::Rewards,
            title: "rewards: margin, chosen (--), rejected (··)",
            unit: "β·h",
            pick: |m| m.rewards_margins,
            extra: &[
                ("chosen", |m| m.rewards_chosen, Dash::Dashed),
                ("rejected", |m| m.rewards_rejected, Dash::Dotted),
            ],
            optimum: None,
        },
        CurveSpec {
            pass_at_k: false,
            curve: Curve::Logps,
            title: "logps: chosen, rejected (--)",
            unit: "log π",
            pick: |m| m.logps_chosen,
            extra: &[("rejected", |m| m.logps_rejected, Dash::Dashed)],
            optimum: None,
        },
    ];
    if let Some(star_len) = star_m.mean_length {
        specs.push(CurveSpec {
            pass_at_k: false,
            curve: Curve::MeanLength,
            title: "mean length",
            unit: "tokens",
            pick: |m| m.mean_length.unwrap_or(f64::NAN),
            extra: &[],
            optimum: Some(star_len),
        });
    }
    if p.correct.is_some() {
        specs.push(CurveSpec {
            pass_at_k: true,
            curve: Curve::PassAtK,
            title: "pass@k",
            unit: "pass@k",
            pick: |m| m.expected_reward,
            extra: &[],
            optimum: None,
        });
    }
    specs
}

/// pass@k against k (log axis: x = log₂ k, k from 1 to 1024) for π_ref
/// and each run's current policy, averaged over the prompts each run
/// trains (all of them when they share parameters).
fn pass_at_k_plot(ui: &mut egui::Ui, session: &Session, height: f32) {
    let grid: Vec<f64> = (0..=80).map(|i| f64::from(i) * 0.125).collect();
    let curve = |qs: &[f64]| -> Vec<[f64; 2]> {
        grid.iter()
            .map(|&x| {
                let k = 2f64.powf(x);
                let v = qs
                    .iter()
                    .map(|&q| dpo_lab::rlvr::pass_at(q, k))
                    .sum::<f64>()
                    / qs.len().max(1) as f64;
                [x, v]
            })
            .collect()
    };
    Plot::new("pass-at-k")
        .height(height)
        .y_grid_spacer(nice_grid)
        // Marks at every power of two, the even ones (labelled) coarser.
        .x_grid_spacer(|input| {
            let (lo, hi) = input.bounds;
            (lo.ceil().max(0.0) as i64..=hi.floor().min(40.0) as i64)
                .map(|e| egui_plot::GridMark {
                    value: e as f64,
                    step_size: if e % 2 == 0 { 2.0 } else { 1.0 },
                })
                .collect()
        })
        .include_y(0.0)
        .include_y(1.0)
        .include_x(0.0)
        .include_x(10.0)
        .custom_x_axes(vec![
            egui_plot::AxisHints::new_x()
                .label("k (log scale)")
                .label_spacing(cue::X_LABELS)
                .formatter(|mark, _| {
                    // k = 1, 4, 16, …, 1024 at the even powers of two.
                    let v = mark.value;
                    let e = v.round();
                    if (v - e).abs() < 1e-6 && e >= 0.0 && (e as u32).is_multiple_of(2) {
                        format!("{}", 1u64 << (e as u32).min(40))
                    } else {
                        String::new()
                    }
                }),
        ])
        .custom_y_axes(vec![
            egui_plot::AxisHints::new_y()
                .label("pass@k")
                .label_spacing(cue::Y_LABELS)
                .formatter(|mark, _| dpo_lab::numerics::tick(mark.value)),
        ])
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            let mut reference_drawn = false;
            for r in &session.runs {
                let Some(masses) = r.run.wrong_masses() else {
                    continue;
                };
                if !reference_drawn {
                    let q0: Vec<f64> = masses.iter().map(|m| m.1).collect();
                    plot_ui.line(
                        Line::new("π_ref", PlotPoints::from(curve(&q0)))
                            .color(color(None))
                            .style(cue::line_style(None))
                            .width(2.0),
                    );
                    reference_drawn = true;
                }
                let q: Vec<f64> = masses.iter().map(|m| m.0).collect();
                let pts = curve(&q);
                let marks: Vec<[f64; 2]> = pts.iter().step_by(16).copied().collect();
                plot_ui.line(
                    Line::new(method_label(r.kind), PlotPoints::from(pts))
                        .color(color(Some(r.kind)))
                        .style(cue::line_style(Some(r.kind)))
                        .width(2.0),
                );
                plot_ui.points(
                    Points::new(method_label(r.kind), PlotPoints::from(marks))
                        .shape(cue::marker_shape(Some(r.kind)))
                        .radius(4.0)
                        .color(color(Some(r.kind))),
                );
            }
        });
}

/// The curves over training steps, coloured like the distribution's
/// legend, with π*'s value as a dashed green line where it has one. A
/// click on a title shows that curve alone, as large as the tab
/// (`enlarged`); "All curves" goes back. In a small window (`compact` =
/// the lesson's key curve) one curve is shown at a readable size and the
/// titles pick which.
pub fn curves(
    ui: &mut egui::Ui,
    session: &Session,
    plot_height: f32,
    ghost: Option<&Ghost>,
    enlarged: &mut Option<usize>,
    compact: Option<Curve>,
) {
    let specs = curve_specs(session);
    if let Some(key) = compact {
        let key = specs.iter().position(|s| s.curve == key).unwrap_or(0);
        // `plot_height` is the whole column's height here: the legend and
        // the titles take their rows, the plot the rest.
        let start = ui.cursor().min.y;
        ui.horizontal_wrapped(|ui| {
            curve_legend(ui, session);
            if let Some(g) = ghost {
                ui.label(format!("faded: before {}", g.what));
            }
        });
        let current = enlarged.unwrap_or(key).min(specs.len() - 1);
        ui.horizontal_wrapped(|ui| {
            for (k, spec) in specs.iter().enumerate() {
                if ui.selectable_label(k == current, spec.title).clicked() {
                    *enlarged = Some(k);
                }
            }
        });
        let used = ui.cursor().min.y - start;
        let h = (plot_height - used).max(80.0);
        curve_plot(ui, session, &specs[current], ghost, h);
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("Curves over training steps:");
        curve_legend(ui, session);
        if let Some(g) = ghost {
            ui.label(format!("faded: before {}", g.what));
        }
        if enlarged.is_some() && ui.button("All curves").clicked() {
            *enlarged = None;
        } else if enlarged.is_none() {
            ui.label("(click a title to enlarge it)");
        }
    });
    if let Some(k) = *enlarged {
        let Some(spec) = specs.get(k) else {
            *enlarged = None;
            return;
        };
        ui.strong(spec.title);
        let h = (ui.available_height() - 10.0).max(plot_height);
        curve_plot(ui, session, spec, ghost, h);
        return;
    }
    let per_row = specs.len().div_ceil(2);
    for (r, row) in specs.chunks(per_row).enumerate() {
        ui.columns(per_row, |cols| {
            for (c, (col, spec)) in cols.iter_mut().zip(row).enumerate() {
                if col
                    .add(egui::Button::new(egui::RichText::new(spec.title).strong()).frame(false))
                    .on_hover_text("click to enlarge")
                    .clicked()
                {
                    *enlarged = Some(r * per_row + c);
                }
                curve_plot(col, session, spec, ghost, plot_height);
            }
        });
    }
}

/// The curves' legend: each method's line with its marker, and π*'s
/// dashed reference line.
fn curve_legend(ui: &mut egui::Ui, session: &Session) {
    for r in &session.runs {
        cue::legend_entry(ui, Some(r.kind), method_label(r.kind), cue::Swatch::Line);
    }
    cue::legend_entry(ui, Some(MethodKind::Optimal), "π*", cue::Swatch::Line);
    if session.scenario.problem.correct.is_some() {
        cue::legend_entry(ui, None, "π_ref (pass@k)", cue::Swatch::Line);
    }
}

fn curve_plot(
    ui: &mut egui::Ui,
    session: &Session,
    spec: &CurveSpec,
    ghost: Option<&Ghost>,
    height: f32,
) {
    if spec.pass_at_k {
        pass_at_k_plot(ui, session, height);
        return;
    }
    // The y range fits the data (and π*'s line): a flat line gets a small
    // band around its value, not egui's ±1000 default for zero-height data.
    let (lo, hi) = session
        .runs
        .iter()
        .flat_map(|r| r.history.iter())
        .flat_map(|(_, m)| {
            std::iter::once((spec.pick)(m)).chain(spec.extra.iter().map(|(_, p, _)| p(m)))
        })
        .chain(spec.optimum)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let pad = ((hi - lo) * 0.05)
        .max(0.05 * lo.abs().max(hi.abs()))
        .max(1e-3);
    // The x axis spans the whole schedule from the start, so curves grow
    // into a fixed frame.
    let horizon = session
        .runs
        .iter()
        .map(|r| r.run.steps_total())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut plot = Plot::new(("curve", spec.title))
        .include_x(0.0)
        .include_x(horizon);
    if lo <= hi {
        plot = plot.include_y(lo - pad).include_y(hi + pad);
    }
    plot.height(height)
        .y_grid_spacer(nice_grid)
        // At most 4 significant digits, labels allowed closer together
        // than egui's default so short plots keep two or more.
        .custom_y_axes(vec![
            egui_plot::AxisHints::new_y()
                .label(spec.unit)
                .label_spacing(cue::Y_LABELS)
                .formatter(|mark, _| dpo_lab::numerics::tick(mark.value)),
        ])
        // Whole steps only, and labels allowed closer together than egui's
        // default so narrow plots keep their step numbers.
        .custom_x_axes(vec![
            egui_plot::AxisHints::new_x()
                .label_spacing(cue::X_LABELS)
                .formatter(|mark, _| {
                    let v = mark.value;
                    if (v - v.round()).abs() < 1e-6 * v.abs().max(1.0) && v > -0.5 {
                        format!("{}", v.round() as i64)
                    } else {
                        String::new()
                    }
                }),
        ])
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            for gr in ghost.map_or(&[][..], |g| &g.runs[..]) {
                let pts: Vec<[f64; 2]> = gr
                    .history
                    .iter()
                    .map(|(s, m)| [*s as f64, (spec.pick)(m)])
                    .collect();
                plot_ui.line(
                    Line::new(
                        format!("previous {}", method_label(gr.kind)),
                        PlotPoints::from(pts),
                    )
                    .color(color(Some(gr.kind)).gamma_multiply(0.35))
                    .width(3.0),
                );
            }
            if let Some(v) = spec.optimum.filter(|v| v.is_finite()) {
                plot_ui.hline(
                    egui_plot::HLine::new("π*", v)
                        .color(color(Some(MethodKind::Optimal)))
                        .style(cue::line_style(Some(MethodKind::Optimal))),
                );
            }
            let slots = session.runs.len();
            for (slot, r) in session.runs.iter().enumerate() {
                let pts: Vec<[f64; 2]> = r
                    .history
                    .iter()
                    .map(|(s, m)| [*s as f64, (spec.pick)(m)])
                    .collect();
                // The method's marker at a few points along its line (at
                // different steps for different methods) and at its end.
                let marks: Vec<[f64; 2]> =
                    dpo_lab::palette::marker_indices(pts.len(), slot, slots, MARKERS_PER_CURVE)
                        .into_iter()
                        .map(|i| pts[i])
                        .filter(|p| p[1].is_finite())
                        .collect();
                plot_ui.line(
                    Line::new(method_label(r.kind), PlotPoints::from(pts))
                        .color(color(Some(r.kind)))
                        .style(cue::line_style(Some(r.kind)))
                        .width(2.5),
                );
                plot_ui.points(
                    Points::new(method_label(r.kind), PlotPoints::from(marks))
                        .shape(cue::marker_shape(Some(r.kind)))
                        .radius(cue::radius(Some(r.kind), 5.0))
                        .color(color(Some(r.kind))),
                );
                // TRL's companions: logps/rejected beside logps/chosen (both
                // falling is likelihood displacement, lesson 10);
                // rewards/chosen and rewards/rejected beside the margin
                // (lesson 15).
                for (suffix, pick, dash) in spec.extra {
                    let pts: Vec<[f64; 2]> = r
                        .history
                        .iter()
                        .map(|(s, m)| [*s as f64, pick(m)])
                        .collect();
                    plot_ui.line(
                        Line::new(
                            format!("{} {suffix}", method_label(r.kind)),
                            PlotPoints::from(pts),
                        )
                        .color(color(Some(r.kind)))
                        .style(cue::dash_style(*dash))
                        .width(2.0),
                    );
                }
            }
        });
}
