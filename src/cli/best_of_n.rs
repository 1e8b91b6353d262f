//! `dpo-lab best-of-n`.

use std::io::Write;

use anyhow::Result;

use dpo_lab::scenario::{Overrides, Scenario};

use super::*;

pub(super) fn best_of_n_cmd(
    scenario: &str,
    ns: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    use dpo_lab::best_of_n::best_of_n_points;
    let ns: Vec<u64> = parse_items("--n", ns, "integers", "an integer ≥ 1")?;
    let scenario = Scenario::load(scenario, &Overrides::default())?;
    let points = best_of_n_points(&scenario, &ns)?;
    if json {
        let report = dpo_lab::report::BestOfNReport::new(&scenario, &points);
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(out, "scenario: {}", scenario.name())?;
        writeln!(
            out,
            "{:>8}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}",
            "n", "kl", "kl_bound", "E r", "E r of π*", "win_rate"
        )?;
        for p in &points {
            writeln!(
                out,
                "{:>8}  {:>10.6}  {:>10.6}  {:>10.6}  {:>10.6}  {:>10.6}",
                p.n, p.kl, p.kl_bound, p.expected_reward, p.optimal_expected_reward, p.win_rate
            )?;
        }
        writeln!(
            out,
            "(E r of π*: the optimum with the same KL to π_ref, the reward–KL frontier)"
        )?;
    }
    Ok(())
}
