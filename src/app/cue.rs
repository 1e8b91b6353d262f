//! The redundant cue beside colour: every series keeps the marker shape
//! and line pattern of [`dpo_lab::palette`] in the app's plots and legend
//! swatches, as `dpo-lab figure` does, so no two series are told apart by
//! colour alone (in grey, on a washed-out projector, with any colour-vision
//! deficiency).

use egui::{Color32, Pos2, Shape, Stroke, Vec2};
use egui_plot::{LineStyle, MarkerShape};

use dpo_lab::palette::{self, Dash, Marker, SeriesKind};

use super::plots::color;

/// The series' marker as egui_plot draws it.
pub fn marker_shape(kind: SeriesKind) -> MarkerShape {
    shape_of(palette::marker(kind))
}

/// A marker's radius for `kind` at size `r`: egui_plot strokes a "+" at a
/// fifth of its radius, so RLHF's is drawn twice as large (a 2-point
/// stroke at `r = 5`) to read as clearly as the filled shapes.
pub fn radius(kind: SeriesKind, r: f32) -> f32 {
    if palette::marker(kind) == palette::Marker::Plus {
        2.0 * r
    } else {
        r
    }
}

/// The series' line pattern as egui_plot draws it.
pub fn line_style(kind: SeriesKind) -> LineStyle {
    dash_style(palette::dash(kind))
}

/// The marker for responses outside the data: a cross (×, as the names
/// below the bars mark them) in the text colour, which no series uses.
pub const OOD_SHAPE: MarkerShape = MarkerShape::Cross;

/// The out-of-data marker's colour: the theme's strong text colour.
pub fn ood_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().strong_text_color()
}

/// Paints `marker` centred at `c` with half-size `r`.
pub fn paint_marker(painter: &egui::Painter, c: Pos2, r: f32, marker: Marker, col: Color32) {
    let stroke = Stroke::new((r * 0.45).max(1.5), col);
    match marker {
        Marker::Circle => {
            painter.circle_filled(c, r, col);
        }
        Marker::Square => {
            painter.rect_filled(
                egui::Rect::from_center_size(c, Vec2::splat(1.7 * r)),
                0.0,
                col,
            );
        }
        Marker::Diamond => {
            let pts = vec![
                c + Vec2::new(0.0, -r * 1.2),
                c + Vec2::new(r * 1.2, 0.0),
                c + Vec2::new(0.0, r * 1.2),
                c + Vec2::new(-r * 1.2, 0.0),
            ];
            painter.add(Shape::convex_polygon(pts, col, Stroke::NONE));
        }
        Marker::Triangle => {
            let pts = vec![
                c + Vec2::new(0.0, -r * 1.15),
                c + Vec2::new(r * 1.1, r * 0.8),
                c + Vec2::new(-r * 1.1, r * 0.8),
            ];
            painter.add(Shape::convex_polygon(pts, col, Stroke::NONE));
        }
        Marker::TriangleDown => {
            let pts = vec![
                c + Vec2::new(0.0, r * 1.15),
                c + Vec2::new(r * 1.1, -r * 0.8),
                c + Vec2::new(-r * 1.1, -r * 0.8),
            ];
            painter.add(Shape::convex_polygon(pts, col, Stroke::NONE));
        }
        Marker::TriangleRight => {
            let pts = vec![
                c + Vec2::new(r * 1.15, 0.0),
                c + Vec2::new(-r * 0.8, -r * 1.1),
                c + Vec2::new(-r * 0.8, r * 1.1),
            ];
            painter.add(Shape::convex_polygon(pts, col, Stroke::NONE));
        }
        Marker::TriangleLeft => {
            let pts = vec![
                c + Vec2::new(-r * 1.15, 0.0),
                c + Vec2::new(r * 0.8, r * 1.1),
                c + Vec2::new(r * 0.8, -r * 1.1),
            ];
            painter.add(Shape::convex_polygon(pts, col, Stroke::NONE));
        }
        Marker::Plus => {
            painter.line_segment([c + Vec2::new(-r, 0.0), c + Vec2::new(r, 0.0)], stroke);
            painter.line_segment([c + Vec2::new(0.0, -r), c + Vec2::new(0.0, r)], stroke);
        }
    }
}

/// What a legend swatch shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swatch {
    /// The marker alone (bars, points).
    Marker,
    /// The line pattern with the marker on it (curves).
    Line,
}

