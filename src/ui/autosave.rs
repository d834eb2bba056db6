//! Autosave of the current work (photo, mask, prompt, settings) on a thread of its own, and the
//! offer to bring it back after a crash or a kill.
//!
//! The UI thread only clones what changed (the photo is shared, the mask is copied) and hands it
//! to the worker, which encodes and writes it atomically through [`crate::session::Autosave`].
//! Nothing is written until the worker has read what the previous session left, and nothing
//! while that work is being offered back: a second crash before the user answers loses nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use image::RgbaImage;

use crate::mask::Mask;
use crate::session::{Autosave, RecoveredWork, WorkSnapshot};

/// How often the work is checked for changes (and saved when it changed).
pub(crate) const AUTOSAVE_EVERY: Duration = Duration::from_secs(2);

/// How long a clean exit waits for the last write to finish.
const FINISH_WAIT: Duration = Duration::from_secs(5);

/// What identifies a state of the work: when it differs from the last one saved, save again.
/// (The mask generation also changes when another photo is opened.)
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WorkKey {
    pub mask_generation: u64,
    pub prompt: String,
    pub settings: serde_json::Value,
}

/// The work as handed to the worker.
pub(crate) struct OwnedWork {
    pub image: Arc<RgbaImage>,
    pub mask: Mask,
    pub prompt: String,
    pub settings: serde_json::Value,
}

/// The worker's reports to the UI.
#[derive(Debug)]
pub(crate) enum Report {
    /// The worker is ready; what the previous session left, if it did not exit cleanly.
    Started {
        recovered: Option<Box<RecoveredWork>>,
        problem: Option<String>,
    },
    /// A save finished (or failed).
    Saved(Result<(), String>),
}

enum Job {
    Save(OwnedWork),
    Discard,
    Flush(Sender<()>),
    Finish(Sender<()>),
    /// Stopped by a signal: keep the work, mark it as saved on the way out.
    Stop(Sender<()>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The worker is reading what the previous session left.
    Starting,
    /// Work from a crashed session is on offer; saving waits for the answer.
    Offering,
    Running,
    /// Autosave could not start (the folder is not writable); nothing is saved.
    Off,
}

/// The UI side of autosave.
pub(crate) struct Autosaver {
    jobs: Sender<Job>,
    pub phase: Phase,
    last_saved: Option<WorkKey>,
    last_check: Option<Instant>,
    /// The last save failed (reported once, not every few seconds).
    pub failing: bool,
    /// A mask buffer the worker is done with, for the next copy (see [`Autosaver::copy_mask`]).
    spare: Spare,
}

/// The pixel buffer of the mask last saved, handed back by the worker.
type Spare = Arc<std::sync::Mutex<Option<Vec<u8>>>>;

impl Autosaver {
    /// A copy of `mask` for the worker, made into the buffer of the previous save when it has
    /// the size: a fresh 67-megapixel buffer costs 25-40 ms of page faults on the UI thread,
    /// a copy into a used one a fraction of that.
    pub fn copy_mask(&self, mask: &Mask) -> Mask {
        let spare = self.spare.lock().ok().and_then(|mut s| s.take());
        match spare {
            Some(mut buffer) if buffer.len() == mask.as_raw().len() => {
                buffer.copy_from_slice(mask.as_raw());
                Mask::from_raw(mask.width(), mask.height(), buffer).unwrap_or_else(|| mask.clone())
            }
            _ => mask.clone(),
        }
    }

    /// Starts the worker under `root/autosave`; `report` is called from the worker thread.
    pub fn start(root: &Path, report: impl Fn(Report) + Send + 'static) -> Self {
        let (jobs, rx) = channel();
        let root = root.to_path_buf();
        let spare = Spare::default();
        let returned = spare.clone();
        if let Err(e) = std::thread::Builder::new()
            .name("touchup-autosave".into())
            .spawn(move || worker(root, rx, report, returned))
        {
            tracing::warn!("could not start the autosave thread: {e}");
        }
        Self {
            jobs,
            phase: Phase::Starting,
            last_saved: None,
            last_check: None,
            failing: false,
            spare,
        }
    }

