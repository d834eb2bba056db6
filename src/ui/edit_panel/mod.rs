//! The right panel's edit part: the engine, the form (`form`), the edit area, and the jobs a
//! submission starts (`jobs`: on the core's queue, Runware or the local engine; results pasted
//! into the photo, saved and compared as they arrive; `submit`: what the App keeps of them). A
//! finished job hands its results to the results part and its record to the history.

pub mod form;
pub mod jobs;
pub mod submit;

use std::sync::Arc;

use super::actions::Action;
use super::document::{DocumentState, SplitAnswer};
use super::files::DialogKind;
use super::history_panel::FinishedEdit;
use super::results::Results;
use super::settings::{Backend, Settings};
use super::status::StatusLine;
use super::work::Worker;
use crate::edit::{EditRequest, ImageInput};
use form::FormState;
use jobs::{Jobs, Snapshot};

/// The edit part of the app: the form and the jobs it submitted.
pub struct EditPanel {
    pub form: FormState,
    pub jobs: Jobs,
    /// The Runware client, made at the first submit (or given by the caller).
    client: Option<Arc<crate::runware::Client>>,
    /// A Runware key is configured (checked at start and when the key dialog answers).
    pub has_key: bool,
}

/// Why Submit did not start.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NotSent {
    /// The mask's groups lie too far apart for one area: how to send them must be answered
    /// first.
    AskSplit,
    /// The reason is shown in the form or the status bar.
    Refused,
}

