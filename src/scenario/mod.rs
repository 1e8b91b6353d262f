//! Scenario files (docs/scenario-format.md): raw TOML settings, checked once
//! into a [`Scenario`] that only holds valid values.
//!
//! Built-in scenarios are the files in `assets/scenarios/`, compiled into the
//! binary so `dpo-lab` works from any directory; each loads by its `name` or
//! by path.
//!
//! The module's rooms: [`raw`] (the schema and overrides), `file` (reading,
//! built-ins), `checks` (raw → checked), and here the checked [`Scenario`].

mod checks;
mod file;
pub mod lesson;
pub mod raw;

pub use crate::validate::MAX_STEPS;
pub use checks::MAX_PROMPTS;
use checks::*;
pub use file::{BUILTIN, MAX_FILE_BYTES, MAX_NESTING, builtins, is_builtin, load_raw};
pub use raw::*;

use std::sync::Arc;

use crate::data::{DataSpec, PairData};
use crate::error::{Error, Result};
use crate::method::MethodKind;
use crate::policy::PolicyKind;
use crate::problem::Problem;
use crate::train::{OnlineSettings, RlhfSettings, RunConfig, TrainSettings};

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
    /// Whether the prompts share the policy's parameters.
    pub shared: bool,
    /// Training settings.
    pub train: TrainSettings,
    /// Online settings.
    pub online: OnlineSettings,
    /// RLHF settings.
    pub rlhf: RlhfSettings,
    /// GRPO, RLOO and pass@k settings.
    pub rlvr: crate::rlvr::RlvrSettings,
    /// The lesson's focus responses (`focus = [...]`), as indices.
    pub focus_responses: Vec<usize>,
    /// The methods the app opens with (`methods = [...]`; default DPO).
    pub methods: Vec<MethodKind>,
    /// Its guided stops (`[[lesson]]`), checked against the space.
    pub lessons: Vec<lesson::Lesson>,
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
        let rlvr = check_rlvr(&raw.grpo, &raw.rloo, &raw.train)?;
        if raw.prompts.len() > MAX_PROMPTS {
            return Err(Error::invalid(
                "prompts",
                format!("at most {MAX_PROMPTS} prompts, got {}", raw.prompts.len()),
            ));
        }
        let space = check_space(&raw.space)?;
        checks::check_data_cheaply(&raw, &space)?;
        let problems = (0..=raw.prompts.len())
            .map(|k| {
                let (reference, reward, _) = raw.prompt_tables(k);
                check_problem(&space, reference, reward).map_err(checks::in_prompt(k))
            })
            .collect::<Result<Vec<_>>>()?;
        for (k, problem) in problems.iter().enumerate() {
            crate::optimal::check_reward_scale("train.beta", &problem.reward, train.beta).map_err(
                |e| match e {
                    Error::Invalid { field, message } if k > 0 => {
                        Error::invalid(field, format!("{message} (prompt {})", k + 1))
                    }
                    other => other,
                },
            )?;
        }
        let policy = policy_kind(&raw.policy, &problems[0])?;
        let shared = raw.policy.shared.unwrap_or(false);
        if shared && !matches!(policy, PolicyKind::LogLinear(_)) {
            return Err(Error::invalid(
                "policy.shared",
                "only a log-linear policy (kind = \"loglinear\") can share its parameters across prompts",
            ));
        }
        let rlhf = check_rlhf(&raw.rlhf, &problems[0])?;
        checks::check_data_memory(&raw, &problems)?;
        let mut prompts = Vec::with_capacity(problems.len());
        for (k, problem) in problems.into_iter().enumerate() {
            let name = match k.checked_sub(1) {
                None => raw.prompt_name.clone(),
                Some(i) => raw.prompts[i].name.clone(),
            }
            .unwrap_or_else(|| format!("prompt {}", k + 1));
            prompts.push(
                check_prompt_data(name, problem, raw.prompt_tables(k).2)
                    .map_err(checks::in_prompt(k))?,
            );
        }
        let first = prompts[0].clone();
        let focus_responses = check_focus(&raw.focus, &first.problem)?;
        let methods = check_methods(&raw.methods)?;
        let lessons = lesson::lessons_of(&raw, Some(&first.problem.space))?;
        Ok(Scenario {
            raw,
            problem: first.problem,
            data_spec: first.data_spec,
            data: first.data,
            length_bonus: first.length_bonus,
            prompts,
            focus: 0,
            policy,
            shared,
            train,
            online,
            rlhf,
            rlvr,
            focus_responses,
            methods,
            lessons,
        })
    }

    /// Loads a built-in by name or a `.toml` file by path, applies the
    /// overrides and checks it.
    ///
    /// Errors name the setting by its scenario-file key; where the value
    /// came from a command-line flag, the key is followed by `(from
    /// --flag)`, e.g. `train.beta (from --beta): must be …`.
    ///
    /// ```
    /// use dpo_lab::scenario::{Overrides, Scenario};
    ///
    /// let s = Scenario::load("ood-leak", &Overrides::default()).unwrap();
    /// assert_eq!(s.problem.len(), 5);
    /// let o = Overrides { beta: Some(-1.0), ..Overrides::default() };
    /// let e = Scenario::load("ood-leak", &o).unwrap_err();
    /// assert!(e.to_string().starts_with("train.beta"));
    /// ```
    pub fn load(name_or_path: &str, overrides: &Overrides) -> Result<Self> {
        let mut raw = load_raw(name_or_path)?;
        raw.apply(overrides);
        if !overrides.allow_long {
            // Building a huge space and its sampled data takes seconds to
            // minutes before any run's own estimate could refuse it.
            crate::work::check(&checks::build_estimate(&raw)?, false)
                .map_err(|e| overrides.name_flag(e))?;
        }
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

    /// The loss family's hyper-parameters of the file's `[train]` table.
    pub fn loss_params(&self) -> crate::loss::LossParams {
        loss_params(&self.raw.train)
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
        let train = self.train.clone();
        let train = train.clone().with_seed(train.seed().wrapping_add(k as u64));
        let train = match method {
            MethodKind::Ipo => train.with_loss(crate::loss::PairLoss::Ipo),
            MethodKind::Optimal => train
                .with_steps(0)
                .unwrap_or_else(|_| unreachable!("0 steps is valid")),
            _ => train,
        };
        RunConfig {
            problem: self.prompts[k].problem.clone(),
            data: self.prompts[k].data.clone(),
            policy: self.policy.clone(),
            train,
            online: self.online.clone(),
            rlhf: self.rlhf.clone(),
            rlvr: self.rlvr.clone(),
            shared: self.shared,
            method,
        }
    }
}

