//! The edit loop inside the App: submitting the form (Runware, or the local engine), the
//! results as they arrive (decoded and saved to disk off the UI thread), and their thumbnails.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use image::RgbaImage;

use crate::edit::{EditRequest, ResultFolder};
use crate::runware::{Client, ClientConfig, EditResult, RunwareError, SubmitEvent};

/// One result picture as the App shows it.
pub struct ResultEntry {
    pub index: usize,
    /// The raw output as returned.
    pub image: Arc<RgbaImage>,
    /// What is shown and compared: the composite over the original (keep outside pixels on).
    pub shown: Arc<RgbaImage>,
    /// Where and how much it changed outside the mask.
    pub figures: Option<crate::compare::OutsideFigures>,
    pub heatmap: Option<RgbaImage>,
    /// Full-size textures for the compare view (image, heatmap), made once when first shown.
    pub textures: Option<(egui::TextureHandle, Option<egui::TextureHandle>)>,
    pub kept: bool,
    pub discarded: bool,
    pub thumbnail: egui::TextureHandle,
    pub image_uuid: Option<String>,
    pub seed: Option<i64>,
    pub cost: Option<f64>,
    pub path: Option<PathBuf>,
    /// Its place among the results of its history entry (for storing the keep star).
    pub history_slot: usize,
    /// The lettering read inside the mask against the prompt's quoted strings.
    pub lettering: Lettering,
}

/// The lettering check of one result.
#[derive(Debug, Clone, Default)]
pub enum Lettering {
    /// The prompt quotes no strings: nothing to check.
    #[default]
    None,
    /// Being read in the background.
    Reading,
    Read(crate::text::LetteringCheck),
    Failed(String),
}

impl Lettering {
    /// For sorting: the check's score (0..1); unread results sort last.
    pub fn score(&self) -> f32 {
        match self {
            Lettering::Read(c) => c.score,
            _ => -1.0,
        }
    }
}

/// What each result is compared against: the photo and mask as they were when the edit was
/// sent (the feather weights are computed once, by the first result that needs them).
#[derive(Clone)]
pub struct CompareContext {
    pub original: Arc<RgbaImage>,
    pub mask: Arc<crate::mask::Mask>,
    pub settings: crate::compare::CompareSettings,
    feather: Arc<std::sync::OnceLock<crate::compare::FeatherMask>>,
}

impl CompareContext {
    pub fn new(
        original: Arc<RgbaImage>,
        mask: crate::mask::Mask,
        settings: crate::compare::CompareSettings,
    ) -> Self {
        Self {
            original,
            mask: Arc::new(mask),
            settings,
            feather: Arc::new(std::sync::OnceLock::new()),
        }
    }

    /// Compares `raw` again with keep-outside pixels on (composited) or off (as returned,
    /// resampled to the photo's size): for results that already arrived, or came back from the
    /// history. Saves nothing.
    pub fn recheck(
        &self,
        raw: &RgbaImage,
        keep_outside: bool,
    ) -> Result<crate::compare::ResultComparison, String> {
        let feather = self
            .feather
            .get_or_init(|| crate::compare::FeatherMask::new(&self.mask, self.settings.feather_px));
        let settings = crate::compare::CompareSettings {
            keep_outside,
            ..self.settings
        };
        crate::compare::compare_result(&self.original, raw, feather, &settings)
            .map_err(|e| e.to_string())
    }

    /// Composites (keep outside pixels) and checks one result; saves the composite beside the
    /// raw file when there is one.
    fn compare(
        &self,
        image: &RgbaImage,
        raw_path: Option<&Path>,
    ) -> Result<crate::compare::ResultComparison, String> {
        let feather = self
            .feather
            .get_or_init(|| crate::compare::FeatherMask::new(&self.mask, self.settings.feather_px));
        let comparison =
            crate::compare::compare_result(&self.original, image, feather, &self.settings)
                .map_err(|e| e.to_string())?;
        if self.settings.keep_outside
            && let Some(raw) = raw_path
        {
            let stem = raw
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let path = raw.with_file_name(format!("{stem}-composited.png"));
            let png = crate::imageio::encode(&comparison.shown, crate::imageio::Format::Png, 100)
                .map_err(|e| e.to_string())?;
            std::fs::write(&path, png)
                .map_err(|e| format!("could not save {}: {e}", path.display()))?;
        }
        Ok(comparison)
    }
}

/// What background work reports to the UI thread.
pub enum SessionMsg {
    Progress(String),
    Result {
        result: EditResult,
        image: RgbaImage,
        path: Result<PathBuf, String>,
        comparison: Box<Result<crate::compare::ResultComparison, String>>,
    },
    ResultUnreadable {
        index: usize,
        reason: String,
    },
    Finished(Result<usize, Failure>),
}

/// Why a submission stopped early.
#[derive(Debug)]
pub enum Failure {
    Cancelled,
    Runware(RunwareError),
    Local(crate::local::LocalError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Cancelled => f.write_str("cancelled"),
            Failure::Runware(e) => write!(f, "{e}"),
            Failure::Local(e) => write!(f, "the local engine could not edit the photo: {e}"),
        }
    }
}

