//! The Object tool's commands: choosing it encodes the photo in the background (the first time
//! also loads the models); then hovering outlines the object under the pointer, a click
//! selects an object (Alt+click removes one), further clicks inside that pending selection
//! refine it (Alt: a background point), Shift+click cycles the model's candidates (part /
//! whole), a drag gives a box. The pending selection is applied at once as one undo step; a
//! refinement replaces that step, so each object is one undo step. Enter or a click elsewhere
//! closes it; Esc takes it back. The canvas part (outlines, pointer) is `canvas::object`.

use std::sync::Arc;

use egui::Pos2;
use image::RgbaImage;

use super::app::App;
use super::canvas::Tool;
use super::work::Msg;
use crate::mask::{Combine, DirtyRect};
use crate::segment::{Candidates, Embedding, Prompt};

/// The photo's encoding for the Object tool.
#[derive(Debug, Clone, Default)]
pub enum ObjectScan {
    /// Not encoded yet (the Object tool encodes on its first use).
    #[default]
    NotStarted,
    /// The encoder runs in the background.
    Encoding,
    Ready(Embedding),
    /// Why the photo could not be encoded.
    Failed(String),
}

/// The object just selected, still open to refinement.
#[derive(Debug, Clone)]
pub struct PendingObject {
    pub prompt: Prompt,
    pub candidates: Candidates,
    /// The candidate shown.
    pub chosen: usize,
    pub combine: Combine,
    /// Where it lies in the photo (clicks inside refine it).
    pub bounds: DirtyRect,
    /// Its outline, in photo pixels.
    pub outline: Vec<[Pos2; 2]>,
    /// The mask generation right after it was applied: any other change closes it.
    pub generation: u64,
    /// It made an undo step (which a refinement replaces).
    pub recorded: bool,
}

/// The Object tool's state for the open photo (dropped with it).
#[derive(Debug, Default)]
pub struct ObjectState {
    pub scan: ObjectScan,
    pub pending: Option<PendingObject>,
    /// The outline of the object under the pointer, and where the pointer was.
    pub hover: Option<(Pos2, Vec<[Pos2; 2]>)>,
    /// Decodes running in the background (a hover decode waits until none runs: throttling).
    pub decoding: u32,
    /// Where the pointer is now (a hover decode for it is due when none runs).
    pub hover_wanted: Option<Pos2>,
}

impl ObjectState {
    pub fn embedding(&self) -> Option<&Embedding> {
        match &self.scan {
            ObjectScan::Ready(e) => Some(e),
            _ => None,
        }
    }

    pub fn is_encoding(&self) -> bool {
        matches!(self.scan, ObjectScan::Encoding)
    }
}

/// What the pointer asked of the Object tool.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectInput {
    Click {
        at: Pos2,
        alt: bool,
        shift: bool,
    },
    Box {
        from: Pos2,
        to: Pos2,
        alt: bool,
    },
    /// Enter: close the pending selection.
    Commit,
    /// Esc: take the pending selection back.
    Cancel,
}

/// What a decode was for.
#[derive(Debug, Clone)]
pub(crate) enum Purpose {
    Hover(Pos2),
    /// A new object (`combine`), or a refinement of the pending one.
    Select {
        prompt: Prompt,
        combine: Combine,
        refine: bool,
    },
}

/// The Object tool was chosen: encode the photo unless that was done (or is under way).
pub(crate) fn choose(app: &mut App) {
    app.canvas.tool = Tool::Object;
    encode(app);
}

fn encode(app: &mut App) {
    let Some(doc) = app.document.current_mut() else {
        return;
    };
    if matches!(doc.object.scan, ObjectScan::Encoding | ObjectScan::Ready(_)) {
        return;
    }
    doc.object.scan = ObjectScan::Encoding;
    let image = doc.image.clone();
    app.status
        .busy("Looking at the photo for the Object tool (the first time also loads the model)…");
    app.worker.thread(move || {
        let embedding = crate::segment::segmenter()
            .and_then(|s| s.encode(&image))
            .map_err(|e| e.to_string());
        Msg::ObjectEncoded(image, embedding)
    });
}

/// The encoding finished (dropped when another photo is open by now).
pub(crate) fn encoded(app: &mut App, image: &Arc<RgbaImage>, result: Result<Embedding, String>) {
    app.status.done();
    let Some(doc) = app.document.current_mut() else {
        return;
    };
    if !Arc::ptr_eq(&doc.image, image) {
        return;
    }
    match result {
        Ok(e) => {
            doc.object.scan = ObjectScan::Ready(e);
            app.status.info(
                "Click an object to select it (Alt+click removes one; Shift+click cycles part and \
                 whole; drag a box around it).",
            );
        }
        Err(e) => {
            doc.object.scan = ObjectScan::Failed(e.clone());
            app.status
                .error(format!("The Object tool cannot look at this photo: {e}"));
        }
    }
}

