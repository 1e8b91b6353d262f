//! Every loss under its TRL name, checked against an independent
//! re-implementation written from TRL's trainers (`DPOTrainer`,
//! `CPOTrainer`, `ORPOTrainer`, `KTOTrainer`) and, for R-DPO and DPOP which
//! TRL lacks, from the papers — not from `src/loss.rs`.
//!
//! The re-implementation works as TRL does: per-sequence log-probabilities
//! summed over tokens, `n` counting the end token TRL appends (none for a
//! sequence cut at `max_len`), per-pair losses averaged over the batch, the
//! NLL as one token mean over all chosen tokens of the batch, KTO as a mean
//! over its 2N examples. Its gradients come from forward-mode automatic
//! differentiation (dual numbers), its policies are its own (tabular
//! logits; per-prefix softmax rows), and it takes three plain gradient
//! steps. The library must give the same loss at every step and the same
//! policy after three, to 1e-12, on a flat space and on a sequence space
//! with a tabular and with an autoregressive policy.

use dpo_lab::loss::LossName;
use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{RawScenario, Scenario};
use dpo_lab::train::Run;
use strum::VariantNames;

#[path = "support/dual.rs"]
mod dual;
use dual::*;

/// The hyper-parameters every case uses (none at its default).
const BETA: f64 = 0.7;
const LR: f64 = 0.3;
const EPS: f64 = 0.15;
const TAU: f64 = 0.3;
const GAMMA: f64 = 0.4;
const RPO_ALPHA: f64 = 0.6;
const CPO_ALPHA: f64 = 0.8;
const RDPO_ALPHA: f64 = 0.2;
const DPOP_LAMBDA: f64 = 3.0;
const ORPO_LAMBDA: f64 = 0.35;
const W_D: f64 = 1.5;
const W_U: f64 = 0.8;

/// One batch in TRL's terms: per-sequence log-probabilities of the policy
/// and the reference, completion token counts, and KTO's detached KL.
struct Batch {
    chosen: Vec<D>,
    rejected: Vec<D>,
    ref_chosen: Vec<f64>,
    ref_rejected: Vec<f64>,
    n_chosen: Vec<f64>,
    n_rejected: Vec<f64>,
    kl: f64,
}

