//! The folder one edit writes, whoever runs it (`touchup edit`, `touchup batch`, a queued job):
//! each result composited over the original (`result-N.png`) with the model's output beside
//! it (`result-N.raw.<ext>`), `results.json` rewritten after every picture (imageUUID, seed,
//! cost and outside-mask figures of each), and at the end `compare.png`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbaImage;
use serde_json::{Value, json};

use crate::compare::{
    DEFAULT_NOTICEABLE_DIFFERENCE, FeatherMask, OutsideFigures, SheetOptions, comparison_sheet,
    composite, outside_figures,
};
use crate::edit::ResultImage;
use crate::imageio::Format;
use crate::mask::Mask;

/// The photo (upright) and its mask on this machine: what the local engine edits and what
/// results are composited over and compared with.
#[derive(Debug, Clone)]
pub struct EditInputs {
    pub original: Arc<RgbaImage>,
    pub mask: Arc<Mask>,
}

/// How results are saved.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputOptions {
    pub dir: PathBuf,
    /// Soft seam, in pixels, when compositing (0 to [`crate::compare::MAX_FEATHER_PX`]).
    pub feather: u32,
    /// Composite each result over the original (else save the output as returned).
    pub keep_outside: bool,
}

/// Why an output folder could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "could not create the output folder {}: {source}; check the path and permissions",
        path.display()
    )]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not write {}: {source}; check free space and permissions", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not {what}: {detail}")]
    Picture { what: String, detail: String },
}

/// One saved result, as `results.json` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedResult {
    /// The result to use (composited when keep-outside is on), relative to the folder.
    pub file: String,
    /// The model's output as returned, relative to the folder.
    pub raw_file: String,
    pub image_uuid: Option<String>,
    pub seed: Option<i64>,
    pub cost: Option<f64>,
    pub outside: Option<OutsideFigures>,
    /// A remark for the user (e.g. the result was resampled to the photo's size).
    pub note: Option<String>,
    /// The lettering read inside the mask against the prompt's quoted strings (when it quotes
    /// any and the photo and mask are known).
    pub lettering: Option<crate::text::LetteringCheck>,
}

/// The extension matching an encoded picture's bytes.
pub fn extension_of(bytes: &[u8]) -> &'static str {
    match crate::imageio::sniff_mime(bytes) {
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        _ => "png",
    }
}

/// Writes a file whole or not at all (a temporary file renamed over it), so a reader never
/// sees half of it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let fail = |source| OutputError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// Takes results one at a time. Without local inputs results are saved as returned (no
/// compositing, no `compare.png`).
pub struct OutputFolder {
    options: OutputOptions,
    request: Value,
    entries: Vec<Value>,
    saved: Vec<SavedResult>,
    inputs: Option<(EditInputs, FeatherMask)>,
    /// What was saved as each result, decoded (for the comparison sheet).
    shown: Vec<RgbaImage>,
}

impl std::fmt::Debug for OutputFolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputFolder")
            .field("options", &self.options)
            .field("saved", &self.saved.len())
            .finish()
    }
}

