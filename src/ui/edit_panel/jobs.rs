//! The edit jobs of a session. Every Submit makes a job that keeps the photo, mask, edit area
//! and settings it was submitted with, whatever the designer does in the editor meanwhile.
//! The jobs run on the core's queue ([`crate::jobs::Queue`]), the same pipeline as `touchup
//! edit` and `touchup batch`: in order, at most `Settings::job_concurrency` at once, each
//! pasted into the photo, colour matched, saved and reported through the queue's events. One
//! job at a time is *shown*: its results stream into the results list and the compare view (the
//! newest submission, or the job last opened); the others keep theirs until they are opened.
//! Each finished job goes into the history; until it ends each job is also kept on disk, to be
//! offered back after a crash.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Color32, RichText};
use image::RgbaImage;

use super::super::actions::Action;
use super::super::history_panel::FinishedEdit;
use super::super::results::{HistoryResult, Results};
use super::super::settings::Backend;
use super::super::status::StatusLine;
use super::form::FormState;
use super::submit::{self, CompareContext};
use crate::edit::{EditArea, EditRequest};
use crate::jobs::{EditRunner, JobId, JobRunner, JobSpec, Queue, QueueConfig, QueueEvent};
use crate::mask::Mask;

/// Where a job is.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Waiting for a free slot.
    Queued,
    /// Started; what it is doing ("Sending the edit to Runware…", "Received 1 of 4", ...).
    Running(String),
    /// Finished with this many results.
    Done(usize),
    Failed(String),
    Cancelled,
}

impl JobState {
    /// Queued or running.
    pub fn is_active(&self) -> bool {
        matches!(self, JobState::Queued | JobState::Running(_))
    }

    fn text(&self) -> String {
        match self {
            JobState::Queued => "Queued".into(),
            JobState::Running(text) => text.clone(),
            JobState::Done(n) => format!("Done: {}", crate::ui::results_count(*n)),
            JobState::Failed(e) => format!("Failed: {e}"),
            JobState::Cancelled => "Cancelled".into(),
        }
    }
}

/// What a job was submitted with (frozen).
pub(crate) struct Snapshot {
    pub image: Arc<RgbaImage>,
    pub mask: Mask,
    /// The photo's name and file, to bring it back into the editor.
    pub name: String,
    pub path: Option<PathBuf>,
    /// The form as it was (what "open" puts back, the history records and is sent, with the
    /// area's crop of the photo and mask).
    pub form_request: EditRequest,
    /// The part of the photo sent and pasted back.
    pub area: EditArea,
    /// Which colour marks the edit in the mask sent.
    pub polarity: crate::mask::Polarity,
    /// Correct the colour drift at the mask's edge.
    pub colour_match: bool,
    pub compare: CompareContext,
    pub local: crate::local::LocalOptions,
    /// The folder under which its results folder is made.
    pub root: PathBuf,
    pub client: Option<Arc<crate::runware::Client>>,
    pub runtime: Option<tokio::runtime::Handle>,
}

/// One edit in the queue.
pub struct Job {
    pub id: u64,
    /// The first words of the prompt.
    pub title: String,
    pub engine: Backend,
    pub state: JobState,
    pub(crate) snapshot: Snapshot,
    thumbnail: Option<egui::TextureHandle>,
    /// Its id in the core's queue, once submitted there.
    queue_id: Option<JobId>,
    started: Option<Instant>,
    /// Frozen when the job ends.
    elapsed: Duration,
    /// Its results so far, by their number (what the history records and "open" shows).
    pub(crate) results: Vec<HistoryResult>,
    wanted: usize,
    /// The `cost` of every result received.
    pub cost: f64,
    pub folder: Option<PathBuf>,
    /// The results batch it feeds while it is the shown job.
    pub(crate) batch: Option<u64>,
    /// Its history entry, once recorded.
    pub edit_id: Option<crate::session::EditId>,
    /// Its copy on disk while it has not ended (offered back after a crash).
    pending: Option<Pending>,
}

/// A job's copy on disk: its key, and a flag set when it ends (the save runs on a thread and
/// may finish after the job; whichever comes second removes the copy).
struct Pending {
    key: String,
    ended: Arc<std::sync::Mutex<bool>>,
}