/// The loss TRL computes for `name` on `b` (R-DPO and DPOP from their
/// papers).
fn trl_loss(name: &str, b: &Batch) -> D {
    let n = b.chosen.len();
    let beta = BETA;
    // At π_ref the policy and the reference are one model, so TRL's log
    // ratio is exactly 0 there (DPOP's kink sits at 0): drop the rounding
    // of the test's own log-softmax.
    let exact = |mut d: D| {
        if d.v.abs() < 1e-13 {
            d.v = 0.0;
        }
        d
    };
    let cl: Vec<D> = (0..n)
        .map(|i| exact(b.chosen[i].add_c(-b.ref_chosen[i])))
        .collect();
    let rl: Vec<D> = (0..n)
        .map(|i| exact(b.rejected[i].add_c(-b.ref_rejected[i])))
        .collect();
    let delta = |i: usize| cl[i].clone() - rl[i].clone();
    let per = |f: &dyn Fn(usize) -> D| mean(&(0..n).map(f).collect::<Vec<_>>());
    // TRL's sft / cross_entropy over the chosen completion tokens.
    let nll = || {
        let mut s = b.chosen[0].scale(0.0);
        for c in &b.chosen {
            s = s - c.clone();
        }
        s.scale(1.0 / b.n_chosen.iter().sum::<f64>())
    };
    let avg = |x: &D, k: f64| x.scale(1.0 / k);
    let smoothed =
        |u: D| -> D { -(u.logsigmoid().scale(1.0 - EPS)) - (-u).logsigmoid().scale(EPS) };
    match name {
        "dpo" => per(&|i| -(delta(i).scale(beta).logsigmoid())),
        "hinge" => per(&|i| (-delta(i).scale(beta)).add_c(1.0).relu()),
        "ipo" => per(&|i| {
            (avg(&cl[i], b.n_chosen[i]) - avg(&rl[i], b.n_rejected[i]))
                .add_c(-1.0 / (2.0 * beta))
                .sq()
        }),
        // TRL ≤ 0.28's sigmoid with label_smoothing.
        "cdpo" => per(&|i| smoothed(delta(i).scale(beta))),
        "robust" => per(&|i| {
            let clean = delta(i).scale(beta).logsigmoid().scale(-(1.0 - EPS));
            let flipped = (-delta(i).scale(beta)).logsigmoid().scale(-EPS);
            (clean - flipped).scale(1.0 / (1.0 - 2.0 * EPS))
        }),
        "exo_pair" => per(&|i| {
            let z = delta(i).scale(beta);
            let (qw, lqw) = (z.sigmoid(), z.logsigmoid());
            let (ql, lql) = ((-z.clone()).sigmoid(), (-z).logsigmoid());
            qw * lqw.add_c(-(-EPS).ln_1p()) + ql * lql.add_c(-EPS.ln())
        }),
        "nca_pair" => per(&|i| {
            let (c, r) = (cl[i].scale(beta), rl[i].scale(beta));
            -c.logsigmoid() - (-c).logsigmoid().scale(0.5) - (-r).logsigmoid().scale(0.5)
        }),
        "bco_pair" => per(&|i| -cl[i].scale(beta).logsigmoid() - (-rl[i].scale(beta)).logsigmoid()),
        "sppo_hard" => per(&|i| cl[i].add_c(-0.5 / beta).sq() + rl[i].add_c(0.5 / beta).sq()),
        "apo_zero" => {
            per(&|i| (-cl[i].scale(beta).sigmoid()).add_c(1.0) + rl[i].scale(beta).sigmoid())
        }
        "apo_down" => {
            per(&|i| cl[i].scale(beta).sigmoid() + (-delta(i).scale(beta).sigmoid()).add_c(1.0))
        }
        "discopop" => per(&|i| {
            let logits = delta(i).scale(beta);
            let m = logits.scale(1.0 / TAU).sigmoid();
            let logistic = -logits.logsigmoid();
            let expo = (-logits).exp();
            logistic * (-m.clone()).add_c(1.0) + expo * m
        }),
        "sft" => nll(),
        "sigmoid_norm" => per(&|i| {
            -(avg(&cl[i], b.n_chosen[i]) - avg(&rl[i], b.n_rejected[i]))
                .scale(beta)
                .logsigmoid()
        }),
        // CPOTrainer, loss_type "simpo" (average log-probs), cpo_alpha 0.
        "simpo" => per(&|i| {
            let logits = (avg(&b.chosen[i], b.n_chosen[i]) - avg(&b.rejected[i], b.n_rejected[i]))
                .add_c(-GAMMA / beta);
            smoothed(logits.scale(beta))
        }),
        // CPOTrainer's defaults: loss_type "sigmoid" on summed log-probs
        // plus cpo_alpha · NLL.
        "cpo" => {
            per(&|i| smoothed((b.chosen[i].clone() - b.rejected[i].clone()).scale(beta)))
                + nll().scale(CPO_ALPHA)
        }
        // Park et al. 2024: max E[r − α|y|] − β KL.
        "rdpo" => per(&|i| {
            -(delta(i).scale(beta)
                + D::constant(
                    RDPO_ALPHA * (b.n_chosen[i] - b.n_rejected[i]),
                    delta(i).g.len(),
                ))
            .logsigmoid()
        }),
        // Pal et al. 2024.
        "dpop" => per(&|i| {
            let pen = (-cl[i].clone()).relu();
            -(delta(i) - pen.scale(DPOP_LAMBDA)).scale(beta).logsigmoid()
        }),
        // TRL ≥ 0.29: loss_type ["sigmoid", "sft"], loss_weights [1, α].
        "rpo" => per(&|i| -(delta(i).scale(beta).logsigmoid())) + nll().scale(RPO_ALPHA),
        // ORPOTrainer: NLL − λ·mean(logsigmoid(log odds)), average log-probs.
        "orpo" => {
            let ratio = per(&|i| {
                let (w, l) = (
                    avg(&b.chosen[i], b.n_chosen[i]),
                    avg(&b.rejected[i], b.n_rejected[i]),
                );
                let log_odds = (w.clone() - l.clone()) - ((-w.exp()).ln_1p() - (-l.exp()).ln_1p());
                log_odds.logsigmoid()
            });
            nll() - ratio.scale(ORPO_LAMBDA)
        }
        // KTOTrainer: desirable and undesirable losses concatenated, nanmean.
        "kto" => {
            let mut all = Vec::new();
            for c in &cl {
                all.push(
                    (-c.add_c(-b.kl).scale(beta).sigmoid())
                        .add_c(1.0)
                        .scale(W_D),
                );
            }
            for r in &rl {
                all.push(
                    (-(-r.add_c(-b.kl)).scale(beta).sigmoid())
                        .add_c(1.0)
                        .scale(W_U),
                );
            }
            mean(&all)
        }
        other => panic!("no re-implementation of {other}"),
    }
}

