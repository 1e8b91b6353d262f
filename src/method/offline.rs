//! Offline preference losses (DPO and the whole family of `crate::loss`) on the scenario's
//! fixed data, full batch or seeded minibatches.

use std::sync::Arc;

use super::{Method, StepContext, pair_loss, pair_loss_and_gradient};
use crate::data::{Pair, PairData};
use crate::loss::PairLoss;
use crate::policy::Policy;

/// A pair loss on fixed data.
pub struct OfflinePairs {
    data: Arc<PairData>,
    loss: PairLoss,
    batch: usize,
    minibatch: Vec<Pair>,
    lengths: Vec<f64>,
}

impl OfflinePairs {
    /// `batch = 0` uses the whole data (weights `W`) every step; otherwise
    /// each step draws `batch` pairs in proportion to `W`, weighted 1/batch.
    /// `lengths` as for [`super::pair_loss`].
    pub fn new(data: Arc<PairData>, loss: PairLoss, batch: usize, lengths: Vec<f64>) -> Self {
        OfflinePairs {
            data,
            loss,
            batch,
            minibatch: Vec::with_capacity(batch),
            lengths,
        }
    }
}

impl Method for OfflinePairs {
    fn last_pairs(&self) -> &[Pair] {
        if self.batch == 0 {
            &self.data.pairs
        } else {
            &self.minibatch
        }
    }

    fn gradient(
        &mut self,
        ctx: &mut StepContext<'_>,
        policy: &Policy,
        coefs: &mut Vec<(usize, f64)>,
    ) -> (f64, f64) {
        let pairs: &[Pair] = if self.batch == 0 {
            &self.data.pairs
        } else {
            self.minibatch.clear();
            let w = 1.0 / self.batch as f64;
            for _ in 0..self.batch {
                let p = self.data.pairs[self.data.draw(ctx.rng)];
                self.minibatch.push(Pair { weight: w, ..p });
            }
            &self.minibatch
        };
        pair_loss_and_gradient(pairs, self.loss, ctx.beta, policy, &self.lengths, coefs)
    }

    /// The loss on the whole data (for minibatches too: a deterministic
    /// number that describes the policy, not the draw).
    fn current_loss(&self, beta: f64, policy: &Policy) -> f64 {
        pair_loss(
            &self.data.pairs,
            self.loss,
            beta,
            policy,
            &self.lengths,
            None,
        )
    }

    /// The gradient of the loss on the whole data.
    fn loss_gradient(&self, beta: f64, policy: &Policy, coefs: &mut Vec<(usize, f64)>) -> f64 {
        pair_loss_and_gradient(
            &self.data.pairs,
            self.loss,
            beta,
            policy,
            &self.lengths,
            coefs,
        )
        .1
    }

    fn is_stochastic(&self) -> bool {
        self.batch > 0
    }
}
