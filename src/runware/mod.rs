//! The Runware REST client for Ideogram 3.0 Edit: sends [`crate::edit::EditRequest`]s, retries
//! what is transient, polls async tasks, and turns answers into result pictures.
//!
//! The GUI starts a submission with [`spawn_submission`] on its tokio runtime and reads
//! [`SubmitEvent`]s from a channel; the CLI awaits [`Client::submit`] directly.

mod client;
mod error;
mod gate;
mod http;
mod inputs;
mod key;
mod response;
mod results;
mod submission;

pub use client::{
    Client, ClientConfig, DEFAULT_ENDPOINT, ENDPOINT_ENV, EditResult, PollConfig, SubmitEvent,
};
pub use error::RunwareError;
pub use gate::{PauseObserver, RateGate};
pub use inputs::prepare as prepare_inputs;
pub use key::{ApiKey, KEY_ENV, KEYRING_SERVICE, KEYRING_USER, KeySource, KeyringError};
pub use response::{ApiError, ResponseBody, ResultItem, parse_body, upload_answer};
pub use submission::{Submission, SubmissionMessage, spawn_submission};

/// A client for the configured endpoint (`RUNWARE_API_URL` or the default) and key
/// (`RUNWARE_API_KEY`); [`RunwareError::NoKey`] when no key is set.
pub fn client_from_env() -> Result<Client, RunwareError> {
    let (key, _) = ApiKey::configured().ok_or(RunwareError::NoKey)?;
    Client::new(ClientConfig::from_env(), key)
}
