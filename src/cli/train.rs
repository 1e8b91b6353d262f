//! The training commands: `run`, `compare` and `sweep`.

use std::io::Write;

use anyhow::{Result, anyhow};

use dpo_lab::compare::{CompareReport, MAX_SEEDS, compare_configs, compare_over_seeds};
use dpo_lab::method::MethodKind;
use dpo_lab::optimal::check_beta;
use dpo_lab::scenario::Scenario;
use dpo_lab::sweep::{log_grid, optimal_frontier, sweep_configs, sweep_watched};
use dpo_lab::train::{MultiOutcome, RunConfig, train_prompts_watched};

use super::*;

pub(super) fn run_cmd(
    common: &Common,
    method: MethodKind,
    csv_path: Option<&str>,
    out: &mut dyn Write,
) -> Result<()> {
    method.check_loss_override(common.loss)?;
    let scenario = Scenario::load(&common.scenario, &common.overrides(true)?)?;
    let cfg = scenario.run_config(method);
    let cfgs = scenario.run_configs(method);
    let bar = start_work(&cfgs, common.allow_long)?;
    let outcome = train_prompts_watched(&cfgs, &bar)?;
    drop(bar);
    if let Some(path) = csv_path {
        dpo_lab::export::write_history_csv(std::path::Path::new(path), &outcome.history)?;
    }
    if common.json {
        let report = dpo_lab::report::RunReport::new(&scenario, method, &outcome)?;
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_run_table(&scenario, method, &cfg.train, &outcome, out)?;
    }
    Ok(())
}

pub(super) fn print_run_table(
    scenario: &Scenario,
    method: MethodKind,
    t: &dpo_lab::train::TrainSettings,
    o: &MultiOutcome,
    out: &mut dyn Write,
) -> Result<()> {
    writeln!(
        out,
        "{} — {} (β = {}, lr = {}, {} steps, {}, seed {})",
        scenario.name(),
        method.name(),
        t.beta(),
        scenario.run_config(method).effective_lr(),
        t.steps(),
        t.optimizer().name(),
        t.seed()
    )?;
    if !o.history.is_empty() {
        writeln!(
            out,
            "{:>8} {:>11} {:>11} {:>11} {:>11} {:>11} {:>9}",
            "step", "loss", "E[r]", "KL(π‖ref)", "KL(π‖π*)", "ood_mass", "accuracy"
        )?;
        let stride = (o.history.len() / 12).max(1);
        for (n, (k, m)) in o.history.iter().enumerate() {
            if n % stride == 0 || n + 1 == o.history.len() {
                writeln!(
                    out,
                    "{k:>8} {:>11.5} {:>11.5} {:>11.5} {:>11.5} {:>11.5} {:>9.3}",
                    m.loss,
                    m.expected_reward,
                    m.kl_to_ref,
                    m.kl_to_optimal,
                    m.ood_mass,
                    m.rewards_accuracies
                )?;
            }
        }
    }
    writeln!(out, "final:")?;
    for (k, v) in o.final_metrics.scalars() {
        writeln!(out, "  {k:<20} {v:.6}")?;
    }
    for (k, v) in o.final_metrics.pass_at_columns() {
        writeln!(out, "  {k:<20} {v:.6}")?;
    }
    if o.final_metrics.verifier.is_some() {
        match dpo_lab::report::pass_at_k_crossover(scenario, o) {
            Some(k) => writeln!(
                out,
                "  pass@k crossover     k = {k}: from there on pass@k is below π_ref's"
            )?,
            None => writeln!(
                out,
                "  pass@k crossover     none: pass@k stays at or above π_ref's"
            )?,
        }
    }
    writeln!(out, "  {:<20} {:.3e}", "grad_norm", o.grad_norm)?;
    if o.prompts.len() > 1 {
        writeln!(out, "  (metrics averaged over {} prompts)", o.prompts.len())?;
        for (p, po) in scenario.prompts.iter().zip(&o.prompts) {
            if let Some(v) = &po.final_metrics.verifier {
                writeln!(
                    out,
                    "  {:<20} p_correct {:.6}, zero_variance_groups {:.6}, grad_norm {:.3e}",
                    p.name, v.p_correct, v.zero_variance_groups, po.grad_norm
                )?;
            }
        }
    }
    if let Some(rm) = &o.prompts[0].reward_model {
        let m = rm.final_metrics();
        writeln!(
            out,
            "  reward model         {} steps: loss {:.5}, accuracy {:.3}, margin {:.4}, mean reward {:.4}",
            m.step, m.loss, m.accuracy, m.margin, m.mean_reward
        )?;
    }
    if let Some(top) = &o.final_metrics.ood_top {
        writeln!(
            out,
            "  ood_top              {:?}: {}, implicit reward β·h = {:.4}",
            top.response,
            dpo_lab::numerics::probability_beside_reference(top.probability, top.reference, 6),
            top.implicit_reward
        )?;
    }
    if let Some(c) = dpo_lab::report::ChesReport::of(scenario, method, o)? {
        writeln!(
            out,
            "  CHES (Razin)         {:.4}; at π_ref {:.4}, at the end {:.4} (> 0: the DPO step lowers log π(chosen))",
            c.score, c.at_reference, c.at_final
        )?;
    }
    for w in &o.warnings {
        writeln!(out, "warning: {w}")?;
    }
    Ok(())
}

