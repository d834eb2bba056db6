//! Paste back: a result made for an edit area is fitted to the area, corrected by the colour
//! drift around the mask (optional), composited over the original's pixels under the area
//! through the feathered mask, and pasted into the photo. Outside the feathered mask (and so
//! outside the area) the photo stays bit for bit as it was, at any photo size.
//!
//! Everything but the final paste works at the area's size, so a small sign in a 48 MP photo
//! costs what the sign costs.

use image::RgbaImage;

use super::{
    CompareError, DEFAULT_NOTICEABLE_DIFFERENCE, EdgeSteps, FeatherMask, OutsideFigures, Patch,
    Resampled, composite, fit_to_size, match_colours, outside_figures,
};
use crate::edit::{EditArea, crop_mask};
use crate::mask::Mask;

/// How a result is pasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasteOptions {
    /// Soft seam in pixels (0 to [`super::MAX_FEATHER_PX`]).
    pub feather: u32,
    /// Composite through the mask; off pastes the whole area as the model returned it.
    pub keep_outside: bool,
    /// Correct the drift measured around the mask.
    pub colour_match: bool,
}

impl Default for PasteOptions {
    fn default() -> Self {
        PasteOptions {
            feather: super::DEFAULT_FEATHER_PX,
            keep_outside: true,
            colour_match: true,
        }
    }
}

/// The photo's pixels an area covers, with its mask: what every result of one edit is pasted
/// over (made once per edit).
#[derive(Debug, Clone)]
pub struct AreaBase {
    pub area: EditArea,
    /// The photo's pixels under the area.
    pub original: RgbaImage,
    /// The mask under the area.
    pub mask: Mask,
    pub feather: FeatherMask,
    pub feather_px: u32,
}

impl AreaBase {
    /// Cuts `photo` and `mask` to `area` (at the photo's resolution).
    pub fn new(
        photo: &RgbaImage,
        mask: &Mask,
        area: EditArea,
        feather_px: u32,
    ) -> Result<AreaBase, CompareError> {
        let (w, h) = photo.dimensions();
        if mask.size() != (w, h) {
            return Err(CompareError::MaskSizeMismatch {
                mask_width: mask.width(),
                mask_height: mask.height(),
                image_width: w,
                image_height: h,
            });
        }
        if area.check(w, h).is_err() {
            return Err(CompareError::EmptyImage {
                which: format!(
                    "the edit area ({}x{} at {},{} in a {w}x{h} photo)",
                    area.width, area.height, area.x, area.y
                ),
            });
        }
        let original =
            image::imageops::crop_imm(photo, area.x, area.y, area.width, area.height).to_image();
        let mask = crop_mask(mask, area.rect());
        let feather = FeatherMask::new(&mask, feather_px);
        Ok(AreaBase {
            area,
            original,
            mask,
            feather,
            feather_px,
        })
    }
}

/// One result pasted into its area.
#[derive(Debug, Clone)]
pub struct Pasted {
    pub area: EditArea,
    /// The result fitted to the area (area size), as the model made it.
    pub raw: RgbaImage,
    /// `raw` corrected by the drift around the mask (when the colour match ran).
    pub matched: Option<RgbaImage>,
    /// What is shown and saved over the area (area size): the composite of `matched` (or
    /// `raw`) through the feathered mask, or `raw` itself without keep-outside.
    pub shown: RgbaImage,
    /// What the raw result changed outside the feathered mask within the area.
    pub figures: OutsideFigures,
    /// The step across the mask's edge before and after the colour match.
    pub steps: Option<EdgeSteps>,
    /// The result came back at another size than the area's sent size... and was resampled to
    /// the area.
    pub resampled: Option<Resampled>,
}

impl Pasted {
    /// The photo with `shown` pasted in.
    pub fn apply(&self, photo: &RgbaImage) -> RgbaImage {
        self.paste_over(photo, &self.shown)
    }

    /// The photo with the area replaced by the result as the model made it (fitted): what
    /// "keep outside pixels" off shows.
    pub fn apply_raw(&self, photo: &RgbaImage) -> RgbaImage {
        self.paste_over(photo, &self.raw)
    }