    /// The work as it stands when autosave starts needs no saving (it is the photo the app
    /// opened with, untouched).
    pub fn set_baseline(&mut self, key: WorkKey) {
        self.last_saved = Some(key);
    }

    /// Is a check due? (Else: how long until it is.)
    pub fn due(&self, now: Instant) -> Result<(), Duration> {
        if self.phase != Phase::Running {
            return Err(AUTOSAVE_EVERY);
        }
        match self.last_check {
            Some(t) if now.duration_since(t) < AUTOSAVE_EVERY => {
                Err(AUTOSAVE_EVERY - now.duration_since(t))
            }
            _ => Ok(()),
        }
    }

    /// Does `key` differ from the work last saved?
    pub fn needs_save(&self, key: &WorkKey) -> bool {
        self.phase == Phase::Running && self.last_saved.as_ref() != Some(key)
    }

    /// Records a check at `now`, and hands `work` (the state `key` names) to the worker.
    pub fn check(&mut self, now: Instant, key: WorkKey, work: Option<OwnedWork>) {
        self.last_check = Some(now);
        if !self.needs_save(&key) {
            return;
        }
        if let Some(work) = work
            && self.jobs.send(Job::Save(work)).is_ok()
        {
            self.last_saved = Some(key);
        }
    }

    /// Forgets the autosaved work (the user declined to restore it).
    pub fn discard(&mut self) {
        let _ = self.jobs.send(Job::Discard);
    }

    /// Waits (a few seconds at most) until every save handed over so far is on disk.
    pub fn flush(&self) -> bool {
        let (tx, rx) = channel();
        self.jobs.send(Job::Flush(tx)).is_ok() && rx.recv_timeout(FINISH_WAIT).is_ok()
    }

    /// A clean exit: the autosaved work is removed, so the next start offers nothing.
    pub fn finish(&mut self) {
        let (tx, rx) = channel();
        if self.jobs.send(Job::Finish(tx)).is_ok() && rx.recv_timeout(FINISH_WAIT).is_err() {
            tracing::warn!("autosave did not finish in time; the next start may offer old work");
        }
        self.phase = Phase::Off;
    }

