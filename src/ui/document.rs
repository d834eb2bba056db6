//! The open photo and its mask editor: opening (file, drop, paste), loading and saving the mask,
//! every mask change (each sends only its changed rectangle to the GPU), and whether the mask
//! holds work that was never saved or copied.

use std::path::PathBuf;
use std::sync::Arc;

use egui::Vec2;
use image::RgbaImage;

use super::canvas::textures::{CanvasTextures, export_preview};
use super::files::display_name;
use super::status::StatusLine;
use super::work::{Msg, Worker};
use crate::mask::{DirtyRect, Mask, MaskEditor, Polarity};

/// A mask change taking longer than this leaves its overlay upload to the following frames.
const HEAVY_EDIT: std::time::Duration = std::time::Duration::from_millis(4);

/// The open photo and its mask.
pub struct Document {
    pub image: Arc<RgbaImage>,
    pub name: String,
    pub path: Option<PathBuf>,
    pub editor: MaskEditor,
    /// The edit area the designer moved or resized on the canvas (`None`: it follows the mask).
    pub frame: Option<crate::edit::EditArea>,
    /// The answer to "the mask's groups lie far apart", for the mask generation it was given
    /// for.
    pub split_answer: Option<(u64, SplitAnswer)>,
    /// The photo was cut short or damaged and opened anyway: what is missing.
    pub damage: Option<String>,
    /// The text lines found in the photo by the Text tool (searched on its first use).
    pub text: TextScan,
    /// What the re-lettering measures of each line found, in words (by the line's index).
    pub text_styles: Vec<Option<String>>,
    /// The Object tool's encoding of the photo and its pending selection.
    pub object: super::object_tool::ObjectState,
}

/// The Text tool's search of the photo's text lines.
#[derive(Debug, Clone, Default)]
pub enum TextScan {
    /// Not searched yet (the Text tool searches on its first use).
    #[default]
    NotStarted,
    /// The search runs in the background.
    Finding,
    /// The lines found, in reading order (may be none).
    Found(Arc<Vec<crate::text::TextLine>>),
    /// Why the text could not be read.
    Failed(String),
}

impl TextScan {
    /// The lines found so far (none until the search is done).
    pub fn lines(&self) -> &[crate::text::TextLine] {
        match self {
            TextScan::Found(lines) => lines,
            _ => &[],
        }
    }
}

impl Document {
    pub fn new(image: RgbaImage, name: String, path: Option<PathBuf>) -> Self {
        let editor = MaskEditor::new(image.width(), image.height());
        Self {
            image: Arc::new(image),
            name,
            path,
            editor,
            frame: None,
            split_answer: None,
            damage: None,
            text: TextScan::NotStarted,
            text_styles: Vec::new(),
            object: Default::default(),
        }
    }

    /// The demo storefront the editor starts on.
    pub fn demo() -> Self {
        Self::new(crate::demo::image(), "demo-storefront.png".into(), None)
    }

    pub fn size(&self) -> Vec2 {
        Vec2::new(self.image.width() as f32, self.image.height() as f32)
    }
}

/// What the designer chose when the mask's groups lie too far apart for one area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitAnswer {
    /// One job per group, each its own area.
    PerGroup,
    /// The whole photo, downscaled.
    Whole,
    /// One area holding every group (downscaled as far as it must).
    OneArea,
}

/// The document part of the app: the photo, its GPU textures and the state of its mask.
#[derive(Default)]
pub struct DocumentState {
    doc: Option<Document>,
    /// The photo and overlay on the GPU (made by the first frame that draws them).
    pub textures: Option<CanvasTextures>,
    /// The export preview texture, keyed by mask generation and polarity.
    preview: Option<(egui::TextureHandle, u64)>,
    /// Bumped on every mask change (and when another photo opens).
    pub generation: u64,
    /// The mask generation last written out (saved or copied): later changes are unsaved work.
    exported_generation: u64,
    /// A newly opened photo waiting for the user to confirm discarding the current mask.
    pub replace_pending: Option<Document>,
    /// A cut-short or damaged photo waiting for the user to agree to open it anyway.
    pub damaged_pending: Option<DamagedPhoto>,
    /// The edit area planned for the mask: ((photo generation, mask version), settings, plan).
    area_plan: std::cell::RefCell<Option<AreaCache>>,
}

