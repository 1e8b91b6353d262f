//! The preference-loss family and its derivatives, side by side
//! (docs/maths.md §3 and §5), under the names Hugging Face TRL's
//! `DPOTrainer` (and its CPO, KTO and ORPO trainers) uses for `loss_type`.
//!
//! Notation, per pair (chosen `w`, rejected `l`): `ℓ = log π(y)`,
//! `ρ = ℓ − log π_ref(y)` (the implicit reward is `β·ρ`), `Δ = ρ_w − ρ_l`,
//! `n(y)` the response's number of tokens *as TRL counts them*: its content
//! tokens plus the end token TRL appends (a sequence cut at `max_len` has
//! no end factor in `log π(y)` and no extra count; every flat answer is one
//! token), an overbar a per-token average (`ρ̄ = ρ/n`, `Δ̄ = ρ̄_w − ρ̄_l`),
//! NLL TRL's cross-entropy over the chosen answers: one token mean over the
//! whole batch, `Σ_p −ℓ_w / Σ_p n_w` (not a mean of per-answer means).
//!
//! Every batch loss is the mean over its pairs of a per-pair term, as TRL's
//! `per_sequence_loss.mean()`; the NLL enters each pair as `−ℓ_w/n̄_w` with
//! `n̄_w` the batch's mean chosen length ([`PairInput::nll_tokens`]), which
//! sums to TRL's batch token mean exactly. KTO is a mean over the 2N
//! examples of N pairs (one desirable, one undesirable each), as TRL's
//! `KTOTrainer`, so its per-pair term carries a factor ½.
//!
//! Every loss returns its value and its partial derivatives in `ℓ_w` and
//! `ℓ_l` (equal to those in `ρ_w`, `ρ_l`: the reference is a constant);
//! the trainer multiplies them into `∂log π/∂θ`. Each is checked against
//! central finite differences for every policy class (`tests/gradients.rs`)
//! and, where one is known, converges to its fixed point on one pair
//! (`tests/losses.rs`). The Bradley–Terry likelihood of a reward model is
//! the DPO loss with `β = 1` applied to reward differences.

mod params;
pub use params::*;

use crate::error::Result;
use crate::numerics::{log_sigmoid, sigmoid, softplus};
use crate::validate::rule as check;

