//! HTTP to Runware: sending tasks, retries, uploads. A sync task that was sent but got no
//! answer (a timeout, a dropped connection) is asked about with `getResponse` under the same
//! taskUUID instead of being sent again: Runware keeps running it, and a second send would be
//! a second task to pay for. Only what never reached the server is sent again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::error::RunwareError;
use super::http::{BodyError, Failure, Reach, check_url, read_capped, retry_delay, short_text};
use super::key::ApiKey;
use super::response::{ResponseBody, parse_body};
use crate::edit::{EditRequest, ImageInput};

/// Runware's REST endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.runware.ai/v1";
/// The environment variable overriding the endpoint.
pub const ENDPOINT_ENV: &str = "RUNWARE_API_URL";

/// How `getResponse` is polled for async tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct PollConfig {
    pub first_delay: Duration,
    pub factor: f64,
    pub max_delay: Duration,
    /// Give up after polling this long.
    pub budget: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            first_delay: Duration::from_secs(1),
            factor: 1.5,
            max_delay: Duration::from_secs(10),
            budget: Duration::from_secs(20 * 60),
        }
    }
}

/// Client settings. `Default` is what production uses; tests shorten the delays.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    pub endpoint: String,
    pub connect_timeout: Duration,
    /// Longest silence while reading an answer (a sync edit may take a minute).
    pub read_timeout: Duration,
    /// Retries after the first attempt for transient failures.
    pub retries: u32,
    /// Delay before the first retry; doubled for each further one.
    pub retry_base_delay: Duration,
    /// A random 0..this is added to every retry delay (the SDKs add up to 1 s).
    pub retry_jitter: Duration,
    /// Longest time to receive a whole answer body once its headers arrived (a server
    /// trickling bytes is cut off here) and to download one result.
    pub body_timeout: Duration,
    pub poll: PollConfig,
    /// Largest result picture accepted (download or inline).
    pub max_result_bytes: u64,
    /// Largest answer body accepted.
    pub max_body_bytes: u64,
    /// Upload a local seed image once with `imageUpload` and send its imageUUID (reused for
    /// later submits of the same bytes), instead of inlining it as a data URI.
    pub upload_seed: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            endpoint: DEFAULT_ENDPOINT.into(),
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(180),
            retries: 3,
            retry_base_delay: Duration::from_secs(1),
            retry_jitter: Duration::from_secs(1),
            body_timeout: Duration::from_secs(120),
            poll: PollConfig::default(),
            max_result_bytes: 64 * 1024 * 1024,
            // 20 results inline as base64 fit; memory stays well under a gigabyte.
            max_body_bytes: 256 * 1024 * 1024,
            upload_seed: false,
        }
    }
}

impl ClientConfig {
    /// Defaults with the endpoint from `RUNWARE_API_URL` when set.
    pub fn from_env() -> ClientConfig {
        let mut config = ClientConfig::default();
        if let Ok(url) = std::env::var(ENDPOINT_ENV)
            && !url.trim().is_empty()
        {
            config.endpoint = url.trim().to_string();
        }
        // Tuning knobs (milliseconds), used by tests to keep retries and polls short.
        let ms = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        if let Some(d) = ms("TOUCHUP_RETRY_BASE_MS") {
            config.retry_base_delay = d;
            config.retry_jitter = config.retry_jitter.min(d);
        }
        if let Some(d) = ms("TOUCHUP_BODY_TIMEOUT_MS") {
            config.body_timeout = d;
        }
        if let Some(d) = ms("TOUCHUP_POLL_FIRST_MS") {
            config.poll.first_delay = d;
            config.poll.max_delay = config.poll.max_delay.min(d * 4).max(d);
        }
        if let Some(d) = ms("TOUCHUP_READ_TIMEOUT_MS") {
            config.read_timeout = d;
        }
        config
    }
}

/// Progress of a submission, in the order it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitEvent {
    /// A local image is being uploaded with `imageUpload`.
    Uploading,
    /// The task is being sent (attempt 1 is the first).
    Sending { attempt: u32 },
    /// A transient failure; the same task will be sent again after `delay`.
    Retrying {
        attempt: u32,
        delay: Duration,
        reason: String,
    },
    /// An async task was accepted; polling starts.
    Queued,
    /// A poll answered: `done` of `wanted` pictures are ready; `progress` 0..100 if given.
    Polling {
        done: u32,
        wanted: u32,
        progress: Option<f64>,
    },
    /// A result is being fetched from its URL.
    Downloading { index: usize },
    /// A finished picture.
    Result(EditResult),
}

