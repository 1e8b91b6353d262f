//! The distribution over responses (the bars), the colours every plot
//! shares and the axis grid; the curves are in `curves.rs`, the reward–KL
//! plane in `frontier.rs`. Every number drawn comes from the session.

use egui::Color32;
use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints, Points};

use dpo_lab::method::MethodKind;

use super::cue;
use super::session::{Ghost, Session, method_label};
use super::settings::{Settings, SortBy};

/// The colour of a series: the library's colour-blind-safe palette, the
/// same as `dpo-lab figure` uses.
pub fn color(kind: Option<MethodKind>) -> Color32 {
    let [r, g, b] = dpo_lab::palette::rgb(kind);
    Color32::from_rgb(r, g, b)
}

/// One series of the distribution plot.
struct Series<'a> {
    name: &'static str,
    kind: Option<MethodKind>,
    log_probs: &'a [f64],
}

/// Which responses the distribution shows, in order: the pinned ones first
/// (the lesson's focus, and any the user clicked), then the top K of the
/// rest by the sort key (ties by index), then (if any are left) one
/// "everything else" bar.
pub fn shown_responses(
    session: &Session,
    s: &Settings,
    pinned: &[usize],
    limit: usize,
) -> (Vec<usize>, bool) {
    let p = &session.scenario.problem;
    let n = p.len();
    let key: Box<dyn Fn(usize) -> f64> = match s.sort {
        SortBy::Index => Box::new(|y| -(y as f64)),
        SortBy::Reference => Box::new(|y| p.log_ref[y]),
        SortBy::Reward => Box::new(|y| p.reward[y]),
        SortBy::Current => {
            let lp = session
                .runs
                .first()
                .map_or(&session.optimum.log_policy, |r| &r.log_probs);
            Box::new(move |y| lp[y])
        }
    };
    let pins: Vec<usize> = pinned.iter().copied().filter(|&y| y < n).collect();
    let k = s.top_k.min(limit).clamp(1, 200).max(pins.len()).min(n);
    let mut shown = pins.clone();
    shown.extend(
        dpo_lab::metrics::top_k_by(n, k, key)
            .into_iter()
            .filter(|y| !pins.contains(y))
            .take(k - pins.len()),
    );
    (shown, k < n)
}

/// The y-axis tick text of the log scale: bar heights are
/// `log10 p + 12`, labelled as the probabilities 1e-12 … 1.
pub fn log_tick(height: f64) -> String {
    let e = height - 12.0;
    if (e - e.round()).abs() > 1e-6 {
        return String::new();
    }
    match e.round() as i64 {
        // No probability is above 1 (the axis may pad past it).
        k if k > 0 => String::new(),
        0 => "1".into(),
        -1 => "0.1".into(),
        -2 => "0.01".into(),
        k => format!("1e{k}"),
    }
}

fn height(p: f64, log_scale: bool) -> f64 {
    if log_scale {
        // Bars grow up from 1e-12; zero probability draws nothing.
        (p.max(1e-12).log10() + 12.0).max(0.0)
    } else {
        p
    }
}

/// What the bar chart shows besides the session.
pub struct BarsView<'a> {
    /// The responses in slot order ([`shown_responses`]).
    pub shown: &'a [usize],
    /// Whether an "everything else" bar follows.
    pub rest: bool,
    /// The pinned responses (highlighted).
    pub pinned: &'a [usize],
    /// The runs before the last settings change, drawn faded.
    pub ghost: Option<&'a Ghost>,
}

/// What the bar chart reports back.
pub struct BarsOut {
    /// The response whose name was clicked (to pin or unpin it).
    pub clicked: Option<usize>,
    /// The painted height, in points, of the first run's bar of the
    /// lesson's (first) focus answer.
    pub focus_bar: Option<f32>,
}

