//! A sum tree over `exp(logit − shift)`: the softmax normaliser and sampling
//! in O(log n) per changed logit.
//!
//! Each internal node is recomputed as `left + right` whenever a leaf below
//! it changes (never incremented), so no rounding drift accumulates: after
//! any number of updates the root equals a fresh pairwise sum of the leaves.
//! The shift keeps every weight in range; when a logit rises far above it or
//! the total sinks far below one, the tree is rebuilt around the new maximum.

/// Logits may rise this far above the shift before a rebuild (e^40 ≈ 2e17
/// leaves plenty of headroom below f64's overflow).
const SHIFT_HEADROOM: f64 = 40.0;

/// A complete binary tree of non-negative leaf weights.
#[derive(Debug, Clone)]
pub struct SumTree {
    shift: f64,
    leaves: usize,
    nodes: Vec<f64>,
}

impl SumTree {
    /// Builds the tree for `logits` (−∞ allowed: weight zero).
    pub fn new(logits: &[f64]) -> Self {
        let leaves = logits.len().next_power_of_two().max(1);
        let mut t = SumTree {
            shift: 0.0,
            leaves,
            nodes: vec![0.0; 2 * leaves],
        };
        t.rebuild(logits);
        t
    }

    /// Recomputes every weight around `shift = max logit`.
    pub fn rebuild(&mut self, logits: &[f64]) {
        let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        self.shift = if m.is_finite() { m } else { 0.0 };
        for (k, &l) in logits.iter().enumerate() {
            self.nodes[self.leaves + k] = (l - self.shift).exp();
        }
        for k in (1..self.leaves).rev() {
            self.nodes[k] = self.nodes[2 * k] + self.nodes[2 * k + 1];
        }
    }

    /// `log Σ_k exp(logit_k)`.
    pub fn log_total(&self) -> f64 {
        self.shift + self.nodes[1].ln()
    }

    /// Sets leaf `k` to `exp(logit − shift)` and recomputes its ancestors.
    /// Returns false when the shift no longer suits the logits and the
    /// caller should [`rebuild`](Self::rebuild).
    pub fn update(&mut self, k: usize, logit: f64) -> bool {
        let rel = logit - self.shift;
        let mut i = self.leaves + k;
        self.nodes[i] = rel.exp();
        while i > 1 {
            i /= 2;
            self.nodes[i] = self.nodes[2 * i] + self.nodes[2 * i + 1];
        }
        rel <= SHIFT_HEADROOM && self.nodes[1] >= (-SHIFT_HEADROOM).exp()
    }

    /// The leaf whose cumulative weight interval holds `u · total`, for
    /// `u ∈ [0, 1)`. Zero-weight leaves are never returned.
    pub fn find(&self, u: f64) -> usize {
        let mut target = u * self.nodes[1];
        let mut i = 1;
        while i < self.leaves {
            let left = self.nodes[2 * i];
            let right = self.nodes[2 * i + 1];
            if target < left || right <= 0.0 {
                i *= 2;
            } else {
                target -= left;
                i = 2 * i + 1;
            }
        }
        i - self.leaves
    }
}
