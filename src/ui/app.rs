//! The editor: state, the per-frame logic (messages from background work, shortcuts, commands)
//! and the drawing of panels and canvas.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};
use image::RgbaImage;
use serde::{Deserialize, Serialize};

use crate::mask::{Brush, BrushMode, DirtyRect, MaskEditor, Polarity};

use super::autosave::{self, Autosaver, OwnedWork, Phase, WorkKey};
use super::canvas::{CanvasTextures, View, export_preview};
use super::commands::{self, Command};
use super::form::{self, FormAction, FormState};
use super::submit::{self, Failure, LocalJob, ResultEntry, Running, SessionMsg};
use super::tools::{
    self as seltools, Preview, SelectionOp, SelectionTool, ToolEvent, ToolKey, ToolOutcome,
    ToolState,
};
use crate::edit::{EditRequest, ImageInput};
use crate::mask::{Combine, WandOptions, WandRegion};

const SETTINGS_KEY: &str = "touchup-settings";
const MIB: u64 = 1024 * 1024;
/// The smallest history budget the setting offers.
const MIN_HISTORY_BUDGET_MIB: u64 = 1;

/// What the user set, kept between runs (never secrets, never pictures).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub overlay_color: [u8; 3],
    pub overlay_opacity: f32,
    pub show_mask: bool,
    pub polarity: Polarity,
    pub brush_size: f32,
    pub brush_hardness: f32,
    pub last_dir: Option<PathBuf>,
    /// Magic wand tolerance (OKLab ΔE x100).
    pub wand_tolerance: f32,
    /// Pixels for Grow / Shrink, and the feather radius.
    pub grow_px: u32,
    pub feather_px: f32,
    /// Prompt and options of the edit form (images are never persisted).
    pub edit: EditRequest,
    /// Where results are saved; `None`: the data directory's `results/`.
    pub output_root: Option<PathBuf>,
    /// Which engine edits; `None` until the user picks: Runware with a key, else local.
    pub backend: Option<Backend>,
    /// The local engine's fill method.
    pub local_fill: crate::local::FillMethod,
    /// Keep outside pixels (composite through the feathered mask) and the check's threshold.
    pub compare: crate::compare::CompareSettings,
    /// The history's size budget in MiB: the oldest edits are removed beyond it.
    pub history_budget_mib: u64,
}

/// Which engine carries out an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    Runware,
    Local,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Runware => "Runware (Ideogram 3.0 Edit)",
            Backend::Local => "Local (offline)",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            overlay_color: [255, 40, 90],
            overlay_opacity: 0.5,
            show_mask: true,
            polarity: Polarity::WhiteEdits,
            brush_size: 40.0,
            brush_hardness: 0.8,
            last_dir: None,
            wand_tolerance: WandOptions::default().tolerance,
            grow_px: 8,
            feather_px: 4.0,
            edit: EditRequest::default(),
            output_root: None,
            backend: None,
            local_fill: crate::local::FillMethod::Auto,
            compare: crate::compare::CompareSettings::default(),
            history_budget_mib: crate::session::DEFAULT_BUDGET_BYTES / MIB,
        }
    }
}

/// The open photo and its mask.
pub struct Document {
    pub image: Arc<RgbaImage>,
    pub name: String,
    pub path: Option<PathBuf>,
    pub editor: MaskEditor,
    /// The photo as PNG for the seed image, encoded once in the background.
    pub seed_png: Option<Arc<Vec<u8>>>,
    /// When the photo is a Runware result: its imageUUID, sent instead of re-uploading.
    pub seed_reference: Option<String>,
}

impl Document {
    pub fn new(image: RgbaImage, name: String, path: Option<PathBuf>) -> Self {
        let editor = MaskEditor::new(image.width(), image.height());
        Self {
            image: Arc::new(image),
            name,
            path,
            editor,
            seed_png: None,
            seed_reference: None,
        }
    }

    pub fn size(&self) -> Vec2 {
        Vec2::new(self.image.width() as f32, self.image.height() as f32)
    }
}

/// Results of background work, drained in [`App::logic`].
enum Msg {
    Opened(Result<(RgbaImage, String, Option<PathBuf>), String>),
    MaskLoaded(Result<(crate::mask::Mask, String), String>),
    Saved(Result<(PathBuf, u64), String>),
    Picked(DialogKind, Option<PathBuf>),
    Pasted(Result<RgbaImage, String>),
    SeedEncoded(Arc<RgbaImage>, Result<Vec<u8>, String>),
    WandDone(Arc<RgbaImage>, Result<(WandRegion, Combine), String>),
    KeyStored(Result<String, String>),
    SavedFile(Result<(PathBuf, u64), String>),
    HistoryListed(crate::session::Listing),
    /// The listing after pruning to the budget, with how many edits were removed.
    HistoryPruned(Result<(usize, crate::session::Listing), String>),
    HistoryThumbnail(String, Result<RgbaImage, String>),
    /// The results of batch N were recorded in the history as this edit.
    Recorded(u64, crate::session::EditId),
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Error,
}

#[derive(Debug, Clone)]
pub struct Status {
    pub kind: StatusKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Brush,
    Eraser,
    Select(SelectionTool),
}

/// How the app is started.
#[derive(Default)]
pub struct AppOptions {
    /// A photo to open at start; `None` opens the demo storefront.
    pub image: Option<PathBuf>,
    /// The tokio runtime for background work; the app makes its own when `None`.
    pub runtime: Option<tokio::runtime::Handle>,
    /// A Runware client to use; `None`: made from `RUNWARE_API_KEY` / `RUNWARE_API_URL` at the
    /// first submit.
    pub client: Option<Arc<crate::runware::Client>>,
    /// Never touch the OS keyring (tests: a developer's stored key must stay as it is).
    pub no_keyring: bool,
    /// Where the history of edits and the autosaved work live; `None`: the user's data
    /// directory.
    pub data_root: Option<PathBuf>,
}

/// The runtime handle, with the runtime itself when the app owns it.
pub(crate) struct Runtime {
    handle: Option<tokio::runtime::Handle>,
    _owned: Option<tokio::runtime::Runtime>,
}

impl Runtime {
    fn new(handle: Option<tokio::runtime::Handle>) -> Self {
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

    /// Runs `f` in the background: on the runtime, or on a thread of its own without one.
    pub(crate) fn spawn<F>(&self, f: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        match &self.handle {
            Some(h) => {
                h.spawn(f);
            }
            None => {
                std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        rt.block_on(f);
                    }
                });
            }
        }
    }
}

pub struct App {
    pub settings: Settings,
    pub doc: Option<Document>,
    pub view: View,
    pub tool: Tool,
    textures: Option<CanvasTextures>,
    preview: Option<(egui::TextureHandle, u64)>,
    /// Bumped on every mask change; the export preview follows it.
    mask_generation: u64,
    /// The mask generation last written out (saved or copied): later changes are unsaved work.
    exported_generation: u64,
    /// Marked-pixel count, cached per mask generation (counting an 8192x8192 mask every frame
    /// would cost a frame's budget).
    marked_cache: Option<(u64, usize)>,
    /// A newly opened photo waiting for the user to confirm discarding the current mask.
    replace_pending: Option<Document>,
    /// The view must be fitted once the canvas size is known.
    fit_pending: bool,
    pending: Vec<Command>,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    /// What is running in the background (shown with a spinner).
    busy: Option<String>,
    pub status: Option<Status>,
    pub show_shortcuts: bool,
    hover_image_pos: Option<Pos2>,
    canvas_rect: Rect,
    runtime: Runtime,
    /// Space is held: the primary button pans instead of painting.
    panning: bool,
    /// The view is "fit to window" (refitted when the canvas changes size).
    view_fitted: bool,
    canvas_rect_fitted: Rect,
    pub form: FormState,
    running: Option<Running>,
    pub results: Vec<ResultEntry>,
    pub selected_result: Option<usize>,
    /// The photo and mask the results were made from (to composite them again).
    results_context: Option<submit::CompareContext>,
    /// Bumped when the results change or are re-composited; late answers are dropped.
    results_generation: u64,
    /// Results still being re-composited.
    recompositing: usize,
    /// Bumped when a new set of results starts (a submission or a reopened edit).
    results_batch: u64,
    /// The history entry the results belong to, once recorded (or reopened).
    results_edit: Option<crate::session::EditId>,
    /// Serializes writes of keep stars to the history (each rewrites the entry's record).
    history_writes: Arc<std::sync::Mutex<()>>,
    client: Option<Arc<crate::runware::Client>>,
    /// The JSON shown by "View request".
    request_preview: Option<String>,
    /// The selection tool's gesture in progress.
    pub tool_state: ToolState,
    /// A Runware key is configured (checked once at start).
    has_key: bool,
    /// The history of edits on disk, its listing, and what the last submit sent.
    data_root: Option<PathBuf>,
    pub history: Vec<crate::session::EditSummary>,
    /// Thumbnails of the history's edits by id (`None`: the file could not be read).
    history_thumbnails: std::collections::HashMap<String, Option<egui::TextureHandle>>,
    /// The edit whose Delete was clicked, waiting for "Yes, delete".
    history_delete_pending: Option<crate::session::EditId>,
    /// The budget was changed and the history not yet pruned to it.
    history_budget_changed: bool,
    last_submit: Option<(Arc<RgbaImage>, crate::mask::Mask, EditRequest)>,
    /// The Runware key dialog: open, the text typed, and what the last action said.
    key_dialog: Option<KeyDialog>,
    no_keyring: bool,
    /// Photos over 2048 px: `None` until the user answers the downscale question for this photo.
    send_downscaled: Option<bool>,
    pub asking_downscale: bool,
    /// The central area shows the compare view instead of the mask canvas.
    pub comparing: bool,
    pub compare_view: super::compare::CompareView,
    /// Autosave of the current work; `None` without a data folder.
    autosave: Option<Autosaver>,
    /// Work a crashed session left, offered back until the user answers.
    recovery: Option<Box<crate::session::RecoveredWork>>,
    recovery_marked: usize,
    /// The window was asked to close while the mask had unsaved changes.
    pub confirming_quit: bool,
    quit_confirmed: bool,
}

