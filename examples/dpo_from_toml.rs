//! A DPO run built from a scenario written inline as TOML, trained to the
//! end and compared with the closed-form optimum π*.
//!
//! `cargo run --release --example dpo_from_toml`

use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{RawScenario, Scenario};
use dpo_lab::train::train;

const SCENARIO: &str = r#"
name = "three-answers"
[space]
responses = ["A", "B", "C"]
[reference]
probs = [0.5, 0.3, 0.2]
[reward]
values = [1.0, 0.0, -1.0]
[data]
kind = "population"      # the exact expectation over Bradley–Terry pairs
[train]
beta = 0.5
lr = 4.0
steps = 2000
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scenario = Scenario::check(RawScenario::parse(SCENARIO, "inline")?)?;
    let dpo = train(&scenario.run_config(MethodKind::Dpo), |_, _| {})?;
    let star = train(&scenario.run_config(MethodKind::Optimal), |_, _| {})?;
    println!("answer      π_ref       DPO        π*");
    for y in 0..scenario.problem.len() {
        println!(
            "{:<8} {:>8.5} {:>9.5} {:>9.5}",
            scenario.problem.space.name(y),
            scenario.problem.log_ref[y].exp(),
            dpo.final_log_probs[y].exp(),
            star.final_log_probs[y].exp()
        );
    }
    println!(
        "KL(π_DPO ‖ π*) = {:.3e}; warnings: {:?}",
        dpo.final_metrics.kl_to_optimal, dpo.warnings
    );
    Ok(())
}
