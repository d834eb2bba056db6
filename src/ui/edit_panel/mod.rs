//! The right panel's edit part: the engine, the form (`form`), and the submission it starts
//! (`submit`: Runware or the local engine in the background, results decoded, saved and
//! compared as they arrive). A finished submission hands its results to the results part and
//! its record to the history.

pub mod form;
pub mod jobs;
pub mod submit;

use std::sync::Arc;

use super::actions::Action;
use super::document::DocumentState;
use super::files::DialogKind;
use super::history_panel::FinishedEdit;
use super::results::Results;
use super::settings::{Backend, Settings};
use super::status::StatusLine;
use super::work::Worker;
use crate::edit::{EditRequest, ImageInput};
use crate::mask::Polarity;
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
    /// The question whether to send a downscaled copy must be answered first.
    AskDownscale,
    /// The reason is shown in the form or the status bar.
    Refused,
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

    /// The request with the current photo and mask (for "View request", cURL and Submit).
    pub fn request_with_images(&self, document: &DocumentState, polarity: Polarity) -> EditRequest {
        let mut request = self.form.request.clone();
        let Some(doc) = document.current() else {
            return request;
        };
        if doc.send_downscaled == Some(true)
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
            request.mask_image = crate::mask::export_png(&mask, polarity)
                .ok()
                .map(ImageInput::bytes);
            return request;
        }
        request.seed_image = match (&doc.seed_reference, &doc.seed_png) {
            (Some(uuid), _) => Some(ImageInput::Reference(uuid.clone())),
            (None, Some(png)) => Some(ImageInput::Bytes(png.clone())),
            (None, None) => None,
        };
        request.mask_image = crate::mask::export_png(doc.editor.mask(), polarity)
            .ok()
            .map(ImageInput::bytes);
        request
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
        let refuse = |form: &mut FormState, text: &str| {
            form.message = Some(text.into());
            Err(NotSent::Refused)
        };
        if doc.editor.mask().is_empty() {
            return refuse(
                &mut self.form,
                "Paint over the part of the photo to change first: the mask is empty.",
            );
        }
        let backend = self.backend(settings);
        if backend == Backend::Runware && doc.seed_reference.is_none() && doc.seed_png.is_none() {
            return refuse(
                &mut self.form,
                "The photo is still being prepared; try again in a moment.",
            );
        }
        let (w, h) = doc.image.dimensions();
        if backend == Backend::Runware
            && crate::edit::needs_downscale(w, h)
            && doc.send_downscaled.is_none()
        {
            return Err(NotSent::AskDownscale);
        }
        let problems = self.form.form_problems();
        if !problems.is_empty() {
            self.form.errors = problems;
            return refuse(&mut self.form, "Fix the highlighted fields first.");
        }
        let request = self.request_with_images(document, settings.polarity);
        let compare = || {
            submit::CompareContext::new(
                doc.image.clone(),
                doc.editor.mask().clone(),
                settings.compare,
            )
        };
        let client = match self.client_for(backend) {
            Ok(c) => c,
            Err(e) => {
                self.form.show_failure(&e);
                status.error(e.to_string());
                return Err(NotSent::Refused);
            }
        };
        if backend == Backend::Runware && runtime.is_none() {
            status.error("The background runtime is not running; restart touchup.");
            return Err(NotSent::Refused);
        }
        let snapshot = Snapshot {
            image: doc.image.clone(),
            mask: doc.editor.mask().clone(),
            name: doc.name.clone(),
            path: doc.path.clone(),
            form_request: self.form.request.clone(),
            request,
            compare: compare(),
            local: settings.local_options(),
            root: settings.results_root(),
            client,
            runtime,
        };
        let id = self.jobs.add(worker.ctx(), backend, snapshot);
        results.start(compare(), &self.form.request.prompt, status);
        self.jobs.show(id, results.batch);
        self.form.errors.clear();
        self.form.message = None;
        self.form.busy = true;
        self.form.progress = Some(if self.jobs.active() > 1 {
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
            let form_request = EditRequest {
                seed_image: None,
                mask_image: None,
                ..request.clone()
            };
            let snapshot = Snapshot {
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
                request,
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
        worker: &Worker,
        concurrency: usize,
        results: &mut Results,
        status: &mut StatusLine,
    ) -> Vec<FinishedEdit> {
        self.jobs
            .poll(ctx, worker, concurrency, results, &mut self.form, status)
    }
}
