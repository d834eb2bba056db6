//! Background work and how it reports back. Anything slow (decoding, encoding, file dialogs,
//! the keyring, the history on disk, the magic wand) runs off the UI thread through a
//! [`Worker`] and answers with one [`Msg`]; `App::logic` drains them and hands each to
//! [`super::messages::handle`], the one place where they change state.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Sender;

use image::RgbaImage;

use super::autosave;
use super::files::{DialogKind, Picked};
use crate::mask::{Combine, Mask, WandRegion};

/// Results of background work, drained in `App::logic`.
pub(crate) enum Msg {
    Opened(super::document::OpenOutcome),
    MaskLoaded(Result<(Mask, String), String>),
    /// The mask was written to this path at this mask generation.
    MaskSaved(Result<(PathBuf, u64), String>),
    Picked(DialogKind, Picked),
    Pasted(Result<RgbaImage, String>),
    SeedEncoded(Arc<RgbaImage>, Result<Vec<u8>, String>),
    WandDone(Arc<RgbaImage>, Result<(WandRegion, Combine), String>),
    /// The Text tool's search of this photo's text lines.
    TextFound(Arc<RgbaImage>, Result<Vec<crate::text::TextLine>, String>),
    /// The lettering of result N of results batch B, read against the prompt's quoted strings.
    Lettering(
        u64,
        usize,
        Result<Option<crate::text::LetteringCheck>, String>,
    ),
    KeyStored(Result<String, String>),
    SavedFile(Result<PathBuf, String>),
    HistoryListed(crate::session::Listing),
    /// The listing after pruning to the budget, with how many edits were removed.
    HistoryPruned(Result<(usize, crate::session::Listing), String>),
    HistoryThumbnail(String, Result<RgbaImage, String>),
    /// The results of batch N were recorded in the history as this edit.
    /// An edit was recorded in the history: its results batch, its job, its id.
    Recorded(u64, Option<u64>, crate::session::EditId),
    /// A result compared again (keep-outside switched, or reopened from the history):
    /// (generation, result index, comparison).
    Recomposited(
        u64,
        usize,
        Box<Result<crate::compare::ResultComparison, String>>,
    ),
    Reopened(Result<Box<crate::session::ReopenedEdit>, String>),
    KeptStored(Result<(), String>),
    Attached(DialogKind, Result<Vec<u8>, String>),
    Autosave(autosave::Report),
    /// Unfinished jobs of an earlier session, read back, and why some could not be.
    UnfinishedJobs(Vec<super::edit_panel::jobs::Offered>, Vec<String>),
}

/// The runtime handle, with the runtime itself when the app owns it.
pub(crate) struct Runtime {
    handle: Option<tokio::runtime::Handle>,
    _owned: Option<tokio::runtime::Runtime>,
}

impl Runtime {
    pub fn new(handle: Option<tokio::runtime::Handle>) -> Self {
        if let Some(handle) = handle {
            return Self {
                handle: Some(handle),
                _owned: None,
            };
        }
        match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => Self {
                handle: Some(rt.handle().clone()),
                _owned: Some(rt),
            },
            Err(e) => {
                tracing::error!("could not start the background runtime: {e}");
                Self {
                    handle: None,
                    _owned: None,
                }
            }
        }
    }

    pub fn handle(&self) -> Option<tokio::runtime::Handle> {
        self.handle.clone()
    }
}

/// Sends background work's answers to the UI thread and wakes it.
#[derive(Clone)]
pub(crate) struct Worker {
    tx: Sender<Msg>,
    ctx: egui::Context,
    handle: Option<tokio::runtime::Handle>,
}

impl Worker {
    pub fn new(
        tx: Sender<Msg>,
        ctx: egui::Context,
        handle: Option<tokio::runtime::Handle>,
    ) -> Self {
        Self { tx, ctx, handle }
    }

    /// Hands a message to the UI thread and asks for a frame.
    pub fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
        self.ctx.request_repaint();
    }

    /// Runs `work` on a thread of its own and sends what it returns.
    pub fn thread(&self, work: impl FnOnce() -> Msg + Send + 'static) {
        let worker = self.clone();
        std::thread::spawn(move || worker.send(work()));
    }

    /// Runs `work` on the tokio runtime (or, without one, on a thread with a runtime of its
    /// own) and sends what it returns.
    pub fn task<F>(&self, work: F)
    where
        F: std::future::Future<Output = Msg> + Send + 'static,
    {
        let worker = self.clone();
        let job = async move { worker.send(work.await) };
        match &self.handle {
            Some(h) => {
                h.spawn(job);
            }
            None => {
                std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        rt.block_on(job);
                    }
                });
            }
        }
    }

    /// The UI's context (for textures made outside a frame).
    pub fn ctx(&self) -> &egui::Context {
        &self.ctx
    }

    /// A callback that asks for a frame (for work that reports over its own channel).
    pub fn waker(&self) -> impl Fn() + Send + Sync + 'static {
        let ctx = self.ctx.clone();
        move || ctx.request_repaint()
    }
}