impl App {
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let settings = cc
            .storage
            .and_then(|s| eframe::get_value::<Settings>(s, SETTINGS_KEY))
            .unwrap_or_default();
        Self::with_settings(&cc.egui_ctx, settings, options)
    }

    pub fn with_settings(ctx: &egui::Context, settings: Settings, options: AppOptions) -> Self {
        ctx.options_mut(|o| o.zoom_with_keyboard = false);
        let (tx, rx) = channel();
        let mut app = Self {
            settings,
            doc: None,
            view: View::default(),
            tool: Tool::Brush,
            textures: None,
            preview: None,
            mask_generation: 0,
            exported_generation: 0,
            marked_cache: None,
            replace_pending: None,
            fit_pending: true,
            pending: Vec::new(),
            tx,
            rx,
            busy: None,
            status: None,
            show_shortcuts: false,
            hover_image_pos: None,
            canvas_rect: Rect::NOTHING,
            runtime: Runtime::new(options.runtime),
            panning: false,
            view_fitted: false,
            canvas_rect_fitted: Rect::NOTHING,
            form: FormState::default(),
            running: None,
            results: Vec::new(),
            selected_result: None,
            results_context: None,
            results_generation: 0,
            recompositing: 0,
            results_batch: 0,
            results_edit: None,
            history_writes: Arc::new(std::sync::Mutex::new(())),
            client: options.client.clone(),
            request_preview: None,
            tool_state: ToolState::new(SelectionTool::Rectangle, (1, 1)),
            has_key: crate::runware::ApiKey::from_env().is_some(),
            data_root: options
                .data_root
                .clone()
                .or_else(|| crate::session::default_root().ok()),
            history: Vec::new(),
            history_thumbnails: std::collections::HashMap::new(),
            history_delete_pending: None,
            history_budget_changed: false,
            last_submit: None,
            key_dialog: None,
            no_keyring: options.no_keyring,
            send_downscaled: None,
            asking_downscale: false,
            comparing: false,
            compare_view: super::compare::CompareView::new(),
            autosave: None,
            recovery: None,
            recovery_marked: 0,
            confirming_quit: false,
            quit_confirmed: false,
        };
        app.form.request = app.settings.edit.clone();
        app.refresh_history(ctx);
        match options.image {
            Some(path) => app.open_path(ctx, path),
            None => app.set_document(Document::new(
                crate::demo::image(),
                "demo-storefront.png".into(),
                None,
            )),
        }
        if let Some(root) = app.data_root.clone() {
            let tx = app.tx.clone();
            let ctx = ctx.clone();
            let mut saver = Autosaver::start(&root, move |report| {
                let _ = tx.send(Msg::Autosave(report));
                ctx.request_repaint();
            });
            if let Some(key) = app.work_key() {
                saver.set_baseline(key);
            }
            app.autosave = Some(saver);
        }
        app
    }

    /// Queues a command; it runs at the start of the next frame's logic.
    pub fn command(&mut self, command: Command) {
        self.pending.push(command);
    }

    /// Is there a painted mask that was changed since it was last saved or copied?
    pub fn has_unsaved_mask(&self) -> bool {
        self.mask_generation != self.exported_generation
            && self
                .doc
                .as_ref()
                .is_some_and(|d| !d.editor.mask().is_empty())
    }

    /// Is a newly opened photo waiting for "discard the current mask?"
    pub fn is_confirming_replace(&self) -> bool {
        self.replace_pending.is_some()
    }

    /// How many pixels the current mask marks (cached per change).
    pub fn marked_pixels(&mut self) -> usize {
        let Some(doc) = &self.doc else { return 0 };
        match self.marked_cache {
            Some((generation, n))
                if generation == self.mask_generation || doc.editor.is_stroking() =>
            {
                n
            }
            _ => {
                let n = doc.editor.mask().count_at_least(crate::mask::THRESHOLD);
                self.marked_cache = Some((self.mask_generation, n));
                n
            }
        }
    }

    /// Where the canvas was drawn in the last frame (screen points).
    pub fn canvas_rect(&self) -> Rect {
        self.canvas_rect
    }

    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
    }

    /// Bytes of overlay texture sent to the GPU during the last frame.
    pub fn overlay_frame_bytes(&self) -> u64 {
        self.textures.as_ref().map_or(0, |t| t.frame_bytes)
    }

    /// Bytes of overlay texture sent to the GPU since the photo was opened (after the first
    /// full upload).
    pub fn overlay_total_bytes(&self) -> u64 {
        self.textures.as_ref().map_or(0, |t| t.overlay_bytes)
    }

    pub fn brush(&self) -> Brush {
        let mode = match self.tool {
            Tool::Eraser => BrushMode::Erase,
            _ => BrushMode::Paint,
        };
        Brush::new(self.settings.brush_size, self.settings.brush_hardness, mode)
    }

    /// The export of the current mask as a data URI.
    pub fn mask_data_uri(&self) -> Option<String> {
        let doc = self.doc.as_ref()?;
        crate::mask::export_data_uri(doc.editor.mask(), self.settings.polarity).ok()
    }

    fn set_document(&mut self, doc: Document) {
        self.send_downscaled = None;
        self.tool_state
            .set_image_size((doc.image.width(), doc.image.height()));
        // Encode the seed PNG once, in the background, so Submit never waits for it.
        let image = doc.image.clone();
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let png = crate::imageio::encode(&image, crate::imageio::Format::Png, 100)
                .map_err(|e| e.to_string());
            let _ = tx.send(Msg::SeedEncoded(image, png));
        });
        self.doc = Some(doc);
        self.marked_cache = None;
        self.exported_generation = self.mask_generation + 1;
        self.textures = None;
        self.preview = None;
        self.fit_pending = true;
        self.mask_generation += 1;
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            kind: StatusKind::Info,
            text: text.into(),
        });
    }

    fn error(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::warn!("{text}");
        self.status = Some(Status {
            kind: StatusKind::Error,
            text,
        });
    }

    /// Decodes a file off the UI thread; the current photo stays until the new one is ready.
    pub fn open_path(&mut self, ctx: &egui::Context, path: PathBuf) {
        let name = display_name(&path);
        self.busy = Some(format!("Opening {name}…"));
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let result = crate::imageio::open(&path)
                .map(|img| (img, name, Some(path)))
                .map_err(|e| format!("{e}. The current image and mask are unchanged."));
            let _ = tx.send(Msg::Opened(result));
            ctx.request_repaint();
        });
    }

    /// Decodes picture bytes (a paste or a drop without a path) off the UI thread.
    pub fn open_bytes(&mut self, ctx: &egui::Context, bytes: Vec<u8>, name: String) {
        self.busy = Some(format!("Opening {name}…"));
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let result = crate::imageio::decode(&bytes)
                .map(|img| (img, name.clone(), None))
                .map_err(|e| {
                    format!("could not open {name}: {e}. The current image and mask are unchanged.")
                });
            let _ = tx.send(Msg::Opened(result));
            ctx.request_repaint();
        });
    }

    /// Loads a mask file of the current photo's size (off the UI thread).
    pub fn load_mask_path(&mut self, ctx: &egui::Context, path: PathBuf) {
        let Some(doc) = &self.doc else { return };
        let (w, h) = (doc.image.width(), doc.image.height());
        let polarity = self.settings.polarity;
        let name = display_name(&path);
        self.busy = Some(format!("Loading mask {name}…"));
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let result = crate::imageio::read_file(&path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    crate::mask::import_mask(&bytes, w, h, polarity)
                        .map_err(|e| format!("could not load mask {name}: {e}"))
                })
                .map(|m| (m, name));
            let _ = tx.send(Msg::MaskLoaded(result));
            ctx.request_repaint();
        });
    }

    /// Writes the exported mask PNG (off the UI thread).
    pub fn save_mask_to(&mut self, ctx: &egui::Context, path: PathBuf) {
        let Some(doc) = &self.doc else { return };
        let png = match crate::mask::export_png(doc.editor.mask(), self.settings.polarity) {
            Ok(png) => png,
            Err(e) => return self.error(e.to_string()),
        };
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        let generation = self.mask_generation;
        self.busy = Some("Saving the mask…".into());
        std::thread::spawn(move || {
            let result = std::fs::write(&path, png)
                .map(|()| (path.clone(), generation))
                .map_err(|e| format!("could not save the mask to {}: {e}", path.display()));
            let _ = tx.send(Msg::Saved(result));
            ctx.request_repaint();
        });
    }

    fn start_dialog(&mut self, ctx: &egui::Context, kind: DialogKind) {
        let mut dialog = rfd::AsyncFileDialog::new();
        if let Some(dir) = &self.settings.last_dir {
            dialog = dialog.set_directory(dir);
        }
        let dialog = match kind {
            DialogKind::OpenImage => dialog.set_title("Open image").add_filter(
                "Images",
                &["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"],
            ),
            DialogKind::LoadMask => dialog
                .set_title("Load mask")
                .add_filter("Masks", &["png", "jpg", "jpeg", "webp"]),
            DialogKind::SaveResult => dialog
                .set_title("Save the selected result")
                .add_filter("PNG (lossless)", &["png"])
                .add_filter("JPEG", &["jpg", "jpeg"])
                .add_filter("WebP", &["webp"])
                .set_file_name("result.png"),
            DialogKind::SaveKept => dialog.set_title("Save kept results into a folder"),
            DialogKind::ExportComparison => dialog
                .set_title("Export a before/after comparison")
                .add_filter("PNG", &["png"])
                .set_file_name("before-after.png"),
            DialogKind::ImportRequest => dialog
                .set_title("Import a Runware task")
                .add_filter("JSON", &["json"]),
            DialogKind::StyleReference
            | DialogKind::CharacterReference
            | DialogKind::CharacterMask => dialog
                .set_title("Choose a reference image")
                .add_filter("Images", &["jpg", "jpeg", "png", "webp"]),
            DialogKind::SaveMask => {
                let stem = self
                    .doc
                    .as_ref()
                    .and_then(|d| {
                        Path::new(&d.name)
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                    })
                    .unwrap_or_else(|| "image".into());
                dialog
                    .set_title("Save mask")
                    .add_filter("PNG", &["png"])
                    .set_file_name(format!("{stem}-mask.png"))
            }
        };
        self.busy = Some("Waiting for the file dialog…".into());
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        // The dialog is awaited on the runtime: the UI keeps drawing meanwhile.
        self.runtime.spawn(async move {
            let picked = match kind {
                DialogKind::SaveKept => dialog.pick_folder().await,
                DialogKind::SaveMask | DialogKind::SaveResult | DialogKind::ExportComparison => {
                    dialog.save_file().await
                }
                _ => dialog.pick_file().await,
            };
            let _ = tx.send(Msg::Picked(kind, picked.map(|h| h.path().to_path_buf())));
            ctx.request_repaint();
        });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogKind {
    OpenImage,
    LoadMask,
    SaveMask,
    SaveResult,
    SaveKept,
    ExportComparison,
    ImportRequest,
    StyleReference,
    CharacterReference,
    CharacterMask,
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl App {
    /// Applies everything queued: shortcuts, menu items and buttons all end up here.
    fn run_command(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::Open => self.start_dialog(ctx, DialogKind::OpenImage),
            Command::OpenDemo => {
                self.set_document(Document::new(
                    crate::demo::image(),
                    "demo-storefront.png".into(),
                    None,
                ));
                self.info("Opened the demo storefront.");
            }
            Command::PasteImage => self.paste_image(ctx),
            Command::LoadMask => {
                if self.doc.is_some() {
                    self.start_dialog(ctx, DialogKind::LoadMask);
                }
            }
            Command::SaveMask => {
                if self.doc.is_some() {
                    self.start_dialog(ctx, DialogKind::SaveMask);
                }
            }
            Command::SaveResult | Command::SaveKept | Command::ExportComparison => {
                let kind = match command {
                    Command::SaveResult => DialogKind::SaveResult,
                    Command::SaveKept => DialogKind::SaveKept,
                    _ => DialogKind::ExportComparison,
                };
                if self.results.is_empty() {
                    self.error("There are no results yet: submit an edit first.");
                } else if kind == DialogKind::SaveKept && !self.results.iter().any(|r| r.kept) {
                    self.error(
                        "No result is kept yet: click Keep beside a result (or press K in the \
                         compare view), then save.",
                    );
                } else {
                    self.start_dialog(ctx, kind);
                }
            }
            Command::CopyMaskDataUri => match self.mask_data_uri() {
                Some(uri) => {
                    let kib = uri.len() / 1024;
                    ctx.copy_text(uri);
                    self.exported_generation = self.mask_generation;
                    self.info(format!(
                        "Copied the mask as a data URI ({kib} KiB, {}).",
                        self.settings.polarity.label()
                    ));
                }
                None => self.error("There is no mask to copy: open an image first."),
            },
            Command::Undo => self.edit_mask(|ed| ed.undo()),
            Command::Redo | Command::RedoAlt => self.edit_mask(|ed| ed.redo()),
            Command::ClearMask => self.edit_mask(|ed| ed.clear()),
            Command::InvertMask => self.edit_mask(|ed| ed.invert()),
            Command::FillMask => self.edit_mask(|ed| ed.fill_all()),
            Command::ToolBrush => self.tool = Tool::Brush,
            Command::ToolEraser => self.tool = Tool::Eraser,
            Command::SwapBrushEraser => {
                self.tool = match self.tool {
                    Tool::Eraser => Tool::Brush,
                    _ => Tool::Eraser,
                }
            }
            Command::ToolRectangle => self.select_tool(SelectionTool::Rectangle),
            Command::ToolPolygon => self.select_tool(SelectionTool::Polygon),
            Command::ToolLasso => self.select_tool(SelectionTool::Lasso),
            Command::ToolWand => self.select_tool(SelectionTool::Wand),
            Command::GrowMask => {
                let n = self.settings.grow_px;
                self.edit_mask(|ed| ed.grow(n));
            }
            Command::ShrinkMask => {
                let n = self.settings.grow_px;
                self.edit_mask(|ed| ed.shrink(n));
            }
            Command::FeatherMask => {
                let r = self.settings.feather_px;
                self.edit_mask(|ed| ed.feather(r));
            }
            Command::FillHoles => self.edit_mask(|ed| ed.fill_holes()),
            Command::BrushSmaller => {
                self.settings.brush_size = Brush::stepped_size(self.settings.brush_size, false)
            }
            Command::BrushBigger => {
                self.settings.brush_size = Brush::stepped_size(self.settings.brush_size, true)
            }
            Command::ToggleMask => self.settings.show_mask = !self.settings.show_mask,
            Command::ZoomFit => self.fit_pending = true,
            Command::ZoomActual => {
                let ppp = ctx.pixels_per_point();
                self.view.actual_size(self.canvas_rect, ppp);
            }
            Command::ZoomIn => self
                .view
                .zoom_at(self.canvas_rect, self.canvas_rect.center(), 1.25),
            Command::ZoomOut => self
                .view
                .zoom_at(self.canvas_rect, self.canvas_rect.center(), 0.8),
            Command::ShowShortcuts => self.show_shortcuts = !self.show_shortcuts,
            Command::ToggleCompare => {
                if self.comparing || !self.results.is_empty() {
                    self.comparing = !self.comparing;
                    if self.comparing {
                        self.compare_view.request_fit();
                    }
                } else {
                    self.info("There are no results to compare yet.");
                }
            }
        }
    }

    /// Runs a mask change and sends the changed rectangle to the GPU.
    fn edit_mask(&mut self, f: impl FnOnce(&mut MaskEditor) -> Option<DirtyRect>) {
        let Some(doc) = &mut self.doc else { return };
        if let Some(rect) = f(&mut doc.editor) {
            if let Some(tex) = &mut self.textures {
                tex.update_overlay(doc.editor.mask(), rect);
            }
            self.mask_generation += 1;
        }
    }

    fn paste_image(&mut self, ctx: &egui::Context) {
        self.busy = Some("Reading the clipboard…".into());
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let result = arboard::Clipboard::new()
                .and_then(|mut c| c.get_image())
                .map_err(|e| format!("There is no image on the clipboard to paste ({e})."))
                .and_then(|img| {
                    let (w, h) = (img.width as u32, img.height as u32);
                    if w > crate::imageio::MAX_SIDE || h > crate::imageio::MAX_SIDE {
                        return Err(format!(
                            "The pasted image is {w}x{h}; the largest touchup opens is {0}x{0}.",
                            crate::imageio::MAX_SIDE
                        ));
                    }
                    RgbaImage::from_raw(w, h, img.bytes.into_owned())
                        .ok_or_else(|| "The clipboard image is damaged.".to_string())
                });
            let _ = tx.send(Msg::Pasted(result));
            ctx.request_repaint();
        });
    }

    fn handle_message(&mut self, ctx: &egui::Context, msg: Msg) {
        match msg {
            Msg::Opened(result) => {
                self.busy = None;
                match result {
                    Ok((img, name, path)) => {
                        let (w, h) = img.dimensions();
                        if let Some(dir) = path.as_ref().and_then(|p| p.parent()) {
                            self.settings.last_dir = Some(dir.to_path_buf());
                        }
                        let doc = Document::new(img, name.clone(), path);
                        if self.has_unsaved_mask() {
                            self.replace_pending = Some(doc);
                        } else {
                            self.set_document(doc);
                            self.info(format!("Opened {name} ({w}x{h})."));
                        }
                    }
                    Err(e) => self.error(e),
                }
            }
            Msg::Pasted(result) => {
                self.busy = None;
                match result {
                    Ok(img) => {
                        let doc = Document::new(img, "pasted-image.png".into(), None);
                        if self.has_unsaved_mask() {
                            self.replace_pending = Some(doc);
                        } else {
                            let (w, h) = doc.image.dimensions();
                            self.set_document(doc);
                            self.info(format!("Pasted an image ({w}x{h})."));
                        }
                    }
                    Err(e) => self.error(e),
                }
            }
            Msg::MaskLoaded(result) => {
                self.busy = None;
                match result {
                    Ok((mask, name)) => {
                        self.edit_mask(|ed| ed.replace("Load mask", mask));
                        self.info(format!("Loaded mask {name}."));
                    }
                    Err(e) => self.error(e),
                }
            }
            Msg::Saved(result) => {
                self.busy = None;
                match result {
                    Ok((path, generation)) => {
                        self.exported_generation = generation;
                        self.info(format!("Saved the mask to {}.", path.display()));
                    }
                    Err(e) => self.error(e),
                }
            }
            Msg::SeedEncoded(image, png) => {
                if let Some(doc) = &mut self.doc
                    && Arc::ptr_eq(&doc.image, &image)
                {
                    match png {
                        Ok(png) => doc.seed_png = Some(Arc::new(png)),
                        Err(e) => {
                            self.error(format!("could not prepare the photo for sending: {e}"))
                        }
                    }
                }
            }
            Msg::Attached(kind, bytes) => self.attach(kind, bytes),
            Msg::Autosave(report) => self.autosave_report(report),
            Msg::Recomposited(generation, index, result) => {
                if generation != self.results_generation {
                    return;
                }
                self.recompositing = self.recompositing.saturating_sub(1);
                if self.recompositing == 0 {
                    self.busy = None;
                }
                match *result {
                    Ok(c) => {
                        if let Some(entry) = self.results.iter_mut().find(|r| r.index == index) {
                            entry.thumbnail =
                                submit::thumbnail(ctx, &format!("result-{index}"), &c.shown);
                            entry.shown = Arc::new(c.shown);
                            entry.figures = Some(c.check.figures);
                            entry.heatmap = Some(c.check.heatmap);
                            // The next compare frame uploads the new pictures (once).
                            entry.textures = None;
                        }
                    }
                    Err(e) => self.error(format!("result {index} could not be shown again: {e}")),
                }
            }
            Msg::HistoryListed(listing) => self.history_listed(ctx, listing),
            Msg::HistoryPruned(result) => match result {
                Ok((pruned, listing)) => {
                    self.history_listed(ctx, listing);
                    if pruned > 0 {
                        self.info(format!(
                            "Removed the {pruned} oldest edit(s) from the history to stay \
                             within {} MiB.",
                            self.settings.history_budget_mib
                        ));
                    }
                }
                Err(e) => self.error(format!("could not trim the history: {e}")),
            },
            Msg::HistoryThumbnail(id, result) => {
                let texture = match result {
                    Ok(image) => Some(submit::thumbnail(ctx, &format!("history-{id}"), &image)),
                    Err(e) => {
                        tracing::warn!("history thumbnail of {id}: {e}");
                        None
                    }
                };
                self.history_thumbnails.insert(id, texture);
            }
            Msg::Recorded(batch, id) => {
                if batch == self.results_batch {
                    self.results_edit = Some(id);
                    // Stars given while the edit was being recorded.
                    let kept: Vec<usize> = self
                        .results
                        .iter()
                        .filter(|r| r.kept)
                        .map(|r| r.history_slot)
                        .collect();
                    for slot in kept {
                        self.store_kept(ctx, slot, true);
                    }
                }
            }
            Msg::KeptStored(result) => match result {
                Ok(()) => self.refresh_history(ctx),
                Err(e) => self.error(format!("could not store the keep star in the history: {e}")),
            },
            Msg::Reopened(result) => {
                self.busy = None;
                match result {
                    Ok(edit) => self.restore_edit(ctx, *edit),
                    Err(e) => self.error(format!("could not reopen that edit: {e}")),
                }
            }
            Msg::SavedFile(result) => {
                self.busy = None;
                match result {
                    Ok((path, _)) => self.info(format!("Saved {}.", path.display())),
                    Err(e) => self.error(e),
                }
            }
            Msg::KeyStored(result) => {
                self.busy = None;
                match result {
                    Ok(text) => {
                        self.client = None;
                        self.has_key = crate::runware::ApiKey::from_env().is_some()
                            || text.starts_with("Saved");
                        self.info(text);
                    }
                    Err(e) => self.error(e),
                }
            }
            Msg::WandDone(image, result) => {
                self.busy = None;
                let same_photo = self
                    .doc
                    .as_ref()
                    .is_some_and(|d| Arc::ptr_eq(&d.image, &image));
                match result {
                    Ok((region, combine)) if same_photo => {
                        self.edit_mask(|ed| ed.apply_wand(&region, combine));
                    }
                    Ok(_) => {}
                    Err(e) => self.error(e),
                }
            }
            Msg::Picked(kind, path) => {
                self.busy = None;
                let Some(path) = path else { return };
                if let Some(dir) = path.parent() {
                    self.settings.last_dir = Some(dir.to_path_buf());
                }
                match kind {
                    DialogKind::OpenImage => self.open_path(ctx, path),
                    DialogKind::LoadMask => self.load_mask_path(ctx, path),
                    DialogKind::SaveMask => self.save_mask_to(ctx, path),
                    DialogKind::SaveResult
                    | DialogKind::SaveKept
                    | DialogKind::ExportComparison => self.save_results_to(ctx, kind, path),
                    DialogKind::ImportRequest
                    | DialogKind::StyleReference
                    | DialogKind::CharacterReference
                    | DialogKind::CharacterMask => {
                        let tx = self.tx.clone();
                        let ctx = ctx.clone();
                        std::thread::spawn(move || {
                            let bytes = crate::imageio::read_file(&path).map_err(|e| e.to_string());
                            let _ = tx.send(Msg::Attached(kind, bytes));
                            ctx.request_repaint();
                        });
                    }
                }
            }
        }
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        if let Some(file) = dropped.into_iter().next() {
            let path = file.path().to_path_buf();
            if path.as_os_str().is_empty() {
                match file.bytes() {
                    Ok(bytes) => self.open_bytes(ctx, bytes, "dropped image".into()),
                    Err(e) => self.error(format!("could not read the dropped file: {e}")),
                }
            } else {
                self.open_path(ctx, path);
            }
        }
    }

    /// The per-frame work that draws nothing (also run while the window is hidden).
    pub fn frame_logic(&mut self, ctx: &egui::Context) {
        if let Some(t) = &mut self.textures {
            t.frame_bytes = 0;
        }
        while let Ok(msg) = self.rx.try_recv() {
            self.handle_message(ctx, msg);
        }
        self.handle_dropped_files(ctx);
        self.poll_running(ctx);
        let mut queued = std::mem::take(&mut self.pending);
        queued.extend(commands::from_shortcuts(ctx, self.comparing));
        for c in queued {
            self.run_command(ctx, c);
        }
        self.autosave_tick(ctx, false);
        if self.busy.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}

