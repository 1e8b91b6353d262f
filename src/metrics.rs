//! Exact metrics of one policy over the whole response space (docs/json-output.md "run
//! --json" METRICS), named as TRL's DPO trainer logs them.

use serde_json::{Map, Value, json};

use crate::data::{Pair, PairData};
use crate::problem::Problem;

/// The out-of-data response that gained the most probability relative to
/// the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct OodTop {
    /// Its index.
    pub index: usize,
    /// Its name.
    pub response: String,
    /// `π(y)`.
    pub probability: f64,
    /// `π_ref(y)`.
    pub reference: f64,
    /// `β·log(π(y)/π_ref(y))`.
    pub implicit_reward: f64,
}

/// Every documented metric of one policy (`Default`: all zero, for a policy not
/// evaluated yet).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// The method's training loss on its current batch or data.
    pub loss: f64,
    /// `E_π r`.
    pub expected_reward: f64,
    /// `KL(π ‖ π_ref)`.
    pub kl_to_ref: f64,
    /// `KL(π ‖ π*)`.
    pub kl_to_optimal: f64,
    /// `E_π r − β KL(π ‖ π_ref)`.
    pub objective: f64,
    /// Probability outside the data support.
    pub ood_mass: f64,
    /// `Σ W_ij β h_i`.
    pub rewards_chosen: f64,
    /// `Σ W_ij β h_j`.
    pub rewards_rejected: f64,
    /// `Σ W_ij β (h_i − h_j)`.
    pub rewards_margins: f64,
    /// `Σ W_ij [h_i > h_j]`.
    pub rewards_accuracies: f64,
    /// `Σ W_ij log π_i`.
    pub logps_chosen: f64,
    /// `Σ W_ij log π_j`.
    pub logps_rejected: f64,
    /// Expected number of tokens (sequence spaces).
    pub mean_length: Option<f64>,
    /// See [`OodTop`]; `None` when every response is in the data.
    pub ood_top: Option<OodTop>,
    /// Method-specific extras (e.g. `objective/kl`), in order.
    pub extra: Vec<(String, f64)>,
    /// A verifier reward's `p_correct`, `pass_at_k` and
    /// `zero_variance_groups`; `None` for other rewards.
    pub verifier: Option<crate::rlvr::VerifierMetrics>,
}

/// Responses per chunk of the parallel evaluation. Fixed, so the partial
/// sums — and every bit of the result — do not depend on the thread count.
const CHUNK: usize = 1 << 14;

/// Per-chunk partial sums.
#[derive(Clone, Copy, Default)]
struct Partial {
    expected_reward: f64,
    kl_to_ref: f64,
    kl_to_optimal: f64,
    ood_mass: f64,
    mean_length: f64,
    best: Option<(usize, f64)>,
}

/// The implicit reward `β·log(π(y)/π_ref(y))` (docs/maths.md §3); `None` where
/// either probability is zero.
pub fn implicit_reward(beta: f64, log_pi: f64, log_ref: f64) -> Option<f64> {
    (log_pi.is_finite() && log_ref.is_finite()).then_some(beta * (log_pi - log_ref))
}

/// The `k` indices with the largest `key`, largest first, ties by index
/// (stable: the order never depends on how the selection ran).
pub fn top_k_by(len: usize, k: usize, key: impl Fn(usize) -> f64) -> Vec<usize> {
    let k = k.min(len);
    if k == 0 {
        return Vec::new();
    }
    let cmp = |a: &usize, b: &usize| key(*b).total_cmp(&key(*a)).then(a.cmp(b));
    let mut idx: Vec<usize> = (0..len).collect();
    if k < len {
        idx.select_nth_unstable_by(k - 1, cmp);
        idx.truncate(k);
    }
    idx.sort_by(cmp);
    idx
}

/// Probability left outside the responses `shown`: the "everything else"
/// bar, `1 − Σ_shown π` (never below 0 from rounding).
pub fn rest_mass(log_pi: &[f64], shown: &[usize]) -> f64 {
    let shown_mass: f64 = shown.iter().map(|&y| log_pi[y].exp()).sum();
    (1.0 - shown_mass).max(0.0)
}

