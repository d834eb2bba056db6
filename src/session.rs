//! The session on disk: the history of edits (seed image, mask, prompt, settings, results with
//! their outside-mask figures) and the autosave of the current work, offered back after a crash.
//!
//! Layout under the data root (by default the user's data directory, see [`default_root`]):
//! ```text
//! ROOT/history/<id>/entry.json      the EditRecord (written last, atomically)
//!                   seed.<ext>      the seed image (PNG, or the original file's bytes)
//!                   mask.png        mask coverage, 8-bit grayscale, full resolution
//!                   thumb.png       the seed fitted in 256 px
//!                   result-N.png    result N as shown/saved (composited when keep-outside is on)
//!                   raw-N.<ext>     the model's raw output, when given
//! ROOT/autosave/work.json           the current work; image-<hash>.png, mask-<n>.png beside it
//! ROOT/autosave/running.lock        present while touchup runs; left behind by a crash or kill
//! ```
//! Every file is written to a temporary name and renamed into place; a new edit is assembled in
//! a hidden temporary folder and renamed in whole, so a crash never leaves a half-written entry
//! that looks complete. A damaged entry is reported in [`Listing::problems`] and skipped.
//!
//! Secrets: callers must never pass an API key in `settings`. As a safety net, any settings
//! object field whose name looks like a secret (`apiKey`, `api_key`, `key`, `token`, `secret`,
//! `password`, `authorization`, `credential`, ...) makes [`History::record`] and
//! [`Autosave::save`] *refuse* with [`SessionError::SecretInSettings`] (nothing is written);
//! the value is never echoed.
//!
//! All functions here do file I/O and PNG encoding (a 4096x4096 seed takes about a second):
//! call them off the UI thread.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use image::RgbaImage;
use serde::{Deserialize, Serialize};

use crate::compare::OutsideFigures;
use crate::imageio;
use crate::mask::Mask;

/// The version written into every record; newer fields are added with `#[serde(default)]`.
pub const FORMAT_VERSION: u32 = 1;
/// The history size budget unless the user sets another: 2 GiB.
pub const DEFAULT_BUDGET_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Thumbnails fit within this many pixels.
pub const THUMBNAIL_SIDE: u32 = 256;

const ENTRY_FILE: &str = "entry.json";
const THUMB_FILE: &str = "thumb.png";
const MASK_FILE: &str = "mask.png";
const WORK_FILE: &str = "work.json";
const MARKER_FILE: &str = "running.lock";

/// What went wrong with the session on disk.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("could not {action} {}: {source}; check that the folder exists and is writable", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "this system reports no data directory for the current user; start touchup with a \
         data folder set explicitly"
    )]
    NoDataDir,
    #[error(
        "the settings hold a field named `{field}`, which looks like a secret; touchup never \
         writes keys or tokens to disk, so nothing was saved (remove the field before saving)"
    )]
    SecretInSettings { field: String },
    #[error("history entry {id} is damaged ({reason}); it was skipped — delete it to tidy up")]
    Corrupt { id: String, reason: String },
    #[error("the autosaved work is damaged ({reason}); it cannot be restored")]
    CorruptAutosave { reason: String },
    #[error("there is no edit {id} in the history (it may have been deleted or pruned)")]
    NotFound { id: String },
    #[error("edit {id} has no result {index}")]
    NoSuchResult { id: String, index: usize },
    #[error("`{0}` is not a history entry name")]
    BadId(String),
    #[error("the mask is {mask_width}x{mask_height} but the image is {image_width}x{image_height}")]
    MaskSize {
        mask_width: u32,
        mask_height: u32,
        image_width: u32,
        image_height: u32,
    },
    #[error("could not {action} a picture for the history: {source}")]
    Picture {
        action: &'static str,
        #[source]
        source: imageio::ImageError,
    },
    #[error("could not write the record as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SessionError {
    let path = path.to_path_buf();
    move |source| SessionError::Io {
        action,
        path,
        source,
    }
}

/// The user's data directory for touchup (e.g. `~/.local/share/touchup` on Linux).
pub fn default_root() -> Result<PathBuf, SessionError> {
    directories::ProjectDirs::from("app", "touchup", "touchup")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or(SessionError::NoDataDir)
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced, then renamed
/// over `path`: readers see the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SessionError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut f = fs::File::create(&tmp).map_err(io_err("create", &tmp))?;
        f.write_all(bytes).map_err(io_err("write", &tmp))?;
        f.sync_all().map_err(io_err("sync", &tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(io_err("rename into place", path))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Refuses settings that carry a field named like a secret (see the module docs).
pub fn check_no_secrets(settings: &serde_json::Value) -> Result<(), SessionError> {
    fn looks_secret(name: &str) -> bool {
        let n: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        n == "key"
            || n.ends_with("apikey")
            || n.starts_with("apikey")
            || [
                "secret",
                "password",
                "passwd",
                "token",
                "authorization",
                "credential",
                "bearer",
            ]
            .iter()
            .any(|s| n.contains(s))
    }
    fn walk(v: &serde_json::Value, path: &str) -> Result<(), SessionError> {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let here = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    if looks_secret(k) {
                        return Err(SessionError::SecretInSettings { field: here });
                    }
                    walk(v, &here)?;
                }
                Ok(())
            }
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| walk(v, &format!("{path}[{i}]"))),
            _ => Ok(()),
        }
    }
    walk(settings, "")
}

/// Turns any serializable settings type into the JSON value the session stores.
pub fn settings_value<T: Serialize>(settings: &T) -> Result<serde_json::Value, SessionError> {
    Ok(serde_json::to_value(settings)?)
}

