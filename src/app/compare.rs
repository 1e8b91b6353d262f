//! The online-versus-offline table, in the form of the OAIF paper's human
//! evaluation (SCIENCE §4): win / tie / loss of online DPO against offline
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
}
