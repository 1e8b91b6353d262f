//! Stable scalar and vector kernels used everywhere: log-sum-exp, the
//! logistic function and its logarithm, KL divergences over log-probabilities.
//!
//! All probabilities in DPO Lab live in log space; these are the only places
//! that exponentiate.

/// `log Σ exp(x_i)`, shifted by the maximum so nothing overflows.
/// Returns −∞ for an empty slice or when every entry is −∞.
pub fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if m == f64::INFINITY {
        return f64::INFINITY;
    }
    let s: f64 = xs.iter().map(|&x| (x - m).exp()).sum();
    m + s.ln()
}

/// The logistic function `σ(t) = 1 / (1 + e^−t)`, evaluated on the side that
/// does not overflow.
pub fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

/// `softplus(t) = log(1 + e^t)`, stable for all `t`
/// (`max(t, 0) + log1p(e^−|t|)`, the standard rewriting).
pub fn softplus(t: f64) -> f64 {
    t.max(0.0) + (-t.abs()).exp().ln_1p()
}

/// `log σ(t) = −softplus(−t)`, never computed as `ln(sigmoid(t))`, which
/// underflows to −∞ for large negative `t`.
pub fn log_sigmoid(t: f64) -> f64 {
    -softplus(-t)
}

/// `KL(p ‖ q) = Σ_{p>0} p (log p − log q)` from log-probabilities.
/// Terms with `p = 0` contribute nothing; a `p > 0` where `q = 0` gives +∞.
pub fn kl_from_logs(log_p: &[f64], log_q: &[f64]) -> f64 {
    log_p
        .iter()
        .zip(log_q)
        .filter(|(lp, _)| **lp > f64::NEG_INFINITY)
        .map(|(&lp, &lq)| lp.exp() * (lp - lq))
        .sum()
}

/// Normalises log-weights in place to log-probabilities and returns the
/// log-normaliser.
pub fn log_normalize(xs: &mut [f64]) -> f64 {
    let z = log_sum_exp(xs);
    for x in xs.iter_mut() {
        *x -= z;
    }
    z
}

/// Neumaier's compensated sum (an improved Kahan summation): the error
/// stays at a few ulps of the result however many terms are added. The
/// plain reference evaluation uses it so fast paths can be checked against
/// a sum that is itself accurate.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    /// Adds `x`.
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The sum so far.
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// A number for an error message: plain when moderate, scientific when
/// huge or tiny (`1e308`, not 309 digits).
pub fn show(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// `π = p (π_ref = q, ×p/q)` for a probability beside its reference, with
/// `decimals` decimals; a tiny nonzero probability (under 1e-4, where the
/// decimals would print only zeros) in exponent form with `decimals − 3`
/// digits, and no ratio where the reference is 0. The command line's and
/// the app's `ood_top` lines.
pub fn probability_beside_reference(p: f64, reference: f64, decimals: usize) -> String {
    let text = |v: f64| {
        if v != 0.0 && v < 1e-4 {
            format!("{v:.*e}", decimals.saturating_sub(3))
        } else {
            format!("{v:.decimals$}")
        }
    };
    let ratio = if reference > 0.0 {
        format!(", {}", ratio(p / reference))
    } else {
        String::new()
    };
    format!("π = {} (π_ref = {}{ratio})", text(p), text(reference))
}

/// A probability ratio π/π_ref as the app and the figures print it:
/// `×68.92`, `×0.97`, and in exponent form outside 0.01…10,000.
pub fn ratio(r: f64) -> String {
    if !r.is_finite() {
        "×–".into()
    } else if (0.01..1e4).contains(&r) {
        format!("×{r:.2}")
    } else {
        format!("×{r:.2e}")
    }
}

/// A tick label with at most 4 significant digits, trailing zeros dropped
/// (`0.8`, `1`, `0.0137`), and no "-0".
pub fn tick(v: f64) -> String {
    if !v.is_finite() || v.abs() < 1e-12 {
        return "0".into();
    }
    let decimals = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::{ROUNDING_ABS, ULPS_ABS};
    use approx::assert_abs_diff_eq;

    #[test]
    fn log_sigmoid_is_finite_far_out() {
        // ln(sigmoid(-800)) would be ln(0) = -inf.
        assert_abs_diff_eq!(log_sigmoid(-800.0), -800.0, epsilon = ROUNDING_ABS);
        assert!(log_sigmoid(800.0).abs() < 1e-300);
        assert_abs_diff_eq!(sigmoid(0.0), 0.5, epsilon = ULPS_ABS);
    }

    #[test]
    fn log_sum_exp_by_hand() {
        let v = log_sum_exp(&[0.0, 0.0]);
        assert_abs_diff_eq!(v, 2f64.ln(), epsilon = ULPS_ABS);
        assert_eq!(log_sum_exp(&[f64::NEG_INFINITY]), f64::NEG_INFINITY);
        assert_abs_diff_eq!(
            log_sum_exp(&[1000.0, 1000.0]),
            (1000.0 + 2f64.ln()),
            epsilon = ROUNDING_ABS
        );
    }

    #[test]
    fn softplus_matches_definition() {
        for t in [-5.0, -0.5, 0.0, 0.5, 5.0] {
            let direct = (1.0 + f64::exp(t)).ln();
            assert_abs_diff_eq!(softplus(t), direct, epsilon = ROUNDING_ABS);
        }
    }
}
