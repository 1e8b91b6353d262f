//! Named regressions for the failures a fuzzer found (issue 11): each was an
//! abort, a hang, an unbounded read, work that could not finish, or an
//! error naming the wrong thing. Each must now be one `error:` line naming
//! the right setting, exit code 2, quickly.

mod common;

use std::path::PathBuf;
use std::time::Duration;

const BASE: &str = r#"name = "base"
[space]
kind = "flat"
responses = ["A", "B"]
[reference]
probs = [0.5, 0.5]
[reward]
values = [1.0, 0.0]
[data]
kind = "pairs"
pairs = [["A", "B"]]
"#;

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dpo-lab-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write scenario");
    path
}

/// Runs `args`; asserts one `error:` line mentioning `needle`, exit 2,
/// within a deadline that only a hang or a huge allocation would miss.
#[track_caller]
fn assert_quick_error(args: &[&str], needle: &str) {
    // Only a hang misses this deadline, on however busy a machine.
    let (code, _, err) = common::run_with_deadline(args, Duration::from_secs(120))
        .unwrap_or_else(|| panic!("{args:?} hung"));
    assert_eq!(code, Some(2), "{args:?}: exit {code:?}, stderr {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err:?}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains(needle),
        "{args:?}: {err:?} should name {needle:?}"
    );
    assert!(!err.contains('\r'));
}

fn run_file(path: &std::path::Path, method: &str) -> Vec<String> {
    vec![
        "run".into(),
        "--scenario".into(),
        path.to_str().expect("utf-8").into(),
        "--method".into(),
        method.into(),
    ]
}

#[track_caller]
fn assert_file_error(name: &str, text: &str, method: &str, needle: &str) {
    let path = write(name, text);
    let args = run_file(&path, method);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_quick_error(&args, needle);
}

/// Aborted with "memory allocation of 24000000000000 bytes failed": the
/// feature names were built before the size limit was checked.
#[test]
fn huge_random_feature_dim_is_refused_before_allocating() {
    for dim in ["1000000000000", "100000000", "30000000"] {
        let text = format!(
            "{BASE}[policy]\nkind = \"loglinear\"\nfeatures = {{ kind = \"random\", dim = {dim}, seed = 1 }}\n"
        );
        assert_file_error("dim.toml", &text, "dpo", "policy.features");
    }
}

/// The same abort through the reward model's features.
#[test]
fn huge_reward_model_features_are_refused_before_allocating() {
    let text = format!(
        "{BASE}[rlhf]\nreward_model = \"loglinear\"\nfeatures = {{ kind = \"random\", dim = 1000000000000, seed = 1 }}\n"
    );
    assert_file_error("rm-dim.toml", &text, "rlhf", "rlhf.features");
}

/// `/dev/zero` was read until memory ran out; `/dev/urandom` for 10 s.
#[test]
fn devices_are_not_read() {
    for dev in ["/dev/zero", "/dev/urandom"] {
        if std::path::Path::new(dev).exists() {
            assert_quick_error(
                &["run", "--scenario", dev, "--method", "dpo"],
                "not a regular file",
            );
        }
    }
}

