//! The derivation panel: the identities of the closed form checked live for
//! each trained policy, the recovered reward against the true one, the DPO
//! loss of a chosen pair term by term, and the DPO solution set next to the
//! path gradient descent takes.

use dpo_lab::palette::{Dash, Marker};
use egui_plot::{Line, Plot, PlotPoints, Points};

use dpo_lab::derivation::{
    dpo_loss_at, identities, ood_mass, pair_terms, solution_set_curve, solution_set_move,
};
use dpo_lab::loss::PairLoss;
use dpo_lab::method::MethodKind;
use dpo_lab::optimal::recovered_reward;

use super::plots::color;
use super::session::{Session, method_label};

/// The panel's sections (the library's: a lesson file names one).
pub use dpo_lab::lesson::Section;

/// The panel's own state.
#[derive(Default)]
pub struct DerivationPanel {
    /// The section shown first.
    pub first: Section,
    /// Index into the data's pairs of the pair to break down.
    pub pair: usize,
    /// How far along the solution set, in [0, 0.95].
    pub shift: f64,
}

fn number(ui: &mut egui::Ui, v: f64) {
    // −1e-17 is a rounded zero: print it as one.
    let v = if v.abs() < 5e-7 { 0.0 } else { v };
    ui.monospace(format!("{v:>12.6}"));
}

impl DerivationPanel {
    fn pair_ui(&mut self, ui: &mut egui::Ui, session: &Session) {
        let p = &session.scenario.problem;
        let beta = session.scenario.train.beta();
        let pairs: Vec<(usize, usize)> = session
            .scenario
            .data
            .pairs
            .iter()
            .filter(|p| p.chosen != p.rejected && p.weight > 0.0)
            .map(|p| (p.chosen, p.rejected))
            .take(200)
            .collect();
        ui.heading("The DPO loss of one pair");
        if pairs.is_empty() {
            ui.label("The data has no pairs of distinct responses.");
            return;
        }
        self.pair = self.pair.min(pairs.len() - 1);
        let name = |k: usize| {
            format!(
                "{} > {}",
                p.space.name(pairs[k].0),
                p.space.name(pairs[k].1)
            )
        };
        egui::ComboBox::from_label("pair (chosen > rejected)")
            .selected_text(name(self.pair))
            .show_ui(ui, |ui| {
                for k in 0..pairs.len() {
                    ui.selectable_value(&mut self.pair, k, name(k));
                }
            });
        let (c, r) = pairs[self.pair];
        ui.label("−log σ(u),  u = β·[log π(y+)/π_ref(y+) − log π(y−)/π_ref(y−)]");
        egui::Grid::new("pair terms")
            .striped(true)
            .num_columns(6)
            .show(ui, |ui| {
                for h in ["policy", "h(y+)", "h(y−)", "u", "σ(u)", "loss −log σ(u)"] {
                    ui.strong(h);
                }
                ui.end_row();
                for run in &session.runs {
                    let t = pair_terms(&run.log_ratios, c, r, beta);
                    ui.colored_label(color(Some(run.kind)), method_label(run.kind));
                    for v in [t.h_chosen, t.h_rejected, t.u, t.sigma, t.loss] {
                        number(ui, v);
                    }
                    ui.end_row();
                }
            });
    }

