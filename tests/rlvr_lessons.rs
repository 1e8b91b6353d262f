//! The claims of the RL-with-verifiable-rewards lessons (`grpo-length-bias`,
//! `grpo-difficulty`, `grpo-zero-signal`), checked over the same grid as
//! `lessons.rs` (β and steps factors; seeds and rates from the
//! environment). Nothing here or in the library knows which answer or
//! prompt a lesson is about beyond reading the scenario's names.

#[path = "support/grid.rs"]
mod grid;
use grid::*;

use dpo_lab::method::MethodKind;
use dpo_lab::metrics::Metrics;
use dpo_lab::scenario::{Overrides, RawScenario, Scenario, load_raw};
use dpo_lab::train::{Run, train_prompts};

/// The lesson at grid point `p` with its raw settings edited by `edit`
/// (GRPO's β is `[grpo] beta`, so the grid's β factor moves only π*).
fn edited(name: &str, p: Point, edit: impl Fn(&mut RawScenario)) -> Scenario {
    let base = Scenario::load(name, &Overrides::default()).expect("loads");
    let mut raw = load_raw(name).expect("built in");
    edit(&mut raw);
    raw.apply(&Overrides {
        beta: Some(base.train.beta() * p.beta),
        steps: Some((base.train.steps() as f64 * p.steps).round() as u64),
        seed: Some(base.train.seed() + p.seed),
        ..Overrides::default()
    });
    Scenario::check(raw).expect("grid point checks")
}

fn lengths(m: &Metrics) -> (f64, f64) {
    let v = m.verifier.as_ref().expect("verifier metrics");
    (
        v.mean_length_correct.expect("sequences"),
        v.mean_length_wrong.expect("sequences"),
    )
}

/// Every step's metrics of one method on the focused prompt.
fn every_step(s: &Scenario, kind: MethodKind) -> Vec<Metrics> {
    let mut run = Run::new(&s.run_config(kind)).expect("run");
    let mut out = vec![run.metrics().expect("metrics")];
    while !run.finished() {
        run.step().expect("steps");
        out.push(run.metrics().expect("metrics"));
    }
    out
}

#[test]
fn grpo_length_bias_right_answers_shorten_wrong_ones_lengthen() {
    let name = "grpo-length-bias";
    check_grid(name, &grid(false), |p| {
        let s = edited(name, p, |_| {});
        let h = every_step(&s, MethodKind::Grpo);
        for (k, w) in h.windows(2).enumerate() {
            let ((c0, w0), (c1, w1)) = (lengths(&w[0]), lengths(&w[1]));
            ensure(c1 < c0 && w1 > w0, || {
                format!("step {k}: correct {c0} → {c1}, wrong {w0} → {w1}")
            })?;
        }
        let start = lengths(&h[0]);
        for (what, kind, dr) in [
            ("dr_grpo", MethodKind::Grpo, true),
            ("rloo", MethodKind::Rloo, false),
        ] {
            let s = edited(name, p, |r| {
                if dr {
                    r.grpo.loss_type = Some("dr_grpo".into());
                }
            });
            let end = lengths(&every_step(&s, kind).pop().expect("steps"));
            ensure(
                (end.0 - start.0).abs() < 1e-9 && (end.1 - start.1).abs() < 1e-9,
                || format!("{what}: lengths {start:?} → {end:?}"),
            )?;
        }
        Ok(())
    });
    // Sampled: a rate over seeds.
    let points: Vec<Point> = rate_seeds()
        .into_iter()
        .map(|seed| Point {
            seed,
            beta: 1.0,
            steps: 1.0,
        })
        .collect();
    check_rate(name, 0.8, &points, |p| {
        let end = |loss: &str| {
            let s = edited(name, p, |r| {
                r.grpo.expected = Some(false);
                r.grpo.loss_type = Some(loss.into());
            });
            let run = Run::new(&s.run_config(MethodKind::Grpo)).map_err(|e| e.to_string())?;
            let start = lengths(&run.metrics().map_err(|e| e.to_string())?);
            let out = dpo_lab::train::train(&s.run_config(MethodKind::Grpo), |_, _| {})
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((start, lengths(&out.final_metrics)))
        };
        let (start, grpo) = end("grpo")?;
        let (_, dr) = end("dr_grpo")?;
        ensure(grpo.1 > start.1 && grpo.1 > dr.1 && grpo.0 < dr.0, || {
            format!("start {start:?}, grpo {grpo:?}, dr_grpo {dr:?}")
        })
    });
}