/// A FIFO with no writer blocked forever.
#[cfg(unix)]
#[test]
fn a_fifo_is_not_opened() {
    let dir = std::env::temp_dir().join(format!("dpo-lab-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fifo = dir.join("pipe.toml");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let p = fifo.to_str().expect("utf-8");
        assert_quick_error(
            &["run", "--scenario", p, "--method", "dpo"],
            "not a regular file",
        );
    }
}

/// Large files are refused from their size, not parsed for seconds.
#[test]
fn a_file_beyond_the_limit_is_refused_unread() {
    let names: Vec<String> = (0..500_000).map(|i| format!("\"y{i}\"")).collect();
    let text = format!(
        "name = \"big\"\n[space]\nresponses = [{}]\n",
        names.join(",")
    );
    assert_file_error("big.toml", &text, "dpo", "MiB limit");
}

/// `--batch 10000000` × 2,000 steps ran for ≈ 17 minutes.
#[test]
fn work_that_cannot_finish_is_refused_with_its_estimate() {
    assert_quick_error(
        &[
            "run",
            "--scenario",
            "large-space",
            "--method",
            "dpo",
            "--batch",
            "10000000",
            "--steps",
            "2000",
        ],
        "train.batch",
    );
    // online.batch = 1e6 pairs × 300 steps.
    let text = format!("{BASE}[online]\nbatch = 1000000\n[train]\nsteps = 300\n");
    assert_file_error("online.toml", &text, "online-dpo", "online.batch");
    // RLHF's default 2,000 reward-model steps over 4 M population pairs.
    let pop = "name = \"pop\"\n[space]\nsize = 2000\n[reference]\nkind = \"dirichlet\"\nalpha = 1.0\nseed = 1\n[reward]\nkind = \"gaussian\"\nseed = 3\n[data]\nkind = \"population\"\n";
    assert_file_error("pop.toml", pop, "rlhf", "rlhf.rm_steps");
}

/// Refused work names `--allow-long`; with it the same run starts and is
/// still training a second later (it is then killed).
#[test]
fn allow_long_lifts_the_limit() {
    let text = format!("{BASE}[train]\nsteps = 100000000\nlog_every = 0\n");
    let path = write("long.toml", &text);
    let p = path.to_str().expect("utf-8");
    let refused = common::run_with_deadline(
        &["run", "--scenario", p, "--method", "online-dpo"],
        Duration::from_secs(10),
    )
    .expect("no hang");
    assert_eq!(refused.0, Some(2), "{}", refused.2);
    assert!(refused.2.contains("--allow-long"), "{}", refused.2);
    let allowed = common::run_with_deadline(
        &[
            "run",
            "--scenario",
            p,
            "--method",
            "online-dpo",
            "--allow-long",
        ],
        Duration::from_secs(1),
    );
    assert!(
        allowed.is_none(),
        "with --allow-long it should still run: {allowed:?}"
    );
}

/// `train.beta = 1e-300` on 100,000 responses was refused only after 10 M
/// sampled pairs had been built (7 s). The data here is also invalid in a
/// way only building it finds (a sampler of the wrong length): the error
/// names β, so β was checked before any data was built — on any machine,
/// without timing it.
#[test]
fn beta_is_checked_before_the_data_is_built() {
    let text = "name = \"b\"\n[space]\nsize = 100000\n[reference]\nkind = \"dirichlet\"\nalpha = 1.0\nseed = 1\n[reward]\nkind = \"gaussian\"\nseed = 3\n[data]\nkind = \"sampled\"\nsize = 10000000\nseed = 1\nsampler = [1.0, 2.0]\n[train]\nbeta = 1e-300\n";
    assert_file_error("beta.toml", text, "dpo", "train.beta");
    // The same data with a valid β: the sampler is what building refuses.
    assert_file_error(
        "sampler.toml",
        &text.replace("beta = 1e-300", "beta = 0.1"),
        "dpo",
        "data.sampler",
    );
}

/// `rm_l2 = 1e300` blamed `--lr` and `--beta`.
#[test]
fn a_diverging_reward_model_names_its_own_settings() {
    let text = format!("{BASE}[rlhf]\nrm_l2 = 1e300\n");
    assert_file_error("l2.toml", &text, "rlhf", "rlhf.rm_l2");
}

/// `reward.std = 1e308` named a derived reward of "y2".
#[test]
fn a_huge_reward_spread_names_reward_std() {
    let text = "name = \"s\"\n[space]\nsize = 3\n[reference]\nkind = \"uniform\"\n[reward]\nkind = \"gaussian\"\nstd = 1e308\n[data]\nkind = \"population\"\n";
    assert_file_error("std.toml", text, "dpo", "reward.std");
}

/// `optimal --beta 1e-320` blamed `--reward`.
#[test]
fn optimal_names_beta_when_r_over_beta_overflows() {
    assert_quick_error(
        &[
            "optimal", "--pi-ref", "0.5,0.5", "--reward", "1,0", "--beta", "1e-320",
        ],
        "--beta",
    );
}

/// `run --beta -1` said `train.beta`, `optimal --beta -1` said `--beta`: a
/// scenario setting is named by its key, with the flag that gave it.
#[test]
fn one_convention_for_naming_settings() {
    assert_quick_error(
        &[
            "run",
            "--scenario",
            "optimal-policy",
            "--method",
            "dpo",
            "--beta",
            "-1",
        ],
        "train.beta (from --beta)",
    );
    assert_quick_error(
        &[
            "sweep",
            "--scenario",
            "optimal-policy",
            "--method",
            "dpo",
            "--beta",
            "0.1,-1",
        ],
        "train.beta (from --beta, entry 1)",
    );
    assert_quick_error(
        &[
            "optimal", "--pi-ref", "0.5,0.5", "--reward", "1,0", "--beta", "-1",
        ],
        "--beta",
    );
}

/// A file with CR-only line endings echoed the whole file, raw `\r` included.
#[test]
fn cr_only_line_endings_give_one_short_line() {
    let text = BASE.replace('\n', "\r");
    assert_file_error("cr.toml", &text, "dpo", "line ");
}

/// Dotted headers ~100 deep gave "recursion limit" without a line.
#[test]
fn deep_nesting_names_its_line() {
    let header = format!("[{}]\n", vec!["a"; 100].join("."));
    assert_file_error("deep.toml", &format!("{BASE}{header}"), "dpo", "line 12");
    let arrays = format!("{BASE}x = {}1{}\n", "[".repeat(200), "]".repeat(200));
    assert_file_error("deep-arrays.toml", &arrays, "dpo", "line 12");
}

/// `pairs = [["A", "B", "C"]]` silently dropped "C".
#[test]
fn a_pair_of_three_is_refused() {
    let text = BASE.replace(r#"[["A", "B"]]"#, r#"[["A", "B", "A"]]"#);
    assert_file_error("three.toml", &text, "dpo", "data.pairs[0]");
}

/// `sweep --beta 1e-6 --lr 1e300 --steps 0 --json` printed `"lr": null`.
#[test]
fn a_scaled_learning_rate_that_overflows_is_an_error() {
    assert_quick_error(
        &[
            "sweep",
            "--scenario",
            "optimal-policy",
            "--method",
            "dpo",
            "--beta",
            "1e-6",
            "--lr",
            "1e300",
            "--steps",
            "0",
            "--json",
        ],
        "train.lr (from --lr)",
    );
}

/// `--csv` wrote a temporary file and renamed it over the path, so a
/// symlink was replaced by a file and a device or FIFO destroyed. A symlink
/// is now written through and anything not a regular file is written
/// directly, left in place.
#[cfg(unix)]
#[test]
fn csv_writes_through_symlinks_and_never_replaces_a_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let dir = std::env::temp_dir().join(format!("dpo-lab-csv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = write("csv.toml", BASE);
    let p = path.to_str().expect("utf-8");
    // A symlink to a file: the file gets the rows, the link stays a link.
    let real = dir.join("real.csv");
    std::fs::write(&real, "old").expect("write");
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let csv_to = |target: &std::path::Path| {
        let out = common::dpo_lab(&[
            "run",
            "--scenario",
            p,
            "--method",
            "dpo",
            "--steps",
            "5",
            "--csv",
            target.to_str().expect("utf-8"),
        ]);
        assert!(out.status.success(), "{out:?}");
    };
    csv_to(&link);
    let meta = std::fs::symlink_metadata(&link).expect("link");
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    let text = std::fs::read_to_string(&real).expect("read");
    assert!(text.starts_with("step,"), "{text}");
    // A FIFO: written directly (a reader drains it), still a FIFO after.
    let fifo = dir.join("fifo.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read fifo"))
    };
    csv_to(&fifo);
    let got = reader.join().expect("reader");
    assert!(got.starts_with("step,"), "{got}");
    let meta = std::fs::symlink_metadata(&fifo).expect("fifo");
    assert!(meta.file_type().is_fifo(), "the FIFO was replaced");
    // A folder is refused with one line.
    assert_quick_error(
        &[
            "run",
            "--scenario",
            p,
            "--method",
            "dpo",
            "--csv",
            dir.to_str().expect("utf-8"),
        ],
        "folder",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// 50 prompts over population data on 2,000 responses allocated ~96 MB
/// each before any check (6.6 GB, an abort under a 4 GiB limit): the
/// data's memory is now estimated and refused before it is allocated.
#[test]
fn many_prompts_over_population_data_are_refused_before_allocation() {
    let mut text = String::from(
        "name = \"many\"\n[space]\nsize = 2000\n[reference]\nkind = \"dirichlet\"\nalpha = 1.0\nseed = 1\n[reward]\nkind = \"gaussian\"\nseed = 3\n[data]\nkind = \"population\"\n",
    );
    for k in 0..50 {
        text.push_str(&format!("[[prompts]]\nname = \"p{k}\"\n"));
    }
    assert_file_error("many.toml", &text, "dpo", "prompts");
}

/// Every loss at extreme β and learning rates, on a flat and a sequence
/// lesson: finite metrics, or a clean error — and a loss that ends far
/// above its start is never silent (55 of 360 such runs once ended with at
/// most "not converged … a larger learning rate would still change the
/// policy"). Prints the tally by outcome.
#[test]
fn every_loss_at_extreme_beta_and_lr_is_finite_or_refused_and_never_silently_diverges() {
    use dpo_lab::method::MethodKind;
    use dpo_lab::scenario::{Overrides, Scenario};
    use dpo_lab::train::Run;
    use strum::IntoEnumIterator;
    let (mut cases, mut refused, mut warned, mut clean) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for scenario in ["ood-leak", "the-the-the"] {
        for loss in dpo_lab::loss::LossName::iter() {
            for beta in [1e-4, 1e-2, 1.0, 1e2, 1e4, 1e12] {
                for lr in [1e-3, 1.0, 1e3, 1e6] {
                    cases += 1;
                    let o = Overrides {
                        beta: Some(beta),
                        lr: Some(lr),
                        loss: Some(loss),
                        steps: Some(60),
                        log_every: Some(0),
                        ..Overrides::default()
                    };
                    let at = format!("{scenario} {} β {beta:e} lr {lr:e}", <&str>::from(loss));
                    let Ok(s) = Scenario::load(scenario, &o) else {
                        refused += 1;
                        continue;
                    };
                    let run = Run::new(&s.run_config(MethodKind::Dpo)).and_then(|mut run| {
                        let start = run.metrics()?.loss;
                        while !run.finished() {
                            run.step()?;
                        }
                        let end = run.metrics()?;
                        Ok((start, end, run.warnings(run.grad_norm())))
                    });
                    match run {
                        Err(e) => {
                            refused += 1;
                            if e.to_string().contains('\n') || e.to_string().is_empty() {
                                failures.push(format!("{at}: error not one line: {e:?}"));
                            }
                        }
                        Ok((start, end, warnings)) => {
                            if !end.loss.is_finite() || !end.expected_reward.is_finite() {
                                failures.push(format!("{at}: non-finite {end:?}"));
                            }
                            if dpo_lab::train::loss_diverged(start, end.loss) {
                                if warnings.iter().any(|w| w.starts_with("diverged")) {
                                    warned += 1;
                                } else {
                                    failures.push(format!(
                                        "{at}: loss {start} → {} with warnings {warnings:?}",
                                        end.loss
                                    ));
                                }
                            } else {
                                clean += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    println!(
        "{cases} cases: {refused} clean errors, {warned} divergences warned, {clean} finished, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Misattributed errors: β's range check on a later prompt named
/// `prompts[0].train.beta` without the flag; a tiny DiscoPOP τ diverged and
/// blamed the learning rate; a huge length bonus on 20 M responses was
/// refused only after the reference was built; 10⁸ cheap steps were
/// accepted at an estimate of 12 s (real: ~160 s).
#[test]
fn errors_name_their_own_setting_and_cheap_ones_come_first() {
    let prompts =
        format!("{BASE}[[prompts]]\nname = \"second\"\nreward = {{ values = [5.0, 0.0] }}\n");
    let path = write("prompts-beta.toml", &prompts);
    let p = path.to_str().expect("utf-8");
    assert_quick_error(
        &[
            "run",
            "--scenario",
            p,
            "--method",
            "dpo",
            "--beta",
            "1e-300",
        ],
        "train.beta (from --beta)",
    );
    let tau = format!("{BASE}[train]\nloss = \"discopop\"\ndiscopop_tau = 1e-300\n");
    assert_file_error("tau.toml", &tau, "dpo", "train.discopop_tau");
    let bonus = "name = \"b\"\n[space]\nsize = 20000000\n[reference]\nkind = \"dirichlet\"\nalpha = 1.0\nseed = 1\n[reward]\nkind = \"gaussian\"\nseed = 3\n[data]\nkind = \"sampled\"\nsize = 10\nlength_bonus = -1e300\n";
    assert_file_error("bonus.toml", bonus, "dpo", "data.length_bonus");
    let steps = format!("{BASE}[train]\nsteps = 100000000\n");
    assert_file_error("steps.toml", &steps, "rlhf", "train.steps");
}