/// A preference loss with its hyper-parameters. Its discriminant enum is
/// [`LossName`]: the losses by name (scenario `[train] loss`, `--loss`),
/// with TRL's `loss_type` names as aliases where ours differ, and each
/// formula as its message — one enum, so a loss cannot lose its name.
#[derive(Debug, Clone, Copy, PartialEq, strum::EnumDiscriminants)]
#[strum_discriminants(
    name(LossName),
    vis(pub),
    derive(
        Default,
        strum::EnumString,
        strum::IntoStaticStr,
        strum::EnumIter,
        strum::VariantNames,
        strum::EnumMessage,
    ),
    doc = "The losses by name, with TRL's names as aliases (derived from [`PairLoss`])."
)]
pub enum PairLoss {
    /// DPO: `−log σ(βΔ)`.
    #[strum_discriminants(default)]
    #[strum_discriminants(strum(
        to_string = "dpo",
        serialize = "sigmoid",
        message = "-log sigma(beta D) (TRL: sigmoid; Rafailov et al. 2023)"
    ))]
    Dpo,
    /// IPO: `(Δ̄ − 1/(2β))²` (per-token average, as TRL; the summed form on
    /// flat spaces).
    #[strum_discriminants(strum(
        to_string = "ipo",
        message = "(mean-per-token D - 1/(2 beta))^2, n counting the end token (Azar et al. 2023)"
    ))]
    Ipo,
    /// Hinge / SLiC: `max(0, 1 − βΔ)`.
    #[strum_discriminants(strum(
        to_string = "hinge",
        serialize = "slic",
        message = "max(0, 1 - beta D) (SLiC, Zhao et al. 2023)"
    ))]
    Hinge,
    /// Conservative DPO: `(1−ε)·softplus(−βΔ) + ε·softplus(βΔ)`.
    #[strum_discriminants(strum(
        to_string = "cdpo",
        serialize = "conservative",
        message = "(1-e) softplus(-beta D) + e softplus(beta D), e = label_smoothing (TRL <= 0.28: sigmoid with label_smoothing; Mitchell 2023)"
    ))]
    Cdpo {
        /// Probability that a label is flipped, in [0, 1/2).
        epsilon: f64,
    },
    /// Robust DPO: `[−(1−ε)·log σ(βΔ) + ε·log σ(−βΔ)]/(1 − 2ε)`.
    #[strum_discriminants(strum(
        to_string = "robust",
        message = "[-(1-e) log sigma(beta D) + e log sigma(-beta D)] / (1 - 2e) (rDPO, Chowdhury et al. 2024)"
    ))]
    Robust {
        /// Label-noise rate, in [0, 1/2).
        epsilon: f64,
    },
    /// EXO: `q_w (log q_w − log(1−ε)) + q_l (log q_l − log ε)`,
    /// `q_w = σ(βΔ)`, `q_l = σ(−βΔ)`.
    #[strum_discriminants(strum(
        to_string = "exo_pair",
        message = "KL(q || labels) with q = sigma(+-beta D), 0 < e < 1 (EXO, Ji et al. 2024)"
    ))]
    ExoPair {
        /// In (0, 1).
        epsilon: f64,
    },
    /// NCA: `−log σ(βρ_w) − ½ log σ(−βρ_w) − ½ log σ(−βρ_l)`.
    #[strum_discriminants(strum(
        to_string = "nca_pair",
        message = "-log sigma(beta rho_w) - 1/2 log sigma(-beta rho_w) - 1/2 log sigma(-beta rho_l) (NCA, Chen et al. 2024)"
    ))]
    NcaPair,
    /// BCO: `−log σ(βρ_w) − log σ(−βρ_l)`.
    #[strum_discriminants(strum(
        to_string = "bco_pair",
        message = "-log sigma(beta rho_w) - log sigma(-beta rho_l) (BCO, Jung et al. 2024)"
    ))]
    BcoPair,
    /// SPPO (hard labels): `(ρ_w − 1/(2β))² + (ρ_l + 1/(2β))²`.
    #[strum_discriminants(strum(
        to_string = "sppo_hard",
        message = "(rho_w - 1/(2 beta))^2 + (rho_l + 1/(2 beta))^2 (SPPO, Wu et al. 2024)"
    ))]
    SppoHard,
    /// APO-zero: `(1 − σ(βρ_w)) + σ(βρ_l)`.
    #[strum_discriminants(strum(
        to_string = "apo_zero",
        message = "(1 - sigma(beta rho_w)) + sigma(beta rho_l) (APO, D'Oosterlinck et al. 2024)"
    ))]
    ApoZero,
    /// APO-down: `σ(βρ_w) + (1 − σ(βΔ))`.
    #[strum_discriminants(strum(
        to_string = "apo_down",
        message = "sigma(beta rho_w) + (1 - sigma(beta D)) (APO, D'Oosterlinck et al. 2024)"
    ))]
    ApoDown,
    /// DiscoPOP: `(1 − m)·(−log σ(z)) + m·e^(−z)`, `z = βΔ`, `m = σ(z/τ)`.
    #[strum_discriminants(strum(
        to_string = "discopop",
        message = "(1-m)(-log sigma(z)) + m e^-z, z = beta D, m = sigma(z/tau) (Chris Lu et al. 2024)"
    ))]
    Discopop {
        /// Temperature τ > 0.
        tau: f64,
    },
    /// `−log σ(βΔ̄)`.
    #[strum_discriminants(strum(
        to_string = "sigmoid_norm",
        message = "-log sigma(beta mean-per-token D), n counting the end token"
    ))]
    SigmoidNorm,
    /// TRL's `sft`: the batch NLL `−ℓ_w/n̄_w`.
    #[strum_discriminants(strum(
        to_string = "sft",
        message = "chosen NLL: sum of -log pi(y_w) over the batch / its chosen tokens (end tokens counted)"
    ))]
    Sft,
    /// SimPO: `−(1−ε)log σ(u) − ε log σ(−u)`, `u = β(ℓ̄_w − ℓ̄_l) − γ`
    /// (TRL's `CPOTrainer` with `loss_type="simpo"`, `cpo_alpha=0`).
    #[strum_discriminants(strum(
        to_string = "simpo",
        message = "-(1-e) log sigma(u) - e log sigma(-u), u = beta (mean l_w - mean l_l) - gamma, reference-free (TRL: CPOTrainer loss_type simpo, cpo_alpha 0; Meng et al. 2024)"
    ))]
    Simpo {
        /// Target margin γ.
        gamma: f64,
        /// `label_smoothing` ε.
        epsilon: f64,
    },
    /// CPO: `−(1−ε)log σ(βz) − ε log σ(−βz) + α·NLL`, `z = ℓ_w − ℓ_l`
    /// (summed, not averaged: TRL's `CPOTrainer` with its default
    /// `loss_type="sigmoid"`).
    #[strum_discriminants(strum(
        to_string = "cpo",
        message = "-(1-e) log sigma(beta (l_w - l_l)) - e log sigma(-beta (l_w - l_l)) + cpo_alpha * chosen NLL, reference-free (TRL: CPOTrainer defaults; Xu et al. 2024)"
    ))]
    Cpo {
        /// `cpo_alpha`, the NLL weight.
        alpha: f64,
        /// `label_smoothing` ε.
        epsilon: f64,
    },
    /// R-DPO: `−log σ(βΔ + α(n_w − n_l))`.
    #[strum_discriminants(strum(
        to_string = "rdpo",
        message = "-log sigma(beta D + alpha (n_w - n_l)) (R-DPO, Park et al. 2024: the length penalty of max E[r - alpha |y|])"
    ))]
    Rdpo {
        /// Length penalty α ≥ 0.
        alpha: f64,
    },
    /// DPO-Positive: `−log σ(β(Δ − λ·max(0, −ρ_w)))`.
    #[strum_discriminants(strum(
        to_string = "dpop",
        message = "-log sigma(beta (D - lambda max(0, -rho_w))) (DPOP, Pal et al. 2024)"
    ))]
    Dpop {
        /// Penalty λ ≥ 0.
        lambda: f64,
    },
    /// RPO: `−log σ(βΔ) + α·(−ℓ_w/n̄_w)`.
    #[strum_discriminants(strum(
        to_string = "rpo",
        message = "DPO + rpo_alpha * chosen NLL (TRL: loss_type [sigmoid, sft]; RPO, Liu et al. 2024)"
    ))]
    Rpo {
        /// NLL weight α ≥ 0.
        alpha: f64,
    },
    /// ORPO: `−ℓ_w/n̄_w − λ·log σ(log odds_w − log odds_l)`, odds of
    /// `p = exp(ℓ̄)`.
    #[strum_discriminants(strum(
        to_string = "orpo",
        message = "chosen NLL - lambda log sigma(log odds w - log odds l), odds of exp(mean-per-token l), reference-free (Hong et al. 2024; TRL's NLL also covers the prompt, which has no tokens here)"
    ))]
    Orpo {
        /// Odds-ratio weight λ ≥ 0.
        lambda: f64,
    },
    /// KTO on paired data: chosen desirable, rejected undesirable, a mean
    /// over the 2N examples (so ½ per pair), `z₀ = max(0, KL(π‖π_ref))`
    /// held fixed within a step.
    #[strum_discriminants(strum(
        to_string = "kto",
        message = "[w_d (1 - sigma(beta (rho_w - z0))) + w_u (1 - sigma(beta (z0 - rho_l)))] / 2: a mean over 2N examples, z0 = max(0, KL(pi || pi_ref)) (Ethayarajh et al. 2024)"
    ))]
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
    /// `n_w`: tokens of the chosen answer, its end token counted.
    pub len_w: f64,
    /// `n_l`.
    pub len_l: f64,
    /// `n̄_w`: the mean chosen length over the batch (weighted as the
    /// pairs), so that `Σ_p w_p·(−ℓ_w/n̄_w)` is TRL's token-mean NLL.
    pub nll_tokens: f64,
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
            nll_tokens: 1.0,
            kl0: 0.0,
        }
    }
}

