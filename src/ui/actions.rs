//! The one command queue: menu items, buttons, shortcuts, finished gestures and dialog answers
//! all become an [`Action`]; `App::logic` drains the queue each frame and [`run`] carries out
//! each one here, in one place, by calling the part that owns the state.

use std::path::PathBuf;
use std::sync::Arc;

use super::App;
use super::canvas::Tool;
use super::canvas::gesture::{SelectionOp, SelectionTool};
use super::commands::Command;
use super::dialogs::ReplaceAnswer;
use super::document::{self, Document};
use super::edit_panel::NotSent;
use super::edit_panel::form::FormAction;
use super::files::DialogKind;
use super::settings::MIN_HISTORY_BUDGET_MIB;
use super::work::Msg;
use crate::mask::{Brush, Combine, Mask, WandOptions};
use crate::session::EditId;

/// Everything the designer can ask for.
#[derive(Debug, Clone)]
pub enum Action {
    /// A menu item, button or shortcut.
    Command(Command),
    /// Open a photo from a file.
    OpenPath(PathBuf),
    /// A file was chosen for `DialogKind` (in a file dialog).
    Picked(DialogKind, PathBuf),
    /// A selection gesture finished on the canvas.
    Select(SelectionOp),
    /// Mark (or unmark) these text lines of the photo (indices into its found lines).
    MarkText {
        lines: Vec<usize>,
        combine: Combine,
    },
    /// The pointer is over this photo point with the Object tool (`None`: it left).
    ObjectHover(Option<egui::Pos2>),
    /// A click, box or key of the Object tool.
    Object(super::object_tool::ObjectInput),
    /// Order the results by how well their lettering reads.
    SortByLettering,
    /// A button of the edit form.
    Form(FormAction),
    SelectResult(usize),
    SetKept {
        index: usize,
        kept: bool,
    },
    SetDiscarded {
        index: usize,
        discarded: bool,
    },
    /// Continue editing from result N (its imageUUID is sent, no upload).
    UseAsSeed(usize),
    /// "Keep outside pixels" changed: show every result again.
    Recomposite,
    ReopenEdit(EditId),
    DeleteEdit(EditId),
    SetHistoryBudget(u64),
    /// The answer to "discard the current mask?".
    Replace(ReplaceAnswer),
    /// Restore (`true`) or discard the autosaved work.
    Recover(bool),
    /// The answer to "open a damaged photo anyway?".
    OpenDamaged(bool),
    /// "Match colours at the edge" switched for the result at `index` of the list.
    ColourMatch {
        index: usize,
        on: bool,
    },
    /// The edit area follows the mask again (after it was moved by hand).
    FollowMask,
    /// The answer to "the mask's groups lie far apart": how to send them.
    SplitAnswer(super::document::SplitAnswer),
    /// Save this key in the OS keyring, or remove the stored one.
    StoreKey(Option<String>),
    OpenKeyDialog,
    /// Stop job N (queued or running).
    CancelJob(u64),
    /// Queue a failed or cancelled job again.
    RetryJob(u64),
    /// Bring job N's photo, mask, settings and results back into the editor.
    OpenJob(u64),
    /// Drop the ended jobs from the Jobs list.
    ClearFinishedJobs,
    /// The answer to "queue the unfinished jobs of the last session again?".
    RequeueJobs(bool),
}

impl From<Command> for Action {
    fn from(command: Command) -> Self {
        Action::Command(command)
    }
}

