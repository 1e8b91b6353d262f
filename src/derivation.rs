//! Live checks of the derivation for the app's derivation panel: the
//! closed form's identities for a given policy (docs/maths.md §1), the DPO loss of
//! one pair broken into its terms (§3), and the DPO solution set (§4).

use crate::data::Pair;
use crate::loss::PairLoss;
use crate::numerics::{kl_from_logs, log_sigmoid, sigmoid};
use crate::optimal::{Optimum, objective, recovered_reward};
use crate::problem::Problem;

/// The identities of docs/maths.md §1 evaluated for one policy π.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Identities {
    /// `Σ π*`.
    pub optimum_sum: f64,
    /// `J(π*)`.
    pub optimum_value: f64,
    /// `β log Z`.
    pub beta_log_z: f64,
    /// `J(π*) − J(π)`.
    pub gap: f64,
    /// `β KL(π ‖ π*)`.
    pub beta_kl: f64,
    /// `max_y |β log(π*/π_ref) + β log Z − r|` over the reference support.
    pub recovery_error: f64,
}

/// Evaluates the identities for `log_pi` against `opt` (π* at β).
pub fn identities(problem: &Problem, opt: &Optimum, log_pi: &[f64]) -> Identities {
    let beta = opt.beta;
    let j_star = objective(&opt.log_policy, &problem.log_ref, &problem.reward, beta);
    let j = objective(log_pi, &problem.log_ref, &problem.reward, beta);
    let recovery_error = recovered_reward(opt, &problem.log_ref)
        .iter()
        .zip(&problem.reward)
        .zip(&opt.log_policy)
        .filter_map(|((rec, r), lp)| rec.filter(|_| lp.is_finite()).map(|v| (v - r).abs()))
        .fold(0.0, f64::max);
    Identities {
        optimum_sum: opt.log_policy.iter().map(|l| l.exp()).sum(),
        optimum_value: j_star,
        beta_log_z: beta * opt.log_partition,
        gap: j_star - j,
        beta_kl: beta * kl_from_logs(log_pi, &opt.log_policy),
        recovery_error,
    }
}

/// The DPO loss of one pair, term by term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairTerms {
    /// `h(y+) = log π(y+) − log π_ref(y+)`.
    pub h_chosen: f64,
    /// `h(y−)`.
    pub h_rejected: f64,
    /// `u = β (h(y+) − h(y−))`.
    pub u: f64,
    /// `σ(u)`: the model's probability that `y+ ≻ y−`.
    pub sigma: f64,
    /// `−log σ(u)`.
    pub loss: f64,
    /// `∂loss/∂θ_{y+}` in a tabular policy: `−β σ(−u)`.
    pub grad_chosen: f64,
}

/// Breaks the DPO loss of `(chosen, rejected)` into its terms, from the
/// policy's log-ratios `h`.
pub fn pair_terms(h: &[f64], chosen: usize, rejected: usize, beta: f64) -> PairTerms {
    let u = beta * (h[chosen] - h[rejected]);
    PairTerms {
        h_chosen: h[chosen],
        h_rejected: h[rejected],
        u,
        sigma: sigmoid(u),
        loss: -log_sigmoid(u),
        grad_chosen: PairLoss::Dpo.derivative(h[chosen] - h[rejected], beta),
    }
}

/// A move along the DPO solution set (Xu et al. 2024; docs/maths.md §4): scale
/// every in-data probability by `1 − t` and give the freed mass `t` to the
/// out-of-data responses in proportion to `q` (their reference
/// probabilities). Every in-data log-ratio shifts by the same `log(1 − t)`,
/// so every pairwise difference — and the DPO loss on the data — is exactly
/// unchanged, while the out-of-data mass becomes `(1 − t)·m + t`.
/// Returns `log π_t`, or `None` when the data covers every response.
pub fn solution_set_move(
    log_pi: &[f64],
    log_ref: &[f64],
    in_data: &[bool],
    t: f64,
) -> Option<Vec<f64>> {
    let t = t.clamp(0.0, 1.0 - 1e-12);
    let ood_ref: f64 = log_ref
        .iter()
        .zip(in_data)
        .filter(|(l, d)| !**d && l.is_finite())
        .map(|(l, _)| l.exp())
        .sum();
    if ood_ref <= 0.0 {
        return None;
    }
    let keep = (1.0 - t).ln();
    Some(
        log_pi
            .iter()
            .zip(log_ref)
            .zip(in_data)
            .map(|((&lp, &lr), &d)| {
                if d || lr == f64::NEG_INFINITY {
                    lp + keep
                } else {
                    ((1.0 - t) * lp.exp() + t * lr.exp() / ood_ref).ln()
                }
            })
            .collect(),
    )
}

