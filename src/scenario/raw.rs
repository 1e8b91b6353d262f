//! The scenario file's schema as written (every key optional; the checks
//! decide), TOML parsing with one-line errors, and command-line overrides.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

use super::file::{MAX_NESTING, floor_char_boundary, one_line, too_deep};

/// A scenario file as written (every key optional here; `check` decides).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Short name (`dpo-lab run --scenario NAME`).
    pub name: String,
    /// What the class should notice, readable aloud.
    #[serde(default)]
    pub description: String,
    /// A short "what to notice" for the app's lesson strip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The lesson's claim, with the conditions under which it holds: the
    /// statement `tests/lessons.rs` checks over seeds and nearby settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// A one-line summary for `dpo-lab scenarios` (default: the
    /// description's first sentence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The responses the lesson is about: the app pins them to the first
    /// slots of its bar chart and highlights them (names from the space).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub focus: Vec<String>,
    /// The name of the first prompt, the one the top-level tables describe
    /// (default `prompt 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_name: Option<String>,
    /// The methods the app runs side by side when the scenario opens
    /// (command-line names; default `["dpo"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// The response space.
    pub space: RawSpace,
    /// The reference policy.
    pub reference: RawReference,
    /// The true reward.
    pub reward: RawReward,
    /// The preference data (default: population over π_ref).
    #[serde(default)]
    pub data: RawData,
    /// The policy class (default tabular).
    #[serde(default)]
    pub policy: RawPolicy,
    /// Training settings.
    #[serde(default)]
    pub train: RawTrain,
    /// Online DPO settings.
    #[serde(default)]
    pub online: RawOnline,
    /// RLHF and reward-model settings.
    #[serde(default)]
    pub rlhf: RawRlhf,
    /// GRPO settings (TRL's `GRPOConfig` names).
    #[serde(default)]
    pub grpo: RawGrpo,
    /// RLOO settings (TRL's `RLOOConfig` names).
    #[serde(default)]
    pub rloo: RawRloo,
    /// More prompts over the same space (`[[prompts]]`): each may replace
    /// the reference, reward and data; what it omits comes from the
    /// top-level tables. Without it the scenario has one prompt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<RawPrompt>,
    /// Guided stops on this scenario (`[[lesson]]`, `super::lesson`): not
    /// written back by `to_toml`, whose file is the settings, not the stop.
    #[serde(default, rename = "lesson", skip_serializing)]
    pub lessons: Vec<super::lesson::RawLesson>,
}

/// One `[[prompts]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrompt {
    /// Its name (default `prompt K`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its reference (default: the top-level `[reference]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<RawReference>,
    /// Its reward (default: the top-level `[reward]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<RawReward>,
    /// Its data (default: the top-level `[data]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<RawData>,
}

/// `[rlhf]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRlhf {
    /// `exact` (default) or `ppo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<String>,
    /// Policy learning rate of RLHF (default `train.lr`): its step does not
    /// scale with β² as DPO's does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// `tabular` (default) or `loglinear`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_model: Option<String>,
    /// Log-linear reward-model features (default as for policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<RawFeatures>,
    /// Reward-model gradient steps (default 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rm_steps: Option<u64>,
    /// Reward-model step size (default 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rm_lr: Option<f64>,
    /// Reward-model L2 penalty (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rm_l2: Option<f64>,
    /// PPO: responses per batch (default 64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// PPO: passes per batch (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u64>,
    /// PPO: clip range ε (default 0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<f64>,
    /// PPO: value-baseline step size (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_lr: Option<f64>,
}

/// `[grpo]`: TRL's `GRPOConfig` keys the simulator reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrpo {
    /// Answers per prompt per step, G (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_generations: Option<u64>,
    /// `grpo`, `bnpo`, `dr_grpo` or `dapo` (default `dapo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_type: Option<String>,
    /// `group`, `batch` or `none` (default `group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_rewards: Option<String>,
    /// Per-token KL coefficient (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// Lower clip range (default 0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f64>,
    /// Upper clip range (default: `epsilon`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon_high: Option<f64>,
    /// Updates per drawn group (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_iterations: Option<u64>,
    /// Train on the exact expected update (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<bool>,
}

