//! Every built-in lesson's claim (the `claim` of its scenario file) is a
//! predicate checked here, not only at the lesson's own settings but over a
//! grid around them: seeds 0–4 (for methods that draw at random), β ×0.5,
//! ×1, ×2 with `lr·β²` held fixed for DPO-type losses (as `sweep` does),
//! and steps ×0.5, ×1, ×2. The grid comes from the environment, so anyone
//! can probe elsewhere without editing code: `DPO_LAB_LESSON_SEEDS`
//! (`0-39` or `5,9,23`), `DPO_LAB_LESSON_BETA_FACTORS` and
//! `DPO_LAB_LESSON_STEP_FACTORS` (`0.7,1.4`). Where chance decides (online
//! sampling, sampled data), a claim is a rate: measured over seeds (0–39 by
//! default, or the environment's) and checked through its Wilson 95 % lower
//! bound. Where a claim holds only under conditions, the
//! scenario's text states them and the test checks exactly those, plus the
//! boundary the text names. Effects must emerge from training: nothing here
//! or in the library knows which response a lesson is about.

use dpo_lab::compare::head_to_head;
use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{Overrides, Scenario, builtins};
use dpo_lab::tolerance::CONVERGED_KL;
use dpo_lab::tolerance::{IDENTITY_ABS, ROUNDING_ABS};
use dpo_lab::train::{Outcome, Run, train};

#[path = "support/grid.rs"]
mod grid;
use grid::*;

fn index(s: &Scenario, name: &str) -> usize {
    s.problem.space.index_of(name).expect("response in space")
}

fn prob(s: &Scenario, out: &Outcome, name: &str) -> f64 {
    out.final_log_probs[index(s, name)].exp()
}

fn reference(s: &Scenario, name: &str) -> f64 {
    s.problem.log_ref[index(s, name)].exp()
}

fn max_prob(out: &Outcome) -> f64 {
    out.final_log_probs
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .exp()
}

#[test]
fn every_builtin_checks_and_states_its_claim() {
    let all = builtins();
    assert_eq!(all.len(), dpo_lab::scenario::BUILTIN.len());
    for raw in all {
        assert!(
            raw.description.len() > 200,
            "{} needs a description a teacher can read",
            raw.name
        );
        let claim = raw.claim.as_deref().unwrap_or("");
        assert!(claim.len() > 80, "{} states no claim to check", raw.name);
        Scenario::check(raw.clone()).unwrap_or_else(|e| panic!("{}: {e}", raw.name));
    }
    // Every file in assets/scenarios is built in.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios"))
        .expect("assets/scenarios exists")
        .count();
    assert_eq!(files, dpo_lab::scenario::BUILTIN.len());
}

#[test]
fn full_batch_runs_ignore_the_seed() {
    // Why the deterministic claims below run seed 0 only.
    let p0 = Point {
        seed: 0,
        beta: 1.0,
        steps: 1.0,
    };
    let p3 = Point { seed: 3, ..p0 };
    for name in ["optimal-policy", "ood-leak", "the-the-the"] {
        let (_, a) = train_at(name, MethodKind::Dpo, p0, &Overrides::default());
        let (_, b) = train_at(name, MethodKind::Dpo, p3, &Overrides::default());
        assert_eq!(a.final_log_probs, b.final_log_probs, "{name}");
    }
}

#[test]
fn optimal_policy_population_dpo_reaches_pi_star() {
    check_grid("optimal-policy", &grid(false), |p| {
        let (_, out) = train_at("optimal-policy", MethodKind::Dpo, p, &Overrides::default());
        let kl = out.final_metrics.kl_to_optimal;
        ensure(kl < CONVERGED_KL, || format!("KL(π‖π*) = {kl}"))?;
        ensure(out.warnings.is_empty(), || format!("{:?}", out.warnings))
    });
}