/// Bars of π_ref, π* and each method over the `shown` responses (from
/// [`shown_responses`], kept in place while training plays); pinned ones
/// are highlighted, and the lesson's focus answer's name and ratio π/π_ref
/// under the first run are written above the bars in large type.
pub fn distribution(
    ui: &mut egui::Ui,
    session: &Session,
    s: &Settings,
    view: BarsView<'_>,
    plot_height: f32,
    beside: Option<&mut dyn FnMut(&mut egui::Ui)>,
) -> BarsOut {
    let BarsView {
        shown,
        rest,
        pinned,
        ghost,
    } = view;
    let p = &session.scenario.problem;
    let beta = session.scenario.train.beta();
    let mut series: Vec<Series> = Vec::new();
    if s.show_reference {
        series.push(Series {
            name: "π_ref",
            kind: None,
            log_probs: &p.log_ref,
        });
    }
    if s.show_optimum {
        series.push(Series {
            name: "π*",
            kind: Some(MethodKind::Optimal),
            log_probs: &session.optimum.log_policy,
        });
    }
    for r in &session.runs {
        series.push(Series {
            name: method_label(r.kind),
            kind: Some(r.kind),
            log_probs: &r.log_probs,
        });
    }
    let width = 0.8 / series.len().max(1) as f64;
    let names: Vec<String> = shown.iter().map(|&y| p.space.name(y)).collect();
    let in_data = &session.scenario.data.in_data;
    let mut charts = Vec::new();
    let mut tips: Vec<Vec<String>> = Vec::new();
    let mut tops: Vec<(Option<MethodKind>, Vec<[f64; 2]>)> = Vec::new();
    for (si, ser) in series.iter().enumerate() {
        let offset = -0.4 + width * (si as f64 + 0.5);
        let mut bars: Vec<Bar> = shown
            .iter()
            .enumerate()
            .map(|(x, &y)| {
                let prob = ser.log_probs[y].exp();
                let implicit = dpo_lab::metrics::implicit_reward(beta, ser.log_probs[y], p.log_ref[y])
                    .map_or_else(|| "—".into(), |v| format!("{v:.4}"));
                // The reference's own bar does not repeat its probability.
                let reference = if ser.kind.is_none() {
                    String::new()
                } else {
                    format!("\nπ_ref: {:.6}", p.log_ref[y].exp())
                };
                let text = format!(
                    "{}{}\n{}: {:.6}{reference}\nimplicit reward β·log(π/π_ref): {}\ntrue reward: {:.4}",
                    names[x],
                    if in_data[y] { "" } else { "  (out of data)" },
                    ser.name,
                    prob,
                    implicit,
                    p.reward[y],
                );
                Bar::new(x as f64 + offset, height(prob, s.log_scale))
                    .width(width * 0.95)
                    .name(text)
            })
            .collect();
        if rest {
            let other = dpo_lab::metrics::rest_mass(ser.log_probs, shown);
            bars.push(
                Bar::new(shown.len() as f64 + offset, height(other, s.log_scale))
                    .width(width * 0.95)
                    .name(format!(
                        "everything else ({} responses)\n{}: {:.6}",
                        p.len() - shown.len(),
                        ser.name,
                        other
                    )),
            );
        }
        tips.push(bars.iter().map(|b| b.name.clone()).collect::<Vec<String>>());
        // The series' marker on each bar's top: the cue beside colour.
        tops.push((
            ser.kind,
            bars.iter()
                .map(|b| [b.argument, b.value])
                .collect::<Vec<_>>(),
        ));
        // The numbers show in an egui tooltip at the pointer (below), which
        // the plot's edge does not clip as egui_plot's own label is.
        charts.push(
            BarChart::new(ser.name, bars)
                .color(color(ser.kind))
                .allow_hover(false),
        );
    }
    // The previous runs (before the last settings change): a faded
    // horizontal mark at each of their bars' heights, over the same
    // method's bar.
    let ghost_marks: Vec<(Color32, Vec<[f64; 2]>)> = ghost
        .map(|g| {
            g.runs
                .iter()
                .filter_map(|gr| {
                    let si = series.iter().position(|ser| ser.kind == Some(gr.kind))?;
                    (gr.log_probs.len() == p.len()).then_some((si, gr))
                })
                .flat_map(|(si, gr)| {
                    let offset = -0.4 + width * (si as f64 + 0.5);
                    let c = color(Some(gr.kind)).gamma_multiply(0.55);
                    shown.iter().enumerate().map(move |(x, &y)| {
                        let h = height(gr.log_probs[y].exp(), s.log_scale);
                        let x = x as f64 + offset;
                        (c, vec![[x - width * 0.5, h], [x + width * 0.5, h]])
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    // Slow motion: after a single Step, a dot where each bar was and a line
    // to where it is now.
    let step_marks: Vec<(Color32, [f64; 2], [f64; 2])> = series
        .iter()
        .enumerate()
        .filter_map(|(si, ser)| {
            let run = session.runs.iter().find(|r| Some(r.kind) == ser.kind)?;
            (run.before_step.len() == p.len()).then_some((si, ser, run))
        })
        .flat_map(|(si, ser, run)| {
            let offset = -0.4 + width * (si as f64 + 0.5);
            let c = color(ser.kind);
            shown.iter().enumerate().map(move |(x, &y)| {
                let x = x as f64 + offset;
                (
                    c,
                    [x, height(run.before_step[y].exp(), s.log_scale)],
                    [x, height(ser.log_probs[y].exp(), s.log_scale)],
                )
            })
        })
        .collect();
    let ood: Vec<[f64; 2]> = shown
        .iter()
        .enumerate()
        .filter(|(_, y)| !in_data[**y])
        .map(|(x, _)| [x as f64, 0.0])
        .collect();
    let n_shown = shown.len();
    // The lesson's focus answer (its first): the first run's bar, and its
    // name and ratio to π_ref written large in the room above every bar,
    // starting at its slot.
    let first_run = series.iter().position(|ser| {
        ser.kind
            .is_some_and(|k| session.runs.first().is_some_and(|r| r.kind == k))
    });
    let focus: Option<(f64, f64, String, Color32)> = first_run.and_then(|si| {
        let ser = &series[si];
        let offset = -0.4 + width * (si as f64 + 0.5);
        let y = *session.scenario.focus_responses.first()?;
        let x = shown.iter().position(|&s| s == y)?;
        let ratio = (ser.log_probs[y] - p.log_ref[y]).exp();
        Some((
            x as f64 + offset,
            height(ser.log_probs[y].exp(), s.log_scale),
            format!("'{}' {}", p.space.name(y), dpo_lab::numerics::ratio(ratio)),
            color(ser.kind),
        ))
    });
    // A light band behind each pinned slot, as tall as the tallest bar.
    let top = series
        .iter()
        .flat_map(|ser| {
            shown
                .iter()
                .map(|&y| height(ser.log_probs[y].exp(), s.log_scale))
        })
        .fold(0.0, f64::max)
        .max(if s.log_scale { 1.0 } else { 0.01 });
    let bands: Vec<Vec<[f64; 2]>> = shown
        .iter()
        .enumerate()
        .filter(|(_, y)| pinned.contains(y))
        .map(|(x, _)| {
            let x = x as f64;
            vec![
                [x - 0.47, 0.0],
                [x + 0.47, 0.0],
                [x + 0.47, top * 1.04],
                [x - 0.47, top * 1.04],
            ]
        })
        .collect();
    let band_fill = if ui.visuals().dark_mode {
        Color32::from_rgba_unmultiplied(255, 255, 255, 18)
    } else {
        Color32::from_rgba_unmultiplied(0, 0, 0, 14)
    };
    let ood_color = cue::ood_color(ui);
    let draw = |ui: &mut egui::Ui| -> Option<f32> {
        // A marker as wide as about half a bar, within 3…6 points.
        let slots = (n_shown + usize::from(rest)).max(1) as f32;
        let marker_r = (ui.available_width() / slots * width as f32 * 0.4).clamp(3.0, 6.0);
        ui.horizontal_wrapped(|ui| {
            for ser in &series {
                cue::legend_entry(ui, ser.kind, ser.name, cue::Swatch::Marker);
            }
            if !ood.is_empty() {
                ui.add(
                    egui::Label::new(egui::RichText::new("× = out of the data").color(ood_color))
                        .wrap_mode(egui::TextWrapMode::Extend),
                );
            }
            ui.label("(hover a bar for its numbers)");
        });
        let y_label = if s.log_scale {
            "probability (log scale)"
        } else {
            "probability"
        };
        let log_scale = s.log_scale;
        let plot = Plot::new("distribution")
            .height(plot_height)
            // Tick labels allowed closer together than egui's default, so a
            // short plot (a zoomed projector) keeps several.
            .custom_y_axes(vec![
                egui_plot::AxisHints::new_y()
                    .label(y_label)
                    .label_spacing(cue::Y_LABELS)
                    .formatter(move |mark, _| {
                        if log_scale {
                            log_tick(mark.value)
                        } else {
                            dpo_lab::numerics::tick(mark.value)
                        }
                    }),
            ])
            .allow_scroll(false)
            .include_y(0.0)
            // Room above the tallest bar for the focus answer's ratio.
            .include_y(if focus.is_none() { 0.0 } else { top * 1.2 })
            .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 1.0, 1.0]));
        let plot = if s.log_scale {
            // Whole decades only, labelled as probabilities.
            plot.y_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 2.0, 4.0]))
        } else {
            plot.y_grid_spacer(nice_grid)
        };
        let shown_plot = plot
            .custom_x_axes(vec![
                egui_plot::AxisHints::new_x()
                    .label(format!(
                        "response (sorted by {}; names below)",
                        sort_name(s.sort)
                    ))
                    .label_spacing(cue::SLOT_LABELS)
                    .formatter(move |mark, _| {
                        let i = mark.value.round();
                        if (mark.value - i).abs() > 1e-6 || i < 0.0 {
                            return String::new();
                        }
                        let i = i as usize;
                        if i < n_shown {
                            (i + 1).to_string()
                        } else if i == n_shown && rest {
                            "rest".into()
                        } else {
                            String::new()
                        }
                    }),
            ])
            .show(ui, |plot_ui| {
                for b in bands {
                    plot_ui.polygon(
                        egui_plot::Polygon::new("pinned", PlotPoints::from(b))
                            .fill_color(band_fill)
                            .stroke(egui::Stroke::NONE),
                    );
                }
                for c in charts {
                    plot_ui.bar_chart(c);
                }
                for (kind, pts) in &tops {
                    plot_ui.points(
                        Points::new("bar top", PlotPoints::from(pts.clone()))
                            .shape(cue::marker_shape(*kind))
                            .radius(cue::radius(*kind, marker_r))
                            .color(color(*kind)),
                    );
                }
                // Slow motion, readable from the back: a thick bar-wide
                // mark where the bar was, and an arrow up or down to now.
                for (c, was, now) in step_marks {
                    let half = width * 0.5;
                    plot_ui.line(
                        Line::new(
                            "last step",
                            PlotPoints::from(vec![
                                [was[0] - half, was[1]],
                                [was[0] + half, was[1]],
                            ]),
                        )
                        .color(c)
                        .width(4.0),
                    );
                    if (now[1] - was[1]).abs() > 1e-12 {
                        plot_ui.arrows(
                            egui_plot::Arrows::new(
                                "last step",
                                PlotPoints::from(vec![was]),
                                PlotPoints::from(vec![now]),
                            )
                            .color(c)
                            .tip_length(10.0),
                        );
                    }
                }
                for (c, seg) in ghost_marks {
                    plot_ui.line(
                        Line::new("previous run", PlotPoints::from(seg))
                            .color(c)
                            .width(2.5)
                            .style(egui_plot::LineStyle::dashed_dense()),
                    );
                }
                if !ood.is_empty() {
                    plot_ui.points(
                        Points::new("x = out of data", PlotPoints::from(ood))
                            .shape(cue::OOD_SHAPE)
                            .radius(5.0)
                            .color(ood_color),
                    );
                }
                if let Some((x, _, text, c)) = &focus {
                    plot_ui.text(
                        egui_plot::Text::new(
                            "focus ratio",
                            egui_plot::PlotPoint::new(x - 0.45 * width, top * 1.03),
                            egui::RichText::new(text).size(22.0).strong().color(*c),
                        )
                        .anchor(egui::Align2::LEFT_BOTTOM),
                    );
                }
                plot_ui.pointer_coordinate()
            });
        let t = &shown_plot.transform;
        let focus_bar = focus.as_ref().map(|(x, h, _, _)| {
            let base = t.position_from_point(&egui_plot::PlotPoint::new(*x, 0.0));
            let top = t.position_from_point(&egui_plot::PlotPoint::new(*x, *h));
            (base.y - top.y).abs()
        });
        // The hovered bar: its slot from x, its series from the offset.
        if let Some(pt) = shown_plot.inner
            && shown_plot.response.hovered()
        {
            let slot = pt.x.round();
            let si = ((pt.x - slot + 0.4) / width).floor();
            if slot >= 0.0
                && si >= 0.0
                && let Some(text) = tips.get(si as usize).and_then(|t| t.get(slot as usize))
            {
                shown_plot.response.on_hover_text_at_pointer(text.clone());
            }
        }
        focus_bar
    };
    // Beside the bars (a small window): the lesson's key curve.
    let focus_bar = match beside {
        Some(f) => ui.columns(2, |cols| {
            let focus_bar = draw(&mut cols[0]);
            f(&mut cols[1]);
            focus_bar
        }),
        None => draw(ui),
    };
    // Names under their numbers: readable at any zoom, however long; a
    // click pins or unpins the response.
    let mut clicked = None;
    ui.horizontal_wrapped(|ui| {
        for (x, name) in names.iter().enumerate() {
            let y = shown[x];
            let out = if in_data[y] { "" } else { " ×" };
            let is_pinned = pinned.contains(&y);
            let text = egui::RichText::new(format!("{} {name}{out}", x + 1));
            let text = if is_pinned { text.strong() } else { text };
            if ui
                .selectable_label(is_pinned, text)
                .on_hover_text(if is_pinned {
                    "pinned to this slot: click to unpin"
                } else {
                    "click to pin this response to the first slots"
                })
                .clicked()
            {
                clicked = Some(y);
            }
        }
        if rest {
            ui.label("rest = everything else");
        }
    });
    BarsOut { clicked, focus_bar }
}

