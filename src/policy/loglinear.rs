//! Log-linear policy over features: `π_θ(y) ∝ π_ref(y) · exp(θ·φ(y))`.
//!
//! The reference enters as a fixed offset, so `θ = 0` is exactly `π_ref` and
//! responses with zero reference probability stay at zero. Gradient
//! (docs/maths.md §3): `∂log π(y)/∂θ = φ(y) − E_π φ`. Features shared between
//! responses carry mass to responses that never appear in the data: a
//! feature the chosen answers carry ("the") lifts every response that
//! carries it.

use ndarray::{Array1, Array2};
use ndarray_rand::RandomExt;
use ndarray_rand::rand_distr::StandardNormal;
use rand::{Rng, SeedableRng};

use super::GradBuffer;
use crate::error::{Error, Result};
use crate::numerics::log_sum_exp;
use crate::problem::Problem;

/// Largest feature table (responses × features) a log-linear policy builds.
pub const MAX_FEATURE_ENTRIES: usize = 50_000_000;

/// Which features a log-linear policy uses.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureSet {
    /// Sequence spaces: any of token counts (one per token), length, and
    /// bigram counts (one per ordered token pair).
    Sequence {
        /// Count of each vocabulary token.
        tokens: bool,
        /// Number of tokens.
        length: bool,
        /// Count of each ordered pair of adjacent tokens.
        bigrams: bool,
    },
    /// Flat spaces: an explicit row of features per response.
    Explicit(Vec<Vec<f64>>),
    /// Flat spaces: `dim` standard-normal features per response, from `seed`.
    Random {
        /// Features per response.
        dim: usize,
        /// Generator seed.
        seed: u64,
    },
}

impl FeatureSet {
    /// Feature names, in column order.
    pub fn names(&self, problem: &Problem) -> Vec<String> {
        match self {
            FeatureSet::Sequence {
                tokens,
                length,
                bigrams,
            } => {
                let vocab = problem.space.vocab();
                let mut names = Vec::new();
                if *tokens {
                    names.extend(vocab.iter().map(|t| format!("count({t})")));
                }
                if *length {
                    names.push("length".into());
                }
                if *bigrams {
                    for a in vocab {
                        for b in vocab {
                            names.push(format!("count({a} {b})"));
                        }
                    }
                }
                names
            }
            FeatureSet::Explicit(rows) => (0..rows.first().map_or(0, Vec::len))
                .map(|k| format!("f{k}"))
                .collect(),
            FeatureSet::Random { dim, .. } => (0..*dim).map(|k| format!("f{k}")).collect(),
        }
    }

    /// Number of features, from the settings alone (nothing is allocated,
    /// so a huge `dim` is refused before any memory is asked for).
    pub fn dim(&self, problem: &Problem) -> usize {
        match self {
            FeatureSet::Sequence {
                tokens,
                length,
                bigrams,
            } => {
                let v = problem.space.vocab().len();
                usize::from(*tokens) * v
                    + usize::from(*length)
                    + usize::from(*bigrams) * v.saturating_mul(v)
            }
            FeatureSet::Explicit(rows) => rows.first().map_or(0, Vec::len),
            FeatureSet::Random { dim, .. } => *dim,
        }
    }

    /// The feature table, one row per response.
    pub fn table(&self, problem: &Problem) -> Result<Array2<f64>> {
        let n = problem.len();
        let space = &problem.space;
        let dim = self.dim(problem);
        if n.saturating_mul(dim.max(1)) > MAX_FEATURE_ENTRIES {
            return Err(Error::TooLarge {
                what: "log-linear feature table".into(),
                size: (n as u128) * (dim as u128),
                limit: MAX_FEATURE_ENTRIES as u128,
            });
        }
        match self {
            FeatureSet::Sequence {
                tokens,
                length,
                bigrams,
            } => {
                if !space.is_sequences() {
                    return Err(Error::invalid(
                        "policy.features",
                        "token, length and bigram features need a sequence space; give `features = [[…], …]` rows or `features = { kind = \"random\", dim = D, seed = S }` for a flat space",
                    ));
                }
                if dim == 0 {
                    return Err(Error::invalid(
                        "policy.features",
                        "must name at least one of \"tokens\", \"length\", \"bigrams\"",
                    ));
                }
                let v = space.vocab_len();
                let mut phi = Array2::zeros((n, dim));
                for y in 0..n {
                    let toks = space.tokens(y);
                    let mut col = 0;
                    if *tokens {
                        for &t in &toks {
                            phi[[y, t]] += 1.0;
                        }
                        col += v;
                    }
                    if *length {
                        phi[[y, col]] = toks.len() as f64;
                        col += 1;
                    }
                    if *bigrams {
                        for w in toks.windows(2) {
                            phi[[y, col + w[0] * v + w[1]]] += 1.0;
                        }
                    }
                }
                Ok(phi)
            }
            FeatureSet::Explicit(rows) => {
                if rows.len() != n {
                    return Err(Error::invalid(
                        "policy.features",
                        format!("has {} rows but the space has {n} responses", rows.len()),
                    ));
                }
                if dim == 0 {
                    return Err(Error::invalid(
                        "policy.features",
                        "rows must have at least one feature",
                    ));
                }
                let mut phi = Array2::zeros((n, dim));
                for (y, row) in rows.iter().enumerate() {
                    if row.len() != dim {
                        return Err(Error::invalid(
                            "policy.features",
                            format!("row {y} has {} features, row 0 has {dim}", row.len()),
                        ));
                    }
                    for (k, &x) in row.iter().enumerate() {
                        if !x.is_finite() {
                            return Err(Error::invalid(
                                "policy.features",
                                format!(
                                    "row {y}, feature {k} must be finite, got {}",
                                    crate::numerics::show(x)
                                ),
                            ));
                        }
                        phi[[y, k]] = x;
                    }
                }
                Ok(phi)
            }
            FeatureSet::Random { dim, seed } => {
                if *dim == 0 {
                    return Err(Error::invalid("policy.features.dim", "must be at least 1"));
                }
                let mut rng = rand::rngs::StdRng::seed_from_u64(*seed);
                Ok(Array2::random_using((n, *dim), StandardNormal, &mut rng))
            }
        }
    }
}

