//! Selecting an object with a click, offline: MobileSAM (Apache-2.0, in `assets/models/`) run
//! on the CPU with tract. The photo is encoded once (about 2.5 s on one core in a release build:
//! do it in the background and keep the [`Embedding`]); every prompt after that is a decoder
//! run of about 0.1-0.2 s. A prompt is foreground points, background points and at most one
//! box; the decoder answers with four candidate masks (sub-part, part, whole…) of 256x256
//! logits, which are upsampled to the photo's full size with smooth edges.
//!
//! Models load through [`crate::models`] (the same folder, thread pool and error messages as
//! the text reader).

mod engine;
mod region;

pub use engine::{
    DECODER_FILE, EMBEDDING_LEN, ENCODER_FILE, Embedding, INPUT_SIDE, LOW_RES, Segmenter,
    preprocess, segmenter,
};
pub use region::ObjectRegion;

use crate::models::ModelError;

/// The smallest side, in pixels, the photo may have once scaled to the model's 1024-pixel
/// input (a 16384x256 strip is the longest that passes); smaller ones hold too little to find.
pub const MIN_SCALED_SIDE: u32 = 16;

/// Why an object could not be selected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SegmentError {
    #[error("{0}")]
    Model(#[from] ModelError),
    #[error(
        "the point {x},{y} is outside the {width}x{height} photo; click on the photo (0 ≤ x < {width}, 0 ≤ y < {height})"
    )]
    OutsidePhoto {
        x: f32,
        y: f32,
        width: u32,
        height: u32,
    },
    #[error("the box {x},{y},{w},{h} does not overlap the {width}x{height} photo")]
    BoxOutside {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        width: u32,
        height: u32,
    },
    #[error(
        "the object selector cannot take a {width}x{height} photo: at the model's {side}-pixel size its short side would be under {min} pixels"
    )]
    Unsuitable {
        width: u32,
        height: u32,
        side: u32,
        min: u32,
    },
    #[error(
        "nothing to select: give a point on the object or a box around it (a background point alone selects nothing)"
    )]
    NoPrompt,
    #[error("the embedding is for a {0}x{1} photo, not this {2}x{3} one")]
    WrongPhoto(u32, u32, u32, u32),
}

/// A point of a prompt, in photo pixels (continuous: a pixel's centre is at +0.5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PromptPoint {
    pub x: f32,
    pub y: f32,
    /// True: on the object. False: a background point (not part of it).
    pub foreground: bool,
}

/// A box prompt: from (x0, y0) to (x1, y1) in photo pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PromptBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

/// What the user pointed at: foreground and background points and at most one box.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    pub points: Vec<PromptPoint>,
    pub area: Option<PromptBox>,
}

impl Prompt {
    /// A single click on the object.
    pub fn click(x: f32, y: f32) -> Self {
        Self {
            points: vec![PromptPoint {
                x,
                y,
                foreground: true,
            }],
            area: None,
        }
    }

    /// Adds a point on the object (`foreground`) or on the background.
    pub fn with_point(mut self, x: f32, y: f32, foreground: bool) -> Self {
        self.points.push(PromptPoint { x, y, foreground });
        self
    }

    /// A box from (x0, y0) to (x1, y1) (corners in any order).
    pub fn with_box(mut self, x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        self.area = Some(PromptBox {
            x0: x0.min(x1),
            y0: y0.min(y1),
            x1: x0.max(x1),
            y1: y0.max(y1),
        });
        self
    }

    /// True for one foreground point and nothing else: the model's multi-mask answer is
    /// ranked by its own score (otherwise its first, single-mask answer is preferred).
    pub fn is_single_click(&self) -> bool {
        self.area.is_none() && self.points.len() == 1 && self.points[0].foreground
    }

    /// Checks the prompt against a photo's size: every point on the photo, the box
    /// overlapping it, something on the object.
    pub fn check(&self, width: u32, height: u32) -> Result<(), SegmentError> {
        for p in &self.points {
            let inside = p.x.is_finite()
                && p.y.is_finite()
                && p.x >= 0.0
                && p.y >= 0.0
                && p.x < width as f32
                && p.y < height as f32;
            if !inside {
                return Err(SegmentError::OutsidePhoto {
                    x: p.x,
                    y: p.y,
                    width,
                    height,
                });
            }
        }
        if let Some(b) = self.area {
            let overlaps = [b.x0, b.y0, b.x1, b.y1].iter().all(|v| v.is_finite())
                && b.x1 > 0.0
                && b.y1 > 0.0
                && b.x0 < width as f32
                && b.y0 < height as f32
                && b.x1 > b.x0
                && b.y1 > b.y0;
            if !overlaps {
                return Err(SegmentError::BoxOutside {
                    x: b.x0,
                    y: b.y0,
                    w: b.x1 - b.x0,
                    h: b.y1 - b.y0,
                    width,
                    height,
                });
            }
        }
        if self.area.is_none() && !self.points.iter().any(|p| p.foreground) {
            return Err(SegmentError::NoPrompt);
        }
        Ok(())
    }
}

