//! The documented JSON reports of `run`, `sweep` and `best-of-n`
//! (docs/json-output.md) as library types that derive `Serialize`: the
//! command line builds one and prints it; anyone using `dpo_lab` as a
//! dependency gets the same document.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::best_of_n::BestOfNPoint;
use crate::derivation::{Ches, ches};
use crate::error::Result;
use crate::method::MethodKind;
use crate::metrics::{Metrics, top_k_by};
use crate::optimal::FrontierPoint;
use crate::reward_model::FitMetrics;
use crate::scenario::Scenario;
use crate::space::ResponseSpace;
use crate::sweep::SweepPoint;
use crate::train::MultiOutcome;

/// Flat spaces up to this many responses print the whole policy vector.
pub const FULL_POLICY_MAX: usize = 10_000;
/// Otherwise this many of the most probable responses, as `[name, p]`.
pub const POLICY_TOP: usize = 50;

/// `final.policy`: the full probability vector for flat spaces of at most
/// [`FULL_POLICY_MAX`] responses, else the [`POLICY_TOP`] most probable as
/// `[name, p]`.
pub fn policy_value(space: &ResponseSpace, log_probs: &[f64]) -> Value {
    if !space.is_sequences() && log_probs.len() <= FULL_POLICY_MAX {
        return json!(log_probs.iter().map(|l| l.exp()).collect::<Vec<f64>>());
    }
    let idx = top_k_by(log_probs.len(), POLICY_TOP, |y| log_probs[y]);
    json!(
        idx.iter()
            .map(|&i| json!([space.name(i), log_probs[i].exp()]))
            .collect::<Vec<_>>()
    )
}

/// One history row: `{"step", METRICS}`.
pub fn metrics_row(step: usize, m: &Metrics) -> Value {
    let mut map = Map::new();
    map.insert("step".into(), json!(step));
    map.extend(m.to_json());
    Value::Object(map)
}

/// A reward model's fit, as `run` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    /// Gradient steps taken.
    pub steps: usize,
    /// Final Bradley–Terry loss.
    pub loss: f64,
    /// Final accuracy on the data.
    pub accuracy: f64,
    /// Final mean margin.
    pub margin: f64,
    /// Final mean learned reward.
    pub mean_reward: f64,
    /// `{"step", "loss", "accuracy", "margin", "mean_reward"}` every 10 %.
    pub history: Vec<FitRow>,
}

/// One row of a reward model's fitting history.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FitRow {
    /// Gradient steps so far.
    pub step: usize,
    /// Bradley–Terry loss.
    pub loss: f64,
    /// Accuracy on the data.
    pub accuracy: f64,
    /// Mean margin.
    pub margin: f64,
    /// Mean learned reward.
    pub mean_reward: f64,
}

impl From<&FitMetrics> for FitRow {
    fn from(m: &FitMetrics) -> Self {
        FitRow {
            step: m.step,
            loss: m.loss,
            accuracy: m.accuracy,
            margin: m.margin,
            mean_reward: m.mean_reward,
        }
    }
}

/// CHES of the first prompt's pairs (log-linear policies).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ChesReport {
    /// Razin's score `⟨φ_w, φ_l⟩ − ‖φ_w‖²`.
    pub score: f64,
    /// The exact analogue at π_ref.
    pub at_reference: f64,
    /// The exact analogue at the final policy.
    pub at_final: f64,
}

impl ChesReport {
    /// CHES of the first prompt's pairs at π_ref and at the final policy,
    /// `None` unless the policy is log-linear and `method` trains on pairs
    /// (DPO, online DPO, IPO: CHES is about a DPO step).
    pub fn of(
        scenario: &Scenario,
        method: MethodKind,
        outcome: &MultiOutcome,
    ) -> Result<Option<Self>> {
        if !matches!(
            method,
            MethodKind::Dpo | MethodKind::OnlineDpo | MethodKind::Ipo
        ) {
            return Ok(None);
        }
        let p = &scenario.problem;
        let start: Option<Ches> = ches(&scenario.policy, p, &scenario.data, &p.log_ref)?;
        let Some(end) = outcome.prompts.first() else {
            return Ok(None);
        };
        let end = ches(&scenario.policy, p, &scenario.data, &end.final_log_probs)?;
        Ok(start.zip(end).map(|(s, e)| ChesReport {
            score: s.score,
            at_reference: s.at_policy,
            at_final: e.at_policy,
        }))
    }
}

