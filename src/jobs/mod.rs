//! The one edit pipeline: a queue of jobs, each carrying the photo, mask and settings it was
//! submitted with, run with a concurrency limit by either engine. The editor's Jobs list,
//! `touchup batch` and `touchup edit` (a queue of one) all drive [`Queue`].
//!
//! Each job runs the same steps ([`EditRunner`]): the edit area (the crop around the mask that
//! is sent, [`crate::edit::EditArea`]) -> the engine -> each picture fitted to its area, colour
//! matched at the mask's edge and pasted into the photo ([`crate::compare::paste_result`]) ->
//! saved ([`crate::output::OutputFolder`]) -> reported as a [`QueueEvent::Result`] carrying the
//! pasted picture and its figures, which the editor shows as they are.

mod queue;
mod runner;

use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::edit::{EditRequest, ResultImage};
use crate::local::LocalOptions;
use crate::output::{EditInputs, OutputOptions, SavedResult};

pub use queue::{JobContext, JobRunner, Queue, QueueConfig, QueueError};
pub use runner::{EditRunner, sent_request};

/// Which engine edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Engine {
    /// Ideogram 3.0 Edit on Runware.
    Runware,
    /// The offline engine.
    Local,
}

impl Engine {
    pub fn label(self) -> &'static str {
        match self {
            Engine::Runware => "runware",
            Engine::Local => "local",
        }
    }
}

/// Identifies a job in its queue (1, 2, ... in submission order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// Everything one edit needs, frozen at submission.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// What the user calls it (a manifest line's name, the first words of the prompt).
    pub name: String,
    pub engine: Engine,
    /// Prompt, settings and the pictures sent (seed image and mask as Runware takes them).
    pub request: EditRequest,
    /// The photo and its mask on this machine: the local engine needs them; with them results
    /// are composited and compared.
    pub inputs: Option<EditInputs>,
    /// Local engine settings.
    pub local: LocalOptions,
    /// Local engine: the seed of the first picture (then +1, ...); random when `None`.
    pub first_seed: Option<u64>,
    /// Runware: the taskUUID to send (kept by every retry); a fresh one when `None`.
    pub task_uuid: Option<Uuid>,
    /// Where to save results (`None`: only reported through events).
    pub output: Option<OutputOptions>,
    /// The part of the photo that is sent and pasted back (with `inputs`); `None`: the whole
    /// photo (downscaled to 2048 px for Runware, as the request's own pictures for a task
    /// whose photo is not on this machine).
    pub area: Option<crate::edit::EditArea>,
    /// Which colour marks the edit in the mask sent to Runware.
    pub polarity: crate::mask::Polarity,
}

impl JobSpec {
    /// A job for `request` with no inputs, default local settings and no output folder.
    pub fn new(name: impl Into<String>, engine: Engine, request: EditRequest) -> JobSpec {
        JobSpec {
            name: name.into(),
            engine,
            request,
            inputs: None,
            local: LocalOptions::default(),
            first_seed: None,
            task_uuid: None,
            output: None,
            area: None,
            polarity: crate::mask::Polarity::WhiteEdits,
        }
    }
}

/// Why a job stopped without finishing.
#[derive(Debug, Clone, PartialEq)]
pub struct JobFailure {
    /// One line, saying what to do.
    pub message: String,
    /// The task may have run on Runware although no result came back (timeout, lost
    /// connection, server error): sending it again may run and bill it twice.
    pub unclear: bool,
    /// The form fields the failure is about (for the GUI form or the CLI's flag names).
    pub fields: Vec<crate::edit::Field>,
}

