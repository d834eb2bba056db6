//! The results of the current edit: each result as it arrives (with its composite, outside-mask
//! figures and heatmap), the results list in the right panel, the compare view in the centre,
//! keep and discard, re-compositing when "keep outside pixels" changes, and reopened edits.

pub mod compare;
mod save;

use std::sync::Arc;

use egui::{Sense, Stroke};
use image::RgbaImage;

use super::actions::Action;
use super::commands::Command;
use super::document::DocumentState;
use super::edit_panel::submit::{self, CompareContext, Lettering, ResultEntry};
use super::status::StatusLine;
use super::work::{Msg, Worker};
use compare::{CompareAction, CompareInputs, CompareView, ResultTextures};
pub(crate) use save::save_results;

/// The longer side of a result's thumbnail in the list, in points.
const THUMBNAIL_SIDE: f32 = 80.0;

/// The results part of the app.
pub struct Results {
    pub entries: Vec<ResultEntry>,
    pub selected: Option<usize>,
    /// The photo and mask the results were made from (to composite them again).
    context: Option<CompareContext>,
    /// Bumped when the results change or are re-composited; late answers are dropped.
    generation: u64,
    /// Results still being re-composited.
    recompositing: usize,
    /// Bumped when a new set of results starts (a submission or a reopened edit).
    pub batch: u64,
    /// The history entry the results belong to, once recorded (or reopened).
    pub edit_id: Option<crate::session::EditId>,
    /// The central area shows the compare view instead of the mask canvas.
    pub comparing: bool,
    pub compare_view: CompareView,
    /// The prompt of the results (its quoted strings are the lettering to check).
    prompt: String,
    /// Results whose lettering is still to be read (indices into `entries`' `index`).
    lettering_queue: Vec<usize>,
    /// A result arrived or was reopened (its number): the panel scrolls as little as it takes
    /// to bring its row into view, so every result of a submission comes on screen without
    /// hunting for it.
    reveal: Option<usize>,
}

impl Default for Results {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            selected: None,
            context: None,
            generation: 0,
            recompositing: 0,
            batch: 0,
            edit_id: None,
            comparing: false,
            compare_view: CompareView::new(),
            prompt: String::new(),
            lettering_queue: Vec::new(),
            reveal: None,
        }
    }
}

/// A result as the history records it (copied off the UI thread) and a job keeps it.
#[derive(Clone)]
pub(crate) struct HistoryResult {
    /// Its number in its edit (1-based).
    pub index: usize,
    pub shown: Arc<RgbaImage>,
    pub raw: Arc<RgbaImage>,
    pub image_uuid: Option<String>,
    pub seed: Option<i64>,
    pub cost: Option<f64>,
    pub figures: Option<crate::compare::OutsideFigures>,
    /// Where it was saved.
    pub path: Option<std::path::PathBuf>,
}

/// A result to composite again: pasted into its area, or (reopened from the history) a full
/// picture.
enum Rework {
    Pasted(usize, Arc<crate::compare::Pasted>, bool),
    Full(usize, Arc<RgbaImage>),
}

impl HistoryResult {
    /// A result of a job that is not shown: what the history records and "open" shows.
    pub(crate) fn from_pasted(
        original: &RgbaImage,
        result: &crate::jobs::JobResult,
        pasted: &crate::compare::Pasted,
        path: Option<std::path::PathBuf>,
    ) -> Self {
        Self {
            index: result.index,
            shown: Arc::new(pasted.apply(original)),
            raw: Arc::new(pasted.apply_raw(original)),
            image_uuid: result.image.image_uuid.clone(),
            seed: result.image.seed,
            cost: result.image.cost,
            figures: Some(pasted.figures),
            path,
        }
    }

    pub(crate) fn of(r: &ResultEntry) -> Self {
        Self {
            index: r.index,
            shown: r.shown.clone(),
            raw: r.image.clone(),
            image_uuid: r.image_uuid.clone(),
            seed: r.seed,
            cost: r.cost,
            figures: r.figures,
            path: r.path.clone(),
        }
    }
}

