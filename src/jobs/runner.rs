//! The one-edit pipeline both engines share: the edit area, the engine, each picture pasted
//! into the photo as it comes (fitted, colour matched, composited), saved (with an output
//! folder) and reported.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::{JobContext, JobFailure, JobResult, JobRunner, JobSpec, JobState};
use crate::compare::{AreaBase, PasteOptions, paste_result};
use crate::edit::{EditArea, EditRequest, OutputFormat, ResultImage};
use crate::imageio::Format;
use crate::output::{OutputError, OutputFolder, OutputOptions};
use crate::runware::{Client, RunwareError, SubmitEvent};

/// How many times a job is sent again when Runware still answers 429 after the client's own
/// retries (each after the batch-wide pause). A 429 is a refusal, so this never runs a task
/// twice.
const BUSY_ROUNDS: u32 = 8;

/// Runs jobs with the Runware client (when there is a key) or the local engine.
pub struct EditRunner {
    runtime: tokio::runtime::Handle,
    /// Replaced when the key changes (the editor); each job takes the one set when it starts.
    client: std::sync::Mutex<Option<Arc<Client>>>,
}

impl std::fmt::Debug for EditRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EditRunner")
            .field("client", &self.client())
            .finish()
    }
}

impl EditRunner {
    /// `client` is `None` without a key (Runware jobs then fail with what to do).
    /// Runware jobs run on `runtime`, which must be a multi-thread runtime: each job's worker
    /// thread waits on it with `Handle::block_on`. Give the client a shared
    /// [`crate::runware::RateGate`] ([`Client::with_gate`]) so a 429 slows every job.
    pub fn new(runtime: tokio::runtime::Handle, client: Option<Arc<Client>>) -> EditRunner {
        EditRunner {
            runtime,
            client: std::sync::Mutex::new(client),
        }
    }

    /// The client the next Runware jobs use (the editor's key changed).
    pub fn set_client(&self, client: Option<Arc<Client>>) {
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = client;
    }

