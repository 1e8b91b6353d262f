//! The loss family's known fixed points, each reached by training on one
//! pair of two answers (tabular, plain gradient descent): hinge stops once
//! βΔ ≥ 1, IPO at Δ = 1/(2β), conservative DPO at βΔ = ln((1−ε)/ε), SPPO
//! where its two squared terms balance against the normaliser. Robust DPO
//! has none (its loss falls for ever in Δ), which is checked too.

use approx::assert_abs_diff_eq;
use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{RawScenario, Scenario};
use dpo_lab::tolerance::IDENTITY_ABS;
use dpo_lab::tolerance::ROUNDING_ABS;
use dpo_lab::train::train;

/// `(ρ_w, ρ_l)` after training `loss` on the one pair `(w, l)` of the
/// scenario whose problem is `problem` (TOML tables before `[data]`).
fn trained_pair(
    problem: &str,
    (w, l): (&str, &str),
    loss: &str,
    (beta, lr, steps): (f64, f64, u64),
    extra: &str,
) -> (f64, f64) {
    let text = format!(
        r#"name = "one-pair"
{problem}
[data]
kind = "pairs"
pairs = [["{w}", "{l}"]]
[train]
beta = {beta}
lr = {lr}
steps = {steps}
loss = "{loss}"
log_every = 0
{extra}
"#
    );
    let raw = RawScenario::parse(&text, "one-pair").expect("parses");
    let s = Scenario::check(raw).expect("checks");
    let out = train(&s.run_config(MethodKind::Dpo), |_, _| {}).expect("trains");
    let at = |name: &str| {
        let y = s.problem.space.index_of(name).expect("in the space");
        out.final_log_probs[y] - s.problem.log_ref[y]
    };
    (at(w), at(l))
}

/// Two flat answers, A ≻ B.
fn one_pair(loss: &str, beta: f64, lr: f64, steps: u64, extra: &str) -> (f64, f64) {
    let problem = "[space]\nresponses = [\"A\", \"B\"]\n[reference]\nprobs = [0.6, 0.4]\n[reward]\nvalues = [1.0, 0.0]";
    trained_pair(problem, ("A", "B"), loss, (beta, lr, steps), extra)
}

#[test]
fn hinge_stops_once_the_margin_reaches_one_over_beta() {
    for beta in [0.5, 1.0, 2.0] {
        let (hw, hl) = one_pair("hinge", beta, 0.1, 20_000, "");
        let u = beta * (hw - hl);
        // It stops at the first step past the kink: βΔ ∈ [1, 1 + step).
        assert!(
            (1.0..1.0 + 2.0 * 0.1 * beta * beta + 1e-12).contains(&u),
            "β {beta}: βΔ = {u}"
        );
    }
}

#[test]
fn ipo_converges_to_a_margin_of_one_over_two_beta() {
    for beta in [0.25, 0.5, 1.0] {
        let (hw, hl) = one_pair("ipo", beta, 0.05, 20_000, "");
        assert!(
            (hw - hl - 1.0 / (2.0 * beta)).abs() < IDENTITY_ABS,
            "β {beta}: Δ = {}",
            hw - hl
        );
    }
}

#[test]
fn conservative_dpo_converges_to_its_label_noise_margin() {
    for (beta, eps) in [(0.5f64, 0.1f64), (1.0, 0.2), (2.0, 0.3)] {
        let (hw, hl) = one_pair(
            "cdpo",
            beta,
            1.0 / (beta * beta),
            50_000,
            &format!("label_smoothing = {eps}"),
        );
        let target = ((1.0 - eps) / eps).ln();
        assert!(
            (beta * (hw - hl) - target).abs() < 1e-7,
            "β {beta} ε {eps}: βΔ = {}",
            beta * (hw - hl)
        );
    }
}

#[test]
fn sppo_hard_balances_its_two_terms_against_the_normaliser() {
    // On two answers the tabular gradient vanishes where
    // (ρ_w − t)·π_l = (ρ_l + t)·π_w, t = 1/(2β).
    for beta in [0.5, 1.0, 2.0] {
        let (hw, hl) = one_pair("sppo_hard", beta, 0.05, 50_000, "");
        let (pw, pl) = (0.6 * hw.exp(), 0.4 * hl.exp());
        let t = 1.0 / (2.0 * beta);
        assert!(
            ((hw - t) * pl - (hl + t) * pw).abs() < IDENTITY_ABS,
            "β {beta}: ρ_w {hw}, ρ_l {hl}"
        );
        assert_abs_diff_eq!(pw, -(pl - 1.0), epsilon = ROUNDING_ABS);
    }
}

#[test]
fn robust_dpo_has_no_fixed_point_on_one_pair() {
    // Its derivative −[(1−ε)σ(−u) + εσ(u)]/(1−2ε) is negative for every u:
    // the margin keeps growing with more steps.
    let (a, b) = one_pair("robust", 1.0, 1.0, 1_000, "label_smoothing = 0.2");
    let (c, d) = one_pair("robust", 1.0, 1.0, 4_000, "label_smoothing = 0.2");
    assert!(c - d > a - b + 0.5, "{} then {}", a - b, c - d);
}

/// `(ρ_w, ρ_l)` after training `loss` on the one sequence pair "x y" ≻ "x"
/// (vocab {x, y}, max_len 3, tabular policy): n counts the end token, so
/// n_w = 3 and n_l = 2.
fn one_sequence_pair(loss: &str, beta: f64, lr: f64, steps: u64, extra: &str) -> (f64, f64) {
    let problem = "[space]\nkind = \"sequences\"\nvocab = [\"x\", \"y\"]\nmax_len = 3\n[reference]\nkind = \"bigram\"\nend = [0.4, 0.5]\n[reward]\nkind = \"sequence\"";
    trained_pair(problem, ("x y", "x"), loss, (beta, lr, steps), extra)
}

#[test]
fn the_fixed_points_hold_on_a_sequence_pair_with_the_end_token_counted() {
    for beta in [0.25, 0.5, 1.0] {
        // IPO: the per-token margin ρ_w/3 − ρ_l/2 (end tokens counted).
        let (hw, hl) = one_sequence_pair("ipo", beta, 0.05, 40_000, "");
        let target = 1.0 / (2.0 * beta);
        assert!(
            (hw / 3.0 - hl / 2.0 - target).abs() < IDENTITY_ABS,
            "β {beta}: Δ̄ = {}",
            hw / 3.0 - hl / 2.0
        );
        // Hinge reads the summed margin.
        let (hw, hl) = one_sequence_pair("hinge", beta, 0.1, 20_000, "");
        let u = beta * (hw - hl);
        assert!(
            (1.0..1.0 + 2.0 * 0.1 * beta * beta + 1e-12).contains(&u),
            "β {beta}: βΔ = {u}"
        );
        // Conservative DPO at βΔ = ln((1−ε)/ε).
        let (hw, hl) = one_sequence_pair(
            "cdpo",
            beta,
            1.0 / (beta * beta),
            50_000,
            "label_smoothing = 0.2",
        );
        assert!(
            (beta * (hw - hl) - 4f64.ln()).abs() < 1e-7,
            "β {beta}: βΔ = {}",
            beta * (hw - hl)
        );
    }
}
