//! GRPO and RLOO (docs/rlvr.md), as TRL's `GRPOTrainer` and `RLOOTrainer`
//! compute them, for one prompt: each step draws (or, every
//! `num_iterations` steps, reuses) a group of `G` answers from the policy,
//! scores them with the true reward and takes a clipped policy-gradient
//! step. With `expected`, the step is the exact expectation of that update
//! over the group's draws (no sampling), where it has a closed form.

use std::sync::Arc;

use super::{Method, StepContext, coefficient_sum};
use crate::policy::Policy;
use crate::problem::Problem;
use crate::rlvr::{
    GrpoLossType, GrpoSettings, RlooSettings, ScaleRewards, TokenGrad, clipped_loss,
    expected_binary_advantages, group_advantages, k3, leave_one_out_advantages, log_prefix_mass,
    token_log_probs, unbiased_std,
};

/// The [`Method`] of a group method (`Grpo`, `Rloo`): both draw a group
/// every `num_iterations` steps unless `expected`, and evaluate their loss
/// through their own `evaluate`.
macro_rules! group_method {
    ($t:ty) => {
        impl Method for $t {
            /// Draws the first group from `π_ref` (sampled runs).
            fn prepare(&mut self, ctx: &mut StepContext<'_>, policy: &Policy) {
                if !self.s.expected {
                    self.draw(policy, ctx.rng);
                }
            }

            fn gradient(
                &mut self,
                ctx: &mut StepContext<'_>,
                policy: &Policy,
                coefs: &mut Vec<(usize, f64)>,
            ) -> (f64, f64) {
                if !self.s.expected
                    && ctx.step > 0
                    && ctx.step.is_multiple_of(self.s.num_iterations)
                {
                    self.draw(policy, ctx.rng);
                }
                coefs.clear();
                let loss = self.evaluate(policy, Some(coefs));
                (loss, coefficient_sum(coefs))
            }

            /// The loss of the current group at the current policy
            /// (sampled), or its exact expectation (`expected`).
            fn current_loss(&self, _beta: f64, policy: &Policy) -> f64 {
                self.evaluate(policy, None)
            }

            fn loss_gradient(
                &self,
                _beta: f64,
                policy: &Policy,
                coefs: &mut Vec<(usize, f64)>,
            ) -> f64 {
                coefs.clear();
                self.evaluate(policy, Some(coefs));
                coefficient_sum(coefs)
            }

            fn is_stochastic(&self) -> bool {
                !self.s.expected
            }

            fn extra_metrics(&self) -> Vec<(String, f64)> {
                self.group_metrics()
            }

            fn drawn(&self) -> Option<&[bool]> {
                (!self.s.expected).then_some(&self.drawn[..])
            }

            fn last_group(&self) -> &[usize] {
                &self.group.answers
            }
        }
    };
}

/// The policy's log-probabilities and, on sequence spaces, its prefix masses.
struct View {
    log_pi: Vec<f64>,
    log_s: Option<Vec<f64>>,
}

impl View {
    fn of(problem: &Problem, policy: &Policy) -> Self {
        let log_pi = policy.log_probs();
        let log_s = problem
            .space
            .is_sequences()
            .then(|| log_prefix_mass(&problem.space, &log_pi));
        View { log_pi, log_s }
    }

    fn tokens(&self, problem: &Problem, y: usize) -> Vec<f64> {
        match &self.log_s {
            Some(s) => token_log_probs(&problem.space, s, &self.log_pi, y),
            None => vec![self.log_pi[y]],
        }
    }
}

/// `g` answers drawn from `policy`, marked in `drawn`.
fn draw_group(
    policy: &Policy,
    rng: &mut rand::rngs::StdRng,
    g: usize,
    drawn: &mut [bool],
) -> Vec<usize> {
    let mut answers = vec![0usize; g];
    policy.sample_many(rng, &mut answers);
    for &y in &answers {
        drawn[y] = true;
    }
    answers
}

/// A drawn group: answers, advantages and their per-token log-probabilities
/// when drawn (`π_old`).
#[derive(Default)]
struct Group {
    answers: Vec<usize>,
    advantages: Vec<f64>,
    old_tokens: Vec<Vec<f64>>,
    /// RLOO: `log π_old` of each whole answer.
    old_logp: Vec<f64>,
}