/// A menu item that emits its command, with the shortcut shown beside it.
fn menu_item(ui: &mut egui::Ui, pending: &mut Vec<Command>, command: Command, enabled: bool) {
    let mut button = egui::Button::new(command.label());
    if let Some(sc) = command.shortcut() {
        button = button.shortcut_text(ui.ctx().format_shortcut(&sc));
    }
    if ui.add_enabled(enabled, button).clicked() {
        pending.push(command);
        ui.close();
    }
}

impl App {
    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        let has_doc = self.doc.is_some();
        let has_results = !self.results.is_empty();
        let can_undo = self
            .doc
            .as_ref()
            .is_some_and(|d| d.editor.history().can_undo());
        let can_redo = self
            .doc
            .as_ref()
            .is_some_and(|d| d.editor.history().can_redo());
        let pending = &mut self.pending;
        let mut open_key_dialog = false;
        let open_key = &mut open_key_dialog;
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                menu_item(ui, pending, Command::Open, true);
                menu_item(ui, pending, Command::OpenDemo, true);
                menu_item(ui, pending, Command::PasteImage, true);
                ui.separator();
                menu_item(ui, pending, Command::LoadMask, has_doc);
                menu_item(ui, pending, Command::SaveMask, has_doc);
                menu_item(ui, pending, Command::CopyMaskDataUri, has_doc);
                ui.separator();
                menu_item(ui, pending, Command::SaveResult, has_results);
                menu_item(ui, pending, Command::SaveKept, has_results);
                menu_item(ui, pending, Command::ExportComparison, has_results);
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Edit", |ui| {
                menu_item(ui, pending, Command::Undo, can_undo);
                menu_item(ui, pending, Command::Redo, can_redo);
                ui.separator();
                menu_item(ui, pending, Command::ClearMask, has_doc);
                menu_item(ui, pending, Command::InvertMask, has_doc);
                menu_item(ui, pending, Command::FillMask, has_doc);
            });
            ui.menu_button("View", |ui| {
                menu_item(ui, pending, Command::ZoomFit, has_doc);
                menu_item(ui, pending, Command::ZoomActual, has_doc);
                menu_item(ui, pending, Command::ZoomIn, has_doc);
                menu_item(ui, pending, Command::ZoomOut, has_doc);
                menu_item(ui, pending, Command::ToggleMask, has_doc);
            });
            ui.menu_button("Settings", |ui| {
                if ui.button("Runware API key…").clicked() {
                    *open_key = true;
                    ui.close();
                }
            });
            ui.menu_button("Help", |ui| {
                menu_item(ui, pending, Command::ShowShortcuts, true);
            });
        });
        if open_key_dialog {
            self.key_dialog = Some(KeyDialog::default());
        }
    }

    fn tools_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Mask");
        ui.horizontal_wrapped(|ui| {
            for (tool, command) in [
                (Tool::Brush, Command::ToolBrush),
                (Tool::Eraser, Command::ToolEraser),
                (
                    Tool::Select(SelectionTool::Rectangle),
                    Command::ToolRectangle,
                ),
                (Tool::Select(SelectionTool::Polygon), Command::ToolPolygon),
                (Tool::Select(SelectionTool::Lasso), Command::ToolLasso),
                (Tool::Select(SelectionTool::Wand), Command::ToolWand),
            ] {
                let sc = command
                    .shortcut()
                    .map(|s| ui.ctx().format_shortcut(&s))
                    .unwrap_or_default();
                if ui
                    .selectable_label(self.tool == tool, command.label())
                    .on_hover_text(format!("{} ({sc})", command.label()))
                    .clicked()
                {
                    self.pending.push(command);
                }
            }
        });
        if let Tool::Select(t) = self.tool {
            ui.weak(match t {
                SelectionTool::Rectangle => "Drag a box (Shift: square). Alt subtracts.",
                SelectionTool::Polygon => {
                    "Click corners; double-click or Enter closes, Backspace removes a corner, Esc cancels. Alt subtracts."
                }
                SelectionTool::Lasso => "Draw around the area. Alt subtracts.",
                SelectionTool::Wand => "Click a flat colour area. Alt subtracts.",
            });
        }
        ui.add(
            egui::Slider::new(&mut self.settings.wand_tolerance, 0.0..=100.0)
                .text("Wand tolerance"),
        );
        ui.add(
            egui::Slider::new(
                &mut self.settings.brush_size,
                Brush::MIN_SIZE..=Brush::MAX_SIZE,
            )
            .logarithmic(true)
            .suffix(" px")
            .text("Brush size"),
        );
        let mut hardness = self.settings.brush_hardness * 100.0;
        if ui
            .add(
                egui::Slider::new(&mut hardness, 0.0..=100.0)
                    .suffix(" %")
                    .text("Hardness"),
            )
            .changed()
        {
            self.settings.brush_hardness = hardness / 100.0;
        }
        ui.horizontal(|ui| {
            for (label, command) in [
                ("Clear", Command::ClearMask),
                ("Invert", Command::InvertMask),
                ("Fill", Command::FillMask),
            ] {
                if ui.button(label).on_hover_text(command.label()).clicked() {
                    self.pending.push(command);
                }
            }
        });
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut self.settings.grow_px)
                    .range(1..=500)
                    .suffix(" px"),
            )
            .on_hover_text("Pixels to grow or shrink by");
            if ui
                .button("Grow")
                .on_hover_text(Command::GrowMask.label())
                .clicked()
            {
                self.pending.push(Command::GrowMask);
            }
            if ui
                .button("Shrink")
                .on_hover_text(Command::ShrinkMask.label())
                .clicked()
            {
                self.pending.push(Command::ShrinkMask);
            }
        });
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut self.settings.feather_px)
                    .range(0.5..=100.0)
                    .suffix(" px"),
            )
            .on_hover_text("Feather radius");
            if ui
                .button("Feather")
                .on_hover_text(Command::FeatherMask.label())
                .clicked()
            {
                self.pending.push(Command::FeatherMask);
            }
            if ui
                .button("Fill holes")
                .on_hover_text(Command::FillHoles.label())
                .clicked()
            {
                self.pending.push(Command::FillHoles);
            }
        });
        ui.separator();
        ui.label("Overlay");
        ui.checkbox(&mut self.settings.show_mask, "Show mask (H)");
        ui.horizontal(|ui| {
            let label = ui.label("Colour");
            ui.color_edit_button_srgb(&mut self.settings.overlay_color)
                .labelled_by(label.id);
        });
        let mut opacity = self.settings.overlay_opacity * 100.0;
        if ui
            .add(
                egui::Slider::new(&mut opacity, 5.0..=100.0)
                    .suffix(" %")
                    .text("Opacity"),
            )
            .changed()
        {
            self.settings.overlay_opacity = opacity / 100.0;
        }
        ui.separator();
        ui.label("Export");
        for p in Polarity::ALL {
            ui.radio_value(&mut self.settings.polarity, p, p.label());
        }
        self.export_preview_ui(ui);
        ui.horizontal_wrapped(|ui| {
            for (label, command) in [
                ("Copy data URI", Command::CopyMaskDataUri),
                ("Save…", Command::SaveMask),
                ("Load…", Command::LoadMask),
            ] {
                if ui
                    .add_enabled(self.doc.is_some(), egui::Button::new(label))
                    .on_hover_text(command.label())
                    .clicked()
                {
                    self.pending.push(command);
                }
            }
        });
    }

    fn export_preview_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = &self.doc else { return };
        // The preview is keyed by the mask generation and polarity; rebuilt only after a change
        // and never in the middle of a stroke.
        let key =
            self.mask_generation * 2 + u64::from(self.settings.polarity == Polarity::BlackEdits);
        let stale = self.preview.as_ref().is_none_or(|(_, k)| *k != key);
        if stale && !doc.editor.is_stroking() {
            let img = export_preview(doc.editor.mask(), self.settings.polarity, 192);
            let tex = ui
                .ctx()
                .load_texture("export-preview", img, egui::TextureOptions::NEAREST);
            self.preview = Some((tex, key));
        }
        if let Some((tex, _)) = &self.preview {
            let size = tex.size_vec2();
            ui.add(
                egui::Image::new((tex.id(), size))
                    .alt_text("Preview of the mask that will be sent"),
            )
            .on_hover_text(
                "Exactly what will be sent: thresholded at 50 %, in the chosen polarity",
            );
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(busy) = &self.busy {
                ui.spinner();
                ui.label(busy);
                ui.separator();
            }
            let marked = self.marked_pixels();
            if let Some(doc) = &self.doc {
                let (w, h) = (doc.image.width(), doc.image.height());
                let pct = 100.0 * marked as f64 / (w as f64 * h as f64).max(1.0);
                ui.label(format!(
                    "{} · {w}x{h} · {:.0} % · mask {pct:.1} %",
                    doc.name,
                    self.view.zoom * ui.ctx().pixels_per_point() * 100.0
                ));
                if let Some(p) = self.hover_image_pos {
                    ui.label(format!("x {} y {}", p.x.floor(), p.y.floor()));
                }
            }
            if let Some(status) = &self.status {
                ui.separator();
                let color = match status.kind {
                    StatusKind::Info => ui.visuals().text_color(),
                    StatusKind::Error => ui.visuals().error_fg_color,
                };
                ui.colored_label(color, &status.text);
                if status.kind == StatusKind::Error && ui.small_button("Dismiss").clicked() {
                    self.status = None;
                }
            }
        });
    }

    /// Asks before a newly opened photo replaces a mask that was never saved or copied.
    fn confirm_replace_window(&mut self, ctx: &egui::Context) {
        let Some(new_doc) = &self.replace_pending else {
            return;
        };
        let new_name = new_doc.name.clone();
        let choice = ask(
            ctx,
            "confirm-replace",
            "Discard the current mask?",
            &format!(
                "Opening {new_name} replaces the current photo. Its mask has changes that were \
                 not saved or copied."
            ),
            &[
                "Save mask first",
                "Discard mask and open",
                "Keep the current photo",
            ],
            Some(2),
        );
        match choice {
            Some(0) => {
                self.replace_pending = None;
                self.pending.push(Command::SaveMask);
                self.info(format!("Save the mask, then open {new_name} again."));
            }
            Some(1) => {
                if let Some(doc) = self.replace_pending.take() {
                    let (w, h) = doc.image.dimensions();
                    self.set_document(doc);
                    self.info(format!("Opened {new_name} ({w}x{h})."));
                }
            }
            Some(_) => {
                self.replace_pending = None;
                self.info(format!(
                    "Kept the current photo; {new_name} was not opened."
                ));
            }
            None => {}
        }
    }

    fn shortcuts_window(&mut self, ctx: &egui::Context) {
        let mut open = self.show_shortcuts;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .resizable(false)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for &c in Command::WITH_SHORTCUTS {
                        if let Some(sc) = c.shortcut() {
                            ui.label(c.label());
                            ui.monospace(ui.ctx().format_shortcut(&sc));
                            ui.end_row();
                        }
                    }
                    for (what, how) in [
                        ("Straight line from the last point", "Shift+click"),
                        ("Pan", "Space+drag, middle-drag"),
                        ("Zoom at the pointer", "Wheel, pinch"),
                    ] {
                        ui.label(what);
                        ui.monospace(how);
                        ui.end_row();
                    }
                });
            });
        self.show_shortcuts = open;
    }

    fn canvas(&mut self, ui: &mut egui::Ui) {
        let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
        let canvas = response.rect;
        self.canvas_rect = canvas;
        painter.rect_filled(canvas, 0.0, Color32::from_gray(38));
        let ctx = ui.ctx().clone();
        let brush = self.brush();
        let Some(doc) = &mut self.doc else {
            painter.text(
                canvas.center(),
                egui::Align2::CENTER_CENTER,
                "Open an image (Ctrl+O) or drop one here",
                egui::FontId::proportional(18.0),
                Color32::GRAY,
            );
            return;
        };
        if self.textures.is_none() {
            let max_side = ctx.input(|i| i.max_texture_side).max(1);
            self.textures = Some(CanvasTextures::new(
                &ctx,
                &doc.image,
                doc.editor.mask(),
                max_side,
            ));
        }
        // Stay fitted while the window or panels change size, until the user zooms or pans.
        if self.view_fitted && canvas.size() != self.canvas_rect_fitted.size() {
            self.fit_pending = true;
        }
        if self.fit_pending && canvas.width() > 1.0 {
            self.view.fit(canvas, doc.size());
            self.fit_pending = false;
            self.view_fitted = true;
            self.canvas_rect_fitted = canvas;
        }
        let view_before = self.view;

        // Zoom at the pointer: wheel (or pinch / ctrl+wheel).
        if let Some(hover) = response.hover_pos() {
            let (scroll, zoom) = ctx.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
            let factor = zoom * (scroll / 200.0).exp();
            if (factor - 1.0).abs() > 1e-4 {
                self.view.zoom_at(canvas, hover, factor);
            }
        }
        // Pan: Space+drag or middle-drag.
        let space = ctx.input(|i| i.key_down(egui::Key::Space)) && !ctx.egui_wants_keyboard_input();
        if response.dragged_by(egui::PointerButton::Middle)
            || (space && response.dragged_by(egui::PointerButton::Primary))
        {
            self.view.pan(response.drag_delta());
            self.panning = true;
        } else if !space {
            self.panning = false;
        }

        if self.view != view_before {
            self.view_fitted = false;
        }

        if let Tool::Select(_) = self.tool {
            self.selection_input(&ctx, &response, canvas);
            self.draw_canvas(&ctx, &painter, &response, canvas, None);
            return;
        }

        // Paint.
        let (pressed, down, released, shift, pointer) = ctx.input(|i| {
            (
                i.pointer.primary_pressed(),
                i.pointer.primary_down(),
                i.pointer.primary_released(),
                i.modifiers.shift,
                i.pointer.interact_pos(),
            )
        });
        let to_image = |p: Pos2| self.view.screen_to_image(canvas, p);
        let mut dirty = None;
        if !space && !self.panning {
            if pressed && response.hovered() {
                if let Some(p) = pointer {
                    let ip = to_image(p);
                    dirty = if shift && doc.editor.last_point().is_some() {
                        doc.editor.line_to(brush, (ip.x, ip.y))
                    } else {
                        doc.editor.begin_stroke(brush, (ip.x, ip.y))
                    };
                }
            } else if down
                && doc.editor.is_stroking()
                && let Some(p) = pointer
            {
                let ip = to_image(p);
                dirty = doc.editor.continue_stroke((ip.x, ip.y));
            }
        }
        if (released || !down) && doc.editor.is_stroking() {
            doc.editor.end_stroke();
            self.mask_generation += 1;
        }
        if let (Some(rect), Some(tex)) = (dirty, &mut self.textures) {
            tex.update_overlay(doc.editor.mask(), rect);
            self.mask_generation += 1;
        }

        self.draw_canvas(&ctx, &painter, &response, canvas, Some(brush));
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.frame_logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("tools")
            .resizable(true)
            .default_size(260.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.tools_panel(ui));
            });
        egui::Panel::right("edit")
            .resizable(true)
            .default_size(340.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.edit_panel(ui));
            });
        egui::CentralPanel::default()
            .frame(egui::Frame::NONE)
            .show(ui, |ui| {
                if self.comparing && !self.results.is_empty() {
                    self.compare_ui(ui);
                } else {
                    self.comparing = false;
                    self.canvas(ui);
                }
            });
        let ctx = ui.ctx().clone();
        self.shortcuts_window(&ctx);
        self.confirm_replace_window(&ctx);
        self.request_window(&ctx);
        self.key_window(&ctx);
        self.downscale_window(&ctx);
        self.recovery_window(&ctx);
        self.quit_window(&ctx);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.end_session();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.settings.edit = self.form.request.clone();
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}

