//! `dpo-lab over-optimisation`.

use std::io::Write;

use anyhow::Result;

use dpo_lab::overoptimisation::{Curve, over_optimisation_watched, run_configs};
use dpo_lab::scenario::{Overrides, Scenario};

use super::parse_items;

fn fit_text(c: &Curve) -> String {
    match c.fit {
        Some(f) => format!(
            "α {:.4}  β {:.4}  (R² {:.3}, rmse {:.4}; fitted peak {})",
            f.alpha,
            f.beta,
            f.r2,
            f.rmse,
            f.fitted_peak
                .map_or_else(|| "outside the data".to_string(), |d| format!("d {d:.3}"))
        ),
        None => "no fit (every d is 0)".into(),
    }
}

pub(super) fn over_optimisation_cmd(
    scenario: &str,
    pairs: &str,
    seeds: u64,
    allow_long: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let sizes: Vec<usize> = parse_items("--pairs", pairs, "integers", "an integer ≥ 1")?;
    let scenario = Scenario::load(scenario, &Overrides::default())?;
    let cfgs = run_configs(&scenario, &sizes, seeds)?;
    // The work check, a progress bar for a second or more, and Ctrl-C.
    let bar = super::progress::start_work(&cfgs, allow_long)?;
    let report = over_optimisation_watched(&scenario, &sizes, seeds, &bar)?;
    drop(bar);
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{}: proxy reward model fitted on N pairs from π_ref, mean of {} seeds; \
         d = √KL(π‖π_ref), rewards are gains over π_ref",
        report.scenario, report.seeds
    )?;
    writeln!(
        out,
        "gold π* at β = {}: d {:.3}, gold {:.4}",
        report.gold_optimum.knob, report.gold_optimum.sqrt_kl, report.gold_optimum.gold
    )?;
    writeln!(
        out,
        "{:>6} {:>6}  {:<10} {:>8} {:>9}   {:>8} {:>9} {:>9}   Gao fit of the gold curve",
        "N", "agree", "optimiser", "peak d", "peak gold", "end d", "end gold", "end proxy"
    )?;
    for s in &report.sizes {
        for (name, c) in [
            ("best-of-n", &s.best_of_n),
            ("π* over β", &s.optimum),
            ("rlhf", &s.rlhf),
        ] {
            let end = c.points.last().copied().unwrap_or(c.peak);
            writeln!(
                out,
                "{:>6} {:>6.3}  {:<10} {:>8.3} {:>9.4}   {:>8.3} {:>9.4} {:>9.4}   {}",
                s.pairs,
                s.agreement,
                name,
                c.peak.sqrt_kl,
                c.peak.gold,
                end.sqrt_kl,
                end.gold,
                end.proxy,
                fit_text(c)
            )?;
        }
    }
    writeln!(
        out,
        "(Gao's forms: best-of-n d·(α − β·d), π* over β and rlhf d·(α − β·ln d); \
         agree = P(proxy orders a π_ref pair as gold does))"
    )?;
    Ok(())
}
