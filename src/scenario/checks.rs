//! Raw settings to checked ones: every domain's rule, in the order that
//! refuses a bad file before anything costly is built.

use std::sync::Arc;

use crate::data::{DataKind, DataSpec, PairData};
use crate::error::{Error, Result};
use crate::loss::PairLoss;
use crate::method::Annotator;
use crate::method::PpoSettings;
use crate::names::parse_choice;
use crate::optim::OptimizerKind;
use crate::optimal::check_beta;
use crate::policy::{FeatureSet, PolicyClass, PolicyKind};
use crate::problem::Problem;
use crate::reference::{BigramReference, ReferenceSpec, build_log_reference};
use crate::reward::{RewardSpec, SequenceReward, build_reward};
use crate::reward_model::{FitSettings, RewardModelClass, RewardModelKind};
use crate::rlvr::{GrpoSettings, RlooSettings, RlvrSettings, check_generations, check_pass_at};
use crate::space::ResponseSpace;
use crate::train::{OnlineSettings, RlhfOptimizer, RlhfOptimizerName, RlhfSettings, TrainSettings};
use crate::validate::positive;

use super::Prompt;
use super::raw::*;

pub(super) fn to_usize(field: &str, v: u64) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::invalid(field, format!("{v} is too large")))
}

pub(super) fn require<T: Clone>(field: &str, v: &Option<T>, why: &str) -> Result<T> {
    v.clone()
        .ok_or_else(|| Error::invalid(field, format!("is required {why}")))
}

/// The most prompts a scenario may have.
pub const MAX_PROMPTS: usize = 1000;

/// One prompt's reference and reward (the closed form's range check
/// `|r|/β` follows for all prompts at once, named after `train.beta`).
pub(super) fn check_problem(
    space: &ResponseSpace,
    reference: &RawReference,
    reward: &RawReward,
) -> Result<Problem> {
    let log_ref = build_log_reference(space, &reference_spec(reference, space)?)?;
    let spec = reward_spec(reward, space)?;
    let verifier = matches!(spec, RewardSpec::Verifier { .. });
    let reward = build_reward(space, &spec)?;
    let problem = Problem::new(space.clone(), log_ref, reward)?;
    Ok(if verifier {
        problem.with_verifier()
    } else {
        problem
    })
}

/// Names an error of prompt `k` (0: the file's own tables; `k ≥ 1`:
/// `prompts[k − 1]`) by its key in the file.
pub(super) fn in_prompt(k: usize) -> impl Fn(Error) -> Error {
    move |e| match e {
        Error::Invalid { field, message } if k > 0 => {
            Error::invalid(format!("prompts[{}].{field}", k - 1), message)
        }
        other => other,
    }
}

/// The data checks that need no reference, reward or pairs, before any of
/// them is built (on 20 M responses building the reference alone takes
/// seconds): each prompt's data settings, its annotator's length bonus,
/// and population data over a support that a full-support reference
/// (uniform, Dirichlet) or the sampler already makes too large.
pub(super) fn check_data_cheaply(raw: &RawScenario, space: &ResponseSpace) -> Result<()> {
    for k in 0..=raw.prompts.len() {
        let (reference, _, data) = raw.prompt_tables(k);
        let prefixed = in_prompt(k);
        crate::data::check_length_bonus(data.length_bonus.unwrap_or(0.0)).map_err(&prefixed)?;
        if let DataSpec::Population { sampler } = data_spec(data).map_err(&prefixed)? {
            let support = match &sampler {
                Some(w) => w.iter().filter(|&&x| x > 0.0).count(),
                None => match reference_spec(reference, space).map_err(&prefixed)? {
                    crate::reference::ReferenceSpec::Uniform
                    | crate::reference::ReferenceSpec::Dirichlet { .. } => space.len(),
                    _ => 0,
                },
            };
            if support > crate::data::MAX_POPULATION_SUPPORT {
                return Err(prefixed(crate::data::population_too_large(support)));
            }
        }
    }
    Ok(())
}

/// The cost of building `raw` (its problems and sampled data), from sizes
/// alone: nothing is allocated.
pub(super) fn build_estimate(raw: &RawScenario) -> Result<crate::work::WorkEstimate> {
    let space = check_space(&raw.space)?;
    let sampled: u128 = (0..=raw.prompts.len())
        .filter_map(|k| match data_spec(raw.prompt_tables(k).2) {
            Ok(DataSpec::Sampled { size, .. }) => Some(size as u128),
            _ => None,
        })
        .sum();
    Ok(crate::work::build_estimate(
        space.len() as u128,
        1 + raw.prompts.len(),
        sampled,
    ))
}