    fn paste_over(&self, photo: &RgbaImage, pixels: &RgbaImage) -> RgbaImage {
        let mut out = photo.clone();
        image::imageops::replace(&mut out, pixels, self.area.x.into(), self.area.y.into());
        out
    }

    /// `shown` as a patch over the photo.
    pub fn patch(&self, photo_size: (u32, u32)) -> Patch {
        Patch {
            size: photo_size,
            x: self.area.x,
            y: self.area.y,
            pixels: self.shown.clone(),
        }
    }

    /// The composite again with the colour match on or off (the per-result toggle).
    pub fn recomposite(
        &self,
        base: &AreaBase,
        keep_outside: bool,
        colour_match: bool,
    ) -> Result<RgbaImage, CompareError> {
        let source = match (&self.matched, colour_match) {
            (Some(m), true) => m,
            _ => &self.raw,
        };
        if !keep_outside {
            return Ok(self.raw.clone());
        }
        Ok(composite(&base.original, source, &base.feather)?.image)
    }
}

/// Fits `result` to `base`'s area, colour-matches and composites it (see the module's note).
pub fn paste_result(
    base: &AreaBase,
    result: &RgbaImage,
    options: &PasteOptions,
) -> Result<Pasted, CompareError> {
    let (w, h) = base.original.dimensions();
    let (fitted, resampled) = fit_to_size(result, w, h)?;
    let raw = fitted.into_owned();
    let figures = outside_figures(
        &base.original,
        &raw,
        &base.feather,
        DEFAULT_NOTICEABLE_DIFFERENCE,
    )?;
    let (matched, steps) = if options.keep_outside && options.colour_match {
        let m = match_colours(&base.original, &raw, &base.mask, base.feather_px)?;
        (Some(m.image), Some(m.steps))
    } else {
        (None, None)
    };
    let shown = if options.keep_outside {
        let source = matched.as_ref().unwrap_or(&raw);
        composite(&base.original, source, &base.feather)?.image
    } else {
        raw.clone()
    };
    Ok(Pasted {
        area: base.area,
        raw,
        matched,
        shown,
        figures,
        steps,
        resampled,
    })
}

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;

    fn photo(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            Rgba([(40 + x % 150) as u8, (60 + y % 120) as u8, 90, 255])
        })
    }

    #[test]
    fn outside_the_feathered_mask_the_photo_is_unchanged_bit_for_bit() {
        let (w, h) = (1200, 900);
        let original = photo(w, h);
        let mut mask = Mask::new(w, h);
        mask.fill_rect(500, 400, 150, 60, 255);
        let area = EditArea::for_mask(&mask, &Default::default()).unwrap();
        let base = AreaBase::new(&original, &mask, area, 4).unwrap();
        // A result at half the area's size (the photo as sent, downscaled), painted red where
        // the mask lies.
        let (sw, sh) = (area.width / 2, area.height / 2);
        let mut result = image::imageops::resize(
            &base.original,
            sw,
            sh,
            image::imageops::FilterType::Triangle,
        );
        let (mx, my) = ((500 - area.x) / 2, (400 - area.y) / 2);
        for y in my..my + 30 {
            for x in mx..mx + 75 {
                result.put_pixel(x, y, Rgba([230, 10, 10, 255]));
            }
        }
        let pasted = paste_result(&base, &result, &PasteOptions::default()).unwrap();
        assert!(pasted.resampled.is_some());
        let full = pasted.apply(&original);
        let feather = FeatherMask::new(&mask, 4);
        for (x, y, p) in full.enumerate_pixels() {
            if feather.is_outside(x, y) {
                assert_eq!(p, original.get_pixel(x, y), "({x},{y})");
            }
        }
        // The painted area lands on the mask.
        let p = full.get_pixel(575, 430);
        assert!(p[0] > 180 && p[1] < 60, "{p:?}");
        assert!(pasted.steps.is_some());
    }

    #[test]
    fn the_area_must_lie_in_the_photo() {
        let original = photo(100, 100);
        let mask = Mask::new(100, 100);
        assert!(AreaBase::new(&original, &mask, EditArea::with_rect(50, 50, 80, 80), 4).is_err());
    }
}
