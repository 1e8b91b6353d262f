//! The preference-loss family and its derivatives, side by side
//! (docs/maths.md §3 and §5), under the names Hugging Face TRL's
//! `DPOTrainer` (and its CPO, KTO and ORPO trainers) uses for `loss_type`.
//!
//! Notation, per pair (chosen `w`, rejected `l`): `ℓ = log π(y)`,
//! `ρ = ℓ − log π_ref(y)` (the implicit reward is `β·ρ`), `Δ = ρ_w − ρ_l`,
//! `|y|` the response's length in tokens (1 on flat spaces), an overbar a
//! per-token average (`ρ̄ = ρ/|y|`, `Δ̄ = ρ̄_w − ρ̄_l`), NLL the chosen
//! response's per-token negative log-likelihood `−ℓ_w/|y_w|`.
//!
//! Every loss returns its value and its partial derivatives in `ℓ_w` and
//! `ℓ_l` (equal to those in `ρ_w`, `ρ_l`: the reference is a constant);
//! the trainer multiplies them into `∂log π/∂θ`. Each is checked against
//! central finite differences for every policy class (`tests/gradients.rs`)
//! and, where one is known, converges to its fixed point on one pair
//! (`tests/losses.rs`). The Bradley–Terry likelihood of a reward model is
//! the DPO loss with `β = 1` applied to reward differences.

use crate::error::{Error, Result};
use crate::numerics::{log_sigmoid, sigmoid, softplus};

/// The loss family's hyper-parameters (scenario `[train]`, TRL's names),
/// with their defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossParams {
    /// `label_smoothing` ε of `cdpo`, `robust` and `exo_pair` (default 0.1).
    pub label_smoothing: f64,
    /// `discopop_tau` τ (default 0.05, TRL's).
    pub discopop_tau: f64,
    /// `simpo_gamma` γ, SimPO's target margin (default 0.5, TRL's).
    pub simpo_gamma: f64,
    /// `rpo_alpha` α, the weight of RPO's NLL term (default 1.0).
    pub rpo_alpha: f64,
    /// `rdpo_alpha` α, R-DPO's length penalty (default 0.05).
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
            label_smoothing: DEFAULT_LABEL_SMOOTHING,
            discopop_tau: 0.05,
            simpo_gamma: 0.5,
            rpo_alpha: 1.0,
            rdpo_alpha: 0.05,
            dpop_lambda: 50.0,
            orpo_lambda: 0.1,
            desirable_weight: 1.0,
            undesirable_weight: 1.0,
        }
    }
}

/// `train.label_smoothing` when a file omits it.
pub const DEFAULT_LABEL_SMOOTHING: f64 = 0.1;

