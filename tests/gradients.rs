//! Analytic gradients against central finite differences, for every policy
//! class and every loss (docs/maths.md §3), as argmin checks its test functions:
//! the pair losses, the exact RLHF objective, PPO's clipped surrogate
//! through the chain rule, and the reward model's Bradley–Terry fit.

mod common;

use approx::assert_abs_diff_eq;

use common::config;

use dpo_lab::data::{Pair, PairData};
use dpo_lab::loss::{PairLoss, bradley_terry_nll, bradley_terry_nll_derivative};
use dpo_lab::method::{Method, Ppo, PpoSettings, RlhfExact, StepContext, pair_loss};
use dpo_lab::policy::{FeatureSet, GradBuffer, Policy, PolicyKind};
use dpo_lab::problem::Problem;
use dpo_lab::reference::{BigramReference, ReferenceSpec, build_log_reference};
use dpo_lab::reward_model::{RewardModel, RewardModelKind};
use dpo_lab::space::ResponseSpace;
use dpo_lab::tolerance::ULPS_ABS;
use dpo_lab::tolerance::{FINITE_DIFF, FINITE_DIFF_STEP};
use proptest::prelude::*;
use rand::SeedableRng;

fn sequence_problem(seed: u64) -> Problem {
    let space = ResponseSpace::sequences(vec!["a".into(), "b".into(), "c".into()], 3).expect("ok");
    let s = seed as f64;
    let b = BigramReference {
        start: vec![0.5, 0.3, 0.2],
        transition: vec![
            vec![0.2, 0.5, 0.3],
            vec![0.6, 0.0, 0.4], // "b b" has probability zero
            vec![0.3, 0.3, 0.4],
        ],
        end: vec![0.3, 0.5, 0.2],
        overrides: vec![("a c".into(), vec![0.1, 0.2, 0.3, 0.4])],
    };
    let lr = build_log_reference(&space, &ReferenceSpec::Bigram(b)).expect("ok");
    let reward = (0..space.len())
        .map(|y| ((y as f64 + s) * 0.7).sin())
        .collect();
    Problem::new(space, lr, reward).expect("ok")
}

fn flat_problem() -> Problem {
    let space = ResponseSpace::flat((0..6).map(|i| format!("r{i}")).collect()).expect("ok");
    let p = [0.3f64, 0.25, 0.2, 0.15, 0.1, 0.0];
    Problem::new(
        space,
        p.iter().map(|x| x.ln()).collect(),
        vec![1.0, 0.5, 0.0, -0.5, -1.0, 2.0],
    )
    .expect("ok")
}

/// A policy moved away from its start so gradients are generic.
fn perturbed(kind: &PolicyKind, problem: &Problem, seed: u64) -> Policy {
    let mut p = Policy::new(kind, problem).expect("ok");
    let deltas: Vec<(usize, f64)> = (0..p.num_params())
        .map(|k| (k, (((k as u64 * 31 + seed * 17) % 13) as f64 - 6.0) * 0.05))
        .collect();
    p.apply(&deltas);
    p
}

fn check(policy: &Policy, f: impl Fn(&Policy) -> f64, analytic: &[f64]) {
    assert_eq!(analytic.len(), policy.num_params());
    for (k, &a) in analytic.iter().enumerate() {
        let mut plus = policy.clone();
        plus.apply(&[(k, FINITE_DIFF_STEP)]);
        let mut minus = policy.clone();
        minus.apply(&[(k, -FINITE_DIFF_STEP)]);
        let fd = (f(&plus) - f(&minus)) / (2.0 * FINITE_DIFF_STEP);
        // A NaN or infinite difference is a failure, never skipped.
        assert!(
            fd.is_finite() && a.is_finite(),
            "param {k}: finite difference {fd}, analytic {a}"
        );
        assert_abs_diff_eq!(fd, a, epsilon = FINITE_DIFF * (1.0 + fd.abs()));
    }
}

/// Every loss of the family, with its default hyper-parameters.
fn all_losses() -> Vec<PairLoss> {
    use strum::VariantNames;
    dpo_lab::loss::LossName::VARIANTS
        .iter()
        .map(|n| {
            PairLoss::parse(n, &dpo_lab::loss::LossParams::default()).expect("defaults are valid")
        })
        .collect()
}