/// A picture to store: pixels (written as PNG) or an already encoded file (kept as is).
#[derive(Debug, Clone, Copy)]
pub enum Picture<'a> {
    Pixels(&'a RgbaImage),
    Encoded(&'a [u8]),
}

impl Picture<'_> {
    /// The bytes to write and their extension.
    fn file_bytes(&self) -> Result<(Vec<u8>, &'static str), SessionError> {
        match self {
            Picture::Pixels(img) => Ok((encode_png(img)?, "png")),
            Picture::Encoded(bytes) => {
                if image::guess_format(bytes).is_err() {
                    return Err(SessionError::Picture {
                        action: "store",
                        source: imageio::ImageError::UnknownFormat,
                    });
                }
                let ext = match imageio::sniff_mime(bytes) {
                    "image/jpeg" => "jpg",
                    "image/webp" => "webp",
                    "image/gif" => "gif",
                    "image/bmp" => "bmp",
                    "image/tiff" => "tiff",
                    _ => "png",
                };
                Ok((bytes.to_vec(), ext))
            }
        }
    }

    fn pixels(&self) -> Result<std::borrow::Cow<'_, RgbaImage>, SessionError> {
        match self {
            Picture::Pixels(img) => Ok(std::borrow::Cow::Borrowed(img)),
            Picture::Encoded(bytes) => {
                imageio::decode(bytes)
                    .map(std::borrow::Cow::Owned)
                    .map_err(|source| SessionError::Picture {
                        action: "decode",
                        source,
                    })
            }
        }
    }
}

fn encode_png(img: &RgbaImage) -> Result<Vec<u8>, SessionError> {
    imageio::encode(img, imageio::Format::Png, 100).map_err(|source| SessionError::Picture {
        action: "encode",
        source,
    })
}

fn encode_mask(mask: &Mask) -> Result<Vec<u8>, SessionError> {
    let gray = image::GrayImage::from_raw(mask.width(), mask.height(), mask.as_raw().to_vec())
        .ok_or_else(|| SessionError::Picture {
            action: "encode",
            source: imageio::ImageError::Encode("mask buffer does not match its size".into()),
        })?;
    let mut out = std::io::Cursor::new(Vec::new());
    gray.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| SessionError::Picture {
            action: "encode",
            source: imageio::ImageError::Encode(e.to_string()),
        })?;
    Ok(out.into_inner())
}

fn read_picture(path: &Path) -> Result<RgbaImage, imageio::ImageError> {
    imageio::open(path).map_err(|e| e.source)
}

fn decode_mask(path: &Path) -> Result<Mask, imageio::ImageError> {
    let img = read_picture(path)?;
    let (w, h) = img.dimensions();
    let data: Vec<u8> = img.pixels().map(|p| p.0[0]).collect();
    Mask::from_raw(w, h, data).ok_or_else(|| imageio::ImageError::Corrupt("mask size".into()))
}

/// A file name from a record: a plain name inside the entry's folder, never a path.
fn plain_file_name(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(name)
}

/// The name of one history entry: `<unix ms, 13 digits>-<8 hex>`, so names sort by time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EditId(String);

impl EditId {
    fn new(created_unix_ms: u64) -> Self {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        EditId(format!("{created_unix_ms:013}-{}", &tag[..8]))
    }

    /// Accepts only names this module makes (letters, digits, dashes), so an id from the UI or
    /// a file can never point outside the history folder.
    pub fn parse(text: &str) -> Result<Self, SessionError> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok {
            Ok(EditId(text.to_string()))
        } else {
            Err(SessionError::BadId(text.chars().take(64).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EditId {
    type Error = SessionError;
    fn try_from(s: String) -> Result<Self, SessionError> {
        EditId::parse(&s)
    }
}

impl From<EditId> for String {
    fn from(id: EditId) -> String {
        id.0
    }
}

impl std::fmt::Display for EditId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One result as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord {
    /// The result as shown and saved (composited when keep-outside was on).
    pub file: String,
    /// The model's raw output, when kept.
    #[serde(default)]
    pub raw_file: Option<String>,
    /// Runware's `imageUUID`.
    #[serde(default)]
    pub image_uuid: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// Cost in USD as reported by the service.
    #[serde(default)]
    pub cost: Option<f64>,
    /// The outside-mask figures (of the raw output against the original).
    #[serde(default)]
    pub outside: Option<OutsideFigures>,
    /// Starred by the user.
    #[serde(default)]
    pub kept: bool,
}

/// One edit as recorded in `entry.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditRecord {
    pub format_version: u32,
    pub id: EditId,
    pub created_unix_ms: u64,
    pub prompt: String,
    /// The request settings as the caller serialized them (never a key).
    #[serde(default)]
    pub settings: serde_json::Value,
    /// (width, height) of seed and mask.
    pub image_size: (u32, u32),
    pub seed_file: String,
    pub mask_file: String,
    #[serde(default)]
    pub results: Vec<ResultRecord>,
}

/// A result to record.
#[derive(Debug, Clone)]
pub struct NewResult<'a> {
    /// The result as shown/saved.
    pub image: Picture<'a>,
    /// The raw output as returned, if it should be kept beside it.
    pub raw: Option<Picture<'a>>,
    pub image_uuid: Option<String>,
    pub seed: Option<u64>,
    pub cost: Option<f64>,
    pub outside: Option<OutsideFigures>,
}

impl<'a> NewResult<'a> {
    /// A result with only its picture; fill the other fields as known.
    pub fn new(image: Picture<'a>) -> Self {
        Self {
            image,
            raw: None,
            image_uuid: None,
            seed: None,
            cost: None,
            outside: None,
        }
    }
}

/// An edit to record.
#[derive(Debug, Clone)]
pub struct NewEdit<'a> {
    pub seed_image: Picture<'a>,
    pub mask: &'a Mask,
    pub prompt: &'a str,
    /// Any serializable request settings (see [`settings_value`]); must hold no secret.
    pub settings: serde_json::Value,
    /// Results known now; more can follow with [`History::add_result`].
    pub results: Vec<NewResult<'a>>,
}

/// An entry of the history list.
#[derive(Debug, Clone, PartialEq)]
pub struct EditSummary {
    pub id: EditId,
    pub created_unix_ms: u64,
    pub prompt: String,
    pub image_size: (u32, u32),
    pub result_count: usize,
    pub kept_count: usize,
    /// Bytes on disk.
    pub bytes: u64,
    /// The thumbnail file (see [`History::load_thumbnail`]).
    pub thumbnail: PathBuf,
}

/// An entry that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryProblem {
    /// The folder name (pass to [`History::delete`] after [`EditId::parse`] to remove it).
    pub name: String,
    pub message: String,
}