/// `dpo-lab run --json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The scenario's name.
    pub scenario: String,
    /// The method's name.
    pub method: &'static str,
    /// The KL weight.
    pub beta: f64,
    /// Updates.
    pub steps: usize,
    /// The first prompt's seed.
    pub seed: u64,
    /// The policy class.
    pub policy_class: &'static str,
    /// The pair loss.
    pub loss_function: &'static str,
    /// Final METRICS plus `grad_norm` and `policy`.
    #[serde(rename = "final")]
    pub final_: Map<String, Value>,
    /// How many prompts were averaged.
    pub prompts: usize,
    /// The first prompt's reward model, if the run fit one.
    pub reward_model: Option<FitReport>,
    /// `{"step", METRICS}` at every logged step.
    pub history: Vec<Value>,
    /// Convergence and oscillation notes.
    pub warnings: Vec<String>,
    /// CHES (log-linear policies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ches: Option<ChesReport>,
}

impl RunReport {
    /// The report of `method` trained on every prompt of `scenario`.
    pub fn new(scenario: &Scenario, method: MethodKind, outcome: &MultiOutcome) -> Result<Self> {
        let cfg = scenario.run_config(method);
        let mut fin = outcome.final_metrics.to_json();
        let policy = match outcome.prompts.as_slice() {
            [one] => policy_value(&scenario.problem.space, &one.final_log_probs),
            many => json!(
                scenario
                    .prompts
                    .iter()
                    .zip(many)
                    .map(|(p, o)| json!({
                        "prompt": p.name,
                        "final": o.final_metrics.to_json(),
                        "grad_norm": o.grad_norm,
                        "policy": policy_value(&p.problem.space, &o.final_log_probs)
                    }))
                    .collect::<Vec<_>>()
            ),
        };
        fin.insert("grad_norm".into(), json!(outcome.grad_norm));
        if outcome.final_metrics.verifier.is_some() {
            fin.insert(
                "pass_at_k_crossover".into(),
                json!(pass_at_k_crossover(scenario, outcome)),
            );
        }
        fin.insert("policy".into(), policy);
        let reward_model = outcome
            .prompts
            .first()
            .and_then(|o| o.reward_model.as_ref())
            .map(|rm| {
                let m = rm.final_metrics();
                FitReport {
                    steps: m.step,
                    loss: m.loss,
                    accuracy: m.accuracy,
                    margin: m.margin,
                    mean_reward: m.mean_reward,
                    history: rm.history.iter().map(FitRow::from).collect(),
                }
            });
        Ok(RunReport {
            scenario: scenario.name().to_string(),
            method: method.name(),
            beta: cfg.train.beta,
            steps: cfg.train.steps,
            seed: cfg.train.seed,
            policy_class: cfg.policy.name(),
            loss_function: cfg.train.loss.name(),
            final_: fin,
            prompts: scenario.prompts.len(),
            reward_model,
            history: outcome
                .history
                .iter()
                .map(|(k, m)| metrics_row(*k, m))
                .collect(),
            warnings: outcome.warnings.clone(),
            ches: ChesReport::of(scenario, method, outcome)?,
        })
    }
}

/// For a verifier reward: the smallest k at which the trained policies'
/// pass@k, averaged over prompts, falls below π_ref's
/// ([`crate::rlvr::pass_at_k_crossover`]); `None` when it never does or the
/// reward is no verifier's.
pub fn pass_at_k_crossover(scenario: &Scenario, outcome: &MultiOutcome) -> Option<u64> {
    let mut trained = Vec::new();
    let mut reference = Vec::new();
    for (p, o) in scenario.prompts.iter().zip(&outcome.prompts) {
        let correct = p.problem.correct.as_ref()?;
        trained.push(crate::rlvr::correct_mass(&o.final_log_probs, correct).1);
        reference.push(crate::rlvr::correct_mass(&p.problem.log_ref, correct).1);
    }
    crate::rlvr::pass_at_k_crossover(&trained, &reference)
}

