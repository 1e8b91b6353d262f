//! How long a run will take, estimated from its settings before it starts.
//!
//! A run that cannot finish in reasonable time (10⁷ pairs per step × 2,000
//! steps, a reward model fitted for 2,000 steps on 4 M pairs, …) is refused
//! with the estimate and the settings that drive it, instead of hanging the
//! terminal for a quarter of an hour. The estimate counts elementary
//! operations — one per response and policy parameter touched per step, one
//! per pair — and converts them with [`NS_PER_OP`], calibrated on a 2-core
//! machine (`estimate_matches_measured_time`, an ignored test that prints
//! both). It errs on the long side.

use crate::error::{Error, Result};
use crate::method::{Annotator, MethodKind};
use crate::policy::PolicyKind;
use crate::reward_model::RewardModelKind;
use crate::train::{RlhfOptimizer, RunConfig};

/// Nanoseconds per counted operation (calibrated, rounded up).
pub const NS_PER_OP: f64 = 2.0;

/// Runs estimated above this many seconds need `--allow-long` (the CLI) —
/// every built-in lesson stays far below it.
pub const LIMIT_SECONDS: f64 = 30.0;

/// Operations per response to build a problem (reference, reward, labels,
/// the closed form) and per data pair to draw or enumerate it; calibrated
/// on 20 M responses with 10 M sampled pairs (23 s before the first step).
pub const SETUP_PER_RESPONSE: f64 = 300.0;
/// See [`SETUP_PER_RESPONSE`].
pub const SETUP_PER_PAIR: f64 = 80.0;

/// How much slower a random read per pair is on `n` responses than on a
/// few thousand: beyond the caches each is a memory round trip.
pub fn cache_factor(n: f64) -> f64 {
    if n > 2e6 {
        8.0
    } else if n > 2e5 {
        2.0
    } else {
        1.0
    }
}

/// The cost of building a scenario from its sizes alone, before anything
/// is allocated: `responses` per prompt, `sampled_pairs` drawn in all.
pub fn build_estimate(responses: u128, prompts: usize, sampled_pairs: u128) -> WorkEstimate {
    let n = responses as f64;
    let ops = n * prompts as f64 * SETUP_PER_RESPONSE
        + sampled_pairs as f64 * SETUP_PER_PAIR * cache_factor(n);
    WorkEstimate::driven(ops, || {
        format!(
            "building {prompts} prompt(s) over {responses} responses with {sampled_pairs} sampled pairs (space, prompts, data.size)"
        )
    })
}

/// The cost of `count` exact head-to-head comparisons over `responses`
/// answers (a sort by reward and a pass with binary searches each).
pub fn comparisons(responses: usize, count: usize) -> WorkEstimate {
    let n = responses as f64;
    let ops = count as f64 * n * (4.0 * n.log2().max(1.0) + 20.0) * cache_factor(n);
    WorkEstimate::driven(ops, || {
        format!("{count} exact comparison(s) over {responses} responses (space, --seeds)")
    })
}

impl WorkEstimate {
    /// `ops` counted operations, with the settings that drive them.
    pub fn new(ops: f64, drivers: Vec<String>) -> WorkEstimate {
        WorkEstimate {
            ops,
            seconds: ops * NS_PER_OP * 1e-9,
            drivers,
        }
    }

    /// `ops` operations, naming `driver` when they alone are worth a second
    /// or more (10⁹ operations).
    fn driven(ops: f64, driver: impl FnOnce() -> String) -> WorkEstimate {
        WorkEstimate::new(
            ops,
            if ops > 1e9 {
                vec![driver()]
            } else {
                Vec::new()
            },
        )
    }

    /// This estimate and `other` together.
    pub fn plus(mut self, other: WorkEstimate) -> WorkEstimate {
        self.ops += other.ops;
        self.seconds += other.seconds;
        for d in other.drivers {
            if !self.drivers.contains(&d) {
                self.drivers.push(d);
            }
        }
        self
    }
}

/// An estimate of one run's cost.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkEstimate {
    /// Counted operations.
    pub ops: f64,
    /// `ops × NS_PER_OP`, in seconds.
    pub seconds: f64,
    /// The settings that drive the estimate, e.g. "2000 steps × 10000000
    /// pairs per step (train.steps, train.batch)".
    pub drivers: Vec<String>,
}

