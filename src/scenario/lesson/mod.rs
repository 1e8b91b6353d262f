//! Guided lessons: everything a stop of the app's tour shows — title, tab,
//! notice, "Try this", the "predict, then play" question and the key
//! curve — read from the scenario file's `[[lesson]]` tables
//! (docs/scenario-format.md), and the question evaluated on a run, so the
//! app, the command line and the tests read one answer.
//!
//! ```
//! use dpo_lab::lesson::{Outcome, guided};
//! use dpo_lab::scenario::load_raw;
//!
//! let stops = guided()?;
//! let first = &stops[0];
//! assert_eq!(first.display_title(), "1 · The optimum");
//! let raw = load_raw(&first.scenario)?;
//! let eval = first.lesson.predict.as_ref().expect("asks").evaluate(&raw)?;
//! assert_eq!(eval.outcome, Outcome::Rises);
//! # Ok::<(), dpo_lab::error::Error>(())
//! ```

mod raw;
pub use raw::{RawLesson, RawPrediction, RawTweak};

use super::{RawScenario, Scenario};
use crate::error::{Error, Result};
use crate::loss::LossName;
use crate::method::{Annotator, MethodKind};
use crate::metrics::Metrics;
use crate::names::parse_choice;
use crate::policy::PolicyClass;
use crate::rlvr::{GrpoLossType, ScaleRewards};
use crate::space::ResponseSpace as Space;
use crate::train::Trainer;

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Default,
            strum::EnumString, strum::IntoStaticStr, strum::EnumIter, strum::VariantNames,
        )]
        pub enum $name {
            $($(#[$vm])* #[strum(serialize = $s)] $v),+
        }
    };
}

named_enum! {
    /// The app's central tabs (a lesson's `tab`).
    Tab {
        /// Distribution and training curves.
        #[default]
        Overview = "overview",
        /// The reward–KL plane.
        Frontier = "frontier",
        /// The derivation and the DPO solution set.
        Derivation = "derivation",
        /// Online against offline DPO.
        Compare = "compare",
        /// Multi-run experiments: remedies, resampling, over-optimisation.
        Experiments = "experiments",
        /// The lesson text and the guided order.
        Lesson = "lesson",
    }
}

named_enum! {
    /// The Derivation tab's sections (a lesson's `derivation`: the one shown
    /// first).
    Section {
        /// The identities of the closed form and reward recovery.
        #[default]
        ClosedForm = "closed-form",
        /// The DPO loss of one pair, term by term.
        PairLoss = "pair-loss",
        /// One step two ways: the rejected term alone against the paired step.
        Squeezing = "squeezing",
        /// Moving mass out of the data without changing the loss.
        SolutionSet = "solution-set",
    }
}

impl Section {
    /// Every section in the panel's default order.
    pub const ALL: [Section; 4] = [
        Section::ClosedForm,
        Section::PairLoss,
        Section::Squeezing,
        Section::SolutionSet,
    ];

    /// Its name in the "Show first" row.
    pub fn title(self) -> &'static str {
        match self {
            Section::ClosedForm => "closed form",
            Section::PairLoss => "loss of one pair",
            Section::Squeezing => "squeezing",
            Section::SolutionSet => "solution set",
        }
    }
}

named_enum! {
    /// The Experiments tab's computations (a lesson's `experiment`: started
    /// on arrival).
    Experiment {
        /// Remedies for the OOD leak side by side.
        #[default]
        Remedies = "remedies",
        /// Online DPO from resampling every step to never.
        Resampling = "resampling",
        /// A proxy reward model optimised against the gold reward.
        OverOptimisation = "over-optimisation",
    }
}

named_enum! {
    /// The Overview's training curves, in the order the app draws them (a
    /// lesson's `key_curve`: the one shown first when space is short).
    Curve {
        /// Probability outside the data.
        #[default]
        OodMass = "ood-mass",
        /// The expected true reward.
        ExpectedReward = "expected-reward",
        /// KL(π ‖ π_ref).
        Kl = "kl",
        /// The training loss.
        Loss = "loss",
        /// TRL's rewards: margin, chosen, rejected.
        Rewards = "rewards",
        /// TRL's logps: chosen, rejected.
        Logps = "logps",
        /// The mean response length (sequence spaces).
        MeanLength = "mean-length",
        /// pass@k against k (verifier rewards).
        PassAtK = "pass-at-k",
    }
}

