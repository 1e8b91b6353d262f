//! The lesson picker: the guided order through the lecture, the built-in
//! scenarios, and "Open…" for a scenario file.

use dpo_lab::scenario::builtins;

use super::Command;
use super::derivation::Section;
use super::experiments::Experiment;
use dpo_lab::method::MethodKind;
use dpo_lab::metrics::Metrics;

use super::session::Session;
use super::settings::{Settings, Tab};

/// One stop on the guided tour.
pub struct Lesson {
    /// Short title.
    pub title: &'static str,
    /// Built-in scenario it loads.
    pub scenario: &'static str,
    /// Tab it opens.
    pub tab: Tab,
    /// What to do and notice at this stop.
    pub notice: &'static str,
    /// The experiment the stop computes on the Experiments tab, if any.
    pub experiment: Option<Experiment>,
    /// One-click changes worth trying at this stop.
    pub try_this: &'static [Tweak],
    /// A question to answer before pressing Play, revealed when the runs
    /// finish.
    pub predict: Option<Prediction>,
    /// The curve the lesson is about (index into the Overview's curves:
    /// 0 OOD mass, 1 E r, 2 KL, 3 loss, 4 rewards, 5 logps, 6 mean length),
    /// shown first when the window is small.
    pub key_curve: usize,
    /// The Derivation tab's section shown first at this stop.
    pub derivation: Section,
}

/// "Predict, then play": a question about one quantity of one run. The
/// outcome is read off the simulation when the runs finish, never written
/// into the lesson.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The question.
    pub question: &'static str,
    /// What is watched.
    pub quantity: Quantity,
    /// The "Try this" change the question is about, if any: until it is
    /// applied the stop asks for it instead of revealing.
    pub assumes: Option<Tweak>,
}

/// A watched quantity of one method's run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantity {
    /// Probability outside the data.
    OodMass(MethodKind),
    /// The probability of a named response.
    Probability(&'static str, MethodKind),
    /// TRL's `logps/chosen`.
    LogpsChosen(MethodKind),
    /// TRL's `rewards/chosen`.
    RewardsChosen(MethodKind),
    /// The expected true reward E_π r.
    ExpectedReward(MethodKind),
    /// KL(π || π*).
    KlToOptimal(MethodKind),
    /// The mean response length (sequence spaces).
    MeanLength(MethodKind),
    /// The mean length of a correct answer (verifier, sequence spaces).
    MeanLengthCorrect(MethodKind),
}

/// The answers every prediction offers.
pub const CHOICES: [&str; 3] = ["rises", "falls", "stays about the same"];

impl Quantity {
    /// The method whose run is watched.
    pub fn method(self) -> MethodKind {
        match self {
            Quantity::OodMass(m)
            | Quantity::Probability(_, m)
            | Quantity::LogpsChosen(m)
            | Quantity::RewardsChosen(m)
            | Quantity::ExpectedReward(m)
            | Quantity::KlToOptimal(m)
            | Quantity::MeanLength(m)
            | Quantity::MeanLengthCorrect(m) => m,
        }
    }

    /// Its value in `metrics` / `log_probs` of a run on `session`.
    pub fn value(self, session: &Session, metrics: &Metrics, log_probs: &[f64]) -> Option<f64> {
        Some(match self {
            Quantity::OodMass(_) => metrics.ood_mass,
            Quantity::Probability(name, _) => log_probs
                .get(session.scenario.problem.space.index_of(name)?)?
                .exp(),
            Quantity::LogpsChosen(_) => metrics.logps_chosen,
            Quantity::RewardsChosen(_) => metrics.rewards_chosen,
            Quantity::ExpectedReward(_) => metrics.expected_reward,
            Quantity::KlToOptimal(_) => metrics.kl_to_optimal,
            Quantity::MeanLength(_) => metrics.mean_length?,
            Quantity::MeanLengthCorrect(_) => metrics.verifier.as_ref()?.mean_length_correct?,
        })
    }

