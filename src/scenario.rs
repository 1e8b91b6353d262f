//! Scenario files (SPEC "Scenario files"): raw TOML settings, checked once
//! into a [`Scenario`] that only holds valid values.
//!
//! Built-in scenarios are the files in `assets/scenarios/`, compiled into the
//! binary so `dpo-lab` works from any directory; each loads by its `name` or
//! by path.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::data::{DataKind, DataSpec, PairData};
use crate::error::{Error, Result};
use crate::loss::PairLoss;
use crate::method::PpoSettings;
use crate::method::{Annotator, MethodKind};
use crate::names::parse_choice;
use crate::optim::OptimizerKind;
use crate::optimal::check_beta;
use crate::policy::{FeatureSet, PolicyClass, PolicyKind};
use crate::problem::Problem;
use crate::reference::{BigramReference, ReferenceSpec, build_log_reference};
use crate::reward::{RewardSpec, SequenceReward, build_reward};
use crate::reward_model::{FitSettings, RewardModelClass, RewardModelKind};
use crate::space::ResponseSpace;
use crate::train::{
    OnlineSettings, RlhfOptimizer, RlhfOptimizerName, RlhfSettings, RunConfig, TrainSettings,
};

/// The built-in scenarios, in lesson order: `(file name, TOML text)`.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "optimal-policy.toml",
        include_str!("../assets/scenarios/optimal-policy.toml"),
    ),
    (
        "ratio-intuition.toml",
        include_str!("../assets/scenarios/ratio-intuition.toml"),
    ),
    (
        "ood-leak.toml",
        include_str!("../assets/scenarios/ood-leak.toml"),
    ),
    (
        "the-the-the.toml",
        include_str!("../assets/scenarios/the-the-the.toml"),
    ),
    (
        "offline-vs-online.toml",
        include_str!("../assets/scenarios/offline-vs-online.toml"),
    ),
    (
        "length-bias.toml",
        include_str!("../assets/scenarios/length-bias.toml"),
    ),
    (
        "deterministic-preferences.toml",
        include_str!("../assets/scenarios/deterministic-preferences.toml"),
    ),
    (
        "large-space.toml",
        include_str!("../assets/scenarios/large-space.toml"),
    ),
];

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
    /// More prompts over the same space (`[[prompts]]`): each may replace
    /// the reference, reward and data; what it omits comes from the
    /// top-level tables. Without it the scenario has one prompt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<RawPrompt>,
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
    /// Pair loss of `dpo`: `dpo` (default), `ipo`, `hinge`, `cdpo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<String>,
    /// Label smoothing ε of `cdpo` (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_smoothing: Option<f64>,
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
    pub optimizer: Option<String>,
    /// `--log-every`.
    pub log_every: Option<u64>,
    /// `--batch`.
    pub batch: Option<u64>,
    /// `--loss`.
    pub loss: Option<String>,
    /// `--policy`.
    pub policy: Option<String>,
    /// `--resample-every`.
    pub resample_every: Option<u64>,
    /// `--annotator`.
    pub annotator: Option<String>,
    /// `--rlhf-optimizer`.
    pub rlhf_optimizer: Option<String>,
    /// `--reward-model`.
    pub reward_model: Option<String>,
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
        if o.optimizer.is_some() {
            t.optimizer = o.optimizer.clone();
        }
        if o.loss.is_some() {
            t.loss = o.loss.clone();
        }
        if o.policy.is_some() {
            self.policy.kind = o.policy.clone();
            if o.policy.as_deref() != Some("loglinear") {
                self.policy.features = None;
            }
        }
        self.online.resample_every = o.resample_every.or(self.online.resample_every);
        if o.annotator.is_some() {
            self.online.annotator = o.annotator.clone();
        }
        if o.rlhf_optimizer.is_some() {
            self.rlhf.optimizer = o.rlhf_optimizer.clone();
        }
        if o.reward_model.is_some() {
            self.rlhf.reward_model = o.reward_model.clone();
        }
    }

    /// Writes the scenario back as TOML (reloads to the same settings).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self)
            .map_err(|e| Error::Unsupported(format!("cannot write scenario as TOML: {e}")))
    }
}

/// One checked prompt: its problem and data.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// Its name.
    pub name: String,
    /// Its problem.
    pub problem: Arc<Problem>,
    /// How its data was specified.
    pub data_spec: DataSpec,
    /// Its data.
    pub data: Arc<PairData>,
    /// Its annotator's length bonus.
    pub length_bonus: f64,
}