/// A one-click change of a setting ("Try this"), or the change a
/// prediction assumes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tweak {
    /// β (the learning rate keeps `lr·β²`, as the app's slider does).
    Beta(f64),
    /// The preference loss.
    Loss(LossName),
    /// The policy class.
    Policy(PolicyClass),
    /// Online DPO's annotator.
    Annotator(Annotator),
    /// Online DPO's resampling interval.
    ResampleEvery(u64),
    /// Runs online DPO beside the other methods.
    AddOnline,
    /// GRPO's loss aggregation.
    GrpoLossType(GrpoLossType),
    /// GRPO's advantage scaling.
    ScaleRewards(ScaleRewards),
    /// GRPO's and RLOO's group size.
    NumGenerations(u64),
}

impl Tweak {
    /// The button's text.
    pub fn label(self) -> String {
        match self {
            Tweak::Beta(b) => format!("β = {b}"),
            Tweak::Loss(l) => format!("loss {}", <&str>::from(l)),
            Tweak::Policy(p) => format!("{} policy", <&str>::from(p)),
            Tweak::Annotator(a) => format!("annotator {}", a.name()),
            Tweak::ResampleEvery(k) => format!("resample every {k}"),
            Tweak::AddOnline => "add online DPO".into(),
            Tweak::GrpoLossType(t) => format!("GRPO loss {}", <&str>::from(t)),
            Tweak::ScaleRewards(t) => format!("reward scaling {}", <&str>::from(t)),
            Tweak::NumGenerations(g) => format!("{g} answers per group"),
        }
    }

    /// Applies it to a scenario file as the app applies it to its settings.
    pub fn apply(self, raw: &mut RawScenario) {
        let t = &mut raw.train;
        match self {
            Tweak::Beta(b) => {
                let d = crate::train::TrainSettings::default();
                let before = t.beta.unwrap_or(d.beta());
                t.lr = Some(crate::sweep::lr_keeping_step(
                    t.lr.unwrap_or(d.lr()),
                    before,
                    b,
                ));
                t.beta = Some(b);
            }
            Tweak::Loss(l) => t.loss = Some(<&str>::from(l).into()),
            Tweak::Policy(p) => raw.policy.kind = Some(<&str>::from(p).into()),
            Tweak::Annotator(a) => raw.online.annotator = Some(a.name().into()),
            Tweak::ResampleEvery(k) => raw.online.resample_every = Some(k),
            Tweak::AddOnline => {
                let name: &str = MethodKind::OnlineDpo.into();
                if !raw.methods.iter().any(|m| m == name) {
                    if raw.methods.is_empty() {
                        raw.methods.push(MethodKind::Dpo.name().into());
                    }
                    raw.methods.push(name.into());
                }
            }
            Tweak::GrpoLossType(l) => raw.grpo.loss_type = Some(<&str>::from(l).into()),
            Tweak::ScaleRewards(s) => raw.grpo.scale_rewards = Some(<&str>::from(s).into()),
            Tweak::NumGenerations(g) => {
                raw.grpo.num_generations = Some(g);
                raw.rloo.num_generations = None;
            }
        }
    }
}

/// What a prediction watches, on one method's run.
#[derive(Debug, Clone, PartialEq)]
pub enum Quantity {
    /// Probability outside the data.
    OodMass,
    /// The probability of a named response.
    Probability(String),
    /// TRL's `logps/chosen`.
    LogpsChosen,
    /// TRL's `rewards/chosen`.
    RewardsChosen,
    /// The expected true reward E_π r.
    ExpectedReward,
    /// KL(π ‖ π*).
    KlToOptimal,
    /// The mean response length (sequence spaces).
    MeanLength,
    /// The mean length of a correct answer (verifier, sequence spaces).
    MeanLengthCorrect,
}