/// An edit area planned for one mask generation and area setting.
type AreaCache = (
    (u64, u64),
    crate::edit::AreaSettings,
    Result<crate::edit::AreaPlan, crate::edit::AreaError>,
);

/// A photo that is cut short or damaged: refused until the designer agrees to a warning that
/// says what is missing.
pub struct DamagedPhoto {
    pub name: String,
    /// "photo.jpg is truncated: about 60 % of it is missing".
    pub what: String,
    source: DamagedSource,
}

enum DamagedSource {
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// A photo decoded off the UI thread.
pub(crate) struct OpenedPhoto {
    pub image: RgbaImage,
    pub name: String,
    pub path: Option<PathBuf>,
    /// Opened anyway although damaged: what is missing.
    pub damage: Option<String>,
}

/// What opening a photo gave: the photo, a damaged photo to ask about, or why it failed.
pub(crate) enum OpenOutcome {
    Opened(OpenedPhoto),
    Damaged(DamagedPhoto),
    Failed(String),
}

impl DocumentState {
    /// The edit area: the frame the designer placed, else the plan for the current mask under
    /// `settings` (computed once per mask change; a stroke under way keeps the last plan).
    pub fn edit_area(
        &self,
        settings: &crate::edit::AreaSettings,
    ) -> Option<Result<crate::edit::AreaPlan, crate::edit::AreaError>> {
        let doc = self.doc.as_ref()?;
        if let Some(frame) = doc.frame {
            return Some(Ok(crate::edit::AreaPlan {
                area: frame,
                groups: Vec::new(),
                split_advised: false,
            }));
        }
        // Keyed by the photo's generation and the mask history's version: every change of the
        // mask goes through its history.
        let key = (self.generation, doc.editor.history().version());
        let mut cache = self.area_plan.borrow_mut();
        let fresh = cache
            .as_ref()
            .is_some_and(|(k, s, _)| *s == *settings && (*k == key || doc.editor.is_stroking()));
        if !fresh {
            let plan = crate::edit::plan(doc.editor.mask(), settings);
            *cache = Some((key, *settings, plan));
        }
        cache.as_ref().map(|(_, _, p)| p.clone())
    }

    pub fn current(&self) -> Option<&Document> {
        self.doc.as_ref()
    }

    pub fn current_mut(&mut self) -> Option<&mut Document> {
        self.doc.as_mut()
    }

    /// Makes `doc` the open photo. (What is sent is encoded at submission: the edit area's
    /// crop, never the whole photo.)
    pub(crate) fn set(&mut self, _worker: &Worker, doc: Document) {
        self.doc = Some(doc);
        self.exported_generation = self.generation + 1;
        self.textures = None;
        self.preview = None;
        self.generation += 1;
    }

    /// A photo arrived (opened, pasted, dropped): shown at once, or held while the user is asked
    /// about an unsaved mask. `true` when it was shown.
    pub(crate) fn offer(&mut self, worker: &Worker, doc: Document) -> bool {
        if self.has_unsaved_mask() {
            self.replace_pending = Some(doc);
            false
        } else {
            self.set(worker, doc);
            true
        }
    }

    /// Runs a mask change and sends the changed rectangle to the GPU.
    pub fn edit_mask(&mut self, f: impl FnOnce(&mut MaskEditor) -> Option<DirtyRect>) {
        let Some(doc) = &mut self.doc else { return };
        let started = std::time::Instant::now();
        if let Some(rect) = f(&mut doc.editor) {
            if let Some(tex) = &mut self.textures {
                // A one-off change (not a dab of a stroke, whose overlay must keep up) that took a
                // good part of the frame sends its overlay from the next frame on.
                if started.elapsed() > HEAVY_EDIT && !doc.editor.is_stroking() {
                    tex.defer_overlay(rect);
                } else {
                    tex.update_overlay(doc.editor.mask(), rect);
                }
            }
            self.generation += 1;
        }
    }

    /// Is there a painted mask that was changed since it was last saved or copied?
    pub fn has_unsaved_mask(&mut self) -> bool {
        if self.generation == self.exported_generation {
            return false;
        }
        // A stroke under way is an unsaved change; otherwise the count, which the mask's
        // history keeps (no scan of a 67-megapixel mask every frame).
        self.doc.as_ref().is_some_and(|d| d.editor.is_stroking()) || self.marked_pixels() > 0
    }