fn sort_name(s: SortBy) -> &'static str {
    match s {
        SortBy::Index => "index",
        SortBy::Reference => "reference probability",
        SortBy::Reward => "true reward",
        SortBy::Current => "current probability",
    }
}

/// Grid marks labelled at a 1-2-5 step chosen to fit (0, 0.05, 0.1 or 0,
/// 2, 4 … rather than egui's decades only), with a finer level for grid
/// lines: each mark carries the coarsest step it lies on, so a short plot
/// still gets several labelled ticks.
pub fn nice_grid(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    let (lo, hi) = input.bounds;
    let base = input.base_step_size;
    if !(lo.is_finite() && hi.is_finite() && base.is_finite() && base > 0.0 && hi > lo) {
        return Vec::new();
    }
    // egui's base step spans its 8-point minimum grid spacing: labels need
    // about 18 points, so the labelled step is the smallest 1-2-5 step of
    // at least 2.25 base steps. The levels around it nest (×10), so labels
    // of two levels never interleave (0.4, 0.5, 0.6).
    let min_label = 2.25 * base;
    let mut e = min_label.log10().floor() as i32;
    let label = 'found: loop {
        for m in [1.0, 2.0, 5.0] {
            let step = m * 10f64.powi(e);
            if step >= min_label {
                break 'found step;
            }
        }
        e += 1;
    };
    let mut levels = Vec::with_capacity(6);
    if label / 10.0 >= base {
        levels.push(label / 10.0);
    }
    let mut step = label;
    loop {
        levels.push(step);
        if step >= hi - lo || levels.len() == 8 {
            break;
        }
        step *= 10.0;
    }
    // Marks on every level (0.05 lies on the 0.05 level, not on the 0.02
    // one), each with the coarsest step it lies on.
    let mut marks: Vec<egui_plot::GridMark> = Vec::new();
    for &step in &levels {
        let first = (lo / step).ceil() as i64;
        let last = (hi / step).floor() as i64;
        if last - first > 10_000 {
            continue;
        }
        for i in first..=last {
            let value = i as f64 * step;
            match marks
                .iter_mut()
                .find(|m| (m.value - value).abs() < 1e-9 * step)
            {
                Some(m) => m.step_size = m.step_size.max(step),
                None => marks.push(egui_plot::GridMark {
                    value,
                    step_size: step,
                }),
            }
        }
    }
    marks
}