/// `π_θ(y) ∝ π_ref(y) · exp(θ·φ(y))`, with its normaliser, log-probabilities
/// and `E_π φ` recomputed after every update (the normaliser is global, so
/// each update costs O(responses × features)).
#[derive(Debug, Clone)]
pub struct LogLinearPolicy {
    base: Vec<f64>,
    features: Array2<f64>,
    feature_names: Vec<String>,
    theta: Array1<f64>,
    scores: Array1<f64>,
    log_z: f64,
    ref_log_z: f64,
    log_probs: Vec<f64>,
    mean_features: Array1<f64>,
    cumulative: Vec<f64>,
}

impl LogLinearPolicy {
    /// Starts at `θ = 0`, i.e. at `π_ref`.
    pub fn new(problem: &Problem, features: &FeatureSet) -> Result<Self> {
        let table = features.table(problem)?;
        let d = table.ncols();
        let mut p = LogLinearPolicy {
            base: problem.log_ref.clone(),
            features: table,
            feature_names: features.names(problem),
            theta: Array1::zeros(d),
            scores: Array1::zeros(problem.len()),
            log_z: 0.0,
            ref_log_z: log_sum_exp(&problem.log_ref),
            log_probs: vec![0.0; problem.len()],
            mean_features: Array1::zeros(d),
            cumulative: vec![0.0; problem.len()],
        };
        p.refresh();
        Ok(p)
    }

    fn refresh(&mut self) {
        self.scores = self.features.dot(&self.theta);
        for ((lp, b), s) in self.log_probs.iter_mut().zip(&self.base).zip(&self.scores) {
            *lp = b + s;
        }
        let z = log_sum_exp(&self.log_probs);
        self.log_z = z;
        let mut acc = 0.0;
        for (lp, c) in self.log_probs.iter_mut().zip(self.cumulative.iter_mut()) {
            *lp -= z;
            acc += lp.exp();
            *c = acc;
        }
        let probs = Array1::from_iter(self.log_probs.iter().map(|l| l.exp()));
        self.mean_features = self.features.t().dot(&probs);
    }

    /// Number of responses.
    pub fn len(&self) -> usize {
        self.base.len()
    }

    /// Whether there are no responses (a checked space always has some).
    pub fn is_empty(&self) -> bool {
        self.base.is_empty()
    }

    /// Number of features.
    pub fn num_params(&self) -> usize {
        self.theta.len()
    }

    /// The weights θ.
    pub fn theta(&self) -> &[f64] {
        self.theta
            .as_slice()
            .expect("a freshly built Array1 is contiguous")
    }

    /// Feature names, in θ order.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// `log π(y_i)`.
    pub fn log_prob(&self, i: usize) -> f64 {
        self.log_probs[i]
    }

    /// `h(y_i) = θ·φ(y_i) − (log Z − log Z_ref)`: exactly 0 at `θ = 0`
    /// (0 by convention where `π_ref = 0`).
    pub fn log_ratio(&self, i: usize) -> f64 {
        if self.base[i] == f64::NEG_INFINITY {
            return 0.0;
        }
        self.scores[i] - (self.log_z - self.ref_log_z)
    }

    /// `log π`, `h` and `π` of responses `start .. start + lp.len()`.
    pub fn fill_chunk(&self, start: usize, lp: &mut [f64], h: &mut [f64], p: &mut [f64]) {
        for k in 0..lp.len() {
            lp[k] = self.log_probs[start + k];
            h[k] = self.log_ratio(start + k);
            p[k] = lp[k].exp();
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
        out.copy_from_slice(&self.log_probs);
    }

    /// `grad_k += Σ_y c_y φ_k(y) − total · E_π φ_k`.
    pub fn accumulate_grad(&self, coefs: &[(usize, f64)], total: f64, grad: &mut GradBuffer) {
        let d = self.theta.len();
        let mut g = vec![0.0; d];
        for &(y, c) in coefs {
            for (gk, &phi) in g.iter_mut().zip(self.features.row(y)) {
                *gk += c * phi;
            }
        }
        for (k, gk) in g.into_iter().enumerate() {
            grad.add(k, gk - total * self.mean_features[k]);
        }
    }

    /// `θ_k += δ`, then recomputes the distribution. Returns whether it is
    /// still finite.
    pub fn apply(&mut self, deltas: &[(usize, f64)]) -> bool {
        for &(k, d) in deltas {
            self.theta[k] += d;
        }
        if !self.theta.iter().all(|t| t.is_finite()) {
            return false;
        }
        self.refresh();
        self.is_finite()
    }

    /// Samples by binary search in the cumulative distribution.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.random::<f64>() * total;
        let mut i = self.cumulative.partition_point(|&c| c <= u);
        if i >= self.len() {
            i = self.len() - 1;
        }
        // Skip zero-probability responses a rounding tie could land on.
        while self.log_probs[i] == f64::NEG_INFINITY && i > 0 {
            i -= 1;
        }
        i
    }

    /// Whether θ and the distribution are finite.
    pub fn is_finite(&self) -> bool {
        self.theta.iter().all(|t| t.is_finite())
            && self
                .log_probs
                .iter()
                .all(|l| l.is_finite() || *l == f64::NEG_INFINITY)
            && self.log_probs.iter().any(|l| l.is_finite())
    }
}