/// The history, newest first, and the entries skipped because they are damaged.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub edits: Vec<EditSummary>,
    pub problems: Vec<HistoryProblem>,
}

/// A reopened edit: everything needed to restore the editor and show the results.
#[derive(Debug)]
pub struct ReopenedEdit {
    pub record: EditRecord,
    pub seed: RgbaImage,
    pub mask: Mask,
    /// One per recorded result; a result whose file is damaged carries its error.
    pub results: Vec<Result<RgbaImage, SessionError>>,
    /// The raw output beside each result, when one was recorded and can be read.
    pub raws: Vec<Option<RgbaImage>>,
}

/// What [`History::record`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub id: EditId,
    /// Older edits removed to stay within the size budget.
    pub pruned: Vec<EditId>,
}

/// The history of edits on disk.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
    budget_bytes: u64,
}

impl History {
    /// The history under `root/history` (created when missing), with the default budget.
    pub fn open(root: &Path) -> Result<Self, SessionError> {
        let dir = root.join("history");
        fs::create_dir_all(&dir).map_err(io_err("create the history folder", &dir))?;
        let history = Self {
            dir,
            budget_bytes: DEFAULT_BUDGET_BYTES,
        };
        history.sweep_leftovers();
        Ok(history)
    }

    /// The history under the user's data directory.
    pub fn open_default() -> Result<Self, SessionError> {
        Self::open(&default_root()?)
    }

