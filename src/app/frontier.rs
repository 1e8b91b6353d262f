//! The reward–KL tab: π*'s exact frontier, best-of-n and each run.

use egui_plot::{Line, Plot, PlotPoints, Points};

use dpo_lab::method::MethodKind;
use dpo_lab::palette::Dash;

use super::cue;
use super::session::{Session, method_label};

use super::plots::color;

/// The reward–KL tab (no state of its own).
pub struct FrontierPanel;

impl super::Panel for FrontierPanel {
    fn ui(&mut self, ui: &mut egui::Ui, session: &Session) {
        frontier(ui, session);
    }
}

/// The reward–KL plane: the exact frontier and each method's path.
fn frontier(ui: &mut egui::Ui, session: &Session) {
    let curve: Vec<[f64; 2]> = session
        .frontier
        .iter()
        .map(|f| [f.kl_to_ref, f.expected_reward])
        .collect();
    let p = &session.scenario.problem;
    let here = dpo_lab::optimal::point(&session.optimum, &p.log_ref, &p.reward);
    let (opt_kl, opt_r) = (here.kl_to_ref, here.expected_reward);
    // The legend outside the plotting area: a row above it, so nothing
    // covers the frontier or π*'s diamond.
    ui.horizontal_wrapped(|ui| {
        cue::legend_item(
            ui,
            color(Some(MethodKind::Optimal)),
            None,
            Some(Dash::Solid),
            "optimal frontier (π* over β)",
        );
        cue::legend_entry(
            ui,
            Some(MethodKind::Optimal),
            &format!("π* at β = {:.3}", session.optimum.beta),
            cue::Swatch::Marker,
        );
        if !session.best_of_n.is_empty() {
            cue::legend_entry(
                ui,
                None,
                "best-of-n (n = 1, 2, 4 … 1024)",
                cue::Swatch::Marker,
            );
        }
        for r in &session.runs {
            cue::legend_entry(
                ui,
                Some(r.kind),
                &format!("{} (marker: now)", method_label(r.kind)),
                cue::Swatch::Line,
            );
        }
    });
    // Readable ticks on both axes when zoomed (a projector).
    cue::readable_axes(
        Plot::new("frontier"),
        "KL(π || π_ref)",
        "expected true reward E_π r",
    )
    .allow_scroll(false)
    .show(ui, |plot_ui| {
        plot_ui.line(
            Line::new("optimal frontier (π* over β)", PlotPoints::from(curve))
                .color(color(Some(MethodKind::Optimal)))
                .width(2.0),
        );
        // Best-of-n from π_ref, n = 1 … 1024: exact, and never above
        // the frontier (π* maximises reward at every KL).
        let bon: Vec<[f64; 2]> = session
            .best_of_n
            .iter()
            .map(|&(_, kl, r)| [kl, r])
            .collect();
        plot_ui.line(
            Line::new(
                "best-of-n (n = 1, 2, 4 … 1024)",
                PlotPoints::from(bon.clone()),
            )
            .color(color(None))
            .style(egui_plot::LineStyle::dashed_dense()),
        );
        plot_ui.points(
            Points::new("best-of-n (n = 1, 2, 4 … 1024)", PlotPoints::from(bon))
                .shape(cue::marker_shape(None))
                .radius(6.0)
                .color(color(None)),
        );
        plot_ui.points(
            Points::new(
                format!("π* at β = {:.3}", session.optimum.beta),
                PlotPoints::from(vec![[opt_kl, opt_r]]),
            )
            .shape(cue::marker_shape(Some(MethodKind::Optimal)))
            .radius(7.0)
            .color(color(Some(MethodKind::Optimal))),
        );
        for r in &session.runs {
            let path: Vec<[f64; 2]> = r
                .history
                .iter()
                .map(|(_, m)| [m.kl_to_ref, m.expected_reward])
                .collect();
            let last = path.last().copied();
            plot_ui.line(
                Line::new(method_label(r.kind), PlotPoints::from(path))
                    .color(color(Some(r.kind)))
                    .width(2.5),
            );
            if let Some(last) = last {
                plot_ui.points(
                    Points::new(method_label(r.kind), PlotPoints::from(vec![last]))
                        .shape(cue::marker_shape(Some(r.kind)))
                        .radius(cue::radius(Some(r.kind), 6.0))
                        .color(color(Some(r.kind))),
                );
            }
        }
    });
}
