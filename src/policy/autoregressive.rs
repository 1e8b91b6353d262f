//! Autoregressive tabular policy: one logit vector per prefix over the
//! vocabulary plus an end token.
//!
//! `log π(y) = Σ_t log π(y_t | y_<t) + log π(end | y)` (the end factor is 1
//! at `max_len`; the empty prefix cannot end). Gradient (docs/maths.md §3):
//! `∂log π(y)/∂θ_{p,v} = Σ_t 1[prefix_t(y) = p] · (1[y_t = v] − π(v|p))`.
//! Pushing a rejected token down at prefix `p` raises every other token at
//! `p`, which is where this class leaks mass.
//!
//! Row 0 is the empty prefix; the prefix equal to response `j` (shorter than
//! `max_len`) is row `j + 1`. Column `V` is the end token.

use std::collections::BTreeMap;

use rand::Rng;

use super::GradBuffer;
use crate::numerics::log_sum_exp;
use crate::space::ResponseSpace;

/// Per-prefix softmax over `vocab + end`.
#[derive(Debug, Clone)]
pub struct AutoregressivePolicy {
    space: ResponseSpace,
    vocab: usize,
    max_len: usize,
    logits: Vec<f64>,
    row_lse: Vec<f64>,
    ref_logits: Vec<f64>,
    ref_lse: Vec<f64>,
}

impl AutoregressivePolicy {
    /// The per-prefix conditionals of any distribution over the sequence
    /// space, so the policy starts exactly at it: with subtree masses
    /// `M(p) = Σ_{y extends p} π(y)`, `π(v|p) = M(pv)/M(p)` and
    /// `π(end|p) = π(p)/M(p)`. Rows never reached get uniform logits (they
    /// carry no mass and their gradient is zero).
    pub fn from_log_probs(space: &ResponseSpace, log_probs: &[f64]) -> Self {
        let v = space.vocab_len();
        let max_len = space.max_len();
        let n = space.len();
        // Subtree log-masses, children before parents (higher index first).
        let mut subtree = log_probs.to_vec();
        for j in (0..n).rev() {
            if let Some(p) = space.parent(j) {
                subtree[p] = log_sum_exp(&[subtree[p], subtree[j]]);
            }
        }
        let rows = 1 + Self::inner_count(space);
        let mut logits = vec![0.0; rows * (v + 1)];
        for row in 0..rows {
            let (mass, end) = if row == 0 {
                let firsts: Vec<f64> = (0..v).map(|u| subtree[u]).collect();
                (log_sum_exp(&firsts), f64::NEG_INFINITY)
            } else {
                (subtree[row - 1], log_probs[row - 1])
            };
            let base = row * (v + 1);
            if mass == f64::NEG_INFINITY {
                logits[base + v] = if row == 0 { f64::NEG_INFINITY } else { 0.0 };
                continue;
            }
            for u in 0..v {
                let child = Self::child_of(space, row, u);
                logits[base + u] = subtree[child] - mass;
            }
            logits[base + v] = end - mass;
        }
        let mut p = AutoregressivePolicy {
            space: space.clone(),
            vocab: v,
            max_len,
            ref_logits: logits.clone(),
            logits,
            row_lse: vec![0.0; rows],
            ref_lse: Vec::new(),
        };
        for r in 0..rows {
            p.refresh_row(r);
        }
        p.ref_lse = p.row_lse.clone();
        p
    }

    /// Responses shorter than `max_len` (each is a row's prefix).
    fn inner_count(space: &ResponseSpace) -> usize {
        let v = space.vocab_len();
        let mut total = 0usize;
        let mut pow = 1usize;
        for _ in 1..space.max_len() {
            pow *= v;
            total += pow;
        }
        total
    }

    /// The response reached from row `row` by token `u`.
    fn child_of(space: &ResponseSpace, row: usize, u: usize) -> usize {
        if row == 0 {
            u
        } else {
            let mut toks = space.tokens(row - 1);
            toks.push(u);
            space.index_of_tokens(&toks)
        }
    }

    fn refresh_row(&mut self, row: usize) {
        let w = self.vocab + 1;
        self.row_lse[row] = log_sum_exp(&self.logits[row * w..(row + 1) * w]);
    }

    /// Number of responses.
    pub fn len(&self) -> usize {
        self.space.len()
    }

    /// Whether there are no responses (a checked space always has some).
    pub fn is_empty(&self) -> bool {
        self.space.is_empty()
    }

    /// Number of parameters: rows × (V + 1) (masked entries included).
    pub fn num_params(&self) -> usize {
        self.logits.len()
    }

    /// The logits, row-major.
    pub fn logits(&self) -> &[f64] {
        &self.logits
    }

    /// `log π(u | row)`.
    #[inline]
    pub fn log_cond(&self, row: usize, u: usize) -> f64 {
        self.logits[row * (self.vocab + 1) + u] - self.row_lse[row]
    }

    /// Calls `f(row, token)` for every factor of response `i`, the end token
    /// included (token `V`).
    fn for_each_step(&self, i: usize, mut f: impl FnMut(usize, usize)) {
        let toks = self.space.tokens(i);
        let mut row = 0;
        for (t, &u) in toks.iter().enumerate() {
            f(row, u);
            row = if t == 0 {
                u + 1
            } else {
                self.space.index_of_tokens(&toks[..=t]) + 1
            };
        }
        if toks.len() < self.max_len {
            f(row, self.vocab);
        }
    }