impl Job {
    /// Time since it started (frozen at its end); zero while queued.
    pub fn elapsed(&self) -> Duration {
        match (self.started, self.state.is_active()) {
            (Some(t), true) => t.elapsed(),
            _ => self.elapsed,
        }
    }

    /// What the core's queue runs: the photo, mask, area and settings it was submitted with.
    fn spec(&self, dir: PathBuf) -> JobSpec {
        let snap = &self.snapshot;
        let mut spec = JobSpec::new(
            self.title.clone(),
            self.engine.engine(),
            snap.form_request.clone(),
        );
        spec.inputs = Some(crate::output::EditInputs {
            original: snap.image.clone(),
            mask: Arc::new(snap.mask.clone()),
        });
        spec.local = snap.local.clone();
        spec.area = Some(snap.area);
        spec.polarity = snap.polarity;
        spec.first_seed = Some(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(1)
                .wrapping_add(self.id * 1000),
        );
        let settings = snap.compare.settings;
        spec.output = Some(crate::output::OutputOptions {
            dir,
            feather: settings.feather_px,
            keep_outside: settings.keep_outside,
            colour_match: snap.colour_match,
            // The editor reads the lettering itself, in the background, once a result shows.
            check_lettering: false,
        });
        spec
    }

    /// What the status bar says about this job when it is not the shown one.
    fn label(&self) -> String {
        format!("Job {} (\u{201c}{}\u{201d})", self.id, self.title)
    }
}

/// The job ended: its copy on disk goes (now, or when its save finishes).
fn forget(job: &mut Job, store: Option<&crate::session::PendingJobs>) {
    let Some(p) = job.pending.take() else { return };
    if let Ok(mut ended) = p.ended.lock() {
        *ended = true;
    }
    if let Some(store) = store {
        store.remove(&p.key);
    }
}

/// The first few words of a prompt, for the jobs list.
fn title_of(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().take(6).collect();
    let mut title: String = words.join(" ").chars().take(40).collect();
    if title.is_empty() {
        title = "(no prompt)".into();
    } else if title.len() < prompt.trim().len() {
        title.push('…');
    }
    title
}

/// A small picture of the photo, sampled (cheap even for an 8000x6000 photo).
fn preview(image: &RgbaImage, side: u32) -> egui::ColorImage {
    let (w, h) = image.dimensions();
    let scale = (side as f32 / w.max(h).max(1) as f32).min(1.0);
    let (tw, th) = (
        ((w as f32 * scale).round() as u32).max(1),
        ((h as f32 * scale).round() as u32).max(1),
    );
    let mut pixels = Vec::with_capacity((tw * th) as usize);
    for y in 0..th {
        let sy = ((y as f32 + 0.5) / th as f32 * h as f32) as u32;
        for x in 0..tw {
            let sx = ((x as f32 + 0.5) / tw as f32 * w as f32) as u32;
            let p = image.get_pixel(sx.min(w.saturating_sub(1)), sy.min(h.saturating_sub(1)));
            pixels.push(Color32::from_rgba_unmultiplied(p[0], p[1], p[2], p[3]));
        }
    }
    egui::ColorImage::new([tw as usize, th as usize], pixels)
}

/// Every job of the session.
#[derive(Default)]
pub struct Jobs {
    list: Vec<Job>,
    next_id: u64,
    /// Where unfinished jobs are kept for after a crash (`None`: not kept).
    store: Option<crate::session::PendingJobs>,
    /// Unfinished jobs of an earlier session, waiting for "queue them again?".
    pub(crate) offered: Option<Vec<Offered>>,
    /// Leave the unfinished jobs on disk at exit (stopped by a signal).
    pub keep_on_exit: bool,
    /// The core's queue the jobs run on (made with the first job).
    engine: Option<JobEngine>,
}

/// The core's queue and its runner.
struct JobEngine {
    queue: Queue,
    events: std::sync::mpsc::Receiver<QueueEvent>,
    runner: Arc<EditRunner>,
}

impl JobEngine {
    fn new(runtime: tokio::runtime::Handle, ctx: &egui::Context) -> JobEngine {
        let runner = Arc::new(EditRunner::new(runtime, None));
        let dyn_runner: Arc<dyn JobRunner> = runner.clone();
        let ctx = ctx.clone();
        let (queue, events) = Queue::new(QueueConfig::default(), dyn_runner, move || {
            ctx.request_repaint()
        });
        JobEngine {
            queue,
            events,
            runner,
        }
    }
}

