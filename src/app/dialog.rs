//! Native open/save dialogs (the `rfd` crate through the XDG desktop
//! portal: pure Rust over D-Bus, no GTK). A dialog runs on its own thread,
//! so the window keeps drawing; where no portal answers (no desktop
//! session, a minimal window manager) the result is "no file" and the path
//! fields beside the buttons remain the way in.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

/// What a dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Open a scenario file.
    Open,
    /// Save each run's history as CSV.
    Csv,
    /// Save the scenario as TOML.
    Toml,
    /// Save a PNG of the window.
    Png,
}

impl Target {
    fn filter(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Target::Open | Target::Toml => ("scenario", &["toml"]),
            Target::Csv => ("CSV", &["csv"]),
            Target::Png => ("PNG image", &["png"]),
        }
    }
}

/// What asks the user for a file: the desktop's dialog in the window, a
/// fixed answer in tests (so no test depends on whether a portal runs).
pub type Picker = fn(Target, &std::path::Path) -> Option<PathBuf>;

/// The desktop's dialog through `rfd` (blocking: run on its own thread).
pub fn desktop_picker(target: Target, start: &std::path::Path) -> Option<PathBuf> {
    let (name, ext) = target.filter();
    let mut d = rfd::FileDialog::new().add_filter(name, ext);
    if let Some(dir) = start.parent().filter(|d| d.is_dir()) {
        d = d.set_directory(dir);
    }
    match target {
        Target::Open => d.pick_file(),
        _ => {
            if let Some(file) = start.file_name().and_then(|f| f.to_str()) {
                d = d.set_file_name(file);
            }
            d.save_file()
        }
    }
}

/// The dialog in flight, if any.
pub struct Dialogs {
    pending: Option<(Target, Receiver<Option<PathBuf>>)>,
    /// Who answers.
    pub picker: Picker,
}

impl Default for Dialogs {
    fn default() -> Self {
        Dialogs {
            pending: None,
            picker: desktop_picker,
        }
    }
}

impl Dialogs {
    /// Whether a dialog is open.
    pub fn busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Opens a dialog for `target` (one at a time), starting in `start`'s
    /// folder and, for saving, with its file name.
    pub fn start(&mut self, target: Target, start: &str, ctx: &egui::Context) {
        if self.pending.is_some() {
            return;
        }
        let (tx, rx) = channel();
        let start = std::path::absolute(start).unwrap_or_else(|_| PathBuf::from(start));
        let repaint = ctx.clone();
        let picker = self.picker;
        std::thread::spawn(move || {
            let chosen = picker(target, &start);
            let _ = tx.send(chosen);
            repaint.request_repaint();
        });
        self.pending = Some((target, rx));
    }

    /// The finished dialog's target and choice (`None`: cancelled or no
    /// portal answered).
    pub fn poll(&mut self) -> Option<(Target, Option<PathBuf>)> {
        let (target, rx) = self.pending.as_ref()?;
        let target = *target;
        let result = match rx.try_recv() {
            Ok(chosen) => Some((target, chosen)),
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => Some((target, None)),
        };
        self.pending = None;
        result
    }
}
