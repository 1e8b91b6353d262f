//! The Experiments tab: the library's multi-run experiments on the current
//! scenario and settings — the remedies table (`dpo-lab table`), the
//! resampling sweep (`dpo-lab resample`) and reward over-optimisation
//! (`dpo-lab over-optimisation`). Each runs on a background thread, so the
//! window keeps drawing at 60 fps while it computes; work the library
//! estimates above its limit is refused with the estimate, as on the
//! command line.

use std::thread::JoinHandle;

use dpo_lab::palette::{Dash, Marker};
use egui::Color32;
use egui_plot::{Line, Plot, PlotPoints, Points};

use dpo_lab::overoptimisation::{self, Curve, GaoForm, Report};
use dpo_lab::remedies::{self, Table};
use dpo_lab::scenario::Scenario;
use dpo_lab::sweep::{self, ResamplePoint};
use dpo_lab::train::Unwatched;
use dpo_lab::work;

use super::plots::color;
use super::session::Session;

/// Which experiment (the library's: a lesson file names one).
pub use dpo_lab::lesson::Experiment;

/// Every experiment, in the picker's order.
const ALL_EXPERIMENTS: [Experiment; 3] = [
    Experiment::Remedies,
    Experiment::Resampling,
    Experiment::OverOptimisation,
];

/// The picker's words for an experiment.
trait Words {
    fn title(self) -> &'static str;
    fn tooltip(self) -> &'static str;
}

impl Words for Experiment {
    fn title(self) -> &'static str {
        match self {
            Experiment::Remedies => "Remedies table",
            Experiment::Resampling => "Resampling",
            Experiment::OverOptimisation => "Over-optimisation",
        }
    }

    fn tooltip(self) -> &'static str {
        match self {
            Experiment::Remedies => {
                "Trains offline DPO, DPO with the rpo and dpop losses, IPO, online DPO and RLHF on this scenario; one row each (dpo-lab table)"
            }
            Experiment::Resampling => {
                "Online DPO with a fresh batch every 1, 2, 4, 16, 64 steps or never (dpo-lab resample)"
            }
            Experiment::OverOptimisation => {
                "A proxy reward model fitted on 30, 300 and 3000 pairs, optimised by best-of-n, π* over β and RLHF: gold and proxy reward against √KL (dpo-lab over-optimisation)"
            }
        }
    }
}

/// A finished experiment.
pub enum Outcome {
    /// `dpo-lab table`.
    Table(Table),
    /// `dpo-lab resample`.
    Resample(Vec<ResamplePoint>),
    /// `dpo-lab over-optimisation`.
    Over(Report),
}

type Job = JoinHandle<Result<Outcome, String>>;

/// The tab's state.
#[derive(Default)]
pub struct ExperimentsPanel {
    /// The experiment shown.
    pub selected: Experiment,
    /// The running job, its experiment and what it was started on.
    job: Option<(Experiment, String, Job)>,
    /// The last result per experiment, with what it was computed on.
    results: Vec<(Experiment, String, Outcome)>,
    /// The last error, if the last start or job failed.
    pub error: Option<String>,
    /// Over-optimisation: which optimiser's curves are drawn.
    optimiser: usize,
}

/// Runs one experiment on `scenario` (on the calling thread).
fn compute(kind: Experiment, scenario: &Scenario) -> dpo_lab::Result<Outcome> {
    match kind {
        Experiment::Remedies => {
            let entries =
                remedies::parse_entries("rows", remedies::DEFAULT_ROWS, &scenario.loss_params())?;
            Ok(Outcome::Table(remedies::remedies_table(
                scenario, &entries, &Unwatched,
            )?))
        }
        Experiment::Resampling => {
            let every = sweep::parse_every("every", sweep::DEFAULT_EVERY)?;
            Ok(Outcome::Resample(sweep::resample_sweep(
                scenario, &every, &Unwatched,
            )?))
        }
        Experiment::OverOptimisation => {
            let sizes = default_sizes();
            Ok(Outcome::Over(overoptimisation::over_optimisation(
                scenario,
                &sizes,
                overoptimisation::DEFAULT_SEEDS,
            )?))
        }
    }
}

fn default_sizes() -> Vec<usize> {
    overoptimisation::DEFAULT_PAIRS
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect()
}

