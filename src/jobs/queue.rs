//! The scheduler: jobs wait in submission order and start while fewer than the limit run;
//! each runs on its own worker thread through a [`JobRunner`] and reports through its
//! [`JobContext`]. Every change goes out as a [`QueueEvent`] on one channel, in order.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Engine, JobFailure, JobId, JobResult, JobSpec, JobState, JobStatus, QueueEvent};

/// Runs one job to its end on the calling (worker) thread.
pub trait JobRunner: Send + Sync + 'static {
    /// `Ok` when the job finished; `Err` when it failed (or stopped because it was
    /// cancelled: the queue then marks it cancelled).
    fn run(&self, spec: &JobSpec, ctx: &JobContext) -> Result<(), JobFailure>;
}

/// Queue settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// How many jobs run at once (at least 1).
    pub concurrency: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig { concurrency: 2 }
    }
}

/// What the queue refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("{0} is not in the queue")]
    NotFound(JobId),
    #[error("{id} is {state}; only a failed or cancelled job can be retried")]
    NotRetryable { id: JobId, state: String },
    #[error("the queue is stopped; no new job starts")]
    Closed,
    #[error("{id} is {state}; only a job that has ended can be let go of")]
    NotFinished { id: JobId, state: String },
}

struct Entry {
    status: JobStatus,
    spec: Arc<JobSpec>,
    cancel: CancellationToken,
    flag: Arc<AtomicBool>,
    /// The last run ended in a way after which the task may have run on Runware.
    maybe_ran: bool,
}

struct Inner {
    jobs: Vec<Entry>,
    limit: usize,
    running: usize,
    closed: bool,
    next: u64,
}

struct Shared {
    inner: Mutex<Inner>,
    changed: Condvar,
    events: mpsc::Sender<QueueEvent>,
    notify: Box<dyn Fn() + Send + Sync>,
    runner: Arc<dyn JobRunner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking runner thread must not take the queue down with it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn emit(&self, event: QueueEvent) {
        let _ = self.events.send(event);
    }
}

fn entry_mut(inner: &mut Inner, id: JobId) -> Option<&mut Entry> {
    inner.jobs.iter_mut().find(|e| e.status.id == id)
}

/// What a running job reports through.
pub struct JobContext {
    id: JobId,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    flag: Arc<AtomicBool>,
}

impl JobContext {
    pub fn id(&self) -> JobId {
        self.id
    }

    /// Cancelled by [`Queue::cancel`] (async code selects on it).
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// The same cancel as a flag (the local engine polls it).
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.flag
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Moves the job to a running state (finished states are the queue's to set); no event
    /// when nothing changes.
    pub fn set_state(&self, state: JobState) {
        if state.is_finished() || state == JobState::Queued {
            return;
        }
        let changed = {
            let mut inner = self.shared.lock();
            match entry_mut(&mut inner, self.id) {
                Some(e) if e.status.state != state && !e.status.state.is_finished() => {
                    e.status.state = state.clone();
                    self.shared.emit(QueueEvent::State { id: self.id, state });
                    true
                }
                _ => false,
            }
        };
        if changed {
            (self.shared.notify)();
        }
    }

    /// A picture arrived.
    pub fn result(&self, result: JobResult) {
        let result = Arc::new(result);
        {
            let mut inner = self.shared.lock();
            if let Some(e) = entry_mut(&mut inner, self.id) {
                e.status.results.push(result.clone());
            }
            self.shared.emit(QueueEvent::Result {
                id: self.id,
                result,
            });
        }
        (self.shared.notify)();
    }

    /// The comparison sheet the job wrote.
    pub fn set_sheet(&self, path: std::path::PathBuf) {
        let mut inner = self.shared.lock();
        if let Some(e) = entry_mut(&mut inner, self.id) {
            e.status.sheet = Some(path);
        }
    }

    /// Something the user should read.
    pub fn note(&self, text: impl Into<String>) {
        self.shared.emit(QueueEvent::Note {
            id: self.id,
            text: text.into(),
        });
        (self.shared.notify)();
    }

    /// Fine-grained progress.
    pub fn progress(&self, text: impl Into<String>) {
        self.shared.emit(QueueEvent::Progress {
            id: self.id,
            text: text.into(),
        });
        (self.shared.notify)();
    }
}

/// The job queue. Cheap to clone: every clone drives the same queue (e.g. a Ctrl-C handler).
#[derive(Clone)]
pub struct Queue {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.shared.lock();
        f.debug_struct("Queue")
            .field("jobs", &inner.jobs.len())
            .field("running", &inner.running)
            .field("limit", &inner.limit)
            .finish()
    }
}

