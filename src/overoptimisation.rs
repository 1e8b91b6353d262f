//! Reward over-optimisation, exactly (issue 14; Gao, Schulman & Hilton 2022,
//! "Scaling laws for reward model overoptimization").
//!
//! The scenario's true reward is the *gold* reward. A *proxy* reward model
//! (the scenario's `[rlhf]` model and fitting settings) is fitted by
//! Bradley–Terry likelihood on `N` pairs drawn from `π_ref` and labelled by
//! the scenario's annotator. Three ways of optimising the proxy are then
//! followed exactly, each a curve of (d, gold, proxy) with `d = √KL(π‖π_ref)`
//! and both rewards measured from their value under `π_ref` (Gao's
//! convention, so every curve starts at (0, 0, 0)):
//!
//! - best-of-n by the proxy, `n = 1, 2, 4, …` (closed form, [`crate::best_of_n`]);
//! - π* of the proxy, `π_ref·exp(r̂/β)/Z` over a falling β (what
//!   KL-regularised RL converges to);
//! - the RLHF run itself (the scenario's `[rlhf]` optimiser on the proxy at
//!   `train.beta`), at every logged step.
//!
//! The proxy keeps rising along each curve; the gold reward rises, peaks
//! and falls once the policy concentrates on answers the proxy
//! over-estimates. Curves are averaged over `seeds` draws of the `N` pairs
//! (seed `train.seed + s`), point by point at the same `n`, β or step. Gao's
//! functional forms are fitted to the averaged gold curves by least squares:
//! best-of-n `R(d) = d·(α − β_fit·d)`, RL `R(d) = d·(α − β_fit·ln d)`; both
//! are linear in (α, β_fit), so the fit is a 2 × 2 normal-equation solve.

use std::sync::Arc;

use crate::best_of_n::BestOfNTable;
use crate::data::{DataSpec, PairData, annotator_labels};
use crate::error::{Error, Result};
use crate::method::MethodKind;
use crate::numerics::kl_from_logs;
use crate::optimal::{expectation, optimum};
use crate::scenario::Scenario;
use crate::train::{Run, RunConfig};

/// The pair counts `dpo-lab over-optimisation` and the app use unless told
/// otherwise.
pub const DEFAULT_PAIRS: &str = "30,300,3000";
/// The data draws averaged over unless told otherwise.
pub const DEFAULT_SEEDS: u64 = 8;

/// The most pair-set sizes one call accepts.
pub const MAX_SIZES: usize = 16;
/// The most seeds one call averages over.
pub const MAX_SEEDS: u64 = 64;
/// The largest `N`.
pub const MAX_PAIRS: usize = 100_000;
/// Best-of-n is followed for `n = round(2^(k/4))`, `k = 0 … 4·MAX_LOG2_N`
/// (duplicates dropped): 1, 2, 3, 4, 5, 6, 7, 8, 10, … 16384.
pub const MAX_LOG2_N: u32 = 14;

/// The `n` of the best-of-n curve.
pub fn best_of_n_grid() -> Vec<u64> {
    let mut ns: Vec<u64> = (0..=4 * MAX_LOG2_N)
        .map(|k| 2f64.powf(k as f64 / 4.0).round() as u64)
        .collect();
    ns.dedup();
    ns
}
/// The largest space (the agreement compares every pair of responses).
pub const MAX_RESPONSES: usize = 2000;
/// Points of the π*-over-β curve.
pub const BETA_POINTS: usize = 41;

/// One point of a curve, averaged over seeds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CurvePoint {
    /// What moves along the curve: `n` (best-of-n), β (π* of the proxy) or
    /// the step (RLHF).
    pub knob: f64,
    /// Mean `√KL(π‖π_ref)`.
    pub sqrt_kl: f64,
    /// Mean gold reward gain `E_π r − E_{π_ref} r`.
    pub gold: f64,
    /// Mean proxy reward gain `E_π r̂ − E_{π_ref} r̂`.
    pub proxy: f64,
}

