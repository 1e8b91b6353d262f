//! The generic trainer: one loop, one seeded generator, any method.
//!
//! A [`Run`] holds a policy, a method and an optimiser. [`Run::step`] does
//! one update; [`Run::metrics`] evaluates every documented metric exactly;
//! [`train`] runs the whole schedule and reports each logged step to an
//! observer (the CLI prints from it, the app plots from it, tests assert on
//! it).

use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::data::PairData;
use crate::error::{Error, Result};
use crate::loss::PairLoss;
use crate::method::{
    Annotator, Grpo, Method, MethodKind, OfflinePairs, OnlineDpo, Ppo, PpoSettings, RlhfExact,
    Rloo, StepContext,
};
use crate::metrics::{Metrics, evaluate_policy};
use crate::optim::{Optimizer, OptimizerKind};
use crate::optimal::{Optimum, optimum};
use crate::policy::{GradBuffer, Policy, PolicyKind};
use crate::problem::Problem;
use crate::reward_model::{FitSettings, RewardModel, RewardModelKind};
use crate::tolerance::{
    CONVERGED_GRAD_ABS, CONVERGED_GRAD_REL, MAX_PARAMETER, OSCILLATION_COSINE, SUBLINEAR_GRAD_RATIO,
};

/// Checked training settings (scenario `[train]`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSettings {
    /// KL weight β > 0 (default 0.1).
    pub(crate) beta: f64,
    /// Learning rate > 0 (default 0.5).
    pub(crate) lr: f64,
    /// Optimiser (default `sgd`).
    pub(crate) optimizer: OptimizerKind,
    /// Number of updates (default 500).
    pub(crate) steps: usize,
    /// Pairs per step; 0 = the whole data (default 0).
    pub(crate) batch: usize,
    /// Seed of the run's generator (default 0).
    pub(crate) seed: u64,
    /// History every K steps, 0 = none (default: steps / 50, at least 1).
    pub(crate) log_every: usize,
    /// The pair loss of `dpo` (default `dpo`).
    pub(crate) loss: PairLoss,
}

impl Default for TrainSettings {
    /// The defaults a scenario file gets for every `[train]` key it omits.
    fn default() -> Self {
        TrainSettings {
            beta: 0.1,
            lr: 0.5,
            optimizer: OptimizerKind::Sgd,
            steps: 500,
            batch: 0,
            seed: 0,
            log_every: 10,
            loss: PairLoss::Dpo,
        }
    }
}

impl TrainSettings {
    /// KL weight β.
    pub fn beta(&self) -> f64 {
        self.beta
    }
    /// Learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }
    /// Optimiser.
    pub fn optimizer(&self) -> OptimizerKind {
        self.optimizer
    }
    /// Number of updates.
    pub fn steps(&self) -> usize {
        self.steps
    }
    /// Pairs per step (0 = the whole data).
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// Seed of the run's generator.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// History every K steps (0 = none).
    pub fn log_every(&self) -> usize {
        self.log_every
    }
    /// The pair loss.
    pub fn loss(&self) -> PairLoss {
        self.loss
    }
    /// The same settings at another β (checked like `train.beta`).
    pub fn with_beta(mut self, beta: f64) -> Result<Self> {
        self.beta = crate::optimal::check_beta("train.beta", beta)?;
        Ok(self)
    }
    /// At another learning rate (a finite number > 0).
    pub fn with_lr(mut self, lr: f64) -> Result<Self> {
        self.lr = crate::validate::positive("train.lr", lr)?;
        Ok(self)
    }
    /// With another number of updates (at most `MAX_STEPS`).
    pub fn with_steps(mut self, steps: usize) -> Result<Self> {
        crate::validate::steps("train.steps", steps as u64)?;
        self.steps = steps;
        Ok(self)
    }
    /// With another seed (any).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Logging every `k` steps (0 = none).
    pub fn with_log_every(mut self, k: usize) -> Self {
        self.log_every = k;
        self
    }
    /// With another pair loss (its parameters are checked when it is
    /// parsed, [`PairLoss::parse`]).
    pub fn with_loss(mut self, loss: PairLoss) -> Self {
        self.loss = loss;
        self
    }
    /// With another optimiser.
    pub fn with_optimizer(mut self, optimizer: OptimizerKind) -> Self {
        self.optimizer = optimizer;
        self
    }
}

/// Checked online settings (scenario `[online]`).
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineSettings {
    /// Steps between fresh samples from π (default 1).
    pub(crate) resample_every: usize,
    /// Pairs sampled per resample (default 64).
    pub(crate) batch: usize,
    /// Who labels them (default `bt`).
    pub(crate) annotator: Annotator,
}