    /// Stopped by a signal: everything handed over so far is written, the work stays on disk
    /// and the next start offers it as saved on the way out (not as after a crash).
    pub fn stop(mut self) -> bool {
        let (tx, rx) = channel();
        let done = self.jobs.send(Job::Stop(tx)).is_ok() && rx.recv_timeout(FINISH_WAIT).is_ok();
        if !done {
            tracing::warn!("autosave did not stop in time; the next start may offer it as a crash");
        }
        self.phase = Phase::Off;
        done
    }
}

fn worker(root: PathBuf, jobs: Receiver<Job>, report: impl Fn(Report), spare: Spare) {
    super::work::yield_to_the_ui();
    let mut autosave = match Autosave::start(&root) {
        Ok(start) => {
            report(Report::Started {
                recovered: start.recovered.map(Box::new),
                problem: start.problem.map(|e| e.to_string()),
            });
            Some(start.autosave)
        }
        Err(e) => {
            report(Report::Started {
                recovered: None,
                problem: Some(format!("autosave is off: {e}")),
            });
            None
        }
    };
    // The photo last saved and its fingerprint: the same photo (the same shared buffer, kept
    // alive here so no other photo can take its address) is not hashed again, which read
    // every byte of it at each save (256 MB for an 8192x8192 photo).
    let mut known_photo: Option<(Arc<RgbaImage>, u64)> = None;
    // When the App goes away without a clean exit the channel closes and the loop ends, leaving
    // the work and the marker for the next start, just as a crash would.
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        batch.extend(jobs.try_iter());
        // Only the newest of consecutive saves matters.
        let mut i = 0;
        while i + 1 < batch.len() {
            if matches!(batch[i], Job::Save(_)) && matches!(batch[i + 1], Job::Save(_)) {
                batch.remove(i);
            } else {
                i += 1;
            }
        }
        for job in batch {
            match job {
                Job::Save(work) => {
                    let Some(a) = autosave.as_mut() else { continue };
                    let fingerprint = match &known_photo {
                        Some((photo, f)) if Arc::ptr_eq(photo, &work.image) => *f,
                        _ => {
                            let f = crate::session::image_fingerprint(&work.image);
                            known_photo = Some((work.image.clone(), f));
                            f
                        }
                    };
                    let snapshot = WorkSnapshot {
                        image: &work.image,
                        mask: &work.mask,
                        prompt: &work.prompt,
                        settings: &work.settings,
                    };
                    let result = a.save_with_fingerprint(&snapshot, fingerprint);
                    if let Err(e) = &result {
                        tracing::warn!("autosave failed: {e}");
                    }
                    report(Report::Saved(result.map_err(|e| e.to_string())));
                    if let Ok(mut slot) = spare.lock() {
                        *slot = Some(work.mask.into_raw());
                    }
                }
                Job::Discard => {
                    if let Some(a) = autosave.as_mut() {
                        a.discard();
                    }
                }
                Job::Flush(ack) => {
                    let _ = ack.send(());
                }
                Job::Finish(ack) => {
                    if let Some(a) = autosave.take()
                        && let Err(e) = a.finish()
                    {
                        tracing::warn!("could not end autosave cleanly: {e}");
                    }
                    let _ = ack.send(());
                    return;
                }
                Job::Stop(ack) => {
                    if let Some(a) = autosave.take()
                        && let Err(e) = a.mark_stopped()
                    {
                        tracing::warn!("could not mark the autosave as stopped: {e}");
                    }
                    let _ = ack.send(());
                    return;
                }
            }
        }
    }
}

/// "just now", "5 min ago", "3 h ago", "2 days ago" for a time in Unix milliseconds.
pub(crate) fn ago(unix_ms: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let secs = now.saturating_sub(unix_ms) / 1000;
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        86_400..172_800 => "yesterday".into(),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// The app's autosave part: the saver, and the work a crashed session left while it is on
/// offer.
#[derive(Default)]
pub(crate) struct AutosaveState {
    saver: Option<Autosaver>,
    recovery: Option<Box<RecoveredWork>>,
    recovery_marked: usize,
    /// The last frame with input (pointer, keys) and when a due save was first put off for it.
    last_input: Option<Instant>,
    put_off_since: Option<Instant>,
}

/// A due save waits until the designer has paused this long: copying and encoding a large
/// mask takes CPU time and memory bandwidth that a release or an undo right after a stroke
/// needs (an undo on an 8192x8192 mask took twice as long beside the encoding).
const PAUSE_BEFORE_SAVE: Duration = Duration::from_millis(750);
/// ... but a save is never put off longer than this (a pointer that never rests).
const LONGEST_PUT_OFF: Duration = Duration::from_secs(10);

/// What the autosaved work is made of, beside photo, mask and prompt: the photo's name and
/// path, and the edit settings (never the key, never reference images).
fn work_settings(
    doc: &super::document::Document,
    settings: &crate::edit::EditSettings,
) -> Option<serde_json::Value> {
    Some(serde_json::json!({
        "document": { "name": doc.name, "path": doc.path },
        "edit": crate::session::settings_value(settings).ok()?,
    }))
}

/// The current work as the autosave sees it.
pub(crate) struct Work<'a> {
    pub document: &'a super::document::DocumentState,
    pub prompt: &'a str,
    pub settings: &'a crate::edit::EditSettings,
}

impl<'a> Work<'a> {
    /// The open photo and mask with the form's prompt and settings.
    pub fn of(
        document: &'a super::document::DocumentState,
        edit: &'a super::edit_panel::EditPanel,
    ) -> Self {
        Work {
            document,
            prompt: &edit.form.request.prompt,
            settings: &edit.form.request.settings,
        }
    }

