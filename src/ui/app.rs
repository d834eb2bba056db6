//! The shell: [`App`] owns the parts of the editor and one command queue. Each frame
//! `logic` takes in what background work answered ([`super::messages`]), polls the running
//! edit, reads the shortcuts, and runs every queued action in one place
//! ([`super::actions::run`]); then `ui` lets each panel draw what it shows and queue what the
//! designer asks for. Input -> action -> handler -> state -> the next frame's drawing.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};

use super::actions::{self, Action};
use super::autosave::{AutosaveState, Work};
use super::canvas::Canvas;
use super::commands::{self, Command};
use super::dialogs::{Asking, Dialogs};
use super::document::{Document, DocumentState};
use super::edit_panel::EditPanel;
use super::files::FilePicker;
use super::history_panel::HistoryPanel;
use super::results::Results;
use super::settings::{SETTINGS_KEY, Settings};
use super::status::{PhotoLine, StatusLine};
use super::work::{Msg, Runtime, Worker};

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

/// The editor: its parts, the command queue, and the channel background work answers on.
pub struct App {
    pub settings: Settings,
    /// The open photo and its mask.
    pub document: DocumentState,
    /// The mask canvas: view, tool, gestures.
    pub canvas: Canvas,
    /// The edit form and the submission in flight.
    pub edit: EditPanel,
    /// The results of the current edit and the compare view.
    pub results: Results,
    pub history: HistoryPanel,
    pub dialogs: Dialogs,
    /// The native file dialog, or the built-in browser where there is none.
    pub files: FilePicker,
    pub status: StatusLine,
    pub(crate) autosave: AutosaveState,
    /// Actions queued by panels, menus and dialogs, run at the start of the next frame.
    pub(crate) queue: Vec<Action>,
    rx: Receiver<Msg>,
    pub(crate) worker: Worker,
    pub(crate) runtime: Runtime,
    pub(crate) no_keyring: bool,
    /// Set (from a signal handler's task) when the process was asked to stop.
    stop: Arc<AtomicBool>,
}