/// The losses by name (scenario `[train] loss`, `--loss`), with TRL's
/// `loss_type` names as aliases where ours differ.
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
pub enum LossName {
    /// DPO.
    #[default]
    #[strum(
        to_string = "dpo",
        serialize = "sigmoid",
        message = "-log sigma(beta D) (TRL: sigmoid; Rafailov et al. 2023)"
    )]
    Dpo,
    /// IPO.
    #[strum(
        to_string = "ipo",
        message = "(mean-per-token D - 1/(2 beta))^2 (Azar et al. 2023)"
    )]
    Ipo,
    /// Hinge.
    #[strum(
        to_string = "hinge",
        serialize = "slic",
        message = "max(0, 1 - beta D) (SLiC, Zhao et al. 2023)"
    )]
    Hinge,
    /// Conservative DPO.
    #[strum(
        to_string = "cdpo",
        serialize = "conservative",
        message = "(1-e) softplus(-beta D) + e softplus(beta D), e = label_smoothing (TRL: sigmoid with label_smoothing; Mitchell 2023)"
    )]
    Cdpo,
    /// Robust DPO.
    #[strum(
        to_string = "robust",
        message = "[-(1-e) log sigma(beta D) + e log sigma(-beta D)] / (1 - 2e) (rDPO, Chowdhury et al. 2024)"
    )]
    Robust,
    /// EXO.
    #[strum(
        to_string = "exo_pair",
        message = "KL(q || labels) with q = sigma(+-beta D), 0 < e < 1 (EXO, Ji et al. 2024)"
    )]
    ExoPair,
    /// NCA.
    #[strum(
        to_string = "nca_pair",
        message = "-log sigma(beta rho_w) - 1/2 log sigma(-beta rho_w) - 1/2 log sigma(-beta rho_l) (NCA, Chen et al. 2024)"
    )]
    NcaPair,
    /// BCO.
    #[strum(
        to_string = "bco_pair",
        message = "-log sigma(beta rho_w) - log sigma(-beta rho_l) (BCO, Jung et al. 2024)"
    )]
    BcoPair,
    /// SPPO.
    #[strum(
        to_string = "sppo_hard",
        message = "(rho_w - 1/(2 beta))^2 + (rho_l + 1/(2 beta))^2 (SPPO, Wu et al. 2024)"
    )]
    SppoHard,
    /// APO-zero.
    #[strum(
        to_string = "apo_zero",
        message = "(1 - sigma(beta rho_w)) + sigma(beta rho_l) (APO, D'Oosterlinck et al. 2024)"
    )]
    ApoZero,
    /// APO-down.
    #[strum(
        to_string = "apo_down",
        message = "sigma(beta rho_w) + (1 - sigma(beta D)) (APO, D'Oosterlinck et al. 2024)"
    )]
    ApoDown,
    /// DiscoPOP.
    #[strum(
        to_string = "discopop",
        message = "(1-m)(-log sigma(z)) + m e^-z, z = beta D, m = sigma(z/tau) (Chris Lu et al. 2024)"
    )]
    Discopop,
    /// Length-normalised DPO.
    #[strum(
        to_string = "sigmoid_norm",
        message = "-log sigma(beta mean-per-token D)"
    )]
    SigmoidNorm,
    /// Supervised fine-tuning on the chosen answers.
    #[strum(to_string = "sft", message = "the chosen answer's per-token NLL")]
    Sft,
    /// SimPO.
    #[strum(
        to_string = "simpo",
        message = "-log sigma(beta (mean l_w - mean l_l) - gamma), reference-free (Meng et al. 2024)"
    )]
    Simpo,
    /// R-DPO.
    #[strum(
        to_string = "rdpo",
        message = "-log sigma(beta D - alpha (|y_w| - |y_l|)) (R-DPO, Park et al. 2024)"
    )]
    Rdpo,
    /// DPO-Positive.
    #[strum(
        to_string = "dpop",
        message = "-log sigma(beta (D - lambda max(0, -rho_w))) (DPOP, Pal et al. 2024)"
    )]
    Dpop,
    /// RPO.
    #[strum(
        to_string = "rpo",
        message = "DPO + alpha * chosen NLL (RPO, Liu et al. 2024)"
    )]
    Rpo,
    /// ORPO.
    #[strum(
        to_string = "orpo",
        message = "chosen NLL - lambda log sigma(log odds w - log odds l), reference-free (Hong et al. 2024)"
    )]
    Orpo,
    /// KTO.
    #[strum(
        to_string = "kto",
        message = "w_d (1 - sigma(beta (rho_w - z0))) + w_u (1 - sigma(beta (z0 - rho_l))), z0 = KL(pi || pi_ref) (Ethayarajh et al. 2024)"
    )]
    Kto,
}

