//! Reference policies `π_ref`, built from checked settings.
//!
//! Flat spaces: explicit probabilities (finite, ≥ 0, summing to 1 within
//! 1e-9, then divided by their sum), uniform, or a seeded Dirichlet draw.
//! Sequence spaces additionally take a bigram table: a start distribution, a
//! next-token table and an end probability per previous token, with named
//! per-prefix overrides — an autoregressive reference that puts exactly zero
//! on whatever it should.

use rand::SeedableRng;
use rand_distr::{Distribution, Gamma};

use crate::error::{Error, Result};
use crate::space::ResponseSpace;
use crate::tolerance::REFERENCE_SUM;

/// A reference policy, as the scenario describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum ReferenceSpec {
    /// Explicit probabilities in response order.
    Explicit(Vec<f64>),
    /// Uniform over all responses.
    Uniform,
    /// Drawn from a symmetric Dirichlet(α) with a seed.
    Dirichlet {
        /// Concentration, > 0.
        alpha: f64,
        /// Generator seed.
        seed: u64,
    },
    /// An autoregressive bigram table (sequence spaces).
    Bigram(BigramReference),
}

/// `π(y) = start(y1) · Π_t next(y_t | y_{t−1}) · end-factor`, with
/// `next(v | u) = (1 − end[u]) · transition[u][v]`, `π(end | u) = end[u]`
/// below `max_len` and end forced at `max_len`; a prefix named in
/// `overrides` uses its own row over `vocab + end` instead.
#[derive(Debug, Clone, PartialEq)]
pub struct BigramReference {
    /// Distribution of the first token (length V).
    pub start: Vec<f64>,
    /// Row `u`: distribution of the next token after `u` (V × V).
    pub transition: Vec<Vec<f64>>,
    /// Probability of ending after token `u` (length V), in [0, 1].
    pub end: Vec<f64>,
    /// `(prefix, row over vocab + end)` replacing the bigram row there.
    pub overrides: Vec<(String, Vec<f64>)>,
}

/// Checks a probability vector (finite, ≥ 0, sum 1 within 1e-9) and returns
/// it divided by its sum.
pub fn check_distribution(field: &str, probs: &[f64]) -> Result<Vec<f64>> {
    if probs.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    for (i, &p) in probs.iter().enumerate() {
        if !p.is_finite() || p < 0.0 {
            return Err(Error::invalid(
                field,
                format!(
                    "entry {i} must be a finite number ≥ 0, got {}",
                    crate::numerics::show(p)
                ),
            ));
        }
    }
    let sum: f64 = probs.iter().sum();
    if (sum - 1.0).abs() > REFERENCE_SUM {
        return Err(Error::invalid(
            field,
            format!("must sum to 1 within {REFERENCE_SUM:e}, sums to {sum}"),
        ));
    }
    Ok(probs.iter().map(|p| p / sum).collect())
}

/// Builds `log π_ref` over `space`.
pub fn build_log_reference(space: &ResponseSpace, spec: &ReferenceSpec) -> Result<Vec<f64>> {
    let n = space.len();
    match spec {
        ReferenceSpec::Explicit(probs) => {
            if probs.len() != n {
                return Err(Error::invalid(
                    "reference.probs",
                    format!(
                        "has {} entries but the space has {n} responses",
                        probs.len()
                    ),
                ));
            }
            let p = check_distribution("reference.probs", probs)?;
            Ok(p.iter().map(|x| x.ln()).collect())
        }
        ReferenceSpec::Uniform => Ok(vec![-(n as f64).ln(); n]),
        ReferenceSpec::Dirichlet { alpha, seed } => {
            crate::validate::positive("reference.alpha", *alpha)?;
            // A Dirichlet draw is independent Gamma(α, 1) draws normalised;
            // rand_distr's Dirichlet needs a compile-time dimension. Summing
            // in log space keeps tiny α (many exact-zero gammas) meaningful.
            let gamma = Gamma::new(*alpha, 1.0)
                .map_err(|e| Error::invalid("reference.alpha", format!("{e} (alpha = {alpha})")))?;
            let mut rng = rand::rngs::StdRng::seed_from_u64(*seed);
            let mut logs: Vec<f64> = (0..n).map(|_| gamma.sample(&mut rng).ln()).collect();
            let z = crate::numerics::log_normalize(&mut logs);
            if !z.is_finite() {
                return Err(Error::invalid(
                    "reference.alpha",
                    format!("alpha = {alpha} is too small: every Gamma draw underflowed to 0"),
                ));
            }
            Ok(logs)
        }
        ReferenceSpec::Bigram(b) => bigram_log_reference(space, b),
    }
}

