//! The command line as users and outside checks see it (docs/json-output.md, "Command
//! line"): JSON shapes, determinism, and one `error:` line with exit code 2
//! for every kind of bad input.

mod common;

use approx::assert_abs_diff_eq;
use common::{dpo_lab, json};
use dpo_lab::tolerance::{IDENTITY_ABS, ROUNDING_ABS};
use serde_json::Value;

#[track_caller]
fn assert_error(args: &[&str], needle: &str) {
    let out = dpo_lab(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err:?}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains(needle),
        "{args:?}: {err:?} should mention {needle:?}"
    );
    assert!(!err.contains("panicked"));
    assert!(out.stdout.is_empty());
}

#[test]
fn optimal_json_matches_the_closed_form_by_hand() {
    let v = json(&[
        "optimal",
        "--pi-ref",
        "0.5,0.5,0",
        "--reward",
        "-1,1,5",
        "--beta",
        "1",
        "--json",
    ]);
    let e = std::f64::consts::E;
    let p = v["policy"].as_array().expect("array");
    assert_abs_diff_eq!(
        p[0].as_f64().expect("num"),
        1.0 / (1.0 + e * e),
        epsilon = ROUNDING_ABS
    );
    assert_eq!(p[2].as_f64(), Some(0.0));
    let log_z = ((1.0 / e + e) / 2.0).ln();
    assert_abs_diff_eq!(
        v["log_partition"].as_f64().expect("num"),
        log_z,
        epsilon = ROUNDING_ABS
    );
    assert_abs_diff_eq!(
        v["objective"].as_f64().expect("num"),
        log_z,
        epsilon = ROUNDING_ABS
    );
    assert!(v["reward_recovered"][2].is_null());
    assert_abs_diff_eq!(
        v["reward_recovered"][0].as_f64().expect("num"),
        -1.0,
        epsilon = ROUNDING_ABS
    );
    assert_eq!(v["beta"].as_f64(), Some(1.0));
}

#[test]
fn run_json_has_the_spec_shape_and_is_deterministic() {
    let args = [
        "run",
        "--scenario",
        "ood-leak",
        "--method",
        "online-dpo",
        "--steps",
        "40",
        "--log-every",
        "10",
        "--json",
    ];
    let a = dpo_lab(&args);
    let b = dpo_lab(&args);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout, "same inputs and seed, same bytes");
    let v: Value = serde_json::from_slice(&a.stdout).expect("json");
    assert_eq!(v["scenario"], "ood-leak");
    assert_eq!(v["method"], "online-dpo");
    assert_eq!(v["steps"], 40);
    let fin = &v["final"];
    for key in [
        "loss",
        "expected_reward",
        "kl_to_ref",
        "kl_to_optimal",
        "objective",
        "ood_mass",
        "rewards/chosen",
        "rewards/rejected",
        "rewards/margins",
        "rewards/accuracies",
        "logps/chosen",
        "logps/rejected",
    ] {
        assert!(fin[key].as_f64().expect(key).is_finite(), "{key}");
    }
    assert_eq!(fin["policy"].as_array().expect("vector").len(), 5);
    let steps: Vec<u64> = v["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["step"].as_u64().expect("step"))
        .collect();
    assert_eq!(steps, vec![0, 10, 20, 30, 40]);
    assert_eq!(v["history"][4]["ood_mass"], fin["ood_mass"]);
}

#[test]
fn run_on_sequences_reports_top_responses_and_length() {
    let v = json(&[
        "run",
        "--scenario",
        "the-the-the",
        "--method",
        "dpo",
        "--steps",
        "20",
        "--log-every",
        "0",
        "--json",
    ]);
    assert_eq!(v["history"].as_array().expect("array").len(), 0);
    let top = v["final"]["policy"].as_array().expect("array");
    assert_eq!(top.len(), 50);
    assert!(top[0][0].is_string() && top[0][1].is_f64());
    assert!(v["final"]["mean_length"].as_f64().expect("num") > 1.0);
    assert!(v["final"]["ood_top"]["response"].is_string());
}

#[test]
fn run_writes_csv_history() {
    let path = std::env::temp_dir().join(format!("dpo-lab-test-{}.csv", std::process::id()));
    let p = path.to_str().expect("utf8");
    let out = dpo_lab(&[
        "run",
        "--scenario",
        "ratio-intuition",
        "--method",
        "dpo",
        "--csv",
        p,
    ]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&path).expect("csv written");
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .starts_with("step,loss,expected_reward")
    );
    assert_eq!(lines.count(), 61);
    let _ = std::fs::remove_file(path);
}

