//! Training against the closed form, reproducibility, and the online/offline
//! relation (docs/maths.md §3–4).

mod common;

use std::sync::Arc;

use approx::assert_abs_diff_eq;
use dpo_lab::data::{DataSpec, PairData};
use dpo_lab::method::{MethodKind, OnlineDpo};
use dpo_lab::policy::{Policy, PolicyKind};
use dpo_lab::problem::Problem;
use dpo_lab::reference::{ReferenceSpec, build_log_reference};
use dpo_lab::reward::{RewardSpec, build_reward};
use dpo_lab::scenario::{Overrides, Scenario};
use dpo_lab::space::ResponseSpace;
use dpo_lab::tolerance::CONVERGED_KL;
use dpo_lab::tolerance::IDENTITY_ABS;
use dpo_lab::tolerance::{ROUNDING_ABS, ULPS_ABS};
use dpo_lab::train::{RunConfig, train};
use dpo_lab::{Error, loss::PairLoss};
use rand::SeedableRng;

fn load(name: &str, o: Overrides) -> Scenario {
    Scenario::load(name, &o).expect("built-in scenario loads")
}

#[test]
fn population_dpo_on_full_support_converges_to_the_optimum() {
    let s = load("optimal-policy", Overrides::default());
    let out = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");
    assert!(
        out.final_metrics.kl_to_optimal < CONVERGED_KL,
        "KL(π‖π*) = {}",
        out.final_metrics.kl_to_optimal
    );
}

#[test]
fn population_dpo_reaches_pi_star_on_random_problems() {
    for seed in 0..4u64 {
        let space = ResponseSpace::generated(8).expect("ok");
        let lr = build_log_reference(&space, &ReferenceSpec::Dirichlet { alpha: 2.0, seed })
            .expect("ok");
        let r = build_reward(
            &space,
            &RewardSpec::Gaussian {
                mean: 0.0,
                std: 1.0,
                seed: seed + 10,
            },
        )
        .expect("ok");
        let problem = Arc::new(Problem::new(space, lr, r).expect("ok"));
        let data = PairData::build(
            &problem,
            &DataSpec::Population { sampler: None },
            &problem.reward,
        )
        .expect("ok");
        let cfg = RunConfig {
            problem: problem.clone(),
            data: Arc::new(data),
            policy: PolicyKind::Tabular,
            train: load("optimal-policy", Overrides::default()).train,
            online: load("optimal-policy", Overrides::default()).online,
            rlhf: load("optimal-policy", Overrides::default()).rlhf,
            rlvr: Default::default(),
            shared: false,
            method: MethodKind::Dpo,
        };
        let mut cfg = cfg;
        // Rare responses get little weight (μ_i μ_j); Adam evens the pace.
        cfg.train = cfg
            .train
            .clone()
            .with_steps(4000)
            .and_then(|t| t.with_lr(0.02))
            .expect("valid")
            .with_optimizer(dpo_lab::optim::OptimizerKind::Adam);
        let out = train(&cfg, |_, _| {}).expect("trains");
        assert!(
            out.final_metrics.kl_to_optimal < CONVERGED_KL,
            "seed {seed}: {}",
            out.final_metrics.kl_to_optimal
        );
    }
}

fn metric_keys(m: &dpo_lab::metrics::Metrics) -> Vec<String> {
    m.scalars().into_iter().map(|(k, _)| k).collect()
}

fn bits(out: &dpo_lab::train::Outcome) -> Vec<u64> {
    let mut v: Vec<u64> = out.final_log_probs.iter().map(|x| x.to_bits()).collect();
    for (k, m) in &out.history {
        v.push(*k as u64);
        v.extend(m.scalars().iter().map(|(_, x)| x.to_bits()));
    }
    v
}