fn bigram_log_reference(space: &ResponseSpace, b: &BigramReference) -> Result<Vec<f64>> {
    if !space.is_sequences() {
        return Err(Error::invalid(
            "reference.kind",
            "\"bigram\" needs a sequence space (space.kind = \"sequences\")",
        ));
    }
    let v = space.vocab_len();
    if b.start.len() != v {
        return Err(Error::invalid(
            "reference.start",
            format!(
                "has {} entries but the vocabulary has {v} tokens",
                b.start.len()
            ),
        ));
    }
    let start = check_distribution("reference.start", &b.start)?;
    if b.transition.len() != v {
        return Err(Error::invalid(
            "reference.transition",
            format!(
                "has {} rows but the vocabulary has {v} tokens",
                b.transition.len()
            ),
        ));
    }
    let mut transition = Vec::with_capacity(v);
    for (u, row) in b.transition.iter().enumerate() {
        let field = format!("reference.transition[{u}]");
        if row.len() != v {
            return Err(Error::invalid(
                &field,
                format!(
                    "has {} entries but the vocabulary has {v} tokens",
                    row.len()
                ),
            ));
        }
        transition.push(check_distribution(&field, row)?);
    }
    if b.end.len() != v {
        return Err(Error::invalid(
            "reference.end",
            format!(
                "has {} entries but the vocabulary has {v} tokens",
                b.end.len()
            ),
        ));
    }
    for (u, &e) in b.end.iter().enumerate() {
        if !(e.is_finite() && (0.0..=1.0).contains(&e)) {
            return Err(Error::invalid(
                "reference.end",
                format!(
                    "entry {u} must be a probability in [0, 1], got {}",
                    crate::numerics::show(e)
                ),
            ));
        }
    }
    // Conditional rows over vocab + end for each prefix, as log-probs.
    let row_for = |prev: usize| -> Vec<f64> {
        let mut row: Vec<f64> = transition[prev]
            .iter()
            .map(|t| ((1.0 - b.end[prev]) * t).ln())
            .collect();
        row.push(b.end[prev].ln());
        row
    };
    let mut overrides: std::collections::HashMap<usize, Vec<f64>> = Default::default();
    for (k, (prefix, row)) in b.overrides.iter().enumerate() {
        let field = format!("reference.overrides[{k}]");
        let Some(i) = space.index_of(prefix) else {
            return Err(Error::invalid(
                &field,
                format!("prefix {prefix:?} is not a sequence of the space"),
            ));
        };
        if space.length(i) >= space.max_len() {
            return Err(Error::invalid(
                &field,
                format!("prefix {prefix:?} already has max_len tokens and cannot continue"),
            ));
        }
        if row.len() != v + 1 {
            return Err(Error::invalid(
                &field,
                format!(
                    "row must have {} entries (vocabulary then end), got {}",
                    v + 1,
                    row.len()
                ),
            ));
        }
        let p = check_distribution(&field, row)?;
        overrides.insert(i, p.iter().map(|x| x.ln()).collect());
    }
    let max_len = space.max_len();
    let n = space.len();
    let mut prefix = vec![0.0; n];
    let mut out = vec![0.0; n];
    for j in 0..n {
        let len = space.length(j);
        let last = space.last_token(j);
        prefix[j] = match space.parent(j) {
            None => start[last].ln(),
            Some(p) => {
                let row = overrides
                    .get(&p)
                    .cloned()
                    .unwrap_or_else(|| row_for(space.last_token(p)));
                prefix[p] + row[last]
            }
        };
        out[j] = if len < max_len {
            let row = overrides.get(&j).cloned().unwrap_or_else(|| row_for(last));
            prefix[j] + row[v]
        } else {
            prefix[j]
        };
    }
    // The truncated process is normalised by construction; remove rounding.
    crate::numerics::log_normalize(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::ULPS_ABS;
    use approx::assert_abs_diff_eq;

    #[test]
    fn bigram_reference_by_hand() {
        let space = ResponseSpace::sequences(vec!["a".into(), "b".into()], 2).expect("ok");
        let b = BigramReference {
            start: vec![0.25, 0.75],
            transition: vec![vec![0.5, 0.5], vec![1.0, 0.0]],
            end: vec![0.2, 0.6],
            overrides: vec![],
        };
        let lr = build_log_reference(&space, &ReferenceSpec::Bigram(b)).expect("ok");
        let p = |s: &str| lr[space.index_of(s).expect("in space")].exp();
        assert_abs_diff_eq!(p("a"), 0.25 * 0.2, epsilon = ULPS_ABS);
        assert_abs_diff_eq!(p("a b"), 0.25 * 0.8 * 0.5, epsilon = ULPS_ABS);
        assert_abs_diff_eq!(p("b"), 0.75 * 0.6, epsilon = ULPS_ABS);
        assert_abs_diff_eq!(p("b a"), 0.75 * 0.4, epsilon = ULPS_ABS);
        assert_eq!(p("b b"), 0.0);
    }

    #[test]
    fn explicit_reference_must_sum_to_one() {
        let space = ResponseSpace::flat(vec!["A".into(), "B".into()]).expect("ok");
        let e = build_log_reference(&space, &ReferenceSpec::Explicit(vec![0.5, 0.6]))
            .expect_err("bad sum");
        assert!(e.to_string().contains("reference.probs"));
        let e = build_log_reference(&space, &ReferenceSpec::Explicit(vec![1.5, -0.5]))
            .expect_err("negative");
        assert!(e.to_string().contains("≥ 0"));
    }
}
