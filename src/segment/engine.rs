//! MobileSAM's image encoder and prompt decoder: loaded once per process through
//! [`crate::models`], shared by every thread.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use image::RgbaImage;

use super::{Candidates, MIN_SCALED_SIDE, Prompt, SegmentError};
use crate::models::{Model, ModelError};

/// The encoder's file in the model folder.
pub const ENCODER_FILE: &str = "mobilesam_encoder.onnx";
/// The decoder's file (prompt encoder and mask decoder, low-resolution output).
pub const DECODER_FILE: &str = "mobilesam_decoder_lowres.onnx";

/// The model's square input side: the photo is scaled so its long side is this.
pub const INPUT_SIDE: u32 = 1024;
/// The side of the decoder's low-resolution masks.
pub const LOW_RES: usize = 256;
/// Channels and side of the image embedding.
const EMBED_CHANNELS: usize = 256;
const EMBED_SIDE: usize = 64;
/// Values in an embedding.
pub const EMBEDDING_LEN: usize = EMBED_CHANNELS * EMBED_SIDE * EMBED_SIDE;

const MEAN: [f32; 3] = [123.675, 116.28, 103.53];
const STD: [f32; 3] = [58.395, 57.12, 57.375];

/// The decoder's inputs by name, in the order [`Segmenter::decode`] builds them.
const DECODER_INPUTS: [&str; 5] = [
    "image_embeddings",
    "point_coords",
    "point_labels",
    "mask_input",
    "has_mask_input",
];

/// A photo's encoding: what every prompt on that photo is decoded against. Cheap to clone.
#[derive(Clone)]
pub struct Embedding {
    values: Arc<Vec<f32>>,
    width: u32,
    height: u32,
    scaled: (u32, u32),
    fingerprint: u64,
}

impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedding")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("scaled", &self.scaled)
            .finish()
    }
}

impl Embedding {
    /// The photo's width.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The photo's height.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The photo's size once scaled into the model's input.
    pub fn scaled_size(&self) -> (u32, u32) {
        self.scaled
    }

    /// The 256x64x64 values (channel-major).
    pub fn values(&self) -> &[f32] {
        &self.values
    }
}

/// The photo's size in the model's input (long side [`INPUT_SIDE`]), or why it cannot go.
pub fn scaled_size(width: u32, height: u32) -> Result<(u32, u32), SegmentError> {
    let long = width.max(height).max(1) as f64;
    let scale = INPUT_SIDE as f64 / long;
    let sw = ((width as f64 * scale).round() as u32).min(INPUT_SIDE);
    let sh = ((height as f64 * scale).round() as u32).min(INPUT_SIDE);
    if width == 0 || height == 0 || sw.min(sh) < MIN_SCALED_SIDE || width.min(height) < 8 {
        return Err(SegmentError::Unsuitable {
            width,
            height,
            side: INPUT_SIDE,
            min: MIN_SCALED_SIDE,
        });
    }
    Ok((sw, sh))
}

/// The encoder's input for `image`: scaled (bilinear, area-aware when shrinking) so its long
/// side is 1024, normalised per channel with ImageNet's mean and deviation, padded with zeros
/// at the bottom and right to 1024x1024, channels first. Returns the values and the scaled
/// size.
pub fn preprocess(image: &RgbaImage) -> Result<(Vec<f32>, (u32, u32)), SegmentError> {
    let (sw, sh) = scaled_size(image.width(), image.height())?;
    let scaled;
    let source = if (sw, sh) == image.dimensions() {
        image
    } else {
        scaled = image::imageops::resize(image, sw, sh, image::imageops::FilterType::Triangle);
        &scaled
    };
    let side = INPUT_SIDE as usize;
    let plane = side * side;
    let mut input = vec![0.0f32; 3 * plane];
    for (y, row) in source.rows().enumerate() {
        for (x, p) in row.enumerate() {
            let i = y * side + x;
            for c in 0..3 {
                input[c * plane + i] = (p[c] as f32 - MEAN[c]) / STD[c];
            }
        }
    }
    Ok((input, (sw, sh)))
}