    /// How far from `start` a value still "stays about the same": 5 % of
    /// the start's magnitude, at least 1e-9.
    pub fn stays_band(start: f64) -> f64 {
        (0.05 * start.abs()).max(1e-9)
    }

    /// `(start, now, index into CHOICES)` for the watched run, once it has
    /// history: "stays" within 5 % of the start's magnitude (at least 1e-9).
    pub fn outcome(self, session: &Session) -> Option<(f64, f64, usize)> {
        let run = session.runs.iter().find(|r| r.kind == self.method())?;
        let (_, first) = run.history.first()?;
        let start = self.value(session, first, &session.scenario.problem.log_ref)?;
        let now = self.value(session, &run.metrics, &run.log_probs)?;
        let tol = Self::stays_band(start);
        let k = if now > start + tol {
            0
        } else if now < start - tol {
            1
        } else {
            2
        };
        Some((start, now, k))
    }
}

/// A one-click change of a setting ("Try this").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tweak {
    /// β (the learning rate follows when "keep lr·β² fixed" is on).
    Beta(f64),
    /// The preference loss.
    Loss(&'static str),
    /// The policy class.
    Policy(&'static str),
    /// Online DPO's annotator.
    Annotator(&'static str),
    /// Online DPO's resampling interval.
    ResampleEvery(u64),
    /// Runs online DPO beside the other methods.
    AddOnline,
    /// GRPO's loss aggregation.
    GrpoLossType(&'static str),
    /// GRPO's advantage scaling.
    ScaleRewards(&'static str),
    /// GRPO's and RLOO's group size.
    NumGenerations(u64),
}

impl Tweak {
    /// The button's text.
    pub fn label(self) -> String {
        match self {
            Tweak::Beta(b) => format!("β = {b}"),
            Tweak::Loss(l) => format!("loss {l}"),
            Tweak::Policy(p) => format!("{p} policy"),
            Tweak::Annotator(a) => format!("annotator {a}"),
            Tweak::ResampleEvery(k) => format!("resample every {k}"),
            Tweak::AddOnline => "add online DPO".into(),
            Tweak::GrpoLossType(t) => format!("GRPO loss {t}"),
            Tweak::ScaleRewards(t) => format!("reward scaling {t}"),
            Tweak::NumGenerations(g) => format!("{g} answers per group"),
        }
    }

    /// Applies it to the settings (the caller rebuilds the runs).
    pub fn apply(self, s: &mut Settings) {
        match self {
            Tweak::Beta(b) => {
                let before = s.beta;
                s.beta = b;
                s.keep_step_after_beta(before);
            }
            Tweak::Loss(l) => s.loss = l.into(),
            Tweak::Policy(p) => s.policy = p.into(),
            Tweak::Annotator(a) => s.annotator = a.into(),
            Tweak::ResampleEvery(k) => s.resample_every = k,
            Tweak::AddOnline => s.online = true,
            Tweak::GrpoLossType(t) => s.grpo_loss_type = t.into(),
            Tweak::ScaleRewards(t) => s.scale_rewards = t.into(),
            Tweak::NumGenerations(g) => s.num_generations = g,
        }
    }
}

/// The lecture's order: optimum -> β -> ratio intuition -> DPO loss -> OOD leak
/// -> online DPO -> RLHF and length bias -> IPO.
pub const GUIDED: &[Lesson] = &[
    Lesson {
        title: "1 · The optimum",
        scenario: "optimal-policy",
        tab: Tab::Overview,
        notice: "π* = π_ref·exp(r/β)/Z (green bars). Press Play: DPO on the full population of pairs converges onto it without ever seeing a reward.",
        experiment: None,
        try_this: &[Tweak::Beta(0.25), Tweak::Beta(4.0)],
        predict: Some(Prediction {
            question: "What will DPO do to the probability of 'concise and correct', the best answer?",
            quantity: Quantity::Probability("concise and correct", MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 1,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "2 · β",
        scenario: "optimal-policy",
        tab: Tab::Frontier,
        notice: "Drag β: large β keeps π* at π_ref, small β puts all mass on the best answer. The green curve is the reward–KL frontier no policy can beat.",
        experiment: None,
        try_this: &[Tweak::Beta(0.1), Tweak::Beta(10.0)],
        predict: Some(Prediction {
            question: "DPO never sees a reward, only which answer of a pair is preferred. What will its expected true reward do?",
            quantity: Quantity::ExpectedReward(MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 1,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "3 · Ratio intuition",
        scenario: "ratio-intuition",
        tab: Tab::Overview,
        notice: "0.8 to 0.889 is worth exactly as much as 0.1 to 0.111: both chosen answers keep the same implicit reward β·log(π/π_ref) at every step, and 'likely good' gains eight times more probability.",
        experiment: None,
        try_this: &[Tweak::Beta(0.5), Tweak::Beta(2.0)],
        predict: Some(Prediction {
            question: "'unlikely good' starts at 0.1. What will DPO do to its probability?",
            quantity: Quantity::Probability("unlikely good", MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 4,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "4 · The DPO loss",
        scenario: "optimal-policy",
        tab: Tab::Derivation,
        notice: "The loss of one pair, term by term, and the identities of the derivation checked live: Σπ* = 1, J(π*) = β log Z, J(π*) − J(π) = β·KL(π||π*).",
        experiment: None,
        try_this: &[],
        predict: Some(Prediction {
            question: "While the DPO loss falls, what will KL(π || π*), the gap J(π*) − J(π) divided by β, do?",
            quantity: Quantity::KlToOptimal(MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 0,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "5 · OOD leak",
        scenario: "ood-leak",
        tab: Tab::Overview,
        notice: "At β = 0.5 offline DPO more than triples the out-of-data mass (marked ×) without ever moving those answers' logits; set β = 0.1 and it falls instead. Online DPO lowers it at every β.",
        experiment: None,
        try_this: &[Tweak::Beta(0.1), Tweak::Beta(1.0)],
        predict: Some(Prediction {
            question: "At β = 0.5, what will offline DPO do to the probability of the answers in no pair?",
            quantity: Quantity::OodMass(MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 0,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "6 · \"the the the\"",
        scenario: "the-the-the",
        tab: Tab::Overview,
        notice: "Shared features move most of the mass out of the data, mostly onto 'the cat the'; 'the the the', the worst answer, gains most relative to its reference (the bars open in log scale to show it). Then open Derivation: the DPO loss does not change when mass moves out of the data.",
        experiment: None,
        try_this: &[
            Tweak::Policy("autoregressive"),
            Tweak::Loss("rpo"),
            Tweak::Beta(0.1),
        ],
        predict: Some(Prediction {
            question: "What will offline DPO do to the probability of 'the the the', which is in no pair?",
            quantity: Quantity::Probability("the the the", MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 0,
        derivation: Section::SolutionSet,
    },
    Lesson {
        title: "7 · Online DPO",
        scenario: "offline-vs-online",
        tab: Tab::Compare,
        notice: "Equal budgets, 16,000 labels each: online DPO wins almost every comparison because it reaches the ten best answers, which the offline pairs never contain.",
        experiment: None,
        try_this: &[],
        predict: Some(Prediction {
            question: "What will online DPO do to the probability of the answers that no offline pair contains?",
            quantity: Quantity::OodMass(MethodKind::OnlineDpo),
            assumes: None,
        }),
        key_curve: 0,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "8 · RLHF and length bias",
        scenario: "length-bias",
        tab: Tab::Overview,
        notice: "Everything trained on the length-loving labels pads: RLHF on its reward model and offline DPO (watch mean length). Online DPO judged by the true reward stays at π*.",
        experiment: None,
        try_this: &[
            Tweak::AddOnline,
            Tweak::Annotator("reward-model"),
            Tweak::Annotator("bt"),
            Tweak::Loss("rdpo"),
        ],
        predict: Some(Prediction {
            question: "The labellers prefer longer answers. What will offline DPO do to the mean length?",
            quantity: Quantity::MeanLength(MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 6,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "9 · IPO",
        scenario: "deterministic-preferences",
        tab: Tab::Overview,
        notice: "Deterministic preferences: DPO keeps pushing π(B) down the longer it trains, at every β; IPO stops at a margin of exactly 1/(2β). Try β = 0.1 and β = 1.",
        experiment: None,
        try_this: &[Tweak::Beta(0.1), Tweak::Beta(1.0)],
        predict: Some(Prediction {
            question: "Every label says A beats B. What will DPO do to π(B)?",
            quantity: Quantity::Probability("B", MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 4,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "10 · Likelihood displacement",
        scenario: "likelihood-displacement",
        tab: Tab::Overview,
        notice: "Shared embeddings: the chosen 'No' and the rejected 'Never' both fall while the loss falls and their margin grows; 'Yes', in no pair and of the opposite meaning, takes the mass. Pick the dpop or rpo loss: 'No' stays up.",
        experiment: None,
        try_this: &[Tweak::Loss("dpop"), Tweak::Loss("rpo")],
        predict: Some(Prediction {
            question: "What will offline DPO do to log π of the chosen answer 'No'?",
            quantity: Quantity::LogpsChosen(MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 5,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "11 · Best-of-n",
        scenario: "best-of-n",
        tab: Tab::Frontier,
        notice: "Grey squares: best-of-n for n = 1, 2, 4 … 1024, exact. They sit just under π*'s frontier, and their KL stops at −log π_ref(best) = 3.70 while the quoted log n − (n−1)/n keeps growing.",
        experiment: None,
        try_this: &[],
        predict: None,
        key_curve: 0,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "12 · Remedies for the leak",
        scenario: "the-the-the",
        tab: Tab::Overview,
        notice: "Pick the loss rpo (DPO plus the chosen answers' NLL) or dpop (no falling chosen log-ratio) and press Play: the out-of-data mass stays below a quarter of plain DPO's, and 'the the the' falls. Online DPO and RLHF end nearest π*.",
        experiment: None,
        try_this: &[Tweak::Loss("rpo"), Tweak::Loss("dpop"), Tweak::Loss("ipo")],
        predict: Some(Prediction {
            question: "With the loss rpo, what will offline DPO do to the probability of 'the the the'?",
            quantity: Quantity::Probability("the the the", MethodKind::Dpo),
            assumes: Some(Tweak::Loss("rpo")),
        }),
        key_curve: 0,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "13 · Resample often",
        scenario: "resampling",
        tab: Tab::Experiments,
        notice: "Fresh pairs every step keep online DPO near π*. Resample every 16 steps and KL(π||π*) is higher; never resample and the policy drifts onto answers no batch ever drew ('mass never drawn').",
        experiment: Some(Experiment::Resampling),
        try_this: &[Tweak::ResampleEvery(16), Tweak::ResampleEvery(100_000)],
        predict: Some(Prediction {
            question: "Online DPO draws 8 fresh pairs from itself every step. What will it do to KL(π||π*)?",
            quantity: Quantity::KlToOptimal(MethodKind::OnlineDpo),
            assumes: None,
        }),
        key_curve: 0,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "14 · Squeezing",
        scenario: "squeezing",
        tab: Tab::Derivation,
        notice: "Squeezing, from π_ref: the rejected half of a DPO step alone (pushing 'rare' down) hands most of the freed mass to 'top', the most likely answer; the whole paired step moves only the pair's logits, so Play's paired training lowers 'top' as 'third' rises (see 'Squeezing' below).",
        experiment: None,
        try_this: &[],
        predict: Some(Prediction {
            question: "Play trains the paired DPO loss: 'third' up, 'rare' down. What will it do to 'top', the likeliest answer, in no pair?",
            quantity: Quantity::Probability("top", MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 0,
        derivation: Section::Squeezing,
    },
    Lesson {
        title: "15 · Negative chosen rewards",
        scenario: "negative-chosen-rewards",
        tab: Tab::Overview,
        notice: "Press Play and watch the rewards plot: the margin (solid) rises to 0.74 while rewards/chosen (dashed) falls to −0.39, and DPO still reaches π*. At π* every implicit reward is r(y) − β log Z: the normaliser, not a failure.",
        experiment: None,
        try_this: &[Tweak::Beta(2.0), Tweak::Beta(0.1)],
        predict: Some(Prediction {
            question: "What will rewards/chosen do while DPO converges to π*?",
            quantity: Quantity::RewardsChosen(MethodKind::Dpo),
            assumes: None,
        }),
        key_curve: 4,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "16 · Reward over-optimisation",
        scenario: "over-optimisation",
        tab: Tab::Experiments,
        notice: "A proxy reward model blind to repetition, fitted on 30, 300 or 3000 pairs: along best-of-n the proxy (dashed) only rises while the gold reward (solid) peaks and falls below zero; more pairs raise the peak (and usually move it later).",
        experiment: Some(Experiment::OverOptimisation),
        try_this: &[],
        predict: None,
        key_curve: 0,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "17 · GRPO's length bias",
        scenario: "grpo-length-bias",
        tab: Tab::Overview,
        notice: "GRPO (loss type grpo) divides each answer's loss by its own length: right answers get shorter, wrong ones longer. RLOO and the loss type dr_grpo do not divide by the length: lengths stay where they started.",
        experiment: None,
        try_this: &[Tweak::GrpoLossType("dr_grpo"), Tweak::GrpoLossType("grpo")],
        predict: Some(Prediction {
            question: "Right and wrong answers start equally long. What will GRPO do to the mean length of its right answers?",
            quantity: Quantity::MeanLengthCorrect(MethodKind::Grpo),
            assumes: None,
        }),
        key_curve: 6,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "18 · GRPO's difficulty bias",
        scenario: "grpo-difficulty",
        tab: Tab::Overview,
        notice: "The hard prompt (right 3% of the time): dividing by the group's standard deviation multiplies its rare right answers' advantage by almost 3, and it takes off. Try reward scaling none: it barely moves, as under RLOO.",
        experiment: None,
        try_this: &[Tweak::ScaleRewards("none"), Tweak::ScaleRewards("group")],
        predict: Some(Prediction {
            question: "GRPO divides each group's advantages by its standard deviation. What will it do to the hard prompt's chance of a right answer?",
            quantity: Quantity::ExpectedReward(MethodKind::Grpo),
            assumes: None,
        }),
        key_curve: 1,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "19 · Zero-signal groups",
        scenario: "grpo-zero-signal",
        tab: Tab::Overview,
        notice: "The hard prompt is right 1% of the time: 92% of its groups of 8 are all wrong, carry no advantage and move nothing, so it stays stuck. With 32 answers per group only 72% are, and it gets going.",
        experiment: None,
        try_this: &[Tweak::NumGenerations(32), Tweak::NumGenerations(8)],
        predict: None,
        key_curve: 1,
        derivation: Section::ClosedForm,
    },
    Lesson {
        title: "20 · pass@k: sharpen or teach?",
        scenario: "rlvr-pass-at-k",
        tab: Tab::Overview,
        notice: "Five prompts share one policy; answer A solves four, B only this one. GRPO piles mass on A: pass@1 rises, but B starves here, and pass@k at large k (the pass@k plot, averaged over the prompts) ends below π_ref's.",
        experiment: None,
        try_this: &[Tweak::NumGenerations(32)],
        predict: Some(Prediction {
            question: "Only answer B solves this prompt; A solves the other four, and all five share the policy. What will GRPO do to this prompt's chance of a right answer?",
            quantity: Quantity::ExpectedReward(MethodKind::Grpo),
            assumes: None,
        }),
        key_curve: 6,
        derivation: Section::ClosedForm,
    },
];

/// The lesson panel's own state.
pub struct LessonPanel {
    /// Index into [`GUIDED`] of the current stop, if any.
    pub current: Option<usize>,
    /// The path typed into "Open…".
    pub path: String,
    /// The answer chosen for the stop's prediction (index into CHOICES).
    pub predicted: Option<usize>,
}

impl Default for LessonPanel {
    fn default() -> Self {
        LessonPanel {
            current: Some(0),
            path: String::new(),
            predicted: None,
        }
    }
}

impl LessonPanel {
    /// The lesson picker (top bar): guided stops, built-ins, open a file.
    pub fn picker(&mut self, ui: &mut egui::Ui, loaded_name: &str, out: &mut Vec<Command>) {
        let title = self
            .current
            .map_or_else(|| loaded_name.to_string(), |i| GUIDED[i].title.to_string());
        egui::ComboBox::from_label("Lesson")
            .selected_text(title)
            .width(210.0)
            // Every guided stop and built-in visible at once: no scrolling
            // on a projector.
            .height(900.0)
            .show_ui(ui, |ui| {
                // Columns of at most ten, so every stop shows at once: egui
                // caps a popup's height near 60 % of the screen.
                ui.horizontal_top(|ui| {
                    for (c, chunk) in GUIDED.chunks(10).enumerate() {
                        if c > 0 {
                            ui.separator();
                        }
                        ui.vertical(|ui| {
                            if c == 0 {
                                ui.label(egui::RichText::new("Guided order").strong());
                            } else {
                                ui.label("");
                            }
                            for (k, l) in chunk.iter().enumerate() {
                                let i = 10 * c + k;
                                if ui
                                    .selectable_label(self.current == Some(i), l.title)
                                    .clicked()
                                {
                                    out.push(Command::Guided(i));
                                }
                            }
                        });
                    }
                });
            });
        let all = builtins();
        egui::ComboBox::from_label("Built-in")
            .selected_text(if self.current.is_none() {
                loaded_name
            } else {
                "choose…"
            })
            .show_ui(ui, |ui| {
                ui.horizontal_top(|ui| {
                    for (c, chunk) in all.chunks(all.len().div_ceil(2)).enumerate() {
                        if c > 0 {
                            ui.separator();
                        }
                        ui.vertical(|ui| {
                            for raw in chunk {
                                if ui
                                    .selectable_label(
                                        self.current.is_none() && loaded_name == raw.name,
                                        &raw.name,
                                    )
                                    .clicked()
                                {
                                    out.push(Command::Load(raw.name.clone()));
                                }
                            }
                        });
                    }
                });
            });
        if let Some(i) = self.current {
            if ui
                .add_enabled(i > 0, egui::Button::new("Prev"))
                .on_hover_text("Previous lesson")
                .clicked()
            {
                out.push(Command::Guided(i - 1));
            }
            if ui
                .add_enabled(i + 1 < GUIDED.len(), egui::Button::new("Next"))
                .on_hover_text("Next lesson")
                .clicked()
            {
                out.push(Command::Guided(i + 1));
            }
        }
    }

    /// "Open…": a path field and a button.
    pub fn open(&mut self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            let label = ui.label("File");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.path)
                        .hint_text("path/to/scenario.toml")
                        .desired_width(150.0),
                )
                .labelled_by(label.id);
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui
                .button("Open…")
                .on_hover_text("Load a scenario file (errors show below, nothing crashes)")
                .clicked()
                || enter
            {
                out.push(Command::Load(self.path.trim().to_string()));
            }
            if ui
                .button("Browse…")
                .on_hover_text("Choose a scenario file in the desktop's file dialog")
                .clicked()
            {
                out.push(Command::Dialog(super::dialog::Target::Open));
            }
        });
    }
}