    fn solution_set_ui(&mut self, ui: &mut egui::Ui, session: &Session) {
        let p = &session.scenario.problem;
        let beta = session.scenario.train.beta();
        let data = &session.scenario.data;
        ui.heading("The DPO solution set (Xu et al. 2024)");
        ui.label("Scale every in-data probability by 1 − t and give t to the out-of-data responses: all in-data log-ratios shift together, so the DPO loss on the data does not change at all.");
        let Some(run) = session.run_of(MethodKind::Dpo).or(session.runs.first()) else {
            ui.label("Select a method to train.");
            return;
        };
        ui.add(
            egui::Slider::new(&mut self.shift, 0.0..=0.95)
                .text("move t onto out-of-data responses"),
        );
        let loss_of = |log_pi: &[f64]| dpo_loss_at(log_pi, &p.log_ref, &data.pairs, beta);
        let ood = |log_pi: &[f64]| ood_mass(log_pi, &data.in_data);
        let Some(moved) = solution_set_move(&run.log_probs, &p.log_ref, &data.in_data, self.shift)
        else {
            ui.label("Every response is in the data: there is nowhere to move mass.");
            return;
        };
        egui::Grid::new("solution set")
            .striped(true)
            .show(ui, |ui| {
                for h in ["", "DPO loss on the data", "OOD mass"] {
                    ui.strong(h);
                }
                ui.end_row();
                ui.label(format!("{} now", method_label(run.kind)));
                number(ui, loss_of(&run.log_probs));
                number(ui, ood(&run.log_probs));
                ui.end_row();
                ui.label(format!("moved by t = {:.2}", self.shift));
                number(ui, loss_of(&moved));
                number(ui, ood(&moved));
                ui.end_row();
            });
        let line = solution_set_curve(
            &run.log_probs,
            &p.log_ref,
            &data.pairs,
            &data.in_data,
            beta,
            0.95,
            19,
        );
        // The path is the run's own loss: on this axis only when that loss
        // is the DPO loss on the whole data (not IPO, an online batch or
        // RLHF's −J).
        let same_loss =
            run.kind == MethodKind::Dpo && session.scenario.train.loss() == PairLoss::Dpo;
        let path: Vec<[f64; 2]> = if same_loss {
            run.history
                .iter()
                .map(|(_, m)| [m.ood_mass, m.loss])
                .collect()
        } else {
            ui.label(format!(
                "{}'s training path is not drawn: its own loss is not the DPO loss on the data.",
                method_label(run.kind)
            ));
            Vec::new()
        };
        // Three things told apart by colour and by shape (line, dashed line,
        // diamond), with the legend above the plot, not over it.
        let set_color = egui::Color32::from_rgb(86, 180, 233); // Okabe–Ito sky blue
        let moved_color = ui.visuals().strong_text_color();
        ui.horizontal_wrapped(|ui| {
            if !path.is_empty() {
                super::cue::legend_entry(
                    ui,
                    Some(run.kind),
                    &format!("{} path (gradient descent)", method_label(run.kind)),
                    super::cue::Swatch::Line,
                );
            }
            super::cue::legend_item(
                ui,
                set_color,
                None,
                Some(Dash::Dashed),
                "solution set (loss unchanged)",
            );
            super::cue::legend_item(
                ui,
                moved_color,
                Some(Marker::Diamond),
                None,
                "the moved policy",
            );
        });
        super::cue::readable_axes(
            Plot::new("solution set plot"),
            "OOD mass",
            "DPO loss on the data",
        )
        .height(220.0)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            if let Some(&end) = path.last() {
                plot_ui.points(
                    Points::new("now", PlotPoints::from(vec![end]))
                        .shape(super::cue::marker_shape(Some(run.kind)))
                        .radius(4.0)
                        .color(color(Some(run.kind))),
                );
            }
            plot_ui.line(
                Line::new(
                    format!("{} path (gradient descent)", method_label(run.kind)),
                    PlotPoints::from(path),
                )
                .color(color(Some(run.kind))),
            );
            plot_ui.line(
                Line::new("solution set (loss unchanged)", PlotPoints::from(line))
                    .color(set_color)
                    .style(super::cue::dash_style(Dash::Dashed))
                    .width(2.0),
            );
            plot_ui.points(
                Points::new(
                    "moved policy",
                    PlotPoints::from(vec![[ood(&moved), loss_of(&moved)]]),
                )
                .shape(super::cue::shape_of(Marker::Diamond))
                .color(moved_color)
                .radius(6.0),
            );
        });
    }
}

