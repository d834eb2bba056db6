//! The edit loop inside the App: submitting the form (Runware, or the local engine), the
//! results as they arrive (decoded and saved to disk off the UI thread), and their thumbnails.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use image::RgbaImage;

use crate::edit::{EditRequest, ResultFolder};
use crate::runware::{Client, ClientConfig, EditResult, RunwareError, SubmitEvent};

/// One result picture as the App shows it.
pub struct ResultEntry {
    pub index: usize,
    pub image: Arc<RgbaImage>,
    pub thumbnail: egui::TextureHandle,
    pub image_uuid: Option<String>,
    pub seed: Option<i64>,
    pub cost: Option<f64>,
    pub path: Option<PathBuf>,
}

/// What background work reports to the UI thread.
pub enum SessionMsg {
    Progress(String),
    Result {
        result: EditResult,
        image: RgbaImage,
        path: Result<PathBuf, String>,
    },
    ResultUnreadable {
        index: usize,
        reason: String,
    },
    Finished(Result<usize, RunwareError>),
}

/// A submission in flight.
pub struct Running {
    pub cancel: tokio_util::sync::CancellationToken,
    pub rx: Receiver<SessionMsg>,
    pub folder: PathBuf,
    /// Results handed to the decoder so far (counted as they are announced).
    announced: Arc<AtomicUsize>,
    /// Results (or unreadable results) the UI has taken in.
    pub received: usize,
    /// The outcome, held until every announced result has been taken in.
    pub finished: Option<Result<usize, RunwareError>>,
}

impl Running {
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

/// A fresh folder name for one submission, by local time.
pub fn new_output_folder(root: &Path) -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    root.join(format!("edit-{stamp}"))
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
        let _ = tx.send(SessionMsg::Finished(outcome.map(|r| r.len())));
        notify();
    });
    Running {
        cancel,
        rx,
        folder: out_folder,
        announced,
        received: 0,
        finished: None,
    }
}

/// Decodes and saves one result on a thread of its own, then reports it.
fn deliver(
    result: EditResult,
    saver: Arc<Mutex<Result<ResultFolder, String>>>,
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
            Ok(image) => SessionMsg::Result {
                result,
                image,
                path,
            },
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