/// Carries out one action.
pub(crate) fn run(app: &mut App, ctx: &egui::Context, action: Action) {
    let worker = app.worker.clone();
    match action {
        Action::Command(command) => run_command(app, ctx, command),
        Action::OpenPath(path) => document::open_path(&worker, &mut app.status, path),
        Action::Picked(kind, path) => super::messages::picked(app, kind, path),
        Action::Select(op) => select(app, op),
        Action::MarkText { lines, combine } => super::text_tool::mark(app, &lines, combine),
        Action::ObjectHover(at) => super::object_tool::hover(app, at),
        Action::Object(input) => super::object_tool::input(app, input),
        Action::SortByLettering => app.results.sort_by_lettering(),
        Action::Form(form) => form_action(app, ctx, form),
        Action::SelectResult(i) => app.results.selected = Some(i),
        Action::SetKept { index, kept } => {
            if let Some(slot) = app.results.set_kept(index, kept)
                && let Some(id) = app.results.edit_id.clone()
            {
                app.history.store_kept(&worker, id, slot, kept);
            }
        }
        Action::SetDiscarded { index, discarded } => {
            if let Some(e) = app.results.entries.get_mut(index) {
                e.discarded = discarded;
            }
        }
        Action::UseAsSeed(i) => {
            let Some(entry) = app.results.entries.get(i) else {
                return;
            };
            let name = format!("result-{}", entry.index);
            // What the designer sees: the result pasted into the photo (composited through the
            // mask, colour matched), at the photo's size.
            let doc = Document::new((*entry.shown).clone(), name.clone(), entry.path.clone());
            show_photo(app, doc);
            app.results.set_aside(&mut app.status);
            app.status.info(format!(
                "Continuing from {name}; paint the next change (the earlier results are in the History)."
            ));
        }
        Action::Recomposite => {
            let keep_outside = app.settings.compare.keep_outside;
            app.results
                .recomposite(&worker, &mut app.status, keep_outside);
        }
        Action::ReopenEdit(id) => app.history.reopen(&worker, &mut app.status, id),
        Action::CancelJob(id) => app.edit.jobs.cancel(id),
        Action::RetryJob(id) => app.edit.jobs.retry(id, &mut app.results, &mut app.status),
        Action::OpenJob(id) => open_job(app, ctx, id),
        Action::ClearFinishedJobs => app.edit.jobs.clear_finished(),
        Action::RequeueJobs(true) => {
            let handle = app.runtime.handle();
            app.edit
                .requeue_offered(ctx, &app.settings, handle, &mut app.status);
        }
        Action::RequeueJobs(false) => {
            app.edit.jobs.decline_offered();
            app.status
                .info("Discarded the unfinished jobs of the last session.");
        }
        Action::DeleteEdit(id) => app.history.delete(&worker, &mut app.status, &id),
        Action::SetHistoryBudget(mib) => {
            app.settings.history_budget_mib = mib.max(MIN_HISTORY_BUDGET_MIB);
            app.history
                .set_budget(&worker, app.settings.history_budget_mib);
        }
        Action::Replace(answer) => replace(app, answer),
        Action::OpenDamaged(open) => {
            if let Some(photo) = app.document.damaged_pending.take() {
                if open {
                    document::open_damaged(&worker, &mut app.status, photo);
                } else {
                    app.status
                        .info(format!("Did not open {}: it is damaged.", photo.name));
                }
            }
        }
        Action::Recover(true) => restore_recovered(app),
        Action::Recover(false) => {
            if app.autosave.discard_recovered() {
                // The form came back with the crashed session's settings: its prompt and
                // result count belong to the discarded work and go with it.
                let form = &mut app.edit.form;
                form.request.prompt.clear();
                form.request.settings.number_results = None;
                form.errors.clear();
                form.message = None;
                app.status.info("Discarded the autosaved work.");
            }
        }
        Action::SplitAnswer(answer) => {
            let generation = app.document.generation;
            if let Some(doc) = app.document.current_mut() {
                doc.split_answer = Some((generation, answer));
            }
            submit(app);
        }
        Action::ColourMatch { index, on } => {
            let keep = app.settings.compare.keep_outside;
            app.results.set_colour_match(&app.worker, index, on, keep);
        }
        Action::FollowMask => {
            if let Some(doc) = app.document.current_mut() {
                doc.frame = None;
            }
        }
        Action::StoreKey(answer) => store_key(app, answer),
        Action::OpenKeyDialog => app.dialogs.open_key_dialog(),
    }
}