    /// The mask as of `generation` was saved or copied.
    pub fn mark_exported(&mut self, generation: u64) {
        self.exported_generation = generation;
    }

    /// The mask counts as unsaved work (recovered marks were never saved).
    pub fn mark_unsaved(&mut self) {
        self.exported_generation = self.generation.wrapping_sub(1);
    }

    /// How many pixels the current mask marks, as of its last finished change (kept by the
    /// mask's history: no scan per frame).
    pub fn marked_pixels(&mut self) -> usize {
        self.doc.as_mut().map_or(0, |d| d.editor.marked_pixels())
    }

    /// The export of the current mask as a data URI.
    pub fn mask_data_uri(&self, polarity: Polarity) -> Option<String> {
        let doc = self.doc.as_ref()?;
        crate::mask::export_data_uri(doc.editor.mask(), polarity).ok()
    }

    /// Sends more of a large overlay change that did not fit in earlier frames; asks for another
    /// frame while some is left.
    pub fn send_pending_overlay(&mut self, ctx: &egui::Context) {
        if let (Some(tex), Some(doc)) = (&mut self.textures, &self.doc)
            && tex.has_pending()
            && tex.send_pending(doc.editor.mask())
        {
            ctx.request_repaint();
        }
    }

    /// Bytes of overlay texture sent to the GPU during the last frame.
    pub fn overlay_frame_bytes(&self) -> u64 {
        self.textures.as_ref().map_or(0, |t| t.frame_bytes)
    }

    /// Bytes of overlay texture sent to the GPU since the photo was opened (after the first
    /// full upload).
    pub fn overlay_total_bytes(&self) -> u64 {
        self.textures.as_ref().map_or(0, |t| t.overlay_bytes)
    }

    /// Makes the photo and overlay textures if this frame is the first to need them.
    pub fn ensure_textures(&mut self, ctx: &egui::Context) {
        if let (None, Some(doc)) = (&self.textures, &self.doc) {
            let max_side = ctx.input(|i| i.max_texture_side).max(1);
            self.textures = Some(CanvasTextures::new(
                ctx,
                &doc.image,
                doc.editor.mask(),
                max_side,
            ));
        }
    }

    /// Puts a photo back with its mask (a fresh undo history).
    pub(crate) fn restore(&mut self, worker: &Worker, mut doc: Document, mask: Mask) {
        doc.editor.replace("Restore", mask);
        doc.editor.history_mut().clear();
        self.set(worker, doc);
    }

