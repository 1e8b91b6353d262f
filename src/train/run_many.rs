//! Whole schedules: one run to its end ([`train`]), every prompt of a
//! scenario, and prompts sharing one set of parameters ([`SharedRun`],
//! [`Trainer`]).

use super::*;

/// What [`train`] returns.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Metrics of the final policy.
    pub final_metrics: Metrics,
    /// `log π` of the final policy.
    pub final_log_probs: Vec<f64>,
    /// `(step, metrics)` at every logged step.
    pub history: Vec<(usize, Metrics)>,
    /// The reward model the run fit, if any.
    pub reward_model: Option<RewardModel>,
    /// Gradient norm of the loss at the final policy ([`Run::grad_norm`]).
    pub grad_norm: f64,
    /// How the run ended, when there is something to say ([`Run::warnings`]).
    pub warnings: Vec<String>,
    /// For online DPO: the final policy's mass on responses no batch of the
    /// run ever drew ([`Run::unseen_mass`]).
    pub unseen_mass: Option<f64>,
}

/// One method trained on every prompt of a scenario.
#[derive(Debug, Clone)]
pub struct MultiOutcome {
    /// Each prompt's outcome, in prompt order.
    pub prompts: Vec<Outcome>,
    /// Final metrics averaged over prompts.
    pub final_metrics: Metrics,
    /// History averaged over prompts, step by step.
    pub history: Vec<(usize, Metrics)>,
    /// Final gradient norm averaged over prompts.
    pub grad_norm: f64,
    /// Every prompt's warnings (prefixed with the prompt's number when
    /// there are several).
    pub warnings: Vec<String>,
}

/// Trains every configuration (one per prompt) and averages the metrics;
/// prompts whose log-linear policy shares its parameters
/// (`RunConfig::shared`) train together ([`train_shared`]).
pub fn train_prompts(cfgs: &[RunConfig]) -> Result<MultiOutcome> {
    train_prompts_watched(cfgs, &Unwatched)
}

/// Watches long work: it is told of every update and asked, before each
/// one, whether to stop (the CLI's progress bar and Ctrl-C).
pub trait Progress {
    /// `steps` more updates are done.
    fn advance(&self, _steps: usize) {}
    /// True once the user asked to stop.
    fn stop_requested(&self) -> bool {
        false
    }
}

/// No progress display, never stops.
pub struct Unwatched;

impl Progress for Unwatched {}

/// [`train_prompts`] reporting to `progress`; a stop request ends it with
/// [`Error::Interrupted`].
pub fn train_prompts_watched(cfgs: &[RunConfig], progress: &dyn Progress) -> Result<MultiOutcome> {
    let prompts: Vec<Outcome> = if cfgs.first().is_some_and(|c| c.shared) {
        train_shared(cfgs, progress)?
    } else {
        cfgs.iter()
            .map(|c| train_watched(c, |_, _| {}, progress))
            .collect::<Result<_>>()?
    };
    let finals: Vec<Metrics> = prompts.iter().map(|o| o.final_metrics.clone()).collect();
    let history = (0..prompts[0].history.len())
        .map(|i| {
            let at: Vec<Metrics> = prompts.iter().map(|o| o.history[i].1.clone()).collect();
            (prompts[0].history[i].0, Metrics::mean(&at))
        })
        .collect();
    let grad_norm = prompts.iter().map(|o| o.grad_norm).sum::<f64>() / prompts.len() as f64;
    let warnings = prompts
        .iter()
        .enumerate()
        .flat_map(|(k, o)| {
            o.warnings.iter().map(move |w| {
                if cfgs.len() > 1 {
                    format!("prompt {}: {w}", k + 1)
                } else {
                    w.clone()
                }
            })
        })
        .collect();
    Ok(MultiOutcome {
        final_metrics: Metrics::mean(&finals),
        history,
        grad_norm,
        warnings,
        prompts,
    })
}

/// Prompts that share one log-linear policy's parameters θ
/// (`[policy] shared = true`): each prompt keeps its own reference, method
/// and draws (seed `train.seed + k`), and every step takes one optimiser
/// step on θ along the mean of the prompts' gradients — TRL's batch mean
/// over prompts — so training on some prompts moves the others.
pub struct SharedRun {
    runs: Vec<Run>,
    optimizer: Optimizer,
    grad: GradBuffer,
    deltas: Vec<(usize, f64)>,
    weight: f64,
    focus: usize,
}