/// Least-squares coefficients of one of Gao's forms.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GaoFit {
    /// α: the initial slope of the gold reward in d.
    pub alpha: f64,
    /// β: how fast the gold reward bends down.
    pub beta: f64,
    /// Root-mean-square residual of the fit over the curve's points.
    pub rmse: f64,
    /// The share of the gold curve's variance the fit explains,
    /// `1 − SSE/SST` (a weak fit says little about where the curve goes).
    pub r2: f64,
    /// Where the fitted form peaks, `d*`, when that lies within the data's
    /// range of `d`; `None` when it lies outside (a fitted peak beyond the
    /// measured points is an extrapolation, not a finding) or the form
    /// does not bend down.
    pub fitted_peak: Option<f64>,
}

/// Which of Gao's forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaoForm {
    /// `d·(α − β·d)`.
    BestOfN,
    /// `d·(α − β·ln d)`.
    Rl,
}

impl GaoForm {
    /// The bending term `h(d)` of `R(d) = α·d − β·h(d)`: `d²` for best-of-n,
    /// `d·ln d` for RL (0 at `d = 0`, its limit).
    pub fn bend(self, d: f64) -> f64 {
        match self {
            GaoForm::BestOfN => d * d,
            GaoForm::Rl if d > 0.0 => d * d.ln(),
            GaoForm::Rl => 0.0,
        }
    }

    /// The form's value `α·d − β·h(d)` at `d` for fitted coefficients.
    pub fn value(self, fit: GaoFit, d: f64) -> f64 {
        fit.alpha * d - fit.beta * self.bend(d)
    }
}

/// One curve with its gold peak and fit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Curve {
    /// The points, in order of increasing optimisation pressure.
    pub points: Vec<CurvePoint>,
    /// The point of highest mean gold reward.
    pub peak: CurvePoint,
    /// Gao's form fitted to the gold curve (`None` when every d is 0).
    pub fit: Option<GaoFit>,
}

/// Everything for one `N`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SizeReport {
    /// Pairs the proxy was fitted on.
    pub pairs: usize,
    /// Mean agreement of proxy and gold on pairs from `π_ref`:
    /// `P(sign(r̂_i − r̂_j) = sign(r_i − r_j))` over `i, j ~ π_ref` with
    /// `r_i ≠ r_j`, ties of the proxy counting ½.
    pub agreement: f64,
    /// Best-of-n by the proxy.
    pub best_of_n: Curve,
    /// π* of the proxy over β.
    pub optimum: Curve,
    /// The RLHF run on the proxy.
    pub rlhf: Curve,
}

/// The whole experiment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// Seeds averaged over.
    pub seeds: u64,
    /// One entry per `N`, in the order given.
    pub sizes: Vec<SizeReport>,
    /// The gold optimum's gain at the RLHF run's β, for reference.
    pub gold_optimum: CurvePoint,
}

/// Checks the inputs; sizes within `1..=MAX_PAIRS`, seeds within
/// `1..=MAX_SEEDS`.
fn check(sizes: &[usize], seeds: u64) -> Result<()> {
    if sizes.is_empty() || sizes.len() > MAX_SIZES {
        return Err(Error::invalid(
            "--pairs",
            format!("give 1 to {MAX_SIZES} pair counts, got {}", sizes.len()),
        ));
    }
    for (i, &n) in sizes.iter().enumerate() {
        if !(1..=MAX_PAIRS).contains(&n) {
            return Err(Error::invalid(
                format!("--pairs (entry {i})"),
                format!("must be between 1 and {MAX_PAIRS}, got {n}"),
            ));
        }
    }
    if !(1..=MAX_SEEDS).contains(&seeds) {
        return Err(Error::invalid(
            "--seeds",
            format!("must be between 1 and {MAX_SEEDS}, got {seeds}"),
        ));
    }
    Ok(())
}