/// The edit area's settings: around the mask (with its context) or the whole photo, and the
/// colour match at the mask's edge.
fn area_ui(ui: &mut egui::Ui, settings: &mut Settings, actions: &mut Vec<Action>) {
    use crate::edit::{AreaMode, MAX_CONTEXT_PX};
    let area = &mut settings.area;
    ui.horizontal(|ui| {
        let label = ui.label("Edit area");
        egui::ComboBox::from_id_salt("edit-area")
            .selected_text(area.mode.label())
            .show_ui(ui, |ui| {
                for m in [AreaMode::Mask, AreaMode::Whole] {
                    ui.selectable_value(&mut area.mode, m, m.label());
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(
                "Around the mask: only the part around the mask is sent, at the photo's own \
                 resolution, and pasted back. Whole photo: the photo is sent downscaled to 2048 px.",
            );
        if ui
            .small_button("Follow the mask")
            .on_hover_text("Put the edit area back around the mask after moving it by hand")
            .clicked()
        {
            actions.push(Action::FollowMask);
        }
    });
    if area.mode == AreaMode::Mask {
        ui.horizontal(|ui| {
            let label = ui.label("Context");
            let mut auto = area.context.is_none();
            if ui
                .checkbox(&mut auto, "auto")
                .on_hover_text("A quarter of the masked box's size, at least 128 px on each side")
                .changed()
            {
                area.context = if auto {
                    None
                } else {
                    Some(crate::edit::MIN_CONTEXT_PX)
                };
            }
            if let Some(c) = &mut area.context {
                ui.add(
                    egui::DragValue::new(c)
                        .range(0..=MAX_CONTEXT_PX)
                        .suffix(" px"),
                )
                .labelled_by(label.id)
                .on_hover_text("Photo pixels around the mask on each side");
            }
        });
    }
    ui.checkbox(&mut settings.colour_match, "Match colours at the edge")
        .on_hover_text(
            "Correct a result whose colours drifted (brighter, warmer) where nothing was to \
             change, so it meets the photo without a step at the mask's edge.",
        );
}

impl EditPanel {
    pub fn new(client: Option<Arc<crate::runware::Client>>, request: EditRequest) -> Self {
        Self {
            form: FormState {
                request,
                ..FormState::default()
            },
            jobs: Jobs::default(),
            client,
            has_key: crate::runware::ApiKey::from_env().is_some(),
        }
    }

    /// Some job is queued or running.
    pub fn is_running(&self) -> bool {
        self.jobs.active() > 0
    }

    /// The engine in use: the user's pick, else Runware when a key is configured.
    pub fn backend(&self, settings: &Settings) -> Backend {
        settings
            .backend
            .unwrap_or(if self.client.is_some() || self.has_key {
                Backend::Runware
            } else {
                Backend::Local
            })
    }

    /// The key changed: the next submit makes a new client.
    pub fn key_changed(&mut self, has_key: bool) {
        self.client = None;
        self.has_key = has_key;
    }

    /// The engine choice and the form.
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        actions: &mut Vec<Action>,
    ) {
        ui.heading("Describe the change");
        let current = self.backend(settings);
        let mut backend = current;
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
        if Some(backend) != settings.backend && backend != current {
            settings.backend = Some(backend);
        }
        let no_key = !self.has_key && self.client.is_none();
        match backend {
            Backend::Local => {
                ui.weak(if no_key {
                    "No Runware key is configured (RUNWARE_API_KEY), so edits run on this computer."
                } else {
                    "Edits run on this computer: the masked area is refilled and quoted text is drawn in."
                });
                ui.horizontal(|ui| {
                    let label = ui.label("Fill");
                    egui::ComboBox::from_id_salt("local-fill")
                        .selected_text(settings.local_fill.label())
                        .show_ui(ui, |ui| {
                            for m in crate::local::FillMethod::ALL {
                                ui.selectable_value(&mut settings.local_fill, m, m.label());
                            }
                        })
                        .response
                        .labelled_by(label.id);
                });
            }
            Backend::Runware if no_key => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    "No Runware key: set RUNWARE_API_KEY before starting touchup.",
                );
            }
            Backend::Runware => {}
        }
        area_ui(ui, settings, actions);
        if let Some(action) = form::show(ui, &mut self.form) {
            actions.push(Action::Form(action));
        }
    }

    /// Stops the shown job (the one whose results are in view).
    pub fn cancel(&mut self, results: &Results) {
        if let Some(id) = self.jobs.shown(results.batch).map(|j| j.id) {
            self.jobs.cancel(id);
            self.form.progress = Some("Cancelling…".into());
        }
    }

    /// A file picked for the form: a task JSON to import or a reference image.
    pub fn attach(&mut self, status: &mut StatusLine, kind: DialogKind, bytes: Vec<u8>) {
        if kind == DialogKind::ImportRequest {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            return self.import(status, &text);
        }
        if let Err(e) = crate::imageio::decode(&bytes) {
            return status.error(format!("could not use that reference image: {e}"));
        }
        let input = ImageInput::bytes(bytes);
        let request = &mut self.form.request;
        match kind {
            DialogKind::StyleReference => request.style_reference_images.push(input),
            DialogKind::CharacterReference => request.character_reference_image = Some(input),
            DialogKind::CharacterMask => request.character_reference_mask = Some(input),
            _ => {}
        }
    }

    pub fn import(&mut self, status: &mut StatusLine, text: &str) {
        match self.form.import(text) {
            Ok(()) => status.info("Imported the request into the form."),
            Err(e) => status.error(format!("could not import the request: {e}")),
        }
    }

    /// The request as it is sent for the current photo, mask and edit area (for "View
    /// request" and "Copy as cURL"): the area's crop of the photo and mask.
    pub fn request_with_images(
        &self,
        document: &DocumentState,
        settings: &Settings,
    ) -> Result<EditRequest, String> {
        let request = self.form.request.clone();
        let Some(doc) = document.current() else {
            return Ok(request);
        };
        let plan = document
            .edit_area(&settings.area)
            .ok_or("Open a photo first.")?
            .map_err(|e| e.to_string())?;
        crate::edit::area_request(
            &request,
            &doc.image,
            doc.editor.mask(),
            &plan.area,
            settings.polarity,
        )
        .map_err(|e| e.to_string())
    }

    /// Validates the edit and adds it to the jobs (it starts when a slot is free); its results
    /// are the ones shown. Nothing the user made changes, whatever happens.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn submit(
        &mut self,
        document: &DocumentState,
        settings: &Settings,
        results: &mut Results,
        worker: &Worker,
        runtime: Option<tokio::runtime::Handle>,
        status: &mut StatusLine,
    ) -> Result<(), NotSent> {
        let Some(doc) = document.current() else {
            status.error("Open a photo first.");
            return Err(NotSent::Refused);
        };
        let mut problems = self.form.form_problems();
        let empty_mask = doc.editor.mask().is_empty();
        if empty_mask {
            problems.push(crate::edit::FieldError {
                field: crate::edit::Field::MaskImage,
                message: "Paint over the part of the photo to change first: the mask is empty."
                    .into(),
            });
        }
        if !problems.is_empty() {
            let message = if empty_mask && problems.len() == 1 {
                "Paint over the part of the photo to change first: the mask is empty.".to_string()
            } else if empty_mask {
                "Paint over the part to change first (the mask is empty), and fix the highlighted fields."
                    .to_string()
            } else {
                "Fix the highlighted fields first.".to_string()
            };
            self.form.errors = problems;
            self.form.message = Some(message);
            return Err(NotSent::Refused);
        }
        let backend = self.backend(settings);
        let plan = match document.edit_area(&settings.area) {
            Some(Ok(plan)) => plan,
            Some(Err(e)) => {
                self.form.message = Some(format!("No edit area: {e}."));
                return Err(NotSent::Refused);
            }
            None => return Err(NotSent::Refused),
        };
        let answer = doc
            .split_answer
            .filter(|(g, _)| *g == document.generation)
            .map(|(_, a)| a);
        let areas: Vec<(crate::edit::EditArea, crate::mask::Mask)> = match answer {
            _ if !plan.split_advised => vec![(plan.area, doc.editor.mask().clone())],
            None => return Err(NotSent::AskSplit),
            Some(SplitAnswer::OneArea) => vec![(plan.area, doc.editor.mask().clone())],
            Some(SplitAnswer::Whole) => {
                let (w, h) = doc.image.dimensions();
                vec![(
                    crate::edit::EditArea::whole(w, h),
                    doc.editor.mask().clone(),
                )]
            }
            Some(SplitAnswer::PerGroup) => plan
                .groups
                .iter()
                .map(|(g, a)| (*a, crate::edit::mask_of_group(doc.editor.mask(), *g)))
                .collect(),
        };
        let client = match self.client_for(backend) {
            Ok(c) => c,
            Err(e) => {
                self.form.show_failure(&e);
                status.error(e.to_string());
                return Err(NotSent::Refused);
            }
        };
        if runtime.is_none() {
            status.error("The background runtime is not running; restart touchup.");
            return Err(NotSent::Refused);
        }
        let mut first = None;
        let count = areas.len();
        for (area, mask) in areas {
            let compare = crate::ui::edit_panel::submit::CompareContext::new(
                doc.image.clone(),
                mask.clone(),
                settings.compare,
            );
            let snapshot = Snapshot {
                image: doc.image.clone(),
                mask,
                name: doc.name.clone(),
                path: doc.path.clone(),
                form_request: self.form.request.clone(),
                area,
                polarity: settings.polarity,
                colour_match: settings.colour_match,
                compare: compare.clone(),
                local: settings.local_options(),
                root: settings.results_root(),
                client: client.clone(),
                runtime: runtime.clone(),
            };
            let id = self.jobs.add(worker.ctx(), backend, snapshot);
            if first.is_none() {
                first = Some(id);
                results.start(compare, &self.form.request.prompt, status);
                self.jobs.show(id, results.batch);
            }
        }
        let Some(id) = first else {
            return Err(NotSent::Refused);
        };
        self.form.errors.clear();
        self.form.message = None;
        self.form.busy = true;
        self.form.progress = Some(if count > 1 {
            format!("Sent {count} jobs, one per group of the mask; job {id} is shown…")
        } else if self.jobs.active() > 1 {
            format!("Job {id} added to the queue…")
        } else {
            "Starting…".into()
        });
        Ok(())
    }

    /// The Runware client for `backend` (made at first use); `None` for the local engine.
    fn client_for(
        &mut self,
        backend: Backend,
    ) -> Result<Option<Arc<crate::runware::Client>>, crate::runware::RunwareError> {
        Ok(match (backend, &self.client) {
            (Backend::Local, _) => None,
            (Backend::Runware, Some(c)) => Some(c.clone()),
            (Backend::Runware, None) => {
                Some(self.client.insert(Arc::new(submit::make_client()?)).clone())
            }
        })
    }

    /// Queues again the unfinished jobs of an earlier session (their copies on disk stay until
    /// they end). They keep their engine; a Runware job with no key configured fails with the
    /// reason, and can be retried once there is one.
    pub(crate) fn requeue_offered(
        &mut self,
        ctx: &egui::Context,
        settings: &Settings,
        runtime: Option<tokio::runtime::Handle>,
        status: &mut StatusLine,
    ) {
        let Some(offered) = self.jobs.offered.take() else {
            return;
        };
        let root = settings.results_root();
        let n = offered.len();
        for jobs::Offered { job, request } in offered {
            let backend = Backend::from_engine(job.record.engine);
            let client = self.client_for(backend).unwrap_or(None);
            let image = Arc::new(job.image);
            let form_request = request;
            let (w, h) = image.dimensions();
            let area = crate::edit::EditArea::for_mask(&job.mask, &settings.area)
                .unwrap_or_else(|_| crate::edit::EditArea::whole(w, h));
            let snapshot = Snapshot {
                area,
                polarity: settings.polarity,
                colour_match: settings.colour_match,
                compare: submit::CompareContext::new(
                    image.clone(),
                    job.mask.clone(),
                    settings.compare,
                ),
                image,
                mask: job.mask,
                name: job.record.name,
                path: job.record.path,
                form_request,
                local: settings.local_options(),
                root: root.clone(),
                client,
                runtime: runtime.clone(),
            };
            self.jobs.add_kept(ctx, backend, snapshot, Some(job.key));
        }
        status.info(format!(
            "Queued {n} unfinished job(s) again; their results will appear in the Jobs list."
        ));
    }

    /// Starts queued jobs and takes in what the running ones reported; what the history
    /// records of those that ended.
    pub(crate) fn poll(
        &mut self,
        ctx: &egui::Context,
        concurrency: usize,
        results: &mut Results,
        status: &mut StatusLine,
    ) -> Vec<FinishedEdit> {
        self.jobs
            .poll(ctx, concurrency, results, &mut self.form, status)
    }
}