impl App {
    /// What the "groups far apart" question offers, while it is asked.
    fn split_offer(&self) -> Option<super::dialogs::SplitOffer> {
        if !self.dialogs.asking_split {
            return None;
        }
        let plan = self.document.edit_area(&self.settings.area)?.ok()?;
        let doc = self.document.current()?;
        Some(super::dialogs::SplitOffer {
            groups: plan.groups.len(),
            scale: plan.area.scale(),
            whole: crate::edit::EditArea::whole(doc.image.width(), doc.image.height()).scale(),
            pictures: self.edit.form.request.settings.results_wanted(),
            runware: self.edit.backend(&self.settings) == super::settings::Backend::Runware,
        })
    }

    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let settings = cc
            .storage
            .and_then(|s| eframe::get_value::<Settings>(s, SETTINGS_KEY))
            .unwrap_or_default();
        Self::with_settings(&cc.egui_ctx, settings, options)
    }

    pub fn with_settings(ctx: &egui::Context, settings: Settings, options: AppOptions) -> Self {
        ctx.options_mut(|o| o.zoom_with_keyboard = false);
        // The tool strip's icons.
        egui_material_icons::initialize(ctx);
        let (tx, rx) = channel();
        let runtime = Runtime::new(options.runtime);
        let worker = Worker::new(tx, ctx.clone(), runtime.handle());
        let data_root = options
            .data_root
            .or_else(|| crate::session::default_root().ok());
        let mut app = Self {
            edit: EditPanel::new(options.client, settings.edit.clone()),
            settings,
            document: DocumentState::default(),
            canvas: Canvas::default(),
            results: Results::default(),
            history: HistoryPanel::new(data_root.clone()),
            dialogs: Dialogs::default(),
            files: FilePicker::default(),
            status: StatusLine::default(),
            autosave: AutosaveState::default(),
            queue: Vec::new(),
            rx,
            worker,
            runtime,
            no_keyring: options.no_keyring,
            stop: Arc::default(),
        };
        app.history.refresh(&app.worker);
        match options.image {
            Some(path) => app.act(Action::OpenPath(path)),
            None => actions::show_photo(&mut app, Document::demo()),
        }
        if let Some(root) = data_root {
            app.autosave =
                AutosaveState::start(&root, &app.worker, Work::of(&app.document, &app.edit));
            app.edit.jobs.keep_under(&root);
            if let Some(store) = app.edit.jobs.leftovers() {
                app.worker.thread(move || {
                    let (offered, problems) = super::edit_panel::jobs::load_offered(&store);
                    Msg::UnfinishedJobs(offered, problems)
                });
            }
        }
        app
    }

    /// Queues a command; it runs at the start of the next frame's logic.
    pub fn command(&mut self, command: Command) {
        self.act(Action::Command(command));
    }

    /// Queues an action; it runs at the start of the next frame's logic.
    pub fn act(&mut self, action: Action) {
        self.queue.push(action);
    }

    /// Something runs in the background (the status bar shows a spinner).
    pub fn is_busy(&self) -> bool {
        self.status.busy.is_some()
    }

    /// Autosaves the current work now, if it changed, and waits until it is on disk. `false`
    /// when autosave is not running (starting, offering recovered work, or off).
    pub fn autosave_now(&mut self, ctx: &egui::Context) -> bool {
        let work = Work::of(&self.document, &self.edit);
        self.autosave.save_now(ctx, work)
    }

    /// Has autosave read what the previous session left (and is it running or offering)?
    pub fn autosave_ready(&self) -> bool {
        self.autosave.ready()
    }

    /// Is work from a session that did not exit cleanly on offer?
    pub fn is_offering_recovery(&self) -> bool {
        self.autosave.is_offering()
    }

    /// A clean exit: the autosaved work is removed (the next start offers nothing).
    pub fn end_session(&mut self) {
        self.autosave.finish();
        self.edit.jobs.end_session();
    }

    /// The flag that asks the app to stop (SIGTERM, SIGINT, SIGHUP): set it, then
    /// `request_repaint`; the next frame saves the work and closes the window.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Asks the app to stop as on a signal (see [`Self::stop_flag`]).
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Stopped by a signal: the work is saved and kept for the next start, and the window
    /// closes without asking about the unsaved mask.
    fn stop_for_signal(&mut self, ctx: &egui::Context) {
        let work = Work::of(&self.document, &self.edit);
        let kept = self.autosave.stop(ctx, work);
        // Unfinished jobs stay on disk too, offered back at the next start.
        self.edit.jobs.keep_on_exit = true;
        tracing::info!(kept, "stopped by a signal; closing");
        self.dialogs.confirm_quit();
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    /// The per-frame work that draws nothing (also run while the window is hidden).
    pub fn frame_logic(&mut self, ctx: &egui::Context) {
        if self.stop.swap(false, Ordering::SeqCst) {
            return self.stop_for_signal(ctx);
        }
        if let Some(t) = &mut self.document.textures {
            t.frame_bytes = 0;
        }
        while let Ok(msg) = self.rx.try_recv() {
            super::messages::handle(self, ctx, msg);
        }
        self.take_dropped_files(ctx);
        let concurrency = self.settings.job_concurrency;
        let finished = self
            .edit
            .poll(ctx, concurrency, &mut self.results, &mut self.status);
        for edit in finished {
            let budget = self.settings.history_budget_mib;
            self.history.record(&self.worker, budget, edit);
        }
        let mut queued = std::mem::take(&mut self.queue);
        queued.extend(
            commands::from_shortcuts(ctx, self.results.comparing)
                .into_iter()
                .map(Action::Command),
        );
        for action in queued {
            actions::run(self, ctx, action);
        }
        self.document.send_pending_overlay(ctx);
        self.results.read_lettering(&self.worker);
        let work = Work::of(&self.document, &self.edit);
        self.autosave.tick(ctx, false, work);
        if self.is_busy() {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    /// A file dropped on the window opens like File > Open.
    fn take_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        let Some(file) = dropped.into_iter().next() else {
            return;
        };
        let path = file.path().to_path_buf();
        if !path.as_os_str().is_empty() {
            return self.act(Action::OpenPath(path));
        }
        match file.bytes() {
            Ok(bytes) => super::document::open_bytes(
                &self.worker,
                &mut self.status,
                bytes,
                "dropped image".into(),
            ),
            Err(e) => self
                .status
                .error(format!("could not read the dropped file: {e}")),
        }
    }

    /// What the modal questions ask about this frame.
    fn asking(&mut self) -> Asking {
        Asking {
            replacing: self
                .document
                .replace_pending
                .as_ref()
                .map(|d| d.name.clone()),
            split: self.split_offer(),
            recovery: self.autosave.offer(),
            unsaved_mask: self.document.has_unsaved_mask(),
            jobs_active: self.edit.jobs.active(),
            unfinished_jobs: self.edit.jobs.offered.as_ref().and_then(|o| {
                let first = o.first()?;
                Some((o.len(), first.job.record.prompt.chars().take(60).collect()))
            }),
            damaged: self
                .document
                .damaged_pending
                .as_ref()
                .map(|d| d.what.clone()),
        }
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.frame_logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut queue = std::mem::take(&mut self.queue);
        let history = self.document.current().map(|d| d.editor.history());
        let menu = super::menu::MenuState {
            has_doc: self.document.current().is_some(),
            has_results: !self.results.is_empty(),
            can_undo: history.is_some_and(|h| h.can_undo()),
            can_redo: history.is_some_and(|h| h.can_redo()),
        };
        egui::Panel::top("menu").show(ui, |ui| super::menu::ui(ui, &menu, &mut queue));
        let marked = self.document.marked_pixels();
        let ppp = ui.ctx().pixels_per_point();
        egui::Panel::bottom("status").show(ui, |ui| {
            let photo = self.document.current().map(|d| PhotoLine {
                name: &d.name,
                size: d.image.dimensions(),
                marked,
                zoom: self
                    .canvas
                    .view_ready()
                    .then_some(self.canvas.view.zoom * ppp),
                pointer: self.canvas.hover_image_pos,
            });
            self.status.ui(ui, photo);
        });
        // Panels keep their width whatever they hold: long text wraps, it never pushes the
        // canvas away.
        egui::Panel::left("tools")
            .resizable(true)
            .default_size(260.0)
            .size_range(200.0..=420.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    super::tools_panel::ui(
                        ui,
                        &mut self.settings,
                        self.canvas.tool,
                        &mut self.document,
                        &mut queue,
                    )
                });
            });
        egui::Panel::right("edit")
            .resizable(true)
            .default_size(340.0)
            .size_range(300.0..=520.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.edit.form.photo_warning =
                        self.document.current().and_then(|d| d.damage.clone());
                    self.edit.form.mask_empty = self.document.current().is_some() && marked == 0;
                    self.edit.ui(ui, &mut self.settings, &mut queue);
                    ui.separator();
                    let running = self.edit.form.busy;
                    let keep_outside = &mut self.settings.compare.keep_outside;
                    self.results.list_ui(ui, running, keep_outside, &mut queue);
                    ui.separator();
                    let budget = &mut self.settings.history_budget_mib;
                    self.history.ui(ui, budget, &mut queue);
                });
            });
        // The jobs sit under the canvas, between the side panels.
        if !self.edit.jobs.list().is_empty() {
            egui::Panel::bottom("jobs")
                .resizable(true)
                .default_size(130.0)
                .size_range(90.0..=420.0)
                .show(ui, |ui| {
                    let batch = self.results.batch;
                    let concurrency = &mut self.settings.job_concurrency;
                    self.edit.jobs.ui(ui, concurrency, batch, &mut queue);
                });
        }
        egui::CentralPanel::default()
            .frame(egui::Frame::NONE)
            .show(ui, |ui| {
                if self.results.comparing && !self.results.is_empty() {
                    self.results.compare_view.outside_kept = self.settings.compare.keep_outside;
                    self.results.compare_ui(ui, &mut self.document, &mut queue);
                } else {
                    self.results.comparing = false;
                    self.canvas.opening = self
                        .status
                        .busy
                        .as_deref()
                        .filter(|b| {
                            b.starts_with("Opening ") || b.starts_with("Reading the clipboard")
                        })
                        .map(str::to_string);
                    let form = &self.edit.form;
                    self.canvas.hint = form.mask_empty.then(|| {
                        use super::edit_panel::form::{EMPTY_MASK_PROBLEM, START_HINT};
                        let problem = form
                            .errors
                            .iter()
                            .any(|e| e.field == crate::edit::Field::MaskImage);
                        let text = if problem {
                            EMPTY_MASK_PROBLEM
                        } else {
                            START_HINT
                        };
                        (text.to_string(), problem)
                    });
                    self.canvas
                        .ui(ui, &mut self.document, &self.settings, &mut queue);
                }
            });
        let asking = self.asking();
        self.dialogs.ui(ui.ctx(), asking, &mut queue);
        if let Some((kind, path)) = self.files.ui(ui.ctx()) {
            queue.push(Action::Picked(kind, path));
        }
        queue.append(&mut self.queue);
        self.queue = queue;
    }

    /// Scroll positions and window places are not carried over between runs: the panels open
    /// at the top, with the engine and the prompt in view.
    fn persist_egui_memory(&self) -> bool {
        false
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.end_session();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.settings.edit = self.edit.form.request.clone();
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}