#[test]
fn population_loss_starts_at_log_2_and_weights_are_true_means() {
    // Σ W = 1: the loss at π_ref is log 2 on every population scenario.
    for name in ["optimal-policy", "ood-leak", "length-bias"] {
        let s = Scenario::load(name, &Overrides::default()).expect("loads");
        let total: f64 = s.data.pairs.iter().map(|p| p.weight).sum();
        assert!((total - 1.0).abs() < ROUNDING_ABS, "{name}: Σ W = {total}");
        let run = Run::new(&s.run_config(MethodKind::Dpo)).expect("builds");
        let loss = run.metrics().expect("finite").loss;
        assert!(
            (loss - std::f64::consts::LN_2).abs() < ROUNDING_ABS,
            "{name}: loss at π_ref {loss}"
        );
    }
}

#[test]
fn ratio_intuition_equal_implicit_rewards_and_8_to_1_gains_at_every_step() {
    check_grid("ratio-intuition", &grid(false), |p| {
        let s = at("ratio-intuition", MethodKind::Dpo, p, &Overrides::default());
        let (lg, ug, bad) = (
            index(&s, "likely good"),
            index(&s, "unlikely good"),
            index(&s, "bad"),
        );
        let mut run = Run::new(&s.run_config(MethodKind::Dpo)).map_err(|e| e.to_string())?;
        while !run.finished() {
            run.step().map_err(|e| e.to_string())?;
            let h = run.policy().log_ratios();
            let lp = run.policy().log_probs();
            let k = run.steps_done();
            ensure((h[lg] - h[ug]).abs() < ROUNDING_ABS, || {
                format!("step {k}: implicit rewards differ: {} vs {}", h[lg], h[ug])
            })?;
            let gains = (lp[lg].exp() - 0.8) / (lp[ug].exp() - 0.1);
            ensure((gains - 8.0).abs() < 1e-6, || {
                format!("step {k}: gains in the ratio {gains}")
            })?;
            // Below the limits (reached to rounding once π(bad) ≈ 1e-17).
            let slack = 1e-12;
            ensure(
                lp[lg].exp() <= 0.8 / 0.9 + slack
                    && lp[ug].exp() <= 0.1 / 0.9 + slack
                    && h[bad] < 0.0,
                || format!("step {k}: a chosen answer passed its limit"),
            )?;
        }
        Ok(())
    });
}

/// ood-leak: the converged offline OOD mass predicted from the cause the
/// text names — out-of-data logits fixed, in-data logits at
/// `log π_ref + r/β` shifted so that their sum is conserved.
fn ood_leak_predicted_ood_mass(s: &Scenario) -> f64 {
    let p = &s.problem;
    let beta = s.train.beta();
    let inside: Vec<usize> = (0..p.len()).filter(|&i| s.data.in_data[i]).collect();
    let mean = inside.iter().map(|&i| p.reward[i] / beta).sum::<f64>() / inside.len() as f64;
    let in_mass: f64 = inside
        .iter()
        .map(|&i| (p.log_ref[i] + p.reward[i] / beta - mean).exp())
        .sum();
    let out_mass: f64 = (0..p.len())
        .filter(|&i| !s.data.in_data[i])
        .map(|i| p.log_ref[i].exp())
        .sum();
    out_mass / (out_mass + in_mass)
}

