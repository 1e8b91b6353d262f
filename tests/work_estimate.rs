//! The work estimate against measured time (`dpo_lab::work`).

use std::time::Instant;

use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{Overrides, Scenario, builtins};
use dpo_lab::train::train_prompts;
use dpo_lab::work::{LIMIT_SECONDS, total};

/// Every built-in lesson with every method is estimated well below the
/// limit, so `--allow-long` is never needed for the lessons.
#[test]
fn every_lesson_is_below_the_limit() {
    for raw in builtins() {
        let scenario = Scenario::check(raw.clone()).expect("built-in checks");
        for m in [
            MethodKind::Dpo,
            MethodKind::OnlineDpo,
            MethodKind::Ipo,
            MethodKind::Rlhf,
            MethodKind::Optimal,
        ] {
            let e = total(&scenario.run_configs(m));
            assert!(
                e.seconds < LIMIT_SECONDS / 2.0,
                "{} {}: estimated {} s",
                raw.name,
                m.name(),
                e.seconds
            );
        }
    }
}

/// Calibration: prints estimated and measured seconds for every lesson and
/// method (run with `cargo test --release --test work_estimate -- --ignored
/// --nocapture`); asserts the estimate is within ×¼…×10 of the measured time.
#[test]
#[ignore = "timing; release builds only"]
fn estimate_matches_measured_time() {
    for raw in builtins() {
        for m in [MethodKind::Dpo, MethodKind::OnlineDpo, MethodKind::Rlhf] {
            let scenario =
                Scenario::load(&raw.name, &Overrides::default()).expect("built-in loads");
            let cfgs = scenario.run_configs(m);
            let e = total(&cfgs);
            let t = Instant::now();
            train_prompts(&cfgs).expect("trains");
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{:<28} {:<11} estimated {:>8.3} s  measured {:>8.3} s  ratio {:>6.2}",
                raw.name,
                m.name(),
                e.seconds,
                secs,
                e.seconds / secs.max(1e-6)
            );
            if secs > 0.05 {
                let ratio = e.seconds / secs;
                assert!(
                    (1.0 / 4.0..=10.0).contains(&ratio),
                    "{} {}: estimate off by {ratio}",
                    raw.name,
                    m.name()
                );
            }
        }
    }
}
