//! Reward models fit by maximum Bradley–Terry likelihood (docs/maths.md §2).
//!
//! `L(φ) = Σ_{(i,j)} W_ij · softplus(−(r_φ(i) − r_φ(j)))`, minimised by
//! full-batch gradient descent from `r_φ = 0`. A tabular model has one value
//! per response (responses never in a pair keep 0); a log-linear model
//! `r_φ(y) = w·φ(y)` generalises along shared features, length included —
//! which is how it learns an annotator's length bias.

use ndarray::{Array1, Array2};

use crate::data::{Pair, PairData};
use crate::error::{Error, Result};
use crate::loss::{bradley_terry_nll, bradley_terry_nll_derivative};
use crate::policy::FeatureSet;
use crate::problem::Problem;

/// The reward-model classes by name (scenario `[rlhf] reward_model`).
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
pub enum RewardModelClass {
    /// One value per response.
    #[default]
    #[strum(message = "one learned value per response")]
    Tabular,
    /// Shared features.
    #[strum(message = "w . phi(y) over shared features")]
    Loglinear,
}

/// Which reward model (scenario `[rlhf] reward_model`).
#[derive(Debug, Clone, PartialEq)]
pub enum RewardModelKind {
    /// One value per response.
    Tabular,
    /// `w·φ(y)` over these features.
    LogLinear(FeatureSet),
}

/// Checked fitting settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitSettings {
    /// Gradient steps (default 2000).
    pub steps: usize,
    /// Step size (default 1.0).
    pub lr: f64,
    /// L2 penalty on the parameters (default 0): keeps deterministic
    /// preferences, whose likelihood has no maximum, finite.
    pub l2: f64,
}

impl Default for FitSettings {
    /// The defaults for the `[rlhf] rm_*` keys a file omits.
    fn default() -> Self {
        FitSettings {
            steps: 2000,
            lr: 1.0,
            l2: 0.0,
        }
    }
}

/// A reward model's training metrics, as reward-model trainers log them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitMetrics {
    /// Gradient steps taken.
    pub step: usize,
    /// Bradley–Terry negative log-likelihood (plus the L2 term).
    pub loss: f64,
    /// `Σ W_ij [r(i) > r(j)]`.
    pub accuracy: f64,
    /// `Σ W_ij (r(i) − r(j))`.
    pub margin: f64,
    /// Mean learned reward of the responses in the data (W-weighted).
    pub mean_reward: f64,
}

/// A fitted reward model.
#[derive(Debug, Clone)]
pub struct RewardModel {
    kind: RewardModelKind,
    features: Option<Array2<f64>>,
    params: Array1<f64>,
    values: Vec<f64>,
    /// Metrics at the start and every 10% of the fit, and at the end.
    pub history: Vec<FitMetrics>,
}

impl RewardModel {
    /// Fits by gradient descent on the data's pairs.
    pub fn fit(
        problem: &Problem,
        data: &PairData,
        kind: &RewardModelKind,
        s: FitSettings,
    ) -> Result<Self> {
        let n = problem.len();
        let features = match kind {
            RewardModelKind::Tabular => None,
            RewardModelKind::LogLinear(f) => Some(f.table(problem)?),
        };
        let d = features.as_ref().map_or(n, |f| f.ncols());
        let mut m = RewardModel {
            kind: kind.clone(),
            features,
            params: Array1::zeros(d),
            values: vec![0.0; n],
            history: Vec::new(),
        };
        let every = (s.steps / 10).max(1);
        for step in 0..=s.steps {
            let fm = m.metrics(data, s.l2, step);
            if !fm.loss.is_finite() {
                return Err(Error::Diverged {
                    step,
                    what: "the reward model's loss is no longer finite (lower rlhf.rm_lr or rlhf.rm_l2)".into(),
                });
            }
            if step % every == 0 || step == s.steps {
                m.history.push(fm);
            }
            if step == s.steps {
                break;
            }
            let (_, grad) = m.objective(data, s.l2);
            m.params = &m.params - &(grad * s.lr);
            m.refresh();
        }
        Ok(m)
    }

