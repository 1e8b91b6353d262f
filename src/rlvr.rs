//! RL with verifiable rewards (docs/rlvr.md): the exact quantities behind
//! GRPO and RLOO on an enumerable space.
//!
//! - A *verifier* reward is 1 for a correct response and 0 otherwise; `p`
//!   is the policy's probability of a correct answer and `q = 1 − p` its
//!   wrong mass, summed directly (so `q` keeps its digits when `p → 1`).
//! - `pass@k = 1 − q^k` exactly (k independent draws, at least one right),
//!   and a group of `G` draws carries no signal with probability
//!   `p^G + q^G` (all right or all wrong: every advantage is 0).
//! - GRPO's group advantage with a binary reward depends only on how many
//!   of the `G` answers are right, a binomial count, so its expectation is
//!   a finite sum ([`expected_binary_advantages`]).
//! - [`TokenGrad`] turns per-token gradient weights `∂L/∂log π(o_t | o_<t)`
//!   into the coefficients `c_y` of `Σ_y c_y ∇log π(y)` that every policy
//!   class accepts: a token's conditional is a ratio of prefix masses,
//!   `log π(o_t | o_<t) = log S(o_≤t) − log S(o_<t)` with
//!   `S(p) = Σ_{y extends p} π(y)`, and
//!   `∇log S(p) = Σ_{y extends p} (π(y)/S(p)) ∇log π(y)`.

use crate::error::{Error, Result};
use crate::space::ResponseSpace;

/// The constant TRL adds to a standard deviation before dividing by it.
pub const STD_EPS: f64 = 1e-4;

/// The largest group (`num_generations`) accepted.
pub const MAX_GENERATIONS: usize = 1024;

/// The default `k` of `pass_at_k` (`--pass-at`).
pub const DEFAULT_PASS_AT: [u64; 4] = [1, 8, 64, 256];

/// The largest `k` accepted for pass@k.
pub const MAX_PASS_AT: u64 = 1 << 40;

/// GRPO's loss aggregation (TRL's `GRPOConfig.loss_type`).
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
#[strum(serialize_all = "snake_case")]
pub enum GrpoLossType {
    /// Each answer's token mean, then the mean over answers.
    #[strum(message = "each answer's token mean, then the mean over the group (DeepSeekMath)")]
    Grpo,
    /// The sum over every token of the batch / its token count.
    #[strum(message = "sum over the batch's tokens / their number")]
    Bnpo,
    /// The sum over every token / (answers × max_completion_length).
    #[strum(message = "sum over tokens / (answers x max length) (Dr. GRPO, Liu et al. 2025)")]
    DrGrpo,
    /// The sum over every token / the tokens of the whole generation batch.
    #[default]
    #[strum(message = "sum over tokens / tokens in the generation batch (DAPO; TRL's default)")]
    Dapo,
}

/// GRPO's advantage scaling (TRL's `GRPOConfig.scale_rewards`).
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
#[strum(serialize_all = "snake_case")]
pub enum ScaleRewards {
    /// Divide by the group's standard deviation (+1e-4).
    #[default]
    #[strum(message = "divide by the group's standard deviation + 1e-4 (TRL's default)")]
    Group,
    /// Divide by the batch's standard deviation (+1e-4).
    #[strum(message = "divide by the batch's standard deviation + 1e-4")]
    Batch,
    /// Do not divide.
    #[strum(message = "no scaling: the advantage is r minus the group mean")]
    None,
}

/// Checked GRPO settings (scenario `[grpo]`), TRL's names and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct GrpoSettings {
    /// Answers per prompt per step, `G ≥ 2` (default 8).
    pub num_generations: usize,
    /// The loss aggregation (default `dapo`).
    pub loss_type: GrpoLossType,
    /// The advantage scaling (default `group`).
    pub scale_rewards: ScaleRewards,
    /// The per-token KL coefficient (default 0: no reference term).
    pub beta: f64,
    /// Lower clip range ε (default 0.2).
    pub epsilon: f64,
    /// Upper clip range (default: `epsilon`).
    pub epsilon_high: f64,
    /// Updates per drawn group, μ (default 1).
    pub num_iterations: usize,
    /// Train on the exact expectation over the group's draws.
    pub expected: bool,
}

