//! Online DPO (Guo et al. 2024, OAIF; docs/maths.md §4): every `resample_every`
//! steps, draw `batch` fresh pairs from the *current* policy, let an
//! annotator pick the preferred one, and take DPO steps on them. A response
//! whose probability grows gets sampled, gets a low score and is pushed back
//! down. `resample_every ≥ steps` samples once from `π_ref`: offline DPO on
//! sampled data.

use super::{Method, StepContext, pair_loss, pair_loss_and_gradient};
use crate::data::Pair;
use crate::data::{label_argmax, label_bradley_terry};
use crate::error::Result;
use crate::loss::PairLoss;
use crate::policy::Policy;

/// Who judges the sampled pairs.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantNames,
    strum::EnumMessage,
)]
pub enum Annotator {
    /// Bradley–Terry with the true reward: `y1 ≻ y2` w.p. `σ(r1 − r2)`.
    #[default]
    #[strum(
        serialize = "bt",
        message = "Bradley-Terry with the true reward: y1 wins with probability sigma(r1 - r2)"
    )]
    BradleyTerry,
    /// The higher true reward wins (ties: a fair coin).
    #[strum(
        serialize = "argmax",
        message = "the higher true reward wins (ties: a fair coin)"
    )]
    Argmax,
    /// A learned reward model (RLHF issue).
    #[strum(
        serialize = "reward-model",
        message = "a reward model fitted on the scenario's data judges"
    )]
    RewardModel,
}

impl Annotator {
    /// Parses `bt`, `argmax` or `reward-model`.
    pub fn parse(s: &str) -> Result<Self> {
        crate::names::parse_choice("online.annotator", "annotator", s)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Online DPO's state: the current batch of judged pairs.
pub struct OnlineDpo {
    loss: PairLoss,
    resample_every: usize,
    batch_size: usize,
    annotator: Annotator,
    scores: Vec<f64>,
    batch: Vec<Pair>,
    lengths: Vec<f64>,
    /// Responses drawn by any batch so far.
    drawn: Vec<bool>,
}

impl OnlineDpo {
    /// `scores` is what the annotator judges by (the true reward for `bt`
    /// and `argmax`); `lengths` as for [`super::pair_loss`].
    pub fn new(
        loss: PairLoss,
        resample_every: usize,
        batch_size: usize,
        annotator: Annotator,
        scores: Vec<f64>,
        lengths: Vec<f64>,
    ) -> Self {
        OnlineDpo {
            loss,
            resample_every,
            batch_size,
            annotator,
            batch: Vec::with_capacity(batch_size),
            drawn: vec![false; scores.len()],
            scores,
            lengths,
        }
    }

    /// Draws and labels a fresh batch from `policy`.
    pub fn resample(&mut self, policy: &Policy, rng: &mut rand::rngs::StdRng) {
        self.batch.clear();
        let w = 1.0 / self.batch_size as f64;
        // Both responses of every pair first (y1 = draws[2k], y2 = draws[2k+1]),
        // then the labels.
        let mut draws = vec![0usize; 2 * self.batch_size];
        policy.sample_many(rng, &mut draws);
        for &y in &draws {
            self.drawn[y] = true;
        }
        // The draws' scores in one tight loop (cache misses overlap).
        let scores: Vec<f64> = draws.iter().map(|&y| self.scores[y]).collect();
        for (pair, s) in draws.chunks_exact(2).zip(scores.chunks_exact(2)) {
            let (a, b) = (pair[0], pair[1]);
            let (c, r) = match self.annotator {
                Annotator::Argmax => label_argmax(a, b, s[0], s[1], rng),
                Annotator::BradleyTerry | Annotator::RewardModel => {
                    label_bradley_terry(a, b, s[0], s[1], rng)
                }
            };
            self.batch.push(Pair::new(c, r, w));
        }
    }

    /// The current batch.
    pub fn batch(&self) -> &[Pair] {
        &self.batch
    }
}

impl Method for OnlineDpo {
    fn last_pairs(&self) -> &[Pair] {
        &self.batch
    }

    /// Draws the first batch from `π_ref`, so step 0 already has a loss.
    fn prepare(&mut self, ctx: &mut StepContext<'_>, policy: &Policy) {
        self.resample(policy, ctx.rng);
    }

    fn gradient(
        &mut self,
        ctx: &mut StepContext<'_>,
        policy: &Policy,
        coefs: &mut Vec<(usize, f64)>,
    ) -> (f64, f64) {
        if self.batch.is_empty() || (ctx.step > 0 && ctx.step.is_multiple_of(self.resample_every)) {
            self.resample(policy, ctx.rng);
        }
        pair_loss_and_gradient(
            &self.batch,
            self.loss,
            ctx.beta,
            policy,
            &self.lengths,
            coefs,
        )
    }

    /// The loss on the current batch (0 before the first one is drawn).
    fn current_loss(&self, beta: f64, policy: &Policy) -> f64 {
        pair_loss(&self.batch, self.loss, beta, policy, &self.lengths, None)
    }

    /// The gradient of the loss on the current batch.
    fn loss_gradient(&self, beta: f64, policy: &Policy, coefs: &mut Vec<(usize, f64)>) -> f64 {
        pair_loss_and_gradient(&self.batch, self.loss, beta, policy, &self.lengths, coefs).1
    }

    fn is_stochastic(&self) -> bool {
        true
    }

    fn drawn(&self) -> Option<&[bool]> {
        Some(&self.drawn)
    }
}