/// The library's estimate of an experiment's work, refused above its limit.
fn check_work(kind: Experiment, scenario: &Scenario) -> dpo_lab::Result<()> {
    let cfgs = match kind {
        Experiment::Remedies => {
            let entries =
                remedies::parse_entries("rows", remedies::DEFAULT_ROWS, &scenario.loss_params())?;
            remedies::table_configs(scenario, &entries)
        }
        Experiment::Resampling => {
            let every = sweep::parse_every("every", sweep::DEFAULT_EVERY)?;
            sweep::resample_configs(scenario, &every)
        }
        Experiment::OverOptimisation => overoptimisation::run_configs(
            scenario,
            &default_sizes(),
            overoptimisation::DEFAULT_SEEDS,
        )?,
    };
    work::check(&work::total(&cfgs), false)
}

impl ExperimentsPanel {
    /// Whether a job is running (the app keeps repainting while it is).
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// Starts `kind` on the session's scenario (its current settings).
    pub fn start(&mut self, kind: Experiment, session: &Session) {
        if self.job.is_some() {
            return;
        }
        let scenario = session.scenario.clone();
        let what = format!("{} at β = {}", scenario.name(), scenario.train.beta());
        if let Err(e) = check_work(kind, &scenario) {
            self.error = Some(format!(
                "{}: {e} (the command line takes --allow-long)",
                kind.title()
            ));
            return;
        }
        self.error = None;
        let job = std::thread::spawn(move || compute(kind, &scenario).map_err(|e| e.to_string()));
        self.job = Some((kind, what, job));
    }

    /// Collects a finished job.
    pub fn poll(&mut self) {
        if !self.job.as_ref().is_some_and(|(_, _, j)| j.is_finished()) {
            return;
        }
        let Some((kind, what, job)) = self.job.take() else {
            return;
        };
        match job.join() {
            Ok(Ok(outcome)) => {
                self.results.retain(|(k, _, _)| *k != kind);
                self.results.push((kind, what, outcome));
            }
            Ok(Err(e)) => self.error = Some(format!("{}: {e}", kind.title())),
            Err(_) => self.error = Some(format!("{}: the computation failed", kind.title())),
        }
    }
}

fn num(v: f64) -> String {
    dpo_lab::numerics::tick(v)
}

