//! True rewards `r(x, y)`, built from checked settings.
//!
//! Flat spaces: explicit values or a seeded Gaussian draw. Sequence spaces:
//! an order-dependent score,
//! `r(y) = Σ_t token[y_t] + Σ_t transition[y_{t−1}][y_t] + length·|y|`,
//! with named responses overridden. The transition term makes
//! the reward depend on order; a bag-of-tokens reward would make nonsense such
//! as "cat sat cat" optimal (docs/maths.md §4).

use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

use crate::error::{Error, Result};
use crate::space::ResponseSpace;

/// A true reward, as the scenario describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum RewardSpec {
    /// Explicit values in response order.
    Explicit(Vec<f64>),
    /// `r(y) ~ N(mean, std²)` i.i.d. from a seed.
    Gaussian {
        /// Mean.
        mean: f64,
        /// Standard deviation, ≥ 0.
        std: f64,
        /// Generator seed.
        seed: u64,
    },
    /// The sequence score above.
    Sequence(SequenceReward),
    /// A verifier: 1 for a correct response, 0 otherwise.
    Verifier {
        /// Names of the correct responses.
        correct: Vec<String>,
        /// Sequence spaces: every response whose last token is this one is
        /// correct too.
        ends_with: Option<String>,
    },
}

/// Order-dependent sequence reward.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceReward {
    /// Score of each token (length V; default zeros).
    pub tokens: Vec<f64>,
    /// Score of each adjacent pair (V × V; default zeros).
    pub transitions: Vec<Vec<f64>>,
    /// Added once per token.
    pub length: f64,
    /// `(response, value)` replacing the computed reward.
    pub overrides: Vec<(String, f64)>,
}

/// The largest reward magnitude (and Gaussian mean or spread) accepted:
/// far beyond any meaningful reward, and small enough that sums over a
/// sequence and differences between rewards stay finite.
pub const MAX_REWARD: f64 = 1e100;

fn finite(field: &str, v: f64) -> Result<f64> {
    crate::validate::rule(
        field,
        v,
        v.abs() <= MAX_REWARD,
        &format!("a finite number with |value| ≤ {MAX_REWARD:e}"),
    )
}

/// Builds `r` over `space`.
pub fn build_reward(space: &ResponseSpace, spec: &RewardSpec) -> Result<Vec<f64>> {
    let n = space.len();
    match spec {
        RewardSpec::Explicit(values) => {
            if values.len() != n {
                return Err(Error::invalid(
                    "reward.values",
                    format!(
                        "has {} entries but the space has {n} responses",
                        values.len()
                    ),
                ));
            }
            for (i, &v) in values.iter().enumerate() {
                finite(&format!("reward.values[{i}]"), v)?;
            }
            Ok(values.clone())
        }
        RewardSpec::Gaussian { mean, std, seed } => {
            finite("reward.mean", *mean)?;
            crate::validate::rule(
                "reward.std",
                *std,
                (0.0..=MAX_REWARD).contains(std),
                &format!("a finite number in [0, {MAX_REWARD:e}]"),
            )?;
            let normal = Normal::new(*mean, *std)
                .map_err(|e| Error::invalid("reward.std", format!("{e}")))?;
            let mut rng = rand::rngs::StdRng::seed_from_u64(*seed);
            Ok((0..n).map(|_| normal.sample(&mut rng)).collect())
        }
        RewardSpec::Verifier { correct, ends_with } => {
            let mut r = vec![0.0; n];
            for (k, name) in correct.iter().enumerate() {
                let Some(i) = space.index_of(name) else {
                    return Err(Error::invalid(
                        format!("reward.correct[{k}]"),
                        format!("{name:?} is not a response of the space"),
                    ));
                };
                r[i] = 1.0;
            }
            if let Some(t) = ends_with {
                if !space.is_sequences() {
                    return Err(Error::invalid(
                        "reward.ends_with",
                        "needs a sequence space (space.kind = \"sequences\"); list the correct answers in `correct`",
                    ));
                }
                let Some(tok) = space.vocab().iter().position(|v| v == t) else {
                    return Err(Error::invalid(
                        "reward.ends_with",
                        format!("{t:?} is not a token of the vocabulary"),
                    ));
                };
                for (y, ry) in r.iter_mut().enumerate() {
                    if space.last_token(y) == tok {
                        *ry = 1.0;
                    }
                }
            }
            if !r.contains(&1.0) {
                return Err(Error::invalid(
                    "reward.correct",
                    "names no correct response: give `correct = [...]` (or `ends_with` on sequences)",
                ));
            }
            Ok(r)
        }
        RewardSpec::Sequence(s) => {
            if !space.is_sequences() {
                return Err(Error::invalid(
                    "reward.kind",
                    "\"sequence\" needs a sequence space (space.kind = \"sequences\")",
                ));
            }
            let v = space.vocab_len();
            if s.tokens.len() != v {
                return Err(Error::invalid(
                    "reward.tokens",
                    format!(
                        "has {} entries but the vocabulary has {v} tokens",
                        s.tokens.len()
                    ),
                ));
            }
            for (i, &x) in s.tokens.iter().enumerate() {
                finite(&format!("reward.tokens[{i}]"), x)?;
            }
            if s.transitions.len() != v {
                return Err(Error::invalid(
                    "reward.transitions",
                    format!(
                        "has {} rows but the vocabulary has {v} tokens",
                        s.transitions.len()
                    ),
                ));
            }
            for (u, row) in s.transitions.iter().enumerate() {
                if row.len() != v {
                    return Err(Error::invalid(
                        format!("reward.transitions[{u}]"),
                        format!(
                            "has {} entries but the vocabulary has {v} tokens",
                            row.len()
                        ),
                    ));
                }
                for (w, &x) in row.iter().enumerate() {
                    finite(&format!("reward.transitions[{u}][{w}]"), x)?;
                }
            }
            finite("reward.length", s.length)?;
            let mut r: Vec<f64> = (0..n)
                .map(|y| {
                    let toks = space.tokens(y);
                    let mut total = s.length * toks.len() as f64;
                    for &t in &toks {
                        total += s.tokens[t];
                    }
                    for w in toks.windows(2) {
                        total += s.transitions[w[0]][w[1]];
                    }
                    total
                })
                .collect();
            for (name, value) in &s.overrides {
                let field = format!("reward.overrides.{name:?}");
                let Some(i) = space.index_of(name) else {
                    return Err(Error::invalid(
                        &field,
                        format!("{name:?} is not a response of the space"),
                    ));
                };
                r[i] = finite(&field, *value)?;
            }
            Ok(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_reward_depends_on_order() {
        let space = ResponseSpace::sequences(vec!["a".into(), "b".into()], 2).expect("ok");
        let spec = RewardSpec::Sequence(SequenceReward {
            tokens: vec![1.0, 0.5],
            transitions: vec![vec![0.0, 2.0], vec![-1.0, 0.0]],
            length: -0.25,
            overrides: vec![],
        });
        let r = build_reward(&space, &spec).expect("ok");
        let at = |s: &str| r[space.index_of(s).expect("in space")];
        assert_eq!(at("a b"), 1.0 + 0.5 + 2.0 - 0.5);
        assert_eq!(at("b a"), 1.0 + 0.5 - 1.0 - 0.5);
    }
}
