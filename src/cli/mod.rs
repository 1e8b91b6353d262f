//! The command line: parse flags, call the library, print JSON or a table.
//! Every error becomes one `error: …` line on stderr and exit code 2.

mod bench;
mod best_of_n;
mod figure;
mod optimal;
mod overoptimisation;
mod progress;
mod resample;
mod table;
mod train;

use bench::*;
use best_of_n::*;
use figure::{FigureArgs, figure_cmd};
use optimal::*;
use overoptimisation::over_optimisation_cmd;
use progress::*;
use resample::resample_cmd;
use table::table_cmd;
use train::*;

use std::io::Write;

use anyhow::{Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};

use dpo_lab::method::MethodKind;
use dpo_lab::scenario::Overrides;

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
        method: MethodKind,
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
        a: MethodKind,
        /// Second method.
        #[arg(long, value_parser = choice::<MethodKind>())]
        b: MethodKind,
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
        method: MethodKind,
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
    /// Reward over-optimisation (Gao et al. 2022): a proxy reward model
    /// fitted on N pairs, optimised by best-of-n, π* over β and RLHF; gold
    /// and proxy reward against √KL, with Gao's fitted forms.
    #[command(name = "over-optimisation")]
    OverOptimisation {
        /// Built-in scenario name or path to a .toml file.
        #[arg(long, default_value = "over-optimisation")]
        scenario: String,
        /// Pairs the proxy is fitted on, comma-separated integers.
        #[arg(long, default_value = dpo_lab::overoptimisation::DEFAULT_PAIRS)]
        pairs: String,
        /// Data draws averaged over (seeds train.seed, train.seed + 1, …).
        #[arg(long, default_value_t = dpo_lab::overoptimisation::DEFAULT_SEEDS)]
        seeds: u64,
        /// Run even when the work estimate exceeds 30 s.
        #[arg(long = "allow-long")]
        allow_long: bool,
        /// Print JSON (with every curve point).
        #[arg(long)]
        json: bool,
    },
    /// Several methods and losses on one scenario, a row each: OOD mass,
    /// the focus response, reward, KLs and win/tie/loss against π*.
    Table {
        #[command(flatten)]
        common: Common,
        /// Rows: `method` or `method:loss`, comma-separated.
        #[arg(long, default_value = dpo_lab::remedies::DEFAULT_ROWS)]
        rows: String,
    },
    /// Online DPO at each resampling interval, from every step to never.
    Resample {
        #[command(flatten)]
        common: Common,
        /// Steps between fresh batches, comma-separated; `inf` = never.
        #[arg(long, default_value = dpo_lab::sweep::DEFAULT_EVERY)]
        every: String,
    },
    /// The app's picture without a display: SVG or PNG by the extension.
    Figure(FigureArgs),
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
    optimizer: Option<dpo_lab::optim::OptimizerKind>,
    /// History every K steps (0 = none).
    #[arg(long = "log-every")]
    log_every: Option<u64>,
    /// Pairs per step (0 = whole data).
    #[arg(long)]
    batch: Option<u64>,
    /// The pair loss of `dpo` (and `online-dpo`).
    #[arg(long, value_parser = choice::<dpo_lab::loss::LossName>())]
    loss: Option<dpo_lab::loss::LossName>,
    /// The policy class.
    #[arg(long, value_parser = choice::<dpo_lab::policy::PolicyClass>())]
    policy: Option<dpo_lab::policy::PolicyClass>,
    /// Online DPO: steps between fresh samples.
    #[arg(long = "resample-every")]
    resample_every: Option<u64>,
    /// Online DPO: who judges the sampled pairs.
    #[arg(long, value_parser = choice::<dpo_lab::method::Annotator>())]
    annotator: Option<dpo_lab::method::Annotator>,
    /// RLHF: how the policy is optimised.
    #[arg(long = "rlhf-optimizer", value_parser = choice::<dpo_lab::train::RlhfOptimizerName>())]
    rlhf_optimizer: Option<dpo_lab::train::RlhfOptimizerName>,
    /// RLHF and the reward-model annotator: the reward model's class.
    #[arg(long = "reward-model", value_parser = choice::<dpo_lab::reward_model::RewardModelClass>())]
    reward_model: Option<dpo_lab::reward_model::RewardModelClass>,
    /// GRPO and RLOO: answers drawn per prompt per step, G (TRL's
    /// `num_generations`).
    #[arg(long = "num-generations")]
    num_generations: Option<u64>,
    /// GRPO: how the per-token losses are aggregated (TRL's `loss_type`).
    #[arg(long = "grpo-loss-type", value_parser = choice::<dpo_lab::rlvr::GrpoLossType>())]
    grpo_loss_type: Option<dpo_lab::rlvr::GrpoLossType>,
    /// GRPO: how advantages are scaled (TRL's `scale_rewards`).
    #[arg(long = "scale-rewards", value_parser = choice::<dpo_lab::rlvr::ScaleRewards>())]
    scale_rewards: Option<dpo_lab::rlvr::ScaleRewards>,
    /// GRPO and RLOO: train on the exact expected update over the group's
    /// draws instead of sampled groups (where it has a closed form).
    #[arg(long)]
    expected: bool,
    /// A verifier reward's pass@k: the k, comma-separated (default
    /// 1,8,64,256).
    #[arg(long = "pass-at")]
    pass_at: Option<String>,
    /// Run even when the work estimated from the settings exceeds the
    /// limit (30 s on a 2-core machine).
    #[arg(long = "allow-long")]
    allow_long: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// A flag's choices from the library's enum: names, descriptions (shown by