/// Makes `doc` the open photo, fitted in the canvas.
pub(crate) fn show_photo(app: &mut App, doc: Document) {
    app.canvas.photo_changed(doc.image.dimensions());
    app.document.set(&app.worker, doc);
}

/// A photo arrived: shown, or held while the user is asked about the unsaved mask.
pub(crate) fn offer_photo(app: &mut App, doc: Document, opened: String) {
    let size = doc.image.dimensions();
    if app.document.offer(&app.worker, doc) {
        app.canvas.photo_changed(size);
        app.status.info(opened);
    }
}

fn run_command(app: &mut App, ctx: &egui::Context, command: Command) {
    let worker = app.worker.clone();
    let has_doc = app.document.current().is_some();
    let pick = run_pick;
    let settings = &mut app.settings;
    match command {
        Command::Open => pick(app, DialogKind::OpenImage),
        Command::OpenDemo => {
            show_photo(app, Document::demo());
            app.status.info("Opened the demo storefront.");
        }
        Command::PasteImage => document::paste(&worker, &mut app.status),
        Command::LoadMask if has_doc => pick(app, DialogKind::LoadMask),
        Command::SaveMask if has_doc => pick(app, DialogKind::SaveMask),
        Command::LoadMask | Command::SaveMask => {}
        Command::SaveResult | Command::SaveKept | Command::ExportComparison => {
            let kind = match command {
                Command::SaveResult => DialogKind::SaveResult,
                Command::SaveKept => DialogKind::SaveKept,
                _ => DialogKind::ExportComparison,
            };
            if app.results.is_empty() {
                app.status
                    .error("There are no results yet: submit an edit first.");
            } else if kind == DialogKind::SaveKept && app.results.kept_slots().is_empty() {
                app.status.error(
                    "No result is kept yet: click Keep beside a result (or press K in the \
                     compare view), then save.",
                );
            } else {
                pick(app, kind);
            }
        }
        Command::CopyMaskDataUri => match app.document.mask_data_uri(settings.polarity) {
            Some(uri) => {
                let size = byte_size(uri.len());
                ctx.copy_text(uri);
                app.document.mark_exported(app.document.generation);
                app.status.info(format!(
                    "Copied the mask as a data URI ({size}, {}).",
                    app.settings.polarity.label()
                ));
            }
            None => app
                .status
                .error("There is no mask to copy: open an image first."),
        },
        Command::Undo => app.document.edit_mask(|ed| ed.undo()),
        Command::Redo | Command::RedoAlt => app.document.edit_mask(|ed| ed.redo()),
        Command::ClearMask => app.document.edit_mask(|ed| ed.clear()),
        Command::InvertMask => app.document.edit_mask(|ed| ed.invert()),
        Command::FillMask => app.document.edit_mask(|ed| ed.fill_all()),
        Command::ToolBrush => app.canvas.tool = Tool::Brush,
        Command::ToolEraser => app.canvas.tool = Tool::Eraser,
        Command::SwapBrushEraser => {
            app.canvas.tool = match app.canvas.tool {
                Tool::Eraser => Tool::Brush,
                _ => Tool::Eraser,
            }
        }
        Command::ToolRectangle => app.canvas.select_tool(SelectionTool::Rectangle),
        Command::ToolPolygon => app.canvas.select_tool(SelectionTool::Polygon),
        Command::ToolLasso => app.canvas.select_tool(SelectionTool::Lasso),
        Command::ToolWand => app.canvas.select_tool(SelectionTool::Wand),
        Command::ToolText => super::text_tool::choose(app),
        Command::ToolObject => super::object_tool::choose(app),
        Command::MaskAllText => super::text_tool::mark_all(app),
        Command::GrowMask => {
            let n = settings.grow_px;
            app.document.edit_mask(|ed| ed.grow(n));
        }
        Command::ShrinkMask => {
            let n = settings.grow_px;
            app.document.edit_mask(|ed| ed.shrink(n));
        }
        Command::FeatherMask => {
            let r = settings.feather_px;
            app.document.edit_mask(|ed| ed.feather(r));
        }
        Command::FillHoles => app.document.edit_mask(|ed| ed.fill_holes()),
        Command::BrushSmaller => {
            settings.brush_size = Brush::stepped_size(settings.brush_size, false)
        }
        Command::BrushBigger => {
            settings.brush_size = Brush::stepped_size(settings.brush_size, true)
        }
        Command::ToggleMask => settings.show_mask = !settings.show_mask,
        Command::ZoomFit => app.canvas.fit_pending = true,
        Command::ZoomActual => {
            let rect = app.canvas.rect();
            let anchor = app.canvas.zoom_anchor();
            app.canvas
                .view
                .actual_size(rect, anchor, ctx.pixels_per_point());
        }
        Command::ZoomIn | Command::ZoomOut => {
            let rect = app.canvas.rect();
            let factor = if command == Command::ZoomIn {
                1.25
            } else {
                0.8
            };
            app.canvas.view.zoom_at(rect, rect.center(), factor);
        }
        Command::ShowShortcuts => app.dialogs.show_shortcuts = !app.dialogs.show_shortcuts,
        Command::ToggleCompare => app.results.toggle_compare(&mut app.status),
    }
}

