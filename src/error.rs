//! The library's one error type.
//!
//! Every variant carries the offending value and states the rule it broke, so
//! the command line can print it as one `error:` line and the app can show it
//! in the window.

use thiserror::Error;

/// Everything that can go wrong in DPO Lab's library.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A setting broke its rule: `field` names it, `message` states the rule
    /// and the value that broke it.
    #[error("{field}: {message}")]
    Invalid {
        /// Dotted path of the setting, e.g. `train.beta`.
        field: String,
        /// The rule and the offending value.
        message: String,
    },
    /// A scenario file could not be read or parsed.
    #[error("{path}: {message}")]
    File {
        /// The file's path (or built-in name).
        path: String,
        /// What went wrong, with the line where known.
        message: String,
    },
    /// No built-in scenario of that name and no such file.
    #[error(
        "unknown scenario {0:?}: not a built-in name (see `dpo-lab scenarios`) nor a readable .toml file"
    )]
    UnknownScenario(String),
    /// A response space or table would not fit in memory.
    #[error("{what} has {size} entries, more than the limit of {limit}")]
    TooLarge {
        /// What was too large.
        what: String,
        /// Its size (saturating at `u128::MAX`).
        size: u128,
        /// The largest size allowed.
        limit: u128,
    },
    /// Training left the range where f64 arithmetic is meaningful.
    #[error("training diverged at step {step}: {what}")]
    Diverged {
        /// The update after which it happened.
        step: usize,
        /// Which quantity, and the setting to change.
        what: String,
    },
    /// The settings ask for more work than a run is allowed without
    /// `--allow-long`.
    #[error(
        "this would take about {seconds:.0} s (estimated from the settings; the limit is {limit:.0} s): {why}; reduce them or pass --allow-long"
    )]
    TooLong {
        /// Estimated seconds.
        seconds: f64,
        /// The limit.
        limit: f64,
        /// The settings that drive the estimate.
        why: String,
    },
    /// Stopped by the user (Ctrl-C).
    #[error("interrupted at step {step}; nothing was written")]
    Interrupted {
        /// The updates done.
        step: usize,
    },
    /// A file could not be written.
    #[error("{path}: cannot write: {message}")]
    Write {
        /// The file's path.
        path: String,
        /// The system's reason.
        message: String,
    },
    /// A feature that exists in the design but is not available for this
    /// combination of settings.
    #[error("{0}")]
    Unsupported(String),
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
