//! Every fast path gives the same numbers as the plain exact computation:
//! the fused parallel metric evaluation, the sum-tree normaliser and
//! sampler, and the autoregressive one-pass log-probabilities — also after
//! many updates.

use dpo_lab::bench::{flat_scenario, sequence_scenario};
use dpo_lab::method::MethodKind;
use dpo_lab::metrics::{Metrics, evaluate, evaluate_policy};
use dpo_lab::numerics::log_sum_exp;
use dpo_lab::policy::Policy;
use dpo_lab::scenario::{Overrides, Scenario};
use dpo_lab::tolerance::{FAST_PATH_REL, close};
use dpo_lab::train::Run;

fn assert_same(fast: &Metrics, plain: &Metrics) {
    for ((k, a), (_, b)) in fast.scalars().iter().zip(plain.scalars()) {
        assert!(
            close(*a, b, FAST_PATH_REL, 1e-13),
            "{k}: fast {a} vs plain {b}"
        );
    }
    assert_eq!(
        fast.ood_top.as_ref().map(|t| t.index),
        plain.ood_top.as_ref().map(|t| t.index)
    );
}

fn check_run(s: &Scenario, method: MethodKind, steps: usize) {
    let mut run = Run::new(&s.run_config(method)).expect("run");
    for k in 0..=steps {
        if k % (steps / 4).max(1) == 0 {
            let policy: &Policy = run.policy();
            let fast = evaluate_policy(
                &s.problem,
                &run.optimum().log_policy,
                &s.data,
                policy,
                s.train.beta(),
                0.0,
            );
            let plain = evaluate(
                &s.problem,
                &run.optimum().log_policy,
                &s.data,
                &policy.log_probs(),
                &policy.log_ratios(),
                s.train.beta(),
                0.0,
            );
            assert_same(&fast, &plain);
        }
        if k < steps {
            run.step().expect("step");
        }
    }
    if let Policy::Tabular(t) = run.policy() {
        assert!(close(
            t.log_normalizer(),
            log_sum_exp(&t.logits()),
            FAST_PATH_REL,
            0.0
        ));
    }
}

#[test]
fn tabular_evaluation_at_scale_matches_the_plain_one() {
    let s = flat_scenario(200_000).expect("ok");
    check_run(&s, MethodKind::OnlineDpo, 3000);
    check_run(&s, MethodKind::Dpo, 3000);
}

#[test]
fn autoregressive_and_loglinear_evaluations_match_the_plain_ones() {
    check_run(&sequence_scenario().expect("ok"), MethodKind::Dpo, 200);
    let s = Scenario::load("the-the-the", &Overrides::default()).expect("ok");
    check_run(&s, MethodKind::Dpo, 400);
    check_run(&s, MethodKind::OnlineDpo, 400);
    let s = Scenario::load(
        "the-the-the",
        &Overrides {
            policy: Some(dpo_lab::policy::PolicyClass::Autoregressive),
            ..Default::default()
        },
    )
    .expect("ok");
    check_run(&s, MethodKind::OnlineDpo, 400);
}

#[test]
fn autoregressive_one_pass_equals_the_per_response_walk() {
    let s = Scenario::load(
        "length-bias",
        &Overrides {
            policy: Some(dpo_lab::policy::PolicyClass::Autoregressive),
            ..Default::default()
        },
    )
    .expect("ok");
    let mut run = Run::new(&s.run_config(MethodKind::Dpo)).expect("ok");
    for _ in 0..50 {
        run.step().expect("step");
    }
    let p = run.policy();
    let (lp, h) = p.log_probs_and_ratios();
    for y in 0..p.len() {
        assert!(close(lp[y], p.log_prob(y), 1e-13, 1e-13), "log π({y})");
        assert!(close(h[y], p.log_ratio(y), 1e-13, 1e-13), "h({y})");
    }
}

#[test]
fn sampling_from_the_sum_tree_follows_the_softmax() {
    // Chi-square-free check: with 200,000 draws over 10 responses every
    // frequency is within 5 standard errors of its probability.
    let s = Scenario::load("ood-leak", &Overrides::default()).expect("ok");
    let mut run = Run::new(&s.run_config(MethodKind::Dpo)).expect("ok");
    for _ in 0..300 {
        run.step().expect("step");
    }
    let p = run.policy();
    let probs: Vec<f64> = p.log_probs().iter().map(|l| l.exp()).collect();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(9);
    let mut counts = vec![0usize; probs.len()];
    let mut draws = vec![0usize; 200_000];
    p.sample_many(&mut rng, &mut draws);
    for y in draws {
        counts[y] += 1;
    }
    for (y, &c) in counts.iter().enumerate() {
        let f = c as f64 / 200_000.0;
        let se = (probs[y] * (1.0 - probs[y]) / 200_000.0).sqrt();
        assert!(
            (f - probs[y]).abs() <= 5.0 * se + 1e-12,
            "response {y}: {f} vs {}",
            probs[y]
        );
    }
}
