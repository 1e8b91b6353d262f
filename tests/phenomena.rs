//! The lessons beyond the lecture's first half — IPO's margin, a large
//! space, likelihood displacement, best-of-n, squeezing, over-optimisation,
//! negative chosen rewards — each claim checked over the grid as in
//! `lessons.rs` (seeds, β and step factors from the environment).

use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{Overrides, Scenario};
use dpo_lab::tolerance::CONVERGED_KL;
use dpo_lab::tolerance::{IDENTITY_ABS, ROUNDING_ABS};
use dpo_lab::train::{Run, train};

#[path = "support/grid.rs"]
mod grid;
use grid::*;

#[test]
fn deterministic_preferences_dpo_keeps_falling_ipo_stops_at_its_margin() {
    let name = "deterministic-preferences";
    // Long runs, where the gradient has become small: still "not
    // converged", naming the minimum at infinity (it vanishes like 1/steps).
    for (beta, steps) in [(0.5, 25_000), (1.0, 10_000), (0.1, 40_000)] {
        let o = Overrides {
            beta: Some(beta),
            lr: Some(
                Scenario::load(name, &Overrides::default())
                    .expect("loads")
                    .train
                    .lr()
                    * (0.5f64 / beta).powi(2),
            ),
            steps: Some(steps),
            log_every: Some(0),
            ..Default::default()
        };
        let s = Scenario::load(name, &o).expect("loads");
        let out = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");
        assert!(
            out.warnings.iter().any(|w| w.starts_with("not converged")),
            "β {beta}, {steps} steps: {:?}",
            out.warnings
        );
    }
    let mut last_ipo_b = 0.0;
    // β 0.05 … 2 (the file's 0.5 times 0.1 … 4): a superset of the grid.
    for beta in [0.1, 0.2, 0.5, 1.0, 2.0, 4.0] {
        let mut dpo_b = Vec::new();
        for steps in step_factors() {
            let p = Point {
                seed: 0,
                beta,
                steps,
            };
            let (s, dpo) = train_at(name, MethodKind::Dpo, p, &Overrides::default());
            let b = prob(&s, &dpo, "B");
            dpo_b.push(b);
            assert!(
                !dpo.warnings.is_empty(),
                "β {}: DPO reported convergence",
                s.train.beta()
            );
            // Approached from below; at small β reached to rounding.
            assert!(dpo.final_metrics.kl_to_ref <= (1.0f64 / 0.4).ln() + 1e-12);
            let (s, ipo) = train_at(name, MethodKind::Ipo, p, &Overrides::default());
            let h = |n: &str| ipo.final_log_probs[index(&s, n)] - s.problem.log_ref[index(&s, n)];
            let margin = h("A") - h("B");
            let target = 1.0 / (2.0 * s.train.beta());
            assert!(
                (margin - target).abs() < IDENTITY_ABS * target.max(1.0),
                "β {}: IPO margin {margin} vs {target}",
                s.train.beta()
            );
            if steps == 1.0 {
                let b = prob(&s, &ipo, "B");
                assert!(b > last_ipo_b, "IPO π(B) grows with β");
                last_ipo_b = b;
            }
        }
        assert!(
            dpo_b.windows(2).all(|w| w[0] > w[1]),
            "β ×{beta}: DPO π(B) {dpo_b:?} over step factors {:?}",
            step_factors()
        );
    }
}

