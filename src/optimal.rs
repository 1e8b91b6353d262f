//! The closed-form optimum of the KL-regularised objective (docs/maths.md §1).
//!
//! `J(π) = E_π r − β·KL(π ‖ π_ref)` is maximised by
//! `π*(y) = π_ref(y)·exp(r(y)/β) / Z`, `Z = Σ_y π_ref(y)·exp(r(y)/β)`.
//! Everything is computed in log space: `log π* = log π_ref + r/β − log Z`
//! with `log Z` a log-sum-exp, so β from 1e-4 to 1e4 stays finite.

use crate::error::{Error, Result};
use crate::numerics::{kl_from_logs, log_sum_exp};

/// π* for one prompt and one β.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimum {
    /// The KL weight.
    pub beta: f64,
    /// `log π*(y)`; −∞ exactly where `π_ref(y) = 0`.
    pub log_policy: Vec<f64>,
    /// `log Z`.
    pub log_partition: f64,
}

/// The largest KL weight accepted. Far beyond any use (π* is π_ref to
/// 1e-12 for rewards of order 1), and small enough that gradients scaled by
/// β and their squared norms stay finite f64s: at β ≈ 1e200 a gradient
/// norm overflows.
pub const MAX_BETA: f64 = 1e12;

/// Checks the KL weight: a finite number in `(0, MAX_BETA]`.
pub fn check_beta(field: &str, beta: f64) -> Result<f64> {
    crate::validate::rule(
        field,
        beta,
        beta > 0.0 && beta <= MAX_BETA,
        &format!("a finite number in (0, {MAX_BETA:e}]"),
    )
}

/// The largest `|r|/β` the closed form accepts: `log Z` ≈ `r_max/β` must
/// stay a finite f64 with room for the arithmetic around it.
pub const MAX_REWARD_OVER_BETA: f64 = 1e300;

/// Checks that `r/β` cannot overflow (`field` names the setting).
pub fn check_reward_scale(field: &str, reward: &[f64], beta: f64) -> Result<()> {
    let r_abs = reward.iter().fold(0.0f64, |m, r| m.max(r.abs()));
    let scale = r_abs / beta;
    if scale.is_nan() || scale > MAX_REWARD_OVER_BETA {
        return Err(Error::invalid(
            field,
            format!(
                "|r|/β = {r_abs:e}/{beta:e} overflows; keep it below {MAX_REWARD_OVER_BETA:e} (smaller rewards or a larger β)"
            ),
        ));
    }
    Ok(())
}

/// `π* ∝ π_ref · exp(r/β)`, in log space.
///
/// The rewards are shifted by their maximum over the reference's support
/// before dividing by β: at β = 1e-4, `r/β` is ~1e4 and carries an absolute
/// rounding error of ~1e-12, while `(r − r_max)/β` is small exactly where
/// π* has its mass. `log Z` adds `r_max/β` back.
///
/// ```
/// use dpo_lab::optimal::{objective, optimum};
///
/// let log_ref = [0.5f64, 0.3, 0.2].map(f64::ln);
/// let reward = [-1.0, 0.0, 1.0];
/// let beta = 0.5;
/// let opt = optimum(&log_ref, &reward, beta);
/// // π* ∝ π_ref·exp(r/β), normalised.
/// let total: f64 = opt.log_policy.iter().map(|l| l.exp()).sum();
/// assert!((total - 1.0).abs() < 1e-12);
/// // J(π*) = β log Z, and π* beats the reference.
/// let j_star = objective(&opt.log_policy, &log_ref, &reward, beta);
/// assert!((j_star - beta * opt.log_partition).abs() < 1e-12);
/// assert!(j_star > objective(&log_ref, &log_ref, &reward, beta));
/// ```
pub fn optimum(log_ref: &[f64], reward: &[f64], beta: f64) -> Optimum {
    let r_max = log_ref
        .iter()
        .zip(reward)
        .filter(|(lr, _)| **lr > f64::NEG_INFINITY)
        .map(|(_, &r)| r)
        .fold(f64::NEG_INFINITY, f64::max);
    let r_max = if r_max.is_finite() { r_max } else { 0.0 };
    let mut log_policy: Vec<f64> = log_ref
        .iter()
        .zip(reward)
        .map(|(&lr, &r)| lr + (r - r_max) / beta)
        .collect();
    let shifted = log_sum_exp(&log_policy);
    for l in log_policy.iter_mut() {
        *l -= shifted;
    }
    let log_partition = shifted + r_max / beta;
    Optimum {
        beta,
        log_policy,
        log_partition,
    }
}