/// The watch names of a lesson file (`predict.watch`).
const WATCHES: [&str; 8] = [
    "ood-mass",
    "probability",
    "logps-chosen",
    "rewards-chosen",
    "expected-reward",
    "kl-to-optimal",
    "mean-length",
    "mean-length-correct",
];

impl Quantity {
    /// Its value for a policy with `metrics` and `log_probs` over `space`.
    pub fn value(&self, space: &Space, metrics: &Metrics, log_probs: &[f64]) -> Option<f64> {
        Some(match self {
            Quantity::OodMass => metrics.ood_mass,
            Quantity::Probability(name) => log_probs.get(space.index_of(name)?)?.exp(),
            Quantity::LogpsChosen => metrics.logps_chosen,
            Quantity::RewardsChosen => metrics.rewards_chosen,
            Quantity::ExpectedReward => metrics.expected_reward,
            Quantity::KlToOptimal => metrics.kl_to_optimal,
            Quantity::MeanLength => metrics.mean_length?,
            Quantity::MeanLengthCorrect => metrics.verifier.as_ref()?.mean_length_correct?,
        })
    }
}

/// The answers a prediction offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::VariantNames)]
#[strum(serialize_all = "kebab-case")]
pub enum Outcome {
    /// Ends above the start by more than the "stays" band.
    Rises,
    /// Ends below the start by more than the band.
    Falls,
    /// Ends within the band.
    Stays,
}

impl Outcome {
    /// Every answer, in the order the app offers them.
    pub const ALL: [Outcome; 3] = [Outcome::Rises, Outcome::Falls, Outcome::Stays];

    /// The answer's words.
    pub fn text(self) -> &'static str {
        match self {
            Outcome::Rises => "rises",
            Outcome::Falls => "falls",
            Outcome::Stays => "stays about the same",
        }
    }

    /// How far from `start` a value still "stays about the same": 5 % of
    /// the start's magnitude, at least 1e-9.
    pub fn stays_band(start: f64) -> f64 {
        (0.05 * start.abs()).max(1e-9)
    }

    /// The answer for a run that went from `start` to `now`.
    pub fn of(start: f64, now: f64) -> Outcome {
        let tol = Self::stays_band(start);
        if now > start + tol {
            Outcome::Rises
        } else if now < start - tol {
            Outcome::Falls
        } else {
            Outcome::Stays
        }
    }

    fn parse(field: &str, s: &str) -> Result<Outcome> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.text() == s || <&str>::from(*o) == s)
            .ok_or_else(|| {
                Error::invalid(
                    field,
                    format!("unknown answer {s:?}: expected \"rises\", \"falls\" or \"stays\""),
                )
            })
    }
}

impl From<Outcome> for &'static str {
    fn from(o: Outcome) -> &'static str {
        match o {
            Outcome::Rises => "rises",
            Outcome::Falls => "falls",
            Outcome::Stays => "stays",
        }
    }
}

/// "Predict, then play": a question about one quantity of one method's
/// run. The app reveals what the run did; `expect` is the lesson author's
/// answer, which the tests check over seeds and longer runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The question.
    pub question: String,
    /// What is watched.
    pub quantity: Quantity,
    /// Whose run.
    pub method: MethodKind,
    /// The "Try this" change the question is about, if any: until it is
    /// applied the app asks for it instead of revealing.
    pub assumes: Option<Tweak>,
    /// The author's answer.
    pub expect: Outcome,
}

/// A prediction read off a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// The watched quantity at the start.
    pub start: f64,
    /// At the end of the run.
    pub now: f64,
    /// Which answer that is.
    pub outcome: Outcome,
}

impl Prediction {
    /// `(start, now)` of the watched run from its first and current
    /// metrics (`None` while the quantity is undefined for the run).
    pub fn read(
        &self,
        space: &Space,
        first: (&Metrics, &[f64]),
        now: (&Metrics, &[f64]),
    ) -> Option<Evaluation> {
        let start = self.quantity.value(space, first.0, first.1)?;
        let now = self.quantity.value(space, now.0, now.1)?;
        Some(Evaluation {
            start,
            now,
            outcome: Outcome::of(start, now),
        })
    }

