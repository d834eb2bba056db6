//! File pickers: which file the designer is asked for, and the native dialog awaited on the
//! runtime so the window keeps drawing meanwhile. The answer comes back as `Msg::Picked`.

use std::path::{Path, PathBuf};

use super::work::{Msg, Worker};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogKind {
    OpenImage,
    LoadMask,
    SaveMask,
    SaveResult,
    SaveKept,
    ExportComparison,
    ImportRequest,
    StyleReference,
    CharacterReference,
    CharacterMask,
}

impl DialogKind {
    /// Asks for a folder rather than a file.
    pub fn picks_folder(self) -> bool {
        self == DialogKind::SaveKept
    }

    /// Asks for a new file name rather than an existing file.
    pub fn saves(self) -> bool {
        matches!(
            self,
            DialogKind::SaveMask | DialogKind::SaveResult | DialogKind::ExportComparison
        )
    }
}

/// The file name shown for a path (its last component).
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Opens the native dialog for `kind`; `photo_name` names the suggested mask file.
pub(crate) fn pick(
    worker: &Worker,
    kind: DialogKind,
    last_dir: Option<&PathBuf>,
    photo_name: Option<&str>,
) {
    let mut dialog = rfd::AsyncFileDialog::new();
    if let Some(dir) = last_dir {
        dialog = dialog.set_directory(dir);
    }
    let dialog = match kind {
        DialogKind::OpenImage => dialog.set_title("Open image").add_filter(
            "Images",
            &["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"],
        ),
        DialogKind::LoadMask => dialog
            .set_title("Load mask")
            .add_filter("Masks", &["png", "jpg", "jpeg", "webp"]),
        DialogKind::SaveResult => dialog
            .set_title("Save the selected result")
            .add_filter("PNG (lossless)", &["png"])
            .add_filter("JPEG", &["jpg", "jpeg"])
            .add_filter("WebP", &["webp"])
            .set_file_name("result.png"),
        DialogKind::SaveKept => dialog.set_title("Save kept results into a folder"),
        DialogKind::ExportComparison => dialog
            .set_title("Export a before/after comparison")
            .add_filter("PNG", &["png"])
            .set_file_name("before-after.png"),
        DialogKind::ImportRequest => dialog
            .set_title("Import a Runware task")
            .add_filter("JSON", &["json"]),
        DialogKind::StyleReference | DialogKind::CharacterReference | DialogKind::CharacterMask => {
            dialog
                .set_title("Choose a reference image")
                .add_filter("Images", &["jpg", "jpeg", "png", "webp"])
        }
        DialogKind::SaveMask => {
            let stem = photo_name
                .and_then(|n| Path::new(n).file_stem())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "image".into());
            dialog
                .set_title("Save mask")
                .add_filter("PNG", &["png"])
                .set_file_name(format!("{stem}-mask.png"))
        }
    };
    worker.task(async move {
        let picked = if kind.picks_folder() {
            dialog.pick_folder().await
        } else if kind.saves() {
            dialog.save_file().await
        } else {
            dialog.pick_file().await
        };
        Msg::Picked(kind, picked.map(|h| h.path().to_path_buf()))
    });
}