/// A submission in flight.
pub struct Running {
    cancel: tokio_util::sync::CancellationToken,
    /// The local engine's stop flag (checked between and inside fills).
    stop: Arc<AtomicBool>,
    pub rx: Receiver<SessionMsg>,
    pub folder: PathBuf,
    /// Results handed to the decoder so far (counted as they are announced).
    announced: Arc<AtomicUsize>,
    /// Results (or unreadable results) the UI has taken in.
    pub received: usize,
    /// The outcome, held until every announced result has been taken in.
    pub finished: Option<Result<usize, Failure>>,
}

impl Running {
    /// Stops the request and any polling, or the local engine, at once.
    pub fn cancel(&self) {
        self.cancel.cancel();
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Finished, with nothing still on its way to the UI.
    pub fn is_done(&self) -> bool {
        self.finished.is_some() && self.received >= self.announced.load(Ordering::SeqCst)
    }
}

/// Where results go when the user has not picked a folder: the data dir's `results/<time>`.
pub fn default_output_root() -> PathBuf {
    directories::ProjectDirs::from("", "", "touchup")
        .map(|d| d.data_dir().join("results"))
        .unwrap_or_else(|| std::env::temp_dir().join("touchup-results"))
}

/// A fresh folder for the results of job `job`, by local time (two jobs may start in the same
/// millisecond, so the job's number is part of the name).
pub fn new_output_folder(root: &Path, job: u64) -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    root.join(format!("edit-{stamp}-job{job}"))
}

fn describe(event: &SubmitEvent) -> Option<String> {
    Some(match event {
        SubmitEvent::Uploading => "Uploading the photo…".into(),
        SubmitEvent::Sending { attempt: 1 } => "Sending the edit to Runware…".into(),
        SubmitEvent::Sending { attempt } => format!("Sending again (attempt {attempt})…"),
        SubmitEvent::Retrying {
            attempt,
            delay,
            reason,
        } => {
            format!(
                "{reason}; retrying in {:.0} s (attempt {attempt})…",
                delay.as_secs_f32()
            )
        }
        SubmitEvent::Queued => "Queued at Runware; waiting for results…".into(),
        SubmitEvent::Polling {
            done,
            wanted,
            progress,
        } => match progress {
            Some(p) => format!("{done}/{wanted} ready ({p:.0} %)…"),
            None => format!("{done}/{wanted} ready…"),
        },
        SubmitEvent::Downloading { index } => format!("Downloading result {index}…"),
        SubmitEvent::Result(_) => return None,
    })
}

/// Sends `request` with `client` on `runtime`. Every result is decoded and written to `folder`
/// the moment it arrives; `notify` wakes the UI.
pub fn spawn_runware(
    runtime: &tokio::runtime::Handle,
    client: Arc<Client>,
    request: EditRequest,
    folder: PathBuf,
    compare: CompareContext,
    notify: impl Fn() + Send + Sync + 'static,
) -> Running {
    let (tx, rx) = channel();
    let cancel = tokio_util::sync::CancellationToken::new();
    let token = cancel.clone();
    let notify = Arc::new(notify);
    let task_uuid = uuid::Uuid::new_v4();
    let saver = Arc::new(Mutex::new(
        ResultFolder::create(&folder, request.to_task_json(task_uuid)).map_err(|e| e.to_string()),
    ));
    let out_folder = folder.clone();
    let announced = Arc::new(AtomicUsize::new(0));
    let counter = announced.clone();
    runtime.spawn(async move {
        let events_tx = tx.clone();
        let events_notify = notify.clone();
        let mut on_event = move |event: SubmitEvent| {
            if let SubmitEvent::Result(result) = event {
                counter.fetch_add(1, Ordering::SeqCst);
                deliver(
                    result,
                    saver.clone(),
                    compare.clone(),
                    events_tx.clone(),
                    events_notify.clone(),
                );
            } else if let Some(text) = describe(&event) {
                let _ = events_tx.send(SessionMsg::Progress(text));
                events_notify();
            }
        };
        let outcome = client
            .submit(&request, task_uuid, &token, &mut on_event)
            .await;
        let outcome = match outcome {
            Ok(r) => Ok(r.len()),
            Err(RunwareError::Cancelled) => Err(Failure::Cancelled),
            Err(e) => Err(Failure::Runware(e)),
        };
        let _ = tx.send(SessionMsg::Finished(outcome));
        notify();
    });
    Running {
        cancel,
        stop: Arc::new(AtomicBool::new(false)),
        rx,
        folder: out_folder,
        announced,
        received: 0,
        finished: None,
    }
}

/// What the local engine needs for one submission.
pub struct LocalJob {
    pub compare: CompareContext,
    pub image: Arc<RgbaImage>,
    pub mask: crate::mask::Mask,
    pub request: EditRequest,
    pub options: crate::local::LocalOptions,
    pub seed: u64,
}

