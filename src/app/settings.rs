//! The app's settings: what the user chose, kept apart from run-time state
//! so a reset or a reload rebuilds the session from them.

use dpo_lab::data::DataKind;
use dpo_lab::loss::LossName;
use dpo_lab::method::Annotator;
use dpo_lab::method::MethodKind;
use dpo_lab::optim::OptimizerKind;
use dpo_lab::policy::PolicyClass;
use dpo_lab::rlvr::{GrpoLossType, ScaleRewards};
use dpo_lab::scenario::{Overrides, RawScenario};
use dpo_lab::train::{OnlineSettings, TrainSettings};

/// How the distribution plot orders responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Response order of the space.
    Index,
    /// Reference probability, highest first.
    Reference,
    /// True reward, highest first.
    Reward,
    /// Current probability of the first trained method, highest first.
    Current,
}

/// How Play advances the runs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::EnumMessage, strum::IntoStaticStr,
)]
pub enum Playback {
    /// Over a few seconds, each step given screen time by how far it
    /// moves the policies (the fast early steps slowed down).
    #[strum(
        serialize = "paced",
        message = "each run plays over the seconds below; the steps that move the policies most get the most time"
    )]
    Paced,
    /// A fixed number of updates each frame.
    #[strum(
        serialize = "steps per frame",
        message = "the number of updates below each frame (bounded by a time budget so the window stays at 60 fps)"
    )]
    PerFrame,
    /// As many updates as fit in each frame's time budget.
    #[strum(
        serialize = "as fast as possible",
        message = "as many updates each frame as fit in 8 ms: a lesson finishes in a second or two"
    )]
    Fast,
}

/// The central panel's tabs (the library's: a lesson file names one).
pub use dpo_lab::lesson::Tab;

/// Everything the user can set; `None` means "as the scenario says".
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// KL weight β.
    pub beta: f64,
    /// Learning rate.
    pub lr: f64,
    /// Whether the user moved the learning rate (only then does it
    /// override the file, where it would also set RLHF's step).
    pub lr_moved: bool,
    /// Keep `lr·β²` fixed when β moves (default on).
    pub keep_step: bool,
    /// The optimiser.
    pub optimizer: OptimizerKind,
    /// The preference loss of offline and online DPO.
    pub loss: LossName,
    /// Total updates of each run.
    pub steps: u64,
    /// How Play advances the runs.
    pub playback: Playback,
    /// Seconds a paced run plays for.
    pub play_seconds: f64,
    /// Updates per frame when playing at a fixed number per frame.
    pub steps_per_frame: usize,
    /// How the preference data is made.
    pub data_kind: DataKind,
    /// Pairs drawn for `sampled` data.
    pub data_size: u64,
    /// Online DPO: steps between fresh samples.
    pub resample_every: u64,
    /// Online DPO's annotator.
    pub annotator: Annotator,
    /// The policy class.
    pub policy: PolicyClass,
    /// Run seed.
    pub seed: u64,
    /// Which trainable methods run side by side.
    pub dpo: bool,
    /// Online DPO on.
    pub online: bool,
    /// IPO on.
    pub ipo: bool,
    /// RLHF on.
    pub rlhf: bool,
    /// GRPO on.
    pub grpo: bool,
    /// GRPO's `loss_type`.
    pub grpo_loss_type: GrpoLossType,
    /// GRPO's `scale_rewards`.
    pub scale_rewards: ScaleRewards,
    /// GRPO's and RLOO's group size G.
    pub num_generations: u64,
    /// RLOO on.
    pub rloo: bool,
    /// Show π_ref bars.
    pub show_reference: bool,
    /// Show π* bars.
    pub show_optimum: bool,
    /// Show the runs from before the last settings change, faded.
    pub show_ghost: bool,
    /// Distribution order.
    pub sort: SortBy,
    /// Log-scale probabilities.
    pub log_scale: bool,
    /// Bars shown before "everything else".
    pub top_k: usize,
    /// UI zoom (projector: 1.5).
    pub zoom: f32,
    /// Dark theme.
    pub dark: bool,
    /// The open tab.
    pub tab: Tab,
    /// Which prompt the app trains and shows (0-based; multi-prompt
    /// scenarios only).
    pub prompt: usize,
}

