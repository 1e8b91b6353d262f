//! The command line: parse flags, call the library, print JSON or a table.
//! Every error becomes one `error: …` line on stderr and exit code 2.

use std::io::Write;

use anyhow::{Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

use dpo_lab::compare::head_to_head;
use dpo_lab::method::MethodKind;
use dpo_lab::metrics::Metrics;
use dpo_lab::optimal::{check_beta, objective, optimum, recovered_reward};
use dpo_lab::reference::check_distribution;
use dpo_lab::scenario::{Overrides, Scenario, builtins, summary_of};
use dpo_lab::space::ResponseSpace;
use dpo_lab::sweep::{log_grid, optimal_frontier, sweep_configs, sweep_watched};
use dpo_lab::train::{MultiOutcome, Progress, RunConfig, train_prompts_watched};
use dpo_lab::work::WorkEstimate;

/// DPO Lab: exact, interactive preference alignment (DPO, online DPO, IPO,
/// RLHF) on small enumerable response spaces.
#[derive(Debug, Parser)]
#[command(name = "dpo-lab", version, about, long_about = None)]
pub struct Cli {
    /// What to do (no command opens the desktop app).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the desktop app.
    App {
        /// Scenario to open (built-in name or .toml path).
        #[arg(long)]
        scenario: Option<String>,
    },
    /// List the built-in scenarios.
    Scenarios {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The closed-form optimum π* ∝ π_ref·exp(r/β) for one prompt.
    Optimal {
        /// Reference probabilities, comma-separated (zeros allowed).
        #[arg(long = "pi-ref", allow_hyphen_values = true)]
        pi_ref: String,
        /// Rewards, comma-separated.
        #[arg(long, allow_hyphen_values = true)]
        reward: String,
        /// KL weight β > 0.
        #[arg(long, allow_hyphen_values = true)]
        beta: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Train one method and print its final metrics (and history).
    Run {
        #[command(flatten)]
        common: Common,
        /// The method.
        #[arg(long, value_parser = choice::<MethodKind>())]
        method: String,
        /// Write the history as CSV to this file.
        #[arg(long)]
        csv: Option<String>,
    },
    /// Train two methods and compare them exactly (win/tie/loss, quality).
    Compare {
        #[command(flatten)]
        common: Common,
        /// First method (the one whose wins are counted).
        #[arg(long, value_parser = choice::<MethodKind>())]
        a: String,
        /// Second method.
        #[arg(long, value_parser = choice::<MethodKind>())]
        b: String,
        /// Rewards within this margin count as a tie (default 0).
        #[arg(long = "tie-margin", default_value = "0", allow_hyphen_values = true)]
        tie_margin: String,
        /// Average over this many seeds (seed, seed+1, …; default 1).
        #[arg(long, default_value_t = 1)]
        seeds: u64,
    },
    /// Time fixed, seeded workloads (median of several repetitions).
    Bench {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Also time evaluation and steps at 10³, 10⁴, 10⁵ and 10⁶ responses.
        #[arg(long)]
        scaling: bool,
    },
    /// One run per β: the reward–KL frontier beside the exact optimal curve.
    Sweep {
        #[command(flatten)]
        common: Common,
        /// The method.
        #[arg(long, value_parser = choice::<MethodKind>())]
        method: String,
        /// Keep the scenario's lr at every β (default: keep lr·β² fixed for
        /// DPO-type losses).
        #[arg(long = "no-lr-scaling")]
        no_lr_scaling: bool,
        /// Write the points as CSV to this file.
        #[arg(long)]
        csv: Option<String>,
    },
    /// Exact best-of-n per n: the policy, its KL (and the quoted bound),
    /// E r, the win rate against π_ref and π*'s reward at the same KL.
    #[command(name = "best-of-n")]
    BestOfN {
        /// Built-in scenario name or path to a .toml file.
        #[arg(long)]
        scenario: String,
        /// Numbers of draws, comma-separated integers ≥ 1.
        #[arg(long, default_value = "1,2,4,8,16,32,64", allow_hyphen_values = true)]
        n: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Flags shared by run, compare and sweep.
#[derive(Debug, Args)]
pub struct Common {
    /// Built-in scenario name or path to a .toml file.
    #[arg(long)]
    scenario: String,
    /// KL weight β (sweep: a comma-separated list).
    #[arg(long, allow_hyphen_values = true)]
    beta: Option<String>,
    /// Learning rate.
    #[arg(long, allow_hyphen_values = true)]
    lr: Option<String>,
    /// Number of updates.
    #[arg(long)]
    steps: Option<u64>,
    /// Seed of the run's generator.
    #[arg(long)]
    seed: Option<u64>,
    /// The optimiser.
    #[arg(long, value_parser = choice::<dpo_lab::optim::OptimizerKind>())]
    optimizer: Option<String>,
    /// History every K steps (0 = none).
    #[arg(long = "log-every")]
    log_every: Option<u64>,
    /// Pairs per step (0 = whole data).
    #[arg(long)]
    batch: Option<u64>,
    /// The pair loss of `dpo` (and `online-dpo`).
    #[arg(long, value_parser = choice::<dpo_lab::loss::LossName>())]
    loss: Option<String>,
    /// The policy class.
    #[arg(long, value_parser = choice::<dpo_lab::policy::PolicyClass>())]
    policy: Option<String>,
    /// Online DPO: steps between fresh samples.
    #[arg(long = "resample-every")]
    resample_every: Option<u64>,
    /// Online DPO: who judges the sampled pairs.
    #[arg(long, value_parser = choice::<dpo_lab::method::Annotator>())]
    annotator: Option<String>,
    /// RLHF: how the policy is optimised.
    #[arg(long = "rlhf-optimizer", value_parser = choice::<dpo_lab::train::RlhfOptimizerName>())]
    rlhf_optimizer: Option<String>,
    /// RLHF and the reward-model annotator: the reward model's class.
    #[arg(long = "reward-model", value_parser = choice::<dpo_lab::reward_model::RewardModelClass>())]
    reward_model: Option<String>,
    /// Run even when the work estimated from the settings exceeds the
    /// limit (30 s on a 2-core machine).
    #[arg(long = "allow-long")]
    allow_long: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// A flag's choices from the library's enum: names, descriptions (shown by
/// `--help`) and aliases, so the command line never keeps its own list.
fn choice<E>() -> clap::builder::PossibleValuesParser
where
    E: strum::IntoEnumIterator + strum::EnumMessage + Into<&'static str>,
{
    let values = E::iter().map(|e| {
        let help = e.get_message().unwrap_or("");
        let serializations = e.get_serializations();
        let name: &'static str = e.into();
        let aliases: Vec<&'static str> = serializations
            .iter()
            .copied()
            .filter(|s| *s != name)
            .collect();
        clap::builder::PossibleValue::new(name)
            .help(help)
            .aliases(aliases)
    });
    clap::builder::PossibleValuesParser::new(values)
}

/// Set by Ctrl-C: training stops before its next update.
static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A progress bar on stderr for work estimated at a second or more; hidden
/// when stderr is not a terminal, never on stdout. Ctrl-C asks the runs to
/// stop (a second Ctrl-C exits at once).
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(cfgs: &[RunConfig], estimate: &WorkEstimate) -> Bar {
        use std::sync::atomic::Ordering;
        static HANDLER: std::sync::Once = std::sync::Once::new();
        HANDLER.call_once(|| {
            // Without a handler Ctrl-C kills the process, which is also
            // clean: nothing is written until the work is done.
            let _ = ctrlc::set_handler(|| {
                if STOP.swap(true, Ordering::SeqCst) {
                    std::process::exit(130);
                }
            });
        });
        let steps: usize = cfgs.iter().map(|c| c.train.steps).sum();
        if estimate.seconds < 1.0 {
            return Bar(indicatif::ProgressBar::hidden());
        }
        let bar = indicatif::ProgressBar::new(steps as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps, about {eta} left (Ctrl-C stops)",
        ) {
            bar.set_style(style);
        }
        Bar(bar)
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn advance(&self, steps: usize) {
        self.0.inc(steps as u64);
    }
    fn stop_requested(&self) -> bool {
        STOP.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Refuses long work (unless `--allow-long`) and returns its progress bar.
fn start_work(cfgs: &[RunConfig], allow_long: bool) -> Result<Bar> {
    let estimate = dpo_lab::work::total(cfgs);
    dpo_lab::work::check(&estimate, allow_long)?;
    Ok(Bar::new(cfgs, &estimate))
}

/// Parses a comma-separated list of numbers for `flag`.
pub fn parse_list(flag: &str, s: &str) -> Result<Vec<f64>> {
    if s.trim().is_empty() {
        bail!("{flag}: expected a comma-separated list of numbers, got an empty string");
    }
    s.split(',')
        .enumerate()
        .map(|(i, x)| {
            let x = x.trim();
            x.parse::<f64>()
                .map_err(|_| anyhow!("{flag}: entry {i} ({x:?}) is not a number"))
        })
        .collect()
}

fn parse_number(flag: &str, s: &str) -> Result<f64> {
    s.trim()
        .parse::<f64>()
        .map_err(|_| anyhow!("{flag}: {s:?} is not a number"))
}

impl Common {
    fn overrides(&self, single_beta: bool) -> Result<Overrides> {
        let beta = match (&self.beta, single_beta) {
            (Some(b), true) => Some(parse_number("--beta", b)?),
            _ => None,
        };
        Ok(Overrides {
            beta,
            lr: self
                .lr
                .as_deref()
                .map(|s| parse_number("--lr", s))
                .transpose()?,
            steps: self.steps,
            seed: self.seed,
            optimizer: self.optimizer.clone(),
            log_every: self.log_every,
            batch: self.batch,
            loss: self.loss.clone(),
            policy: self.policy.clone(),
            resample_every: self.resample_every,
            annotator: self.annotator.clone(),
            rlhf_optimizer: self.rlhf_optimizer.clone(),
            reward_model: self.reward_model.clone(),
        })
    }
}

/// Runs a parsed command (everything but the app).
pub fn execute(command: Command, out: &mut dyn Write) -> Result<()> {
    match command {
        Command::App { .. } => bail!(
            "`app` opens the desktop app, which main dispatches; it has no command-line output"
        ),
        Command::Bench { json, scaling } => bench_cmd(json, scaling, out),
        Command::Scenarios { json } => scenarios(json, out),
        Command::Optimal {
            pi_ref,
            reward,
            beta,
            json,
        } => optimal_cmd(&pi_ref, &reward, &beta, json, out),
        Command::Run {
            common,
            method,
            csv,
        } => run_cmd(&common, &method, csv.as_deref(), out),
        Command::Compare {
            common,
            a,
            b,
            tie_margin,
            seeds,
        } => compare_cmd(&common, &a, &b, &tie_margin, seeds, out),
        Command::Sweep {
            common,
            method,
            no_lr_scaling,
            csv,
        } => sweep_cmd(&common, &method, !no_lr_scaling, csv.as_deref(), out),
        Command::BestOfN { scenario, n, json } => best_of_n_cmd(&scenario, &n, json, out),
    }
}

/// Parses a comma-separated list of integers ≥ 1 for `flag`.
fn parse_counts(flag: &str, s: &str) -> Result<Vec<u64>> {
    if s.trim().is_empty() {
        bail!("{flag}: expected a comma-separated list of integers, got an empty string");
    }
    s.split(',')
        .enumerate()
        .map(|(i, x)| {
            let x = x.trim();
            x.parse::<u64>()
                .map_err(|_| anyhow!("{flag}: entry {i} ({x:?}) is not an integer ≥ 1"))
        })
        .collect()
}

fn best_of_n_cmd(scenario: &str, ns: &str, json: bool, out: &mut dyn Write) -> Result<()> {
    use dpo_lab::best_of_n::best_of_n_points;
    let ns = parse_counts("--n", ns)?;
    let scenario = Scenario::load(scenario, &Overrides::default())?;
    let points = best_of_n_points(&scenario, &ns)?;
    if json {
        let space = &scenario.problem.space;
        let v = json!({
            "scenario": scenario.name(),
            "points": points.iter().map(|p| json!({
                "n": p.n,
                "policy": policy_json(space, &p.log_policy),
                "kl": p.kl,
                "kl_bound": p.kl_bound,
                "expected_reward": p.expected_reward,
                "win_rate": p.win_rate,
                "optimal_expected_reward": p.optimal_expected_reward,
            })).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
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

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores")
}

/// App frame times (ms): two methods on `the-the-the`, one on
/// `large-space`; `None` in a build without the app.
#[cfg(feature = "app")]
fn frame_figures() -> Result<Option<(f64, f64)>> {
    use dpo_lab::method::MethodKind;
    let frame_two = crate::app::measure_frame_ms(
        "the-the-the",
        &[MethodKind::Dpo, MethodKind::OnlineDpo],
        120,
    )
    .map_err(|e| anyhow!("frame benchmark: {e}"))?;
    let frame_large = crate::app::measure_frame_ms("large-space", &[MethodKind::Dpo], 60)
        .map_err(|e| anyhow!("frame benchmark: {e}"))?;
    Ok(Some((frame_two, frame_large)))
}

#[cfg(not(feature = "app"))]
fn frame_figures() -> Result<Option<(f64, f64)>> {
    Ok(None)
}

fn bench_cmd(json: bool, scaling: bool, out: &mut dyn Write) -> Result<()> {
    use dpo_lab::bench::figures;
    let f = figures(1_000_000, true)?;
    let frames = frame_figures()?;
    let table = if scaling {
        // The 10⁶ row is the run above; time only the smaller sizes again.
        let mut rows = [1_000u64, 10_000, 100_000]
            .iter()
            .map(|&n| figures(n, false))
            .collect::<dpo_lab::Result<Vec<_>>>()?;
        rows.push(f);
        rows
    } else {
        Vec::new()
    };
    if json {
        let v = json!({
            "machine": machine(),
            "responses": f.responses,
            "eval_ns_per_response": f.eval_ns_per_response,
            "eval_ar_ns_per_response": f.eval_ar_ns_per_response,
            "ar_responses": f.ar_responses,
            "offline_step_us": f.offline_step_us,
            "online_step_us": f.online_step_us,
            "frame_ms": frames.map(|(two, large)| json!({
                "the_the_the_two_methods": two,
                "flat_100000_one_method": large,
            })),
            "scaling": table.iter().map(|t| json!({
                "responses": t.responses,
                "eval_ms": t.eval_ns_per_response * t.responses as f64 * 1e-6,
                "eval_ns_per_response": t.eval_ns_per_response,
                "offline_step_us": t.offline_step_us,
                "online_step_us": t.online_step_us,
            })).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(out, "machine: {}", machine())?;
        writeln!(
            out,
            "eval (1,000,000 responses, tabular)      {:>8.2} ns/response",
            f.eval_ns_per_response
        )?;
        writeln!(
            out,
            "eval ({} sequences, autoregressive) {:>8.2} ns/response",
            f.ar_responses, f.eval_ar_ns_per_response
        )?;
        writeln!(
            out,
            "offline DPO step (batch 64)              {:>8.2} µs",
            f.offline_step_us
        )?;
        writeln!(
            out,
            "online DPO step (64 fresh pairs)         {:>8.2} µs",
            f.online_step_us
        )?;
        match frames {
            Some((two, large)) => {
                writeln!(
                    out,
                    "app frame, the-the-the, 2 methods        {two:>8.2} ms"
                )?;
                writeln!(
                    out,
                    "app frame, 100,000 responses, 1 method   {large:>8.2} ms"
                )?;
            }
            None => writeln!(out, "app frame: this build has no app (feature `app`)")?,
        }
        if !table.is_empty() {
            writeln!(
                out,
                "{:>10} {:>10} {:>14} {:>14} {:>14}",
                "responses", "eval ms", "eval ns/resp", "offline µs", "online µs"
            )?;
            for t in &table {
                writeln!(
                    out,
                    "{:>10} {:>10.3} {:>14.2} {:>14.2} {:>14.2}",
                    t.responses,
                    t.eval_ns_per_response * t.responses as f64 * 1e-6,
                    t.eval_ns_per_response,
                    t.offline_step_us,
                    t.online_step_us
                )?;
            }
        }
    }
    Ok(())
}

fn scenarios(json: bool, out: &mut dyn Write) -> Result<()> {
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

fn optimal_cmd(
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

/// The SPEC's `final.policy`: the full vector for flat spaces of at most
/// 10,000 responses, else the 50 most probable as `[name, p]`.
fn policy_json(space: &ResponseSpace, log_probs: &[f64]) -> Value {
    if !space.is_sequences() && log_probs.len() <= 10_000 {
        return json!(log_probs.iter().map(|l| l.exp()).collect::<Vec<f64>>());
    }
    let mut idx: Vec<usize> = (0..log_probs.len()).collect();
    let k = 50.min(idx.len());
    idx.select_nth_unstable_by(k - 1, |&a, &b| {
        log_probs[b].total_cmp(&log_probs[a]).then(a.cmp(&b))
    });
    idx.truncate(k);
    idx.sort_by(|&a, &b| log_probs[b].total_cmp(&log_probs[a]).then(a.cmp(&b)));
    json!(
        idx.iter()
            .map(|&i| json!([space.name(i), log_probs[i].exp()]))
            .collect::<Vec<_>>()
    )
}

fn metrics_row(step: usize, m: &Metrics) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("step".into(), json!(step));
    map.extend(m.to_json());
    Value::Object(map)
}

fn run_cmd(
    common: &Common,
    method: &str,
    csv_path: Option<&str>,
    out: &mut dyn Write,
) -> Result<()> {
    let method = MethodKind::parse(method)?;
    method.check_loss_override(common.loss.as_deref())?;
    let scenario = Scenario::load(&common.scenario, &common.overrides(true)?)?;
    let cfg = scenario.run_config(method);
    let cfgs = scenario.run_configs(method);
    let bar = start_work(&cfgs, common.allow_long)?;
    let outcome = train_prompts_watched(&cfgs, &bar)?;
    drop(bar);
    if let Some(path) = csv_path {
        dpo_lab::export::write_history_csv(std::path::Path::new(path), &outcome.history)?;
    }
    let steps = cfg.train.steps;
    if common.json {
        let mut fin = outcome.final_metrics.to_json();
        let policy = if outcome.prompts.len() == 1 {
            policy_json(&scenario.problem.space, &outcome.prompts[0].final_log_probs)
        } else {
            json!(scenario
                .prompts
                .iter()
                .zip(&outcome.prompts)
                .map(|(p, o)| json!({"prompt": p.name, "policy": policy_json(&p.problem.space, &o.final_log_probs)}))
                .collect::<Vec<_>>())
        };
        fin.insert("grad_norm".into(), json!(outcome.grad_norm));
        fin.insert("policy".into(), policy);
        let v = json!({
            "scenario": scenario.name(),
            "method": method.name(),
            "beta": cfg.train.beta,
            "steps": steps,
            "seed": cfg.train.seed,
            "policy_class": cfg.policy.name(),
            "loss_function": cfg.train.loss.name(),
            "final": fin,
            "prompts": scenario.prompts.len(),
            "reward_model": outcome.prompts[0].reward_model.as_ref().map(|rm| {
                let row = |m: &dpo_lab::reward_model::FitMetrics| {
                    json!({"step": m.step, "loss": m.loss, "accuracy": m.accuracy, "margin": m.margin, "mean_reward": m.mean_reward})
                };
                let m = rm.final_metrics();
                json!({
                    "steps": m.step, "loss": m.loss, "accuracy": m.accuracy,
                    "margin": m.margin, "mean_reward": m.mean_reward,
                    "history": rm.history.iter().map(row).collect::<Vec<_>>(),
                })
            }),
            "history": outcome.history.iter().map(|(k, m)| metrics_row(*k, m)).collect::<Vec<_>>(),
            "warnings": outcome.warnings,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        print_run_table(&scenario, method, &cfg.train, &outcome, out)?;
    }
    Ok(())
}

fn print_run_table(
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
        t.beta,
        scenario.run_config(method).effective_lr(),
        t.steps,
        t.optimizer.name(),
        t.seed
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
    writeln!(out, "  {:<20} {:.3e}", "grad_norm", o.grad_norm)?;
    if o.prompts.len() > 1 {
        writeln!(out, "  (metrics averaged over {} prompts)", o.prompts.len())?;
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
            "  ood_top              {:?}: π = {:.6} (π_ref = {:.6}, ×{:.2}), implicit reward β·h = {:.4}",
            top.response,
            top.probability,
            top.reference,
            top.probability / top.reference,
            top.implicit_reward
        )?;
    }
    for w in &o.warnings {
        writeln!(out, "warning: {w}")?;
    }
    Ok(())
}

fn compare_cmd(
    common: &Common,
    a: &str,
    b: &str,
    margin: &str,
    seeds: u64,
    out: &mut dyn Write,
) -> Result<()> {
    let (ma, mb) = (MethodKind::parse(a)?, MethodKind::parse(b)?);
    ma.check_loss_override(common.loss.as_deref())?;
    mb.check_loss_override(common.loss.as_deref())?;
    let margin = parse_number("--tie-margin", margin)?;
    if !(margin.is_finite() && margin >= 0.0) {
        bail!("--tie-margin: must be a finite number ≥ 0, got {margin}");
    }
    if seeds == 0 || seeds > 1000 {
        bail!("--seeds: must be between 1 and 1000, got {seeds}");
    }
    let overrides = common.overrides(true)?;
    let scenario = Scenario::load(&common.scenario, &overrides)?;
    let (mut win, mut tie, mut loss, mut qa, mut qb) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let configs = |m: MethodKind, s: u64| {
        let mut cs = scenario.run_configs(m);
        for c in &mut cs {
            c.train.seed = c.train.seed.wrapping_add(s);
            c.train.log_every = 0;
        }
        cs
    };
    let all: Vec<RunConfig> = (0..seeds)
        .flat_map(|s| configs(ma, s).into_iter().chain(configs(mb, s)))
        .collect();
    let bar = start_work(&all, common.allow_long)?;
    for s in 0..seeds {
        let oa = train_prompts_watched(&configs(ma, s), &bar)?;
        let ob = train_prompts_watched(&configs(mb, s), &bar)?;
        for (k, p) in scenario.prompts.iter().enumerate() {
            let h = head_to_head(
                &oa.prompts[k].final_log_probs,
                &ob.prompts[k].final_log_probs,
                &p.problem.reward,
                margin,
            );
            win += h.win;
            tie += h.tie;
            loss += h.loss;
            qa += h.quality_a;
            qb += h.quality_b;
        }
    }
    drop(bar);
    let n = (seeds as usize * scenario.prompts.len()) as f64;
    let (win, tie, loss, qa, qb) = (win / n, tie / n, loss / n, qa / n, qb / n);
    if common.json {
        let v = json!({
            "scenario": scenario.name(),
            "a": ma.name(), "b": mb.name(),
            "win": win, "tie": tie, "loss": loss,
            "quality_a": qa, "quality_b": qb,
            "tie_margin": margin,
            "seeds": seeds,
            "beta": scenario.train.beta,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(
            out,
            "{}: {} vs {} (β = {}, {} seed(s), tie margin {})",
            scenario.name(),
            ma.name(),
            mb.name(),
            scenario.train.beta,
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

fn sweep_cmd(
    common: &Common,
    method: &str,
    scale_lr: bool,
    csv_path: Option<&str>,
    out: &mut dyn Write,
) -> Result<()> {
    let method = MethodKind::parse(method)?;
    method.check_loss_override(common.loss.as_deref())?;
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
        let v = json!({
            "scenario": scenario.name(),
            "method": method.name(),
            "lr_scaling": scale_lr,
            "points": points.iter().map(|pt| {
                let mut m = pt.metrics.to_json();
                m.insert("beta".into(), json!(pt.beta));
                m.insert("lr".into(), json!(pt.lr));
                m.insert("grad_norm".into(), json!(pt.grad_norm));
                m.insert("warnings".into(), json!(pt.warnings));
                m.insert("optimal".into(), json!({
                    "expected_reward": pt.optimal.expected_reward,
                    "kl_to_ref": pt.optimal.kl_to_ref,
                    "objective": pt.optimal_objective,
                }));
                Value::Object(m)
            }).collect::<Vec<_>>(),
            "optimal_frontier": curve.iter().map(|c| json!({"beta": c.beta, "expected_reward": c.expected_reward, "kl_to_ref": c.kl_to_ref})).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
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