/// The β grid of the π*-over-β curve: from 100× to 1/1000 of the gold
/// reward's spread, falling (rising optimisation pressure).
fn beta_grid(spread: f64) -> Vec<f64> {
    let spread = if spread > 0.0 { spread } else { 1.0 };
    (0..BETA_POINTS)
        .map(|k| spread * 10f64.powf(2.0 - 5.0 * k as f64 / (BETA_POINTS - 1) as f64))
        .collect()
}

/// Least squares of `gold ≈ α·d − β·h(d)` over the points.
pub fn fit_gao(points: &[CurvePoint], form: GaoForm) -> Option<GaoFit> {
    let h = |d: f64| form.bend(d);
    let (mut saa, mut sab, mut sbb, mut sag, mut sbg) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in points {
        let (a, b) = (p.sqrt_kl, -h(p.sqrt_kl));
        saa += a * a;
        sab += a * b;
        sbb += b * b;
        sag += a * p.gold;
        sbg += b * p.gold;
    }
    let det = saa * sbb - sab * sab;
    if !(det.is_finite() && det > 1e-12 * (saa * sbb).max(f64::MIN_POSITIVE)) {
        return None;
    }
    let alpha = (sag * sbb - sbg * sab) / det;
    let beta = (saa * sbg - sab * sag) / det;
    let sse: f64 = points
        .iter()
        .map(|p| (p.gold - (alpha * p.sqrt_kl - beta * h(p.sqrt_kl))).powi(2))
        .sum();
    let n = points.len() as f64;
    let mean = points.iter().map(|p| p.gold).sum::<f64>() / n;
    let sst: f64 = points.iter().map(|p| (p.gold - mean).powi(2)).sum();
    let r2 = if sst > 0.0 { 1.0 - sse / sst } else { 0.0 };
    // The form's stationary point: d(α − βd) at α/(2β); d(α − β ln d) at
    // exp(α/β − 1). Only a downward bend (β > 0) has a peak.
    let peak = match form {
        GaoForm::BestOfN => alpha / (2.0 * beta),
        GaoForm::Rl => (alpha / beta - 1.0).exp(),
    };
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.sqrt_kl), hi.max(p.sqrt_kl))
        });
    let fitted_peak = (beta > 0.0 && peak.is_finite() && (lo..=hi).contains(&peak)).then_some(peak);
    Some(GaoFit {
        alpha,
        beta,
        rmse: (sse / n).sqrt(),
        r2,
        fitted_peak,
    })
}

/// A point of one seed's curve before averaging.
fn measure(
    knob: f64,
    log_pi: &[f64],
    log_ref: &[f64],
    gold: &[f64],
    proxy: &[f64],
    base: (f64, f64),
) -> CurvePoint {
    CurvePoint {
        knob,
        sqrt_kl: kl_from_logs(log_pi, log_ref).max(0.0).sqrt(),
        gold: expectation(log_pi, gold) - base.0,
        proxy: expectation(log_pi, proxy) - base.1,
    }
}

fn curve(points: Vec<CurvePoint>, form: GaoForm) -> Curve {
    let peak = points
        .iter()
        .copied()
        .fold(None::<CurvePoint>, |best, p| match best {
            Some(b) if b.gold >= p.gold => Some(b),
            _ => Some(p),
        })
        .unwrap_or(CurvePoint {
            knob: 0.0,
            sqrt_kl: 0.0,
            gold: 0.0,
            proxy: 0.0,
        });
    let fit = fit_gao(&points, form);
    Curve { points, peak, fit }
}

