//! GRPO and RLOO checked against an independent re-implementation written
//! from TRL's `GRPOTrainer` and `RLOOTrainer` (not from `src/`):
//!
//! - sampled runs: for the group the library drew, TRL's loss — per-token
//!   log-probabilities (an autoregressive model's own softmax rows, or
//!   prefix masses summed directly), torch's unbiased std + 1e-4, the
//!   clipped ratio against the draw's `π_old`, Schulman's k3 KL per token,
//!   the four aggregations, RLOO's KL-penalised leave-one-out advantages —
//!   differentiated by dual numbers, and plain gradient steps; loss at
//!   every step and log π after four steps agree to 1e-11;
//! - expected runs: the exact expectation of that same update, by
//!   enumerating every group of G answers with its probability, for three
//!   steps; and the closed forms the issue names (RLOO = the policy
//!   gradient of E r; GRPO without scaling = (G − 1)/G of it) to 1e-9;
//! - a Monte-Carlo average of sampled steps agrees with the expected step
//!   within its standard error;
//! - the verifier metrics at π_ref are the formulas.

#[path = "support/dual.rs"]
mod dual;
use dual::*;

use dpo_lab::method::MethodKind;
use dpo_lab::scenario::{RawScenario, Scenario};
use dpo_lab::train::Run;

const LR: f64 = 0.7;

const FLAT: &str = r#"[space]
responses = ["A", "B", "C", "D", "E"]
[reference]
probs = [0.35, 0.25, 0.2, 0.12, 0.08]
[reward]
kind = "verifier"
correct = ["C", "E"]"#;

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
kind = "verifier"
ends_with = "y""#;

fn scenario(space: &str, policy: &str, table: &str, steps: usize) -> Scenario {
    seeded(space, policy, table, steps, 0)
}

fn seeded(space: &str, policy: &str, table: &str, steps: usize, seed: u64) -> Scenario {
    let text = format!(
        "name = \"grpo-check\"\n{space}\n[policy]\nkind = \"{policy}\"\n[train]\nlr = {LR}\nsteps = {steps}\nlog_every = 1\nseed = {seed}\n{table}\n"
    );
    Scenario::check(RawScenario::parse(&text, "grpo-check").expect("parses")).expect("checks")
}

/// The test's own policy and its per-token log-probabilities.
enum TestModel {
    Flat(Tabular),
    SeqTabular(Tabular, Vec<Vec<usize>>),
    Seq(Autoregressive),
}

impl TestModel {
    fn new(space: &str, policy: &str, log_ref: &[f64]) -> Self {
        match (space == SEQ, policy) {
            (false, _) => TestModel::Flat(Tabular {
                theta: log_ref.to_vec(),
            }),
            (true, "tabular") => TestModel::SeqTabular(
                Tabular {
                    theta: log_ref.to_vec(),
                },
                sequences_of(2, 3),
            ),
            (true, _) => TestModel::Seq(Autoregressive::new(2, 3, sequences_of(2, 3), log_ref)),
        }
    }
    fn params_mut(&mut self) -> &mut Vec<f64> {
        match self {
            TestModel::Flat(m) | TestModel::SeqTabular(m, _) => m.params_mut(),
            TestModel::Seq(m) => m.params_mut(),
        }
    }
    fn log_probs(&self) -> Vec<D> {
        match self {
            TestModel::Flat(m) | TestModel::SeqTabular(m, _) => m.log_probs(),
            TestModel::Seq(m) => m.log_probs(),
        }
    }
    /// Per-token log-probabilities of every response.
    fn tokens(&self) -> Vec<Vec<D>> {
        match self {
            TestModel::Flat(m) => m.log_probs().into_iter().map(|l| vec![l]).collect(),
            TestModel::SeqTabular(m, seqs) => tokens_by_prefix_mass(seqs, 3, &m.log_probs()),
            TestModel::Seq(m) => sequences_of(2, 3)
                .iter()
                .map(|s| m.token_log_probs(s))
                .collect(),
        }
    }
    fn max_len(&self) -> f64 {
        match self {
            TestModel::Flat(_) => 1.0,
            _ => 3.0,
        }
    }
}