/// RLHF's optimisers by name (scenario `[rlhf] optimizer`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantNames,
    strum::EnumMessage,
)]
#[strum(serialize_all = "kebab-case")]
pub enum RlhfOptimizerName {
    /// The exact expectation.
    #[default]
    #[strum(message = "gradient ascent on J with the exact expectation")]
    Exact,
    /// PPO.
    #[strum(message = "PPO: sampled batches, clipped surrogate, value baseline")]
    Ppo,
}

impl Default for OnlineSettings {
    /// The defaults for every `[online]` key a file omits.
    fn default() -> Self {
        OnlineSettings {
            resample_every: 1,
            batch: 64,
            annotator: Annotator::BradleyTerry,
        }
    }
}

impl OnlineSettings {
    /// Steps between fresh samples.
    pub fn resample_every(&self) -> usize {
        self.resample_every
    }
    /// Pairs per resample.
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// Who labels them.
    pub fn annotator(&self) -> Annotator {
        self.annotator
    }
    /// Resampling every `k ≥ 1` steps.
    pub fn with_resample_every(mut self, k: usize) -> Result<Self> {
        if k == 0 {
            return Err(Error::invalid(
                "online.resample_every",
                "must be at least 1 (1 = fresh pairs every step), got 0",
            ));
        }
        self.resample_every = k;
        Ok(self)
    }
}

/// How RLHF optimises (scenario `[rlhf] optimizer`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RlhfOptimizer {
    /// Gradient ascent on `J` with the full expectation (default).
    Exact,
    /// PPO with these settings.
    Ppo(PpoSettings),
}

/// Checked RLHF settings (scenario `[rlhf]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RlhfSettings {
    /// `exact` (default) or `ppo`.
    pub optimizer: RlhfOptimizer,
    /// Policy learning rate (default: `train.lr`).
    pub lr: Option<f64>,
    /// The reward model (default tabular).
    pub reward_model: RewardModelKind,
    /// How it is fit.
    pub fit: FitSettings,
}

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The prompt's problem.
    pub problem: Arc<Problem>,
    /// The scenario's data.
    pub data: Arc<PairData>,
    /// The policy class.
    pub policy: PolicyKind,
    /// Training settings.
    pub train: TrainSettings,
    /// Online settings.
    pub online: OnlineSettings,
    /// RLHF and reward-model settings.
    pub rlhf: RlhfSettings,
    /// GRPO, RLOO and pass@k settings.
    pub rlvr: crate::rlvr::RlvrSettings,
    /// Whether the prompts share one log-linear policy's parameters
    /// (`[policy] shared = true`; [`train_shared`]).
    pub shared: bool,
    /// The method.
    pub method: MethodKind,
}

impl RunConfig {
    /// The policy learning rate this run uses: `rlhf.lr` for RLHF when set,
    /// else `train.lr`.
    pub fn effective_lr(&self) -> f64 {
        match self.method {
            MethodKind::Rlhf => self.rlhf.lr.unwrap_or(self.train.lr),
            _ => self.train.lr,
        }
    }
}

/// One training run in progress.
pub struct Run {
    problem: Arc<Problem>,
    data: Arc<PairData>,
    optimum: Optimum,
    beta: f64,
    steps: usize,
    log_every: usize,
    method_kind: MethodKind,
    policy: Policy,
    method: Box<dyn Method>,
    optimizer: Optimizer,
    rng: StdRng,
    step: usize,
    grad: GradBuffer,
    coefs: Vec<(usize, f64)>,
    deltas: Vec<(usize, f64)>,
    /// The update before the last one (oscillation check).
    prev_deltas: Vec<(usize, f64)>,
    last_loss: f64,
    /// Gradient norm of the loss at `π_ref` (the convergence yardstick of
    /// deterministic runs; 0 for stochastic ones, which are never judged).
    initial_grad_norm: f64,
    /// The loss at the start (the divergence yardstick of every run).
    initial_loss: f64,
    /// Gradient norm halfway through a deterministic run's schedule: how
    /// fast the gradient vanishes tells a minimum at infinity.
    mid_grad_norm: Option<f64>,
    reward_model: Option<RewardModel>,
    /// The `k` of `pass_at_k`.
    pass_at: Vec<u64>,
    /// The `G` of `zero_variance_groups`: the method's group, or GRPO's
    /// for methods that draw none.
    group_size: usize,
}

