//! The value checks every layer shares (one home, so a rule and its
//! message are written once): positive finite numbers, numbers in a range,
//! the step cap. Each error names the setting by its scenario-file key.

use crate::error::{Error, Result};
use crate::numerics::show;

/// The most updates a run may take.
pub const MAX_STEPS: u64 = 100_000_000;

/// `v` if it is finite and `ok` holds; else "`field`: must be `rule`, got
/// `v`" — the one shape of every range check's message.
pub fn rule(field: &str, v: f64, ok: bool, rule: &str) -> Result<f64> {
    if v.is_finite() && ok {
        Ok(v)
    } else {
        Err(Error::invalid(
            field,
            format!("must be {rule}, got {}", show(v)),
        ))
    }
}

/// `v` if it is finite and > 0.
pub fn positive(field: &str, v: f64) -> Result<f64> {
    rule(field, v, v > 0.0, "a finite number > 0")
}

/// `v` if it is finite and in `[lo, hi]`; `note` (if any) follows the
/// range in the message, e.g. "(0: no KL term)".
pub fn number_in(field: &str, v: f64, lo: f64, hi: f64, note: &str) -> Result<f64> {
    let note = if note.is_empty() {
        String::new()
    } else {
        format!(" {note}")
    };
    rule(
        field,
        v,
        (lo..=hi).contains(&v),
        &format!("a number in [{}, {}]{note}", show(lo), show(hi)),
    )
}

/// `steps` if it is at most [`MAX_STEPS`].
pub fn steps(field: &str, steps: u64) -> Result<u64> {
    if steps > MAX_STEPS {
        return Err(Error::invalid(
            field,
            format!("must be at most {MAX_STEPS}, got {steps}"),
        ));
    }
    Ok(steps)
}
