//! Drawing a figure with plotters: bars, curves, the reward–KL plane,
//! markers and legends.

use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::*;

/// Grid lines as solid light greys: an SVG element's opacity is drawn
/// solid black by some renderers, so no style here uses `mix`.
const GRID_FINE: RGBColor = RGBColor(236, 236, 236);
const GRID_BOLD: RGBColor = RGBColor(206, 206, 206);

/// Behind the focus answer's slot.
const FOCUS_BAND: RGBColor = RGBColor(255, 240, 200);

/// Smallest text on a figure, in pixels: readable from the back of a room
/// at 1200×700.
const MIN_TEXT: f64 = 14.0;

fn color(kind: SeriesKind) -> RGBColor {
    let [r, g, b] = palette::rgb(kind);
    RGBColor(r, g, b)
}

/// Every series a figure shows: π_ref, π*, then the trained methods.
fn all_kinds(data: &FigureData) -> Vec<SeriesKind> {
    let mut k = vec![None, Some(MethodKind::Optimal)];
    k.extend(data.series.iter().map(|s| Some(s.kind)));
    k
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &FigureData,
    kind: FigureKind,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (w, h) = root.dim_in_pixel();
    let title_size = (h as f64 * 0.045).clamp(14.0, 40.0);
    let root = root.titled(
        &format!(
            "{} — β = {}",
            data.title,
            crate::numerics::show(data.optimum.beta)
        ),
        (FONT, title_size),
    )?;
    // Legend on the right, outside every plot.
    let legend_w = (w as f64 * 0.2).clamp(120.0, 320.0) as u32;
    let (plots, legend) = root.split_horizontally(w.saturating_sub(legend_w));
    let kinds: Vec<SeriesKind> = match kind {
        FigureKind::Bars | FigureKind::Frontier => all_kinds(data),
        FigureKind::Curves => all_kinds(data).into_iter().skip(1).collect(),
    };
    let size = text_size(&root);
    draw_legend(&legend, &kinds, data, kind, size)?;
    match kind {
        FigureKind::Bars => draw_bars(&plots, data),
        FigureKind::Curves => draw_curves(&plots, data),
        FigureKind::Frontier => draw_frontier(&plots, data),
    }
}

fn text_size<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> f64 {
    let (w, h) = area.dim_in_pixel();
    (w.min(h) as f64 * 0.035).clamp(MIN_TEXT, 28.0)
}

fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    kind: SeriesKind,
    r: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let c = color(kind);
    let (x, y) = at;
    match palette::marker(kind) {
        Marker::Square => area.draw(&Rectangle::new(
            [(x - r, y - r), (x + r, y + r)],
            c.filled(),
        ))?,
        Marker::Circle => area.draw(&Circle::new((x, y), r, c.filled()))?,
        Marker::Diamond => area.draw(&Polygon::new(
            vec![
                (x, y - r - 1),
                (x + r + 1, y),
                (x, y + r + 1),
                (x - r - 1, y),
            ],
            c.filled(),
        ))?,
        Marker::Triangle => area.draw(&Polygon::new(
            vec![(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)],
            c.filled(),
        ))?,
        Marker::TriangleDown => area.draw(&Polygon::new(
            vec![(x, y + r + 1), (x + r + 1, y - r), (x - r - 1, y - r)],
            c.filled(),
        ))?,
        Marker::TriangleRight => area.draw(&Polygon::new(
            vec![(x + r + 1, y), (x - r, y - r - 1), (x - r, y + r + 1)],
            c.filled(),
        ))?,
        Marker::TriangleLeft => area.draw(&Polygon::new(
            vec![(x - r - 1, y), (x + r, y - r - 1), (x + r, y + r + 1)],
            c.filled(),
        ))?,
        Marker::Plus => {
            area.draw(&PathElement::new(
                vec![(x - r, y), (x + r, y)],
                c.stroke_width(3),
            ))?;
            area.draw(&PathElement::new(
                vec![(x, y - r), (x, y + r)],
                c.stroke_width(3),
            ))?;
        }
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    kinds: &[SeriesKind],
    data: &FigureData,
    figure: FigureKind,
    size: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let line = (size * 1.6) as i32;
    let mut y = (size * 2.0) as i32;
    let style = TextStyle::from((FONT, size))
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for &k in kinds {
        draw_marker(area, (12, y), k, (size * 0.35) as i32)?;
        let label = if figure == FigureKind::Frontier && k == Some(MethodKind::Optimal) {
            "π* frontier (over β)"
        } else {
            palette::label(k)
        };
        area.draw(&Text::new(label.to_string(), (26, y), style.clone()))?;
        y += line;
    }
    if figure == FigureKind::Bars
        && let Some(f) = data.focus
    {
        y += line / 2;
        let small = TextStyle::from((FONT, size * 0.85)).color(&BLACK);
        area.draw(&Text::new("pinned:".to_string(), (8, y), small.clone()))?;
        y += line;
        area.draw(&Text::new(
            data.problem.space.name(f),
            (8, y),
            small.clone(),
        ))?;
        y += line;
        if !data.in_data[f] {
            area.draw(&Text::new("(out of data)".to_string(), (8, y), small))?;
        }
    }
    Ok(())
}