/// The most memory the data of all prompts together may take: checked
/// before any of it is allocated (a file of many prompts over population
/// data would otherwise exhaust memory before any other check).
pub const MAX_DATA_BYTES: u128 = 2 << 30;

/// Refuses, before anything is allocated, data that would not fit in
/// [`MAX_DATA_BYTES`] across all prompts.
pub(super) fn check_data_memory(raw: &RawScenario, problems: &[Problem]) -> Result<()> {
    let mut total: u128 = 0;
    let mut largest = (0usize, 0usize);
    for (k, problem) in problems.iter().enumerate() {
        let spec = data_spec(raw.prompt_tables(k).2)?;
        let pairs = PairData::planned_pairs(problem, &spec)?;
        total += PairData::planned_bytes(pairs, problem.len());
        if pairs > largest.1 {
            largest = (k, pairs);
        }
    }
    if total > MAX_DATA_BYTES {
        let field = if problems.len() > 1 {
            "prompts"
        } else {
            "data"
        };
        return Err(Error::invalid(
            field,
            format!(
                "the preference data of {} prompt(s) would take {:.1} GB of memory (up to {} pairs for one prompt), more than the {} GB allowed: use fewer prompts, a smaller sampler support or kind = \"sampled\" with a smaller size",
                problems.len(),
                total as f64 / 1e9,
                largest.1,
                MAX_DATA_BYTES >> 30
            ),
        ));
    }
    Ok(())
}

/// One prompt's data, built last: it is the costly part.
pub(super) fn check_prompt_data(name: String, problem: Problem, data: &RawData) -> Result<Prompt> {
    let length_bonus = data.length_bonus.unwrap_or(0.0);
    let label = crate::data::annotator_labels(&problem, length_bonus)?;
    let data_spec = data_spec(data)?;
    let data = PairData::build(&problem, &data_spec, &label)?;
    Ok(Prompt {
        name,
        problem: Arc::new(problem),
        data_spec,
        data: Arc::new(data),
        length_bonus,
    })
}

pub(super) fn check_space(s: &RawSpace) -> Result<ResponseSpace> {
    match s.kind.as_deref().unwrap_or("flat") {
        "flat" => match (&s.responses, s.size) {
            (Some(names), None) => ResponseSpace::flat(names.clone()),
            (None, Some(size)) => ResponseSpace::generated(size),
            (Some(_), Some(_)) => Err(Error::invalid(
                "space",
                "give either `responses` or `size`, not both",
            )),
            (None, None) => Err(Error::invalid(
                "space",
                "a flat space needs `responses = [names]` or `size = N`",
            )),
        },
        "sequences" => {
            let vocab = require("space.vocab", &s.vocab, "for a sequence space")?;
            let max_len = require("space.max_len", &s.max_len, "for a sequence space")?;
            if max_len > 64 {
                return Err(Error::invalid(
                    "space.max_len",
                    format!("must be at most 64, got {max_len}"),
                ));
            }
            ResponseSpace::sequences(vocab, max_len as usize)
        }
        other => Err(Error::invalid(
            "space.kind",
            format!("unknown kind {other:?}: expected \"flat\" or \"sequences\""),
        )),
    }
}

pub(super) fn reference_spec(r: &RawReference, space: &ResponseSpace) -> Result<ReferenceSpec> {
    let kind = match (&r.kind, &r.probs) {
        (Some(k), _) => k.as_str(),
        (None, Some(_)) => "explicit",
        (None, None) => {
            return Err(Error::invalid(
                "reference",
                "give `probs = [...]` or `kind = \"uniform\" | \"dirichlet\" | \"bigram\"`",
            ));
        }
    };
    Ok(match kind {
        "explicit" => ReferenceSpec::Explicit(require(
            "reference.probs",
            &r.probs,
            "for kind \"explicit\"",
        )?),
        "uniform" => ReferenceSpec::Uniform,
        "dirichlet" => ReferenceSpec::Dirichlet {
            alpha: r.alpha.unwrap_or(1.0),
            seed: r.seed.unwrap_or(0),
        },
        "bigram" => {
            let v = space.vocab_len();
            ReferenceSpec::Bigram(BigramReference {
                start: r.start.clone().unwrap_or_else(|| vec![1.0 / v as f64; v]),
                transition: r
                    .transition
                    .clone()
                    .unwrap_or_else(|| vec![vec![1.0 / v as f64; v]; v]),
                end: require("reference.end", &r.end, "for kind \"bigram\"")?,
                overrides: r
                    .overrides
                    .iter()
                    .map(|o| (o.prefix.clone(), o.probs.clone()))
                    .collect(),
            })
        }
        other => {
            return Err(Error::invalid(
                "reference.kind",
                format!(
                    "unknown kind {other:?}: expected \"explicit\", \"uniform\", \"dirichlet\" or \"bigram\""
                ),
            ));
        }
    })
}