/// Each prompt's `(p_correct, grad_norm)` after the scenario's steps.
fn per_prompt(s: &Scenario, kind: MethodKind) -> Result<Vec<(f64, f64)>, String> {
    let out = train_prompts(&s.run_configs(kind)).map_err(|e| e.to_string())?;
    Ok(out
        .prompts
        .iter()
        .map(|o| {
            (
                o.final_metrics
                    .verifier
                    .as_ref()
                    .expect("verifier")
                    .p_correct,
                o.grad_norm,
            )
        })
        .collect())
}

#[test]
fn grpo_difficulty_std_scaling_weights_extreme_prompts_up() {
    let name = "grpo-difficulty";
    check_grid(name, &grid(false), |p| {
        let s = edited(name, p, |_| {});
        let names: Vec<&str> = s.prompts.iter().map(|q| q.name.as_str()).collect();
        let at_ref = |scale: &str| {
            let at_start = Point { steps: 0.0, ..p };
            let s = edited(name, at_start, |r| {
                r.grpo.scale_rewards = Some(scale.into())
            });
            per_prompt(&s, MethodKind::Grpo)
        };
        let (group, none) = (at_ref("group")?, at_ref("none")?);
        let ratio: Vec<f64> = group.iter().zip(&none).map(|(g, n)| g.1 / n.1).collect();
        // Prompt 1 is the hard one, 2 the balanced one, 3 the easy one.
        ensure(ratio[0] > ratio[1] && ratio[2] > ratio[1], || {
            format!("gradient-norm ratios group/none {ratio:?} for {names:?}")
        })?;
        let start: Vec<f64> = group.iter().map(|x| x.0).collect();
        let scaled = per_prompt(&s, MethodKind::Grpo)?;
        let unscaled = per_prompt(
            &edited(name, p, |r| r.grpo.scale_rewards = Some("none".into())),
            MethodKind::Grpo,
        )?;
        let rloo = per_prompt(&s, MethodKind::Rloo)?;
        let gain = |v: &[(f64, f64)]| v[0].0 - start[0];
        let factor = if p.steps == 1.0 { 10.0 } else { 1.5 };
        ensure(
            gain(&scaled) >= factor * gain(&unscaled) && gain(&scaled) >= factor * gain(&rloo),
            || {
                format!(
                    "hard prompt's gain: group {}, none {}, rloo {}",
                    gain(&scaled),
                    gain(&unscaled),
                    gain(&rloo)
                )
            },
        )
    });
}

#[test]
fn grpo_zero_signal_groups_throttle_the_hard_prompt() {
    let name = "grpo-zero-signal";
    // Exact at the reference.
    let s = Scenario::load(name, &Overrides::default()).expect("loads");
    let g = s.rlvr.grpo.num_generations as i32;
    for (k, prompt) in s.prompts.iter().enumerate() {
        let run = Run::new(&s.prompt_config(k, MethodKind::Grpo)).expect("run");
        let v = run.metrics().expect("metrics").verifier.expect("verifier");
        let p = prompt.problem.log_ref[0].exp();
        let want = p.powi(g) + (1.0 - p).powi(g);
        assert!(
            (v.zero_variance_groups - want).abs() < 1e-12,
            "{}: {} vs {want}",
            prompt.name,
            v.zero_variance_groups
        );
    }
    // The sampled share of zero-spread groups is the metric's mean.
    let points: Vec<Point> = rate_seeds()
        .into_iter()
        .map(|seed| Point {
            seed,
            beta: 1.0,
            steps: 1.0,
        })
        .collect();
    check_rate(name, 0.9, &points, |p| {
        let s = edited(name, p, |r| r.train.log_every = Some(1));
        let out = train_prompts(&s.run_configs(MethodKind::Grpo)).map_err(|e| e.to_string())?;
        for (q, o) in s.prompts.iter().zip(&out.prompts) {
            let h = &o.history;
            let std = |m: &Metrics| {
                m.extra
                    .iter()
                    .find(|(k, _)| k == "reward_std")
                    .map(|x| x.1)
                    .expect("reward_std")
            };
            // Row k ≥ 1 shows the group step k − 1 drew from policy k − 1.
            let zero = h[1..].iter().filter(|(_, m)| std(m) == 0.0).count() as f64;
            let z: Vec<f64> = h[..h.len() - 1]
                .iter()
                .map(|(_, m)| m.verifier.as_ref().expect("v").zero_variance_groups)
                .collect();
            let mean: f64 = z.iter().sum();
            let sd = z.iter().map(|x| x * (1.0 - x)).sum::<f64>().sqrt();
            ensure((zero - mean).abs() <= 4.0 * sd + 0.5, || {
                format!(
                    "{}: {zero} zero-spread groups, expected {mean:.2} ± {sd:.2}",
                    q.name
                )
            })?;
        }
        Ok(())
    });
    // More answers per group rescue the hard prompt (the first).
    let mut points = Vec::new();
    for steps in step_factors() {
        for seed in rate_seeds() {
            points.push(Point {
                seed,
                beta: 1.0,
                steps,
            });
        }
    }
    check_rate(name, 0.8, &points, |p| {
        let hard = |g: u64| -> Result<f64, String> {
            let s = edited(name, p, |r| r.grpo.num_generations = Some(g));
            Ok(per_prompt(&s, MethodKind::Grpo)?[0].0)
        };
        let (small, big) = (hard(8)?, hard(32)?);
        ensure(big > small, || {
            format!("hard prompt: G=8 {small}, G=32 {big}")
        })
    });
    check_grid(name, &grid(false), |p| {
        let hard_history = |g: u64| {
            let s = edited(name, p, |r| {
                r.grpo.num_generations = Some(g);
                r.grpo.expected = Some(true);
            });
            every_step(&s, MethodKind::Grpo)
        };
        let (small, big) = (hard_history(8), hard_history(32));
        for (k, (a, b)) in small.iter().zip(&big).enumerate().skip(1) {
            ensure(b.expected_reward > a.expected_reward, || {
                format!(
                    "step {k}: G=8 {} ≥ G=32 {}",
                    a.expected_reward, b.expected_reward
                )
            })?;
        }
        Ok(())
    });
}

