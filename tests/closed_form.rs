//! docs/maths.md §1 as properties: π* is the unique maximiser of the
//! KL-regularised objective, with every identity the derivation promises.

mod common;

use approx::assert_abs_diff_eq;
use common::*;
use dpo_lab::numerics::kl_from_logs;
use dpo_lab::optimal::{
    expectation, objective, optimum, recovered_reward, stationarity_multipliers,
};
use dpo_lab::tolerance::ROUNDING_ABS;
use dpo_lab::tolerance::{IDENTITY_ABS, IDENTITY_REL};
use proptest::prelude::*;

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn optimum_is_a_distribution_with_the_reference_support(
        (lr, r) in reference_and_reward(), beta in beta()
    ) {
        let opt = optimum(&lr, &r, beta);
        let sum: f64 = opt.log_policy.iter().map(|l| l.exp()).sum();
        assert_close(sum, 1.0, 1e-12, 0.0, "Σπ*");
        prop_assert!(opt.log_partition.is_finite());
        for (lp, lref) in opt.log_policy.iter().zip(&lr) {
            prop_assert!(!lp.is_nan());
            // Zero exactly where π_ref is zero (positive entries may still
            // underflow at tiny β, but never become NaN).
            if *lref == f64::NEG_INFINITY {
                prop_assert_eq!(*lp, f64::NEG_INFINITY);
            }
        }
    }

    #[test]
    fn stationarity_holds_with_one_multiplier((lr, r) in reference_and_reward(), beta in beta()) {
        let opt = optimum(&lr, &r, beta);
        let lambdas = stationarity_multipliers(&opt, &lr, &r);
        let scale = r.iter().fold(beta, |m, x| m.max(x.abs()));
        for l in &lambdas {
            // λ = β − β log Z for every response in the support.
            let expected = beta - beta * opt.log_partition;
            assert_close(*l, expected, IDENTITY_REL, IDENTITY_ABS * scale, "λ");
        }
    }

    #[test]
    fn value_is_beta_log_z((lr, r) in reference_and_reward(), beta in beta()) {
        let opt = optimum(&lr, &r, beta);
        let j = objective(&opt.log_policy, &lr, &r, beta);
        let scale = r.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        assert_close(j, beta * opt.log_partition, IDENTITY_REL, IDENTITY_ABS * scale, "J(π*)");
    }

    #[test]
    fn gap_identity_for_any_policy(
        (lr, r) in reference_and_reward(),
        raw in prop::collection::vec(-6.0f64..2.0, 12),
        beta in moderate_beta(),
    ) {
        let opt = optimum(&lr, &r, beta);
        let pi = policy_within(&lr, &raw[..lr.len()]);
        let gap = objective(&opt.log_policy, &lr, &r, beta) - objective(&pi, &lr, &r, beta);
        let kl = kl_from_logs(&pi, &opt.log_policy);
        prop_assert!(gap >= -1e-9);
        let scale = r.iter().fold(1.0f64, |m, x| m.max(x.abs())) / beta.min(1.0);
        assert_close(gap, beta * kl, 1e-8, 1e-10 * scale, "J(π*) − J(π) = β KL(π‖π*)");
    }

    #[test]
    fn reward_is_recovered_up_to_beta_log_z((lr, r) in reference_and_reward(), beta in beta()) {
        let opt = optimum(&lr, &r, beta);
        let rec = recovered_reward(&opt, &lr);
        for (i, x) in rec.iter().enumerate() {
            match x {
                None => prop_assert_eq!(lr[i], f64::NEG_INFINITY),
                Some(v) => {
                    // Underflowed π* (tiny β, low reward) cannot recover r.
                    if opt.log_policy[i] > f64::NEG_INFINITY {
                        assert_close(*v, r[i], 1e-9, 1e-9 * (1.0 + beta * opt.log_partition.abs()), "recovered r");
                    }
                }
            }
        }
    }

    #[test]
    fn shifting_the_reward_changes_only_log_z(
        (lr, r) in reference_and_reward(), beta in moderate_beta(), c in -10.0f64..10.0
    ) {
        let a = optimum(&lr, &r, beta);
        let shifted: Vec<f64> = r.iter().map(|x| x + c).collect();
        let b = optimum(&lr, &shifted, beta);
        for (x, y) in a.log_policy.iter().zip(&b.log_policy) {
            if x.is_finite() {
                assert_close(*x, *y, 1e-9, 1e-9, "log π*");
            }
        }
        assert_close(b.log_partition - a.log_partition, c / beta, 1e-9, 1e-9, "log Z shift");
    }

    #[test]
    fn tied_rewards_keep_their_reference_ratio((lr, mut r) in reference_and_reward(), beta in beta()) {
        // Make responses 0 and 1 tie.
        r[1] = r[0];
        let opt = optimum(&lr, &r, beta);
        if lr[0].is_finite() && lr[1].is_finite() && opt.log_policy[0].is_finite() {
            assert_close(opt.log_policy[0] - opt.log_policy[1], lr[0] - lr[1], 1e-9, 1e-9, "tie ratio");
        }
    }
}

