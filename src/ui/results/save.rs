//! Saving results from the editor: the selected result, the kept ones into a folder, or a
//! labelled before/after sheet, written off the UI thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbaImage;

use super::Results;
use crate::ui::files::DialogKind;
use crate::ui::status::StatusLine;
use crate::ui::work::{Msg, Worker};

/// Lossless PNG unless the name asks for another format.
fn write(path: &Path, img: &RgbaImage) -> Result<(), String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let format = match ext.as_str() {
        "jpg" | "jpeg" => crate::imageio::Format::Jpg,
        "webp" => crate::imageio::Format::Webp,
        _ => crate::imageio::Format::Png,
    };
    let bytes = crate::imageio::encode(img, format, 95).map_err(|e| e.to_string())?;
    std::fs::write(path, bytes).map_err(|e| format!("could not write {}: {e}", path.display()))
}

/// Writes the selected result, the kept results, or a before/after sheet of every result not
/// discarded, compared with `original`.
pub(crate) fn save_results(
    results: &Results,
    worker: &Worker,
    status: &mut StatusLine,
    original: Arc<RgbaImage>,
    kind: DialogKind,
    path: PathBuf,
) {
    let selected = results.selected.unwrap_or(0);
    let entries = &results.entries;
    let images: Vec<(usize, Arc<RgbaImage>)> = match kind {
        DialogKind::SaveResult => entries
            .get(selected)
            .map(|r| vec![(r.index, r.shown.clone())])
            .unwrap_or_default(),
        DialogKind::SaveKept => entries
            .iter()
            .filter(|r| r.kept)
            .map(|r| (r.index, r.shown.clone()))
            .collect(),
        _ => entries
            .iter()
            .filter(|r| !r.discarded)
            .map(|r| (r.index, r.shown.clone()))
            .collect(),
    };
    if images.is_empty() {
        return status.error("There is no result to save.");
    }
    status.busy("Saving…");
    worker.thread(move || {
        let result = match kind {
            DialogKind::SaveKept => images
                .iter()
                .try_for_each(|(i, img)| write(&path.join(format!("kept-result-{i}.png")), img)),
            DialogKind::ExportComparison => {
                let refs: Vec<&RgbaImage> = images.iter().map(|(_, i)| i.as_ref()).collect();
                crate::compare::comparison_sheet(
                    &original,
                    &refs,
                    &crate::compare::SheetOptions::default(),
                )
                .map_err(|e| e.to_string())
                .and_then(|sheet| write(&path, &sheet.image))
            }
            _ => write(&path, &images[0].1),
        };
        Msg::SavedFile(result.map(|()| path))
    });
}
