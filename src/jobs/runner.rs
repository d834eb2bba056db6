//! The one-edit pipeline both engines share: run the edit, report each picture as it comes,
//! and (with an output folder) save what `touchup edit` writes.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::{JobContext, JobFailure, JobResult, JobRunner, JobSpec, JobState};
use crate::edit::{OutputFormat, ResultImage};
use crate::imageio::Format;
use crate::output::{OutputError, OutputFolder};
use crate::runware::{Client, RunwareError, SubmitEvent};

/// How many times a job is sent again when Runware still answers 429 after the client's own
/// retries (each after the batch-wide pause). A 429 is a refusal, so this never runs a task
/// twice.
const BUSY_ROUNDS: u32 = 8;

/// Runs jobs with the Runware client (when there is a key) or the local engine.
pub struct EditRunner {
    runtime: tokio::runtime::Handle,
    client: Option<Arc<Client>>,
}

impl std::fmt::Debug for EditRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EditRunner")
            .field("client", &self.client)
            .finish()
    }
}

impl EditRunner {
    /// `client` is `None` without a key (Runware jobs then fail with what to do).
    /// Runware jobs run on `runtime`, which must be a multi-thread runtime: each job's worker
    /// thread waits on it with `Handle::block_on`. Give the client a shared
    /// [`crate::runware::RateGate`] ([`Client::with_gate`]) so a 429 slows every job.
    pub fn new(runtime: tokio::runtime::Handle, client: Option<Arc<Client>>) -> EditRunner {
        EditRunner { runtime, client }
    }
}

impl JobRunner for EditRunner {
    fn run(&self, spec: &JobSpec, ctx: &JobContext) -> Result<(), JobFailure> {
        match spec.engine {
            super::Engine::Runware => {
                let Some(client) = &self.client else {
                    return Err(JobFailure::new(RunwareError::NoKey.to_string()));
                };
                run_runware(&self.runtime, client, spec, ctx)
            }
            super::Engine::Local => run_local(spec, ctx),
        }
    }
}