impl Queue {
    /// A queue running jobs through `runner`; `notify` is called after every event (the GUI
    /// passes `move || ctx.request_repaint()`). Events arrive on the returned receiver.
    pub fn new(
        config: QueueConfig,
        runner: Arc<dyn JobRunner>,
        notify: impl Fn() + Send + Sync + 'static,
    ) -> (Queue, mpsc::Receiver<QueueEvent>) {
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                jobs: Vec::new(),
                limit: config.concurrency.max(1),
                running: 0,
                closed: false,
                next: 1,
            }),
            changed: Condvar::new(),
            events: tx,
            notify: Box::new(notify),
            runner,
        });
        (Queue { shared }, rx)
    }

    /// Adds a job; it starts when a slot is free. A Runware job without a taskUUID gets one
    /// now (kept by every retry).
    pub fn submit(&self, spec: JobSpec) -> Result<JobId, QueueError> {
        let mut spec = spec;
        if spec.engine == Engine::Runware && spec.task_uuid.is_none() {
            spec.task_uuid = Some(Uuid::new_v4());
        }
        let id = {
            let mut inner = self.shared.lock();
            if inner.closed {
                return Err(QueueError::Closed);
            }
            let id = JobId(inner.next);
            inner.next += 1;
            let status = JobStatus {
                id,
                name: spec.name.clone(),
                engine: spec.engine,
                state: JobState::Queued,
                task_uuid: spec.task_uuid,
                runs: 0,
                resent_after_unclear: false,
                results: Vec::new(),
                sheet: None,
                started: None,
                finished: None,
            };
            inner.jobs.push(Entry {
                status,
                spec: Arc::new(spec),
                cancel: CancellationToken::new(),
                flag: Arc::new(AtomicBool::new(false)),
                maybe_ran: false,
            });
            self.shared.emit(QueueEvent::State {
                id,
                state: JobState::Queued,
            });
            self.pump(&mut inner);
            id
        };
        (self.shared.notify)();
        Ok(id)
    }

    /// Cancels a job: a queued one at once, a running one as soon as its engine notices.
    pub fn cancel(&self, id: JobId) -> Result<(), QueueError> {
        {
            let mut inner = self.shared.lock();
            let entry = entry_mut(&mut inner, id).ok_or(QueueError::NotFound(id))?;
            match entry.status.state {
                JobState::Queued => {
                    entry.status.state = JobState::Cancelled;
                    self.shared.emit(QueueEvent::State {
                        id,
                        state: JobState::Cancelled,
                    });
                    self.shared.changed.notify_all();
                }
                ref s if s.is_running() => {
                    entry.cancel.cancel();
                    entry.flag.store(true, Ordering::Relaxed);
                }
                _ => {}
            }
        }
        (self.shared.notify)();
        Ok(())
    }

    /// Queues a failed or cancelled job again with the very spec it was submitted with (and
    /// the same taskUUID). When its last run may have reached Runware, a note says that this
    /// may run the task twice.
    pub fn retry(&self, id: JobId) -> Result<(), QueueError> {
        {
            let mut inner = self.shared.lock();
            if inner.closed {
                return Err(QueueError::Closed);
            }
            let entry = entry_mut(&mut inner, id).ok_or(QueueError::NotFound(id))?;
            if !matches!(
                entry.status.state,
                JobState::Failed(_) | JobState::Cancelled
            ) {
                return Err(QueueError::NotRetryable {
                    id,
                    state: entry.status.state.label(),
                });
            }
            if entry.maybe_ran {
                entry.status.resent_after_unclear = true;
                self.shared.emit(QueueEvent::Note {
                    id,
                    text: "the last attempt may have run on Runware (no clear answer came back); \
                           sending it again with the same taskUUID may run and bill it twice"
                        .into(),
                });
            }
            entry.status.state = JobState::Queued;
            entry.status.results.clear();
            entry.status.sheet = None;
            entry.status.started = None;
            entry.status.finished = None;
            entry.cancel = CancellationToken::new();
            entry.flag = Arc::new(AtomicBool::new(false));
            self.shared.emit(QueueEvent::State {
                id,
                state: JobState::Queued,
            });
            self.pump(&mut inner);
        }
        (self.shared.notify)();
        Ok(())
    }

    /// Tells every listener that all jobs wait `pause` (the Runware gate closed after a 429;
    /// pass this to [`crate::runware::RateGate::observe`]).
    pub fn slowdown(&self, pause: Duration) {
        self.shared.emit(QueueEvent::Slowdown { pause });
        (self.shared.notify)();
    }

    /// Changes the limit; more jobs start at once if it grew.
    pub fn set_concurrency(&self, n: usize) {
        let mut inner = self.shared.lock();
        inner.limit = n.max(1);
        self.pump(&mut inner);
    }

    pub fn concurrency(&self) -> usize {
        self.shared.lock().limit
    }

    /// Stops starting jobs: every queued job is cancelled; running ones go on.
    pub fn close(&self) {
        {
            let mut inner = self.shared.lock();
            inner.closed = true;
            for e in inner.jobs.iter_mut() {
                if e.status.state == JobState::Queued {
                    e.status.state = JobState::Cancelled;
                    self.shared.emit(QueueEvent::State {
                        id: e.status.id,
                        state: JobState::Cancelled,
                    });
                }
            }
            self.shared.changed.notify_all();
        }
        (self.shared.notify)();
    }

    /// [`Queue::close`], and cancels every running job.
    pub fn cancel_all(&self) {
        self.close();
        let inner = self.shared.lock();
        for e in inner.jobs.iter().filter(|e| e.status.state.is_running()) {
            e.cancel.cancel();
            e.flag.store(true, Ordering::Relaxed);
        }
    }

    /// Every job, in submission order.
    pub fn snapshot(&self) -> Vec<JobStatus> {
        self.shared
            .lock()
            .jobs
            .iter()
            .map(|e| e.status.clone())
            .collect()
    }

    /// Lets go of a job that has ended (done, failed or cancelled): its photo, mask and
    /// results are dropped, and it is no longer listed. A batch forgets each line once it is
    /// recorded, so a long run holds only the jobs still to do. A job still queued or running
    /// is kept (an error says so).
    pub fn forget(&self, id: JobId) -> Result<(), QueueError> {
        let mut inner = self.shared.lock();
        let at = inner
            .jobs
            .iter()
            .position(|e| e.status.id == id)
            .ok_or(QueueError::NotFound(id))?;
        let state = &inner.jobs[at].status.state;
        if !state.is_finished() {
            return Err(QueueError::NotFinished {
                id,
                state: state.label(),
            });
        }
        inner.jobs.remove(at);
        Ok(())
    }

    pub fn status(&self, id: JobId) -> Option<JobStatus> {
        let mut inner = self.shared.lock();
        entry_mut(&mut inner, id).map(|e| e.status.clone())
    }

    /// What the job was submitted with (photo, mask, settings), e.g. to open it in the editor.
    pub fn spec(&self, id: JobId) -> Option<Arc<JobSpec>> {
        let mut inner = self.shared.lock();
        entry_mut(&mut inner, id).map(|e| e.spec.clone())
    }

    /// The `cost` of every picture received by every job (USD).
    pub fn total_cost(&self) -> f64 {
        self.snapshot()
            .iter()
            .filter_map(JobStatus::cost)
            .fold(0.0, |a, c| a + c)
    }

    /// How many jobs run now.
    pub fn running(&self) -> usize {
        self.shared.lock().running
    }

    /// Nothing queued and nothing running.
    pub fn is_idle(&self) -> bool {
        let inner = self.shared.lock();
        idle(&inner)
    }

    /// Blocks until the queue is idle or `timeout` passes; `true` when idle.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut inner = self.shared.lock();
        while !idle(&inner) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            inner = match self.shared.changed.wait_timeout(inner, deadline - now) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }

    /// Starts queued jobs while slots are free.
    fn pump(&self, inner: &mut Inner) {
        while !inner.closed && inner.running < inner.limit {
            let Some(entry) = inner
                .jobs
                .iter_mut()
                .find(|e| e.status.state == JobState::Queued)
            else {
                break;
            };
            let first = match entry.spec.engine {
                Engine::Runware => JobState::Sending,
                Engine::Local => JobState::Waiting,
            };
            entry.status.state = first.clone();
            entry.status.runs += 1;
            entry.status.started = Some(Instant::now());
            entry.status.finished = None;
            let id = entry.status.id;
            let spec = entry.spec.clone();
            let ctx = JobContext {
                id,
                shared: self.shared.clone(),
                cancel: entry.cancel.clone(),
                flag: entry.flag.clone(),
            };
            inner.running += 1;
            self.shared.emit(QueueEvent::State { id, state: first });
            let spawned = std::thread::Builder::new()
                .name(format!("touchup-{id}"))
                .spawn(move || run_job(spec, ctx));
            if let Err(e) = spawned {
                inner.running -= 1;
                let failure = JobFailure::new(format!("could not start a worker thread: {e}"));
                if let Some(entry) = entry_mut(inner, id) {
                    entry.status.state = JobState::Failed(failure.clone());
                    entry.status.finished = Some(Instant::now());
                }
                self.shared.emit(QueueEvent::State {
                    id,
                    state: JobState::Failed(failure),
                });
                break;
            }
        }
    }
}

