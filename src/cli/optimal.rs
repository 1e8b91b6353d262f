//! `dpo-lab scenarios` and `dpo-lab optimal`.

use std::io::Write;

use anyhow::{Result, bail};
use serde_json::{Value, json};

use dpo_lab::optimal::{check_beta, objective, optimum, recovered_reward};
use dpo_lab::reference::check_distribution;
use dpo_lab::scenario::{builtins, summary_of};

use super::*;

pub(super) fn scenarios(json: bool, out: &mut dyn Write) -> Result<()> {
    let all = builtins();
    if json {
        let v: Vec<Value> = all
            .iter()
            .map(|s| json!({"name": s.name, "summary": summary_of(s)}))
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        let w = all.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for s in &all {
            writeln!(out, "{:w$}  {}", s.name, summary_of(s))?;
        }
    }
    Ok(())
}

pub(super) fn optimal_cmd(
    pi_ref: &str,
    reward: &str,
    beta: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let p = parse_list("--pi-ref", pi_ref)?;
    let r = parse_list("--reward", reward)?;
    let beta = check_beta("--beta", parse_number("--beta", beta)?)?;
    if p.len() != r.len() {
        bail!(
            "--reward: has {} entries but --pi-ref has {}",
            r.len(),
            p.len()
        );
    }
    let p = check_distribution("--pi-ref", &p)?;
    for (i, x) in r.iter().enumerate() {
        if !(x.is_finite() && x.abs() <= dpo_lab::reward::MAX_REWARD) {
            bail!(
                "--reward: entry {i} must be a finite number with |r| ≤ {:e}, got {}",
                dpo_lab::reward::MAX_REWARD,
                dpo_lab::numerics::show(*x)
            );
        }
    }
    dpo_lab::optimal::check_reward_scale("--beta", &r, beta)?;
    let log_ref: Vec<f64> = p.iter().map(|x| x.ln()).collect();
    let opt = optimum(&log_ref, &r, beta);
    let policy: Vec<f64> = opt.log_policy.iter().map(|l| l.exp()).collect();
    let j = objective(&opt.log_policy, &log_ref, &r, beta);
    let rec = recovered_reward(&opt, &log_ref);
    if json {
        let v = json!({
            "beta": beta,
            "policy": policy,
            "log_partition": opt.log_partition,
            "objective": j,
            "reward_recovered": rec,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(
            out,
            "β = {beta}   log Z = {:.6}   J(π*) = β log Z = {:.6}",
            opt.log_partition, j
        )?;
        writeln!(
            out,
            "{:>4}  {:>12}  {:>12}  {:>12}  {:>12}",
            "y", "π_ref", "reward", "π*", "recovered r"
        )?;
        for i in 0..p.len() {
            let rec_s = rec[i].map_or("—".to_string(), |x| format!("{x:.6}"));
            writeln!(
                out,
                "{i:>4}  {:>12.6}  {:>12.6}  {:>12.6}  {:>12}",
                p[i], r[i], policy[i], rec_s
            )?;
        }
    }
    Ok(())
}