impl Settings {
    /// The settings a scenario starts with.
    pub fn from_scenario(raw: &RawScenario, keep_view: Option<&Settings>) -> Self {
        let t = &raw.train;
        // The library's defaults: one place for what an omitted key means.
        let d = TrainSettings::default();
        let od = OnlineSettings::default();
        let rd = dpo_lab::rlvr::RlvrSettings::default();
        // The file's `methods` (checked with the scenario; DPO if unreadable).
        let methods = dpo_lab::scenario::check_methods(&raw.methods)
            .unwrap_or_else(|_| vec![MethodKind::Dpo]);
        let on = |m: MethodKind| methods.contains(&m);
        let view = keep_view.cloned();
        // What the file says, or the library's default when it says
        // nothing or something unreadable (which its check then reports:
        // `apply_to` leaves an unreadable value in place).
        fn read<E: std::str::FromStr>(v: &Option<String>, default: E) -> E {
            v.as_deref().and_then(|s| s.parse().ok()).unwrap_or(default)
        }
        Settings {
            beta: t.beta.unwrap_or(d.beta()),
            lr: t.lr.unwrap_or(d.lr()),
            lr_moved: false,
            keep_step: true,
            optimizer: read(&t.optimizer, d.optimizer()),
            loss: read(&t.loss, d.loss().into()),
            steps: t.steps.unwrap_or(d.steps() as u64),
            playback: view.as_ref().map_or(Playback::Paced, |v| v.playback),
            play_seconds: view
                .as_ref()
                .map_or(super::pace::PLAY_SECONDS, |v| v.play_seconds),
            // At a fixed number per frame, a run plays in about 300 frames.
            steps_per_frame: t
                .steps
                .unwrap_or(d.steps() as u64)
                .div_ceil(300)
                .clamp(5, 1000) as usize,
            data_kind: read(&raw.data.kind, DataKind::default()),
            data_size: raw.data.size.unwrap_or(1000),
            resample_every: raw
                .online
                .resample_every
                .unwrap_or(od.resample_every() as u64),
            annotator: read(&raw.online.annotator, od.annotator()),
            policy: read(&raw.policy.kind, PolicyClass::default()),
            seed: t.seed.unwrap_or(d.seed()),
            dpo: on(MethodKind::Dpo),
            online: on(MethodKind::OnlineDpo),
            ipo: on(MethodKind::Ipo),
            rlhf: on(MethodKind::Rlhf),
            grpo: on(MethodKind::Grpo),
            grpo_loss_type: read(&raw.grpo.loss_type, rd.grpo.loss_type),
            scale_rewards: read(&raw.grpo.scale_rewards, rd.grpo.scale_rewards),
            num_generations: raw
                .grpo
                .num_generations
                .unwrap_or(rd.grpo.num_generations as u64),
            rloo: on(MethodKind::Rloo),
            show_reference: true,
            show_optimum: true,
            show_ghost: view.as_ref().is_none_or(|v| v.show_ghost),
            // Long spaces: the most probable responses first, so a leak
            // climbs into view.
            sort: if raw.space.kind.as_deref() == Some("sequences") || raw.space.size.is_some() {
                SortBy::Current
            } else {
                SortBy::Index
            },
            // A thousand answers or more: the top bars are tiny next to
            // "everything else", so start in log scale.
            log_scale: raw.space.size.is_some_and(|n| n >= 1000),
            top_k: 12,
            zoom: view.as_ref().map_or(1.0, |v| v.zoom),
            dark: view.as_ref().is_some_and(|v| v.dark),
            tab: view.map_or(Tab::Overview, |v| v.tab),
            prompt: 0,
        }
    }

    /// These training settings with `other`'s view settings (what is shown
    /// and how), for undoing a rejected training change.
    pub fn with_view_of(&self, other: &Settings) -> Settings {
        Settings {
            playback: other.playback,
            play_seconds: other.play_seconds,
            steps_per_frame: other.steps_per_frame,
            show_reference: other.show_reference,
            show_optimum: other.show_optimum,
            show_ghost: other.show_ghost,
            sort: other.sort,
            log_scale: other.log_scale,
            top_k: other.top_k,
            zoom: other.zoom,
            dark: other.dark,
            tab: other.tab,
            ..self.clone()
        }
    }

    /// Applies a lesson's "Try this" change (the caller rebuilds the runs).
    pub fn apply_tweak(&mut self, t: dpo_lab::lesson::Tweak) {
        use dpo_lab::lesson::Tweak;
        match t {
            Tweak::Beta(b) => {
                let before = self.beta;
                self.beta = b;
                self.keep_step_after_beta(before);
            }
            Tweak::Loss(l) => self.loss = l,
            Tweak::Policy(p) => self.policy = p,
            Tweak::Annotator(a) => self.annotator = a,
            Tweak::ResampleEvery(k) => self.resample_every = k,
            Tweak::AddOnline => self.online = true,
            Tweak::GrpoLossType(l) => self.grpo_loss_type = l,
            Tweak::ScaleRewards(s) => self.scale_rewards = s,
            Tweak::NumGenerations(g) => self.num_generations = g,
        }
    }

    /// After β moved from `beta_before`: with "keep lr·β² fixed" on, scales
    /// the learning rate so the effective step stays (as `dpo-lab sweep`
    /// does).
    pub fn keep_step_after_beta(&mut self, beta_before: f64) {
        if self.keep_step && self.beta.is_finite() && self.beta > 0.0 {
            let scaled = dpo_lab::sweep::lr_keeping_step(self.lr, beta_before, self.beta);
            if scaled.is_finite() && scaled > 0.0 {
                self.lr = scaled;
                self.lr_moved = true;
            }
        }
    }