/// The decoder's answer to a prompt: four candidates (256x256 logits each) and the model's
/// predicted IoU for each, in the model's order.
#[derive(Clone)]
pub struct Candidates {
    logits: Vec<Vec<f32>>,
    scores: Vec<f32>,
    /// Candidate indices, smallest area first (part → whole), for cycling.
    by_area: Vec<usize>,
    preferred: usize,
    /// The photo's size and its scaled size in the model's input.
    width: u32,
    height: u32,
    scaled: (u32, u32),
    /// Each candidate at full size, made on first use (so that a worker thread can make the
    /// one that will be shown).
    regions: Vec<std::sync::OnceLock<ObjectRegion>>,
}

impl std::fmt::Debug for Candidates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidates")
            .field("scores", &self.scores)
            .field("preferred", &self.preferred)
            .finish()
    }
}

impl Candidates {
    fn new(
        logits: Vec<Vec<f32>>,
        scores: Vec<f32>,
        single_click: bool,
        embedding: &Embedding,
    ) -> Self {
        let n = logits.len();
        // For one click the model's single-mask answer (0) is often ambiguous: the best
        // scored of the multi-mask answers is taken, as SAM does. Otherwise answer 0.
        let preferred = if single_click && n > 1 {
            (1..n)
                .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
                .unwrap_or(0)
        } else {
            0
        };
        let area = |i: usize| logits[i].iter().filter(|&&v| v > 0.0).count();
        let mut by_area: Vec<usize> = (0..n).collect();
        by_area.sort_by_key(|&i| area(i));
        // Two candidates covering the same pixels count once when cycling.
        by_area.dedup_by_key(|i| area(*i));
        if !by_area.contains(&preferred) {
            by_area.push(preferred);
            by_area.sort_by_key(|&i| area(i));
        }
        Self {
            regions: (0..n).map(|_| std::sync::OnceLock::new()).collect(),
            logits,
            scores,
            by_area,
            preferred,
            width: embedding.width(),
            height: embedding.height(),
            scaled: embedding.scaled_size(),
        }
    }

    /// How many candidates there are.
    pub fn len(&self) -> usize {
        self.logits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.logits.is_empty()
    }

    /// The model's predicted IoU of each candidate.
    pub fn scores(&self) -> &[f32] {
        &self.scores
    }

    /// The candidate to show first.
    pub fn preferred(&self) -> usize {
        self.preferred
    }

    /// The candidate after `current` in the part → whole order (wrapping): Shift+click.
    pub fn next(&self, current: usize) -> usize {
        let at = self.by_area.iter().position(|&i| i == current).unwrap_or(0);
        self.by_area[(at + 1) % self.by_area.len().max(1)]
    }

    /// Candidate `i`'s 256x256 logits (the model's low-resolution answer; feed it back with
    /// the next prompt to refine).
    pub fn logits(&self, i: usize) -> Option<&[f32]> {
        self.logits.get(i).map(Vec::as_slice)
    }

    /// Candidate `i` at the photo's full size, with smooth edges (made once, then copied).
    pub fn region(&self, i: usize) -> Option<ObjectRegion> {
        let logits = self.logits.get(i)?;
        let cell = self.regions.get(i)?;
        Some(
            cell.get_or_init(|| {
                ObjectRegion::from_logits(logits, self.width, self.height, self.scaled)
            })
            .clone(),
        )
    }

    /// Candidate `i` thresholded at the model's resolution (256x256, true = on the object),
    /// cropped to the photo's part, without the specks the full-size region leaves out: cheap,
    /// for an outline while hovering. Returns the columns, rows and the cells.
    pub fn coarse(&self, i: usize) -> Option<(usize, usize, Vec<bool>)> {
        let logits = self.logits.get(i)?;
        let (cw, ch) = region::photo_cells(self.scaled);
        let cleaned = region::drop_islands(logits, cw, ch, 0.0);
        let logits: &[f32] = cleaned.as_deref().unwrap_or(logits);
        let mut cells = Vec::with_capacity(cw * ch);
        for y in 0..ch {
            cells.extend(
                logits[y * LOW_RES..y * LOW_RES + cw]
                    .iter()
                    .map(|&v| v > 0.0),
            );
        }
        Some((cw, ch, cells))
    }

    /// The photo's size.
    pub fn photo_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}