fn classes() -> Vec<(PolicyKind, Problem)> {
    vec![
        (PolicyKind::Tabular, flat_problem()),
        (PolicyKind::Tabular, sequence_problem(1)),
        (PolicyKind::Autoregressive, sequence_problem(2)),
        (
            PolicyKind::LogLinear(FeatureSet::Sequence {
                tokens: true,
                length: true,
                bigrams: true,
            }),
            sequence_problem(3),
        ),
        (
            PolicyKind::LogLinear(FeatureSet::Random { dim: 3, seed: 4 }),
            flat_problem(),
        ),
    ]
}

proptest! {
    #![proptest_config(config(24))]

    /// Σ_y c_y ∂log π(y)/∂θ for arbitrary (not zero-sum) coefficients.
    #[test]
    fn weighted_log_likelihood_gradient(seed in 0u64..1000, raw in prop::collection::vec(-1.0f64..1.0, 8)) {
        for (kind, problem) in classes() {
            let policy = perturbed(&kind, &problem, seed);
            let support: Vec<usize> = (0..problem.len()).filter(|&y| problem.log_ref[y].is_finite()).collect();
            let coefs: Vec<(usize, f64)> = raw.iter().enumerate()
                .map(|(k, &c)| (support[(k * 7 + seed as usize) % support.len()], c))
                .collect();
            let total: f64 = coefs.iter().map(|c| c.1).sum();
            let mut g = GradBuffer::new(policy.num_params());
            policy.accumulate_grad(&coefs, total, &mut g);
            let f = |p: &Policy| coefs.iter().map(|&(y, c)| c * p.log_prob(y)).sum::<f64>();
            check(&policy, f, &g.to_dense());
        }
    }

    /// Every loss of the family through the trainer's own coefficient
    /// path, with per-token lengths on sequence spaces (KTO, whose z₀ is
    /// held fixed within a step by design, is checked on `eval` below).
    #[test]
    fn pair_loss_gradients(seed in 0u64..1000, beta in 0.05f64..3.0) {
        for (kind, problem) in classes() {
            let policy = perturbed(&kind, &problem, seed);
            let support: Vec<usize> = (0..problem.len()).filter(|&y| problem.log_ref[y].is_finite()).collect();
            let m = support.len();
            let pairs: Vec<Pair> = (0..5)
                .map(|k| {
                    let a = support[(k * 5 + seed as usize) % m];
                    let b = support[(k * 3 + 1 + seed as usize * 7) % m];
                    Pair::new(a, b, 0.1 + 0.1 * k as f64)
                })
                .collect();
            let lengths: Vec<f64> = if problem.space.is_sequences() {
                (0..problem.len()).map(|y| problem.space.length(y) as f64).collect()
            } else {
                Vec::new()
            };
            for loss in all_losses().into_iter().filter(|l| !l.needs_kl()) {
                let mut coefs = Vec::new();
                pair_loss(&pairs, loss, beta, &policy, &lengths, Some(&mut coefs));
                let total = dpo_lab::method::coefficient_sum(&coefs);
                let mut g = GradBuffer::new(policy.num_params());
                policy.accumulate_grad(&coefs, total, &mut g);
                let f = |p: &Policy| pair_loss(&pairs, loss, beta, p, &lengths, None);
                // Kinks: the hinge at βΔ = 1, DPOP at ρ_w = 0.
                let near_kink = pairs.iter().any(|p| {
                    let (hw, hl) = (policy.log_ratio(p.chosen), policy.log_ratio(p.rejected));
                    (loss == PairLoss::Hinge && ((hw - hl) * beta - 1.0).abs() < 1e-3)
                        || (matches!(loss, PairLoss::Dpop { .. }) && hw.abs() < 1e-3)
                });
                if !near_kink {
                    check(&policy, f, &g.to_dense());
                }
            }
        }
    }

    /// Every loss's partial derivatives in `ℓ_w`, `ℓ_l` (moving `ρ` with
    /// them) against central differences of its value, KTO's z₀ fixed.
    #[test]
    fn every_loss_derivatives_match_its_value(
        rho_w in -3.0f64..3.0, rho_l in -3.0f64..3.0, ref_w in -4.0f64..-0.1, ref_l in -4.0f64..-0.1,
        len_w in 1u32..4, len_l in 1u32..4, kl0 in 0.0f64..2.0, beta in 0.05f64..3.0,
        nll_tokens in 1.0f64..4.0,
    ) {
        let input = |dw: f64, dl: f64| dpo_lab::loss::PairInput {
            rho_w: rho_w + dw, rho_l: rho_l + dl,
            ell_w: (ref_w + rho_w).min(-1e-3) + dw, ell_l: (ref_l + rho_l).min(-1e-3) + dl,
            len_w: len_w as f64, len_l: len_l as f64, nll_tokens, kl0,
        };
        let h = 1e-6;
        for loss in all_losses() {
            let (_, gw, gl) = loss.eval(&input(0.0, 0.0), beta);
            let fw = (loss.eval(&input(h, 0.0), beta).0 - loss.eval(&input(-h, 0.0), beta).0) / (2.0 * h);
            let fl = (loss.eval(&input(0.0, h), beta).0 - loss.eval(&input(0.0, -h), beta).0) / (2.0 * h);
            let kink = (loss == PairLoss::Hinge && ((rho_w - rho_l) * beta - 1.0).abs() < 1e-3)
                || (matches!(loss, PairLoss::Dpop { .. }) && rho_w.abs() < 1e-3);
            if kink {
                continue;
            }
            prop_assert!(fw.is_finite() && fl.is_finite(), "{}: non-finite difference", loss.name());
            prop_assert!((fw - gw).abs() <= FINITE_DIFF * (1.0 + fw.abs()), "{} ∂w: {fw} vs {gw}", loss.name());
            prop_assert!((fl - gl).abs() <= FINITE_DIFF * (1.0 + fl.abs()), "{} ∂l: {fl} vs {gl}", loss.name());
        }
    }

    #[test]
    fn loss_derivatives_match_their_values(d in -20.0f64..20.0, beta in 0.01f64..10.0) {
        let h = 1e-6;
        for loss in all_losses().into_iter().filter(|l| l.depends_on_margin_only() || *l == PairLoss::Ipo) {
            let fd = (loss.value(d + h, beta) - loss.value(d - h, beta)) / (2.0 * h);
            prop_assert!((fd - loss.derivative(d, beta)).abs() <= FINITE_DIFF * (1.0 + fd.abs()));
        }
        let fd = (bradley_terry_nll(d + h) - bradley_terry_nll(d - h)) / (2.0 * h);
        prop_assert!((fd - bradley_terry_nll_derivative(d)).abs() <= 1e-6);
    }
}