/// GRPO for one prompt.
pub struct Grpo {
    s: GrpoSettings,
    problem: Arc<Problem>,
    /// `log π_ref(o_t | o_<t)` needs `π_ref`'s prefix masses.
    ref_s: Option<Vec<f64>>,
    group: Group,
    drawn: Vec<bool>,
}

impl Grpo {
    /// GRPO with checked settings (an `expected` run must have a closed
    /// form: see [`crate::rlvr::grpo_expected_refusal`]).
    pub fn new(problem: Arc<Problem>, s: GrpoSettings) -> Self {
        let ref_s = problem
            .space
            .is_sequences()
            .then(|| log_prefix_mass(&problem.space, &problem.log_ref));
        Grpo {
            s,
            drawn: vec![false; problem.len()],
            problem,
            ref_s,
            group: Group::default(),
        }
    }

    fn ref_tokens(&self, y: usize) -> Vec<f64> {
        match &self.ref_s {
            Some(s) => token_log_probs(&self.problem.space, s, &self.problem.log_ref, y),
            None => vec![self.problem.log_ref[y]],
        }
    }

    fn n(&self, y: usize) -> f64 {
        self.problem.space.counted_tokens(y) as f64
    }

    fn draw(&mut self, policy: &Policy, rng: &mut rand::rngs::StdRng) {
        let answers = draw_group(policy, rng, self.s.num_generations, &mut self.drawn);
        let rewards: Vec<f64> = answers.iter().map(|&y| self.problem.reward[y]).collect();
        let scale = self.s.scale_rewards != ScaleRewards::None;
        let advantages = group_advantages(&rewards, scale);
        let old_tokens = if self.s.num_iterations > 1 {
            let view = View::of(&self.problem, policy);
            answers
                .iter()
                .map(|&y| view.tokens(&self.problem, y))
                .collect()
        } else {
            Vec::new()
        };
        self.group = Group {
            answers,
            advantages,
            old_tokens,
            old_logp: Vec::new(),
        };
    }

    /// Each answer's weight in the aggregated loss.
    fn weights(&self, answers: &[usize]) -> Vec<f64> {
        let g = answers.len() as f64;
        match self.s.loss_type {
            GrpoLossType::Grpo => answers.iter().map(|&y| 1.0 / (g * self.n(y))).collect(),
            GrpoLossType::DrGrpo => {
                let l = self.problem.space.max_len().max(1) as f64;
                vec![1.0 / (g * l); answers.len()]
            }
            GrpoLossType::Bnpo | GrpoLossType::Dapo => {
                let total: f64 = answers.iter().map(|&y| self.n(y)).sum();
                vec![1.0 / total.max(1.0); answers.len()]
            }
        }
    }

    /// The loss of the drawn group at `policy`, with its coefficients.
    fn sampled(&self, policy: &Policy, coefs: Option<&mut Vec<(usize, f64)>>) -> f64 {
        let answers = &self.group.answers;
        if answers.is_empty() {
            return 0.0;
        }
        let weights = self.weights(answers);
        if self.s.beta == 0.0 && self.group.old_tokens.is_empty() {
            // One update per group and no KL term: π_old is the policy the
            // loss is read at (TRL's `per_token_logps.detach()`), so every
            // ratio is 1, each of an answer's n tokens costs −A and their
            // gradients telescope to −A·w·∇log π(y): no log-probability of
            // the space is needed.
            let mut total = 0.0;
            for (i, &y) in answers.iter().enumerate() {
                total -= weights[i] * self.n(y) * self.group.advantages[i];
            }
            if let Some(c) = coefs {
                for (i, &y) in answers.iter().enumerate() {
                    let g = -weights[i] * self.group.advantages[i];
                    if g != 0.0 {
                        c.push((y, g));
                    }
                }
            }
            return total;
        }
        let view = View::of(&self.problem, policy);
        let (eps_low, eps_high, beta) = (self.s.epsilon, self.s.epsilon_high, self.s.beta);
        let mut grad = TokenGrad::new();
        let mut total = 0.0;
        for (i, &y) in answers.iter().enumerate() {
            let toks = view.tokens(&self.problem, y);
            let refs = (beta != 0.0).then(|| self.ref_tokens(y));
            let a = self.group.advantages[i];
            let mut g = Vec::with_capacity(toks.len());
            for (t, &lp) in toks.iter().enumerate() {
                let old = self.group.old_tokens.get(i).map_or(lp, |o| o[t]);
                let (mut l, mut dl) = clipped_loss(lp - old, a, eps_low, eps_high);
                if let Some(r) = &refs {
                    let (k, dk) = k3(lp, r[t]);
                    l += beta * k;
                    dl += beta * dk;
                }
                total += weights[i] * l;
                g.push(weights[i] * dl);
            }
            grad.add_tokens(&self.problem.space, y, &g);
        }
        if let Some(c) = coefs {
            grad.finish(&self.problem.space, &view.log_pi, view.log_s.as_deref(), c);
        }
        total
    }

