//! RLHF on a learned reward (docs/maths.md §2): maximise
//! `J_φ(π) = E_π r_φ − β·KL(π ‖ π_ref)`.
//!
//! - [`RlhfExact`]: gradient ascent with the full expectation, no sampling:
//!   `∇J = Σ_y π(y) (A(y) − b) ∇log π(y)`, `A = r_φ − β h`, `b = E_π A`
//!   (the baseline changes nothing in expectation and makes `Σ c_y = 0`).
//! - [`Ppo`]: sampled responses, the KL penalty inside the reward
//!   `R = r_φ − β h_old`, a learned value baseline per prompt, and the
//!   clipped surrogate `min(ρA, clip(ρ, 1−ε, 1+ε)A)` for `epochs` passes per
//!   batch (Schulman et al. 2017). One trainer step is one pass.

use rand::rngs::StdRng;

use super::{Method, StepContext};
use crate::policy::Policy;

/// Exact gradient ascent on `J_φ`.
pub struct RlhfExact {
    scores: Vec<f64>,
    last: (f64, f64),
}

impl RlhfExact {
    /// `scores` is the learned reward `r_φ` of every response.
    pub fn new(scores: Vec<f64>) -> Self {
        RlhfExact {
            scores,
            last: (0.0, 0.0),
        }
    }

    /// `(−J_φ, E_π r_φ, KL)` and, if asked, the gradient coefficients.
    fn evaluate(
        &self,
        beta: f64,
        policy: &Policy,
        coefs: Option<&mut Vec<(usize, f64)>>,
    ) -> (f64, f64, f64) {
        let (lp, h) = policy.log_probs_and_ratios();
        let (mut score, mut kl) = (0.0, 0.0);
        for y in 0..lp.len() {
            if lp[y] > f64::NEG_INFINITY {
                let p = lp[y].exp();
                score += p * self.scores[y];
                kl += p * h[y];
            }
        }
        let baseline = score - beta * kl;
        if let Some(c) = coefs {
            for y in 0..lp.len() {
                if lp[y] > f64::NEG_INFINITY {
                    let a = self.scores[y] - beta * h[y] - baseline;
                    c.push((y, -lp[y].exp() * a));
                }
            }
        }
        (-(score - beta * kl), score, kl)
    }
}

impl Method for RlhfExact {
    fn gradient(
        &mut self,
        ctx: &mut StepContext<'_>,
        policy: &Policy,
        coefs: &mut Vec<(usize, f64)>,
    ) -> (f64, f64) {
        coefs.clear();
        let (loss, score, kl) = self.evaluate(ctx.beta, policy, Some(coefs));
        self.last = (score, kl);
        (loss, 0.0)
    }

    fn current_loss(&self, beta: f64, policy: &Policy) -> f64 {
        self.evaluate(beta, policy, None).0
    }

    /// The exact gradient of `−J_φ` (its coefficients sum to zero).
    fn loss_gradient(&self, beta: f64, policy: &Policy, coefs: &mut Vec<(usize, f64)>) -> f64 {
        coefs.clear();
        self.evaluate(beta, policy, Some(coefs));
        0.0
    }

    fn is_stochastic(&self) -> bool {
        false
    }

    fn extra_metrics(&self) -> Vec<(String, f64)> {
        vec![
            ("objective/scores".into(), self.last.0),
            ("objective/kl".into(), self.last.1),
        ]
    }
}

/// PPO's clipped surrogate for one sample, to be *maximised*:
/// `min(ρA, clip(ρ, 1−ε, 1+ε)·A)`, and its derivative in `ρ` (0 where the
/// clip is active). Returns `(value, d value / dρ, clipped)`.
pub fn clipped_surrogate(ratio: f64, advantage: f64, clip: f64) -> (f64, f64, bool) {
    let unclipped = ratio * advantage;
    let clipped = ratio.clamp(1.0 - clip, 1.0 + clip) * advantage;
    if unclipped <= clipped {
        (unclipped, advantage, false)
    } else {
        (clipped, 0.0, true)
    }
}

/// The value baseline's loss `½·mean (R − V)²` and its derivative in `V`.
pub fn value_loss(returns: &[f64], value: f64) -> (f64, f64) {
    let n = returns.len().max(1) as f64;
    let loss = returns
        .iter()
        .map(|r| 0.5 * (r - value).powi(2))
        .sum::<f64>()
        / n;
    let grad = returns.iter().map(|r| value - r).sum::<f64>() / n;
    (loss, grad)
}

/// Checked PPO settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PpoSettings {
    /// Responses sampled per batch (default 64).
    pub batch: usize,
    /// Passes over each batch (default 4).
    pub epochs: usize,
    /// Clip range ε (default 0.2).
    pub clip: f64,
    /// Step size of the value baseline (default 0.1).
    pub value_lr: f64,
}

impl Default for PpoSettings {
    /// The defaults for the `[rlhf]` PPO keys a file omits.
    fn default() -> Self {
        PpoSettings {
            batch: 64,
            epochs: 4,
            clip: 0.2,
            value_lr: 0.1,
        }
    }
}

/// PPO with a KL-penalised reward and a learned value baseline.
pub struct Ppo {
    scores: Vec<f64>,
    s: PpoSettings,
    value: f64,
    samples: Vec<usize>,
    old_logp: Vec<f64>,
    advantages: Vec<f64>,
    stats: PpoStats,
}