/// The bars shown: the most probable responses under any series, plus the
/// focus response, in response order (stable: the same order every run).
pub fn shown_bars(data: &FigureData) -> Vec<usize> {
    let n = data.problem.len();
    let best = |y: usize| {
        data.series
            .iter()
            .map(|s| s.log_probs[y])
            .chain([data.optimum.log_policy[y], data.problem.log_ref[y]])
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let mut shown = top_k_by(n, TOP_BARS, best);
    if let Some(f) = data.focus
        && !shown.contains(&f)
    {
        shown.push(f);
    }
    shown.sort_unstable();
    shown
}

fn draw_bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, data: &FigureData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let shown = shown_bars(data);
    let kinds = all_kinds(data);
    let probs = |k: SeriesKind| -> Vec<f64> {
        let lp: &[f64] = match k {
            None => &data.problem.log_ref,
            Some(MethodKind::Optimal) => &data.optimum.log_policy,
            Some(m) => data
                .series
                .iter()
                .find(|s| s.kind == m)
                .map_or(&data.problem.log_ref, |s| &s.log_probs),
        };
        shown.iter().map(|&y| lp[y].exp()).collect()
    };
    let table: Vec<Vec<f64>> = kinds.iter().map(|&k| probs(k)).collect();
    let min = table
        .iter()
        .flatten()
        .copied()
        .filter(|p| *p > 0.0)
        .fold(1.0f64, f64::min);
    let size = text_size(area);
    let names: Vec<String> = shown.iter().map(|&y| data.problem.space.name(y)).collect();
    let n = shown.len() as f64;
    let width = 0.8 / kinds.len() as f64;
    // Names sit under their bars, horizontally, at 14 px or more: on one
    // row when the longest fits its slot, else on two staggered rows (each
    // name then has two slots' width).
    let (area_w, _) = area.dim_in_pixel();
    let slot = (area_w as f64 - size * 5.0) / n.max(1.0);
    let longest = names
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(4)
        .max(1) as f64;
    let rows = if slot / (0.55 * longest) >= MIN_TEXT {
        1
    } else {
        2
    };
    let label_size = (rows as f64 * slot / (0.55 * longest)).clamp(MIN_TEXT, size);
    let line = label_size * 1.3;
    // The focus answer: its slot shaded, its name and the first trained
    // method's ratio to π_ref written above the plot, over its slot.
    let focus = data.focus.and_then(|f| shown.iter().position(|&y| y == f));
    let focus_text = data.focus.map(|f| {
        let ratio = data
            .series
            .first()
            .map(|s| (s.log_probs[f] - data.problem.log_ref[f]).exp());
        match ratio {
            Some(r) => format!(
                "{} {}",
                data.problem.space.name(f),
                crate::numerics::ratio(r)
            ),
            None => data.problem.space.name(f),
        }
    });
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(10)
        .margin_top((size * 1.8) as u32)
        .x_label_area_size((rows as f64 * line + 12.0) as u32)
        .y_label_area_size((size * 4.5) as u32);
    // Each slot's centre at the plot's bottom, and the plot's top, in the
    // area's pixels (names and the focus label are drawn there).
    let (ox, oy) = area.get_base_pixel();
    let (bottoms, top): (Vec<(i32, i32)>, i32) = if min < 0.02 {
        let floor = 10f64.powf((min.max(1e-12)).log10().floor());
        let mut chart = builder.build_cartesian_2d(-0.5..n - 0.5, (floor..1.0).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("probability (log scale)")
            .y_label_formatter(&|v| {
                if *v >= 1e-3 {
                    tick(*v)
                } else {
                    format!("{v:.0e}")
                }
            })
            .label_style((FONT, size))
            .axis_desc_style((FONT, size))
            .light_line_style(WHITE)
            .bold_line_style(GRID_BOLD)
            .draw()?;
        if let Some(x) = focus {
            let x = x as f64;
            chart.draw_series([Rectangle::new(
                [(x - 0.48, floor), (x + 0.48, 1.0)],
                FOCUS_BAND.filled(),
            )])?;
        }
        for (si, k) in kinds.iter().enumerate() {
            let c = color(*k);
            chart.draw_series(table[si].iter().enumerate().map(|(x, &p)| {
                let x0 = x as f64 - 0.4 + width * si as f64;
                Rectangle::new([(x0, floor), (x0 + width * 0.95, p.max(floor))], c.filled())
            }))?;
        }
        let at = |x: f64, y: f64| chart.plotting_area().map_coordinate(&(x, y));
        (
            (0..shown.len()).map(|x| at(x as f64, floor)).collect(),
            at(0.0, 1.0).1,
        )
    } else {
        let mut chart = builder.build_cartesian_2d(-0.5..n - 0.5, 0.0..1.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("probability")
            .y_label_formatter(&|v| tick(*v))
            .label_style((FONT, size))
            .axis_desc_style((FONT, size))
            .light_line_style(GRID_FINE)
            .bold_line_style(GRID_BOLD)
            .draw()?;
        if let Some(x) = focus {
            let x = x as f64;
            chart.draw_series([Rectangle::new(
                [(x - 0.48, 0.0), (x + 0.48, 1.0)],
                FOCUS_BAND.filled(),
            )])?;
        }
        for (si, k) in kinds.iter().enumerate() {
            let c = color(*k);
            chart.draw_series(table[si].iter().enumerate().map(|(x, &p)| {
                let x0 = x as f64 - 0.4 + width * si as f64;
                Rectangle::new([(x0, 0.0), (x0 + width * 0.95, p)], c.filled())
            }))?;
        }
        let at = |x: f64, y: f64| chart.plotting_area().map_coordinate(&(x, y));
        (
            (0..shown.len()).map(|x| at(x as f64, 0.0)).collect(),
            at(0.0, 1.0).1,
        )
    };
    let name_style = TextStyle::from((FONT, label_size))
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (x, ((px, py), name)) in bottoms.iter().zip(&names).enumerate() {
        let row = (x % rows) as f64;
        area.draw(&Text::new(
            name.clone(),
            (px - ox, py - oy + 6 + (row * line) as i32),
            name_style.clone(),
        ))?;
    }
    if let (Some(x), Some(text)) = (focus, &focus_text) {
        let style = TextStyle::from((FONT, size * 1.1))
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        area.draw(&Text::new(
            text.clone(),
            (bottoms[x].0 - ox, top - oy - 4),
            style,
        ))?;
    }
    Ok(())
}

/// `[lo, hi]` padded by 5 % (and widened around a constant).
fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = (hi - lo).max(1e-3 * hi.abs().max(1.0));
    (lo - 0.05 * span, hi + 0.05 * span)
}

fn draw_curves<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, data: &FigureData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    type Pick = fn(&Metrics) -> f64;
    let panels: [(&str, Pick, Option<f64>); 4] = [
        ("loss", |m| m.loss, None),
        (
            "expected reward E_π r",
            |m| m.expected_reward,
            Some(data.optimum_metrics.expected_reward),
        ),
        (
            "KL(π || π_ref)",
            |m| m.kl_to_ref,
            Some(data.optimum_metrics.kl_to_ref),
        ),
        (
            "OOD mass",
            |m| m.ood_mass,
            Some(data.optimum_metrics.ood_mass),
        ),
    ];
    let size = (text_size(area) * 0.8).max(MIN_TEXT);
    let cells = area.split_evenly((2, 2));
    let max_step = data
        .series
        .iter()
        .flat_map(|s| s.history.last().map(|(k, _)| *k))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    for (cell, (name, pick, reference)) in cells.iter().zip(panels) {
        let (lo, hi) = padded(
            data.series
                .iter()
                .flat_map(|s| s.history.iter().map(|(_, m)| pick(m)))
                .chain(reference),
        );
        let mut chart = ChartBuilder::on(cell)
            .margin(8)
            .caption(name, (FONT, size * 1.1))
            .x_label_area_size((size * 2.5) as u32)
            .y_label_area_size((size * 4.0) as u32)
            .build_cartesian_2d(0.0..max_step, lo..hi)?;
        chart
            .configure_mesh()
            .x_desc("step")
            .x_labels(5)
            .y_labels(5)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| tick(*v))
            .label_style((FONT, size))
            .axis_desc_style((FONT, size))
            .light_line_style(GRID_FINE)
            .bold_line_style(GRID_BOLD)
            .draw()?;
        if let Some(r) = reference {
            let c = color(Some(MethodKind::Optimal));
            chart.draw_series(DashedLineSeries::new(
                vec![(0.0, r), (max_step, r)],
                8,
                6,
                c.stroke_width(2),
            ))?;
        }
        let slots = data.series.len();
        for (slot, s) in data.series.iter().enumerate() {
            let c = color(Some(s.kind));
            chart.draw_series(LineSeries::new(
                s.history.iter().map(|(k, m)| (*k as f64, pick(m))),
                c.stroke_width(2),
            ))?;
            // The series' marker along the line and at its end, as the app
            // draws it: shape, not only colour, tells the methods apart.
            let (ox, oy) = cell.get_base_pixel();
            for i in
                palette::marker_indices(s.history.len(), slot, slots, palette::MARKERS_PER_CURVE)
            {
                let (k, m) = &s.history[i];
                let v = pick(m);
                if v.is_finite() {
                    let (bx, by) = chart.plotting_area().map_coordinate(&(*k as f64, v));
                    draw_marker(cell, (bx - ox, by - oy), Some(s.kind), (size * 0.3) as i32)?;
                }
            }
        }
    }
    Ok(())
}