pub(super) fn reward_spec(r: &RawReward, space: &ResponseSpace) -> Result<RewardSpec> {
    let kind = match (&r.kind, &r.values) {
        (Some(k), _) => k.as_str(),
        (None, Some(_)) => "explicit",
        (None, None) => {
            return Err(Error::invalid(
                "reward",
                "give `values = [...]` or `kind = \"gaussian\" | \"sequence\" | \"verifier\"`",
            ));
        }
    };
    Ok(match kind {
        "explicit" => RewardSpec::Explicit(require(
            "reward.values",
            &r.values,
            "for kind \"explicit\"",
        )?),
        "gaussian" => RewardSpec::Gaussian {
            mean: r.mean.unwrap_or(0.0),
            std: r.std.unwrap_or(1.0),
            seed: r.seed.unwrap_or(0),
        },
        "sequence" => {
            let v = space.vocab_len();
            RewardSpec::Sequence(SequenceReward {
                tokens: r.tokens.clone().unwrap_or_else(|| vec![0.0; v]),
                transitions: r
                    .transitions
                    .clone()
                    .unwrap_or_else(|| vec![vec![0.0; v]; v]),
                length: r.length.unwrap_or(0.0),
                overrides: r.overrides.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            })
        }
        "verifier" => RewardSpec::Verifier {
            correct: r.correct.clone().unwrap_or_default(),
            ends_with: r.ends_with.clone(),
        },
        other => {
            return Err(Error::invalid(
                "reward.kind",
                format!(
                    "unknown kind {other:?}: expected \"explicit\", \"gaussian\", \"sequence\" or \"verifier\""
                ),
            ));
        }
    })
}

pub(super) fn data_spec(d: &RawData) -> Result<DataSpec> {
    let kind: DataKind = match &d.kind {
        Some(k) => parse_choice("data.kind", "kind", k)?,
        None => DataKind::default(),
    };
    match kind {
        DataKind::Population => Ok(DataSpec::Population {
            sampler: d.sampler.clone(),
        }),
        DataKind::Pairs => {
            let listed = require("data.pairs", &d.pairs, "for kind \"pairs\"")?;
            let mut pairs = Vec::with_capacity(listed.len());
            for (k, p) in listed.into_iter().enumerate() {
                match <[String; 2]>::try_from(p) {
                    Ok([c, r]) if c == r => {
                        return Err(Error::invalid(
                            format!("data.pairs[{k}]"),
                            format!(
                                "pairs {c:?} with itself: a preference needs two different answers"
                            ),
                        ));
                    }
                    Ok([c, r]) => pairs.push((c, r)),
                    Err(p) => {
                        return Err(Error::invalid(
                            format!("data.pairs[{k}]"),
                            format!(
                                "a pair is [chosen, rejected], got {} entries: {p:?}",
                                p.len()
                            ),
                        ));
                    }
                }
            }
            Ok(DataSpec::Pairs(pairs))
        }
        DataKind::Sampled => Ok(DataSpec::Sampled {
            size: to_usize(
                "data.size",
                require("data.size", &d.size, "for kind \"sampled\"")?,
            )?,
            seed: d.seed.unwrap_or(0),
            sampler: d.sampler.clone(),
        }),
    }
}

