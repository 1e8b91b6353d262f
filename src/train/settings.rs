//! The checked settings of a run: `[train]`, `[online]`, `[rlhf]`, and the
//! run configuration built from a scenario.

use super::*;

/// Checked training settings (scenario `[train]`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSettings {
    /// KL weight β > 0 (default 0.1).
    pub(crate) beta: f64,
    /// Learning rate > 0 (default 0.5).
    pub(crate) lr: f64,
    /// Optimiser (default `sgd`).
    pub(crate) optimizer: OptimizerKind,
    /// Number of updates (default 500).
    pub(crate) steps: usize,
    /// Pairs per step; 0 = the whole data (default 0).
    pub(crate) batch: usize,
    /// Seed of the run's generator (default 0).
    pub(crate) seed: u64,
    /// History every K steps, 0 = none (default: steps / 50, at least 1).
    pub(crate) log_every: usize,
    /// The pair loss of `dpo` (default `dpo`).
    pub(crate) loss: PairLoss,
}

impl Default for TrainSettings {
    /// The defaults a scenario file gets for every `[train]` key it omits.
    fn default() -> Self {
        TrainSettings {
            beta: 0.1,
            lr: 0.5,
            optimizer: OptimizerKind::Sgd,
            steps: 500,
            batch: 0,
            seed: 0,
            log_every: Self::default_log_every(500),
            loss: PairLoss::Dpo,
        }
    }
}

impl TrainSettings {
    /// The history interval of a run of `steps` whose file gives no
    /// `log_every`: about fifty points.
    pub fn default_log_every(steps: usize) -> usize {
        (steps / 50).max(1)
    }

    /// KL weight β.
    pub fn beta(&self) -> f64 {
        self.beta
    }
    /// Learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }
    /// Optimiser.
    pub fn optimizer(&self) -> OptimizerKind {
        self.optimizer
    }
    /// Number of updates.
    pub fn steps(&self) -> usize {
        self.steps
    }
    /// Pairs per step (0 = the whole data).
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// Seed of the run's generator.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// History every K steps (0 = none).
    pub fn log_every(&self) -> usize {
        self.log_every
    }
    /// The pair loss.
    pub fn loss(&self) -> PairLoss {
        self.loss
    }
    /// The same settings at another β (checked like `train.beta`).
    pub fn with_beta(mut self, beta: f64) -> Result<Self> {
        self.beta = crate::optimal::check_beta("train.beta", beta)?;
        Ok(self)
    }
    /// At another learning rate (a finite number > 0).
    pub fn with_lr(mut self, lr: f64) -> Result<Self> {
        self.lr = crate::validate::positive("train.lr", lr)?;
        Ok(self)
    }
    /// With another number of updates (at most `MAX_STEPS`).
    pub fn with_steps(mut self, steps: usize) -> Result<Self> {
        crate::validate::steps("train.steps", steps as u64)?;
        self.steps = steps;
        Ok(self)
    }
    /// With another seed (any).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Logging every `k` steps (0 = none).
    pub fn with_log_every(mut self, k: usize) -> Self {
        self.log_every = k;
        self
    }
    /// With another pair loss (its parameters are checked when it is
    /// parsed, [`PairLoss::parse`]).
    pub fn with_loss(mut self, loss: PairLoss) -> Self {
        self.loss = loss;
        self
    }
    /// With another optimiser.
    pub fn with_optimizer(mut self, optimizer: OptimizerKind) -> Self {
        self.optimizer = optimizer;
        self
    }
}

/// Checked online settings (scenario `[online]`).
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineSettings {
    /// Steps between fresh samples from π (default 1).
    pub(crate) resample_every: usize,
    /// Pairs sampled per resample (default 64).
    pub(crate) batch: usize,
    /// Who labels them (default `bt`).
    pub(crate) annotator: Annotator,
}

/// RLHF's optimisers by name (scenario `[rlhf] optimizer`).
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
#[strum(serialize_all = "kebab-case")]
pub enum RlhfOptimizerName {
    /// The exact expectation.
    #[default]
    #[strum(message = "gradient ascent on J with the exact expectation")]
    Exact,
    /// PPO.
    #[strum(message = "PPO: sampled batches, clipped surrogate, value baseline")]
    Ppo,
}

impl Default for OnlineSettings {
    /// The defaults for every `[online]` key a file omits.
    fn default() -> Self {
        OnlineSettings {
            resample_every: 1,
            batch: 64,
            annotator: Annotator::BradleyTerry,
        }
    }
}

impl OnlineSettings {
    /// Steps between fresh samples.
    pub fn resample_every(&self) -> usize {
        self.resample_every
    }
    /// Pairs per resample.
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// Who labels them.
    pub fn annotator(&self) -> Annotator {
        self.annotator
    }
    /// Resampling every `k ≥ 1` steps.
    pub fn with_resample_every(mut self, k: usize) -> Result<Self> {
        if k == 0 {
            return Err(Error::invalid(
                "online.resample_every",
                "must be at least 1 (1 = fresh pairs every step), got 0",
            ));
        }
        self.resample_every = k;
        Ok(self)
    }
}

/// How RLHF optimises (scenario `[rlhf] optimizer`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RlhfOptimizer {
    /// Gradient ascent on `J` with the full expectation (default).
    Exact,
    /// PPO with these settings.
    Ppo(PpoSettings),
}

/// Checked RLHF settings (scenario `[rlhf]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RlhfSettings {
    /// `exact` (default) or `ppo`.
    pub optimizer: RlhfOptimizer,
    /// Policy learning rate (default: `train.lr`).
    pub lr: Option<f64>,
    /// The reward model (default tabular).
    pub reward_model: RewardModelKind,
    /// How it is fit.
    pub fit: FitSettings,
}

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The prompt's problem.
    pub problem: Arc<Problem>,
    /// The scenario's data.
    pub data: Arc<PairData>,
    /// The policy class.
    pub policy: PolicyKind,
    /// Training settings.
    pub train: TrainSettings,
    /// Online settings.
    pub online: OnlineSettings,
    /// RLHF and reward-model settings.
    pub rlhf: RlhfSettings,
    /// GRPO, RLOO and pass@k settings.
    pub rlvr: crate::rlvr::RlvrSettings,
    /// Whether the prompts share one log-linear policy's parameters
    /// (`[policy] shared = true`; [`train_shared`]).
    pub shared: bool,
    /// The method.
    pub method: MethodKind,
}

impl RunConfig {
    /// The policy learning rate this run uses: `rlhf.lr` for RLHF when set,
    /// else `train.lr`.
    pub fn effective_lr(&self) -> f64 {
        match self.method {
            MethodKind::Rlhf => self.rlhf.lr.unwrap_or(self.train.lr),
            _ => self.train.lr,
        }
    }
}
