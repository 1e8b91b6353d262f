//! The online-versus-offline table, in the form of the OAIF paper's human
//! evaluation (docs/maths.md §4): win / tie / loss of online DPO against offline
//! DPO under the true reward, computed exactly, and the quality of each.

use dpo_lab::compare::{HeadToHead, head_to_head};
use dpo_lab::method::MethodKind;
use dpo_lab::palette::Dash;

use super::session::Session;

/// The paper's numbers, for comparison.
const OAIF: [(&str, f64, f64, f64, f64, f64); 3] = [
    ("TL;DR (OAIF paper)", 63.74, 28.57, 7.69, 3.95, 3.46),
    ("Helpfulness (OAIF paper)", 58.60, 21.20, 20.20, 4.08, 3.44),
    ("Harmlessness (OAIF paper)", 60.26, 35.90, 3.84, 4.41, 3.57),
];

/// The exact head-to-head of the current online and offline policies.
pub fn current(session: &Session) -> Option<HeadToHead> {
    let on = session.run_of(MethodKind::OnlineDpo)?;
    let off = session.run_of(MethodKind::Dpo)?;
    Some(head_to_head(
        &on.log_probs,
        &off.log_probs,
        &session.scenario.problem.reward,
        0.0,
    ))
}

/// Draws the table.
/// The "Online vs offline" tab (no state of its own).
pub struct ComparePanel;

impl super::Panel for ComparePanel {
    fn ui(&mut self, ui: &mut egui::Ui, session: &Session) {
        draw(ui, session);
    }
}

fn draw(ui: &mut egui::Ui, session: &Session) {
    ui.heading("Online DPO against offline DPO");
    ui.label("Draw one answer from each policy; the one with the higher true reward wins (computed exactly over every pair of answers, not sampled).");
    egui::Grid::new("oaif")
        .striped(true)
        .num_columns(6)
        .show(ui, |ui| {
            for h in [
                "task",
                "win",
                "tie",
                "loss",
                "quality online",
                "quality offline",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            match current(session) {
                Some(h) => {
                    ui.strong(format!("{} (this run)", session.scenario.name()));
                    ui.monospace(format!("{:.2}%", 100.0 * h.win));
                    ui.monospace(format!("{:.2}%", 100.0 * h.tie));
                    ui.monospace(format!("{:.2}%", 100.0 * h.loss));
                    ui.monospace(format!("{:.4}", h.quality_a));
                    ui.monospace(format!("{:.4}", h.quality_b));
                }
                None => {
                    ui.label("Tick both offline DPO and online DPO in the controls.");
                }
            }
            ui.end_row();
            for (task, w, t, l, qa, qb) in OAIF {
                ui.label(task);
                for v in [w, t, l] {
                    ui.monospace(format!("{v:.2}%"));
                }
                ui.monospace(format!("{qa:.2}"));
                ui.monospace(format!("{qb:.2}"));
                ui.end_row();
            }
        });
    ui.label("Quality here is the expected true reward; the paper's is a 1–5 human score.");
    ui.separator();
    // Share k (0 win, 1 tie, 2 loss) in % against the step.
    let series = |k: usize| -> Vec<[f64; 2]> {
        session
            .head_to_head
            .iter()
            .map(|h| [h.0 as f64, 100.0 * [h.1, h.2, h.3][k]])
            .collect()
    };
    // Okabe–Ito colours and a line pattern each; the legend above the
    // plot, not over its newest points.
    let looks = [
        ("win", [0, 114, 178], Dash::Solid),
        ("tie", [136, 136, 136], Dash::Dotted),
        ("loss", [213, 94, 0], Dash::Dashed),
    ];
    ui.horizontal_wrapped(|ui| {
        ui.strong("As they train");
        ui.label("(online DPO against offline DPO):");
        for (name, [r, g, b], dash) in looks {
            super::cue::legend_item(ui, egui::Color32::from_rgb(r, g, b), None, Some(dash), name);
        }
    });
    super::cue::readable_axes(egui_plot::Plot::new("win rate"), "step", "% of pairs")
        .include_y(0.0)
        .include_y(100.0)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            for (k, (name, [r, g, b], dash)) in looks.into_iter().enumerate() {
                plot_ui.line(
                    egui_plot::Line::new(name, egui_plot::PlotPoints::from(series(k)))
                        .color(egui::Color32::from_rgb(r, g, b))
                        .style(super::cue::dash_style(dash))
                        .width(2.0),
                );
            }
        });
}