impl SharedRun {
    /// One run per prompt (`cfgs`, all with the same features), sharing θ;
    /// `focus` is the prompt [`SharedRun::focused`] describes.
    pub fn new(cfgs: &[RunConfig], focus: usize) -> Result<Self> {
        let runs: Vec<Run> = cfgs.iter().map(Run::new).collect::<Result<_>>()?;
        let Some(first) = runs.first() else {
            return Err(Error::invalid("prompts", "a shared run needs a prompt"));
        };
        let n_params = first.policy.num_params();
        if runs.iter().any(|r| r.policy.num_params() != n_params) {
            return Err(Error::invalid(
                "policy.shared",
                "every prompt's policy must have the same features to share parameters",
            ));
        }
        Ok(SharedRun {
            optimizer: Optimizer::new(cfgs[0].train.optimizer, cfgs[0].effective_lr(), n_params),
            grad: GradBuffer::new(n_params),
            deltas: Vec::new(),
            weight: 1.0 / runs.len() as f64,
            focus: focus.min(runs.len() - 1),
            runs,
        })
    }

    /// One step of θ along the mean of the prompts' gradients.
    pub fn step(&mut self) -> Result<()> {
        self.grad.clear();
        let mut losses = Vec::with_capacity(self.runs.len());
        for r in self.runs.iter_mut() {
            losses.push(r.compute_grad());
            for (k, g) in r.grad.entries() {
                self.grad.add(k, self.weight * g);
            }
        }
        self.optimizer.deltas(&self.grad, &mut self.deltas);
        for (r, loss) in self.runs.iter_mut().zip(losses) {
            r.apply_update(&self.deltas, loss)?;
        }
        Ok(())
    }

    /// Every prompt's run (their policies share θ).
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// The focused prompt's run.
    pub fn focused(&self) -> &Run {
        &self.runs[self.focus]
    }

    /// The norm of the joint gradient (the mean of the prompts' loss
    /// gradients) at the current θ.
    pub fn grad_norm(&self) -> f64 {
        let mut joint = GradBuffer::new(self.grad.len());
        for r in &self.runs {
            r.add_loss_gradient(self.weight, &mut joint);
        }
        joint.entries().map(|(_, g)| g * g).sum::<f64>().sqrt() + 0.0
    }
}

/// A run of one prompt, or of prompts sharing parameters: what the app
/// steps and draws.
pub enum Trainer {
    /// One prompt, its own policy.
    Single(Box<Run>),
    /// Every prompt, one shared θ; the focused prompt is shown.
    Shared(SharedRun),
}

impl Trainer {
    /// The run of prompt `focus` of `cfgs` (one configuration per prompt),
    /// or of every prompt when they share parameters (`RunConfig::shared`).
    pub fn new(cfgs: &[RunConfig], focus: usize) -> Result<Self> {
        let Some(cfg) = cfgs.get(focus) else {
            return Err(Error::invalid(
                "prompt",
                format!(
                    "the scenario has {} prompts, got prompt {}",
                    cfgs.len(),
                    focus + 1
                ),
            ));
        };
        Ok(if cfg.shared {
            Trainer::Shared(SharedRun::new(cfgs, focus)?)
        } else {
            Trainer::Single(Box::new(Run::new(cfg)?))
        })
    }

    /// The run whose policy is shown.
    pub fn run(&self) -> &Run {
        match self {
            Trainer::Single(r) => r,
            Trainer::Shared(s) => s.focused(),
        }
    }

    /// One update.
    pub fn step(&mut self) -> Result<()> {
        match self {
            Trainer::Single(r) => r.step(),
            Trainer::Shared(s) => s.step(),
        }
    }

    /// Updates done so far.
    pub fn steps_done(&self) -> usize {
        self.run().steps_done()
    }

    /// Updates scheduled.
    pub fn steps_total(&self) -> usize {
        self.run().steps_total()
    }

    /// Whether the schedule is done.
    pub fn finished(&self) -> bool {
        self.run().finished()
    }