/// A checked scenario: every value valid, the problem and data built.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The settings it was checked from (for export).
    pub raw: RawScenario,
    /// The focused prompt's problem (the first unless the app chose another).
    pub problem: Arc<Problem>,
    /// How the focused prompt's data was specified.
    pub data_spec: DataSpec,
    /// The focused prompt's data.
    pub data: Arc<PairData>,
    /// The focused prompt's annotator length bonus.
    pub length_bonus: f64,
    /// Every prompt, the first included.
    pub prompts: Vec<Prompt>,
    /// The prompt `problem`, `data` and `run_config` describe.
    focus: usize,
    /// The policy class.
    pub policy: PolicyKind,
    /// Training settings.
    pub train: TrainSettings,
    /// Online settings.
    pub online: OnlineSettings,
    /// RLHF settings.
    pub rlhf: RlhfSettings,
}

fn to_usize(field: &str, v: u64) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::invalid(field, format!("{v} is too large")))
}

fn require<T: Clone>(field: &str, v: &Option<T>, why: &str) -> Result<T> {
    v.clone()
        .ok_or_else(|| Error::invalid(field, format!("is required {why}")))
}

impl Scenario {
    /// Checks raw settings and builds the problem and data.
    pub fn check(raw: RawScenario) -> Result<Self> {
        if raw.name.trim().is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        // Everything that needs no data first, cheapest first: settings,
        // then the problems, then sizes of tables, and the data last.
        let train = check_train(&raw.train)?;
        let online = check_online(&raw.online)?;
        if raw.prompts.len() > MAX_PROMPTS {
            return Err(Error::invalid(
                "prompts",
                format!("at most {MAX_PROMPTS} prompts, got {}", raw.prompts.len()),
            ));
        }
        let space = check_space(&raw.space)?;
        let prefixed = |k: usize| {
            move |e: Error| match e {
                Error::Invalid { field, message } => {
                    Error::invalid(format!("prompts[{k}].{field}"), message)
                }
                other => other,
            }
        };
        let mut problems = vec![check_problem(
            &space,
            &raw.reference,
            &raw.reward,
            train.beta,
        )?];
        for (k, p) in raw.prompts.iter().enumerate() {
            problems.push(
                check_problem(
                    &space,
                    p.reference.as_ref().unwrap_or(&raw.reference),
                    p.reward.as_ref().unwrap_or(&raw.reward),
                    train.beta,
                )
                .map_err(prefixed(k))?,
            );
        }
        let policy = policy_kind(&raw.policy, &problems[0])?;
        let rlhf = check_rlhf(&raw.rlhf, &problems[0])?;
        let mut prompts = Vec::with_capacity(problems.len());
        for (k, problem) in problems.into_iter().enumerate() {
            let (name, data) = if k == 0 {
                ("prompt 1".to_string(), &raw.data)
            } else {
                let p = &raw.prompts[k - 1];
                (
                    p.name
                        .clone()
                        .unwrap_or_else(|| format!("prompt {}", k + 1)),
                    p.data.as_ref().unwrap_or(&raw.data),
                )
            };
            let prompt = check_prompt_data(name, problem, data);
            prompts.push(if k == 0 {
                prompt?
            } else {
                prompt.map_err(prefixed(k - 1))?
            });
        }
        let first = prompts[0].clone();
        Ok(Scenario {
            raw,
            problem: first.problem,
            data_spec: first.data_spec,
            data: first.data,
            length_bonus: first.length_bonus,
            prompts,
            focus: 0,
            policy,
            train,
            online,
            rlhf,
        })
    }

    /// Loads a built-in by name or a `.toml` file by path, applies the
    /// overrides and checks it.
    ///
    /// Errors name the setting by its scenario-file key; where the value
    /// came from a command-line flag, the key is followed by `(from
    /// --flag)`, e.g. `train.beta (from --beta): must be …`.
    pub fn load(name_or_path: &str, overrides: &Overrides) -> Result<Self> {
        let mut raw = load_raw(name_or_path)?;
        raw.apply(overrides);
        Scenario::check(raw).map_err(|e| overrides.name_flag(e))
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.raw.name
    }