fn table_ui(ui: &mut egui::Ui, t: &Table) {
    ui.label(format!(
        "β = {}; focus: {}",
        t.beta,
        t.focus
            .as_deref()
            .unwrap_or("(every response is in the data)")
    ));
    egui::Grid::new("remedies")
        .striped(true)
        .num_columns(10)
        .show(ui, |ui| {
            for h in [
                "row",
                "OOD mass",
                "focus π",
                "focus β·h",
                "E r",
                "KL ref",
                "KL π*",
                "win",
                "tie",
                "loss",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for row in &t.rows {
                ui.label(&row.name);
                match &row.numbers {
                    Some(n) => {
                        for v in [
                            n.ood_mass,
                            n.focus_probability,
                            n.focus_implicit_reward.unwrap_or(f64::NAN),
                            n.expected_reward,
                            n.kl_to_ref,
                            n.kl_to_optimal,
                            n.win,
                            n.tie,
                            n.loss,
                        ] {
                            ui.label(if v.is_finite() { num(v) } else { "–".into() });
                        }
                    }
                    None => {
                        ui.label(format!(
                            "error: {}",
                            row.error.as_deref().unwrap_or("no result")
                        ));
                    }
                }
                ui.end_row();
            }
        });
    ui.label("win/tie/loss: exact, against π* (a response pair drawn from each policy).");
}

/// x position of a resampling interval: log₂ K, with "never" one step past
/// the largest.
fn resample_x(points: &[ResamplePoint]) -> Vec<f64> {
    let last = points
        .iter()
        .filter_map(|p| p.every)
        .map(|k| (k as f64).log2())
        .fold(0.0, f64::max);
    points
        .iter()
        .map(|p| p.every.map_or(last + 2.0, |k| (k as f64).log2()))
        .collect()
}

fn resample_ui(ui: &mut egui::Ui, points: &[ResamplePoint]) {
    let xs = resample_x(points);
    let names: Vec<(f64, String)> = xs
        .iter()
        .zip(points)
        .map(|(x, p)| (*x, p.every.map_or("never".into(), |k| k.to_string())))
        .collect();
    let series = |pick: fn(&ResamplePoint) -> f64| -> Vec<[f64; 2]> {
        xs.iter().zip(points).map(|(x, p)| [*x, pick(p)]).collect()
    };
    // Each curve's name, points and look, for the legend and the plot.
    let curves = [
        (
            "KL(π || π*)",
            series(|p| p.kl_to_optimal),
            color(Some(dpo_lab::method::MethodKind::OnlineDpo)),
            Marker::Circle,
            Dash::Solid,
        ),
        (
            "mass never drawn",
            series(|p| p.unseen_mass),
            color(Some(dpo_lab::method::MethodKind::Dpo)),
            Marker::Square,
            Dash::Dashed,
        ),
    ];
    ui.horizontal_wrapped(|ui| {
        for (name, _, c, marker, dash) in &curves {
            super::cue::legend_item(ui, *c, Some(*marker), Some(*dash), name);
        }
    });
    let h = (ui.available_height() - 150.0).max(120.0);
    super::cue::readable_axes(
        Plot::new("resampling"),
        "resample every K steps",
        "at the end",
    )
    .height(h)
    .x_axis_formatter(move |mark, _| {
        names
            .iter()
            .find(|(x, _)| (x - mark.value).abs() < 1e-9)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    })
    .allow_scroll(false)
    .show(ui, |plot_ui| {
        for (name, pts, c, marker, dash) in curves {
            plot_ui.line(
                Line::new(name, PlotPoints::from(pts.clone()))
                    .color(c)
                    .style(super::cue::dash_style(dash)),
            );
            plot_ui.points(
                Points::new(name, PlotPoints::from(pts))
                    .shape(super::cue::shape_of(marker))
                    .radius(5.0)
                    .color(c),
            );
        }
    });
    egui::Grid::new("resample-table")
        .striped(true)
        .show(ui, |ui| {
            for h in ["every", "never drawn", "OOD mass", "E r", "KL π*", "labels"] {
                ui.strong(h);
            }
            ui.end_row();
            for p in points {
                ui.label(p.every.map_or("never".into(), |k| k.to_string()));
                ui.label(num(p.unseen_mass));
                ui.label(num(p.ood_mass));
                ui.label(num(p.expected_reward));
                ui.label(num(p.kl_to_optimal));
                ui.label(p.labels.to_string());
                ui.end_row();
            }
        });
}

/// One colour and marker per pair count (Okabe–Ito, after the methods').
const SIZE_STYLE: [([u8; 3], Marker); 5] = [
    ([86, 180, 233], Marker::Circle),
    ([213, 94, 0], Marker::Square),
    ([0, 158, 115], Marker::Diamond),
    ([204, 121, 167], Marker::Triangle),
    ([230, 159, 0], Marker::Plus),
];

fn over_ui(ui: &mut egui::Ui, r: &Report, optimiser: usize) {
    let pick = |s: &overoptimisation::SizeReport| -> (Curve, GaoForm) {
        match optimiser {
            0 => (s.best_of_n.clone(), GaoForm::BestOfN),
            1 => (s.optimum.clone(), GaoForm::Rl),
            _ => (s.rlhf.clone(), GaoForm::Rl),
        }
    };
    // The legend above the plot: one colour and marker per N, and what
    // each line pattern means.
    ui.horizontal_wrapped(|ui| {
        for (k, s) in r.sizes.iter().enumerate() {
            let ([red, g, b], m) = SIZE_STYLE[k % SIZE_STYLE.len()];
            let c = Color32::from_rgb(red, g, b);
            super::cue::legend_item(ui, c, Some(m), None, &format!("N = {}", s.pairs));
        }
        let ink = ui.visuals().text_color();
        super::cue::legend_item(ui, ink, None, Some(Dash::Solid), "gold");
        super::cue::legend_item(ui, ink, None, Some(Dash::Dashed), "proxy");
        super::cue::legend_item(ui, ink, None, Some(Dash::Dotted), "Gao's fit");
    });
    let h = (ui.available_height() - 62.0 - 22.0 * r.sizes.len() as f32).max(140.0);
    super::cue::readable_axes(
        Plot::new("over-optimisation"),
        "d = √KL(π || π_ref)",
        "reward gain",
    )
    .height(h)
    .allow_scroll(false)
    .show(ui, |plot_ui| {
        for (k, s) in r.sizes.iter().enumerate() {
            let (rgb, shape) = SIZE_STYLE[k % SIZE_STYLE.len()];
            let c = Color32::from_rgb(rgb[0], rgb[1], rgb[2]);
            let (curve, form) = pick(s);
            let gold: Vec<[f64; 2]> = curve.points.iter().map(|p| [p.sqrt_kl, p.gold]).collect();
            let proxy: Vec<[f64; 2]> = curve.points.iter().map(|p| [p.sqrt_kl, p.proxy]).collect();
            let n = s.pairs;
            plot_ui.line(
                Line::new(format!("N = {n}"), PlotPoints::from(gold))
                    .color(c)
                    .width(2.0),
            );
            plot_ui.line(
                Line::new(format!("N = {n}"), PlotPoints::from(proxy))
                    .color(c)
                    .style(super::cue::dash_style(Dash::Dashed)),
            );
            plot_ui.points(
                Points::new(
                    format!("N = {n}"),
                    PlotPoints::from(vec![[curve.peak.sqrt_kl, curve.peak.gold]]),
                )
                .shape(super::cue::shape_of(shape))
                .radius(6.0)
                .color(c),
            );
            if let Some(f) = curve.fit {
                let end = curve.points.last().map_or(0.0, |p| p.sqrt_kl);
                let fit: Vec<[f64; 2]> = (0..=60)
                    .map(|i| {
                        let d = end * i as f64 / 60.0;
                        [d, form.value(f, d)]
                    })
                    .collect();
                plot_ui.line(
                    Line::new(format!("N = {n}"), PlotPoints::from(fit))
                        .color(c)
                        .style(super::cue::dash_style(Dash::Dotted)),
                );
            }
        }
    });
    ui.label("Solid: gold reward · dashed: proxy reward · dotted: Gao's fitted form · marker: the gold peak.");
    let form = if optimiser == 0 {
        "d·(α − β·d)"
    } else {
        "d·(α − β·ln d)"
    };
    for s in &r.sizes {
        let (c, _) = pick(s);
        let fit = c.fit.map_or("no fit".into(), |f| {
            format!(
                "α = {}, β = {}, R² = {:.2}{}",
                num(f.alpha),
                num(f.beta),
                f.r2,
                f.fitted_peak.map_or_else(
                    || ", its peak outside the data".to_string(),
                    |d| format!(", fitted peak at d = {}", num(d))
                )
            )
        });
        ui.label(format!(
            "N = {}: gold peaks at d = {} with {}; ends at {} while the proxy ends at {}; fit {form}: {fit}",
            s.pairs,
            num(c.peak.sqrt_kl),
            num(c.peak.gold),
            num(c.points.last().map_or(0.0, |p| p.gold)),
            num(c.points.last().map_or(0.0, |p| p.proxy)),
        ));
    }
}

impl super::Panel for ExperimentsPanel {
    /// The tab.
    fn ui(&mut self, ui: &mut egui::Ui, session: &Session) {
        self.poll();
        // Wrapped: the "computing …" label never pushes past the window.
        ui.horizontal_wrapped(|ui| {
            for e in ALL_EXPERIMENTS {
                ui.selectable_value(&mut self.selected, e, e.title())
                    .on_hover_text(e.tooltip());
            }
            ui.separator();
            let running = self.job.is_some();
            let label = format!("Compute on {}", session.scenario.name());
            if ui
                .add_enabled(!running, egui::Button::new(label))
                .on_hover_text("Runs on the current scenario and settings, in the background")
                .clicked()
            {
                self.start(self.selected, session);
            }
            if let Some((kind, what, _)) = &self.job {
                ui.spinner();
                ui.label(format!("computing {} on {what}…", kind.title()));
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(Color32::from_rgb(213, 94, 0), e);
        }
        ui.label(self.selected.tooltip());
        ui.separator();
        // While the selected experiment computes, an older result (maybe of
        // another scenario) would teach the wrong example: show none.
        if self
            .job
            .as_ref()
            .is_some_and(|(k, _, _)| *k == self.selected)
        {
            return;
        }
        let Some((_, what, outcome)) = self.results.iter().find(|(k, _, _)| *k == self.selected)
        else {
            ui.label("Not computed yet: press Compute.");
            return;
        };
        ui.label(format!("Computed on {what}."));
        match outcome {
            Outcome::Table(t) => table_ui(ui, t),
            Outcome::Resample(points) => resample_ui(ui, points),
            Outcome::Over(r) => {
                ui.horizontal(|ui| {
                    ui.label("Optimiser:");
                    for (k, name) in ["best-of-n", "π* of the proxy over β", "the RLHF run"]
                        .iter()
                        .enumerate()
                    {
                        ui.selectable_value(&mut self.optimiser, k, *name);
                    }
                });
                over_ui(ui, r, self.optimiser);
            }
        }
    }
}