impl App {
    /// The edit form, the running submission's progress and the results.
    /// The engine in use: the user's pick, else Runware when a key is configured.
    pub fn backend(&self) -> Backend {
        self.settings
            .backend
            .unwrap_or(if self.client.is_some() || self.has_key {
                Backend::Runware
            } else {
                Backend::Local
            })
    }

    fn edit_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Describe the change");
        let mut backend = self.backend();
        ui.horizontal(|ui| {
            let label = ui.label("Engine");
            egui::ComboBox::from_id_salt("backend")
                .selected_text(backend.label())
                .show_ui(ui, |ui| {
                    for b in [Backend::Runware, Backend::Local] {
                        ui.selectable_value(&mut backend, b, b.label());
                    }
                })
                .response
                .labelled_by(label.id);
        });
        if Some(backend) != self.settings.backend && backend != self.backend() {
            self.settings.backend = Some(backend);
        }
        match backend {
            Backend::Local => {
                if !self.has_key && self.client.is_none() {
                    ui.weak("No Runware key is configured (RUNWARE_API_KEY), so edits run on this computer.");
                } else {
                    ui.weak("Edits run on this computer: the masked area is refilled and quoted text is drawn in.");
                }
                ui.horizontal(|ui| {
                    let label = ui.label("Fill");
                    egui::ComboBox::from_id_salt("local-fill")
                        .selected_text(self.settings.local_fill.label())
                        .show_ui(ui, |ui| {
                            for m in crate::local::FillMethod::ALL {
                                ui.selectable_value(&mut self.settings.local_fill, m, m.label());
                            }
                        })
                        .response
                        .labelled_by(label.id);
                });
            }
            Backend::Runware => {
                if !self.has_key && self.client.is_none() {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        "No Runware key: set RUNWARE_API_KEY before starting touchup.",
                    );
                }
            }
        }
        self.form.busy = self.running.is_some();
        if let Some(action) = form::show(ui, &mut self.form) {
            let ctx = ui.ctx().clone();
            self.form_action(&ctx, action);
        }
        ui.separator();
        self.results_ui(ui);
        ui.separator();
        self.history_ui(ui);
    }

    fn form_action(&mut self, ctx: &egui::Context, action: FormAction) {
        match action {
            FormAction::Submit => self.submit(ctx),
            FormAction::Cancel => {
                if let Some(running) = &self.running {
                    running.cancel();
                    self.form.progress = Some("Cancelling…".into());
                }
            }
            FormAction::ViewRequest => {
                let request = self.request_for_preview();
                self.request_preview = Some(request.view_request(uuid::Uuid::new_v4()));
            }
            FormAction::CopyCurl => {
                let request = self.request_for_preview();
                let endpoint = crate::runware::ClientConfig::from_env().endpoint;
                ctx.copy_text(request.curl_command(uuid::Uuid::new_v4(), &endpoint));
                self.info("Copied a cURL command; it reads the key from $RUNWARE_API_KEY.");
            }
            FormAction::Import(text) => match self.form.import(&text) {
                Ok(()) => self.info("Imported the request into the form."),
                Err(e) => self.error(format!("could not import the request: {e}")),
            },
            FormAction::ImportFile => self.start_dialog(ctx, DialogKind::ImportRequest),
            FormAction::AddStyleReference => self.start_dialog(ctx, DialogKind::StyleReference),
            FormAction::RemoveStyleReference(i) => {
                if i < self.form.request.style_reference_images.len() {
                    self.form.request.style_reference_images.remove(i);
                }
            }
            FormAction::ChooseCharacterReference => {
                self.start_dialog(ctx, DialogKind::CharacterReference)
            }
            FormAction::ChooseCharacterMask => self.start_dialog(ctx, DialogKind::CharacterMask),
            FormAction::ClearCharacterReference => {
                self.form.request.character_reference_image = None;
                self.form.request.character_reference_mask = None;
            }
        }
    }

    /// A file picked for the form: a task JSON to import or a reference image.
    fn attach(&mut self, kind: DialogKind, bytes: Result<Vec<u8>, String>) {
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => return self.error(e),
        };
        if kind == DialogKind::ImportRequest {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            return match self.form.import(&text) {
                Ok(()) => self.info("Imported the request into the form."),
                Err(e) => self.error(format!("could not import the request: {e}")),
            };
        }
        if let Err(e) = crate::imageio::decode(&bytes) {
            return self.error(format!("could not use that reference image: {e}"));
        }
        let input = ImageInput::bytes(bytes);
        match kind {
            DialogKind::StyleReference => self.form.request.style_reference_images.push(input),
            DialogKind::CharacterReference => {
                self.form.request.character_reference_image = Some(input)
            }
            DialogKind::CharacterMask => self.form.request.character_reference_mask = Some(input),
            _ => {}
        }
    }

    /// The request with the current photo and mask (for "View request" and cURL).
    fn request_for_preview(&self) -> EditRequest {
        let mut request = self.form.request.clone();
        if let Some(doc) = &self.doc
            && self.send_downscaled == Some(true)
            && doc.seed_reference.is_none()
            && let Some((photo, mask)) = crate::edit::downscale_together(
                &doc.image,
                doc.editor.mask(),
                crate::edit::RUNWARE_MAX_SIDE,
            )
        {
            request.seed_image = crate::imageio::encode(&photo, crate::imageio::Format::Png, 100)
                .ok()
                .map(ImageInput::bytes);
            request.mask_image = crate::mask::export_png(&mask, self.settings.polarity)
                .ok()
                .map(ImageInput::bytes);
            return request;
        }
        if let Some(doc) = &self.doc {
            request.seed_image = match (&doc.seed_reference, &doc.seed_png) {
                (Some(uuid), _) => Some(ImageInput::Reference(uuid.clone())),
                (None, Some(png)) => Some(ImageInput::Bytes(png.clone())),
                (None, None) => None,
            };
            request.mask_image = crate::mask::export_png(doc.editor.mask(), self.settings.polarity)
                .ok()
                .map(ImageInput::bytes);
        }
        request
    }

    /// Validates and sends the edit. Nothing the user made changes, whatever happens.
    pub fn submit(&mut self, ctx: &egui::Context) {
        if self.running.is_some() {
            return;
        }
        let Some(doc) = &self.doc else {
            return self.error("Open a photo first.");
        };
        if doc.editor.mask().is_empty() {
            self.form.message =
                Some("Paint over the part of the photo to change first: the mask is empty.".into());
            return;
        }
        if self.backend() == Backend::Runware
            && doc.seed_reference.is_none()
            && doc.seed_png.is_none()
        {
            self.form.message =
                Some("The photo is still being prepared; try again in a moment.".into());
            return;
        }
        let (w, h) = doc.image.dimensions();
        if self.backend() == Backend::Runware
            && crate::edit::needs_downscale(w, h)
            && self.send_downscaled.is_none()
        {
            self.asking_downscale = true;
            return;
        }
        let problems = self.form.form_problems();
        if !problems.is_empty() {
            self.form.errors = problems;
            self.form.message = Some("Fix the highlighted fields first.".into());
            return;
        }
        let request = self.request_for_preview();
        let root = self
            .settings
            .output_root
            .clone()
            .unwrap_or_else(submit::default_output_root);
        if self.backend() == Backend::Local {
            let Some(doc) = &self.doc else { return };
            let job = LocalJob {
                compare: submit::CompareContext::new(
                    doc.image.clone(),
                    doc.editor.mask().clone(),
                    self.settings.compare,
                ),
                image: doc.image.clone(),
                mask: doc.editor.mask().clone(),
                request,
                options: crate::local::LocalOptions {
                    fill: self.settings.local_fill,
                    ..Default::default()
                },
                seed: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(1),
            };
            self.start_running(submit::spawn_local(
                job,
                submit::new_output_folder(&root),
                {
                    let ctx = ctx.clone();
                    move || ctx.request_repaint()
                },
            ));
            return;
        }
        let client = match &self.client {
            Some(c) => c.clone(),
            None => match submit::make_client() {
                Ok(c) => {
                    let c = Arc::new(c);
                    self.client = Some(c.clone());
                    c
                }
                Err(e) => {
                    self.form.show_failure(&e);
                    return self.error(e.to_string());
                }
            },
        };
        let Some(handle) = self.runtime.handle.clone() else {
            return self.error("The background runtime is not running; restart touchup.");
        };
        let folder = submit::new_output_folder(&root);
        let notify_ctx = ctx.clone();
        let compare = submit::CompareContext::new(
            doc.image.clone(),
            doc.editor.mask().clone(),
            self.settings.compare,
        );
        self.start_running(submit::spawn_runware(
            &handle,
            client,
            request,
            folder,
            compare,
            move || notify_ctx.request_repaint(),
        ));
    }

    fn start_running(&mut self, running: Running) {
        if let Some(doc) = &self.doc {
            self.last_submit = Some((
                doc.image.clone(),
                doc.editor.mask().clone(),
                self.form.request.clone(),
            ));
            self.results_context = Some(submit::CompareContext::new(
                doc.image.clone(),
                doc.editor.mask().clone(),
                self.settings.compare,
            ));
        }
        self.results_generation += 1;
        self.results_batch += 1;
        self.results_edit = None;
        if self.recompositing > 0 {
            self.recompositing = 0;
            self.busy = None;
        }
        self.form.errors.clear();
        self.form.message = None;
        self.form.progress = Some("Starting…".into());
        self.results.clear();
        self.selected_result = None;
        self.running = Some(running);
    }

    fn poll_running(&mut self, ctx: &egui::Context) {
        let Some(running) = &mut self.running else {
            return;
        };
        let mut msgs = Vec::new();
        while let Ok(msg) = running.rx.try_recv() {
            msgs.push(msg);
        }
        let folder = running.folder.clone();
        for msg in msgs {
            match msg {
                SessionMsg::Progress(text) => self.form.progress = Some(text),
                SessionMsg::Result {
                    result,
                    image,
                    path,
                    comparison,
                } => {
                    if let Some(r) = &mut self.running {
                        r.received += 1;
                    }
                    let thumbnail =
                        submit::thumbnail(ctx, &format!("result-{}", result.index), &image);
                    if let Err(e) = &path {
                        self.error(format!(
                            "result {} arrived but could not be saved: {e}",
                            result.index
                        ));
                    }
                    let (shown, figures, heatmap) = match *comparison {
                        Ok(c) => (
                            Arc::new(c.shown),
                            Some(c.check.figures),
                            Some(c.check.heatmap),
                        ),
                        Err(e) => {
                            self.error(format!(
                                "result {} could not be compared with the original: {e}",
                                result.index
                            ));
                            (Arc::new(image.clone()), None, None)
                        }
                    };
                    self.results.push(ResultEntry {
                        index: result.index,
                        image: Arc::new(image),
                        shown,
                        figures,
                        heatmap,
                        textures: None,
                        kept: false,
                        discarded: false,
                        thumbnail,
                        image_uuid: result.image_uuid.clone(),
                        seed: result.seed,
                        cost: result.cost,
                        path: path.ok(),
                        history_slot: self.results.len(),
                    });
                    self.form.progress =
                        Some(format!("{} result(s) received…", self.results.len()));
                }
                SessionMsg::ResultUnreadable { index, reason } => {
                    if let Some(r) = &mut self.running {
                        r.received += 1;
                    }
                    self.error(format!("result {index} could not be read: {reason}"));
                }
                SessionMsg::Finished(outcome) => {
                    if let Some(r) = &mut self.running {
                        r.finished = Some(outcome);
                    }
                }
            }
        }
        let done = self.running.as_ref().is_some_and(|r| r.is_done());
        if !done {
            if self.running.is_some() {
                ctx.request_repaint_after(std::time::Duration::from_millis(100));
            }
            return;
        }
        let Some(outcome) = self.running.take().and_then(|r| r.finished) else {
            return;
        };
        self.record_history(ctx);
        self.form.busy = false;
        self.form.progress = None;
        match outcome {
            Ok(n) => self.info(format!("{n} result(s) saved to {}.", folder.display())),
            Err(Failure::Cancelled) => self.info(format!(
                "Cancelled; {} result(s) kept in {}.",
                self.results.len(),
                folder.display()
            )),
            Err(Failure::Runware(e)) => {
                self.form.show_failure(&e);
                self.error(e.to_string());
            }
            Err(e @ Failure::Local(_)) => {
                self.form.busy = false;
                self.form.message = Some(e.to_string());
                self.error(e.to_string());
            }
        }
    }

    /// The compare view over the original and every result, sharing one zoom and pan.
    fn compare_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let Some(doc) = &self.doc else { return };
        let max_side = ctx.input(|i| i.max_texture_side).max(1) as u32;
        if self.textures.is_none() {
            self.textures = Some(CanvasTextures::new(
                &ctx,
                &doc.image,
                doc.editor.mask(),
                max_side as usize,
            ));
        }
        // Textures are made once per result; switching views or results uploads nothing.
        // Heatmaps go up the first time the overlay is shown (they are as large as the
        // pictures and often never looked at). They are not mipmapped: averaging would fade
        // a small leak out of sight when the view is zoomed out.
        let upload = |name: String, img: &RgbaImage, options: egui::TextureOptions| {
            let img = crate::imageio::fit_within(img, max_side);
            let color = egui::ColorImage::from_rgba_unmultiplied(
                [img.width() as usize, img.height() as usize],
                img.as_raw(),
            );
            ctx.load_texture(name, color, options)
        };
        let want_heat = self.compare_view.show_heatmap;
        for entry in &mut self.results {
            let textures = entry.textures.get_or_insert_with(|| {
                let name = format!("result-{}-full", entry.index);
                (
                    upload(name, &entry.shown, super::canvas::PHOTO_TEXTURE_OPTIONS),
                    None,
                )
            });
            if want_heat
                && textures.1.is_none()
                && let Some(h) = &entry.heatmap
            {
                let name = format!("result-{}-heat", entry.index);
                textures.1 = Some(upload(name, h, super::canvas::TEXTURE_OPTIONS));
            }
        }
        let Some(original) = self.textures.as_ref().map(|t| t.image.clone()) else {
            return;
        };
        let results: Vec<super::compare::ResultTextures<'_>> = self
            .results
            .iter()
            .filter_map(|e| {
                let (image, heat) = e.textures.as_ref()?;
                Some(super::compare::ResultTextures {
                    image,
                    heatmap: heat.as_ref(),
                    figures: e.figures.as_ref(),
                    kept: e.kept,
                    discarded: e.discarded,
                })
            })
            .collect();
        let inputs = super::compare::CompareInputs {
            original: &original,
            image_size: doc.size(),
            results: &results,
        };
        let actions = self.compare_view.show(ui, &inputs);
        drop(results);
        if self.compare_view.show_heatmap && !want_heat {
            // Switched on this frame: the heatmaps go up on the next one.
            ui.ctx().request_repaint();
        }
        for action in actions {
            match action {
                super::compare::CompareAction::Select(i) => self.selected_result = Some(i),
                super::compare::CompareAction::SetKept { index, kept } => {
                    if let Some(e) = self.results.get_mut(index) {
                        e.kept = kept;
                        let slot = e.history_slot;
                        self.store_kept(&ctx, slot, kept);
                    }
                }
                super::compare::CompareAction::SetDiscarded { index, discarded } => {
                    if let Some(e) = self.results.get_mut(index) {
                        e.discarded = discarded;
                    }
                }
            }
        }
    }

    fn results_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new("Results").strong());
            let label = if self.comparing {
                "Back to the mask (C)"
            } else {
                "Compare (C)"
            };
            if ui
                .add_enabled(!self.results.is_empty(), egui::Button::new(label))
                .clicked()
            {
                self.pending.push(Command::ToggleCompare);
            }
        });
        let toggled = ui
            .add_enabled(
                self.running.is_none(),
                egui::Checkbox::new(
                    &mut self.settings.compare.keep_outside,
                    "Keep outside pixels",
                ),
            )
            .on_hover_text(
                "Show and save each result composited over the original through the feathered \
                 mask; off: as the engine returned it",
            )
            .on_disabled_hover_text("Available when the edit has finished")
            .changed();
        if toggled {
            let ctx = ui.ctx().clone();
            self.recomposite(&ctx);
        }
        if self.results.is_empty() {
            ui.weak(if self.running.is_some() {
                "Waiting for the first result…"
            } else {
                "No results yet."
            });
            return;
        }
        ui.horizontal_wrapped(|ui| {
            for command in [
                Command::SaveResult,
                Command::SaveKept,
                Command::ExportComparison,
            ] {
                let label = match command {
                    Command::SaveResult => "Save selected…",
                    Command::SaveKept => "Save kept…",
                    _ => "Export before/after…",
                };
                let mut button = ui.small_button(label);
                if let Some(sc) = command.shortcut() {
                    button = button.on_hover_text(format!(
                        "{} ({})",
                        command.label(),
                        ui.ctx().format_shortcut(&sc)
                    ));
                }
                if button.clicked() {
                    self.pending.push(command);
                }
            }
        });
        let mut use_as_seed = None;
        let mut toggle_kept = None;
        for (i, entry) in self.results.iter().enumerate() {
            ui.horizontal(|ui| {
                let size = entry.thumbnail.size_vec2();
                let scale = (96.0 / size.x.max(size.y)).min(1.0);
                let selected = self.selected_result == Some(i);
                let image = egui::Image::new((entry.thumbnail.id(), size * scale))
                    .alt_text(format!("Result {}", entry.index))
                    .sense(Sense::click());
                let r = ui.add(image);
                if selected {
                    ui.painter().rect_stroke(
                        r.rect,
                        2.0,
                        Stroke::new(2.0, ui.visuals().selection.stroke.color),
                        egui::StrokeKind::Outside,
                    );
                }
                if r.clicked() {
                    self.selected_result = Some(i);
                }
                ui.vertical(|ui| {
                    ui.label(format!("Result {}", entry.index));
                    let seed = entry.seed.map_or("seed ?".into(), |s| format!("seed {s}"));
                    let cost = entry.cost.map_or(String::new(), |c| format!(" · ${c:.4}"));
                    ui.weak(format!("{seed}{cost}"));
                    if let Some(f) = &entry.figures {
                        let pct = f.changed_fraction * 100.0;
                        let text = format!(
                            "outside mask: {pct:.2} % changed (max {})",
                            f.max_difference
                        );
                        if f.changed_fraction > 0.001 {
                            ui.colored_label(ui.visuals().warn_fg_color, text);
                        } else {
                            ui.weak(text);
                        }
                    }
                    ui.horizontal(|ui| {
                        let keep = egui::Button::selectable(
                            entry.kept,
                            if entry.kept { "Kept" } else { "Keep" },
                        )
                        .small();
                        if ui
                            .add(keep)
                            .on_hover_text("Star this result: \"Save kept\" saves the starred ones")
                            .clicked()
                        {
                            toggle_kept = Some(i);
                        }
                        if ui
                            .small_button("Use as new seed")
                            .on_hover_text("Continue editing from this result")
                            .clicked()
                        {
                            use_as_seed = Some(i);
                        }
                    });
                });
            });
        }
        if let Some(i) = toggle_kept
            && let Some(entry) = self.results.get_mut(i)
        {
            entry.kept = !entry.kept;
            let (slot, kept) = (entry.history_slot, entry.kept);
            let ctx = ui.ctx().clone();
            self.store_kept(&ctx, slot, kept);
        }
        if let Some(i) = use_as_seed {
            self.use_result_as_seed(i);
        }
    }

    /// Continues editing from a result: it becomes the photo (its imageUUID is sent, no upload).
    pub fn use_result_as_seed(&mut self, i: usize) {
        let Some(entry) = self.results.get(i) else {
            return;
        };
        let name = format!("result-{}", entry.index);
        let mut doc = Document::new((*entry.image).clone(), name.clone(), entry.path.clone());
        doc.seed_reference = entry.image_uuid.clone();
        self.set_document(doc);
        self.info(format!("Continuing from {name}; paint the next change."));
    }

    fn request_window(&mut self, ctx: &egui::Context) {
        let Some(text) = &self.request_preview else {
            return;
        };
        let mut open = true;
        let mut text = text.clone();
        egui::Window::new("Request").open(&mut open).default_size([520.0, 420.0]).show(ctx, |ui| {
            ui.label("The JSON that will be sent (image payloads abbreviated; the key goes in a header, never here):");
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.add(egui::TextEdit::multiline(&mut text).code_editor().desired_width(f32::INFINITY).interactive(true));
            });
        });
        if !open {
            self.request_preview = None;
        }
    }
}