/// `--help`) and aliases, so the command line never keeps its own list;
/// the flag's value is the enum itself.
fn choice<E>() -> impl clap::builder::TypedValueParser<Value = E>
where
    E: strum::IntoEnumIterator
        + strum::EnumMessage
        + Into<&'static str>
        + std::str::FromStr
        + Clone
        + Send
        + Sync
        + 'static,
    <E as std::str::FromStr>::Err: std::error::Error + Send + Sync + 'static,
{
    use clap::builder::TypedValueParser;
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
    clap::builder::PossibleValuesParser::new(values).try_map(|s| s.parse::<E>())
}

/// Parses a comma-separated list of numbers for `flag`.
pub fn parse_list(flag: &str, s: &str) -> Result<Vec<f64>> {
    parse_items(flag, s, "numbers", "a number")
}

/// Parses a comma-separated list of `T` for `flag`; `plural` and `one`
/// name what each entry must be in the errors.
pub(super) fn parse_items<T: std::str::FromStr>(
    flag: &str,
    s: &str,
    plural: &str,
    one: &str,
) -> Result<Vec<T>> {
    if s.trim().is_empty() {
        bail!("{flag}: expected a comma-separated list of {plural}, got an empty string");
    }
    s.split(',')
        .enumerate()
        .map(|(i, x)| {
            let x = x.trim();
            x.parse::<T>()
                .map_err(|_| anyhow!("{flag}: entry {i} ({x:?}) is not {one}"))
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
            optimizer: self.optimizer,
            log_every: self.log_every,
            batch: self.batch,
            loss: self.loss,
            policy: self.policy,
            resample_every: self.resample_every,
            annotator: self.annotator,
            rlhf_optimizer: self.rlhf_optimizer,
            reward_model: self.reward_model,
            num_generations: self.num_generations,
            grpo_loss_type: self.grpo_loss_type,
            scale_rewards: self.scale_rewards,
            expected: self.expected,
            pass_at: self
                .pass_at
                .as_deref()
                .map(|s| parse_items("--pass-at", s, "integers", "an integer ≥ 1"))
                .transpose()?,
            allow_long: self.allow_long,
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
        } => run_cmd(&common, method, csv.as_deref(), out),
        Command::Compare {
            common,
            a,
            b,
            tie_margin,
            seeds,
        } => compare_cmd(&common, a, b, &tie_margin, seeds, out),
        Command::Sweep {
            common,
            method,
            no_lr_scaling,
            csv,
        } => sweep_cmd(&common, method, !no_lr_scaling, csv.as_deref(), out),
        Command::BestOfN { scenario, n, json } => best_of_n_cmd(&scenario, &n, json, out),
        Command::OverOptimisation {
            scenario,
            pairs,
            seeds,
            allow_long,
            json,
        } => over_optimisation_cmd(&scenario, &pairs, seeds, allow_long, json, out),
        Command::Table { common, rows } => table_cmd(&common, &rows, out),
        Command::Resample { common, every } => resample_cmd(&common, &every, out),
        Command::Figure(args) => figure_cmd(&args, out),
    }
}