impl Results {
    /// A new set of results begins (a submission, or an edit reopened from the history),
    /// compared against `context`.
    pub fn start(&mut self, context: CompareContext, prompt: &str, status: &mut StatusLine) {
        self.context = Some(context);
        self.prompt = prompt.to_string();
        self.lettering_queue.clear();
        self.generation += 1;
        self.batch += 1;
        self.edit_id = None;
        if self.recompositing > 0 {
            self.recompositing = 0;
            status.done();
        }
        self.clear();
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.selected = None;
    }

    /// "Use as new seed": the photo becomes one of the results, so these results no longer
    /// compare with what is on the canvas. They are set aside (they stay in the history and
    /// the Jobs list, from where they can be opened again) and the compare view closes: the
    /// next edit starts from a clean state, never with the old figures against a new
    /// "Original".
    pub fn set_aside(&mut self, status: &mut StatusLine) {
        self.context = None;
        self.prompt.clear();
        self.lettering_queue.clear();
        self.generation += 1;
        self.batch += 1;
        self.edit_id = None;
        self.comparing = false;
        // The layout chosen stays; the next results are fitted afresh.
        self.compare_view.selected = 0;
        self.compare_view.request_fit();
        if self.recompositing > 0 {
            self.recompositing = 0;
            status.done();
        }
        self.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A result arrived from the pipeline (pasted into its area and saved on the job's
    /// thread): it takes its place by its number, whatever order results arrive in.
    pub(crate) fn arrived(
        &mut self,
        ctx: &egui::Context,
        status: &mut StatusLine,
        result: &crate::jobs::JobResult,
        pasted: Arc<crate::compare::Pasted>,
        path: Option<std::path::PathBuf>,
    ) {
        let index = result.index;
        if let Some(note) = &result.note {
            status.info(format!("Result {index}: {note}"));
        }
        let Some(context) = self.context.clone() else {
            return;
        };
        let raw = Arc::new(pasted.apply_raw(&context.original));
        let shown = Arc::new(pasted.apply(&context.original));
        let (figures, heatmap) = match context.area_check(&pasted) {
            Ok(c) => (Some(c.figures), Some(c.heatmap)),
            Err(e) => {
                status.error(format!(
                    "result {index} could not be compared with the original: {e}"
                ));
                (None, None)
            }
        };
        let thumbnail = submit::thumbnail(ctx, &format!("result-{index}"), &shown);
        let lettering = self.queue_lettering(index);
        let entry = ResultEntry {
            index,
            image: raw,
            shown,
            figures,
            heatmap,
            textures: None,
            kept: false,
            discarded: false,
            thumbnail,
            image_uuid: result.image.image_uuid.clone(),
            seed: result.image.seed,
            cost: result.image.cost,
            path,
            history_slot: 0,
            lettering,
            colour_match: pasted.matched.is_some(),
            pasted: Some(pasted),
        };
        self.reveal = Some(index);
        self.insert_in_order(entry);
    }

    /// Puts `entry` in its place by number; the history slots follow the order.
    fn insert_in_order(&mut self, entry: ResultEntry) {
        let selected = self
            .selected
            .and_then(|i| self.entries.get(i))
            .map(|e| e.index);
        let at = self.entries.partition_point(|e| e.index < entry.index);
        self.entries.insert(at, entry);
        let mut by_number: Vec<usize> = self.entries.iter().map(|e| e.index).collect();
        by_number.sort_unstable();
        for e in self.entries.iter_mut() {
            e.history_slot = by_number.partition_point(|&n| n < e.index);
        }
        self.selected = selected.and_then(|s| self.entries.iter().position(|e| e.index == s));
    }

    /// "Match colours at the edge" switched for the result at `position`: its picture is
    /// composited again (in the background).
    pub(crate) fn set_colour_match(
        &mut self,
        worker: &Worker,
        position: usize,
        on: bool,
        keep_outside: bool,
    ) {
        let Some(context) = self.context.clone() else {
            return;
        };
        let Some(entry) = self.entries.get_mut(position) else {
            return;
        };
        let Some(pasted) = entry.pasted.clone() else {
            return;
        };
        entry.colour_match = on;
        let (index, generation) = (entry.index, self.generation);
        self.recompositing += 1;
        worker.thread(move || {
            let result = context.recheck_pasted(&pasted, keep_outside, on);
            Msg::Recomposited(generation, index, Box::new(result))
        });
    }

    /// `Reading` (and queued) when the prompt quotes strings, else `None`.
    fn queue_lettering(&mut self, index: usize) -> Lettering {
        if crate::local::parse_prompt(&self.prompt).lines.is_empty() {
            return Lettering::None;
        }
        self.lettering_queue.push(index);
        Lettering::Reading
    }

    /// Reads the lettering of the results queued since the last frame, in the background
    /// (one thread per result; the text models load once).
    pub(crate) fn read_lettering(&mut self, worker: &Worker) {
        if self.lettering_queue.is_empty() {
            return;
        }
        let Some(context) = self.context.clone() else {
            self.lettering_queue.clear();
            return;
        };
        for index in std::mem::take(&mut self.lettering_queue) {
            let Some(entry) = self.entries.iter().find(|e| e.index == index) else {
                continue;
            };
            let shown = entry.shown.clone();
            let mask = context.mask.clone();
            let prompt = self.prompt.clone();
            let batch = self.batch;
            worker.thread(move || {
                let check = if mask.size() == shown.dimensions() {
                    crate::text::check_result(&shown, &mask, &prompt).map_err(|e| e.to_string())
                } else {
                    Err("the result's size differs from the photo's".to_string())
                };
                Msg::Lettering(batch, index, check)
            });
        }
    }

    /// A result's lettering was read (dropped when the results changed meanwhile).
    pub(crate) fn lettering_read(
        &mut self,
        batch: u64,
        index: usize,
        check: Result<Option<crate::text::LetteringCheck>, String>,
    ) {
        if batch != self.batch {
            return;
        }
        if let Some(entry) = self.entries.iter_mut().find(|e| e.index == index) {
            entry.lettering = match check {
                Ok(Some(c)) => Lettering::Read(c),
                Ok(None) => Lettering::None,
                Err(e) => Lettering::Failed(e),
            };
        }
    }

    /// Orders the results by lettering score, best first (ties keep their order); the
    /// selection follows its result.
    pub fn sort_by_lettering(&mut self) {
        let selected = self
            .selected
            .and_then(|i| self.entries.get(i))
            .map(|e| e.index);
        self.entries
            .sort_by(|a, b| b.lettering.score().total_cmp(&a.lettering.score()));
        self.selected = selected.and_then(|s| self.entries.iter().position(|e| e.index == s));
    }

    /// Shows the results a job kept (opening a job); their heatmaps come from
    /// [`Self::recomposite`].
    pub(crate) fn replay(&mut self, ctx: &egui::Context, kept: &[HistoryResult]) {
        for (slot, r) in kept.iter().enumerate() {
            let name = format!("job-result-{}", r.index);
            self.push_stored(ctx, r.clone(), false, slot, &name);
        }
    }

    /// Adds a result that was kept (by a job, or in the history) to the list; no heatmap yet.
    fn push_stored(
        &mut self,
        ctx: &egui::Context,
        r: HistoryResult,
        kept: bool,
        history_slot: usize,
        texture_name: &str,
    ) {
        let lettering = self.queue_lettering(r.index);
        self.entries.push(ResultEntry {
            index: r.index,
            thumbnail: submit::thumbnail(ctx, texture_name, &r.shown),
            image: r.raw,
            shown: r.shown,
            figures: r.figures,
            heatmap: None,
            textures: None,
            kept,
            discarded: false,
            image_uuid: r.image_uuid,
            seed: r.seed,
            cost: r.cost,
            path: r.path,
            history_slot,
            lettering,
            pasted: None,
            colour_match: false,
        });
    }

    /// Sets a keep star; its slot in the history entry, to store it there.
    pub fn set_kept(&mut self, index: usize, kept: bool) -> Option<usize> {
        let e = self.entries.get_mut(index)?;
        e.kept = kept;
        Some(e.history_slot)
    }

    /// The history slots of the starred results.
    pub fn kept_slots(&self) -> Vec<usize> {
        self.entries
            .iter()
            .filter(|r| r.kept)
            .map(|r| r.history_slot)
            .collect()
    }

    pub fn toggle_compare(&mut self, status: &mut StatusLine) {
        if self.comparing || !self.entries.is_empty() {
            self.comparing = !self.comparing;
            if self.comparing {
                self.compare_view.request_fit();
            }
        } else {
            status.info("There are no results to compare yet.");
        }
    }

    /// Compares every result again with the current keep-outside setting, in the background;
    /// each replaces its picture, figures and heatmap as it finishes.
    pub(crate) fn recomposite(
        &mut self,
        worker: &Worker,
        status: &mut StatusLine,
        keep_outside: bool,
    ) {
        self.generation += 1;
        let Some(context) = self.context.clone() else {
            return;
        };
        let jobs: Vec<Rework> = self
            .entries
            .iter()
            .map(|r| match &r.pasted {
                Some(p) => Rework::Pasted(r.index, p.clone(), r.colour_match),
                None => Rework::Full(r.index, r.image.clone()),
            })
            .collect();
        if jobs.is_empty() {
            return;
        }
        self.recompositing = jobs.len();
        status.busy(if keep_outside {
            "Compositing the results over the original…"
        } else {
            "Showing the results as returned…"
        });
        let generation = self.generation;
        let worker = worker.clone();
        std::thread::spawn(move || {
            for job in jobs {
                let (index, result) = match job {
                    Rework::Pasted(index, pasted, colour) => {
                        (index, context.recheck_pasted(&pasted, keep_outside, colour))
                    }
                    Rework::Full(index, raw) => (index, context.recheck(&raw, keep_outside)),
                };
                worker.send(Msg::Recomposited(generation, index, Box::new(result)));
            }
        });
    }

    /// One result compared again (dropped when the results changed meanwhile).
    pub fn recomposited(
        &mut self,
        ctx: &egui::Context,
        status: &mut StatusLine,
        generation: u64,
        index: usize,
        result: Result<crate::compare::ResultComparison, String>,
    ) {
        if generation != self.generation {
            return;
        }
        self.recompositing = self.recompositing.saturating_sub(1);
        if self.recompositing == 0 {
            status.done();
        }
        match result {
            Ok(c) => {
                if let Some(entry) = self.entries.iter_mut().find(|r| r.index == index) {
                    entry.thumbnail = submit::thumbnail(ctx, &format!("result-{index}"), &c.shown);
                    entry.shown = Arc::new(c.shown);
                    entry.figures = Some(c.check.figures);
                    entry.heatmap = Some(c.check.heatmap);
                    // The next compare frame uploads the new pictures (once).
                    entry.textures = None;
                }
            }
            Err(e) => status.error(format!("result {index} could not be shown again: {e}")),
        }
    }

    /// Brings back the results of a reopened edit (their heatmaps are recomputed by
    /// [`Results::recomposite`]).
    pub fn reopened(
        &mut self,
        ctx: &egui::Context,
        status: &mut StatusLine,
        record: &crate::session::EditRecord,
        results: Vec<Result<RgbaImage, crate::session::SessionError>>,
        raws: Vec<Option<RgbaImage>>,
    ) {
        self.edit_id = Some(record.id.clone());
        let mut raws = raws.into_iter();
        for (i, (picture, record)) in results.into_iter().zip(record.results.iter()).enumerate() {
            let raw = raws.next().flatten();
            match picture {
                Ok(image) => {
                    let image = Arc::new(image);
                    let stored = HistoryResult {
                        index: i + 1,
                        // Without the raw output, the recorded picture stands in for it.
                        raw: raw.map_or_else(|| image.clone(), Arc::new),
                        shown: image,
                        image_uuid: record.image_uuid.clone(),
                        seed: record.seed.and_then(|s| i64::try_from(s).ok()),
                        cost: record.cost,
                        figures: record.outside,
                        path: None,
                    };
                    let name = format!("history-result-{i}");
                    self.push_stored(ctx, stored, record.kept, i, &name);
                }
                Err(e) => status.error(format!("result {} of that edit is damaged: {e}", i + 1)),
            }
        }
        // Bring the reopened results into view, as arriving ones are.
        self.reveal = self.entries.last().map(|e| e.index);
    }

    /// The results list of the right panel: compare, keep-outside switch, save buttons, and
    /// each result with its figures, Keep and "Use as new seed".
    pub(crate) fn list_ui(
        &mut self,
        ui: &mut egui::Ui,
        running: bool,
        keep_outside: &mut bool,
        actions: &mut Vec<Action>,
    ) {
        let reveal = self.reveal.take();
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new("Results").strong());
            let label = if self.comparing {
                "Back to the mask (C)"
            } else {
                "Compare (C)"
            };
            if ui
                .add_enabled(!self.entries.is_empty(), egui::Button::new(label))
                .clicked()
            {
                actions.push(Action::Command(Command::ToggleCompare));
            }
        });
        let toggled = ui
            .add_enabled(
                !running,
                egui::Checkbox::new(keep_outside, "Keep outside pixels"),
            )
            .on_hover_text(
                "Show and save each result composited over the original through the feathered \
                 mask; off: as the engine returned it",
            )
            .on_disabled_hover_text("Available when the edit has finished")
            .changed();
        if toggled {
            actions.push(Action::Recomposite);
        }
        if self.entries.is_empty() {
            ui.weak(if running {
                "Waiting for the first result…"
            } else {
                "No results yet."
            });
            return;
        }
        ui.horizontal_wrapped(|ui| {
            for (command, label) in [
                (Command::SaveResult, "Save selected…"),
                (Command::SaveKept, "Save kept…"),
                (Command::ExportComparison, "Export before/after…"),
            ] {
                let mut button = ui.small_button(label);
                if let Some(sc) = command.shortcut() {
                    button = button.on_hover_text(format!(
                        "{} ({})",
                        command.label(),
                        ui.ctx().format_shortcut(&sc)
                    ));
                }
                if button.clicked() {
                    actions.push(Action::Command(command));
                }
            }
        });
        let checked = self
            .entries
            .iter()
            .filter(|e| matches!(e.lettering, Lettering::Read(_)))
            .count();
        if checked > 1
            && ui
                .small_button("Sort by lettering")
                .on_hover_text("Best-spelled results first (the prompt's quoted strings)")
                .clicked()
        {
            actions.push(Action::SortByLettering);
        }
        let outside_kept = *keep_outside;
        for (i, entry) in self.entries.iter().enumerate() {
            let row = ui
                .horizontal(|ui| self.entry_ui(ui, i, entry, outside_kept, actions))
                .response
                .rect;
            if reveal == Some(entry.index) {
                // As little as it takes to bring the new row in.
                ui.scroll_to_rect(row, None);
            }
        }
    }

    fn entry_ui(
        &self,
        ui: &mut egui::Ui,
        i: usize,
        entry: &ResultEntry,
        outside_kept: bool,
        actions: &mut Vec<Action>,
    ) {
        let size = entry.thumbnail.size_vec2();
        let scale = (THUMBNAIL_SIDE / size.x.max(size.y)).min(1.0);
        let image = egui::Image::new((entry.thumbnail.id(), size * scale))
            .alt_text(format!("Result {}", entry.index))
            .sense(Sense::click());
        let r = ui.add(image);
        if self.selected == Some(i) {
            ui.painter().rect_stroke(
                r.rect,
                2.0,
                Stroke::new(2.0, ui.visuals().selection.stroke.color),
                egui::StrokeKind::Outside,
            );
        }
        if r.clicked() {
            actions.push(Action::SelectResult(i));
        }
        ui.vertical(|ui| {
            let seed = entry.seed.map_or("seed ?".into(), |s| format!("seed {s}"));
            let cost = entry.cost.map_or(String::new(), |c| format!(" · ${c:.4}"));
            let steps = entry.pasted.as_ref().and_then(|p| p.steps);
            let edge = steps.map_or(String::new(), |s| {
                let now = if entry.colour_match {
                    s.after
                } else {
                    s.before
                };
                format!(" · edge step {now:.1}")
            });
            // The number and its facts on one line: a row is four lines at most, so the four
            // results of a submission fit the panel together at 1400x900.
            let mut line = egui::text::LayoutJob::default();
            let strong = egui::TextFormat {
                color: ui.visuals().strong_text_color(),
                font_id: egui::TextStyle::Body.resolve(ui.style()),
                ..Default::default()
            };
            line.append(&format!("Result {}", entry.index), 0.0, strong);
            let weak = egui::TextFormat {
                color: ui.visuals().weak_text_color(),
                font_id: egui::TextStyle::Body.resolve(ui.style()),
                ..Default::default()
            };
            line.append(&format!("  {seed}{cost}{edge}"), 0.0, weak);
            let facts = ui.add(egui::Label::new(line).truncate());
            if let Some(s) = steps {
                facts.on_hover_text(format!(
                    "The mean step across the mask's edge, in levels: {:.1} as the model made \
                     it, {:.1} with the colours matched.",
                    s.before, s.after
                ));
            }
            if let Some(f) = &entry.figures {
                // Says which picture the figure is about; the warning colour only when the
                // shown (and saved) picture itself changed outside the mask.
                let text = format!(
                    "Outside the mask: {}",
                    compare::figures_caption(f, outside_kept)
                );
                let rich = if compare::outside_changed(f, outside_kept) {
                    egui::RichText::new(&text).color(ui.visuals().warn_fg_color)
                } else {
                    egui::RichText::new(&text).weak()
                };
                // One line (in full on hover): the row never changes height under the pointer.
                ui.add(egui::Label::new(rich).truncate())
                    .on_hover_text(text);
            }
            lettering_ui(ui, &entry.lettering);
            ui.horizontal(|ui| {
                let keep =
                    egui::Button::selectable(entry.kept, if entry.kept { "Kept" } else { "Keep" })
                        .small();
                if ui
                    .add(keep)
                    .on_hover_text("Star this result: \"Save kept\" saves the starred ones")
                    .clicked()
                {
                    actions.push(Action::SetKept {
                        index: i,
                        kept: !entry.kept,
                    });
                }
                if ui
                    .small_button("Use as new seed")
                    .on_hover_text("Continue editing from this result")
                    .clicked()
                {
                    actions.push(Action::UseAsSeed(i));
                }
                if entry.pasted.as_ref().is_some_and(|p| p.steps.is_some()) {
                    let toggle =
                        egui::Button::selectable(entry.colour_match, "Match colours").small();
                    let response = ui.add(toggle).on_hover_text(
                        "Match colours at the edge: takes out the colour drift the model added \
                         where it was asked to change nothing (measured just outside the mask), \
                         smoothly across the area.",
                    );
                    response.widget_info(|| {
                        egui::WidgetInfo::selected(
                            egui::Role::CheckBox,
                            true,
                            entry.colour_match,
                            format!("Match colours at the edge, result {}", entry.index),
                        )
                    });
                    if response.clicked() {
                        actions.push(Action::ColourMatch {
                            index: i,
                            on: !entry.colour_match,
                        });
                    }
                }
            });
        });
    }

    /// The quads where each result's expected strings were read (image pixels), in the order
    /// of the entries, for the compare view's outlines.
    fn lettering_quads(&self) -> Vec<Vec<crate::text::Quad>> {
        self.entries
            .iter()
            .map(|e| match &e.lettering {
                Lettering::Read(c) => c.strings.iter().filter_map(|s| s.quad).collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The compare view over the original and every result, sharing one zoom and pan.
    pub(crate) fn compare_ui(
        &mut self,
        ui: &mut egui::Ui,
        document: &mut DocumentState,
        actions: &mut Vec<Action>,
    ) {
        let ctx = ui.ctx().clone();
        document.ensure_textures(&ctx);
        let (Some(doc), Some(textures)) = (document.current(), &document.textures) else {
            return;
        };
        let max_side = ctx.input(|i| i.max_texture_side).max(1) as u32;
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
        for entry in &mut self.entries {
            let textures = entry.textures.get_or_insert_with(|| {
                let name = format!("result-{}-full", entry.index);
                (
                    upload(
                        name,
                        &entry.shown,
                        super::canvas::textures::PHOTO_TEXTURE_OPTIONS,
                    ),
                    None,
                )
            });
            if want_heat
                && textures.1.is_none()
                && let Some(h) = &entry.heatmap
            {
                let name = format!("result-{}-heat", entry.index);
                textures.1 = Some(upload(name, h, super::canvas::textures::TEXTURE_OPTIONS));
            }
        }
        let original = textures.image.clone();
        let quads = self.lettering_quads();
        let results: Vec<ResultTextures<'_>> = self
            .entries
            .iter()
            .zip(&quads)
            .filter_map(|(e, quads)| {
                let (image, heat) = e.textures.as_ref()?;
                Some(ResultTextures {
                    image,
                    heatmap: heat.as_ref(),
                    figures: e.figures.as_ref(),
                    kept: e.kept,
                    discarded: e.discarded,
                    lettering: quads,
                })
            })
            .collect();
        let inputs = CompareInputs {
            original: &original,
            image_size: doc.size(),
            results: &results,
        };
        let shown = self.compare_view.show(ui, &inputs);
        drop(results);
        if self.compare_view.show_heatmap && !want_heat {
            // Switched on this frame: the heatmaps go up on the next one.
            ui.ctx().request_repaint();
        }
        for action in shown {
            actions.push(match action {
                CompareAction::Select(i) => Action::SelectResult(i),
                CompareAction::SetKept { index, kept } => Action::SetKept { index, kept },
                CompareAction::SetDiscarded { index, discarded } => {
                    Action::SetDiscarded { index, discarded }
                }
            });
        }
    }
}

/// One result's lettering line: "Lettering 3/3 exact" in green, the misreadings in the
/// warning colour, or that it is being read. Always one line of the same height (a long
/// message is cut, in full on hover), so Keep and "Use as new seed" below it never move when
/// the reading ends.
fn lettering_ui(ui: &mut egui::Ui, lettering: &Lettering) {
    let (text, colour) = match lettering {
        Lettering::None => return,
        Lettering::Reading => ("Reading the lettering…".to_string(), None),
        Lettering::Failed(why) => (
            format!("Lettering not checked: {why}"),
            Some(ui.visuals().weak_text_color()),
        ),
        Lettering::Read(check) if check.exact == check.total => (
            format!("Lettering {}/{} exact", check.exact, check.total),
            Some(egui::Color32::from_rgb(90, 200, 110)),
        ),
        Lettering::Read(check) => {
            let wrong: Vec<String> = check
                .strings
                .iter()
                .filter(|s| !s.exact)
                .map(|s| s.describe())
                .collect();
            (
                format!(
                    "Lettering {}/{} exact: {}",
                    check.exact,
                    check.total,
                    wrong.join("; ")
                ),
                Some(ui.visuals().warn_fg_color),
            )
        }
    };
    let height = ui.spacing().interact_size.y;
    let size = egui::vec2(ui.available_width(), height);
    ui.allocate_ui_with_layout(
        size,
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_height(height);
            ui.set_max_height(height);
            match colour {
                None => {
                    ui.spinner();
                    ui.weak(text);
                }
                Some(colour) => {
                    ui.add(egui::Label::new(egui::RichText::new(&text).color(colour)).truncate())
                        .on_hover_text(text);
                }
            }
        },
    );
}
