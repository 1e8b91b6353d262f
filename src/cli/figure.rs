//! `dpo-lab figure`: the app's pictures as SVG or PNG, no display needed.

use std::io::Write;

use anyhow::Result;

use dpo_lab::figure::{FigureKind, check_side, figure_data, format_of, write_figure};
use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{Overrides, Scenario};

use super::progress::start_work;

/// The figure command's settings, as parsed.
pub(super) struct FigureArgs<'a> {
    pub scenario: &'a str,
    pub methods: &'a str,
    pub kind: &'a str,
    pub out: &'a str,
    pub width: u32,
    pub height: u32,
    pub steps: Option<u64>,
    pub beta: Option<f64>,
    pub seed: Option<u64>,
    pub allow_long: bool,
}

pub(super) fn figure_cmd(a: &FigureArgs<'_>, out: &mut dyn Write) -> Result<()> {
    let path = std::path::Path::new(a.out);
    format_of("--out", path)?;
    check_side("--width", a.width)?;
    check_side("--height", a.height)?;
    let kind: FigureKind = dpo_lab::names::parse_choice("--kind", "figure kind", a.kind)?;
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
    let scenario = Scenario::load(a.scenario, &overrides)?;
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
