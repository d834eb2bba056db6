//! `touchup batch MANIFEST --out DIR`: many edits from a JSON Lines manifest, run through the
//! core job queue with a concurrency limit; each line writes what `touchup edit` writes into
//! `DIR/<name>/`, and `DIR/batch.json` says where every line is.

mod manifest;
mod progress;
mod report;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use touchup::jobs::{JobId, JobState, Queue, QueueEvent};
use uuid::Uuid;

use super::edit::{self, Backend, LOCAL_FALLBACK};
use manifest::Line;
use progress::Progress;
use report::{LineRecord, Report};

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The manifest: JSON Lines, one edit a line (image, mask or mask operations, prompt, any
    /// `touchup edit` option under its long name, optional name).
    #[arg(value_name = "MANIFEST")]
    manifest: PathBuf,
    /// Where each line's folder and batch.json go.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// How many edits run at once (1 to 32).
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=32))]
    concurrency: u32,
    /// Skip the lines DIR/batch.json records as done (and unchanged); run the rest.
    #[arg(long)]
    resume: bool,
    /// Check every line (files exist, sizes match, options valid) and send nothing.
    #[arg(long)]
    dry_run: bool,
}

fn label(number: usize, name: &str) -> String {
    if name == number.to_string() {
        format!("line {number}")
    } else {
        format!("line {number} ({name})")
    }
}

/// The engine a line runs on.
fn backend_of(line: &Line, has_key: bool) -> Backend {
    edit::choose_backend(line.args.backend, has_key)
}

/// Checks and reads one line into a job (nothing is sent).
fn prepare(line: &Line, has_key: bool) -> anyhow::Result<edit::Prepared> {
    let ops = &line.ops;
    let draw = |img: &image::RgbaImage| super::mask::draw(img, ops);
    let maker: Option<edit::MaskMaker> = if ops.is_empty() { None } else { Some(&draw) };
    edit::prepare(
        &line.args,
        backend_of(line, has_key),
        has_key,
        maker,
        line.name.clone(),
    )
}

fn dry_run(lines: &[Line], errors: &[manifest::LineError], has_key: bool) -> anyhow::Result<()> {
    let mut problems: Vec<(usize, String)> = errors
        .iter()
        .map(|e| {
            (
                e.number,
                format!("{}: {}", label(e.number, &e.name), e.message),
            )
        })
        .collect();
    let mut valid = 0;
    for line in lines {
        match prepare(line, has_key) {
            Ok(p) => {
                valid += 1;
                let wanted = p.spec.request.settings.results_wanted();
                eprintln!(
                    "{}: ok ({}, {wanted} picture{})",
                    label(line.number, &line.name),
                    p.spec.engine.label(),
                    if wanted == 1 { "" } else { "s" }
                );
            }
            Err(e) => problems.push((
                line.number,
                format!(
                    "{}: {}",
                    label(line.number, &line.name),
                    super::one_line(&e)
                ),
            )),
        }
    }
    problems.sort_by_key(|(n, _)| *n);
    for (_, p) in &problems {
        eprintln!("{p}");
    }
    let total = valid + problems.len();
    eprintln!("dry run: {valid} of {total} lines are valid; nothing was sent");
    if problems.is_empty() {
        Ok(())
    } else {
        let numbers: Vec<String> = problems.iter().map(|(n, _)| n.to_string()).collect();
        bail!(
            "dry run: {} of {total} lines have problems (line {})",
            problems.len(),
            numbers.join(", ")
        )
    }
}

/// Everything the run loop keeps.
struct Run<'a> {
    out: &'a Path,
    queue: Queue,
    report: Report,
    progress: Progress,
    /// Which line each job is.
    jobs: HashMap<JobId, (usize, String)>,
}

