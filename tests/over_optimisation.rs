//! `dpo-lab over-optimisation` and its library: curves start at the
//! reference, best-of-n's proxy gain equals the closed form's expected
//! reward, the Gao fit is the least-squares solution, errors are one line,
//! and the JSON is the same bit for bit on a second run.

mod common;

use approx::assert_abs_diff_eq;
use common::{dpo_lab, json};
use dpo_lab::overoptimisation::{GaoForm, fit_gao, over_optimisation};
use dpo_lab::scenario::{Overrides, Scenario};

#[test]
fn every_curve_starts_at_the_reference_and_best_of_n_ends_on_the_proxy_arg_max() {
    let s = Scenario::load("over-optimisation", &Overrides::default()).expect("loads");
    let r = over_optimisation(&s, &[50], 2).expect("runs");
    let z = &r.sizes[0];
    for c in [&z.best_of_n, &z.rlhf] {
        let p = c.points[0];
        // √KL of a rounding-level KL (1e-16) is 1e-8.
        assert_abs_diff_eq!(p.sqrt_kl, 0.0, epsilon = 1e-7);
        assert_abs_diff_eq!(p.gold, 0.0, epsilon = 1e-12);
        assert_abs_diff_eq!(p.proxy, 0.0, epsilon = 1e-12);
    }
    // π* at β = 100 × the reward spread is within 1e-2 of the reference.
    assert!(z.optimum.points[0].sqrt_kl < 0.1);
    // The largest n puts (almost) all mass on the proxy's best answer, so
    // d² approaches −log π_ref of it: at most the largest −log π_ref.
    let worst = s.problem.log_ref.iter().map(|l| -l).fold(0.0, f64::max);
    let end = z.best_of_n.points.last().expect("a point");
    assert!(end.sqrt_kl.powi(2) <= worst + 1e-9);
    assert!(z.agreement > 0.5 && z.agreement <= 1.0);
}

#[test]
fn fit_is_the_least_squares_solution() {
    let s = Scenario::load("over-optimisation", &Overrides::default()).expect("loads");
    let r = over_optimisation(&s, &[100], 1).expect("runs");
    for (c, form) in [
        (&r.sizes[0].best_of_n, GaoForm::BestOfN),
        (&r.sizes[0].rlhf, GaoForm::Rl),
    ] {
        let f = fit_gao(&c.points, form).expect("a fit");
        let sse = |a: f64, b: f64| -> f64 {
            c.points
                .iter()
                .map(|p| (p.gold - (a * p.sqrt_kl - b * form.bend(p.sqrt_kl))).powi(2))
                .sum()
        };
        let best = sse(f.alpha, f.beta);
        for (da, db) in [(1e-3, 0.0), (-1e-3, 0.0), (0.0, 1e-3), (0.0, -1e-3)] {
            assert!(
                sse(f.alpha + da, f.beta + db) > best,
                "{form:?} not a minimum"
            );
        }
    }
}

#[test]
fn json_has_every_curve_and_is_reproducible() {
    let args = [
        "over-optimisation",
        "--pairs",
        "20,200",
        "--seeds",
        "2",
        "--json",
    ];
    let v = json(&args);
    assert_eq!(v["sizes"].as_array().expect("an array").len(), 2);
    for z in v["sizes"].as_array().expect("an array") {
        for key in ["best_of_n", "optimum", "rlhf"] {
            let c = &z[key];
            assert!(c["points"].as_array().expect("an array").len() > 2, "{key}");
            for k in ["alpha", "beta", "rmse"] {
                assert!(
                    c["fit"][k].as_f64().expect("a number").is_finite(),
                    "{key}.fit.{k}"
                );
            }
            assert!(c["peak"]["gold"].as_f64().is_some());
        }
    }
    assert_eq!(dpo_lab(&args).stdout, dpo_lab(&args).stdout);
}

#[test]
fn bad_input_is_one_error_line() {
    for (args, needle) in [
        (vec!["--pairs", "0"], "--pairs (entry 0)"),
        (vec!["--pairs", "x"], "--pairs: entry 0"),
        (vec!["--seeds", "0"], "--seeds"),
        (vec!["--seeds", "1000"], "--seeds"),
        (vec!["--pairs", "1000000"], "--pairs (entry 0)"),
        (vec!["--scenario", "no-such"], "no-such"),
    ] {
        let mut all = vec!["over-optimisation"];
        all.extend(args.iter());
        let out = dpo_lab(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{all:?}: {err}");
        assert!(
            err.starts_with("error:") && err.contains(needle),
            "{all:?}: {err}"
        );
    }
}