fn output_failure(e: OutputError) -> JobFailure {
    JobFailure::new(e.to_string())
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn open_folder(
    spec: &JobSpec,
    task: serde_json::Value,
) -> Result<Option<OutputFolder>, JobFailure> {
    let Some(options) = &spec.output else {
        return Ok(None);
    };
    OutputFolder::create(options, task, spec.inputs.as_ref())
        .map(Some)
        .map_err(output_failure)
}

/// Saves a picture (when there is a folder) and reports it.
fn deliver(
    folder: &mut Option<OutputFolder>,
    ctx: &JobContext,
    index: usize,
    image: ResultImage,
) -> Result<(), OutputError> {
    let saved = match folder.as_mut() {
        Some(f) => {
            let saved = f.add(&image)?;
            if let Some(note) = &saved.note {
                ctx.note(note.clone());
            }
            Some(saved)
        }
        None => None,
    };
    ctx.result(JobResult {
        index,
        image,
        saved,
    });
    Ok(())
}

fn finish_folder(folder: &Option<OutputFolder>, ctx: &JobContext) -> Result<(), JobFailure> {
    if let Some(f) = folder {
        f.write_index().map_err(output_failure)?;
        if let Some(sheet) = f.write_sheet().map_err(output_failure)? {
            ctx.progress(format!("wrote {}", sheet.display()));
            ctx.set_sheet(sheet);
        }
    }
    Ok(())
}

/// The encoding of a local result: PNG unless the edit asks for JPG or WebP.
fn local_format(spec: &JobSpec) -> (Format, u8) {
    let s = &spec.request.settings;
    let format = match s.output_format {
        Some(OutputFormat::Jpg) => Format::Jpg,
        Some(OutputFormat::Webp) => Format::Webp,
        Some(OutputFormat::Png) | None => Format::Png,
    };
    (format, s.output_quality.unwrap_or(95))
}

/// The offline engine: one edit per picture, seeds `seed`, `seed + 1`, ...
fn run_local(spec: &JobSpec, ctx: &JobContext) -> Result<(), JobFailure> {
    let Some(inputs) = &spec.inputs else {
        return Err(JobFailure::new(
            "the local engine needs the photo and its mask on this machine",
        ));
    };
    let wanted = spec.request.settings.results_wanted();
    let first_seed = spec
        .first_seed
        .unwrap_or_else(|| Uuid::new_v4().as_u64_pair().0 % (1 << 31));
    let mut folder = open_folder(spec, spec.request.to_task_json(Uuid::new_v4()))?;
    ctx.progress(format!(
        "editing with the local engine ({wanted} picture{}, first seed {first_seed})",
        plural(wanted)
    ));
    let (format, quality) = local_format(spec);
    for i in 0..wanted {
        if ctx.is_cancelled() {
            return Err(JobFailure::new("cancelled"));
        }
        let seed = first_seed.wrapping_add(u64::from(i));
        let shown_step = Cell::new(-1i32);
        let progress = |p: f32| {
            let step = (p.clamp(0.0, 1.0) * 4.0) as i32;
            if step > shown_step.get() {
                shown_step.set(step);
                ctx.progress(format!("picture {}/{wanted}: {} %", i + 1, step * 25));
            }
        };
        let out = crate::local::edit(
            &inputs.original,
            &inputs.mask,
            &spec.request.prompt,
            &spec.local,
            seed,
            &progress,
            ctx.cancel_flag(),
        )
        .map_err(|e| JobFailure::new(format!("the local edit failed: {e}")))?;
        let bytes = crate::imageio::encode(&out, format, quality).map_err(|e| {
            JobFailure::new(format!(
                "could not encode the local result as {}: {e}",
                format.extension()
            ))
        })?;
        let image = ResultImage {
            bytes,
            image_uuid: None,
            seed: i64::try_from(seed).ok(),
            cost: None,
        };
        deliver(&mut folder, ctx, i as usize + 1, image).map_err(output_failure)?;
        ctx.set_state(JobState::Receiving {
            received: i + 1,
            wanted,
        });
    }
    finish_folder(&folder, ctx)
}

/// What the Runware submission has seen so far.
#[derive(Default)]
struct Seen {
    /// The task was accepted or answered (so sending it again would run it twice).
    accepted: bool,
    /// An inference request went out (if cancelled now, it may still run).
    sent: bool,
    received: u32,
    save_error: Option<OutputError>,
}

fn on_submit_event(
    event: SubmitEvent,
    wanted: u32,
    seen: &mut Seen,
    folder: &mut Option<OutputFolder>,
    ctx: &JobContext,
) {
    match event {
        SubmitEvent::Uploading => {
            ctx.set_state(JobState::Sending);
            ctx.progress("uploading the image...");
        }
        SubmitEvent::Sending { attempt } => {
            seen.sent = true;
            ctx.set_state(JobState::Sending);
            if attempt > 1 {
                ctx.progress(format!("sending again (attempt {attempt})..."));
            }
        }
        SubmitEvent::Retrying { delay, reason, .. } => {
            ctx.set_state(JobState::Waiting);
            let secs = delay.as_secs_f64();
            if RunwareError::reason_is_refusal(&reason) {
                ctx.note(format!("will retry in {secs:.1} s: {reason}"));
            } else {
                ctx.note(format!(
                    "will retry in {secs:.1} s: {reason}; the same task (same taskUUID) is sent \
                     again and may run twice if Runware ran the first attempt"
                ));
            }
        }
        SubmitEvent::Queued => {
            seen.accepted = true;
            ctx.set_state(JobState::Waiting);
            ctx.progress("queued; waiting for the pictures...");
        }
        SubmitEvent::Polling {
            done,
            wanted,
            progress,
        } => match progress {
            Some(p) => ctx.progress(format!("{done}/{wanted} ready ({p:.0} %)")),
            None => ctx.progress(format!("{done}/{wanted} ready")),
        },
        SubmitEvent::Downloading { index } => {
            seen.accepted = true;
            ctx.set_state(JobState::Receiving {
                received: seen.received,
                wanted,
            });
            ctx.progress(format!("downloading picture {index}..."));
        }
        SubmitEvent::Result(result) => {
            seen.accepted = true;
            seen.received += 1;
            if seen.save_error.is_none()
                && let Err(e) = deliver(folder, ctx, result.index, result.to_result_image())
            {
                seen.save_error = Some(e);
            }
            ctx.set_state(JobState::Receiving {
                received: seen.received,
                wanted,
            });
        }
    }
}

fn run_runware(
    runtime: &tokio::runtime::Handle,
    client: &Client,
    spec: &JobSpec,
    ctx: &JobContext,
) -> Result<(), JobFailure> {
    let task_uuid = spec.task_uuid.unwrap_or_else(Uuid::new_v4);
    let mut folder = open_folder(spec, spec.request.to_task_json(task_uuid))?;
    let wanted = spec.request.settings.results_wanted();
    ctx.progress(format!(
        "sending the edit to Runware ({wanted} picture{}, taskUUID {task_uuid})",
        plural(wanted)
    ));
    let mut seen = Seen::default();
    let mut busy_rounds = 0;
    let outcome = loop {
        let outcome = {
            let mut on_event =
                |event: SubmitEvent| on_submit_event(event, wanted, &mut seen, &mut folder, ctx);
            runtime.block_on(client.submit(
                &spec.request,
                task_uuid,
                ctx.cancel_token(),
                &mut on_event,
            ))
        };
        match outcome {
            Err(e) if e.status() == Some(429) && !seen.accepted && busy_rounds < BUSY_ROUNDS => {
                busy_rounds += 1;
                ctx.set_state(JobState::Waiting);
                ctx.note(format!(
                    "Runware is still busy (HTTP 429); sending again after the batch-wide pause ({busy_rounds} of {BUSY_ROUNDS})"
                ));
                // The client also waits on the shared gate before its next attempt.
                let pause = (client.config().retry_base_delay * 2).min(Duration::from_secs(30));
                let cancel = ctx.cancel_token();
                runtime.block_on(async {
                    tokio::select! {
                        _ = cancel.cancelled() => {}
                        _ = tokio::time::sleep(pause) => {}
                    }
                });
            }
            other => break other,
        }
    };
    if let Some(e) = seen.save_error.take() {
        return Err(output_failure(e));
    }
    finish_folder(&folder, ctx)?;
    match outcome {
        Ok(_) => Ok(()),
        Err(RunwareError::Cancelled) => Err(JobFailure {
            message: "cancelled".into(),
            unclear: seen.sent,
            fields: Vec::new(),
        }),
        Err(e) => {
            let mut message = format!("the Runware edit failed: {e}");
            let unclear = e.is_unclear() || (seen.accepted && seen.received < wanted);
            if unclear {
                message.push_str(
                    "; it may have run on Runware all the same: look in your Runware dashboard \
                     before sending it again",
                );
            }
            Err(JobFailure {
                message,
                unclear,
                fields: e.fields(),
            })
        }
    }
}