/// Applies a finished selection: shapes at once, the wand's flood in the background (a
/// 4096x4096 photo never stalls a frame).
fn select(app: &mut App, op: SelectionOp) {
    let SelectionOp::Wand { seed, combine } = op else {
        return app.document.edit_mask(|ed| op.apply_shape(ed));
    };
    let Some(doc) = app.document.current() else {
        return;
    };
    let image = doc.image.clone();
    let options = WandOptions {
        tolerance: app.settings.wand_tolerance,
        ..WandOptions::default()
    };
    app.status.busy("Selecting with the magic wand…");
    app.worker.thread(move || {
        let result = crate::mask::wand_region(&image, seed, &options, None)
            .map(|region| (region, combine))
            .map_err(|e| format!("magic wand: {e}"));
        Msg::WandDone(image, result)
    });
}

/// Submit, or ask the downscale question first.
pub(crate) fn submit(app: &mut App) {
    let outcome = app.edit.submit(
        &app.document,
        &app.settings,
        &mut app.results,
        &app.worker,
        app.runtime.handle(),
        &mut app.status,
    );
    if outcome == Err(NotSent::AskSplit) {
        app.dialogs.asking_split = true;
    }
}

fn form_action(app: &mut App, ctx: &egui::Context, action: FormAction) {
    let pick = run_pick;
    match action {
        FormAction::Submit => submit(app),
        FormAction::Cancel => app.edit.cancel(&app.results),
        FormAction::ViewRequest => {
            match app.edit.request_with_images(&app.document, &app.settings) {
                Ok(request) => {
                    let mut text = request.view_request(uuid::Uuid::new_v4());
                    if let Some(Ok(plan)) = app.document.edit_area(&app.settings.area)
                        && let Some(doc) = app.document.current()
                    {
                        text = format!(
                            "// {}: x {}, y {}, {}x{} photo pixels\n{text}",
                            plan.area.label(doc.image.dimensions()),
                            plan.area.x,
                            plan.area.y,
                            plan.area.width,
                            plan.area.height
                        );
                    }
                    app.dialogs.request_preview = Some(text);
                }
                Err(e) => app.status.error(format!("Cannot show the request: {e}")),
            }
        }
        FormAction::CopyCurl => match app.edit.request_with_images(&app.document, &app.settings) {
            Ok(request) => {
                let endpoint = crate::runware::ClientConfig::from_env().endpoint;
                ctx.copy_text(request.curl_command(uuid::Uuid::new_v4(), &endpoint));
                let what = match (
                    app.document.edit_area(&app.settings.area),
                    app.document.current(),
                ) {
                    (Some(Ok(plan)), Some(doc)) => {
                        format!(" ({})", plan.area.label(doc.image.dimensions()))
                    }
                    _ => String::new(),
                };
                app.status.info(format!(
                    "Copied a cURL command{what}; it reads the key from $RUNWARE_API_KEY."
                ));
            }
            Err(e) => app.status.error(format!("Cannot copy the request: {e}")),
        },
        FormAction::Import(text) => app.edit.import(&mut app.status, &text),
        FormAction::ImportFile => pick(app, DialogKind::ImportRequest),
        FormAction::AddStyleReference => pick(app, DialogKind::StyleReference),
        FormAction::RemoveStyleReference(i) => {
            let images = &mut app.edit.form.request.style_reference_images;
            if i < images.len() {
                images.remove(i);
            }
        }
        FormAction::ChooseCharacterReference => pick(app, DialogKind::CharacterReference),
        FormAction::ChooseCharacterMask => pick(app, DialogKind::CharacterMask),
        FormAction::ClearCharacterReference => {
            app.edit.form.request.character_reference_image = None;
            app.edit.form.request.character_reference_mask = None;
        }
    }
}