/// The DPO loss on the data, `Σ W_ij softplus(−β(h_i − h_j))`, at a
/// policy given only by its log-probabilities (the solution-set view).
pub fn dpo_loss_at(log_pi: &[f64], log_ref: &[f64], pairs: &[Pair], beta: f64) -> f64 {
    let policy = crate::policy::Policy::Tabular(crate::policy::TabularPolicy::with_reference(
        log_pi.to_vec(),
        log_ref.to_vec(),
    ));
    crate::method::pair_loss(pairs, PairLoss::Dpo, beta, &policy, &[], None)
}

/// Probability outside the data support: `Σ_{y ∉ data} π(y)`.
pub fn ood_mass(log_pi: &[f64], in_data: &[bool]) -> f64 {
    log_pi
        .iter()
        .zip(in_data)
        .filter(|(_, d)| !**d)
        .map(|(l, _)| l.exp())
        .sum()
}

/// The solution-set curve: `(OOD mass, DPO loss)` along
/// [`solution_set_move`] for `t = 0, 1/steps, …`, up to `t_max`.
pub fn solution_set_curve(
    log_pi: &[f64],
    log_ref: &[f64],
    pairs: &[Pair],
    in_data: &[bool],
    beta: f64,
    t_max: f64,
    steps: usize,
) -> Vec<[f64; 2]> {
    (0..=steps)
        .filter_map(|k| {
            let t = t_max * k as f64 / steps.max(1) as f64;
            solution_set_move(log_pi, log_ref, in_data, t)
                .map(|m| [ood_mass(&m, in_data), dpo_loss_at(&m, log_ref, pairs, beta)])
        })
        .collect()
}

/// One gradient step, two ways (Ren & Sutherland 2024, "Learning dynamics
/// of LLM finetuning"): the change of every probability after one step of
/// size `lr` on the rejected half of the DPO step alone (`log π(y_l)`
/// pushed down with the same coefficient `β·σ(−βΔ)` the pair gives it: a
/// negative gradient of matched size), and after the whole paired DPO step
/// on `(y_w, y_l)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Squeeze {
    /// `Δπ(y)` after the step on the rejected term alone.
    pub rejected_only: Vec<f64>,
    /// `Δπ(y)` after the paired DPO step.
    pub paired: Vec<f64>,
}

