//! The reward–KL frontier: one run per β beside the exact optimal curve.
//!
//! DPO's effective step on tabular logits is `lr·β²` (SCIENCE §3), so by
//! default a sweep keeps that product fixed: at β it uses
//! `lr · (β_scenario/β)²` for the sigmoid-type losses (IPO's step does not
//! scale with β and keeps `lr`).

use crate::error::Result;
use crate::loss::PairLoss;
use crate::method::MethodKind;
use crate::metrics::Metrics;
use crate::numerics::kl_from_logs;
use crate::optimal::{FrontierPoint, expectation, objective, optimum};
use crate::scenario::Scenario;
use crate::train::train_prompts;

/// One β of a sweep.
#[derive(Debug, Clone)]
pub struct SweepPoint {
    /// The KL weight.
    pub beta: f64,
    /// The learning rate used.
    pub lr: f64,
    /// The method's final metrics.
    pub metrics: Metrics,
    /// π* at this β.
    pub optimal: FrontierPoint,
    /// `J(π*)` at this β.
    pub optimal_objective: f64,
}

/// Whether a method's step scales as `lr·β²`.
pub fn step_scales_with_beta(method: MethodKind, loss: PairLoss) -> bool {
    match method {
        MethodKind::Ipo | MethodKind::Optimal | MethodKind::Rlhf => false,
        MethodKind::Dpo => loss != PairLoss::Ipo,
        MethodKind::OnlineDpo => true,
    }
}

/// Runs `method` once per β. With `scale_lr`, keeps `lr·β²` fixed.
pub fn sweep(
    scenario: &Scenario,
    method: MethodKind,
    betas: &[f64],
    scale_lr: bool,
) -> Result<Vec<SweepPoint>> {
    let base_beta = scenario.train.beta;
    let base_lr = scenario.train.lr;
    let mut points = Vec::with_capacity(betas.len());
    for &beta in betas {
        let beta = crate::optimal::check_beta("--beta", beta)?;
        let mut cfgs = scenario.run_configs(method);
        for cfg in &mut cfgs {
            cfg.train.beta = beta;
            cfg.train.log_every = 0;
            if scale_lr && step_scales_with_beta(method, cfg.train.loss) {
                cfg.train.lr = base_lr * (base_beta / beta).powi(2);
            }
        }
        let outcome = train_prompts(&cfgs)?;
        // π* at this β, averaged over prompts like the metrics.
        let n = scenario.prompts.len() as f64;
        let (mut er, mut kl, mut j) = (0.0, 0.0, 0.0);
        for p in &scenario.prompts {
            let p = &p.problem;
            let opt = optimum(&p.log_ref, &p.reward, beta);
            er += expectation(&opt.log_policy, &p.reward) / n;
            kl += kl_from_logs(&opt.log_policy, &p.log_ref) / n;
            j += objective(&opt.log_policy, &p.log_ref, &p.reward, beta) / n;
        }
        points.push(SweepPoint {
            beta,
            lr: cfgs[0].effective_lr(),
            metrics: outcome.final_metrics,
            optimal: FrontierPoint {
                beta,
                expected_reward: er,
                kl_to_ref: kl,
            },
            optimal_objective: j,
        });
    }
    Ok(points)
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