/// A weight in `[0, 1e6]` (R-DPO's α, DPOP's λ, RPO's α, ORPO's λ).
fn nonnegative(field: &str, v: f64) -> Result<f64> {
    check(field, v, (0.0..=1e6).contains(&v), "in [0, 1e6]")
}

/// `−(1−ε)·log σ(u) − ε·log σ(−u)` and its derivative in `u` (TRL's
/// label-smoothed sigmoid, as in its CPO trainer).
fn smoothed(u: f64, epsilon: f64) -> (f64, f64) {
    (
        (1.0 - epsilon) * softplus(-u) + epsilon * softplus(u),
        -(1.0 - epsilon) * sigmoid(-u) + epsilon * sigmoid(u),
    )
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
    /// Parses a loss name with its hyper-parameters. Every hyper-parameter
    /// is checked whether or not the chosen loss reads it (a NaN in a file
    /// is an error even when unused); the ranges a loss needs beyond that
    /// (ε < ½ for `cdpo`/`robust`, ε > 0 for `exo_pair`) only for it.
    pub fn parse(name: &str, p: &LossParams) -> Result<Self> {
        let name: LossName = crate::names::parse_choice("train.loss", "loss", name)?;
        let given = p.label_smoothing;
        let eps = match (given, name) {
            (None, LossName::ExoPair) => EXO_DEFAULT_EPSILON,
            (v, _) => v.unwrap_or(DEFAULT_LABEL_SMOOTHING),
        };
        let eps = check(
            "train.label_smoothing",
            eps,
            (0.0..1.0).contains(&eps),
            "in [0, 1)",
        )?;
        // Below 1e-6 the derivative m(1−m)/τ overflows long before the
        // policy moves: a divergence that would be blamed on the lr.
        let tau = check(
            "train.discopop_tau",
            p.discopop_tau,
            (1e-6..=1e6).contains(&p.discopop_tau),
            "in [1e-6, 1e6]",
        )?;
        let gamma = check(
            "train.simpo_gamma",
            p.simpo_gamma,
            p.simpo_gamma.abs() <= 1e6,
            "finite, |γ| ≤ 1e6",
        )?;
        let rpo_alpha = nonnegative("train.rpo_alpha", p.rpo_alpha)?;
        let cpo_alpha = nonnegative("train.cpo_alpha", p.cpo_alpha)?;
        let rdpo_alpha = nonnegative("train.rdpo_alpha", p.rdpo_alpha)?;
        let dpop_lambda = nonnegative("train.dpop_lambda", p.dpop_lambda)?;
        let orpo_lambda = nonnegative("train.orpo_lambda", p.orpo_lambda)?;
        let weight = |field: &str, v: f64| check(field, v, v > 0.0 && v <= 1e6, "in (0, 1e6]");
        let desirable = weight("train.desirable_weight", p.desirable_weight)?;
        let undesirable = weight("train.undesirable_weight", p.undesirable_weight)?;
        // cdpo and robust share one range for ε.
        let below_half = || {
            check(
                "train.label_smoothing",
                eps,
                eps < 0.5,
                &format!("in [0, 0.5) for {}", <&str>::from(name)),
            )
        };
        Ok(match name {
            LossName::Dpo => PairLoss::Dpo,
            LossName::Ipo => PairLoss::Ipo,
            LossName::Hinge => PairLoss::Hinge,
            LossName::Cdpo => PairLoss::Cdpo {
                epsilon: below_half()?,
            },
            LossName::Robust => PairLoss::Robust {
                epsilon: below_half()?,
            },
            LossName::ExoPair => PairLoss::ExoPair {
                epsilon: check(
                    "train.label_smoothing",
                    eps,
                    eps > 0.0,
                    "in (0, 1) for exo_pair (TRL's default 0 gives log 0; the EXO paper suggests 1e-3)",
                )?,
            },
            LossName::NcaPair => PairLoss::NcaPair,
            LossName::BcoPair => PairLoss::BcoPair,
            LossName::SppoHard => PairLoss::SppoHard,
            LossName::ApoZero => PairLoss::ApoZero,
            LossName::ApoDown => PairLoss::ApoDown,
            LossName::Discopop => PairLoss::Discopop { tau },
            LossName::SigmoidNorm => PairLoss::SigmoidNorm,
            LossName::Sft => PairLoss::Sft,
            LossName::Simpo => PairLoss::Simpo {
                gamma,
                epsilon: eps,
            },
            LossName::Cpo => PairLoss::Cpo {
                alpha: cpo_alpha,
                epsilon: eps,
            },
            LossName::Rdpo => PairLoss::Rdpo { alpha: rdpo_alpha },
            LossName::Dpop => PairLoss::Dpop {
                lambda: dpop_lambda,
            },
            LossName::Rpo => PairLoss::Rpo { alpha: rpo_alpha },
            LossName::Orpo => PairLoss::Orpo {
                lambda: orpo_lambda,
            },
            LossName::Kto => PairLoss::Kto {
                desirable,
                undesirable,
            },
        })
    }

    /// The loss's name.
    pub fn name(&self) -> &'static str {
        LossName::from(self).into()
    }

    /// Whether the loss is a function of `Δ` alone (then `value`/`derivative`
    /// describe it and the trainer takes its fast path).
    pub fn depends_on_margin_only(&self) -> bool {
        matches!(
            self,
            PairLoss::Dpo
                | PairLoss::Hinge
                | PairLoss::Cdpo { .. }
                | PairLoss::Robust { .. }
                | PairLoss::ExoPair { .. }
                | PairLoss::Discopop { .. }
        )
    }

    /// Whether the loss reads response lengths (per-token averages, the
    /// batch NLL, R-DPO's length term).
    pub fn needs_lengths(&self) -> bool {
        matches!(
            self,
            PairLoss::Ipo | PairLoss::SigmoidNorm | PairLoss::Simpo { .. } | PairLoss::Rdpo { .. }
        ) || self.has_nll()
    }

    /// Whether the loss carries TRL's batch NLL of the chosen answers.
    pub fn has_nll(&self) -> bool {
        matches!(
            self,
            PairLoss::Sft | PairLoss::Rpo { .. } | PairLoss::Orpo { .. } | PairLoss::Cpo { .. }
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
            | PairLoss::Cdpo { .. }
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
            PairLoss::Sft => (-x.ell_w / x.nll_tokens, -1.0 / x.nll_tokens, 0.0),
            PairLoss::Simpo { gamma, epsilon } => {
                let u = beta * (x.ell_w / x.len_w - x.ell_l / x.len_l) - gamma;
                let (v, g) = smoothed(u, epsilon);
                (v, beta * g / x.len_w, -beta * g / x.len_l)
            }
            PairLoss::Cpo { alpha, epsilon } => {
                let (v, g) = smoothed(beta * (x.ell_w - x.ell_l), epsilon);
                (
                    v + alpha * (-x.ell_w / x.nll_tokens),
                    beta * g - alpha / x.nll_tokens,
                    -beta * g,
                )
            }
            PairLoss::Rdpo { alpha } => {
                // Park et al.: max E[r − α|y|] − β·KL, so a longer chosen
                // answer needs a larger margin: the length term adds.
                let u = beta * delta + alpha * (x.len_w - x.len_l);
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
                    softplus(-u) + alpha * (-x.ell_w / x.nll_tokens),
                    g - alpha / x.nll_tokens,
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
                    -x.ell_w / x.nll_tokens - lambda * log_sigmoid(r),
                    -1.0 / x.nll_tokens - lambda * s * dodds(mw) / x.len_w,
                    lambda * s * dodds(ml) / x.len_l,
                )
            }
            PairLoss::Kto {
                desirable,
                undesirable,
            } => {
                // TRL: nanmean over the 2N examples of N pairs.
                let sw = sigmoid(beta * (x.rho_w - x.kl0));
                let sl = sigmoid(beta * (x.kl0 - x.rho_l));
                (
                    0.5 * (desirable * (1.0 - sw) + undesirable * (1.0 - sl)),
                    -0.5 * desirable * beta * sw * (1.0 - sw),
                    0.5 * undesirable * beta * sl * (1.0 - sl),
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
            PairLoss::Cdpo { epsilon } => {
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
            PairLoss::Cdpo { epsilon } => {
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
mod tests;
