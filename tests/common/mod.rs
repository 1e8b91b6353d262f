//! Shared, bounded proptest strategies and helpers for the integration tests.
#![allow(dead_code)] // each test file uses a different subset

use std::time::Duration;

use proptest::prelude::*;

/// β over the range the product promises to handle: 1e-4 … 1e4.
pub fn beta() -> impl Strategy<Value = f64> {
    (-4.0f64..4.0).prop_map(|e| 10f64.powf(e))
}

/// A moderate β for identities that compare differences of large terms.
pub fn moderate_beta() -> impl Strategy<Value = f64> {
    (-2.0f64..2.0).prop_map(|e| 10f64.powf(e))
}

/// A reference distribution of 2…12 entries, with tiny entries and exact
/// zeros (at least one entry stays positive), as log-probabilities.
pub fn log_reference() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![
            6 => 0.01f64..1.0,
            2 => 1e-12f64..1e-6,
            1 => Just(0.0),
        ],
        2..12,
    )
    .prop_map(|mut w| {
        if w.iter().all(|x| *x == 0.0) {
            w[0] = 1.0;
        }
        let s: f64 = w.iter().sum();
        w.iter().map(|x| (x / s).ln()).collect()
    })
}

/// Rewards in [-5, 5] of the given length.
pub fn rewards(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-5.0f64..5.0, n)
}

/// A reference with matching rewards.
pub fn reference_and_reward() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    log_reference().prop_flat_map(|lr| {
        let n = lr.len();
        (Just(lr), rewards(n))
    })
}

/// A policy whose support lies inside that of `log_ref` (log-probs).
pub fn policy_within(log_ref: &[f64], raw: &[f64]) -> Vec<f64> {
    let mut lp: Vec<f64> = log_ref
        .iter()
        .zip(raw)
        .map(|(&r, &x)| if r == f64::NEG_INFINITY { r } else { x })
        .collect();
    dpo_lab::numerics::log_normalize(&mut lp);
    lp
}

/// `|a − b| ≤ max(abs, rel·max(|a|, |b|))`, with a message.
#[track_caller]
pub fn assert_close(a: f64, b: f64, rel: f64, abs: f64, what: &str) {
    assert!(
        dpo_lab::tolerance::close(a, b, rel, abs),
        "{what}: {a} vs {b} (diff {})",
        (a - b).abs()
    );
}

/// A proptest configuration with a fixed seed: every run of the suite
/// draws the same cases (failures are also kept in proptest-regressions/).
pub fn config(cases: u32) -> ProptestConfig {
    // DPO_LAB_FUZZ_CASES=3000: a longer run than CI's, to probe.
    let cases = std::env::var("DPO_LAB_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x05ee_dd90),
        ..ProptestConfig::default()
    }
}

/// Runs the binary with a deadline; `None` means it had to be killed.
pub fn run_with_deadline(
    args: &[&str],
    deadline: Duration,
) -> Option<(Option<i32>, String, String)> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_dpo-lab"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut out = String::new();
            let mut err = String::new();
            child
                .stdout
                .take()
                .expect("stdout")
                .read_to_string(&mut out)
                .expect("utf-8 stdout");
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut err)
                .expect("utf-8 stderr");
            return Some((status.code(), out, err));
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs the binary with no display, to completion.
pub fn dpo_lab(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_dpo-lab"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .expect("binary runs")
}

/// Runs the binary, asserts it succeeded, and parses its JSON.
#[track_caller]
pub fn json(args: &[&str]) -> serde_json::Value {
    let out = dpo_lab(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}
