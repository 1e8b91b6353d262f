//! The export panel's state and rows: where CSV, TOML and PNG exports go.

use super::Command;

/// Where exports go by default (covered by `.gitignore`); a file that
/// exists is never overwritten: the new one is numbered.
pub const EXPORT_DIR: &str = "exports";

/// The export paths the user typed.
pub(super) struct ExportPanel {
    pub(super) csv: String,
    pub(super) toml: String,
    pub(super) png: String,
}

/// One export row's fixed parts.
pub(super) struct ExportRow<'a> {
    /// The field's label ("CSV").
    pub label: &'a str,
    /// The write button's text.
    pub button: &'a str,
    /// Its tooltip.
    pub hint: &'a str,
    /// What the button does.
    pub command: Command,
    /// The dialog that chooses the path.
    pub dialog: super::dialog::Target,
}

pub(super) fn export_row(
    ui: &mut egui::Ui,
    row: ExportRow<'_>,
    path: &mut String,
    out: &mut Vec<Command>,
) {
    let ExportRow {
        label,
        button,
        hint,
        command,
        dialog,
    } = row;
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(egui::TextEdit::singleline(path).desired_width(140.0))
            .labelled_by(l.id);
        if ui.button(button).on_hover_text(hint).clicked() {
            out.push(command);
        }
        if ui
            .button(format!("{label}…"))
            .on_hover_text("Choose where in the desktop's file dialog, then write")
            .clicked()
        {
            out.push(Command::Dialog(dialog));
        }
    });
}

/// `history.csv` -> `history-dpo.csv`.
pub(super) fn suffixed(path: &str, suffix: &str) -> String {
    match path.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{suffix}.{ext}"),
        _ => format!("{path}-{suffix}"),
    }
}

/// A path as the status bar names it: in full (absolute), so a teacher
/// finds the file whatever folder the app was started from.
pub fn full_path(path: &std::path::Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