/// The scenario text of one case with `loss`.
fn scenario(space: &str, pairs: &str, policy: &str, loss: &str) -> String {
    format!(
        r#"name = "trl-check"
{space}
[data]
kind = "pairs"
pairs = {pairs}
[policy]
kind = "{policy}"
[train]
beta = {BETA}
lr = {LR}
steps = 3
log_every = 1
loss = "{loss}"
label_smoothing = {EPS}
discopop_tau = {TAU}
simpo_gamma = {GAMMA}
rpo_alpha = {RPO_ALPHA}
cpo_alpha = {CPO_ALPHA}
rdpo_alpha = {RDPO_ALPHA}
dpop_lambda = {DPOP_LAMBDA}
orpo_lambda = {ORPO_LAMBDA}
desirable_weight = {W_D}
undesirable_weight = {W_U}
"#
    )
}

const FLAT: &str = r#"[space]
responses = ["A", "B", "C", "D"]
[reference]
probs = [0.4, 0.3, 0.2, 0.1]
[reward]
values = [1.0, 0.5, 0.0, -1.0]"#;
const FLAT_PAIRS: &str = r#"[["A", "B"], ["C", "A"], ["A", "D"], ["B", "D"]]"#;

const SEQ: &str = r#"[space]
kind = "sequences"
vocab = ["x", "y"]
max_len = 3
[reference]
kind = "bigram"
start = [0.6, 0.4]
transition = [[0.3, 0.7], [0.55, 0.45]]
end = [0.35, 0.5]
[reward]
kind = "sequence"
tokens = [0.5, -0.2]
length = 0.1"#;
/// Mixed lengths, and sequences cut at `max_len` (no end token) on both
/// sides.
const SEQ_PAIRS: &str =
    r#"[["x y", "x"], ["y", "x y x"], ["x x y", "y y"], ["x", "y y y"], ["y x", "x x"]]"#;

/// Runs `loss` on the case with the library and with the re-implementation,
/// returning the largest difference seen (losses at steps 0–2 and log π
/// after three steps).
fn compare(text: &str, loss: &str, model: &mut dyn Model) -> f64 {
    let raw = RawScenario::parse(text, "trl-check").expect("parses");
    let s = Scenario::check(raw).expect("checks");
    let problem = &s.problem;
    let n_resp = problem.len();
    let names: Vec<String> = (0..n_resp).map(|y| problem.space.name(y)).collect();
    let index = |name: &str| names.iter().position(|n| n == name).expect("named");
    let max_len = problem.space.max_len();
    // Token counts as TRL makes them: words, plus the appended end token
    // unless the sequence is cut at max_len (flat answers: one token).
    let counted = |name: &str| -> f64 {
        if problem.space.is_sequences() {
            let len = name.split(' ').count();
            (len + usize::from(len < max_len)) as f64
        } else {
            1.0
        }
    };
    let pairs_text = if problem.space.is_sequences() {
        SEQ_PAIRS
    } else {
        FLAT_PAIRS
    };
    let pairs: Vec<(String, String)> = toml::from_str::<toml::Value>(&format!("p = {pairs_text}"))
        .expect("toml")["p"]
        .as_array()
        .expect("array")
        .iter()
        .map(|p| {
            let a = p.as_array().expect("pair");
            (
                a[0].as_str().expect("s").to_string(),
                a[1].as_str().expect("s").to_string(),
            )
        })
        .collect();
    let log_ref = problem.log_ref.clone();

    let mut run = Run::new(&s.run_config(MethodKind::Dpo)).expect("run");
    let mut worst: f64 = 0.0;
    for step in 0..3 {
        let lp = model.log_probs();
        let kl = lp
            .iter()
            .zip(&log_ref)
            .map(|(l, r)| l.v.exp() * (l.v - r))
            .sum::<f64>()
            .max(0.0);
        let batch = Batch {
            chosen: pairs.iter().map(|(w, _)| lp[index(w)].clone()).collect(),
            rejected: pairs.iter().map(|(_, l)| lp[index(l)].clone()).collect(),
            ref_chosen: pairs.iter().map(|(w, _)| log_ref[index(w)]).collect(),
            ref_rejected: pairs.iter().map(|(_, l)| log_ref[index(l)]).collect(),
            n_chosen: pairs.iter().map(|(w, _)| counted(w)).collect(),
            n_rejected: pairs.iter().map(|(_, l)| counted(l)).collect(),
            kl,
        };
        let ours = trl_loss(loss, &batch);
        run.step().expect("steps");
        let theirs = run.last_loss();
        let d = (ours.v - theirs).abs() / (1.0 + ours.v.abs());
        assert!(
            d < 1e-12,
            "{loss} step {step}: loss {theirs} where TRL gives {}",
            ours.v
        );
        worst = worst.max(d);
        for (p, g) in model.params_mut().iter_mut().zip(&ours.g) {
            *p -= LR * g;
        }
    }
    let ours: Vec<f64> = model.log_probs().iter().map(|d| d.v).collect();
    let theirs = run.policy().log_probs();
    for (y, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        let d = (a - b).abs() / (1.0 + a.abs());
        assert!(
            d < 1e-12,
            "{loss}: log π({}) after 3 steps {b} where TRL gives {a}",
            names[y]
        );
        worst = worst.max(d);
    }
    worst
}

