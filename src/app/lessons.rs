//! The lesson picker: the guided order through the lecture, the built-in
//! scenarios, and "Open…" for a scenario file.

use dpo_lab::lesson::{Lesson, Stop};
use dpo_lab::scenario::builtins;

use super::Command;

/// The lesson panel's own state.
pub struct LessonPanel {
    /// The guided order (the built-in scenarios' `[[lesson]]` tables), then
    /// the lessons of files opened since.
    pub stops: Vec<Stop>,
    /// Index into `stops` of the current stop, if any.
    pub current: Option<usize>,
    /// The path typed into "Open…".
    pub path: String,
    /// The answer chosen for the stop's prediction (index into CHOICES).
    pub predicted: Option<dpo_lab::lesson::Outcome>,
}

impl Default for LessonPanel {
    fn default() -> Self {
        // The built-ins' lessons are tested to check; were they ever not,
        // the app opens without a guided order rather than not at all.
        let stops = dpo_lab::lesson::guided().unwrap_or_default();
        LessonPanel {
            current: (!stops.is_empty()).then_some(0),
            stops,
            path: String::new(),
            predicted: None,
        }
    }
}

impl LessonPanel {
    /// The current stop's lesson.
    pub fn lesson(&self) -> Option<&Lesson> {
        self.current
            .and_then(|i| self.stops.get(i))
            .map(|s| &s.lesson)
    }

    /// Adds the lessons of a file just opened (once each) and makes its
    /// first the current stop; a file without lessons leaves the order.
    pub fn opened(&mut self, source: &str, lessons: &[Lesson]) {
        let mut first = None;
        for lesson in lessons {
            let at = match self
                .stops
                .iter()
                .position(|s| s.scenario == source && s.lesson.title == lesson.title)
            {
                Some(i) => i,
                None => {
                    self.stops.push(Stop {
                        scenario: source.to_string(),
                        lesson: lesson.clone(),
                    });
                    self.stops.len() - 1
                }
            };
            first.get_or_insert(at);
        }
        self.current = first;
        self.predicted = None;
    }

    /// The lesson picker (top bar): guided stops, built-ins, open a file.
    pub fn picker(&mut self, ui: &mut egui::Ui, loaded_name: &str, out: &mut Vec<Command>) {
        let title = self
            .current
            .and_then(|i| self.stops.get(i))
            .map_or_else(|| loaded_name.to_string(), Stop::display_title);
        egui::ComboBox::from_label("Lesson")
            .selected_text(title)
            .width(210.0)
            // Every guided stop and built-in visible at once: no scrolling
            // on a projector.
            .height(900.0)
            .show_ui(ui, |ui| {
                // Columns of at most ten, so every stop shows at once: egui
                // caps a popup's height near 60 % of the screen.
                ui.horizontal_top(|ui| {
                    for (c, chunk) in self.stops.chunks(10).enumerate() {
                        if c > 0 {
                            ui.separator();
                        }
                        ui.vertical(|ui| {
                            if c == 0 {
                                ui.label(egui::RichText::new("Guided order").strong());
                            } else {
                                ui.label("");
                            }
                            for (k, l) in chunk.iter().enumerate() {
                                let i = 10 * c + k;
                                if ui
                                    .selectable_label(self.current == Some(i), l.display_title())
                                    .clicked()
                                {
                                    out.push(Command::Guided(i));
                                }
                            }
                        });
                    }
                });
            });
        let all = builtins();
        egui::ComboBox::from_label("Built-in")
            .selected_text(if self.current.is_none() {
                loaded_name
            } else {
                "choose…"
            })
            .show_ui(ui, |ui| {
                ui.horizontal_top(|ui| {
                    for (c, chunk) in all.chunks(all.len().div_ceil(2)).enumerate() {
                        if c > 0 {
                            ui.separator();
                        }
                        ui.vertical(|ui| {
                            for raw in chunk {
                                if ui
                                    .selectable_label(
                                        self.current.is_none() && loaded_name == raw.name,
                                        &raw.name,
                                    )
                                    .clicked()
                                {
                                    out.push(Command::Load(raw.name.clone()));
                                }
                            }
                        });
                    }
                });
            });
        if let Some(i) = self.current {
            if ui
                .add_enabled(i > 0, egui::Button::new("Prev"))
                .on_hover_text("Previous lesson")
                .clicked()
            {
                out.push(Command::Guided(i - 1));
            }
            if ui
                .add_enabled(i + 1 < self.stops.len(), egui::Button::new("Next"))
                .on_hover_text("Next lesson")
                .clicked()
            {
                out.push(Command::Guided(i + 1));
            }
        }
    }

    /// "Open…": a path field and a button.
    pub fn open(&mut self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            let label = ui.label("File");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.path)
                        .hint_text("path/to/scenario.toml")
                        .desired_width(150.0),
                )
                .labelled_by(label.id);
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui
                .button("Open…")
                .on_hover_text("Load a scenario file (errors show below, nothing crashes)")
                .clicked()
                || enter
            {
                out.push(Command::Load(self.path.trim().to_string()));
            }
            if ui
                .button("Browse…")
                .on_hover_text("Choose a scenario file in the desktop's file dialog")
                .clicked()
            {
                out.push(Command::Dialog(super::dialog::Target::Open));
            }
        });
    }
}

impl super::Panel for LessonPanel {
    /// The "About this lesson" tab: the scenario's text, its checked
    /// claim and the guided order.
    fn ui(&mut self, ui: &mut egui::Ui, session: &super::session::Session) {
        egui::ScrollArea::vertical().show(ui, |ui| {
            let raw = &session.scenario.raw;
            ui.heading(&raw.name);
            ui.label(&raw.description);
            if let Some(claim) = &raw.claim {
                ui.separator();
                ui.strong("What the simulator checks");
                ui.label(claim);
                ui.label(
                    egui::RichText::new(
                        "The test suite (tests/lessons.rs, tests/phenomena.rs, tests/rlvr_lessons.rs) checks this claim over seeds 0 to 4, β ×0.5 to ×2 (lr·β² kept) and steps ×0.5 to ×2.",
                    )
                    .italics(),
                );
            }
            ui.separator();
            ui.heading("The guided order");
            for s in &self.stops {
                ui.label(format!("{} — {}", s.display_title(), s.lesson.notice));
            }
        });
    }
}
