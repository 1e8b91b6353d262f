//! The classroom app: DPO Lab in egui/eframe, live and steerable.
//!
//! One file per panel (lessons, controls, plots, derivation, compare); each
//! panel draws from the session and returns [`Command`]s that
//! [`DpoLabApp::apply`] carries out in one place. The app holds no maths of
//! its own: every number comes from the `dpo_lab` library.

mod compare;
mod controls;
mod cue;
mod derivation;
mod dialog;
mod experiments;
mod export;
mod help;
mod lessons;
mod plots;
mod session;
mod settings;
mod status;
#[cfg(test)]
mod tests;
mod toolbar;
mod window;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{RawScenario, load_raw};

use derivation::DerivationPanel;
use dpo_lab::lesson::Curve;
use experiments::ExperimentsPanel;
use lessons::LessonPanel;
use session::{FrameBudget, Session};
use settings::{Settings, SortBy, Tab};

pub use export::EXPORT_DIR;
use export::{ExportPanel, ExportRow, export_row, suffixed};
pub use status::Status;
use toolbar::prompt_label;
pub use window::{measure_frame_ms, run};

/// Time per frame the app may spend training (the rest is drawing).
const TRAIN_BUDGET: FrameBudget = FrameBudget::Time(Duration::from_millis(8));

/// What a panel asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Go to a stop of the guided order.
    Guided(usize),
    /// Load a built-in scenario by name or a file by path.
    Load(String),
    /// A training setting changed: rebuild the runs.
    Rebuild,
    /// Start or stop training.
    TogglePlay,
    /// One update of every run.
    Step,
    /// Back to π_ref.
    Reset,
    /// Write the history of every run as CSV.
    ExportCsv,
    /// Write the scenario with the current settings as TOML.
    SaveScenario,
    /// Write a PNG of the window.
    Screenshot,
    /// Open a native file dialog for this.
    Dialog(dialog::Target),
    /// Enter or leave presenter mode.
    Presenter,
    /// Show or hide the glossary and shortcuts.
    Help,
}

/// After a single Step: per run, the pairs of that step, most weight first
/// (at most 6, repeats counted), on one line each.
fn slow_motion(ui: &mut egui::Ui, session: &Session, compact: bool) {
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
        if compact {
            ui.add(egui::Label::new(text).truncate());
        } else {
            ui.label(text);
        }
    }
}

/// What a bar order was computed for.
#[derive(Debug, Clone, PartialEq)]
struct BarOrderKey {
    sort: SortBy,
    top_k: usize,
    pinned: Vec<usize>,
    responses: usize,
}

/// The app.
pub struct DpoLabApp {
    settings: Settings,
    /// The settings the current session was built from: a change that the
    /// library rejects is undone back to these.
    applied: Settings,
    session: Session,
    lessons: LessonPanel,
    derivation: DerivationPanel,
    experiments: ExperimentsPanel,
    export: ExportPanel,
    /// The native file dialog in flight.
    dialogs: dialog::Dialogs,
    /// Responses pinned to the first bar slots (the lesson's focus at
    /// load; a click on a name toggles one).
    pinned: Vec<usize>,
    /// The bar order last computed and what it was computed for: kept
    /// while training plays, so bars do not jump from slot to slot.
    bar_order: Option<(BarOrderKey, (Vec<usize>, bool))>,
    playing: bool,
    /// The runs from before the last settings change (faded).
    ghost: Option<session::Ghost>,
    /// The curve shown alone and large, if the user clicked its title.
    enlarged_curve: Option<usize>,
    /// Presenter mode: the zoom to go back to when it ends.
    presenter: Option<f32>,
    /// The glossary and shortcut window is open.
    help: bool,
    /// The user's choice to show or hide the settings panel (`None`: shown
    /// unless the window is small or presenting).
    controls: Option<bool>,
    message: Option<Status>,
    screenshot_result: Arc<Mutex<Option<Status>>>,
    frame_ms: f64,
    /// Frames shown since `fps_since`, and the last full second's rate.
    fps_frames: u32,
    fps_since: Instant,
    fps: f64,
    /// What one frame may train: wall time in the window, a fixed number of
    /// updates in tests.
    budget: FrameBudget,
}

/// Whether a pinned focus answer holds under 2 % of the reference: on a
/// linear axis its bar would be a few pixels (stop 6's "the the the" is
/// 0.0002 → 0.0137), so the bars start in log scale, as `figure` does.
fn focus_is_tiny(session: &Session) -> bool {
    let s = &session.scenario;
    s.focus_responses
        .iter()
        .any(|&y| s.problem.log_ref[y].exp() < 0.02)
}