    /// The small picture of exactly what will be sent, rebuilt only after a change and never in
    /// the middle of a stroke.
    pub fn export_preview_ui(&mut self, ui: &mut egui::Ui, polarity: Polarity) {
        let Some(doc) = &self.doc else { return };
        let key = self.generation * 2 + u64::from(polarity == Polarity::BlackEdits);
        let stale = self.preview.as_ref().is_none_or(|(_, k)| *k != key);
        if stale && !doc.editor.is_stroking() {
            let img = export_preview(doc.editor.mask(), polarity, 192);
            let tex = ui
                .ctx()
                .load_texture("export-preview", img, egui::TextureOptions::NEAREST);
            self.preview = Some((tex, key));
        }
        if let Some((tex, _)) = &self.preview {
            let size = tex.size_vec2();
            ui.add(
                egui::Image::new((tex.id(), size))
                    .alt_text("Preview of the mask that will be sent"),
            )
            .on_hover_text(
                "Exactly what will be sent: thresholded at 50 %, in the chosen polarity",
            );
        }
    }
}

/// Decodes a file off the UI thread; the current photo stays until the new one is ready. A
/// damaged file is held for the designer's answer (see [`open_damaged`]).
pub(crate) fn open_path(worker: &Worker, status: &mut StatusLine, path: PathBuf) {
    let name = display_name(&path);
    status.busy(format!("Opening {name}…"));
    worker.thread(move || {
        Msg::Opened(match crate::imageio::open(&path) {
            Ok(image) => OpenOutcome::Opened(OpenedPhoto {
                image,
                name,
                path: Some(path),
                damage: None,
            }),
            Err(e) if e.damage().is_some() => OpenOutcome::Damaged(DamagedPhoto {
                what: e.to_string(),
                name,
                source: DamagedSource::File(path),
            }),
            Err(e) => {
                OpenOutcome::Failed(format!("{e}. The current image and mask are unchanged."))
            }
        })
    });
}

/// Decodes picture bytes (a paste or a drop without a path) off the UI thread.
pub(crate) fn open_bytes(worker: &Worker, status: &mut StatusLine, bytes: Vec<u8>, name: String) {
    status.busy(format!("Opening {name}…"));
    worker.thread(move || {
        Msg::Opened(match crate::imageio::decode(&bytes) {
            Ok(image) => OpenOutcome::Opened(OpenedPhoto {
                image,
                name,
                path: None,
                damage: None,
            }),
            Err(e) if e.damage().is_some() => OpenOutcome::Damaged(DamagedPhoto {
                what: format!("{name} is {e}"),
                name,
                source: DamagedSource::Bytes(bytes),
            }),
            Err(e) => OpenOutcome::Failed(format!(
                "could not open {name}: {e}. The current image and mask are unchanged."
            )),
        })
    });
}

/// The designer agreed to open a damaged photo: decoded as far as it goes, off the UI thread.
pub(crate) fn open_damaged(worker: &Worker, status: &mut StatusLine, photo: DamagedPhoto) {
    let DamagedPhoto { name, what, source } = photo;
    status.busy(format!("Opening {name} anyway…"));
    worker.thread(move || {
        let (image, path) = match source {
            DamagedSource::File(path) => (
                crate::imageio::open_anyway(&path).map_err(|e| e.to_string()),
                Some(path),
            ),
            DamagedSource::Bytes(bytes) => (
                crate::imageio::decode_anyway(&bytes)
                    .map_err(|e| format!("could not open {name}: {e}")),
                None,
            ),
        };
        Msg::Opened(match image {
            Ok(image) => OpenOutcome::Opened(OpenedPhoto {
                image,
                name,
                path,
                damage: Some(what),
            }),
            Err(e) => OpenOutcome::Failed(format!(
                "{e}; it cannot be opened even as far as it goes. The current image and mask \
                 are unchanged."
            )),
        })
    });
}

/// Reads an image from the clipboard off the UI thread.
pub(crate) fn paste(worker: &Worker, status: &mut StatusLine) {
    status.busy("Reading the clipboard…");
    worker.thread(|| {
        Msg::Pasted(
            arboard::Clipboard::new()
                .and_then(|mut c| c.get_image())
                .map_err(|e| format!("There is no image on the clipboard to paste ({e})."))
                .and_then(|img| {
                    let (w, h) = (img.width as u32, img.height as u32);
                    if w > crate::imageio::MAX_SIDE || h > crate::imageio::MAX_SIDE {
                        return Err(format!(
                            "The pasted image is {w}x{h}; the largest touchup opens is {0}x{0}.",
                            crate::imageio::MAX_SIDE
                        ));
                    }
                    RgbaImage::from_raw(w, h, img.bytes.into_owned())
                        .ok_or_else(|| "The clipboard image is damaged.".to_string())
                }),
        )
    });
}

impl DocumentState {
    /// Loads a mask file of the current photo's size (off the UI thread).
    pub(crate) fn load_mask(
        &self,
        worker: &Worker,
        status: &mut StatusLine,
        path: PathBuf,
        polarity: Polarity,
    ) {
        let Some(doc) = &self.doc else { return };
        let (w, h) = (doc.image.width(), doc.image.height());
        let name = display_name(&path);
        status.busy(format!("Loading mask {name}…"));
        worker.thread(move || {
            Msg::MaskLoaded(
                crate::imageio::read_file(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| {
                        crate::mask::import_mask(&bytes, w, h, polarity)
                            .map_err(|e| format!("could not load mask {name}: {e}"))
                    })
                    .map(|m| (m, name)),
            )
        });
    }

    /// Writes the exported mask PNG (off the UI thread).
    pub(crate) fn save_mask(
        &self,
        worker: &Worker,
        status: &mut StatusLine,
        path: PathBuf,
        polarity: Polarity,
    ) {
        let Some(doc) = &self.doc else { return };
        let png = match crate::mask::export_png(doc.editor.mask(), polarity) {
            Ok(png) => png,
            Err(e) => return status.error(e.to_string()),
        };
        let generation = self.generation;
        status.busy("Saving the mask…");
        worker.thread(move || {
            Msg::MaskSaved(
                std::fs::write(&path, png)
                    .map(|()| (path.clone(), generation))
                    .map_err(|e| format!("could not save the mask to {}: {e}", path.display())),
            )
        });
    }
}
