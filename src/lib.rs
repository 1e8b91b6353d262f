//! DPO Lab: an exact simulator of language-model preference alignment.
//!
//! On small, fully enumerable response spaces everything is computed
//! exactly: the KL-regularised optimum `π* ∝ π_ref · exp(r/β)` and its
//! identities ([`optimal`]), DPO-family losses ([`loss`]) on tabular,
//! autoregressive and log-linear policies ([`policy`]), offline and online
//! training ([`method`], [`train`]) and exact metrics ([`metrics`],
//! [`compare`]). The command line and the desktop app are thin clients of
//! this library. The maths follows `docs/maths.md`; the file formats `docs/json-output.md` and `docs/scenario-format.md`.

pub mod bench;
pub mod best_of_n;
pub mod compare;
pub mod data;
pub mod derivation;
pub mod error;
pub mod export;
#[cfg(feature = "figures")]
pub mod figure;
pub mod loss;
pub mod method;
pub mod metrics;
pub mod names;
pub mod numerics;
pub mod optim;
pub mod optimal;
pub mod overoptimisation;
pub mod palette;
pub mod policy;
pub mod problem;
pub mod reference;
pub mod remedies;
pub mod report;
pub mod reward;
pub mod reward_model;
pub mod rlvr;
pub mod scenario;
/// Guided lessons (`scenario::lesson`): a scenario file's `[[lesson]]` stops.
pub use scenario::lesson;
pub mod space;
pub mod sweep;
pub mod tolerance;
pub mod train;
pub mod validate;
pub mod work;

pub use error::{Error, Result};

/// The README's Rust example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