/// Operations per response for one evaluation of the policy class.
fn per_response(policy: &PolicyKind, cfg: &RunConfig) -> f64 {
    match policy {
        PolicyKind::Tabular => 1.0,
        // One softmax per prefix, each over vocabulary + end.
        PolicyKind::Autoregressive => (cfg.problem.space.vocab_len() + 1) as f64,
        PolicyKind::LogLinear(f) => (f.dim(&cfg.problem) + 1) as f64,
    }
}

/// Estimates one run (one prompt, one method) from its settings alone.
pub fn estimate(cfg: &RunConfig) -> WorkEstimate {
    let n = cfg.problem.len() as f64;
    let steps = cfg.train.steps as f64;
    let data_pairs = cfg.data.pairs.len() as f64;
    let mut drivers = Vec::new();
    let mut ops = 0.0;

    // Operations per pair and step of a pair loss (log-sigmoids, the
    // scatter of its gradient, the optimiser's update); each pair reads two
    // responses at random, which on millions of responses misses the cache.
    let pair_cost = 25.0 * cache_factor(n);
    // Building the problem and the data before the first step (counted
    // with the run: it is part of what the user waits for).
    let setup = n * SETUP_PER_RESPONSE + data_pairs * SETUP_PER_PAIR * cache_factor(n);
    ops += setup;
    if setup > 1e9 {
        drivers.push(format!(
            "building {} responses and {} data pairs (space, data)",
            cfg.problem.len(),
            cfg.data.pairs.len()
        ));
    }
    // Every step's fixed cost, whatever the space (the gradient buffers,
    // the optimiser, the divergence checks): measured at 0.8–1.6 µs per
    // step on six responses, where the counts above gave 0.1 µs.
    const STEP: f64 = 800.0;
    ops += steps * STEP;
    if steps * STEP > 1e9 {
        drivers.push(format!(
            "{} steps at about {:.1} µs each at the least (train.steps)",
            cfg.train.steps,
            STEP * NS_PER_OP / 1e3
        ));
    }
    // Logged metrics read every response and every data pair.
    let logs = if cfg.train.log_every == 0 {
        1.0
    } else {
        (steps / cfg.train.log_every as f64).floor() + 2.0
    };
    ops += logs * (4.0 * n + 4.0 * data_pairs) * cache_factor(n);

    // Responses whose parameters one step touches: a tabular policy
    // updates only the responses in the step's pairs (its normaliser is a
    // sum tree), every other class all of them.
    let touched = |pairs: f64| match cfg.policy {
        PolicyKind::Tabular => n.min(2.0 * pairs) * n.log2().max(1.0),
        _ => n,
    };
    let mut policy_ops = |per_step_touched: f64, ops: &mut f64| {
        let p = steps * per_step_touched * 2.0 * per_response(&cfg.policy, cfg);
        *ops += p;
        if p > 1e9 {
            drivers.push(format!(
                "{} steps × {} responses × {} parameters per response (train.steps, space, policy)",
                cfg.train.steps,
                cfg.problem.len(),
                per_response(&cfg.policy, cfg)
            ));
        }
    };

    match cfg.method {
        MethodKind::Dpo | MethodKind::Ipo => {
            let per_step = if cfg.train.batch == 0 {
                data_pairs
            } else {
                cfg.train.batch as f64
            };
            policy_ops(touched(per_step), &mut ops);
            ops += steps * per_step * pair_cost;
            if steps * per_step * pair_cost > 1e9 {
                drivers.push(format!(
                    "{} steps × {} pairs per step (train.steps, train.batch or the data)",
                    cfg.train.steps, per_step
                ));
            }
        }
        MethodKind::OnlineDpo => {
            let resamples = (steps / cfg.online.resample_every.max(1) as f64).ceil();
            let batch = cfg.online.batch as f64;
            policy_ops(touched(batch), &mut ops);
            // Sampling (a draw is a search over the cumulative policy) and
            // labelling per resample, a pass over the batch per step.
            let sampling = resamples * (n + batch * (2.0 * n.log2().max(1.0) + pair_cost));
            ops += sampling;
            if sampling > 1e9 {
                drivers.push(format!(
                    "{resamples} resamples × {} responses (train.steps, online.resample_every, space)",
                    cfg.problem.len()
                ));
            }
            ops += steps * batch * pair_cost;
            if steps * batch * pair_cost > 1e9 {
                drivers.push(format!(
                    "{} steps × {} sampled pairs (train.steps, online.batch)",
                    cfg.train.steps, cfg.online.batch
                ));
            }
        }
        MethodKind::Rlhf => {
            policy_ops(n, &mut ops);
            if let RlhfOptimizer::Ppo(p) = cfg.rlhf.optimizer {
                let per_step = (p.batch * p.epochs) as f64;
                ops += steps * per_step * pair_cost;
                if steps * per_step * pair_cost > 1e9 {
                    drivers.push(format!(
                        "{} steps × {} samples × {} epochs (train.steps, rlhf.ppo_batch, rlhf.ppo_epochs)",
                        cfg.train.steps, p.batch, p.epochs
                    ));
                }
            } else {
                ops += steps * n * 8.0;
            }
        }
        MethodKind::Grpo | MethodKind::Rloo => {
            let (g, expected, per_token) = match cfg.method {
                MethodKind::Grpo => {
                    let s = &cfg.rlvr.grpo;
                    (
                        s.num_generations,
                        s.expected,
                        s.beta != 0.0 || s.num_iterations > 1,
                    )
                }
                _ => {
                    let s = &cfg.rlvr.rloo;
                    (s.num_generations, s.expected, false)
                }
            };
            let len = cfg.problem.space.max_len().max(1) as f64;
            // Every step reads log π of the whole space (the exact
            // expectation, the prefix masses of per-token terms, or the
            // metrics of the draw) and draws G answers.
            policy_ops(n, &mut ops);
            let per_step = if expected || per_token {
                n * len * 4.0
            } else {
                n + g as f64 * (n.log2().max(1.0) + len)
            };
            ops += steps * per_step;
            if steps * per_step > 1e9 {
                drivers.push(format!(
                    "{} steps × {} responses (train.steps, space)",
                    cfg.train.steps,
                    cfg.problem.len()
                ));
            }
        }
        MethodKind::Optimal => {}
    }

    let fits_reward_model = cfg.method == MethodKind::Rlhf
        || (cfg.method == MethodKind::OnlineDpo && cfg.online.annotator == Annotator::RewardModel);
    if fits_reward_model {
        let rm_per_response = match &cfg.rlhf.reward_model {
            RewardModelKind::Tabular => 1.0,
            RewardModelKind::LogLinear(f) => (f.dim(&cfg.problem) + 1) as f64,
        };
        let fit_steps = cfg.rlhf.fit.steps as f64;
        let per_fit_step = data_pairs * pair_cost + n * rm_per_response * 2.0;
        ops += fit_steps * per_fit_step;
        if fit_steps * per_fit_step > 1e9 {
            drivers.push(format!(
                "the reward model: {} fitting steps × {} data pairs and {} responses (rlhf.rm_steps, data)",
                cfg.rlhf.fit.steps,
                cfg.data.pairs.len(),
                cfg.problem.len()
            ));
        }
    }
    WorkEstimate::new(ops, drivers)
}

/// Sums the estimates of several runs (prompts, seeds, β values, methods).
pub fn total<'a>(cfgs: impl IntoIterator<Item = &'a RunConfig>) -> WorkEstimate {
    cfgs.into_iter()
        .fold(WorkEstimate::new(0.0, Vec::new()), |sum, cfg| {
            sum.plus(estimate(cfg))
        })
}

/// Refuses work estimated above [`LIMIT_SECONDS`] unless `allow_long`.
pub fn check(estimate: &WorkEstimate, allow_long: bool) -> Result<()> {
    if allow_long || estimate.seconds <= LIMIT_SECONDS {
        return Ok(());
    }
    let why = if estimate.drivers.is_empty() {
        "the number of runs and their combined settings".to_string()
    } else {
        estimate.drivers.join("; ")
    };
    Err(Error::TooLong {
        seconds: estimate.seconds,
        limit: LIMIT_SECONDS,
        why,
    })
}