impl Run {
    /// Builds the policy at `π_ref` (or at π* for `optimal`) and the method.
    ///
    /// ```
    /// use dpo_lab::method::MethodKind;
    /// use dpo_lab::scenario::{Overrides, Scenario};
    /// use dpo_lab::train::Run;
    ///
    /// let s = Scenario::load("optimal-policy", &Overrides::default()).unwrap();
    /// let mut run = Run::new(&s.run_config(MethodKind::Dpo)).unwrap();
    /// let start = run.metrics().unwrap();
    /// assert!((start.loss - 2f64.ln()).abs() < 1e-12); // log 2 at π_ref
    /// while !run.finished() {
    ///     run.step().unwrap();
    /// }
    /// // Population DPO heads for π*.
    /// assert!(run.metrics().unwrap().kl_to_optimal < start.kl_to_optimal);
    /// ```
    pub fn new(cfg: &RunConfig) -> Result<Self> {
        let problem = cfg.problem.clone();
        let beta = cfg.train.beta;
        let opt = optimum(&problem.log_ref, &problem.reward, beta);
        let needs_rm = cfg.method == MethodKind::Rlhf
            || (cfg.method == MethodKind::OnlineDpo
                && cfg.online.annotator == Annotator::RewardModel);
        let reward_model = if needs_rm {
            Some(RewardModel::fit(
                &problem,
                &cfg.data,
                &cfg.rlhf.reward_model,
                cfg.rlhf.fit,
            )?)
        } else {
            None
        };
        let (policy, method, steps): (Policy, Box<dyn Method>, usize) = match cfg.method {
            MethodKind::Optimal => (
                Policy::Tabular(crate::policy::TabularPolicy::with_reference(
                    opt.log_policy.clone(),
                    problem.log_ref.clone(),
                )),
                Box::new(OfflinePairs::new(
                    cfg.data.clone(),
                    PairLoss::Dpo,
                    0,
                    Vec::new(),
                )),
                0,
            ),
            MethodKind::Dpo | MethodKind::Ipo => (
                Policy::new(&cfg.policy, &problem)?,
                Box::new(OfflinePairs::new(
                    cfg.data.clone(),
                    cfg.train.loss,
                    cfg.train.batch,
                    lengths_for(cfg.train.loss, &problem),
                )),
                cfg.train.steps,
            ),
            MethodKind::OnlineDpo => {
                let scores = match &reward_model {
                    Some(rm) => rm.values().to_vec(),
                    None => problem.reward.clone(),
                };
                (
                    Policy::new(&cfg.policy, &problem)?,
                    Box::new(OnlineDpo::new(
                        cfg.train.loss,
                        cfg.online.resample_every,
                        cfg.online.batch,
                        cfg.online.annotator,
                        scores,
                        lengths_for(cfg.train.loss, &problem),
                    )),
                    cfg.train.steps,
                )
            }
            MethodKind::Rlhf => {
                let scores = reward_model
                    .as_ref()
                    .expect("fit above for rlhf")
                    .values()
                    .to_vec();
                let method: Box<dyn Method> = match cfg.rlhf.optimizer {
                    RlhfOptimizer::Exact => Box::new(RlhfExact::new(scores)),
                    RlhfOptimizer::Ppo(s) => Box::new(Ppo::new(scores, s)),
                };
                (Policy::new(&cfg.policy, &problem)?, method, cfg.train.steps)
            }
            MethodKind::Grpo => {
                let s = &cfg.rlvr.grpo;
                if s.expected
                    && let Some(why) =
                        crate::rlvr::grpo_expected_refusal(s, problem.correct.is_some())
                {
                    return Err(Error::invalid("grpo.expected", why));
                }
                (
                    Policy::new(&cfg.policy, &problem)?,
                    Box::new(Grpo::new(problem.clone(), s.clone())),
                    cfg.train.steps,
                )
            }
            MethodKind::Rloo => {
                let s = &cfg.rlvr.rloo;
                if s.expected
                    && let Some(why) = crate::rlvr::rloo_expected_refusal(s)
                {
                    return Err(Error::invalid("rloo.expected", why));
                }
                (
                    Policy::new(&cfg.policy, &problem)?,
                    Box::new(Rloo::new(problem.clone(), s.clone())),
                    cfg.train.steps,
                )
            }
        };
        let n_params = policy.num_params();
        let lr = cfg.effective_lr();
        let mut run = Run {
            data: cfg.data.clone(),
            optimum: opt,
            beta,
            steps,
            log_every: cfg.train.log_every,
            method_kind: cfg.method,
            optimizer: Optimizer::new(cfg.train.optimizer, lr, n_params),
            rng: StdRng::seed_from_u64(cfg.train.seed),
            step: 0,
            grad: GradBuffer::new(n_params),
            coefs: Vec::new(),
            deltas: Vec::new(),
            prev_deltas: Vec::new(),
            last_loss: 0.0,
            initial_grad_norm: 0.0,
            initial_loss: 0.0,
            mid_grad_norm: None,
            reward_model,
            pass_at: cfg.rlvr.pass_at.clone(),
            group_size: match cfg.method {
                MethodKind::Rloo => cfg.rlvr.rloo.num_generations,
                _ => cfg.rlvr.grpo.num_generations,
            },
            problem,
            policy,
            method,
        };
        let mut ctx = StepContext {
            beta,
            step: 0,
            rng: &mut run.rng,
        };
        run.method.prepare(&mut ctx, &run.policy);
        // Only deterministic runs are judged by their gradient (see
        // `warnings`): skip the O(parameters) evaluation for the others.
        if !run.method.is_stochastic() {
            run.initial_grad_norm = run.grad_norm();
        }
        run.initial_loss = run.method.current_loss(beta, &run.policy);
        Ok(run)
    }