    /// The change of `log π(u | row)` since the start.
    #[inline]
    fn cond_ratio(&self, row: usize, u: usize) -> f64 {
        let k = row * (self.vocab + 1) + u;
        if self.ref_logits[k] == f64::NEG_INFINITY {
            return 0.0;
        }
        (self.logits[k] - self.ref_logits[k]) - (self.row_lse[row] - self.ref_lse[row])
    }

    /// `h(y_i) = log π(y_i) − log π_ref(y_i)`, summed factor by factor so it
    /// is exactly 0 at the start.
    pub fn log_ratio(&self, i: usize) -> f64 {
        let mut h = 0.0;
        self.for_each_step(i, |row, u| h += self.cond_ratio(row, u));
        h
    }

    /// Every `h(y)` in one pass.
    pub fn log_ratios_into(&self, out: &mut [f64]) {
        out.copy_from_slice(&self.log_probs_and_ratios().1);
    }

    /// `log π(y_i)`, O(max_len).
    pub fn log_prob(&self, i: usize) -> f64 {
        let mut lp = 0.0;
        self.for_each_step(i, |row, u| lp += self.log_cond(row, u));
        lp
    }

    /// Every `log π(y)` and `h(y)` in one pass over the prefix tree, length
    /// by length (no per-response search for the parent).
    pub fn log_probs_and_ratios(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.len();
        let v = self.vocab;
        let w = v + 1;
        let offsets = self.space.offsets();
        let inner = self.row_lse.len() - 1;
        // Per row: log π(u|row) and its change since the start.
        let cond = |row: usize, u: usize| self.logits[row * w + u] - self.row_lse[row];
        let ratio = |row: usize, u: usize| self.cond_ratio(row, u);
        let mut prefix_lp = vec![0.0; inner.max(1)];
        let mut prefix_h = vec![0.0; inner.max(1)];
        let mut lp = vec![0.0; n];
        let mut h = vec![0.0; n];
        for len in 1..=self.max_len {
            let start = offsets[len - 1];
            let end = offsets[len];
            for j in start..end {
                let code = j - start;
                let (row, u, base_lp, base_h) = if len == 1 {
                    (0, code, 0.0, 0.0)
                } else {
                    let parent = offsets[len - 2] + code / v;
                    (parent + 1, code % v, prefix_lp[parent], prefix_h[parent])
                };
                let a = base_lp + cond(row, u);
                let b = base_h + ratio(row, u);
                if j < inner {
                    prefix_lp[j] = a;
                    prefix_h[j] = b;
                    lp[j] = a + cond(j + 1, v);
                    h[j] = b + ratio(j + 1, v);
                } else {
                    lp[j] = a;
                    h[j] = b;
                }
            }
        }
        (lp, h)
    }

    /// Every `log π(y)` in one pass, parents before children.
    pub fn log_probs_into(&self, out: &mut [f64]) {
        out.copy_from_slice(&self.log_probs_and_ratios().0);
    }

    /// Adds `Σ_y c_y ∂log π(y)/∂θ`: per row, `flow(p,v) − total(p)·π(v|p)`.
    pub fn accumulate_grad(&self, coefs: &[(usize, f64)], grad: &mut GradBuffer) {
        let w = self.vocab + 1;
        let mut row_total: BTreeMap<usize, f64> = BTreeMap::new();
        for &(y, c) in coefs {
            self.for_each_step(y, |row, u| {
                grad.add(row * w + u, c);
                *row_total.entry(row).or_insert(0.0) += c;
            });
        }
        for (row, total) in row_total {
            if total == 0.0 {
                continue;
            }
            for u in 0..w {
                let p = self.log_cond(row, u).exp();
                if p > 0.0 {
                    grad.add(row * w + u, -total * p);
                }
            }
        }
    }

    /// `θ_k += δ`, refreshing the touched rows' normalisers. Returns whether
    /// the touched rows are still finite.
    pub fn apply(&mut self, deltas: &[(usize, f64)]) -> bool {
        let w = self.vocab + 1;
        let mut rows: Vec<usize> = Vec::with_capacity(deltas.len());
        for &(k, d) in deltas {
            self.logits[k] += d;
            rows.push(k / w);
        }
        rows.sort_unstable();
        rows.dedup();
        let w = self.vocab + 1;
        let mut finite = true;
        for r in rows {
            self.refresh_row(r);
            finite &= self.row_lse[r].is_finite()
                && self.logits[r * w..(r + 1) * w]
                    .iter()
                    .all(|l| l.is_finite() || *l == f64::NEG_INFINITY);
        }
        finite
    }

    /// Samples token by token, O(max_len · V).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let v = self.vocab;
        let mut row = 0;
        let mut toks: Vec<usize> = Vec::with_capacity(self.max_len);
        loop {
            let u = rng.random::<f64>();
            let mut acc = 0.0;
            let mut pick = None;
            let mut last_positive = 0;
            for t in 0..=v {
                let p = self.log_cond(row, t).exp();
                if p > 0.0 {
                    last_positive = t;
                }
                acc += p;
                if u < acc && p > 0.0 {
                    pick = Some(t);
                    break;
                }
            }
            let t = pick.unwrap_or(last_positive);
            if t == v {
                return self.space.index_of_tokens(&toks);
            }
            toks.push(t);
            if toks.len() == self.max_len {
                return self.space.index_of_tokens(&toks);
            }
            row = self.space.index_of_tokens(&toks) + 1;
        }
    }

    /// Whether every logit is finite or −∞ and every row normalises.
    pub fn is_finite(&self) -> bool {
        self.row_lse.iter().all(|l| l.is_finite())
            && self
                .logits
                .iter()
                .all(|l| l.is_finite() || *l == f64::NEG_INFINITY)
    }
}
