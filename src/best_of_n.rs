//! Best-of-n sampling, exactly (issue 14; Gao et al. 2022, Beirami et al. 2024).
//!
//! Draw `n` responses from `π_ref`, keep the one with the highest reward. On
//! a finite space the resulting policy has a closed form. Order the distinct
//! reward levels `r_1 < … < r_G`; group `g` holds the responses with reward
//! `r_g` and reference mass `p_g`. With `F_g = π_ref(r(Y) ≤ r_g)` and
//! `F⁻_g = π_ref(r(Y) < r_g) = F_g − p_g`, the best of `n` draws lands in
//! group `g` with probability `F_g^n − (F⁻_g)^n`; ties inside a group are
//! broken uniformly among the drawn copies, so that mass is shared in
//! proportion to `π_ref`:
//!
//! `π_BoN(y) = (F_g^n − (F⁻_g)^n) · π_ref(y) / p_g`.
//!
//! Its KL to the reference is at most `log n − (n − 1)/n`, the value often
//! quoted as if it were exact; it is only reached for a continuous reward
//! without ties (Beirami et al. 2024, "Theoretical guarantees on the
//! best-of-n alignment policy").
//!
//! Numerics: the top of the distribution is where best-of-n puts its mass,
//! so `F` is computed from suffix sums `S_g = Σ_{h ≥ g} p_h` as
//! `log F_g = ln_1p(−S_{g+1})`, and the group mass as
//! `exp(n·log F_g) · (−expm1(n·(log F⁻_g − log F_g)))`: no `1 − (1 − ε)`
//! cancellation and no overflow for any `n`.

use crate::error::{Error, Result};
use crate::optimal::{expectation, optimum};
use crate::scenario::Scenario;

/// The largest `n` accepted (any `n` is numerically safe; this only keeps
/// the input sane).
pub const MAX_N: u64 = 1 << 40;

/// Best-of-n for one prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct BestOfN {
    /// The number of draws.
    pub n: u64,
    /// `log π_BoN(y)` in response order; −∞ where the reference is 0.
    pub log_policy: Vec<f64>,
    /// `KL(π_BoN ‖ π_ref)`.
    pub kl: f64,
    /// `E_{π_BoN} r`.
    pub expected_reward: f64,
    /// `P(r(y) > r(y′)) + ½·P(r(y) = r(y′))`, `y ~ π_BoN`, `y′ ~ π_ref`.
    pub win_rate: f64,
}

/// The often-quoted KL of best-of-n, `log n − (n − 1)/n`: an upper bound.
pub fn kl_bound(n: u64) -> f64 {
    let n = n as f64;
    n.ln() - (n - 1.0) / n
}

/// Checks `n`: an integer in `1..=MAX_N`.
pub fn check_n(field: &str, n: u64) -> Result<u64> {
    if (1..=MAX_N).contains(&n) {
        Ok(n)
    } else {
        Err(Error::invalid(
            field,
            format!("best-of-n needs 1 ≤ n ≤ {MAX_N}, got {n}"),
        ))
    }
}

/// Reward levels of one prompt, sorted ascending: each group's reward, the
/// responses in it and its reference mass. Responses outside the
/// reference's support are left out (they get probability 0).
struct Groups {
    reward: Vec<f64>,
    members: Vec<Vec<usize>>,
    mass: Vec<f64>,
    /// `log Σ π_ref` before renormalising (0 up to the reference's rounding).
    log_total: f64,
}

fn groups(log_ref: &[f64], reward: &[f64]) -> Groups {
    let mut idx: Vec<usize> = (0..log_ref.len())
        .filter(|&i| log_ref[i] > f64::NEG_INFINITY)
        .collect();
    idx.sort_by(|&a, &b| reward[a].total_cmp(&reward[b]).then(a.cmp(&b)));
    let mut g = Groups {
        reward: Vec::new(),
        members: Vec::new(),
        mass: Vec::new(),
        log_total: 0.0,
    };
    for i in idx {
        let p = log_ref[i].exp();
        match g.reward.last() {
            Some(&r) if r == reward[i] => {
                g.members.last_mut().expect("a group exists").push(i);
                *g.mass.last_mut().expect("a group exists") += p;
            }
            _ => {
                g.reward.push(reward[i]);
                g.members.push(vec![i]);
                g.mass.push(p);
            }
        }
    }
    // The reference is normalised to 1e-9; renormalise so F_G = 1 exactly.
    let total: f64 = g.mass.iter().sum();
    for m in &mut g.mass {
        *m /= total;
    }
    g.log_total = total.ln();
    g
}

/// One prompt's reward levels, sorted once, ready for best-of-n at any `n`
/// (the sort is the costly part; each `n` is then one pass over the levels).
pub struct BestOfNTable<'a> {
    log_ref: &'a [f64],
    g: Groups,
    /// `suffix[k] = Σ_{h ≥ k} p_h`, `suffix[count] = 0`.
    suffix: Vec<f64>,
}

impl<'a> BestOfNTable<'a> {
    /// Sorts the prompt's rewards into levels.
    pub fn new(log_ref: &'a [f64], reward: &[f64]) -> Self {
        let g = groups(log_ref, reward);
        let count = g.mass.len();
        let mut suffix = vec![0.0; count + 1];
        for k in (0..count).rev() {
            suffix[k] = suffix[k + 1] + g.mass[k];
        }
        BestOfNTable { log_ref, g, suffix }
    }

