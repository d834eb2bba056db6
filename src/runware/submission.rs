//! Running a submission on a tokio runtime for a GUI: events arrive on a channel the UI thread
//! drains each frame; a token cancels the request and any polling at once.

use std::sync::Arc;
use std::sync::mpsc;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::client::{Client, EditResult, SubmitEvent};
use super::error::RunwareError;
use crate::edit::EditRequest;

/// What a running submission reports.
#[derive(Debug)]
pub enum SubmissionMessage {
    /// Progress, including each finished picture (`SubmitEvent::Result`).
    Event(SubmitEvent),
    /// The end: all results, or why it stopped (results already reported are kept).
    Finished(Result<Vec<EditResult>, RunwareError>),
}

/// A submission in flight.
#[derive(Debug)]
pub struct Submission {
    /// The taskUUID sent (the same on every retry).
    pub task_uuid: Uuid,
    /// Messages in order; the last one is `Finished`.
    pub messages: mpsc::Receiver<SubmissionMessage>,
    cancel: CancellationToken,
}

impl Submission {
    /// Stops the request and any polling now; `Finished(Err(Cancelled))` follows.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// A token that cancels this submission (e.g. for a Cancel button held elsewhere).
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

/// Starts `request` on `runtime`. `notify` is called after every message (the GUI passes
/// `move || ctx.request_repaint()`).
pub fn spawn_submission(
    runtime: &tokio::runtime::Handle,
    client: Arc<Client>,
    request: EditRequest,
    notify: impl Fn() + Send + Sync + 'static,
) -> Submission {
    let (tx, rx) = mpsc::channel();
    let cancel = CancellationToken::new();
    let task_uuid = Uuid::new_v4();
    let token = cancel.clone();
    runtime.spawn(async move {
        let notify = Arc::new(notify);
        let events_tx = tx.clone();
        let events_notify = notify.clone();
        let mut on_event = move |event: SubmitEvent| {
            let _ = events_tx.send(SubmissionMessage::Event(event));
            events_notify();
        };
        let outcome = client
            .submit(&request, task_uuid, &token, &mut on_event)
            .await;
        let _ = tx.send(SubmissionMessage::Finished(outcome));
        notify();
    });
    Submission {
        task_uuid,
        messages: rx,
        cancel,
    }
}