    /// Trains the watched method on `raw` (with the assumed change
    /// applied) to the end of its schedule and reads the answer.
    pub fn evaluate(&self, raw: &RawScenario) -> Result<Evaluation> {
        let mut raw = raw.clone();
        if let Some(t) = self.assumes {
            t.apply(&mut raw);
        }
        let scenario = Scenario::check(raw)?;
        let mut trainer = Trainer::new(
            &scenario.run_configs(self.method),
            scenario.focused_prompt(),
        )?;
        let first = (trainer.run().metrics()?, trainer.run().policy().log_probs());
        while !trainer.finished() {
            trainer.step()?;
        }
        let now = (trainer.run().metrics()?, trainer.run().policy().log_probs());
        let space = &scenario.problem.space;
        self.read(space, (&first.0, &first.1), (&now.0, &now.1))
            .ok_or_else(|| {
                Error::invalid(
                    "lesson.predict.watch",
                    format!(
                        "{:?} is not defined for {} on this scenario",
                        self.quantity,
                        self.method.name()
                    ),
                )
            })
    }
}

/// One guided stop, as its scenario file gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    /// Its place in the built-in guided order (1-based), if any.
    pub stop: Option<usize>,
    /// Short title.
    pub title: String,
    /// The tab it opens.
    pub tab: Tab,
    /// What to do and notice.
    pub notice: String,
    /// The experiment it computes on arrival, if any.
    pub experiment: Option<Experiment>,
    /// One-click changes worth trying.
    pub try_this: Vec<Tweak>,
    /// The question before Play, if any.
    pub predict: Option<Prediction>,
    /// The curve the lesson is about.
    pub key_curve: Curve,
    /// The Derivation tab's section shown first.
    pub derivation: Section,
}

impl Lesson {
    /// "7 · Online DPO" for a built-in stop, the title alone otherwise.
    pub fn display_title(&self) -> String {
        match self.stop {
            Some(n) => format!("{n} · {}", self.title),
            None => self.title.clone(),
        }
    }
}

/// Every lesson of a scenario file, checked (names of responses only
/// when `space` is given).
pub fn lessons_of(raw: &RawScenario, space: Option<&Space>) -> Result<Vec<Lesson>> {
    raw.lessons
        .iter()
        .enumerate()
        .map(|(k, l)| l.check(k, space))
        .collect()
}

/// A stop of the guided order: a lesson and the built-in scenario it
/// loads.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    /// The built-in scenario's name.
    pub scenario: String,
    /// What the stop shows.
    pub lesson: Lesson,
}

impl Stop {
    /// "7 · Online DPO".
    pub fn display_title(&self) -> String {
        self.lesson.display_title()
    }
}

/// The guided order: every built-in scenario's lessons with a `stop`,
/// sorted by it. Stops must be numbered 1, 2, … without gaps or repeats.
pub fn guided() -> Result<Vec<Stop>> {
    let mut stops = Vec::new();
    for raw in crate::scenario::builtins() {
        for lesson in lessons_of(&raw, None).map_err(|e| Error::File {
            path: raw.name.clone(),
            message: e.to_string(),
        })? {
            if lesson.stop.is_some() {
                stops.push(Stop {
                    scenario: raw.name.clone(),
                    lesson,
                });
            }
        }
    }
    stops.sort_by_key(|s| s.lesson.stop);
    for (i, s) in stops.iter().enumerate() {
        if s.lesson.stop != Some(i + 1) {
            return Err(Error::invalid(
                "lesson.stop",
                format!(
                    "the built-in stops must be numbered 1 to {} without gaps or repeats; {:?} ({}) has {:?}",
                    stops.len(),
                    s.lesson.title,
                    s.scenario,
                    s.lesson.stop
                ),
            ));
        }
    }
    Ok(stops)
}
