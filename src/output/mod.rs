//! The folder one edit writes, whoever runs it (`touchup edit`, `touchup batch`, the editor's
//! jobs): each result pasted into the photo (`result-N.png`, at the photo's size) with the
//! model's output beside it as returned (`result-N.raw.<ext>`), `results.json` rewritten after
//! every picture (the engine, imageUUID, seed, cost, the edit area, the edge step and the
//! outside-mask figures of each), and at the end `compare.png`. `N` is the picture's number in
//! the response, whatever order the pictures arrive in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbaImage;
use serde_json::{Value, json};

use crate::compare::{
    EdgeSteps, OutsideFigures, Pasted, Patch, SheetOptions, comparison_sheet_of_patches,
};
use crate::edit::{EditArea, ResultImage};
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
    /// Composite each result over the original through the feathered mask (else paste the
    /// whole area as returned).
    pub keep_outside: bool,
    /// Correct the colour drift measured around the mask ("Match colours at the edge").
    pub colour_match: bool,
    /// Read the lettering of each result when the prompt quotes strings (the editor reads it
    /// itself, in the background, so a result shows at once).
    pub check_lettering: bool,
}

impl OutputOptions {
    /// Results into `dir` with the default feather, keep-outside, colour match and lettering
    /// check.
    pub fn new(dir: impl Into<PathBuf>) -> OutputOptions {
        OutputOptions {
            dir: dir.into(),
            feather: crate::compare::DEFAULT_FEATHER_PX,
            keep_outside: true,
            colour_match: true,
            check_lettering: true,
        }
    }

    /// How results are pasted.
    pub fn paste(&self) -> crate::compare::PasteOptions {
        crate::compare::PasteOptions {
            feather: self.feather,
            keep_outside: self.keep_outside,
            colour_match: self.colour_match,
        }
    }
}

/// What `results.json` records of an edit area: where it lies in the photo, the size sent,
/// and (per result) the step across the mask's edge before and after the colour match.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AreaRecord {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub sent_width: u32,
    pub sent_height: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_step_before: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_step_after: Option<f32>,
}

