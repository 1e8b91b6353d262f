//! Every ```console block of the README and of `docs/` is run and its
//! output compared: a number quoted in the documentation is the program's
//! own, today. `python3 scripts/fill-docs.py FILE…` (or
//! `TRYCMD=overwrite cargo test --test docs`) refreshes them after a
//! deliberate change.

#[test]
fn documented_commands_print_what_the_docs_say() {
    trycmd::TestCases::new()
        .register_bin(
            "dpo-lab",
            std::path::Path::new(env!("CARGO_BIN_EXE_dpo-lab")),
        )
        .env("NO_COLOR", "1")
        .case("README.md")
        .case("docs/*.md");
}

/// The defaults docs/scenario-format.md states for omitted keys are the
/// library's own (`TrainSettings`, `OnlineSettings`, `GrpoSettings`
/// defaults): the prose is checked against the one place they live.
#[test]
fn documented_defaults_are_the_librarys() {
    use dpo_lab::rlvr::RlvrSettings;
    use dpo_lab::train::{OnlineSettings, TrainSettings};
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/scenario-format.md"
    ))
    .expect("the format doc");
    let line = |start: &str| -> String {
        doc.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("a line starting {start:?}"))
            .to_string()
    };
    let d = TrainSettings::default();
    let train = line("[train]");
    for want in [
        format!("beta {}", d.beta()),
        format!("lr {}", d.lr()),
        format!("optimizer \"{}\"", d.optimizer().name()),
        format!("steps {}", d.steps()),
        format!("batch {}", d.batch()),
        format!("seed {}", d.seed()),
    ] {
        assert!(
            train.contains(&want),
            "[train] line lacks {want:?}: {train}"
        );
    }
    // log_every's rule, at the default steps.
    assert!(line("log_every =").contains("default steps/50"));
    assert_eq!(d.log_every(), TrainSettings::default_log_every(d.steps()));
    assert_eq!(TrainSettings::default_log_every(d.steps()), d.steps() / 50);
    let o = OnlineSettings::default();
    let online = line("[online]");
    for want in [
        format!("resample_every {}", o.resample_every()),
        format!("batch {}", o.batch()),
        format!("annotator \"{}\"", o.annotator().name()),
    ] {
        assert!(
            online.contains(&want),
            "[online] line lacks {want:?}: {online}"
        );
    }
    let g = RlvrSettings::default().grpo;
    for want in [
        format!("num_generations = {}", g.num_generations),
        format!("loss_type = \"{}\"", <&str>::from(g.loss_type)),
        format!("scale_rewards = \"{}\"", <&str>::from(g.scale_rewards)),
        format!("beta = {:.1}", g.beta),
        format!("epsilon = {}", g.epsilon),
        format!("num_iterations = {}", g.num_iterations),
        format!("expected = {}", g.expected),
    ] {
        assert!(
            doc.lines().any(|l| l.starts_with(&want)),
            "[grpo] lacks {want:?}"
        );
    }
}
