//! Remedies for offline DPO's out-of-distribution leak, side by side
//! (`dpo-lab table`): several methods and losses trained on the same
//! scenario, one row each — the OOD mass, the focus response (the
//! out-of-data answer offline DPO lifts most), the reward, both KLs, and an
//! exact win/tie/loss against π*.

use serde::Serialize;

use crate::compare::head_to_head;
use crate::error::{Error, Result};
use crate::loss::{LossParams, PairLoss};
use crate::method::MethodKind;
use crate::metrics::implicit_reward;
use crate::scenario::Scenario;
use crate::train::{Progress, RunConfig, train_prompts_watched};

/// One row to train: a method and, for `dpo`/`online-dpo`, a loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// The method.
    pub method: MethodKind,
    /// Its loss (`None`: the scenario's).
    pub loss: Option<PairLoss>,
}

/// The rows `dpo-lab table` and the app's remedies view use unless told
/// otherwise: plain offline DPO, its two anchored losses, IPO, online DPO
/// and RLHF.
pub const DEFAULT_ROWS: &str = "dpo,dpo:rpo,dpo:dpop,ipo,online-dpo,rlhf";

/// Parses `method` or `method:loss` (e.g. `dpo:rpo`), comma-separated.
pub fn parse_entries(field: &str, s: &str, params: &LossParams) -> Result<Vec<Entry>> {
    s.split(',')
        .map(|item| {
            let item = item.trim();
            let (m, l) = match item.split_once(':') {
                Some((m, l)) => (m, Some(l)),
                None => (item, None),
            };
            let method = MethodKind::parse(m).map_err(|e| Error::invalid(field, e.to_string()))?;
            let loss = l
                .map(|l| PairLoss::parse(l, params))
                .transpose()
                .map_err(|e| Error::invalid(field, e.to_string()))?;
            if loss.is_some() && !matches!(method, MethodKind::Dpo | MethodKind::OnlineDpo) {
                return Err(Error::invalid(
                    field,
                    format!("{item:?}: only dpo and online-dpo take a loss"),
                ));
            }
            Ok(Entry { method, loss })
        })
        .collect()
}

/// One row of the table: its numbers, or why it has none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `method` or `method:loss`.
    pub name: String,
    /// The run's error (e.g. it diverged at the scenario's learning rate);
    /// then the row has no numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The numbers of a run that finished.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub numbers: Option<RowNumbers>,
}

/// A finished row's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowNumbers {
    /// Probability outside the data (mean over prompts).
    pub ood_mass: f64,
    /// The focus response's probability (first prompt).
    pub focus_probability: f64,
    /// Its implicit reward `β·log(π/π_ref)` (first prompt).
    pub focus_implicit_reward: Option<f64>,
    /// `E_π r`.
    pub expected_reward: f64,
    /// `KL(π‖π_ref)`.
    pub kl_to_ref: f64,
    /// `KL(π‖π*)`.
    pub kl_to_optimal: f64,
    /// `P(r(y) > r(y*))` for `y ~ π`, `y* ~ π*` (exact, mean over prompts).
    pub win: f64,
    /// Ties.
    pub tie: f64,
    /// Losses.
    pub loss: f64,
}

/// The table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// The scenario.
    pub scenario: String,
    /// The scenario's β.
    pub beta: f64,
    /// The focus response (the out-of-data answer with the highest implicit
    /// reward under plain offline DPO on the first prompt), if any.
    pub focus: Option<String>,
    /// One row per entry, in order.
    pub rows: Vec<Row>,
}

/// The runs of an entry, one per prompt, without history.
pub fn entry_configs(scenario: &Scenario, e: Entry) -> Vec<RunConfig> {
    let mut cfgs = scenario.run_configs(e.method);
    for c in &mut cfgs {
        c.train = c.train.clone().with_log_every(0);
        if let Some(l) = e.loss {
            c.train = c.train.clone().with_loss(l);
        }
    }
    cfgs
}

