//! The edit area: the part of the photo an edit sends. Around the mask (the default) it is a
//! rectangle holding every marked pixel plus context on each side, widened to the aspect ratio
//! of the nearest size Ideogram 3.0 works at, clamped to the photo, and sent at the photo's own
//! resolution when it fits in [`RUNWARE_MAX_SIDE`] (downscaled only as far as it must
//! otherwise). For the whole photo it is the photo, downscaled to fit.
//!
//! A small area is *not* enlarged toward the model's 1K sizes: the model returns its own size
//! whatever it is sent, and every result is fitted back to the area anyway, so enlarging would
//! only add upload bytes and one more resampling of the photo's own pixels.

use image::RgbaImage;
use image::imageops::FilterType;
use serde::{Deserialize, Serialize};

use super::RUNWARE_MAX_SIDE;
use crate::mask::{DirtyRect, Mask, THRESHOLD};

/// The 1K sizes Ideogram 3.0 generates at, landscape and square (each also comes transposed),
/// as listed under "Compatibility & Validation" on Runware's model page for Ideogram 3.0
/// (runware.ai/docs/models/ideogram-3-0, the "1K (3:1) 1536x512 ... 1K (1:1) 1024x1024" table).
/// Only their aspect ratios are used: an area is widened to the nearest one.
pub const IDEOGRAM_SIZES: &[(u32, u32)] = &[
    (1536, 512),
    (1536, 576),
    (1472, 576),
    (1408, 576),
    (1536, 640),
    (1472, 640),
    (1408, 640),
    (1344, 640),
    (1472, 704),
    (1408, 704),
    (1344, 704),
    (1280, 704),
    (1312, 736),
    (1344, 768),
    (1216, 704),
    (1280, 768),
    (1152, 704),
    (1280, 800),
    (1216, 768),
    (1248, 832),
    (1216, 832),
    (1088, 768),
    (1152, 864),
    (1152, 832),
    (1152, 896),
    (1120, 896),
    (1088, 832),
    (1088, 896),
    (1088, 960),
    (1024, 832),
    (1024, 896),
    (1024, 960),
    (960, 832),
    (960, 896),
    (1024, 1024),
];

/// The least context on each side of the mask, in photo pixels.
pub const MIN_CONTEXT_PX: u32 = 128;

/// The largest context a designer can ask for.
pub const MAX_CONTEXT_PX: u32 = 4096;

/// What an edit sends: the area around the mask or the whole photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AreaMode {
    /// A crop around the mask at the photo's resolution.
    #[default]
    Mask,
    /// The whole photo, downscaled to [`RUNWARE_MAX_SIDE`].
    Whole,
}

impl AreaMode {
    pub fn label(self) -> &'static str {
        match self {
            AreaMode::Mask => "Around the mask",
            AreaMode::Whole => "Whole photo",
        }
    }
}

/// The designer's choice of area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AreaSettings {
    pub mode: AreaMode,
    /// Context on each side of the mask in photo pixels; `None`: a quarter of the masked box's
    /// longer side, at least [`MIN_CONTEXT_PX`].
    pub context: Option<u32>,
}

/// A rectangle of the photo and the size it is sent at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditArea {
    /// Left edge, photo pixels.
    pub x: u32,
    /// Top edge, photo pixels.
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// The size sent (equal to `width` x `height` at native resolution).
    pub sent_width: u32,
    pub sent_height: u32,
}

/// Why no area could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaError {
    #[error("the mask marks nothing: paint over the part to change first")]
    EmptyMask,
    #[error("the mask is {mask_width}x{mask_height} but the photo is {width}x{height}")]
    SizeMismatch {
        mask_width: u32,
        mask_height: u32,
        width: u32,
        height: u32,
    },
    #[error("the edit area {0} lies outside the {1}x{2} photo")]
    Outside(String, u32, u32),
    #[error("the photo is empty")]
    EmptyPhoto,
}