/// GRPO's settings in TRL's names.
#[derive(Clone, Copy)]
struct GrpoCfg {
    g: usize,
    loss_type: &'static str,
    scale: &'static str,
    beta: f64,
    eps: f64,
    eps_high: f64,
    mu: usize,
}

impl GrpoCfg {
    fn table(&self, expected: bool) -> String {
        format!(
            "[grpo]\nnum_generations = {}\nloss_type = \"{}\"\nscale_rewards = \"{}\"\nbeta = {}\nepsilon = {}\nepsilon_high = {}\nnum_iterations = {}\nexpected = {expected}\n",
            self.g, self.loss_type, self.scale, self.beta, self.eps, self.eps_high, self.mu
        )
    }
}

#[derive(Clone, Copy)]
struct RlooCfg {
    g: usize,
    beta: f64,
    eps: f64,
    eps_high: f64,
    mu: usize,
    normalize: bool,
}

impl RlooCfg {
    fn table(&self, expected: bool) -> String {
        format!(
            "[rloo]\nnum_generations = {}\nbeta = {}\nepsilon = {}\nepsilon_high = {}\nnum_iterations = {}\nnormalize_advantages = {}\nexpected = {expected}\n",
            self.g, self.beta, self.eps, self.eps_high, self.mu, self.normalize
        )
    }
}

