//! What background work answers, handled in one place: each [`Msg`] ends the busy spinner it
//! started (where it did) and changes the part it concerns.

use super::App;
use super::actions;
use super::document::{Document, OpenOutcome, OpenedPhoto};
use super::files::{DialogKind, Picked};
use super::work::Msg;

pub(crate) fn handle(app: &mut App, ctx: &egui::Context, msg: Msg) {
    let worker = app.worker.clone();
    let status = &mut app.status;
    match msg {
        Msg::Opened(outcome) => {
            status.done();
            match outcome {
                OpenOutcome::Opened(photo) => {
                    let OpenedPhoto {
                        image,
                        name,
                        path,
                        damage,
                    } = photo;
                    let (w, h) = image.dimensions();
                    if let Some(dir) = path.as_ref().and_then(|p| p.parent()) {
                        app.settings.last_dir = Some(dir.to_path_buf());
                    }
                    let opened = match &damage {
                        Some(what) => format!(
                            "Opened anyway ({w}x{h}): {what}. The missing part is sent to the \
                             model as it shows."
                        ),
                        None => format!("Opened {name} ({w}x{h})."),
                    };
                    let mut doc = Document::new(image, name, path);
                    doc.damage = damage;
                    actions::offer_photo(app, doc, opened);
                }
                OpenOutcome::Damaged(photo) => app.document.damaged_pending = Some(photo),
                OpenOutcome::Failed(e) => status.error(e),
            }
        }
        Msg::Pasted(result) => {
            status.done();
            match result {
                Ok(img) => {
                    let (w, h) = img.dimensions();
                    let doc = Document::new(img, "pasted-image.png".into(), None);
                    actions::offer_photo(app, doc, format!("Pasted an image ({w}x{h})."));
                }
                Err(e) => status.error(e),
            }
        }
        Msg::MaskLoaded(result) => {
            status.done();
            match result {
                Ok((mask, name)) => {
                    app.document.edit_mask(|ed| ed.replace("Load mask", mask));
                    status.info(format!("Loaded mask {name}."));
                }
                Err(e) => status.error(e),
            }
        }
        Msg::MaskSaved(result) => {
            status.done();
            match result {
                Ok((path, generation)) => {
                    app.document.mark_exported(generation);
                    status.info(format!("Saved the mask to {}.", path.display()));
                }
                Err(e) => status.error(e),
            }
        }
        Msg::Attached(kind, bytes) => match bytes {
            Ok(bytes) => app.edit.attach(status, kind, bytes),
            Err(e) => status.error(e),
        },
        Msg::UnfinishedJobs(offered, problems) => {
            if !problems.is_empty() {
                status.error(format!(
                    "Some unfinished jobs of the last session could not be read: {}",
                    problems.join("; ")
                ));
            }
            if !offered.is_empty() {
                app.edit.jobs.offered = Some(offered);
            }
        }
        Msg::Autosave(report) => {
            if let Some(problem) = app.autosave.report(report) {
                status.error(problem);
            }
        }
        Msg::Recomposited(generation, index, result) => app
            .results
            .recomposited(ctx, status, generation, index, *result),
        Msg::HistoryListed(listing) => app.history.listed(&worker, status, listing),
        Msg::HistoryPruned(result) => match result {
            Ok((pruned, listing)) => {
                app.history.listed(&worker, status, listing);
                if pruned > 0 {
                    status.info(format!(
                        "Removed the {pruned} oldest edit(s) from the history to stay within {} \
                         MiB.",
                        app.settings.history_budget_mib
                    ));
                }
            }
            Err(e) => status.error(format!("could not trim the history: {e}")),
        },
        Msg::HistoryThumbnail(id, result) => app.history.thumbnail_loaded(ctx, id, result),
        Msg::Recorded(batch, job, id) => {
            if let Some(job) = job {
                app.edit.jobs.recorded(job, id.clone());
            }
            if batch == app.results.batch {
                app.results.edit_id = Some(id.clone());
                // Stars given while the edit was being recorded.
                for slot in app.results.kept_slots() {
                    app.history.store_kept(&worker, id.clone(), slot, true);
                }
            }
        }
        Msg::KeptStored(result) => match result {
            Ok(()) => app.history.refresh(&worker),
            Err(e) => status.error(format!("could not store the keep star in the history: {e}")),
        },
        Msg::Reopened(result) => {
            status.done();
            match result {
                Ok(edit) => actions::restore_edit(app, ctx, *edit),
                Err(e) => status.error(format!("could not reopen that edit: {e}")),
            }
        }
        Msg::SavedFile(result) => {
            status.done();
            status.report(result.map(|path| format!("Saved {}.", path.display())));
        }
        Msg::KeyStored(result) => {
            status.done();
            if let Ok(text) = &result {
                let has_key =
                    crate::runware::ApiKey::from_env().is_some() || text.starts_with("Saved");
                app.edit.key_changed(has_key);
            }
            status.report(result);
        }
        Msg::WandDone(image, result) => {
            status.done();
            let same_photo = app
                .document
                .current()
                .is_some_and(|d| std::sync::Arc::ptr_eq(&d.image, &image));
            match result {
                Ok((region, combine)) if same_photo => {
                    app.document.edit_mask(|ed| ed.apply_wand(&region, combine));
                }
                Ok(_) => {}
                Err(e) => status.error(e),
            }
        }
        Msg::TextFound(image, result) => super::text_tool::found(app, &image, result),
        Msg::ObjectEncoded(image, result) => super::object_tool::encoded(app, &image, result),
        Msg::ObjectDecoded(image, purpose, result) => {
            super::object_tool::decoded(app, &image, purpose, *result)
        }
        Msg::Lettering(batch, index, result) => app.results.lettering_read(batch, index, result),
        Msg::Picked(kind, answer) => {
            status.done();
            match answer {
                Picked::Chosen(path) => picked(app, kind, path),
                Picked::Cancelled => {}
                Picked::Unavailable => {
                    status.info(
                        "The system file dialog could not open here (no desktop portal or \
                         zenity), so touchup's own file browser is used instead.",
                    );
                    app.files.use_builtin();
                    let name = app.document.current().map(|d| d.name.clone());
                    app.files
                        .browse(kind, app.settings.last_dir.as_ref(), name.as_deref());
                }
            }
        }
    }
}

/// A file was chosen in a dialog.
pub(crate) fn picked(app: &mut App, kind: DialogKind, path: std::path::PathBuf) {
    if let Some(dir) = path.parent() {
        app.settings.last_dir = Some(dir.to_path_buf());
    }
    let worker = app.worker.clone();
    let polarity = app.settings.polarity;
    match kind {
        DialogKind::OpenImage => super::document::open_path(&worker, &mut app.status, path),
        DialogKind::LoadMask => app
            .document
            .load_mask(&worker, &mut app.status, path, polarity),
        DialogKind::SaveMask => app
            .document
            .save_mask(&worker, &mut app.status, path, polarity),
        DialogKind::SaveResult | DialogKind::SaveKept | DialogKind::ExportComparison => {
            let Some(original) = app.document.current().map(|d| d.image.clone()) else {
                return;
            };
            super::results::save_results(
                &app.results,
                &worker,
                &mut app.status,
                original,
                kind,
                path,
            );
        }
        DialogKind::ImportRequest
        | DialogKind::StyleReference
        | DialogKind::CharacterReference
        | DialogKind::CharacterMask => worker.thread(move || {
            Msg::Attached(
                kind,
                crate::imageio::read_file(&path).map_err(|e| e.to_string()),
            )
        }),
    }
}
