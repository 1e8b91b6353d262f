//! Tabular softmax: one logit per response, `π(y) = exp(θ_y) / Σ exp(θ)`.
//!
//! Gradient (docs/maths.md §3): `∂log π(y)/∂θ_k = 1[k=y] − π(k)`, so
//! `Σ_y c_y ∂log π(y)/∂θ_k = c_k − π(k)·Σ_y c_y`. For pair losses the sum is
//! zero and only the logits named in pairs move. The normaliser lives in a
//! [`SumTree`], so reading `log π(y)`, changing a logit and sampling all cost
//! O(log n) however large the space.

use rand::Rng;

use super::{GradBuffer, SumTree};

/// One logit per response; starts at `θ = log π_ref` (−∞ stays −∞).
#[derive(Debug, Clone)]
pub struct TabularPolicy {
    /// `[θ_y, θ_ref,y]` side by side: reading a log-ratio costs one cache
    /// line, which matters at a million responses.
    entries: Vec<[f64; 2]>,
    tree: SumTree,
    log_z: f64,
    ref_log_z: f64,
}

impl TabularPolicy {
    /// A tabular policy with these logits, which are also its reference.
    pub fn new(logits: Vec<f64>) -> Self {
        let reference = logits.clone();
        Self::with_reference(logits, reference)
    }

    /// A tabular policy with `logits`, measuring log-ratios against the
    /// softmax of `ref_logits` (same length; −∞ where both are zero).
    pub fn with_reference(logits: Vec<f64>, ref_logits: Vec<f64>) -> Self {
        let tree = SumTree::new(&logits);
        let log_z = tree.log_total();
        let ref_log_z = if ref_logits == logits {
            log_z
        } else {
            SumTree::new(&ref_logits).log_total()
        };
        TabularPolicy {
            entries: logits
                .iter()
                .zip(&ref_logits)
                .map(|(&a, &b)| [a, b])
                .collect(),
            tree,
            log_z,
            ref_log_z,
        }
    }

    /// Number of responses.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no responses (a checked space always has some).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of parameters (= responses).
    pub fn num_params(&self) -> usize {
        self.entries.len()
    }

    /// The logits θ.
    pub fn logits(&self) -> Vec<f64> {
        self.entries.iter().map(|e| e[0]).collect()
    }

    /// Logit `k`.
    pub fn logit(&self, k: usize) -> f64 {
        self.entries[k][0]
    }

    /// `log Σ exp(θ)`.
    pub fn log_normalizer(&self) -> f64 {
        self.log_z
    }

    /// `log π(y_i) = θ_i − log Z`.
    #[inline]
    pub fn log_prob(&self, i: usize) -> f64 {
        self.entries[i][0] - self.log_z
    }

    /// `h(y_i) = log π(y_i) − log π_ref(y_i)`, computed as
    /// `(θ_i − θ_ref,i) − (log Z − log Z_ref)` so it is exactly 0 at the start
    /// (0 by convention where `π_ref = 0`).
    #[inline]
    pub fn log_ratio(&self, i: usize) -> f64 {
        let [l, r] = self.entries[i];
        if r == f64::NEG_INFINITY {
            return 0.0;
        }
        (l - r) - (self.log_z - self.ref_log_z)
    }

    /// `log π`, `h` and `π` of responses `start .. start + lp.len()` in one
    /// pass, without a transcendental: `π(y)` is the sum tree's leaf weight
    /// over its total.
    pub fn fill_chunk(&self, start: usize, lp: &mut [f64], h: &mut [f64], p: &mut [f64]) {
        let dz = self.log_z - self.ref_log_z;
        let inv_total = 1.0 / self.tree.total();
        let end = start + lp.len();
        let entries = &self.entries[start..end];
        let leaves = &self.tree.leaves()[start..end];
        for k in 0..lp.len() {
            let [l, r] = entries[k];
            lp[k] = l - self.log_z;
            h[k] = if r == f64::NEG_INFINITY {
                0.0
            } else {
                (l - r) - dz
            };
            p[k] = leaves[k] * inv_total;
        }
    }

    /// Every `h(y)`.
    pub fn log_ratios_into(&self, out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.log_ratio(i);
        }
    }

    /// Every `log π(y)`.
    pub fn log_probs_into(&self, out: &mut [f64]) {
        let z = self.log_z;
        for (o, &[l, _]) in out.iter_mut().zip(&self.entries) {
            *o = l - z;
        }
    }

    /// `grad_k += c_k − π(k)·total`.
    pub fn accumulate_grad(&self, coefs: &[(usize, f64)], total: f64, grad: &mut GradBuffer) {
        for &(y, c) in coefs {
            grad.add(y, c);
        }
        if total != 0.0 {
            for k in 0..self.entries.len() {
                let p = self.log_prob(k).exp();
                if p > 0.0 {
                    grad.add(k, -total * p);
                }
            }
        }
    }

    /// `θ_k += δ`, keeping the normaliser exact. Returns whether the
    /// touched logits and the normaliser are still finite (O(touched)).
    pub fn apply(&mut self, deltas: &[(usize, f64)]) -> bool {
        let mut finite = true;
        let mut leaves = Vec::with_capacity(deltas.len());
        for &(k, d) in deltas {
            self.entries[k][0] += d;
            let l = self.entries[k][0];
            finite &= l.is_finite() || l == f64::NEG_INFINITY;
            leaves.push((k, l));
        }
        if !finite {
            return false;
        }
        let healthy = self.tree.update_many(&leaves);
        if !healthy {
            self.tree.rebuild(&self.logits());
        }
        self.log_z = self.tree.log_total();
        self.log_z.is_finite()
    }

    /// Draws a response in O(log n).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        self.tree.find(rng.random::<f64>())
    }

    /// Draws `out.len()` responses, all descents interleaved.
    pub fn sample_many<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [usize]) {
        let us: Vec<f64> = (0..out.len()).map(|_| rng.random::<f64>()).collect();
        self.tree.find_many(&us, out);
    }

    /// Whether every logit is finite or −∞ and the normaliser is finite.
    pub fn is_finite(&self) -> bool {
        self.log_z.is_finite()
            && self
                .entries
                .iter()
                .all(|[l, _]| l.is_finite() || *l == f64::NEG_INFINITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numerics::log_sum_exp;
    use crate::tolerance::{FAST_PATH_REL, close};
    use rand::SeedableRng;

    #[test]
    fn normaliser_stays_exact_after_many_updates() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let logits: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
        let mut p = TabularPolicy::new(logits);
        for step in 0..20_000 {
            let k = rng.random_range(0..1000);
            let d = rng.random_range(-2.0..2.0) * if step % 1000 == 0 { 30.0 } else { 1.0 };
            p.apply(&[(k, d)]);
        }
        let exact = log_sum_exp(&p.logits());
        assert!(close(p.log_normalizer(), exact, FAST_PATH_REL, 0.0));
    }

    #[test]
    fn zero_probability_is_never_sampled() {
        let p = TabularPolicy::new(vec![0.0, f64::NEG_INFINITY, 0.0, f64::NEG_INFINITY]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..2000 {
            let y = p.sample(&mut rng);
            assert!(y == 0 || y == 2);
        }
        assert!(p.tree.find(0.999_999_999_999) == 2);
    }
}