impl Default for GrpoSettings {
    /// TRL's `GRPOConfig` defaults.
    fn default() -> Self {
        GrpoSettings {
            num_generations: 8,
            loss_type: GrpoLossType::Dapo,
            scale_rewards: ScaleRewards::Group,
            beta: 0.0,
            epsilon: 0.2,
            epsilon_high: 0.2,
            num_iterations: 1,
            expected: false,
        }
    }
}

/// Checked RLOO settings (scenario `[rloo]`, each key it omits from
/// `[grpo]`), TRL's names. Defaults are `[grpo]`'s — G 8, β 0 — where TRL's
/// `RLOOConfig` has 2 and 0.05 (docs/rlvr.md).
#[derive(Debug, Clone, PartialEq)]
pub struct RlooSettings {
    /// Answers per prompt per step, `G ≥ 2` (default 8).
    pub num_generations: usize,
    /// The KL coefficient of the reward penalty (default 0).
    pub beta: f64,
    /// Lower clip range ε (default 0.2).
    pub epsilon: f64,
    /// Upper clip range (default: `epsilon`).
    pub epsilon_high: f64,
    /// Updates per drawn group (default 1).
    pub num_iterations: usize,
    /// Standardise the advantages over the batch (default false).
    pub normalize_advantages: bool,
    /// Train on the exact expectation over the group's draws.
    pub expected: bool,
}

impl Default for RlooSettings {
    /// `[grpo]`'s defaults (see the type's note).
    fn default() -> Self {
        RlooSettings {
            num_generations: 8,
            beta: 0.0,
            epsilon: 0.2,
            epsilon_high: 0.2,
            num_iterations: 1,
            normalize_advantages: false,
            expected: false,
        }
    }
}

/// Everything RL with verifiable rewards adds to a run: GRPO's and RLOO's
/// settings and the `k` of `pass_at_k`.
#[derive(Debug, Clone, PartialEq)]
pub struct RlvrSettings {
    /// `[grpo]`.
    pub grpo: GrpoSettings,
    /// `[rloo]`.
    pub rloo: RlooSettings,
    /// `train.pass_at` (default 1, 8, 64, 256).
    pub pass_at: Vec<u64>,
}

impl Default for RlvrSettings {
    fn default() -> Self {
        RlvrSettings {
            grpo: GrpoSettings::default(),
            rloo: RlooSettings::default(),
            pass_at: DEFAULT_PASS_AT.to_vec(),
        }
    }
}

/// Why `--expected` has no closed form for these GRPO settings, if so.
pub fn grpo_expected_refusal(s: &GrpoSettings, binary: bool) -> Option<String> {
    if matches!(s.loss_type, GrpoLossType::Bnpo | GrpoLossType::Dapo) {
        return Some(format!(
            "loss_type \"{}\" divides by the token count of the whole batch, a random variable, so its expected update has no closed form: use \"grpo\" or \"dr_grpo\", or a sampled run",
            <&str>::from(s.loss_type)
        ));
    }
    if s.num_iterations > 1 {
        return Some(format!(
            "num_iterations = {} reuses one drawn group for several clipped updates, whose expectation has no closed form: use num_iterations = 1, or a sampled run",
            s.num_iterations
        ));
    }
    if s.scale_rewards != ScaleRewards::None && !binary {
        return Some(
            "dividing by the group's standard deviation has a closed-form expectation only for a binary reward: use [reward] kind = \"verifier\", scale_rewards = \"none\", or a sampled run".into(),
        );
    }
    None
}

/// Why `--expected` has no closed form for these RLOO settings, if so.
pub fn rloo_expected_refusal(s: &RlooSettings) -> Option<String> {
    if s.num_iterations > 1 {
        return Some(format!(
            "num_iterations = {} reuses one drawn group for several clipped updates, whose expectation has no closed form: use num_iterations = 1, or a sampled run",
            s.num_iterations
        ));
    }
    if s.normalize_advantages {
        return Some(
            "normalize_advantages divides by the batch's standard deviation, whose expectation has no closed form here: turn it off, or use a sampled run".into(),
        );
    }
    None
}

