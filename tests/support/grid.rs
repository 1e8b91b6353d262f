//! The lesson checks' grid (shared by `lessons.rs`, `phenomena.rs`, `guided.rs`
//! and `rlvr_lessons.rs`):
//! seeds, β and step factors from the environment, rates through their
//! Wilson lower bound, and each lesson's scenario at a grid point.
#![allow(dead_code)]

use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{Overrides, Scenario};
use dpo_lab::sweep::step_scales_with_beta;
use dpo_lab::train::{Outcome, train};

/// One point of a lesson's grid.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub seed: u64,
    pub beta: f64,
    pub steps: f64,
}

/// A list from the environment: `a-b` (integers, inclusive) or `x,y,z`.
pub fn env_list(var: &str, default: &str) -> Vec<f64> {
    let mut out = env_list_unsorted(var, default);
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

pub fn env_list_unsorted(var: &str, default: &str) -> Vec<f64> {
    let text = std::env::var(var).unwrap_or_else(|_| default.to_string());
    let parse = |v: &str| {
        v.trim()
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("{var}: {v:?} is not a number"))
    };
    match text.split_once('-') {
        Some((a, b)) if !a.is_empty() => {
            let (a, b) = (parse(a) as u64, parse(b) as u64);
            (a..=b).map(|k| k as f64).collect()
        }
        _ => text.split(',').map(parse).collect(),
    }
}

/// β factors of the grid (`DPO_LAB_LESSON_BETA_FACTORS`, default ½, 1, 2).
pub fn beta_factors() -> Vec<f64> {
    env_list("DPO_LAB_LESSON_BETA_FACTORS", "0.5,1,2")
}

/// Step factors of the grid (`DPO_LAB_LESSON_STEP_FACTORS`, default ½, 1, 2).
pub fn step_factors() -> Vec<f64> {
    env_list("DPO_LAB_LESSON_STEP_FACTORS", "0.5,1,2")
}

/// Seeds of the grid's random methods (`DPO_LAB_LESSON_SEEDS`, default
/// 0–4).
pub fn seeds() -> Vec<u64> {
    env_list("DPO_LAB_LESSON_SEEDS", "0-4")
        .into_iter()
        .map(|s| s as u64)
        .collect()
}

/// Seeds a rate is measured over (`DPO_LAB_LESSON_SEEDS`, default 0–39).
pub fn rate_seeds() -> Vec<u64> {
    env_list("DPO_LAB_LESSON_SEEDS", "0-39")
        .into_iter()
        .map(|s| s as u64)
        .collect()
}

/// The grid: β and steps factors, and the seeds when `seeded` (methods
/// that draw at random; full-batch runs draw nothing, see
/// [`full_batch_runs_ignore_the_seed`]).
pub fn grid(seeded: bool) -> Vec<Point> {
    let seeds: Vec<u64> = if seeded { seeds() } else { vec![0] };
    let mut out = Vec::new();
    for beta in beta_factors() {
        for steps in step_factors() {
            for &seed in &seeds {
                out.push(Point { seed, beta, steps });
            }
        }
    }
    out
}

/// The Wilson score interval's lower end (95 %) for `k` successes in `n`.
pub fn wilson_lower(k: usize, n: usize) -> f64 {
    let (k, n) = (k as f64, n as f64);
    let z = 1.959_963_984_540_054_f64;
    let p = k / n;
    let centre = p + z * z / (2.0 * n);
    let spread = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (centre - spread) / (1.0 + z * z / n)
}

/// Checks that `claim` holds at a rate of at least `rate` over `points`:
/// the Wilson 95 % lower bound of the measured rate must reach it (so a
/// pass is evidence, not luck). Prints the measured rate.
pub fn check_rate(
    name: &str,
    rate: f64,
    points: &[Point],
    claim: impl Fn(Point) -> Result<(), String> + Sync,
) {
    use rayon::prelude::*;
    let failures: Vec<String> = points
        .par_iter()
        .filter_map(|&p| claim(p).err().map(|e| format!("  at {p:?}: {e}")))
        .collect();
    let n = points.len();
    let k = n - failures.len();
    let lower = wilson_lower(k, n);
    println!(
        "{name}: {k} of {n} ({:.1} %), Wilson lower bound {lower:.3}",
        100.0 * k as f64 / n as f64
    );
    assert!(
        lower >= rate,
        "{name}: the claim holds at {k} of {n} points, Wilson 95 % lower bound {lower:.3} below the stated rate {rate}:\n{}",
        failures.join("\n")
    );
}

/// The lesson at a grid point: β scaled, lr scaled by 1/factor² where the
/// method's step scales with β², steps scaled, seed offset.
pub fn at(name: &str, method: MethodKind, p: Point, extra: &Overrides) -> Scenario {
    let base = Scenario::load(name, extra).expect("built-in scenario loads");
    let cfg = base.run_config(method);
    let lr = if step_scales_with_beta(method, cfg.train.loss()) {
        cfg.effective_lr() / (p.beta * p.beta)
    } else {
        cfg.effective_lr()
    };
    let o = Overrides {
        beta: Some(base.train.beta() * p.beta),
        lr: Some(lr),
        steps: Some((base.train.steps() as f64 * p.steps).round() as u64),
        seed: Some(base.train.seed() + p.seed),
        log_every: Some(0),
        ..extra.clone()
    };
    Scenario::load(name, &o).expect("grid point loads")
}

pub fn train_at(
    name: &str,
    method: MethodKind,
    p: Point,
    extra: &Overrides,
) -> (Scenario, Outcome) {
    let s = at(name, method, p, extra);
    let out = train(&s.run_config(method), |_, _| {})
        .unwrap_or_else(|e| panic!("{name} {method:?} at {p:?}: {e}"));
    (s, out)
}

/// Checks `claim` at every point and reports every failure at once.
pub fn check_grid(name: &str, points: &[Point], claim: impl Fn(Point) -> Result<(), String>) {
    let failures: Vec<String> = points
        .iter()
        .filter_map(|&p| claim(p).err().map(|e| format!("  at {p:?}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{name}: the lesson's claim fails on {} of {} grid points:\n{}",
        failures.len(),
        points.len(),
        failures.join("\n")
    );
}

pub fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

/// A response's index by name.
pub fn index(s: &Scenario, name: &str) -> usize {
    s.problem.space.index_of(name).expect("response in space")
}

/// A response's final probability.
pub fn prob(s: &Scenario, out: &Outcome, name: &str) -> f64 {
    out.final_log_probs[index(s, name)].exp()
}

/// A response's reference probability.
pub fn reference(s: &Scenario, name: &str) -> f64 {
    s.problem.log_ref[index(s, name)].exp()
}

/// The largest final probability.
pub fn max_prob(out: &Outcome) -> f64 {
    out.final_log_probs
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .exp()
}