impl Run<'_> {
    fn save(&mut self) {
        if let Err(e) = self.report.save(self.out) {
            self.progress
                .say(&format!("touchup: could not update batch.json: {e}"));
        }
    }

    fn record(&mut self, number: usize) -> &mut LineRecord {
        let lines = &mut self.report.lines;
        let i = match lines.iter().position(|l| l.line == number) {
            Some(i) => i,
            None => {
                lines.push(LineRecord::new(number, &number.to_string(), None));
                lines.len() - 1
            }
        };
        &mut lines[i]
    }

    /// A line that ended before reaching the queue.
    fn end_line(&mut self, number: usize, name: &str, state: &str, error: String) {
        let rec = self.record(number);
        rec.state = state.into();
        rec.error = Some(error.clone());
        self.save();
        let text = format!("{}: {state}: {error}", label(number, name));
        self.progress.state(&text, true, &self.report);
    }

    fn handle(&mut self, event: QueueEvent) {
        match event {
            QueueEvent::State { id, state } => {
                let Some((number, name)) = self.jobs.get(&id).cloned() else {
                    return;
                };
                let Some(status) = self.queue.status(id) else {
                    return;
                };
                let out = self.out;
                self.record(number).update(&status, out);
                // The event's own state (the status may already be further on).
                self.record(number).state = state.label();
                self.save();
                let extra = match &state {
                    JobState::Done => {
                        let n = status.results.len();
                        let cost = status
                            .cost()
                            .map(|c| format!(", ${c:.2}"))
                            .unwrap_or_default();
                        format!(
                            " ({n} picture{}{cost}, {:.1} s)",
                            if n == 1 { "" } else { "s" },
                            status.elapsed().as_secs_f64()
                        )
                    }
                    JobState::Failed(f) => {
                        let dir = self.out.join(&name);
                        format!(": {}", edit::describe_failure(f, Some(&status), &dir))
                    }
                    _ => String::new(),
                };
                let text = format!("{}: {}{extra}", label(number, &name), state.label());
                self.progress
                    .state(&text, state.is_finished(), &self.report);
                if state.is_finished() {
                    // Recorded in batch.json and on disk: the queue lets go of its photo, mask
                    // and pictures (a long batch held every line's until the end).
                    if let Err(e) = self.queue.forget(id) {
                        tracing::debug!("line {number}: {e}");
                    }
                }
            }
            QueueEvent::Result { id, result } => {
                let Some((number, name)) = self.jobs.get(&id).cloned() else {
                    return;
                };
                if let Some(saved) = &result.saved {
                    let path = self.out.join(&name).join(&saved.file);
                    self.progress.data(&path.display().to_string());
                }
                if let Some(status) = self.queue.status(id) {
                    let out = self.out;
                    self.record(number).update(&status, out);
                    self.save();
                }
            }
            QueueEvent::Note { id, text } => {
                if let Some((number, name)) = self.jobs.get(&id).cloned() {
                    self.progress
                        .say(&format!("{}: {text}", label(number, &name)));
                }
            }
            QueueEvent::Progress { .. } => {}
            QueueEvent::Slowdown { pause } => self.progress.say(&format!(
                "Runware is busy (HTTP 429): the whole batch waits {:.1} s before sending again",
                pause.as_secs_f64()
            )),
        }
    }

    /// Jobs queued or running.
    fn unfinished(&self) -> usize {
        self.queue
            .snapshot()
            .iter()
            .filter(|s| !s.state.is_finished())
            .count()
    }
}

