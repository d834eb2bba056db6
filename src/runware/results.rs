//! Turning Runware's answers into result pictures: the sync answer, `getResponse` polls,
//! downloads of result URLs, and the check that each picture is whole and of a sane size
//! before it is reported (a truncated or bomb-like result is an error, never an image).

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::client::{Client, EditResult, SubmitEvent};
use super::error::RunwareError;
use super::http::{check_url, describe, read_capped, retry_delay};
use super::response::{ApiError, ResponseBody, ResultItem};
use crate::edit::EditRequest;
use crate::imageio::DecodeLimits;

/// The error for an answer carrying more pictures than the task asked for (the first
/// `wanted` were kept and reported).
fn too_many(found: usize, wanted: u32) -> RunwareError {
    RunwareError::Garbage(format!(
        "the answer holds {found} pictures for a task that asked for {wanted}; the first {wanted} were kept, the rest ignored"
    ))
}

impl Client {
    /// What the answer to the inference task says: results (sync), or an acknowledgement to
    /// poll for (async).
    pub(super) async fn take_answer(
        &self,
        answer: ResponseBody,
        request: &EditRequest,
        task_uuid: &str,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(SubmitEvent) + Send),
        results: &mut Vec<EditResult>,
    ) -> Result<(), RunwareError> {
        let wanted = request.settings.results_wanted();
        if request.settings.is_async() {
            if !answer.errors.is_empty() {
                return Err(RunwareError::Api {
                    status: 200,
                    errors: answer.errors,
                });
            }
            on_event(SubmitEvent::Queued);
            return self
                .poll(task_uuid, wanted, cancel, on_event, results)
                .await;
        }
        let mut found = 0usize;
        for value in &answer.data {
            let item = ResultItem::from_value(value);
            if item.task_uuid.as_deref().is_some_and(|u| u != task_uuid) || !item.has_image() {
                continue;
            }
            found += 1;
            if results.len() as u32 >= wanted {
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
        if found > wanted as usize {
            return Err(too_many(found, wanted));
        }
        if results.is_empty() {
            return Err(RunwareError::Garbage(
                "the answer holds no result picture".into(),
            ));
        }
        Ok(())
    }

    /// Polls `getResponse` until `wanted` pictures succeeded, one fails, the budget runs out
    /// or the caller cancels. Pictures already in `results` count (and are not fetched
    /// twice).
    pub(super) async fn poll(
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
        let mut seen: Vec<String> = results
            .iter()
            .filter_map(|r| r.image_uuid.clone().or_else(|| r.image_url.clone()))
            .collect();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Err(RunwareError::Cancelled),
                _ = tokio::time::sleep(delay) => {}
            }
            let answer = self.post_tasks(&body, cancel, on_event).await?;
            let mut failures: Vec<ApiError> = answer.errors;
            let mut progress: Option<f64> = None;
            let mut extra = 0usize;
            for value in &answer.data {
                let item = ResultItem::from_value(value);
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
                        if results.len() as u32 >= wanted {
                            extra += 1;
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
            if extra > 0 {
                return Err(too_many(results.len() + extra, wanted));
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

    /// Turns a result item into picture bytes (download, base64 or data URI) and checks the
    /// picture is whole and of a size a result can have.
    pub(super) async fn finish(
        &self,
        item: ResultItem,
        index: usize,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(SubmitEvent) + Send),
    ) -> Result<EditResult, RunwareError> {
        let cap = self.config.max_result_bytes;
        let decode_fail = |detail: String| RunwareError::Decode { index, detail };
        let inline = item
            .image_data_uri
            .as_deref()
            .or(item.image_base64_data.as_deref());
        let bytes = if let Some(text) = inline {
            // Base64 is 4 characters per 3 bytes: refuse before decoding anything too big.
            if (text.len() as u64 / 4).saturating_mul(3) > cap.saturating_add(3) {
                return Err(decode_fail(format!(
                    "about {} bytes is over the {cap}-byte limit",
                    text.len() / 4 * 3
                )));
            }
            crate::imageio::parse_data_uri(text).map_err(|e| decode_fail(e.to_string()))?
        } else if let Some(url) = &item.image_url {
            on_event(SubmitEvent::Downloading { index });
            let started = std::time::Instant::now();
            let bytes = tokio::select! {
                _ = cancel.cancelled() => return Err(RunwareError::Cancelled),
                r = self.download(url, index) => r?,
            };
            tracing::debug!(
                index,
                bytes = bytes.len(),
                ms = started.elapsed().as_millis() as u64,
                "picture downloaded"
            );
            bytes
        } else {
            return Err(decode_fail("no picture in the answer".into()));
        };
        if bytes.len() as u64 > cap {
            return Err(decode_fail(format!(
                "{} bytes is over the {cap}-byte limit",
                bytes.len()
            )));
        }
        let started = std::time::Instant::now();
        let bytes = check_picture(bytes).await.map_err(decode_fail)?;
        tracing::debug!(
            index,
            ms = started.elapsed().as_millis() as u64,
            "picture checked"
        );
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

    /// Fetches a result URL (https, or http on loopback, also after redirects) up to the size
    /// cap and within the body deadline. No key is sent.
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
                Ok(r) if r.status().is_success() => {
                    read_capped(r, self.config.max_result_bytes, self.config.body_timeout)
                        .await
                        .map_err(|e| {
                            // A result cut off mid-way may come whole the next time; one too big will
                            // not.
                            let again = matches!(e, super::http::BodyError::Broken(_));
                            (again, e.detail().to_string())
                        })
                }
                Ok(r) => {
                    let s = r.status().as_u16();
                    Err((matches!(s, 408 | 429 | 500..=599), format!("HTTP {s}")))
                }
                Err(e) => Err((
                    (e.is_timeout() || e.is_connect()) && !e.is_redirect(),
                    describe(e),
                )),
            };
            match outcome {
                Ok(bytes) => return Ok(bytes),
                Err((true, detail)) if attempt <= self.config.retries => {
                    tracing::info!("download {index} failed ({detail}); retrying");
                    tokio::time::sleep(retry_delay(
                        self.config.retry_base_delay,
                        attempt,
                        self.config.retry_jitter,
                    ))
                    .await;
                }
                Err((_, detail)) => return Err(fail(detail)),
            }
        }
    }
}

/// Decodes a result under [`DecodeLimits::RESULT`], refusing damaged ones, off the async
/// threads; gives the bytes back when they hold a whole picture.
async fn check_picture(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    let check = move || {
        if !matches!(
            image::guess_format(&bytes),
            Ok(image::ImageFormat::Jpeg | image::ImageFormat::Png | image::ImageFormat::WebP)
        ) {
            return Err("the bytes are not JPEG, PNG or WebP".to_string());
        }
        crate::imageio::decode_with(&bytes, DecodeLimits::RESULT, false)
            .map_err(|e| e.to_string())?;
        Ok(bytes)
    };
    match tokio::task::spawn_blocking(check).await {
        Ok(result) => result,
        Err(e) => Err(format!("the check of the picture failed: {e}")),
    }
}