fn idle(inner: &Inner) -> bool {
    !inner
        .jobs
        .iter()
        .any(|e| e.status.state == JobState::Queued || e.status.state.is_running())
}

/// A worker thread: runs the job, then records how it ended and starts the next.
fn run_job(spec: Arc<JobSpec>, ctx: JobContext) {
    let runner = ctx.shared.runner.clone();
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run(&spec, &ctx)))
            .unwrap_or_else(|_| Err(JobFailure::new("the edit stopped on an internal error")));
    // An edit frees its pictures and the models' working memory as it ends: hand the pages
    // back, so a long batch or session does not keep each edit's high-water mark.
    crate::memory::release_free();
    let shared = ctx.shared.clone();
    {
        let mut inner = shared.lock();
        inner.running = inner.running.saturating_sub(1);
        if let Some(entry) = entry_mut(&mut inner, ctx.id) {
            let state = match outcome {
                Ok(()) => JobState::Done,
                Err(f) if ctx.is_cancelled() => {
                    entry.maybe_ran = f.unclear;
                    JobState::Cancelled
                }
                Err(f) => {
                    entry.maybe_ran = f.unclear;
                    JobState::Failed(f)
                }
            };
            entry.status.state = state.clone();
            entry.status.finished = Some(Instant::now());
            shared.emit(QueueEvent::State { id: ctx.id, state });
        }
        Queue {
            shared: shared.clone(),
        }
        .pump(&mut inner);
        shared.changed.notify_all();
    }
    (shared.notify)();
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::edit::{EditRequest, ResultImage};

    /// Holds every job until opened (or cancelled); names steer the outcome.
    #[derive(Default)]
    struct Fake {
        open: Mutex<bool>,
        opened: Condvar,
        now: AtomicUsize,
        max: AtomicUsize,
        runs: Mutex<Vec<String>>,
    }

    impl Fake {
        fn open(&self) {
            *self.open.lock().unwrap() = true;
            self.opened.notify_all();
        }
    }

    impl JobRunner for Fake {
        fn run(&self, spec: &JobSpec, ctx: &JobContext) -> Result<(), JobFailure> {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(n, Ordering::SeqCst);
            let run = {
                let mut runs = self.runs.lock().unwrap();
                runs.push(spec.name.clone());
                runs.iter().filter(|r| **r == spec.name).count()
            };
            ctx.set_state(JobState::Waiting);
            let mut open = self.open.lock().unwrap();
            while !*open && !ctx.is_cancelled() {
                open = self
                    .opened
                    .wait_timeout(open, Duration::from_millis(5))
                    .unwrap()
                    .0;
            }
            drop(open);
            self.now.fetch_sub(1, Ordering::SeqCst);
            if ctx.is_cancelled() {
                return Err(JobFailure::new("cancelled"));
            }
            if spec.name.starts_with("fail-once") && run == 1 {
                return Err(JobFailure {
                    message: "the service did not answer".into(),
                    unclear: spec.name.ends_with("unclear"),
                    fields: Vec::new(),
                });
            }
            for i in 1..=2u32 {
                ctx.result(JobResult {
                    index: i as usize,
                    image: ResultImage {
                        bytes: vec![i as u8],
                        image_uuid: None,
                        seed: Some(i64::from(i)),
                        cost: Some(0.25),
                    },
                    saved: None,
                    pasted: None,
                    note: None,
                });
                ctx.set_state(JobState::Receiving {
                    received: i,
                    wanted: 2,
                });
            }
            Ok(())
        }
    }

    fn queue(limit: usize) -> (Queue, mpsc::Receiver<QueueEvent>, Arc<Fake>) {
        let fake = Arc::new(Fake::default());
        let runner: Arc<dyn JobRunner> = fake.clone();
        let (q, rx) = Queue::new(QueueConfig { concurrency: limit }, runner, || {});
        (q, rx, fake)
    }

    fn job(name: &str) -> JobSpec {
        JobSpec::new(name, Engine::Local, EditRequest::default())
    }

    /// Waits (without a time budget that matters) until `f` holds.
    fn until(what: &str, f: impl Fn() -> bool) {
        for _ in 0..2000 {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("never: {what}");
    }

    fn states_of(rx: &mpsc::Receiver<QueueEvent>, id: JobId) -> Vec<String> {
        rx.try_iter()
            .filter_map(|e| match e {
                QueueEvent::State { id: i, state } if i == id => Some(state.label()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn no_more_than_the_limit_run_at_once() {
        let (q, _rx, fake) = queue(2);
        let ids: Vec<JobId> = (0..5)
            .map(|i| q.submit(job(&format!("j{i}"))).unwrap())
            .collect();
        until("two run", || fake.now.load(Ordering::SeqCst) == 2);
        assert_eq!(q.running(), 2);
        let queued = q
            .snapshot()
            .iter()
            .filter(|s| s.state == JobState::Queued)
            .count();
        assert_eq!(queued, 3);
        fake.open();
        assert!(q.wait_idle(Duration::from_secs(20)));
        assert_eq!(fake.max.load(Ordering::SeqCst), 2);
        for id in ids {
            assert_eq!(q.status(id).unwrap().state, JobState::Done);
        }
        assert_eq!(q.total_cost(), 5.0 * 0.5);
        // A larger limit lets more start at once.
        q.set_concurrency(4);
        assert_eq!(q.concurrency(), 4);
    }

    #[test]
    fn a_finished_job_can_be_forgotten_and_a_running_one_cannot() {
        let (q, _rx, fake) = queue(1);
        let first = q.submit(job("a")).unwrap();
        let second = q.submit(job("b")).unwrap();
        until("a runs", || fake.now.load(Ordering::SeqCst) == 1);
        assert!(matches!(
            q.forget(first),
            Err(QueueError::NotFinished { .. })
        ));
        assert!(matches!(
            q.forget(second),
            Err(QueueError::NotFinished { .. })
        ));
        fake.open();
        assert!(q.wait_idle(Duration::from_secs(20)));
        q.forget(first).unwrap();
        assert!(q.status(first).is_none(), "its results are let go of");
        assert_eq!(q.snapshot().len(), 1);
        assert_eq!(q.status(second).unwrap().state, JobState::Done);
        assert!(matches!(q.forget(first), Err(QueueError::NotFound(_))));
    }

    #[test]
    fn a_job_goes_through_every_state_in_order() {
        let (q, rx, fake) = queue(1);
        fake.open();
        let id = q.submit(job("one")).unwrap();
        assert!(q.wait_idle(Duration::from_secs(20)));
        assert_eq!(
            states_of(&rx, id),
            vec![
                "queued",
                "waiting",
                "receiving 1 of 2",
                "receiving 2 of 2",
                "done"
            ]
        );
        let status = q.status(id).unwrap();
        assert_eq!(status.results.len(), 2);
        assert_eq!(status.cost(), Some(0.5));
        assert_eq!(status.runs, 1);
        assert!(status.elapsed() >= Duration::ZERO);
        assert_eq!(q.spec(id).unwrap().name, "one");
    }

    #[test]
    fn cancel_stops_a_queued_job_at_once_and_a_running_one_when_it_notices() {
        let (q, rx, fake) = queue(1);
        let running = q.submit(job("a")).unwrap();
        let waiting = q.submit(job("b")).unwrap();
        until("a runs", || fake.now.load(Ordering::SeqCst) == 1);
        q.cancel(waiting).unwrap();
        assert_eq!(q.status(waiting).unwrap().state, JobState::Cancelled);
        q.cancel(running).unwrap();
        assert!(q.wait_idle(Duration::from_secs(20)));
        assert_eq!(q.status(running).unwrap().state, JobState::Cancelled);
        assert_eq!(
            *fake.runs.lock().unwrap(),
            vec!["a".to_string()],
            "b never ran"
        );
        assert_eq!(states_of(&rx, waiting), vec!["queued", "cancelled"]);
        assert_eq!(q.cancel(JobId(99)), Err(QueueError::NotFound(JobId(99))));
    }

    #[test]
    fn a_failed_job_is_retried_with_its_spec_and_only_when_finished() {
        let (q, rx, fake) = queue(2);
        fake.open();
        let id = q.submit(job("fail-once")).unwrap();
        assert!(q.wait_idle(Duration::from_secs(20)));
        let status = q.status(id).unwrap();
        assert_eq!(
            status.failure().unwrap().message,
            "the service did not answer"
        );
        assert!(status.results.is_empty());
        q.retry(id).unwrap();
        assert!(q.wait_idle(Duration::from_secs(20)));
        let status = q.status(id).unwrap();
        assert_eq!(status.state, JobState::Done);
        assert_eq!(status.runs, 2);
        assert!(!status.resent_after_unclear);
        assert!(!rx.try_iter().any(|e| matches!(e, QueueEvent::Note { .. })));
        assert!(matches!(q.retry(id), Err(QueueError::NotRetryable { .. })));
    }

    #[test]
    fn retrying_after_an_unclear_failure_says_it_may_run_twice() {
        let (q, rx, fake) = queue(1);
        fake.open();
        let id = q
            .submit(JobSpec::new(
                "fail-once-unclear",
                Engine::Runware,
                EditRequest::default(),
            ))
            .unwrap();
        assert!(q.wait_idle(Duration::from_secs(20)));
        let uuid = q.status(id).unwrap().task_uuid;
        assert!(
            uuid.is_some(),
            "a Runware job gets its taskUUID at submission"
        );
        assert!(q.status(id).unwrap().failure().unwrap().unclear);
        q.retry(id).unwrap();
        assert!(q.wait_idle(Duration::from_secs(20)));
        let status = q.status(id).unwrap();
        assert_eq!(status.state, JobState::Done);
        assert!(status.resent_after_unclear);
        assert_eq!(status.task_uuid, uuid, "the same task is sent again");
        let notes: Vec<String> = rx
            .try_iter()
            .filter_map(|e| match e {
                QueueEvent::Note { text, .. } => Some(text),
                _ => None,
            })
            .collect();
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("may run and bill it twice"), "{notes:?}");
    }

    #[test]
    fn a_closed_queue_cancels_what_waits_and_takes_nothing_new() {
        let (q, _rx, fake) = queue(1);
        let a = q.submit(job("a")).unwrap();
        let b = q.submit(job("b")).unwrap();
        until("a runs", || fake.now.load(Ordering::SeqCst) == 1);
        q.cancel_all();
        assert!(q.wait_idle(Duration::from_secs(20)));
        assert_eq!(q.status(a).unwrap().state, JobState::Cancelled);
        assert_eq!(q.status(b).unwrap().state, JobState::Cancelled);
        assert_eq!(q.submit(job("c")).unwrap_err(), QueueError::Closed);
        assert_eq!(q.retry(a).unwrap_err(), QueueError::Closed);
    }
}