    fn key(&self) -> Option<WorkKey> {
        let doc = self.document.current()?;
        Some(WorkKey {
            mask_generation: self.document.generation,
            prompt: self.prompt.to_string(),
            settings: work_settings(doc, self.settings)?,
        })
    }
}

impl AutosaveState {
    /// Starts autosave under `root`; the work as it stands needs no saving.
    pub fn start(root: &Path, worker: &super::work::Worker, work: Work<'_>) -> Self {
        let worker = worker.clone();
        let mut saver = Autosaver::start(root, move |report| {
            worker.send(super::work::Msg::Autosave(report));
        });
        if let Some(key) = work.key() {
            saver.set_baseline(key);
        }
        Self {
            saver: Some(saver),
            ..Self::default()
        }
    }

    /// Hands the work to the autosave thread when it changed since the last save (checked
    /// every couple of seconds, or now when `force`).
    pub fn tick(&mut self, ctx: &egui::Context, force: bool, work: Work<'_>) {
        let now = Instant::now();
        let Some(saver) = &mut self.saver else { return };
        if saver.phase != Phase::Running {
            return;
        }
        if ctx.input(|i| !i.events.is_empty() || i.pointer.any_down()) {
            self.last_input = Some(now);
        }
        if !force && let Err(wait) = saver.due(now) {
            ctx.request_repaint_after(wait);
            return;
        }
        if !force
            && let Some(input) = self.last_input
            && now.duration_since(input) < PAUSE_BEFORE_SAVE
            && self
                .put_off_since
                .get_or_insert(now)
                .elapsed()
                .lt(&LONGEST_PUT_OFF)
        {
            ctx.request_repaint_after(PAUSE_BEFORE_SAVE - now.duration_since(input));
            return;
        }
        self.put_off_since = None;
        let Some(key) = work.key() else { return };
        // Not in the middle of a stroke: the copy waits for its end (the stroke's frames stay
        // short, and the save gets the whole stroke).
        if !force
            && work
                .document
                .current()
                .is_some_and(|d| d.editor.is_stroking())
        {
            return;
        }
        let owned = match work.document.current() {
            Some(doc) if saver.needs_save(&key) => Some(OwnedWork {
                image: doc.image.clone(),
                mask: saver.copy_mask(doc.editor.mask()),
                prompt: key.prompt.clone(),
                settings: key.settings.clone(),
            }),
            _ => None,
        };
        saver.check(now, key, owned);
        ctx.request_repaint_after(AUTOSAVE_EVERY);
    }

    fn running(&self) -> bool {
        self.saver
            .as_ref()
            .is_some_and(|s| s.phase == Phase::Running)
    }

    /// Autosaves now, if the work changed, and waits until it is on disk. `false` when
    /// autosave is not running (starting, offering recovered work, or off).
    pub fn save_now(&mut self, ctx: &egui::Context, work: Work<'_>) -> bool {
        if !self.running() {
            return false;
        }
        self.tick(ctx, true, work);
        self.saver.as_ref().is_some_and(|s| s.flush())
    }

    /// Has autosave read what the previous session left (and is it running or offering)?
    pub fn ready(&self) -> bool {
        self.saver
            .as_ref()
            .is_some_and(|s| matches!(s.phase, Phase::Running | Phase::Offering))
    }

    pub fn is_offering(&self) -> bool {
        self.recovery.is_some()
    }

    /// A clean exit: the autosaved work is removed (the next start offers nothing).
    pub fn finish(&mut self) {
        if let Some(saver) = &mut self.saver {
            saver.finish();
        }
    }

