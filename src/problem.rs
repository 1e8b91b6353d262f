//! One prompt's exact problem: its response space, reference policy and
//! true reward, all as plain vectors in response order.

use crate::error::{Error, Result};
use crate::space::ResponseSpace;

/// A prompt `x` with its finite response space, `log π_ref(·|x)` (−∞ where
/// the reference gives no probability) and the true reward `r(x, ·)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The responses.
    pub space: ResponseSpace,
    /// `log π_ref(y)` for every response; −∞ marks zero probability.
    pub log_ref: Vec<f64>,
    /// `r(y)` for every response.
    pub reward: Vec<f64>,
    /// For a verifier reward (`[reward] kind = "verifier"`): which
    /// responses are correct (reward 1); `None` for other rewards.
    pub correct: Option<Vec<bool>>,
}

impl Problem {
    /// Checks lengths and values: `log_ref` normalised (within the documented
    /// 1e-9) and never +∞ or NaN, rewards finite.
    pub fn new(space: ResponseSpace, log_ref: Vec<f64>, reward: Vec<f64>) -> Result<Self> {
        let n = space.len();
        if log_ref.len() != n {
            return Err(Error::invalid(
                "reference",
                format!(
                    "has {} entries but the space has {n} responses",
                    log_ref.len()
                ),
            ));
        }
        if reward.len() != n {
            return Err(Error::invalid(
                "reward",
                format!(
                    "has {} entries but the space has {n} responses",
                    reward.len()
                ),
            ));
        }
        if let Some((i, v)) = log_ref
            .iter()
            .enumerate()
            .find(|(_, v)| v.is_nan() || **v == f64::INFINITY)
        {
            return Err(Error::invalid(
                "reference",
                format!("log-probability of {:?} is {v}", space.name(i)),
            ));
        }
        if let Some((i, v)) = reward.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::invalid(
                "reward",
                format!(
                    "reward of {:?} must be finite, got {}",
                    space.name(i),
                    crate::numerics::show(*v)
                ),
            ));
        }
        Ok(Problem {
            space,
            log_ref,
            reward,
            correct: None,
        })
    }

    /// Marks the reward as a verifier's: correct where it is 1.
    pub fn with_verifier(mut self) -> Self {
        self.correct = Some(self.reward.iter().map(|&r| r == 1.0).collect());
        self
    }

    /// Number of responses.
    pub fn len(&self) -> usize {
        self.log_ref.len()
    }

    /// Whether there are no responses (a checked space always has some).
    pub fn is_empty(&self) -> bool {
        self.log_ref.is_empty()
    }

    /// `π_ref(y)`.
    pub fn reference_prob(&self, i: usize) -> f64 {
        self.log_ref[i].exp()
    }
}