    /// The folder holding the entries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn budget_bytes(&self) -> u64 {
        self.budget_bytes
    }

    /// Sets the size budget; takes effect at the next [`History::record`] or [`History::prune`].
    pub fn set_budget_bytes(&mut self, bytes: u64) {
        self.budget_bytes = bytes;
    }

    fn entry_dir(&self, id: &EditId) -> PathBuf {
        self.dir.join(id.as_str())
    }

    /// Removes what interrupted deletes left, and temporary folders older than an hour (an
    /// interrupted record; younger ones may belong to another running instance).
    fn sweep_leftovers(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
            if (name.starts_with(".trash-") || (name.starts_with(".tmp-") && old))
                && let Err(err) = fs::remove_dir_all(e.path())
            {
                tracing::warn!(folder = %name, %err, "could not remove a leftover history folder");
            }
        }
    }

    /// Records an edit (atomically: the entry appears whole or not at all), then prunes the
    /// oldest edits beyond the budget. Refuses settings holding a secret-like field.
    pub fn record(&self, edit: &NewEdit<'_>) -> Result<Recorded, SessionError> {
        check_no_secrets(&edit.settings)?;
        let seed_pixels = edit.seed_image.pixels()?;
        let (w, h) = seed_pixels.dimensions();
        if edit.mask.size() != (w, h) {
            return Err(SessionError::MaskSize {
                mask_width: edit.mask.width(),
                mask_height: edit.mask.height(),
                image_width: w,
                image_height: h,
            });
        }
        let created = now_unix_ms();
        let id = EditId::new(created);
        let tmp = self.dir.join(format!(".tmp-{id}"));
        fs::create_dir_all(&tmp).map_err(io_err("create", &tmp))?;
        let built = (|| {
            let (seed_bytes, ext) = edit.seed_image.file_bytes()?;
            let seed_file = format!("seed.{ext}");
            write_atomic(&tmp.join(&seed_file), &seed_bytes)?;
            write_atomic(&tmp.join(MASK_FILE), &encode_mask(edit.mask)?)?;
            let thumb = imageio::fit_within(&seed_pixels, THUMBNAIL_SIDE);
            write_atomic(&tmp.join(THUMB_FILE), &encode_png(&thumb)?)?;
            let mut results = Vec::with_capacity(edit.results.len());
            for (i, r) in edit.results.iter().enumerate() {
                results.push(write_result(&tmp, i, r)?);
            }
            let record = EditRecord {
                format_version: FORMAT_VERSION,
                id: id.clone(),
                created_unix_ms: created,
                prompt: edit.prompt.to_string(),
                settings: edit.settings.clone(),
                image_size: (w, h),
                seed_file,
                mask_file: MASK_FILE.to_string(),
                results,
            };
            write_atomic(&tmp.join(ENTRY_FILE), &serde_json::to_vec_pretty(&record)?)?;
            let dest = self.entry_dir(&id);
            fs::rename(&tmp, &dest).map_err(io_err("move into the history", &dest))
        })();
        if let Err(err) = built {
            let _ = fs::remove_dir_all(&tmp);
            return Err(err);
        }
        tracing::info!(%id, results = edit.results.len(), "recorded an edit in the history");
        // The edit is safely recorded; a failed prune is logged, not turned into a failure.
        let pruned = self.prune_keeping(Some(&id)).unwrap_or_else(|err| {
            tracing::warn!(%err, "could not prune the history to its budget");
            Vec::new()
        });
        Ok(Recorded { id, pruned })
    }

    fn read_record(&self, id: &EditId) -> Result<EditRecord, SessionError> {
        let dir = self.entry_dir(id);
        if !dir.is_dir() {
            return Err(SessionError::NotFound { id: id.to_string() });
        }
        let path = dir.join(ENTRY_FILE);
        let corrupt = |reason: String| SessionError::Corrupt {
            id: id.to_string(),
            reason,
        };
        let bytes = fs::read(&path).map_err(|e| corrupt(format!("cannot read entry.json: {e}")))?;
        let record: EditRecord = serde_json::from_slice(&bytes)
            .map_err(|e| corrupt(format!("entry.json is not a valid record: {e}")))?;
        if record.id != *id {
            return Err(corrupt(format!(
                "entry.json names another edit ({})",
                record.id
            )));
        }
        let names = [&record.seed_file, &record.mask_file].into_iter().chain(
            record
                .results
                .iter()
                .flat_map(|r| std::iter::once(&r.file).chain(&r.raw_file)),
        );
        for name in names {
            if plain_file_name(name).is_none() {
                return Err(corrupt(format!(
                    "entry.json names a file outside its folder: {name:?}"
                )));
            }
        }
        for name in [&record.seed_file, &record.mask_file] {
            if !dir.join(name).is_file() {
                return Err(corrupt(format!("{name} is missing")));
            }
        }
        Ok(record)
    }

    fn write_record(&self, record: &EditRecord) -> Result<(), SessionError> {
        let path = self.entry_dir(&record.id).join(ENTRY_FILE);
        write_atomic(&path, &serde_json::to_vec_pretty(record)?)
    }

    /// Adds a result that arrived after the edit was recorded; returns its index.
    pub fn add_result(&self, id: &EditId, result: &NewResult<'_>) -> Result<usize, SessionError> {
        let mut record = self.read_record(id)?;
        let index = record.results.len();
        let rec = write_result(&self.entry_dir(id), index, result)?;
        record.results.push(rec);
        self.write_record(&record)?;
        Ok(index)
    }

    /// Stars (keeps) or unstars result `index` of an edit.
    pub fn set_kept(&self, id: &EditId, index: usize, kept: bool) -> Result<(), SessionError> {
        let mut record = self.read_record(id)?;
        let r = record
            .results
            .get_mut(index)
            .ok_or_else(|| SessionError::NoSuchResult {
                id: id.to_string(),
                index,
            })?;
        r.kept = kept;
        self.write_record(&record)
    }

    /// Every readable edit, newest first; damaged ones are listed in `problems` and skipped.
    pub fn list(&self) -> Listing {
        let mut listing = Listing::default();
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(err) => {
                listing.problems.push(HistoryProblem {
                    name: self.dir.display().to_string(),
                    message: format!("cannot read the history folder: {err}"),
                });
                return listing;
            }
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !e.path().is_dir() {
                continue;
            }
            let id = match EditId::parse(&name) {
                Ok(id) => id,
                Err(err) => {
                    listing.problems.push(HistoryProblem {
                        name,
                        message: err.to_string(),
                    });
                    continue;
                }
            };
            match self.read_record(&id) {
                Ok(record) => listing.edits.push(EditSummary {
                    thumbnail: e.path().join(THUMB_FILE),
                    bytes: folder_bytes(&e.path()),
                    result_count: record.results.len(),
                    kept_count: record.results.iter().filter(|r| r.kept).count(),
                    id: record.id,
                    created_unix_ms: record.created_unix_ms,
                    prompt: record.prompt,
                    image_size: record.image_size,
                }),
                Err(err) => {
                    tracing::warn!(entry = %name, %err, "skipped a damaged history entry");
                    listing.problems.push(HistoryProblem {
                        name,
                        message: err.to_string(),
                    });
                }
            }
        }
        listing
            .edits
            .sort_by(|a, b| (b.created_unix_ms, &b.id).cmp(&(a.created_unix_ms, &a.id)));
        listing
    }

    /// The thumbnail of an edit.
    pub fn load_thumbnail(&self, id: &EditId) -> Result<RgbaImage, SessionError> {
        read_picture(&self.entry_dir(id).join(THUMB_FILE)).map_err(|e| SessionError::Corrupt {
            id: id.to_string(),
            reason: format!("thumbnail: {e}"),
        })
    }

    /// Reads an edit back: seed image, mask, record (prompt, settings) and results.
    pub fn reopen(&self, id: &EditId) -> Result<ReopenedEdit, SessionError> {
        let record = self.read_record(id)?;
        let dir = self.entry_dir(id);
        let corrupt = |what: &str, e: imageio::ImageError| SessionError::Corrupt {
            id: id.to_string(),
            reason: format!("{what}: {e}"),
        };
        let seed =
            read_picture(&dir.join(&record.seed_file)).map_err(|e| corrupt("seed image", e))?;
        let mask = decode_mask(&dir.join(&record.mask_file)).map_err(|e| corrupt("mask", e))?;
        if mask.size() != seed.dimensions() || seed.dimensions() != record.image_size {
            return Err(SessionError::Corrupt {
                id: id.to_string(),
                reason: format!(
                    "seed is {}x{}, mask {}x{}, record says {}x{}",
                    seed.width(),
                    seed.height(),
                    mask.width(),
                    mask.height(),
                    record.image_size.0,
                    record.image_size.1
                ),
            });
        }
        let results = record
            .results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                read_picture(&dir.join(&r.file))
                    .map_err(|e| corrupt(&format!("result {}", i + 1), e))
            })
            .collect();
        let raws = record
            .results
            .iter()
            .map(|r| {
                let file = plain_file_name(r.raw_file.as_deref()?)?;
                read_picture(&dir.join(file))
                    .map_err(|e| tracing::warn!(edit = %id, %file, "raw output unreadable: {e}"))
                    .ok()
            })
            .collect();
        Ok(ReopenedEdit {
            record,
            seed,
            mask,
            results,
            raws,
        })
    }

    /// The path of a stored file of an edit (a result or raw output named in its record).
    pub fn file_path(&self, id: &EditId, file: &str) -> Option<PathBuf> {
        plain_file_name(file).map(|f| self.entry_dir(id).join(f))
    }

    /// Deletes an edit (also a damaged one): renamed aside first, so it vanishes at once.
    pub fn delete(&self, id: &EditId) -> Result<(), SessionError> {
        let dir = self.entry_dir(id);
        if !dir.is_dir() {
            return Err(SessionError::NotFound { id: id.to_string() });
        }
        let trash = self
            .dir
            .join(format!(".trash-{id}-{}", uuid::Uuid::new_v4().simple()));
        fs::rename(&dir, &trash).map_err(io_err("move aside for deletion", &dir))?;
        fs::remove_dir_all(&trash).map_err(io_err("delete", &trash))?;
        tracing::info!(%id, "deleted an edit from the history");
        Ok(())
    }

    /// Deletes the oldest edits until the history fits its budget (the newest always stays).
    pub fn prune(&self) -> Result<Vec<EditId>, SessionError> {
        self.prune_keeping(None)
    }

    fn prune_keeping(&self, keep: Option<&EditId>) -> Result<Vec<EditId>, SessionError> {
        let listing = self.list();
        let mut total: u64 = listing.edits.iter().map(|e| e.bytes).sum();
        let mut pruned = Vec::new();
        // Oldest first; never the newest, never the one just recorded.
        for e in listing.edits.iter().skip(1).rev() {
            if total <= self.budget_bytes {
                break;
            }
            if Some(&e.id) == keep {
                continue;
            }
            self.delete(&e.id)?;
            total = total.saturating_sub(e.bytes);
            pruned.push(e.id.clone());
        }
        if !pruned.is_empty() {
            tracing::info!(
                count = pruned.len(),
                budget = self.budget_bytes,
                "pruned old edits"
            );
        }
        Ok(pruned)
    }
}