/// `E_π f = Σ π(y) f(y)` over `π(y) > 0`.
pub fn expectation(log_pi: &[f64], values: &[f64]) -> f64 {
    log_pi
        .iter()
        .zip(values)
        .filter(|(l, _)| **l > f64::NEG_INFINITY)
        .map(|(l, v)| l.exp() * v)
        .sum()
}

/// `J(π) = E_π r − β·KL(π ‖ π_ref)`.
pub fn objective(log_pi: &[f64], log_ref: &[f64], reward: &[f64], beta: f64) -> f64 {
    expectation(log_pi, reward) - beta * kl_from_logs(log_pi, log_ref)
}

/// Reward recovery: `β·log(π*(y)/π_ref(y)) + β·log Z` (equals `r(y)`);
/// `None` where `π_ref(y) = 0`.
pub fn recovered_reward(opt: &Optimum, log_ref: &[f64]) -> Vec<Option<f64>> {
    opt.log_policy
        .iter()
        .zip(log_ref)
        .map(|(&lp, &lr)| {
            (lr > f64::NEG_INFINITY).then_some(opt.beta * (lp - lr) + opt.beta * opt.log_partition)
        })
        .collect()
}

/// The Lagrange multiplier λ of stationarity,
/// `r(y) − β(1 + log π*(y)/π_ref(y)) + λ = 0`, read off each response in the
/// support: the identity holds when they all agree (they equal `β − β log Z`).
pub fn stationarity_multipliers(opt: &Optimum, log_ref: &[f64], reward: &[f64]) -> Vec<f64> {
    opt.log_policy
        .iter()
        .zip(log_ref)
        .zip(reward)
        .filter(|((_, lr), _)| **lr > f64::NEG_INFINITY)
        .map(|((&lp, &lr), &r)| opt.beta * (1.0 + (lp - lr)) - r)
        .collect()
}

/// A point of the exact reward–KL frontier: π* at one β.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrontierPoint {
    /// The KL weight.
    pub beta: f64,
    /// `E_{π*} r`.
    pub expected_reward: f64,
    /// `KL(π* ‖ π_ref)`.
    pub kl_to_ref: f64,
}

/// Where one optimum sits on the reward–KL plane.
pub fn point(opt: &Optimum, log_ref: &[f64], reward: &[f64]) -> FrontierPoint {
    FrontierPoint {
        beta: opt.beta,
        expected_reward: expectation(&opt.log_policy, reward),
        kl_to_ref: kl_from_logs(&opt.log_policy, log_ref),
    }
}

/// The optimal frontier over the given β values.
pub fn frontier(log_ref: &[f64], reward: &[f64], betas: &[f64]) -> Vec<FrontierPoint> {
    betas
        .iter()
        .map(|&beta| {
            let opt = optimum(log_ref, reward, beta);
            FrontierPoint {
                beta,
                expected_reward: expectation(&opt.log_policy, reward),
                kl_to_ref: kl_from_logs(&opt.log_policy, log_ref),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::ULPS_ABS;
    use approx::assert_abs_diff_eq;

    #[test]
    fn two_responses_by_hand() {
        // π_ref = (1/2, 1/2), r = (1, 0), β = 1: π* = (e, 1)/(e + 1).
        let lr = [0.5f64.ln(), 0.5f64.ln()];
        let opt = optimum(&lr, &[1.0, 0.0], 1.0);
        let e = std::f64::consts::E;
        assert_abs_diff_eq!(opt.log_policy[0].exp(), e / (e + 1.0), epsilon = ULPS_ABS);
        assert_abs_diff_eq!(
            opt.log_partition,
            ((e + 1.0) / 2.0).ln(),
            epsilon = ULPS_ABS
        );
    }
}