impl App {
    fn select_tool(&mut self, tool: SelectionTool) {
        self.tool = Tool::Select(tool);
        self.tool_state.set_tool(tool);
    }

    /// Draws the photo, the overlay, the brush outline or the selection preview.
    fn draw_canvas(
        &mut self,
        ctx: &egui::Context,
        painter: &egui::Painter,
        response: &egui::Response,
        canvas: Rect,
        brush: Option<Brush>,
    ) {
        let Some(doc) = &self.doc else { return };
        let image_rect = self.view.image_rect(canvas, doc.size());
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        if let Some(tex) = &self.textures {
            painter.image(tex.image.id(), image_rect, uv, Color32::WHITE);
            if self.settings.show_mask {
                let [r, g, b] = self.settings.overlay_color;
                let alpha = (self.settings.overlay_opacity.clamp(0.0, 1.0) * 255.0) as u8;
                painter.image(
                    tex.overlay.id(),
                    image_rect,
                    uv,
                    Color32::from_rgba_unmultiplied(r, g, b, alpha),
                );
            }
        }
        let view = self.view;
        let to_screen = |p: (f32, f32)| view.image_to_screen(canvas, Pos2::new(p.0, p.1));
        self.hover_image_pos = response
            .hover_pos()
            .map(|p| view.screen_to_image(canvas, p));
        let outline = |points: &[Pos2], closed: bool, combine: Combine| {
            let colour = match combine {
                Combine::Add => Color32::from_rgb(80, 220, 255),
                Combine::Subtract => Color32::from_rgb(255, 170, 60),
            };
            let shape = |stroke| {
                if closed {
                    egui::Shape::closed_line(points.to_vec(), stroke)
                } else {
                    egui::Shape::line(points.to_vec(), stroke)
                }
            };
            painter.add(shape(Stroke::new(3.0, Color32::from_black_alpha(160))));
            painter.add(shape(Stroke::new(1.5, colour)));
        };
        match self.tool_state.preview() {
            Preview::None => {}
            Preview::Rect { a, b, combine } => {
                let pts = [
                    to_screen(a),
                    to_screen((b.0, a.1)),
                    to_screen(b),
                    to_screen((a.0, b.1)),
                ];
                outline(&pts, true, combine);
            }
            Preview::Polygon {
                corners,
                pointer,
                combine,
            } => {
                let mut pts: Vec<Pos2> = corners.iter().map(|&c| to_screen(c)).collect();
                if let Some(p) = pointer {
                    pts.push(to_screen(p));
                }
                outline(&pts, false, combine);
                for &c in &corners {
                    painter.circle_filled(to_screen(c), 3.5, Color32::WHITE);
                }
            }
            Preview::Lasso { path, combine } => {
                let pts: Vec<Pos2> = path.iter().map(|&c| to_screen(c)).collect();
                outline(&pts, false, combine);
            }
        }
        if ctx.input(|i| !i.raw.hovered_files.is_empty()) {
            painter.rect_filled(canvas, 0.0, Color32::from_black_alpha(140));
            painter.text(
                canvas.center(),
                egui::Align2::CENTER_CENTER,
                "Drop to open",
                egui::FontId::proportional(24.0),
                Color32::WHITE,
            );
        }
        if let Some(hover) = response.hover_pos() {
            let space =
                ctx.input(|i| i.key_down(egui::Key::Space)) && !ctx.egui_wants_keyboard_input();
            if let Some(brush) = brush {
                let r = brush.radius() * self.view.zoom;
                painter.circle_stroke(hover, r, Stroke::new(2.5, Color32::from_black_alpha(160)));
                painter.circle_stroke(hover, r, Stroke::new(1.0, Color32::WHITE));
            }
            ctx.set_cursor_icon(if space {
                egui::CursorIcon::Grab
            } else {
                egui::CursorIcon::Crosshair
            });
        }
    }