/// An unfinished job of an earlier session, ready to queue again.
pub struct Offered {
    pub job: crate::session::PendingJob,
    /// The prompt and settings it was submitted with.
    pub request: EditRequest,
}

impl Jobs {
    pub fn list(&self) -> &[Job] {
        &self.list
    }

    pub fn get(&self, id: u64) -> Option<&Job> {
        self.list.iter().find(|j| j.id == id)
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut Job> {
        self.list.iter_mut().find(|j| j.id == id)
    }

    /// Jobs queued or running.
    pub fn active(&self) -> usize {
        self.list.iter().filter(|j| j.state.is_active()).count()
    }

    /// The job whose results are shown (`batch`: the results' current batch).
    pub fn shown(&self, batch: u64) -> Option<&Job> {
        self.list.iter().find(|j| j.batch == Some(batch))
    }

    /// Keeps unfinished jobs under `root` (and offers back those an earlier session left).
    pub(crate) fn keep_under(&mut self, root: &std::path::Path) {
        self.store = Some(crate::session::PendingJobs::new(root));
    }

    /// Unfinished jobs of an earlier session are waiting for an answer.
    pub fn has_offer(&self) -> bool {
        self.offered.is_some()
    }

    /// The store, when an earlier session left jobs in it.
    pub(crate) fn leftovers(&self) -> Option<crate::session::PendingJobs> {
        self.store.clone().filter(|s| s.any())
    }

    /// A clean exit: nothing is left to offer (unless stopped by a signal).
    pub fn end_session(&mut self) {
        if let Some(store) = &self.store
            && !self.keep_on_exit
        {
            store.clear();
        }
    }

    /// The answer to "queue the unfinished jobs again?": the kept copies are dropped when
    /// declined.
    pub(crate) fn decline_offered(&mut self) {
        if let (Some(offered), Some(store)) = (self.offered.take(), &self.store) {
            for o in offered {
                store.remove(&o.job.key);
            }
        }
    }

    /// Copies a job to disk on a thread of its own (until it ends).
    fn keep(&self, job: &Snapshot, engine: Backend, key: Option<String>) -> Option<Pending> {
        let store = self.store.clone()?;
        let ended = Arc::new(std::sync::Mutex::new(false));
        let key = match key {
            Some(k) => k,
            None => {
                let key = uuid::Uuid::new_v4().simple().to_string();
                let record = crate::session::PendingRecord {
                    name: job.name.clone(),
                    path: job.path.clone(),
                    engine: engine.engine(),
                    prompt: job.form_request.prompt.clone(),
                    settings: crate::session::settings_value(&job.form_request.settings)
                        .unwrap_or_default(),
                };
                let (image, mask, flag, k) = (
                    job.image.clone(),
                    job.mask.clone(),
                    ended.clone(),
                    key.clone(),
                );
                std::thread::spawn(move || {
                    if let Err(e) = store.save(&k, &record, &image, &mask) {
                        tracing::warn!(err = %e, "could not keep the job for after a crash");
                    }
                    if flag.lock().map(|ended| *ended).unwrap_or(true) {
                        store.remove(&k);
                    }
                });
                key
            }
        };
        Some(Pending { key, ended })
    }

    /// Adds a job; it starts at the next frame with a free slot. Returns its id.
    pub(crate) fn add(&mut self, ctx: &egui::Context, engine: Backend, snapshot: Snapshot) -> u64 {
        self.add_kept(ctx, engine, snapshot, None)
    }

    /// Adds a job already kept on disk under `key` (`None`: keep it now).
    pub(crate) fn add_kept(
        &mut self,
        ctx: &egui::Context,
        engine: Backend,
        snapshot: Snapshot,
        key: Option<String>,
    ) -> u64 {
        let pending = self.keep(&snapshot, engine, key);
        self.next_id += 1;
        let id = self.next_id;
        let thumbnail = Some(ctx.load_texture(
            format!("job-{id}"),
            preview(&snapshot.image, 96),
            egui::TextureOptions::LINEAR,
        ));
        self.list.push(Job {
            id,
            title: title_of(&snapshot.form_request.prompt),
            engine,
            state: JobState::Queued,
            thumbnail,
            queue_id: None,
            started: None,
            elapsed: Duration::ZERO,
            results: Vec::new(),
            wanted: snapshot.form_request.settings.results_wanted().max(1) as usize,
            cost: 0.0,
            folder: None,
            batch: None,
            edit_id: None,
            pending,
            snapshot,
        });
        self.start(ctx, id);
        id
    }

    /// Hands job `id` to the core's queue (it starts when a slot is free).
    fn start(&mut self, ctx: &egui::Context, id: u64) {
        let Some(i) = self.list.iter().position(|j| j.id == id) else {
            return;
        };
        if self.engine.is_none() {
            match self.list[i].snapshot.runtime.clone() {
                Some(rt) => self.engine = Some(JobEngine::new(rt, ctx)),
                None => {
                    self.list[i].state = JobState::Failed(
                        "the background runtime is not running; restart touchup".into(),
                    );
                    return;
                }
            }
        }
        let Some(engine) = &self.engine else { return };
        let job = &mut self.list[i];
        if let Some(client) = &job.snapshot.client {
            engine.runner.set_client(Some(client.clone()));
        }
        let dir = submit::new_output_folder(&job.snapshot.root, job.id);
        job.folder = Some(dir.clone());
        match engine.queue.submit(job.spec(dir)) {
            Ok(qid) => job.queue_id = Some(qid),
            Err(e) => job.state = JobState::Failed(e.to_string()),
        }
    }

    /// Makes job `id` the shown one, feeding results batch `batch`.
    pub(crate) fn show(&mut self, id: u64, batch: u64) {
        if let Some(job) = self.get_mut(id) {
            job.batch = Some(batch);
        }
    }

    /// Stops a job: a queued one at once, a running one as soon as its engine stops.
    pub fn cancel(&mut self, id: u64) {
        let Some(job) = self.list.iter_mut().find(|j| j.id == id) else {
            return;
        };
        if !job.state.is_active() {
            return;
        }
        if let (Some(engine), Some(qid)) = (&self.engine, job.queue_id) {
            let _ = engine.queue.cancel(qid);
        }
        match job.state {
            // The queue drops a job that has not started at once.
            JobState::Queued => {
                job.state = JobState::Cancelled;
                forget(job, self.store.as_ref());
            }
            JobState::Running(_) => job.state = JobState::Running("Cancelling…".into()),
            _ => {}
        }
    }

    /// Queues a failed or cancelled job again, with what it was submitted with. The shown job
    /// starts a fresh set of results.
    pub(crate) fn retry(&mut self, id: u64, results: &mut Results, status: &mut StatusLine) {
        let Some(i) = self.list.iter().position(|j| j.id == id) else {
            return;
        };
        if !matches!(
            self.list[i].state,
            JobState::Failed(_) | JobState::Cancelled
        ) {
            return;
        }
        let pending = self.keep(&self.list[i].snapshot, self.list[i].engine, None);
        let job = &mut self.list[i];
        job.pending = pending;
        job.state = JobState::Queued;
        job.results.clear();
        job.cost = 0.0;
        job.started = None;
        job.elapsed = Duration::ZERO;
        job.edit_id = None;
        if let (Some(engine), Some(qid)) = (&self.engine, job.queue_id)
            && let Err(e) = engine.queue.retry(qid)
        {
            job.state = JobState::Failed(e.to_string());
        }
        if job.batch == Some(results.batch) {
            let prompt = job.snapshot.form_request.prompt.clone();
            results.start(job.snapshot.compare.clone(), &prompt, status);
            job.batch = Some(results.batch);
        } else {
            job.batch = None;
        }
        status.info(format!("{} is queued again.", job.label()));
    }

    /// Drops the jobs that have ended (their results stay in the history and on disk).
    pub fn clear_finished(&mut self) {
        self.list.retain(|j| j.state.is_active());
    }

    /// The history entry of a recorded job.
    pub(crate) fn recorded(&mut self, id: u64, edit: crate::session::EditId) {
        if let Some(job) = self.get_mut(id) {
            job.edit_id = Some(edit);
        }
    }

    /// Takes in what the queue reported, and returns what the history records of the jobs
    /// that ended. The form shows the shown job.
    pub(crate) fn poll(
        &mut self,
        ctx: &egui::Context,
        concurrency: usize,
        results: &mut Results,
        form: &mut FormState,
        status: &mut StatusLine,
    ) -> Vec<FinishedEdit> {
        let mut finished = Vec::new();
        let events: Vec<QueueEvent> = match &self.engine {
            Some(engine) => {
                if engine.queue.concurrency() != concurrency.max(1) {
                    engine.queue.set_concurrency(concurrency.max(1));
                }
                engine.events.try_iter().collect()
            }
            None => Vec::new(),
        };
        for event in events {
            let id = match &event {
                QueueEvent::State { id, .. }
                | QueueEvent::Result { id, .. }
                | QueueEvent::Note { id, .. }
                | QueueEvent::Progress { id, .. } => *id,
                QueueEvent::Slowdown { pause } => {
                    status.info(format!(
                        "Runware is busy (HTTP 429): every job waits {:.0} s before sending again.",
                        pause.as_secs_f32()
                    ));
                    continue;
                }
            };
            let Some(job) = self.list.iter_mut().find(|j| j.queue_id == Some(id)) else {
                continue;
            };
            if let Some(edit) = take_in(job, event, ctx, results, form, status) {
                forget(job, self.store.as_ref());
                // A finished job's pictures live on in the results, the history and this
                // list; the core queue lets go of its copies (a failed or cancelled one stays
                // there for Retry).
                if matches!(job.state, JobState::Done(_))
                    && let Some(engine) = &self.engine
                    && let Err(e) = engine.queue.forget(id)
                {
                    tracing::debug!("job {}: {e}", job.id);
                }
                finished.push(edit);
            }
        }
        if self.active() > 0 {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
        let running = self
            .list
            .iter()
            .filter(|j| matches!(j.state, JobState::Running(_)))
            .count();
        if let Some(job) = self.shown(results.batch) {
            form.busy = job.state.is_active();
            form.progress = match &job.state {
                JobState::Queued => Some(format!(
                    "Job {} is queued: it starts when one of the {} running finishes…",
                    job.id, running
                )),
                JobState::Running(text) => Some(text.clone()),
                _ => None,
            };
        } else if form.busy {
            form.busy = false;
            form.progress = None;
        }
        finished
    }

    /// The Jobs panel: every job with its state, time and cost, and Cancel / Retry / Open.
    pub(crate) fn ui(
        &self,
        ui: &mut egui::Ui,
        concurrency: &mut usize,
        shown_batch: u64,
        actions: &mut Vec<Action>,
    ) {
        let queued = self
            .list
            .iter()
            .filter(|j| j.state == JobState::Queued)
            .count();
        let running = self.active() - queued;
        ui.horizontal(|ui| {
            ui.label(RichText::new("Jobs").strong());
            ui.label(format!("{running} running, {queued} queued"));
            ui.separator();
            let label = ui.label("Run at once");
            ui.add(egui::DragValue::new(concurrency).range(1..=8))
                .labelled_by(label.id)
                .on_hover_text("How many jobs run at the same time; the rest wait in order.");
            let total: f64 = self.list.iter().map(|j| j.cost).sum();
            if total > 0.0 {
                ui.separator();
                ui.label(format!("Cost ${total:.4}"));
            }
            let ended = self.list.iter().any(|j| !j.state.is_active());
            if ui
                .add_enabled(ended, egui::Button::new("Clear finished"))
                .on_hover_text(
                    "Removes ended jobs from this list (their results stay in the history).",
                )
                .clicked()
            {
                actions.push(Action::ClearFinishedJobs);
            }
        });
        egui::ScrollArea::both()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("jobs-grid")
                    .num_columns(7)
                    .striped(true)
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        for job in self.list.iter().rev() {
                            job_row(ui, job, job.batch == Some(shown_batch), actions);
                            ui.end_row();
                        }
                    });
            });
    }
}

