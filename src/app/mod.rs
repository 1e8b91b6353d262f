//! The classroom app: DPO Lab in egui/eframe, live and steerable.
//!
//! One file per panel (lessons, controls, overview, plots, curves,
//! frontier, derivation, compare, experiments); each tab of the central
//! panel implements [`Panel`] and draws from the session; the toolbar, the
//! lesson strip and the side panel return [`Command`]s that
//! [`DpoLabApp::apply`] carries out in one place. The app holds no maths of
//! its own: every number comes from the `dpo_lab` library.

mod compare;
mod controls;
mod cue;
mod curves;
mod derivation;
mod dialog;
mod experiments;
mod export;
mod frontier;
mod help;
mod lessons;
mod overview;
mod pace;
mod plots;
mod session;
mod settings;
mod side;
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
use settings::{Playback, Settings, SortBy, Tab};

pub use export::EXPORT_DIR;
use export::{ExportPanel, ExportRow, export_row, suffixed};
pub use status::Status;
use toolbar::prompt_label;
pub use window::{measure_frame_ms, run};

/// Time per frame the app may spend training (the rest is drawing).
const TRAIN_BUDGET: FrameBudget = FrameBudget::Time(Duration::from_millis(8));

/// A tab of the central panel: draws itself from the session (its own
/// state in `self`), as egui's demo app lays out its windows.
pub trait Panel {
    /// Draws the tab.
    fn ui(&mut self, ui: &mut egui::Ui, session: &Session);
}

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
    /// The painted height (points) of the focus answer's bar in the last
    /// frame that drew the bars (tests check the room can see it).
    focus_bar: Option<f32>,
    /// The toolbar's and lesson strip's height in the last frame (points).
    toolbar_height: f32,
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

/// Below this reference probability a pinned focus answer opens the bars
/// in log scale.
pub const TINY_FOCUS: f64 = 0.05;

/// Whether a pinned focus answer holds under 5 % of the reference: on a
/// linear axis its bar would be a few pixels (stop 6's "the the the" is
/// 0.0002 → 0.0137; stop 5's gibberish 0.03 → 0.1 was 16 px at zoom 1.5),
/// so the bars start in log scale, as `figure` does.
fn focus_is_tiny(session: &Session) -> bool {
    let s = &session.scenario;
    s.focus_responses
        .iter()
        .any(|&y| s.problem.log_ref[y].exp() < TINY_FOCUS)
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
            focus_bar: None,
            toolbar_height: 0.0,
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
                            let what_since = |from: &Settings| {
                                let changes = self.settings.changes_from(from);
                                if changes.is_empty() {
                                    "the previous settings".to_string()
                                } else {
                                    changes.join(", ")
                                }
                            };
                            let mut what = what_since(&self.applied);
                            if let Some(g) =
                                session::Ghost::of(&self.session, what.clone(), &self.applied)
                            {
                                self.ghost = Some(g);
                            } else if let Some(g) = &mut self.ghost {
                                // Runs that never stepped (a slider still
                                // moving): the ghost stays, and says what
                                // changed since it was trained.
                                what = what_since(&g.from);
                                g.what = what.clone();
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
                if self.playing {
                    // Slow motion's marks go as soon as the runs play.
                    self.session.clear_step_marks();
                    if self.settings.playback == Playback::Paced {
                        self.session.start_pacing();
                    }
                }
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
            let steps = match self.settings.playback {
                Playback::Fast => usize::MAX,
                Playback::PerFrame => self.settings.steps_per_frame,
                Playback::Paced => {
                    // A frame's time (egui's, simulated in tests), at most
                    // 0.1 s: after a stall the run goes on where it was.
                    let dt = f64::from(ctx.input(|i| i.stable_dt).min(0.1));
                    // Tests take the rehearsal's pace at once: what they
                    // see never depends on how fast a thread runs.
                    let wait = matches!(self.budget, FrameBudget::Updates(_));
                    self.session
                        .paced_steps(dt / self.settings.play_seconds.max(0.1), wait)
                }
            };
            let advanced = if steps == 0 {
                Ok(0)
            } else {
                self.session.advance(steps, self.budget)
            };
            match advanced {
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

    fn central(&mut self, ui: &mut egui::Ui) {
        egui::CentralPanel::default().show(ui, |ui| match self.settings.tab {
            Tab::Overview => self.overview(ui),
            Tab::Frontier => frontier::FrontierPanel.ui(ui, &self.session),
            Tab::Derivation => self.derivation.ui(ui, &self.session),
            Tab::Compare => compare::ComparePanel.ui(ui, &self.session),
            Tab::Experiments => self.experiments.ui(ui, &self.session),
            Tab::Lesson => self.lessons.ui(ui, &self.session),
        });
    }
}

impl eframe::App for DpoLabApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }
}