impl DpoLabApp {
    /// Opens `scenario` (a built-in name or a path), or the first lesson.
    /// A scenario that fails to load opens the first lesson with the error
    /// shown.
    pub fn new(scenario: Option<&str>) -> Self {
        let lessons = LessonPanel::default();
        let first = lessons
            .stops
            .first()
            .map_or("optimal-policy", |s| s.scenario.as_str());
        let (raw, message, current) = match scenario.map(load_raw) {
            Some(Ok(raw)) => (raw, None, None),
            Some(Err(e)) => (
                load_raw(first).expect("built-in scenarios are tested to load"),
                Some(Status::Error(format!("{e}"))),
                Some(0),
            ),
            None => (
                load_raw(first).expect("built-in scenarios are tested to load"),
                None,
                Some(0),
            ),
        };
        let mut settings = Settings::from_scenario(&raw, None);
        let session = Session::new(raw.clone(), &settings)
            .unwrap_or_else(|e| panic!("built-in scenario {} must check: {e}", raw.name));
        settings.log_scale |= focus_is_tiny(&session);
        let pinned = session.scenario.focus_responses.clone();
        DpoLabApp {
            applied: settings.clone(),
            settings,
            session,
            lessons: LessonPanel {
                current: current.filter(|_| !lessons.stops.is_empty()),
                ..lessons
            },
            derivation: DerivationPanel::default(),
            experiments: ExperimentsPanel::default(),
            dialogs: dialog::Dialogs::default(),
            pinned,
            bar_order: None,
            export: ExportPanel {
                csv: format!("{EXPORT_DIR}/dpo-lab-history.csv"),
                toml: format!("{EXPORT_DIR}/dpo-lab-scenario.toml"),
                png: format!("{EXPORT_DIR}/dpo-lab-window.png"),
            },
            playing: false,
            ghost: None,
            enlarged_curve: None,
            presenter: None,
            help: false,
            controls: None,
            message,
            screenshot_result: Arc::new(Mutex::new(None)),
            frame_ms: 0.0,
            fps_frames: 0,
            fps_since: Instant::now(),
            fps: 0.0,
            budget: TRAIN_BUDGET,
        }
    }

    /// The same app with `budget` per frame in place of the window's 8 ms
    /// (tests: a fixed number of updates, so no outcome depends on how fast
    /// the machine is).
    #[cfg(test)]
    pub fn with_budget(mut self, budget: FrameBudget) -> Self {
        self.budget = budget;
        self
    }

    /// Whether training is running.
    #[cfg(test)]
    pub fn playing(&self) -> bool {
        self.playing
    }

    /// The session (for tests).
    #[cfg(test)]
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The message shown in the status bar.
    #[cfg(test)]
    pub fn message(&self) -> Option<&Status> {
        self.message.as_ref()
    }

    /// Opens `raw` (on `tab` if given); false, with the error shown, if it
    /// does not check.
    fn load(&mut self, raw: RawScenario, tab: Option<Tab>) -> bool {
        let mut settings = Settings::from_scenario(&raw, Some(&self.settings));
        match Session::new(raw, &settings) {
            Ok(session) => {
                settings.log_scale |= focus_is_tiny(&session);
                self.applied = settings.clone();
                self.settings = settings;
                if let Some(tab) = tab {
                    self.settings.tab = tab;
                }
                self.pinned = session.scenario.focus_responses.clone();
                self.bar_order = None;
                self.ghost = None;
                self.enlarged_curve = None;
                self.session = session;
                self.playing = false;
                self.derivation = DerivationPanel::default();
                self.message = None;
                true
            }
            Err(e) => {
                self.message = Some(Status::Error(format!("{e}")));
                false
            }
        }
    }

    /// What arriving at a stop does besides opening its tab: the
    /// Derivation's first section and the stop's experiment, started on
    /// this scenario.
    fn arrive(&mut self, lesson: &dpo_lab::lesson::Lesson) {
        self.derivation.first = lesson.derivation;
        if let Some(e) = lesson.experiment {
            self.experiments.selected = e;
            self.experiments.start(e, &self.session);
        }
    }