#[test]
fn large_space_no_method_nears_pi_star_and_online_dpo_collapses() {
    let name = "large-space";
    // Deterministic: offline DPO.
    check_grid(name, &grid(false), |p| {
        let (s, off) = train_at(name, MethodKind::Dpo, p, &Overrides::default());
        let kl = off.final_metrics.kl_to_optimal;
        ensure(kl > 2.0, || format!("offline: KL(π‖π*) = {kl}"))?;
        // Offline DPO's out-of-data answers keep their reference ratios:
        // their logits never move.
        let h: Vec<f64> = (0..s.problem.len())
            .filter(|&i| !s.data.in_data[i])
            .map(|i| off.final_log_probs[i] - s.problem.log_ref[i])
            .collect();
        let spread = h.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - h.iter().copied().fold(f64::INFINITY, f64::min);
        ensure(spread < 1e-9, || {
            format!("offline OOD log-ratios spread {spread}")
        })
    });
    // Online DPO's sampling decides when it collapses: rates.
    let points = grid(true);
    let online = |p: Point| train_at(name, MethodKind::OnlineDpo, p, &Overrides::default()).1;
    check_grid(name, &points, |p| {
        // Far from π* at every seed (a single answer cannot be close).
        let kl = online(p).final_metrics.kl_to_optimal;
        ensure(kl > 2.0, || format!("online: KL(π‖π*) = {kl}"))
    });
    check_rate(name, 0.9, &points, |p| {
        let top = max_prob(&online(p));
        ensure(!(0.01..0.45).contains(&top), || {
            format!("online max π {top}: neither still nor collapsing")
        })?;
        if p.beta <= 1.0 && p.steps >= 1.0 {
            ensure(top > 0.95, || format!("online max π {top}: not collapsed"))?;
        }
        Ok(())
    });
}

#[test]
fn likelihood_displacement_both_fall_and_the_opposite_answer_takes_the_mass() {
    let name = "likelihood-displacement";
    let points: Vec<Point> = grid(false);
    check_grid(name, &points, |p| {
        let s0 = Scenario::load(name, &Overrides::default()).expect("loads");
        let start = reference(&s0, "No").ln();
        let mut history = Vec::new();
        let s = at(
            name,
            MethodKind::Dpo,
            p,
            &Overrides {
                log_every: Some(1),
                ..Overrides::default()
            },
        );
        let mut cfg = s.run_config(MethodKind::Dpo);
        cfg.train = cfg.train.clone().with_log_every(1);
        let out = train(&cfg, |k, m| history.push((k, m.clone()))).map_err(|e| e.to_string())?;
        let fin = &out.final_metrics;
        // Unalignment (Razin et al.): the expected true reward falls.
        let first = history
            .first()
            .map(|h| h.1.expected_reward)
            .ok_or("no history")?;
        ensure(fin.expected_reward < first, || {
            format!("E r {} from {first}", fin.expected_reward)
        })?;
        ensure(
            fin.logps_chosen < start && fin.logps_rejected < start,
            || {
                format!(
                    "logps chosen {} rejected {} vs start {start}",
                    fin.logps_chosen, fin.logps_rejected
                )
            },
        )?;
        ensure(
            history
                .windows(2)
                .all(|w| w[1].1.loss <= w[0].1.loss + 1e-12),
            || "the loss rose".into(),
        )?;
        ensure(
            history
                .windows(2)
                .all(|w| w[1].1.rewards_margins >= w[0].1.rewards_margins - 1e-12),
            || "the margin fell".into(),
        )?;
        ensure(fin.rewards_chosen < 0.0, || {
            format!("rewards/chosen {}", fin.rewards_chosen)
        })?;
        ensure(prob(&s, &out, "Yes") > 0.5, || {
            format!("π(Yes) = {}", prob(&s, &out, "Yes"))
        })?;
        for loss_name in ["dpop", "rpo"] {
            let loss = loss_name.parse().expect("a loss");
            let extra = Overrides {
                loss: Some(loss),
                ..Overrides::default()
            };
            let (s2, o2) = train_at(name, MethodKind::Dpo, p, &extra);
            ensure(prob(&s2, &o2, "No") > 0.25, || {
                format!("{loss_name}: π(No) = {}", prob(&s2, &o2, "No"))
            })?;
            // DPOP's λ = 50 overshoots: past the claim's 400 steps π(Yes)
            // swings back up (checked below), so its bound holds there.
            if loss_name == "rpo" || p.steps <= 2.0 {
                ensure(prob(&s2, &o2, "Yes") < 0.3, || {
                    format!("{loss_name}: π(Yes) = {}", prob(&s2, &o2, "Yes"))
                })?;
            }
        }
        Ok(())
    });
    // The text's caveat: at 1,000 steps (β 0.1) DPOP's π(Yes) is back above
    // 0.3 while its π(No) stays above the reference.
    let long = Overrides {
        loss: Some(dpo_lab::loss::LossName::Dpop),
        steps: Some(1000),
        log_every: Some(0),
        ..Overrides::default()
    };
    let s = Scenario::load(name, &long).expect("loads");
    let out = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");
    assert!(
        prob(&s, &out, "Yes") > 0.3,
        "π(Yes) {}",
        prob(&s, &out, "Yes")
    );
    assert!(
        prob(&s, &out, "No") > 0.25,
        "π(No) {}",
        prob(&s, &out, "No")
    );
}