#[derive(Debug, Clone, Copy, Default)]
struct PpoStats {
    scores: f64,
    kl: f64,
    clipfrac: f64,
    value_loss: f64,
}

impl Ppo {
    /// `scores` is the learned reward `r_φ` of every response.
    pub fn new(scores: Vec<f64>, s: PpoSettings) -> Self {
        Ppo {
            scores,
            s,
            value: 0.0,
            samples: Vec::new(),
            old_logp: Vec::new(),
            advantages: Vec::new(),
            stats: PpoStats::default(),
        }
    }

    fn resample(&mut self, beta: f64, policy: &Policy, rng: &mut StdRng) {
        self.samples.clear();
        self.old_logp.clear();
        let mut returns = Vec::with_capacity(self.s.batch);
        let (mut sc, mut kl) = (0.0, 0.0);
        for _ in 0..self.s.batch {
            let y = policy.sample(rng);
            let h = policy.log_ratio(y);
            self.samples.push(y);
            self.old_logp.push(policy.log_prob(y));
            returns.push(self.scores[y] - beta * h);
            sc += self.scores[y];
            kl += h;
        }
        let n = self.s.batch as f64;
        self.advantages = returns.iter().map(|r| r - self.value).collect();
        let (vloss, vgrad) = value_loss(&returns, self.value);
        self.value -= self.s.value_lr * vgrad;
        self.stats.scores = sc / n;
        self.stats.kl = kl / n;
        self.stats.value_loss = vloss;
    }

    /// `−mean min(ρA, clip(ρ)A)` on the current batch, with coefficients.
    fn surrogate(&self, policy: &Policy, coefs: Option<&mut Vec<(usize, f64)>>) -> (f64, f64, f64) {
        let n = self.samples.len().max(1) as f64;
        let (mut obj, mut clipped, mut total) = (0.0, 0.0, 0.0);
        let mut c = coefs;
        for k in 0..self.samples.len() {
            let y = self.samples[k];
            let ratio = (policy.log_prob(y) - self.old_logp[k]).exp();
            let (v, dv, was_clipped) = clipped_surrogate(ratio, self.advantages[k], self.s.clip);
            obj += v / n;
            if was_clipped {
                clipped += 1.0 / n;
            }
            // d(−v/n)/dθ = −(dv/dρ)·ρ·∇log π(y)/n.
            let g = -dv * ratio / n;
            if g != 0.0 {
                total += g;
                if let Some(c) = c.as_deref_mut() {
                    c.push((y, g));
                }
            }
        }
        (-obj, clipped, total)
    }
}

impl Method for Ppo {
    fn prepare(&mut self, ctx: &mut StepContext<'_>, policy: &Policy) {
        self.resample(ctx.beta, policy, ctx.rng);
    }

    fn gradient(
        &mut self,
        ctx: &mut StepContext<'_>,
        policy: &Policy,
        coefs: &mut Vec<(usize, f64)>,
    ) -> (f64, f64) {
        coefs.clear();
        if ctx.step > 0 && ctx.step.is_multiple_of(self.s.epochs) {
            self.resample(ctx.beta, policy, ctx.rng);
        }
        let (loss, clipfrac, total) = self.surrogate(policy, Some(coefs));
        self.stats.clipfrac = clipfrac;
        (loss, total)
    }

    fn current_loss(&self, _beta: f64, policy: &Policy) -> f64 {
        self.surrogate(policy, None).0
    }

    /// The gradient of the clipped surrogate on the current batch.
    fn loss_gradient(&self, _beta: f64, policy: &Policy, coefs: &mut Vec<(usize, f64)>) -> f64 {
        coefs.clear();
        self.surrogate(policy, Some(coefs)).2
    }

    fn is_stochastic(&self) -> bool {
        true
    }

    fn extra_metrics(&self) -> Vec<(String, f64)> {
        vec![
            ("objective/scores".into(), self.stats.scores),
            ("objective/kl".into(), self.stats.kl),
            ("policy/clipfrac".into(), self.stats.clipfrac),
            ("loss/value".into(), self.stats.value_loss),
            ("value".into(), self.value),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::ULPS_ABS;
    use approx::assert_abs_diff_eq;

    #[test]
    fn clipped_surrogate_by_hand() {
        // Positive advantage: clipped above 1 + ε.
        assert_eq!(clipped_surrogate(1.1, 2.0, 0.2), (2.2, 2.0, false));
        let (v, d, c) = clipped_surrogate(1.5, 2.0, 0.2);
        assert!((v - 2.4).abs() < ULPS_ABS && d == 0.0 && c);
        // Negative advantage: clipped below 1 − ε, never above.
        let (v, d, c) = clipped_surrogate(0.5, -1.0, 0.2);
        assert!((v + 0.8).abs() < ULPS_ABS && d == 0.0 && c);
        assert_eq!(clipped_surrogate(1.5, -1.0, 0.2), (-1.5, -1.0, false));
    }

    #[test]
    fn value_loss_by_hand() {
        let (l, g) = value_loss(&[1.0, 3.0], 1.0);
        assert_abs_diff_eq!(l, 1.0, epsilon = ULPS_ABS); // ½(0² + 2²)/2
        assert_abs_diff_eq!(g, -1.0, epsilon = ULPS_ABS); // (0 − 2)/2
    }
}
