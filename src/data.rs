//! Preference data as weights on ordered (chosen, rejected) pairs
//! (docs/maths.md §2–3).
//!
//! - `population`: the exact expectation over `y1, y2 ~ μ` with
//!   Bradley–Terry labels, `W[i,j] = 2·μ_i·μ_j·σ(ℓ_i − ℓ_j)` — the
//!   probability that one draw yields chosen i and rejected j (the pair can
//!   come in either order) — diagonal included, so `Σ W = 1`;
//! - `pairs`: explicit (chosen, rejected) names, each pair weighted 1/count;
//! - `sampled`: `size` seeded draws from μ, labels drawn from Bradley–Terry.
//!
//! `ℓ` is the labelling score: the true reward plus an optional length bonus
//! (an annotator with a bias the true reward does not share). The data
//! support — responses with `μ > 0`, named in a pair, or drawn — defines the
//! out-of-data set used by every method.

use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};
use crate::numerics::sigmoid;
use crate::problem::Problem;

/// The largest population support: its pairs number support².
pub const MAX_POPULATION_SUPPORT: usize = 2000;
/// The most pairs a `sampled` data set may draw.
pub const MAX_SAMPLED_PAIRS: usize = 10_000_000;

/// The scores the scenario's annotator labels pairs by: the true reward
/// plus `length_bonus` per token (`[data] length_bonus`, default 0; the
/// length-bias lesson's annotator who likes long answers).
pub fn annotator_labels(problem: &Problem, length_bonus: f64) -> Result<Vec<f64>> {
    check_length_bonus(length_bonus)?;
    Ok((0..problem.len())
        .map(|y| problem.reward[y] + length_bonus * problem.space.length(y) as f64)
        .collect())
}

/// Checks the annotator's length bonus: finite, within the reward range
/// (cheap: done before any reference or data is built).
pub fn check_length_bonus(length_bonus: f64) -> Result<f64> {
    if length_bonus.is_finite() && length_bonus.abs() <= crate::reward::MAX_REWARD {
        Ok(length_bonus)
    } else {
        Err(Error::invalid(
            "data.length_bonus",
            format!(
                "must be a finite number with |value| ≤ {:e}, got {}",
                crate::reward::MAX_REWARD,
                crate::numerics::show(length_bonus)
            ),
        ))
    }
}

/// The refusal of population data over too large a support.
pub fn population_too_large(support: usize) -> Error {
    Error::invalid(
        "data.kind",
        format!(
            "\"population\" enumerates support² pairs and supports at most {MAX_POPULATION_SUPPORT} responses, this sampler has {support}: use kind = \"sampled\""
        ),
    )
}

/// The data kinds by name (scenario `[data] kind`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantNames,
    strum::EnumMessage,
)]
#[strum(serialize_all = "kebab-case")]
pub enum DataKind {
    /// Exact expectation over pairs from the sampler.
    #[default]
    #[strum(message = "the exact expectation over pairs y1, y2 from the sampler, BT labels")]
    Population,
    /// The scenario's list of pairs.
    #[strum(message = "the scenario's listed (chosen, rejected) pairs")]
    Pairs,
    /// Pairs drawn with Bradley–Terry labels.
    #[strum(message = "pairs drawn from the sampler with Bradley-Terry labels")]
    Sampled,
}

/// How the scenario's preference data is made.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSpec {
    /// Exact expectation over pairs from the sampler (default `π_ref`).
    Population {
        /// Weights over responses; `None` means `π_ref`.
        sampler: Option<Vec<f64>>,
    },
    /// Explicit (chosen, rejected) response names.
    Pairs(Vec<(String, String)>),
    /// `size` pairs drawn from the sampler with Bradley–Terry labels.
    Sampled {
        /// Number of pairs.
        size: usize,
        /// Generator seed.
        seed: u64,
        /// Weights over responses; `None` means `π_ref`.
        sampler: Option<Vec<f64>>,
    },
}

/// One weighted preference: `chosen ≻ rejected` (response indices).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    /// The preferred response.
    pub chosen: usize,
    /// The other one.
    pub rejected: usize,
    /// Its weight (a data set's weights sum to one).
    pub weight: f64,
}