/// A preference loss with its hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PairLoss {
    /// DPO: `−log σ(βΔ)`.
    Dpo,
    /// IPO: `(Δ̄ − 1/(2β))²` (per-token average, as TRL; the summed form on
    /// flat spaces).
    Ipo,
    /// Hinge / SLiC: `max(0, 1 − βΔ)`.
    Hinge,
    /// Conservative DPO: `(1−ε)·softplus(−βΔ) + ε·softplus(βΔ)`.
    Conservative {
        /// Probability that a label is flipped, in [0, 1/2).
        epsilon: f64,
    },
    /// Robust DPO: `[−(1−ε)·log σ(βΔ) + ε·log σ(−βΔ)]/(1 − 2ε)`.
    Robust {
        /// Label-noise rate, in [0, 1/2).
        epsilon: f64,
    },
    /// EXO: `q_w (log q_w − log(1−ε)) + q_l (log q_l − log ε)`,
    /// `q_w = σ(βΔ)`, `q_l = σ(−βΔ)`.
    ExoPair {
        /// In (0, 1).
        epsilon: f64,
    },
    /// NCA: `−log σ(βρ_w) − ½ log σ(−βρ_w) − ½ log σ(−βρ_l)`.
    NcaPair,
    /// BCO: `−log σ(βρ_w) − log σ(−βρ_l)`.
    BcoPair,
    /// SPPO (hard labels): `(ρ_w − 1/(2β))² + (ρ_l + 1/(2β))²`.
    SppoHard,
    /// APO-zero: `(1 − σ(βρ_w)) + σ(βρ_l)`.
    ApoZero,
    /// APO-down: `σ(βρ_w) + (1 − σ(βΔ))`.
    ApoDown,
    /// DiscoPOP: `(1 − m)·(−log σ(z)) + m·e^(−z)`, `z = βΔ`, `m = σ(z/τ)`.
    Discopop {
        /// Temperature τ > 0.
        tau: f64,
    },
    /// `−log σ(βΔ̄)`.
    SigmoidNorm,
    /// `−ℓ_w/|y_w|`.
    Sft,
    /// SimPO: `−log σ(β(ℓ̄_w − ℓ̄_l) − γ)`.
    Simpo {
        /// Target margin γ.
        gamma: f64,
    },
    /// R-DPO: `−log σ(βΔ − α(|y_w| − |y_l|))`.
    Rdpo {
        /// Length penalty α ≥ 0.
        alpha: f64,
    },
    /// DPO-Positive: `−log σ(β(Δ − λ·max(0, −ρ_w)))`.
    Dpop {
        /// Penalty λ ≥ 0.
        lambda: f64,
    },
    /// RPO: `−log σ(βΔ) + α·(−ℓ_w/|y_w|)`.
    Rpo {
        /// NLL weight α ≥ 0.
        alpha: f64,
    },
    /// ORPO: `−ℓ_w/|y_w| − λ·log σ(log odds_w − log odds_l)`, odds of
    /// `p = exp(ℓ̄)`.
    Orpo {
        /// Odds-ratio weight λ ≥ 0.
        lambda: f64,
    },
    /// KTO on paired data: chosen desirable, rejected undesirable,
    /// `z₀ = max(0, KL(π‖π_ref))` held fixed within a step.
    Kto {
        /// Weight of desirable answers.
        desirable: f64,
        /// Weight of undesirable answers.
        undesirable: f64,
    },
}

/// What a loss reads of one pair (see the module docs for the notation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairInput {
    /// `ρ_w`.
    pub rho_w: f64,
    /// `ρ_l`.
    pub rho_l: f64,
    /// `ℓ_w = log π(y_w)`.
    pub ell_w: f64,
    /// `ℓ_l`.
    pub ell_l: f64,
    /// `|y_w|` in tokens.
    pub len_w: f64,
    /// `|y_l|`.
    pub len_l: f64,
    /// KTO's reference point `z₀ = max(0, KL(π‖π_ref))` (0 otherwise).
    pub kl0: f64,
}

impl PairInput {
    /// A pair of one-token answers at implicit-reward difference `d` (the
    /// rejected one at its reference probability, both at probability ½
    /// for the reference-free losses).
    pub fn from_margin(d: f64) -> Self {
        PairInput {
            rho_w: d,
            rho_l: 0.0,
            ell_w: 0.5f64.ln() + d,
            ell_l: 0.5f64.ln(),
            len_w: 1.0,
            len_l: 1.0,
            kl0: 0.0,
        }
    }
}

fn check(field: &str, v: f64, ok: bool, rule: &str) -> Result<f64> {
    if v.is_finite() && ok {
        Ok(v)
    } else {
        Err(Error::invalid(
            field,
            format!("must be {rule}, got {}", crate::numerics::show(v)),
        ))
    }
}

/// A weight in `[0, 1e6]` (R-DPO's α, DPOP's λ, RPO's α, ORPO's λ).
fn nonnegative(field: &str, v: f64) -> Result<f64> {
    check(field, v, (0.0..=1e6).contains(&v), "in [0, 1e6]")
}