/// Opens the file dialog for `kind`.
fn run_pick(app: &mut App, kind: DialogKind) {
    if !app.files.is_builtin() {
        app.status.busy("Waiting for the file dialog…");
    }
    let name = app.document.current().map(|d| d.name.clone());
    app.files.ask(
        &app.worker,
        kind,
        app.settings.last_dir.as_ref(),
        name.as_deref(),
    );
}

fn replace(app: &mut App, answer: ReplaceAnswer) {
    let Some(doc) = app.document.replace_pending.take() else {
        return;
    };
    let name = doc.name.clone();
    match answer {
        ReplaceAnswer::SaveFirst => {
            app.queue.push(Action::Command(Command::SaveMask));
            app.status
                .info(format!("Save the mask, then open {name} again."));
        }
        ReplaceAnswer::Discard => {
            let (w, h) = doc.image.dimensions();
            show_photo(app, doc);
            app.status.info(format!("Opened {name} ({w}x{h})."));
        }
        ReplaceAnswer::Keep => app
            .status
            .info(format!("Kept the current photo; {name} was not opened.")),
    }
}

/// Puts saved work back: the photo with its mask (a fresh undo history), the prompt, and the
/// edit settings as recorded (kept as they are when the record's do not parse); clears the
/// results, which belong to the work replaced.
pub(crate) fn load_work(
    app: &mut App,
    doc: Document,
    mask: Mask,
    prompt: String,
    settings: &serde_json::Value,
) {
    app.canvas.photo_changed(doc.image.dimensions());
    app.document.restore(&app.worker, doc, mask);
    app.edit.form.request.prompt = prompt;
    if let Ok(settings) = serde_json::from_value(settings.clone()) {
        app.edit.form.request.settings = settings;
    }
    app.results.clear();
}

/// Puts the recovered work back: photo, mask, prompt and settings.
fn restore_recovered(app: &mut App) {
    let Some(work) = app.autosave.take_recovered() else {
        return;
    };
    let document = &work.settings["document"];
    let name = document["name"]
        .as_str()
        .unwrap_or("recovered work")
        .to_string();
    let path = document["path"].as_str().map(PathBuf::from);
    load_work(
        app,
        Document::new(work.image, name.clone(), path),
        work.mask,
        work.prompt,
        &work.settings["edit"],
    );
    // Recovered marks were never saved: opening another photo asks first.
    app.document.mark_unsaved();
    app.results.comparing = false;
    app.status.info(format!("Restored your work on {name}."));
}

