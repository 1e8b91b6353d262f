//! The toolbar (play, step, reset, lessons, zoom, theme), keyboard
//! shortcuts, and the status bar under the plots.

use super::*;

impl DpoLabApp {
    pub(super) fn shortcuts(&self, ctx: &egui::Context, out: &mut Vec<Command>) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        ctx.input(|i| {
            if i.key_pressed(egui::Key::Space) {
                out.push(Command::TogglePlay);
            }
            if i.key_pressed(egui::Key::S) {
                out.push(Command::Step);
            }
            if i.key_pressed(egui::Key::R) {
                out.push(Command::Reset);
            }
            if i.key_pressed(egui::Key::F11) || i.key_pressed(egui::Key::P) {
                out.push(Command::Presenter);
            }
            if i.key_pressed(egui::Key::Questionmark) || i.key_pressed(egui::Key::F1) {
                out.push(Command::Help);
            }
        });
    }

    /// A window too small for the full layout (a zoomed projector).
    pub(super) fn small_window(&self, ctx: &egui::Context) -> bool {
        let r = ctx.content_rect();
        r.width() < 800.0 || r.height() < 560.0
    }

    /// Whether the settings panel shows: the user's choice, else hidden in
    /// a small window and in presenter mode.
    pub(super) fn controls_visible(&self, ctx: &egui::Context) -> bool {
        self.controls
            .unwrap_or(!self.small_window(ctx) && self.presenter.is_none())
    }

    /// The toolbar's view controls: A− / A+, theme, presenter mode, the
    /// controls panel and help.
    fn view_buttons(&mut self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        if ui.button("A−").on_hover_text("Smaller text").clicked() {
            self.settings.zoom = (self.settings.zoom - 0.1).max(0.6);
        }
        if ui
            .button("A+")
            .on_hover_text("Larger text (projector)")
            .clicked()
        {
            self.settings.zoom = (self.settings.zoom + 0.1).min(2.5);
        }
        let theme = if self.settings.dark {
            "Light theme"
        } else {
            "Dark theme"
        };
        if ui.button(theme).on_hover_text("Switch theme").clicked() {
            self.settings.dark = !self.settings.dark;
        }
        let present = if self.presenter.is_some() {
            "Leave presenter"
        } else {
            "Present"
        };
        if ui
            .button(present)
            .on_hover_text(
                "Presenter mode (F11 or P): controls hidden, one figure large, text at least 1.5×",
            )
            .clicked()
        {
            out.push(Command::Presenter);
        }
        let controls = if self.controls_visible(ui.ctx()) {
            "Hide controls"
        } else {
            "Show controls"
        };
        if ui
            .button(controls)
            .on_hover_text("The settings panel on the left (hidden by default in a small window)")
            .clicked()
        {
            let now = self.controls_visible(ui.ctx());
            self.controls = Some(!now);
        }
        if ui
            .button("Help")
            .on_hover_text("Glossary and keyboard shortcuts (? or F1)")
            .clicked()
        {
            out.push(Command::Help);
        }
    }

    pub(super) fn toolbar(&mut self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        let presenting = self.presenter.is_some();
        let panel = egui::Panel::top("toolbar").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.strong("DPO Lab");
                self.lessons
                    .picker(ui, &self.session.scenario.raw.name, out);
                ui.separator();
                let play = if self.playing { "Pause" } else { "Play" };
                if ui
                    .button(play)
                    .on_hover_text("Play / pause training (Space)")
                    .clicked()
                {
                    out.push(Command::TogglePlay);
                }
                if ui
                    .button("Step")
                    .on_hover_text("One update of every run (S)")
                    .clicked()
                {
                    out.push(Command::Step);
                }
                if ui
                    .button("Reset")
                    .on_hover_text("Back to π_ref (R)")
                    .clicked()
                {
                    out.push(Command::Reset);
                }
                ui.separator();
                // View controls: zoom, theme, presenter mode and help, kept
                // together on one row: when they do not all fit after the
                // lesson and play buttons (their width from the last
                // frame), the whole group starts the next row, so A+ does
                // not hop about as the text grows.
                let group = ui.scope_id().with("view group width");
                let needed: f32 = ui.data(|d| d.get_temp(group)).unwrap_or(0.0);
                if ui.available_size_before_wrap().x < needed {
                    ui.end_row();
                }
                let inner = ui.horizontal(|ui| self.view_buttons(ui, out));
                ui.data_mut(|d| d.insert_temp(group, inner.response.rect.width()));
            });
            // The tabs on a row of their own: they never move when the
            // first row wraps. A slide (Present) has none.
            if !presenting {
                ui.horizontal_wrapped(|ui| {
                for (tab, name) in [
                    (Tab::Overview, "Overview"),
                    (Tab::Frontier, "Reward–KL"),
                    (Tab::Derivation, "Derivation"),
                    (Tab::Compare, "Online vs offline"),
                    (Tab::Experiments, "Experiments"),
                    (Tab::Lesson, "About this lesson"),
                ] {
                    ui.selectable_value(&mut self.settings.tab, tab, name);
                }
                });
            }
            let notice = match self.lessons.lesson() {
                Some(l) => l.notice.clone(),
                None => self.session.scenario.raw.notice.clone().unwrap_or_else(|| {
                    dpo_lab::scenario::summary_of(&self.session.scenario.raw)
                }),
            };
            // A small window or a projector keeps the lesson strip to one
            // line per row (the full text on hover) so the figures keep the
            // room: at 1024×768 the toolbar and strip take at most a quarter
            // of the height.
            let small = self.small_window(ui.ctx()) || ui.ctx().content_rect().height() < 900.0;
            let text = egui::RichText::new(format!("What to notice: {notice}")).italics();
            if small || presenting {
                ui.add(egui::Label::new(text).truncate());
            } else {
                ui.label(text);
            }
            // One-click changes for this stop; the previous runs stay as a
            // faded ghost to compare against.
            let try_this = self
                .lessons
                .lesson()
                .filter(|_| !presenting)
                .map(|l| l.try_this.clone())
                .unwrap_or_default();
            if !try_this.is_empty() {
                ui.horizontal_wrapped(|ui| {
                    ui.label("Try this:");
                    for t in try_this {
                        if ui
                            .button(t.label())
                            .on_hover_text("Changes the setting and restarts the runs; the current ones stay faded")
                            .clicked()
                        {
                            self.settings.apply_tweak(t);
                            out.push(Command::Rebuild);
                        }
                    }
                });
            }
            // Predict, then play: the answer is read off the runs when they
            // finish.
            if let Some(pred) = self
                .lessons
                .lesson()
                .filter(|_| !presenting)
                .and_then(|l| l.predict.clone())
            {
                // A small window: the question on one truncated line (all
                // of it on hover), the choices on the next.
                if small {
                    ui.horizontal(|ui| {
                        ui.strong("Predict:");
                        ui.add(egui::Label::new(&pred.question).truncate());
                    });
                }
                ui.horizontal_wrapped(|ui| {
                    if !small {
                        ui.strong("Predict:");
                        ui.label(&pred.question);
                    }
                    for choice in dpo_lab::lesson::Outcome::ALL {
                        if ui
                            .selectable_label(self.lessons.predicted == Some(choice), choice.text())
                            .clicked()
                        {
                            self.lessons.predicted = Some(choice);
                        }
                    }
                    let watched = self.session.run_of(pred.method);
                    // A question about a "Try this" change waits for it.
                    let pending = pred.assumes.filter(|&t| {
                        let mut want = self.settings.clone();
                        want.apply_tweak(t);
                        !want.changes_from(&self.settings).is_empty()
                    });
                    match (self.lessons.predicted, watched) {
                        _ if pending.is_some() => {
                            if let Some(t) = pending {
                                ui.label(format!("(press \"{}\" under Try this first)", t.label()));
                            }
                        }
                        (_, None) => {
                            ui.label(format!(
                                "(turn {} on to see)",
                                session::method_label(pred.method)
                            ));
                        }
                        (None, _) => {
                            ui.label("(choose, then press Play)");
                        }
                        (Some(k), Some(run)) if run.run.finished() => {
                            if let Some(e) = self.session.prediction(&pred) {
                                let verdict = if k == e.outcome {
                                    "your prediction was right"
                                } else {
                                    "not what you predicted"
                                };
                                ui.strong(format!(
                                    "It {}: {} to {} ({verdict})",
                                    e.outcome.text(),
                                    dpo_lab::numerics::tick(e.start),
                                    dpo_lab::numerics::tick(e.now)
                                ));
                            }
                        }
                        (Some(_), Some(_)) => {
                            ui.label("(press Play: revealed when the runs finish)");
                        }
                    }
                });
            }
        });
        self.toolbar_height = panel.response.rect.height();
    }

    pub(super) fn status_bar(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let steps: Vec<String> = self
                    .session
                    .runs
                    .iter()
                    .map(|r| {
                        format!(
                            "{} {}/{}",
                            session::method_label(r.kind),
                            r.run.steps_done(),
                            r.run.steps_total()
                        )
                    })
                    .collect();
                let scenario = &self.session.scenario;
                let prompt = if scenario.prompts.len() > 1 {
                    format!(" · {}", prompt_label(scenario, scenario.focused_prompt()))
                } else {
                    String::new()
                };
                ui.label(format!(
                    "{}{prompt} · {} responses · {}",
                    scenario.name(),
                    scenario.problem.len(),
                    steps.join(" · ")
                ));
                ui.separator();
                ui.label(format!("update {:.2} ms", self.frame_ms));
                if self.playing && self.fps > 0.0 {
                    ui.label(format!("{:.0} fps", self.fps));
                }
                if let Some(status) = &self.message {
                    ui.separator();
                    let msg = status.text();
                    let color = if status.is_error() {
                        egui::Color32::from_rgb(220, 50, 47)
                    } else {
                        ui.visuals().text_color()
                    };
                    let text = egui::RichText::new(msg).color(color);
                    if self.small_window(ui.ctx()) {
                        ui.add(egui::Label::new(text).truncate());
                    } else {
                        ui.label(text);
                    }
                }
            });
        });
    }
}

/// "prompt k of n: name" for the picker and the status bar.
pub(super) fn prompt_label(scenario: &dpo_lab::scenario::Scenario, k: usize) -> String {
    format!(
        "prompt {} of {}: {}",
        k + 1,
        scenario.prompts.len(),
        scenario.prompts[k].name
    )
}