    /// The exact expectation of the loss over the group's draws, with the
    /// coefficients of its expected gradient.
    fn expected(&self, policy: &Policy, coefs: Option<&mut Vec<(usize, f64)>>) -> f64 {
        let view = View::of(&self.problem, policy);
        let p = &self.problem;
        let g = self.s.num_generations;
        let w = |y: usize| match self.s.loss_type {
            GrpoLossType::DrGrpo => 1.0 / p.space.max_len().max(1) as f64,
            _ => 1.0 / self.n(y),
        };
        // Each answer's expected advantage given what it is.
        let advantage: Box<dyn Fn(usize) -> f64> = match (&p.correct, self.s.scale_rewards) {
            (_, ScaleRewards::None) => {
                let mean: f64 = view
                    .log_pi
                    .iter()
                    .zip(&p.reward)
                    .filter(|(l, _)| **l > f64::NEG_INFINITY)
                    .map(|(l, r)| l.exp() * r)
                    .sum();
                let f = (g - 1) as f64 / g as f64;
                Box::new(move |y| f * (p.reward[y] - mean))
            }
            (Some(correct), _) => {
                let (pc, qc) = crate::rlvr::correct_mass(&view.log_pi, correct);
                let (right, wrong) = expected_binary_advantages(g, pc, qc, true);
                Box::new(move |y| if correct[y] { right } else { wrong })
            }
            (None, _) => unreachable!("refused by grpo_expected_refusal"),
        };
        let beta = self.s.beta;
        let mut grad = TokenGrad::new();
        let mut total = 0.0;
        let want = coefs.is_some();
        for y in 0..p.len() {
            let lp = view.log_pi[y];
            if lp == f64::NEG_INFINITY {
                continue;
            }
            let pi = lp.exp();
            let wy = w(y);
            let a = advantage(y);
            // At ρ = 1 every counted token contributes −A: the answer's
            // loss is −A·w·n, its gradient −A·w·∇log π(y).
            total -= pi * wy * self.n(y) * a;
            if want {
                grad.add_sequence(y, -pi * wy * a);
            }
            if beta != 0.0 {
                let toks = view.tokens(p, y);
                let refs = self.ref_tokens(y);
                let mut gs = Vec::with_capacity(toks.len());
                for (&lt, &rt) in toks.iter().zip(&refs) {
                    let (k, dk) = k3(lt, rt);
                    total += pi * wy * beta * k;
                    gs.push(pi * wy * beta * dk);
                }
                if want {
                    grad.add_tokens(&p.space, y, &gs);
                }
            }
        }
        if let Some(c) = coefs {
            grad.finish(&p.space, &view.log_pi, view.log_s.as_deref(), c);
        }
        total
    }

    fn evaluate(&self, policy: &Policy, coefs: Option<&mut Vec<(usize, f64)>>) -> f64 {
        if self.s.expected {
            self.expected(policy, coefs)
        } else {
            self.sampled(policy, coefs)
        }
    }
}

