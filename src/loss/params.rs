//! The loss family's hyper-parameters and their defaults.

/// The loss family's hyper-parameters (scenario `[train]`, TRL's names),
/// with their defaults: TRL's wherever TRL has the parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossParams {
    /// `label_smoothing` ε of `cdpo`, `robust`, `exo_pair`, `simpo` and
    /// `cpo`; unset means TRL's default 0, except for `exo_pair`, whose loss
    /// is infinite at ε = 0 (in TRL too) and which then takes
    /// [`EXO_DEFAULT_EPSILON`], the value TRL's docs recommend.
    pub label_smoothing: Option<f64>,
    /// `discopop_tau` τ (default 0.05, TRL's).
    pub discopop_tau: f64,
    /// `simpo_gamma` γ, SimPO's target margin (default 0.5, TRL's).
    pub simpo_gamma: f64,
    /// `rpo_alpha` α, the weight of RPO's NLL term (default 1.0: TRL ≥ 0.29
    /// writes RPO as `loss_type=["sigmoid","sft"]`, whose `loss_weights`
    /// default to 1; the RPO paper's value).
    pub rpo_alpha: f64,
    /// `cpo_alpha`, the weight of CPO's NLL term (default 1.0, TRL's
    /// `CPOConfig`).
    pub cpo_alpha: f64,
    /// `rdpo_alpha` α, R-DPO's length penalty (default 0.05; TRL has no
    /// R-DPO).
    pub rdpo_alpha: f64,
    /// `dpop_lambda` λ, DPO-Positive's penalty (default 50, Pal et al.).
    pub dpop_lambda: f64,
    /// `orpo_lambda` λ, the odds-ratio weight (TRL's `ORPOConfig.beta`,
    /// default 0.1).
    pub orpo_lambda: f64,
    /// `desirable_weight` of KTO (default 1).
    pub desirable_weight: f64,
    /// `undesirable_weight` of KTO (default 1).
    pub undesirable_weight: f64,
}

impl Default for LossParams {
    fn default() -> Self {
        LossParams {
            label_smoothing: None,
            discopop_tau: 0.05,
            simpo_gamma: 0.5,
            rpo_alpha: 1.0,
            cpo_alpha: 1.0,
            rdpo_alpha: 0.05,
            dpop_lambda: 50.0,
            orpo_lambda: 0.1,
            desirable_weight: 1.0,
            undesirable_weight: 1.0,
        }
    }
}

/// `train.label_smoothing` when a file omits it (TRL's default).
pub const DEFAULT_LABEL_SMOOTHING: f64 = 0.0;

/// `exo_pair`'s ε when a file omits `label_smoothing` (TRL's docs and the
/// EXO paper suggest 1e-3; TRL's default 0 makes the loss infinite).
pub const EXO_DEFAULT_EPSILON: f64 = 1e-3;