fn job_row(ui: &mut egui::Ui, job: &Job, shown: bool, actions: &mut Vec<Action>) {
    match &job.thumbnail {
        Some(t) => {
            let size = t.size_vec2();
            let scale = 28.0 / size.y.max(1.0);
            ui.image((t.id(), size * scale));
        }
        None => {
            ui.label("");
        }
    }
    // The buttons come first, so they stay in view however narrow the list is.
    ui.horizontal(|ui| {
        let id = job.id;
        // Each button tells screen readers (and tests) which job it acts on.
        let button = |ui: &mut egui::Ui, enabled: bool, text: &str, hover: String| {
            let response = ui
                .add_enabled(enabled, egui::Button::new(text))
                .on_hover_text(hover);
            let name = format!("{text} job {id}");
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, enabled, &name));
            response.clicked()
        };
        if button(
            ui,
            job.state.is_active(),
            "Cancel",
            format!("Stop job {id}"),
        ) {
            actions.push(Action::CancelJob(id));
        }
        let retry = matches!(job.state, JobState::Failed(_) | JobState::Cancelled);
        if button(
            ui,
            retry,
            "Retry",
            format!("Send job {id} again as it was submitted"),
        ) {
            actions.push(Action::RetryJob(id));
        }
        let hover =
            format!("Bring job {id}'s photo, mask, settings and results back into the editor");
        if button(ui, !shown, "Open", hover) {
            actions.push(Action::OpenJob(id));
        }
    });
    // Then what the job is doing, its time and cost: the columns a designer watches stay in
    // view however narrow the list is; the prompt and engine come last.
    let state = job.state.text();
    let visuals = ui.visuals();
    let colour = match &job.state {
        JobState::Failed(_) => Some(visuals.error_fg_color),
        JobState::Done(_) => Some(Color32::from_rgb(80, 170, 90)),
        _ => None,
    };
    ui.horizontal(|ui| {
        // Room for "Local engine: result 2 of 4, 50 %…"; longer text is cut, in full on hover.
        ui.set_min_width(180.0);
        ui.set_max_width(260.0);
        if job.state.is_active() {
            ui.spinner();
        }
        let text = match colour {
            Some(c) => RichText::new(&state).color(c),
            None => RichText::new(&state),
        };
        ui.add(egui::Label::new(text).truncate())
            .on_hover_text(&state);
    });
    ui.label(format!("{:.0} s", job.elapsed().as_secs_f32()));
    ui.label(if job.cost > 0.0 {
        format!("${:.4}", job.cost)
    } else {
        "–".into()
    });
    let title = RichText::new(format!("#{} {}", job.id, job.title));
    // A long prompt is cut (in full on hover).
    ui.horizontal(|ui| {
        ui.set_max_width(220.0);
        ui.add(egui::Label::new(if shown { title.strong() } else { title }).truncate())
            .on_hover_text(&job.snapshot.form_request.prompt);
    });
    ui.label(job.engine.label());
}