/// Checks `G`.
pub fn check_generations(field: &str, g: u64) -> Result<usize> {
    if !(2..=MAX_GENERATIONS as u64).contains(&g) {
        return Err(Error::invalid(
            field,
            format!(
                "must be an integer in [2, {MAX_GENERATIONS}] (a group needs two answers to compare), got {g}"
            ),
        ));
    }
    Ok(g as usize)
}

/// Checks the `k` of pass@k: integers in `[1, 2⁴⁰]`, no repeats, at most 64.
pub fn check_pass_at(field: &str, ks: &[u64]) -> Result<Vec<u64>> {
    if ks.is_empty() || ks.len() > 64 {
        return Err(Error::invalid(
            field,
            format!("must list 1 to 64 values of k, got {}", ks.len()),
        ));
    }
    for (i, &k) in ks.iter().enumerate() {
        if !(1..=MAX_PASS_AT).contains(&k) {
            return Err(Error::invalid(
                field,
                format!("entry {i} must be an integer in [1, 2^40], got {k}"),
            ));
        }
        if ks[..i].contains(&k) {
            return Err(Error::invalid(field, format!("k = {k} is listed twice")));
        }
    }
    Ok(ks.to_vec())
}

/// `(p, q)`: the probability of a correct answer and of a wrong one, each
/// summed over its own responses.
pub fn correct_mass(log_pi: &[f64], correct: &[bool]) -> (f64, f64) {
    let (mut p, mut q) = (0.0, 0.0);
    for (&lp, &c) in log_pi.iter().zip(correct) {
        if lp > f64::NEG_INFINITY {
            if c {
                p += lp.exp();
            } else {
                q += lp.exp();
            }
        }
    }
    let total = p + q;
    if total > 0.0 {
        (p / total, q / total)
    } else {
        (0.0, 1.0)
    }
}

/// `pass@k = 1 − q^k`, computed as `−expm1(k·log q)`.
pub fn pass_at_k(q: f64, k: u64) -> f64 {
    pass_at(q, k as f64)
}

/// `1 − q^k` at a real `k ≥ 0` (the smooth curve between the integers
/// that plots draw).
pub fn pass_at(q: f64, k: f64) -> f64 {
    if q <= 0.0 {
        1.0
    } else {
        -(k * q.ln()).exp_m1()
    }
}

/// The smallest `k ≥ 1` at which pass@k averaged over prompts falls below
/// the reference's: `trained[i]` and `reference[i]` are prompt `i`'s wrong
/// mass `q` under the trained policy and under π_ref. Searched by doubling
/// up to 2⁴⁰, then by bisection inside the first doubling step that is
/// below (the first crossing if the two curves cross once there); `None`
/// if pass@k never falls below.
pub fn pass_at_k_crossover(trained: &[f64], reference: &[f64]) -> Option<u64> {
    let n = trained.len() as f64;
    let mean = |qs: &[f64], k: u64| qs.iter().map(|&q| pass_at_k(q, k)).sum::<f64>() / n;
    let below = |k: u64| mean(trained, k) < mean(reference, k);
    if below(1) {
        return Some(1);
    }
    let mut hi = 2u64;
    while !below(hi) {
        if hi >= MAX_PASS_AT {
            return None;
        }
        hi *= 2;
    }
    let mut lo = hi / 2;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// The probability that a group of `g` draws is all right or all wrong.
pub fn zero_variance(p: f64, q: f64, g: usize) -> f64 {
    p.powi(g as i32) + q.powi(g as i32)
}

/// The verifier's metrics of one policy.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifierMetrics {
    /// `p`: the probability of a correct answer.
    pub p_correct: f64,
    /// `(k, 1 − (1 − p)^k)` for each requested `k`.
    pub pass_at_k: Vec<(u64, f64)>,
    /// `p^G + (1 − p)^G` for the run's group size `G`.
    pub zero_variance_groups: f64,
    /// Sequence spaces: the expected length (content tokens) of a correct
    /// answer and of a wrong one, `E[|y| | correct]`, `E[|y| | wrong]`
    /// (`None` for flat spaces; 0 where that side has no probability).
    pub mean_length_correct: Option<f64>,
    /// See `mean_length_correct`.
    pub mean_length_wrong: Option<f64>,
}

