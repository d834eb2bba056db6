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
    WandDone(Arc<RgbaImage>, Result<(WandRegion, Combine), String>),
    /// The Text tool's search of this photo's text lines.
    /// The text lines found, each with what the re-lettering measures of it in words.
    TextFound(Arc<RgbaImage>, TextLines),
    /// The Object tool's encoding of this photo.
    ObjectEncoded(Arc<RgbaImage>, Result<crate::segment::Embedding, String>),
    /// A decode of the Object tool on this photo, and what it was for.
    ObjectDecoded(
        Arc<RgbaImage>,
        super::object_tool::Purpose,
        Box<Result<crate::segment::Candidates, String>>,
    ),
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
}

/// How much lower than the UI thread background threads run (a nice value on Linux).
const BACKGROUND_NICENESS: i32 = 10;

/// Lowers the calling thread's scheduling priority. Background work (encoding the seed PNG of a
/// 67-megapixel photo, autosaving its mask) then takes no CPU time from the UI thread and the
/// mask's worker threads in the frames that need them: on a two-core machine they meet, and
/// an undo beside such an encode took twice as long. Linux only: there the nice value belongs
/// to the thread; elsewhere `setpriority` would lower the whole process.
pub(crate) fn yield_to_the_ui() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `gettid` and `setpriority` take and return plain integers and touch no
        // memory of ours; a refusal only leaves the priority as it was.
        let refused = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, BACKGROUND_NICENESS)
        };
        if refused != 0 {
            tracing::debug!(
                "a background thread keeps its priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// The Text tool's search: the lines and their measured style in words, or why it failed.
pub(crate) type TextLines = Result<(Vec<crate::text::TextLine>, Vec<Option<String>>), String>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The nice value of the calling thread, from /proc (Linux).
    #[cfg(target_os = "linux")]
    fn own_niceness() -> Option<i32> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        // After the command name in parentheses: state is field 3, nice field 19.
        let rest = &stat[stat.rfind(')')? + 2..];
        rest.split_whitespace().nth(16)?.parse().ok()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn background_threads_run_below_the_ui_threads_priority() {
        let here = own_niceness().expect("this thread's nice value");
        let there = std::thread::spawn(|| {
            yield_to_the_ui();
            own_niceness()
        })
        .join()
        .expect("the thread ran")
        .expect("that thread's nice value");
        // Only that thread changed (a nice value is per thread on Linux).
        assert_eq!(there, (here + BACKGROUND_NICENESS).min(19));
        assert_eq!(own_niceness(), Some(here));
    }
}