#[test]
fn ood_leak_offline_ood_mass_follows_beta_through_the_normaliser() {
    let check = |p: Point, rises: bool| {
        let (s, out) = train_at("ood-leak", MethodKind::Dpo, p, &Overrides::default());
        let start = out.history.first().map_or(0.05, |h| h.1.ood_mass);
        let ood = out.final_metrics.ood_mass;
        let predicted = ood_leak_predicted_ood_mass(&s);
        ensure((ood - predicted).abs() < 1e-6, || {
            format!("OOD mass {ood}, the conserved-sum prediction {predicted}")
        })?;
        ensure(
            (start - 0.05).abs() < ROUNDING_ABS || out.history.is_empty(),
            || format!("start {start}"),
        )?;
        ensure((ood > 0.05) == rises, || {
            format!("OOD mass {ood} at β = {}", s.train.beta())
        })
    };
    // The grid (β 0.25, 0.5, 1): the leak rises.
    check_grid("ood-leak offline", &grid(false), |p| check(p, true));
    // The text's boundary: still rising at β = 2, falling at β = 0.1.
    let at_beta = |f: f64| Point {
        seed: 0,
        beta: f,
        steps: 1.0,
    };
    check(at_beta(4.0), true).expect("β = 2 rises");
    check(at_beta(0.2), false).expect("β = 0.1 falls");
    // At the lesson's β, gibberish's implicit reward ends positive and
    // above rude's although its true reward is the lowest.
    let (s, out) = train_at(
        "ood-leak",
        MethodKind::Dpo,
        at_beta(1.0),
        &Overrides::default(),
    );
    let h = |n: &str| {
        s.train.beta() * (out.final_log_probs[index(&s, n)] - s.problem.log_ref[index(&s, n)])
    };
    assert!(h("gibberish") > 0.0 && h("gibberish") > h("rude"));
    assert!(s.problem.reward[index(&s, "gibberish")] < s.problem.reward[index(&s, "rude")]);
    // The conserved sum is plain gradient descent's: Adam lands elsewhere
    // in the flat set of minimisers — the same loss, another OOD mass.
    let adam = Overrides {
        optimizer: Some("adam".into()),
        lr: Some(0.01),
        steps: Some(3000),
        log_every: Some(0),
        ..Default::default()
    };
    let sa = Scenario::load("ood-leak", &adam).expect("loads");
    let a = train(&sa.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");
    let (l_sgd, l_adam) = (out.final_metrics.loss, a.final_metrics.loss);
    assert!(
        (l_sgd - l_adam).abs() < 1e-4,
        "loss {l_sgd} vs Adam {l_adam}"
    );
    let (o_sgd, o_adam) = (out.final_metrics.ood_mass, a.final_metrics.ood_mass);
    assert!(
        (o_sgd - o_adam).abs() > 0.01,
        "OOD mass {o_sgd} vs Adam {o_adam}"
    );
}

#[test]
fn ood_leak_online_dpo_lowers_ood_mass() {
    check_grid("ood-leak online", &grid(true), |p| {
        let (_, out) = train_at("ood-leak", MethodKind::OnlineDpo, p, &Overrides::default());
        let ood = out.final_metrics.ood_mass;
        ensure(ood < 0.05, || format!("OOD mass {ood}"))
    });
}

#[test]
fn the_the_the_offline_loglinear_dpo_lifts_it_most() {
    let ll = Overrides::default();
    check_grid("the-the-the offline", &grid(false), |p| {
        let (s, out) = train_at("the-the-the", MethodKind::Dpo, p, &ll);
        let y0 = index(&s, "the the the");
        ensure(!s.data.in_data[y0], || "it is in the data".into())?;
        let worst = s
            .problem
            .reward
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        ensure(s.problem.reward[y0] == worst, || {
            "not the worst answer".into()
        })?;
        let m = &out.final_metrics;
        // The reference's own mass outside the data, computed here.
        let start: f64 = (0..s.problem.len())
            .filter(|&y| !s.data.in_data[y])
            .map(|y| s.problem.log_ref[y].exp())
            .sum();
        ensure(m.ood_mass > start * 1.4, || {
            format!("OOD mass {}", m.ood_mass)
        })?;
        let top = m.ood_top.as_ref().ok_or("no OOD responses")?;
        ensure(top.response == "the the the", || {
            format!("largest gain: {:?}", top.response)
        })?;
        ensure(top.implicit_reward > m.rewards_chosen, || {
            format!(
                "β·h {} vs chosen mean {}",
                top.implicit_reward, m.rewards_chosen
            )
        })
    });
    // The leak keeps growing with steps, at every β.
    for beta in beta_factors() {
        let gain: Vec<f64> = step_factors()
            .iter()
            .map(|&steps| {
                let p = Point {
                    seed: 0,
                    beta,
                    steps,
                };
                let (s, out) = train_at("the-the-the", MethodKind::Dpo, p, &ll);
                prob(&s, &out, "the the the")
            })
            .collect();
        assert!(
            gain.windows(2).all(|w| w[0] < w[1]),
            "β ×{beta}: {gain:?} over step factors {:?}",
            step_factors()
        );
    }
}

#[test]
fn the_the_the_online_dpo_pushes_it_below_its_reference() {
    check_grid("the-the-the online", &grid(true), |p| {
        let (s, out) = train_at(
            "the-the-the",
            MethodKind::OnlineDpo,
            p,
            &Overrides::default(),
        );
        let (pi, r) = (prob(&s, &out, "the the the"), reference(&s, "the the the"));
        ensure(pi < r, || format!("π = {pi} vs π_ref = {r}"))
    });
}

#[test]
fn the_the_the_autoregressive_leak_is_at_least_five_times_weaker() {
    let ar = Overrides {
        policy: Some("autoregressive".into()),
        ..Default::default()
    };
    check_grid("the-the-the autoregressive", &grid(false), |p| {
        let (s, ll_out) = train_at("the-the-the", MethodKind::Dpo, p, &Overrides::default());
        let (_, ar_out) = train_at("the-the-the", MethodKind::Dpo, p, &ar);
        let r = reference(&s, "the the the");
        let (g_ll, g_ar) = (
            prob(&s, &ll_out, "the the the") / r,
            prob(&s, &ar_out, "the the the") / r,
        );
        ensure(5.0 * g_ar < g_ll, || {
            format!("AR ×{g_ar} vs log-linear ×{g_ll}")
        })
    });
}

#[test]
fn offline_vs_online_equal_budgets_online_wins_through_coverage() {
    let name = "offline-vs-online";
    let base = Scenario::load(name, &Overrides::default()).expect("loads");
    // Equal label budgets, as the text says.
    assert_eq!(
        base.data.pairs.len(),
        base.online.batch() * base.train.steps(),
        "offline pairs = online labels"
    );
    let best_in_data = (0..base.problem.len())
        .filter(|&i| base.data.in_data[i])
        .map(|i| base.problem.reward[i])
        .fold(f64::NEG_INFINITY, f64::max);
    let compare = |p: Point| {
        let (s, on) = train_at(name, MethodKind::OnlineDpo, p, &Overrides::default());
        let (_, off) = train_at(name, MethodKind::Dpo, p, &Overrides::default());
        head_to_head(
            &on.final_log_probs,
            &off.final_log_probs,
            &s.problem.reward,
            0.0,
        )
    };
    // The grid (β 0.05–0.2, 500–2,000 steps, its seeds) plus the lesson's
    // own settings over the rate's seeds.
    let mut points = grid(true);
    for seed in rate_seeds() {
        let p = Point {
            seed,
            beta: 1.0,
            steps: 1.0,
        };
        if !points
            .iter()
            .any(|q| q.seed == p.seed && q.beta == 1.0 && q.steps == 1.0)
        {
            points.push(p);
        }
    }
    // Deterministic: offline DPO never passes the best answer in its data.
    check_grid(name, &grid(false), |p| {
        let (_, off) = train_at(name, MethodKind::Dpo, p, &Overrides::default());
        let q = off.final_metrics.expected_reward;
        ensure(q <= best_in_data, || {
            format!("offline quality {q} above the best in-data reward {best_in_data}")
        })
    });
    // Chance decides online DPO's: a rate of at least 90 %.
    check_rate(name, 0.9, &points, |p| {
        let h = compare(p);
        ensure(h.win - h.loss > 0.45, || format!("{h:?}"))?;
        // From 1,000 steps on, online DPO has found answers the offline
        // data never contains.
        ensure(p.steps < 1.0 || h.quality_a > best_in_data, || {
            format!(
                "online quality {} not above the best in-data reward {best_in_data}",
                h.quality_a
            )
        })
    });
    // The description's number: the ten answers the older model never
    // wrote hold 9.1 % of the reference.
    let unseen: f64 = (0..base.problem.len())
        .filter(|&i| !base.data.in_data[i])
        .map(|i| base.problem.log_ref[i].exp())
        .sum();
    let stated = 0.091;
    assert!(
        (unseen - stated).abs() < 0.0005,
        "the text says 9.1 %, it is {unseen}"
    );
    let raw = dpo_lab::scenario::builtins()
        .into_iter()
        .find(|r| r.name == name)
        .expect("built in");
    assert!(raw.description.contains("9.1%"), "the text states the mass");
}

/// The lecture's "resample frequently": KL(π‖π*) rises with the
/// resampling interval and a never-resampled policy drifts onto answers no
/// batch drew — a rate over seeds, for β 0.35–1 (factors 0.7–2).
#[test]
fn resampling_stale_batches_drift_onto_answers_never_drawn() {
    let name = "resampling";
    let every = dpo_lab::sweep::parse_every("every", "1,16,inf").expect("parses");
    let mut points: Vec<Point> = grid(true).into_iter().filter(|p| p.beta >= 0.7).collect();
    for seed in rate_seeds() {
        if !points
            .iter()
            .any(|q| q.seed == seed && q.beta == 1.0 && q.steps == 1.0)
        {
            points.push(Point {
                seed,
                beta: 1.0,
                steps: 1.0,
            });
        }
    }
    check_rate(name, 0.8, &points, |p| {
        let s = at(name, MethodKind::OnlineDpo, p, &Overrides::default());
        let pts = dpo_lab::sweep::resample_sweep(&s, &every, &dpo_lab::train::Unwatched)
            .map_err(|e| e.to_string())?;
        let kl: Vec<f64> = pts.iter().map(|q| q.kl_to_optimal).collect();
        let unseen: Vec<f64> = pts.iter().map(|q| q.unseen_mass).collect();
        ensure(kl[0] < kl[1] && kl[1] < kl[2], || {
            format!("KL(π‖π*) {kl:?}")
        })?;
        ensure(unseen[2] > unseen[0], || {
            format!("mass never drawn {unseen:?}")
        })
    });
}

#[test]
fn length_bias_everything_trained_on_biased_labels_pads() {
    let name = "length-bias";
    let rm_judge = Overrides {
        annotator: Some("reward-model".into()),
        ..Default::default()
    };
    // β 0.125 to 0.5; online runs over seeds.
    check_grid(name, &grid(true), |p| {
        let (_, opt) = train_at(name, MethodKind::Optimal, p, &Overrides::default());
        let star = &opt.final_metrics;
        let deterministic = p.seed == seeds()[0];
        let mut padded = vec![(
            "online DPO judged by the reward model",
            train_at(name, MethodKind::OnlineDpo, p, &rm_judge).1,
        )];
        if deterministic {
            padded.push((
                "RLHF",
                train_at(name, MethodKind::Rlhf, p, &Overrides::default()).1,
            ));
            padded.push((
                "offline DPO",
                train_at(name, MethodKind::Dpo, p, &Overrides::default()).1,
            ));
        }
        let len = |m: &dpo_lab::metrics::Metrics| m.mean_length.expect("a sequence space");
        for (what, out) in &padded {
            let m = &out.final_metrics;
            ensure(len(m) >= 2.8, || format!("{what}: mean length {}", len(m)))?;
            ensure(m.expected_reward < star.expected_reward, || {
                format!(
                    "{what}: E r {} vs π* {}",
                    m.expected_reward, star.expected_reward
                )
            })?;
        }
        ensure(len(star) <= 1.24 + 1e-9, || {
            format!("π* length {}", len(star))
        })
    });
    // Online DPO judged by the true reward: its sampling decides how close
    // it ends, so a rate.
    check_rate(name, 0.9, &grid(true), |p| {
        let (_, opt) = train_at(name, MethodKind::Optimal, p, &Overrides::default());
        let star = &opt.final_metrics;
        let len = |m: &dpo_lab::metrics::Metrics| m.mean_length.expect("a sequence space");
        let (_, on) = train_at(name, MethodKind::OnlineDpo, p, &Overrides::default());
        let m = &on.final_metrics;
        ensure(
            (m.expected_reward - star.expected_reward).abs() < 0.1,
            || {
                format!(
                    "online (true judge) E r {} vs π* {}",
                    m.expected_reward, star.expected_reward
                )
            },
        )?;
        ensure((len(m) - len(star)).abs() < 0.15, || {
            format!("online (true judge) length {} vs π* {}", len(m), len(star))
        })
    });
}

/// R-DPO (Park et al. 2024) penalises length in the objective, so on the
/// length-loving labels it shortens offline DPO's answers, more as its α
/// grows; at the file's α (the annotator's 1.4 per token) it undoes more
/// than half of DPO's padding (not all: as TRL counts tokens, an answer cut
/// at max_len has no end token and counts as long as one a token shorter,
/// so the penalty misses its last token). Over the lesson's β and steps
/// grid.
#[test]
fn length_bias_rdpo_shortens_answers_as_alpha_grows() {
    let name = "length-bias";
    let rdpo = Overrides {
        loss: Some("rdpo".into()),
        ..Default::default()
    };
    check_grid(name, &grid(false), |p| {
        let base = at(name, MethodKind::Dpo, p, &rdpo);
        let len = |alpha: f64| {
            let mut raw = dpo_lab::scenario::builtins()
                .into_iter()
                .find(|r| r.name == name)
                .expect("built in");
            raw.apply(&Overrides {
                beta: Some(base.train.beta()),
                lr: Some(base.train.lr()),
                steps: Some(base.train.steps() as u64),
                log_every: Some(0),
                ..rdpo.clone()
            });
            raw.train.rdpo_alpha = Some(alpha);
            let s = Scenario::check(raw).expect("checks");
            let out = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");
            out.final_metrics.mean_length.expect("sequences")
        };
        let (_, dpo) = train_at(name, MethodKind::Dpo, p, &Overrides::default());
        let (_, star) = train_at(name, MethodKind::Optimal, p, &Overrides::default());
        let plain = dpo.final_metrics.mean_length.expect("sequences");
        let star = star.final_metrics.mean_length.expect("sequences");
        let lens: Vec<f64> = [0.05, 0.3, 1.4].map(len).to_vec();
        ensure(lens[0] < plain, || {
            format!("α 0.05: {} vs DPO {plain}", lens[0])
        })?;
        ensure(lens[1] < lens[0] && lens[2] < lens[1], || {
            format!("lengths {lens:?} do not fall with α")
        })?;
        ensure(lens[2] < star + 0.5 * (plain - star), || {
            format!("α 1.4: length {} vs DPO {plain}, π* {star}", lens[2])
        })
    });
}

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
        for loss in ["dpop", "rpo"] {
            let extra = Overrides {
                loss: Some(loss.into()),
                ..Overrides::default()
            };
            let (s2, o2) = train_at(name, MethodKind::Dpo, p, &extra);
            ensure(prob(&s2, &o2, "No") > 0.25, || {
                format!("{loss}: π(No) = {}", prob(&s2, &o2, "No"))
            })?;
            // DPOP's λ = 50 overshoots: past the claim's 400 steps π(Yes)
            // swings back up (checked below), so its bound holds there.
            if loss == "rpo" || p.steps <= 2.0 {
                ensure(prob(&s2, &o2, "Yes") < 0.3, || {
                    format!("{loss}: π(Yes) = {}", prob(&s2, &o2, "Yes"))
                })?;
            }
        }
        Ok(())
    });
    // The text's caveat: at 1,000 steps (β 0.1) DPOP's π(Yes) is back above
    // 0.3 while its π(No) stays above the reference.
    let long = Overrides {
        loss: Some("dpop".into()),
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
        optimizer: Some("sgd".into()),
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

/// The app shows each lesson's description and notice: they use the app's
/// words, not command-line flags or JSON keys (issue 12).
#[test]
fn lesson_texts_use_app_words_not_flags() {
    for raw in builtins() {
        let name = &raw.name;
        for (what, text) in [
            ("description", Some(&raw.description)),
            ("notice", raw.notice.as_ref()),
        ] {
            let Some(text) = text else { continue };
            for bad in [" --", "ood_top", "kl_to_optimal", "rewards/accuracies"] {
                assert!(!text.contains(bad), "{name}: {what} contains {bad:?}");
            }
        }
    }
}