#[test]
fn best_of_n_kl_is_only_bounded_and_its_reward_sits_under_the_frontier() {
    use dpo_lab::best_of_n::{best_of_n, frontier_reward_at_kl, kl_bound};
    let s = Scenario::load("best-of-n", &Overrides::default()).expect("loads");
    let p = &s.problem;
    let best = (0..p.len())
        .max_by(|&a, &b| p.reward[a].total_cmp(&p.reward[b]))
        .expect("answers");
    let ceiling = -p.log_ref[best];
    // The text quotes the ceiling and the bound at n = 1024: computed here.
    let raw = dpo_lab::scenario::builtins()
        .into_iter()
        .find(|r| r.name == "best-of-n")
        .expect("built in");
    for (what, v) in [("ceiling", ceiling), ("bound at 1024", kl_bound(1024))] {
        let shown = format!("{v:.2}");
        assert!(
            raw.description.contains(&shown),
            "the text should quote the {what} {shown}"
        );
    }
    for k in 0..=10 {
        let n = 1u64 << k;
        let b = best_of_n(&p.log_ref, &p.reward, n);
        assert!(
            b.kl <= kl_bound(n) + 1e-12,
            "n {n}: KL {} > bound {}",
            b.kl,
            kl_bound(n)
        );
        assert!(b.kl <= ceiling + 1e-12);
        if n <= 16 {
            assert!(
                kl_bound(n) - b.kl < 0.04,
                "n {n}: gap {}",
                kl_bound(n) - b.kl
            );
        }
        let frontier = frontier_reward_at_kl(&p.log_ref, &p.reward, b.kl);
        assert!(
            b.expected_reward <= frontier + 1e-9,
            "n {n}: above the frontier"
        );
        assert!(
            frontier - b.expected_reward < 0.035,
            "n {n}: {} below the frontier",
            frontier - b.expected_reward
        );
    }
    // Saturated at n = 1024: all mass on the best answer.
    let b = best_of_n(&p.log_ref, &p.reward, 1024);
    assert!((b.kl - ceiling).abs() < 0.005, "KL {} vs {ceiling}", b.kl);
}

#[test]
fn squeezing_the_rejected_term_alone_feeds_the_arg_max() {
    use dpo_lab::derivation::squeeze;
    use dpo_lab::policy::{Policy, PolicyKind};
    use dpo_lab::problem::Problem;
    let s = Scenario::load("squeezing", &Overrides::default()).expect("loads");
    let (w, l) = (index(&s, "third"), index(&s, "rare"));
    let top = index(&s, "top");
    let mut last_share = 0.0;
    // Flattened, as given, sharpened: π_ref^0.5, π_ref, π_ref^2 (renormalised).
    for power in [0.5, 1.0, 2.0] {
        let mut lr: Vec<f64> = s.problem.log_ref.iter().map(|x| x * power).collect();
        dpo_lab::numerics::log_normalize(&mut lr);
        let problem =
            Problem::new(s.problem.space.clone(), lr, s.problem.reward.clone()).expect("problem");
        let policy = Policy::new(&PolicyKind::Tabular, &problem).expect("policy");
        let sq = squeeze(&policy, w, l, s.train.beta(), 1.0);
        let others: f64 = (0..problem.len())
            .filter(|&y| y != top && y != l)
            .map(|y| sq.rejected_only[y])
            .sum();
        assert!(
            sq.rejected_only[top] > others,
            "power {power}: top {} vs the rest {others}",
            sq.rejected_only[top]
        );
        let share = sq.rejected_only[top] / -sq.rejected_only[l];
        assert!(
            share > last_share,
            "power {power}: share {share} after {last_share}"
        );
        last_share = share;
        // The paired step: the other answers' ratios stay the reference's.
        let p0: Vec<f64> = problem.log_ref.iter().map(|x| x.exp()).collect();
        let after = |y: usize| p0[y] + sq.paired[y];
        let others = [top, index(&s, "second"), index(&s, "fourth")];
        for pair in others.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(
                (after(a) / after(b) - p0[a] / p0[b]).abs() < ROUNDING_ABS,
                "ratio {a}/{b} moved"
            );
        }
    }
}