/// Evaluates every metric of `policy` exactly — the fast path of
/// [`evaluate`]: one fused pass over the responses, in fixed chunks on all
/// cores, with `π` read from the tabular sum tree instead of an `exp`.
/// Agrees with [`evaluate`] to rounding (tests: 1e-12 relative).
pub fn evaluate_policy(
    problem: &Problem,
    log_optimal: &[f64],
    data: &PairData,
    policy: &crate::policy::Policy,
    beta: f64,
    loss: f64,
) -> Metrics {
    use crate::policy::Policy;
    use rayon::prelude::*;

    let n = problem.len();
    // The autoregressive class computes every log-probability in one pass
    // over the prefix tree; it cannot be read chunk by chunk.
    let arrays = matches!(policy, Policy::Autoregressive(_)).then(|| policy.log_probs_and_ratios());
    let sequences = problem.space.is_sequences();
    let partials: Vec<Partial> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let start = c * CHUNK;
            let len = CHUNK.min(n - start);
            let mut lp = vec![0.0; len];
            let mut h = vec![0.0; len];
            let mut p = vec![0.0; len];
            match (&arrays, policy) {
                (Some((a, b)), _) => {
                    lp.copy_from_slice(&a[start..start + len]);
                    h.copy_from_slice(&b[start..start + len]);
                    for (pk, l) in p.iter_mut().zip(&lp) {
                        *pk = l.exp();
                    }
                }
                (None, Policy::Tabular(t)) => t.fill_chunk(start, &mut lp, &mut h, &mut p),
                (None, Policy::LogLinear(t)) => t.fill_chunk(start, &mut lp, &mut h, &mut p),
                (None, Policy::Autoregressive(_)) => unreachable!("arrays computed above"),
            }
            let mut s = Partial::default();
            for k in 0..len {
                let y = start + k;
                let in_data = data.in_data[y];
                if !in_data
                    && problem.log_ref[y] > f64::NEG_INFINITY
                    && s.best.is_none_or(|(_, g)| h[k] > g)
                {
                    s.best = Some((y, h[k]));
                }
                if p[k] == 0.0 {
                    continue;
                }
                s.expected_reward += p[k] * problem.reward[y];
                s.kl_to_ref += p[k] * h[k];
                s.kl_to_optimal += p[k] * (lp[k] - log_optimal[y]);
                if !in_data {
                    s.ood_mass += p[k];
                }
                if sequences {
                    s.mean_length += p[k] * problem.space.length(y) as f64;
                }
            }
            s
        })
        .collect();
    let mut t = Partial::default();
    for s in &partials {
        t.expected_reward += s.expected_reward;
        t.kl_to_ref += s.kl_to_ref;
        t.kl_to_optimal += s.kl_to_optimal;
        t.ood_mass += s.ood_mass;
        t.mean_length += s.mean_length;
        if let Some((y, g)) = s.best
            && t.best.is_none_or(|(_, bg)| g > bg)
        {
            t.best = Some((y, g));
        }
    }
    let lp = |y: usize| {
        arrays
            .as_ref()
            .map_or_else(|| policy.log_prob(y), |a| a.0[y])
    };
    let hr = |y: usize| {
        arrays
            .as_ref()
            .map_or_else(|| policy.log_ratio(y), |a| a.1[y])
    };
    let mut m = assemble(problem, beta, loss, &t, &lp);
    add_pair_metrics(&mut m, data, beta, lp, hr);
    m
}

/// The metrics from whole-space sums (the data's pair metrics are added by
/// [`add_pair_metrics`]); `log_pi` reads `log π` of one response.
fn assemble(
    problem: &Problem,
    beta: f64,
    loss: f64,
    t: &Partial,
    log_pi: &dyn Fn(usize) -> f64,
) -> Metrics {
    // Both are KLs, ≥ 0; only rounding can make them negative.
    let kl_to_ref = t.kl_to_ref.max(0.0);
    Metrics {
        loss,
        expected_reward: t.expected_reward,
        kl_to_ref,
        kl_to_optimal: t.kl_to_optimal.max(0.0),
        objective: t.expected_reward - beta * kl_to_ref,
        ood_mass: t.ood_mass,
        mean_length: problem.space.is_sequences().then_some(t.mean_length),
        ood_top: t.best.map(|(y, gain)| OodTop {
            index: y,
            response: problem.space.name(y),
            probability: log_pi(y).exp(),
            reference: problem.log_ref[y].exp(),
            implicit_reward: beta * gain,
        }),
        ..Metrics::default()
    }
}