/// Restores a past edit: photo, mask, prompt and settings, and its results.
pub(crate) fn restore_edit(app: &mut App, ctx: &egui::Context, edit: crate::session::ReopenedEdit) {
    let crate::session::ReopenedEdit {
        record,
        seed,
        mask,
        results,
        raws,
    } = edit;
    let seed = Arc::new(seed);
    let context = super::edit_panel::submit::CompareContext::new(
        seed.clone(),
        mask.clone(),
        app.settings.compare,
    );
    app.results.start(context, &record.prompt, &mut app.status);
    let prompt = super::status::short_prompt(&record.prompt, 60);
    // The photo's own name, as recorded (older records: named after the edit).
    let name = record.settings[super::history_panel::PHOTO_NAME_KEY]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "photo of \u{201c}{}\u{201d}",
                super::status::short_prompt(&record.prompt, 30)
            )
        });
    load_work(
        app,
        Document::new(Arc::unwrap_or_clone(seed), name, None),
        mask,
        record.prompt.clone(),
        &record.settings,
    );
    app.results
        .reopened(ctx, &mut app.status, &record, results, raws);
    app.status
        .info(format!("Reopened the edit \u{201c}{prompt}\u{201d}."));
    // Heatmaps are not stored: compute them (and the pictures as the current keep-outside
    // setting shows them) in the background.
    let keep_outside = app.settings.compare.keep_outside;
    app.results
        .recomposite(&app.worker, &mut app.status, keep_outside);
}

/// Puts a job's photo, mask and form back into the editor and shows its results (those still
/// to come stream in).
fn open_job(app: &mut App, ctx: &egui::Context, id: u64) {
    let Some(job) = app.edit.jobs.get(id) else {
        return;
    };
    let snap = &job.snapshot;
    let doc = Document::new((*snap.image).clone(), snap.name.clone(), snap.path.clone());
    let (mask, request, compare) = (
        snap.mask.clone(),
        snap.form_request.clone(),
        snap.compare.clone(),
    );
    let (kept, edit_id, title) = (job.results.clone(), job.edit_id.clone(), job.title.clone());
    let settings = serde_json::to_value(&request.settings).unwrap_or_default();
    load_work(app, doc, mask, request.prompt.clone(), &settings);
    app.edit.form.request = request;
    app.results
        .start(compare, &app.edit.form.request.prompt, &mut app.status);
    app.results.replay(ctx, &kept);
    app.results.edit_id = edit_id;
    app.edit.jobs.show(id, app.results.batch);
    app.status
        .info(format!("Opened job {id} (\u{201c}{title}\u{201d})."));
    if !kept.is_empty() {
        let keep_outside = app.settings.compare.keep_outside;
        app.results
            .recomposite(&app.worker, &mut app.status, keep_outside);
    }
}

/// Stores or removes the Runware key in the OS keyring, off the UI thread and off the tokio
/// runtime (the keyring call blocks and may start a runtime of its own).
fn store_key(app: &mut App, answer: Option<String>) {
    app.status.busy("Talking to the OS keyring…");
    let no_keyring = app.no_keyring;
    app.worker.thread(move || {
        Msg::KeyStored(match answer {
            _ if no_keyring => Err(
                "the OS keyring is turned off in this session; set RUNWARE_API_KEY instead"
                    .to_string(),
            ),
            Some(text) => match crate::runware::ApiKey::new(&text) {
                Some(key) => key
                    .store_in_keyring()
                    .map(|()| "Saved the Runware key in the OS keyring.".to_string())
                    .map_err(|e| {
                        format!(
                            "could not save the key in the OS keyring ({e}); set \
                             RUNWARE_API_KEY instead"
                        )
                    }),
                None => Err("that is not a valid key".to_string()),
            },
            None => crate::runware::ApiKey::delete_from_keyring()
                .map(|()| "Removed the Runware key from the OS keyring.".to_string())
                .map_err(|e| format!("could not remove the key from the OS keyring ({e})")),
        })
    });
}

/// "812 bytes", "14.3 KiB", "2.1 MiB".
pub(crate) fn byte_size(n: usize) -> String {
    const KIB: f64 = 1024.0;
    match n {
        0..1024 => format!("{n} bytes"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / KIB),
        _ => format!("{:.1} MiB", n as f64 / (KIB * KIB)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_a_person_would_say_them() {
        assert_eq!(super::byte_size(0), "0 bytes");
        assert_eq!(super::byte_size(812), "812 bytes");
        assert_eq!(super::byte_size(1536), "1.5 KiB");
        assert_eq!(super::byte_size(3 * 1024 * 1024), "3.0 MiB");
    }
}