#[test]
fn tabular_dpo_gradient_moves_only_the_pair() {
    // docs/maths.md §3: ∂L/∂θ_k = g(1[k=y+] − 1[k=y−]); the π terms cancel.
    let problem = flat_problem();
    let policy = Policy::new(&PolicyKind::Tabular, &problem).expect("ok");
    let mut coefs = Vec::new();
    pair_loss(
        &[Pair::new(0, 3, 1.0)],
        PairLoss::Dpo,
        0.5,
        &policy,
        &[],
        Some(&mut coefs),
    );
    let mut g = GradBuffer::new(policy.num_params());
    policy.accumulate_grad(&coefs, 0.0, &mut g);
    let dense = g.to_dense();
    assert_abs_diff_eq!(dense[0], -0.25, epsilon = ULPS_ABS); // −β σ(0)
    assert_abs_diff_eq!(dense[3], 0.25, epsilon = ULPS_ABS);
    assert!(
        dense
            .iter()
            .enumerate()
            .all(|(k, v)| k == 0 || k == 3 || *v == 0.0)
    );
}

/// Learned scores for the RLHF tests: anything fixed and uneven.
fn scores(problem: &Problem, seed: u64) -> Vec<f64> {
    (0..problem.len())
        .map(|y| ((y as f64 * 1.3 + seed as f64) * 0.9).cos() * 2.0)
        .collect()
}

