//! Exact head-to-head comparison of two policies under the true reward, in
//! the form of the OAIF table (SCIENCE §4): for independent `y_a ~ π_a`,
//! `y_b ~ π_b`, `win = P(r(y_a) > r(y_b) + m)`, `tie = P(|r(y_a) − r(y_b)| ≤ m)`,
//! `loss` the rest. Computed exactly in O(n log n) by sorting rewards, not
//! by sampling.

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

    #[test]
    fn by_hand() {
        // a = (0.5, 0.5), b = (0.25, 0.75) over rewards (0, 1).
        let la = [0.5f64.ln(), 0.5f64.ln()];
        let lb = [0.25f64.ln(), 0.75f64.ln()];
        let h = head_to_head(&la, &lb, &[0.0, 1.0], 0.0);
        assert!((h.win - 0.5 * 0.25).abs() < 1e-15);
        assert!((h.loss - 0.5 * 0.75).abs() < 1e-15);
        assert!((h.tie - 0.5).abs() < 1e-15);
        let h = head_to_head(&la, &lb, &[0.0, 1.0], 1.0);
        assert!((h.tie - 1.0).abs() < 1e-15);
    }
}
