//! `dpo-lab resample`: online DPO from "fresh pairs every step" to
//! "sampled once" (offline).

use std::io::Write;

use anyhow::Result;

use dpo_lab::scenario::Scenario;
use dpo_lab::sweep::{parse_every, resample_configs, resample_sweep};

use super::Common;
use super::progress::start_work;

pub(super) fn resample_cmd(common: &Common, every: &str, out: &mut dyn Write) -> Result<()> {
    let every = parse_every("--every", every)?;
    let scenario = Scenario::load(&common.scenario, &common.overrides(true)?)?;
    let cfgs = resample_configs(&scenario, &every);
    let bar = start_work(&cfgs, common.allow_long)?;
    let points = resample_sweep(&scenario, &every, &bar)?;
    drop(bar);
    if common.json {
        let v = serde_json::json!({"scenario": scenario.name(), "points": points});
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{}: online DPO, {} steps, {} pairs per batch",
        scenario.name(),
        scenario.train.steps(),
        scenario.online.batch()
    )?;
    writeln!(
        out,
        "{:>8} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "every", "ood_mass", "unseen", "E r", "KL π*", "labels"
    )?;
    for p in &points {
        writeln!(
            out,
            "{:>8} {:>10.5} {:>10.5} {:>10.4} {:>10.4} {:>10}",
            p.every.map_or("inf".to_string(), |k| k.to_string()),
            p.ood_mass,
            p.unseen_mass,
            p.expected_reward,
            p.kl_to_optimal,
            p.labels
        )?;
    }
    Ok(())
}