/// Runs the offline engine on a worker thread: one result per seed, each saved the moment it
/// is made, with progress and cancel like a Runware submission.
pub fn spawn_local(
    job: LocalJob,
    folder: PathBuf,
    notify: impl Fn() + Send + Sync + 'static,
) -> Running {
    let (tx, rx) = channel();
    let stop = Arc::new(AtomicBool::new(false));
    let announced = Arc::new(AtomicUsize::new(0));
    let (flag, counter) = (stop.clone(), announced.clone());
    let out_folder = folder.clone();
    std::thread::spawn(move || {
        let wanted = job.request.settings.results_wanted().max(1) as usize;
        let mut saver =
            ResultFolder::create(&folder, local_record(&job.request)).map_err(|e| e.to_string());
        let mut made = 0;
        let mut outcome = Ok(0);
        for i in 0..wanted {
            let seed = job.seed.wrapping_add(i as u64);
            let progress = |f: f32| {
                let _ = tx.send(SessionMsg::Progress(format!(
                    "Local engine: result {} of {wanted}, {:.0} %…",
                    i + 1,
                    f * 100.0
                )));
                notify();
            };
            match crate::local::edit(
                &job.image,
                &job.mask,
                &job.request.prompt,
                &job.options,
                seed,
                &progress,
                &flag,
            ) {
                Ok(image) => {
                    made += 1;
                    counter.fetch_add(1, Ordering::SeqCst);
                    let bytes = crate::imageio::encode(&image, crate::imageio::Format::Png, 100)
                        .unwrap_or_default();
                    let result = EditResult {
                        index: made,
                        task_uuid: String::new(),
                        image_uuid: None,
                        seed: i64::try_from(seed).ok(),
                        cost: None,
                        nsfw_content: None,
                        image_url: None,
                        bytes,
                    };
                    let path = match saver.as_mut() {
                        Ok(folder) => folder
                            .add(&result.to_result_image())
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e.clone()),
                    };
                    let comparison = job
                        .compare
                        .compare(&image, path.as_ref().ok().map(|p| p.as_path()));
                    let _ = tx.send(SessionMsg::Result {
                        result,
                        image,
                        path,
                        comparison: Box::new(comparison),
                    });
                    notify();
                    outcome = Ok(made);
                }
                Err(crate::local::LocalError::Cancelled) => {
                    outcome = Err(Failure::Cancelled);
                    break;
                }
                Err(e) => {
                    outcome = Err(Failure::Local(e));
                    break;
                }
            }
        }
        let _ = tx.send(SessionMsg::Finished(outcome));
        notify();
    });
    Running {
        cancel: tokio_util::sync::CancellationToken::new(),
        stop,
        rx,
        folder: out_folder,
        announced,
        received: 0,
        finished: None,
    }
}

/// What results.json records for a local edit (no images, no key: there is none).
fn local_record(request: &EditRequest) -> serde_json::Value {
    serde_json::json!({
        "backend": "local",
        "positivePrompt": request.prompt,
        "numberResults": request.settings.results_wanted(),
    })
}

/// Decodes and saves one result on a thread of its own, then reports it.
fn deliver(
    result: EditResult,
    saver: Arc<Mutex<Result<ResultFolder, String>>>,
    compare: CompareContext,
    tx: Sender<SessionMsg>,
    notify: Arc<dyn Fn() + Send + Sync>,
) {
    std::thread::spawn(move || {
        let path = match saver.lock() {
            Ok(mut folder) => match folder.as_mut() {
                Ok(folder) => folder
                    .add(&result.to_result_image())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.clone()),
            },
            Err(_) => Err("the result folder is unavailable".into()),
        };
        let msg = match crate::imageio::decode(&result.bytes) {
            Ok(image) => {
                let comparison = compare.compare(&image, path.as_ref().ok().map(|p| p.as_path()));
                SessionMsg::Result {
                    result,
                    image,
                    path,
                    comparison: Box::new(comparison),
                }
            }
            Err(e) => SessionMsg::ResultUnreadable {
                index: result.index,
                reason: e.to_string(),
            },
        };
        let _ = tx.send(msg);
        notify();
    });
}

/// A client for the configured endpoint and key, or why there is none.
pub fn make_client() -> Result<Client, RunwareError> {
    let (key, _) = crate::runware::ApiKey::configured().ok_or(RunwareError::NoKey)?;
    Client::new(ClientConfig::from_env(), key)
}

/// A thumbnail texture (at most 256 px on its long side).
pub fn thumbnail(ctx: &egui::Context, name: &str, image: &RgbaImage) -> egui::TextureHandle {
    let small = crate::imageio::fit_within(image, 256);
    let color = egui::ColorImage::from_rgba_unmultiplied(
        [small.width() as usize, small.height() as usize],
        small.as_raw(),
    );
    ctx.load_texture(name, color, egui::TextureOptions::LINEAR)
}