impl Pair {
    /// `chosen ≻ rejected` with `weight`.
    pub fn new(chosen: usize, rejected: usize, weight: f64) -> Self {
        Pair {
            chosen,
            rejected,
            weight,
        }
    }
}

/// Weighted ordered pairs and the data support.
#[derive(Debug, Clone)]
pub struct PairData {
    /// The pairs; weights sum to one.
    pub pairs: Vec<Pair>,
    /// Whether each response is in the data support.
    pub in_data: Vec<bool>,
    cumulative: Vec<f64>,
}

impl PairData {
    /// Builds the pairs from explicit weights.
    pub fn from_pairs(n: usize, pairs: Vec<Pair>) -> Self {
        let mut in_data = vec![false; n];
        let mut cumulative = Vec::with_capacity(pairs.len());
        let mut acc = 0.0;
        for &Pair {
            chosen: i,
            rejected: j,
            weight: w,
        } in &pairs
        {
            if w > 0.0 {
                in_data[i] = true;
                in_data[j] = true;
            }
            acc += w;
            cumulative.push(acc);
        }
        PairData {
            pairs,
            in_data,
            cumulative,
        }
    }

    /// How many pairs [`PairData::build`] would make, without making them
    /// (a sampler's support is counted, nothing else is built).
    pub fn planned_pairs(problem: &Problem, spec: &DataSpec) -> Result<usize> {
        Ok(match spec {
            DataSpec::Population { sampler } => {
                let mu = sampler_weights(problem, sampler.as_deref(), "data.sampler")?;
                let support = mu.iter().filter(|&&m| m > 0.0).count();
                if support > MAX_POPULATION_SUPPORT {
                    // `build` refuses it with the right message.
                    0
                } else {
                    support * support
                }
            }
            DataSpec::Pairs(named) => named.len(),
            DataSpec::Sampled { size, .. } => *size,
        })
    }

    /// Bytes a data set of `pairs` pairs over `n` responses takes in memory
    /// (the pairs, their cumulative weights, the support flags).
    pub fn planned_bytes(pairs: usize, n: usize) -> u128 {
        (pairs as u128) * (std::mem::size_of::<Pair>() as u128 + 8) + n as u128
    }

    /// Builds the scenario's data. `label` is the labelling score ℓ.
    pub fn build(problem: &Problem, spec: &DataSpec, label: &[f64]) -> Result<Self> {
        let n = problem.len();
        match spec {
            DataSpec::Population { sampler } => {
                let mu = sampler_weights(problem, sampler.as_deref(), "data.sampler")?;
                let support: Vec<usize> = (0..n).filter(|&i| mu[i] > 0.0).collect();
                if support.len() > MAX_POPULATION_SUPPORT {
                    return Err(population_too_large(support.len()));
                }
                let mut pairs = Vec::with_capacity(support.len() * support.len());
                for &i in &support {
                    for &j in &support {
                        pairs.push(Pair::new(
                            i,
                            j,
                            2.0 * mu[i] * mu[j] * sigmoid(label[i] - label[j]),
                        ));
                    }
                }
                let mut d = PairData::from_pairs(n, pairs);
                // Zero-weight pairs (underflow) must not hide support.
                for &i in &support {
                    d.in_data[i] = true;
                }
                Ok(d)
            }
            DataSpec::Pairs(named) => {
                if named.is_empty() {
                    return Err(Error::invalid("data.pairs", "must list at least one pair"));
                }
                let w = 1.0 / named.len() as f64;
                let mut pairs = Vec::with_capacity(named.len());
                for (k, (c, r)) in named.iter().enumerate() {
                    let field = format!("data.pairs[{k}]");
                    let ci = lookup(problem, c, &field)?;
                    let ri = lookup(problem, r, &field)?;
                    pairs.push(Pair::new(ci, ri, w));
                }
                Ok(PairData::from_pairs(n, pairs))
            }
            DataSpec::Sampled {
                size,
                seed,
                sampler,
            } => {
                if *size == 0 || *size > MAX_SAMPLED_PAIRS {
                    return Err(Error::invalid(
                        "data.size",
                        format!("must be between 1 and {MAX_SAMPLED_PAIRS}, got {size}"),
                    ));
                }
                let mu = sampler_weights(problem, sampler.as_deref(), "data.sampler")?;
                let mut cum = Vec::with_capacity(n);
                let mut acc = 0.0;
                for &m in &mu {
                    acc += m;
                    cum.push(acc);
                }
                let mut rng = rand::rngs::StdRng::seed_from_u64(*seed);
                let w = 1.0 / *size as f64;
                let mut pairs = Vec::with_capacity(*size);
                for _ in 0..*size {
                    let a = draw_cumulative(&cum, &mu, &mut rng);
                    let b = draw_cumulative(&cum, &mu, &mut rng);
                    let (c, r) = label_bradley_terry(a, b, label[a], label[b], &mut rng);
                    pairs.push(Pair::new(c, r, w));
                }
                Ok(PairData::from_pairs(n, pairs))
            }
        }
    }