impl VerifierMetrics {
    /// The metrics of the policy `log_pi` over `space`.
    pub fn of(
        space: &ResponseSpace,
        log_pi: &[f64],
        correct: &[bool],
        ks: &[u64],
        g: usize,
    ) -> Self {
        let (p, q) = correct_mass(log_pi, correct);
        let (mut lc, mut mc, mut lw, mut mw) = (0.0, 0.0, 0.0, 0.0);
        if space.is_sequences() {
            for (y, (&lp, &c)) in log_pi.iter().zip(correct).enumerate() {
                if lp > f64::NEG_INFINITY {
                    let pi = lp.exp();
                    let len = space.length(y) as f64;
                    if c {
                        lc += pi * len;
                        mc += pi;
                    } else {
                        lw += pi * len;
                        mw += pi;
                    }
                }
            }
        }
        let seq = space.is_sequences();
        let cond = |l: f64, m: f64| seq.then(|| if m > 0.0 { l / m } else { 0.0 });
        VerifierMetrics {
            p_correct: p,
            pass_at_k: ks.iter().map(|&k| (k, pass_at_k(q, k))).collect(),
            zero_variance_groups: zero_variance(p, q, g),
            mean_length_correct: cond(lc, mc),
            mean_length_wrong: cond(lw, mw),
        }
    }

    /// The average over prompts (all must share their `k`).
    pub fn mean(parts: &[&VerifierMetrics]) -> VerifierMetrics {
        let n = parts.len() as f64;
        VerifierMetrics {
            p_correct: parts.iter().map(|m| m.p_correct).sum::<f64>() / n,
            pass_at_k: parts[0]
                .pass_at_k
                .iter()
                .enumerate()
                .map(|(i, &(k, _))| (k, parts.iter().map(|m| m.pass_at_k[i].1).sum::<f64>() / n))
                .collect(),
            zero_variance_groups: parts.iter().map(|m| m.zero_variance_groups).sum::<f64>() / n,
            mean_length_correct: mean_of(parts.iter().map(|m| m.mean_length_correct)),
            mean_length_wrong: mean_of(parts.iter().map(|m| m.mean_length_wrong)),
        }
    }
}