    /// One update. Fails if a parameter stops being finite.
    pub fn step(&mut self) -> Result<()> {
        let loss = self.compute_grad();
        std::mem::swap(&mut self.deltas, &mut self.prev_deltas);
        self.optimizer.deltas(&self.grad, &mut self.deltas);
        let deltas = std::mem::take(&mut self.deltas);
        let done = self.apply_update(&deltas, loss);
        self.deltas = deltas;
        done
    }

    /// The method's gradient at the current policy, into `self.grad`
    /// (the first half of a step); returns the step's loss.
    fn compute_grad(&mut self) -> f64 {
        let mut ctx = StepContext {
            beta: self.beta,
            step: self.step,
            rng: &mut self.rng,
        };
        let (loss, total) = self
            .method
            .gradient(&mut ctx, &self.policy, &mut self.coefs);
        self.last_loss = loss;
        self.grad.clear();
        self.policy
            .accumulate_grad(&self.coefs, total, &mut self.grad);
        loss
    }

    /// Applies `deltas` to the policy and checks it (the second half of a
    /// step).
    fn apply_update(&mut self, deltas: &[(usize, f64)], loss: f64) -> Result<()> {
        let finite = self.policy.apply(deltas);
        self.step += 1;
        if self.step == self.steps / 2 && self.steps >= 4 && !self.method.is_stochastic() {
            self.mid_grad_norm = Some(self.grad_norm());
        }
        if !loss.is_finite() {
            return Err(self.diverged(format!("the loss is {loss}")));
        }
        if !finite {
            return Err(self.diverged("a policy parameter is no longer finite".into()));
        }
        // Only the touched parameters can have grown.
        if let Some(big) = deltas
            .iter()
            .map(|&(k, _)| self.policy.param(k))
            .find(|p| p.abs() > MAX_PARAMETER)
        {
            return Err(self.diverged(format!(
                "a policy parameter reached {big:.3e}, beyond {MAX_PARAMETER:e} where f64 log-probabilities stop being meaningful"
            )));
        }
        Ok(())
    }

    /// The run's outcome: its final metrics (the last logged ones when
    /// they describe the current policy), policy and `history`.
    fn outcome(
        &self,
        history: Vec<(usize, Metrics)>,
        grad_norm: f64,
        warnings: Vec<String>,
    ) -> Result<Outcome> {
        let final_metrics = match history.last() {
            Some((k, m)) if *k == self.steps_done() => m.clone(),
            _ => self.metrics()?,
        };
        Ok(Outcome {
            final_metrics,
            final_log_probs: self.policy.log_probs(),
            history,
            reward_model: self.reward_model.clone(),
            warnings,
            unseen_mass: self.unseen_mass(),
            grad_norm,
        })
    }

    /// The gradient of the reported loss at the current policy, added to
    /// `grad` times `weight`.
    fn add_loss_gradient(&self, weight: f64, grad: &mut GradBuffer) {
        let mut coefs = Vec::new();
        let total = self
            .method
            .loss_gradient(self.beta, &self.policy, &mut coefs);
        for c in coefs.iter_mut() {
            c.1 *= weight;
        }
        self.policy.accumulate_grad(&coefs, total * weight, grad);
    }