/// `log(1 − e^x)` for `x < 0`, without cancellation (Mächler 2012).
fn log1m_exp(x: f64) -> f64 {
    if x > -std::f64::consts::LN_2 {
        (-x.exp_m1()).ln()
    } else {
        (-x.exp()).ln_1p()
    }
}

impl PairLoss {
    /// Parses a loss name with its hyper-parameters, checking those it uses.
    pub fn parse(name: &str, p: &LossParams) -> Result<Self> {
        let name: LossName = crate::names::parse_choice("train.loss", "loss", name)?;
        let eps = p.label_smoothing;
        // cdpo and robust share one range for ε.
        let below_half = || {
            check(
                "train.label_smoothing",
                eps,
                (0.0..0.5).contains(&eps),
                "in [0, 0.5)",
            )
        };
        Ok(match name {
            LossName::Dpo => PairLoss::Dpo,
            LossName::Ipo => PairLoss::Ipo,
            LossName::Hinge => PairLoss::Hinge,
            LossName::Cdpo => PairLoss::Conservative {
                epsilon: below_half()?,
            },
            LossName::Robust => PairLoss::Robust {
                epsilon: below_half()?,
            },
            LossName::ExoPair => PairLoss::ExoPair {
                epsilon: check(
                    "train.label_smoothing",
                    eps,
                    eps > 0.0 && eps < 1.0,
                    "in (0, 1) for exo_pair",
                )?,
            },
            LossName::NcaPair => PairLoss::NcaPair,
            LossName::BcoPair => PairLoss::BcoPair,
            LossName::SppoHard => PairLoss::SppoHard,
            LossName::ApoZero => PairLoss::ApoZero,
            LossName::ApoDown => PairLoss::ApoDown,
            LossName::Discopop => PairLoss::Discopop {
                tau: check(
                    "train.discopop_tau",
                    p.discopop_tau,
                    p.discopop_tau > 0.0,
                    "a finite number > 0",
                )?,
            },
            LossName::SigmoidNorm => PairLoss::SigmoidNorm,
            LossName::Sft => PairLoss::Sft,
            LossName::Simpo => PairLoss::Simpo {
                gamma: check(
                    "train.simpo_gamma",
                    p.simpo_gamma,
                    p.simpo_gamma.abs() <= 1e6,
                    "finite, |γ| ≤ 1e6",
                )?,
            },
            LossName::Rdpo => PairLoss::Rdpo {
                alpha: nonnegative("train.rdpo_alpha", p.rdpo_alpha)?,
            },
            LossName::Dpop => PairLoss::Dpop {
                lambda: nonnegative("train.dpop_lambda", p.dpop_lambda)?,
            },
            LossName::Rpo => PairLoss::Rpo {
                alpha: nonnegative("train.rpo_alpha", p.rpo_alpha)?,
            },
            LossName::Orpo => PairLoss::Orpo {
                lambda: nonnegative("train.orpo_lambda", p.orpo_lambda)?,
            },
            LossName::Kto => PairLoss::Kto {
                desirable: check(
                    "train.desirable_weight",
                    p.desirable_weight,
                    p.desirable_weight > 0.0 && p.desirable_weight <= 1e6,
                    "in (0, 1e6]",
                )?,
                undesirable: check(
                    "train.undesirable_weight",
                    p.undesirable_weight,
                    p.undesirable_weight > 0.0 && p.undesirable_weight <= 1e6,
                    "in (0, 1e6]",
                )?,
            },
        })
    }

