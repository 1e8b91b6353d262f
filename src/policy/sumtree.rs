//! A sum tree over `exp(logit − shift)`: the softmax normaliser and sampling
//! in O(log n) per changed logit.
//!
//! The tree is 8-ary: the eight children of a node sit in one cache line, so
//! an update or a draw touches about log₈ n lines (7 for a million leaves)
//! instead of log₂ n scattered nodes. Each internal node is recomputed as the
//! sum of its children whenever a leaf below it changes (never incremented),
//! so no rounding drift accumulates: after any number of updates every node
//! equals a fresh sum of its children. The shift keeps every weight in
//! range; when a logit rises far above it or the total sinks far below one,
//! the tree is rebuilt around the new maximum.

/// Logits may rise this far above the shift before a rebuild (e^40 ≈ 2e17
/// leaves plenty of headroom below f64's overflow).
const SHIFT_HEADROOM: f64 = 40.0;

/// Children per node.
const B: usize = 8;

/// Sums of non-negative leaf weights, level by level.
#[derive(Debug, Clone)]
pub struct SumTree {
    shift: f64,
    /// `levels[0]` are the leaves (padded with zeros to a multiple of B);
    /// the last level is the single root.
    levels: Vec<Vec<f64>>,
}

fn sum_children(children: &[f64], parent: usize) -> f64 {
    let c = &children[parent * B..parent * B + B];
    // Fixed pairwise order: the same bits whatever happened before.
    ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]))
}

impl SumTree {
    /// Builds the tree for `logits` (−∞ allowed: weight zero).
    pub fn new(logits: &[f64]) -> Self {
        let mut levels = Vec::new();
        let mut len = logits.len().max(1);
        loop {
            let padded = len.div_ceil(B) * B;
            levels.push(vec![0.0; padded]);
            len = padded / B;
            if len == 1 {
                levels.push(vec![0.0; B]);
                break;
            }
        }
        let mut t = SumTree { shift: 0.0, levels };
        t.rebuild(logits);
        t
    }

    /// Recomputes every weight around `shift = max logit`.
    pub fn rebuild(&mut self, logits: &[f64]) {
        let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        self.shift = if m.is_finite() { m } else { 0.0 };
        let leaves = &mut self.levels[0];
        leaves.iter_mut().for_each(|w| *w = 0.0);
        for (w, &l) in leaves.iter_mut().zip(logits) {
            *w = (l - self.shift).exp();
        }
        for k in 1..self.levels.len() {
            let (lower, upper) = self.levels.split_at_mut(k);
            let children = &lower[k - 1];
            for (j, node) in upper[0].iter_mut().enumerate() {
                *node = if (j + 1) * B <= children.len() {
                    sum_children(children, j)
                } else {
                    0.0
                };
            }
        }
    }

    /// The leaf weights `exp(logit − shift)`.
    pub fn leaves(&self) -> &[f64] {
        &self.levels[0]
    }

    /// `Σ_k exp(logit_k − shift)`.
    pub fn total(&self) -> f64 {
        self.levels.last().map_or(0.0, |root| root[0])
    }

    /// `log Σ_k exp(logit_k)`.
    pub fn log_total(&self) -> f64 {
        self.shift + self.total().ln()
    }

    /// Sets each leaf `k` to `exp(logit − shift)` and recomputes its
    /// ancestors, level by level so the cache misses of many leaves overlap;
    /// every ancestor is recomputed once from its final children. Returns
    /// false when the shift no longer suits the logits and the caller should
    /// [`rebuild`](Self::rebuild).
    pub fn update_many(&mut self, items: &[(usize, f64)]) -> bool {
        let mut healthy = true;
        let mut parents: Vec<usize> = Vec::with_capacity(items.len());
        for &(k, logit) in items {
            let rel = logit - self.shift;
            self.levels[0][k] = rel.exp();
            healthy &= rel <= SHIFT_HEADROOM;
            parents.push(k);
        }
        for level in 1..self.levels.len() {
            for p in parents.iter_mut() {
                *p /= B;
            }
            parents.sort_unstable();
            parents.dedup();
            let (lower, upper) = self.levels.split_at_mut(level);
            for &p in &parents {
                upper[0][p] = sum_children(&lower[level - 1], p);
            }
        }
        healthy && self.total() >= (-SHIFT_HEADROOM).exp()
    }

    /// The leaf whose cumulative weight interval holds `u · total`, for
    /// `u ∈ [0, 1)`. Zero-weight leaves are never returned.
    pub fn find(&self, u: f64) -> usize {
        let mut out = [0usize];
        self.find_many(&[u], &mut out);
        out[0]
    }

    /// [`find`](Self::find) for many `u` at once, level by level: the draws
    /// are independent, so their cache misses overlap instead of queueing
    /// (a million leaves do not fit in cache).
    pub fn find_many(&self, us: &[f64], out: &mut [usize]) {
        let total = self.total();
        let mut targets: Vec<f64> = us.iter().map(|u| u * total).collect();
        out.iter_mut().for_each(|n| *n = 0);
        for level in (0..self.levels.len() - 1).rev() {
            let nodes = &self.levels[level];
            for (node, target) in out.iter_mut().zip(targets.iter_mut()) {
                let children = &nodes[*node * B..*node * B + B];
                // The first child whose cumulative weight exceeds the
                // target, counted without branches (a zero-weight child
                // never is: its cumulative equals its left neighbour's).
                let mut cumulative = [0.0; B];
                let mut acc = 0.0;
                let mut pick = 0;
                for (c, &w) in children.iter().enumerate() {
                    acc += w;
                    cumulative[c] = acc;
                    pick += usize::from(acc <= *target);
                }
                if pick == B {
                    // Rounding pushed the target past the total: take the
                    // last child with positive weight.
                    pick = children.iter().rposition(|&w| w > 0.0).unwrap_or(0);
                }
                if pick > 0 {
                    *target -= cumulative[pick - 1];
                }
                *node = *node * B + pick;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::ROUNDING_ABS;

    #[test]
    fn total_matches_a_plain_sum_for_every_size() {
        for n in [1usize, 2, 7, 8, 9, 63, 64, 65, 1000] {
            let logits: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).cos()).collect();
            let t = SumTree::new(&logits);
            let exact = crate::numerics::log_sum_exp(&logits);
            assert!((t.log_total() - exact).abs() < ROUNDING_ABS, "n = {n}");
            for i in 0..n {
                // The midpoint of leaf i's interval finds leaf i.
                let before: f64 = logits[..i].iter().map(|l| (l - t.shift).exp()).sum();
                let w = (logits[i] - t.shift).exp();
                let total: f64 = logits.iter().map(|l| (l - t.shift).exp()).sum();
                assert_eq!(t.find((before + w / 2.0) / total), i, "n = {n}");
            }
        }
    }
}