impl AreaRecord {
    pub fn new(area: &EditArea, steps: Option<EdgeSteps>) -> AreaRecord {
        AreaRecord {
            x: area.x,
            y: area.y,
            width: area.width,
            height: area.height,
            sent_width: area.sent_width,
            sent_height: area.sent_height,
            edge_step_before: steps.map(|s| s.before),
            edge_step_after: steps.map(|s| s.after),
        }
    }
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
    /// Its number in the response (1-based): the same in every file name and record.
    pub index: usize,
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
    /// The area it was pasted into, and the edge step before and after the colour match.
    pub area: Option<AreaRecord>,
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
    engine: &'static str,
    entries: Vec<(usize, Value)>,
    saved: Vec<SavedResult>,
    /// The photo, and the area results are pasted into (when the photo and mask are known).
    inputs: Option<(EditInputs, EditArea)>,
    /// What was saved as each result, as a patch over the photo (for the comparison sheet).
    shown: Vec<(usize, Patch)>,
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
    /// the key is never part of it); `engine` names what made the results (`runware`,
    /// `local`); `area` is the part of the photo the results are pasted into (the whole photo
    /// when `None`).
    pub fn create(
        options: &OutputOptions,
        request: Value,
        engine: &'static str,
        inputs: Option<&EditInputs>,
        area: Option<EditArea>,
    ) -> Result<OutputFolder, OutputError> {
        std::fs::create_dir_all(&options.dir).map_err(|source| OutputError::CreateDir {
            path: options.dir.clone(),
            source,
        })?;
        let mut request = request;
        crate::edit::abbreviate_payloads(&mut request);
        let inputs = inputs.map(|i| {
            let (w, h) = i.original.dimensions();
            (i.clone(), area.unwrap_or_else(|| EditArea::whole(w, h)))
        });
        Ok(OutputFolder {
            options: options.clone(),
            request,
            engine,
            entries: Vec::new(),
            saved: Vec::new(),
            inputs,
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

    pub fn options(&self) -> &OutputOptions {
        &self.options
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

    /// Saves picture number `n` (its number in the response, kept in every file name and
    /// record) and rewrites `results.json`. `pasted` is the picture fitted and pasted into its
    /// area ([`crate::jobs`] makes it once for the folder and the editor); `None` when it
    /// could not be decoded or the photo is not on this machine (`note` says why).
    pub fn add(
        &mut self,
        n: usize,
        image: &ResultImage,
        pasted: Option<&Pasted>,
        note: Option<String>,
    ) -> Result<SavedResult, OutputError> {
        let ext = extension_of(&image.bytes);
        let mut note = note;
        let (file, raw_file, figures) = match (self.inputs.as_ref(), pasted) {
            (Some((inputs, _)), Some(pasted)) => {
                let figures = pasted.figures;
                if let Some(r) = &pasted.resampled {
                    let r = format!("result {n}: {r}");
                    note = Some(match note {
                        Some(n) => format!("{n}; {r}"),
                        None => r,
                    });
                }
                let raw_name = format!("result-{n}.raw.{ext}");
                self.write(&raw_name, &image.bytes)?;
                let full = pasted.apply(&inputs.original);
                let png = Self::encode_png(&full, format!("encode result {n} as PNG"))?;
                let name = format!("result-{n}.png");
                self.write(&name, &png)?;
                self.shown
                    .push((n, pasted.patch(inputs.original.dimensions())));
                (name, raw_name, Some(figures))
            }
            _ => {
                let name = format!("result-{n}.{ext}");
                self.write(&name, &image.bytes)?;
                (name.clone(), name, None)
            }
        };
        let lettering = match pasted {
            Some(p) if self.options.check_lettering => self.check_lettering(n, p),
            _ => None,
        };
        let area = match (self.inputs.as_ref(), pasted) {
            (Some(_), Some(p)) => Some(AreaRecord::new(&p.area, p.steps)),
            _ => None,
        };
        let mut entry = json!({
            "file": file,
            "raw_file": raw_file,
            "imageUUID": image.image_uuid,
            "seed": image.seed,
            "cost": image.cost,
            "outside_mask_changed_fraction": figures.as_ref().map(|f| f.changed_fraction),
            "outside_mask": figures,
        });
        if let Some(map) = entry.as_object_mut() {
            if let Some(a) = &area {
                map.insert("area".into(), json!(a));
            }
            if let Some(l) = &lettering {
                map.insert("lettering".into(), json!(l));
            }
        }
        let at = self.entries.partition_point(|(i, _)| *i < n);
        self.entries.insert(at, (n, entry));
        let saved = SavedResult {
            index: n,
            file,
            raw_file,
            image_uuid: image.image_uuid.clone(),
            seed: image.seed,
            cost: image.cost,
            outside: figures,
            note,
            lettering,
            area,
        };
        self.saved.push(saved.clone());
        self.write_index()?;
        Ok(saved)
    }

    /// The lettering check of a result, read inside the mask of its area, when the prompt
    /// quotes strings. A reading failure is logged, not fatal.
    fn check_lettering(&self, n: usize, pasted: &Pasted) -> Option<crate::text::LetteringCheck> {
        let prompt = self.request.get("positivePrompt")?.as_str()?;
        let (inputs, area) = self.inputs.as_ref()?;
        let mask = crate::edit::crop_mask(&inputs.mask, area.rect());
        match crate::text::check_result(&pasted.shown, &mask, prompt) {
            Ok(check) => check,
            Err(e) => {
                tracing::warn!("result {n}: could not check the lettering: {e}");
                None
            }
        }
    }

    /// Writes `results.json` as it stands (also when no picture arrived).
    pub fn write_index(&self) -> Result<PathBuf, OutputError> {
        let results: Vec<&Value> = self.entries.iter().map(|(_, e)| e).collect();
        let mut index = json!({
            "engine": self.engine,
            "results": results,
            "keep_outside": self.options.keep_outside,
            "colour_match": self.options.keep_outside && self.options.colour_match,
            "request": self.request,
        });
        if let (Some((_, area)), Some(map)) = (&self.inputs, index.as_object_mut()) {
            map.insert("area".into(), json!(AreaRecord::new(area, None)));
        }
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
        let mut shown: Vec<&(usize, Patch)> = self.shown.iter().collect();
        shown.sort_by_key(|(n, _)| *n);
        let results: Vec<&Patch> = shown.iter().map(|(_, p)| p).collect();
        let sheet =
            comparison_sheet_of_patches(&inputs.original, &results, &SheetOptions::default())
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