/// Adds `p / seeds` into `acc` point by point.
fn accumulate(acc: &mut Vec<CurvePoint>, seed_curve: &[CurvePoint], seeds: f64) {
    if acc.is_empty() {
        acc.extend(seed_curve.iter().map(|p| CurvePoint {
            knob: p.knob,
            sqrt_kl: 0.0,
            gold: 0.0,
            proxy: 0.0,
        }));
    }
    for (a, p) in acc.iter_mut().zip(seed_curve) {
        a.sqrt_kl += p.sqrt_kl / seeds;
        a.gold += p.gold / seeds;
        a.proxy += p.proxy / seeds;
    }
}

/// Proxy–gold agreement on pairs from `π_ref` (see [`SizeReport::agreement`]).
fn agreement(log_ref: &[f64], gold: &[f64], proxy: &[f64]) -> f64 {
    let (mut agree, mut total) = (0.0, 0.0);
    for i in 0..gold.len() {
        for j in 0..gold.len() {
            if gold[i] == gold[j] {
                continue;
            }
            let w = (log_ref[i] + log_ref[j]).exp();
            total += w;
            let same = (proxy[i] - proxy[j]) * (gold[i] - gold[j]);
            agree += w * if same > 0.0 {
                1.0
            } else if same == 0.0 {
                0.5
            } else {
                0.0
            };
        }
    }
    if total > 0.0 { agree / total } else { 1.0 }
}

/// The RLHF run configurations the experiment trains, `seeds` per pair
/// count, in order: the scenario's RLHF on `N` pairs drawn from `π_ref`
/// (seed `train.seed + s`) and labelled by its annotator. Each fits the
/// proxy reward model when it starts ([`Run::new`]). Use them to estimate
/// the work before [`over_optimisation`].
pub fn run_configs(scenario: &Scenario, sizes: &[usize], seeds: u64) -> Result<Vec<RunConfig>> {
    check(sizes, seeds)?;
    let problem = &scenario.problem;
    if problem.len() > MAX_RESPONSES {
        return Err(Error::invalid(
            "space",
            format!(
                "over-optimisation compares every pair of responses and supports at most {MAX_RESPONSES}, this space has {}",
                problem.len()
            ),
        ));
    }
    let labels = annotator_labels(problem, scenario.length_bonus)?;
    let base = scenario.run_config(MethodKind::Rlhf);
    let mut cfgs = Vec::with_capacity(sizes.len() * seeds as usize);
    for &n_pairs in sizes {
        for s in 0..seeds {
            let spec = DataSpec::Sampled {
                size: n_pairs,
                seed: scenario.train.seed.wrapping_add(s),
                sampler: None,
            };
            let mut cfg = base.clone();
            cfg.data = Arc::new(PairData::build(problem, &spec, &labels)?);
            cfgs.push(cfg);
        }
    }
    Ok(cfgs)
}

/// Runs the experiment on the scenario's focused prompt for each pair
/// count in `sizes`, averaged over `seeds` data draws.
pub fn over_optimisation(scenario: &Scenario, sizes: &[usize], seeds: u64) -> Result<Report> {
    over_optimisation_watched(scenario, sizes, seeds, &crate::train::Unwatched)
}

