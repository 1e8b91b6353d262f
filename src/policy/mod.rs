//! Parametric policies with exact log-probabilities of every response and
//! exact gradients (docs/maths.md §3).
//!
//! Every training method talks to a policy in one currency: a list of
//! coefficients `c_y` over responses. The policy turns them into the
//! parameter gradient `Σ_y c_y ∂log π(y)/∂θ`. Pair losses have `Σ_y c_y = 0`
//! exactly, which lets the tabular class skip its dense normaliser term and
//! makes a DPO step cost O(pairs), not O(responses).

mod autoregressive;
mod loglinear;
mod sumtree;
mod tabular;

pub use autoregressive::AutoregressivePolicy;
pub use loglinear::{FeatureSet, LogLinearPolicy};
pub use sumtree::SumTree;
pub use tabular::TabularPolicy;

use rand::Rng;

use crate::error::{Error, Result};
use crate::problem::Problem;

/// The policy classes by name (scenario `[policy] kind`, `--policy`).
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
#[strum(serialize_all = "kebab-case")]
pub enum PolicyClass {
    /// One logit per response.
    #[default]
    #[strum(message = "a logit per response: DPO moves only the responses in the data")]
    Tabular,
    /// One softmax per prefix (sequence spaces).
    #[strum(message = "a softmax over the next token per prefix (sequence spaces)")]
    Autoregressive,
    /// Shared features.
    #[strum(message = "pi proportional to pi_ref * exp(theta . phi(y)): shared features")]
    Loglinear,
}

/// Which policy class to build (scenario `[policy] kind`).
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyKind {
    /// One logit per response (default).
    Tabular,
    /// One logit vector per prefix over vocabulary + end (sequence spaces).
    Autoregressive,
    /// `π_θ(y) ∝ π_ref(y) · exp(θ·φ(y))` over the given features.
    LogLinear(FeatureSet),
}

impl PolicyKind {
    /// The scenario-file name of the class.
    pub fn name(&self) -> &'static str {
        match self {
            PolicyKind::Tabular => "tabular",
            PolicyKind::Autoregressive => "autoregressive",
            PolicyKind::LogLinear(_) => "loglinear",
        }
    }
}

/// A gradient over parameters: dense storage plus the list of entries that
/// were touched, so sparse updates stay sparse and their order is
/// deterministic.
#[derive(Debug, Clone, Default)]
pub struct GradBuffer {
    values: Vec<f64>,
    touched: Vec<usize>,
    marked: Vec<bool>,
}

impl GradBuffer {
    /// A zero gradient over `n` parameters.
    pub fn new(n: usize) -> Self {
        GradBuffer {
            values: vec![0.0; n],
            touched: Vec::new(),
            marked: vec![false; n],
        }
    }

    /// Adds `v` to parameter `k`.
    #[inline]
    pub fn add(&mut self, k: usize, v: f64) {
        if !self.marked[k] {
            self.marked[k] = true;
            self.touched.push(k);
        }
        self.values[k] += v;
    }

    /// The touched parameters with their gradient, in first-touch order.
    pub fn entries(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.touched.iter().map(|&k| (k, self.values[k]))
    }

    /// The gradient of parameter `k`.
    pub fn get(&self, k: usize) -> f64 {
        self.values[k]
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Resets to zero in O(touched).
    pub fn clear(&mut self) {
        for &k in &self.touched {
            self.values[k] = 0.0;
            self.marked[k] = false;
        }
        self.touched.clear();
    }

    /// The gradient as a dense vector (for tests and small models).
    pub fn to_dense(&self) -> Vec<f64> {
        self.values.clone()
    }
}

/// A policy over one prompt's responses.
#[derive(Debug, Clone)]
pub enum Policy {
    /// See [`TabularPolicy`].
    Tabular(TabularPolicy),
    /// See [`AutoregressivePolicy`].
    Autoregressive(AutoregressivePolicy),
    /// See [`LogLinearPolicy`].
    LogLinear(LogLinearPolicy),
}

impl Policy {
    /// Builds a policy of `kind` for `problem`, starting at `π_ref` where the
    /// class can represent it (tabular and autoregressive exactly; log-linear
    /// always, since it tilts the reference).
    pub fn new(kind: &PolicyKind, problem: &Problem) -> Result<Self> {
        Ok(match kind {
            PolicyKind::Tabular => Policy::Tabular(TabularPolicy::new(problem.log_ref.clone())),
            PolicyKind::Autoregressive => {
                if !problem.space.is_sequences() {
                    return Err(Error::invalid(
                        "policy.kind",
                        "\"autoregressive\" needs a sequence space (space.kind = \"sequences\")",
                    ));
                }
                Policy::Autoregressive(AutoregressivePolicy::from_log_probs(
                    &problem.space,
                    &problem.log_ref,
                ))
            }
            PolicyKind::LogLinear(features) => {
                Policy::LogLinear(LogLinearPolicy::new(problem, features)?)
            }
        })
    }

    /// Number of responses.
    pub fn len(&self) -> usize {
        match self {
            Policy::Tabular(p) => p.len(),
            Policy::Autoregressive(p) => p.len(),
            Policy::LogLinear(p) => p.len(),
        }
    }

