//! What the designer set, kept between runs by eframe's storage (never secrets, never pictures).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::edit::EditRequest;
use crate::mask::{Polarity, WandOptions};

/// The key the settings are stored under.
pub(crate) const SETTINGS_KEY: &str = "touchup-settings";
pub(crate) const MIB: u64 = 1024 * 1024;
/// The smallest history budget the setting offers.
pub(crate) const MIN_HISTORY_BUDGET_MIB: u64 = 1;

/// What the user set, kept between runs (never secrets, never pictures).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub overlay_color: [u8; 3],
    pub overlay_opacity: f32,
    pub show_mask: bool,
    pub polarity: Polarity,
    pub brush_size: f32,
    pub brush_hardness: f32,
    pub last_dir: Option<PathBuf>,
    /// Magic wand tolerance (OKLab ΔE x100).
    pub wand_tolerance: f32,
    /// Pixels for Grow / Shrink, and the feather radius.
    pub grow_px: u32,
    pub feather_px: f32,
    /// Pixels the Text tool adds around each text line it marks.
    pub text_margin: f32,
    /// How many edit jobs run at the same time.
    pub job_concurrency: usize,
    /// Prompt and options of the edit form (images are never persisted).
    pub edit: EditRequest,
    /// Where results are saved; `None`: the data directory's `results/`.
    pub output_root: Option<PathBuf>,
    /// Which engine edits; `None` until the user picks: Runware with a key, else local.
    pub backend: Option<Backend>,
    /// The local engine's fill method.
    pub local_fill: crate::local::FillMethod,
    /// Keep outside pixels (composite through the feathered mask) and the check's threshold.
    pub compare: crate::compare::CompareSettings,
    /// The history's size budget in MiB: the oldest edits are removed beyond it.
    pub history_budget_mib: u64,
    /// What an edit sends: the area around the mask (and its context) or the whole photo.
    pub area: crate::edit::AreaSettings,
    /// Correct each result's colour drift at the mask's edge ("Match colours at the edge").
    pub colour_match: bool,
}

/// Which engine carries out an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    Runware,
    Local,
}

impl Backend {
    /// The engine as the core's job queue (and a kept job) names it.
    pub fn engine(self) -> crate::jobs::Engine {
        match self {
            Backend::Runware => crate::jobs::Engine::Runware,
            Backend::Local => crate::jobs::Engine::Local,
        }
    }

    pub fn from_engine(engine: crate::jobs::Engine) -> Self {
        match engine {
            crate::jobs::Engine::Runware => Backend::Runware,
            crate::jobs::Engine::Local => Backend::Local,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Backend::Runware => "Runware (Ideogram 3.0 Edit)",
            Backend::Local => "Local (offline)",
        }
    }
}

impl Settings {
    /// Where a job's results go: the folder the user picked, else the data directory's.
    pub fn results_root(&self) -> PathBuf {
        self.output_root
            .clone()
            .unwrap_or_else(super::edit_panel::submit::default_output_root)
    }

    /// The local engine's options as set.
    pub fn local_options(&self) -> crate::local::LocalOptions {
        crate::local::LocalOptions {
            fill: self.local_fill,
            ..Default::default()
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            overlay_color: [255, 40, 90],
            overlay_opacity: 0.5,
            show_mask: true,
            polarity: Polarity::WhiteEdits,
            brush_size: 40.0,
            brush_hardness: 0.8,
            last_dir: None,
            wand_tolerance: WandOptions::default().tolerance,
            grow_px: 8,
            feather_px: 4.0,
            text_margin: 4.0,
            job_concurrency: 2,
            edit: EditRequest::default(),
            output_root: None,
            backend: None,
            local_fill: crate::local::FillMethod::Auto,
            compare: crate::compare::CompareSettings::default(),
            history_budget_mib: crate::session::DEFAULT_BUDGET_BYTES / MIB,
            area: crate::edit::AreaSettings::default(),
            colour_match: true,
        }
    }
}