pub(super) fn policy_kind(p: &RawPolicy, problem: &Problem) -> Result<PolicyKind> {
    let class: PolicyClass = match &p.kind {
        Some(k) => parse_choice("policy.kind", "kind", k)?,
        None => PolicyClass::default(),
    };
    let kind = match class {
        PolicyClass::Tabular => PolicyKind::Tabular,
        PolicyClass::Autoregressive => PolicyKind::Autoregressive,
        PolicyClass::Loglinear => {
            PolicyKind::LogLinear(feature_set("policy.features", &p.features, problem)?)
        }
    };
    if kind == PolicyKind::Autoregressive && !problem.space.is_sequences() {
        return Err(Error::invalid(
            "policy.kind",
            "\"autoregressive\" needs a sequence space (space.kind = \"sequences\")",
        ));
    }
    Ok(kind)
}

/// Checks a log-linear feature choice (policy or reward model).
pub(super) fn feature_set(
    field: &str,
    raw: &Option<RawFeatures>,
    problem: &Problem,
) -> Result<FeatureSet> {
    let features = match raw {
        None if problem.space.is_sequences() => FeatureSet::Sequence {
            tokens: true,
            length: true,
            bigrams: false,
        },
        None => {
            return Err(Error::invalid(
                field,
                "a flat log-linear model needs `features = [[…], …]` (one row per response) or `features = { kind = \"random\", dim = D, seed = S }`",
            ));
        }
        Some(RawFeatures::Names(names)) => {
            let mut f = (false, false, false);
            for n in names {
                match n.as_str() {
                    "tokens" => f.0 = true,
                    "length" => f.1 = true,
                    "bigrams" => f.2 = true,
                    other => {
                        return Err(Error::invalid(
                            field,
                            format!(
                                "unknown feature {other:?}: expected \"tokens\", \"length\" or \"bigrams\""
                            ),
                        ));
                    }
                }
            }
            FeatureSet::Sequence {
                tokens: f.0,
                length: f.1,
                bigrams: f.2,
            }
        }
        Some(RawFeatures::Rows(rows)) => FeatureSet::Explicit(rows.clone()),
        Some(RawFeatures::Random { kind, dim, seed }) => {
            if kind != "random" {
                return Err(Error::invalid(
                    format!("{field}.kind"),
                    format!("unknown kind {kind:?}: expected \"random\""),
                ));
            }
            FeatureSet::Random {
                dim: to_usize(&format!("{field}.dim"), *dim)?,
                seed: *seed,
            }
        }
    };
    // Build once so a bad table fails here, not in the first run.
    features.table(problem).map_err(|e| match e {
        Error::Invalid { message, .. } => Error::invalid(field, message),
        Error::TooLarge { what, size, limit } => Error::invalid(
            field,
            format!("the {what} would have {size} entries (responses × features), more than the limit of {limit}"),
        ),
        other => other,
    })?;
    Ok(features)
}

pub(super) fn check_rlhf(r: &RawRlhf, problem: &Problem) -> Result<RlhfSettings> {
    let class: RewardModelClass = match &r.reward_model {
        Some(k) => parse_choice("rlhf.reward_model", "reward model", k)?,
        None => RewardModelClass::default(),
    };
    let reward_model = match class {
        RewardModelClass::Tabular => RewardModelKind::Tabular,
        RewardModelClass::Loglinear => {
            RewardModelKind::LogLinear(feature_set("rlhf.features", &r.features, problem)?)
        }
    };
    let fd = FitSettings::default();
    let rm_steps = r.rm_steps.unwrap_or(fd.steps as u64);
    if rm_steps > 10_000_000 {
        return Err(Error::invalid(
            "rlhf.rm_steps",
            format!("must be at most 10000000, got {rm_steps}"),
        ));
    }
    let l2 = r.rm_l2.unwrap_or(fd.l2);
    if !(l2.is_finite() && l2 >= 0.0) {
        return Err(Error::invalid(
            "rlhf.rm_l2",
            format!("must be a finite number ≥ 0, got {l2}"),
        ));
    }
    let fit = FitSettings {
        steps: rm_steps as usize,
        lr: positive("rlhf.rm_lr", r.rm_lr.unwrap_or(fd.lr))?,
        l2,
    };
    let name: RlhfOptimizerName = match &r.optimizer {
        Some(k) => parse_choice("rlhf.optimizer", "optimizer", k)?,
        None => RlhfOptimizerName::default(),
    };
    let optimizer = match name {
        RlhfOptimizerName::Exact => RlhfOptimizer::Exact,
        RlhfOptimizerName::Ppo => {
            let pd = PpoSettings::default();
            let batch = r.batch.unwrap_or(pd.batch as u64);
            if batch == 0 || batch > 1_000_000 {
                return Err(Error::invalid(
                    "rlhf.batch",
                    format!("must be between 1 and 1000000, got {batch}"),
                ));
            }
            let epochs = r.epochs.unwrap_or(pd.epochs as u64);
            if epochs == 0 || epochs > 1000 {
                return Err(Error::invalid(
                    "rlhf.epochs",
                    format!("must be between 1 and 1000, got {epochs}"),
                ));
            }
            let clip = r.clip.unwrap_or(pd.clip);
            if !(clip.is_finite() && clip > 0.0 && clip < 1.0) {
                return Err(Error::invalid(
                    "rlhf.clip",
                    format!("must be in (0, 1), got {}", crate::numerics::show(clip)),
                ));
            }
            RlhfOptimizer::Ppo(PpoSettings {
                batch: batch as usize,
                epochs: epochs as usize,
                clip,
                value_lr: positive("rlhf.value_lr", r.value_lr.unwrap_or(pd.value_lr))?,
            })
        }
    };
    let lr = match r.lr {
        Some(lr) => Some(positive("rlhf.lr", lr)?),
        None => None,
    };
    Ok(RlhfSettings {
        lr,
        optimizer,
        reward_model,
        fit,
    })
}