/// The identities of the closed form for each trained policy and π_ref,
/// and the recovered reward against the true one.
fn closed_form_ui(ui: &mut egui::Ui, session: &Session) {
    let p = &session.scenario.problem;
    let beta = session.scenario.train.beta();
    let opt = &session.optimum;
    // π_ref's row; its recovery error is also the table's.
    let reference = identities(p, opt, &p.log_ref);
    ui.heading("The closed form, checked live");
    ui.label(format!(
        "β = {beta:.4}: π* = π_ref·exp(r/β)/Z, log Z = {:.6}",
        opt.log_partition
    ));
    egui::Grid::new("identities")
        .striped(true)
        .num_columns(6)
        .show(ui, |ui| {
            for h in [
                "policy π",
                "Σπ*",
                "J(π*)",
                "β log Z",
                "J(π*) − J(π)",
                "β·KL(π||π*)",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            // One row: the policy's name, then its five numbers.
            let row = |ui: &mut egui::Ui, id: &dpo_lab::derivation::Identities| {
                for v in [
                    id.optimum_sum,
                    id.optimum_value,
                    id.beta_log_z,
                    id.gap,
                    id.beta_kl,
                ] {
                    number(ui, v);
                }
                ui.end_row();
            };
            for r in &session.runs {
                ui.colored_label(color(Some(r.kind)), method_label(r.kind));
                row(ui, &identities(p, opt, &r.log_probs));
            }
            ui.label("π_ref");
            row(ui, &reference);
        });
    let rec = recovered_reward(opt, &p.log_ref);
    let worst = reference.recovery_error;
    ui.label(format!(
            "Reward recovery: r = β·log(π*/π_ref) + β·log Z, largest error {worst:.2e} over the support."
        ));
    egui::CollapsingHeader::new("recovered reward against the true one").show(ui, |ui| {
        egui::Grid::new("recovery").striped(true).show(ui, |ui| {
            for h in ["response", "true r", "recovered"] {
                ui.strong(h);
            }
            ui.end_row();
            for (y, rec_y) in rec.iter().enumerate().take(40) {
                ui.label(p.space.name(y));
                number(ui, p.reward[y]);
                match *rec_y {
                    Some(v) => number(ui, v),
                    None => {
                        ui.label("— (π_ref = 0)");
                    }
                }
                ui.end_row();
            }
        });
    });
}

/// One step on the data's first pair, two ways (the library's
/// `derivation::squeeze`): the rejected term alone against the paired DPO
/// step, answer by answer for the most probable answers and the pair.
fn squeeze_ui(ui: &mut egui::Ui, session: &Session) {
    ui.heading("Squeezing (Ren & Sutherland 2024)");
    let p = &session.scenario.problem;
    let Some(&dpo_lab::data::Pair {
        chosen: w,
        rejected: l,
        ..
    }) = session
        .scenario
        .data
        .pairs
        .iter()
        .find(|p| p.chosen != p.rejected)
    else {
        ui.label("The data has no pair of two different answers.");
        return;
    };
    // The example is the lesson's: always from π_ref, whatever Play has
    // trained since (the trained policy would teach another example).
    let policy = match dpo_lab::policy::Policy::new(&session.scenario.policy, p) {
        Ok(policy) => policy,
        Err(e) => {
            ui.label(format!("{e}"));
            return;
        }
    };
    let sq = dpo_lab::derivation::squeeze(&policy, w, l, session.scenario.train.beta(), 1.0);
    ui.label(format!(
        "One step (lr 1) from π_ref on the pair {:?} beats {:?}: its rejected half alone (the same coefficient β·σ(−βΔ)) pushes the rejected answer down and raises every other logit by its own probability, so the most likely answer gains most; the whole paired DPO step moves only the pair's two logits.",
        p.space.name(w),
        p.space.name(l)
    ));
    let log_ref = &p.log_ref;
    let mut shown = dpo_lab::metrics::top_k_by(p.len(), 8, |y| log_ref[y]);
    for y in [w, l] {
        if !shown.contains(&y) {
            shown.push(y);
        }
    }
    egui::Grid::new("squeeze").striped(true).show(ui, |ui| {
        for h in [
            "answer",
            "π_ref",
            "Δπ, rejected half alone",
            "Δπ, paired DPO step",
        ] {
            ui.strong(h);
        }
        ui.end_row();
        for &y in &shown {
            let tag = if y == w {
                " (chosen)"
            } else if y == l {
                " (rejected)"
            } else {
                ""
            };
            ui.label(format!("{}{tag}", p.space.name(y)));
            number(ui, log_ref[y].exp());
            number(ui, sq.rejected_only[y]);
            number(ui, sq.paired[y]);
            ui.end_row();
        }
    });
}

impl super::Panel for DerivationPanel {
    /// Draws the panel: a row to pick the section shown first (a guided
    /// stop picks its own), then every section.
    fn ui(&mut self, ui: &mut egui::Ui, session: &Session) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Show first:");
            for sec in Section::ALL {
                if ui
                    .selectable_label(self.first == sec, sec.title())
                    .clicked()
                {
                    self.first = sec;
                }
            }
        });
        let first = self.first;
        let order: Vec<Section> = std::iter::once(first)
            .chain(Section::ALL.into_iter().filter(|&s| s != first))
            .collect();
        egui::ScrollArea::vertical().show(ui, |ui| {
            for (k, &sec) in order.iter().enumerate() {
                if k > 0 {
                    ui.separator();
                }
                match sec {
                    Section::ClosedForm => closed_form_ui(ui, session),
                    Section::PairLoss => self.pair_ui(ui, session),
                    Section::Squeezing => squeeze_ui(ui, session),
                    Section::SolutionSet => self.solution_set_ui(ui, session),
                }
            }
        });
    }
}
