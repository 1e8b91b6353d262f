//! Best-of-n: the closed form against brute-force enumeration of every
//! n-tuple of draws, its KL against the quoted bound, its win rate against
//! n/(n+1), and its reward against the π* frontier at the same KL.

mod common;

use common::{assert_close, config, log_reference};
use dpo_lab::best_of_n::{best_of_n, frontier_reward_at_kl, kl_bound};
use dpo_lab::tolerance::ULPS_ABS;
use dpo_lab::tolerance::{BEST_OF_N_ABS, IDENTITY_ABS, IDENTITY_REL};
use proptest::prelude::*;

/// The best of `n` draws, by enumerating all `len^n` tuples; ties between
/// drawn copies are broken uniformly.
fn brute_force(probs: &[f64], reward: &[f64], n: u32) -> Vec<f64> {
    let len = probs.len();
    let mut out = vec![0.0; len];
    for code in 0..len.pow(n) {
        let mut draws = Vec::with_capacity(n as usize);
        let mut c = code;
        for _ in 0..n {
            draws.push(c % len);
            c /= len;
        }
        let p: f64 = draws.iter().map(|&i| probs[i]).product();
        if p == 0.0 {
            continue;
        }
        let best = draws
            .iter()
            .map(|&i| reward[i])
            .fold(f64::NEG_INFINITY, f64::max);
        let winners: Vec<usize> = draws
            .iter()
            .copied()
            .filter(|&i| reward[i] == best)
            .collect();
        for &i in &winners {
            out[i] += p / winners.len() as f64;
        }
    }
    out
}

/// Rewards from a small set of levels, so that ties are common.
fn tied_rewards(len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((-2i32..3).prop_map(|k| k as f64 * 0.5), len)
}

fn small_case() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, u32)> {
    log_reference()
        .prop_filter("at most 5 responses for enumeration", |l| l.len() <= 5)
        .prop_flat_map(|l| {
            let len = l.len();
            (Just(l), tied_rewards(len), 1u32..5)
        })
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn closed_form_matches_enumeration((log_ref, reward, n) in small_case()) {
        let probs: Vec<f64> = log_ref.iter().map(|l| l.exp()).collect();
        let exact = best_of_n(&log_ref, &reward, n as u64);
        let oracle = brute_force(&probs, &reward, n);
        for (i, (lp, o)) in exact.log_policy.iter().zip(&oracle).enumerate() {
            prop_assert!((lp.exp() - o).abs() <= BEST_OF_N_ABS, "response {i}: {} vs {o}", lp.exp());
        }
        let er: f64 = oracle.iter().zip(&reward).map(|(p, r)| p * r).sum();
        prop_assert!((exact.expected_reward - er).abs() <= BEST_OF_N_ABS);
        let win: f64 = (0..probs.len()).flat_map(|i| (0..probs.len()).map(move |j| (i, j)))
            .map(|(i, j)| oracle[i] * probs[j] * if reward[i] > reward[j] { 1.0 } else if reward[i] == reward[j] { 0.5 } else { 0.0 })
            .sum();
        prop_assert!((exact.win_rate - win).abs() <= BEST_OF_N_ABS);
    }

    #[test]
    fn kl_and_win_rate_stay_within_their_bounds(
        (log_ref, reward) in common::reference_and_reward(),
        n in prop_oneof![1u64..100, 100u64..1_000_000],
    ) {
        let b = best_of_n(&log_ref, &reward, n);
        let total: f64 = b.log_policy.iter().map(|l| l.exp()).sum();
        assert_close(total, 1.0, IDENTITY_REL, IDENTITY_ABS, "Σ π_BoN");
        prop_assert!(b.kl <= kl_bound(n) + IDENTITY_ABS, "KL {} > bound {}", b.kl, kl_bound(n));
        let nf = n as f64;
        prop_assert!(b.win_rate <= nf / (nf + 1.0) + IDENTITY_ABS, "win {} > n/(n+1)", b.win_rate);
        // π* is on the reward–KL frontier: best-of-n is at most as good at its KL.
        let frontier = frontier_reward_at_kl(&log_ref, &reward, b.kl);
        prop_assert!(frontier >= b.expected_reward - 1e-7, "frontier {frontier} < best-of-n {}", b.expected_reward);
    }
}

/// The example: the bound is not the KL. Two equally likely answers,
/// n = 64: best-of-n is (almost) the better answer, KL = log 2, while the
/// formula says 3.17.
#[test]
fn the_quoted_kl_is_only_a_bound() {
    let log_ref = [0.5f64.ln(), 0.5f64.ln()];
    let b = best_of_n(&log_ref, &[0.0, 1.0], 64);
    assert_close(b.kl, 2f64.ln(), 1e-12, 1e-12, "KL at n = 64");
    assert!(kl_bound(64) > 3.17 && kl_bound(64) < 3.18);
    // The win rate is P(better) + ½·P(tie) = ½ + ½·½.
    assert_close(b.win_rate, 0.75, 1e-12, 1e-12, "win rate");
}

/// n = 1 is the reference itself, whatever the rewards.
#[test]
fn one_draw_is_the_reference() {
    let log_ref: Vec<f64> = [0.2f64, 0.0, 0.5, 0.3].iter().map(|p| p.ln()).collect();
    let reward = [1.0, 3.0, -1.0, 1.0];
    let b = best_of_n(&log_ref, &reward, 1);
    for (a, r) in b.log_policy.iter().zip(&log_ref) {
        if *r == f64::NEG_INFINITY {
            assert_eq!(*a, f64::NEG_INFINITY);
        } else {
            assert_close(*a, *r, 1e-12, 1e-12, "log π_BoN at n = 1");
        }
    }
    assert!(b.kl.abs() <= ULPS_ABS);
}

/// Tied top answers share best-of-n's mass in proportion to π_ref, however
/// large n is.
#[test]
fn tied_answers_share_in_proportion_to_the_reference() {
    let log_ref: Vec<f64> = [0.1f64, 0.3, 0.6].iter().map(|p| p.ln()).collect();
    let b = best_of_n(&log_ref, &[2.0, 2.0, 0.0], 1_000);
    assert_close(b.log_policy[0].exp(), 0.25, 1e-12, 1e-12, "π(A)");
    assert_close(b.log_policy[1].exp(), 0.75, 1e-12, 1e-12, "π(B)");
}
