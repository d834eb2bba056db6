//! HTTP to Runware: retries, polling, uploads and result fetching.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::error::RunwareError;
use super::key::ApiKey;
use super::response::{ApiError, ResponseBody, ResultItem, parse_body};
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
            poll: PollConfig::default(),
            max_result_bytes: 64 * 1024 * 1024,
            max_body_bytes: 1024 * 1024 * 1024,
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
    http: reqwest::Client,
    config: ClientConfig,
    key: ApiKey,
    uploads: Mutex<HashMap<[u8; 32], String>>,
    /// Shared by every task this client sends: a 429 slows them all (see [`RateGate`]).
    gate: Option<std::sync::Arc<super::gate::RateGate>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("key", &self.key)
            .finish()
    }
}

fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Accepts https URLs, and http only to loopback addresses.
fn check_url(url: &str) -> Result<reqwest::Url, RunwareError> {
    let parsed =
        reqwest::Url::parse(url).map_err(|_| RunwareError::BadEndpoint(url.to_string()))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if parsed.host_str().is_some_and(is_loopback_host) => Ok(parsed),
        "http" => Err(RunwareError::InsecureEndpoint(url.to_string())),
        _ => Err(RunwareError::BadEndpoint(url.to_string())),
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

fn classify(e: reqwest::Error) -> RunwareError {
    // reqwest's messages name the URL (never the key, which travels only in a header).
    let (timeout, connect) = (
        e.is_timeout(),
        e.is_connect() || e.is_request() || e.is_body(),
    );
    let detail = describe(e);
    if timeout {
        RunwareError::Timeout(detail)
    } else if connect {
        RunwareError::Connect(detail)
    } else {
        RunwareError::Garbage(detail)
    }
}

/// A reqwest error and its causes on one line, without the URL.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
        source = cause.source();
    }
    out
}

/// Reads a body up to `cap` bytes, or fails.
async fn read_capped(mut response: reqwest::Response, cap: u64) -> Result<Vec<u8>, String> {
    if let Some(len) = response.content_length()
        && len > cap
    {
        return Err(format!("{len} bytes is over the {cap}-byte limit"));
    }
    let mut out = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() as u64 + chunk.len() as u64 > cap {
                    return Err(format!("more than the {cap}-byte limit"));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) if e.is_timeout() => return Err(format!("timed out: {}", describe(e))),
            Err(e) => return Err(describe(e)),
        }
    }
}