    /// The loss's name.
    pub fn name(&self) -> &'static str {
        let name = match self {
            PairLoss::Dpo => LossName::Dpo,
            PairLoss::Ipo => LossName::Ipo,
            PairLoss::Hinge => LossName::Hinge,
            PairLoss::Conservative { .. } => LossName::Cdpo,
            PairLoss::Robust { .. } => LossName::Robust,
            PairLoss::ExoPair { .. } => LossName::ExoPair,
            PairLoss::NcaPair => LossName::NcaPair,
            PairLoss::BcoPair => LossName::BcoPair,
            PairLoss::SppoHard => LossName::SppoHard,
            PairLoss::ApoZero => LossName::ApoZero,
            PairLoss::ApoDown => LossName::ApoDown,
            PairLoss::Discopop { .. } => LossName::Discopop,
            PairLoss::SigmoidNorm => LossName::SigmoidNorm,
            PairLoss::Sft => LossName::Sft,
            PairLoss::Simpo { .. } => LossName::Simpo,
            PairLoss::Rdpo { .. } => LossName::Rdpo,
            PairLoss::Dpop { .. } => LossName::Dpop,
            PairLoss::Rpo { .. } => LossName::Rpo,
            PairLoss::Orpo { .. } => LossName::Orpo,
            PairLoss::Kto { .. } => LossName::Kto,
        };
        name.into()
    }

    /// Whether the loss is a function of `Δ` alone (then `value`/`derivative`
    /// describe it and the trainer takes its fast path).
    pub fn depends_on_margin_only(&self) -> bool {
        matches!(
            self,
            PairLoss::Dpo
                | PairLoss::Hinge
                | PairLoss::Conservative { .. }
                | PairLoss::Robust { .. }
                | PairLoss::ExoPair { .. }
                | PairLoss::Discopop { .. }
        )
    }

    /// Whether the loss reads response lengths (per-token averages).
    pub fn needs_lengths(&self) -> bool {
        matches!(
            self,
            PairLoss::Ipo
                | PairLoss::SigmoidNorm
                | PairLoss::Sft
                | PairLoss::Simpo { .. }
                | PairLoss::Rdpo { .. }
                | PairLoss::Rpo { .. }
                | PairLoss::Orpo { .. }
        )
    }

    /// Whether the loss reads `KL(π‖π_ref)` (KTO's reference point).
    pub fn needs_kl(&self) -> bool {
        matches!(self, PairLoss::Kto { .. })
    }

    /// Whether its gradient on tabular logits carries a factor β (so the
    /// effective step is `lr·β²` and a sweep keeps `lr·β²` fixed): the
    /// σ(β·…)-type losses, not the squared (IPO, SPPO) or likelihood (SFT,
    /// ORPO) ones.
    pub fn step_scales_with_beta(&self) -> bool {
        !matches!(
            self,
            PairLoss::Ipo | PairLoss::SppoHard | PairLoss::Sft | PairLoss::Orpo { .. }
        )
    }

    /// Value and partial derivatives `(L, ∂L/∂ℓ_w, ∂L/∂ℓ_l)` of one pair.
    pub fn eval(&self, x: &PairInput, beta: f64) -> (f64, f64, f64) {
        let delta = x.rho_w - x.rho_l;
        // A function g(Δ) with derivative g': (g, g', −g').
        let of_delta = |(v, d): (f64, f64)| (v, d, -d);
        match *self {
            PairLoss::Dpo
            | PairLoss::Hinge
            | PairLoss::Conservative { .. }
            | PairLoss::Robust { .. }
            | PairLoss::ExoPair { .. }
            | PairLoss::Discopop { .. } => {
                of_delta((self.value(delta, beta), self.derivative(delta, beta)))
            }
            PairLoss::Ipo => {
                let e = x.rho_w / x.len_w - x.rho_l / x.len_l - 1.0 / (2.0 * beta);
                (e * e, 2.0 * e / x.len_w, -2.0 * e / x.len_l)
            }
            PairLoss::SigmoidNorm => {
                let u = beta * (x.rho_w / x.len_w - x.rho_l / x.len_l);
                let g = -beta * sigmoid(-u);
                (softplus(-u), g / x.len_w, -g / x.len_l)
            }
            PairLoss::NcaPair => {
                let (a, b) = (beta * x.rho_w, beta * x.rho_l);
                let v = -log_sigmoid(a) - 0.5 * log_sigmoid(-a) - 0.5 * log_sigmoid(-b);
                let dw = beta * (-sigmoid(-a) + 0.5 * sigmoid(a));
                let dl = beta * 0.5 * sigmoid(b);
                (v, dw, dl)
            }
            PairLoss::BcoPair => {
                let (a, b) = (beta * x.rho_w, beta * x.rho_l);
                (
                    -log_sigmoid(a) - log_sigmoid(-b),
                    -beta * sigmoid(-a),
                    beta * sigmoid(b),
                )
            }
            PairLoss::SppoHard => {
                let t = 1.0 / (2.0 * beta);
                let (ew, el) = (x.rho_w - t, x.rho_l + t);
                (ew * ew + el * el, 2.0 * ew, 2.0 * el)
            }
            PairLoss::ApoZero => {
                let (sw, sl) = (sigmoid(beta * x.rho_w), sigmoid(beta * x.rho_l));
                (
                    (1.0 - sw) + sl,
                    -beta * sw * (1.0 - sw),
                    beta * sl * (1.0 - sl),
                )
            }
            PairLoss::ApoDown => {
                let sw = sigmoid(beta * x.rho_w);
                let sd = sigmoid(beta * delta);
                let dd = -beta * sd * (1.0 - sd);
                (sw + (1.0 - sd), beta * sw * (1.0 - sw) + dd, -dd)
            }
            PairLoss::Sft => (-x.ell_w / x.len_w, -1.0 / x.len_w, 0.0),
            PairLoss::Simpo { gamma } => {
                let u = beta * (x.ell_w / x.len_w - x.ell_l / x.len_l) - gamma;
                let g = -beta * sigmoid(-u);
                (softplus(-u), g / x.len_w, -g / x.len_l)
            }
            PairLoss::Rdpo { alpha } => {
                let u = beta * delta - alpha * (x.len_w - x.len_l);
                let g = -beta * sigmoid(-u);
                (softplus(-u), g, -g)
            }
            PairLoss::Dpop { lambda } => {
                let pen = (-x.rho_w).max(0.0);
                let u = beta * (delta - lambda * pen);
                let s = sigmoid(-u);
                // ∂u/∂ρ_w = β(1 + λ·1[ρ_w < 0]), ∂u/∂ρ_l = −β.
                let du_w = beta * (1.0 + if x.rho_w < 0.0 { lambda } else { 0.0 });
                (softplus(-u), -s * du_w, s * beta)
            }
            PairLoss::Rpo { alpha } => {
                let u = beta * delta;
                let g = -beta * sigmoid(-u);
                (
                    softplus(-u) + alpha * (-x.ell_w / x.len_w),
                    g - alpha / x.len_w,
                    -g,
                )
            }
            PairLoss::Orpo { lambda } => {
                // log odds(y) = ℓ̄ − log(1 − e^ℓ̄); d/dℓ̄ = 1/(1 − e^ℓ̄).
                let (mw, ml) = (x.ell_w / x.len_w, x.ell_l / x.len_l);
                let odds = |m: f64| m - log1m_exp(m.min(-1e-300));
                let dodds = |m: f64| 1.0 / (-(m.min(-1e-300)).exp_m1());
                let r = odds(mw) - odds(ml);
                let s = sigmoid(-r);
                (
                    -mw - lambda * log_sigmoid(r),
                    -1.0 / x.len_w - lambda * s * dodds(mw) / x.len_w,
                    lambda * s * dodds(ml) / x.len_l,
                )
            }
            PairLoss::Kto {
                desirable,
                undesirable,
            } => {
                let sw = sigmoid(beta * (x.rho_w - x.kl0));
                let sl = sigmoid(beta * (x.kl0 - x.rho_l));
                (
                    desirable * (1.0 - sw) + undesirable * (1.0 - sl),
                    -desirable * beta * sw * (1.0 - sw),
                    undesirable * beta * sl * (1.0 - sl),
                )
            }
        }
    }

    /// `ℓ(Δ)` of a loss of the margin alone (others: the one-token pair of
    /// [`PairInput::from_margin`]).
    pub fn value(&self, d: f64, beta: f64) -> f64 {
        match *self {
            PairLoss::Dpo => softplus(-beta * d),
            PairLoss::Hinge => (1.0 - beta * d).max(0.0),
            PairLoss::Conservative { epsilon } => {
                (1.0 - epsilon) * softplus(-beta * d) + epsilon * softplus(beta * d)
            }
            PairLoss::Robust { epsilon } => {
                ((1.0 - epsilon) * softplus(-beta * d) - epsilon * softplus(beta * d))
                    / (1.0 - 2.0 * epsilon)
            }
            PairLoss::ExoPair { epsilon } => {
                let z = beta * d;
                let (lw, ll) = (log_sigmoid(z), log_sigmoid(-z));
                lw.exp() * (lw - (1.0 - epsilon).ln()) + ll.exp() * (ll - epsilon.ln())
            }
            PairLoss::Discopop { tau } => {
                let z = beta * d;
                // m·e^(−z) in log space: σ(z/τ) → 0 exactly where e^(−z) overflows.
                let m = sigmoid(z / tau);
                (1.0 - m) * softplus(-z) + (log_sigmoid(z / tau) - z).exp()
            }
            _ => self.eval(&PairInput::from_margin(d), beta).0,
        }
    }

    /// `ℓ'(Δ)` of a loss of the margin alone (others: `∂/∂ρ_w` of the
    /// one-token pair of [`PairInput::from_margin`]).
    pub fn derivative(&self, d: f64, beta: f64) -> f64 {
        match *self {
            PairLoss::Dpo => -beta * sigmoid(-beta * d),
            PairLoss::Hinge => {
                if beta * d < 1.0 {
                    -beta
                } else {
                    0.0
                }
            }
            PairLoss::Conservative { epsilon } => {
                -(1.0 - epsilon) * beta * sigmoid(-beta * d) + epsilon * beta * sigmoid(beta * d)
            }
            PairLoss::Robust { epsilon } => {
                (-(1.0 - epsilon) * beta * sigmoid(-beta * d) - epsilon * beta * sigmoid(beta * d))
                    / (1.0 - 2.0 * epsilon)
            }
            PairLoss::ExoPair { epsilon } => {
                // d/dz [q log q − q log(1−ε) + (1−q) log(1−q) − (1−q) log ε]
                // = q(1−q)·(log q − log(1−q) − log(1−ε) + log ε).
                let z = beta * d;
                let (lw, ll) = (log_sigmoid(z), log_sigmoid(-z));
                let q = lw.exp();
                beta * q * (1.0 - q) * (lw - ll - (1.0 - epsilon).ln() + epsilon.ln())
            }
            PairLoss::Discopop { tau } => {
                let z = beta * d;
                let m = sigmoid(z / tau);
                let dm = m * (1.0 - m) / tau;
                let m_e = (log_sigmoid(z / tau) - z).exp(); // m·e^(−z)
                let dm_e = (1.0 - m) / tau * m_e; // m'·e^(−z)
                beta * (-dm * softplus(-z) - (1.0 - m) * sigmoid(-z) + dm_e - m_e)
            }
            _ => self.eval(&PairInput::from_margin(d), beta).1,
        }
    }
}

