//! Fixed, seeded workloads for `dpo-lab bench` and `cargo bench`: exact
//! metric evaluation and single training steps at scale, timed as the median
//! of several repetitions.

use std::hint::black_box;
use std::time::Instant;

use crate::error::Result;
use crate::method::MethodKind;
use crate::scenario::{RawScenario, Scenario};
use crate::train::Run;

/// A flat scenario of `n` responses: Dirichlet(1) reference, N(0, 1)
/// rewards, 10,000 sampled pairs, minibatches of 64, online batches of 64.
pub fn flat_scenario(n: u64) -> Result<Scenario> {
    let text = format!(
        r#"
name = "bench-flat-{n}"
[space]
size = {n}
[reference]
kind = "dirichlet"
alpha = 1.0
seed = 7
[reward]
kind = "gaussian"
seed = 3
[data]
kind = "sampled"
size = 10000
seed = 1
[train]
beta = 0.1
lr = 100.0
steps = 1000000
batch = 64
log_every = 0
[online]
batch = 64
"#
    );
    Scenario::check(RawScenario::parse(&text, "bench")?)
}

/// Every sequence of up to 6 tokens over 9 tokens (597,870 responses), an
/// autoregressive policy, uniform reference and zero reward.
pub fn sequence_scenario() -> Result<Scenario> {
    let text = r#"
name = "bench-sequences"
[space]
kind = "sequences"
vocab = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
max_len = 6
[reference]
kind = "uniform"
[reward]
kind = "sequence"
length = -0.1
[data]
kind = "pairs"
pairs = [["a b", "b a"], ["c", "d d"]]
[policy]
kind = "autoregressive"
[train]
beta = 0.1
lr = 1.0
steps = 1000000
log_every = 0
"#;
    Scenario::check(RawScenario::parse(text, "bench")?)
}

/// The library's figures for `dpo-lab bench` (the app adds `frame_ms`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Responses of the flat workloads.
    pub responses: u64,
    /// One exact evaluation of every metric, per response (flat, tabular).
    pub eval_ns_per_response: f64,
    /// The same for the autoregressive policy over sequences.
    pub eval_ar_ns_per_response: f64,
    /// Responses of the sequence workload.
    pub ar_responses: usize,
    /// One offline DPO minibatch step (batch 64).
    pub offline_step_us: f64,
    /// One online DPO step (64 fresh pairs drawn, labelled, one update).
    pub online_step_us: f64,
}

/// Runs the fixed workloads at `n` flat responses (the sequence workload
/// only when `with_sequences`). Steps are timed near the reference, where
/// draws are spread over the whole space and miss the cache most.
pub fn figures(n: u64, with_sequences: bool) -> Result<Figures> {
    let flat = flat_scenario(n)?;
    let (ar, ar_n) = if with_sequences {
        let q = sequence_scenario()?;
        (
            eval_ns_per_response(&q, MethodKind::Dpo, 10, 7)?,
            q.problem.len(),
        )
    } else {
        (f64::NAN, 0)
    };
    Ok(Figures {
        responses: n,
        eval_ns_per_response: eval_ns_per_response(&flat, MethodKind::Dpo, 100, 9)?,
        eval_ar_ns_per_response: ar,
        ar_responses: ar_n,
        offline_step_us: step_us(&flat, MethodKind::Dpo, 100, 500, 9)?,
        online_step_us: step_us(&flat, MethodKind::OnlineDpo, 100, 500, 9)?,
    })
}

/// The median of `reps` timings of `f`, in seconds.
pub fn median_seconds(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Nanoseconds per response of one exact evaluation of every metric
/// (log-softmax included) of `method`'s policy after `warm` updates.
pub fn eval_ns_per_response(
    scenario: &Scenario,
    method: MethodKind,
    warm: usize,
    reps: usize,
) -> Result<f64> {
    let mut run = Run::new(&scenario.run_config(method))?;
    for _ in 0..warm {
        run.step()?;
    }
    let n = scenario.problem.len() as f64;
    let mut err = None;
    let s = median_seconds(reps, || {
        if let Err(e) = run.metrics().map(black_box) {
            err = Some(e);
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(s * 1e9 / n),
    }
}

/// Microseconds per training step of `method` (median over `reps` blocks
/// of `block` steps, after `warm` steps).
pub fn step_us(
    scenario: &Scenario,
    method: MethodKind,
    warm: usize,
    block: usize,
    reps: usize,
) -> Result<f64> {
    let mut run = Run::new(&scenario.run_config(method))?;
    for _ in 0..warm {
        run.step()?;
    }
    let mut err = None;
    let s = median_seconds(reps, || {
        for _ in 0..block {
            if let Err(e) = run.step() {
                err = Some(e);
                return;
            }
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(s * 1e6 / block as f64),
    }
}