fn draw_frontier<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, data: &FigureData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let size = text_size(area);
    let paths: Vec<(MethodKind, Vec<(f64, f64)>)> = data
        .series
        .iter()
        .map(|s| {
            (
                s.kind,
                s.history
                    .iter()
                    .map(|(_, m)| (m.kl_to_ref, m.expected_reward))
                    .collect(),
            )
        })
        .collect();
    let front: Vec<(f64, f64)> = data
        .frontier
        .iter()
        .map(|f| (f.kl_to_ref, f.expected_reward))
        .collect();
    // π_ref: the frontier's start, at KL 0 and the reference's reward.
    let reference = (
        0.0,
        data.problem
            .log_ref
            .iter()
            .zip(&data.problem.reward)
            .filter(|(lp, _)| lp.is_finite())
            .map(|(lp, r)| lp.exp() * r)
            .sum::<f64>(),
    );
    let all = || {
        front
            .iter()
            .chain(paths.iter().flat_map(|p| p.1.iter()))
            .chain([&reference])
    };
    let (x_lo, x_hi) = padded(all().map(|p| p.0));
    let (y_lo, y_hi) = padded(all().map(|p| p.1));
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size((size * 2.8) as u32)
        .y_label_area_size((size * 4.5) as u32)
        .build_cartesian_2d(x_lo.max(0.0)..x_hi, y_lo..y_hi)?;
    chart
        .configure_mesh()
        .x_desc("KL(π || π_ref)")
        .y_desc("expected true reward")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style((FONT, size))
        .axis_desc_style((FONT, size))
        .light_line_style(GRID_FINE)
        .bold_line_style(GRID_BOLD)
        .draw()?;
    let (bx, by) = chart.plotting_area().map_coordinate(&reference);
    let (ox, oy) = area.get_base_pixel();
    draw_marker(area, (bx - ox, by - oy), None, (size * 0.45) as i32)?;
    let c = color(Some(MethodKind::Optimal));
    chart.draw_series(DashedLineSeries::new(front, 8, 6, c.stroke_width(2)))?;
    let here = crate::optimal::point(&data.optimum, &data.problem.log_ref, &data.problem.reward);
    let (bx, by) = chart
        .plotting_area()
        .map_coordinate(&(here.kl_to_ref, here.expected_reward));
    let (ox, oy) = area.get_base_pixel();
    draw_marker(
        area,
        (bx - ox, by - oy),
        Some(MethodKind::Optimal),
        (size * 0.45) as i32,
    )?;
    for (kind, path) in &paths {
        let c = color(Some(*kind));
        chart.draw_series(LineSeries::new(path.iter().copied(), c.stroke_width(2)))?;
        if let Some(&end) = path.last() {
            // The end point with the series' own marker (shape, not only
            // colour, tells the methods apart).
            let (bx, by) = chart.plotting_area().map_coordinate(&end);
            let (ox, oy) = area.get_base_pixel();
            draw_marker(area, (bx - ox, by - oy), Some(*kind), (size * 0.45) as i32)?;
        }
    }
    Ok(())
}