/// `[rloo]`: TRL's `RLOOConfig` keys the simulator reads; each key it
/// omits comes from `[grpo]` (so one `[grpo]` table configures both group
/// methods), then from `[grpo]`'s defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRloo {
    /// Answers per prompt per step (default: `[grpo]`'s, 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_generations: Option<u64>,
    /// KL coefficient of the reward penalty (default: `[grpo]`'s, 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// Lower clip range (default 0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f64>,
    /// Upper clip range (default: `epsilon`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon_high: Option<f64>,
    /// Updates per drawn group (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_iterations: Option<u64>,
    /// Standardise advantages over the batch (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize_advantages: Option<bool>,
    /// Train on the exact expected update (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<bool>,
}

/// `[space]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpace {
    /// `flat` (default) or `sequences`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Flat: response names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responses: Option<Vec<String>>,
    /// Flat: number of generated responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Sequences: token names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocab: Option<Vec<String>>,
    /// Sequences: longest sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<u64>,
}

/// `[reference]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReference {
    /// `explicit` (default when `probs` is given), `uniform`, `dirichlet`, `bigram`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Explicit probabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probs: Option<Vec<f64>>,
    /// Dirichlet concentration (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Dirichlet seed (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Bigram: first-token distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Vec<f64>>,
    /// Bigram: next-token rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<Vec<Vec<f64>>>,
    /// Bigram: end probability after each token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Vec<f64>>,
    /// Bigram: per-prefix rows over vocab + end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<RawOverride>,
}

/// One `[[reference.overrides]]` row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOverride {
    /// The prefix, tokens separated by spaces.
    pub prefix: String,
    /// Probabilities of each vocabulary token, then of ending.
    pub probs: Vec<f64>,
}

/// `[reward]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReward {
    /// `explicit` (default when `values` is given), `gaussian`, `sequence`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Explicit values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<f64>>,
    /// Gaussian mean (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Gaussian standard deviation (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    /// Gaussian seed (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Sequence: score per token (default zeros).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<f64>>,
    /// Sequence: score per adjacent pair (default zeros).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transitions: Option<Vec<Vec<f64>>>,
    /// Sequence: score per token of length (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<f64>,
    /// Sequence: named responses' rewards.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub overrides: std::collections::BTreeMap<String, f64>,
    /// Verifier: the correct responses' names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct: Option<Vec<String>>,
    /// Verifier on sequences: responses ending with this token are correct.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<String>,
}

/// `[data]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    /// `population` (default), `pairs`, `sampled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Weights over responses (default π_ref).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampler: Option<Vec<f64>>,
    /// Explicit (chosen, rejected) pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs: Option<Vec<Vec<String>>>,
    /// Sampled: number of pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Sampled: seed (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The labelling annotator's bonus per token of length (default 0): a
    /// bias the true reward does not have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_bonus: Option<f64>,
}

/// `[policy]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// `tabular` (default), `autoregressive`, `loglinear`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Log-linear features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<RawFeatures>,
    /// Log-linear only: every prompt shares θ (default false: each prompt
    /// trains its own policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
}

/// Log-linear features: names (sequences), rows (flat) or random (flat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawFeatures {
    /// Any of `"tokens"`, `"length"`, `"bigrams"`.
    Names(Vec<String>),
    /// One row of numbers per response.
    Rows(Vec<Vec<f64>>),
    /// `{ kind = "random", dim = D, seed = S }`.
    Random {
        /// Must be `random`.
        kind: String,
        /// Features per response.
        dim: u64,
        /// Seed (default 0).
        #[serde(default)]
        seed: u64,
    },
}

/// `[train]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrain {
    /// KL weight (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// Learning rate (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// `sgd` (default) or `adam`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<String>,
    /// Updates (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<u64>,
    /// Pairs per step, 0 = whole data (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// Run seed (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// History every K steps (default steps/50, at least 1; 0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_every: Option<u64>,
    /// The k of the `pass_at_k` metric of a verifier reward (default
    /// 1, 8, 64, 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_at: Option<Vec<u64>>,
    /// Pair loss of `dpo` and `online-dpo` (default `dpo`; every name in
    /// `crate::loss::LossName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<String>,
    /// Label smoothing ε of `cdpo`, `robust`, `exo_pair`, `simpo` and `cpo`
    /// (default 0, TRL's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_smoothing: Option<f64>,
    /// DiscoPOP's temperature τ (default 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discopop_tau: Option<f64>,
    /// SimPO's target margin γ (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simpo_gamma: Option<f64>,
    /// RPO's NLL weight α (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_alpha: Option<f64>,
    /// CPO's NLL weight (TRL's `cpo_alpha`, default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpo_alpha: Option<f64>,
    /// R-DPO's length penalty α (default 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdpo_alpha: Option<f64>,
    /// DPO-Positive's penalty λ (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_lambda: Option<f64>,
    /// ORPO's odds-ratio weight λ (TRL's ORPOConfig.beta; default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orpo_lambda: Option<f64>,
    /// KTO's weight of desirable answers (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desirable_weight: Option<f64>,
    /// KTO's weight of undesirable answers (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undesirable_weight: Option<f64>,
}

