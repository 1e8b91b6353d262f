//! The generic trainer: one loop, one seeded generator, any method.
//!
//! A [`Run`] holds a policy, a method and an optimiser. [`Run::step`] does
//! one update; [`Run::metrics`] evaluates every documented metric exactly;
//! [`train`] runs the whole schedule and reports each logged step to an
//! observer (the CLI prints from it, the app plots from it, tests assert on
//! it).

mod run_many;
mod settings;
pub use run_many::*;
pub use settings::*;

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
