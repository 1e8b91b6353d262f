//! The app's run-time state: one scenario, one run per selected method, and
//! the history each run has produced. Everything numeric comes from the
//! library; this file only schedules steps and keeps what the plots need.

use std::time::{Duration, Instant};

/// How much training one frame may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameBudget {
    /// Stop once this much wall time is spent: the window keeps its frame
    /// rate on any machine.
    Time(Duration),
    /// At most this many updates, whatever the clock says: tests drive the
    /// app with it, so what a frame trains never depends on machine speed.
    Updates(usize),
}

use dpo_lab::error::Result;
use dpo_lab::method::MethodKind;
use dpo_lab::metrics::Metrics;
use dpo_lab::optimal::{FrontierPoint, Optimum, frontier, optimum};
use dpo_lab::scenario::{RawScenario, Scenario};
use dpo_lab::sweep::log_grid;
use dpo_lab::train::Trainer;

use super::pace::{Pace, Rehearsal};
use super::settings::Settings;

/// Most history points kept per run; older ones are thinned by half.
const MAX_HISTORY: usize = 4000;

/// One method training in the app.
pub struct MethodRun {
    /// Which method.
    pub kind: MethodKind,
    /// The run (of the focused prompt, or of every prompt when they share
    /// parameters).
    pub run: Trainer,
    /// `(step, metrics)` sampled as it trained.
    pub history: Vec<(usize, Metrics)>,
    /// Metrics of the current policy.
    pub metrics: Metrics,
    /// `log π` of the current policy.
    pub log_probs: Vec<f64>,
    /// `h = log π − log π_ref` of the current policy.
    pub log_ratios: Vec<f64>,
    /// `log π` before the last single Step (slow motion); empty after
    /// playing.
    pub before_step: Vec<f64>,
}

impl MethodRun {
    fn refresh(&mut self) -> Result<()> {
        let run = self.run.run();
        self.metrics = run.metrics()?;
        self.log_probs = run.policy().log_probs();
        self.log_ratios = run.policy().log_ratios();
        let k = run.steps_done();
        if self.history.last().is_none_or(|(s, _)| *s != k) {
            self.history.push((k, self.metrics.clone()));
            if self.history.len() > MAX_HISTORY {
                let last = self.history.pop();
                let mut keep = 0;
                self.history.retain(|_| {
                    keep += 1;
                    keep % 2 == 1
                });
                self.history.extend(last);
            }
        }
        Ok(())
    }
}

/// The display name of a method.
pub fn method_label(kind: MethodKind) -> &'static str {
    dpo_lab::palette::label(Some(kind))
}

/// The runs from before the last settings change, kept to compare against
/// (drawn faded).
pub struct Ghost {
    /// What changed, e.g. "β 0.5 to 0.25".
    pub what: String,
    /// The settings the runs were trained with (what later changes are
    /// counted from: a slider's drag names where it started and where it
    /// is now, not its first step).
    pub from: Settings,
    /// Each run as it stood.
    pub runs: Vec<GhostRun>,
}

/// One run of a [`Ghost`].
pub struct GhostRun {
    /// Which method.
    pub kind: MethodKind,
    /// Its final `log π`.
    pub log_probs: Vec<f64>,
    /// Its history.
    pub history: Vec<(usize, Metrics)>,
}

impl Ghost {
    /// The runs of `session` that took at least one step, or `None`.
    pub fn of(session: &Session, what: String, from: &Settings) -> Option<Ghost> {
        let runs: Vec<GhostRun> = session
            .runs
            .iter()
            .filter(|r| r.run.steps_done() > 0)
            .map(|r| GhostRun {
                kind: r.kind,
                log_probs: r.log_probs.clone(),
                history: r.history.clone(),
            })
            .collect();
        (!runs.is_empty()).then_some(Ghost {
            what,
            from: from.clone(),
            runs,
        })
    }
}