/// One result picture.
#[derive(Clone, PartialEq)]
pub struct EditResult {
    /// 1-based, in the order results arrived.
    pub index: usize,
    pub task_uuid: String,
    pub image_uuid: Option<String>,
    pub seed: Option<i64>,
    pub cost: Option<f64>,
    pub nsfw_content: Option<bool>,
    /// Where it was fetched from, when the service gave a URL.
    pub image_url: Option<String>,
    /// The encoded picture.
    pub bytes: Vec<u8>,
}

impl EditResult {
    /// The picture and its facts, for [`crate::edit::ResultFolder`].
    pub fn to_result_image(&self) -> crate::edit::ResultImage {
        crate::edit::ResultImage {
            bytes: self.bytes.clone(),
            image_uuid: self.image_uuid.clone(),
            seed: self.seed,
            cost: self.cost,
        }
    }
}

impl std::fmt::Debug for EditResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EditResult")
            .field("index", &self.index)
            .field("task_uuid", &self.task_uuid)
            .field("image_uuid", &self.image_uuid)
            .field("seed", &self.seed)
            .field("cost", &self.cost)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The Runware client. Cheap to share behind an `Arc`; remembers uploaded images.
pub struct Client {
    pub(super) http: reqwest::Client,
    pub(super) config: ClientConfig,
    key: ApiKey,
    uploads: Mutex<HashMap<[u8; 32], String>>,
    /// Shared by every task this client sends: a 429 slows them all (see [`RateGate`]).
    gate: Option<std::sync::Arc<super::gate::RateGate>>,
}

/// Why sending a task stopped.
#[derive(Debug)]
pub(super) enum SendError {
    /// Nothing more to do: the error is the answer.
    Failed(RunwareError),
    /// The task was (or may have been) received and no answer came: it may be running.
    Lost(RunwareError),
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("key", &self.key)
            .finish()
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

impl Client {
    /// A client for `config.endpoint` (https, or http to a loopback address).
    pub fn new(config: ClientConfig, key: ApiKey) -> Result<Client, RunwareError> {
        check_url(&config.endpoint)?;
        // Several parts of the program may do this; "already installed" is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .redirect(super::http::redirect_policy())
            .user_agent(concat!("touchup/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RunwareError::Setup(e.to_string()))?;
        Ok(Client {
            http,
            config,
            key,
            uploads: Mutex::new(HashMap::new()),
            gate: None,
        })
    }

    /// Every attempt of every task this client sends waits on `gate`, and each 429 closes it.
    pub fn with_gate(mut self, gate: std::sync::Arc<super::gate::RateGate>) -> Client {
        self.gate = Some(gate);
        self
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// One POST of a task array; no retry.
    async fn post_once(&self, body: &Value) -> Result<ResponseBody, Failure> {
        let send = self
            .http
            .post(&self.config.endpoint)
            .bearer_auth(self.key.expose())
            .json(body)
            .send();
        // The read timeout is the longest silence; this bounds headers that trickle in.
        let response = match tokio::time::timeout(self.config.read_timeout, send).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(Failure {
                    error: RunwareError::Timeout(format!(
                        "no answer within {} s",
                        self.config.read_timeout.as_secs_f64()
                    )),
                    reach: Reach::Lost,
                });
            }
        };
        let status = response.status().as_u16();
        let bytes = read_capped(
            response,
            self.config.max_body_bytes,
            self.config.body_timeout,
        )
        .await
        .map_err(|e| match e {
            // Over the cap is the answer, not a network failure: retrying would fetch it again.
            BodyError::TooBig(d) => Failure::answered(RunwareError::Garbage(format!(
                "the answer is too large: {d}"
            ))),
            BodyError::TimedOut(d) => Failure {
                error: RunwareError::Timeout(d),
                reach: Reach::Lost,
            },
            BodyError::Broken(d) => Failure {
                error: RunwareError::Connect(d),
                reach: Reach::Lost,
            },
        })?;
        let parsed = parse_body(&bytes);
        if (200..300).contains(&status) {
            return parsed.map_err(|e| Failure::answered(RunwareError::Garbage(e)));
        }
        Err(Failure::answered(match parsed {
            Ok(body) if !body.errors.is_empty() => RunwareError::Api {
                status,
                errors: body.errors,
            },
            _ => RunwareError::Http {
                status,
                detail: short_text(&bytes),
            },
        }))
    }

    /// Waits out a retry delay; `false` when cancelled meanwhile.
    async fn pause(&self, delay: Duration, cancel: &CancellationToken) -> bool {
        tokio::select! {
            _ = cancel.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }

    /// POSTs a task array, retrying transient failures with exponential backoff plus jitter
    /// and the very same body (so the same taskUUIDs). For tasks that may be repeated freely
    /// (`getResponse`, `imageUpload`); inference goes through [`Client::send_task`].
    /// Cancelling stops at once.
    pub async fn post_tasks(
        &self,
        body: &Value,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(SubmitEvent) + Send),
    ) -> Result<ResponseBody, RunwareError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Some(gate) = &self.gate
                && !gate.wait(cancel).await
            {
                return Err(RunwareError::Cancelled);
            }
            on_event(SubmitEvent::Sending { attempt });
            let result = tokio::select! {
                _ = cancel.cancelled() => return Err(RunwareError::Cancelled),
                r = self.post_once(body) => r,
            };
            if let Some(gate) = &self.gate {
                match &result {
                    Err(e) if e.error.status() == Some(429) => {
                        gate.busy();
                    }
                    _ => gate.clear(),
                }
            }
            match result {
                Ok(answer) => return Ok(answer),
                Err(f) if f.error.is_transient() && attempt <= self.config.retries => {
                    let delay = self.retry_delay(attempt);
                    tracing::info!(
                        "Runware attempt {attempt} failed ({}); retrying in {delay:?}",
                        f.error
                    );
                    on_event(SubmitEvent::Retrying {
                        attempt,
                        delay,
                        reason: f.error.to_string(),
                    });
                    if !self.pause(delay, cancel).await {
                        return Err(RunwareError::Cancelled);
                    }
                }
                Err(f) => return Err(f.error),
            }
        }
    }

