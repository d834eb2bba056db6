//! File pickers: which file the designer is asked for, the native dialog awaited on the
//! runtime so the window keeps drawing meanwhile (its answer comes back as `Msg::Picked`), and
//! touchup's own file browser where no native dialog can open (a bare Linux desktop without an
//! XDG portal or zenity): the native dialog then answers at once with nothing, which no person
//! could do, and the browser takes over, for this and every later pick.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// How a native dialog ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picked {
    Chosen(PathBuf),
    Cancelled,
    /// It answered before anyone could have seen it: there is no native dialog here.
    Unavailable,
}

/// Faster than this, a "cancel" came from the system, not from a person.
const NO_DIALOG_WITHIN: Duration = Duration::from_millis(300);

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
        let asked = Instant::now();
        let picked = if kind.picks_folder() {
            dialog.pick_folder().await
        } else if kind.saves() {
            dialog.save_file().await
        } else {
            dialog.pick_file().await
        };
        Msg::Picked(
            kind,
            match picked {
                Some(h) => Picked::Chosen(h.path().to_path_buf()),
                None if asked.elapsed() < NO_DIALOG_WITHIN => Picked::Unavailable,
                None => Picked::Cancelled,
            },
        )
    });
}

/// Where files are picked: the native dialog, or touchup's own browser once the native one
/// could not open (or when `TOUCHUP_FILE_DIALOG=builtin`).
pub struct FilePicker {
    builtin: bool,
    open: Option<(DialogKind, egui_file::FileDialog)>,
}

impl Default for FilePicker {
    fn default() -> Self {
        Self {
            builtin: std::env::var("TOUCHUP_FILE_DIALOG").is_ok_and(|v| v == "builtin"),
            open: None,
        }
    }
}

impl FilePicker {
    /// Uses the built-in browser from now on (the native dialog could not open).
    pub fn use_builtin(&mut self) {
        self.builtin = true;
    }

    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    /// The built-in browser is open.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Asks for a file for `kind`: in the built-in browser when it is in use, else natively.
    pub(crate) fn ask(
        &mut self,
        worker: &Worker,
        kind: DialogKind,
        last_dir: Option<&PathBuf>,
        photo_name: Option<&str>,
    ) {
        if self.builtin {
            self.browse(kind, last_dir, photo_name);
        } else {
            pick(worker, kind, last_dir, photo_name);
        }
    }

    /// Opens the built-in browser for `kind`.
    pub fn browse(
        &mut self,
        kind: DialogKind,
        last_dir: Option<&PathBuf>,
        photo_name: Option<&str>,
    ) {
        let mut dialog = if kind.picks_folder() {
            egui_file::FileDialog::select_folder()
        } else if kind.saves() {
            egui_file::FileDialog::save_file()
        } else {
            egui_file::FileDialog::open_file()
        };
        let start = last_dir
            .cloned()
            .or_else(|| directories::UserDirs::new().map(|d| d.home_dir().to_path_buf()));
        if let Some(dir) = start {
            dialog = dialog.initial_path(dir);
        }
        let (title, name) = match kind {
            DialogKind::OpenImage => ("Open image", None),
            DialogKind::LoadMask => ("Load mask", None),
            DialogKind::SaveMask => {
                let stem = photo_name
                    .and_then(|n| Path::new(n).file_stem())
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "image".into());
                ("Save mask", Some(format!("{stem}-mask.png")))
            }
            DialogKind::SaveResult => ("Save the selected result", Some("result.png".into())),
            DialogKind::SaveKept => ("Save kept results into a folder", None),
            DialogKind::ExportComparison => (
                "Export a before/after comparison",
                Some("before-after.png".into()),
            ),
            DialogKind::ImportRequest => ("Import a Runware task", None),
            DialogKind::StyleReference
            | DialogKind::CharacterReference
            | DialogKind::CharacterMask => ("Choose a reference image", None),
        };
        dialog = dialog
            .title(title)
            .id(egui::Id::unique("touchup-file-browser"));
        if let Some(name) = name {
            dialog = dialog.default_filename(name);
        }
        dialog.open();
        self.open = Some((kind, dialog));
    }

    /// Draws the built-in browser while it is open; the chosen file when one was confirmed.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<(DialogKind, PathBuf)> {
        let (kind, dialog) = self.open.as_mut()?;
        let kind = *kind;
        dialog.show(ctx);
        match dialog.state() {
            egui_file::State::Open => None,
            egui_file::State::Selected => {
                let path = dialog.path().map(Path::to_path_buf);
                self.open = None;
                path.map(|p| (kind, p))
            }
            egui_file::State::Cancelled | egui_file::State::Closed => {
                self.open = None;
                None
            }
        }
    }
}
