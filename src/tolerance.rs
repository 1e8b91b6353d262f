//! Named numeric tolerances, in one place.
//!
//! Every float comparison in the library and its tests uses one of these, so
//! a reader can see how exact each claim is.

/// A reference distribution must sum to one within this (docs/scenario-format.md).
pub const REFERENCE_SUM: f64 = 1e-9;

/// Identities of the closed form (stationarity, value, gap) checked in
/// relative terms at this level: they hold to rounding.
pub const IDENTITY_REL: f64 = 1e-9;

/// Absolute floor used with [`IDENTITY_REL`] for quantities near zero.
pub const IDENTITY_ABS: f64 = 1e-9;

/// Fast paths (sum tree, cached normalisers) agree with a plain recomputation
/// to this relative error.
pub const FAST_PATH_REL: f64 = 1e-12;

/// Central finite differences agree with analytic gradients to this.
pub const FINITE_DIFF: f64 = 1e-5;

/// Step used for central finite differences.
pub const FINITE_DIFF_STEP: f64 = 1e-5;

/// Training "converged to π*" means KL(π ‖ π*) below this.
pub const CONVERGED_KL: f64 = 1e-3;

/// `a` and `b` agree to `rel` relative error with an absolute floor `abs`.
pub fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= abs.max(rel * a.abs().max(b.abs()))
}

/// A policy parameter beyond this magnitude means training diverged: at
/// 1e12 one unit in the last place of an f64 is ~1e-4, so log-probability
/// differences — everything DPO reads — are no longer meaningful.
pub const MAX_PARAMETER: f64 = 1e12;

/// A deterministic run has converged when the gradient norm of its loss has
/// fallen below this fraction of its value at the start.
pub const CONVERGED_GRAD_REL: f64 = 1e-3;

/// ... or below this absolute value (a start that is already optimal).
pub const CONVERGED_GRAD_ABS: f64 = 1e-9;

/// A run whose gradient norm over its second half fell by less than this
/// factor (it shrinks like 1/steps, not geometrically) is heading for a
/// minimum at infinity, however small the gradient: its logits keep
/// growing like log(steps), and more steps keep changing the policy.
pub const SUBLINEAR_GRAD_RATIO: f64 = 0.25;

/// Two consecutive updates whose cosine is below this point in opposite
/// directions: the run oscillates instead of converging.
pub const OSCILLATION_COSINE: f64 = -0.5;

/// Exact best-of-n agrees with a brute-force enumeration of all n-tuples of
/// draws to this absolute error (issue 14).
pub const BEST_OF_N_ABS: f64 = 1e-12;

/// A closed form computed two ways on numbers of order one, a handful of
/// operations each: a few units in the last place.
pub const ULPS_ABS: f64 = 1e-15;

/// Sums, averages and log-sum-exps of up to ~10⁴ terms of order one, or a
/// quantity computed along two different paths: rounding accumulates to
/// about this.
pub const ROUNDING_ABS: f64 = 1e-12;
