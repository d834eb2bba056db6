//! The models and their plans: loaded once per process, shared by every thread. tract needs a
//! concrete input size to optimise a model, so each model keeps its parsed graph and a small
//! cache of optimised plans, one per padded input size (a plan takes about 0.1-0.3 s to build).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::RgbaImage;
use tract_onnx::prelude::*;

use rayon::prelude::*;
use tract_linalg::multithread::{Executor, multithread_tract_scope};

use super::geometry::{BoxOptions, boxes_from_map};
use super::recognise::{Alphabet, LineSamples, line_tensor, padded_width, sample_line};
use super::resample::shrink_into_planes;
use super::{Script, TextBox, TextError, TextLine};
use crate::mask::Mask;
use crate::models::{Model, ModelError};

/// The detector's file in the model folder.
pub const DETECTOR_FILE: &str = "PP-OCRv6_det_small.onnx";
/// The recogniser's file in the model folder.
pub const RECOGNISER_FILE: &str = "PP-OCRv6_rec_small.onnx";

/// Photos are downscaled for detection so that their long side is at most this many pixels
/// (as RapidOCR does, at 2000); lines are then read from the full-resolution photo.
pub const DETECT_MAX_SIDE: u32 = 1600;
/// Small pictures are upscaled for detection so that their short side is at least this.
const DETECT_MIN_SIDE: u32 = 736;
/// Detector input sides are padded up to a multiple of this, so few plans serve many sizes.
const DETECT_STEP: u32 = 128;

impl From<ModelError> for TextError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::Missing { dir, file } => {
                TextError::ModelsMissing(crate::assets::ModelMissing {
                    name: file.to_string(),
                    looked: vec![PathBuf::from(dir)],
                })
            }
            ModelError::Damaged { file, why, .. } => TextError::Model(file, why),
            ModelError::Run { why, .. } => TextError::Run(why),
        }
    }
}

/// Runs `model` on one NCHW input and hands the first output's shape and values to `read`.
fn run_first<T>(
    model: &Model,
    input: Tensor,
    read: impl FnOnce(&[usize], &[f32]) -> Result<T, TextError>,
) -> Result<T, TextError> {
    let mut result = None;
    model.run_with(vec![input], |outputs| {
        let (shape, values) = outputs.first().ok_or_else(|| ModelError::Run {
            file: model.file(),
            why: "no output".into(),
        })?;
        result = Some(read(shape, values));
        Ok(())
    })?;
    result.unwrap_or_else(|| Err(TextError::Run("no output".into())))
}

/// The detector and the recogniser, ready to read text. `Send + Sync`: share the one from
/// [`reader`] between threads.
pub struct TextReader {
    detector: Model,
    recogniser: Model,
    alphabet: Alphabet,
    /// Held while the detector runs: it already splits its work over every core, and each
    /// run holds a few hundred megabytes of intermediate maps, so two edits detecting at once
    /// only doubled the memory (benches/README.md, "Memory of local edits").
    detecting: std::sync::Mutex<()>,
}

/// The folder with the text models: `$TOUCHUP_MODELS` if set, else `models/` beside the
/// executable, else the repository's `assets/models` (see [`crate::models::model_dir`]).
pub fn model_dir() -> PathBuf {
    crate::models::model_dir(DETECTOR_FILE)
}

static READER: OnceLock<Result<TextReader, TextError>> = OnceLock::new();