/// The pointer is over photo point `at`: outline the object there (one decode at a time).
pub(crate) fn hover(app: &mut App, at: Option<Pos2>) {
    let Some(doc) = app.document.current_mut() else {
        return;
    };
    doc.object.hover_wanted = at;
    if at.is_none() {
        doc.object.hover = None;
    }
    start_hover(app);
}

fn start_hover(app: &mut App) {
    let Some(doc) = app.document.current_mut() else {
        return;
    };
    let state = &mut doc.object;
    let Some(at) = state.hover_wanted else { return };
    if state.decoding > 0
        || state
            .hover
            .as_ref()
            .is_some_and(|(p, _)| p.distance(at) < 2.0)
    {
        return;
    }
    let Some(embedding) = state.embedding().cloned() else {
        return;
    };
    let (w, h) = (embedding.width() as f32, embedding.height() as f32);
    if at.x < 0.0 || at.y < 0.0 || at.x >= w || at.y >= h {
        state.hover = None;
        return;
    }
    state.decoding += 1;
    let image = doc.image.clone();
    app.worker.thread(move || {
        let result = crate::segment::segmenter()
            .and_then(|s| s.decode(&embedding, &Prompt::click(at.x, at.y), None))
            .map_err(|e| e.to_string());
        Msg::ObjectDecoded(image, Purpose::Hover(at), Box::new(result))
    });
}

/// The outline of candidate `i`: the edges between cells on and off the object at the
/// model's resolution, in photo pixels (horizontal and vertical runs joined).
pub(crate) fn outline(candidates: &Candidates, i: usize) -> Vec<[Pos2; 2]> {
    let Some((cw, ch, cells)) = candidates.coarse(i) else {
        return Vec::new();
    };
    let (w, h) = candidates.photo_size();
    let sx = w as f32 / cw as f32;
    let sy = h as f32 / ch as f32;
    let on = |x: isize, y: isize| {
        x >= 0
            && y >= 0
            && (x as usize) < cw
            && (y as usize) < ch
            && cells[y as usize * cw + x as usize]
    };
    let mut out = Vec::new();
    // Horizontal edges: between rows y-1 and y.
    for y in 0..=ch as isize {
        let mut start: Option<isize> = None;
        for x in 0..=cw as isize {
            let edge = x < cw as isize && on(x, y - 1) != on(x, y);
            match (edge, start) {
                (true, None) => start = Some(x),
                (false, Some(s)) => {
                    out.push([
                        Pos2::new(s as f32 * sx, y as f32 * sy),
                        Pos2::new(x as f32 * sx, y as f32 * sy),
                    ]);
                    start = None;
                }
                _ => {}
            }
        }
    }
    for x in 0..=cw as isize {
        let mut start: Option<isize> = None;
        for y in 0..=ch as isize {
            let edge = y < ch as isize && on(x - 1, y) != on(x, y);
            match (edge, start) {
                (true, None) => start = Some(y),
                (false, Some(s)) => {
                    out.push([
                        Pos2::new(x as f32 * sx, s as f32 * sy),
                        Pos2::new(x as f32 * sx, y as f32 * sy),
                    ]);
                    start = None;
                }
                _ => {}
            }
        }
    }
    out
}

/// The pending selection, if it is still the last change of the mask.
fn live_pending(app: &mut App) -> Option<PendingObject> {
    let generation = app.document.generation;
    let doc = app.document.current_mut()?;
    match &doc.object.pending {
        Some(p) if p.generation == generation => Some(p.clone()),
        Some(_) => {
            doc.object.pending = None;
            None
        }
        None => None,
    }
}