/// A legend entry: the series' swatch painted in its colour, then its name.
pub fn legend_entry(ui: &mut egui::Ui, kind: SeriesKind, text: &str, swatch: Swatch) {
    let dash = (swatch == Swatch::Line).then(|| palette::dash(kind));
    legend_item(ui, color(kind), Some(palette::marker(kind)), dash, text);
}

/// A legend entry for any line or marker: the line pattern (if any) with
/// the marker (if any) on it, in `col`, then `text` in `col`. Legends sit
/// in a row above their plot, never over the data.
pub fn legend_item(
    ui: &mut egui::Ui,
    col: Color32,
    marker: Option<Marker>,
    dash: Option<Dash>,
    text: &str,
) {
    // Swatch and label in one unit: a wrapping row never splits them.
    ui.horizontal(|ui| {
        let h = ui.text_style_height(&egui::TextStyle::Body);
        let w = if dash.is_some() { 2.2 * h } else { h };
        let (rect, _) = ui.allocate_exact_size(Vec2::new(w, h), egui::Sense::hover());
        let painter = ui.painter();
        let y = rect.center().y;
        let ends = [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)];
        let stroke = Stroke::new(1.8, col);
        match dash {
            None => {}
            Some(Dash::Solid) => {
                painter.line_segment(ends, stroke);
            }
            Some(Dash::Dashed) => {
                painter.extend(Shape::dashed_line(&ends, stroke, 5.0, 3.0));
            }
            Some(Dash::Dotted) => {
                painter.extend(Shape::dotted_line(&ends, col, 3.5, 1.0));
            }
        }
        if let Some(m) = marker {
            paint_marker(painter, rect.center(), h * 0.27, m, col);
        }
        ui.add(
            egui::Label::new(egui::RichText::new(text).color(col))
                .wrap_mode(egui::TextWrapMode::Extend),
        );
    });
}

/// The egui_plot line pattern of a [`Dash`].
pub fn dash_style(dash: Dash) -> LineStyle {
    match dash {
        Dash::Solid => LineStyle::Solid,
        Dash::Dashed => LineStyle::dashed_loose(),
        Dash::Dotted => LineStyle::dotted_dense(),
    }
}

/// The egui_plot marker of a [`Marker`].
pub fn shape_of(marker: Marker) -> MarkerShape {
    match marker {
        Marker::Square => MarkerShape::Square,
        Marker::Diamond => MarkerShape::Diamond,
        Marker::Circle => MarkerShape::Circle,
        Marker::Triangle => MarkerShape::Up,
        Marker::TriangleDown => MarkerShape::Down,
        Marker::Plus => MarkerShape::Plus,
        Marker::TriangleRight => MarkerShape::Right,
        Marker::TriangleLeft => MarkerShape::Left,
    }
}

/// How far apart (points) x tick labels must be to show: egui_plot fades
/// a label in across this range, and a faded label cannot be read on a
/// projector, so the range is narrow — a label shows at (nearly) full
/// strength or not at all.
pub const X_LABELS: std::ops::RangeInclusive<f32> = 30.0..=32.0;

/// The same for y tick labels (one text line high).
pub const Y_LABELS: std::ops::RangeInclusive<f32> = 15.0..=16.0;

/// The same for the bars' slot numbers (at most "12" and "rest").
pub const SLOT_LABELS: std::ops::RangeInclusive<f32> = 16.0..=17.0;

/// Axes that stay readable on a zoomed projector: 1-2-5 grids on both axes
/// and tick labels of at most 4 significant digits allowed closer together
/// than egui's default, so a short plot keeps several.
pub fn readable_axes<'a>(plot: egui_plot::Plot<'a>, x: &str, y: &str) -> egui_plot::Plot<'a> {
    plot.x_grid_spacer(super::plots::nice_grid)
        .y_grid_spacer(super::plots::nice_grid)
        .custom_x_axes(vec![
            egui_plot::AxisHints::new_x()
                .label(x)
                .label_spacing(X_LABELS)
                .formatter(|mark, _| dpo_lab::numerics::tick(mark.value)),
        ])
        .custom_y_axes(vec![
            egui_plot::AxisHints::new_y()
                .label(y)
                .label_spacing(Y_LABELS)
                .formatter(|mark, _| dpo_lab::numerics::tick(mark.value)),
        ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use dpo_lab::palette::ALL;

    #[test]
    fn every_series_has_its_own_marker_and_none_is_the_ood_mark() {
        for (i, a) in ALL.iter().enumerate() {
            assert_ne!(marker_shape(*a), OOD_SHAPE);
            for b in &ALL[i + 1..] {
                assert_ne!(marker_shape(*a), marker_shape(*b), "{a:?} and {b:?}");
            }
        }
    }
}
