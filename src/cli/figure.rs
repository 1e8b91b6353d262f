//! `dpo-lab figure`: the app's pictures as SVG or PNG, no display needed.

use std::io::Write;

use anyhow::Result;

use dpo_lab::figure::{FigureKind, check_side, figure_data, format_of, write_figure};
use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{Overrides, Scenario};

use super::progress::start_work;

/// The figure command's flags.
#[derive(Debug, clap::Args)]
pub struct FigureArgs {
    /// Built-in scenario name or path to a .toml file.
    #[arg(long)]
    scenario: String,
    /// Methods to train and draw, comma-separated.
    #[arg(long = "method", default_value = "dpo")]
    methods: String,
    /// What to draw.
    #[arg(long, default_value = "bars", value_parser = super::choice::<FigureKind>())]
    kind: FigureKind,
    /// Output file: .svg or .png.
    #[arg(long)]
    out: String,
    /// Width in pixels (200 to 4000).
    #[arg(long, default_value_t = 1200)]
    width: u32,
    /// Height in pixels (200 to 4000).
    #[arg(long, default_value_t = 700)]
    height: u32,
    /// Number of updates (default: the scenario's).
    #[arg(long)]
    steps: Option<u64>,
    /// KL weight β (default: the scenario's).
    #[arg(long, allow_hyphen_values = true)]
    beta: Option<f64>,
    /// Seed of the runs' generator.
    #[arg(long)]
    seed: Option<u64>,
    /// Run even when the work estimate exceeds the limit.
    #[arg(long = "allow-long")]
    allow_long: bool,
}

pub(super) fn figure_cmd(a: &FigureArgs, out: &mut dyn Write) -> Result<()> {
    let path = std::path::Path::new(&a.out);
    format_of("--out", path)?;
    check_side("--width", a.width)?;
    check_side("--height", a.height)?;
    let kind = a.kind;
    let methods = a
        .methods
        .split(',')
        .map(|m| MethodKind::parse(m.trim()))
        .collect::<dpo_lab::Result<Vec<_>>>()?;
    let overrides = Overrides {
        steps: a.steps,
        beta: a.beta,
        seed: a.seed,
        ..Overrides::default()
    };
    let scenario = Scenario::load(&a.scenario, &overrides)?;
    let cfgs: Vec<_> = methods
        .iter()
        .chain([&MethodKind::Optimal])
        .flat_map(|m| scenario.run_configs(*m))
        .collect();
    let bar = start_work(&cfgs, a.allow_long)?;
    let data = figure_data(&scenario, &methods, &bar)?;
    drop(bar);
    write_figure(&data, kind, (a.width, a.height), path)?;
    writeln!(out, "wrote {}", path.display())?;
    Ok(())
}