    /// Turns pointer and key input into selection tool events, and applies finished gestures.
    fn selection_input(&mut self, ctx: &egui::Context, response: &egui::Response, canvas: Rect) {
        let space = ctx.input(|i| i.key_down(egui::Key::Space)) && !ctx.egui_wants_keyboard_input();
        if space || self.panning {
            return;
        }
        let view = self.view;
        self.tool_state.close_distance = 8.0 / view.zoom.max(1e-3);
        let (pressed, released, moved, pos, mods) = ctx.input(|i| {
            (
                i.pointer.primary_pressed(),
                i.pointer.primary_released(),
                i.pointer.is_moving(),
                i.pointer.interact_pos().or(i.pointer.hover_pos()),
                seltools::Modifiers {
                    shift: i.modifiers.shift,
                    alt: i.modifiers.alt,
                },
            )
        });
        let mut events = Vec::new();
        if let Some(p) = pos {
            let ip = view.screen_to_image(canvas, p);
            let ip = (ip.x, ip.y);
            if response.double_clicked() {
                events.push(ToolEvent::DoubleClick { pos: ip, mods });
            } else if pressed && response.hovered() {
                events.push(ToolEvent::PointerDown { pos: ip, mods });
            } else if released && self.tool_state.is_active() {
                events.push(ToolEvent::PointerUp { pos: ip, mods });
            } else if moved && (self.tool_state.is_active() || response.hovered()) {
                events.push(ToolEvent::PointerMove { pos: ip, mods });
            }
        }
        if self.tool_state.is_active() && !ctx.egui_wants_keyboard_input() {
            ctx.input_mut(|i| {
                for (key, tk) in [
                    (egui::Key::Enter, ToolKey::Enter),
                    (egui::Key::Backspace, ToolKey::Backspace),
                    (egui::Key::Escape, ToolKey::Escape),
                ] {
                    if i.consume_key(egui::Modifiers::NONE, key) {
                        events.push(ToolEvent::Key(tk));
                    }
                }
            });
        }
        for event in events {
            if let ToolOutcome::Commit(op) = self.tool_state.handle(event) {
                self.apply_selection(ctx, op);
            }
        }
        if self.tool_state.is_active() {
            ctx.request_repaint();
        }
    }

    fn apply_selection(&mut self, ctx: &egui::Context, op: SelectionOp) {
        match op {
            SelectionOp::Wand { seed, combine } => {
                let Some(doc) = &self.doc else { return };
                let image = doc.image.clone();
                let options = WandOptions {
                    tolerance: self.settings.wand_tolerance,
                    ..WandOptions::default()
                };
                self.busy = Some("Selecting with the magic wand…".into());
                let tx = self.tx.clone();
                let ctx = ctx.clone();
                // The flood runs off the UI thread; a 4096x4096 photo never stalls a frame.
                std::thread::spawn(move || {
                    let result = crate::mask::wand_region(&image, seed, &options, None)
                        .map(|region| (region, combine))
                        .map_err(|e| format!("magic wand: {e}"));
                    let _ = tx.send(Msg::WandDone(image, result));
                    ctx.request_repaint();
                });
            }
            shape => self.edit_mask(|ed| shape.apply_shape(ed)),
        }
    }
}

/// A result as the history records it (copied off the UI thread).
struct HistoryResult {
    shown: Arc<RgbaImage>,
    raw: Arc<RgbaImage>,
    image_uuid: Option<String>,
    seed: Option<i64>,
    cost: Option<f64>,
    figures: Option<crate::compare::OutsideFigures>,
}

/// The state of the Runware key dialog.
#[derive(Default)]
struct KeyDialog {
    text: String,
}