#[test]
fn over_optimisation_proxy_rises_gold_peaks_and_more_pairs_move_the_peak() {
    use dpo_lab::overoptimisation::{Curve, over_optimisation};
    use rayon::prelude::*;
    // Ten draw sets of 8 data draws each, RLHF at β 0.05 and 0.1.
    let points: Vec<(u64, f64)> = (0..10u64)
        .flat_map(|k| [0.05, 0.1].map(|b| (8 * k, b)))
        .collect();
    // Per point: its failures, and whether best-of-n's and RLHF's peaks
    // moved later from 30 to 3000 pairs (a rate over draw sets).
    let results: Vec<(Vec<String>, bool, Option<bool>)> = points
        .par_iter()
        .map(|&(seed, beta)| {
            let mut failures = Vec::new();
            let o = Overrides {
                seed: Some(seed),
                beta: Some(beta),
                ..Overrides::default()
            };
            let s = Scenario::load("over-optimisation", &o).expect("loads");
            let r = over_optimisation(&s, &[30, 300, 3000], 8).expect("runs");
            let mut check = |ok: bool, what: String| {
                if !ok {
                    failures.push(format!("  seed {seed}, β {beta}: {what}"));
                }
            };
            let curves = |k: usize| -> [(&str, Curve); 3] {
                let z = &r.sizes[k];
                [
                    ("best-of-n", z.best_of_n.clone()),
                    ("π* over β", z.optimum.clone()),
                    ("rlhf", z.rlhf.clone()),
                ]
            };
            for (k, z) in r.sizes.iter().enumerate() {
                for (name, c) in curves(k) {
                    let falls = c.points.windows(2).find(|w| w[1].proxy < w[0].proxy - 1e-9);
                    check(
                        falls.is_none(),
                        format!("N {}: {name}'s proxy falls at {falls:?}", z.pairs),
                    );
                    if name != "rlhf" {
                        let last = *c.points.last().expect("a point");
                        let interior = c.peak.knob != c.points[0].knob && c.peak.knob != last.knob;
                        check(
                            interior && last.gold < 0.0,
                            format!(
                                "N {}: {name}'s gold should peak inside and end below 0: peak {:?}, end {last:?}",
                                z.pairs, c.peak
                            ),
                        );
                    }
                    // A fitted peak is quoted only inside the data.
                    if let Some(f) = c.fit {
                        let (lo, hi) = c.points.iter().fold((f64::INFINITY, 0.0f64), |(l, h), p| {
                            (l.min(p.sqrt_kl), h.max(p.sqrt_kl))
                        });
                        check(
                            f.fitted_peak.is_none_or(|d| (lo..=hi).contains(&d)),
                            format!("{name}: fitted peak {:?} outside [{lo}, {hi}]", f.fitted_peak),
                        );
                    }
                }
            }
            let mut bon_later = false;
            let mut rlhf_later = None;
            for ((name, few), (_, many)) in curves(0).into_iter().zip(curves(2)) {
                check(
                    many.peak.gold > few.peak.gold,
                    format!(
                        "{name}: the gold peak should rise from 30 to 3000 pairs: {:?} → {:?}",
                        few.peak, many.peak
                    ),
                );
                let later = many.peak.sqrt_kl > few.peak.sqrt_kl;
                match name {
                    "π* over β" => check(
                        later,
                        format!("π*'s peak should move later: {:?} → {:?}", few.peak, many.peak),
                    ),
                    "best-of-n" => bon_later = later,
                    _ if beta == 0.05 => rlhf_later = Some(later),
                    _ => {}
                }
            }
            let rl_few = &r.sizes[0].rlhf;
            check(
                beta > 0.05 || rl_few.points.last().expect("a point").gold < rl_few.peak.gold - 0.05,
                format!(
                    "rlhf with 30 pairs should fall after its peak: {:?}",
                    rl_few.peak
                ),
            );
            (failures, bon_later, rlhf_later)
        })
        .collect();
    let failures: Vec<String> = results.iter().flat_map(|r| r.0.clone()).collect();
    assert!(
        failures.is_empty(),
        "over-optimisation's claim fails:\n{}",
        failures.join("\n")
    );
    // Best-of-n's and RLHF's (β 0.05) peaks move later in at least half of
    // the draw sets (best-of-n's n grid is discrete and its peak flat).
    let bon = results.iter().filter(|r| r.1).count() as f64 / results.len() as f64;
    let rl: Vec<bool> = results.iter().filter_map(|r| r.2).collect();
    let rl = rl.iter().filter(|&&b| b).count() as f64 / rl.len() as f64;
    println!("over-optimisation: peaks later for best-of-n {bon:.2}, RLHF at β 0.05 {rl:.2}");
    assert!(bon >= 0.5 && rl >= 0.5, "best-of-n {bon}, RLHF {rl}");
}

