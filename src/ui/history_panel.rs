//! The history of finished edits: recorded on disk in the background, listed with thumbnails,
//! age and size, reopened, deleted (after a second click), and kept within a size budget.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use egui::{Sense, Vec2};
use image::RgbaImage;

use super::actions::Action;
use super::autosave;
use super::results::HistoryResult;
use super::settings::{MIB, MIN_HISTORY_BUDGET_MIB};
use super::status::StatusLine;
use super::work::{Msg, Worker};
use crate::edit::EditRequest;
use crate::mask::Mask;
use crate::session::{EditId, EditSummary, History, Listing};

/// The history part of the app.
pub struct HistoryPanel {
    /// Where the history lives; `None`: no data folder, nothing is recorded.
    root: Option<PathBuf>,
    pub edits: Vec<EditSummary>,
    /// Thumbnails of the listed edits by id (`None`: the file could not be read).
    thumbnails: HashMap<String, Option<egui::TextureHandle>>,
    /// The edit whose Delete was clicked, waiting for "Yes, delete".
    delete_pending: Option<EditId>,
    /// The budget was changed and the history not yet pruned to it.
    budget_changed: bool,
    /// Serializes writes of keep stars to the history (each rewrites the entry's record).
    writes: Arc<Mutex<()>>,
}

/// What a finished edit records.
pub(crate) struct FinishedEdit {
    pub original: Arc<RgbaImage>,
    pub mask: Mask,
    pub request: EditRequest,
    pub results: Vec<HistoryResult>,
    /// The results' batch, answered back with the new entry's id.
    pub batch: u64,
    /// The job it came from, told its entry's id.
    pub job: Option<u64>,
    /// The photo's name (recorded with the settings, so a reopened edit is called by it).
    pub photo_name: Option<String>,
}

/// Where a recorded edit's settings keep the photo's name.
pub(crate) const PHOTO_NAME_KEY: &str = "photo_name";

impl HistoryPanel {
    pub fn new(root: Option<PathBuf>) -> Self {
        Self {
            root,
            edits: Vec::new(),
            thumbnails: HashMap::new(),
            delete_pending: None,
            budget_changed: false,
            writes: Arc::new(Mutex::new(())),
        }
    }

    pub fn root(&self) -> Option<&PathBuf> {
        self.root.as_ref()
    }

    /// Reads the listing in the background.
    pub(crate) fn refresh(&self, worker: &Worker) {
        let Some(root) = self.root.clone() else {
            return;
        };
        let worker = worker.clone();
        std::thread::spawn(move || {
            if let Ok(history) = History::open(&root) {
                worker.send(Msg::HistoryListed(history.list()));
            }
        });
    }