/// A loaded scenario with its runs.
pub struct Session {
    /// The scenario as loaded (before the app's settings are applied).
    pub base: RawScenario,
    /// The scenario with the app's settings applied.
    pub scenario: Scenario,
    /// π* at the current β.
    pub optimum: Optimum,
    /// The exact reward–KL frontier (π* over a β grid).
    pub frontier: Vec<FrontierPoint>,
    /// Exact best-of-n from π_ref at n = 1, 2, 4, …, 1024: `(n, KL, E r)`.
    pub best_of_n: Vec<(u64, f64, f64)>,
    /// One run per selected trainable method.
    pub runs: Vec<MethodRun>,
    /// `(step, win, tie, loss)` of online against offline DPO as they train.
    pub head_to_head: Vec<(usize, f64, f64, f64)>,
    /// When each step is shown in paced playback.
    pub pace: Pace,
    /// The rehearsal that will pace the runs, while it runs.
    rehearsal: Option<Rehearsal>,
    /// Whether a rehearsal was started (it is started once, at the first
    /// paced Play).
    rehearsed: bool,
    /// Paced playing time so far, as a share of the run's playing time.
    clock: f64,
}

impl Session {
    /// Applies `settings` to `base`, checks it and starts the runs.
    pub fn new(base: RawScenario, settings: &Settings) -> Result<Self> {
        let mut raw = base.clone();
        settings.apply_to(&mut raw);
        let mut scenario = Scenario::check(raw)?;
        scenario.focus_prompt(settings.prompt.min(scenario.prompts.len() - 1))?;
        let p = &scenario.problem;
        let optimum = optimum(&p.log_ref, &p.reward, scenario.train.beta());
        // Each frontier point is a pass over the space: fewer for huge ones.
        let points = match p.len() {
            0..=100_000 => 61,
            100_001..=1_000_000 => 25,
            _ => 13,
        };
        let frontier = frontier(&p.log_ref, &p.reward, &log_grid(1e-3, 1e3, points));
        // One sort of the space, then a pass per n: skipped for the largest.
        let best_of_n = if p.len() <= 200_000 {
            let table = dpo_lab::best_of_n::BestOfNTable::new(&p.log_ref, &p.reward);
            (0..=10)
                .map(|k| {
                    let b = table.at(1 << k);
                    (b.n, b.kl, b.expected_reward)
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut runs = Vec::new();
        for kind in settings.methods() {
            let run = Trainer::new(&scenario.run_configs(kind), scenario.focused_prompt())?;
            let mut mr = MethodRun {
                kind,
                run,
                history: Vec::new(),
                metrics: Metrics::default(),
                log_probs: Vec::new(),
                log_ratios: Vec::new(),
                before_step: Vec::new(),
            };
            mr.refresh()?;
            runs.push(mr);
        }
        let steps = runs.iter().map(|r| r.run.steps_total()).max().unwrap_or(0);
        let mut session = Session {
            base,
            scenario,
            optimum,
            frontier,
            best_of_n,
            runs,
            head_to_head: Vec::new(),
            pace: Pace::exponential(steps),
            rehearsal: None,
            rehearsed: false,
            clock: 0.0,
        };
        session.record_head_to_head();
        Ok(session)
    }

    /// Appends the exact win/tie/loss of online against offline DPO (both
    /// must run). Large spaces record every 25 steps: each comparison sorts
    /// the whole space.
    fn record_head_to_head(&mut self) {
        let (Some(on), Some(off)) = (
            self.run_of(MethodKind::OnlineDpo),
            self.run_of(MethodKind::Dpo),
        ) else {
            return;
        };
        let step = on.run.steps_done();
        let due = self.scenario.problem.len() <= 20_000 || step.is_multiple_of(25);
        if !due || self.head_to_head.last().is_some_and(|h| h.0 == step) {
            return;
        }
        let h = dpo_lab::compare::head_to_head(
            &on.log_probs,
            &off.log_probs,
            &self.scenario.problem.reward,
            0.0,
        );
        self.head_to_head.push((step, h.win, h.tie, h.loss));
    }

    /// Updates done so far (by the furthest run).
    pub fn steps_done(&self) -> usize {
        self.runs
            .iter()
            .map(|r| r.run.steps_done())
            .max()
            .unwrap_or(0)
    }

    /// Paced playback starts or resumes: the clock catches up with steps
    /// already taken (by Step), and the rehearsal that paces the rest
    /// starts if it has not.
    pub fn start_pacing(&mut self) {
        if !self.rehearsed {
            self.rehearsed = true;
            let steps = self.runs.iter().map(|r| r.run.steps_total()).max();
            let methods: Vec<MethodKind> = self.runs.iter().map(|r| r.kind).collect();
            self.rehearsal = Rehearsal::start(&self.scenario, &methods, steps.unwrap_or(0));
        }
        self.clock = self.clock.max(self.pace.time_of(self.steps_done()));
    }

    /// How many updates paced playback wants this frame, `dt` (a share of
    /// the playing time) after the last (`wait`: take the rehearsal's schedule as
    /// soon as it is asked for, as tests do, so nothing depends on how fast
    /// a thread runs).
    pub fn paced_steps(&mut self, dt: f64, wait: bool) -> usize {
        if !self.rehearsed {
            self.start_pacing();
        }
        if let Some(r) = &self.rehearsal
            && let Some(answer) = r.poll(wait)
        {
            self.rehearsal = None;
            if let Some(movement) = answer {
                self.pace = Pace::from_movement(&movement);
                self.clock = self.pace.time_of(self.steps_done());
            }
        }
        self.clock += dt.max(0.0);
        self.pace
            .step_at(self.clock)
            .saturating_sub(self.steps_done())
    }

    /// Whether every run has finished its schedule.
    pub fn finished(&self) -> bool {
        self.runs.iter().all(|r| r.run.finished())
    }

    /// Forgets where the bars were before the last single Step.
    pub fn clear_step_marks(&mut self) {
        for r in &mut self.runs {
            r.before_step.clear();
        }
    }

    /// Up to `steps` updates of every run, stopping early when `budget`
    /// is spent, then fresh metrics. Returns the updates done per run.
    pub fn advance(&mut self, steps: usize, budget: FrameBudget) -> Result<usize> {
        self.clear_step_marks();
        let start = Instant::now();
        let (steps, time) = match budget {
            FrameBudget::Time(t) => (steps, t),
            FrameBudget::Updates(n) => (steps.min(n), Duration::MAX),
        };
        let mut done = 0;
        while done < steps && !self.finished() {
            for r in &mut self.runs {
                if !r.run.finished() {
                    r.run.step()?;
                }
            }
            done += 1;
            if start.elapsed() > time {
                break;
            }
        }
        for r in &mut self.runs {
            r.refresh()?;
        }
        self.record_head_to_head();
        Ok(done)
    }

    /// One update of every run, remembering each policy before it (slow
    /// motion: the bars show how they moved, the pairs used are listed).
    pub fn step_once(&mut self) -> Result<usize> {
        let before: Vec<Vec<f64>> = self.runs.iter().map(|r| r.log_probs.clone()).collect();
        let done = self.advance(1, FrameBudget::Updates(1))?;
        for (r, b) in self.runs.iter_mut().zip(before) {
            r.before_step = b;
        }
        Ok(done)
    }

    /// How the runs ended: the library's warnings ("not converged",
    /// "oscillating") of every finished run, each with its method.
    pub fn warnings(&self) -> Vec<String> {
        self.runs
            .iter()
            .filter(|r| r.run.finished())
            .flat_map(|r| {
                r.run
                    .warnings(r.run.grad_norm())
                    .into_iter()
                    .map(move |w| format!("{}: {w}", method_label(r.kind)))
            })
            .collect()
    }

    /// A lesson's prediction read off the watched run: from its first
    /// recorded metrics (at π_ref) to its current ones.
    pub fn prediction(
        &self,
        pred: &dpo_lab::lesson::Prediction,
    ) -> Option<dpo_lab::lesson::Evaluation> {
        let run = self.run_of(pred.method)?;
        let (_, first) = run.history.first()?;
        pred.read(
            &self.scenario.problem.space,
            (first, &self.scenario.problem.log_ref),
            (&run.metrics, &run.log_probs),
        )
    }

    /// The run of one method, if selected.
    pub fn run_of(&self, kind: MethodKind) -> Option<&MethodRun> {
        self.runs.iter().find(|r| r.kind == kind)
    }

    /// The scenario with the app's settings, as a TOML file that reloads to
    /// the same state.
    pub fn to_toml(&self) -> Result<String> {
        self.scenario.raw.to_toml()
    }
}