impl OutputFolder {
    /// Creates the folder. `request` is the task as sent (image payloads are abbreviated here;
    /// the key is never part of it).
    pub fn create(
        options: &OutputOptions,
        request: Value,
        inputs: Option<&EditInputs>,
    ) -> Result<OutputFolder, OutputError> {
        std::fs::create_dir_all(&options.dir).map_err(|source| OutputError::CreateDir {
            path: options.dir.clone(),
            source,
        })?;
        let mut request = request;
        crate::edit::abbreviate_payloads(&mut request);
        Ok(OutputFolder {
            options: options.clone(),
            request,
            entries: Vec::new(),
            saved: Vec::new(),
            inputs: inputs.map(|i| (i.clone(), FeatherMask::new(&i.mask, options.feather))),
            shown: Vec::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.options.dir
    }

    /// Whether results are composited and compared (the photo and mask are known).
    pub fn has_inputs(&self) -> bool {
        self.inputs.is_some()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, OutputError> {
        let path = self.options.dir.join(name);
        std::fs::write(&path, bytes).map_err(|source| OutputError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    fn encode_png(img: &RgbaImage, what: String) -> Result<Vec<u8>, OutputError> {
        crate::imageio::encode(img, Format::Png, 100).map_err(|e| OutputError::Picture {
            what,
            detail: e.to_string(),
        })
    }

    /// Saves one picture and rewrites `results.json`.
    pub fn add(&mut self, image: &ResultImage) -> Result<SavedResult, OutputError> {
        let n = self.entries.len() + 1;
        let ext = extension_of(&image.bytes);
        let mut note = None;
        let decoded = match self.inputs {
            Some(_) => match crate::imageio::decode(&image.bytes) {
                Ok(img) => Some(img),
                Err(e) => {
                    note = Some(format!(
                        "result {n} could not be decoded ({e}); saved as returned"
                    ));
                    None
                }
            },
            None => None,
        };
        let (file, raw_file, figures) = match (self.inputs.as_ref(), decoded) {
            (Some((inputs, feather)), Some(raw)) => {
                let figures = outside_figures(
                    &inputs.original,
                    &raw,
                    feather,
                    DEFAULT_NOTICEABLE_DIFFERENCE,
                )
                .map_err(|e| OutputError::Picture {
                    what: format!("compare result {n} with the original"),
                    detail: e.to_string(),
                })?;
                if let Some(r) = &figures.resampled {
                    note = Some(format!("result {n}: {r}"));
                }
                if self.options.keep_outside {
                    let raw_name = format!("result-{n}.raw.{ext}");
                    self.write(&raw_name, &image.bytes)?;
                    let composite = composite(&inputs.original, &raw, feather).map_err(|e| {
                        OutputError::Picture {
                            what: format!("composite result {n}"),
                            detail: e.to_string(),
                        }
                    })?;
                    let png =
                        Self::encode_png(&composite.image, format!("encode result {n} as PNG"))?;
                    let name = format!("result-{n}.png");
                    self.write(&name, &png)?;
                    self.shown.push(composite.image);
                    (name, raw_name, Some(figures))
                } else {
                    let name = format!("result-{n}.{ext}");
                    self.write(&name, &image.bytes)?;
                    self.shown.push(raw);
                    (name.clone(), name, Some(figures))
                }
            }
            _ => {
                let name = format!("result-{n}.{ext}");
                self.write(&name, &image.bytes)?;
                (name.clone(), name, None)
            }
        };
        let lettering = self.check_lettering(n, figures.is_some());
        let mut entry = json!({
            "file": file,
            "raw_file": raw_file,
            "imageUUID": image.image_uuid,
            "seed": image.seed,
            "cost": image.cost,
            "outside_mask_changed_fraction": figures.as_ref().map(|f| f.changed_fraction),
            "outside_mask": figures,
        });
        if let (Some(l), Some(map)) = (&lettering, entry.as_object_mut()) {
            map.insert("lettering".into(), json!(l));
        }
        self.entries.push(entry);
        let saved = SavedResult {
            file,
            raw_file,
            image_uuid: image.image_uuid.clone(),
            seed: image.seed,
            cost: image.cost,
            outside: figures,
            note,
            lettering,
        };
        self.saved.push(saved.clone());
        self.write_index()?;
        Ok(saved)
    }

    /// The lettering check of the result just shown (`decoded`: it was), read inside the
    /// mask, when the prompt quotes strings. A reading failure is logged, not fatal.
    fn check_lettering(&self, n: usize, decoded: bool) -> Option<crate::text::LetteringCheck> {
        let prompt = self.request.get("positivePrompt")?.as_str()?;
        let (inputs, _) = self.inputs.as_ref()?;
        let shown = self.shown.last().filter(|_| decoded)?;
        match crate::text::check_result(shown, &inputs.mask, prompt) {
            Ok(check) => check,
            Err(e) => {
                tracing::warn!("result {n}: could not check the lettering: {e}");
                None
            }
        }
    }

    /// Writes `results.json` as it stands (also when no picture arrived).
    pub fn write_index(&self) -> Result<PathBuf, OutputError> {
        let index = json!({
            "results": self.entries,
            "keep_outside": self.options.keep_outside,
            "request": self.request,
        });
        let text = serde_json::to_string_pretty(&index).map_err(|e| OutputError::Picture {
            what: "build results.json".into(),
            detail: e.to_string(),
        })?;
        let path = self.options.dir.join("results.json");
        write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }

    /// `compare.png`: the original and every saved result side by side, labelled; `None`
    /// without local inputs or results.
    pub fn write_sheet(&self) -> Result<Option<PathBuf>, OutputError> {
        let Some((inputs, _)) = &self.inputs else {
            return Ok(None);
        };
        if self.shown.is_empty() {
            return Ok(None);
        }
        let results: Vec<&RgbaImage> = self.shown.iter().collect();
        let sheet = comparison_sheet(&inputs.original, &results, &SheetOptions::default())
            .map_err(|e| OutputError::Picture {
                what: "draw the comparison sheet".into(),
                detail: e.to_string(),
            })?;
        let png = Self::encode_png(&sheet.image, "encode compare.png".into())?;
        Ok(Some(self.write("compare.png", &png)?))
    }

    /// The results saved so far.
    pub fn saved(&self) -> &[SavedResult] {
        &self.saved
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