    /// The training settings that differ from `before`, as "β 0.5 to 0.25".
    pub fn changes_from(&self, before: &Settings) -> Vec<String> {
        let mut out = Vec::new();
        let mut num = |name: &str, a: f64, b: f64| {
            if a != b {
                out.push(format!(
                    "{name} {} to {}",
                    dpo_lab::numerics::tick(a),
                    dpo_lab::numerics::tick(b)
                ));
            }
        };
        num("β", before.beta, self.beta);
        num("learning rate", before.lr, self.lr);
        num("total steps", before.steps as f64, self.steps as f64);
        num(
            "pairs drawn",
            before.data_size as f64,
            self.data_size as f64,
        );
        num(
            "resample every",
            before.resample_every as f64,
            self.resample_every as f64,
        );
        num(
            "answers per group",
            before.num_generations as f64,
            self.num_generations as f64,
        );
        num("seed", before.seed as f64, self.seed as f64);
        num(
            "prompt",
            (before.prompt + 1) as f64,
            (self.prompt + 1) as f64,
        );
        let mut text = |name: &str, a: &str, b: &str| {
            if a != b {
                out.push(format!("{name} {a} to {b}"));
            }
        };
        text("optimiser", before.optimizer.into(), self.optimizer.into());
        text("loss", before.loss.into(), self.loss.into());
        text("data", before.data_kind.into(), self.data_kind.into());
        text("annotator", before.annotator.name(), self.annotator.name());
        text("policy", before.policy.into(), self.policy.into());
        text(
            "GRPO loss type",
            before.grpo_loss_type.into(),
            self.grpo_loss_type.into(),
        );
        text(
            "GRPO reward scaling",
            before.scale_rewards.into(),
            self.scale_rewards.into(),
        );
        let names = |m: Vec<MethodKind>| {
            m.into_iter()
                .map(super::session::method_label)
                .collect::<Vec<_>>()
                .join(", ")
        };
        text("methods", &names(before.methods()), &names(self.methods()));
        out
    }

    /// The selected trainable methods, in display order.
    pub fn methods(&self) -> Vec<MethodKind> {
        let mut m = Vec::new();
        if self.dpo {
            m.push(MethodKind::Dpo);
        }
        if self.online {
            m.push(MethodKind::OnlineDpo);
        }
        if self.ipo {
            m.push(MethodKind::Ipo);
        }
        if self.rlhf {
            m.push(MethodKind::Rlhf);
        }
        if self.grpo {
            m.push(MethodKind::Grpo);
        }
        if self.rloo {
            m.push(MethodKind::Rloo);
        }
        m
    }

    /// Writes the settings into a raw scenario (checked afterwards).
    pub fn apply_to(&self, raw: &mut RawScenario) {
        let d = TrainSettings::default();
        let od = OnlineSettings::default();
        let rd = dpo_lab::rlvr::RlvrSettings::default();
        raw.apply(&Overrides {
            beta: Some(self.beta),
            // Passing lr also sets RLHF's step: only when the user moved it.
            lr: self.lr_moved.then_some(self.lr),
            steps: Some(self.steps),
            seed: Some(self.seed),
            optimizer: changed(&raw.train.optimizer, d.optimizer(), self.optimizer),
            loss: changed(&raw.train.loss, d.loss().into(), self.loss),
            policy: changed(&raw.policy.kind, PolicyClass::default(), self.policy),
            resample_every: Some(self.resample_every),
            annotator: changed(&raw.online.annotator, od.annotator(), self.annotator),
            // Only what the user changed overrides the file's own tables
            // (`[rloo]` keys it sets itself stay).
            num_generations: (raw
                .grpo
                .num_generations
                .unwrap_or(rd.grpo.num_generations as u64)
                != self.num_generations)
                .then_some(self.num_generations),
            grpo_loss_type: changed(&raw.grpo.loss_type, rd.grpo.loss_type, self.grpo_loss_type),
            scale_rewards: changed(
                &raw.grpo.scale_rewards,
                rd.grpo.scale_rewards,
                self.scale_rewards,
            ),
            ..Overrides::default()
        });
        if let Some(kind) = changed(&raw.data.kind, DataKind::default(), self.data_kind) {
            raw.data.kind = Some(<&str>::from(kind).into());
        }
        if self.data_kind == DataKind::Sampled {
            raw.data.size = Some(self.data_size);
        }
    }
}

/// `Some(value)` where the file's choice (`default` when it has none)
/// differs from it; `None` where they agree (an alias stays as written) or
/// the file's value is unreadable (its check reports it; nothing hides it).
fn changed<E>(file: &Option<String>, default: E, value: E) -> Option<E>
where
    E: std::str::FromStr + PartialEq,
{
    let current = match file.as_deref() {
        None => Some(default),
        Some(s) => s.parse::<E>().ok(),
    };
    current.filter(|c| *c != value).map(|_| value)
}