pub(super) fn check_train(t: &RawTrain) -> Result<TrainSettings> {
    let d = TrainSettings::default();
    let beta = check_beta("train.beta", t.beta.unwrap_or(d.beta))?;
    let lr = positive("train.lr", t.lr.unwrap_or(d.lr))?;
    let optimizer = match &t.optimizer {
        Some(o) => OptimizerKind::parse(o)?,
        None => d.optimizer,
    };
    let steps = crate::validate::steps("train.steps", t.steps.unwrap_or(d.steps as u64))?;
    let steps = to_usize("train.steps", steps)?;
    let batch = to_usize("train.batch", t.batch.unwrap_or(d.batch as u64))?;
    if batch > crate::data::MAX_SAMPLED_PAIRS {
        return Err(Error::invalid(
            "train.batch",
            format!(
                "must be at most {}, got {batch}",
                crate::data::MAX_SAMPLED_PAIRS
            ),
        ));
    }
    let log_every = match t.log_every {
        Some(k) => to_usize("train.log_every", k)?,
        None => TrainSettings::default_log_every(steps),
    };
    let params = loss_params(t);
    let loss = match &t.loss {
        Some(l) => PairLoss::parse(l, &params)?,
        None => d.loss,
    };
    Ok(TrainSettings {
        beta,
        lr,
        optimizer,
        steps,
        batch,
        seed: t.seed.unwrap_or(d.seed),
        log_every,
        loss,
    })
}

/// A clip range: finite and in `[0, 10]`.
fn clip_range(field: &str, v: f64) -> Result<f64> {
    crate::validate::number_in(field, v, 0.0, 10.0, "")
}

/// A KL coefficient: finite and in `[0, 1e6]`.
fn kl_coefficient(field: &str, v: f64) -> Result<f64> {
    crate::validate::number_in(field, v, 0.0, 1e6, "(0: no KL term)")
}

fn iterations(field: &str, v: u64) -> Result<usize> {
    if !(1..=1000).contains(&v) {
        return Err(Error::invalid(
            field,
            format!("must be an integer in [1, 1000], got {v}"),
        ));
    }
    Ok(v as usize)
}