    /// Draws one pair index in proportion to its weight.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.pairs.len() - 1)
    }
}

/// Orders `(a, b)` as (chosen, rejected): `a` wins with probability
/// `σ(ℓ_a − ℓ_b)` (Bradley–Terry), given their scores `ℓ_a`, `ℓ_b`.
pub fn label_bradley_terry<R: Rng + ?Sized>(
    a: usize,
    b: usize,
    score_a: f64,
    score_b: f64,
    rng: &mut R,
) -> (usize, usize) {
    let u: f64 = rng.random();
    if u < sigmoid(score_a - score_b) {
        (a, b)
    } else {
        (b, a)
    }
}

/// Orders `(a, b)` by the higher score; ties are broken by a fair coin.
pub fn label_argmax<R: Rng + ?Sized>(
    a: usize,
    b: usize,
    score_a: f64,
    score_b: f64,
    rng: &mut R,
) -> (usize, usize) {
    if score_a > score_b {
        (a, b)
    } else if score_b > score_a {
        (b, a)
    } else if rng.random::<bool>() {
        (a, b)
    } else {
        (b, a)
    }
}

fn draw_cumulative<R: Rng + ?Sized>(cum: &[f64], weights: &[f64], rng: &mut R) -> usize {
    let total = cum.last().copied().unwrap_or(0.0);
    let u = rng.random::<f64>() * total;
    let mut i = cum.partition_point(|&c| c <= u).min(cum.len() - 1);
    while weights[i] <= 0.0 && i > 0 {
        i -= 1;
    }
    i
}

fn lookup(problem: &Problem, name: &str, field: &str) -> Result<usize> {
    let Some(i) = problem.space.index_of(name) else {
        return Err(Error::invalid(
            field,
            format!("{name:?} is not a response of the space"),
        ));
    };
    if problem.log_ref[i] == f64::NEG_INFINITY {
        return Err(Error::invalid(
            field,
            format!(
                "{name:?} has reference probability 0, so no policy that starts at π_ref can produce it"
            ),
        ));
    }
    Ok(i)
}

/// The normalised sampler weights μ (default `π_ref`).
pub fn sampler_weights(
    problem: &Problem,
    sampler: Option<&[f64]>,
    field: &str,
) -> Result<Vec<f64>> {
    let n = problem.len();
    let Some(s) = sampler else {
        return Ok(problem.log_ref.iter().map(|l| l.exp()).collect());
    };
    if s.len() != n {
        return Err(Error::invalid(
            field,
            format!("has {} weights but the space has {n} responses", s.len()),
        ));
    }
    for (i, &w) in s.iter().enumerate() {
        if !w.is_finite() || w < 0.0 {
            return Err(Error::invalid(
                field,
                format!(
                    "weight {i} must be a finite number ≥ 0, got {}",
                    crate::numerics::show(w)
                ),
            ));
        }
        if w > 0.0 && problem.log_ref[i] == f64::NEG_INFINITY {
            return Err(Error::invalid(
                field,
                format!(
                    "weight {i} ({:?}) is positive but its reference probability is 0",
                    problem.space.name(i)
                ),
            ));
        }
    }
    let sum: f64 = s.iter().sum();
    if sum <= 0.0 || !sum.is_finite() {
        return Err(Error::invalid(
            field,
            format!(
                "weights must have a positive finite sum, got {}",
                crate::numerics::show(sum)
            ),
        ));
    }
    Ok(s.iter().map(|w| w / sum).collect())
}
