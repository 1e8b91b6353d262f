//! The online-versus-offline table, in the form of the OAIF paper's human
//! evaluation (docs/maths.md §4): win / tie / loss of online DPO against offline
//! DPO under the true reward, computed exactly, and the quality of each.

use dpo_lab::compare::{HeadToHead, head_to_head};
use dpo_lab::method::MethodKind;

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
pub fn ui(ui: &mut egui::Ui, session: &Session) {
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
    ui.strong("As they train");
    let series = |pick: fn(&(usize, f64, f64, f64)) -> f64| -> Vec<[f64; 2]> {
        session
            .head_to_head
            .iter()
            .map(|h| [h.0 as f64, 100.0 * pick(h)])
            .collect()
    };
    egui_plot::Plot::new("win rate")
        .legend(egui_plot::Legend::default())
        .x_axis_label("step")
        .y_axis_label("% of draws (online vs offline)")
        .include_y(0.0)
        .include_y(100.0)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            for (name, pick, color) in [
                (
                    "win",
                    (|h: &(usize, f64, f64, f64)| h.1) as fn(&(usize, f64, f64, f64)) -> f64,
                    egui::Color32::from_rgb(31, 119, 180),
                ),
                ("tie", |h| h.2, egui::Color32::from_rgb(140, 140, 140)),
                ("loss", |h| h.3, egui::Color32::from_rgb(214, 39, 40)),
            ] {
                plot_ui.line(
                    egui_plot::Line::new(name, egui_plot::PlotPoints::from(series(pick)))
                        .color(color)
                        .width(2.0),
                );
            }
        });
}