/// The words a state shows in the Jobs list and the form.
fn running_text(job: &Job, state: &crate::jobs::JobState) -> String {
    use crate::jobs::JobState as Core;
    match state {
        Core::Queued => "Queued…".into(),
        Core::Sending => "Sending the edit to Runware…".into(),
        Core::Waiting if job.engine == Backend::Local => "Local engine: working…".into(),
        Core::Waiting => "Waiting for the results…".into(),
        Core::Receiving { received, wanted } => format!("Received {received} of {wanted}"),
        Core::Done => "Done".into(),
        Core::Failed(f) => f.message.clone(),
        Core::Cancelled => "Cancelled".into(),
    }
}

/// Takes in one event of the queue about `job`; when the job has ended, what the history
/// records of it.
fn take_in(
    job: &mut Job,
    event: QueueEvent,
    ctx: &egui::Context,
    results: &mut Results,
    form: &mut FormState,
    status: &mut StatusLine,
) -> Option<FinishedEdit> {
    use crate::jobs::JobState as Core;
    let shown = job.batch == Some(results.batch);
    let label = job.label();
    let cancelling = job.state == JobState::Running("Cancelling…".into());
    match event {
        QueueEvent::Progress { text, .. } | QueueEvent::Note { text, .. } => {
            if job.state.is_active() && !cancelling {
                job.state = JobState::Running(sentence(&text));
            }
            None
        }
        QueueEvent::Result { result, .. } => {
            job.cost += result.image.cost.unwrap_or(0.0);
            let Some(pasted) = &result.pasted else {
                let why = result
                    .note
                    .clone()
                    .unwrap_or_else(|| "it could not be read".into());
                status.error(format!("{label}: result {}: {why}", result.index));
                return None;
            };
            let path = result
                .saved
                .as_ref()
                .zip(job.folder.as_ref())
                .map(|(s, dir)| dir.join(&s.file));
            let kept = if shown {
                results.arrived(ctx, status, &result, pasted.clone(), path);
                results
                    .entries
                    .iter()
                    .find(|e| e.index == result.index)
                    .map(HistoryResult::of)
            } else {
                Some(HistoryResult::from_pasted(
                    &job.snapshot.image,
                    &result,
                    pasted,
                    path,
                ))
            };
            if let Some(kept) = kept {
                let at = job.results.partition_point(|r| r.index < kept.index);
                job.results.insert(at, kept);
            }
            if job.state.is_active() && !cancelling {
                job.state =
                    JobState::Running(format!("Received {} of {}", job.results.len(), job.wanted));
            }
            None
        }
        QueueEvent::State { state, .. } => {
            match &state {
                Core::Queued => {
                    job.state = JobState::Queued;
                    return None;
                }
                s if s.is_running() => {
                    if job.started.is_none() {
                        job.started = Some(Instant::now());
                    }
                    if !cancelling {
                        job.state = JobState::Running(running_text(job, s));
                    }
                    return None;
                }
                _ => {}
            }
            job.elapsed = job.started.map(|t| t.elapsed()).unwrap_or_default();
            let folder = job
                .folder
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_default();
            let prefix = if shown {
                String::new()
            } else {
                format!("{label}: ")
            };
            let n = job.results.len();
            job.state = match state {
                Core::Done => {
                    status.info(format!(
                        "{prefix}{} saved to {folder}.",
                        crate::ui::results_count(n)
                    ));
                    JobState::Done(n)
                }
                Core::Cancelled => {
                    status.info(format!(
                        "{prefix}Cancelled; {} kept in {folder}.",
                        crate::ui::results_count(n)
                    ));
                    JobState::Cancelled
                }
                Core::Failed(f) => {
                    let message = sentence(&f.message);
                    if shown {
                        form.show_job_failure(&message, &f.fields);
                    }
                    status.error(format!("{prefix}{message}"));
                    JobState::Failed(message)
                }
                _ => return None,
            };
            Some(FinishedEdit {
                original: job.snapshot.image.clone(),
                mask: job.snapshot.mask.clone(),
                request: job.snapshot.form_request.clone(),
                results: job.results.clone(),
                batch: job.batch.unwrap_or(u64::MAX),
                job: Some(job.id),
                photo_name: Some(job.snapshot.name.clone()),
            })
        }
        QueueEvent::Slowdown { .. } => None,
    }
}