#[test]
fn reruns_are_bit_identical() {
    let cases = [
        ("ood-leak", MethodKind::OnlineDpo, Overrides::default()),
        (
            "the-the-the",
            MethodKind::Dpo,
            Overrides {
                steps: Some(50),
                ..Default::default()
            },
        ),
        (
            "offline-vs-online",
            MethodKind::Dpo,
            Overrides {
                batch: Some(16),
                optimizer: Some(dpo_lab::optim::OptimizerKind::Adam),
                lr: Some(0.05),
                steps: Some(100),
                ..Default::default()
            },
        ),
        (
            "the-the-the",
            MethodKind::OnlineDpo,
            Overrides {
                policy: Some(dpo_lab::policy::PolicyClass::Autoregressive),
                steps: Some(50),
                ..Default::default()
            },
        ),
    ];
    for (name, method, o) in cases {
        let s = load(name, o.clone());
        let a = train(&s.run_config(method), |_, _| {}).expect("trains");
        let s2 = load(name, o);
        let b = train(&s2.run_config(method), |_, _| {}).expect("trains");
        assert_eq!(bits(&a), bits(&b), "{name} {method:?}");
    }
}

#[test]
fn online_dpo_that_never_resamples_is_offline_dpo_on_its_first_batch() {
    let mut s = load(
        "ood-leak",
        Overrides {
            steps: Some(200),
            ..Default::default()
        },
    );
    s.online = s
        .online
        .clone()
        .with_resample_every(usize::MAX)
        .expect("valid");
    let online = train(&s.run_config(MethodKind::OnlineDpo), |_, _| {}).expect("trains");

    // Rebuild the first batch exactly as the run drew it: same seed, π_ref.
    let policy = Policy::new(&PolicyKind::Tabular, &s.problem).expect("ok");
    let mut rng = rand::rngs::StdRng::seed_from_u64(s.train.seed());
    let mut sampler = OnlineDpo::new(
        PairLoss::Dpo,
        1,
        s.online.batch(),
        s.online.annotator(),
        s.problem.reward.clone(),
        Vec::new(),
    );
    sampler.resample(&policy, &mut rng);
    let mut cfg = s.run_config(MethodKind::Dpo);
    cfg.data = Arc::new(PairData::from_pairs(
        s.problem.len(),
        sampler.batch().to_vec(),
    ));
    let offline = train(&cfg, |_, _| {}).expect("trains");
    assert_eq!(
        online
            .final_log_probs
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<_>>(),
        offline
            .final_log_probs
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<_>>()
    );
}

