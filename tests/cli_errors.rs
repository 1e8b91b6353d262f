//! The command line's refusals: one `error:` line and exit code 2 for
//! every kind of bad input (docs/json-output.md, "Command line").

mod common;

use common::dpo_lab;

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
fn optimal_rejects_bad_input_with_one_line() {
    assert_error(
        &[
            "optimal", "--pi-ref", "0.5,0.5", "--reward", "1,0", "--beta", "0",
        ],
        "--beta",
    );
    assert_error(
        &[
            "optimal", "--pi-ref", "0.5,0.5", "--reward", "1,0", "--beta", "-1",
        ],
        "--beta",
    );
    assert_error(
        &[
            "optimal", "--pi-ref", "0.5,0.5", "--reward", "1,0", "--beta", "NaN",
        ],
        "--beta",
    );
    assert_error(
        &[
            "optimal", "--pi-ref", "0.5,0.6", "--reward", "1,0", "--beta", "1",
        ],
        "sum",
    );
    assert_error(
        &[
            "optimal", "--pi-ref", "1.5,-0.5", "--reward", "1,0", "--beta", "1",
        ],
        "--pi-ref",
    );
    assert_error(
        &[
            "optimal", "--pi-ref", "0.5,0.5", "--reward", "1", "--beta", "1",
        ],
        "--reward",
    );
    assert_error(
        &[
            "optimal", "--pi-ref", "0.5,x", "--reward", "1,0", "--beta", "1",
        ],
        "--pi-ref",
    );
    assert_error(
        &[
            "optimal", "--pi-ref", "0.5,0.5", "--reward", "inf,0", "--beta", "1",
        ],
        "--reward",
    );
    assert_error(
        &["optimal", "--pi-ref", "0.5,0.5", "--reward", "1,0"],
        "--beta",
    );
    assert_error(&["frobnicate"], "frobnicate");
    assert_error(
        &[
            "compare",
            "--scenario",
            "ood-leak",
            "--a",
            "dpo",
            "--b",
            "ipo",
            "--seeds",
            "0",
        ],
        "--seeds",
    );
    // log Z = r/β would overflow: an error, not a null in the JSON.
    assert_error(
        &[
            "optimal", "--pi-ref", "1", "--reward", "1e308", "--beta", "1e-4",
        ],
        "--reward",
    );
}

#[test]
fn scenario_and_option_errors() {
    assert_error(
        &["run", "--scenario", "no-such-lesson", "--method", "dpo"],
        "no-such-lesson",
    );
    assert_error(
        &["run", "--scenario", "ood-leak", "--method", "kto"],
        "method",
    );
    assert_error(
        &[
            "run",
            "--scenario",
            "ood-leak",
            "--method",
            "dpo",
            "--beta",
            "0",
        ],
        "train.beta",
    );
    assert_error(
        &[
            "run",
            "--scenario",
            "ood-leak",
            "--method",
            "dpo",
            "--lr",
            "-1",
        ],
        "train.lr",
    );
    assert_error(
        &[
            "run",
            "--scenario",
            "ood-leak",
            "--method",
            "dpo",
            "--optimizer",
            "rmsprop",
        ],
        "possible values: sgd, adam",
    );
    assert_error(
        &[
            "run",
            "--scenario",
            "ood-leak",
            "--method",
            "dpo",
            "--loss",
            "kto-pair",
        ],
        "possible values: dpo, ipo, hinge, cdpo, robust",
    );
    assert_error(
        &[
            "run",
            "--scenario",
            "ood-leak",
            "--method",
            "dpo",
            "--policy",
            "autoregressive",
        ],
        "policy.kind",
    );
    assert_error(
        &[
            "run",
            "--scenario",
            "ood-leak",
            "--method",
            "online-dpo",
            "--resample-every",
            "0",
        ],
        "online.resample_every",
    );
    assert_error(
        &[
            "run",
            "--scenario",
            "ood-leak",
            "--method",
            "online-dpo",
            "--annotator",
            "oracle",
        ],
        "possible values: bt, argmax, reward-model",
    );
    assert_error(
        &[
            "run",
            "--scenario",
            "ood-leak",
            "--method",
            "ipo",
            "--lr",
            "1e9",
        ],
        "diverged",
    );
    assert_error(
        &[
            "compare",
            "--scenario",
            "ood-leak",
            "--a",
            "dpo",
            "--b",
            "ipo",
            "--tie-margin",
            "-1",
        ],
        "--tie-margin",
    );
    assert_error(
        &[
            "sweep",
            "--scenario",
            "ood-leak",
            "--method",
            "dpo",
            "--beta",
            "0.1,-2",
        ],
        "--beta",
    );
}

#[test]
fn broken_scenario_files_are_one_line_errors() {
    let dir = std::env::temp_dir().join(format!("dpo-lab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let cases = [
        ("syntax.toml", "name = \"x\"\n[space\n", "line 2"),
        (
            "type.toml",
            "name = \"x\"\n[space]\nresponses = [\"A\"]\n[reference]\nprobs = \"no\"\n[reward]\nvalues=[1.0]\n",
            "line 5",
        ),
        ("unknown.toml", "name = \"x\"\ncolour = 1\n", "colour"),
        (
            "sum.toml",
            "name = \"x\"\n[space]\nresponses = [\"A\", \"B\"]\n[reference]\nprobs = [0.5, 0.6]\n[reward]\nvalues=[1.0, 0.0]\n",
            "reference.probs",
        ),
    ];
    for (file, text, needle) in cases {
        let path = dir.join(file);
        std::fs::write(&path, text).expect("write");
        assert_error(
            &[
                "run",
                "--scenario",
                path.to_str().expect("utf8"),
                "--method",
                "dpo",
            ],
            needle,
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn no_display_is_one_clear_line() {
    for args in [&[][..], &["app"][..]] {
        let out = dpo_lab(args);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1);
        // Without the `app` feature there is no window to open at all.
        let expected = if cfg!(feature = "app") {
            "no display"
        } else {
            "built without the desktop app"
        };
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn best_of_n_refuses_bad_counts() {
    assert_error(
        &["best-of-n", "--scenario", "optimal-policy", "--n", "0"],
        "--n",
    );
    assert_error(
        &["best-of-n", "--scenario", "optimal-policy", "--n", "2,x"],
        "entry 1",
    );
    assert_error(
        &["best-of-n", "--scenario", "optimal-policy", "--n", "-3"],
        "--n",
    );
}

#[test]
fn loss_beside_method_ipo_is_refused() {
    assert_error(
        &[
            "run",
            "--scenario",
            "ood-leak",
            "--method",
            "ipo",
            "--loss",
            "hinge",
        ],
        "loss: method \"ipo\" always uses the IPO loss",
    );
}
