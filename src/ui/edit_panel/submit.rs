//! What the App keeps of an edit's results: each result as it is shown ([`ResultEntry`]), what
//! results are compared against ([`CompareContext`]), where they are saved, and their
//! thumbnails. The edit itself runs on the core's queue (see `jobs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbaImage;

use crate::runware::{Client, ClientConfig, RunwareError};

/// One result picture as the App shows it.
pub struct ResultEntry {
    pub index: usize,
    /// The raw output as returned.
    pub image: Arc<RgbaImage>,
    /// What is shown and compared: the composite over the original (keep outside pixels on).
    pub shown: Arc<RgbaImage>,
    /// Where and how much it changed outside the mask.
    pub figures: Option<crate::compare::OutsideFigures>,
    pub heatmap: Option<RgbaImage>,
    /// Full-size textures for the compare view (image, heatmap), made once when first shown.
    pub textures: Option<(egui::TextureHandle, Option<egui::TextureHandle>)>,
    pub kept: bool,
    pub discarded: bool,
    pub thumbnail: egui::TextureHandle,
    pub image_uuid: Option<String>,
    pub seed: Option<i64>,
    pub cost: Option<f64>,
    pub path: Option<PathBuf>,
    /// Its place among the results of its history entry (for storing the keep star).
    pub history_slot: usize,
    /// The lettering read inside the mask against the prompt's quoted strings.
    pub lettering: Lettering,
    /// The result as the pipeline pasted it into its area (`None` for a result reopened from
    /// the history, which keeps only the full pictures).
    pub pasted: Option<Arc<crate::compare::Pasted>>,
    /// "Match colours at the edge" for this result.
    pub colour_match: bool,
}

/// The lettering check of one result.
#[derive(Debug, Clone, Default)]
pub enum Lettering {
    /// The prompt quotes no strings: nothing to check.
    #[default]
    None,
    /// Being read in the background.
    Reading,
    Read(crate::text::LetteringCheck),
    Failed(String),
}

impl Lettering {
    /// For sorting: the check's score (0..1); unread results sort last.
    pub fn score(&self) -> f32 {
        match self {
            Lettering::Read(c) => c.score,
            _ => -1.0,
        }
    }
}

/// What each result is compared against: the photo and mask as they were when the edit was
/// sent (the feather weights are computed once, by the first result that needs them).
#[derive(Clone)]
pub struct CompareContext {
    pub original: Arc<RgbaImage>,
    pub mask: Arc<crate::mask::Mask>,
    pub settings: crate::compare::CompareSettings,
    feather: Arc<std::sync::OnceLock<crate::compare::FeatherMask>>,
    /// The photo and mask under the edit area, made at the first re-composite.
    base: Arc<std::sync::OnceLock<Result<crate::compare::AreaBase, String>>>,
}

impl CompareContext {
    pub fn new(
        original: Arc<RgbaImage>,
        mask: crate::mask::Mask,
        settings: crate::compare::CompareSettings,
    ) -> Self {
        Self {
            original,
            mask: Arc::new(mask),
            settings,
            feather: Arc::new(std::sync::OnceLock::new()),
            base: Arc::new(std::sync::OnceLock::new()),
        }
    }

    /// The photo and mask under `area`, cut once for every result of the edit (cut again for
    /// a result of another area).
    fn base(
        &self,
        area: crate::edit::EditArea,
    ) -> Result<std::borrow::Cow<'_, crate::compare::AreaBase>, String> {
        let cut = || {
            crate::compare::AreaBase::new(
                &self.original,
                &self.mask,
                area,
                self.settings.feather_px,
            )
            .map_err(|e| e.to_string())
        };
        match self.base.get_or_init(cut) {
            Ok(base) if base.area == area => Ok(std::borrow::Cow::Borrowed(base)),
            _ => cut().map(std::borrow::Cow::Owned),
        }
    }

    /// Composites a pasted result again (keep-outside or colour match switched): the picture
    /// at the photo's size and its comparison. Saves nothing.
    pub fn recheck_pasted(
        &self,
        pasted: &crate::compare::Pasted,
        keep_outside: bool,
        colour_match: bool,
    ) -> Result<crate::compare::ResultComparison, String> {
        let base = self.base(pasted.area)?;
        let area = pasted
            .recomposite(&base, keep_outside, colour_match)
            .map_err(|e| e.to_string())?;
        let shown = crate::compare::Pasted {
            shown: area,
            ..pasted.clone()
        }
        .apply(&self.original);
        Ok(crate::compare::ResultComparison {
            shown,
            check: self.area_check(pasted)?,
        })
    }

    /// The outside-mask check of a pasted result: its figures, and its heatmap at the photo's
    /// size (transparent outside the area).
    pub fn area_check(
        &self,
        pasted: &crate::compare::Pasted,
    ) -> Result<crate::compare::OutsideCheck, String> {
        let base = self.base(pasted.area)?;
        let check = crate::compare::check_outside(
            &base.original,
            &pasted.raw,
            &base.feather,
            self.settings.noticeable_difference,
        )
        .map_err(|e| e.to_string())?;
        let (w, h) = self.original.dimensions();
        let mut heatmap = RgbaImage::new(w, h);
        image::imageops::replace(
            &mut heatmap,
            &check.heatmap,
            pasted.area.x.into(),
            pasted.area.y.into(),
        );
        Ok(crate::compare::OutsideCheck {
            figures: check.figures,
            heatmap,
        })
    }

    /// Compares `raw` again with keep-outside pixels on (composited) or off (as returned,
    /// resampled to the photo's size): for results that already arrived, or came back from the
    /// history. Saves nothing.
    pub fn recheck(
        &self,
        raw: &RgbaImage,
        keep_outside: bool,
    ) -> Result<crate::compare::ResultComparison, String> {
        let feather = self
            .feather
            .get_or_init(|| crate::compare::FeatherMask::new(&self.mask, self.settings.feather_px));
        let settings = crate::compare::CompareSettings {
            keep_outside,
            ..self.settings
        };
        crate::compare::compare_result(&self.original, raw, feather, &settings)
            .map_err(|e| e.to_string())
    }
}

/// Where results go when the user has not picked a folder: the data dir's `results/<time>`.
pub fn default_output_root() -> PathBuf {
    directories::ProjectDirs::from("", "", "touchup")
        .map(|d| d.data_dir().join("results"))
        .unwrap_or_else(|| std::env::temp_dir().join("touchup-results"))
}

/// A fresh folder for the results of job `job`, by local time (two jobs may start in the same
/// millisecond, so the job's number is part of the name).
pub fn new_output_folder(root: &Path, job: u64) -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    root.join(format!("edit-{stamp}-job{job}"))
}

/// A client for the configured endpoint and key, or why there is none.
pub fn make_client() -> Result<Client, RunwareError> {
    let (key, _) = crate::runware::ApiKey::configured().ok_or(RunwareError::NoKey)?;
    Client::new(ClientConfig::from_env(), key)
}

/// A thumbnail texture (at most 256 px on its long side).
pub fn thumbnail(ctx: &egui::Context, name: &str, image: &RgbaImage) -> egui::TextureHandle {
    let small = crate::imageio::fit_within(image, 256);
    let color = egui::ColorImage::from_rgba_unmultiplied(
        [small.width() as usize, small.height() as usize],
        small.as_raw(),
    );
    ctx.load_texture(name, color, egui::TextureOptions::LINEAR)
}