pub(super) fn compare_cmd(
    common: &Common,
    ma: MethodKind,
    mb: MethodKind,
    margin: &str,
    seeds: u64,
    out: &mut dyn Write,
) -> Result<()> {
    ma.check_loss_override(common.loss)?;
    mb.check_loss_override(common.loss)?;
    let margin = parse_number("--tie-margin", margin)?;
    let overrides = common.overrides(true)?;
    let scenario = Scenario::load(&common.scenario, &overrides)?;
    let comparisons = dpo_lab::work::comparisons(
        scenario.problem.len(),
        seeds.min(MAX_SEEDS) as usize * scenario.prompts.len(),
    );
    let bar = super::progress::start_work_with(
        &compare_configs(&scenario, ma, mb, seeds.min(MAX_SEEDS)),
        Some(comparisons),
        common.allow_long,
    )?;
    let report =
        compare_over_seeds(&scenario, ma, mb, margin, seeds, &bar).map_err(|e| match e {
            // The library names its arguments; here they came from flags.
            dpo_lab::Error::Invalid { field, message }
                if field == "tie_margin" || field == "seeds" =>
            {
                anyhow!("--{}: {message}", field.replace('_', "-"))
            }
            other => other.into(),
        })?;
    drop(bar);
    let CompareReport {
        win,
        tie,
        loss,
        quality_a: qa,
        quality_b: qb,
        ..
    } = report;
    if common.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(
            out,
            "{}: {} vs {} (β = {}, {} seed(s), tie margin {})",
            scenario.name(),
            ma.name(),
            mb.name(),
            scenario.train.beta(),
            seeds,
            margin
        )?;
        writeln!(
            out,
            "{:>8} {:>8} {:>8} {:>12} {:>12}",
            "win", "tie", "loss", "quality a", "quality b"
        )?;
        writeln!(
            out,
            "{:>7.2}% {:>7.2}% {:>7.2}% {:>12.4} {:>12.4}",
            100.0 * win,
            100.0 * tie,
            100.0 * loss,
            qa,
            qb
        )?;
    }
    Ok(())
}

pub(super) fn sweep_cmd(
    common: &Common,
    method: MethodKind,
    scale_lr: bool,
    csv_path: Option<&str>,
    out: &mut dyn Write,
) -> Result<()> {
    method.check_loss_override(common.loss)?;
    let betas = match &common.beta {
        Some(b) => parse_list("--beta", b)?,
        None => log_grid(0.01, 10.0, 7),
    };
    for (i, b) in betas.iter().enumerate() {
        check_beta(&format!("train.beta (from --beta, entry {i})"), *b)?;
    }
    let overrides = common.overrides(false)?;
    let scenario = Scenario::load(&common.scenario, &overrides)?;
    let runs =
        sweep_configs(&scenario, method, &betas, scale_lr).map_err(|e| overrides.name_flag(e))?;
    let all: Vec<RunConfig> = runs.into_iter().flat_map(|(_, c)| c).collect();
    let bar = start_work(&all, common.allow_long)?;
    let points = sweep_watched(&scenario, method, &betas, scale_lr, &bar)?;
    drop(bar);
    let lo = betas.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = betas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let curve = optimal_frontier(&scenario, &log_grid(lo, hi.max(lo), 25));
    if let Some(path) = csv_path {
        dpo_lab::export::write_sweep_csv(std::path::Path::new(path), &points)?;
    }
    if common.json {
        let report =
            dpo_lab::report::SweepReport::new(&scenario, method, scale_lr, &points, &curve);
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(
            out,
            "{} — {} over β (lr·β² {})",
            scenario.name(),
            method.name(),
            if scale_lr { "held fixed" } else { "not scaled" }
        )?;
        writeln!(
            out,
            "{:>9} {:>10} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}",
            "β", "lr", "E[r]", "KL(π‖ref)", "E_π*[r]", "KL(π*‖ref)", "KL(π‖π*)", "ood_mass"
        )?;
        for pt in &points {
            let m = &pt.metrics;
            writeln!(
                out,
                "{:>9.4} {:>10.4e} {:>11.5} {:>11.5} {:>11.5} {:>11.5} {:>11.5} {:>11.5}",
                pt.beta,
                pt.lr,
                m.expected_reward,
                m.kl_to_ref,
                pt.optimal.expected_reward,
                pt.optimal.kl_to_ref,
                m.kl_to_optimal,
                m.ood_mass
            )?;
        }
        for pt in &points {
            for w in &pt.warnings {
                writeln!(out, "warning: β = {}: {w}", pt.beta)?;
            }
        }
    }
    Ok(())
}