/// The process's text reader, loaded on the first call from the folders of
/// [`crate::assets::model_path`] (about a second; blocks: call it off the UI thread). Later
/// calls return it at once; a failure is remembered.
pub fn reader() -> Result<&'static TextReader, TextError> {
    READER
        .get_or_init(|| {
            let find = |file| crate::assets::model_path(file).map_err(TextError::ModelsMissing);
            find(DETECTOR_FILE)
                .and_then(|detector| Ok((detector, find(RECOGNISER_FILE)?)))
                .and_then(|(detector, recogniser)| TextReader::load_files(&detector, &recogniser))
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl TextReader {
    /// Loads both models from `dir` (normally use [`reader`]).
    pub fn load(dir: &Path) -> Result<Self, TextError> {
        Self::load_files(&dir.join(DETECTOR_FILE), &dir.join(RECOGNISER_FILE))
    }

    /// Loads the detector and the recogniser from these two files.
    pub fn load_files(detector: &Path, recogniser: &Path) -> Result<Self, TextError> {
        let started = std::time::Instant::now();
        // The detector's large matrix products are split over every core.
        crate::models::use_all_cores();
        let dir_of = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
        let (detector, _) = Model::load(&dir_of(detector), DETECTOR_FILE, 4)?;
        let (recogniser, metadata) = Model::load(&dir_of(recogniser), RECOGNISER_FILE, 16)?;
        let characters: Vec<String> = metadata
            .iter()
            .find(|(k, _)| k == "character")
            .map(|(_, v)| v.lines().map(str::to_string).collect())
            .unwrap_or_default();
        if characters.is_empty() {
            return Err(TextError::Model(
                RECOGNISER_FILE,
                "its metadata has no character list".into(),
            ));
        }
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "loaded the text models"
        );
        Ok(Self {
            detector,
            recogniser,
            alphabet: Alphabet::new(characters),
            detecting: std::sync::Mutex::new(()),
        })
    }

    /// The detector's input size for an image, and the scale from image to detector pixels.
    fn detect_size(width: u32, height: u32) -> (u32, u32, f32) {
        let (long, short) = (width.max(height) as f32, width.min(height).max(1) as f32);
        let mut scale = 1.0f32;
        if short < DETECT_MIN_SIDE as f32 {
            scale = DETECT_MIN_SIDE as f32 / short;
        }
        if long * scale > DETECT_MAX_SIDE as f32 {
            scale = DETECT_MAX_SIDE as f32 / long;
        }
        let w = ((width as f32 * scale).round() as u32).max(32);
        let h = ((height as f32 * scale).round() as u32).max(32);
        (w, h, scale)
    }

    /// Finds the text lines in `image` (boxes only, not read). 0.2-2.5 s on two cores.
    pub fn detect(&self, image: &RgbaImage) -> Result<Vec<TextBox>, TextError> {
        if image.width() == 0 || image.height() == 0 {
            return Ok(Vec::new());
        }
        let (w, h, scale) = Self::detect_size(image.width(), image.height());
        let pw = w.div_ceil(DETECT_STEP) * DETECT_STEP;
        let ph = h.div_ceil(DETECT_STEP) * DETECT_STEP;
        let (pw, ph) = (pw as usize, ph as usize);
        let input = if scale <= 1.0 {
            // Photos: an area average straight into the input planes (all cores).
            shrink_into_planes(image, w as usize, h as usize, pw, ph)
        } else {
            // Small pictures are enlarged; they are small, so a general resize is cheap.
            let resized =
                image::imageops::resize(image, w, h, image::imageops::FilterType::Triangle);
            let mut input = vec![0.0f32; 3 * pw * ph];
            for (x, y, p) in resized.enumerate_pixels() {
                let i = y as usize * pw + x as usize;
                // BGR, (v / 255 - 0.5) / 0.5.
                for (c, v) in [p[2], p[1], p[0]].into_iter().enumerate() {
                    input[c * pw * ph + i] = v as f32 / 127.5 - 1.0;
                }
            }
            input
        };
        let tensor = Tensor::from_shape(&[1, 3, ph, pw], &input)
            .map_err(|e| TextError::Run(format!("{e:#}")))?;
        // A poisoned lock only means another detection panicked: the model is unchanged.
        let one_at_a_time = self
            .detecting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (mut boxes, mw, mh) = run_first(&self.detector, tensor, |shape, map| {
            let [.., mh, mw] = *shape else {
                return Err(TextError::Run(format!(
                    "unexpected detector output {shape:?}"
                )));
            };
            Ok((boxes_from_map(map, mw, mh, &BoxOptions::default()), mw, mh))
        })?;
        // Map pixels to image pixels (the map has the padded input's size).
        let (sx, sy) = (
            image.width() as f32 / w as f32 * pw as f32 / mw as f32,
            image.height() as f32 / h as f32 * ph as f32 / mh as f32,
        );
        for b in &mut boxes {
            for p in &mut b.corners {
                p[0] = (p[0] * sx).clamp(0.0, image.width() as f32);
                p[1] = (p[1] * sy).clamp(0.0, image.height() as f32);
            }
        }
        drop(one_at_a_time);
        boxes.retain(|b| b.width() >= 2.0 && b.height() >= 2.0);
        Ok(boxes)
    }

    /// Reads each box, with output restricted to `script`. About 30 ms per line and core.
    pub fn recognise(
        &self,
        image: &RgbaImage,
        boxes: &[TextBox],
        script: Script,
    ) -> Result<Vec<TextLine>, TextError> {
        let allowed = self.alphabet.allowed(script);
        let samples: Vec<LineSamples> = boxes.par_iter().map(|b| sample_line(image, b)).collect();
        // Each line runs on one core (the lines are small: splitting one line's products over
        // cores costs more than it gains, and so does batching lines in tract). Lines are
        // dealt to cores longest first, each to the least loaded, so that cores finish together.
        let widths: Vec<usize> = samples.iter().map(|s| padded_width(s.width)).collect();
        let groups = deal(&widths, rayon::current_num_threads());
        let parts: Vec<Vec<(usize, (String, f32))>> = groups
            .par_iter()
            .map(|group| {
                multithread_tract_scope(Executor::SingleThread, || {
                    group
                        .iter()
                        .map(|&i| {
                            let input = line_tensor(&samples[i], widths[i])?;
                            let reading = run_first(&self.recogniser, input, |shape, scores| {
                                let classes = shape.last().copied().unwrap_or(0);
                                if classes == 0 {
                                    return Err(TextError::Run(
                                        "the recogniser returned no classes".into(),
                                    ));
                                }
                                Ok(self.alphabet.decode(scores, classes, allowed))
                            })?;
                            Ok((i, reading))
                        })
                        .collect::<Result<Vec<_>, TextError>>()
                })
            })
            .collect::<Result<_, _>>()?;
        let mut readings = vec![(String::new(), 0.0); boxes.len()];
        for (i, reading) in parts.into_iter().flatten() {
            readings[i] = reading;
        }
        Ok(readings
            .into_iter()
            .zip(boxes)
            .map(|((text, confidence), b)| TextLine {
                text,
                confidence,
                area: b.clone(),
            })
            .collect())
    }

    /// Detects and reads every line of `image` (boxes where nothing legible was read are
    /// dropped).
    pub fn read(&self, image: &RgbaImage, script: Script) -> Result<Vec<TextLine>, TextError> {
        let boxes = self.detect(image)?;
        let mut lines = self.recognise(image, &boxes, script)?;
        lines.retain(|l| !l.text.is_empty());
        Ok(lines)
    }

    /// Detects and reads the lines inside the marked area of `mask` (an edited result): only
    /// the marked bounds, with a margin, are searched, and lines mostly outside are dropped.
    pub fn read_in_mask(
        &self,
        image: &RgbaImage,
        mask: &Mask,
        script: Script,
    ) -> Result<Vec<TextLine>, TextError> {
        let Some(r) = mask.marked_bounds() else {
            return Ok(Vec::new());
        };
        if mask.size() != image.dimensions() {
            return Err(TextError::Run(format!(
                "the mask is {}x{}, the image {}x{}",
                mask.width(),
                mask.height(),
                image.width(),
                image.height()
            )));
        }
        let pad = (r.width().max(r.height()) / 8).max(16);
        let x0 = r.x0.saturating_sub(pad);
        let y0 = r.y0.saturating_sub(pad);
        let x1 = (r.x1 + pad).min(image.width());
        let y1 = (r.y1 + pad).min(image.height());
        let crop = image::imageops::crop_imm(image, x0, y0, x1 - x0, y1 - y0).to_image();
        let mut boxes = self.detect(&crop)?;
        for b in &mut boxes {
            b.offset(x0 as f32, y0 as f32);
        }
        // Only the lines of the masked area are read: the margin around it helps the detector
        // see whole lines, but what lies mostly outside the mask is never recognised.
        boxes.retain(|b| super::box_in_mask(b, mask));
        let mut lines = self.recognise(image, &boxes, script)?;
        lines.retain(|l| !l.text.is_empty());
        Ok(lines)
    }
}

/// Deals items of the given costs to `bins` groups, costliest first, each to the group with the
/// least so far (the longest-processing-time rule); returns each group's item indices.
fn deal(costs: &[usize], bins: usize) -> Vec<Vec<usize>> {
    let bins = bins.clamp(1, costs.len().max(1));
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(costs[i]));
    let mut load = vec![0usize; bins];
    let mut groups = vec![Vec::new(); bins];
    for i in order {
        let least = (0..bins).min_by_key(|&b| load[b]).unwrap_or(0);
        load[least] += costs[i];
        groups[least].push(i);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::deal;

    #[test]
    fn lines_are_dealt_so_that_cores_finish_together() {
        // In detection order a two-way split gives 960 against 640; dealt, 800 each.
        let groups = deal(&[480, 480, 320, 320], 2);
        let loads: Vec<usize> = groups
            .iter()
            .map(|g| g.iter().map(|&i| [480, 480, 320, 320][i]).sum())
            .collect();
        assert_eq!(loads, vec![800, 800]);
        let mut all: Vec<usize> = groups.into_iter().flatten().collect();
        all.sort();
        assert_eq!(all, vec![0, 1, 2, 3]);
        assert_eq!(deal(&[], 2), vec![Vec::<usize>::new()]);
        assert_eq!(deal(&[5], 8), vec![vec![0]]);
    }
}
