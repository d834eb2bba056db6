//! The session on disk: the history of edits (seed image, mask, prompt, settings, results with
//! their outside-mask figures) and the autosave of the current work, offered back after a crash.
//!
//! Layout under the data root (by default the user's data directory, see [`default_root`]):
//! ```text
//! ROOT/history/<id>/entry.json      the EditRecord (written last, atomically)
//!                   seed.<ext>      the seed image (PNG, or the original file's bytes)
//!                   mask.png        mask coverage, 8-bit grayscale, full resolution
//!                   thumb.png       the seed fitted in 256 px
//!                   result-N.png    result N as shown/saved (composited when keep-outside is on);
//!                                   only the rectangle that differs from the seed, when the
//!                                   record gives its `offset`
//!                   raw-N.<ext>     the model's raw output, when given (a crop too, with `raw_offset`)
//! ROOT/autosave/work.json           the current work; image-<hash>.png, mask-<n>.png beside it
//! ROOT/autosave/running.lock        present while touchup runs; left behind by a crash or kill
//! ROOT/autosave/stopped            left by a session stopped by a signal (its work was saved)
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
//!
//! The parts: `disk` (atomic writes, the secret check, pictures and their encoding), `record`
//! (what an entry holds on disk and what callers pass in), `history` (the [`History`] store)
//! and `autosave` (the [`Autosave`] of the current work and its recovery).

use std::path::PathBuf;

use crate::imageio;

mod autosave;
mod disk;
mod history;
mod pending;
mod record;

pub use autosave::*;
pub use disk::{Picture, check_no_secrets, default_root, settings_value, write_atomic};
pub use history::*;
pub use pending::{PendingJob, PendingJobs, PendingRecord};
pub use record::*;

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
    #[error("a pending edit job cannot be kept or read back: {0}")]
    PendingJob(String),
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Pictures, masks and settings the session tests share.
    use image::{Rgba, RgbaImage};
    use serde_json::json;

    use crate::mask::Mask;

    pub fn photo(w: u32, h: u32, tint: u8) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| Rgba([(x * 3) as u8, (y * 5) as u8, tint, 255]))
    }

    pub fn mask(w: u32, h: u32) -> Mask {
        let mut m = Mask::new(w, h);
        m.fill_rect(4, 4, 10, 6, 255);
        m.set(0, 0, 77); // partial coverage survives the round trip
        m
    }

    pub fn settings() -> serde_json::Value {
        json!({"model": "ideogram:4@3", "style": "DESIGN", "numberResults": 2, "nested": {"seed": 7}})
    }
}
