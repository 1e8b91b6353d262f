//! A fuzz property that stays (issue 11): generated scenario files, valid
//! and mutated, across every method, policy class, data kind, loss and
//! annotator. Every run either succeeds with finite numbers or prints one
//! `error:` line and exits 2 — never a panic, an abort or a hang.

mod common;

use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;

const METHODS: [&str; 5] = ["dpo", "online-dpo", "ipo", "rlhf", "optimal"];
const ANNOTATORS: [&str; 3] = ["bt", "argmax", "reward-model"];

/// A number a user might type: ordinary, extreme, or not allowed.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (-3.0f64..3.0).prop_map(|x| format!("{x}")),
        2 => (-4i32..5).prop_map(|e| format!("1e{e}")),
        1 => prop::sample::select(vec!["0.0", "-1.0", "nan", "inf", "1e308", "1e-308", "-0.0"])
            .prop_map(String::from),
    ]
}

fn positive() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (-4i32..4).prop_map(|e| format!("1e{e}")),
        1 => prop::sample::select(vec!["0.0", "-1.0", "nan", "1e300", "1e-300"]).prop_map(String::from),
    ]
}

fn list(len: usize, item: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop::collection::vec(item, len).prop_map(|v| format!("[{}]", v.join(", ")))
}

/// A whole scenario file, usually valid.
fn scenario() -> impl Strategy<Value = String> {
    let flat = (2usize..7).prop_flat_map(|n| {
        let names: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
        let space = format!(
            "[space]\nkind = \"flat\"\nresponses = [{}]\n",
            names.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
        );
        (
            Just(space),
            prop_oneof![
                Just("[reference]\nkind = \"uniform\"\n".to_string()),
                (1u64..5).prop_map(|s| format!("[reference]\nkind = \"dirichlet\"\nalpha = 1.0\nseed = {s}\n")),
                list(n, (0.0f64..1.0).prop_map(|x| format!("{x}")))
                    .prop_map(|p| format!("[reference]\nprobs = {p}\n")),
            ],
            prop_oneof![
                list(n, number()).prop_map(|v| format!("[reward]\nvalues = {v}\n")),
                (positive(), 0u64..4).prop_map(|(s, k)| format!("[reward]\nkind = \"gaussian\"\nstd = {s}\nseed = {k}\n")),
            ],
            prop_oneof![
                Just("[data]\nkind = \"population\"\n".to_string()),
                prop::collection::vec((0..n + 1, 0..n), 1..4).prop_map(|ps| {
                    let p: Vec<String> = ps.iter().map(|(a, b)| format!("[\"r{a}\", \"r{b}\"]")).collect();
                    format!("[data]\nkind = \"pairs\"\npairs = [{}]\n", p.join(", "))
                }),
                (1u64..300, 0u64..3).prop_map(|(s, k)| format!("[data]\nkind = \"sampled\"\nsize = {s}\nseed = {k}\n")),
            ],
            prop_oneof![
                Just("[policy]\nkind = \"tabular\"\n".to_string()),
                (1u64..4).prop_map(|d| format!("[policy]\nkind = \"loglinear\"\nfeatures = {{ kind = \"random\", dim = {d}, seed = 1 }}\n")),
            ],
        )
    });
    let seq = (1usize..3, 1u64..4)
        .prop_map(|(v, l)| {
            let vocab: Vec<String> = ["the", "cat", "sat"][..v]
                .iter()
                .map(|s| format!("{s:?}"))
                .collect();
            (
                format!(
                    "[space]\nkind = \"sequences\"\nvocab = [{}]\nmax_len = {l}\n",
                    vocab.join(", ")
                ),
                "[reference]\nkind = \"uniform\"\n".to_string(),
                format!(
                    "[reward]\nkind = \"sequence\"\ntokens = [{}]\nlength = -0.1\n",
                    vec!["0.5"; v].join(", ")
                ),
                "[data]\nkind = \"population\"\n".to_string(),
                ["tabular", "autoregressive", "loglinear"][l as usize % 3].to_string(),
            )
        })
        .prop_map(|(s, r, w, d, p)| (s, r, w, d, format!("[policy]\nkind = \"{p}\"\n")));
    let train = (
        positive(),
        positive(),
        0u64..40,
        0u64..6,
        prop::sample::select(vec!["sgd", "adam"]),
        prop::sample::select(<dpo_lab::loss::LossName as strum::VariantNames>::VARIANTS.to_vec()),
    )
        .prop_map(|(b, lr, steps, batch, opt, loss)| {
            format!("[train]\nbeta = {b}\nlr = {lr}\nsteps = {steps}\nbatch = {batch}\noptimizer = \"{opt}\"\nloss = \"{loss}\"\n")
        });
    let online =
        (1u64..4, 1u64..20, prop::sample::select(ANNOTATORS.to_vec())).prop_map(|(k, b, a)| {
            format!("[online]\nresample_every = {k}\nbatch = {b}\nannotator = \"{a}\"\n")
        });
    let rlhf = (
        prop::sample::select(vec!["exact", "ppo"]),
        prop::sample::select(vec!["tabular", "loglinear"]),
        1u64..40,
        positive(),
    )
        .prop_map(|(o, m, s, l2)| {
            let features = if m == "loglinear" {
                "features = { kind = \"random\", dim = 2, seed = 3 }\n"
            } else {
                ""
            };
            format!("[rlhf]\noptimizer = \"{o}\"\nreward_model = \"{m}\"\n{features}rm_steps = {s}\nrm_l2 = {l2}\n")
        });
    (prop_oneof![3 => flat, 1 => seq], train, online, rlhf).prop_map(
        |((space, reference, reward, data, policy), train, online, rlhf)| {
            format!("name = \"fuzz\"\ndescription = \"generated\"\n{space}{reference}{reward}{data}{policy}{train}{online}{rlhf}")
        },
    )
}

