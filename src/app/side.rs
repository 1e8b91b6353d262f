//! The settings panel on the left: the prompt picker and the controls
//! (`controls.rs`) in a scroll area, a third of the window at most.

use super::*;

impl DpoLabApp {
    pub(super) fn side_panel(&mut self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        egui::Panel::left("controls")
            .resizable(true)
            // A third of the window at most: on a zoomed projector the
            // plots keep the room.
            .default_size(290.0_f32.min(ui.available_width() * 0.3))
            .max_size((ui.available_width() * 0.3).max(180.0))
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let sequences = self.session.scenario.problem.space.is_sequences();
                    let prompts = &self.session.scenario.prompts;
                    if prompts.len() > 1 {
                        ui.heading("Prompt");
                        let before = self.settings.prompt;
                        egui::ComboBox::from_label("prompt")
                            .selected_text(prompt_label(&self.session.scenario, before))
                            .show_ui(ui, |ui| {
                                for k in 0..prompts.len() {
                                    let text = prompt_label(&self.session.scenario, k);
                                    ui.selectable_value(&mut self.settings.prompt, k, text);
                                }
                            })
                            .response
                            .on_hover_text("The app trains and shows one prompt at a time; `dpo-lab run` trains every prompt and averages the metrics.");
                        if self.settings.prompt != before {
                            out.push(Command::Rebuild);
                        }
                        ui.separator();
                    }
                    controls::ui(ui, &mut self.settings, sequences, out);
                    ui.separator();
                    ui.heading("View");
                    egui::ComboBox::from_label("sort bars by")
                        .selected_text(match self.settings.sort {
                            SortBy::Index => "index",
                            SortBy::Reference => "reference",
                            SortBy::Reward => "reward",
                            SortBy::Current => "current probability",
                        })
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut self.settings.sort, SortBy::Index, "index");
                            ui.selectable_value(
                                &mut self.settings.sort,
                                SortBy::Reference,
                                "reference",
                            );
                            ui.selectable_value(&mut self.settings.sort, SortBy::Reward, "reward");
                            ui.selectable_value(
                                &mut self.settings.sort,
                                SortBy::Current,
                                "current probability",
                            );
                        });
                    ui.checkbox(&mut self.settings.log_scale, "log scale");
                    ui.add(egui::Slider::new(&mut self.settings.top_k, 2..=60).text("bars shown"));
                    ui.separator();
                    ui.heading("Scenario file");
                    self.lessons.open(ui, out);
                    ui.separator();
                    ui.heading("Export");
                    export_row(
                        ui,
                        ExportRow {
                            label: "CSV",
                            button: "History CSV",
                            hint: "Write each run's history (one file per method)",
                            command: Command::ExportCsv,
                            dialog: dialog::Target::Csv,
                        },
                        &mut self.export.csv,
                        out,
                    );
                    export_row(
                        ui,
                        ExportRow {
                            label: "TOML",
                            button: "Scenario",
                            hint: "Write the scenario with these settings; it reloads to the same state",
                            command: Command::SaveScenario,
                            dialog: dialog::Target::Toml,
                        },
                        &mut self.export.toml,
                        out,
                    );
                    export_row(
                        ui,
                        ExportRow {
                            label: "PNG",
                            button: "Screenshot",
                            hint: "Write a PNG of the window for slides",
                            command: Command::Screenshot,
                            dialog: dialog::Target::Png,
                        },
                        &mut self.export.png,
                        out,
                    );
                });
            });
    }
}