    /// Exact best-of-n (`n ≥ 1`; see the module docs).
    pub fn at(&self, n: u64) -> BestOfN {
        let (g, suffix, log_ref) = (&self.g, &self.suffix, self.log_ref);
        let nf = n as f64;
        let mut log_policy = vec![f64::NEG_INFINITY; log_ref.len()];
        let (mut kl, mut er, mut win) = (0.0, 0.0, 0.0);
        for k in 0..g.mass.len() {
            let log_f = (-suffix[k + 1]).ln_1p();
            // F⁻ = 1 − S_k; the lowest group has F⁻ = 0 (S_0 = 1 up to rounding).
            let log_f_minus = if k == 0 {
                f64::NEG_INFINITY
            } else {
                (-suffix[k]).ln_1p()
            };
            let diff = nf * (log_f_minus - log_f);
            let fraction = -(diff.exp_m1());
            let log_mass = nf * log_f + fraction.ln();
            if log_mass == f64::NEG_INFINITY {
                continue;
            }
            let mass = log_mass.exp();
            let log_p = g.mass[k].ln();
            // π_BoN(y)/π_ref(y) = mass_g/p_g for every y in the group.
            for &i in &g.members[k] {
                log_policy[i] = log_mass - log_p + log_ref[i] - g.log_total;
            }
            kl += mass * (log_mass - log_p);
            er += mass * g.reward[k];
            // F⁻_g + ½·p_g = (1 − S_k) + ½·p_g.
            win += mass * ((1.0 - suffix[k]).max(0.0) + 0.5 * g.mass[k]);
        }
        BestOfN {
            n,
            log_policy,
            kl: kl.max(0.0),
            expected_reward: er,
            win_rate: win,
        }
    }
}

/// Exact best-of-n for one prompt and one `n` (see [`BestOfNTable`] for
/// several).
pub fn best_of_n(log_ref: &[f64], reward: &[f64], n: u64) -> BestOfN {
    BestOfNTable::new(log_ref, reward).at(n)
}

/// `E r` of π* at the β where `KL(π*‖π_ref)` equals `kl`: the best reward
/// any policy reaches at that KL (π* maximises `E r − β·KL`, so it lies on
/// the reward–KL frontier). Found by bisection in `log β`; `kl` beyond the
/// frontier's end (`−log π_ref(arg max r)`) gives the frontier's end.
pub fn frontier_reward_at_kl(log_ref: &[f64], reward: &[f64], kl: f64) -> f64 {
    let (lo_r, hi_r) = reward
        .iter()
        .zip(log_ref)
        .filter(|(_, l)| **l > f64::NEG_INFINITY)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (r, _)| {
            (a.min(*r), b.max(*r))
        });
    let spread = hi_r - lo_r;
    if spread.is_nan() || spread <= 0.0 || kl <= 0.0 {
        return expectation(log_ref, reward);
    }
    let kl_at = |ln_beta: f64| {
        let opt = optimum(log_ref, reward, ln_beta.exp());
        (
            crate::numerics::kl_from_logs(&opt.log_policy, log_ref),
            expectation(&opt.log_policy, reward),
        )
    };
    // KL(π*_β‖π_ref) falls as β grows.
    let (mut a, mut b) = ((spread * 1e-9).ln(), (spread * 1e9).ln());
    let (kl_a, er_a) = kl_at(a);
    if kl >= kl_a {
        return er_a;
    }
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        if kl_at(m).0 > kl {
            a = m;
        } else {
            b = m;
        }
    }
    kl_at(0.5 * (a + b)).1
}

/// One `n` of `dpo-lab best-of-n`, averaged over the scenario's prompts.
#[derive(Debug, Clone, PartialEq)]
pub struct BestOfNPoint {
    /// The number of draws.
    pub n: u64,
    /// The first prompt's `log π_BoN`.
    pub log_policy: Vec<f64>,
    /// Mean `KL(π_BoN ‖ π_ref)`.
    pub kl: f64,
    /// `log n − (n − 1)/n`.
    pub kl_bound: f64,
    /// Mean `E_{π_BoN} r`.
    pub expected_reward: f64,
    /// Mean win rate against `π_ref`.
    pub win_rate: f64,
    /// Mean `E r` of π* at the same KL, prompt by prompt: the frontier's
    /// reward at best-of-n's KL. `optimal_expected_reward − expected_reward`
    /// is how far best-of-n falls short of the frontier.
    pub optimal_expected_reward: f64,
}

/// Best-of-n for every `n` in `ns` on `scenario` (each `n` checked first).
pub fn best_of_n_points(scenario: &Scenario, ns: &[u64]) -> Result<Vec<BestOfNPoint>> {
    for (i, &n) in ns.iter().enumerate() {
        check_n(&format!("--n (entry {i})"), n)?;
    }
    let count = scenario.prompts.len() as f64;
    let tables: Vec<BestOfNTable<'_>> = scenario
        .prompts
        .iter()
        .map(|p| BestOfNTable::new(&p.problem.log_ref, &p.problem.reward))
        .collect();
    Ok(ns
        .iter()
        .map(|&n| {
            let mut point = BestOfNPoint {
                n,
                log_policy: Vec::new(),
                kl: 0.0,
                kl_bound: kl_bound(n),
                expected_reward: 0.0,
                win_rate: 0.0,
                optimal_expected_reward: 0.0,
            };
            for (k, (prompt, table)) in scenario.prompts.iter().zip(&tables).enumerate() {
                let p = &prompt.problem;
                let b = table.at(n);
                point.kl += b.kl / count;
                point.expected_reward += b.expected_reward / count;
                point.win_rate += b.win_rate / count;
                point.optimal_expected_reward +=
                    frontier_reward_at_kl(&p.log_ref, &p.reward, b.kl) / count;
                if k == 0 {
                    point.log_policy = b.log_policy;
                }
            }
            point
        })
        .collect())
}