fn write_result(dir: &Path, index: usize, r: &NewResult<'_>) -> Result<ResultRecord, SessionError> {
    let n = index + 1;
    let (bytes, ext) = r.image.file_bytes()?;
    let file = format!("result-{n}.{ext}");
    write_atomic(&dir.join(&file), &bytes)?;
    let raw_file = match &r.raw {
        Some(raw) => {
            let (bytes, ext) = raw.file_bytes()?;
            let name = format!("raw-{n}.{ext}");
            write_atomic(&dir.join(&name), &bytes)?;
            Some(name)
        }
        None => None,
    };
    Ok(ResultRecord {
        file,
        raw_file,
        image_uuid: r.image_uuid.clone(),
        seed: r.seed,
        cost: r.cost,
        outside: r.outside,
        kept: false,
    })
}

fn folder_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// The current work, as autosaved.
#[derive(Debug, Clone, Copy)]
pub struct WorkSnapshot<'a> {
    pub image: &'a RgbaImage,
    pub mask: &'a Mask,
    pub prompt: &'a str,
    pub settings: &'a serde_json::Value,
}

/// Work found after a crash or a kill.
#[derive(Debug, Clone)]
pub struct RecoveredWork {
    pub image: RgbaImage,
    pub mask: Mask,
    pub prompt: String,
    pub settings: serde_json::Value,
    pub saved_unix_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct WorkRecord {
    format_version: u32,
    saved_unix_ms: u64,
    prompt: String,
    #[serde(default)]
    settings: serde_json::Value,
    image_size: (u32, u32),
    image_file: String,
    mask_file: String,
}

/// What [`Autosave::start`] found.
#[derive(Debug)]
pub struct AutosaveStart {
    pub autosave: Autosave,
    /// The work of a session that ended without [`Autosave::finish`] (a crash or a kill).
    pub recovered: Option<RecoveredWork>,
    /// Set when such work existed but could not be read.
    pub problem: Option<SessionError>,
}

/// Autosave of the current work. Start it once at launch; it leaves a marker file that only
/// [`Autosave::finish`] (a clean exit) removes, so the next launch knows whether to offer the
/// autosaved work back. (A second instance running at the same time sees the first's marker
/// and offers its work too.)
#[derive(Debug)]
pub struct Autosave {
    dir: PathBuf,
    image_written: Option<(u64, String)>,
    saves: u64,
}

impl Autosave {
    /// Starts autosaving under `root/autosave`, returning work left by an unclean exit.
    pub fn start(root: &Path) -> Result<AutosaveStart, SessionError> {
        let dir = root.join("autosave");
        fs::create_dir_all(&dir).map_err(io_err("create the autosave folder", &dir))?;
        let marker = dir.join(MARKER_FILE);
        let crashed = marker.exists();
        let (mut recovered, mut problem) = (None, None);
        if crashed && dir.join(WORK_FILE).exists() {
            match read_work(&dir) {
                Ok(w) => {
                    tracing::info!("found autosaved work from a session that did not exit cleanly");
                    recovered = Some(w);
                }
                Err(e) => {
                    tracing::warn!(err = %e, "autosaved work is damaged");
                    problem = Some(e);
                }
            }
        } else if !crashed {
            remove_work_files(&dir, None);
        }
        write_atomic(&marker, std::process::id().to_string().as_bytes())?;
        Ok(AutosaveStart {
            autosave: Autosave {
                dir,
                image_written: None,
                saves: 0,
            },
            recovered,
            problem,
        })
    }

    /// Saves the current work (replacing the previous save). The image is rewritten only when
    /// its pixels changed. Refuses settings holding a secret-like field.
    pub fn save(&mut self, work: &WorkSnapshot<'_>) -> Result<(), SessionError> {
        check_no_secrets(work.settings)?;
        if work.mask.size() != work.image.dimensions() {
            return Err(SessionError::MaskSize {
                mask_width: work.mask.width(),
                mask_height: work.mask.height(),
                image_width: work.image.width(),
                image_height: work.image.height(),
            });
        }
        let fingerprint = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            work.image.dimensions().hash(&mut h);
            work.image.as_raw().hash(&mut h);
            h.finish()
        };
        let image_file = match &self.image_written {
            Some((f, name)) if *f == fingerprint && self.dir.join(name).is_file() => name.clone(),
            _ => {
                let name = format!("image-{fingerprint:016x}.png");
                write_atomic(&self.dir.join(&name), &encode_png(work.image)?)?;
                self.image_written = Some((fingerprint, name.clone()));
                name
            }
        };
        self.saves += 1;
        let mask_file = format!("mask-{}-{}.png", std::process::id(), self.saves);
        write_atomic(&self.dir.join(&mask_file), &encode_mask(work.mask)?)?;
        let record = WorkRecord {
            format_version: FORMAT_VERSION,
            saved_unix_ms: now_unix_ms(),
            prompt: work.prompt.to_string(),
            settings: work.settings.clone(),
            image_size: work.image.dimensions(),
            image_file: image_file.clone(),
            mask_file: mask_file.clone(),
        };
        write_atomic(
            &self.dir.join(WORK_FILE),
            &serde_json::to_vec_pretty(&record)?,
        )?;
        remove_work_files(&self.dir, Some((&image_file, &mask_file)));
        Ok(())
    }

