//! Exact head-to-head comparison of two policies under the true reward, in
//! the form of the OAIF table (docs/maths.md §4): for independent `y_a ~ π_a`,
//! `y_b ~ π_b`, `win = P(r(y_a) > r(y_b) + m)`, `tie = P(|r(y_a) − r(y_b)| ≤ m)`,
//! `loss` the rest. Computed exactly in O(n log n) by sorting rewards, not
//! by sampling.

use crate::error::{Error, Result};
use crate::method::MethodKind;
use crate::scenario::Scenario;
use crate::train::{Progress, RunConfig, train_prompts_watched};

/// Win / tie / loss of `a` against `b`, and the quality of each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadToHead {
    /// `P(r(y_a) > r(y_b) + m)`.
    pub win: f64,
    /// `P(|r(y_a) − r(y_b)| ≤ m)`.
    pub tie: f64,
    /// `P(r(y_a) < r(y_b) − m)`.
    pub loss: f64,
    /// `E_{π_a} r`.
    pub quality_a: f64,
    /// `E_{π_b} r`.
    pub quality_b: f64,
}

/// Compares `π_a` and `π_b` (log-probabilities) under `reward` with tie
/// margin `margin ≥ 0`.
pub fn head_to_head(log_a: &[f64], log_b: &[f64], reward: &[f64], margin: f64) -> HeadToHead {
    // b's mass sorted by reward, with prefix sums.
    let mut order: Vec<usize> = (0..reward.len())
        .filter(|&y| log_b[y] > f64::NEG_INFINITY)
        .collect();
    order.sort_by(|&x, &y| reward[x].total_cmp(&reward[y]));
    let sorted_r: Vec<f64> = order.iter().map(|&y| reward[y]).collect();
    let mut prefix = Vec::with_capacity(order.len() + 1);
    prefix.push(0.0);
    let mut acc = 0.0;
    for &y in &order {
        acc += log_b[y].exp();
        prefix.push(acc);
    }
    let total_b = acc;
    let (mut win, mut loss, mut quality_a) = (0.0, 0.0, 0.0);
    for (y, &la) in log_a.iter().enumerate() {
        if la == f64::NEG_INFINITY {
            continue;
        }
        let pa = la.exp();
        quality_a += pa * reward[y];
        // b strictly below r_a − m: a wins.
        let below = sorted_r.partition_point(|&r| r < reward[y] - margin);
        // b strictly above r_a + m: a loses.
        let upto = sorted_r.partition_point(|&r| r <= reward[y] + margin);
        win += pa * prefix[below];
        loss += pa * (total_b - prefix[upto]);
    }
    let quality_b = crate::optimal::expectation(log_b, reward);
    HeadToHead {
        win,
        tie: (1.0 - win - loss).max(0.0),
        loss,
        quality_a,
        quality_b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::ULPS_ABS;
    use approx::assert_abs_diff_eq;

    #[test]
    fn by_hand() {
        // a = (0.5, 0.5), b = (0.25, 0.75) over rewards (0, 1).
        let la = [0.5f64.ln(), 0.5f64.ln()];
        let lb = [0.25f64.ln(), 0.75f64.ln()];
        let h = head_to_head(&la, &lb, &[0.0, 1.0], 0.0);
        assert_abs_diff_eq!(h.win, 0.5 * 0.25, epsilon = ULPS_ABS);
        assert_abs_diff_eq!(h.loss, 0.5 * 0.75, epsilon = ULPS_ABS);
        assert_abs_diff_eq!(h.tie, 0.5, epsilon = ULPS_ABS);
        let h = head_to_head(&la, &lb, &[0.0, 1.0], 1.0);
        assert_abs_diff_eq!(h.tie, 1.0, epsilon = ULPS_ABS);
    }
}

/// `compare`'s result: two methods trained on the same scenario, compared
/// exactly, averaged over seeds and prompts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CompareReport {
    /// The scenario's name.
    pub scenario: String,
    /// First method.
    pub a: &'static str,
    /// Second method.
    pub b: &'static str,
    /// Mean `P(r(y_a) > r(y_b) + m)`.
    pub win: f64,
    /// Mean tie probability.
    pub tie: f64,
    /// Mean `P(r(y_a) < r(y_b) − m)`.
    pub loss: f64,
    /// Mean `E_{π_a} r`.
    pub quality_a: f64,
    /// Mean `E_{π_b} r`.
    pub quality_b: f64,
    /// The tie margin `m`.
    pub tie_margin: f64,
    /// Seeds averaged (seed, seed + 1, …).
    pub seeds: u64,
    /// The scenario's β.
    pub beta: f64,
}

/// Most seeds `compare` averages over.
pub const MAX_SEEDS: u64 = 1000;

/// The runs of a comparison: for each seed offset, `a`'s runs then `b`'s,
/// one per prompt, without history.
pub fn compare_configs(
    scenario: &Scenario,
    a: MethodKind,
    b: MethodKind,
    seeds: u64,
) -> Vec<RunConfig> {
    (0..seeds)
        .flat_map(|s| [a, b].map(|m| seeded(scenario, m, s)).into_iter().flatten())
        .collect()
}

fn seeded(scenario: &Scenario, m: MethodKind, s: u64) -> Vec<RunConfig> {
    let mut cs = scenario.run_configs(m);
    for c in &mut cs {
        let seed = c.train.seed().wrapping_add(s);
        c.train = c.train.clone().with_seed(seed).with_log_every(0);
    }
    cs
}

/// Trains `a` and `b` with seeds `seed … seed + seeds − 1` and compares
/// their final policies exactly, prompt by prompt.
pub fn compare_over_seeds(
    scenario: &Scenario,
    a: MethodKind,
    b: MethodKind,
    margin: f64,
    seeds: u64,
    progress: &dyn Progress,
) -> Result<CompareReport> {
    if !(margin.is_finite() && margin >= 0.0) {
        return Err(Error::invalid(
            "tie_margin",
            format!(
                "must be a finite number ≥ 0, got {}",
                crate::numerics::show(margin)
            ),
        ));
    }
    if seeds == 0 || seeds > MAX_SEEDS {
        return Err(Error::invalid(
            "seeds",
            format!("must be between 1 and {MAX_SEEDS}, got {seeds}"),
        ));
    }
    let (mut win, mut tie, mut loss, mut qa, mut qb) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for s in 0..seeds {
        let oa = train_prompts_watched(&seeded(scenario, a, s), progress)?;
        let ob = train_prompts_watched(&seeded(scenario, b, s), progress)?;
        for (k, p) in scenario.prompts.iter().enumerate() {
            let h = head_to_head(
                &oa.prompts[k].final_log_probs,
                &ob.prompts[k].final_log_probs,
                &p.problem.reward,
                margin,
            );
            win += h.win;
            tie += h.tie;
            loss += h.loss;
            qa += h.quality_a;
            qb += h.quality_b;
        }
    }
    let n = (seeds as usize * scenario.prompts.len()) as f64;
    Ok(CompareReport {
        scenario: scenario.name().to_string(),
        a: a.name(),
        b: b.name(),
        win: win / n,
        tie: tie / n,
        loss: loss / n,
        quality_a: qa / n,
        quality_b: qb / n,
        tie_margin: margin,
        seeds,
        beta: scenario.train.beta,
    })
}
