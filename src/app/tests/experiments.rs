//! The Experiments and Compare tabs.

use super::*;

#[test]
fn over_optimisation_stop_computes_and_shows_every_peak() {
    let mut h = harness(None);
    h.run_steps(1);
    pick_lesson(&mut h, "16 · Reward over-optimisation");
    assert!(
        h.state().experiments.busy(),
        "the stop starts its experiment"
    );
    // The window keeps drawing while it computes.
    h.run_steps(3);
    wait_for_experiment(&mut h);
    assert_eq!(h.state().experiments.error, None);
    let report = dpo_lab::overoptimisation::over_optimisation(
        &h.state().session().scenario,
        &[30, 300, 3000],
        dpo_lab::overoptimisation::DEFAULT_SEEDS,
    )
    .expect("runs");
    for s in &report.sizes {
        let shown = format!(
            "N = {}: gold peaks at d = {} with {}",
            s.pairs,
            dpo_lab::numerics::tick(s.best_of_n.peak.sqrt_kl),
            dpo_lab::numerics::tick(s.best_of_n.peak.gold)
        );
        assert!(
            h.query_by_label_contains(&shown).is_some(),
            "{shown} on screen"
        );
    }
    h.get_by_label("the RLHF run").click();
    h.run_steps(2);
    let rl = &report.sizes[0].rlhf.peak;
    let shown = format!("gold peaks at d = {}", dpo_lab::numerics::tick(rl.sqrt_kl));
    assert!(
        h.query_by_label_contains(&shown).is_some(),
        "{shown} on screen"
    );
}

/// Stop 13 opens on its own experiment, computed on arrival on its own
/// scenario: no result of another scenario is shown meanwhile, and the
/// numbers are the library's.
#[test]
fn resampling_stop_computes_its_own_scenario_on_arrival() {
    let mut h = harness(None);
    h.run_steps(1);
    // Another scenario's resampling result first, to be sure it is not
    // shown at the stop.
    h.state_mut().experiments.selected = crate::app::experiments::Experiment::Resampling;
    let session = h.state().session().scenario.name().to_string();
    assert_eq!(session, "optimal-policy");
    pick_lesson(&mut h, "13 · Resample often");
    assert_eq!(h.state().session().scenario.name(), "resampling");
    assert!(
        h.state().experiments.busy(),
        "the stop starts its experiment"
    );
    assert!(
        h.query_by_label_contains("Computed on").is_none(),
        "no stale result while it computes"
    );
    wait_for_experiment(&mut h);
    assert_eq!(h.state().experiments.error, None);
    assert!(
        h.query_by_label_contains("Computed on resampling")
            .is_some()
    );
    let every =
        dpo_lab::sweep::parse_every("every", dpo_lab::sweep::DEFAULT_EVERY).expect("parses");
    let points = dpo_lab::sweep::resample_sweep(
        &h.state().session().scenario,
        &every,
        &dpo_lab::train::Unwatched,
    )
    .expect("runs");
    // Never resampling drifts onto answers no batch drew, as the stop says.
    let never = points.last().expect("a point");
    assert!(never.unseen_mass > points[0].unseen_mass);
    assert!(never.kl_to_optimal > points[0].kl_to_optimal);
    assert!(h.query_by_label("mass never drawn").is_some());
}

#[test]
fn experiments_tab_computes_the_remedies_table_and_the_resampling_curve() {
    let mut h = harness(None);
    h.run_steps(1);
    // Stop 12 opens on the table, computed on arrival for its scenario.
    pick_lesson(&mut h, "12 · Remedies for the leak");
    assert_eq!(
        h.state().settings.tab,
        crate::app::settings::Tab::Experiments
    );
    wait_for_experiment(&mut h);
    assert!(
        h.query_by_label_contains("Computed on the-the-the at")
            .is_some()
    );
    assert_eq!(h.state().experiments.error, None);
    for row in ["dpo", "dpo:rpo", "dpo:dpop", "ipo", "online-dpo", "rlhf"] {
        assert!(h.query_by_label(row).is_some(), "row {row} on screen");
    }
    h.get_by_label("Resampling").click();
    h.run_steps(2);
    h.get_by_label("Compute on the-the-the").click();
    h.run_steps(1);
    wait_for_experiment(&mut h);
    assert_eq!(h.state().experiments.error, None);
    assert!(h.query_by_label("never").is_some());
}

#[test]
fn online_vs_offline_table_shows_the_exact_win_rate() {
    let mut h = harness(None);
    h.run_steps(1);
    pick_lesson(&mut h, &stop_title(6));
    fast(&mut h);
    h.get_by_label("Play").click();
    h.run_steps(20);
    let hh = crate::app::compare::current(h.state().session()).expect("both methods run");
    assert!(hh.win > hh.loss);
    let shown = format!("{:.2}%", 100.0 * hh.win);
    assert!(h.query_by_label(&shown).is_some(), "{shown} on screen");
}