    /// The run configuration of one method on the focused prompt (the
    /// first unless [`Scenario::focus_prompt`] chose another).
    pub fn run_config(&self, method: MethodKind) -> RunConfig {
        self.prompt_config(self.focus, method)
    }

    /// Makes prompt `k` (0-based) the one that [`Scenario::problem`],
    /// [`Scenario::data`] and [`Scenario::run_config`] describe: the app
    /// shows one prompt at a time. `run_configs` still covers every prompt.
    pub fn focus_prompt(&mut self, k: usize) -> Result<()> {
        let Some(p) = self.prompts.get(k) else {
            return Err(Error::invalid(
                "prompt",
                format!(
                    "the scenario has {} prompts, got prompt {}",
                    self.prompts.len(),
                    k + 1
                ),
            ));
        };
        self.problem = p.problem.clone();
        self.data_spec = p.data_spec.clone();
        self.data = p.data.clone();
        self.length_bonus = p.length_bonus;
        self.focus = k;
        Ok(())
    }

    /// The prompt that [`Scenario::run_config`] trains (0-based).
    pub fn focused_prompt(&self) -> usize {
        self.focus
    }

    /// The run configurations of one method, one per prompt; prompt `k`
    /// uses seed `train.seed + k`.
    pub fn run_configs(&self, method: MethodKind) -> Vec<RunConfig> {
        (0..self.prompts.len())
            .map(|k| self.prompt_config(k, method))
            .collect()
    }

    /// The run configuration of prompt `k` (seed `train.seed + k`). `ipo`
    /// is offline training with the IPO loss; `optimal` takes no
    /// steps (the closed form).
    pub fn prompt_config(&self, k: usize, method: MethodKind) -> RunConfig {
        let mut train = self.train.clone();
        train.seed = train.seed.wrapping_add(k as u64);
        match method {
            MethodKind::Ipo => train.loss = crate::loss::PairLoss::Ipo,
            MethodKind::Optimal => train.steps = 0,
            _ => {}
        }
        RunConfig {
            problem: self.prompts[k].problem.clone(),
            data: self.prompts[k].data.clone(),
            policy: self.policy.clone(),
            train,
            online: self.online.clone(),
            rlhf: self.rlhf.clone(),
            method,
        }
    }
}

/// The one-line summary of a raw scenario.
pub fn summary_of(raw: &RawScenario) -> String {
    raw.summary.clone().unwrap_or_else(|| {
        let d = raw.description.trim();
        let first = d.split(". ").next().unwrap_or(d);
        first.trim_end_matches('.').to_string()
    })
}

/// The deepest nesting of tables (dotted headers or keys) and arrays a
/// scenario file may use; the deepest real one uses 3.
pub const MAX_NESTING: usize = 16;

/// The line of the first header, dotted key or array nested deeper than
/// [`MAX_NESTING`] (a cheap scan before TOML's own recursion limit, which
/// reports no line).
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (k, line) in text.split(['\n', '\r']).enumerate() {
        // The line's code outside strings and comments.
        let mut code = String::with_capacity(line.len());
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for c in line.chars() {
            match quote {
                Some(q) => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' && q == '"' {
                        escaped = true;
                    } else if c == q {
                        quote = None;
                    }
                }
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == '#' => break,
                None => code.push(c),
            }
        }
        let t = code.trim_start();
        if t.starts_with('[') && !code.contains('=') {
            // A header: its dots count, not its brackets.
            if t.matches('.').count() + 1 > MAX_NESTING {
                return Some(k + 1);
            }
            continue;
        }
        if let Some((key, _)) = code.split_once('=')
            && key.matches('.').count() + 1 > MAX_NESTING
        {
            return Some(k + 1);
        }
        for c in code.chars() {
            match c {
                '[' | '{' => depth += 1,
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_NESTING {
                return Some(k + 1);
            }
        }
    }
    None
}