#[test]
fn every_loss_matches_trl_on_a_flat_space() {
    for &loss in LossName::VARIANTS {
        let text = scenario(FLAT, FLAT_PAIRS, "tabular", loss);
        let log_ref = [0.4f64, 0.3, 0.2, 0.1].map(f64::ln);
        let mut model = Tabular {
            theta: log_ref.to_vec(),
        };
        compare(&text, loss, &mut model);
    }
}

fn seq_log_ref() -> (Vec<f64>, Vec<Vec<usize>>) {
    let raw = RawScenario::parse(&scenario(SEQ, SEQ_PAIRS, "tabular", "dpo"), "t").expect("p");
    let s = Scenario::check(raw).expect("checks");
    let seqs = sequences_of(2, 3);
    let vocab = ["x", "y"];
    for (y, seq) in seqs.iter().enumerate() {
        let name: Vec<&str> = seq.iter().map(|&t| vocab[t]).collect();
        assert_eq!(
            s.problem.space.name(y),
            name.join(" "),
            "order of the space"
        );
    }
    (s.problem.log_ref.clone(), seqs)
}

#[test]
fn every_loss_matches_trl_on_sequences_with_a_tabular_policy() {
    let (log_ref, _) = seq_log_ref();
    for &loss in LossName::VARIANTS {
        let text = scenario(SEQ, SEQ_PAIRS, "tabular", loss);
        let mut model = Tabular {
            theta: log_ref.clone(),
        };
        compare(&text, loss, &mut model);
    }
}

#[test]
fn every_loss_matches_trl_on_sequences_with_an_autoregressive_policy() {
    let (log_ref, seqs) = seq_log_ref();
    for &loss in LossName::VARIANTS {
        let text = scenario(SEQ, SEQ_PAIRS, "autoregressive", loss);
        let mut model = Autoregressive::new(2, 3, seqs.clone(), &log_ref);
        let start: Vec<f64> = model.log_probs().iter().map(|d| d.v).collect();
        for (a, b) in start.iter().zip(&log_ref) {
            assert!((a - b).abs() < 1e-12, "the test's policy starts at π_ref");
        }
        compare(&text, loss, &mut model);
    }
}

/// The names TRL gives each loss resolve to the same loss here.
#[test]
fn the_loss_names_include_trls() {
    for name in ["sigmoid", "cpo", "simpo", "kto", "sft", "sigmoid_norm"] {
        assert!(
            dpo_lab::loss::PairLoss::parse(name, &dpo_lab::loss::LossParams::default()).is_ok(),
            "{name}"
        );
    }
}