/// A fingerprint of a photo's pixels and size (which photo an embedding belongs to).
fn fingerprint(image: &RgbaImage) -> u64 {
    let mut h = crc32fast::Hasher::new();
    h.update(image.as_raw());
    ((image.width() as u64) << 48) ^ ((image.height() as u64) << 32) ^ h.finalize() as u64
}

/// The encoder and the decoder, ready to select objects. `Send + Sync`: share the one from
/// [`segmenter`] between threads.
pub struct Segmenter {
    encoder: Model,
    decoder: Model,
    /// Where each of [`DECODER_INPUTS`] goes among the decoder's inputs.
    decoder_order: [usize; 5],
    /// The embeddings of the last photos encoded (most recent last).
    cache: Mutex<Vec<Embedding>>,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter").finish_non_exhaustive()
    }
}

static SEGMENTER: OnceLock<Result<Segmenter, SegmentError>> = OnceLock::new();

/// The process's object selector, loaded from the model folder ([`crate::models::model_dir`])
/// on the first call (blocks for about a second: call it off the UI thread). A failure is
/// remembered.
pub fn segmenter() -> Result<&'static Segmenter, SegmentError> {
    SEGMENTER
        .get_or_init(|| Segmenter::load(&crate::models::model_dir(ENCODER_FILE)))
        .as_ref()
        .map_err(Clone::clone)
}

/// Embeddings kept per process (each 4 MB).
const CACHED: usize = 2;

