//! `dpo-lab table` (remedies side by side) and `dpo-lab resample` (from
//! online to offline), as users see them, and the claim the README makes of
//! them: RPO's NLL anchor and DPOP's penalty both stop offline DPO's leak on
//! `ood-leak` and `the-the-the`, at the lessons' β and at half and twice it
//! (lr·β² kept).

mod common;

use approx::assert_abs_diff_eq;
use common::json;
use dpo_lab::tolerance::IDENTITY_ABS;
use serde_json::Value;

fn ood(rows: &[Value], name: &str) -> f64 {
    rows.iter()
        .find(|r| r["name"] == name)
        .and_then(|r| r["ood_mass"].as_f64())
        .unwrap_or_else(|| panic!("row {name}"))
}

#[test]
fn rpo_and_dpop_stop_the_leak_across_beta() {
    for (scenario, beta, lr) in [("ood-leak", 0.5, 20.0), ("the-the-the", 0.5, 1.0)] {
        for scale in [0.5f64, 1.0, 2.0] {
            let b = beta * scale;
            let l = lr / (scale * scale);
            let v = json(&[
                "table",
                "--scenario",
                scenario,
                "--rows",
                "dpo,dpo:rpo,dpo:dpop",
                "--beta",
                &b.to_string(),
                "--lr",
                &l.to_string(),
                "--json",
            ]);
            let rows = v["rows"].as_array().expect("rows");
            let plain = ood(rows, "dpo");
            for remedy in ["dpo:rpo", "dpo:dpop"] {
                let r = ood(rows, remedy);
                assert!(
                    r < 0.25 * plain,
                    "{scenario} β {b}: {remedy} OOD {r} vs plain {plain}"
                );
            }
        }
    }
}

#[test]
fn the_table_names_its_focus_and_reports_a_failing_row() {
    let v = json(&[
        "table",
        "--scenario",
        "ood-leak",
        "--rows",
        "dpo,ipo,online-dpo",
        "--json",
    ]);
    assert_eq!(v["focus"], "gibberish");
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    // IPO at the lesson's DPO learning rate diverges: reported, not fatal.
    assert!(
        rows[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("diverged"))
    );
    for r in [&rows[0], &rows[2]] {
        let sum = ["win", "tie", "loss"]
            .iter()
            .map(|k| r[*k].as_f64().expect("number"))
            .sum::<f64>();
        assert_abs_diff_eq!(sum, 1.0, epsilon = IDENTITY_ABS);
    }
}

#[test]
fn resampling_less_often_uses_fewer_labels_and_ends_further_from_pi_star() {
    let v = json(&[
        "resample",
        "--scenario",
        "ood-leak",
        "--every",
        "1,4,inf",
        "--json",
    ]);
    let p = v["points"].as_array().expect("points");
    let labels: Vec<u64> = p
        .iter()
        .map(|x| x["labels"].as_u64().expect("labels"))
        .collect();
    // 1000 steps, 64 pairs per batch: 1 + ⌊999/K⌋ batches.
    assert_eq!(labels, vec![64_000, 64 * 250, 64]);
    let kl = |i: usize| p[i]["kl_to_optimal"].as_f64().expect("kl");
    assert!(kl(2) > 10.0 * kl(0), "K = inf {} vs K = 1 {}", kl(2), kl(0));
    assert!(p[2]["every"].is_null());
    // The lesson's claim (ood-leak's file): for every seed, KL(π‖π*) grows
    // from K = 1 to 16 to never, more than tenfold in all.
    for seed in 0..5 {
        let v = json(&[
            "resample",
            "--scenario",
            "ood-leak",
            "--every",
            "1,16,inf",
            "--seed",
            &seed.to_string(),
            "--json",
        ]);
        let k: Vec<f64> = v["points"]
            .as_array()
            .expect("points")
            .iter()
            .map(|x| x["kl_to_optimal"].as_f64().expect("kl"))
            .collect();
        assert!(
            k[0] < k[1] && k[1] < k[2] && k[2] > 10.0 * k[0],
            "seed {seed}: {k:?}"
        );
    }
    // K = 1 is online DPO itself.
    let run = json(&[
        "run",
        "--scenario",
        "ood-leak",
        "--method",
        "online-dpo",
        "--json",
        "--log-every",
        "0",
    ]);
    assert_eq!(p[0]["kl_to_optimal"], run["final"]["kl_to_optimal"]);
}