    fn diverged(&self, what: String) -> Error {
        Error::Diverged {
            step: self.step,
            what: format!(
                "{what} (lower train.lr: on logits the step of DPO-type losses is about lr·β², IPO's about lr)"
            ),
        }
    }

    /// The norm of the gradient of the reported loss
    /// ([`Metrics::loss`]) in the policy's parameters, at the current
    /// policy.
    pub fn grad_norm(&self) -> f64 {
        let mut coefs = Vec::new();
        let total = self
            .method
            .loss_gradient(self.beta, &self.policy, &mut coefs);
        let mut grad = GradBuffer::new(self.policy.num_params());
        self.policy.accumulate_grad(&coefs, total, &mut grad);
        // `+ 0.0` turns the −0 of an empty sum's root into 0.
        grad.entries().map(|(_, g)| g * g).sum::<f64>().sqrt() + 0.0
    }

    /// One-line notes on how the run ended: a deterministic run whose
    /// gradient has not fallen below [`CONVERGED_GRAD_REL`] of its start is
    /// "not converged", or "oscillating" when its last two updates point in
    /// opposite directions. Stochastic methods get no such note (their
    /// batch gradient never vanishes). Takes `grad_norm` as computed by
    /// [`Run::grad_norm`].
    pub fn warnings(&self, grad_norm: f64) -> Vec<String> {
        let mut out = Vec::new();
        if self.step == 0 {
            return out;
        }
        // A loss far above its start is divergence, whatever the gradient
        // says now (a step that overshoots can land where the gradient is
        // small): the advice is a smaller step, never a larger one.
        let now = self.method.current_loss(self.beta, &self.policy);
        if loss_diverged(self.initial_loss, now) {
            out.push(format!(
                "diverged: the loss rose from {} to {} in {} steps (more than {LOSS_RISE_FACTOR}× its start): the steps overshoot; lower train.lr (on logits the step of DPO-type losses is about lr·β², so a large β needs a smaller lr)",
                short(self.initial_loss),
                short(now),
                self.step
            ));
            return out;
        }
        if self.method.is_stochastic() {
            return out;
        }
        let converged = grad_norm <= CONVERGED_GRAD_ABS
            || grad_norm <= CONVERGED_GRAD_REL * self.initial_grad_norm;
        if converged {
            // A small gradient that only halves when the steps double is
            // not convergence: the minimum is at infinity.
            if let Some(mid) = self.mid_grad_norm
                && grad_norm > CONVERGED_GRAD_ABS
                && grad_norm > SUBLINEAR_GRAD_RATIO * mid
            {
                out.push(format!(
                    "not converged: the minimum is at infinity — grad_norm fell only from {mid:.1e} to {grad_norm:.1e} over the second half of {} steps (like 1/steps, not geometrically): the logits keep growing like log(steps) and more steps keep changing the policy",
                    self.step
                ));
            }
            return out;
        }
        let cosine = update_cosine(&self.prev_deltas, &self.deltas);
        if cosine < OSCILLATION_COSINE {
            out.push(format!(
                "oscillating: consecutive updates point in opposite directions (cosine {cosine:.2}) and grad_norm stays at {grad_norm:.1e} after {} steps: lower the learning rate",
                self.step
            ));
        } else {
            out.push(format!(
                "not converged: grad_norm {grad_norm:.1e} after {} steps ({:.1e} at the start): more steps or a larger learning rate would still change the policy",
                self.step, self.initial_grad_norm
            ));
        }
        out
    }

    /// Every documented metric of the current policy; fails if one is not
    /// finite (see [`Run::new`] for an example).
    pub fn metrics(&self) -> Result<Metrics> {
        let loss = self.method.current_loss(self.beta, &self.policy);
        let mut m = evaluate_policy(
            &self.problem,
            &self.optimum.log_policy,
            &self.data,
            &self.policy,
            self.beta,
            loss,
        );
        m.extra = self.method.extra_metrics();
        if let Some(correct) = &self.problem.correct {
            m.verifier = Some(crate::rlvr::VerifierMetrics::of(
                &self.problem.space,
                &self.policy.log_probs(),
                correct,
                &self.pass_at,
                self.group_size,
            ));
        }
        if let Some(what) = m.first_non_finite() {
            return Err(self.diverged(format!("{what} is no longer finite")));
        }
        Ok(m)
    }

    /// Updates done so far.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// Updates this run is scheduled for.
    pub fn steps_total(&self) -> usize {
        self.steps
    }