#[test]
fn compare_and_sweep_json() {
    let v = json(&[
        "compare",
        "--scenario",
        "ood-leak",
        "--a",
        "online-dpo",
        "--b",
        "dpo",
        "--json",
    ]);
    let (w, t, l) = (
        v["win"].as_f64().expect("w"),
        v["tie"].as_f64().expect("t"),
        v["loss"].as_f64().expect("l"),
    );
    assert_abs_diff_eq!(w, -(t + l - 1.0), epsilon = ROUNDING_ABS);
    assert!(v["quality_a"].as_f64().expect("qa") > v["quality_b"].as_f64().expect("qb"));
    assert_eq!(v["tie_margin"].as_f64(), Some(0.0));

    let v = json(&[
        "sweep",
        "--scenario",
        "optimal-policy",
        "--method",
        "optimal",
        "--beta",
        "0.1,1,10",
        "--json",
    ]);
    let pts = v["points"].as_array().expect("points");
    assert_eq!(pts.len(), 3);
    for p in pts {
        assert!(
            (p["expected_reward"].as_f64().expect("r")
                - p["optimal"]["expected_reward"].as_f64().expect("r"))
            .abs()
                < 1e-9
        );
    }
    // Smaller β buys more reward for more KL.
    assert!(pts[0]["kl_to_ref"].as_f64() > pts[2]["kl_to_ref"].as_f64());
}

#[test]
fn rlhf_runs_compares_and_sweeps() {
    let v = json(&[
        "run",
        "--scenario",
        "length-bias",
        "--method",
        "rlhf",
        "--json",
    ]);
    assert!(v["reward_model"]["accuracy"].as_f64().is_some());
    let fit = v["reward_model"]["history"]
        .as_array()
        .expect("fit history");
    assert!(fit.len() >= 2);
    assert!(
        fit.last().expect("last")["loss"].as_f64() < fit[0]["loss"].as_f64(),
        "the fit lowers its loss"
    );
    assert!(v["final"]["objective/scores"].as_f64().is_some());
    let v = json(&[
        "compare",
        "--scenario",
        "length-bias",
        "--a",
        "online-dpo",
        "--b",
        "rlhf",
        "--json",
    ]);
    assert!(v["win"].as_f64().expect("w") > v["loss"].as_f64().expect("l"));
    let v = json(&[
        "sweep",
        "--scenario",
        "optimal-policy",
        "--method",
        "rlhf",
        "--beta",
        "0.5,2",
        "--json",
    ]);
    for p in v["points"].as_array().expect("points") {
        assert!(p["kl_to_optimal"].as_f64().expect("kl") < 1e-2);
    }
}

#[test]
fn scenarios_lists_the_builtins() {
    let out = dpo_lab(&["scenarios"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "optimal-policy",
        "ratio-intuition",
        "ood-leak",
        "the-the-the",
        "offline-vs-online",
        "deterministic-preferences",
    ] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name}");
    }
}

#[test]
fn bench_prints_every_figure() {
    let v = json(&["bench", "--json"]);
    for key in [
        "eval_ns_per_response",
        "eval_ar_ns_per_response",
        "offline_step_us",
        "online_step_us",
    ] {
        let x = v[key].as_f64().expect(key);
        assert!(x.is_finite() && x > 0.0, "{key} = {x}");
    }
    assert!(v["ar_responses"].as_u64().expect("n") >= 500_000);
    if cfg!(feature = "app") {
        for key in ["the_the_the_two_methods", "flat_100000_one_method"] {
            assert!(v["frame_ms"][key].as_f64().expect(key) > 0.0);
        }
    } else {
        assert!(v["frame_ms"].is_null());
    }
}

/// Two answers, one pair. IPO's loss `(d − 1/(2β))²` in the margin
/// `d = θ_A − θ_B` changes `d − 1/(2β)` by the factor `1 − 4·lr` per step:
/// it converges for lr < 0.5, oscillates with period 2 at lr 0.5 and
/// diverges above.
const ONE_PAIR: &str = r#"
name = "one-pair"
[space]
responses = ["A", "B"]
[reference]
probs = [0.5, 0.5]
[reward]
values = [1.0, 0.0]
[data]
kind = "pairs"
pairs = [["A", "B"]]
[train]
beta = 0.5
steps = 200
"#;

/// `dpo-lab run --scenario ONE_PAIR ARGS --json`.
fn one_pair_json(tag: &str, args: &[&str]) -> Value {
    let f = one_pair_file(tag);
    let mut all = vec!["run", "--scenario", &f];
    all.extend_from_slice(args);
    all.push("--json");
    json(&all)
}