    /// For a verifier reward, `(q, q_ref)` of every prompt this trainer
    /// trains (the wrong mass under the policy and under π_ref): pass@k
    /// averaged over them is what the command line reports.
    pub fn wrong_masses(&self) -> Option<Vec<(f64, f64)>> {
        let runs: &[Run] = match self {
            Trainer::Single(r) => std::slice::from_ref(r.as_ref()),
            Trainer::Shared(s) => s.runs(),
        };
        runs.iter()
            .map(|r| {
                let correct = r.problem.correct.as_ref()?;
                Some((
                    crate::rlvr::correct_mass(&r.policy.log_probs(), correct).1,
                    crate::rlvr::correct_mass(&r.problem.log_ref, correct).1,
                ))
            })
            .collect()
    }

    /// The shown prompt's pairs of the last step ([`Run::last_pairs`]).
    pub fn last_pairs(&self) -> &[crate::data::Pair] {
        self.run().last_pairs()
    }

    /// The gradient norm: the run's, or the joint one.
    pub fn grad_norm(&self) -> f64 {
        match self {
            Trainer::Single(r) => r.grad_norm(),
            Trainer::Shared(s) => s.grad_norm(),
        }
    }

    /// How the run ended (no convergence notes for shared runs: a prompt's
    /// own gradient need not vanish at the joint optimum).
    pub fn warnings(&self, grad_norm: f64) -> Vec<String> {
        match self {
            Trainer::Single(r) => r.warnings(grad_norm),
            Trainer::Shared(_) => Vec::new(),
        }
    }
}

/// [`SharedRun`] to the end: each prompt's outcome with its own metrics;
/// `grad_norm` is the joint gradient's and no convergence notes are given.
pub fn train_shared(cfgs: &[RunConfig], progress: &dyn Progress) -> Result<Vec<Outcome>> {
    let mut shared = SharedRun::new(cfgs, 0)?;
    let mut histories: Vec<Vec<(usize, Metrics)>> = vec![Vec::new(); cfgs.len()];
    let log = |shared: &SharedRun, histories: &mut [Vec<(usize, Metrics)>]| -> Result<()> {
        let k = shared.runs[0].steps_done();
        if shared.runs[0].is_logged(k) {
            for (r, h) in shared.runs.iter().zip(histories.iter_mut()) {
                h.push((k, r.metrics()?));
            }
        }
        Ok(())
    };
    log(&shared, &mut histories)?;
    while !shared.runs[0].finished() {
        if progress.stop_requested() {
            return Err(Error::Interrupted {
                step: shared.runs[0].steps_done(),
            });
        }
        shared.step()?;
        progress.advance(cfgs.len());
        log(&shared, &mut histories)?;
    }
    let grad_norm = shared.grad_norm();
    shared
        .runs
        .iter()
        .zip(histories)
        .map(|(r, history)| r.outcome(history, grad_norm, Vec::new()))
        .collect()
}

/// Runs the whole schedule; `observer` sees every logged step.
pub fn train(cfg: &RunConfig, observer: impl FnMut(usize, &Metrics)) -> Result<Outcome> {
    train_watched(cfg, observer, &Unwatched)
}

/// [`train`] reporting each update to `progress`, stopping with
/// [`Error::Interrupted`] when it asks.
pub fn train_watched(
    cfg: &RunConfig,
    mut observer: impl FnMut(usize, &Metrics),
    progress: &dyn Progress,
) -> Result<Outcome> {
    if progress.stop_requested() {
        return Err(Error::Interrupted { step: 0 });
    }
    let mut run = Run::new(cfg)?;
    let mut history = Vec::new();
    if run.is_logged(0) {
        let m = run.metrics()?;
        observer(0, &m);
        history.push((0, m));
    }
    while !run.finished() {
        if progress.stop_requested() {
            return Err(Error::Interrupted {
                step: run.steps_done(),
            });
        }
        run.step()?;
        progress.advance(1);
        let k = run.steps_done();
        if run.is_logged(k) {
            let m = run.metrics()?;
            observer(k, &m);
            history.push((k, m));
        }
    }
    let grad_norm = run.grad_norm();
    let warnings = run.warnings(grad_norm);
    run.outcome(history, grad_norm, warnings)
}
