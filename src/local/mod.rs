//! The offline engine: fills the masked region from its surroundings and draws the prompt's
//! quoted text into it, with no account and no network.
//!
//! [`edit`] is the one entry point (CLI and GUI). It runs on the caller's thread, reports
//! progress in `0.0..=1.0` and checks `cancel` often, so the GUI runs it on a worker thread.
//! Pixels outside the mask (coverage below [`crate::mask::THRESHOLD`]) are never changed.
//!
//! Wiring it (GUI): clone the image and mask into a worker thread with an
//! `Arc<AtomicBool>` for cancel; call [`edit`] with a progress closure that sends the value
//! over a channel and calls `ctx.request_repaint()`; send the `Result` back the same way.
//! Seeds `seed, seed + 1, ...` give the N variations. [`choose_fill`] tells the form which
//! method "Automatic" will use; [`FillMethod::ALL`] and [`FillMethod::label`] fill a combo box.

mod canvas;
mod fast_marching;
mod lettering;
mod patch_fill;
pub mod restyle;
mod seeded_random;

use std::sync::atomic::{AtomicBool, Ordering};

use image::RgbaImage;

use crate::fonts::Typeface;
use crate::mask::{DirtyRect, Mask};

use canvas::Canvas;

pub use lettering::{Lettering, TextPlacement, contrasting_colour, parse_prompt};

/// How the hole is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum FillMethod {
    /// Fast marching for small or thin regions, patch fill for the rest.
    #[default]
    Auto,
    /// Fast marching (Telea): smooth and quick, smears texture.
    FastMarching,
    /// Multi-scale exemplar patch fill: carries the surrounding texture.
    Patch,
}

impl FillMethod {
    pub const ALL: [FillMethod; 3] = [
        FillMethod::Auto,
        FillMethod::FastMarching,
        FillMethod::Patch,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FillMethod::Auto => "Automatic",
            FillMethod::FastMarching => "Smooth (fast marching)",
            FillMethod::Patch => "Texture (patch fill)",
        }
    }
}

/// Settings of the offline engine.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalOptions {
    pub fill: FillMethod,
    /// Half the patch side of the patch fill (3 gives 7x7 patches).
    pub patch_radius: u32,
    /// Neighbourhood radius of the fast-marching fill, in pixels.
    pub marching_radius: f32,
    /// Text colour; `None` takes a colour word from the prompt or else contrasts with the fill.
    pub text_colour: Option<[u8; 3]>,
    /// Typeface; `None` lets the seed pick one.
    pub typeface: Option<Typeface>,
}

impl Default for LocalOptions {
    fn default() -> Self {
        Self {
            fill: FillMethod::Auto,
            patch_radius: 3,
            marching_radius: 5.0,
            text_colour: None,
            typeface: None,
        }
    }
}

/// Why the offline engine could not edit.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum LocalError {
    #[error(
        "the mask is {mask_width}x{mask_height} but the image is {image_width}x{image_height}; \
         paint or import a mask made for this image"
    )]
    SizeMismatch {
        image_width: u32,
        image_height: u32,
        mask_width: u32,
        mask_height: u32,
    },
    #[error("the mask marks no pixel; paint over the area to edit first")]
    EmptyMask,
    #[error(
        "the mask covers the whole image, so there is nothing to fill from; \
         leave some of the picture unmasked"
    )]
    NothingToFillFrom,
    #[error(
        "no {patch}x{patch} patch of the picture is free of the mask, so the texture fill has \
         nothing to copy; use the smooth fill or a smaller mask"
    )]
    NoSourcePatches { patch: usize },
    #[error("the patch radius {0} is out of range; use 1 to 8")]
    BadPatchRadius(u32),
    #[error("the local edit was cancelled")]
    Cancelled,
}

