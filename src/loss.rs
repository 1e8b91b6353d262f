//! Pairwise preference losses and their derivatives, side by side
//! (docs/maths.md §3 and §5).
//!
//! Each loss is a function of the implicit-reward difference
//! `d = h(y+) − h(y−)`, `h = log π_θ − log π_ref`; the trainer multiplies its
//! derivative into `±∂h/∂θ`. The Bradley–Terry likelihood of a reward model
//! is the DPO loss with `β = 1` applied to reward differences.

use crate::error::{Error, Result};
use crate::numerics::{sigmoid, softplus};

/// `train.label_smoothing` when a file omits it (the `cdpo` loss's ε).
pub const DEFAULT_LABEL_SMOOTHING: f64 = 0.1;

/// The pair losses by name (scenario `[train] loss`, `--loss`), with the
/// aliases TRL uses.
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
        message = "-log sigma(beta d) (Rafailov et al. 2023)"
    )]
    Dpo,
    /// IPO.
    #[strum(to_string = "ipo", message = "(d - 1/(2 beta))^2 (Azar et al. 2023)")]
    Ipo,
    /// Hinge.
    #[strum(
        to_string = "hinge",
        serialize = "slic",
        message = "max(0, 1 - beta d) (SLiC, Zhao et al. 2023)"
    )]
    Hinge,
    /// Conservative DPO.
    #[strum(
        to_string = "cdpo",
        serialize = "robust",
        serialize = "conservative",
        message = "label-smoothed DPO with epsilon = train.label_smoothing (Mitchell 2023)"
    )]
    Cdpo,
}

/// A pairwise loss of `d = h(y+) − h(y−)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PairLoss {
    /// DPO: `−log σ(βd) = softplus(−βd)`; `ℓ' = −β σ(−βd)`.
    Dpo,
    /// IPO (Azar et al. 2023): `(d − 1/(2β))²`; `ℓ' = 2(d − 1/(2β))`.
    Ipo,
    /// Hinge / SLiC: `max(0, 1 − βd)`; `ℓ' = −β` while `βd < 1`, else 0.
    Hinge,
    /// Conservative DPO with label smoothing ε:
    /// `(1−ε) softplus(−βd) + ε softplus(βd)`;
    /// `ℓ' = −(1−ε) β σ(−βd) + ε β σ(βd)`.
    Conservative {
        /// Probability that a label is flipped, in [0, 1/2).
        epsilon: f64,
    },
}

impl PairLoss {
    /// Parses a loss name (`dpo`, `ipo`, `hinge`, `cdpo`).
    pub fn parse(name: &str, epsilon: f64) -> Result<Self> {
        let name: LossName = crate::names::parse_choice("train.loss", "loss", name)?;
        Ok(match name {
            LossName::Dpo => PairLoss::Dpo,
            LossName::Ipo => PairLoss::Ipo,
            LossName::Hinge => PairLoss::Hinge,
            LossName::Cdpo => {
                if !(epsilon.is_finite() && (0.0..0.5).contains(&epsilon)) {
                    return Err(Error::invalid(
                        "train.label_smoothing",
                        format!(
                            "must be in [0, 0.5), got {}",
                            crate::numerics::show(epsilon)
                        ),
                    ));
                }
                PairLoss::Conservative { epsilon }
            }
        })
    }

    /// The loss's name.
    pub fn name(&self) -> &'static str {
        let name = match self {
            PairLoss::Dpo => LossName::Dpo,
            PairLoss::Ipo => LossName::Ipo,
            PairLoss::Hinge => LossName::Hinge,
            PairLoss::Conservative { .. } => LossName::Cdpo,
        };
        name.into()
    }

    /// `ℓ(d)`.
    pub fn value(&self, d: f64, beta: f64) -> f64 {
        match *self {
            PairLoss::Dpo => softplus(-beta * d),
            PairLoss::Ipo => {
                let e = d - 1.0 / (2.0 * beta);
                e * e
            }
            PairLoss::Hinge => (1.0 - beta * d).max(0.0),
            PairLoss::Conservative { epsilon } => {
                (1.0 - epsilon) * softplus(-beta * d) + epsilon * softplus(beta * d)
            }
        }
    }

    /// `ℓ'(d)`.
    pub fn derivative(&self, d: f64, beta: f64) -> f64 {
        match *self {
            PairLoss::Dpo => -beta * sigmoid(-beta * d),
            PairLoss::Ipo => 2.0 * (d - 1.0 / (2.0 * beta)),
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

    #[test]
    fn dpo_at_zero_margin_is_log_two() {
        assert!((PairLoss::Dpo.value(0.0, 0.1) - 2f64.ln()).abs() < 1e-15);
        assert!((PairLoss::Dpo.derivative(0.0, 0.1) + 0.05).abs() < 1e-15);
    }

    #[test]
    fn ipo_minimum_sits_at_its_target() {
        let beta = 0.25;
        assert_eq!(PairLoss::Ipo.value(2.0, beta), 0.0);
        assert_eq!(PairLoss::Ipo.derivative(2.0, beta), 0.0);
    }

    #[test]
    fn unknown_loss_names_the_field() {
        let e = PairLoss::parse("kto", 0.0).expect_err("unknown");
        assert!(e.to_string().starts_with("train.loss"));
        assert!(PairLoss::parse("cdpo", 0.7).is_err());
    }
}
