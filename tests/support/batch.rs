//! What `touchup batch` tests need from the stand-in: how many inference requests it works on
//! at once (and at most), and a 400 for the tasks whose prompt holds a marker, so one line of
//! a manifest fails while the others go through.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http_body_util::Full;
use hyper::Response;
use hyper::body::Bytes;
use serde_json::{Value, json};

/// Inference requests in flight: now, at most, and in all.
#[derive(Debug, Default, Clone)]
pub struct Concurrency {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
    total: Arc<AtomicUsize>,
}

impl Concurrency {
    /// Counts a request until the returned guard is dropped.
    pub fn enter(&self) -> InFlight {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(n, Ordering::SeqCst);
        self.total.fetch_add(1, Ordering::SeqCst);
        InFlight(self.now.clone())
    }

    /// The most requests handled at the same time so far.
    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }

    pub fn now(&self) -> usize {
        self.now.load(Ordering::SeqCst)
    }

    pub fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }
}

/// One request being handled.
pub struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The 400 a strict server gives a task whose prompt contains `marker`.
pub fn refuse(task: &Value, uuid: &str, marker: Option<&str>) -> Option<Response<Full<Bytes>>> {
    let marker = marker?;
    let prompt = task.get("positivePrompt").and_then(Value::as_str)?;
    if !prompt.contains(marker) {
        return None;
    }
    Some(super::error(
        400,
        "invalidPositivePrompt",
        "This prompt is not accepted",
        json!("positivePrompt"),
        uuid,
    ))
}