/// Edits `image`: fills the masked region, then draws each quoted string of `prompt` into it.
/// Same inputs and `seed`, same result; another seed gives another fill and lettering.
pub fn edit(
    image: &RgbaImage,
    mask: &Mask,
    prompt: &str,
    options: &LocalOptions,
    seed: u64,
    progress: &dyn Fn(f32),
    cancel: &AtomicBool,
) -> Result<RgbaImage, LocalError> {
    let lettering = parse_prompt(prompt);
    if !lettering.lines.is_empty()
        && let Some(out) =
            reletter_in_place(image, mask, &lettering, options, seed, progress, cancel)?
    {
        progress(1.0);
        return Ok(out);
    }
    let mut out = fill(image, mask, options, seed, &|p| progress(p * 0.95), cancel)?;
    if !lettering.lines.is_empty() {
        if cancel.load(Ordering::Relaxed) {
            return Err(LocalError::Cancelled);
        }
        let placements = lettering::draw(&mut out, mask, &lettering, options, seed);
        tracing::debug!(lines = placements.len(), "local engine drew text");
        if placements.len() < lettering.lines.len() {
            tracing::warn!(
                wanted = lettering.lines.len(),
                drawn = placements.len(),
                "some quoted text did not fit the masked region"
            );
        }
    }
    progress(1.0);
    Ok(out)
}

/// Re-letters the text lines found inside the mask in their own style (see [`restyle`]):
/// `None` when the mask holds no line with lettering told from its ground, or the text models
/// are not there (the caller then fills the whole mask and centres the text).
fn reletter_in_place(
    image: &RgbaImage,
    mask: &Mask,
    lettering: &Lettering,
    options: &LocalOptions,
    seed: u64,
    progress: &dyn Fn(f32),
    cancel: &AtomicBool,
) -> Result<Option<RgbaImage>, LocalError> {
    if mask.size() != image.dimensions() || mask.marked_bounds().is_none() {
        return Ok(None);
    }
    let reader = match crate::text::reader() {
        Ok(reader) => reader,
        Err(e) => {
            tracing::info!("re-lettering in the sign's style needs the text models: {e}");
            return Ok(None);
        }
    };
    let lines = match reader.read_in_mask(image, mask, crate::text::Script::Any) {
        Ok(lines) => lines,
        Err(e) => {
            tracing::warn!("could not look for text lines in the mask: {e}");
            return Ok(None);
        }
    };
    if cancel.load(Ordering::Relaxed) {
        return Err(LocalError::Cancelled);
    }
    let lines = restyle::merge_split_lines(lines);
    if lines.is_empty() {
        return Ok(None);
    }
    let mut out = image.clone();
    let colour = options.text_colour.or(lettering.colour);
    let done = restyle::reletter(
        image,
        &mut out,
        mask,
        &lines,
        &lettering.lines,
        colour,
        seed,
    );
    if done.is_empty() {
        return Ok(None);
    }
    // Reported only now: a fallback to the whole-mask fill reports its own progress from 0.
    progress(0.9);
    for line in &done {
        tracing::info!(
            old = %line.old,
            new = line.new.as_deref().unwrap_or(""),
            style = %line.description,
            face = line.face.name(),
            "re-lettered a line in its own style"
        );
    }
    Ok(Some(out))
}

/// Draws the quoted strings of `prompt` into `image` inside `mask` (no fill) and says where;
/// an empty list when the prompt quotes nothing or the region is too small for text.
pub fn draw_prompt_text(
    image: &mut RgbaImage,
    mask: &Mask,
    prompt: &str,
    options: &LocalOptions,
    seed: u64,
) -> Vec<TextPlacement> {
    let lettering = parse_prompt(prompt);
    if lettering.lines.is_empty() || mask.size() != image.dimensions() {
        return Vec::new();
    }
    lettering::draw(image, mask, &lettering, options, seed)
}

