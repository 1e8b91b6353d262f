//! Optimisers: plain gradient descent and Adam, turning a gradient into
//! parameter changes.
//!
//! `sgd` is exactly `θ ← θ − lr·∇L` (no momentum, no clipping), and
//! touches only the parameters whose gradient was touched, so a sparse DPO
//! step stays O(pairs). Adam (Kingma & Ba 2015, β1 = 0.9, β2 = 0.999,
//! ε = 1e-8) keeps moving parameters through its moments, so each of its
//! steps is O(parameters) — that cost is Adam's, not the problem's.

use crate::error::Result;
use crate::policy::GradBuffer;

/// Which optimiser (scenario `[train] optimizer`, default `sgd`).
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
#[strum(serialize_all = "lowercase")]
pub enum OptimizerKind {
    /// Plain gradient descent.
    #[default]
    #[strum(message = "plain gradient descent: theta <- theta - lr * grad")]
    Sgd,
    /// Adam.
    #[strum(message = "Adam (beta1 0.9, beta2 0.999, eps 1e-8)")]
    Adam,
}

impl OptimizerKind {
    /// Parses `sgd` or `adam`.
    pub fn parse(s: &str) -> Result<Self> {
        crate::names::parse_choice("train.optimizer", "optimizer", s)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

const ADAM_B1: f64 = 0.9;
const ADAM_B2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;

/// An optimiser with its state.
#[derive(Debug, Clone)]
pub struct Optimizer {
    kind: OptimizerKind,
    lr: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Optimizer {
    /// A fresh optimiser for `n` parameters.
    pub fn new(kind: OptimizerKind, lr: f64, n: usize) -> Self {
        let (m, v) = match kind {
            OptimizerKind::Sgd => (Vec::new(), Vec::new()),
            OptimizerKind::Adam => (vec![0.0; n], vec![0.0; n]),
        };
        Optimizer {
            kind,
            lr,
            m,
            v,
            t: 0,
        }
    }

    /// Writes the parameter changes for `grad` into `out` (cleared first).
    pub fn deltas(&mut self, grad: &GradBuffer, out: &mut Vec<(usize, f64)>) {
        out.clear();
        match self.kind {
            OptimizerKind::Sgd => {
                out.extend(grad.entries().map(|(k, g)| (k, -self.lr * g)));
            }
            OptimizerKind::Adam => {
                self.t = self.t.saturating_add(1);
                let c1 = 1.0 - ADAM_B1.powi(self.t);
                let c2 = 1.0 - ADAM_B2.powi(self.t);
                for k in 0..self.m.len() {
                    let g = grad.get(k);
                    self.m[k] = ADAM_B1 * self.m[k] + (1.0 - ADAM_B1) * g;
                    self.v[k] = ADAM_B2 * self.v[k] + (1.0 - ADAM_B2) * g * g;
                    if self.m[k] != 0.0 {
                        let step =
                            self.lr * (self.m[k] / c1) / ((self.v[k] / c2).sqrt() + ADAM_EPS);
                        out.push((k, -step));
                    }
                }
            }
        }
    }
}