    /// Carries out one command.
    pub fn apply(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::Guided(i) => {
                let Some(stop) = self.lessons.stops.get(i).cloned() else {
                    return;
                };
                match load_raw(&stop.scenario) {
                    Ok(raw) => {
                        if self.load(raw, Some(stop.lesson.tab)) {
                            self.lessons.current = Some(i);
                            self.lessons.predicted = None;
                            self.arrive(&stop.lesson);
                        }
                    }
                    Err(e) => self.message = Some(Status::Error(format!("{e}"))),
                }
            }
            Command::Load(name) => {
                if name.is_empty() {
                    self.message = Some(Status::Error(
                        "type a scenario name or a path to a .toml file first".into(),
                    ));
                    return;
                }
                match load_raw(&name) {
                    Ok(raw) => {
                        if self.load(raw, None) {
                            // A file of one's own with `[[lesson]]` tables
                            // joins the order as stops (a built-in's are
                            // there already).
                            let lessons = self.session.scenario.lessons.clone();
                            self.lessons.current = None;
                            if !dpo_lab::scenario::is_builtin(&name) && !lessons.is_empty() {
                                self.lessons.opened(&name, &lessons);
                                self.settings.tab = lessons[0].tab;
                                self.arrive(&lessons[0]);
                            }
                        }
                    }
                    Err(e) => self.message = Some(Status::Error(format!("{e}"))),
                }
            }
            Command::Rebuild | Command::Reset => {
                match Session::new(self.session.base.clone(), &self.settings) {
                    Ok(s) => {
                        // A settings change keeps the old runs as a faded
                        // ghost and says what was reset; Reset keeps any
                        // ghost there is.
                        if command == Command::Rebuild {
                            let changes = self.settings.changes_from(&self.applied);
                            let what = if changes.is_empty() {
                                "the previous settings".to_string()
                            } else {
                                changes.join(", ")
                            };
                            if let Some(g) = session::Ghost::of(&self.session, what.clone()) {
                                self.ghost = Some(g);
                            }
                            self.message = Some(Status::Info(format!(
                                "{what}: every run restarted from π_ref{}",
                                if self.ghost.is_some() && self.settings.show_ghost {
                                    "; the previous runs are drawn faded"
                                } else {
                                    ""
                                }
                            )));
                        } else {
                            self.message = None;
                        }
                        self.session = s;
                        self.applied = self.settings.clone();
                    }
                    Err(e) => {
                        self.playing = false;
                        self.settings = self.applied.with_view_of(&self.settings);
                        self.message = Some(Status::Error(format!("{e} (change undone)")));
                    }
                }
            }
            Command::TogglePlay => {
                self.playing = !self.playing && !self.session.runs.is_empty();
                if self.playing && self.session.finished() {
                    self.message = Some(Status::Info(
                        "every run has finished its steps: Reset, or raise total steps".into(),
                    ));
                    self.playing = false;
                }
            }
            Command::Step => {
                self.playing = false;
                if let Err(e) = self.session.step_once() {
                    self.message = Some(Status::Error(format!("{e}")));
                }
            }
            Command::ExportCsv => {
                let mut written = Vec::new();
                for r in &self.session.runs {
                    let wanted = suffixed(&self.export.csv, r.kind.name());
                    let path = dpo_lab::export::unused_path(std::path::Path::new(&wanted));
                    match dpo_lab::export::write_history_csv(&path, &r.history) {
                        Ok(()) => written.push(export::full_path(&path)),
                        Err(e) => {
                            self.message = Some(Status::Error(format!("{e}")));
                            return;
                        }
                    }
                }
                self.message = Some(Status::Info(format!("wrote {}", written.join(", "))));
            }
            Command::SaveScenario => {
                let result = self.session.to_toml().and_then(|text| {
                    dpo_lab::export::write_new_file(
                        std::path::Path::new(&self.export.toml),
                        text.as_bytes(),
                    )
                });
                self.message = Some(match result {
                    Ok(path) => Status::Info(format!(
                        "wrote {}",
                        export::full_path(std::path::Path::new(&path))
                    )),
                    Err(e) => Status::Error(format!("{e}")),
                });
            }
            Command::Presenter => match self.presenter.take() {
                Some(zoom) => {
                    self.controls = None;
                    self.settings.zoom = zoom;
                }
                None => {
                    self.controls = None;
                    self.presenter = Some(self.settings.zoom);
                    self.settings.zoom = self.settings.zoom.max(1.5);
                }
            },
            Command::Help => self.help = !self.help,
            Command::Dialog(target) => {
                let start = match target {
                    dialog::Target::Open => self.lessons.path.clone(),
                    dialog::Target::Csv => self.export.csv.clone(),
                    dialog::Target::Toml => self.export.toml.clone(),
                    dialog::Target::Png => self.export.png.clone(),
                };
                self.dialogs.start(target, &start, ctx);
                self.message = Some(Status::Info(
                    "waiting for the file dialog (or type a path in the field beside it)".into(),
                ));
            }
            Command::Screenshot => {
                let path = dpo_lab::export::unused_path(std::path::Path::new(&self.export.png));
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                    && let Err(e) = std::fs::create_dir_all(dir)
                {
                    self.message = Some(Status::Error(format!(
                        "{}: cannot write: {e}",
                        path.display()
                    )));
                    return;
                }
                let path = export::full_path(&path);
                let slot = self.screenshot_result.clone();
                let repaint = ctx.clone();
                ctx.request_screenshot(move |image| {
                    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
                    let result = image::save_buffer(
                        &path,
                        &bytes,
                        image.size[0] as u32,
                        image.size[1] as u32,
                        image::ColorType::Rgba8,
                    );
                    if let Ok(mut s) = slot.lock() {
                        *s = Some(match result {
                            Ok(()) => Status::Info(format!("wrote {path}")),
                            Err(e) => Status::Error(format!("{path}: cannot write: {e}")),
                        });
                    }
                    repaint.request_repaint();
                });
            }
        }
    }

    /// One frame: train within the time budget, draw, apply commands.
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        let start = Instant::now();
        let ctx = ui.ctx().clone();
        ctx.set_zoom_factor(self.settings.zoom);
        ctx.set_theme(if self.settings.dark {
            egui::Theme::Dark
        } else {
            egui::Theme::Light
        });
        if let Some(msg) = self
            .screenshot_result
            .lock()
            .ok()
            .and_then(|mut s| s.take())
        {
            self.message = Some(msg);
        }
        if self.playing {
            match self.session.advance(
                if self.settings.fast {
                    usize::MAX
                } else {
                    self.settings.steps_per_frame
                },
                self.budget,
            ) {
                Ok(_) => {
                    if self.session.finished() {
                        self.playing = false;
                        let warnings = self.session.warnings();
                        if !warnings.is_empty() {
                            self.message =
                                Some(Status::Info(format!("warning: {}", warnings.join(" · "))));
                        }
                    }
                }
                Err(e) => {
                    self.playing = false;
                    self.message = Some(Status::Error(format!("{e}")));
                }
            }
        }
        self.experiments.poll();
        let mut out = Vec::new();
        if let Some((target, chosen)) = self.dialogs.poll() {
            match chosen {
                None => {
                    self.message = Some(Status::Info(
                        "no file chosen (cancelled, or no desktop portal answered): type a path in the field instead".into(),
                    ));
                }
                Some(path) => {
                    let path = path.display().to_string();
                    match target {
                        dialog::Target::Open => {
                            self.lessons.path = path.clone();
                            out.push(Command::Load(path));
                        }
                        dialog::Target::Csv => {
                            self.export.csv = path;
                            out.push(Command::ExportCsv);
                        }
                        dialog::Target::Toml => {
                            self.export.toml = path;
                            out.push(Command::SaveScenario);
                        }
                        dialog::Target::Png => {
                            self.export.png = path;
                            out.push(Command::Screenshot);
                        }
                    }
                }
            }
        }
        self.shortcuts(&ctx, &mut out);
        self.toolbar(ui, &mut out);
        self.status_bar(ui);
        if self.controls_visible(&ctx) {
            self.side_panel(ui, &mut out);
        }
        if self.help {
            self.help_window(&ctx);
        }
        self.central(ui);
        for c in out {
            self.apply(&ctx, c);
        }
        if self.playing || self.experiments.busy() || self.dialogs.busy() {
            ctx.request_repaint();
        }
        // Frames per second over whole seconds of playing.
        if self.playing {
            self.fps_frames += 1;
            let elapsed = self.fps_since.elapsed().as_secs_f64();
            if elapsed >= 1.0 {
                self.fps = f64::from(self.fps_frames) / elapsed;
                self.fps_frames = 0;
                self.fps_since = Instant::now();
            }
        } else {
            self.fps_frames = 0;
            self.fps_since = Instant::now();
        }
        let ms = start.elapsed().as_secs_f64() * 1e3;
        self.frame_ms = if self.frame_ms == 0.0 {
            ms
        } else {
            0.9 * self.frame_ms + 0.1 * ms
        };
    }

    fn side_panel(&mut self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
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

    fn central(&mut self, ui: &mut egui::Ui) {
        egui::CentralPanel::default().show(ui, |ui| match self.settings.tab {
            Tab::Overview => {
                let h = ui.available_height();
                // A small window (a projector at 1024×768, or zoomed): the
                // bars and one curve at a time, each large enough to read.
                let compact = h < 560.0 || ui.available_width() < 640.0;
                // Presenter mode: a slide — the bars and the stop's key
                // curve side by side, as large as the window.
                let top = if self.presenter.is_some() {
                    (h - 150.0).max(120.0)
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
                if stale || !self.playing {
                    let order = plots::shown_responses(&self.session, &self.settings, &self.pinned, limit);
                    self.bar_order = Some((key, order));
                }
                let (shown, rest) = self
                    .bar_order
                    .as_ref()
                    .map(|(_, (s, r))| (s.clone(), *r))
                    .unwrap_or_default();
                let ghost = self.ghost.as_ref().filter(|_| self.settings.show_ghost);
                let key = self.lessons.lesson().map_or(Curve::OodMass, |l| l.key_curve);
                let session_ref = &self.session;
                let enlarged = &mut self.enlarged_curve;
                let mut beside = |ui: &mut egui::Ui| {
                    // As tall as the bars' column: legend, plot, axis label.
                    plots::curves(ui, session_ref, top + 44.0, ghost, enlarged, Some(key));
                };
                let clicked = plots::distribution(
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
                if let Some(y) = clicked {
                    if let Some(k) = self.pinned.iter().position(|&p| p == y) {
                        self.pinned.remove(k);
                    } else if self.pinned.len() < dpo_lab::scenario::MAX_FOCUS {
                        self.pinned.push(y);
                    }
                }
                // One line each in a small window (the rest on hover).
                let info_line = |ui: &mut egui::Ui, text: String| {
                    if compact {
                        ui.add(egui::Label::new(text).truncate());
                    } else {
                        ui.label(text);
                    }
                };
                if let Some(top) = self.session.runs.iter().find_map(|r| r.metrics.ood_top.as_ref().map(|t| (r.kind, t))) {
                    info_line(ui, format!(
                        "OOD top ({}): \"{}\" {}, implicit reward {:.3}",
                        session::method_label(top.0),
                        top.1.response,
                        dpo_lab::numerics::probability_beside_reference(top.1.probability, top.1.reference, 5),
                        top.1.implicit_reward
                    ));
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
                    info_line(ui, format!(
                        "Implicit reward β·log(π/π_ref) of the pinned answers ({}): {}",
                        session::method_label(run.kind),
                        parts.join(" · ")
                    ));
                }
                // Log-linear policies: how alike the pair's embeddings are
                // (Razin's CHES), at the offline DPO run's current policy.
                let sc = &self.session.scenario;
                // (The feature table is rebuilt per frame: small spaces only.)
                if sc.problem.len() <= 10_000
                    && let Some(run) = self.session.runs.iter().find(|r| r.kind == MethodKind::Dpo)
                    && let Ok(Some(c)) = dpo_lab::derivation::ches(&sc.policy, &sc.problem, &sc.data, &run.log_probs)
                {
                    info_line(ui, format!(
                        "CHES (Razin) of the pairs: {:.4}; at offline DPO's policy {:.4} ({})",
                        c.score,
                        c.at_policy,
                        if c.at_policy > 0.0 {
                            "> 0: its next step lowers log π(chosen)"
                        } else {
                            "at most 0: its next step does not lower log π(chosen)"
                        }
                    ));
                }
                // Slow motion: after a single Step, the pairs each run
                // trained on (online DPO's as its annotator judged them).
                if self.presenter.is_none() {
                    slow_motion(ui, &self.session, compact);
                }
                if self.presenter.is_none() && !compact {
                    let rest = ui.available_height();
                    // Two rows of curves need about 300 points to keep their
                    // ticks; with less, one curve at a time fills the rest.
                    let one_at_a_time = rest < 300.0;
                    let key = self.lessons.lesson().map_or(Curve::OodMass, |l| l.key_curve);
                    plots::curves(
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
            Tab::Frontier => plots::frontier(ui, &self.session),
            Tab::Derivation => self.derivation.ui(ui, &self.session),
            Tab::Compare => compare::ui(ui, &self.session),
            Tab::Experiments => self.experiments.ui(ui, &self.session),
            Tab::Lesson => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let raw = &self.session.scenario.raw;
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
                    for s in &self.lessons.stops {
                        ui.label(format!("{} — {}", s.display_title(), s.lesson.notice));
                    }
                });
            }
        });
    }
}

impl eframe::App for DpoLabApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }
}