/// The largest size that keeps `w` x `h`'s aspect within `max_side` (unchanged when it fits).
pub fn fit_within_side(w: u32, h: u32, max_side: u32) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= max_side {
        return (w, h);
    }
    let scale = f64::from(max_side) / f64::from(longest);
    let sw = ((f64::from(w) * scale).round() as u32).clamp(1, max_side);
    let sh = ((f64::from(h) * scale).round() as u32).clamp(1, max_side);
    (sw, sh)
}

/// The aspect ratio (width / height) of the Ideogram size nearest to `aspect`, measured on a
/// log scale (so 2:1 and 1:2 are equally far from 1:1).
pub fn nearest_model_aspect(aspect: f64) -> f64 {
    let target = aspect.max(1e-6).ln();
    let mut best = 1.0;
    let mut best_d = f64::INFINITY;
    for &(w, h) in IDEOGRAM_SIZES {
        for (a, b) in [(w, h), (h, w)] {
            let r = f64::from(a) / f64::from(b);
            let d = (r.ln() - target).abs();
            if d < best_d {
                best_d = d;
                best = r;
            }
        }
    }
    best
}

/// The context the area adds on each side of a `bw` x `bh` masked box.
pub fn default_context(bw: u32, bh: u32) -> u32 {
    (bw.max(bh) / 4).max(MIN_CONTEXT_PX)
}

/// A span of `len` centred on `centre`, moved inside `0..limit` (and cut to `limit`).
fn place(centre: f64, len: u32, limit: u32) -> (u32, u32) {
    let len = len.clamp(1, limit.max(1));
    let start = (centre - f64::from(len) / 2.0).round();
    let start = start.clamp(0.0, f64::from(limit - len)) as u32;
    (start, len)
}

impl EditArea {
    /// The whole `width` x `height` photo, sent downscaled to fit [`RUNWARE_MAX_SIDE`].
    pub fn whole(width: u32, height: u32) -> EditArea {
        let (sent_width, sent_height) = fit_within_side(width, height, RUNWARE_MAX_SIDE);
        EditArea {
            x: 0,
            y: 0,
            width,
            height,
            sent_width,
            sent_height,
        }
    }

    /// The area around `marked` (the masked box) in a `width` x `height` photo: `context`
    /// pixels on each side (`None`: [`default_context`]), widened to the nearest Ideogram
    /// aspect ratio, clamped to the photo.
    pub fn around(marked: DirtyRect, width: u32, height: u32, context: Option<u32>) -> EditArea {
        let (bw, bh) = (marked.width().max(1), marked.height().max(1));
        let c = context
            .unwrap_or_else(|| default_context(bw, bh))
            .min(MAX_CONTEXT_PX);
        let mut w = (bw + 2 * c).min(width);
        let mut h = (bh + 2 * c).min(height);
        let aspect = nearest_model_aspect(f64::from(w) / f64::from(h));
        // Widen (never narrow) the short side to the model's aspect, within the photo.
        if f64::from(w) / f64::from(h) < aspect {
            w = ((f64::from(h) * aspect).round() as u32).min(width).max(w);
        } else {
            h = ((f64::from(w) / aspect).round() as u32).min(height).max(h);
        }
        let cx = f64::from(marked.x0 + marked.x1) / 2.0;
        let cy = f64::from(marked.y0 + marked.y1) / 2.0;
        let (x, w) = place(cx, w, width);
        let (y, h) = place(cy, h, height);
        Self::with_rect(x, y, w, h)
    }

    /// An area at `x, y` of `w` x `h` photo pixels (a frame the designer moved), sent at the
    /// largest scale that fits.
    pub fn with_rect(x: u32, y: u32, w: u32, h: u32) -> EditArea {
        let (sent_width, sent_height) = fit_within_side(w.max(1), h.max(1), RUNWARE_MAX_SIDE);
        EditArea {
            x,
            y,
            width: w.max(1),
            height: h.max(1),
            sent_width,
            sent_height,
        }
    }