/// The method [`FillMethod::Auto`] picks for this mask: fast marching when every marked pixel
/// lies within a few pixels of the unmarked ones (strokes up to about 8 px wide) or the
/// region is tiny; the patch fill otherwise. This looks at the mask alone: where the
/// picture around a wider hole turns out plain (a shaded wall, a clear sky, no texture above
/// noise), Automatic fills smoothly too.
pub fn choose_fill(mask: &Mask) -> FillMethod {
    let Some(bounds) = mask.marked_bounds() else {
        return FillMethod::FastMarching;
    };
    let area = expand(bounds, 1, mask.width(), mask.height());
    let canvas = Canvas::cut(&RgbaImage::new(mask.width(), mask.height()), mask, area);
    resolve_auto(&canvas, canvas.max_hole_depth())
}

/// What Automatic means for a hole `depth` deep (its [`Canvas::max_hole_depth`]).
fn resolve_auto(canvas: &Canvas, depth: f32) -> FillMethod {
    const SMALL_REGION: usize = 64;
    const THIN_DEPTH: f32 = 4.0;
    if canvas.hole_count() <= SMALL_REGION || depth <= THIN_DEPTH {
        FillMethod::FastMarching
    } else {
        FillMethod::Patch
    }
}

/// Fills the masked region only (no text). The building block of [`edit`].
pub fn fill(
    image: &RgbaImage,
    mask: &Mask,
    options: &LocalOptions,
    seed: u64,
    progress: &dyn Fn(f32),
    cancel: &AtomicBool,
) -> Result<RgbaImage, LocalError> {
    let (width, height) = image.dimensions();
    if mask.size() != (width, height) {
        return Err(LocalError::SizeMismatch {
            image_width: width,
            image_height: height,
            mask_width: mask.width(),
            mask_height: mask.height(),
        });
    }
    if !(1..=8).contains(&options.patch_radius) {
        return Err(LocalError::BadPatchRadius(options.patch_radius));
    }
    let Some(bounds) = mask.marked_bounds() else {
        return Err(LocalError::EmptyMask);
    };
    let marked = mask.count_at_least(crate::mask::THRESHOLD);
    if marked == width as usize * height as usize {
        return Err(LocalError::NothingToFillFrom);
    }
    let radius = options.patch_radius as usize;
    // Texture is searched for near the hole: as far again as the hole is large.
    let reach = (bounds.width().max(bounds.height()) / 2).max(32) + radius as u32;
    let patch_area = expand(bounds, reach, width, height);
    let mut canvas = Canvas::cut(image, mask, patch_area);
    // The hole's depth, measured once for the choice and the patch fill.
    let depth = match options.fill {
        FillMethod::FastMarching => 0.0,
        _ => canvas.max_hole_depth(),
    };
    let method = match options.fill {
        // Plain surroundings have no texture to carry: the smooth fill is the closer guess.
        FillMethod::Auto => match resolve_auto(&canvas, depth) {
            FillMethod::Patch if patch_fill::plain_surroundings(&canvas, radius, depth) => {
                FillMethod::FastMarching
            }
            method => method,
        },
        chosen => chosen,
    };
    let mut out = image.clone();
    match method {
        FillMethod::Patch if patch_fill::has_sources(&canvas, radius) => {
            patch_fill::fill(&mut canvas, radius, depth, seed, progress, cancel)?;
            canvas.paste_hole(&mut out, patch_area);
        }
        FillMethod::Patch if options.fill == FillMethod::Patch => {
            return Err(LocalError::NoSourcePatches {
                patch: 2 * radius + 1,
            });
        }
        _ => {
            let margin = options.marching_radius.ceil().max(1.0) as u32 + 1;
            let area = expand(bounds, margin, width, height);
            let mut canvas = Canvas::cut(image, mask, area);
            fast_marching::fill(&mut canvas, options.marching_radius, progress, cancel)?;
            canvas.paste_hole(&mut out, area);
        }
    }
    progress(1.0);
    Ok(out)
}

fn expand(r: DirtyRect, by: u32, width: u32, height: u32) -> DirtyRect {
    DirtyRect::new(
        r.x0.saturating_sub(by),
        r.y0.saturating_sub(by),
        r.x1.saturating_add(by).min(width),
        r.y1.saturating_add(by).min(height),
    )
}