impl Grpo {
    /// TRL's `reward` and `reward_std` of the last group (sampled runs).
    fn group_metrics(&self) -> Vec<(String, f64)> {
        if self.s.expected || self.group.answers.is_empty() {
            return Vec::new();
        }
        let rewards: Vec<f64> = self
            .group
            .answers
            .iter()
            .map(|&y| self.problem.reward[y])
            .collect();
        vec![
            (
                "reward".into(),
                rewards.iter().sum::<f64>() / rewards.len() as f64,
            ),
            ("reward_std".into(), unbiased_std(&rewards)),
        ]
    }
}

group_method!(Grpo);

/// RLOO for one prompt.
pub struct Rloo {
    s: RlooSettings,
    problem: Arc<Problem>,
    group: Group,
    drawn: Vec<bool>,
}

impl Rloo {
    /// RLOO with checked settings.
    pub fn new(problem: Arc<Problem>, s: RlooSettings) -> Self {
        Rloo {
            s,
            drawn: vec![false; problem.len()],
            problem,
            group: Group::default(),
        }
    }

    /// The reward with TRL's KL penalty, `r − β·(log π_old − log π_ref)`.
    fn penalised(&self, y: usize, log_pi: f64) -> f64 {
        let p = &self.problem;
        if self.s.beta == 0.0 {
            p.reward[y]
        } else {
            p.reward[y] - self.s.beta * (log_pi - p.log_ref[y])
        }
    }

    fn draw(&mut self, policy: &Policy, rng: &mut rand::rngs::StdRng) {
        let g = self.s.num_generations;
        let answers = draw_group(policy, rng, g, &mut self.drawn);
        let old_logp: Vec<f64> = answers.iter().map(|&y| policy.log_prob(y)).collect();
        let rewards: Vec<f64> = answers
            .iter()
            .zip(&old_logp)
            .map(|(&y, &l)| self.penalised(y, l))
            .collect();
        let mut advantages = leave_one_out_advantages(&rewards);
        if self.s.normalize_advantages {
            let mean = advantages.iter().sum::<f64>() / g as f64;
            let div = unbiased_std(&advantages) + crate::rlvr::STD_EPS;
            advantages.iter_mut().for_each(|a| *a = (*a - mean) / div);
        }
        self.group = Group {
            answers,
            advantages,
            old_tokens: Vec::new(),
            old_logp,
        };
    }

    fn sampled(&self, policy: &Policy, coefs: Option<&mut Vec<(usize, f64)>>) -> f64 {
        let g = self.group.answers.len() as f64;
        let mut total = 0.0;
        let mut grad = Vec::new();
        for (i, &y) in self.group.answers.iter().enumerate() {
            let log_ratio = policy.log_prob(y) - self.group.old_logp[i];
            let (l, dl) = clipped_loss(
                log_ratio,
                self.group.advantages[i],
                self.s.epsilon,
                self.s.epsilon_high,
            );
            total += l / g;
            if dl != 0.0 {
                grad.push((y, dl / g));
            }
        }
        if let Some(c) = coefs {
            c.extend(grad);
        }
        total
    }

    /// `E[−A]` is 0; the expected gradient is the exact policy gradient of
    /// `E_π[r − β h]` (the leave-one-out baseline changes nothing in
    /// expectation): `c_y = −π(y)(r'(y) − E_π r')`.
    fn expected(&self, policy: &Policy, coefs: Option<&mut Vec<(usize, f64)>>) -> f64 {
        if let Some(c) = coefs {
            let lp = policy.log_probs();
            let live = |y: &usize| lp[*y] > f64::NEG_INFINITY;
            let n = lp.len();
            let rp: Vec<f64> = (0..n).map(|y| self.penalised(y, lp[y])).collect();
            let mean: f64 = (0..n).filter(live).map(|y| lp[y].exp() * rp[y]).sum();
            c.extend(
                (0..n)
                    .filter(live)
                    .map(|y| (y, -lp[y].exp() * (rp[y] - mean))),
            );
        }
        0.0
    }

    fn evaluate(&self, policy: &Policy, coefs: Option<&mut Vec<(usize, f64)>>) -> f64 {
        if self.s.expected {
            self.expected(policy, coefs)
        } else {
            self.sampled(policy, coefs)
        }
    }
}

impl Rloo {
    fn group_metrics(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
}

group_method!(Rloo);