    /// Stopped by a signal: saves the work now and keeps it for the next start, which offers
    /// it back as saved on the way out. While older work is still on offer (or autosave has
    /// not read it yet) that work is left as it is, to be offered again. Autosave ends here;
    /// a later [`Self::finish`] does nothing. `true` when the work is on disk and marked.
    pub fn stop(&mut self, ctx: &egui::Context, work: Work<'_>) -> bool {
        if !self.running() {
            // Dropping the saver closes its channel: the worker leaves things as they are.
            self.saver = None;
            return false;
        }
        self.tick(ctx, true, work);
        self.saver.take().is_some_and(Autosaver::stop)
    }

    /// The worker's report; an error worth showing comes back.
    pub fn report(&mut self, report: Report) -> Option<String> {
        let saver = self.saver.as_mut()?;
        match report {
            Report::Started {
                mut recovered,
                problem,
            } => {
                // Work that holds nothing (no mark, no prompt) is not worth a question.
                if recovered.as_ref().is_some_and(|w| {
                    w.prompt.trim().is_empty() && w.mask.count_at_least(crate::mask::THRESHOLD) == 0
                }) {
                    recovered = None;
                    saver.discard();
                }
                saver.phase = if recovered.is_some() {
                    Phase::Offering
                } else {
                    Phase::Running
                };
                self.recovery_marked = recovered
                    .as_ref()
                    .map_or(0, |w| w.mask.count_at_least(crate::mask::THRESHOLD));
                self.recovery = recovered;
                problem.map(|problem| {
                    format!(
                        "The work autosaved when touchup last stopped could not be read \
                         ({problem}); it will be replaced by the next autosave."
                    )
                })
            }
            Report::Saved(Ok(())) => {
                saver.failing = false;
                None
            }
            Report::Saved(Err(e)) => {
                let first = !saver.failing;
                saver.failing = true;
                first.then(|| {
                    format!("Autosave failed: {e}. Save the mask (Ctrl+S) to keep your work.")
                })
            }
        }
    }

    /// The recovery question's text, while work is on offer.
    pub fn offer(&self) -> Option<super::dialogs::RecoveryOffer> {
        let work = self.recovery.as_ref()?;
        Some(super::dialogs::RecoveryOffer {
            name: work.settings["document"]["name"]
                .as_str()
                .unwrap_or("a photo")
                .to_string(),
            size: work.image.dimensions(),
            marked: self.recovery_marked,
            prompt: work.prompt.chars().take(80).collect(),
            saved_ago: ago(work.saved_unix_ms),
            stopped_by_signal: work.stopped_by_signal,
        })
    }

    /// Takes the recovered work to restore it; saving resumes.
    pub fn take_recovered(&mut self) -> Option<RecoveredWork> {
        let work = self.recovery.take()?;
        if let Some(saver) = &mut self.saver {
            saver.phase = Phase::Running;
        }
        Some(*work)
    }

    /// Declines the recovered work; it is removed from disk. `false` when none was on offer.
    pub fn discard_recovered(&mut self) -> bool {
        if self.recovery.take().is_none() {
            return false;
        }
        if let Some(saver) = &mut self.saver {
            saver.discard();
            saver.phase = Phase::Running;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_copy_reuses_the_returned_buffer_and_matches_the_mask() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let saver = Autosaver::start(dir.path(), |_| {});
        let mut mask = Mask::new(37, 23);
        mask.fill_rect(3, 4, 20, 9, 255);
        mask.set(36, 22, 90);
        // No buffer back yet: a plain copy.
        assert_eq!(saver.copy_mask(&mask).as_raw(), mask.as_raw());
        // A used buffer of the right size comes back with other pixels in it.
        let used = vec![7u8; mask.as_raw().len()];
        let address = used.as_ptr();
        *saver.spare.lock().expect("the slot") = Some(used);
        let copy = saver.copy_mask(&mask);
        assert_eq!(copy.as_raw(), mask.as_raw());
        assert_eq!(copy.as_raw().as_ptr(), address, "the buffer was reused");
        // One of another size is not used.
        *saver.spare.lock().expect("the slot") = Some(vec![1u8; 5]);
        assert_eq!(saver.copy_mask(&mask).as_raw(), mask.as_raw());
    }
}
