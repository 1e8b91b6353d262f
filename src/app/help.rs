//! The glossary and keyboard shortcuts (Help, `?` or F1).

use super::DpoLabApp;

/// Terms a lesson uses, in plain words.
pub const GLOSSARY: &[(&str, &str)] = &[
    (
        "π_ref",
        "the reference policy: the model before alignment, and the anchor the KL term measures against",
    ),
    (
        "π*",
        "the optimum of E r − β·KL(π || π_ref): π_ref·exp(r/β)/Z, computed exactly",
    ),
    (
        "β",
        "the KL weight: large β keeps the policy at π_ref, small β lets it chase the reward",
    ),
    (
        "Z",
        "the normaliser Σ π_ref·exp(r/β); β log Z is the soft maximum of the reward and the optimum's value",
    ),
    (
        "implicit reward",
        "β·log(π(y)/π_ref(y)): the reward DPO's policy implies, equal to r(y) − β log Z at π*",
    ),
    (
        "log-ratio h",
        "log(π(y)/π_ref(y)), written ρ in the loss formulas",
    ),
    (
        "margin",
        "rewards/margins: the mean implicit reward of the chosen answers minus that of the rejected ones",
    ),
    (
        "OOD",
        "out of the data: responses in no preference pair; OOD mass is the probability they get",
    ),
    ("offline DPO", "DPO on a fixed set of pairs, collected once"),
    (
        "online DPO",
        "DPO on fresh pairs sampled from the current policy and judged by an annotator",
    ),
    (
        "RLHF",
        "a Bradley–Terry reward model fitted on the pairs, then maximised with the KL penalty",
    ),
    (
        "best-of-n",
        "draw n answers from π_ref, keep the one the reward likes best",
    ),
];

/// Keys and what they do.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "play / pause"),
    ("S", "one update of every run"),
    ("R", "reset every run to π_ref"),
    (
        "F11 or P",
        "presenter mode: controls hidden, one figure large",
    ),
    ("? or F1", "this window"),
    (
        "click a response name",
        "pin it to the first bar slots (click again to unpin)",
    ),
];

impl DpoLabApp {
    pub(super) fn help_window(&mut self, ctx: &egui::Context) {
        let mut open = self.help;
        egui::Window::new("Glossary and shortcuts")
            .open(&mut open)
            .collapsible(false)
            // Centred, clear of the toolbar (its Help button closes it).
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .default_width(560.0)
            .show(ctx, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for (term, meaning) in GLOSSARY {
                        ui.horizontal_wrapped(|ui| {
                            ui.strong(*term);
                            ui.label(*meaning);
                        });
                    }
                });
                ui.separator();
                // Every series' colour, marker and line pattern, as the
                // plots draw them.
                ui.horizontal_wrapped(|ui| {
                    ui.strong("Series:");
                    for kind in dpo_lab::palette::ALL {
                        super::cue::legend_entry(
                            ui,
                            kind,
                            dpo_lab::palette::label(kind),
                            super::cue::Swatch::Line,
                        );
                    }
                    ui.label("× = out of the data");
                });
                ui.separator();
                egui::Grid::new("shortcuts").num_columns(2).show(ui, |ui| {
                    for (key, what) in SHORTCUTS {
                        ui.strong(*key);
                        ui.label(*what);
                        ui.end_row();
                    }
                });
            });
        self.help = open;
    }
}