    /// The area `settings` choose for `mask` (its size is the photo's).
    pub fn for_mask(mask: &Mask, settings: &AreaSettings) -> Result<EditArea, AreaError> {
        let (w, h) = mask.size();
        if w == 0 || h == 0 {
            return Err(AreaError::EmptyPhoto);
        }
        match settings.mode {
            AreaMode::Whole => Ok(EditArea::whole(w, h)),
            AreaMode::Mask => {
                let marked = mask.marked_bounds().ok_or(AreaError::EmptyMask)?;
                Ok(EditArea::around(marked, w, h, settings.context))
            }
        }
    }

    /// The rectangle in photo pixels.
    pub fn rect(&self) -> DirtyRect {
        DirtyRect::new(self.x, self.y, self.x + self.width, self.y + self.height)
    }

    /// Sent pixels per photo pixel (1.0 at native resolution).
    pub fn scale(&self) -> f64 {
        f64::from(self.sent_width) / f64::from(self.width.max(1))
    }

    /// Whether the area is the whole of a `width` x `height` photo.
    pub fn is_whole(&self, width: u32, height: u32) -> bool {
        self.x == 0 && self.y == 0 && self.width == width && self.height == height
    }

    /// "Sends 1216x832 around the mask, 100 %".
    pub fn label(&self, photo: (u32, u32)) -> String {
        let what = if self.is_whole(photo.0, photo.1) {
            "the whole photo"
        } else {
            "around the mask"
        };
        format!(
            "Sends {}x{} {what}, {:.0} %",
            self.sent_width,
            self.sent_height,
            self.scale() * 100.0
        )
    }

    /// Checks that the area lies inside a `width` x `height` photo.
    pub fn check(&self, width: u32, height: u32) -> Result<(), AreaError> {
        if width == 0 || height == 0 {
            return Err(AreaError::EmptyPhoto);
        }
        if self.width == 0
            || self.height == 0
            || self.x.saturating_add(self.width) > width
            || self.y.saturating_add(self.height) > height
        {
            return Err(AreaError::Outside(
                format!("{}x{} at {},{}", self.width, self.height, self.x, self.y),
                width,
                height,
            ));
        }
        Ok(())
    }

    /// The photo and mask as sent: cropped to the area and scaled to the sent size (the mask's
    /// coverage is filtered like the photo and thresholded again on export).
    pub fn crop(&self, photo: &RgbaImage, mask: &Mask) -> Result<(RgbaImage, Mask), AreaError> {
        let (w, h) = photo.dimensions();
        if mask.size() != (w, h) {
            return Err(AreaError::SizeMismatch {
                mask_width: mask.width(),
                mask_height: mask.height(),
                width: w,
                height: h,
            });
        }
        self.check(w, h)?;
        let photo_crop =
            image::imageops::crop_imm(photo, self.x, self.y, self.width, self.height).to_image();
        let mask_crop = crop_mask(mask, self.rect());
        if (self.sent_width, self.sent_height) == (self.width, self.height) {
            return Ok((photo_crop, mask_crop));
        }
        let (sw, sh) = (self.sent_width, self.sent_height);
        let filter = FilterType::Triangle;
        let small = image::imageops::resize(&photo_crop, sw, sh, filter);
        let coverage = image::GrayImage::from_raw(self.width, self.height, mask_crop.into_raw())
            .ok_or(AreaError::EmptyPhoto)?;
        let small_cov = image::imageops::resize(&coverage, sw, sh, filter);
        let small_mask =
            Mask::from_raw(sw, sh, small_cov.into_raw()).ok_or(AreaError::EmptyPhoto)?;
        Ok((small, small_mask))
    }

    /// How many marked pixels of `mask` lie outside the area.
    pub fn marked_outside(&self, mask: &Mask) -> usize {
        let r = self.rect();
        let mut n = 0;
        for y in 0..mask.height() {
            let row = mask.row(y);
            if y < r.y0 || y >= r.y1 {
                n += row.iter().filter(|&&c| c >= THRESHOLD).count();
            } else {
                n += row[..r.x0 as usize]
                    .iter()
                    .chain(&row[(r.x1 as usize).min(row.len())..])
                    .filter(|&&c| c >= THRESHOLD)
                    .count();
            }
        }
        n
    }
}

/// Why the pictures for an area could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Area(#[from] AreaError),
    #[error("could not encode the {what} to send: {detail}")]
    Encode { what: &'static str, detail: String },
}

