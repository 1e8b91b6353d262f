//! Training methods that plug into the generic trainer ([`crate::train`]).
//!
//! A method knows its loss; the trainer knows the policy, the optimiser and
//! the loop. Each step the method returns its loss at the current policy and
//! the coefficients `c_y` of its gradient `Σ_y c_y ∂log π(y)/∂θ`.

mod grpo;
mod offline;
mod online;
mod rlhf;

pub use grpo::{Grpo, Rloo};
pub use offline::OfflinePairs;
pub use online::{Annotator, OnlineDpo};
pub use rlhf::{Ppo, PpoSettings, RlhfExact, clipped_surrogate, value_loss};

use crate::data::Pair;
use rand::rngs::StdRng;

use crate::error::{Error, Result};
use crate::loss::{PairInput, PairLoss};
use crate::policy::Policy;

/// The methods of the command line (`--method`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantNames,
    strum::EnumMessage,
)]
#[strum(serialize_all = "kebab-case")]
pub enum MethodKind {
    /// Offline DPO on the scenario's data (with `--loss`, any pair loss).
    #[strum(message = "offline DPO on the scenario's data (any pair loss)")]
    Dpo,
    /// Online DPO: fresh pairs from the current policy, judged by an annotator.
    #[strum(message = "fresh pairs from the current policy, judged by an annotator")]
    OnlineDpo,
    /// IPO on the scenario's data.
    #[strum(message = "IPO on the scenario's data")]
    Ipo,
    /// Reward model + policy gradient / PPO.
    #[strum(message = "a Bradley-Terry reward model, then policy gradient or PPO on it")]
    Rlhf,
    /// The closed form with the true reward; no training.
    #[strum(message = "the closed form pi* with the true reward, no training")]
    Optimal,
    /// GRPO (TRL's GRPOTrainer) on the true reward: groups of G answers.
    #[strum(
        message = "GRPO on the true (verifier) reward: groups of G answers, group-relative advantages"
    )]
    Grpo,
    /// RLOO (TRL's RLOOTrainer) on the true reward: leave-one-out baseline.
    #[strum(message = "RLOO on the true (verifier) reward: G answers, leave-one-out baseline")]
    Rloo,
}

impl MethodKind {
    /// Every method, in the order the app and tables show them.
    pub const ALL: [MethodKind; 7] = [
        MethodKind::Optimal,
        MethodKind::Dpo,
        MethodKind::OnlineDpo,
        MethodKind::Ipo,
        MethodKind::Rlhf,
        MethodKind::Grpo,
        MethodKind::Rloo,
    ];

    /// Parses a method name.
    pub fn parse(s: &str) -> Result<Self> {
        crate::names::parse_choice("method", "method", s)
    }