fn add_pair_metrics(
    m: &mut Metrics,
    data: &PairData,
    beta: f64,
    log_pi: impl Fn(usize) -> f64,
    log_ratio: impl Fn(usize) -> f64,
) {
    for &Pair {
        chosen: i,
        rejected: j,
        weight: w,
    } in &data.pairs
    {
        let hi = log_ratio(i);
        let hj = log_ratio(j);
        m.rewards_chosen += w * beta * hi;
        m.rewards_rejected += w * beta * hj;
        m.rewards_margins += w * beta * (hi - hj);
        if hi - hj > 0.0 {
            m.rewards_accuracies += w;
        }
        m.logps_chosen += w * log_pi(i);
        m.logps_rejected += w * log_pi(j);
    }
}

/// The plain reference evaluation, with compensated sums: every metric of
/// the policy `log_pi` exactly; `log_ratio` is
/// `h = log π − log π_ref` as the policy computes it (exactly 0 at the start).
pub fn evaluate(
    problem: &Problem,
    log_optimal: &[f64],
    data: &PairData,
    log_pi: &[f64],
    log_ratio: &[f64],
    beta: f64,
    loss: f64,
) -> Metrics {
    use crate::numerics::CompensatedSum;
    let reward = &problem.reward;
    let log_ref = &problem.log_ref;
    let mut expected_reward = CompensatedSum::default();
    let mut kl_to_ref = CompensatedSum::default();
    let mut kl_to_optimal = CompensatedSum::default();
    let mut ood_mass = CompensatedSum::default();
    let mut mean_length = CompensatedSum::default();
    let mut best: Option<(usize, f64)> = None;
    let sequences = problem.space.is_sequences();
    for y in 0..log_pi.len() {
        let lp = log_pi[y];
        if !data.in_data[y] && log_ref[y] > f64::NEG_INFINITY {
            let gain = log_ratio[y];
            if best.is_none_or(|(_, g)| gain > g) {
                best = Some((y, gain));
            }
        }
        if lp == f64::NEG_INFINITY {
            continue;
        }
        let p = lp.exp();
        expected_reward.add(p * reward[y]);
        kl_to_ref.add(p * log_ratio[y]);
        kl_to_optimal.add(p * (lp - log_optimal[y]));
        if !data.in_data[y] {
            ood_mass.add(p);
        }
        if sequences {
            mean_length.add(p * problem.space.length(y) as f64);
        }
    }
    let (expected_reward, ood_mass, mean_length) = (
        expected_reward.value(),
        ood_mass.value(),
        mean_length.value(),
    );
    let sums = Partial {
        expected_reward,
        kl_to_ref: kl_to_ref.value(),
        kl_to_optimal: kl_to_optimal.value(),
        ood_mass,
        mean_length,
        best,
    };
    let mut m = assemble(problem, beta, loss, &sums, &|y: usize| log_pi[y]);
    add_pair_metrics(&mut m, data, beta, |y| log_pi[y], |y| log_ratio[y]);
    m
}