/// `[grpo]`, `[rloo]` and `train.pass_at`.
pub(super) fn check_rlvr(g: &RawGrpo, r: &RawRloo, t: &RawTrain) -> Result<RlvrSettings> {
    let d = RlvrSettings::default();
    let epsilon = clip_range("grpo.epsilon", g.epsilon.unwrap_or(d.grpo.epsilon))?;
    let grpo = GrpoSettings {
        num_generations: match g.num_generations {
            Some(v) => check_generations("grpo.num_generations", v)?,
            None => d.grpo.num_generations,
        },
        loss_type: match &g.loss_type {
            Some(k) => parse_choice("grpo.loss_type", "loss type", k)?,
            None => d.grpo.loss_type,
        },
        scale_rewards: match &g.scale_rewards {
            Some(k) => parse_choice("grpo.scale_rewards", "scaling", k)?,
            None => d.grpo.scale_rewards,
        },
        beta: kl_coefficient("grpo.beta", g.beta.unwrap_or(d.grpo.beta))?,
        epsilon,
        epsilon_high: clip_range("grpo.epsilon_high", g.epsilon_high.unwrap_or(epsilon))?,
        num_iterations: iterations(
            "grpo.num_iterations",
            g.num_iterations.unwrap_or(d.grpo.num_iterations as u64),
        )?,
        expected: g.expected.unwrap_or(false),
    };
    // `[rloo]` inherits every key it does not give from `[grpo]`: one
    // table configures the group methods (docs/rlvr.md says where TRL's
    // RLOOConfig defaults differ).
    let field = |key: &str, own: bool| {
        if own {
            format!("rloo.{key}")
        } else {
            format!("grpo.{key}")
        }
    };
    let epsilon = clip_range(
        &field("epsilon", r.epsilon.is_some()),
        r.epsilon.or(g.epsilon).unwrap_or(d.grpo.epsilon),
    )?;
    let rloo = RlooSettings {
        num_generations: match r.num_generations.or(g.num_generations) {
            Some(v) => {
                check_generations(&field("num_generations", r.num_generations.is_some()), v)?
            }
            None => d.grpo.num_generations,
        },
        beta: kl_coefficient(
            &field("beta", r.beta.is_some()),
            r.beta.or(g.beta).unwrap_or(d.grpo.beta),
        )?,
        epsilon,
        epsilon_high: clip_range(
            &field("epsilon_high", r.epsilon_high.is_some()),
            r.epsilon_high.or(g.epsilon_high).unwrap_or(epsilon),
        )?,
        num_iterations: iterations(
            &field("num_iterations", r.num_iterations.is_some()),
            r.num_iterations
                .or(g.num_iterations)
                .unwrap_or(d.grpo.num_iterations as u64),
        )?,
        normalize_advantages: r.normalize_advantages.unwrap_or(false),
        expected: r.expected.or(g.expected).unwrap_or(false),
    };
    let pass_at = match &t.pass_at {
        Some(ks) => check_pass_at("train.pass_at", ks)?,
        None => d.pass_at,
    };
    Ok(RlvrSettings {
        grpo,
        rloo,
        pass_at,
    })
}

pub(super) fn check_online(o: &RawOnline) -> Result<OnlineSettings> {
    let d = OnlineSettings::default();
    let resample_every = o.resample_every.unwrap_or(d.resample_every as u64);
    if resample_every == 0 {
        return Err(Error::invalid(
            "online.resample_every",
            "must be at least 1 (1 = fresh pairs every step), got 0",
        ));
    }
    let batch = o.batch.unwrap_or(d.batch as u64);
    if batch == 0 || batch > 1_000_000 {
        return Err(Error::invalid(
            "online.batch",
            format!("must be between 1 and 1000000, got {batch}"),
        ));
    }
    Ok(OnlineSettings {
        resample_every: to_usize("online.resample_every", resample_every)?,
        batch: batch as usize,
        annotator: match &o.annotator {
            Some(a) => Annotator::parse(a)?,
            None => d.annotator,
        },
    })
}

/// The loss family's hyper-parameters a `[train]` table gives (defaults for
/// the rest); every one is checked, whether or not the loss reads it.
pub(super) fn loss_params(t: &RawTrain) -> crate::loss::LossParams {
    let lp = crate::loss::LossParams::default();
    crate::loss::LossParams {
        label_smoothing: t.label_smoothing.or(lp.label_smoothing),
        discopop_tau: t.discopop_tau.unwrap_or(lp.discopop_tau),
        simpo_gamma: t.simpo_gamma.unwrap_or(lp.simpo_gamma),
        rpo_alpha: t.rpo_alpha.unwrap_or(lp.rpo_alpha),
        cpo_alpha: t.cpo_alpha.unwrap_or(lp.cpo_alpha),
        rdpo_alpha: t.rdpo_alpha.unwrap_or(lp.rdpo_alpha),
        dpop_lambda: t.dpop_lambda.unwrap_or(lp.dpop_lambda),
        orpo_lambda: t.orpo_lambda.unwrap_or(lp.orpo_lambda),
        desirable_weight: t.desirable_weight.unwrap_or(lp.desirable_weight),
        undesirable_weight: t.undesirable_weight.unwrap_or(lp.undesirable_weight),
    }
}
