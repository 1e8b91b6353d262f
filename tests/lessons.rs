//! Each built-in scenario's lesson emerges from the dynamics: these tests
//! train with the scenario's own settings and check the claim its
//! description makes.

use dpo_lab::compare::head_to_head;
use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{Overrides, Scenario, builtins};
use dpo_lab::train::{Outcome, train};

fn run(name: &str, method: MethodKind, o: Overrides) -> (Scenario, Outcome) {
    let s = Scenario::load(name, &o).expect("built-in scenario loads");
    let out = train(&s.run_config(method), |_, _| {}).expect("trains");
    (s, out)
}

fn prob(s: &Scenario, out: &Outcome, name: &str) -> f64 {
    out.final_log_probs[s.problem.space.index_of(name).expect("in space")].exp()
}

fn reference(s: &Scenario, name: &str) -> f64 {
    s.problem.log_ref[s.problem.space.index_of(name).expect("in space")].exp()
}

#[test]
fn every_builtin_checks_and_has_a_description() {
    let all = builtins();
    assert_eq!(all.len(), dpo_lab::scenario::BUILTIN.len());
    for raw in all {
        assert!(
            raw.description.len() > 200,
            "{} needs a description a teacher can read",
            raw.name
        );
        Scenario::check(raw.clone()).unwrap_or_else(|e| panic!("{}: {e}", raw.name));
    }
    // Every file in assets/scenarios is built in.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios"))
        .expect("assets/scenarios exists")
        .count();
    assert_eq!(files, dpo_lab::scenario::BUILTIN.len());
}

#[test]
fn optimal_policy_dpo_converges_to_pi_star() {
    let (_, out) = run("optimal-policy", MethodKind::Dpo, Overrides::default());
    assert!(
        out.final_metrics.kl_to_optimal < 1e-3,
        "{}",
        out.final_metrics.kl_to_optimal
    );
}

#[test]
fn ratio_intuition_equal_implicit_rewards_unequal_gains() {
    let (s, out) = run("ratio-intuition", MethodKind::Dpo, Overrides::default());
    let h = |n: &str| {
        out.final_log_probs[s.problem.space.index_of(n).expect("ok")]
            - s.problem.log_ref[s.problem.space.index_of(n).expect("ok")]
    };
    let (ha, hb) = (h("likely good"), h("unlikely good"));
    assert!(ha > 0.05, "both chosen answers gain: {ha}");
    assert!((ha - hb).abs() < 1e-9, "same implicit reward: {ha} vs {hb}");
    let gain_a = prob(&s, &out, "likely good") - 0.8;
    let gain_b = prob(&s, &out, "unlikely good") - 0.1;
    assert!(
        (gain_a / gain_b - 8.0).abs() < 1e-6,
        "absolute gains in the reference ratio 8:1, got {}",
        gain_a / gain_b
    );
}

#[test]
fn ood_leak_offline_triples_ood_mass_online_does_not_raise_it() {
    let (_, off) = run("ood-leak", MethodKind::Dpo, Overrides::default());
    let (_, on) = run("ood-leak", MethodKind::OnlineDpo, Overrides::default());
    let start = off.history[0].1.ood_mass;
    assert!((start - 0.05).abs() < 1e-12);
    assert!(
        off.final_metrics.ood_mass >= 3.0 * start,
        "offline {}",
        off.final_metrics.ood_mass
    );
    assert!(
        on.final_metrics.ood_mass <= start,
        "online {}",
        on.final_metrics.ood_mass
    );
}

#[test]
fn the_the_the_leaks_under_offline_loglinear_dpo() {
    let (s, out) = run("the-the-the", MethodKind::Dpo, Overrides::default());
    // Never in the data, tiny reference probability.
    let y0 = s.problem.space.index_of("the the the").expect("in space");
    assert!(!s.data.in_data[y0]);
    assert!(reference(&s, "the the the") < 1e-3);
    let top = out
        .final_metrics
        .ood_top
        .as_ref()
        .expect("there are OOD responses");
    assert_eq!(top.response, "the the the");
    assert!(
        top.probability >= 3.0 * top.reference,
        "{} vs {}",
        top.probability,
        top.reference
    );
    assert!(
        top.implicit_reward > out.final_metrics.rewards_chosen,
        "β·h(the the the) = {} vs chosen mean {}",
        top.implicit_reward,
        out.final_metrics.rewards_chosen
    );
    // … although it is the worst answer under the true reward.
    let worst = s
        .problem
        .reward
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    assert_eq!(s.problem.reward[y0], worst);
}

