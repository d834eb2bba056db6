//! What a history entry is: its name ([`EditId`]), the records written to `entry.json`
//! ([`EditRecord`], [`ResultRecord`]), what callers pass in ([`NewEdit`], [`NewResult`]) and
//! what they get back ([`EditSummary`], [`Listing`], [`ReopenedEdit`], [`Recorded`]).

use std::path::PathBuf;

use image::RgbaImage;
use serde::{Deserialize, Serialize};

use super::{Picture, SessionError};
use crate::compare::OutsideFigures;
use crate::mask::Mask;

/// The name of one history entry: `<unix ms, 13 digits>-<8 hex>`, so names sort by time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EditId(String);

impl EditId {
    pub(super) fn new(created_unix_ms: u64) -> Self {
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