/// The most focus responses a scenario may name.
pub const MAX_FOCUS: usize = 12;

/// `focus = [...]`: names of responses in the space, at most
/// [`MAX_FOCUS`], no repeats.
fn check_focus(names: &[String], problem: &Problem) -> Result<Vec<usize>> {
    if names.len() > MAX_FOCUS {
        return Err(Error::invalid(
            "focus",
            format!("at most {MAX_FOCUS} responses, got {}", names.len()),
        ));
    }
    let mut out = Vec::with_capacity(names.len());
    for (k, name) in names.iter().enumerate() {
        let y = problem.space.index_of(name).ok_or_else(|| {
            Error::invalid(
                format!("focus[{k}]"),
                format!("{name:?} is not a response of this space"),
            )
        })?;
        if out.contains(&y) {
            return Err(Error::invalid(
                format!("focus[{k}]"),
                format!("{name:?} is listed twice"),
            ));
        }
        out.push(y);
    }
    Ok(out)
}

/// `methods = [...]`: trainable methods by their command-line names, no
/// repeats (π* is always shown, so `optimal` is not one); default `dpo`.
pub fn check_methods(names: &[String]) -> Result<Vec<MethodKind>> {
    if names.is_empty() {
        return Ok(vec![MethodKind::Dpo]);
    }
    let mut out = Vec::with_capacity(names.len());
    for (k, name) in names.iter().enumerate() {
        let m: MethodKind = crate::names::parse_choice(&format!("methods[{k}]"), "method", name)?;
        if m == MethodKind::Optimal {
            return Err(Error::invalid(
                format!("methods[{k}]"),
                "π* is always shown beside the runs: list trainable methods only",
            ));
        }
        if out.contains(&m) {
            return Err(Error::invalid(
                format!("methods[{k}]"),
                format!("{name:?} is listed twice"),
            ));
        }
        out.push(m);
    }
    Ok(out)
}

/// The one-line summary of a raw scenario.
pub fn summary_of(raw: &RawScenario) -> String {
    raw.summary.clone().unwrap_or_else(|| {
        let d = raw.description.trim();
        let first = d.split(". ").next().unwrap_or(d);
        first.trim_end_matches('.').to_string()
    })
}