#[test]
fn the_the_the_online_dpo_pushes_it_below_its_reference() {
    let (s, out) = run("the-the-the", MethodKind::OnlineDpo, Overrides::default());
    assert!(prob(&s, &out, "the the the") < reference(&s, "the the the"));
}

#[test]
fn the_the_the_autoregressive_leak_is_much_weaker() {
    let (s, ll) = run("the-the-the", MethodKind::Dpo, Overrides::default());
    let (_, ar) = run(
        "the-the-the",
        MethodKind::Dpo,
        Overrides {
            policy: Some("autoregressive".into()),
            ..Default::default()
        },
    );
    let gain = |o: &Outcome| prob(&s, o, "the the the") / reference(&s, "the the the");
    assert!(
        gain(&ar) < gain(&ll) / 10.0,
        "AR ×{} vs log-linear ×{}",
        gain(&ar),
        gain(&ll)
    );
    assert!(ar.final_metrics.ood_mass < ll.final_metrics.ood_mass);
}

#[test]
fn offline_vs_online_online_wins_clearly_more_than_it_loses() {
    let s = Scenario::load("offline-vs-online", &Overrides::default()).expect("ok");
    let on = train(&s.run_config(MethodKind::OnlineDpo), |_, _| {}).expect("ok");
    let off = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("ok");
    let h = head_to_head(
        &on.final_log_probs,
        &off.final_log_probs,
        &s.problem.reward,
        0.0,
    );
    assert!(h.win > 2.0 * h.loss && h.win - h.loss > 0.3, "{h:?}");
    assert!(h.quality_a > h.quality_b);
    assert!((h.win + h.tie + h.loss - 1.0).abs() < 1e-12);
}

#[test]
fn deterministic_preferences_dpo_ignores_beta_ipo_does_not() {
    for beta in [0.1, 1.0] {
        let o = Overrides {
            beta: Some(beta),
            ..Default::default()
        };
        let (s, dpo) = run("deterministic-preferences", MethodKind::Dpo, o.clone());
        let (_, ipo) = run("deterministic-preferences", MethodKind::Ipo, o);
        // DPO: B collapses towards zero whatever β.
        assert!(
            prob(&s, &dpo, "B") < 1e-2 * reference(&s, "B"),
            "β {beta}: DPO π(B) = {}",
            prob(&s, &dpo, "B")
        );
        // IPO: the log-ratio margin settles at 1/(2β).
        let h = |o: &Outcome, n: &str| {
            o.final_log_probs[s.problem.space.index_of(n).expect("ok")]
                - s.problem.log_ref[s.problem.space.index_of(n).expect("ok")]
        };
        let margin = h(&ipo, "A") - h(&ipo, "B");
        assert!(
            (margin - 1.0 / (2.0 * beta)).abs() < 1e-6,
            "β {beta}: IPO margin {margin}"
        );
    }
}

#[test]
fn large_space_online_dpo_finds_what_offline_dpo_cannot_see() {
    let s = Scenario::load("large-space", &Overrides::default()).expect("ok");
    assert_eq!(s.problem.len(), 100_000);
    let on = train(&s.run_config(MethodKind::OnlineDpo), |_, _| {}).expect("ok");
    let off = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("ok");
    assert!(
        off.history[0].1.ood_mass > 0.6,
        "most reference mass is outside the data"
    );
    let h = head_to_head(
        &on.final_log_probs,
        &off.final_log_probs,
        &s.problem.reward,
        0.0,
    );
    assert!(h.win > 0.9, "{h:?}");
}