fn short_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(400)]);
    // An HTML error page: its <title> says the most.
    if let Some(start) = text.find("<title>")
        && let Some(end) = text[start..].find("</title>")
    {
        return format!("an HTML page: {}", text[start + 7..start + end].trim());
    }
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        "an empty body".into()
    } else {
        let clipped: String = flat.chars().take(80).collect();
        format!("'{clipped}'")
    }
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
    async fn post_once(&self, body: &Value) -> Result<ResponseBody, RunwareError> {
        let response = self
            .http
            .post(&self.config.endpoint)
            .bearer_auth(self.key.expose())
            .json(body)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status().as_u16();
        let bytes = read_capped(response, self.config.max_body_bytes)
            .await
            .map_err(|d| {
                if d.starts_with("timed out") {
                    RunwareError::Timeout(d)
                } else {
                    RunwareError::Connect(d)
                }
            })?;
        let parsed = parse_body(&bytes);
        if (200..300).contains(&status) {
            return parsed.map_err(RunwareError::Garbage);
        }
        match parsed {
            Ok(body) if !body.errors.is_empty() => Err(RunwareError::Api {
                status,
                errors: body.errors,
            }),
            _ => Err(RunwareError::Http {
                status,
                detail: short_text(&bytes),
            }),
        }
    }

    /// POSTs a task array, retrying transient failures with exponential backoff and the very
    /// same body (so the same taskUUIDs). Cancelling stops at once.
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
                    Err(e) if e.status() == Some(429) => {
                        gate.busy();
                    }
                    _ => gate.clear(),
                }
            }
            match result {
                Err(e) if e.is_transient() && attempt <= self.config.retries => {
                    let delay = self.config.retry_base_delay * 2u32.saturating_pow(attempt - 1);
                    tracing::info!("Runware attempt {attempt} failed ({e}); retrying in {delay:?}");
                    on_event(SubmitEvent::Retrying {
                        attempt,
                        delay,
                        reason: e.to_string(),
                    });
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(RunwareError::Cancelled),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
                other => return other,
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
        if let Some(e) = answer.errors.first() {
            return Err(RunwareError::Upload(e.to_string()));
        }
        let uuid = answer
            .data
            .iter()
            .find_map(|d| d.get("imageUUID").and_then(Value::as_str))
            .ok_or_else(|| RunwareError::Upload("the answer holds no imageUUID".into()))?
            .to_string();
        if let Ok(mut cache) = self.uploads.lock() {
            cache.insert(hash, uuid.clone());
        }
        Ok(uuid)
    }

    /// Sends the edit and returns its results, reporting each as it arrives through
    /// `on_event` (as `SubmitEvent::Result`). `task_uuid` is sent on every retry.
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
        if self.config.upload_seed
            && let Some(ImageInput::Bytes(bytes)) = &request.seed_image
        {
            let uuid = self.upload_image(bytes, cancel, on_event).await?;
            request.seed_image = Some(ImageInput::Reference(uuid));
        }
        let body = Value::Array(vec![request.to_task_json(task_uuid)]);
        let answer = self.post_tasks(&body, cancel, on_event).await?;
        let task_uuid = task_uuid.to_string();
        let wanted = request.settings.results_wanted();
        let mut results = Vec::new();

        if request.settings.is_async() {
            if !answer.errors.is_empty() {
                return Err(RunwareError::Api {
                    status: 200,
                    errors: answer.errors,
                });
            }
            on_event(SubmitEvent::Queued);
            self.poll(&task_uuid, wanted, cancel, on_event, &mut results)
                .await?;
            return Ok(results);
        }

        for item in answer.data.iter().map(ResultItem::from_value) {
            if item.task_uuid.as_deref().is_some_and(|u| u != task_uuid) || !item.has_image() {
                continue;
            }
            let result = self
                .finish(item, results.len() + 1, cancel, on_event)
                .await?;
            on_event(SubmitEvent::Result(result.clone()));
            results.push(result);
        }
        if !answer.errors.is_empty() {
            return Err(RunwareError::Api {
                status: 200,
                errors: answer.errors,
            });
        }
        if results.is_empty() {
            return Err(RunwareError::Garbage(
                "the answer holds no result picture".into(),
            ));
        }
        Ok(results)
    }

    /// Polls `getResponse` until `wanted` pictures succeeded, one fails, the budget runs out
    /// or the caller cancels.
    async fn poll(
        &self,
        task_uuid: &str,
        wanted: u32,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(SubmitEvent) + Send),
        results: &mut Vec<EditResult>,
    ) -> Result<(), RunwareError> {
        let poll = &self.config.poll;
        let started = tokio::time::Instant::now();
        let mut delay = poll.first_delay;
        let body = json!([{ "taskType": "getResponse", "taskUUID": task_uuid }]);
        let mut seen: Vec<String> = Vec::new();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Err(RunwareError::Cancelled),
                _ = tokio::time::sleep(delay) => {}
            }
            let answer = self.post_tasks(&body, cancel, on_event).await?;
            let mut failures: Vec<ApiError> = answer.errors;
            let mut progress: Option<f64> = None;
            for item in answer.data.iter().map(ResultItem::from_value) {
                if item.task_uuid.as_deref().is_some_and(|u| u != task_uuid) {
                    continue;
                }
                match item.status.as_deref() {
                    Some("error") | Some("failed") => {
                        failures.push(item.error.clone().unwrap_or(ApiError {
                            message: Some("a picture failed without details".into()),
                            ..ApiError::default()
                        }))
                    }
                    Some("success") | None if item.has_image() => {
                        let id = item
                            .image_uuid
                            .clone()
                            .or_else(|| item.image_url.clone())
                            .unwrap_or_else(|| format!("#{}", seen.len()));
                        if seen.contains(&id) {
                            continue;
                        }
                        seen.push(id);
                        let result = self
                            .finish(item, results.len() + 1, cancel, on_event)
                            .await?;
                        on_event(SubmitEvent::Result(result.clone()));
                        results.push(result);
                    }
                    _ => {
                        if let Some(p) = item.progress {
                            progress = Some(progress.map_or(p, |q: f64| q.max(p)));
                        }
                    }
                }
            }
            if !failures.is_empty() {
                return Err(RunwareError::Api {
                    status: 200,
                    errors: failures,
                });
            }
            let done = results.len() as u32;
            on_event(SubmitEvent::Polling {
                done,
                wanted,
                progress,
            });
            if done >= wanted {
                return Ok(());
            }
            if started.elapsed() >= poll.budget {
                return Err(RunwareError::PollBudget(poll.budget));
            }
            delay = delay.mul_f64(poll.factor).min(poll.max_delay);
        }
    }

    /// Turns a result item into picture bytes: download, base64 or data URI.
    async fn finish(
        &self,
        item: ResultItem,
        index: usize,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(SubmitEvent) + Send),
    ) -> Result<EditResult, RunwareError> {
        let cap = self.config.max_result_bytes;
        let bytes = if let Some(uri) = &item.image_data_uri {
            crate::imageio::parse_data_uri(uri).map_err(|e| RunwareError::Decode {
                index,
                detail: e.to_string(),
            })?
        } else if let Some(b64) = &item.image_base64_data {
            crate::imageio::parse_data_uri(b64).map_err(|e| RunwareError::Decode {
                index,
                detail: e.to_string(),
            })?
        } else if let Some(url) = &item.image_url {
            on_event(SubmitEvent::Downloading { index });
            tokio::select! {
                _ = cancel.cancelled() => return Err(RunwareError::Cancelled),
                r = self.download(url, index) => r?,
            }
        } else {
            return Err(RunwareError::Decode {
                index,
                detail: "no picture in the answer".into(),
            });
        };
        if bytes.len() as u64 > cap {
            return Err(RunwareError::Decode {
                index,
                detail: format!("{} bytes is over the {cap}-byte limit", bytes.len()),
            });
        }
        if image::guess_format(&bytes).is_err() {
            return Err(RunwareError::Decode {
                index,
                detail: "the bytes are not JPEG, PNG or WebP".into(),
            });
        }
        Ok(EditResult {
            index,
            task_uuid: item.task_uuid.unwrap_or_default(),
            image_uuid: item.image_uuid,
            seed: item.seed,
            cost: item.cost,
            nsfw_content: item.nsfw_content,
            image_url: item.image_url,
            bytes,
        })
    }

    /// Fetches a result URL (https, or http on loopback) up to the size cap. No key is sent.
    async fn download(&self, url: &str, index: usize) -> Result<Vec<u8>, RunwareError> {
        let fail = |detail: String| RunwareError::Download {
            index,
            url: url.to_string(),
            detail,
        };
        let parsed = check_url(url).map_err(|e| fail(e.to_string()))?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = match self.http.get(parsed.clone()).send().await {
                Ok(r) if r.status().is_success() => read_capped(r, self.config.max_result_bytes)
                    .await
                    .map_err(|d| (false, d)),
                Ok(r) => {
                    let s = r.status().as_u16();
                    Err((matches!(s, 408 | 429 | 500..=599), format!("HTTP {s}")))
                }
                Err(e) => Err((e.is_timeout() || e.is_connect(), describe(e))),
            };
            match outcome {
                Ok(bytes) => return Ok(bytes),
                Err((true, detail)) if attempt <= self.config.retries => {
                    tracing::info!("download {index} failed ({detail}); retrying");
                    tokio::time::sleep(self.config.retry_base_delay * 2u32.pow(attempt - 1)).await;
                }
                Err((_, detail)) => return Err(fail(detail)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback() {
        assert!(check_url("https://api.runware.ai/v1").is_ok());
        assert!(check_url("http://127.0.0.1:8080/v1").is_ok());
        assert!(check_url("http://localhost:1/v1").is_ok());
        assert!(check_url("http://[::1]:1/v1").is_ok());
        assert!(matches!(
            check_url("http://api.runware.ai/v1"),
            Err(RunwareError::InsecureEndpoint(_))
        ));
        assert!(matches!(
            check_url("ftp://x/"),
            Err(RunwareError::BadEndpoint(_))
        ));
        assert!(matches!(
            check_url("not a url"),
            Err(RunwareError::BadEndpoint(_))
        ));
    }

    #[test]
    fn html_pages_are_summarised() {
        let page =
            b"<html><head><title>503 Service Unavailable</title></head><body>x</body></html>";
        assert_eq!(short_text(page), "an HTML page: 503 Service Unavailable");
        assert_eq!(short_text(b""), "an empty body");
    }
}