    /// Records a finished edit (photo, mask, prompt, settings, results and their figures) off
    /// the UI thread, within the budget. The key is never part of it.
    pub(crate) fn record(&self, worker: &Worker, budget_mib: u64, edit: FinishedEdit) {
        let Some(root) = self.root.clone() else {
            return;
        };
        if edit.results.is_empty() {
            return;
        }
        let budget = budget_mib.saturating_mul(MIB);
        let worker = worker.clone();
        std::thread::spawn(move || {
            let outcome = History::open(&root).and_then(|mut history| {
                history.set_budget_bytes(budget);
                let mut settings = crate::session::settings_value(&edit.request.settings)?;
                if let (Some(name), Some(object)) = (&edit.photo_name, settings.as_object_mut()) {
                    object.insert(PHOTO_NAME_KEY.into(), name.clone().into());
                }
                let new_results = edit
                    .results
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
                    seed_image: crate::session::Picture::Pixels(&edit.original),
                    mask: &edit.mask,
                    prompt: &edit.request.prompt,
                    settings,
                    results: new_results,
                })?;
                worker.send(Msg::Recorded(edit.batch, edit.job, recorded.id.clone()));
                Ok((recorded.pruned.len(), history.list()))
            });
            worker.send(Msg::HistoryPruned(outcome.map_err(|e| {
                format!("could not record the edit in the history: {e}")
            })));
        });
    }

    /// A new listing: keeps the thumbnails of edits still listed and loads the missing ones in
    /// the background.
    pub(crate) fn listed(&mut self, worker: &Worker, status: &mut StatusLine, listing: Listing) {
        self.edits = listing.edits;
        if let Some(problem) = listing.problems.first() {
            status.error(format!(
                "The history entry {} is damaged ({}); it is skipped.",
                problem.name, problem.message
            ));
        }
        let listed: HashSet<&str> = self.edits.iter().map(|e| e.id.as_str()).collect();
        self.thumbnails.retain(|id, _| listed.contains(id.as_str()));
        let missing: Vec<EditId> = self
            .edits
            .iter()
            .filter(|e| !self.thumbnails.contains_key(e.id.as_str()))
            .map(|e| e.id.clone())
            .collect();
        let Some(root) = self.root.clone() else {
            return;
        };
        if missing.is_empty() {
            return;
        }
        let worker = worker.clone();
        std::thread::spawn(move || {
            let history = History::open(&root);
            for id in missing {
                let result = match &history {
                    Ok(h) => h.load_thumbnail(&id).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                worker.send(Msg::HistoryThumbnail(id.to_string(), result));
            }
        });
    }

    pub fn thumbnail_loaded(
        &mut self,
        ctx: &egui::Context,
        id: String,
        result: Result<RgbaImage, String>,
    ) {
        let texture = match result {
            Ok(image) => Some(super::edit_panel::submit::thumbnail(
                ctx,
                &format!("history-{id}"),
                &image,
            )),
            Err(e) => {
                tracing::warn!("history thumbnail of {id}: {e}");
                None
            }
        };
        self.thumbnails.insert(id, texture);
    }

    /// How many thumbnails are on the GPU.
    pub fn thumbnails_shown(&self) -> usize {
        self.thumbnails.values().filter(|t| t.is_some()).count()
    }

    /// Removes the oldest edits beyond `mib`, in the background.
    pub(crate) fn set_budget(&mut self, worker: &Worker, mib: u64) {
        self.budget_changed = false;
        let Some(root) = self.root.clone() else {
            return;
        };
        let budget = mib.saturating_mul(MIB);
        worker.thread(move || {
            let outcome = History::open(&root).and_then(|mut history| {
                history.set_budget_bytes(budget);
                let pruned = history.prune()?;
                Ok((pruned.len(), history.list()))
            });
            Msg::HistoryPruned(outcome.map_err(|e| e.to_string()))
        });
    }

    /// Stores a keep star in an entry, in the background; writes are serialized.
    pub(crate) fn store_kept(&self, worker: &Worker, id: EditId, slot: usize, kept: bool) {
        let Some(root) = self.root.clone() else {
            return;
        };
        let lock = self.writes.clone();
        worker.thread(move || {
            let _guard = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            Msg::KeptStored(
                History::open(&root)
                    .and_then(|h| h.set_kept(&id, slot, kept))
                    .map_err(|e| e.to_string()),
            )
        });
    }

    /// Reads an edit back in the background.
    pub(crate) fn reopen(&self, worker: &Worker, status: &mut StatusLine, id: EditId) {
        let Some(root) = self.root.clone() else {
            return;
        };
        status.busy("Reopening the edit…");
        worker.thread(move || {
            Msg::Reopened(
                History::open(&root)
                    .and_then(|h| h.reopen(&id))
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            )
        });
    }

    pub(crate) fn delete(&mut self, worker: &Worker, status: &mut StatusLine, id: &EditId) {
        self.delete_pending = None;
        let Some(root) = self.root.clone() else {
            return;
        };
        match History::open(&root).and_then(|h| h.delete(id)) {
            Ok(()) => status.info("Deleted the edit from the history."),
            Err(e) => status.error(format!("could not delete the edit: {e}")),
        }
        self.refresh(worker);
    }

    /// The history list (thumbnail, prompt, results, age, size; reopen or delete) and its
    /// size budget.
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        budget_mib: &mut u64,
        actions: &mut Vec<Action>,
    ) {
        egui::CollapsingHeader::new(format!("History ({})", self.edits.len()))
            .id_salt("history")
            .show(ui, |ui| {
                if self.edits.is_empty() {
                    ui.weak("Finished edits are kept here, with their photo, mask and results.");
                }
                let mut answer = None;
                for edit in &self.edits {
                    ui.horizontal(|ui| {
                        if let Some(a) = self.entry_ui(ui, edit, actions) {
                            answer = Some(a);
                        }
                    });
                }
                if let Some(pending) = answer {
                    self.delete_pending = pending;
                }
                self.budget_ui(ui, budget_mib, actions);
            });
    }

    /// One edit; returns a change of the delete question (`Some(None)`: answered No).
    fn entry_ui(
        &self,
        ui: &mut egui::Ui,
        edit: &EditSummary,
        actions: &mut Vec<Action>,
    ) -> Option<Option<EditId>> {
        const THUMB: Vec2 = Vec2::new(72.0, 54.0);
        let mut answer = None;
        match self.thumbnails.get(edit.id.as_str()) {
            Some(Some(texture)) => {
                let size = texture.size_vec2();
                let scale = (THUMB.x / size.x).min(THUMB.y / size.y);
                let image = egui::Image::new(texture)
                    .fit_to_exact_size(size * scale)
                    .sense(Sense::click());
                if ui.add(image).on_hover_text("Reopen this edit").clicked() {
                    actions.push(Action::ReopenEdit(edit.id.clone()));
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
                "{} · {} kept · {}x{} · {} · {:.1} MiB",
                super::results_count(edit.result_count),
                edit.kept_count,
                edit.image_size.0,
                edit.image_size.1,
                autosave::ago(edit.created_unix_ms),
                edit.bytes as f64 / MIB as f64
            ));
            let confirming = self.delete_pending.as_ref() == Some(&edit.id);
            if confirming {
                ui.label("Delete this edit and its results?");
            }
            ui.horizontal(|ui| {
                if confirming {
                    if ui.small_button("Yes, delete").clicked() {
                        actions.push(Action::DeleteEdit(edit.id.clone()));
                    }
                    if ui.small_button("No").clicked() {
                        answer = Some(None);
                    }
                } else {
                    if ui.small_button("Reopen").clicked() {
                        actions.push(Action::ReopenEdit(edit.id.clone()));
                    }
                    if ui.small_button("Delete").clicked() {
                        answer = Some(Some(edit.id.clone()));
                    }
                }
            });
        });
        answer
    }

    /// "Keep up to N MiB": the oldest edits beyond it are removed once the value is set.
    fn budget_ui(&mut self, ui: &mut egui::Ui, budget_mib: &mut u64, actions: &mut Vec<Action>) {
        let used: u64 = self.edits.iter().map(|e| e.bytes).sum();
        let mut mib = *budget_mib;
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
        if mib != *budget_mib {
            *budget_mib = mib;
            self.budget_changed = true;
        }
        if self.budget_changed && !response.dragged() && !response.has_focus() {
            self.budget_changed = false;
            actions.push(Action::SetHistoryBudget(mib));
        }
    }
}