    /// `ipo` trains with the IPO loss by definition, so a `--loss` other
    /// than `ipo` beside it is refused rather than silently ignored.
    pub fn check_loss_override(self, loss: Option<crate::loss::LossName>) -> Result<()> {
        match (self, loss.map(<&str>::from)) {
            (MethodKind::Ipo, Some(l)) if l != "ipo" => Err(Error::invalid(
                "loss",
                format!(
                    "method \"ipo\" always uses the IPO loss, got loss {l:?}: use method \"dpo\" with loss {l:?}"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// What a method sees each step.
pub struct StepContext<'a> {
    /// The KL weight.
    pub beta: f64,
    /// Number of updates done so far.
    pub step: usize,
    /// The run's seeded generator.
    pub rng: &'a mut StdRng,
}

/// A training method.
pub trait Method: Send {
    /// Called once before the first step, with the policy at `π_ref`.
    fn prepare(&mut self, _ctx: &mut StepContext<'_>, _policy: &Policy) {}

    /// Loss at the current policy, with the gradient's coefficients written
    /// to `coefs` (cleared first). Returns `(loss, Σ c_y)` where the sum is
    /// the exact value (0 for pair losses).
    fn gradient(
        &mut self,
        ctx: &mut StepContext<'_>,
        policy: &Policy,
        coefs: &mut Vec<(usize, f64)>,
    ) -> (f64, f64);

    /// The loss reported in metrics for the current policy.
    fn current_loss(&self, beta: f64, policy: &Policy) -> f64;

    /// The gradient coefficients of [`Method::current_loss`] at `policy`,
    /// written to `coefs` (cleared first), drawing nothing. Returns `Σ c_y`
    /// as [`Method::gradient`] does. The trainer turns them into
    /// `final.grad_norm`.
    fn loss_gradient(&self, beta: f64, policy: &Policy, coefs: &mut Vec<(usize, f64)>) -> f64;

    /// Whether a step draws at random (minibatches, online pairs, PPO
    /// batches): its gradient is then noisy and never vanishes, so the
    /// trainer does not read a non-zero gradient as "not converged".
    fn is_stochastic(&self) -> bool;

    /// Extra metrics of this method, in order.
    fn extra_metrics(&self) -> Vec<(String, f64)> {
        Vec::new()
    }

    /// The pairs the last step trained on (the whole data, a minibatch or
    /// online DPO's sampled and judged batch); empty for methods that train
    /// on no pairs (RLHF, π*).
    fn last_pairs(&self) -> &[Pair] {
        &[]
    }

    /// For methods that draw groups of answers (GRPO, RLOO): the group
    /// the last step trained on; empty for the others.
    fn last_group(&self) -> &[usize] {
        &[]
    }

    /// For methods that sample their own pairs (online DPO): which
    /// responses any batch of the run has drawn so far.
    fn drawn(&self) -> Option<&[bool]> {
        None
    }
}

/// `Σ_p w_p L_p` over `pairs`, with the gradient's coefficients
/// `w_p·∂L_p/∂log π(y)` appended to `coefs` when given; returns the loss.
/// `lengths[y]` is `n(y)` in tokens, end token counted, for the losses
/// that read lengths (an empty slice
/// means 1 for every response: flat spaces). Losses of the margin alone
/// take the fast path `±w_p ℓ'(h(y+) − h(y−))`, whose coefficients sum to
/// zero; the others' sum is returned by [`coefficient_sum`].
pub fn pair_loss(
    pairs: &[Pair],
    loss: PairLoss,
    beta: f64,
    policy: &Policy,
    lengths: &[f64],
    mut coefs: Option<&mut Vec<(usize, f64)>>,
) -> f64 {
    // Many pairs over few responses: read every h once.
    let all = (pairs.len() >= policy.len()).then(|| policy.log_ratios());
    let h = |i: usize| all.as_ref().map_or_else(|| policy.log_ratio(i), |a| a[i]);
    let fast = loss.depends_on_margin_only() || (loss == PairLoss::Ipo && lengths.is_empty());
    if fast {
        // Gather every h first in a tight loop: at a million responses each
        // read is a cache miss, and independent misses overlap only when
        // nothing slow (exp, log1p) sits between them.
        let ds: Vec<f64> = pairs.iter().map(|p| h(p.chosen) - h(p.rejected)).collect();
        let mut total = 0.0;
        for (
            &Pair {
                chosen: i,
                rejected: j,
                weight: w,
            },
            &d,
        ) in pairs.iter().zip(&ds)
        {
            if w == 0.0 {
                continue;
            }
            total += w * loss.value(d, beta);
            if let Some(c) = coefs.as_deref_mut() {
                let g = w * loss.derivative(d, beta);
                if g != 0.0 && i != j {
                    c.push((i, g));
                    c.push((j, -g));
                }
            }
        }
        return total;
    }
    let kl0 = if loss.needs_kl() {
        let lp = policy.log_probs();
        let hs = policy.log_ratios();
        let kl: f64 = lp
            .iter()
            .zip(&hs)
            .filter(|(l, _)| **l > f64::NEG_INFINITY)
            .map(|(l, h)| l.exp() * h)
            .sum();
        kl.max(0.0)
    } else {
        0.0
    };
    let len = |y: usize| lengths.get(y).copied().unwrap_or(1.0);
    // TRL's NLL is one token mean over the batch's chosen answers:
    // Σ w·(−ℓ_w) / Σ w·n_w, written per pair as −ℓ_w/n̄_w.
    let nll_tokens = if loss.has_nll() {
        let (mut wn, mut ws) = (0.0, 0.0);
        for p in pairs.iter().filter(|p| p.weight != 0.0) {
            wn += p.weight * len(p.chosen);
            ws += p.weight;
        }
        if ws > 0.0 { wn / ws } else { 1.0 }
    } else {
        1.0
    };
    let mut total = 0.0;
    for &Pair {
        chosen: i,
        rejected: j,
        weight: w,
    } in pairs
    {
        if w == 0.0 {
            continue;
        }
        let x = PairInput {
            rho_w: h(i),
            rho_l: h(j),
            ell_w: policy.log_prob(i),
            ell_l: policy.log_prob(j),
            len_w: len(i),
            len_l: len(j),
            nll_tokens,
            kl0,
        };
        let (v, gw, gl) = loss.eval(&x, beta);
        total += w * v;
        if let Some(c) = coefs.as_deref_mut() {
            if i == j {
                let g = w * (gw + gl);
                if g != 0.0 {
                    c.push((i, g));
                }
            } else {
                if gw != 0.0 {
                    c.push((i, w * gw));
                }
                if gl != 0.0 {
                    c.push((j, w * gl));
                }
            }
        }
    }
    total
}

/// [`pair_loss`] with its gradient, as [`Method::gradient`] returns it:
/// clears `coefs`, writes the coefficients, returns `(loss, Σ c_y)`.
pub fn pair_loss_and_gradient(
    pairs: &[Pair],
    loss: PairLoss,
    beta: f64,
    policy: &Policy,
    lengths: &[f64],
    coefs: &mut Vec<(usize, f64)>,
) -> (f64, f64) {
    coefs.clear();
    let l = pair_loss(pairs, loss, beta, policy, lengths, Some(coefs));
    (l, coefficient_sum(coefs))
}

/// `Σ c_y` of gradient coefficients (what [`Method::gradient`] returns
/// beside the loss; exactly 0 for the losses of the margin alone).
pub fn coefficient_sum(coefs: &[(usize, f64)]) -> f64 {
    coefs.iter().map(|c| c.1).sum()
}