#[test]
fn negative_chosen_rewards_are_the_normaliser_not_a_failure() {
    use dpo_lab::optimal::optimum;
    let name = "negative-chosen-rewards";
    // At π* every implicit reward is r(y) − β log Z, so rewards/chosen ends
    // at E_W[r(y_w)] − β log Z.
    let at_optimum = |s: &Scenario| {
        let p = &s.problem;
        let opt = optimum(&p.log_ref, &p.reward, s.train.beta());
        let chosen: f64 = s
            .data
            .pairs
            .iter()
            .map(|q| q.weight * p.reward[q.chosen])
            .sum();
        chosen - s.train.beta() * opt.log_partition
    };
    check_grid(name, &grid(false), |p| {
        let (s, out) = train_at(name, MethodKind::Dpo, p, &Overrides::default());
        let m = &out.final_metrics;
        let first = Run::new(&s.run_config(MethodKind::Dpo))
            .and_then(|r| r.metrics())
            .expect("metrics at π_ref");
        ensure(m.kl_to_optimal < CONVERGED_KL, || {
            format!("KL(π‖π*) {} not converged", m.kl_to_optimal)
        })?;
        ensure(
            m.rewards_margins > 0.7 && m.rewards_accuracies > 0.55,
            || {
                format!(
                    "margins {} accuracies {}",
                    m.rewards_margins, m.rewards_accuracies
                )
            },
        )?;
        ensure(
            first.rewards_margins == 0.0 && first.rewards_accuracies == 0.0,
            || {
                format!(
                    "start margins {} accuracies {}",
                    first.rewards_margins, first.rewards_accuracies
                )
            },
        )?;
        let want = at_optimum(&s);
        ensure(
            m.rewards_chosen < 0.0 && (m.rewards_chosen - want).abs() < 1e-3,
            || format!("rewards/chosen {} (π*'s value {want})", m.rewards_chosen),
        )
    });
    // The boundary the text names: at β 2 and 4 it ends positive.
    for beta in [8.0, 16.0] {
        let p = Point {
            seed: 0,
            beta,
            steps: 1.0,
        };
        let (s, out) = train_at(name, MethodKind::Dpo, p, &Overrides::default());
        let m = &out.final_metrics;
        assert!(
            m.rewards_chosen > 0.0 && (m.rewards_chosen - at_optimum(&s)).abs() < 1e-3,
            "β {}: rewards/chosen {}",
            s.train.beta(),
            m.rewards_chosen
        );
    }
}

