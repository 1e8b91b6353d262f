//! The status bar's message type.

/// The status bar's message.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Something done or worth knowing.
    Info(String),
    /// Something refused or failed; shown in red.
    Error(String),
}

impl Status {
    /// The text shown.
    pub fn text(&self) -> &str {
        match self {
            Status::Info(t) | Status::Error(t) => t,
        }
    }

    /// Whether it reports a failure.
    pub fn is_error(&self) -> bool {
        matches!(self, Status::Error(_))
    }
}