    /// Forgets the autosaved work (the user declined to restore it, or saved elsewhere).
    pub fn discard(&mut self) {
        remove_work_files(&self.dir, None);
        self.image_written = None;
    }

    /// A clean exit: removes the autosaved work and the marker.
    pub fn finish(mut self) -> Result<(), SessionError> {
        self.discard();
        let marker = self.dir.join(MARKER_FILE);
        match fs::remove_file(&marker) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("remove", &marker)(e)),
        }
    }
}

fn read_work(dir: &Path) -> Result<RecoveredWork, SessionError> {
    let corrupt = |reason: String| SessionError::CorruptAutosave { reason };
    let bytes = fs::read(dir.join(WORK_FILE)).map_err(|e| corrupt(format!("work.json: {e}")))?;
    let rec: WorkRecord =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("work.json: {e}")))?;
    let (Some(image_file), Some(mask_file)) = (
        plain_file_name(&rec.image_file),
        plain_file_name(&rec.mask_file),
    ) else {
        return Err(corrupt("work.json names a file outside its folder".into()));
    };
    let image = read_picture(&dir.join(image_file)).map_err(|e| corrupt(format!("image: {e}")))?;
    let mask = decode_mask(&dir.join(mask_file)).map_err(|e| corrupt(format!("mask: {e}")))?;
    if mask.size() != image.dimensions() {
        return Err(corrupt("the mask and the image differ in size".into()));
    }
    Ok(RecoveredWork {
        image,
        mask,
        prompt: rec.prompt,
        settings: rec.settings,
        saved_unix_ms: rec.saved_unix_ms,
    })
}