/// `(pass@1, pass@256)` averaged over prompts, the first (rare) prompt's
/// `p_correct`, and the crossover k, of a trained run; and the same of π_ref.
type PassAtK = ((f64, f64, f64), (f64, f64, f64), Option<u64>);

fn pass_at_k_of(s: &Scenario, kind: MethodKind) -> Result<PassAtK, String> {
    let out = train_prompts(&s.run_configs(kind)).map_err(|e| e.to_string())?;
    let v = out.final_metrics.verifier.as_ref().expect("verifier");
    let at = |k: u64| {
        v.pass_at_k
            .iter()
            .find(|x| x.0 == k)
            .map(|x| x.1)
            .expect("k listed")
    };
    let first = out.prompts.first().expect("prompts");
    let rare = first
        .final_metrics
        .verifier
        .as_ref()
        .expect("verifier")
        .p_correct;
    let n = s.prompts.len() as f64;
    let mut reference = (0.0, 0.0, 0.0);
    for (k, p) in s.prompts.iter().enumerate() {
        let correct = p.problem.correct.as_ref().expect("verifier");
        let (pc, q) = dpo_lab::rlvr::correct_mass(&p.problem.log_ref, correct);
        reference.0 += pc / n;
        reference.1 += dpo_lab::rlvr::pass_at_k(q, 256) / n;
        if k == 0 {
            reference.2 = pc;
        }
    }
    Ok((
        (at(1), at(256), rare),
        reference,
        dpo_lab::report::pass_at_k_crossover(s, &out),
    ))
}

#[test]
fn rlvr_pass_at_k_sharpens_pass_at_1_and_starves_the_rare_strategy() {
    let name = "rlvr-pass-at-k";
    let claim = |s: &Scenario, kind: MethodKind| -> Result<(), String> {
        let (t, r, cross) = pass_at_k_of(s, kind)?;
        ensure(
            t.0 > r.0 && t.1 < r.1 && cross.is_some() && t.2 < r.2,
            || {
                format!(
                    "{kind:?}: pass@1 {} (π_ref {}), pass@256 {} (π_ref {}), rare prompt's p {} (π_ref {}), crossover {cross:?}",
                    t.0, r.0, t.1, r.1, t.2, r.2
                )
            },
        )
    };
    check_grid(name, &grid(false), |p| {
        let s = edited(name, p, |_| {});
        claim(&s, MethodKind::Grpo)?;
        claim(&s, MethodKind::Rloo)
    });
    let points: Vec<Point> = rate_seeds()
        .into_iter()
        .map(|seed| Point {
            seed,
            beta: 1.0,
            steps: 1.0,
        })
        .collect();
    check_rate(name, 0.8, &points, |p| {
        let s = edited(name, p, |r| r.grpo.expected = Some(false));
        claim(&s, MethodKind::Grpo)
    });
}
