//! The `[[lesson]]` tables as written, and their checks into typed
//! lessons (errors name the table and key).

use serde::{Deserialize, Serialize};

use super::*;

/// A `[[lesson]]` table as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLesson {
    /// Place in the built-in guided order (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<u64>,
    /// Short title.
    pub title: String,
    /// `overview` (default), `frontier`, `derivation`, `compare`,
    /// `experiments` or `lesson`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tab: Option<String>,
    /// What to do and notice at this stop.
    pub notice: String,
    /// `remedies`, `resampling` or `over-optimisation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// One-click changes, each a table with one key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub try_this: Vec<RawTweak>,
    /// The curve the stop is about (default `ood-mass`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_curve: Option<String>,
    /// The Derivation section shown first (default `closed-form`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derivation: Option<String>,
    /// "Predict, then play".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predict: Option<RawPrediction>,
}

/// A tweak as written: a table with exactly one of these keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTweak {
    /// β.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// A loss name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<String>,
    /// A policy class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// An annotator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotator: Option<String>,
    /// Online DPO's resampling interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resample_every: Option<u64>,
    /// `true`: run online DPO beside the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_online: Option<bool>,
    /// GRPO's `loss_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpo_loss_type: Option<String>,
    /// GRPO's `scale_rewards`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_rewards: Option<String>,
    /// GRPO's and RLOO's G.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_generations: Option<u64>,
}

/// A `predict` table as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrediction {
    /// The question.
    pub question: String,
    /// What is watched (see [`Quantity`]).
    pub watch: String,
    /// For `watch = "probability"`: the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// Whose run (a method name; default `dpo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The change the question is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumes: Option<RawTweak>,
    /// The author's answer: `rises`, `falls` or `stays`.
    pub expect: String,
}

impl RawTweak {
    fn check(&self, field: &str) -> Result<Tweak> {
        let mut found = Vec::new();
        if let Some(b) = self.beta {
            crate::validate::positive(&format!("{field}.beta"), b)?;
            found.push(Tweak::Beta(b));
        }
        if let Some(l) = &self.loss {
            found.push(Tweak::Loss(parse_choice(
                &format!("{field}.loss"),
                "loss",
                l,
            )?));
        }
        if let Some(p) = &self.policy {
            found.push(Tweak::Policy(parse_choice(
                &format!("{field}.policy"),
                "policy class",
                p,
            )?));
        }
        if let Some(a) = &self.annotator {
            found.push(Tweak::Annotator(parse_choice(
                &format!("{field}.annotator"),
                "annotator",
                a,
            )?));
        }
        if let Some(k) = self.resample_every {
            found.push(Tweak::ResampleEvery(k.max(1)));
        }
        if let Some(on) = self.add_online {
            if !on {
                return Err(Error::invalid(
                    format!("{field}.add_online"),
                    "only `add_online = true` means something",
                ));
            }
            found.push(Tweak::AddOnline);
        }
        if let Some(l) = &self.grpo_loss_type {
            found.push(Tweak::GrpoLossType(parse_choice(
                &format!("{field}.grpo_loss_type"),
                "GRPO loss type",
                l,
            )?));
        }
        if let Some(s) = &self.scale_rewards {
            found.push(Tweak::ScaleRewards(parse_choice(
                &format!("{field}.scale_rewards"),
                "reward scaling",
                s,
            )?));
        }
        if let Some(g) = self.num_generations {
            found.push(Tweak::NumGenerations(g));
        }
        match found.as_slice() {
            [one] => Ok(*one),
            _ => Err(Error::invalid(
                field,
                format!(
                    "a tweak sets exactly one setting, this one sets {}",
                    found.len()
                ),
            )),
        }
    }
}

impl RawPrediction {
    fn check(&self, field: &str, space: Option<&Space>) -> Result<Prediction> {
        let quantity = match self.watch.as_str() {
            "ood-mass" => Quantity::OodMass,
            "probability" => {
                let Some(name) = &self.response else {
                    return Err(Error::invalid(
                        format!("{field}.response"),
                        "watch = \"probability\" needs the response's name",
                    ));
                };
                if let Some(space) = space
                    && space.index_of(name).is_none()
                {
                    return Err(Error::invalid(
                        format!("{field}.response"),
                        format!("{name:?} is not a response of the space"),
                    ));
                }
                Quantity::Probability(name.clone())
            }
            "logps-chosen" => Quantity::LogpsChosen,
            "rewards-chosen" => Quantity::RewardsChosen,
            "expected-reward" => Quantity::ExpectedReward,
            "kl-to-optimal" => Quantity::KlToOptimal,
            "mean-length" => Quantity::MeanLength,
            "mean-length-correct" => Quantity::MeanLengthCorrect,
            other => {
                return Err(Error::invalid(
                    format!("{field}.watch"),
                    format!(
                        "unknown quantity {other:?}: expected {}",
                        crate::names::one_of(&WATCHES)
                    ),
                ));
            }
        };
        if self.response.is_some() && !matches!(quantity, Quantity::Probability(_)) {
            return Err(Error::invalid(
                format!("{field}.response"),
                "only watch = \"probability\" names a response",
            ));
        }
        let method = match &self.method {
            Some(m) => parse_choice(&format!("{field}.method"), "method", m)?,
            None => MethodKind::Dpo,
        };
        if method == MethodKind::Optimal {
            return Err(Error::invalid(
                format!("{field}.method"),
                "\"optimal\" does not train: watch a method that does",
            ));
        }
        Ok(Prediction {
            question: self.question.clone(),
            quantity,
            method,
            assumes: self
                .assumes
                .as_ref()
                .map(|t| t.check(&format!("{field}.assumes")))
                .transpose()?,
            expect: Outcome::parse(&format!("{field}.expect"), &self.expect)?,
        })
    }
}

impl RawLesson {
    /// The typed lesson; `space` (when given) checks a watched response's
    /// name; `k` numbers the table in errors.
    pub fn check(&self, k: usize, space: Option<&Space>) -> Result<Lesson> {
        let field = format!("lesson[{k}]");
        let text = |key: &str, s: &str| {
            if s.trim().is_empty() {
                Err(Error::invalid(
                    format!("{field}.{key}"),
                    "must not be empty",
                ))
            } else {
                Ok(s.to_string())
            }
        };
        let stop = match self.stop {
            Some(0) => {
                return Err(Error::invalid(
                    format!("{field}.stop"),
                    "stops count from 1",
                ));
            }
            Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            None => None,
        };
        Ok(Lesson {
            stop,
            title: text("title", &self.title)?,
            tab: match &self.tab {
                Some(t) => parse_choice(&format!("{field}.tab"), "tab", t)?,
                None => Tab::default(),
            },
            notice: text("notice", &self.notice)?,
            experiment: self
                .experiment
                .as_deref()
                .map(|e| parse_choice(&format!("{field}.experiment"), "experiment", e))
                .transpose()?,
            try_this: self
                .try_this
                .iter()
                .enumerate()
                .map(|(i, t)| t.check(&format!("{field}.try_this[{i}]")))
                .collect::<Result<_>>()?,
            predict: self
                .predict
                .as_ref()
                .map(|p| p.check(&format!("{field}.predict"), space))
                .transpose()?,
            key_curve: match &self.key_curve {
                Some(c) => parse_choice(&format!("{field}.key_curve"), "curve", c)?,
                None => Curve::default(),
            },
            derivation: match &self.derivation {
                Some(d) => parse_choice(&format!("{field}.derivation"), "section", d)?,
                None => Section::default(),
            },
        })
    }
}