    /// Whether there are no responses (a checked space always has some).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of parameters.
    pub fn num_params(&self) -> usize {
        match self {
            Policy::Tabular(p) => p.num_params(),
            Policy::Autoregressive(p) => p.num_params(),
            Policy::LogLinear(p) => p.num_params(),
        }
    }

    /// The parameters, flattened.
    pub fn params(&self) -> Vec<f64> {
        match self {
            Policy::Tabular(p) => p.logits(),
            Policy::Autoregressive(p) => p.logits().to_vec(),
            Policy::LogLinear(p) => p.theta().to_vec(),
        }
    }

    /// Parameter `k` (the flattened index of [`Policy::params`]).
    pub fn param(&self, k: usize) -> f64 {
        match self {
            Policy::Tabular(p) => p.logit(k),
            Policy::Autoregressive(p) => p.logits()[k],
            Policy::LogLinear(p) => p.theta()[k],
        }
    }

    /// `log π(y_i)`.
    pub fn log_prob(&self, i: usize) -> f64 {
        match self {
            Policy::Tabular(p) => p.log_prob(i),
            Policy::Autoregressive(p) => p.log_prob(i),
            Policy::LogLinear(p) => p.log_prob(i),
        }
    }

    /// `log π(y)` for every response, into `out` (resized).
    pub fn log_probs_into(&self, out: &mut Vec<f64>) {
        out.resize(self.len(), 0.0);
        match self {
            Policy::Tabular(p) => p.log_probs_into(out),
            Policy::Autoregressive(p) => p.log_probs_into(out),
            Policy::LogLinear(p) => p.log_probs_into(out),
        }
    }

    /// `h(y_i) = log π(y_i) − log π_ref(y_i)`, computed so that it is
    /// exactly 0 at the start (DPO's implicit reward is `β·h`); 0 by
    /// convention where `π_ref = 0`.
    pub fn log_ratio(&self, i: usize) -> f64 {
        match self {
            Policy::Tabular(p) => p.log_ratio(i),
            Policy::Autoregressive(p) => p.log_ratio(i),
            Policy::LogLinear(p) => p.log_ratio(i),
        }
    }

    /// `h(y)` for every response.
    pub fn log_ratios(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.len()];
        match self {
            Policy::Tabular(p) => p.log_ratios_into(&mut out),
            Policy::Autoregressive(p) => p.log_ratios_into(&mut out),
            Policy::LogLinear(p) => p.log_ratios_into(&mut out),
        }
        out
    }

    /// `(log π(y), h(y))` for every response (one pass for the
    /// autoregressive class).
    pub fn log_probs_and_ratios(&self) -> (Vec<f64>, Vec<f64>) {
        match self {
            Policy::Autoregressive(p) => p.log_probs_and_ratios(),
            _ => (self.log_probs(), self.log_ratios()),
        }
    }

    /// `log π(y)` for every response.
    pub fn log_probs(&self) -> Vec<f64> {
        let mut v = Vec::new();
        self.log_probs_into(&mut v);
        v
    }

    /// Adds `Σ_y c_y ∂log π(y)/∂θ` to `grad`. `total` must be `Σ_y c_y` in
    /// exact arithmetic (0 for pair losses), so classes whose normaliser term
    /// is `−total · π` can skip it when it vanishes.
    pub fn accumulate_grad(&self, coefs: &[(usize, f64)], total: f64, grad: &mut GradBuffer) {
        match self {
            Policy::Tabular(p) => p.accumulate_grad(coefs, total, grad),
            Policy::Autoregressive(p) => p.accumulate_grad(coefs, grad),
            Policy::LogLinear(p) => p.accumulate_grad(coefs, total, grad),
        }
    }

    /// `θ_k += δ` for each `(k, δ)` (each `k` at most once). Returns false
    /// when a parameter or normaliser stopped being finite (the policy is
    /// then unusable and training must stop).
    pub fn apply(&mut self, deltas: &[(usize, f64)]) -> bool {
        match self {
            Policy::Tabular(p) => p.apply(deltas),
            Policy::Autoregressive(p) => p.apply(deltas),
            Policy::LogLinear(p) => p.apply(deltas),
        }
    }

    /// Draws one response from the current policy.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        match self {
            Policy::Tabular(p) => p.sample(rng),
            Policy::Autoregressive(p) => p.sample(rng),
            Policy::LogLinear(p) => p.sample(rng),
        }
    }

    /// Draws `out.len()` independent responses (for the tabular class, all
    /// at once so the sum-tree descents overlap in memory).
    pub fn sample_many<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [usize]) {
        match self {
            Policy::Tabular(p) => p.sample_many(rng, out),
            _ => out.iter_mut().for_each(|y| *y = self.sample(rng)),
        }
    }

    /// Whether every parameter that should be finite is.
    pub fn is_finite(&self) -> bool {
        match self {
            Policy::Tabular(p) => p.is_finite(),
            Policy::Autoregressive(p) => p.is_finite(),
            Policy::LogLinear(p) => p.is_finite(),
        }
    }
}