impl Segmenter {
    /// Loads both models from `dir` (normally use [`segmenter`]).
    pub fn load(dir: &Path) -> Result<Self, SegmentError> {
        let started = std::time::Instant::now();
        crate::models::use_all_cores();
        let (encoder, _) = Model::load(dir, ENCODER_FILE, 1)?;
        let (decoder, _) = Model::load(dir, DECODER_FILE, 6)?;
        let names = decoder.input_names();
        let mut decoder_order = [0usize; 5];
        for (slot, want) in decoder_order.iter_mut().zip(DECODER_INPUTS) {
            *slot = names
                .iter()
                .position(|n| n == want)
                .ok_or_else(|| ModelError::Damaged {
                    path: dir.join(DECODER_FILE).display().to_string(),
                    file: DECODER_FILE,
                    why: format!("it has no input '{want}' (inputs: {})", names.join(", ")),
                })?;
        }
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "loaded the object models"
        );
        Ok(Self {
            encoder,
            decoder,
            decoder_order,
            cache: Mutex::new(Vec::new()),
        })
    }

    /// Encodes `image` (about 2.5 s on one core, release build). Blocks: call it off the UI
    /// thread. The last photos' embeddings are kept: encoding the same pixels again returns
    /// the kept one at once.
    pub fn encode(&self, image: &RgbaImage) -> Result<Embedding, SegmentError> {
        let (width, height) = image.dimensions();
        scaled_size(width, height)?;
        let fingerprint = fingerprint(image);
        if let Ok(cache) = self.cache.lock()
            && let Some(e) = cache.iter().find(|e| e.fingerprint == fingerprint)
        {
            return Ok(e.clone());
        }
        let started = std::time::Instant::now();
        let (input, scaled) = preprocess(image)?;
        let side = INPUT_SIDE as usize;
        let tensor = self.encoder.tensor(&[1, 3, side, side], &input)?;
        drop(input);
        let values = self.encoder.run_with(vec![tensor], |outputs| {
            let (shape, values) = outputs.first().ok_or_else(|| self.run_error("no output"))?;
            if *shape != [1, EMBED_CHANNELS, EMBED_SIDE, EMBED_SIDE] {
                return Err(self.run_error(format!("unexpected encoder output {shape:?}")));
            }
            Ok(values.to_vec())
        })?;
        tracing::debug!(
            width,
            height,
            ms = started.elapsed().as_millis() as u64,
            "encoded a photo"
        );
        let embedding = Embedding {
            values: Arc::new(values),
            width,
            height,
            scaled,
            fingerprint,
        };
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHED {
                cache.remove(0);
            }
            cache.push(embedding.clone());
        }
        Ok(embedding)
    }

    fn run_error(&self, why: impl Into<String>) -> ModelError {
        ModelError::Run {
            file: ENCODER_FILE,
            why: why.into(),
        }
    }

    /// Decodes `prompt` against a photo's embedding (0.1-0.2 s). `previous` is a candidate's
    /// 256x256 logits from an earlier answer on the same object: the model refines it.
    pub fn decode(
        &self,
        embedding: &Embedding,
        prompt: &Prompt,
        previous: Option<&[f32]>,
    ) -> Result<Candidates, SegmentError> {
        prompt.check(embedding.width, embedding.height)?;
        let sx = embedding.scaled.0 as f32 / embedding.width as f32;
        let sy = embedding.scaled.1 as f32 / embedding.height as f32;
        let mut coords: Vec<f32> = Vec::new();
        let mut labels: Vec<f32> = Vec::new();
        for p in &prompt.points {
            coords.extend([p.x * sx, p.y * sy]);
            labels.push(if p.foreground { 1.0 } else { 0.0 });
        }
        match prompt.area {
            Some(b) => {
                let (w, h) = (embedding.width as f32, embedding.height as f32);
                coords.extend([b.x0.clamp(0.0, w) * sx, b.y0.clamp(0.0, h) * sy]);
                coords.extend([b.x1.clamp(0.0, w) * sx, b.y1.clamp(0.0, h) * sy]);
                labels.extend([2.0, 3.0]);
            }
            None => {
                coords.extend([0.0, 0.0]);
                labels.push(-1.0);
            }
        }
        let n = labels.len();
        let mask_input: Vec<f32> = match previous {
            Some(p) if p.len() == LOW_RES * LOW_RES => p.to_vec(),
            _ => vec![0.0; LOW_RES * LOW_RES],
        };
        let has_mask = [if previous.is_some_and(|p| p.len() == LOW_RES * LOW_RES) {
            1.0f32
        } else {
            0.0
        }];
        let d = &self.decoder;
        let by_name = [
            d.tensor(
                &[1, EMBED_CHANNELS, EMBED_SIDE, EMBED_SIDE],
                &embedding.values,
            )?,
            d.tensor(&[1, n, 2], &coords)?,
            d.tensor(&[1, n], &labels)?,
            d.tensor(&[1, 1, LOW_RES, LOW_RES], &mask_input)?,
            d.tensor(&[1], &has_mask)?,
        ];
        let mut slots: Vec<Option<tract_onnx::prelude::Tensor>> = vec![None; 5];
        for (tensor, &slot) in by_name.into_iter().zip(&self.decoder_order) {
            slots[slot] = Some(tensor);
        }
        let inputs: Vec<_> = slots.into_iter().flatten().collect();
        let decoder_error = |why: String| ModelError::Run {
            file: DECODER_FILE,
            why,
        };
        let (scores, logits) = d.run_with(inputs, |outputs| {
            let masks = outputs
                .iter()
                .find(|(shape, _)| shape.len() == 4)
                .ok_or_else(|| decoder_error("no low_res_masks output".into()))?;
            let ious = outputs
                .iter()
                .find(|(shape, _)| shape.len() == 2)
                .ok_or_else(|| decoder_error("no iou_predictions output".into()))?;
            let k = masks.0[1];
            if masks.0[2..] != [LOW_RES, LOW_RES] || ious.1.len() != k || k == 0 {
                return Err(decoder_error(format!(
                    "unexpected decoder outputs {:?} and {:?}",
                    masks.0, ious.0
                )));
            }
            let plane = LOW_RES * LOW_RES;
            let logits: Vec<Vec<f32>> = (0..k)
                .map(|i| masks.1[i * plane..(i + 1) * plane].to_vec())
                .collect();
            Ok((ious.1.to_vec(), logits))
        })?;
        Ok(Candidates::new(
            logits,
            scores,
            prompt.is_single_click(),
            embedding,
        ))
    }
}