/// `s` on one line of at most `max` characters, control characters shown
/// as spaces.
fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The largest scenario file read. Real ones are a few kB; 4 MiB holds an
/// explicit list of ~400,000 response names and parses in about half a
/// second, while larger spaces are generated (`space.size = N`).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a scenario file: only a regular file (a FIFO would block, a device
/// never end), through a reader bounded at [`MAX_FILE_BYTES`] whatever size
/// the file system reports.
fn read_scenario_file(name_or_path: &str) -> Result<String> {
    use std::io::Read;
    let fail = |message: String| Error::File {
        path: name_or_path.to_string(),
        message,
    };
    let path = Path::new(name_or_path);
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        return Err(fail(format!("is {what}; give a .toml scenario file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(format!(
            "is {} bytes, more than the {} MiB limit (for large spaces use `space.size = N` instead of listing every response)",
            meta.len(),
            MAX_FILE_BYTES >> 20
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(format!(
            "is more than the {} MiB limit",
            MAX_FILE_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Reads a built-in scenario by name, or a file by path.
pub fn load_raw(name_or_path: &str) -> Result<RawScenario> {
    for (file, text) in BUILTIN {
        if file.trim_end_matches(".toml") == name_or_path {
            return RawScenario::parse(text, file);
        }
    }
    let path = Path::new(name_or_path);
    if path.extension().is_some_and(|e| e == "toml") || path.exists() {
        let text = read_scenario_file(name_or_path)?;
        return RawScenario::parse(&text, name_or_path);
    }
    Err(Error::UnknownScenario(name_or_path.to_string()))
}

/// Every built-in scenario, parsed.
pub fn builtins() -> Vec<RawScenario> {
    BUILTIN
        .iter()
        .map(|(file, text)| {
            RawScenario::parse(text, file).expect("built-in scenarios are tested to parse")
        })
        .collect()
}

/// The most prompts a scenario may have.
pub const MAX_PROMPTS: usize = 1000;

/// One prompt's reference and reward, and the closed form's range check
/// `|r|/β` (named after β, the setting a user changes).
fn check_problem(
    space: &ResponseSpace,
    reference: &RawReference,
    reward: &RawReward,
    beta: f64,
) -> Result<Problem> {
    let log_ref = build_log_reference(space, &reference_spec(reference, space)?)?;
    let reward = build_reward(space, &reward_spec(reward, space)?)?;
    let problem = Problem::new(space.clone(), log_ref, reward)?;
    crate::optimal::check_reward_scale("train.beta", &problem.reward, beta)?;
    Ok(problem)
}

/// One prompt's data, built last: it is the costly part.
fn check_prompt_data(name: String, problem: Problem, data: &RawData) -> Result<Prompt> {
    let length_bonus = data.length_bonus.unwrap_or(0.0);
    if !length_bonus.is_finite() {
        return Err(Error::invalid(
            "data.length_bonus",
            format!(
                "must be finite, got {}",
                crate::numerics::show(length_bonus)
            ),
        ));
    }
    let data_spec = data_spec(data)?;
    let label: Vec<f64> = (0..problem.len())
        .map(|y| problem.reward[y] + length_bonus * problem.space.length(y) as f64)
        .collect();
    let data = PairData::build(&problem, &data_spec, &label)?;
    Ok(Prompt {
        name,
        problem: Arc::new(problem),
        data_spec,
        data: Arc::new(data),
        length_bonus,
    })
}

fn check_space(s: &RawSpace) -> Result<ResponseSpace> {
    match s.kind.as_deref().unwrap_or("flat") {
        "flat" => match (&s.responses, s.size) {
            (Some(names), None) => ResponseSpace::flat(names.clone()),
            (None, Some(size)) => ResponseSpace::generated(size),
            (Some(_), Some(_)) => Err(Error::invalid(
                "space",
                "give either `responses` or `size`, not both",
            )),
            (None, None) => Err(Error::invalid(
                "space",
                "a flat space needs `responses = [names]` or `size = N`",
            )),
        },
        "sequences" => {
            let vocab = require("space.vocab", &s.vocab, "for a sequence space")?;
            let max_len = require("space.max_len", &s.max_len, "for a sequence space")?;
            if max_len > 64 {
                return Err(Error::invalid(
                    "space.max_len",
                    format!("must be at most 64, got {max_len}"),
                ));
            }
            ResponseSpace::sequences(vocab, max_len as usize)
        }
        other => Err(Error::invalid(
            "space.kind",
            format!("unknown kind {other:?}: expected \"flat\" or \"sequences\""),
        )),
    }
}

fn reference_spec(r: &RawReference, space: &ResponseSpace) -> Result<ReferenceSpec> {
    let kind = match (&r.kind, &r.probs) {
        (Some(k), _) => k.as_str(),
        (None, Some(_)) => "explicit",
        (None, None) => {
            return Err(Error::invalid(
                "reference",
                "give `probs = [...]` or `kind = \"uniform\" | \"dirichlet\" | \"bigram\"`",
            ));
        }
    };
    Ok(match kind {
        "explicit" => ReferenceSpec::Explicit(require(
            "reference.probs",
            &r.probs,
            "for kind \"explicit\"",
        )?),
        "uniform" => ReferenceSpec::Uniform,
        "dirichlet" => ReferenceSpec::Dirichlet {
            alpha: r.alpha.unwrap_or(1.0),
            seed: r.seed.unwrap_or(0),
        },
        "bigram" => {
            let v = space.vocab_len();
            ReferenceSpec::Bigram(BigramReference {
                start: r.start.clone().unwrap_or_else(|| vec![1.0 / v as f64; v]),
                transition: r
                    .transition
                    .clone()
                    .unwrap_or_else(|| vec![vec![1.0 / v as f64; v]; v]),
                end: require("reference.end", &r.end, "for kind \"bigram\"")?,
                overrides: r
                    .overrides
                    .iter()
                    .map(|o| (o.prefix.clone(), o.probs.clone()))
                    .collect(),
            })
        }
        other => {
            return Err(Error::invalid(
                "reference.kind",
                format!(
                    "unknown kind {other:?}: expected \"explicit\", \"uniform\", \"dirichlet\" or \"bigram\""
                ),
            ));
        }
    })
}

fn reward_spec(r: &RawReward, space: &ResponseSpace) -> Result<RewardSpec> {
    let kind = match (&r.kind, &r.values) {
        (Some(k), _) => k.as_str(),
        (None, Some(_)) => "explicit",
        (None, None) => {
            return Err(Error::invalid(
                "reward",
                "give `values = [...]` or `kind = \"gaussian\" | \"sequence\"`",
            ));
        }
    };
    Ok(match kind {
        "explicit" => RewardSpec::Explicit(require(
            "reward.values",
            &r.values,
            "for kind \"explicit\"",
        )?),
        "gaussian" => RewardSpec::Gaussian {
            mean: r.mean.unwrap_or(0.0),
            std: r.std.unwrap_or(1.0),
            seed: r.seed.unwrap_or(0),
        },
        "sequence" => {
            let v = space.vocab_len();
            RewardSpec::Sequence(SequenceReward {
                tokens: r.tokens.clone().unwrap_or_else(|| vec![0.0; v]),
                transitions: r
                    .transitions
                    .clone()
                    .unwrap_or_else(|| vec![vec![0.0; v]; v]),
                length: r.length.unwrap_or(0.0),
                overrides: r.overrides.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            })
        }
        other => {
            return Err(Error::invalid(
                "reward.kind",
                format!(
                    "unknown kind {other:?}: expected \"explicit\", \"gaussian\" or \"sequence\""
                ),
            ));
        }
    })
}

fn data_spec(d: &RawData) -> Result<DataSpec> {
    let kind: DataKind = match &d.kind {
        Some(k) => parse_choice("data.kind", "kind", k)?,
        None => DataKind::default(),
    };
    match kind {
        DataKind::Population => Ok(DataSpec::Population {
            sampler: d.sampler.clone(),
        }),
        DataKind::Pairs => {
            let listed = require("data.pairs", &d.pairs, "for kind \"pairs\"")?;
            let mut pairs = Vec::with_capacity(listed.len());
            for (k, p) in listed.into_iter().enumerate() {
                match <[String; 2]>::try_from(p) {
                    Ok([c, r]) => pairs.push((c, r)),
                    Err(p) => {
                        return Err(Error::invalid(
                            format!("data.pairs[{k}]"),
                            format!(
                                "a pair is [chosen, rejected], got {} entries: {p:?}",
                                p.len()
                            ),
                        ));
                    }
                }
            }
            Ok(DataSpec::Pairs(pairs))
        }
        DataKind::Sampled => Ok(DataSpec::Sampled {
            size: to_usize(
                "data.size",
                require("data.size", &d.size, "for kind \"sampled\"")?,
            )?,
            seed: d.seed.unwrap_or(0),
            sampler: d.sampler.clone(),
        }),
    }
}

fn policy_kind(p: &RawPolicy, problem: &Problem) -> Result<PolicyKind> {
    let class: PolicyClass = match &p.kind {
        Some(k) => parse_choice("policy.kind", "kind", k)?,
        None => PolicyClass::default(),
    };
    let kind = match class {
        PolicyClass::Tabular => PolicyKind::Tabular,
        PolicyClass::Autoregressive => PolicyKind::Autoregressive,
        PolicyClass::Loglinear => {
            PolicyKind::LogLinear(feature_set("policy.features", &p.features, problem)?)
        }
    };
    if kind == PolicyKind::Autoregressive && !problem.space.is_sequences() {
        return Err(Error::invalid(
            "policy.kind",
            "\"autoregressive\" needs a sequence space (space.kind = \"sequences\")",
        ));
    }
    Ok(kind)
}

/// Checks a log-linear feature choice (policy or reward model).
fn feature_set(field: &str, raw: &Option<RawFeatures>, problem: &Problem) -> Result<FeatureSet> {
    let features = match raw {
        None if problem.space.is_sequences() => FeatureSet::Sequence {
            tokens: true,
            length: true,
            bigrams: false,
        },
        None => {
            return Err(Error::invalid(
                field,
                "a flat log-linear model needs `features = [[…], …]` (one row per response) or `features = { kind = \"random\", dim = D, seed = S }`",
            ));
        }
        Some(RawFeatures::Names(names)) => {
            let mut f = (false, false, false);
            for n in names {
                match n.as_str() {
                    "tokens" => f.0 = true,
                    "length" => f.1 = true,
                    "bigrams" => f.2 = true,
                    other => {
                        return Err(Error::invalid(
                            field,
                            format!(
                                "unknown feature {other:?}: expected \"tokens\", \"length\" or \"bigrams\""
                            ),
                        ));
                    }
                }
            }
            FeatureSet::Sequence {
                tokens: f.0,
                length: f.1,
                bigrams: f.2,
            }
        }
        Some(RawFeatures::Rows(rows)) => FeatureSet::Explicit(rows.clone()),
        Some(RawFeatures::Random { kind, dim, seed }) => {
            if kind != "random" {
                return Err(Error::invalid(
                    format!("{field}.kind"),
                    format!("unknown kind {kind:?}: expected \"random\""),
                ));
            }
            FeatureSet::Random {
                dim: to_usize(&format!("{field}.dim"), *dim)?,
                seed: *seed,
            }
        }
    };
    // Build once so a bad table fails here, not in the first run.
    features.table(problem).map_err(|e| match e {
        Error::Invalid { message, .. } => Error::invalid(field, message),
        Error::TooLarge { what, size, limit } => Error::invalid(
            field,
            format!("the {what} would have {size} entries (responses × features), more than the limit of {limit}"),
        ),
        other => other,
    })?;
    Ok(features)
}

fn positive(field: &str, v: f64) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Error::invalid(
            field,
            format!(
                "must be a finite number > 0, got {}",
                crate::numerics::show(v)
            ),
        ))
    }
}

fn check_rlhf(r: &RawRlhf, problem: &Problem) -> Result<RlhfSettings> {
    let class: RewardModelClass = match &r.reward_model {
        Some(k) => parse_choice("rlhf.reward_model", "reward model", k)?,
        None => RewardModelClass::default(),
    };
    let reward_model = match class {
        RewardModelClass::Tabular => RewardModelKind::Tabular,
        RewardModelClass::Loglinear => {
            RewardModelKind::LogLinear(feature_set("rlhf.features", &r.features, problem)?)
        }
    };
    let fd = FitSettings::default();
    let rm_steps = r.rm_steps.unwrap_or(fd.steps as u64);
    if rm_steps > 10_000_000 {
        return Err(Error::invalid(
            "rlhf.rm_steps",
            format!("must be at most 10000000, got {rm_steps}"),
        ));
    }
    let l2 = r.rm_l2.unwrap_or(fd.l2);
    if !(l2.is_finite() && l2 >= 0.0) {
        return Err(Error::invalid(
            "rlhf.rm_l2",
            format!("must be a finite number ≥ 0, got {l2}"),
        ));
    }
    let fit = FitSettings {
        steps: rm_steps as usize,
        lr: positive("rlhf.rm_lr", r.rm_lr.unwrap_or(fd.lr))?,
        l2,
    };
    let name: RlhfOptimizerName = match &r.optimizer {
        Some(k) => parse_choice("rlhf.optimizer", "optimizer", k)?,
        None => RlhfOptimizerName::default(),
    };
    let optimizer = match name {
        RlhfOptimizerName::Exact => RlhfOptimizer::Exact,
        RlhfOptimizerName::Ppo => {
            let pd = PpoSettings::default();
            let batch = r.batch.unwrap_or(pd.batch as u64);
            if batch == 0 || batch > 1_000_000 {
                return Err(Error::invalid(
                    "rlhf.batch",
                    format!("must be between 1 and 1000000, got {batch}"),
                ));
            }
            let epochs = r.epochs.unwrap_or(pd.epochs as u64);
            if epochs == 0 || epochs > 1000 {
                return Err(Error::invalid(
                    "rlhf.epochs",
                    format!("must be between 1 and 1000, got {epochs}"),
                ));
            }
            let clip = r.clip.unwrap_or(pd.clip);
            if !(clip.is_finite() && clip > 0.0 && clip < 1.0) {
                return Err(Error::invalid(
                    "rlhf.clip",
                    format!("must be in (0, 1), got {}", crate::numerics::show(clip)),
                ));
            }
            RlhfOptimizer::Ppo(PpoSettings {
                batch: batch as usize,
                epochs: epochs as usize,
                clip,
                value_lr: positive("rlhf.value_lr", r.value_lr.unwrap_or(pd.value_lr))?,
            })
        }
    };
    let lr = match r.lr {
        Some(lr) => Some(positive("rlhf.lr", lr)?),
        None => None,
    };
    Ok(RlhfSettings {
        lr,
        optimizer,
        reward_model,
        fit,
    })
}

/// The largest number of steps a run may take.
pub const MAX_STEPS: u64 = 100_000_000;

fn check_train(t: &RawTrain) -> Result<TrainSettings> {
    let d = TrainSettings::default();
    let beta = check_beta("train.beta", t.beta.unwrap_or(d.beta))?;
    let lr = t.lr.unwrap_or(d.lr);
    if !(lr.is_finite() && lr > 0.0) {
        return Err(Error::invalid(
            "train.lr",
            format!(
                "must be a finite number > 0, got {}",
                crate::numerics::show(lr)
            ),
        ));
    }
    let optimizer = match &t.optimizer {
        Some(o) => OptimizerKind::parse(o)?,
        None => d.optimizer,
    };
    let steps = t.steps.unwrap_or(d.steps as u64);
    if steps > MAX_STEPS {
        return Err(Error::invalid(
            "train.steps",
            format!("must be at most {MAX_STEPS}, got {steps}"),
        ));
    }
    let steps = to_usize("train.steps", steps)?;
    let batch = to_usize("train.batch", t.batch.unwrap_or(d.batch as u64))?;
    if batch > crate::data::MAX_SAMPLED_PAIRS {
        return Err(Error::invalid(
            "train.batch",
            format!(
                "must be at most {}, got {batch}",
                crate::data::MAX_SAMPLED_PAIRS
            ),
        ));
    }
    let log_every = match t.log_every {
        Some(k) => to_usize("train.log_every", k)?,
        None => (steps / 50).max(1),
    };
    let eps = t
        .label_smoothing
        .unwrap_or(crate::loss::DEFAULT_LABEL_SMOOTHING);
    let loss = match &t.loss {
        Some(l) => PairLoss::parse(l, eps)?,
        None => d.loss,
    };
    Ok(TrainSettings {
        beta,
        lr,
        optimizer,
        steps,
        batch,
        seed: t.seed.unwrap_or(d.seed),
        log_every,
        loss,
    })
}

fn check_online(o: &RawOnline) -> Result<OnlineSettings> {
    let d = OnlineSettings::default();
    let resample_every = o.resample_every.unwrap_or(d.resample_every as u64);
    if resample_every == 0 {
        return Err(Error::invalid(
            "online.resample_every",
            "must be at least 1 (1 = fresh pairs every step), got 0",
        ));
    }
    let batch = o.batch.unwrap_or(d.batch as u64);
    if batch == 0 || batch > 1_000_000 {
        return Err(Error::invalid(
            "online.batch",
            format!("must be between 1 and 1000000, got {batch}"),
        ));
    }
    Ok(OnlineSettings {
        resample_every: to_usize("online.resample_every", resample_every)?,
        batch: batch as usize,
        annotator: match &o.annotator {
            Some(a) => Annotator::parse(a)?,
            None => d.annotator,
        },
    })
}