#[test]
fn large_beta_gives_the_reference() {
    let lr: Vec<f64> = [0.5f64, 0.3, 0.2].iter().map(|x| x.ln()).collect();
    let opt = optimum(&lr, &[1.0, -2.0, 3.0], 1e8);
    for (a, b) in opt.log_policy.iter().zip(&lr) {
        assert!((a.exp() - b.exp()).abs() < 1e-7);
    }
}

#[test]
fn small_beta_splits_the_argmax_by_reference_ratio() {
    // Responses 1 and 3 tie for the best reward; response 4 has π_ref = 0
    // and a higher reward that must not count.
    let p = [0.4f64, 0.1, 0.2, 0.3, 0.0];
    let lr: Vec<f64> = p.iter().map(|x| x.ln()).collect();
    let r = [0.0, 2.0, 1.0, 2.0, 9.0];
    let opt = optimum(&lr, &r, 1e-4);
    let pi: Vec<f64> = opt.log_policy.iter().map(|l| l.exp()).collect();
    assert!((pi[1] - 0.25).abs() < ROUNDING_ABS, "{pi:?}");
    assert!((pi[3] - 0.75).abs() < ROUNDING_ABS, "{pi:?}");
    assert_eq!(pi[0], 0.0);
    assert_eq!(pi[4], 0.0);
    assert_abs_diff_eq!(
        expectation(&opt.log_policy, &r),
        2.0,
        epsilon = ROUNDING_ABS
    );
}

#[test]
fn extreme_beta_stays_finite() {
    let lr: Vec<f64> = [0.999_999, 1e-6].iter().map(|x: &f64| x.ln()).collect();
    for beta in [1e-4, 1e4] {
        let opt = optimum(&lr, &[-1000.0, 1000.0], beta);
        assert!(opt.log_partition.is_finite());
        let j = objective(&opt.log_policy, &lr, &[-1000.0, 1000.0], beta);
        assert!(j.is_finite());
        assert!((j - beta * opt.log_partition).abs() <= IDENTITY_ABS * j.abs().max(1.0));
    }
}

#[test]
fn tiny_beta_with_near_tied_rewards_sums_to_one() {
    // Σπ* was 1 + 2.8e-12: r/β ≈ 4e4 carried 1e-11 of rounding into log π*.
    let lr = [
        -1.8028644065939006,
        -3.1295577693189367,
        -4.001531954582399,
        -1.6346961107489544,
        -16.131908667641426,
        f64::NEG_INFINITY,
        -2.10022811916643,
        -1.473345761024173,
        -1.4847831350107534,
    ];
    let r = [
        4.083538033175042,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        4.086426900315341,
        0.0,
        0.0,
    ];
    let opt = optimum(&lr, &r, 0.00010386723325979477);
    let sum: f64 = opt.log_policy.iter().map(|l| l.exp()).sum();
    assert!((sum - 1.0).abs() < ROUNDING_ABS, "Σπ* = {sum}");
}

/// The helpers the app draws from (issue 10: the app holds no maths):
/// top-k is stable and ordered, the rest bar is what the shown bars leave,
/// the implicit reward is β·log(π/π_ref) and absent at a zero.
#[test]
fn app_helpers_by_hand() {
    use dpo_lab::metrics::{implicit_reward, rest_mass, top_k_by};
    let lp: Vec<f64> = [0.1f64, 0.4, 0.2, 0.2, 0.1]
        .iter()
        .map(|p| p.ln())
        .collect();
    assert_eq!(top_k_by(5, 3, |y| lp[y]), vec![1, 2, 3]);
    assert_eq!(top_k_by(5, 9, |y| lp[y]), vec![1, 2, 3, 0, 4]);
    assert_abs_diff_eq!(rest_mass(&lp, &[1, 2]), 0.4, epsilon = ROUNDING_ABS);
    let r = implicit_reward(0.5, 0.2f64.ln(), 0.1f64.ln()).expect("both positive");
    approx::assert_abs_diff_eq!(r, 0.5 * 2f64.ln(), epsilon = 1e-15);
    assert_eq!(implicit_reward(0.5, f64::NEG_INFINITY, 0.1f64.ln()), None);
}