impl App {
    /// Stores or removes the Runware key in the OS keyring (never in the settings file).
    fn key_window(&mut self, ctx: &egui::Context) {
        let Some(dialog) = &mut self.key_dialog else {
            return;
        };
        let mut open = true;
        let mut action = None;
        let from_env = crate::runware::ApiKey::from_env().is_some();
        egui::Window::new("Runware API key").open(&mut open).resizable(false).show(ctx, |ui| {
            if from_env {
                ui.label("RUNWARE_API_KEY is set in the environment; it is used before the keyring.");
            }
            ui.label("The key is kept in the OS keyring, never in touchup's settings, logs or exports.");
            ui.horizontal(|ui| {
                let label = ui.label("Key");
                ui.add(egui::TextEdit::singleline(&mut dialog.text).password(true).desired_width(260.0))
                    .labelled_by(label.id);
            });
            ui.horizontal(|ui| {
                if ui.add_enabled(!dialog.text.trim().is_empty(), egui::Button::new("Save to keyring")).clicked() {
                    action = Some(Some(dialog.text.trim().to_string()));
                }
                if ui.button("Remove from keyring").clicked() {
                    action = Some(None);
                }
            });
        });
        if let Some(action) = action {
            self.key_dialog = None;
            self.busy = Some("Talking to the OS keyring…".into());
            let tx = self.tx.clone();
            let ctx = ctx.clone();
            let no_keyring = self.no_keyring;
            // The keyring call blocks (it may start its own runtime): keep it off the UI thread
            // and off the tokio runtime.
            std::thread::spawn(move || {
                let result = match action {
                    _ if no_keyring => Err("the OS keyring is turned off in this session; set RUNWARE_API_KEY instead".to_string()),
                    Some(text) => match crate::runware::ApiKey::new(&text) {
                        Some(key) => key
                            .store_in_keyring()
                            .map(|()| "Saved the Runware key in the OS keyring.".to_string())
                            .map_err(|e| format!("could not save the key in the OS keyring ({e}); set RUNWARE_API_KEY instead")),
                        None => Err("that is not a valid key".to_string()),
                    },
                    None => crate::runware::ApiKey::delete_from_keyring()
                        .map(|()| "Removed the Runware key from the OS keyring.".to_string())
                        .map_err(|e| format!("could not remove the key from the OS keyring ({e})")),
                };
                let _ = tx.send(Msg::KeyStored(result));
                ctx.request_repaint();
            });
        } else if !open {
            self.key_dialog = None;
        }
    }

    /// Runware keeps uploads at most 2048 px on the long side: offer to send a downscaled copy
    /// of photo and mask together (the photo being edited stays full size).
    fn downscale_window(&mut self, ctx: &egui::Context) {
        if !self.asking_downscale {
            return;
        }
        let Some(doc) = &self.doc else {
            self.asking_downscale = false;
            return;
        };
        let (w, h) = doc.image.dimensions();
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("confirm-downscale")).show(ctx, |ui| {
            ui.heading("Send a smaller copy?");
            ui.label(format!(
                "The photo is {w}x{h}. Runware stores images at most {0} px on the long side, so the mask may not line up. Send the photo and mask downscaled together to fit {0} px? Results are compared at full size.",
                crate::edit::RUNWARE_MAX_SIDE
            ));
            ui.horizontal(|ui| {
                if ui.button("Downscale and send").clicked() {
                    choice = Some(Some(true));
                }
                if ui.button("Send full size").clicked() {
                    choice = Some(Some(false));
                }
                if ui.button("Cancel").clicked() {
                    choice = Some(None);
                }
            });
        });
        if let Some(choice) = choice {
            self.asking_downscale = false;
            if let Some(downscale) = choice {
                self.send_downscaled = Some(downscale);
                self.submit(ctx);
            }
        }
    }
}

impl App {
    /// Writes the selected result, the kept results, or a labelled before/after sheet (PNG,
    /// off the UI thread).
    pub fn save_results_to(&mut self, ctx: &egui::Context, kind: DialogKind, path: PathBuf) {
        let Some(doc) = &self.doc else { return };
        let original = doc.image.clone();
        let selected = self.selected_result.unwrap_or(0);
        let images: Vec<(usize, Arc<RgbaImage>)> = match kind {
            DialogKind::SaveResult => self
                .results
                .get(selected)
                .map(|r| vec![(r.index, r.shown.clone())])
                .unwrap_or_default(),
            DialogKind::SaveKept => self
                .results
                .iter()
                .filter(|r| r.kept)
                .map(|r| (r.index, r.shown.clone()))
                .collect(),
            _ => self
                .results
                .iter()
                .filter(|r| !r.discarded)
                .map(|r| (r.index, r.shown.clone()))
                .collect(),
        };
        if images.is_empty() {
            return self.error("There is no result to save.");
        }
        self.busy = Some("Saving…".into());
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            // Lossless PNG unless the name asks for another format.
            let write = |p: &Path, img: &RgbaImage| -> Result<(), String> {
                let ext = p
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                let format = match ext.as_str() {
                    "jpg" | "jpeg" => crate::imageio::Format::Jpg,
                    "webp" => crate::imageio::Format::Webp,
                    _ => crate::imageio::Format::Png,
                };
                let bytes = crate::imageio::encode(img, format, 95).map_err(|e| e.to_string())?;
                std::fs::write(p, bytes)
                    .map_err(|e| format!("could not write {}: {e}", p.display()))
            };
            let result = match kind {
                DialogKind::SaveKept => images
                    .iter()
                    .try_for_each(|(i, img)| write(&path.join(format!("kept-result-{i}.png")), img))
                    .map(|()| (path.clone(), 0)),
                DialogKind::ExportComparison => {
                    let refs: Vec<&RgbaImage> = images.iter().map(|(_, i)| i.as_ref()).collect();
                    crate::compare::comparison_sheet(
                        &original,
                        &refs,
                        &crate::compare::SheetOptions::default(),
                    )
                    .map_err(|e| e.to_string())
                    .and_then(|sheet| write(&path, &sheet.image))
                    .map(|()| (path.clone(), 0))
                }
                _ => write(&path, &images[0].1).map(|()| (path.clone(), 0)),
            };
            let _ = tx.send(Msg::SavedFile(result));
            ctx.request_repaint();
        });
    }
}

impl App {
    /// Reads the history listing in the background.
    fn refresh_history(&mut self, ctx: &egui::Context) {
        let Some(root) = self.data_root.clone() else {
            return;
        };
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            if let Ok(history) = crate::session::History::open(&root) {
                let _ = tx.send(Msg::HistoryListed(history.list()));
                ctx.request_repaint();
            }
        });
    }

    /// Records the finished edit (photo, mask, prompt, settings, results and their figures) in
    /// the history, off the UI thread. The key is never part of it.
    fn record_history(&mut self, ctx: &egui::Context) {
        let (Some(root), Some((original, mask, request))) =
            (self.data_root.clone(), self.last_submit.take())
        else {
            return;
        };
        if self.results.is_empty() {
            return;
        }
        let results: Vec<HistoryResult> = self
            .results
            .iter()
            .map(|r| HistoryResult {
                shown: r.shown.clone(),
                raw: r.image.clone(),
                image_uuid: r.image_uuid.clone(),
                seed: r.seed,
                cost: r.cost,
                figures: r.figures,
            })
            .collect();
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        let budget = self.settings.history_budget_mib.saturating_mul(MIB);
        let batch = self.results_batch;
        std::thread::spawn(move || {
            let outcome = crate::session::History::open(&root).and_then(|mut history| {
                history.set_budget_bytes(budget);
                let settings = crate::session::settings_value(&request.settings)?;
                let new_results = results
                    .iter()
                    .map(|h| {
                        let mut r = crate::session::NewResult::new(
                            crate::session::Picture::Pixels(&h.shown),
                        );
                        r.raw = Some(crate::session::Picture::Pixels(&h.raw));
                        r.image_uuid = h.image_uuid.clone();
                        r.seed = h.seed.and_then(|s| u64::try_from(s).ok());
                        r.cost = h.cost;
                        r.outside = h.figures;
                        r
                    })
                    .collect();
                let recorded = history.record(&crate::session::NewEdit {
                    seed_image: crate::session::Picture::Pixels(&original),
                    mask: &mask,
                    prompt: &request.prompt,
                    settings,
                    results: new_results,
                })?;
                let _ = tx.send(Msg::Recorded(batch, recorded.id.clone()));
                Ok((recorded.pruned.len(), history.list()))
            });
            let _ =
                tx.send(Msg::HistoryPruned(outcome.map_err(|e| {
                    format!("could not record the edit in the history: {e}")
                })));
            ctx.request_repaint();
        });
    }

    /// A new listing: keeps the thumbnails of edits still listed and loads the missing ones in
    /// the background.
    fn history_listed(&mut self, ctx: &egui::Context, listing: crate::session::Listing) {
        self.history = listing.edits;
        if let Some(problem) = listing.problems.first() {
            self.error(format!(
                "The history entry {} is damaged ({}); it is skipped.",
                problem.name, problem.message
            ));
        }
        let listed: std::collections::HashSet<&str> =
            self.history.iter().map(|e| e.id.as_str()).collect();
        self.history_thumbnails
            .retain(|id, _| listed.contains(id.as_str()));
        let missing: Vec<crate::session::EditId> = self
            .history
            .iter()
            .filter(|e| !self.history_thumbnails.contains_key(e.id.as_str()))
            .map(|e| e.id.clone())
            .collect();
        let Some(root) = self.data_root.clone() else {
            return;
        };
        if missing.is_empty() {
            return;
        }
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let history = crate::session::History::open(&root);
            for id in missing {
                let result = match &history {
                    Ok(h) => h.load_thumbnail(&id).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(Msg::HistoryThumbnail(id.to_string(), result));
                ctx.request_repaint();
            }
        });
    }

    /// How many history thumbnails are on the GPU (tests).
    pub fn history_thumbnails_shown(&self) -> usize {
        self.history_thumbnails
            .values()
            .filter(|t| t.is_some())
            .count()
    }

    /// Sets the history's size budget and removes the oldest edits beyond it, in the
    /// background.
    pub fn set_history_budget(&mut self, ctx: &egui::Context, mib: u64) {
        self.settings.history_budget_mib = mib.max(MIN_HISTORY_BUDGET_MIB);
        self.history_budget_changed = false;
        let Some(root) = self.data_root.clone() else {
            return;
        };
        let budget = self.settings.history_budget_mib.saturating_mul(MIB);
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let outcome = crate::session::History::open(&root).and_then(|mut history| {
                history.set_budget_bytes(budget);
                let pruned = history.prune()?;
                Ok((pruned.len(), history.list()))
            });
            let _ = tx.send(Msg::HistoryPruned(outcome.map_err(|e| e.to_string())));
            ctx.request_repaint();
        });
    }

    /// The history list (thumbnail, prompt, results, age, size; reopen or delete) and its
    /// size budget.
    fn history_ui(&mut self, ui: &mut egui::Ui) {
        const THUMB: Vec2 = Vec2::new(72.0, 54.0);
        let ctx = ui.ctx().clone();
        egui::CollapsingHeader::new(format!("History ({})", self.history.len()))
            .id_salt("history")
            .show(ui, |ui| {
                if self.history.is_empty() {
                    ui.weak("Finished edits are kept here, with their photo, mask and results.");
                }
                let mut reopen = None;
                let mut ask_delete = None;
                let mut delete = None;
                let mut keep = false;
                for edit in &self.history {
                    ui.horizontal(|ui| {
                        match self.history_thumbnails.get(edit.id.as_str()) {
                            Some(Some(texture)) => {
                                let size = texture.size_vec2();
                                let scale = (THUMB.x / size.x).min(THUMB.y / size.y);
                                let image = egui::Image::new(texture)
                                    .fit_to_exact_size(size * scale)
                                    .sense(Sense::click());
                                if ui.add(image).on_hover_text("Reopen this edit").clicked() {
                                    reopen = Some(edit.id.clone());
                                }
                            }
                            Some(None) => {
                                ui.add_sized(
                                    THUMB,
                                    egui::Label::new(egui::RichText::new("no preview").weak()),
                                );
                            }
                            None => {
                                ui.add_sized(THUMB, egui::Spinner::new());
                            }
                        }
                        ui.vertical(|ui| {
                            let prompt: String = edit.prompt.chars().take(60).collect();
                            ui.label(if prompt.is_empty() {
                                "(no prompt)".to_string()
                            } else {
                                prompt
                            });
                            ui.weak(format!(
                                "{} result(s), {} kept · {}x{} · {} · {:.1} MiB",
                                edit.result_count,
                                edit.kept_count,
                                edit.image_size.0,
                                edit.image_size.1,
                                autosave::ago(edit.created_unix_ms),
                                edit.bytes as f64 / MIB as f64
                            ));
                            let confirming = self.history_delete_pending.as_ref() == Some(&edit.id);
                            if confirming {
                                ui.label("Delete this edit and its results?");
                            }
                            ui.horizontal(|ui| {
                                if confirming {
                                    if ui.small_button("Yes, delete").clicked() {
                                        delete = Some(edit.id.clone());
                                    }
                                    if ui.small_button("No").clicked() {
                                        keep = true;
                                    }
                                } else {
                                    if ui.small_button("Reopen").clicked() {
                                        reopen = Some(edit.id.clone());
                                    }
                                    if ui.small_button("Delete").clicked() {
                                        ask_delete = Some(edit.id.clone());
                                    }
                                }
                            });
                        });
                    });
                }
                if keep {
                    self.history_delete_pending = None;
                }
                if ask_delete.is_some() {
                    self.history_delete_pending = ask_delete;
                }
                self.history_budget_ui(ui);
                let Some(root) = self.data_root.clone() else {
                    return;
                };
                if let Some(id) = reopen {
                    self.busy = Some("Reopening the edit…".into());
                    let tx = self.tx.clone();
                    let ctx = ctx.clone();
                    let root = root.clone();
                    std::thread::spawn(move || {
                        let result = crate::session::History::open(&root)
                            .and_then(|h| h.reopen(&id))
                            .map(Box::new)
                            .map_err(|e| e.to_string());
                        let _ = tx.send(Msg::Reopened(result));
                        ctx.request_repaint();
                    });
                }
                if let Some(id) = delete {
                    self.history_delete_pending = None;
                    match crate::session::History::open(&root).and_then(|h| h.delete(&id)) {
                        Ok(()) => self.info("Deleted the edit from the history."),
                        Err(e) => self.error(format!("could not delete the edit: {e}")),
                    }
                    self.refresh_history(&ctx);
                }
            });
    }

    /// "Keep up to N MiB": the oldest edits beyond it are removed once the value is set.
    fn history_budget_ui(&mut self, ui: &mut egui::Ui) {
        let used: u64 = self.history.iter().map(|e| e.bytes).sum();
        let mut mib = self.settings.history_budget_mib;
        let response = ui
            .horizontal(|ui| {
                let label = ui.label("Keep up to");
                let response = ui
                    .add(
                        egui::DragValue::new(&mut mib)
                            .range(MIN_HISTORY_BUDGET_MIB..=1024 * 1024)
                            .speed(8.0)
                            .suffix(" MiB"),
                    )
                    .labelled_by(label.id)
                    .on_hover_text("The oldest edits are removed when the history grows past this");
                ui.weak(format!("({:.1} MiB used)", used as f64 / MIB as f64));
                response
            })
            .inner;
        if mib != self.settings.history_budget_mib {
            self.settings.history_budget_mib = mib;
            self.history_budget_changed = true;
        }
        if self.history_budget_changed && !response.dragged() && !response.has_focus() {
            let ctx = ui.ctx().clone();
            self.set_history_budget(&ctx, mib);
        }
    }

    /// Puts saved work back: the photo with its mask (a fresh undo history), the prompt, and the
    /// edit settings as recorded (kept as they are when the record's do not parse); clears the
    /// results, which belong to the work replaced.
    fn load_work(
        &mut self,
        mut doc: Document,
        mask: crate::mask::Mask,
        prompt: String,
        settings: &serde_json::Value,
    ) {
        doc.editor.replace("Restore", mask);
        doc.editor.history_mut().clear();
        self.set_document(doc);
        self.form.request.prompt = prompt;
        if let Ok(settings) = serde_json::from_value(settings.clone()) {
            self.form.request.settings = settings;
        }
        self.results.clear();
        self.selected_result = None;
    }

    /// Restores a past edit: photo, mask, prompt and settings, and its results.
    fn restore_edit(&mut self, ctx: &egui::Context, edit: crate::session::ReopenedEdit) {
        self.results_batch += 1;
        self.results_edit = Some(edit.record.id.clone());
        let seed = Arc::new(edit.seed);
        self.results_context = Some(submit::CompareContext::new(
            seed.clone(),
            edit.mask.clone(),
            self.settings.compare,
        ));
        self.load_work(
            Document::new(Arc::unwrap_or_clone(seed), "reopened edit".into(), None),
            edit.mask,
            edit.record.prompt.clone(),
            &edit.record.settings,
        );
        let mut raws = edit.raws.into_iter();
        for (i, (picture, record)) in edit
            .results
            .into_iter()
            .zip(edit.record.results.iter())
            .enumerate()
        {
            let raw = raws.next().flatten();
            match picture {
                Ok(image) => {
                    let image = Arc::new(image);
                    self.results.push(ResultEntry {
                        index: i + 1,
                        // Without the raw output, the recorded picture stands in for it.
                        image: raw.map_or_else(|| image.clone(), Arc::new),
                        shown: image.clone(),
                        figures: record.outside,
                        heatmap: None,
                        textures: None,
                        kept: record.kept,
                        discarded: false,
                        thumbnail: submit::thumbnail(ctx, &format!("history-result-{i}"), &image),
                        image_uuid: record.image_uuid.clone(),
                        seed: record.seed.and_then(|s| i64::try_from(s).ok()),
                        cost: record.cost,
                        path: None,
                        history_slot: i,
                    });
                }
                Err(e) => self.error(format!("result {} of that edit is damaged: {e}", i + 1)),
            }
        }
        self.info(format!(
            "Reopened the edit \"{}\".",
            edit.record.prompt.chars().take(40).collect::<String>()
        ));
        // Heatmaps are not stored: compute them (and the pictures as the current keep-outside
        // setting shows them) in the background.
        self.recomposite(ctx);
    }

    /// Stores a keep star in the history entry of the results, in the background (once the
    /// entry exists; stars given before are stored when it is recorded).
    fn store_kept(&mut self, ctx: &egui::Context, slot: usize, kept: bool) {
        let (Some(root), Some(id)) = (self.data_root.clone(), self.results_edit.clone()) else {
            return;
        };
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        let lock = self.history_writes.clone();
        std::thread::spawn(move || {
            let _guard = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let result = crate::session::History::open(&root)
                .and_then(|h| h.set_kept(&id, slot, kept))
                .map_err(|e| e.to_string());
            let _ = tx.send(Msg::KeptStored(result));
            ctx.request_repaint();
        });
    }

    /// Compares every result again with the current keep-outside setting, in the background;
    /// each replaces its picture, figures and heatmap as it finishes.
    fn recomposite(&mut self, ctx: &egui::Context) {
        self.results_generation += 1;
        let Some(context) = self.results_context.clone() else {
            return;
        };
        let jobs: Vec<(usize, Arc<RgbaImage>)> = self
            .results
            .iter()
            .map(|r| (r.index, r.image.clone()))
            .collect();
        if jobs.is_empty() {
            return;
        }
        self.recompositing = jobs.len();
        self.busy = Some(if self.settings.compare.keep_outside {
            "Compositing the results over the original…".into()
        } else {
            "Showing the results as returned…".into()
        });
        let keep_outside = self.settings.compare.keep_outside;
        let generation = self.results_generation;
        let tx = self.tx.clone();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            for (index, raw) in jobs {
                let result = context.recheck(&raw, keep_outside);
                let _ = tx.send(Msg::Recomposited(generation, index, Box::new(result)));
                ctx.request_repaint();
            }
        });
    }
}