/// [`over_optimisation`] reporting each RLHF update to `progress`; a stop
/// request ends it with [`Error::Interrupted`].
pub fn over_optimisation_watched(
    scenario: &Scenario,
    sizes: &[usize],
    seeds: u64,
    progress: &dyn crate::train::Progress,
) -> Result<Report> {
    let cfgs = run_configs(scenario, sizes, seeds)?;
    let problem = &scenario.problem;
    let log_ref = &problem.log_ref;
    let gold = &problem.reward;
    let spread = gold.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - gold.iter().cloned().fold(f64::INFINITY, f64::min);
    let betas = beta_grid(spread);
    let ns = best_of_n_grid();
    let gold_ref = expectation(log_ref, gold);
    let sf = seeds as f64;
    let mut reports = Vec::with_capacity(sizes.len());
    for (&n_pairs, group) in sizes.iter().zip(cfgs.chunks(seeds as usize)) {
        let (mut bon, mut opt, mut rl) = (Vec::new(), Vec::new(), Vec::new());
        let mut agree = 0.0;
        for cfg in group {
            let mut run = Run::new(cfg)?;
            let proxy = run
                .reward_model()
                .map(|m| m.values().to_vec())
                .ok_or_else(|| Error::invalid("method", "the RLHF run fitted no reward model"))?;
            let base = (gold_ref, expectation(log_ref, &proxy));
            agree += agreement(log_ref, gold, &proxy) / sf;

            let table = BestOfNTable::new(log_ref, &proxy);
            let seed_bon: Vec<CurvePoint> = ns
                .iter()
                .map(|&n| {
                    measure(
                        n as f64,
                        &table.at(n).log_policy,
                        log_ref,
                        gold,
                        &proxy,
                        base,
                    )
                })
                .collect();
            accumulate(&mut bon, &seed_bon, sf);

            let seed_opt: Vec<CurvePoint> = betas
                .iter()
                .map(|&b| {
                    let o = optimum(log_ref, &proxy, b);
                    measure(b, &o.log_policy, log_ref, gold, &proxy, base)
                })
                .collect();
            accumulate(&mut opt, &seed_opt, sf);

            let mut seed_rl = vec![measure(0.0, log_ref, log_ref, gold, &proxy, base)];
            while !run.finished() {
                if progress.stop_requested() {
                    return Err(Error::Interrupted {
                        step: run.steps_done(),
                    });
                }
                run.step()?;
                progress.advance(1);
                let k = run.steps_done();
                if run.is_logged(k) {
                    let lp = run.policy().log_probs();
                    seed_rl.push(measure(k as f64, &lp, log_ref, gold, &proxy, base));
                }
            }
            accumulate(&mut rl, &seed_rl, sf);
        }
        reports.push(SizeReport {
            pairs: n_pairs,
            agreement: agree,
            best_of_n: curve(bon, GaoForm::BestOfN),
            optimum: curve(opt, GaoForm::Rl),
            rlhf: curve(rl, GaoForm::Rl),
        });
    }
    let star = optimum(log_ref, gold, scenario.train.beta);
    let gold_optimum = measure(
        scenario.train.beta,
        &star.log_policy,
        log_ref,
        gold,
        gold,
        (gold_ref, gold_ref),
    );
    Ok(Report {
        scenario: scenario.name().to_string(),
        seeds,
        sizes: reports,
        gold_optimum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    fn pts(f: impl Fn(f64) -> f64) -> Vec<CurvePoint> {
        (0..20)
            .map(|k| {
                let d = 0.1 * k as f64;
                CurvePoint {
                    knob: k as f64,
                    sqrt_kl: d,
                    gold: f(d),
                    proxy: 0.0,
                }
            })
            .collect()
    }

    #[test]
    fn fit_recovers_both_forms_exactly() {
        let f = fit_gao(&pts(|d| d * (1.5 - 0.4 * d)), GaoForm::BestOfN).expect("a fit");
        assert_abs_diff_eq!(f.alpha, 1.5, epsilon = 1e-10);
        assert_abs_diff_eq!(f.beta, 0.4, epsilon = 1e-10);
        assert_abs_diff_eq!(f.rmse, 0.0, epsilon = 1e-10);
        let f = fit_gao(
            &pts(|d| {
                if d > 0.0 {
                    d * (0.7 - 0.3 * d.ln())
                } else {
                    0.0
                }
            }),
            GaoForm::Rl,
        )
        .expect("a fit");
        assert_abs_diff_eq!(f.alpha, 0.7, epsilon = 1e-10);
        assert_abs_diff_eq!(f.beta, 0.3, epsilon = 1e-10);
    }

    #[test]
    fn fit_of_points_all_at_zero_is_none() {
        assert_eq!(fit_gao(&pts(|_| 0.0)[..1], GaoForm::BestOfN), None);
    }
}
