//! Reward models fit by Bradley–Terry likelihood (docs/maths.md §2), and the
//! length-bias lesson they make possible.

mod common;

use std::sync::Arc;

use dpo_lab::data::{DataSpec, PairData};
use dpo_lab::method::MethodKind;
use dpo_lab::problem::Problem;
use dpo_lab::reference::{ReferenceSpec, build_log_reference};
use dpo_lab::reward::{RewardSpec, build_reward};
use dpo_lab::reward_model::{FitSettings, RewardModel, RewardModelKind};
use dpo_lab::scenario::{Overrides, Scenario};
use dpo_lab::space::ResponseSpace;
use dpo_lab::train::train;
use proptest::prelude::*;

proptest! {
    #![proptest_config(common::config(12))]

    /// Population data with full coverage: the tabular model recovers the
    /// true reward up to one constant.
    #[test]
    fn tabular_reward_model_recovers_the_reward_up_to_a_constant(seed in 0u64..10_000, n in 3usize..8) {
        let space = ResponseSpace::generated(n as u64).expect("ok");
        let lr = build_log_reference(&space, &ReferenceSpec::Dirichlet { alpha: 3.0, seed }).expect("ok");
        let r = build_reward(&space, &RewardSpec::Gaussian { mean: 0.0, std: 1.0, seed: seed ^ 0xabc }).expect("ok");
        let problem = Arc::new(Problem::new(space, lr, r).expect("ok"));
        // Uniform sampler: full coverage, well conditioned.
        let data = PairData::build(&problem, &DataSpec::Population { sampler: Some(vec![1.0; n]) }, &problem.reward).expect("ok");
        let rm = RewardModel::fit(&problem, &data, &RewardModelKind::Tabular, FitSettings { steps: 20_000, lr: 2.0 * n as f64, l2: 0.0 }).expect("fits");
        let shift = rm.values()[0] - problem.reward[0];
        for (v, t) in rm.values().iter().zip(&problem.reward) {
            prop_assert!((v - t - shift).abs() < 1e-6, "{} vs {} + {shift}", v, t);
        }
        // The loss only falls.
        let losses: Vec<f64> = rm.history.iter().map(|m| m.loss).collect();
        prop_assert!(losses.windows(2).all(|w| w[1] <= w[0] + 1e-15));
    }
}

#[test]
fn deterministic_pairs_need_l2_to_stay_finite_and_it_works() {
    let s = Scenario::load("deterministic-preferences", &Overrides::default()).expect("ok");
    let rm = RewardModel::fit(
        &s.problem,
        &s.data,
        &RewardModelKind::Tabular,
        FitSettings {
            steps: 5000,
            lr: 1.0,
            l2: 0.01,
        },
    )
    .expect("fits");
    let m = rm.final_metrics();
    assert_eq!(m.accuracy, 1.0);
    assert!(m.margin.is_finite() && m.margin > 0.0);
    // The unseen response keeps its starting value.
    assert_eq!(rm.values()[2], 0.0);
}

#[test]
fn length_bias_reward_model_learns_the_bonus_and_rlhf_pads() {
    let s = Scenario::load("length-bias", &Overrides::default()).expect("ok");
    let rlhf = train(&s.run_config(MethodKind::Rlhf), |_, _| {}).expect("trains");
    let opt = train(&s.run_config(MethodKind::Optimal), |_, _| {}).expect("ok");
    let dpo = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");

    // The reward model's error grows with length at the annotator's rate.
    let rm = rlhf
        .reward_model
        .as_ref()
        .expect("rlhf fits a reward model");
    let p = &s.problem;
    let (mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0);
    let n = p.len() as f64;
    for y in 0..p.len() {
        let x = p.space.length(y) as f64;
        let e = rm.values()[y] - p.reward[y];
        sx += x;
        sy += e;
        sxx += x * x;
        sxy += x * e;
    }
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    assert!(
        (slope - s.length_bonus).abs() < 0.1,
        "learned bias per token {slope}, annotator's {}",
        s.length_bonus
    );

    let ref_len = rlhf.history[0].1.mean_length.expect("sequences");
    let len = rlhf.final_metrics.mean_length.expect("sequences");
    assert!(
        len >= 1.3 * ref_len,
        "RLHF mean length {len} vs reference {ref_len}"
    );
    assert!(rlhf.final_metrics.expected_reward < opt.final_metrics.expected_reward);
    // DPO on the same labels is shown beside it; it fits the same bias.
    assert!(dpo.final_metrics.mean_length.expect("sequences") > ref_len);
}