/// `[online]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnline {
    /// Steps between fresh samples (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resample_every: Option<u64>,
    /// Pairs per resample (default 64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// `bt` (default), `argmax`, `reward-model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotator: Option<String>,
}

/// Command-line overrides of `[train]` (and the policy class).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--beta`.
    pub beta: Option<f64>,
    /// `--lr`.
    pub lr: Option<f64>,
    /// `--steps`.
    pub steps: Option<u64>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--optimizer`.
    pub optimizer: Option<crate::optim::OptimizerKind>,
    /// `--log-every`.
    pub log_every: Option<u64>,
    /// `--batch`.
    pub batch: Option<u64>,
    /// `--loss`.
    pub loss: Option<crate::loss::LossName>,
    /// `--policy`.
    pub policy: Option<crate::policy::PolicyClass>,
    /// `--resample-every`.
    pub resample_every: Option<u64>,
    /// `--annotator`.
    pub annotator: Option<crate::method::Annotator>,
    /// `--rlhf-optimizer`.
    pub rlhf_optimizer: Option<crate::train::RlhfOptimizerName>,
    /// `--reward-model`.
    pub reward_model: Option<crate::reward_model::RewardModelClass>,
    /// `--num-generations` (GRPO's and RLOO's G).
    pub num_generations: Option<u64>,
    /// `--grpo-loss-type`.
    pub grpo_loss_type: Option<crate::rlvr::GrpoLossType>,
    /// `--scale-rewards`.
    pub scale_rewards: Option<crate::rlvr::ScaleRewards>,
    /// `--expected` (GRPO and RLOO).
    pub expected: bool,
    /// `--pass-at`.
    pub pass_at: Option<Vec<u64>>,
    /// `--allow-long`: build a scenario whose building alone is estimated
    /// above the work limit.
    pub allow_long: bool,
}

impl Overrides {
    /// The flag behind a setting, when this override set it.
    fn flag_of(&self, field: &str) -> Option<&'static str> {
        let set = |b: bool, flag| b.then_some(flag);
        match field {
            "train.beta" => set(self.beta.is_some(), "--beta"),
            "train.lr" | "rlhf.lr" => set(self.lr.is_some(), "--lr"),
            "train.steps" => set(self.steps.is_some(), "--steps"),
            "train.seed" => set(self.seed.is_some(), "--seed"),
            "train.batch" => set(self.batch.is_some(), "--batch"),
            "train.log_every" => set(self.log_every.is_some(), "--log-every"),
            "train.optimizer" => set(self.optimizer.is_some(), "--optimizer"),
            "train.loss" => set(self.loss.is_some(), "--loss"),
            "policy.kind" => set(self.policy.is_some(), "--policy"),
            "online.resample_every" => set(self.resample_every.is_some(), "--resample-every"),
            "online.annotator" => set(self.annotator.is_some(), "--annotator"),
            "rlhf.optimizer" => set(self.rlhf_optimizer.is_some(), "--rlhf-optimizer"),
            "rlhf.reward_model" => set(self.reward_model.is_some(), "--reward-model"),
            "grpo.num_generations" | "rloo.num_generations" => {
                set(self.num_generations.is_some(), "--num-generations")
            }
            "grpo.loss_type" => set(self.grpo_loss_type.is_some(), "--grpo-loss-type"),
            "grpo.scale_rewards" => set(self.scale_rewards.is_some(), "--scale-rewards"),
            "grpo.expected" | "rloo.expected" => set(self.expected, "--expected"),
            "train.pass_at" => set(self.pass_at.is_some(), "--pass-at"),
            _ => None,
        }
    }

    /// Adds `(from --flag)` to an error about a setting a flag gave.
    pub fn name_flag(&self, e: Error) -> Error {
        match e {
            Error::Invalid { field, message } => match self.flag_of(&field) {
                Some(flag) => Error::invalid(format!("{field} (from {flag})"), message),
                None => Error::Invalid { field, message },
            },
            other => other,
        }
    }
}

impl RawScenario {
    /// Prompt `k`'s tables (0: the file's own; `k ≥ 1`: `prompts[k − 1]`,
    /// which inherits any table it does not give): reference, reward, data.
    pub fn prompt_tables(&self, k: usize) -> (&RawReference, &RawReward, &RawData) {
        match k.checked_sub(1).and_then(|i| self.prompts.get(i)) {
            None => (&self.reference, &self.reward, &self.data),
            Some(p) => (
                p.reference.as_ref().unwrap_or(&self.reference),
                p.reward.as_ref().unwrap_or(&self.reward),
                p.data.as_ref().unwrap_or(&self.data),
            ),
        }
    }

    /// Parses TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let fail = |message: String| Error::File {
            path: origin.to_string(),
            message,
        };
        if let Some(line) = too_deep(text) {
            return Err(fail(format!(
                "line {line}: tables or arrays nested more than {MAX_NESTING} deep"
            )));
        }
        toml::from_str(text).map_err(|e| {
            let mut message = one_line(e.message(), 300);
            if let Some(span) = e.span() {
                let start = floor_char_boundary(text, span.start.min(text.len()));
                let before = &text[..start];
                // Lines end at \n, \r\n or a lone \r (which TOML refuses,
                // but the message must still name one short line).
                let line = before.matches('\n').count() + before.matches('\r').count()
                    - before.matches("\r\n").count()
                    + 1;
                let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
                let rest = &text[line_start..];
                let line_end = rest.find(['\n', '\r']).unwrap_or(rest.len());
                let src = one_line(&rest[..line_end], 80);
                message = format!("line {line} (`{src}`): {message}");
            }
            fail(message)
        })
    }

    /// Applies command-line overrides.
    pub fn apply(&mut self, o: &Overrides) {
        let t = &mut self.train;
        t.beta = o.beta.or(t.beta);
        t.lr = o.lr.or(t.lr);
        self.rlhf.lr = o.lr.or(self.rlhf.lr);
        t.steps = o.steps.or(t.steps);
        t.seed = o.seed.or(t.seed);
        t.batch = o.batch.or(t.batch);
        t.log_every = o.log_every.or(t.log_every);
        // A typed choice is written back under its canonical name.
        let name = |n: Option<&'static str>| n.map(str::to_string);
        if o.optimizer.is_some() {
            t.optimizer = name(o.optimizer.map(Into::into));
        }
        if o.loss.is_some() {
            t.loss = name(o.loss.map(Into::into));
        }
        if let Some(p) = o.policy {
            self.policy.kind = name(Some(p.into()));
            if p != crate::policy::PolicyClass::Loglinear {
                self.policy.features = None;
                self.policy.shared = None;
            }
        }
        self.online.resample_every = o.resample_every.or(self.online.resample_every);
        if o.annotator.is_some() {
            self.online.annotator = name(o.annotator.map(Into::into));
        }
        if o.rlhf_optimizer.is_some() {
            self.rlhf.optimizer = name(o.rlhf_optimizer.map(Into::into));
        }
        if o.reward_model.is_some() {
            self.rlhf.reward_model = name(o.reward_model.map(Into::into));
        }
        if o.num_generations.is_some() {
            self.grpo.num_generations = o.num_generations;
            self.rloo.num_generations = None;
        }
        if o.grpo_loss_type.is_some() {
            self.grpo.loss_type = name(o.grpo_loss_type.map(Into::into));
        }
        if o.scale_rewards.is_some() {
            self.grpo.scale_rewards = name(o.scale_rewards.map(Into::into));
        }
        if o.expected {
            self.grpo.expected = Some(true);
            self.rloo.expected = None;
        }
        if o.pass_at.is_some() {
            self.train.pass_at = o.pass_at.clone();
        }
    }

    /// Writes the scenario back as TOML (reloads to the same settings).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self)
            .map_err(|e| Error::Unsupported(format!("cannot write scenario as TOML: {e}")))
    }
}
