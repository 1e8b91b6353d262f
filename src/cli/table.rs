//! `dpo-lab table`: remedies for the OOD leak, side by side.

use std::io::Write;

use anyhow::Result;

use dpo_lab::remedies::{parse_entries, remedies_table, table_configs};
use dpo_lab::scenario::Scenario;

use super::Common;
use super::progress::start_work;

pub(super) fn table_cmd(common: &Common, rows: &str, out: &mut dyn Write) -> Result<()> {
    let overrides = common.overrides(true)?;
    let scenario = Scenario::load(&common.scenario, &overrides)?;
    let entries = parse_entries("--rows", rows, &scenario.loss_params())?;
    let cfgs = table_configs(&scenario, &entries);
    let bar = start_work(&cfgs, common.allow_long)?;
    let table = remedies_table(&scenario, &entries, &bar)?;
    drop(bar);
    if common.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&table)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} (β = {}); focus: {}",
        table.scenario,
        table.beta,
        table
            .focus
            .as_deref()
            .unwrap_or("(every response is in the data)")
    )?;
    writeln!(
        out,
        "{:<18} {:>9} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}",
        "row", "ood_mass", "focus π", "focus β·h", "E r", "KL ref", "KL π*", "win", "tie", "loss"
    )?;
    for row in &table.rows {
        let Some(r) = &row.numbers else {
            writeln!(
                out,
                "{:<18} error: {}",
                row.name,
                row.error.as_deref().unwrap_or("no result")
            )?;
            continue;
        };
        writeln!(
            out,
            "{:<18} {:>9.5} {:>10.5} {:>10} {:>9.4} {:>9.4} {:>9.4} {:>6.1}% {:>6.1}% {:>6.1}%",
            row.name,
            r.ood_mass,
            r.focus_probability,
            r.focus_implicit_reward
                .map_or("—".to_string(), |h| format!("{h:.4}")),
            r.expected_reward,
            r.kl_to_ref,
            r.kl_to_optimal,
            100.0 * r.win,
            100.0 * r.tie,
            100.0 * r.loss
        )?;
    }
    writeln!(
        out,
        "(win/tie/loss: each row's answers against π*'s, exactly)"
    )?;
    Ok(())
}