impl JobFailure {
    pub fn new(message: impl Into<String>) -> JobFailure {
        JobFailure {
            message: message.into(),
            unclear: false,
            fields: Vec::new(),
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Waiting for a free slot.
    Queued,
    /// Uploading or sending the task.
    Sending,
    /// Sent; the engine is working (or a retry or the batch-wide slowdown is waited out).
    Waiting,
    /// `received` of `wanted` pictures are in.
    Receiving {
        received: u32,
        wanted: u32,
    },
    Done,
    Failed(JobFailure),
    Cancelled,
}

impl JobState {
    /// Done, failed or cancelled.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed(_) | JobState::Cancelled
        )
    }

    /// Sending, waiting or receiving.
    pub fn is_running(&self) -> bool {
        matches!(
            self,
            JobState::Sending | JobState::Waiting | JobState::Receiving { .. }
        )
    }

    /// A short word for lists and logs: `queued`, `sending`, `waiting`, `receiving 1 of 2`,
    /// `done`, `failed`, `cancelled`.
    pub fn label(&self) -> String {
        match self {
            JobState::Queued => "queued".into(),
            JobState::Sending => "sending".into(),
            JobState::Waiting => "waiting".into(),
            JobState::Receiving { received, wanted } => format!("receiving {received} of {wanted}"),
            JobState::Done => "done".into(),
            JobState::Failed(_) => "failed".into(),
            JobState::Cancelled => "cancelled".into(),
        }
    }
}

/// One picture a job received.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// 1-based.
    pub index: usize,
    pub image: ResultImage,
    /// How it was saved, when the job has an output folder.
    pub saved: Option<SavedResult>,
    /// The picture fitted to its area, colour matched and composited (when the photo and mask
    /// are on this machine and it could be decoded).
    pub pasted: Option<Arc<crate::compare::Pasted>>,
    /// Why it could not be pasted (it could not be decoded), or that it was resampled.
    pub note: Option<String>,
}

/// A job as the queue sees it now.
#[derive(Debug, Clone)]
pub struct JobStatus {
    pub id: JobId,
    pub name: String,
    pub engine: Engine,
    pub state: JobState,
    /// The taskUUID sent (Runware).
    pub task_uuid: Option<Uuid>,
    /// How many times the job was started (1 on the first run; retries add one).
    pub runs: u32,
    /// A retry was sent although an earlier run ended unclearly (it may have run twice).
    pub resent_after_unclear: bool,
    pub results: Vec<Arc<JobResult>>,
    /// The last `compare.png`, when the job wrote one.
    pub sheet: Option<std::path::PathBuf>,
    pub(crate) started: Option<Instant>,
    pub(crate) finished: Option<Instant>,
}

impl JobStatus {
    /// Time since the current run started (up to its end); zero while queued.
    pub fn elapsed(&self) -> Duration {
        match (self.started, self.finished) {
            (Some(s), Some(f)) => f.saturating_duration_since(s),
            (Some(s), None) => s.elapsed(),
            _ => Duration::ZERO,
        }
    }

    /// The `cost` of every picture received so far (USD), `None` when none reported one.
    pub fn cost(&self) -> Option<f64> {
        let costs: Vec<f64> = self.results.iter().filter_map(|r| r.image.cost).collect();
        (!costs.is_empty()).then(|| costs.iter().fold(0.0, |a, c| a + c))
    }

    /// The failure, when the job failed.
    pub fn failure(&self) -> Option<&JobFailure> {
        match &self.state {
            JobState::Failed(f) => Some(f),
            _ => None,
        }
    }
}

/// What the queue reports, in order, on [`Queue::events`].
#[derive(Debug, Clone)]
pub enum QueueEvent {
    /// A job changed state.
    State { id: JobId, state: JobState },
    /// A picture arrived (and was saved, when the job has an output folder).
    Result { id: JobId, result: Arc<JobResult> },
    /// Something the user should know (a retry, a resend after an unclear failure, a
    /// resampled result).
    Note { id: JobId, text: String },
    /// Fine-grained progress (percent, downloads) that a log may skip.
    Progress { id: JobId, text: String },
    /// Runware answered 429: every job waits `pause` before its next attempt.
    Slowdown { pause: Duration },
}