    /// Whether the schedule is finished.
    pub fn finished(&self) -> bool {
        self.step >= self.steps
    }

    /// The current policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The problem.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// π* for this run's β.
    pub fn optimum(&self) -> &Optimum {
        &self.optimum
    }

    /// The method.
    pub fn method_kind(&self) -> MethodKind {
        self.method_kind
    }

    /// For methods that sample their own pairs (online DPO): the policy's
    /// mass on the responses that no batch of the run has drawn — where a
    /// stale batch lets it drift unchecked. `None` for the others.
    pub fn unseen_mass(&self) -> Option<f64> {
        let drawn = self.method.drawn()?;
        let lp = self.policy.log_probs();
        Some(
            lp.iter()
                .zip(drawn)
                .filter(|(_, d)| !**d)
                .map(|(l, _)| l.exp())
                .sum(),
        )
    }

    /// The pairs the last step trained on, with their weights: online
    /// DPO's sampled batch as its annotator judged it (chosen first), an
    /// offline minibatch, or the whole data ([`Method::last_pairs`]).
    pub fn last_pairs(&self) -> &[crate::data::Pair] {
        self.method.last_pairs()
    }

    /// The group of answers the last GRPO or RLOO step trained on (empty
    /// for other methods and for expected updates).
    pub fn last_group(&self) -> &[usize] {
        self.method.last_group()
    }

    /// The reward model this run fit (RLHF, reward-model annotator).
    pub fn reward_model(&self) -> Option<&RewardModel> {
        self.reward_model.as_ref()
    }

    /// The loss of the last update's batch (0 before the first).
    pub fn last_loss(&self) -> f64 {
        self.last_loss
    }

    /// Whether step `k` belongs in the history.
    pub fn is_logged(&self, k: usize) -> bool {
        self.log_every > 0 && (k.is_multiple_of(self.log_every) || k == self.steps)
    }
}

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

/// `n(y)` per response, its end token counted as TRL counts it, when the
/// loss reads lengths and the space has sequences (else empty: every
/// length 1).
fn lengths_for(loss: PairLoss, problem: &Problem) -> Vec<f64> {
    if loss.needs_lengths() && problem.space.is_sequences() {
        (0..problem.len())
            .map(|y| problem.space.counted_tokens(y) as f64)
            .collect()
    } else {
        Vec::new()
    }
}

/// A loss in a warning: four decimals, or three significant digits in
/// exponent form when very large or small.
fn short(v: f64) -> String {
    if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

/// How far a loss may rise above its start before a run is called
/// diverged.
pub const LOSS_RISE_FACTOR: f64 = 10.0;

/// Whether a loss that started at `start` and is now `now` rose more than
/// [`LOSS_RISE_FACTOR`] times its start (by at least 1e-9: a loss that
/// starts at 0 is not "diverged" by rounding).
pub fn loss_diverged(start: f64, now: f64) -> bool {
    !now.is_finite() || (now > LOSS_RISE_FACTOR * start.abs() && now - start > 1e-9)
}

/// The cosine between two sparse updates (0 when either is empty).
fn update_cosine(a: &[(usize, f64)], b: &[(usize, f64)]) -> f64 {
    let of_a: std::collections::HashMap<usize, f64> = a.iter().copied().collect();
    let dot: f64 = b
        .iter()
        .map(|(k, v)| of_a.get(k).map_or(0.0, |u| u * v))
        .sum();
    let norm = |x: &[(usize, f64)]| x.iter().map(|(_, v)| v * v).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checked settings stay checked: every setter that can break an
    /// invariant refuses to, naming the setting.
    #[test]
    fn setters_keep_the_checks() {
        let t = TrainSettings::default();
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = t.clone().with_beta(bad).expect_err("refused");
            assert!(e.to_string().contains("train.beta"), "{e}");
            let e = t.clone().with_lr(bad).expect_err("refused");
            assert!(e.to_string().contains("train.lr"), "{e}");
        }
        let e = t
            .clone()
            .with_steps(crate::validate::MAX_STEPS as usize + 1)
            .expect_err("refused");
        assert!(e.to_string().contains("train.steps"), "{e}");
        let ok = t
            .with_beta(0.3)
            .and_then(|t| t.with_lr(2.0))
            .expect("valid");
        assert_eq!((ok.beta(), ok.lr()), (0.3, 2.0));
        let e = OnlineSettings::default()
            .with_resample_every(0)
            .expect_err("refused");
        assert!(e.to_string().contains("online.resample_every"), "{e}");
    }
}