/// A message of the core (lower case, as the CLI prints it) as a sentence for the editor.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Reads the jobs an earlier session left unfinished, with their prompt and settings (off the
/// UI thread: the photos are decoded). They are sent around their masks again when queued.
pub(crate) fn load_offered(store: &crate::session::PendingJobs) -> (Vec<Offered>, Vec<String>) {
    let (jobs, mut problems) = store.load_all();
    let mut offered = Vec::new();
    for job in jobs {
        let mut request = EditRequest {
            prompt: job.record.prompt.clone(),
            ..EditRequest::default()
        };
        match serde_json::from_value(job.record.settings.clone()) {
            Ok(settings) => request.settings = settings,
            Err(e) => {
                problems.push(format!("job {}: its settings: {e}", job.key));
                store.remove(&job.key);
                continue;
            }
        }
        offered.push(Offered { job, request });
    }
    (offered, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_the_first_words() {
        assert_eq!(title_of("Change the sign"), "Change the sign");
        assert_eq!(
            title_of("Change the sign to read SALE in red letters please"),
            "Change the sign to read SALE…"
        );
        assert_eq!(title_of("   "), "(no prompt)");
    }

    #[test]
    fn the_preview_samples_the_photo() {
        let mut image = RgbaImage::from_pixel(800, 400, image::Rgba([10, 20, 30, 255]));
        for y in 0..400 {
            for x in 400..800 {
                image.put_pixel(x, y, image::Rgba([200, 100, 50, 255]));
            }
        }
        let p = preview(&image, 96);
        assert_eq!(p.size, [96, 48]);
        assert_eq!(p.pixels[0], Color32::from_rgb(10, 20, 30));
        assert_eq!(p.pixels[95], Color32::from_rgb(200, 100, 50));
        let tiny = preview(&RgbaImage::new(3, 2), 96);
        assert_eq!(tiny.size, [3, 2]);
    }

    #[test]
    fn job_folders_differ_by_job() {
        let root = std::path::Path::new("/tmp/r");
        let (a, b) = (
            submit::new_output_folder(root, 1),
            submit::new_output_folder(root, 2),
        );
        assert_ne!(a, b);
        assert!(
            a.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("edit-")
        );
    }
}
