//! A β sweep printed as CSV: for each β, the optimum's expected reward and
//! KL to the reference (the exact reward–KL frontier) beside offline DPO's
//! on the `ood-leak` lesson, with its out-of-data mass.
//!
//! `cargo run --release --example beta_sweep > sweep.csv`

use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{Overrides, Scenario};
use dpo_lab::train::train;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = Scenario::load("ood-leak", &Overrides::default())?;
    let (beta0, lr0) = (base.train.beta(), base.train.lr());
    println!(
        "beta,optimal_expected_reward,optimal_kl_to_ref,dpo_expected_reward,dpo_kl_to_ref,dpo_ood_mass"
    );
    for beta in [0.1, 0.25, 0.5, 1.0, 2.0] {
        // The step of DPO on tabular logits is lr·β²: keep it fixed.
        let o = Overrides {
            beta: Some(beta),
            lr: Some(lr0 * (beta0 / beta).powi(2)),
            log_every: Some(0),
            ..Overrides::default()
        };
        let s = Scenario::load("ood-leak", &o)?;
        let star = train(&s.run_config(MethodKind::Optimal), |_, _| {})?.final_metrics;
        let dpo = train(&s.run_config(MethodKind::Dpo), |_, _| {})?.final_metrics;
        println!(
            "{beta},{},{},{},{},{}",
            star.expected_reward, star.kl_to_ref, dpo.expected_reward, dpo.kl_to_ref, dpo.ood_mass
        );
    }
    Ok(())
}