/// π* on the reward–KL plane, as `sweep` reports it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FrontierRow {
    /// The KL weight.
    pub beta: f64,
    /// `E_{π*} r`.
    pub expected_reward: f64,
    /// `KL(π*‖π_ref)`.
    pub kl_to_ref: f64,
}

impl From<&FrontierPoint> for FrontierRow {
    fn from(f: &FrontierPoint) -> Self {
        FrontierRow {
            beta: f.beta,
            expected_reward: f.expected_reward,
            kl_to_ref: f.kl_to_ref,
        }
    }
}

/// `dpo-lab sweep --json`.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    /// The scenario's name.
    pub scenario: String,
    /// The method's name.
    pub method: &'static str,
    /// Whether lr·β² was held fixed.
    pub lr_scaling: bool,
    /// Per β: METRICS plus `beta`, `lr`, `grad_norm`, `warnings` and
    /// `optimal` (`expected_reward`, `kl_to_ref`, `objective` of π*).
    pub points: Vec<Value>,
    /// π* over a β grid spanning the sweep.
    pub optimal_frontier: Vec<FrontierRow>,
}

impl SweepReport {
    /// The report of a finished sweep.
    pub fn new(
        scenario: &Scenario,
        method: MethodKind,
        lr_scaling: bool,
        points: &[SweepPoint],
        frontier: &[FrontierPoint],
    ) -> Self {
        SweepReport {
            scenario: scenario.name().to_string(),
            method: method.name(),
            lr_scaling,
            points: points
                .iter()
                .map(|pt| {
                    let mut m = pt.metrics.to_json();
                    m.insert("beta".into(), json!(pt.beta));
                    m.insert("lr".into(), json!(pt.lr));
                    m.insert("grad_norm".into(), json!(pt.grad_norm));
                    m.insert("warnings".into(), json!(pt.warnings));
                    m.insert(
                        "optimal".into(),
                        json!({
                            "expected_reward": pt.optimal.expected_reward,
                            "kl_to_ref": pt.optimal.kl_to_ref,
                            "objective": pt.optimal_objective,
                        }),
                    );
                    Value::Object(m)
                })
                .collect(),
            optimal_frontier: frontier.iter().map(FrontierRow::from).collect(),
        }
    }
}

/// One `n` of `dpo-lab best-of-n --json`.
#[derive(Debug, Clone, Serialize)]
pub struct BestOfNRow {
    /// The number of draws.
    pub n: u64,
    /// The first prompt's best-of-n policy (as `final.policy` of `run`).
    pub policy: Value,
    /// Mean exact KL to π_ref.
    pub kl: f64,
    /// `log n − (n − 1)/n`.
    pub kl_bound: f64,
    /// Mean `E r`.
    pub expected_reward: f64,
    /// Mean win rate against π_ref.
    pub win_rate: f64,
    /// Mean `E r` of π* at the same KL.
    pub optimal_expected_reward: f64,
}

/// `dpo-lab best-of-n --json`.
#[derive(Debug, Clone, Serialize)]
pub struct BestOfNReport {
    /// The scenario's name.
    pub scenario: String,
    /// One row per `n`.
    pub points: Vec<BestOfNRow>,
}

impl BestOfNReport {
    /// The report of computed best-of-n points.
    pub fn new(scenario: &Scenario, points: &[BestOfNPoint]) -> Self {
        let space = &scenario.problem.space;
        BestOfNReport {
            scenario: scenario.name().to_string(),
            points: points
                .iter()
                .map(|p| BestOfNRow {
                    n: p.n,
                    policy: policy_value(space, &p.log_policy),
                    kl: p.kl,
                    kl_bound: p.kl_bound,
                    expected_reward: p.expected_reward,
                    win_rate: p.win_rate,
                    optimal_expected_reward: p.optimal_expected_reward,
                })
                .collect(),
        }
    }
}
