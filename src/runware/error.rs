//! What can go wrong talking to Runware, each said with what to do.

use std::time::Duration;

use crate::edit::FieldError;

use super::response::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum RunwareError {
    #[error(
        "no Runware API key: set RUNWARE_API_KEY (or store the key in the system keyring from the settings dialog), or use the local engine"
    )]
    NoKey,
    #[error("the Runware URL '{0}' is not a valid http(s) URL; fix RUNWARE_API_URL")]
    BadEndpoint(String),
    #[error(
        "refusing plain http to '{0}': the key may only travel over https (http is allowed for loopback addresses only); fix RUNWARE_API_URL"
    )]
    InsecureEndpoint(String),
    #[error("the request is not valid: {}", join_fields(.0))]
    Invalid(Vec<FieldError>),
    #[error("Runware refused the task (HTTP {status}): {}; {}", join_errors(.errors), hint(*status))]
    Api { status: u16, errors: Vec<ApiError> },
    #[error("Runware answered HTTP {status} ({detail}); {}", hint(*status))]
    Http { status: u16, detail: String },
    #[error("Runware did not answer in time ({0}); try again later or check the network")]
    Timeout(String),
    #[error("could not connect to Runware ({0}); check the network and RUNWARE_API_URL")]
    Connect(String),
    /// The connection was refused: nothing listens at that address. Sending again cannot
    /// help, and nothing was sent.
    #[error(
        "Nothing answers at {0} (the connection was refused) — check the address (RUNWARE_API_URL) or your connection"
    )]
    NothingAnswers(String),
    #[error("Runware's answer could not be read ({0}); try again, and report it if it persists")]
    Garbage(String),
    #[error("cancelled")]
    Cancelled,
    #[error(
        "the task was still not finished after {0:?} of polling; it may still finish: look in your Runware dashboard"
    )]
    PollBudget(Duration),
    #[error("could not fetch result {index} from {url}: {detail}")]
    Download {
        index: usize,
        url: String,
        detail: String,
    },
    #[error("result {index} is not a readable picture: {detail}")]
    Decode { index: usize, detail: String },
    #[error("could not upload the image to Runware: {0}")]
    Upload(String),
    #[error("could not set up the HTTP client: {0}")]
    Setup(String),
}

fn join_fields(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn join_errors(errors: &[ApiError]) -> String {
    if errors.is_empty() {
        return "no details given".into();
    }
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn hint(status: u16) -> &'static str {
    match status {
        401 => "check the key in RUNWARE_API_KEY",
        402 => "add credits to your Runware account, then submit again",
        403 => "this key may not use the model; check the account's permissions",
        400 | 422 => "fix the named parameter and submit again",
        404 => "check RUNWARE_API_URL",
        408 | 429 | 500..=599 => "the service is busy or failing; try again in a moment",
        _ => "try again; report it if it persists",
    }
}

impl RunwareError {
    /// Whether the same request may succeed if sent again (408, 429, 5xx, timeouts,
    /// connection failures).
    pub fn is_transient(&self) -> bool {
        match self {
            RunwareError::Api { status, .. } | RunwareError::Http { status, .. } => {
                matches!(*status, 408 | 429 | 500..=599)
            }
            RunwareError::Timeout(_) | RunwareError::Connect(_) => true,
            _ => false,
        }
    }

    /// The HTTP status the service answered with, when it answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            RunwareError::Api { status, .. } | RunwareError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the task may have run on Runware although no result came back (a timeout, a
    /// lost connection, a server error, a result that could not be fetched): sending it again
    /// may run (and bill) it twice.
    pub fn is_unclear(&self) -> bool {
        match self {
            RunwareError::Api { status, .. } | RunwareError::Http { status, .. } => {
                matches!(*status, 500..=599) && *status != 503
            }
            RunwareError::Timeout(_)
            | RunwareError::Connect(_)
            | RunwareError::Garbage(_)
            | RunwareError::PollBudget(_)
            | RunwareError::Download { .. }
            | RunwareError::Decode { .. } => true,
            _ => false,
        }
    }

    /// Whether a retry `reason` (the text of [`crate::runware::SubmitEvent::Retrying`], which
    /// is this error's message) names a clear refusal (408, 429, 503: the task did not run), as
    /// opposed to an unclear failure after which the task may have run.
    pub fn reason_is_refusal(reason: &str) -> bool {
        [408u16, 429, 503].iter().any(|s| {
            reason.starts_with(&format!("Runware refused the task (HTTP {s})"))
                || reason.starts_with(&format!("Runware answered HTTP {s} "))
        })
    }

    /// The service's errors, when it gave some (for highlighting form fields).
    pub fn api_errors(&self) -> &[ApiError] {
        match self {
            RunwareError::Api { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The form fields this error is about: the service's `parameter`s, or the validation's.
    pub fn fields(&self) -> Vec<crate::edit::Field> {
        match self {
            RunwareError::Invalid(errors) => errors.iter().map(|e| e.field).collect(),
            _ => self
                .api_errors()
                .iter()
                .flat_map(|e| e.parameter.iter())
                .filter_map(|p| crate::edit::Field::from_parameter(p))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_reasons_tell_refusals_from_unclear_failures() {
        let refused = [
            RunwareError::Api {
                status: 429,
                errors: vec![],
            },
            RunwareError::Http {
                status: 503,
                detail: "an HTML page".into(),
            },
        ];
        for e in refused {
            assert!(!e.is_unclear());
            assert!(RunwareError::reason_is_refusal(&e.to_string()), "{e}");
        }
        let unclear = [
            RunwareError::Timeout("read".into()),
            RunwareError::Connect("reset".into()),
            RunwareError::Http {
                status: 502,
                detail: "x".into(),
            },
        ];
        for e in unclear {
            assert!(e.is_unclear());
            assert!(!RunwareError::reason_is_refusal(&e.to_string()), "{e}");
        }
    }
}