fn one_pair_file(tag: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "dpo-lab-one-pair-{tag}-{}.toml",
        std::process::id()
    ));
    std::fs::write(&path, ONE_PAIR).expect("write temp scenario");
    path.to_string_lossy().into_owned()
}

#[test]
fn ipo_with_too_large_a_step_is_a_divergence_error() {
    // Printed loss 7e57 and kl_to_ref 1.0 (> log 2) with exit 0.
    let f = one_pair_file("diverge");
    assert_error(
        &["run", "--scenario", &f, "--method", "ipo", "--lr", "0.6"],
        "training diverged at step",
    );
}

#[test]
fn ipo_at_the_stability_edge_reports_oscillation() {
    // IPO at lr 0.5 returned π(A) = 0.5 after 20,000 steps without a word.
    let v = one_pair_json(
        "oscillate",
        &["--method", "ipo", "--lr", "0.5", "--steps", "2000"],
    );
    let w = v["warnings"].as_array().expect("warnings list");
    assert!(
        w.iter()
            .any(|s| s.as_str().is_some_and(|s| s.starts_with("oscillating"))),
        "{w:?}"
    );
    assert!(v["final"]["grad_norm"].as_f64().expect("grad_norm") > 0.1);
}

#[test]
fn converged_and_unconverged_runs_say_so() {
    // IPO at a stable step converges: no warning, a vanishing gradient.
    let v = one_pair_json(
        "converge",
        &["--method", "ipo", "--lr", "0.1", "--steps", "2000"],
    );
    assert_eq!(v["warnings"], serde_json::json!([]));
    assert!(v["final"]["grad_norm"].as_f64().expect("grad_norm") < 1e-9);
    // DPO on one pair has no finite minimum: never converged.
    let v = one_pair_json("converge", &["--method", "dpo", "--lr", "1"]);
    let w = v["warnings"][0].as_str().expect("a warning");
    assert!(w.starts_with("not converged: grad_norm"), "{w}");
    // The table prints the same line.
    let f = one_pair_file("converge");
    let out = dpo_lab(&["run", "--scenario", &f, "--method", "dpo", "--lr", "1"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning: not converged"));
}

/// `best-of-n --json` has the documented shape; its policy sums to one, its KL
/// grows with n and stays below the quoted bound, and π*'s reward at the
/// same KL is never below best-of-n's.
#[test]
fn best_of_n_json_has_the_spec_shape() {
    let v = json(&[
        "best-of-n",
        "--scenario",
        "optimal-policy",
        "--n",
        "1,2,4,64",
        "--json",
    ]);
    let points = v["points"].as_array().expect("points");
    assert_eq!(points.len(), 4);
    let mut last_kl = -1.0;
    for p in points {
        for key in [
            "n",
            "policy",
            "kl",
            "kl_bound",
            "expected_reward",
            "win_rate",
        ] {
            assert!(p.get(key).is_some(), "missing {key}");
        }
        let total: f64 = p["policy"]
            .as_array()
            .expect("policy")
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .sum();
        assert_abs_diff_eq!(total, 1.0, epsilon = IDENTITY_ABS);
        let kl = p["kl"].as_f64().expect("kl");
        assert!(kl > last_kl && kl <= p["kl_bound"].as_f64().expect("bound") + 1e-12);
        last_kl = kl;
        assert!(
            p["optimal_expected_reward"].as_f64().expect("frontier")
                >= p["expected_reward"].as_f64().expect("E r") - 1e-9
        );
    }
    assert_eq!(points[0]["kl"].as_f64(), Some(0.0));
}

/// Every loss of the family runs from the command line on a flat and a
/// sequence lesson, prints finite JSON and names itself.
#[test]
fn every_loss_runs_from_the_command_line() {
    use strum::VariantNames;
    for loss in dpo_lab::loss::LossName::VARIANTS {
        for scenario in ["ood-leak", "the-the-the"] {
            let v = json(&[
                "run",
                "--scenario",
                scenario,
                "--method",
                "dpo",
                "--loss",
                loss,
                "--steps",
                "50",
                "--lr",
                "0.05",
                "--json",
            ]);
            assert_eq!(v["loss_function"].as_str(), Some(*loss));
            let fin = &v["final"];
            for key in ["loss", "expected_reward", "kl_to_ref", "ood_mass"] {
                assert!(
                    fin[key].as_f64().is_some_and(f64::is_finite),
                    "{loss} {scenario} {key}"
                );
            }
        }
    }
}