    fn client(&self) -> Option<Arc<Client>> {
        self.client
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl JobRunner for EditRunner {
    fn run(&self, spec: &JobSpec, ctx: &JobContext) -> Result<(), JobFailure> {
        match spec.engine {
            super::Engine::Runware => {
                let Some(client) = self.client() else {
                    return Err(JobFailure::new(RunwareError::NoKey.to_string()));
                };
                run_runware(&self.runtime, &client, spec, ctx)
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

/// Where a job's pictures go: pasted into the photo's area (with the photo and mask on this
/// machine), saved (with an output folder), then reported.
struct Delivery {
    folder: Option<OutputFolder>,
    base: Option<AreaBase>,
    paste: PasteOptions,
}

/// The area a job edits: the spec's, else the whole photo (`None` without the photo).
fn job_area(spec: &JobSpec) -> Option<EditArea> {
    let inputs = spec.inputs.as_ref()?;
    let (w, h) = inputs.original.dimensions();
    Some(spec.area.unwrap_or_else(|| EditArea::whole(w, h)))
}

impl Delivery {
    fn new(
        spec: &JobSpec,
        task: serde_json::Value,
        area: Option<EditArea>,
    ) -> Result<Delivery, JobFailure> {
        let paste = spec
            .output
            .as_ref()
            .map(OutputOptions::paste)
            .unwrap_or_default();
        let base = match (&spec.inputs, area) {
            (Some(inputs), Some(area)) => Some(
                AreaBase::new(&inputs.original, &inputs.mask, area, paste.feather)
                    .map_err(|e| JobFailure::new(format!("the edit area does not fit: {e}")))?,
            ),
            _ => None,
        };
        let folder = match &spec.output {
            Some(options) => Some(
                OutputFolder::create(
                    options,
                    task,
                    spec.engine.label(),
                    spec.inputs.as_ref(),
                    area,
                )
                .map_err(output_failure)?,
            ),
            None => None,
        };
        Ok(Delivery {
            folder,
            base,
            paste,
        })
    }

    /// Pastes, saves and reports picture number `index`.
    fn deliver(
        &mut self,
        ctx: &JobContext,
        index: usize,
        image: ResultImage,
    ) -> Result<(), OutputError> {
        let mut note = None;
        let started = std::time::Instant::now();
        if self.base.is_some() {
            ctx.progress(format!("pasting picture {index} into the photo..."));
        }
        let pasted = match &self.base {
            Some(base) => match crate::imageio::decode(&image.bytes) {
                Ok(raw) => match paste_result(base, &raw, &self.paste) {
                    Ok(p) => Some(Arc::new(p)),
                    Err(e) => {
                        note = Some(format!(
                            "result {index} could not be pasted ({e}); saved as returned"
                        ));
                        None
                    }
                },
                Err(e) => {
                    note = Some(format!(
                        "result {index} could not be decoded ({e}); saved as returned"
                    ));
                    None
                }
            },
            None => None,
        };
        let pasted_in = started.elapsed();
        let saved = match self.folder.as_mut() {
            Some(f) => {
                ctx.progress(format!("saving picture {index}..."));
                Some(f.add(index, &image, pasted.as_deref(), note.clone())?)
            }
            None => None,
        };
        // Where the time between "downloading" and the result on screen goes (issue 29).
        tracing::debug!(
            index,
            paste_ms = pasted_in.as_millis() as u64,
            save_ms = (started.elapsed() - pasted_in).as_millis() as u64,
            "picture delivered"
        );
        let shown_note = saved.as_ref().and_then(|s| s.note.clone()).or(note);
        if let Some(n) = &shown_note {
            ctx.note(n.clone());
        }
        ctx.result(JobResult {
            index,
            image,
            saved,
            pasted,
            note: shown_note,
        });
        Ok(())
    }

    fn finish(&self, ctx: &JobContext) -> Result<(), JobFailure> {
        if let Some(f) = &self.folder {
            f.write_index().map_err(output_failure)?;
            if let Some(sheet) = f.write_sheet().map_err(output_failure)? {
                ctx.progress(format!("wrote {}", sheet.display()));
                ctx.set_sheet(sheet);
            }
        }
        Ok(())
    }
}

/// The request as it is sent: with the photo and mask on this machine, the seed image and mask
/// are the edit area's crop (see [`crate::edit::area_request`]); otherwise the request's own.
pub fn sent_request(spec: &JobSpec) -> Result<EditRequest, JobFailure> {
    match (&spec.inputs, job_area(spec)) {
        (Some(inputs), Some(area)) => crate::edit::area_request(
            &spec.request,
            &inputs.original,
            &inputs.mask,
            &area,
            spec.polarity,
        )
        .map_err(|e| JobFailure::new(format!("could not prepare what is sent: {e}"))),
        _ => Ok(spec.request.clone()),
    }
}

/// What results.json records as the request of a local edit: the engine and what it was
/// asked, no model, no taskUUID (nothing was sent anywhere).
fn local_record(spec: &JobSpec, first_seed: u64) -> serde_json::Value {
    serde_json::json!({
        "backend": "local",
        "positivePrompt": spec.request.prompt,
        "numberResults": spec.request.settings.results_wanted(),
        "firstSeed": first_seed,
    })
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
    // The local engine edits the area at the photo's own resolution (nothing is uploaded).
    let area = job_area(spec).map(|a| EditArea {
        sent_width: a.width,
        sent_height: a.height,
        ..a
    });
    let mut delivery = Delivery::new(spec, local_record(spec, first_seed), area)?;
    let (photo, mask) = match &delivery.base {
        Some(base) => (&base.original, &base.mask),
        None => (inputs.original.as_ref(), inputs.mask.as_ref()),
    };
    let (photo, mask) = (photo.clone(), mask.clone());
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
            &photo,
            &mask,
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
        delivery
            .deliver(ctx, i as usize + 1, image)
            .map_err(output_failure)?;
        ctx.set_state(JobState::Receiving {
            received: i + 1,
            wanted,
        });
    }
    delivery.finish(ctx)
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
    delivery: &mut Delivery,
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
                && let Err(e) = delivery.deliver(ctx, result.index, result.to_result_image())
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
    let area = job_area(spec);
    let request = sent_request(spec)?;
    let mut delivery = Delivery::new(spec, request.to_task_json(task_uuid), area)?;
    let wanted = request.settings.results_wanted();
    let what = match area {
        Some(a) => format!(
            ", {}x{} of the photo at {}x{}",
            a.width, a.height, a.sent_width, a.sent_height
        ),
        None => String::new(),
    };
    ctx.progress(format!(
        "sending the edit to Runware ({wanted} picture{}{what}, taskUUID {task_uuid})",
        plural(wanted)
    ));
    let mut seen = Seen::default();
    let mut busy_rounds = 0;
    let outcome = loop {
        let outcome = {
            let mut on_event =
                |event: SubmitEvent| on_submit_event(event, wanted, &mut seen, &mut delivery, ctx);
            runtime.block_on(client.submit(&request, task_uuid, ctx.cancel_token(), &mut on_event))
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
    delivery.finish(ctx)?;
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