/// Autosave, the offer to recover work after a crash, and quitting with unsaved changes.
impl App {
    /// What the autosaved work is made of, beside photo, mask and prompt: the photo's name and
    /// path, and the edit settings (never the key, never reference images).
    fn work_settings(&self) -> Option<serde_json::Value> {
        let doc = self.doc.as_ref()?;
        Some(serde_json::json!({
            "document": { "name": doc.name, "path": doc.path },
            "edit": crate::session::settings_value(&self.form.request.settings).ok()?,
        }))
    }

    fn work_key(&self) -> Option<WorkKey> {
        Some(WorkKey {
            mask_generation: self.mask_generation,
            prompt: self.form.request.prompt.clone(),
            settings: self.work_settings()?,
        })
    }

    /// Hands the work to the autosave thread when it changed since the last save (checked every
    /// couple of seconds, or now when `force`).
    fn autosave_tick(&mut self, ctx: &egui::Context, force: bool) {
        let now = std::time::Instant::now();
        let Some(saver) = &self.autosave else { return };
        if saver.phase != Phase::Running {
            return;
        }
        if !force && let Err(wait) = saver.due(now) {
            ctx.request_repaint_after(wait);
            return;
        }
        let Some(key) = self.work_key() else { return };
        let work = match &self.doc {
            Some(doc) if saver.needs_save(&key) => Some(OwnedWork {
                image: doc.image.clone(),
                mask: doc.editor.mask().clone(),
                prompt: key.prompt.clone(),
                settings: key.settings.clone(),
            }),
            _ => None,
        };
        if let Some(saver) = &mut self.autosave {
            saver.check(now, key, work);
        }
        ctx.request_repaint_after(autosave::AUTOSAVE_EVERY);
    }

    /// Autosaves the current work now, if it changed, and waits until it is on disk. `false`
    /// when autosave is not running (starting, offering recovered work, or off).
    pub fn autosave_now(&mut self, ctx: &egui::Context) -> bool {
        if !self
            .autosave
            .as_ref()
            .is_some_and(|s| s.phase == Phase::Running)
        {
            return false;
        }
        self.autosave_tick(ctx, true);
        self.autosave.as_ref().is_some_and(|s| s.flush())
    }

    /// Has autosave read what the previous session left (and is it running or offering)?
    pub fn autosave_ready(&self) -> bool {
        self.autosave
            .as_ref()
            .is_some_and(|s| matches!(s.phase, Phase::Running | Phase::Offering))
    }

    /// Is work from a session that did not exit cleanly on offer?
    pub fn is_offering_recovery(&self) -> bool {
        self.recovery.is_some()
    }

    /// A clean exit: the autosaved work is removed (the next start offers nothing).
    pub fn end_session(&mut self) {
        if let Some(saver) = &mut self.autosave {
            saver.finish();
        }
    }

    fn autosave_report(&mut self, report: autosave::Report) {
        let Some(saver) = &mut self.autosave else {
            return;
        };
        match report {
            autosave::Report::Started { recovered, problem } => {
                saver.phase = if recovered.is_some() {
                    Phase::Offering
                } else {
                    Phase::Running
                };
                self.recovery_marked = recovered
                    .as_ref()
                    .map_or(0, |w| w.mask.count_at_least(crate::mask::THRESHOLD));
                self.recovery = recovered;
                if let Some(problem) = problem {
                    self.error(format!(
                        "The work autosaved when touchup last stopped could not be read \
                         ({problem}); it will be replaced by the next autosave."
                    ));
                }
            }
            autosave::Report::Saved(Ok(())) => saver.failing = false,
            autosave::Report::Saved(Err(e)) => {
                let first = !saver.failing;
                saver.failing = true;
                if first {
                    self.error(format!(
                        "Autosave failed: {e}. Save the mask (Ctrl+S) to keep your work."
                    ));
                }
            }
        }
    }

    /// Puts the recovered work back: photo, mask, prompt and settings.
    pub fn restore_recovered(&mut self) {
        let Some(work) = self.recovery.take() else {
            return;
        };
        let work = *work;
        let document = &work.settings["document"];
        let name = document["name"]
            .as_str()
            .unwrap_or("recovered work")
            .to_string();
        let path = document["path"].as_str().map(PathBuf::from);
        self.load_work(
            Document::new(work.image, name.clone(), path),
            work.mask,
            work.prompt,
            &work.settings["edit"],
        );
        // Recovered marks were never saved: opening another photo asks first.
        self.exported_generation = self.mask_generation.wrapping_sub(1);
        self.comparing = false;
        if let Some(saver) = &mut self.autosave {
            saver.phase = Phase::Running;
        }
        self.info(format!("Restored your work on {name}."));
    }

    /// Declines the recovered work; it is removed from disk.
    pub fn discard_recovered(&mut self) {
        if self.recovery.take().is_none() {
            return;
        }
        if let Some(saver) = &mut self.autosave {
            saver.discard();
            saver.phase = Phase::Running;
        }
        self.info("Discarded the autosaved work.");
    }

    fn recovery_window(&mut self, ctx: &egui::Context) {
        let Some(work) = &self.recovery else { return };
        let name = work.settings["document"]["name"]
            .as_str()
            .unwrap_or("a photo")
            .to_string();
        let (w, h) = work.image.dimensions();
        let marked = self.recovery_marked;
        let prompt: String = work.prompt.chars().take(80).collect();
        let saved = autosave::ago(work.saved_unix_ms);
        let mut text = format!(
            "touchup did not close cleanly last time. Your work was autosaved: {name} \
             ({w}x{h}), {marked} marked pixels, saved {saved}."
        );
        if !prompt.is_empty() {
            text.push_str(&format!("\nPrompt: \"{prompt}\""));
        }
        // No Escape: the work stays on offer until the user picks one.
        let answer = ask(
            ctx,
            "recover-work",
            "Recover your work?",
            &text,
            &["Restore", "Discard"],
            None,
        )
        .map(|i| i == 0);
        match answer {
            Some(true) => self.restore_recovered(),
            Some(false) => self.discard_recovered(),
            None => {}
        }
    }

    /// Closing the window with an unsaved mask asks first.
    fn quit_window(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested())
            && !self.quit_confirmed
            && self.has_unsaved_mask()
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirming_quit = true;
        }
        if !self.confirming_quit {
            return;
        }
        let choice = ask(
            ctx,
            "confirm-quit",
            "Quit touchup?",
            "The mask has changes that are not saved.",
            &["Save mask…", "Quit without saving", "Keep editing"],
            Some(2),
        );
        match choice {
            Some(0) => {
                self.confirming_quit = false;
                self.command(Command::SaveMask);
            }
            Some(1) => {
                self.confirming_quit = false;
                self.quit_confirmed = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Some(2) => self.confirming_quit = false,
            _ => {}
        }
    }
}

/// A modal question: a heading, an explanation and a row of buttons; returns the index of the
/// button clicked. Escape (or a click beside the dialog) answers `escape` when there is one.
fn ask(
    ctx: &egui::Context,
    id: &str,
    heading: &str,
    text: &str,
    buttons: &[&str],
    escape: Option<usize>,
) -> Option<usize> {
    let mut choice = None;
    let modal = egui::Modal::new(egui::Id::unique(id)).show(ctx, |ui| {
        ui.set_max_width(460.0);
        ui.heading(heading);
        ui.label(text);
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            for (i, label) in buttons.iter().enumerate() {
                if ui.button(*label).clicked() {
                    choice = Some(i);
                }
            }
        });
    });
    if choice.is_none() && modal.should_close() {
        choice = escape;
    }
    choice
}