/// The mean of the values that exist (`None` if none does).
fn mean_of(xs: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = xs.flatten().collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The binomial probabilities `P(K = j)`, `j = 0..=n`, of `K ~ Bin(n, p)`
/// (with `q = 1 − p` given separately), in log space.
pub fn binomial_pmf(n: usize, p: f64, q: f64) -> Vec<f64> {
    if p <= 0.0 {
        let mut v = vec![0.0; n + 1];
        v[0] = 1.0;
        return v;
    }
    if q <= 0.0 {
        let mut v = vec![0.0; n + 1];
        v[n] = 1.0;
        return v;
    }
    let (lp, lq) = (p.ln(), q.ln());
    let mut log_choose = 0.0;
    (0..=n)
        .map(|j| {
            if j > 0 {
                log_choose += ((n - j + 1) as f64).ln() - (j as f64).ln();
            }
            (log_choose + j as f64 * lp + (n - j) as f64 * lq).exp()
        })
        .collect()
}

/// The sample standard deviation with Bessel's correction (torch's
/// `std`, TRL's `nanstd`); 0 for fewer than two values.
pub fn unbiased_std(xs: &[f64]) -> f64 {
    let n = xs.len();
    if n < 2 {
        return 0.0;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    var.sqrt()
}

/// GRPO's advantages of one group of rewards, as TRL computes them:
/// `r_i − mean(r)`, divided by `std(r) + 1e-4` unless `scale` is off
/// (the simulator's batch is one group, so `batch` and `group` scale alike).
pub fn group_advantages(rewards: &[f64], scale: bool) -> Vec<f64> {
    let mean = rewards.iter().sum::<f64>() / rewards.len() as f64;
    let div = if scale {
        unbiased_std(rewards) + STD_EPS
    } else {
        1.0
    };
    rewards.iter().map(|r| (r - mean) / div).collect()
}

/// RLOO's leave-one-out advantages `r_i − mean_{j≠i} r_j`.
pub fn leave_one_out_advantages(rewards: &[f64]) -> Vec<f64> {
    let g = rewards.len() as f64;
    let sum: f64 = rewards.iter().sum();
    rewards.iter().map(|r| r - (sum - r) / (g - 1.0)).collect()
}

/// A correct and a wrong answer's GRPO advantage in a group of `g` with
/// `k` correct answers (`1 ≤ k` for the first, `k ≤ g − 1` for the second
/// to occur).
pub fn binary_advantage(g: usize, k: usize, scale: bool) -> (f64, f64) {
    let gf = g as f64;
    let mean = k as f64 / gf;
    let div = if scale {
        (k as f64 * (gf - k as f64) / (gf * (gf - 1.0))).sqrt() + STD_EPS
    } else {
        1.0
    };
    ((1.0 - mean) / div, -mean / div)
}

/// The expected GRPO advantage of one answer of a group of `g`, given that
/// it is correct and given that it is wrong: the other `g − 1` answers are
/// correct `K ~ Bin(g − 1, p)` times.
pub fn expected_binary_advantages(g: usize, p: f64, q: f64, scale: bool) -> (f64, f64) {
    let pmf = binomial_pmf(g - 1, p, q);
    let (mut right, mut wrong) = (0.0, 0.0);
    for (j, &w) in pmf.iter().enumerate() {
        if w == 0.0 {
            continue;
        }
        right += w * binary_advantage(g, j + 1, scale).0;
        wrong += w * binary_advantage(g, j, scale).1;
    }
    (right, wrong)
}

/// `log S(p)` for every prefix `p` of a sequence space (every response is
/// a prefix of its extensions): the log of the probability that a draw
/// starts with `p`. For flat spaces, `log π` itself.
pub fn log_prefix_mass(space: &ResponseSpace, log_pi: &[f64]) -> Vec<f64> {
    let mut acc = log_pi.to_vec();
    if space.is_sequences() {
        for i in (0..acc.len()).rev() {
            if let Some(parent) = space.parent(i) {
                acc[parent] = crate::numerics::log_sum_exp(&[acc[parent], acc[i]]);
            }
        }
    }
    acc
}

/// The prefixes of response `y`, shortest first (`y` itself last).
pub fn prefixes(space: &ResponseSpace, y: usize) -> Vec<usize> {
    let mut chain = vec![y];
    while let Some(p) = space.parent(*chain.last().expect("non-empty")) {
        chain.push(p);
    }
    chain.reverse();
    chain
}

/// `log π(o_t | o_<t)` for every token TRL counts of response `y`: the
/// content tokens, then the end token unless `y` has `max_len` tokens (a
/// flat answer is one token, `log π(y)`). They sum to `log π(y)`.
pub fn token_log_probs(space: &ResponseSpace, log_s: &[f64], log_pi: &[f64], y: usize) -> Vec<f64> {
    if !space.is_sequences() {
        return vec![log_pi[y]];
    }
    let chain = prefixes(space, y);
    let mut out = Vec::with_capacity(chain.len() + 1);
    let mut before = 0.0;
    for &p in &chain {
        out.push(log_s[p] - before);
        before = log_s[p];
    }
    if space.counted_tokens(y) > chain.len() {
        out.push(log_pi[y] - log_s[y]);
    }
    out
}

/// Per-token gradient weights `∂L/∂log π(o_t | o_<t)`, gathered into the
/// coefficients of `Σ_y c_y ∇log π(y)` (see the module's notes).
#[derive(Debug, Default)]
pub struct TokenGrad {
    /// Weights on `∇log π(y)` itself.
    direct: Vec<(usize, f64)>,
    /// Weights on `∇log S(p)`.
    prefix: Vec<(usize, f64)>,
}

impl TokenGrad {
    /// Empty.
    pub fn new() -> Self {
        TokenGrad::default()
    }

    /// Adds `g · ∇log π(y)` (a whole response's log-probability).
    pub fn add_sequence(&mut self, y: usize, g: f64) {
        if g != 0.0 {
            self.direct.push((y, g));
        }
    }

    /// Adds `g_t · ∇log π(o_t | o_<t)` for the counted tokens of `y`
    /// (`g` in the order of [`token_log_probs`]). Equal weights on every
    /// token telescope to one weight on `∇log π(y)`.
    pub fn add_tokens(&mut self, space: &ResponseSpace, y: usize, g: &[f64]) {
        if g.iter().all(|&x| x == g[0]) {
            self.add_sequence(y, g[0]);
            return;
        }
        let chain = prefixes(space, y);
        for (t, &w) in g.iter().enumerate() {
            if w == 0.0 {
                continue;
            }
            if t < chain.len() {
                self.prefix.push((chain[t], w));
                if t > 0 {
                    self.prefix.push((chain[t - 1], -w));
                }
            } else {
                // The end token: log π(y) − log S(y).
                self.direct.push((y, w));
                self.prefix.push((y, -w));
            }
        }
    }

    /// The coefficients `c_y`, appended to `coefs`.
    pub fn finish(
        self,
        space: &ResponseSpace,
        log_pi: &[f64],
        log_s: Option<&[f64]>,
        coefs: &mut Vec<(usize, f64)>,
    ) {
        coefs.extend(self.direct);
        if self.prefix.is_empty() {
            return;
        }
        let log_s = log_s.expect("prefix masses are needed for per-token weights");
        let n = log_pi.len();
        let mut u = vec![0.0; n];
        for (p, w) in self.prefix {
            u[p] += w;
        }
        // V(z) = V(parent z) + U(z)/S(z); c_z += π(z)·V(z). Parents have
        // smaller indices than their children.
        let mut v = vec![0.0; n];
        for z in 0..n {
            let up = space.parent(z).map_or(0.0, |p| v[p]);
            let own = if u[z] != 0.0 && log_s[z] > f64::NEG_INFINITY {
                u[z] * (-log_s[z]).exp()
            } else {
                0.0
            };
            v[z] = up + own;
            if v[z] != 0.0 && log_pi[z] > f64::NEG_INFINITY {
                coefs.push((z, log_pi[z].exp() * v[z]));
            }
        }
    }
}

/// The per-token KL estimate of GRPO (Schulman's k3):
/// `exp(ref − lp) − (ref − lp) − 1`, and its derivative in `lp`.
pub fn k3(lp: f64, ref_lp: f64) -> (f64, f64) {
    let d = ref_lp - lp;
    if d == f64::NEG_INFINITY {
        return (f64::INFINITY, 1.0);
    }
    (d.exp_m1() - d, 1.0 - d.exp())
}

/// The clipped surrogate TRL minimises per token (or per sequence for
/// RLOO): `−min(ρA, clip(ρ, 1 − ε_low, 1 + ε_high)·A)` and its derivative
/// in `log ρ` (0 where the clip binds).
pub fn clipped_loss(log_ratio: f64, advantage: f64, eps_low: f64, eps_high: f64) -> (f64, f64) {
    let rho = log_ratio.exp();
    let unclipped = rho * advantage;
    let clipped = rho.clamp(1.0 - eps_low, 1.0 + eps_high) * advantage;
    if unclipped <= clipped {
        (-unclipped, -unclipped)
    } else {
        (-clipped, 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_sums_to_one_and_matches_small_cases() {
        let pmf = binomial_pmf(3, 0.25, 0.75);
        let want = [27.0 / 64.0, 27.0 / 64.0, 9.0 / 64.0, 1.0 / 64.0];
        for (a, b) in pmf.iter().zip(want) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
        assert!((binomial_pmf(200, 0.3, 0.7).iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn binary_advantages_equal_the_general_rule() {
        for g in [2, 3, 8] {
            for k in 0..=g {
                let rewards: Vec<f64> = (0..g).map(|i| f64::from(u8::from(i < k))).collect();
                for scale in [false, true] {
                    let a = group_advantages(&rewards, scale);
                    let (right, wrong) = binary_advantage(g, k, scale);
                    if k > 0 {
                        assert!((a[0] - right).abs() < 1e-12);
                    }
                    if k < g {
                        assert!((a[g - 1] - wrong).abs() < 1e-12);
                    }
                }
            }
        }
    }
}