#[test]
fn shifting_the_reward_leaves_training_unchanged() {
    let s = load(
        "optimal-policy",
        Overrides {
            steps: Some(300),
            ..Default::default()
        },
    );
    let mut raw = s.raw.clone();
    raw.reward.values = raw
        .reward
        .values
        .map(|v| v.iter().map(|x| x + 3.25).collect());
    let shifted = Scenario::check(raw).expect("ok");
    for (a, b) in s.data.pairs.iter().zip(&shifted.data.pairs) {
        assert!(
            (a.weight - b.weight).abs() <= ULPS_ABS,
            "pair weights depend only on reward differences"
        );
    }
    let a = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");
    let b = train(&shifted.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");
    for (x, y) in a.final_log_probs.iter().zip(&b.final_log_probs) {
        assert_abs_diff_eq!(x, y, epsilon = ROUNDING_ABS);
    }
    assert_abs_diff_eq!(
        a.final_metrics.loss,
        b.final_metrics.loss,
        epsilon = ROUNDING_ABS
    );
    // E_π r shifts by exactly the constant.
    assert!(
        (b.final_metrics.expected_reward - a.final_metrics.expected_reward - 3.25).abs()
            < IDENTITY_ABS
    );
}

#[test]
fn history_step_zero_is_the_reference_and_final_is_the_last_update() {
    let s = load("ratio-intuition", Overrides::default());
    let out = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");
    let (k0, m0) = &out.history[0];
    assert_eq!(*k0, 0);
    assert_eq!(m0.kl_to_ref, 0.0);
    assert_eq!(
        m0.rewards_accuracies, 0.0,
        "strict: no pair is ahead at π_ref"
    );
    assert_eq!(m0.rewards_margins, 0.0);
    let (klast, mlast) = out.history.last().expect("logged");
    assert_eq!(*klast, s.train.steps());
    assert_eq!(mlast, &out.final_metrics);
}

#[test]
fn divergence_is_an_error_naming_the_step() {
    let s = load(
        "deterministic-preferences",
        Overrides {
            lr: Some(1e6),
            ..Default::default()
        },
    );
    match train(&s.run_config(MethodKind::Ipo), |_, _| {}) {
        Err(Error::Diverged { step, .. }) => assert!(step >= 1),
        other => panic!(
            "expected divergence, got {:?}",
            other.map(|o| o.final_metrics)
        ),
    }
}

#[test]
fn extreme_beta_trains_to_finite_numbers_or_a_clear_error() {
    for beta in [1e-4, 1e4] {
        for method in [
            MethodKind::Dpo,
            MethodKind::OnlineDpo,
            MethodKind::Ipo,
            MethodKind::Optimal,
        ] {
            for lr in [0.5, 1e3] {
                let s = load(
                    "ood-leak",
                    Overrides {
                        beta: Some(beta),
                        lr: Some(lr),
                        steps: Some(100),
                        ..Default::default()
                    },
                );
                match train(&s.run_config(method), |_, _| {}) {
                    Ok(out) => {
                        // A normalised policy and metrics inside their ranges.
                        let total: f64 = out.final_log_probs.iter().map(|l| l.exp()).sum();
                        assert!((total - 1.0).abs() < IDENTITY_ABS, "Σ π = {total}");
                        for (_, m) in out
                            .history
                            .iter()
                            .chain([(0, out.final_metrics.clone())].iter())
                        {
                            assert!((0.0..=1.0 + 1e-12).contains(&m.ood_mass));
                            assert!((0.0..=1.0).contains(&m.rewards_accuracies));
                            assert!(m.kl_to_ref >= -1e-12 && m.kl_to_optimal >= -1e-12);
                        }
                    }
                    Err(e) => assert!(matches!(e, Error::Diverged { .. }), "{e}"),
                }
            }
        }
    }
}

#[test]
fn exact_rlhf_with_a_tabular_reward_model_converges_to_pi_star() {
    let s = load("optimal-policy", Overrides::default());
    let out = train(&s.run_config(MethodKind::Rlhf), |_, _| {}).expect("trains");
    assert!(
        out.final_metrics.kl_to_optimal < CONVERGED_KL,
        "{}",
        out.final_metrics.kl_to_optimal
    );
    let keys = metric_keys(&out.final_metrics);
    assert!(keys.contains(&"objective/scores".to_string()));
}

#[test]
fn ppo_rlhf_approaches_pi_star_and_reports_its_metrics() {
    let s = load(
        "optimal-policy",
        Overrides {
            rlhf_optimizer: Some(dpo_lab::train::RlhfOptimizerName::Ppo),
            lr: Some(0.3),
            ..Default::default()
        },
    );
    let out = train(&s.run_config(MethodKind::Rlhf), |_, _| {}).expect("trains");
    assert!(
        out.final_metrics.kl_to_optimal < 1e-2,
        "{}",
        out.final_metrics.kl_to_optimal
    );
    let keys = metric_keys(&out.final_metrics);
    for k in ["objective/scores", "objective/kl", "policy/clipfrac"] {
        assert!(keys.contains(&k.to_string()), "{k}");
    }
    // Same seed, same bits.
    let again = train(&s.run_config(MethodKind::Rlhf), |_, _| {}).expect("trains");
    assert_eq!(bits(&out), bits(&again));
}

#[test]
fn ppo_with_a_large_step_clips() {
    let s = load(
        "optimal-policy",
        Overrides {
            rlhf_optimizer: Some(dpo_lab::train::RlhfOptimizerName::Ppo),
            lr: Some(5.0),
            steps: Some(40),
            log_every: Some(1),
            ..Default::default()
        },
    );
    let out = train(&s.run_config(MethodKind::Rlhf), |_, _| {}).expect("trains");
    let clipped = out
        .history
        .iter()
        .map(|(_, m)| {
            m.extra
                .iter()
                .find(|(k, _)| k == "policy/clipfrac")
                .expect("logged")
                .1
        })
        .fold(0.0, f64::max);
    assert!(clipped > 0.0, "the clip range must bite at lr 5");
}

#[test]
fn online_dpo_can_be_judged_by_the_reward_model() {
    let s = load(
        "length-bias",
        Overrides {
            annotator: Some(dpo_lab::method::Annotator::RewardModel),
            ..Default::default()
        },
    );
    let rm = train(&s.run_config(MethodKind::OnlineDpo), |_, _| {}).expect("trains");
    let s_bt = load("length-bias", Overrides::default());
    let bt = train(&s_bt.run_config(MethodKind::OnlineDpo), |_, _| {}).expect("trains");
    assert!(rm.reward_model.is_some());
    // The biased judge makes online DPO pad its answers; the true one does not.
    let (l_rm, l_bt) = (
        rm.final_metrics.mean_length.expect("seq"),
        bt.final_metrics.mean_length.expect("seq"),
    );
    assert!(l_rm > l_bt + 1.0, "{l_rm} vs {l_bt}");
}

const TWO_PROMPTS: &str = r#"
name = "two-prompts"
[space]
responses = ["A", "B", "C"]
[reference]
probs = [0.5, 0.3, 0.2]
[reward]
values = [1.0, 0.0, -1.0]
[train]
beta = 1.0
lr = 10.0
steps = 2000
[[prompts]]
name = "second"
reference = { probs = [0.2, 0.3, 0.5] }
reward = { values = [-1.0, 2.0, 0.0] }
"#;

#[test]
fn every_prompt_trains_to_its_own_optimum_and_metrics_average() {
    let raw = dpo_lab::scenario::RawScenario::parse(TWO_PROMPTS, "two.toml").expect("parses");
    let s = Scenario::check(raw).expect("valid");
    assert_eq!(s.prompts.len(), 2);
    assert_eq!(s.prompts[1].name, "second");
    let out = dpo_lab::train::train_prompts(&s.run_configs(MethodKind::Dpo)).expect("trains");
    for (p, o) in s.prompts.iter().zip(&out.prompts) {
        let opt = dpo_lab::optimal::optimum(&p.problem.log_ref, &p.problem.reward, 1.0);
        let kl = dpo_lab::numerics::kl_from_logs(&o.final_log_probs, &opt.log_policy);
        assert!(kl < CONVERGED_KL, "{}: {kl}", p.name);
    }
    let mean = (out.prompts[0].final_metrics.expected_reward
        + out.prompts[1].final_metrics.expected_reward)
        / 2.0;
    assert_abs_diff_eq!(out.final_metrics.expected_reward, mean, epsilon = ULPS_ABS);
}

#[test]
fn a_bad_prompt_names_its_index() {
    let text = TWO_PROMPTS.replace("[0.2, 0.3, 0.5]", "[0.2, 0.3, 0.6]");
    let raw = dpo_lab::scenario::RawScenario::parse(&text, "two.toml").expect("parses");
    let err = Scenario::check(raw).expect_err("bad sum").to_string();
    assert!(err.starts_with("prompts[0].reference.probs"), "{err}");
}

#[test]
fn sweep_frontier_averages_every_prompt() {
    // `sweep --json` built `optimal_frontier` from the first prompt only.
    let raw = dpo_lab::scenario::RawScenario::parse(TWO_PROMPTS, "two.toml").expect("parses");
    let s = Scenario::check(raw).expect("valid");
    let betas = [0.3, 1.0, 3.0];
    let curve = dpo_lab::sweep::optimal_frontier(&s, &betas);
    for (pt, &beta) in curve.iter().zip(&betas) {
        let each: Vec<_> = s
            .prompts
            .iter()
            .map(|p| dpo_lab::optimal::frontier(&p.problem.log_ref, &p.problem.reward, &[beta])[0])
            .collect();
        let mean_r = (each[0].expected_reward + each[1].expected_reward) / 2.0;
        let mean_kl = (each[0].kl_to_ref + each[1].kl_to_ref) / 2.0;
        assert!(
            (pt.expected_reward - mean_r).abs() < ROUNDING_ABS,
            "β {beta}"
        );
        assert!((pt.kl_to_ref - mean_kl).abs() < ROUNDING_ABS, "β {beta}");
        // … and the two prompts really differ, so the first alone is wrong.
        assert!((each[0].expected_reward - each[1].expected_reward).abs() > 0.1);
    }
}

#[test]
fn ipo_steps_do_not_scale_with_beta_online_either() {
    // `--method online-dpo --loss ipo` scaled lr with β² although IPO's step does not.
    use dpo_lab::loss::PairLoss;
    use dpo_lab::sweep::step_scales_with_beta;
    assert!(!step_scales_with_beta(MethodKind::OnlineDpo, PairLoss::Ipo));
    assert!(!step_scales_with_beta(MethodKind::Dpo, PairLoss::Ipo));
    assert!(!step_scales_with_beta(MethodKind::Ipo, PairLoss::Dpo));
    assert!(step_scales_with_beta(MethodKind::OnlineDpo, PairLoss::Dpo));
}

/// `[policy] shared = true`: one step moves the shared θ by the mean of
/// the steps each prompt would take alone, so every prompt's policy moves
/// when any prompt trains; a non-log-linear policy cannot share.
#[test]
fn shared_parameters_step_along_the_mean_of_the_prompts_gradients() {
    let shared = load(
        "rlvr-pass-at-k",
        Overrides {
            steps: Some(1),
            ..Overrides::default()
        },
    );
    let out = dpo_lab::train::train_prompts(&shared.run_configs(MethodKind::Grpo)).expect("trains");
    let mut raw = dpo_lab::scenario::load_raw("rlvr-pass-at-k").expect("built in");
    raw.policy.shared = Some(false);
    raw.train.steps = Some(1);
    let alone = dpo_lab::scenario::Scenario::check(raw).expect("checks");
    let n = alone.prompts.len() as f64;
    let mut mean = [0.0; 5];
    for cfg in alone.run_configs(MethodKind::Grpo) {
        let mut run = dpo_lab::train::Run::new(&cfg).expect("run");
        run.step().expect("steps");
        for (m, t) in mean.iter_mut().zip(run.policy().params()) {
            *m += t / n;
        }
    }
    for (k, o) in out.prompts.iter().enumerate() {
        // θ = 0 at π_ref, so log π − log π_ref = θ_y − log Σ π_ref e^θ.
        let p = &shared.prompts[k].problem;
        let z: f64 = (0..5)
            .map(|y| (p.log_ref[y] + mean[y]).exp())
            .sum::<f64>()
            .ln();
        for (y, (theta, got)) in mean.iter().zip(&o.final_log_probs).enumerate() {
            let want = p.log_ref[y] + theta - z;
            assert!(
                (got - want).abs() < 1e-12,
                "prompt {k}, answer {y}: {got} vs {want}"
            );
        }
    }
    let mut raw = dpo_lab::scenario::load_raw("grpo-difficulty").expect("built in");
    raw.policy.shared = Some(true);
    let e = dpo_lab::scenario::Scenario::check(raw).expect_err("tabular cannot share");
    assert!(e.to_string().starts_with("policy.shared"), "{e}");
}