pub fn run(args: &BatchArgs) -> anyhow::Result<()> {
    let (lines, errors, _) = manifest::read(&args.manifest, &args.out)?;
    let key = edit::configured_key();
    let has_key = key.is_some();
    if !has_key && lines.iter().any(|l| l.args.backend.is_none()) {
        eprintln!("{LOCAL_FALLBACK}");
    }
    if args.dry_run {
        return dry_run(&lines, &errors, has_key);
    }
    std::fs::create_dir_all(&args.out).with_context(|| {
        format!(
            "could not create the output folder {}; check the path and permissions",
            args.out.display()
        )
    })?;
    let previous = if args.resume {
        Report::previous(&args.out)
    } else {
        None
    };
    let earlier = |line: &Line| {
        previous.as_ref().and_then(|p| {
            p.lines
                .iter()
                .find(|r| r.line == line.number && r.name == line.name)
                .cloned()
        })
    };
    let mut records = Vec::new();
    let mut todo: Vec<(&Line, Option<LineRecord>)> = Vec::new();
    let mut skipped = Vec::new();
    for line in &lines {
        let before = earlier(line);
        match before {
            Some(rec) if rec.is_done() && rec.fingerprint.as_deref() == Some(&line.fingerprint) => {
                skipped.push(label(line.number, &line.name));
                records.push(rec);
            }
            before => {
                records.push(LineRecord::new(
                    line.number,
                    &line.name,
                    Some(line.fingerprint.clone()),
                ));
                todo.push((line, before));
            }
        }
    }
    for e in &errors {
        let mut rec = LineRecord::new(e.number, &e.name, None);
        rec.state = "invalid".into();
        rec.error = Some(e.message.clone());
        records.push(rec);
    }
    records.sort_by_key(|r| r.line);
    let engines = edit::engines(key)?;
    let concurrency = args.concurrency as usize;
    let (queue, events) = edit::queue(&engines, concurrency);
    let mut run = Run {
        out: &args.out,
        queue: queue.clone(),
        report: Report::new(&args.manifest, &args.out, records),
        progress: Progress::new(),
        jobs: HashMap::new(),
    };
    run.save();
    for s in &skipped {
        run.progress
            .say(&format!("{s}: done in the earlier run, skipped (--resume)"));
    }
    for e in &errors {
        run.progress.say(&format!(
            "{}: invalid: {}",
            label(e.number, &e.name),
            e.message
        ));
    }

    // Ctrl-C: stop sending new work and cancel what runs; a second Ctrl-C leaves at once.
    // The handler is in place before any line is sent.
    let stop = Arc::new(AtomicBool::new(false));
    let interrupts = interrupts(&engines.handle);
    {
        let stop = stop.clone();
        let queue = queue.clone();
        engines.handle.spawn(async move {
            let Some(mut interrupts) = interrupts else {
                return;
            };
            if interrupts.next().await {
                stop.store(true, Ordering::SeqCst);
                queue.cancel_all();
                if interrupts.next().await {
                    std::process::exit(130);
                }
            }
        });
    }

    let mut next = 0;
    let mut stopping = false;
    loop {
        // Photos are read as their turn comes, so memory holds only what runs (and one more).
        while !stopping && next < todo.len() && run.unfinished() <= concurrency {
            let (line, before) = &todo[next];
            next += 1;
            feed(&mut run, line, before.as_ref(), has_key);
        }
        if stop.load(Ordering::SeqCst) && !stopping {
            stopping = true;
            run.progress
                .say("stopping (Ctrl-C): no new line starts; running lines are cancelled");
            for (line, _) in &todo[next..] {
                run.end_line(
                    line.number,
                    &line.name,
                    "cancelled",
                    "stopped (Ctrl-C) before it started".into(),
                );
            }
            next = todo.len();
        }
        match events.recv_timeout(Duration::from_millis(100)) {
            Ok(event) => run.handle(event),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if next >= todo.len() && queue.is_idle() {
            while let Ok(event) = events.try_recv() {
                run.handle(event);
            }
            break;
        }
    }
    run.report.finished = true;
    run.report.stopped = stopping;
    run.save();
    run.progress.end();
    let r = &run.report;
    let total = r.lines.len();
    eprintln!(
        "batch: {} done, {} failed, {} cancelled of {total} line{}; cost ${:.2}; {}",
        r.done,
        r.failed,
        r.cancelled,
        if total == 1 { "" } else { "s" },
        r.total_cost,
        args.out.join("batch.json").display()
    );
    if stopping {
        bail!("stopped by Ctrl-C; batch.json says which lines are done (--resume runs the rest)");
    }
    if r.done < total {
        let failed: Vec<String> = r
            .lines
            .iter()
            .filter(|l| !l.is_done())
            .map(|l| l.line.to_string())
            .collect();
        bail!(
            "{} of {total} lines did not succeed (line {}); see {}",
            total - r.done,
            failed.join(", "),
            args.out.join("batch.json").display()
        );
    }
    Ok(())
}

/// Ctrl-C as a stream, registered at once (on Unix: SIGINT).
struct Interrupts {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupts {
    /// `true` for each Ctrl-C.
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            self.signal.recv().await.is_some()
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
    }
}

fn interrupts(handle: &tokio::runtime::Handle) -> Option<Interrupts> {
    let _inside = handle.enter();
    #[cfg(unix)]
    {
        let kind = tokio::signal::unix::SignalKind::interrupt();
        tokio::signal::unix::signal(kind)
            .ok()
            .map(|signal| Interrupts { signal })
    }
    #[cfg(not(unix))]
    {
        Some(Interrupts {})
    }
}

/// Reads a line and queues it (or records why it cannot run).
fn feed(run: &mut Run, line: &Line, before: Option<&LineRecord>, has_key: bool) {
    let prepared = match prepare(line, has_key) {
        Ok(p) => p,
        Err(e) => {
            run.end_line(line.number, &line.name, "failed", super::one_line(&e));
            return;
        }
    };
    let mut spec = prepared.spec;
    for note in &prepared.notes {
        run.progress
            .say(&format!("{}: note: {note}", label(line.number, &line.name)));
    }
    // An earlier run that ended unclearly: send the same taskUUID again, and say so.
    if let Some(rec) = before
        && rec.unclear
        && let Some(uuid) = rec
            .task_uuid
            .as_deref()
            .and_then(|u| Uuid::parse_str(u).ok())
    {
        spec.task_uuid = Some(uuid);
        run.record(line.number).resent_after_unclear = true;
        run.progress.say(&format!(
            "{}: its last run may have reached Runware (no clear answer came back); --resume sends it again with the same taskUUID, which may run and bill it twice",
            label(line.number, &line.name)
        ));
    }
    match run.queue.submit(spec) {
        Ok(id) => {
            run.jobs.insert(id, (line.number, line.name.clone()));
        }
        Err(e) => run.end_line(line.number, &line.name, "cancelled", e.to_string()),
    }
}