/// Removes autosaved work files except `keep` (image, mask); `None` removes work.json too.
fn remove_work_files(dir: &Path, keep: Option<(&str, &str)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with("image-") || name.starts_with("mask-") || name == WORK_FILE;
        let kept = match keep {
            Some((img, mask)) => name == img || name == mask || name == WORK_FILE,
            None => false,
        };
        if ours
            && !kept
            && let Err(err) = fs::remove_file(e.path())
        {
            tracing::warn!(file = %name, %err, "could not remove an old autosave file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{FeatherMask, outside_figures};
    use image::Rgba;
    use serde_json::json;

    fn photo(w: u32, h: u32, tint: u8) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| Rgba([(x * 3) as u8, (y * 5) as u8, tint, 255]))
    }

    fn mask(w: u32, h: u32) -> Mask {
        let mut m = Mask::new(w, h);
        m.fill_rect(4, 4, 10, 6, 255);
        m.set(0, 0, 77); // partial coverage survives the round trip
        m
    }

    fn settings() -> serde_json::Value {
        json!({"model": "ideogram:4@3", "style": "DESIGN", "numberResults": 2, "nested": {"seed": 7}})
    }

    fn record_one(
        history: &History,
        prompt: &str,
        tint: u8,
    ) -> (EditId, RgbaImage, Mask, Vec<RgbaImage>) {
        let seed = photo(40, 30, tint);
        let m = mask(40, 30);
        let results = vec![photo(40, 30, tint.wrapping_add(50)), photo(20, 15, 9)];
        let f = FeatherMask::new(&m, 2);
        let figs = outside_figures(&seed, &results[0], &f, 16).unwrap();
        let raw_png = encode_png(&results[1]).unwrap();
        let mut r0 = NewResult::new(Picture::Pixels(&results[0]));
        r0.image_uuid = Some("3f5ac0f4-0f4f-4a55-9ab2-c6c8a2d6c001".into());
        r0.seed = Some(42);
        r0.cost = Some(0.06);
        r0.outside = Some(figs);
        let mut r1 = NewResult::new(Picture::Pixels(&results[1]));
        r1.raw = Some(Picture::Encoded(&raw_png));
        let rec = history
            .record(&NewEdit {
                seed_image: Picture::Pixels(&seed),
                mask: &m,
                prompt,
                settings: settings(),
                results: vec![r0, r1],
            })
            .unwrap();
        (rec.id, seed, m, results)
    }

    #[test]
    fn write_reload_in_a_fresh_instance_and_reopen() {
        let root = tempfile::tempdir().unwrap();
        let (id, seed, m, results) = {
            let history = History::open(root.path()).unwrap();
            record_one(&history, "OPEN 7 DAYS", 10)
        };
        // A new instance, as after a restart.
        let history = History::open(root.path()).unwrap();
        let listing = history.list();
        assert!(listing.problems.is_empty(), "{:?}", listing.problems);
        assert_eq!(listing.edits.len(), 1);
        let s = &listing.edits[0];
        assert_eq!(
            (s.id.clone(), s.prompt.as_str()),
            (id.clone(), "OPEN 7 DAYS")
        );
        assert_eq!(
            (s.result_count, s.kept_count, s.image_size),
            (2, 0, (40, 30))
        );
        assert!(s.bytes > 0);
        let thumb = history.load_thumbnail(&id).unwrap();
        assert_eq!(thumb.dimensions(), (40, 30), "small seeds are not enlarged");
        assert_eq!(thumb, seed);

        let back = history.reopen(&id).unwrap();
        assert_eq!(back.seed, seed);
        assert_eq!(back.mask, m);
        assert_eq!(back.record.prompt, "OPEN 7 DAYS");
        assert_eq!(back.record.settings, settings());
        assert_eq!(back.results.len(), 2);
        assert_eq!(back.results[0].as_ref().unwrap(), &results[0]);
        assert_eq!(back.results[1].as_ref().unwrap(), &results[1]);
        let r0 = &back.record.results[0];
        assert_eq!(
            r0.image_uuid.as_deref(),
            Some("3f5ac0f4-0f4f-4a55-9ab2-c6c8a2d6c001")
        );
        assert_eq!((r0.seed, r0.cost), (Some(42), Some(0.06)));
        let figs = r0.outside.unwrap();
        assert_eq!(figs.changed_pixels, figs.outside_pixels);
        assert!(figs.outside_pixels > 0);
        let raw = back.record.results[1].raw_file.as_deref().unwrap();
        assert_eq!(raw, "raw-2.png");
        let raw_path = history.file_path(&id, raw).unwrap();
        assert_eq!(imageio::open(&raw_path).unwrap(), results[1]);
        assert!(
            back.raws[0].is_none(),
            "result 1 was recorded without a raw output"
        );
        assert_eq!(back.raws[1].as_ref(), Some(&results[1]));
        assert!(history.file_path(&id, "../entry.json").is_none());
    }

    #[test]
    fn add_result_and_keep_survive_reload() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let (id, ..) = record_one(&history, "p", 1);
        let late = photo(40, 30, 200);
        let mut r = NewResult::new(Picture::Pixels(&late));
        r.seed = Some(99);
        assert_eq!(history.add_result(&id, &r).unwrap(), 2);
        history.set_kept(&id, 2, true).unwrap();
        assert!(matches!(
            history.set_kept(&id, 9, true),
            Err(SessionError::NoSuchResult { index: 9, .. })
        ));
        let history = History::open(root.path()).unwrap();
        let back = history.reopen(&id).unwrap();
        assert_eq!(back.results.len(), 3);
        assert_eq!(back.results[2].as_ref().unwrap(), &late);
        assert!(back.record.results[2].kept);
        assert_eq!(history.list().edits[0].kept_count, 1);
    }

    #[test]
    fn delete_removes_the_edit() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let (a, ..) = record_one(&history, "a", 1);
        let (b, ..) = record_one(&history, "b", 2);
        assert_eq!(history.list().edits.len(), 2);
        history.delete(&a).unwrap();
        let listing = history.list();
        assert_eq!(listing.edits.len(), 1);
        assert_eq!(listing.edits[0].id, b);
        assert!(matches!(
            history.reopen(&a),
            Err(SessionError::NotFound { .. })
        ));
        assert!(matches!(
            history.delete(&a),
            Err(SessionError::NotFound { .. })
        ));
        // Nothing left behind in the folder but b.
        let names: Vec<_> = fs::read_dir(history.dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![b.to_string()]);
    }

    #[test]
    fn truncated_entry_is_reported_and_skipped() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let (bad, ..) = record_one(&history, "bad", 1);
        let (good, ..) = record_one(&history, "good", 2);
        let entry = history.dir().join(bad.as_str()).join(ENTRY_FILE);
        let bytes = fs::read(&entry).unwrap();
        fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
        // A truncated result picture in the good entry: reopen still works, that result errs.
        let result = history.dir().join(good.as_str()).join("result-1.png");
        let rb = fs::read(&result).unwrap();
        fs::write(&result, &rb[..rb.len() / 3]).unwrap();
        // A stray folder with a name that is not an id.
        fs::create_dir(history.dir().join("not an id")).unwrap();

        let history = History::open(root.path()).unwrap();
        let listing = history.list();
        assert_eq!(listing.edits.len(), 1);
        assert_eq!(listing.edits[0].id, good);
        assert_eq!(listing.problems.len(), 2);
        let p = listing
            .problems
            .iter()
            .find(|p| p.name == bad.as_str())
            .unwrap();
        assert!(p.message.contains("damaged"), "{}", p.message);
        assert!(matches!(
            history.reopen(&bad),
            Err(SessionError::Corrupt { .. })
        ));
        let back = history.reopen(&good).unwrap();
        assert!(back.results[0].is_err());
        assert!(back.results[1].is_ok());
        // A damaged entry can still be deleted.
        history.delete(&bad).unwrap();
        assert_eq!(history.list().problems.len(), 1);

        // A truncated seed makes reopen fail cleanly.
        let seed = history.dir().join(good.as_str()).join("seed.png");
        let sb = fs::read(&seed).unwrap();
        fs::write(&seed, &sb[..sb.len() / 2]).unwrap();
        assert!(matches!(
            history.reopen(&good),
            Err(SessionError::Corrupt { .. })
        ));
    }

    #[test]
    fn budget_prunes_the_oldest() {
        let root = tempfile::tempdir().unwrap();
        let mut history = History::open(root.path()).unwrap();
        let mut ids = Vec::new();
        for i in 0..4u8 {
            ids.push(record_one(&history, &format!("edit {i}"), i * 40).0);
            std::thread::sleep(std::time::Duration::from_millis(3));
        }
        let sizes: Vec<u64> = history.list().edits.iter().map(|e| e.bytes).collect();
        // Room for the two newest only.
        history.set_budget_bytes(sizes[0] + sizes[1]);
        let pruned = history.prune().unwrap();
        assert_eq!(pruned, vec![ids[0].clone(), ids[1].clone()]);
        let left: Vec<EditId> = history.list().edits.into_iter().map(|e| e.id).collect();
        assert_eq!(left, vec![ids[3].clone(), ids[2].clone()]);
        // A tiny budget still keeps the newest edit, and recording prunes by itself.
        history.set_budget_bytes(1);
        let rec = record_one(&history, "newest", 7).0;
        let left: Vec<EditId> = history.list().edits.into_iter().map(|e| e.id).collect();
        assert_eq!(left, vec![rec]);
    }

    #[test]
    fn settings_with_a_key_field_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let seed = photo(8, 8, 1);
        let m = Mask::new(8, 8);
        for (field, settings) in [
            (
                "apiKey",
                json!({"apiKey": "rw-secret-123", "style": "AUTO"}),
            ),
            (
                "auth.api_key",
                json!({"auth": {"api_key": "rw-secret-123"}}),
            ),
            (
                "tasks[0].RUNWARE_API_KEY",
                json!({"tasks": [{"RUNWARE_API_KEY": "x"}]}),
            ),
            ("Authorization", json!({"Authorization": "Bearer x"})),
            ("token", json!({"token": "x"})),
        ] {
            let err = history
                .record(&NewEdit {
                    seed_image: Picture::Pixels(&seed),
                    mask: &m,
                    prompt: "p",
                    settings,
                    results: vec![],
                })
                .unwrap_err();
            match &err {
                SessionError::SecretInSettings { field: f } => assert_eq!(f, field),
                other => panic!("expected a refusal, got {other}"),
            }
            assert!(!err.to_string().contains("rw-secret-123"));
        }
        assert!(history.list().edits.is_empty(), "nothing was written");
        let names = fs::read_dir(history.dir()).unwrap().count();
        assert_eq!(names, 0);
        // Ordinary names that merely contain "key"-like letters pass.
        check_no_secrets(&json!({"keep_outside": true, "monkey": 1, "keyframes": []})).unwrap();
        let mut a = Autosave::start(root.path()).unwrap().autosave;
        let bad = json!({"apiKey": "x"});
        let err = a
            .save(&WorkSnapshot {
                image: &seed,
                mask: &m,
                prompt: "p",
                settings: &bad,
            })
            .unwrap_err();
        assert!(matches!(err, SessionError::SecretInSettings { .. }));
    }

    #[test]
    fn mismatched_mask_and_bad_pictures_are_errors() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let seed = photo(8, 8, 1);
        let m = Mask::new(9, 8);
        let err = history
            .record(&NewEdit {
                seed_image: Picture::Pixels(&seed),
                mask: &m,
                prompt: "p",
                settings: json!({}),
                results: vec![],
            })
            .unwrap_err();
        assert!(matches!(err, SessionError::MaskSize { mask_width: 9, .. }));
        let m = Mask::new(8, 8);
        let junk = b"not a picture at all";
        let err = history
            .record(&NewEdit {
                seed_image: Picture::Pixels(&seed),
                mask: &m,
                prompt: "p",
                settings: json!({}),
                results: vec![NewResult::new(Picture::Encoded(junk))],
            })
            .unwrap_err();
        assert!(matches!(err, SessionError::Picture { .. }));
        // The failed record left no folder behind, hidden or not.
        assert_eq!(fs::read_dir(history.dir()).unwrap().count(), 0);
        assert!(EditId::parse("../etc").is_err());
        assert!(EditId::parse("").is_err());
    }

    #[test]
    fn encoded_seed_is_kept_as_is() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let seed = photo(16, 12, 3);
        let jpeg = imageio::encode(&seed, imageio::Format::Jpg, 90).unwrap();
        let m = Mask::new(16, 12);
        let id = history
            .record(&NewEdit {
                seed_image: Picture::Encoded(&jpeg),
                mask: &m,
                prompt: "p",
                settings: json!(null),
                results: vec![],
            })
            .unwrap()
            .id;
        let back = history.reopen(&id).unwrap();
        assert_eq!(back.record.seed_file, "seed.jpg");
        assert_eq!(
            fs::read(history.dir().join(id.as_str()).join("seed.jpg")).unwrap(),
            jpeg
        );
        assert_eq!(back.seed, imageio::decode(&jpeg).unwrap());
    }

    #[test]
    fn autosave_is_offered_after_a_crash_not_after_a_clean_exit() {
        let root = tempfile::tempdir().unwrap();
        let image = photo(24, 16, 5);
        let m = mask(24, 16);
        let s = settings();

        // First run: nothing to recover; save twice (the second with a changed mask), then
        // "crash" (no finish).
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_none() && start.problem.is_none());
        let mut a = start.autosave;
        let snapshot = WorkSnapshot {
            image: &image,
            mask: &Mask::new(24, 16),
            prompt: "first",
            settings: &s,
        };
        a.save(&snapshot).unwrap();
        a.save(&WorkSnapshot {
            mask: &m,
            prompt: "CLOSED MONDAYS",
            ..snapshot
        })
        .unwrap();
        drop(a);
        // Only the latest files remain.
        let files = fs::read_dir(root.path().join("autosave")).unwrap().count();
        assert_eq!(files, 4, "marker, work.json, one image, one mask");

        // Second run: the work is offered back.
        let start = Autosave::start(root.path()).unwrap();
        let got = start.recovered.expect("work after a crash");
        assert_eq!(got.image, image);
        assert_eq!(got.mask, m);
        assert_eq!(got.prompt, "CLOSED MONDAYS");
        assert_eq!(got.settings, s);
        assert!(got.saved_unix_ms > 0);
        // Clean exit this time.
        start.autosave.finish().unwrap();

        // Third run: nothing to offer.
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_none());
        start.autosave.finish().unwrap();
    }

    #[test]
    fn damaged_autosave_is_reported_not_fatal() {
        let root = tempfile::tempdir().unwrap();
        let image = photo(8, 8, 1);
        let m = Mask::new(8, 8);
        let mut a = Autosave::start(root.path()).unwrap().autosave;
        a.save(&WorkSnapshot {
            image: &image,
            mask: &m,
            prompt: "p",
            settings: &json!({}),
        })
        .unwrap();
        drop(a);
        let work = root.path().join("autosave").join(WORK_FILE);
        let bytes = fs::read(&work).unwrap();
        fs::write(&work, &bytes[..bytes.len() - 10]).unwrap();
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_none());
        assert!(matches!(
            start.problem,
            Some(SessionError::CorruptAutosave { .. })
        ));
        // Discarding clears it; the next crash offers nothing stale.
        let mut a = start.autosave;
        a.discard();
        drop(a);
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_none() && start.problem.is_none());
    }

    #[test]
    fn atomic_write_replaces_whole_files_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        write_atomic(&p, b"first version").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no-such-dir").join("f");
        assert!(matches!(
            write_atomic(&missing, b"x"),
            Err(SessionError::Io { .. })
        ));
    }
}
