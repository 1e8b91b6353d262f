//! The reward–KL frontier: one run per β beside the exact optimal curve.
//!
//! DPO's effective step on tabular logits is `lr·β²` (docs/maths.md §3), so by
//! default a sweep keeps that product fixed: at β it uses
//! `lr · (β_scenario/β)²` for the sigmoid-type losses (IPO's step does not
//! scale with β and keeps `lr`).

use crate::error::{Error, Result};
use crate::loss::PairLoss;
use crate::method::MethodKind;
use crate::metrics::Metrics;
use crate::numerics::kl_from_logs;
use crate::optimal::{FrontierPoint, expectation, objective, optimum};
use crate::scenario::Scenario;
use crate::train::{Progress, RunConfig, Unwatched, train_prompts_watched};

/// One β of a sweep.
#[derive(Debug, Clone)]
pub struct SweepPoint {
    /// The KL weight.
    pub beta: f64,
    /// The learning rate used.
    pub lr: f64,
    /// The method's final metrics.
    pub metrics: Metrics,
    /// Final gradient norm (averaged over prompts).
    pub grad_norm: f64,
    /// The run's warnings.
    pub warnings: Vec<String>,
    /// π* at this β.
    pub optimal: FrontierPoint,
    /// `J(π*)` at this β.
    pub optimal_objective: f64,
}

/// The learning rate that keeps the effective step `lr·β²` of DPO-type
/// losses on tabular logits when β moves from `beta_before` to `beta`
/// (`sweep`, the app's β slider and the lesson grid use this one rule).
pub fn lr_keeping_step(lr: f64, beta_before: f64, beta: f64) -> f64 {
    lr * (beta_before / beta).powi(2)
}

/// Whether a method's step scales as `lr·β²`.
pub fn step_scales_with_beta(method: MethodKind, loss: PairLoss) -> bool {
    match method {
        MethodKind::Ipo
        | MethodKind::Optimal
        | MethodKind::Rlhf
        | MethodKind::Grpo
        | MethodKind::Rloo => false,
        MethodKind::Dpo | MethodKind::OnlineDpo => loss.step_scales_with_beta(),
    }
}

/// The runs of a sweep, one set (one per prompt) per β. With `scale_lr`,
/// keeps `lr·β²` fixed for DPO-type losses; a scaled learning rate that is
/// not a finite positive number is an error naming `train.lr`.
pub fn sweep_configs(
    scenario: &Scenario,
    method: MethodKind,
    betas: &[f64],
    scale_lr: bool,
) -> Result<Vec<(f64, Vec<RunConfig>)>> {
    let base_beta = scenario.train.beta;
    let base_lr = scenario.train.lr;
    betas
        .iter()
        .enumerate()
        .map(|(i, &beta)| {
            let beta = crate::optimal::check_beta(&format!("train.beta (sweep entry {i})"), beta)?;
            let mut cfgs = scenario.run_configs(method);
            for cfg in &mut cfgs {
                cfg.train = cfg.train.clone().with_beta(beta)?.with_log_every(0);
                if scale_lr && step_scales_with_beta(method, cfg.train.loss) {
                    let lr = lr_keeping_step(base_lr, base_beta, beta);
                    if !(lr.is_finite() && lr > 0.0) {
                        // The advice follows the cause: an overflow wants a
                        // smaller lr, an underflow a larger one.
                        let (field, fix) = if lr > 0.0 || lr.is_nan() {
                            ("train.lr", "use a smaller lr")
                        } else {
                            ("train.beta", "the file's β is too far below the swept one")
                        };
                        return Err(Error::invalid(
                            field,
                            format!(
                                "keeping lr·β² fixed gives lr = {base_lr:e}·({base_beta:e}/{beta:e})² = {lr:e} at β = {beta:e}, not a finite number > 0: {fix}, a β closer to {base_beta:e}, or turn the lr scaling off (--no-lr-scaling)"
                            ),
                        ));
                    }
                    cfg.train = cfg.train.clone().with_lr(lr)?;
                }
            }
            Ok((beta, cfgs))
        })
        .collect()
}

/// Runs `method` once per β. With `scale_lr`, keeps `lr·β²` fixed.
pub fn sweep(
    scenario: &Scenario,
    method: MethodKind,
    betas: &[f64],
    scale_lr: bool,
) -> Result<Vec<SweepPoint>> {
    sweep_watched(scenario, method, betas, scale_lr, &Unwatched)
}

/// [`sweep`] reporting to `progress`.
pub fn sweep_watched(
    scenario: &Scenario,
    method: MethodKind,
    betas: &[f64],
    scale_lr: bool,
    progress: &dyn Progress,
) -> Result<Vec<SweepPoint>> {
    let runs = sweep_configs(scenario, method, betas, scale_lr)?;
    let mut points = Vec::with_capacity(runs.len());
    for (beta, cfgs) in runs {
        let outcome = train_prompts_watched(&cfgs, progress)?;
        let (optimal, optimal_objective) = optimal_point(scenario, beta);
        points.push(SweepPoint {
            beta,
            lr: cfgs[0].effective_lr(),
            metrics: outcome.final_metrics,
            grad_norm: outcome.grad_norm,
            warnings: outcome.warnings,
            optimal,
            optimal_objective,
        });
    }
    Ok(points)
}