    /// A model at given parameters (one per response for tabular, one per
    /// feature for log-linear), as `fit` would hold it mid-way.
    pub fn with_params(
        problem: &Problem,
        kind: &RewardModelKind,
        params: Vec<f64>,
    ) -> Result<Self> {
        let features = match kind {
            RewardModelKind::Tabular => None,
            RewardModelKind::LogLinear(f) => Some(f.table(problem)?),
        };
        let d = features.as_ref().map_or(problem.len(), |f| f.ncols());
        if params.len() != d {
            return Err(Error::invalid(
                "rlhf.reward_model",
                format!("needs {d} parameters, got {}", params.len()),
            ));
        }
        let mut m = RewardModel {
            kind: kind.clone(),
            features,
            params: Array1::from(params),
            values: vec![0.0; problem.len()],
            history: Vec::new(),
        };
        m.refresh();
        Ok(m)
    }

    /// The fitting objective `L(φ) = Σ W_ij·(−log σ(r_φ(i) − r_φ(j))) +
    /// l2·‖φ‖²` and its gradient in the parameters:
    /// `∂L/∂r(y) = Σ_{(y,j)} W·(σ(d) − 1) − Σ_{(i,y)} W·(σ(d) − 1)`, chained
    /// through `r_φ = Φφ` for log-linear models, plus `2·l2·φ`.
    pub fn objective(&self, data: &PairData, l2: f64) -> (f64, Array1<f64>) {
        let mut coef = vec![0.0; self.values.len()];
        for &Pair {
            chosen: i,
            rejected: j,
            weight: w,
        } in &data.pairs
        {
            if i == j {
                continue;
            }
            let g = w * bradley_terry_nll_derivative(self.values[i] - self.values[j]);
            coef[i] += g;
            coef[j] -= g;
        }
        let coef = Array1::from(coef);
        let grad = match &self.features {
            None => coef,
            Some(phi) => phi.t().dot(&coef),
        };
        let loss = self.metrics(data, l2, 0).loss;
        (loss, grad + &(&self.params * (2.0 * l2)))
    }

    /// The parameters.
    pub fn params(&self) -> &[f64] {
        self.params
            .as_slice()
            .expect("a freshly built Array1 is contiguous")
    }

    fn refresh(&mut self) {
        match &self.features {
            None => self.values.copy_from_slice(
                self.params
                    .as_slice()
                    .expect("a freshly built Array1 is contiguous"),
            ),
            Some(phi) => {
                let v = phi.dot(&self.params);
                self.values
                    .copy_from_slice(v.as_slice().expect("contiguous"));
            }
        }
    }

    fn metrics(&self, data: &PairData, l2: f64, step: usize) -> FitMetrics {
        let (mut loss, mut acc, mut margin, mut mean) = (0.0, 0.0, 0.0, 0.0);
        for &Pair {
            chosen: i,
            rejected: j,
            weight: w,
        } in &data.pairs
        {
            let d = self.values[i] - self.values[j];
            loss += w * bradley_terry_nll(d);
            if d > 0.0 {
                acc += w;
            }
            margin += w * d;
            mean += w * 0.5 * (self.values[i] + self.values[j]);
        }
        loss += l2 * self.params.dot(&self.params);
        FitMetrics {
            step,
            loss,
            accuracy: acc,
            margin,
            mean_reward: mean,
        }
    }

    /// `r_φ(y)` for every response.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The model's kind.
    pub fn kind(&self) -> &RewardModelKind {
        &self.kind
    }

    /// The final fit metrics.
    pub fn final_metrics(&self) -> FitMetrics {
        *self
            .history
            .last()
            .expect("fit always records the last step")
    }
}