/// Every run [`remedies_table`] may train — each entry's, plus plain
/// offline DPO's (the focus) — for the work estimate before it starts.
pub fn table_configs(scenario: &Scenario, entries: &[Entry]) -> Vec<RunConfig> {
    let mut cfgs: Vec<RunConfig> = entries
        .iter()
        .flat_map(|e| entry_configs(scenario, *e))
        .collect();
    cfgs.extend(scenario.run_configs(MethodKind::Dpo));
    cfgs
}

/// Trains every entry (and plain offline DPO to find the focus) and
/// tabulates them.
pub fn remedies_table(
    scenario: &Scenario,
    entries: &[Entry],
    progress: &dyn Progress,
) -> Result<Table> {
    if entries.is_empty() {
        return Err(Error::invalid("rows", "give at least one row"));
    }
    let first = &scenario.prompts[0];
    let (log_ref, in_data) = (&first.problem.log_ref, &first.data.in_data);
    let beta = scenario.train.beta;
    // The focus: what plain offline DPO lifts most outside the data.
    let plain = Entry {
        method: MethodKind::Dpo,
        loss: Some(PairLoss::Dpo),
    };
    let base = train_prompts_watched(&entry_configs(scenario, plain), progress)?;
    let lp0 = &base.prompts[0].final_log_probs;
    let focus = (0..log_ref.len())
        .filter(|&y| !in_data[y] && log_ref[y].is_finite())
        .max_by(|&a, &b| {
            (lp0[a] - log_ref[a])
                .total_cmp(&(lp0[b] - log_ref[b]))
                .then(b.cmp(&a))
        });
    let mut rows = Vec::with_capacity(entries.len());
    for &e in entries {
        let name = match e.loss {
            Some(l) => format!("{}:{}", e.method.name(), l.name()),
            None => e.method.name().to_string(),
        };
        // Plain offline DPO was trained above for the focus: not twice.
        let plain_again =
            e.method == MethodKind::Dpo && e.loss.unwrap_or(scenario.train.loss) == PairLoss::Dpo;
        let trained = if plain_again {
            Ok(base.clone())
        } else {
            train_prompts_watched(&entry_configs(scenario, e), progress)
        };
        let out = match trained {
            Ok(out) => out,
            // A stop request ends the table; a row that fails is reported.
            Err(err @ Error::Interrupted { .. }) => return Err(err),
            Err(err) => {
                rows.push(Row {
                    name,
                    error: Some(err.to_string()),
                    numbers: None,
                });
                continue;
            }
        };
        let n = scenario.prompts.len() as f64;
        let (mut win, mut tie, mut lose) = (0.0, 0.0, 0.0);
        for (k, p) in scenario.prompts.iter().enumerate() {
            let opt = crate::optimal::optimum(&p.problem.log_ref, &p.problem.reward, beta);
            let h = head_to_head(
                &out.prompts[k].final_log_probs,
                &opt.log_policy,
                &p.problem.reward,
                0.0,
            );
            win += h.win / n;
            tie += h.tie / n;
            lose += h.loss / n;
        }
        let lp = &out.prompts[0].final_log_probs;
        let m = &out.final_metrics;
        rows.push(Row {
            name,
            error: None,
            numbers: Some(RowNumbers {
                ood_mass: m.ood_mass,
                focus_probability: focus.map_or(0.0, |f| lp[f].exp()),
                focus_implicit_reward: focus.and_then(|f| implicit_reward(beta, lp[f], log_ref[f])),
                expected_reward: m.expected_reward,
                kl_to_ref: m.kl_to_ref,
                kl_to_optimal: m.kl_to_optimal,
                win,
                tie,
                loss: lose,
            }),
        });
    }
    Ok(Table {
        scenario: scenario.name().to_string(),
        beta,
        focus: focus.map(|f| first.problem.space.name(f)),
        rows,
    })
}