/// A click, a box, Enter or Esc on the canvas.
pub(crate) fn input(app: &mut App, input: ObjectInput) {
    let Some(embedding) = app
        .document
        .current()
        .and_then(|d| d.object.embedding().cloned())
    else {
        if app.document.current().is_some() {
            app.status
                .info("The Object tool is still looking at the photo; try again in a moment.");
            encode(app);
        }
        return;
    };
    let pending = live_pending(app);
    let (w, h) = (embedding.width() as f32, embedding.height() as f32);
    let purpose = match input {
        ObjectInput::Commit => {
            close(app);
            return;
        }
        ObjectInput::Cancel => {
            if pending.is_some_and(|p| p.recorded) {
                app.document.edit_mask(|ed| ed.undo());
            }
            close(app);
            return;
        }
        ObjectInput::Click { shift: true, .. } if pending.is_some() => {
            if let Some(p) = pending {
                let next = p.candidates.next(p.chosen);
                show(app, p.prompt, p.candidates, next, p.combine, true);
            }
            return;
        }
        ObjectInput::Click { at, alt, .. } => {
            if at.x < 0.0 || at.y < 0.0 || at.x >= w || at.y >= h {
                app.status.info("Click on the photo to select an object.");
                return;
            }
            match &pending {
                Some(p) if contains(p.bounds, at) => Purpose::Select {
                    prompt: p.prompt.clone().with_point(at.x, at.y, !alt),
                    combine: p.combine,
                    refine: true,
                },
                _ => {
                    close(app);
                    Purpose::Select {
                        prompt: Prompt::click(at.x, at.y),
                        combine: if alt { Combine::Subtract } else { Combine::Add },
                        refine: false,
                    }
                }
            }
        }
        ObjectInput::Box { from, to, alt } => {
            close(app);
            let prompt = Prompt::default().with_box(
                from.x.clamp(0.0, w),
                from.y.clamp(0.0, h),
                to.x.clamp(0.0, w),
                to.y.clamp(0.0, h),
            );
            if prompt.check(embedding.width(), embedding.height()).is_err() {
                return;
            }
            Purpose::Select {
                prompt,
                combine: if alt { Combine::Subtract } else { Combine::Add },
                refine: false,
            }
        }
    };
    let Purpose::Select { prompt, refine, .. } = &purpose else {
        return;
    };
    let previous = if *refine {
        pending
            .as_ref()
            .and_then(|p| p.candidates.logits(p.chosen).map(<[f32]>::to_vec))
    } else {
        None
    };
    let prompt = prompt.clone();
    let Some(doc) = app.document.current_mut() else {
        return;
    };
    doc.object.decoding += 1;
    let image = doc.image.clone();
    app.worker.thread(move || {
        let result = crate::segment::segmenter()
            .and_then(|s| s.decode(&embedding, &prompt, previous.as_deref()))
            .inspect(|c| {
                // The full-size region is made here, off the UI thread.
                let _ = c.region(c.preferred());
            })
            .map_err(|e| e.to_string());
        Msg::ObjectDecoded(image, purpose, Box::new(result))
    });
}

fn contains(b: DirtyRect, p: Pos2) -> bool {
    p.x >= b.x0 as f32 && p.x < b.x1 as f32 && p.y >= b.y0 as f32 && p.y < b.y1 as f32
}

/// Closes the pending selection (it stays in the mask).
fn close(app: &mut App) {
    if let Some(doc) = app.document.current_mut() {
        doc.object.pending = None;
    }
}

/// A decode finished.
pub(crate) fn decoded(
    app: &mut App,
    image: &Arc<RgbaImage>,
    purpose: Purpose,
    result: Result<Candidates, String>,
) {
    let Some(doc) = app.document.current_mut() else {
        return;
    };
    if !Arc::ptr_eq(&doc.image, image) {
        return;
    }
    doc.object.decoding = doc.object.decoding.saturating_sub(1);
    match (purpose, result) {
        (Purpose::Hover(at), Ok(c)) => {
            doc.object.hover = Some((at, outline(&c, c.preferred())));
            // The pointer moved on meanwhile: follow it.
            start_hover(app);
        }
        (Purpose::Hover(_), Err(e)) => {
            tracing::debug!("hover decode: {e}");
        }
        (
            Purpose::Select {
                prompt,
                combine,
                refine,
            },
            Ok(c),
        ) => {
            let chosen = c.preferred();
            show(app, prompt, c, chosen, combine, refine);
            start_hover(app);
        }
        (Purpose::Select { .. }, Err(e)) => {
            app.status
                .error(format!("The object could not be selected: {e}"));
        }
    }
}

/// Applies candidate `chosen` as one undo step (replacing the pending one's step when
/// `replace`) and keeps it pending.
fn show(
    app: &mut App,
    prompt: Prompt,
    candidates: Candidates,
    chosen: usize,
    combine: Combine,
    replace: bool,
) {
    let Some(region) = candidates.region(chosen) else {
        return;
    };
    let replace = replace && live_pending(app).is_some_and(|p| p.recorded);
    let label = match combine {
        Combine::Add => "Select object",
        Combine::Subtract => "Unselect object",
    };
    let Some(bounds) = region.bounds().filter(|_| !region.is_empty()) else {
        if replace {
            app.document.edit_mask(|ed| ed.undo());
        }
        close(app);
        app.status.info("No object was found there.");
        return;
    };
    let steps = |app: &App| {
        app.document
            .current()
            .map_or(0, |d| d.editor.history().stats().undo_steps)
    };
    let before = steps(app).saturating_sub(usize::from(replace));
    app.document.edit_mask(|ed| {
        let undone = if replace { ed.undo() } else { None };
        let applied = ed.apply(label, Some(bounds), |m| region.apply(m, combine));
        match (undone, applied) {
            (Some(a), Some(b)) => Some(a.union(b)),
            (a, b) => a.or(b),
        }
    });
    let recorded = steps(app) > before;
    let generation = app.document.generation;
    let outline = outline(&candidates, chosen);
    if let Some(doc) = app.document.current_mut() {
        doc.object.pending = Some(PendingObject {
            prompt,
            candidates,
            chosen,
            combine,
            bounds,
            outline,
            generation,
            recorded,
        });
    }
}