/// π* at `β` — `E r`, `KL(π*‖π_ref)` and `J(π*)` — averaged over the
/// scenario's prompts like every metric.
pub fn optimal_point(scenario: &Scenario, beta: f64) -> (FrontierPoint, f64) {
    let n = scenario.prompts.len() as f64;
    let (mut er, mut kl, mut j) = (0.0, 0.0, 0.0);
    for p in &scenario.prompts {
        let p = &p.problem;
        let opt = optimum(&p.log_ref, &p.reward, beta);
        er += expectation(&opt.log_policy, &p.reward) / n;
        kl += kl_from_logs(&opt.log_policy, &p.log_ref) / n;
        j += objective(&opt.log_policy, &p.log_ref, &p.reward, beta) / n;
    }
    let point = FrontierPoint {
        beta,
        expected_reward: er,
        kl_to_ref: kl,
    };
    (point, j)
}

/// The optimal frontier over `betas`, averaged over prompts.
pub fn optimal_frontier(scenario: &Scenario, betas: &[f64]) -> Vec<FrontierPoint> {
    betas
        .iter()
        .map(|&b| optimal_point(scenario, b).0)
        .collect()
}

/// `count` β values spaced evenly in log scale over `[lo, hi]`.
pub fn log_grid(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if count <= 1 {
        return vec![lo];
    }
    let (a, b) = (lo.ln(), hi.ln());
    (0..count)
        .map(|k| (a + (b - a) * k as f64 / (count - 1) as f64).exp())
        .collect()
}

/// The resampling intervals `dpo-lab resample` and the app's resampling
/// view use unless told otherwise.
pub const DEFAULT_EVERY: &str = "1,2,4,16,64,inf";

/// `1,2,4,inf` → `[Some(1), Some(2), Some(4), None]` (`inf` or `∞`: never
/// resample); `field` names the setting in errors.
pub fn parse_every(field: &str, s: &str) -> Result<Vec<Option<usize>>> {
    s.split(',')
        .enumerate()
        .map(|(i, x)| match x.trim() {
            "inf" | "∞" => Ok(None),
            t => t
                .parse::<usize>()
                .ok()
                .filter(|k| *k >= 1)
                .map(Some)
                .ok_or_else(|| {
                    Error::invalid(
                        format!("{field} (entry {i})"),
                        format!("{t:?} is not an integer ≥ 1 or inf"),
                    )
                }),
        })
        .collect()
}

/// One resampling interval of [`resample_sweep`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResamplePoint {
    /// Steps between fresh batches (`None`: never after the first, i.e.
    /// offline DPO on one sampled batch).
    pub every: Option<usize>,
    /// Final probability outside the scenario's data.
    pub ood_mass: f64,
    /// Final `E_π r`.
    pub expected_reward: f64,
    /// Final `KL(π‖π*)`.
    pub kl_to_optimal: f64,
    /// The final policy's mass on responses that no batch of the run drew
    /// (mean over prompts): where the policy drifted unchecked.
    pub unseen_mass: f64,
    /// Labels the annotator gave: `online.batch` per batch drawn,
    /// `1 + ⌊(steps − 1)/K⌋` batches.
    pub labels: u64,
}

/// The runs of a [`resample_sweep`] for the work estimate before it
/// starts: one set of the scenario's online DPO runs per interval.
pub fn resample_configs(scenario: &Scenario, every: &[Option<usize>]) -> Vec<RunConfig> {
    every
        .iter()
        .flat_map(|_| scenario.run_configs(MethodKind::OnlineDpo))
        .collect()
}

/// Online DPO at each resampling interval in `every` (`None` = ∞): the
/// lecture's "resample frequently", from online (K = 1) to offline.
pub fn resample_sweep(
    scenario: &Scenario,
    every: &[Option<usize>],
    progress: &dyn Progress,
) -> Result<Vec<ResamplePoint>> {
    every
        .iter()
        .map(|&k| {
            let mut cfgs = scenario.run_configs(MethodKind::OnlineDpo);
            let steps = scenario.train.steps;
            let interval = match k {
                Some(0) => {
                    return Err(Error::invalid(
                        "online.resample_every",
                        "must be at least 1 (or inf), got 0",
                    ));
                }
                Some(k) => k,
                None => steps.max(1) + 1,
            };
            for c in &mut cfgs {
                c.online = c.online.clone().with_resample_every(interval)?;
                c.train = c.train.clone().with_log_every(0);
            }
            let out = train_prompts_watched(&cfgs, progress)?;
            let batches = 1 + steps.saturating_sub(1) / interval;
            Ok(ResamplePoint {
                every: k,
                ood_mass: out.final_metrics.ood_mass,
                expected_reward: out.final_metrics.expected_reward,
                kl_to_optimal: out.final_metrics.kl_to_optimal,
                unseen_mass: out
                    .prompts
                    .iter()
                    .map(|o| o.unseen_mass.unwrap_or(0.0))
                    .sum::<f64>()
                    / out.prompts.len() as f64,
                labels: (batches * scenario.online.batch * scenario.prompts.len()) as u64,
            })
        })
        .collect()
}
