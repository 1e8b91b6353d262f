//! Every invalid scenario field gives an error naming the field and why.

use dpo_lab::scenario::{RawScenario, Scenario};

const FLAT: &str = r#"
name = "t"
description = "test"
[space]
responses = ["A", "B", "C"]
[reference]
probs = [0.5, 0.3, 0.2]
[reward]
values = [1.0, 0.0, -1.0]
[data]
kind = "pairs"
pairs = [["A", "B"]]
"#;

const SEQ: &str = r#"
name = "s"
[space]
kind = "sequences"
vocab = ["a", "b"]
max_len = 2
[reference]
kind = "bigram"
start = [0.5, 0.5]
transition = [[0.5, 0.5], [1.0, 0.0]]
end = [0.5, 0.5]
[reward]
kind = "sequence"
tokens = [1.0, 0.0]
"#;

fn check(text: &str) -> Result<Scenario, String> {
    RawScenario::parse(text, "test.toml")
        .and_then(Scenario::check)
        .map_err(|e| e.to_string())
}

#[track_caller]
fn fails(text: &str, needles: &[&str]) {
    let err = check(text).expect_err("should be rejected");
    for n in needles {
        assert!(err.contains(n), "{err:?} should mention {n:?}");
    }
    assert!(!err.contains('\n'), "one line: {err:?}");
}

#[test]
fn the_base_files_are_valid() {
    check(FLAT).expect("flat is valid");
    check(SEQ).expect("sequences are valid");
}