/// `request` with its seed image and mask replaced by `area`'s crop of `photo` and `mask`
/// (PNG, the mask in `polarity`): what is sent, what "View request" and "Copy as cURL" show.
pub fn area_request(
    request: &super::EditRequest,
    photo: &RgbaImage,
    mask: &Mask,
    area: &EditArea,
    polarity: crate::mask::Polarity,
) -> Result<super::EditRequest, SendError> {
    let (seed, sent_mask) = area.crop(photo, mask)?;
    let seed_png =
        crate::imageio::encode(&seed, crate::imageio::Format::Png, 100).map_err(|e| {
            SendError::Encode {
                what: "photo",
                detail: e.to_string(),
            }
        })?;
    let mask_png =
        crate::mask::export_png(&sent_mask, polarity).map_err(|e| SendError::Encode {
            what: "mask",
            detail: e.to_string(),
        })?;
    let mut out = request.clone();
    out.seed_image = Some(super::ImageInput::bytes(seed_png));
    out.mask_image = Some(super::ImageInput::bytes(mask_png));
    Ok(out)
}

/// `mask` cut to `rect` (which must lie inside it).
pub fn crop_mask(mask: &Mask, rect: DirtyRect) -> Mask {
    Mask::from_raw(rect.width(), rect.height(), mask.read_rect(rect))
        .unwrap_or_else(|| Mask::new(rect.width(), rect.height()))
}

/// The size of a grid cell when grouping marked pixels.
const GROUP_CELL: u32 = 16;

/// The groups the marked pixels form: boxes of marked pixels no closer to each other than
/// `gap` photo pixels (measured on a 16 px grid), largest first.
pub fn marked_groups(mask: &Mask, gap: u32) -> Vec<DirtyRect> {
    let (w, h) = mask.size();
    let (gw, gh) = (
        w.div_ceil(GROUP_CELL) as usize,
        h.div_ceil(GROUP_CELL) as usize,
    );
    if gw == 0 || gh == 0 {
        return Vec::new();
    }
    // Each cell's marked box (in photo pixels).
    let mut cells: Vec<Option<DirtyRect>> = vec![None; gw * gh];
    for y in 0..h {
        let row = mask.row(y);
        let gy = (y / GROUP_CELL) as usize;
        for (gx, chunk) in row.chunks(GROUP_CELL as usize).enumerate() {
            let Some(first) = chunk.iter().position(|&c| c >= THRESHOLD) else {
                continue;
            };
            let last = chunk.iter().rposition(|&c| c >= THRESHOLD).unwrap_or(first);
            let x0 = gx as u32 * GROUP_CELL;
            let r = DirtyRect::new(x0 + first as u32, y, x0 + last as u32 + 1, y + 1);
            let cell = &mut cells[gy * gw + gx];
            *cell = Some(cell.map_or(r, |c| c.union(r)));
        }
    }
    let reach = gap.div_ceil(GROUP_CELL) as i64;
    let mut label = vec![usize::MAX; gw * gh];
    let mut groups = Vec::new();
    let mut stack = Vec::new();
    for start in 0..gw * gh {
        if cells[start].is_none() || label[start] != usize::MAX {
            continue;
        }
        let id = groups.len();
        label[start] = id;
        stack.push(start);
        let mut bounds = DirtyRect::new(0, 0, 0, 0);
        while let Some(i) = stack.pop() {
            if let Some(r) = cells[i] {
                bounds = bounds.union(r);
            }
            let (cx, cy) = ((i % gw) as i64, (i / gw) as i64);
            for ny in (cy - reach - 1).max(0)..=(cy + reach + 1).min(gh as i64 - 1) {
                for nx in (cx - reach - 1).max(0)..=(cx + reach + 1).min(gw as i64 - 1) {
                    let j = ny as usize * gw + nx as usize;
                    if cells[j].is_some() && label[j] == usize::MAX {
                        label[j] = id;
                        stack.push(j);
                    }
                }
            }
        }
        groups.push(bounds);
    }
    groups.sort_by_key(|r| std::cmp::Reverse(r.area()));
    groups
}