/// A file, possibly mutated: a line dropped, duplicated or given a bad value.
fn file() -> impl Strategy<Value = String> {
    let garbage = prop::sample::select(vec![
        "\"x\"",
        "-1",
        "1e309",
        "[]",
        "nan",
        "[[1, 2], 3]",
        "{ a = 1 }",
        "18446744073709551615",
        "\"\"",
        "1000000000000",
        "100000000",
    ]);
    (scenario(), 0u8..4, any::<prop::sample::Index>(), garbage).prop_map(|(text, op, at, bad)| {
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let i = at.index(lines.len());
        match op {
            0 => {}
            1 => {
                lines.remove(i);
            }
            2 => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            _ => {
                if let Some((k, _)) = lines[i].clone().split_once('=') {
                    lines[i] = format!("{k}= {bad}");
                }
            }
        }
        lines.join("\n")
    })
}

fn all_numbers_finite(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
        Value::Array(a) => a.iter().all(all_numbers_finite),
        Value::Object(o) => o
            .iter()
            // `ood_top` is null when nothing is outside the data, the
            // reward model when the method fits none.
            .all(|(k, x)| {
                ([
                    "ood_top",
                    "reward_model",
                    "focus",
                    "focus_implicit_reward",
                    "every",
                ]
                .contains(&k.as_str())
                    && x.is_null())
                    || all_numbers_finite(x)
            }),
        _ => true,
    }
}

proptest! {
    #![proptest_config(common::config(600))]

    #[test]
    fn any_scenario_file_runs_or_fails_cleanly(
        text in file(),
        method in prop::sample::select(METHODS.to_vec()),
        other in prop::sample::select(METHODS.to_vec()),
        command in 0u8..9,
        case in 0u32..1_000_000,
    ) {
        let dir = std::env::temp_dir().join("dpo-lab-fuzz");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("case-{}-{case}.toml", std::process::id()));
        std::fs::write(&path, &text).expect("write case");
        let p = path.to_str().expect("utf-8 path");
        let figure_out = dir.join(format!("case-{}-{case}.svg", std::process::id())).to_string_lossy().into_owned();
        let args: Vec<&str> = match command {
            0 => vec!["compare", "--scenario", p, "--a", method, "--b", other, "--json"],
            1 => vec!["sweep", "--scenario", p, "--method", method, "--beta", "0.05,1,20", "--json"],
            2 => vec!["best-of-n", "--scenario", p, "--n", "1,3,1000", "--json"],
            3 => vec!["table", "--scenario", p, "--rows", "dpo,dpo:rpo,ipo,online-dpo", "--json"],
            4 => vec!["resample", "--scenario", p, "--every", "1,7,inf", "--json"],
            5 => vec!["figure", "--scenario", p, "--method", method, "--out", &figure_out, "--width", "300", "--height", "200"],
            _ => vec!["run", "--scenario", p, "--method", method, "--json"],
        };
        let outcome = common::run_with_deadline(&args, Duration::from_secs(20));
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(&figure_out);
        let Some((code, out, err)) = outcome else {
            return Err(TestCaseError::fail(format!("hung (> 20 s) on {method}:\n{text}")));
        };
        if std::env::var_os("DPO_LAB_FUZZ_TALLY").is_some() {
            let warned = out.contains("\"warnings\": [\n") || out.contains("warning:");
            println!("fuzz-case: {} exit {code:?} warned {warned}", args[0]);
        }
        match code {
            Some(0) if command == 5 => {
                prop_assert!(out.starts_with("wrote "), "{}", out);
            }
            Some(0) => {
                let v: Value = serde_json::from_str(&out).map_err(|e| TestCaseError::fail(format!("bad JSON {e}")))?;
                prop_assert!(all_numbers_finite(&v), "non-finite output for {args:?}:\n{text}\n{out}");
            }
            Some(2) => {
                prop_assert_eq!(err.lines().count(), 1, "not one line for {}:\n{}\n{}", method, text, err);
                prop_assert!(err.starts_with("error: "), "{}", err);
                prop_assert!(err.len() < 600, "an error line of {} bytes", err.len());
            }
            other => {
                return Err(TestCaseError::fail(format!("exit {other:?} for {method}:\n{text}\n{err}")));
            }
        }
    }
}