/// Bradley–Terry negative log-likelihood of one labelled pair,
/// `−log σ(r+ − r−) = softplus(−(r+ − r−))` (docs/maths.md §2).
pub fn bradley_terry_nll(margin: f64) -> f64 {
    softplus(-margin)
}

/// Its derivative with respect to the margin, `−σ(−margin)`.
pub fn bradley_terry_nll_derivative(margin: f64) -> f64 {
    -sigmoid(-margin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::ULPS_ABS;

    #[test]
    fn dpo_at_zero_margin_is_log_two() {
        assert!((PairLoss::Dpo.value(0.0, 0.1) - 2f64.ln()).abs() < ULPS_ABS);
        assert!((PairLoss::Dpo.derivative(0.0, 0.1) + 0.05).abs() < ULPS_ABS);
    }

    #[test]
    fn ipo_minimum_sits_at_its_target() {
        let beta = 0.25;
        assert_eq!(PairLoss::Ipo.value(2.0, beta), 0.0);
        assert_eq!(PairLoss::Ipo.derivative(2.0, beta), 0.0);
    }

    #[test]
    fn unknown_loss_names_the_field() {
        let e = PairLoss::parse("kto2", &LossParams::default()).expect_err("unknown");
        assert!(e.to_string().starts_with("train.loss"));
        let smooth = |e| LossParams {
            label_smoothing: e,
            ..LossParams::default()
        };
        assert!(PairLoss::parse("cdpo", &smooth(0.7)).is_err());
        assert!(PairLoss::parse("exo_pair", &smooth(0.0)).is_err());
        assert!(PairLoss::parse("exo_pair", &smooth(0.3)).is_ok());
    }
}