/// The squeezing lesson's autoregressive sentence: after chosen and rejected
/// diverge, the paired DPO step pushes only the rejected answer's later
/// prefixes down, and there the freed conditional mass goes to the most
/// likely continuation (the same squeeze as the tabular rejected-only step);
/// at the shared prefix the π terms cancel.
#[test]
fn squeezing_autoregressive_paired_step_squeezes_after_the_pair_diverges() {
    use dpo_lab::derivation::squeeze;
    use dpo_lab::policy::{Policy, PolicyKind};
    let toml = r#"
name = "squeeze-autoregressive"
[space]
kind = "sequences"
vocab = ["a", "b", "c"]
max_len = 3
[reference]
kind = "bigram"
start = [0.6, 0.2, 0.2]
transition = [[0.2, 0.4, 0.4], [0.3, 0.3, 0.4], [0.7, 0.2, 0.1]]
end = [0.3, 0.3, 0.3]
[reward]
kind = "sequence"
[data]
kind = "pairs"
pairs = [["a b", "a c"]]
[policy]
kind = "autoregressive"
"#;
    let path = std::env::temp_dir().join(format!("dpo-lab-squeeze-{}.toml", std::process::id()));
    std::fs::write(&path, toml).expect("write");
    let s = Scenario::load(path.to_str().expect("utf-8"), &Overrides::default()).expect("loads");
    let _ = std::fs::remove_file(&path);
    let space = &s.problem.space;
    let policy = Policy::new(&PolicyKind::Autoregressive, &s.problem).expect("policy");
    let (w, l) = (index(&s, "a b"), index(&s, "a c"));
    for lr in [0.1, 1.0] {
        let sq = squeeze(&policy, w, l, 1.0, lr);
        let before: Vec<f64> = s.problem.log_ref.iter().map(|x| x.exp()).collect();
        let after: Vec<f64> = before.iter().zip(&sq.paired).map(|(b, d)| b + d).collect();
        // Mass of every response that starts with `prefix`.
        let mass = |p: &[f64], prefix: &[usize]| -> f64 {
            (0..space.len())
                .filter(|&y| space.tokens(y).starts_with(prefix))
                .map(|y| p[y])
                .sum()
        };
        let conditional = |p: &[f64], prefix: &[usize], next: Option<usize>| {
            let here = mass(p, prefix);
            match next {
                Some(t) => mass(p, &[prefix, &[t]].concat()) / here,
                None => p[space.index_of_tokens(prefix)] / here,
            }
        };
        let (a, b, c) = (0, 1, 2);
        // After "a c" (the rejected answer ended there): "end" falls and
        // "a" (0.7 of the continuations) gains more than b and c together
        // (at lr 1 the rarest, c, even loses: the squeeze).
        let ac = [a, c];
        let gain = |t| conditional(&after, &ac, Some(t)) - conditional(&before, &ac, Some(t));
        assert!(conditional(&after, &ac, None) < conditional(&before, &ac, None));
        assert!(
            gain(a) > 0.0 && gain(a) > gain(b).abs() + gain(c).abs(),
            "lr {lr}: gains after \"a c\": a {} b {} c {}",
            gain(a),
            gain(b),
            gain(c)
        );
        // At the shared prefix "a" the π terms cancel: only b and c move,
        // and "a a" and "a ⟂" keep their ratio.
        let ratio = |p: &[f64]| conditional(p, &[a], Some(a)) / conditional(p, &[a], None);
        assert!(
            (ratio(&after) / ratio(&before) - 1.0).abs() < ROUNDING_ABS,
            "lr {lr}: the shared prefix moved"
        );
    }
}

/// Likelihood displacement's CHES sentence: the score is 1.3 − 1 = 0.3, and
/// its analogue at the policy predicts the first DPO step's change of
/// log π(chosen) to first order (Δθ = lr·β·σ(−βΔ)·(φ_w − φ_l)).
#[test]
fn likelihood_displacement_ches_predicts_the_chosen_log_prob_step() {
    use dpo_lab::derivation::ches;
    let lr = 1e-4;
    let o = Overrides {
        lr: Some(lr),
        steps: Some(1),
        log_every: Some(0),
        optimizer: Some(dpo_lab::optim::OptimizerKind::Sgd),
        ..Overrides::default()
    };
    let s = Scenario::load("likelihood-displacement", &o).expect("loads");
    let p = &s.problem;
    let c = ches(&s.policy, p, &s.data, &p.log_ref)
        .expect("features")
        .expect("log-linear");
    approx::assert_abs_diff_eq!(c.score, 1.3 - 1.0, epsilon = 1e-12);
    assert!(c.at_policy > 0.0);
    let out = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");
    let no = index(&s, "No");
    let moved = out.final_log_probs[no] - p.log_ref[no];
    // At π_ref Δ = 0, so σ(−βΔ) = ½.
    let predicted = -lr * s.train.beta() * 0.5 * c.at_policy;
    approx::assert_relative_eq!(moved, predicted, max_relative = 1e-3);
}