impl Metrics {
    /// The scalar metrics as `(key, value)` in documented order (no `ood_top`).
    pub fn scalars(&self) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = vec![
            ("loss".into(), self.loss),
            ("expected_reward".into(), self.expected_reward),
            ("kl_to_ref".into(), self.kl_to_ref),
            ("kl_to_optimal".into(), self.kl_to_optimal),
            ("objective".into(), self.objective),
            ("ood_mass".into(), self.ood_mass),
            ("rewards/chosen".into(), self.rewards_chosen),
            ("rewards/rejected".into(), self.rewards_rejected),
            ("rewards/margins".into(), self.rewards_margins),
            ("rewards/accuracies".into(), self.rewards_accuracies),
            ("logps/chosen".into(), self.logps_chosen),
            ("logps/rejected".into(), self.logps_rejected),
        ];
        if let Some(l) = self.mean_length {
            v.push(("mean_length".into(), l));
        }
        if let Some(vm) = &self.verifier {
            v.push(("p_correct".into(), vm.p_correct));
            v.push(("zero_variance_groups".into(), vm.zero_variance_groups));
            if let Some(l) = vm.mean_length_correct {
                v.push(("mean_length_correct".into(), l));
            }
            if let Some(l) = vm.mean_length_wrong {
                v.push(("mean_length_wrong".into(), l));
            }
        }
        v.extend(self.extra.iter().cloned());
        v
    }

    /// `pass_at_k` as `(column, value)`: `pass@1`, `pass@8`, … (CSV and
    /// tables; JSON has the object).
    pub fn pass_at_columns(&self) -> Vec<(String, f64)> {
        self.verifier.as_ref().map_or_else(Vec::new, |v| {
            v.pass_at_k
                .iter()
                .map(|(k, p)| (format!("pass@{k}"), *p))
                .collect()
        })
    }

    /// The average over prompts (metrics are averaged over prompts).
    /// `ood_top` is the prompts' out-of-data response with the highest
    /// implicit reward. `parts` must be non-empty and share their keys.
    pub fn mean(parts: &[Metrics]) -> Metrics {
        let n = parts.len() as f64;
        let avg = |f: &dyn Fn(&Metrics) -> f64| parts.iter().map(f).sum::<f64>() / n;
        Metrics {
            loss: avg(&|m| m.loss),
            expected_reward: avg(&|m| m.expected_reward),
            kl_to_ref: avg(&|m| m.kl_to_ref),
            kl_to_optimal: avg(&|m| m.kl_to_optimal),
            objective: avg(&|m| m.objective),
            ood_mass: avg(&|m| m.ood_mass),
            rewards_chosen: avg(&|m| m.rewards_chosen),
            rewards_rejected: avg(&|m| m.rewards_rejected),
            rewards_margins: avg(&|m| m.rewards_margins),
            rewards_accuracies: avg(&|m| m.rewards_accuracies),
            logps_chosen: avg(&|m| m.logps_chosen),
            logps_rejected: avg(&|m| m.logps_rejected),
            mean_length: parts[0]
                .mean_length
                .map(|_| avg(&|m| m.mean_length.unwrap_or(0.0))),
            ood_top: parts
                .iter()
                .filter_map(|m| m.ood_top.clone())
                .max_by(|a, b| a.implicit_reward.total_cmp(&b.implicit_reward)),
            extra: parts[0]
                .extra
                .iter()
                .enumerate()
                .map(|(k, (name, _))| (name.clone(), avg(&|m| m.extra[k].1)))
                .collect(),
            verifier: parts[0].verifier.as_ref().map(|_| {
                let vs: Vec<&crate::rlvr::VerifierMetrics> =
                    parts.iter().filter_map(|m| m.verifier.as_ref()).collect();
                crate::rlvr::VerifierMetrics::mean(&vs)
            }),
        }
    }

    /// The first scalar that is not finite, if any.
    pub fn first_non_finite(&self) -> Option<String> {
        self.scalars()
            .into_iter()
            .find(|(_, v)| !v.is_finite())
            .map(|(k, _)| k)
            .or_else(|| {
                self.pass_at_columns()
                    .into_iter()
                    .find(|(_, v)| !v.is_finite())
                    .map(|(k, _)| k)
            })
            .or_else(|| {
                self.ood_top
                    .as_ref()
                    .filter(|t| !(t.probability.is_finite() && t.implicit_reward.is_finite()))
                    .map(|_| "ood_top".to_string())
            })
    }

    /// The metrics as a JSON object in documented order, `ood_top` last.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut map = Map::new();
        for (k, v) in self.scalars() {
            map.insert(k, json!(v));
        }
        if let Some(vm) = &self.verifier {
            let pass: Map<String, Value> = vm
                .pass_at_k
                .iter()
                .map(|(k, p)| (k.to_string(), json!(p)))
                .collect();
            map.insert("pass_at_k".into(), Value::Object(pass));
        }
        map.insert(
            "ood_top".into(),
            match &self.ood_top {
                None => Value::Null,
                Some(t) => json!({
                    "response": t.response,
                    "probability": t.probability,
                    "reference": t.reference,
                    "implicit_reward": t.implicit_reward,
                }),
            },
        );
        map
    }
}