/// torch's `std` (Bessel's correction).
fn torch_std(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// `−min(ρA, clamp(ρ, 1 − ε, 1 + ε_high)·A)` with `ρ = exp(lp − old)`;
/// counts where the clamp binds.
fn clipped(lp: &D, old: f64, a: f64, eps: f64, eps_high: f64, bound: &mut usize) -> D {
    let coef1 = lp.add_c(-old).exp();
    let lo = 1.0 - eps;
    let hi = 1.0 + eps_high;
    let coef2 = if coef1.v < lo {
        D::constant(lo, coef1.g.len())
    } else if coef1.v > hi {
        D::constant(hi, coef1.g.len())
    } else {
        coef1.clone()
    };
    let (l1, l2) = (coef1.scale(a), coef2.scale(a));
    if l1.v <= l2.v {
        -l1
    } else {
        *bound += 1;
        -l2
    }
}

/// TRL's GRPO loss of one group.
#[allow(clippy::too_many_arguments)]
fn trl_grpo(
    c: &GrpoCfg,
    group: &[usize],
    toks: &[Vec<D>],
    old: &[Vec<f64>],
    ref_toks: &[Vec<f64>],
    reward: &[f64],
    max_len: f64,
    bound: &mut usize,
) -> D {
    let rewards: Vec<f64> = group.iter().map(|&y| reward[y]).collect();
    let mean = rewards.iter().sum::<f64>() / rewards.len() as f64;
    let std = torch_std(&rewards);
    let adv: Vec<f64> = rewards
        .iter()
        .map(|r| {
            if c.scale == "none" {
                r - mean
            } else {
                (r - mean) / (std + 1e-4)
            }
        })
        .collect();
    let n = toks[0][0].g.len();
    let mut per_seq: Vec<(D, f64)> = Vec::new();
    for (i, &y) in group.iter().enumerate() {
        let mut sum = D::constant(0.0, n);
        for (t, lp) in toks[y].iter().enumerate() {
            let mut l = clipped(lp, old[i][t], adv[i], c.eps, c.eps_high, bound);
            if c.beta != 0.0 {
                let d = (-lp.clone()).add_c(ref_toks[y][t]);
                l = l + (d.exp() - d).add_c(-1.0).scale(c.beta);
            }
            sum = sum + l;
        }
        per_seq.push((sum, toks[y].len() as f64));
    }
    let g = group.len() as f64;
    let total_tokens: f64 = per_seq.iter().map(|p| p.1).sum();
    let mut acc = D::constant(0.0, n);
    for (s, len) in &per_seq {
        acc = acc
            + match c.loss_type {
                "grpo" => s.scale(1.0 / (len * g)),
                "dr_grpo" => s.scale(1.0 / (g * max_len)),
                "bnpo" | "dapo" => s.scale(1.0 / total_tokens),
                other => panic!("{other}"),
            };
    }
    acc
}

/// TRL's RLOO loss of one group.
fn trl_rloo(
    c: &RlooCfg,
    group: &[usize],
    lp: &[D],
    old: &[f64],
    log_ref: &[f64],
    reward: &[f64],
    bound: &mut usize,
) -> D {
    let g = group.len() as f64;
    let rewards: Vec<f64> = group
        .iter()
        .enumerate()
        .map(|(i, &y)| reward[y] - c.beta * (old[i] - log_ref[y]))
        .collect();
    let sum: f64 = rewards.iter().sum();
    let mut adv: Vec<f64> = rewards.iter().map(|r| r - (sum - r) / (g - 1.0)).collect();
    if c.normalize {
        let m = adv.iter().sum::<f64>() / g;
        let s = torch_std(&adv);
        adv = adv.iter().map(|a| (a - m) / (s + 1e-4)).collect();
    }
    let n = lp[0].g.len();
    let mut acc = D::constant(0.0, n);
    for (i, &y) in group.iter().enumerate() {
        acc = acc + clipped(&lp[y], old[i], adv[i], c.eps, c.eps_high, bound);
    }
    acc.scale(1.0 / g)
}

enum Cfg {
    Grpo(GrpoCfg),
    Rloo(RlooCfg),
}

impl Cfg {
    fn kind(&self) -> MethodKind {
        match self {
            Cfg::Grpo(_) => MethodKind::Grpo,
            Cfg::Rloo(_) => MethodKind::Rloo,
        }
    }
    fn table(&self, expected: bool) -> String {
        match self {
            Cfg::Grpo(c) => c.table(expected),
            Cfg::Rloo(c) => c.table(expected),
        }
    }
    fn mu(&self) -> usize {
        match self {
            Cfg::Grpo(c) => c.mu,
            Cfg::Rloo(c) => c.mu,
        }
    }
    fn g(&self) -> usize {
        match self {
            Cfg::Grpo(c) => c.g,
            Cfg::Rloo(c) => c.g,
        }
    }
}

/// The reference's per-token log-probabilities (the test model at π_ref).
fn ref_tokens(space: &str, policy: &str, log_ref: &[f64]) -> Vec<Vec<f64>> {
    TestModel::new(space, policy, log_ref)
        .tokens()
        .iter()
        .map(|t| t.iter().map(|d| d.v).collect())
        .collect()
}

/// The loss TRL computes for `group` at `model`, with `old` the per-token
/// (GRPO) or per-answer (RLOO) log-probabilities at the draw.
#[allow(clippy::too_many_arguments)]
fn trl_loss(
    cfg: &Cfg,
    model: &TestModel,
    group: &[usize],
    old_tokens: &[Vec<f64>],
    refs: &[Vec<f64>],
    log_ref: &[f64],
    reward: &[f64],
    bound: &mut usize,
) -> D {
    match cfg {
        Cfg::Grpo(c) => trl_grpo(
            c,
            group,
            &model.tokens(),
            old_tokens,
            refs,
            reward,
            model.max_len(),
            bound,
        ),
        Cfg::Rloo(c) => {
            let old: Vec<f64> = old_tokens.iter().map(|t| t.iter().sum()).collect();
            trl_rloo(c, group, &model.log_probs(), &old, log_ref, reward, bound)
        }
    }
}

/// A sampled run against the re-implementation; returns how often a clip
/// bound.
fn sampled_case(space: &str, policy: &str, cfg: &Cfg) -> usize {
    let steps = 4;
    let s = scenario(space, policy, &cfg.table(false), steps);
    let p = &s.problem;
    let mut model = TestModel::new(space, policy, &p.log_ref);
    let refs = ref_tokens(space, policy, &p.log_ref);
    let mut run = Run::new(&s.run_config(cfg.kind())).expect("run");
    let mut old: Vec<Vec<f64>> = Vec::new();
    let mut bound = 0;
    let what = format!(
        "{} on {policy} {}",
        cfg.table(false).replace('\n', " "),
        p.len()
    );
    for step in 0..steps {
        run.step().expect("steps");
        let group = run.last_group().to_vec();
        assert_eq!(group.len(), cfg.g(), "{what}: group size");
        if step % cfg.mu() == 0 {
            let toks = model.tokens();
            old = group
                .iter()
                .map(|&y| toks[y].iter().map(|d| d.v).collect())
                .collect();
        }
        let ours = trl_loss(
            cfg, &model, &group, &old, &refs, &p.log_ref, &p.reward, &mut bound,
        );
        let theirs = run.last_loss();
        assert!(
            (ours.v - theirs).abs() < 1e-11 * (1.0 + ours.v.abs()),
            "{what} step {step}: loss {theirs}, TRL {}",
            ours.v
        );
        for (t, g) in model.params_mut().iter_mut().zip(&ours.g) {
            *t -= LR * g;
        }
    }
    let ours: Vec<f64> = model.log_probs().iter().map(|d| d.v).collect();
    for (y, (a, b)) in ours.iter().zip(run.policy().log_probs()).enumerate() {
        assert!(
            (a - b).abs() < 1e-11 * (1.0 + a.abs()),
            "{what}: log π({}) {b}, TRL {a}",
            p.space.name(y)
        );
    }
    bound
}

fn grpo_cases() -> Vec<Cfg> {
    let mut out = Vec::new();
    for loss_type in ["grpo", "bnpo", "dr_grpo", "dapo"] {
        for scale in ["group", "batch", "none"] {
            for (beta, mu) in [(0.0, 1), (0.3, 2)] {
                out.push(Cfg::Grpo(GrpoCfg {
                    g: 4,
                    loss_type,
                    scale,
                    beta,
                    eps: 0.1,
                    eps_high: 0.25,
                    mu,
                }));
            }
        }
    }
    for normalize in [false, true] {
        for (beta, mu) in [(0.0, 1), (0.3, 2)] {
            out.push(Cfg::Rloo(RlooCfg {
                g: 3,
                beta,
                eps: 0.1,
                eps_high: 0.25,
                mu,
                normalize,
            }));
        }
    }
    out
}

#[test]
fn sampled_grpo_and_rloo_match_trl_on_every_space_and_policy() {
    let mut bound = 0;
    for (space, policy) in [(FLAT, "tabular"), (SEQ, "tabular"), (SEQ, "autoregressive")] {
        for cfg in grpo_cases() {
            bound += sampled_case(space, policy, &cfg);
        }
    }
    // The second update on a reused group moves ratios past the clip.
    assert!(bound > 0, "no case exercised the clip");
}

/// Every group of `g` answers over `n` responses, with its probability.
fn groups(n: usize, g: usize, probs: &[f64]) -> Vec<(Vec<usize>, f64)> {
    let total = n.pow(g as u32);
    (0..total)
        .map(|mut code| {
            let mut grp = vec![0; g];
            let mut pr = 1.0;
            for slot in grp.iter_mut() {
                *slot = code % n;
                code /= n;
                pr *= probs[*slot];
            }
            (grp, pr)
        })
        .collect()
}

/// Three expected steps against the enumerated expectation of TRL's
/// update; returns the library's Δθ of its first step and the test's
/// parameters' first-step Δ (tabular only).
fn expected_case(space: &str, policy: &str, cfg: &Cfg) {
    let steps = 3;
    let s = scenario(space, policy, &cfg.table(true), steps);
    let p = &s.problem;
    let mut model = TestModel::new(space, policy, &p.log_ref);
    let refs = ref_tokens(space, policy, &p.log_ref);
    let mut run = Run::new(&s.run_config(cfg.kind())).expect("run");
    let what = format!(
        "{} on {policy} {}",
        cfg.table(true).replace('\n', " "),
        p.len()
    );
    let mut bound = 0;
    for step in 0..steps {
        let lp: Vec<f64> = model.log_probs().iter().map(|d| d.v).collect();
        let probs: Vec<f64> = lp.iter().map(|l| l.exp()).collect();
        let toks = model.tokens();
        let n_par = model.params_mut().len();
        let mut value = 0.0;
        let mut grad = vec![0.0; n_par];
        for (group, pr) in groups(p.len(), cfg.g(), &probs) {
            let old: Vec<Vec<f64>> = group
                .iter()
                .map(|&y| toks[y].iter().map(|d| d.v).collect())
                .collect();
            let l = trl_loss(
                cfg, &model, &group, &old, &refs, &p.log_ref, &p.reward, &mut bound,
            );
            value += pr * l.v;
            for (a, b) in grad.iter_mut().zip(&l.g) {
                *a += pr * b;
            }
        }
        run.step().expect("steps");
        let theirs = run.last_loss();
        assert!(
            (value - theirs).abs() < 1e-11,
            "{what} step {step}: expected loss {theirs}, enumerated {value}"
        );
        for (t, g) in model.params_mut().iter_mut().zip(&grad) {
            *t -= LR * g;
        }
    }
    let ours: Vec<f64> = model.log_probs().iter().map(|d| d.v).collect();
    for (y, (a, b)) in ours.iter().zip(run.policy().log_probs()).enumerate() {
        assert!(
            (a - b).abs() < 1e-10 * (1.0 + a.abs()),
            "{what}: log π({}) {b}, enumerated {a}",
            p.space.name(y)
        );
    }
}

#[test]
fn expected_updates_are_the_enumerated_expectation_of_trls_update() {
    for (space, policy, g) in [
        (FLAT, "tabular", 4),
        (SEQ, "tabular", 3),
        (SEQ, "autoregressive", 3),
    ] {
        for loss_type in ["grpo", "dr_grpo"] {
            for scale in ["group", "none"] {
                for beta in [0.0, 0.3] {
                    let c = GrpoCfg {
                        g,
                        loss_type,
                        scale,
                        beta,
                        eps: 0.2,
                        eps_high: 0.2,
                        mu: 1,
                    };
                    expected_case(space, policy, &Cfg::Grpo(c));
                }
            }
        }
        for beta in [0.0, 0.3] {
            let c = RlooCfg {
                g,
                beta,
                eps: 0.2,
                eps_high: 0.2,
                mu: 1,
                normalize: false,
            };
            expected_case(space, policy, &Cfg::Rloo(c));
        }
    }
}

/// One expected step's change of the tabular logits on the flat space.
fn one_expected_step(table: &str, kind: MethodKind) -> (Vec<f64>, Vec<f64>) {
    let s = scenario(FLAT, "tabular", table, 1);
    let mut run = Run::new(&s.run_config(kind)).expect("run");
    let before = run.policy().params();
    run.step().expect("steps");
    let delta = run
        .policy()
        .params()
        .iter()
        .zip(&before)
        .map(|(a, b)| a - b)
        .collect();
    (delta, s.problem.reward.clone())
}

#[test]
fn closed_forms_of_the_issue_hold_to_1e9() {
    let pi = [0.35, 0.25, 0.2, 0.12, 0.08];
    let g = 4;
    let r = [0.0, 0.0, 1.0, 0.0, 1.0];
    let er: f64 = pi.iter().zip(&r).map(|(p, r)| p * r).sum();
    // ∂E_π r/∂θ_k on softmax logits.
    let pg: Vec<f64> = (0..5).map(|k| pi[k] * (r[k] - er)).collect();
    let (rloo, _) = one_expected_step(
        "[rloo]\nnum_generations = 4\nbeta = 0.0\nexpected = true",
        MethodKind::Rloo,
    );
    let (none, _) = one_expected_step(
        "[grpo]\nnum_generations = 4\nloss_type = \"grpo\"\nscale_rewards = \"none\"\nexpected = true",
        MethodKind::Grpo,
    );
    let (group, _) = one_expected_step(
        "[grpo]\nnum_generations = 4\nloss_type = \"grpo\"\nscale_rewards = \"group\"\nexpected = true",
        MethodKind::Grpo,
    );
    // GRPO with group scaling: a correct answer's advantage averaged over
    // the other G − 1 answers' count of correct ones, written out.
    let p: f64 = 0.28;
    let q = 1.0 - p;
    let choose = |n: u32, k: u32| -> f64 {
        (1..=k)
            .map(|i| f64::from(n - k + i) / f64::from(i))
            .product()
    };
    let adv = |k: u32, right: bool| -> f64 {
        let gf = g as f64;
        let kf = f64::from(k);
        let s = (kf * (gf - kf) / (gf * (gf - 1.0))).sqrt() + 1e-4;
        if right {
            (1.0 - kf / gf) / s
        } else {
            -kf / gf / s
        }
    };
    let (mut a_right, mut a_wrong) = (0.0, 0.0);
    for j in 0..g as u32 {
        let w = choose(g as u32 - 1, j) * p.powi(j as i32) * q.powi(g - 1 - j as i32);
        a_right += w * adv(j + 1, true);
        a_wrong += w * adv(j, false);
    }
    let a: Vec<f64> = r
        .iter()
        .map(|&x| if x == 1.0 { a_right } else { a_wrong })
        .collect();
    let ea: f64 = pi.iter().zip(&a).map(|(p, a)| p * a).sum();
    for k in 0..5 {
        assert!((rloo[k] - LR * pg[k]).abs() < 1e-9, "rloo θ_{k}");
        let f = (g as f64 - 1.0) / g as f64;
        assert!((none[k] - LR * f * pg[k]).abs() < 1e-9, "grpo none θ_{k}");
        let want = LR * pi[k] * (a[k] - ea);
        assert!(
            (group[k] - want).abs() < 1e-9,
            "grpo group θ_{k}: {} vs {want}",
            group[k]
        );
    }
}

#[test]
fn verifier_metrics_at_the_reference_are_exact() {
    let text = format!(
        "name = \"m\"\n{FLAT}\n[train]\nsteps = 0\npass_at = [1, 3, 1000]\n[grpo]\nnum_generations = 6\n"
    );
    let s = Scenario::check(RawScenario::parse(&text, "m").expect("parses")).expect("checks");
    for kind in [MethodKind::Grpo, MethodKind::Dpo] {
        let run = Run::new(&s.run_config(kind)).expect("run");
        let m = run.metrics().expect("metrics");
        let v = m.verifier.expect("a verifier reward has verifier metrics");
        let p = 0.2 + 0.08;
        assert!((v.p_correct - p).abs() < 1e-15);
        let q: f64 = 0.35 + 0.25 + 0.12;
        for (k, pass) in &v.pass_at_k {
            let want = 1.0 - q.powi(*k as i32);
            assert!((pass - want).abs() < 1e-14, "pass@{k}: {pass} vs {want}");
        }
        assert_eq!(
            v.pass_at_k.iter().map(|x| x.0).collect::<Vec<_>>(),
            [1, 3, 1000]
        );
        assert!((v.zero_variance_groups - (p.powi(6) + q.powi(6))).abs() < 1e-15);
    }
}

#[test]
fn the_expected_step_is_the_mean_of_sampled_steps_within_its_standard_error() {
    for (space, policy) in [(FLAT, "tabular"), (SEQ, "autoregressive")] {
        for table in [
            "[grpo]\nnum_generations = 4\nloss_type = \"grpo\"\nscale_rewards = \"group\"",
            "[grpo]\nnum_generations = 3\nloss_type = \"dr_grpo\"\nscale_rewards = \"none\"",
            "[rloo]\nnum_generations = 3\nbeta = 0.0",
        ] {
            let kind = if table.starts_with("[grpo]") {
                MethodKind::Grpo
            } else {
                MethodKind::Rloo
            };
            let expected = {
                let s = scenario(space, policy, &format!("{table}\nexpected = true"), 1);
                let mut run = Run::new(&s.run_config(kind)).expect("run");
                let before = run.policy().params();
                run.step().expect("steps");
                let after = run.policy().params();
                after
                    .iter()
                    .zip(&before)
                    .map(|(a, b)| a - b)
                    .collect::<Vec<_>>()
            };
            let samples: Vec<Vec<f64>> = (0..3000)
                .map(|seed| {
                    let s = seeded(space, policy, table, 1, seed);
                    let mut run = Run::new(&s.run_config(kind)).expect("run");
                    let before = run.policy().params();
                    run.step().expect("steps");
                    let after = run.policy().params();
                    after.iter().zip(&before).map(|(a, b)| a - b).collect()
                })
                .collect();
            for (k, ((m, se), e)) in mean_and_se(&samples).iter().zip(&expected).enumerate() {
                if !e.is_finite() {
                    // A parameter fixed at −∞ (an impossible end) never moves.
                    continue;
                }
                assert!(
                    (m - e).abs() <= 4.5 * se + 1e-12,
                    "{table} on {policy}: θ_{k} mean {m} ± {se}, expected {e}"
                );
            }
        }
    }
}
