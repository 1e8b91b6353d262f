//! A property test of the derivation against the public API: for random
//! references, rewards, β and policies, `J(π*) − J(π) = β·KL(π‖π*)` and
//! `J(π*) = β·log Z`.
//!
//! `cargo run --release --example derivation`

use dpo_lab::numerics::kl_from_logs;
use dpo_lab::optimal::{objective, optimum};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Log-probabilities from free logits.
fn normalise(logits: &[f64]) -> Vec<f64> {
    let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z = m + logits.iter().map(|l| (l - m).exp()).sum::<f64>().ln();
    logits.iter().map(|l| l - z).collect()
}

fn main() {
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        // A program, not a test file: nothing to persist failures beside.
        failure_persistence: None,
        ..Config::default()
    });
    let problem = (2usize..12).prop_flat_map(|n| {
        (
            prop::collection::vec(-4.0f64..4.0, n),
            prop::collection::vec(-3.0f64..3.0, n),
            prop::collection::vec(-4.0f64..4.0, n),
            -3.0f64..2.0,
        )
    });
    let result = runner.run(&problem, |(ref_logits, reward, pi_logits, log10_beta)| {
        let beta = 10f64.powf(log10_beta);
        let log_ref = normalise(&ref_logits);
        let log_pi = normalise(&pi_logits);
        let opt = optimum(&log_ref, &reward, beta);
        let j_star = objective(&opt.log_policy, &log_ref, &reward, beta);
        let j = objective(&log_pi, &log_ref, &reward, beta);
        let gap = beta * kl_from_logs(&log_pi, &opt.log_policy);
        let scale = 1.0 + j_star.abs() + j.abs();
        prop_assert!(
            (j_star - j - gap).abs() < 1e-9 * scale,
            "J* − J = {} vs β·KL = {gap}",
            j_star - j
        );
        prop_assert!((j_star - beta * opt.log_partition).abs() < 1e-9 * scale);
        Ok(())
    });
    match result {
        Ok(()) => {
            println!("J(π*) − J(π) = β·KL(π‖π*) and J(π*) = β·log Z held on 2000 random problems")
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