#[test]
fn flat_field_errors() {
    fails(
        &FLAT.replace("[0.5, 0.3, 0.2]", "[0.5, 0.3, 0.3]"),
        &["reference.probs", "sum"],
    );
    fails(
        &FLAT.replace("[0.5, 0.3, 0.2]", "[1.2, -0.4, 0.2]"),
        &["reference.probs", "≥ 0"],
    );
    fails(
        &FLAT.replace("[0.5, 0.3, 0.2]", "[0.5, 0.5]"),
        &["reference.probs", "2 entries"],
    );
    fails(
        &FLAT.replace("[0.5, 0.3, 0.2]", "[0.5, nan, 0.5]"),
        &["reference.probs"],
    );
    fails(
        &FLAT.replace("[1.0, 0.0, -1.0]", "[1.0, 0.0]"),
        &["reward.values"],
    );
    fails(
        &FLAT.replace("[1.0, 0.0, -1.0]", "[1.0, inf, 0.0]"),
        &["reward.values[1]", "finite"],
    );
    fails(
        &FLAT.replace(r#"[["A", "B"]]"#, r#"[["A", "Z"]]"#),
        &["data.pairs[0]", "\"Z\""],
    );
    fails(
        &FLAT.replace(r#"["A", "B", "C"]"#, r#"["A", "A", "C"]"#),
        &["space.responses", "twice"],
    );
    fails(
        &FLAT.replace(r#"kind = "pairs""#, r#"kind = "telepathy""#),
        &["data.kind", "telepathy"],
    );
    fails(
        &format!("{FLAT}[train]\nbeta = -1.0\n"),
        &["train.beta", "(0, 1e12]", "-1"],
    );
    fails(&format!("{FLAT}[train]\nbeta = nan\n"), &["train.beta"]);
    fails(&format!("{FLAT}[train]\nlr = 0.0\n"), &["train.lr"]);
    fails(
        &format!("{FLAT}[train]\nsteps = 1000000000000\n"),
        &["train.steps"],
    );
    fails(
        &format!("{FLAT}[train]\noptimizer = \"lbfgs\"\n"),
        &["train.optimizer", "lbfgs"],
    );
    fails(
        &format!("{FLAT}[train]\nloss = \"cdpo\"\nlabel_smoothing = 0.9\n"),
        &["train.label_smoothing"],
    );
    fails(
        &format!("{FLAT}[policy]\nkind = \"transformer\"\n"),
        &["policy.kind", "transformer"],
    );
    fails(
        &format!("{FLAT}[policy]\nkind = \"loglinear\"\n"),
        &["policy.features"],
    );
    fails(
        &format!("{FLAT}[policy]\nkind = \"loglinear\"\nfeatures = [[1.0], [2.0]]\n"),
        &["policy.features", "2 rows"],
    );
    fails(&format!("{FLAT}[online]\nbatch = 0\n"), &["online.batch"]);
    fails(
        &format!("{FLAT}[online]\nannotator = \"crowd\"\n"),
        &["online.annotator"],
    );
    fails(
        &FLAT.replace("[space]", "[space]\nkind = \"tree\""),
        &["space.kind", "tree"],
    );
    fails(
        &FLAT.replace(
            "probs = [0.5, 0.3, 0.2]",
            "kind = \"dirichlet\"\nalpha = -1.0",
        ),
        &["reference.alpha"],
    );
    fails(
        &FLAT.replace(
            "values = [1.0, 0.0, -1.0]",
            "kind = \"gaussian\"\nstd = -1.0",
        ),
        &["reward.std"],
    );
    fails(&FLAT.replace("values = [1.0, 0.0, -1.0]", ""), &["reward"]);
    fails(&format!("{FLAT}extra = 1\n"), &["extra"]);
    fails(
        &format!("{FLAT}[rlhf]\noptimizer = \"trpo\"\n"),
        &["rlhf.optimizer", "trpo"],
    );
    fails(
        &format!("{FLAT}[rlhf]\nreward_model = \"oracle\"\n"),
        &["rlhf.reward_model"],
    );
    fails(
        &format!("{FLAT}[rlhf]\nreward_model = \"loglinear\"\n"),
        &["rlhf.features"],
    );
    fails(
        &format!("{FLAT}[rlhf]\noptimizer = \"ppo\"\nclip = 1.5\n"),
        &["rlhf.clip"],
    );
    fails(
        &format!("{FLAT}[rlhf]\noptimizer = \"ppo\"\nepochs = 0\n"),
        &["rlhf.epochs"],
    );
    fails(
        &format!("{FLAT}[rlhf]\noptimizer = \"ppo\"\nbatch = 0\n"),
        &["rlhf.batch"],
    );
    fails(
        &format!("{FLAT}[rlhf]\noptimizer = \"ppo\"\nvalue_lr = -1.0\n"),
        &["rlhf.value_lr"],
    );
    fails(&format!("{FLAT}[rlhf]\nlr = 0.0\n"), &["rlhf.lr"]);
    fails(&format!("{FLAT}[rlhf]\nrm_lr = nan\n"), &["rlhf.rm_lr"]);
    fails(&format!("{FLAT}[rlhf]\nrm_l2 = -1.0\n"), &["rlhf.rm_l2"]);
}

#[test]
fn zero_reference_probability_is_exact_and_guarded() {
    let zero = FLAT.replace("[0.5, 0.3, 0.2]", "[0.5, 0.5, 0.0]");
    let s = check(&zero).expect("zeros are allowed");
    assert_eq!(s.problem.log_ref[2], f64::NEG_INFINITY);
    fails(
        &zero.replace(r#"[["A", "B"]]"#, r#"[["A", "C"]]"#),
        &["data.pairs[0]", "reference probability 0"],
    );
    let sampler = zero.replace(
        r#"kind = "pairs""#,
        "kind = \"population\"\nsampler = [1.0, 1.0, 1.0]",
    );
    fails(&sampler, &["data.sampler", "reference probability is 0"]);
}

#[test]
fn sequence_field_errors() {
    fails(
        &SEQ.replace("max_len = 2", "max_len = 40")
            .replace(r#"["a", "b"]"#, r#"["a", "b", "c", "d"]"#),
        &["more than the limit"],
    );
    fails(
        &SEQ.replace("start = [0.5, 0.5]", "start = [0.5, 0.6]"),
        &["reference.start"],
    );
    fails(
        &SEQ.replace("[[0.5, 0.5], [1.0, 0.0]]", "[[0.5, 0.5]]"),
        &["reference.transition"],
    );
    fails(
        &SEQ.replace("end = [0.5, 0.5]", "end = [0.5, 1.5]"),
        &["reference.end"],
    );
    fails(
        &format!("{SEQ}[[reference.overrides]]\nprefix = \"a z\"\nprobs = [0.5, 0.5, 0.0]\n")
            .replace("[reward]\nkind", "[reward]\nkind"),
        &["reference"],
    );
    fails(
        &SEQ.replace("tokens = [1.0, 0.0]", "tokens = [1.0]"),
        &["reward.tokens"],
    );
    fails(
        &SEQ.replace(r#"["a", "b"]"#, r#"["a", "a"]"#),
        &["space.vocab", "twice"],
    );
    fails(
        &SEQ.replace("max_len = 2", "max_len = 0"),
        &["space.max_len"],
    );
    fails(
        &format!("{SEQ}[policy]\nkind = \"loglinear\"\nfeatures = [\"syntax\"]\n"),
        &["policy.features", "syntax"],
    );
    // Autoregressive on sequences is fine; on a flat space it is not.
    check(&format!("{SEQ}[policy]\nkind = \"autoregressive\"\n")).expect("valid");
}

#[test]
fn population_too_large_for_pairs_is_refused() {
    let big = r#"
name = "big"
[space]
size = 5000
[reference]
kind = "uniform"
[reward]
kind = "gaussian"
"#;
    fails(big, &["data.kind", "sampled"]);
}

#[test]
fn focus_names_responses_of_the_space() {
    let with = |focus: &str| FLAT.replacen("[space]", &format!("focus = {focus}\n[space]"), 1);
    let s = check(&with(r#"["C", "A"]"#)).expect("valid focus");
    assert_eq!(s.focus_responses, vec![2, 0]);
    fails(&with(r#"["Z"]"#), &["focus[0]", "\"Z\" is not a response"]);
    fails(&with(r#"["A", "A"]"#), &["focus[1]", "twice"]);
    let many = format!("[{}]", vec!["\"A\""; 13].join(", "));
    fails(&with(&many), &["focus", "at most 12"]);
    let seq = SEQ.replacen("[space]", "focus = [\"a b\"]\n[space]", 1);
    assert_eq!(check(&seq).expect("valid").focus_responses.len(), 1);
}

/// A pair of an answer with itself trained nothing, silently; an unused
/// NaN hyper-parameter passed whenever its loss was not chosen.
#[test]
fn self_pairs_and_unused_nan_hyper_parameters_are_refused() {
    let text = "name = \"s\"\n[space]\nresponses = [\"A\", \"B\"]\n[reference]\nprobs = [0.5, 0.5]\n[reward]\nvalues = [1.0, 0.0]\n[data]\nkind = \"pairs\"\npairs = [[\"A\", \"B\"], [\"A\", \"A\"]]\n";
    let e = dpo_lab::scenario::RawScenario::parse(text, "s")
        .and_then(dpo_lab::scenario::Scenario::check)
        .expect_err("refused");
    assert!(e.to_string().starts_with("data.pairs[1]"), "{e}");
    let text = "name = \"s\"\n[space]\nresponses = [\"A\", \"B\"]\n[reference]\nprobs = [0.5, 0.5]\n[reward]\nvalues = [1.0, 0.0]\n[data]\nkind = \"pairs\"\npairs = [[\"A\", \"B\"]]\n[train]\nloss = \"dpo\"\nrpo_alpha = nan\n";
    let e = dpo_lab::scenario::RawScenario::parse(text, "s")
        .and_then(dpo_lab::scenario::Scenario::check)
        .expect_err("refused");
    assert!(e.to_string().starts_with("train.rpo_alpha"), "{e}");
}
