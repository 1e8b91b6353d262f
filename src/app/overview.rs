//! The Overview tab: the bars (π_ref, π*, each run), the lines under them
//! (OOD top, pinned answers' implicit rewards, CHES, slow motion) and the
//! curves over training steps.

use super::*;

/// After a single Step: per run, the pairs of that step, most weight first
/// (at most 6, repeats counted), on one line each.
fn slow_motion(ui: &mut egui::Ui, session: &Session) {
    let space = &session.scenario.problem.space;
    for r in session.runs.iter().filter(|r| !r.before_step.is_empty()) {
        let pairs = r.run.last_pairs();
        if pairs.is_empty() {
            continue;
        }
        let mut grouped: Vec<((usize, usize), f64, usize)> = Vec::new();
        // A response against itself carries no gradient: not listed.
        for p in pairs.iter().filter(|p| p.chosen != p.rejected) {
            match grouped
                .iter_mut()
                .find(|(k, _, _)| *k == (p.chosen, p.rejected))
            {
                Some(g) => {
                    g.1 += p.weight;
                    g.2 += 1;
                }
                None => grouped.push(((p.chosen, p.rejected), p.weight, 1)),
            }
        }
        grouped.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let shown: Vec<String> = grouped
            .iter()
            .take(6)
            .map(|((c, l), w, k)| {
                let times = if *k > 1 {
                    format!(" ×{k}")
                } else {
                    String::new()
                };
                format!(
                    "'{}' over '{}'{times} ({})",
                    space.name(*c),
                    space.name(*l),
                    dpo_lab::numerics::tick(*w)
                )
            })
            .collect();
        let more = grouped.len().saturating_sub(6);
        let text = format!(
            "Last step, {} ({} pairs, weight in brackets; marks on the bars show where each bar was): {}{}",
            session::method_label(r.kind),
            pairs.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        // One line a run, whatever the window: the plots keep their room
        // (the whole list on hover).
        ui.add(egui::Label::new(text).truncate());
    }
}

impl DpoLabApp {
    /// Draws the Overview tab.
    pub(super) fn overview(&mut self, ui: &mut egui::Ui) {
        let h = ui.available_height();
        // A small window (a projector at 1024×768, or zoomed): the
        // bars and one curve at a time, each large enough to read.
        let compact = h < 560.0 || ui.available_width() < 640.0;
        // Presenter mode: a slide — the bars and the stop's key
        // curve side by side, as large as the window.
        let top = if self.presenter.is_some() {
            (h - 110.0).max(120.0)
        } else if compact {
            (h * 0.55).max(110.0)
        } else {
            (h * 0.44).max(120.0)
        };
        // A small window shows at most 8 bars, so their names fit
        // in two rows.
        let limit = if compact { 8 } else { usize::MAX };
        let key = BarOrderKey {
            sort: self.settings.sort,
            top_k: self.settings.top_k.min(limit),
            pinned: self.pinned.clone(),
            responses: self.session.scenario.problem.len(),
        };
        let stale = self.bar_order.as_ref().is_none_or(|(k, _)| *k != key);
        // Slow motion keeps the bars in their slots between Steps too.
        let stepping = self.session.runs.iter().any(|r| !r.before_step.is_empty());
        if stale || (!self.playing && !stepping) {
            let order = plots::shown_responses(&self.session, &self.settings, &self.pinned, limit);
            self.bar_order = Some((key, order));
        }
        let (shown, rest) = self
            .bar_order
            .as_ref()
            .map(|(_, (s, r))| (s.clone(), *r))
            .unwrap_or_default();
        let ghost = self.ghost.as_ref().filter(|_| self.settings.show_ghost);
        let key = self
            .lessons
            .lesson()
            .map_or(Curve::OodMass, |l| l.key_curve);
        let session_ref = &self.session;
        let enlarged = &mut self.enlarged_curve;
        let mut beside = |ui: &mut egui::Ui| {
            // As tall as the bars' column: legend, plot, axis label.
            curves::curves(ui, session_ref, top + 44.0, ghost, enlarged, Some(key));
        };
        let bars = plots::distribution(
            ui,
            &self.session,
            &self.settings,
            plots::BarsView {
                shown: &shown,
                rest,
                pinned: &self.pinned,
                ghost,
            },
            top,
            if compact || self.presenter.is_some() {
                Some(&mut beside)
            } else {
                None
            },
        );
        self.focus_bar = bars.focus_bar;
        if let Some(y) = bars.clicked {
            if let Some(k) = self.pinned.iter().position(|&p| p == y) {
                self.pinned.remove(k);
            } else if self.pinned.len() < dpo_lab::scenario::MAX_FOCUS {
                self.pinned.push(y);
            }
        }
        // A slide shows the bars and the key curve, nothing else.
        if self.presenter.is_some() {
            return;
        }
        // One line each in a small window (the rest on hover).
        let info_line = |ui: &mut egui::Ui, text: String| {
            if compact {
                ui.add(egui::Label::new(text).truncate());
            } else {
                ui.label(text);
            }
        };
        if let Some(top) = self
            .session
            .runs
            .iter()
            .find_map(|r| r.metrics.ood_top.as_ref().map(|t| (r.kind, t)))
        {
            info_line(
                ui,
                format!(
                    "OOD top ({}): \"{}\" {}, implicit reward {:.3}",
                    session::method_label(top.0),
                    top.1.response,
                    dpo_lab::numerics::probability_beside_reference(
                        top.1.probability,
                        top.1.reference,
                        5
                    ),
                    top.1.implicit_reward
                ),
            );
        }
        // The pinned answers' implicit rewards as numbers (lesson 3
        // compares them), for the first trained run.
        if let Some(run) = self.session.runs.first()
            && !self.pinned.is_empty()
        {
            let p = &self.session.scenario.problem;
            let beta = self.session.scenario.train.beta();
            let parts: Vec<String> = self
                .pinned
                .iter()
                .filter(|&&y| y < p.len())
                .map(|&y| {
                    let v = dpo_lab::metrics::implicit_reward(beta, run.log_probs[y], p.log_ref[y])
                        .map_or_else(|| "–".into(), |v| format!("{v:.4}"));
                    format!("{} {v}", p.space.name(y))
                })
                .collect();
            info_line(
                ui,
                format!(
                    "Implicit reward β·log(π/π_ref) of the pinned answers ({}): {}",
                    session::method_label(run.kind),
                    parts.join(" · ")
                ),
            );
        }
        // Log-linear policies: how alike the pair's embeddings are
        // (Razin's CHES), at the offline DPO run's current policy.
        let sc = &self.session.scenario;
        // (The feature table is rebuilt per frame: small spaces only.)
        if sc.problem.len() <= 10_000
            && let Some(run) = self.session.runs.iter().find(|r| r.kind == MethodKind::Dpo)
            && let Ok(Some(c)) =
                dpo_lab::derivation::ches(&sc.policy, &sc.problem, &sc.data, &run.log_probs)
        {
            info_line(
                ui,
                format!(
                    "CHES (Razin) of the pairs: {:.4}; at offline DPO's policy {:.4} ({})",
                    c.score,
                    c.at_policy,
                    if c.at_policy > 0.0 {
                        "> 0: its next step lowers log π(chosen)"
                    } else {
                        "at most 0: its next step does not lower log π(chosen)"
                    }
                ),
            );
        }
        // Slow motion: after a single Step, the pairs each run
        // trained on (online DPO's as its annotator judged them).
        if self.presenter.is_none() {
            slow_motion(ui, &self.session);
        }
        if self.presenter.is_none() && !compact {
            let rest = ui.available_height();
            // Two rows of curves need about 300 points to keep their
            // ticks; with less, one curve at a time fills the rest.
            let one_at_a_time = rest < 300.0;
            let key = self
                .lessons
                .lesson()
                .map_or(Curve::OodMass, |l| l.key_curve);
            curves::curves(
                ui,
                &self.session,
                if one_at_a_time {
                    rest - 4.0
                } else {
                    ((rest - 90.0) / 2.0).max(60.0)
                },
                self.ghost.as_ref().filter(|_| self.settings.show_ghost),
                &mut self.enlarged_curve,
                one_at_a_time.then_some(key),
            );
        }
    }
}
