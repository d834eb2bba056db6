//! What goes out and comes back: the downscale offered before sending a large photo, the
//! finished pictures ([`ResultImage`]) and the folder they are saved into ([`ResultFolder`]).

use std::fmt;

use serde_json::Value;

use super::abbreviate_payloads;

/// Runware stores uploads at most this many pixels on the long side.
pub const RUNWARE_MAX_SIDE: u32 = 2048;

/// Whether a photo of this size should be offered a downscale before sending.
pub fn needs_downscale(width: u32, height: u32) -> bool {
    width.max(height) > RUNWARE_MAX_SIDE
}

/// Scales a photo and its mask together so the long side is at most `max_side`, keeping them
/// exactly the same size (the mask's coverage is filtered, and thresholded again on export).
/// Returns copies unchanged when they already fit. `None` when the two differ in size.
pub fn downscale_together(
    photo: &image::RgbaImage,
    mask: &crate::mask::Mask,
    max_side: u32,
) -> Option<(image::RgbaImage, crate::mask::Mask)> {
    let (w, h) = photo.dimensions();
    if mask.size() != (w, h) {
        return None;
    }
    if w.max(h) <= max_side || max_side == 0 {
        return Some((photo.clone(), mask.clone()));
    }
    let (nw, nh) = super::fit_within_side(w, h, max_side);
    let filter = image::imageops::FilterType::Triangle;
    let small_photo = image::imageops::resize(photo, nw, nh, filter);
    let coverage = image::GrayImage::from_raw(w, h, mask.as_raw().to_vec())?;
    let small_cov = image::imageops::resize(&coverage, nw, nh, filter);
    let small_mask = crate::mask::Mask::from_raw(nw, nh, small_cov.into_raw())?;
    Some((small_photo, small_mask))
}

/// A finished picture from any engine, with what the engine said about it.
#[derive(Clone, PartialEq)]
pub struct ResultImage {
    /// The encoded picture (JPEG, PNG or WebP).
    pub bytes: Vec<u8>,
    pub image_uuid: Option<String>,
    pub seed: Option<i64>,
    pub cost: Option<f64>,
}

impl fmt::Debug for ResultImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResultImage")
            .field("bytes", &self.bytes.len())
            .field("image_uuid", &self.image_uuid)
            .field("seed", &self.seed)
            .field("cost", &self.cost)
            .finish()
    }
}

/// Why results could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("could not create the output folder {path}: {source}; check the path and permissions")]
    CreateDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("could not write {path}: {source}; check free space and permissions")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// An output folder that takes results one at a time: `result-1.<ext>`, `result-2.<ext>`, ...
/// and `results.json` (`{"results":[{"file","imageUUID","seed","cost"}], "request": ...}`),
/// rewritten after every picture so nothing is lost if a later one fails.
#[derive(Debug)]
pub struct ResultFolder {
    dir: std::path::PathBuf,
    request: Value,
    entries: Vec<Value>,
}

impl ResultFolder {
    /// Creates the folder if needed. `request` is the task as sent (no key ever is; image
    /// payloads are abbreviated here).
    pub fn create(dir: &std::path::Path, request: Value) -> Result<ResultFolder, SaveError> {
        std::fs::create_dir_all(dir).map_err(|source| SaveError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut request = request;
        abbreviate_payloads(&mut request);
        Ok(ResultFolder {
            dir: dir.to_path_buf(),
            request,
            entries: Vec::new(),
        })
    }

    /// Saves one picture (its extension from its bytes) and updates `results.json`.
    pub fn add(&mut self, image: &ResultImage) -> Result<std::path::PathBuf, SaveError> {
        let ext = match crate::imageio::sniff_mime(&image.bytes) {
            "image/jpeg" => "jpg",
            "image/webp" => "webp",
            _ => "png",
        };
        let name = format!("result-{}.{ext}", self.entries.len() + 1);
        let path = self.dir.join(&name);
        std::fs::write(&path, &image.bytes).map_err(|source| SaveError::Write {
            path: path.clone(),
            source,
        })?;
        self.entries.push(serde_json::json!({
            "file": name,
            "imageUUID": image.image_uuid,
            "seed": image.seed,
            "cost": image.cost,
        }));
        self.write_index()?;
        Ok(path)
    }

    /// Writes `results.json` as it stands (also when no picture arrived).
    pub fn write_index(&self) -> Result<std::path::PathBuf, SaveError> {
        let path = self.dir.join("results.json");
        let index = serde_json::json!({ "results": self.entries, "request": self.request });
        let text = serde_json::to_string_pretty(&index).unwrap_or_default();
        std::fs::write(&path, text).map_err(|source| SaveError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Saves a list of pictures into `dir` (what a local engine calls with its results).
pub fn save_results(
    dir: &std::path::Path,
    request: Value,
    images: &[ResultImage],
) -> Result<Vec<std::path::PathBuf>, SaveError> {
    let mut folder = ResultFolder::create(dir, request)?;
    let mut paths = images
        .iter()
        .map(|i| folder.add(i))
        .collect::<Result<Vec<_>, _>>()?;
    if paths.is_empty() {
        paths.push(folder.write_index()?);
    }
    Ok(paths)
}