proptest! {
    #![proptest_config(config(16))]

    /// Exact RLHF: the coefficients of `−J_φ = −(E_π r_φ − β·KL)` are its
    /// gradient, for every policy class.
    #[test]
    fn exact_rlhf_gradient(seed in 0u64..1000, beta in 0.05f64..3.0) {
        for (kind, problem) in classes() {
            let policy = perturbed(&kind, &problem, seed);
            let method = RlhfExact::new(scores(&problem, seed));
            let mut coefs = Vec::new();
            let total = method.loss_gradient(beta, &policy, &mut coefs);
            let mut g = GradBuffer::new(policy.num_params());
            policy.accumulate_grad(&coefs, total, &mut g);
            check(&policy, |p| method.current_loss(beta, p), &g.to_dense());
        }
    }

    /// PPO: `−mean min(ρA, clip(ρ)A)` on a sampled batch, differentiated
    /// through `ρ = π/π_old`, after the policy has moved from the one that
    /// sampled (so some samples are clipped and some are not).
    #[test]
    fn ppo_clipped_surrogate_gradient(seed in 0u64..1000, beta in 0.05f64..3.0) {
        for (kind, problem) in classes() {
            let start = perturbed(&kind, &problem, seed);
            let settings = PpoSettings { batch: 16, epochs: 4, clip: 0.2, value_lr: 0.1 };
            let mut ppo = Ppo::new(scores(&problem, seed), settings);
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            ppo.prepare(&mut StepContext { beta, step: 0, rng: &mut rng }, &start);
            let policy = perturbed(&kind, &problem, seed + 1);
            let clip_edges_near = (0..problem.len()).any(|y| {
                let r = (policy.log_prob(y) - start.log_prob(y)).exp();
                (r - 0.8).abs() < 1e-3 || (r - 1.2).abs() < 1e-3
            });
            if clip_edges_near {
                continue; // the surrogate has a kink there
            }
            let mut coefs = Vec::new();
            let total = ppo.loss_gradient(beta, &policy, &mut coefs);
            let mut g = GradBuffer::new(policy.num_params());
            policy.accumulate_grad(&coefs, total, &mut g);
            check(&policy, |p| ppo.current_loss(beta, p), &g.to_dense());
        }
    }

    /// The reward model's fitting objective (Bradley–Terry NLL + L2), for
    /// tabular and log-linear models, in their own parameters.
    #[test]
    fn reward_model_gradient(seed in 0u64..1000, l2 in 0.0f64..0.5) {
        let problem = flat_problem();
        let pairs: Vec<Pair> = (0..6)
            .map(|k| Pair::new((k + seed as usize) % 5, (k * 2 + 1) % 5, 1.0 / 6.0))
            .collect();
        let data = PairData::from_pairs(problem.len(), pairs);
        for kind in [
            RewardModelKind::Tabular,
            RewardModelKind::LogLinear(FeatureSet::Random { dim: 3, seed: 9 }),
        ] {
            let d = match &kind {
                RewardModelKind::Tabular => problem.len(),
                RewardModelKind::LogLinear(_) => 3,
            };
            let params: Vec<f64> = (0..d).map(|k| ((k as u64 * 7 + seed) % 11) as f64 * 0.1 - 0.5).collect();
            let at = RewardModel::with_params(&problem, &kind, params.clone()).expect("model");
            let (_, grad) = at.objective(&data, l2);
            for k in 0..d {
                let shifted = |delta: f64| {
                    let mut p = params.clone();
                    p[k] += delta;
                    RewardModel::with_params(&problem, &kind, p).expect("model").objective(&data, l2).0
                };
                let fd = (shifted(FINITE_DIFF_STEP) - shifted(-FINITE_DIFF_STEP)) / (2.0 * FINITE_DIFF_STEP);
                prop_assert!(fd.is_finite());
                assert_abs_diff_eq!(fd, grad[k], epsilon = FINITE_DIFF * (1.0 + fd.abs()));
            }
        }
    }
}