    pub(super) fn retry_delay(&self, attempt: u32) -> Duration {
        retry_delay(
            self.config.retry_base_delay,
            attempt,
            self.config.retry_jitter,
        )
    }

    /// Sends an inference task. What never reached the server (no connection) and what the
    /// server refused as busy (408, 429, 5xx) is sent again, with the same taskUUID; a task
    /// that was sent and got no answer is [`SendError::Lost`]: the caller asks for its result.
    pub(super) async fn send_task(
        &self,
        body: &Value,
        first_attempt: u32,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(SubmitEvent) + Send),
    ) -> Result<ResponseBody, SendError> {
        let mut attempt = first_attempt;
        loop {
            attempt += 1;
            // Every task of a batch waits while Runware answers 429 (the shared gate).
            if let Some(gate) = &self.gate
                && !gate.wait(cancel).await
            {
                return Err(SendError::Failed(RunwareError::Cancelled));
            }
            on_event(SubmitEvent::Sending { attempt });
            let result = tokio::select! {
                _ = cancel.cancelled() => return Err(SendError::Failed(RunwareError::Cancelled)),
                r = self.post_once(body) => r,
            };
            if let Some(gate) = &self.gate {
                match &result {
                    Err(e) if e.error.status() == Some(429) => {
                        gate.busy();
                    }
                    _ => gate.clear(),
                }
            }
            let failure = match result {
                Ok(answer) => return Ok(answer),
                Err(f) => f,
            };
            let conflict = failure
                .error
                .api_errors()
                .iter()
                .any(|e| e.code.as_deref() == Some("conflictTaskUUID"));
            if failure.reach == Reach::Lost || (conflict && attempt > 1) {
                // Runware already has this taskUUID (from an earlier attempt): ask for it.
                return Err(SendError::Lost(failure.error));
            }
            if !(failure.error.is_transient() && attempt <= self.config.retries) {
                return Err(SendError::Failed(failure.error));
            }
            let delay = self.retry_delay(attempt);
            let reason = match failure.reach {
                Reach::NotSent => format!(
                    "{}; it never reached Runware, so it is sent again",
                    failure.error
                ),
                _ => format!(
                    "{}; Runware did not take the task, so it is sent again",
                    failure.error
                ),
            };
            tracing::info!("Runware attempt {attempt}: {reason}; retrying in {delay:?}");
            on_event(SubmitEvent::Retrying {
                attempt,
                delay,
                reason,
            });
            if !self.pause(delay, cancel).await {
                return Err(SendError::Failed(RunwareError::Cancelled));
            }
        }
    }

    /// Uploads an encoded picture once and returns its imageUUID; the same bytes later answer
    /// from memory.
    pub async fn upload_image(
        &self,
        bytes: &[u8],
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(SubmitEvent) + Send),
    ) -> Result<String, RunwareError> {
        let hash = sha256(bytes);
        if let Ok(cache) = self.uploads.lock()
            && let Some(uuid) = cache.get(&hash)
        {
            return Ok(uuid.clone());
        }
        on_event(SubmitEvent::Uploading);
        let task_uuid = Uuid::new_v4().to_string();
        let body = json!([{
            "taskType": "imageUpload",
            "taskUUID": task_uuid,
            "image": crate::imageio::data_uri(bytes, crate::imageio::sniff_mime(bytes)),
        }]);
        let answer = self.post_tasks(&body, cancel, on_event).await?;
        let uuid = super::response::upload_answer(&answer).map_err(RunwareError::Upload)?;
        if let Ok(mut cache) = self.uploads.lock() {
            cache.insert(hash, uuid.clone());
        }
        Ok(uuid)
    }

    /// Sends the edit and returns its results, reporting each as it arrives through
    /// `on_event` (as `SubmitEvent::Result`). `task_uuid` is sent on every retry. Local
    /// pictures are checked first (a damaged one is refused) and BMP, GIF and TIFF converted
    /// to PNG (Runware takes PNG, JPEG and WebP only).
    pub async fn submit(
        &self,
        request: &EditRequest,
        task_uuid: Uuid,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(SubmitEvent) + Send),
    ) -> Result<Vec<EditResult>, RunwareError> {
        let problems = request.validate();
        if !problems.is_empty() {
            return Err(RunwareError::Invalid(problems));
        }
        let mut request = request.clone();
        super::inputs::prepare(&mut request)?;
        if self.config.upload_seed
            && let Some(ImageInput::Bytes(bytes)) = &request.seed_image
        {
            let uuid = self.upload_image(bytes, cancel, on_event).await?;
            request.seed_image = Some(ImageInput::Reference(uuid));
        }
        let body = Value::Array(vec![request.to_task_json(task_uuid)]);
        let task_uuid = task_uuid.to_string();
        let wanted = request.settings.results_wanted();
        let mut results = Vec::new();
        let mut attempts = 0u32;
        let mut resent = false;
        loop {
            let failure = match self.send_task(&body, attempts, cancel, on_event).await {
                Ok(answer) => {
                    self.take_answer(answer, &request, &task_uuid, cancel, on_event, &mut results)
                        .await?;
                    return Ok(results);
                }
                Err(SendError::Failed(e)) => return Err(e),
                Err(SendError::Lost(e)) => e,
            };
            attempts += 1;
            tracing::info!("the task was sent but no answer came ({failure}); asking for it");
            on_event(SubmitEvent::Retrying {
                attempt: attempts,
                delay: Duration::ZERO,
                reason: format!(
                    "{failure}; the task may still be running at Runware, so its result is asked for (getResponse) instead of sending it again"
                ),
            });
            on_event(SubmitEvent::Queued);
            match self
                .poll(&task_uuid, wanted, cancel, on_event, &mut results)
                .await
            {
                Ok(()) => return Ok(results),
                // Runware does not know the taskUUID: the task never arrived. Send it (once).
                Err(RunwareError::Api { status, errors })
                    if matches!(status, 400 | 404) && results.is_empty() && !resent =>
                {
                    resent = true;
                    let why = errors
                        .first()
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| format!("HTTP {status}"));
                    on_event(SubmitEvent::Retrying {
                        attempt: attempts,
                        delay: Duration::ZERO,
                        reason: format!(
                            "Runware does not know the task ({why}), so it never arrived: it is sent again"
                        ),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }
}