/// The two steps of [`Squeeze`] from `policy`. On tabular logits the
/// rejected-only step raises every other logit by `lr·π(y)`, so the most
/// probable answer gains the most: mass is squeezed into the arg-max, more
/// so the peakier the policy. In the paired step the π terms of the two
/// gradients cancel and only the chosen and rejected logits move.
pub fn squeeze(
    policy: &crate::policy::Policy,
    chosen: usize,
    rejected: usize,
    beta: f64,
    lr: f64,
) -> Squeeze {
    use crate::policy::GradBuffer;
    let before: Vec<f64> = policy.log_probs().iter().map(|l| l.exp()).collect();
    let step = |coefs: &[(usize, f64)]| {
        let total: f64 = coefs.iter().map(|c| c.1).sum();
        let mut g = GradBuffer::new(policy.num_params());
        policy.accumulate_grad(coefs, total, &mut g);
        let deltas: Vec<(usize, f64)> = g
            .to_dense()
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(k, v)| (k, -lr * v))
            .collect();
        let mut p = policy.clone();
        p.apply(&deltas);
        p.log_probs()
            .iter()
            .zip(&before)
            .map(|(l, b)| l.exp() - b)
            .collect::<Vec<f64>>()
    };
    let mut coefs = Vec::new();
    crate::method::pair_loss(
        &[Pair::new(chosen, rejected, 1.0)],
        PairLoss::Dpo,
        beta,
        policy,
        &[],
        Some(&mut coefs),
    );
    // The rejected half alone, at the size the pair gives it: pushing
    // log π(y_l) down with the pair's own coefficient.
    let on_rejected: Vec<(usize, f64)> =
        coefs.iter().copied().filter(|c| c.0 == rejected).collect();
    let rejected_only = step(&on_rejected);
    let paired = step(&coefs);
    Squeeze {
        rejected_only,
        paired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::PairData;
    use crate::method::pair_loss;
    use crate::policy::{Policy, TabularPolicy};
    use crate::tolerance::{ROUNDING_ABS, ULPS_ABS};
    use approx::assert_abs_diff_eq;

    #[test]
    fn solution_set_leaves_the_dpo_loss_unchanged() {
        let lr: Vec<f64> = [0.4f64, 0.3, 0.2, 0.1].iter().map(|x| x.ln()).collect();
        let pi: Vec<f64> = [0.5f64, 0.35, 0.1, 0.05].iter().map(|x| x.ln()).collect();
        let data = PairData::from_pairs(
            4,
            vec![
                Pair::new(0, 1, 0.5),
                Pair::new(1, 0, 0.25),
                Pair::new(0, 0, 0.25),
            ],
        );
        let before = Policy::Tabular(TabularPolicy::with_reference(pi.clone(), lr.clone()));
        let moved = solution_set_move(&pi, &lr, &data.in_data, 0.6).expect("has OOD");
        let after = Policy::Tabular(TabularPolicy::with_reference(moved.clone(), lr.clone()));
        let l0 = pair_loss(&data.pairs, PairLoss::Dpo, 0.3, &before, &[], None);
        let l1 = pair_loss(&data.pairs, PairLoss::Dpo, 0.3, &after, &[], None);
        assert!((l0 - l1).abs() < ROUNDING_ABS, "{l0} vs {l1}");
        let ood: f64 = moved[2].exp() + moved[3].exp();
        assert_abs_diff_eq!(ood, (0.4 * 0.15 + 0.6), epsilon = ROUNDING_ABS);
        let sum: f64 = moved.iter().map(|l| l.exp()).sum();
        assert_abs_diff_eq!(sum, 1.0, epsilon = ROUNDING_ABS);
    }

    #[test]
    fn pair_terms_by_hand() {
        let t = pair_terms(&[0.5, -0.5], 0, 1, 2.0);
        assert_eq!(t.u, 2.0);
        assert_abs_diff_eq!(t.loss, (1.0 + (-2f64).exp()).ln(), epsilon = ULPS_ABS);
        assert_abs_diff_eq!(
            t.sigma,
            -((-t.loss).exp() - 2.0 * t.sigma),
            epsilon = ULPS_ABS
        );
    }
}

/// How alike a log-linear policy's chosen and rejected embeddings are
/// (Razin et al. 2024, "Unintentional unalignment"), averaged over the
/// data's pairs with their weights.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Ches {
    /// Razin's CHES score `⟨φ_w, φ_l⟩ − ‖φ_w‖²`: positive means the step
    /// along `φ_w − φ_l` lowers `θ·φ_w`.
    pub score: f64,
    /// Its exact analogue at the policy: with `φ̄ = E_π φ`,
    /// `⟨φ_w − φ̄, φ_l − φ̄⟩ − ‖φ_w − φ̄‖² = −⟨φ_w − φ̄, φ_w − φ_l⟩`. A DPO
    /// step `Δθ = η·s·(φ_w − φ_l)` (`s > 0`) changes `log π(y_w)` by
    /// `−η·s·at_policy` to first order, so positive means the chosen
    /// answer's probability falls: likelihood displacement.
    pub at_policy: f64,
}

/// CHES of the data's pairs at `log_pi`, for a log-linear policy (`None`
/// for other classes, whose parameters no two responses share this way).
pub fn ches(
    kind: &crate::policy::PolicyKind,
    problem: &Problem,
    data: &crate::data::PairData,
    log_pi: &[f64],
) -> crate::Result<Option<Ches>> {
    let crate::policy::PolicyKind::LogLinear(f) = kind else {
        return Ok(None);
    };
    let phi = f.table(problem)?;
    let probs = ndarray::Array1::from_iter(log_pi.iter().map(|l| l.exp()));
    let mean = phi.t().dot(&probs);
    let (mut score, mut at, mut total) = (0.0, 0.0, 0.0);
    for &Pair {
        chosen: w,
        rejected: l,
        weight: wt,
    } in &data.pairs
    {
        let (fw, fl) = (phi.row(w), phi.row(l));
        score += wt * (fw.dot(&fl) - fw.dot(&fw));
        let cw = &fw - &mean;
        let diff = &fw - &fl;
        at -= wt * cw.dot(&diff);
        total += wt;
    }
    if total <= 0.0 {
        return Ok(None);
    }
    Ok(Some(Ches {
        score: score / total,
        at_policy: at / total,
    }))
}