/// What the area of an edit would be, and whether splitting it is advised.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaPlan {
    /// The one area holding every marked pixel.
    pub area: EditArea,
    /// The groups of marked pixels, each with its own area (empty when there is one group).
    pub groups: Vec<(DirtyRect, EditArea)>,
    /// One area can hold every group only at under half scale: offer one job per group.
    pub split_advised: bool,
}

/// Plans the area for `mask` under `settings` (see [`AreaPlan`]).
pub fn plan(mask: &Mask, settings: &AreaSettings) -> Result<AreaPlan, AreaError> {
    let area = EditArea::for_mask(mask, settings)?;
    let (w, h) = mask.size();
    let boxes = if settings.mode == AreaMode::Mask {
        marked_groups(mask, MIN_CONTEXT_PX * 2)
    } else {
        Vec::new()
    };
    let groups: Vec<(DirtyRect, EditArea)> = if boxes.len() > 1 {
        boxes
            .into_iter()
            .map(|b| (b, EditArea::around(b, w, h, settings.context)))
            .collect()
    } else {
        Vec::new()
    };
    let split_advised = !groups.is_empty() && area.scale() < 0.5;
    Ok(AreaPlan {
        area,
        groups,
        split_advised,
    })
}

/// `mask` with only the marked pixels inside `group` kept (one job per group).
pub fn mask_of_group(mask: &Mask, group: DirtyRect) -> Mask {
    let mut out = Mask::new(mask.width(), mask.height());
    out.write_rect(group, &mask.read_rect(group));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_with(w: u32, h: u32, rects: &[(u32, u32, u32, u32)]) -> Mask {
        let mut m = Mask::new(w, h);
        for &(x, y, rw, rh) in rects {
            m.fill_rect(x as i64, y as i64, rw as i64, rh as i64, 255);
        }
        m
    }

    fn aspect_is_a_model_aspect(a: &EditArea) -> bool {
        let r = f64::from(a.width) / f64::from(a.height);
        IDEOGRAM_SIZES.iter().any(|&(w, h)| {
            let m = f64::from(w) / f64::from(h);
            (r - m).abs() < 0.01 || (r - 1.0 / m).abs() < 0.01
        })
    }

    #[test]
    fn a_small_sign_in_a_large_photo_goes_out_at_native_resolution() {
        let mask = mask_with(4000, 5920, &[(1800, 3000, 470, 170)]);
        let area = EditArea::for_mask(&mask, &AreaSettings::default()).unwrap();
        // Holds the sign plus at least 128 px on every side.
        assert!(area.x + 128 <= 1800 && area.y + 128 <= 3000, "{area:?}");
        assert!(area.x + area.width >= 1800 + 470 + 128, "{area:?}");
        assert!(area.y + area.height >= 3000 + 170 + 128, "{area:?}");
        assert_eq!(
            (area.sent_width, area.sent_height),
            (area.width, area.height)
        );
        assert_eq!(area.scale(), 1.0);
        assert!(aspect_is_a_model_aspect(&area), "{area:?}");
        assert_eq!(area.marked_outside(&mask), 0);
        assert!(area.label((4000, 5920)).starts_with("Sends "));
        assert!(area.label((4000, 5920)).ends_with("around the mask, 100 %"));
    }

    #[test]
    fn a_wide_sign_goes_out_at_the_largest_scale_that_fits() {
        let mask = mask_with(4000, 5920, &[(900, 3000, 2130, 300)]);
        let area = EditArea::for_mask(&mask, &AreaSettings::default()).unwrap();
        assert!(area.width > 2048);
        assert_eq!(area.sent_width.max(area.sent_height), 2048);
        let expected = 2048.0 / f64::from(area.width.max(area.height));
        assert!((area.scale() - expected).abs() < 0.002, "{area:?}");
        assert_eq!(area.marked_outside(&mask), 0);
    }

    #[test]
    fn whole_never_sends_more_than_2048() {
        for (w, h) in [
            (8000, 6000),
            (4000, 5920),
            (2048, 100),
            (100, 9000),
            (640, 480),
        ] {
            let mask = mask_with(w, h, &[(0, 0, 10, 10)]);
            let settings = AreaSettings {
                mode: AreaMode::Whole,
                context: None,
            };
            let a = EditArea::for_mask(&mask, &settings).unwrap();
            assert!(a.is_whole(w, h));
            assert!(a.sent_width.max(a.sent_height) <= 2048, "{a:?}");
            if w.max(h) <= 2048 {
                assert_eq!((a.sent_width, a.sent_height), (w, h));
            }
        }
    }

    #[test]
    fn the_area_is_clamped_to_the_photo_at_its_corners() {
        let mask = mask_with(1000, 800, &[(0, 0, 50, 40), (960, 770, 40, 30)]);
        let area = EditArea::for_mask(&mask, &AreaSettings::default()).unwrap();
        assert!(area.check(1000, 800).is_ok());
        assert_eq!(area.marked_outside(&mask), 0);
        let corner = mask_with(1000, 800, &[(990, 790, 10, 10)]);
        let a = EditArea::for_mask(&corner, &AreaSettings::default()).unwrap();
        assert!(a.check(1000, 800).is_ok(), "{a:?}");
        assert_eq!(a.x + a.width, 1000);
        assert_eq!(a.y + a.height, 800);
    }

    #[test]
    fn the_context_control_sets_the_margin() {
        let mask = mask_with(3000, 3000, &[(1400, 1400, 200, 200)]);
        let small = EditArea::for_mask(
            &mask,
            &AreaSettings {
                mode: AreaMode::Mask,
                context: Some(20),
            },
        )
        .unwrap();
        let large = EditArea::for_mask(
            &mask,
            &AreaSettings {
                mode: AreaMode::Mask,
                context: Some(600),
            },
        )
        .unwrap();
        assert_eq!((small.width, small.height), (240, 240));
        assert_eq!((large.width, large.height), (1400, 1400));
    }

    #[test]
    fn an_empty_mask_has_no_area() {
        let mask = Mask::new(100, 100);
        assert_eq!(
            EditArea::for_mask(&mask, &AreaSettings::default()),
            Err(AreaError::EmptyMask)
        );
    }

    #[test]
    fn the_crop_is_the_photo_pixels_under_the_area() {
        let photo = RgbaImage::from_fn(600, 400, |x, y| image::Rgba([x as u8, y as u8, 7, 255]));
        let mask = mask_with(600, 400, &[(300, 200, 20, 10)]);
        let area = EditArea::with_rect(250, 150, 200, 120);
        let (crop, m) = area.crop(&photo, &mask).unwrap();
        assert_eq!(crop.dimensions(), (200, 120));
        assert_eq!(m.size(), (200, 120));
        for (x, y, p) in crop.enumerate_pixels() {
            assert_eq!(p, photo.get_pixel(x + 250, y + 150));
        }
        assert_eq!(m.get(50, 50), 255);
        assert_eq!(m.get(49, 50), 0);
        assert_eq!(m.get(70, 59), 0);
        assert!(
            EditArea::with_rect(500, 0, 200, 10)
                .crop(&photo, &mask)
                .is_err()
        );
    }

    #[test]
    fn far_apart_groups_advise_a_split() {
        let mask = mask_with(8000, 6000, &[(100, 100, 200, 80), (7600, 5800, 200, 80)]);
        let p = plan(&mask, &AreaSettings::default()).unwrap();
        assert_eq!(p.groups.len(), 2);
        assert!(p.split_advised, "{p:?}");
        for (g, a) in &p.groups {
            assert_eq!(a.scale(), 1.0);
            let only = mask_of_group(&mask, *g);
            assert_eq!(only.count_at_least(THRESHOLD), 200 * 80);
            assert_eq!(a.marked_outside(&only), 0);
        }
        let near = mask_with(8000, 6000, &[(100, 100, 200, 80), (400, 100, 200, 80)]);
        let p = plan(&near, &AreaSettings::default()).unwrap();
        assert!(!p.split_advised);
    }
}
