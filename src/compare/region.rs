//! Where a result differs from the original: the bounding box of the changed pixels
//! ([`changed_bounds`]), and [`Patch`], a picture kept as "the original, except this
//! rectangle" (a crop and its offset), which is how a result that changed a small sign in a
//! large photo is composited, checked, stored and drawn without touching the rest.

use image::RgbaImage;

use super::CompareError;
use crate::mask::DirtyRect;

/// The first and one past the last pixel where two rows of RGBA bytes differ.
fn row_span(a: &[u8], b: &[u8]) -> Option<(u32, u32)> {
    if a == b {
        return None;
    }
    let differs = |(p, q): (&[u8], &[u8])| p != q;
    let pairs = || a.chunks_exact(4).zip(b.chunks_exact(4));
    let first = pairs().position(differs)?;
    let last = pairs().rposition(differs)?;
    Some((first as u32, last as u32 + 1))
}

/// The smallest rectangle holding every pixel where `a` and `b` differ (any channel);
/// `None` when they are identical. Pictures of different sizes differ everywhere.
pub fn changed_bounds(a: &RgbaImage, b: &RgbaImage) -> Option<DirtyRect> {
    let (w, h) = a.dimensions();
    if b.dimensions() != (w, h) {
        let (bw, bh) = b.dimensions();
        return DirtyRect::clip(0, 0, w.max(bw) as i64, h.max(bh) as i64, u32::MAX, u32::MAX);
    }
    let row_bytes = w as usize * 4;
    if row_bytes == 0 {
        return None;
    }
    let spans = super::bands::for_row_ranges(0..h as usize, w as usize, |rows| {
        let mut found: Option<DirtyRect> = None;
        for y in rows {
            let range = y * row_bytes..(y + 1) * row_bytes;
            if let Some((x0, x1)) = row_span(&a.as_raw()[range.clone()], &b.as_raw()[range]) {
                let row = DirtyRect::new(x0, y as u32, x1, y as u32 + 1);
                found = DirtyRect::merge(found, Some(row));
            }
        }
        found
    });
    spans.into_iter().fold(None, DirtyRect::merge)
}

/// A picture of `size` that equals some base picture (the original) except inside the
/// rectangle at (`x`, `y`), which holds `pixels`. An empty `pixels` (0x0) means "the base
/// itself". Reconstructing with [`Patch::apply`] gives the full picture back bit for bit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// The whole picture's (width, height).
    pub size: (u32, u32),
    pub x: u32,
    pub y: u32,
    pub pixels: RgbaImage,
}

impl Patch {
    /// `full` as a patch over `base`: the crop of the rectangle where they differ. `None` when
    /// the two differ in size.
    pub fn between(base: &RgbaImage, full: &RgbaImage) -> Option<Patch> {
        if base.dimensions() != full.dimensions() {
            return None;
        }
        Some(match changed_bounds(base, full) {
            Some(rect) => Patch::crop(full, rect),
            None => Patch::unchanged(full.dimensions()),
        })
    }

    /// A patch that changes nothing.
    pub fn unchanged(size: (u32, u32)) -> Patch {
        Patch {
            size,
            x: 0,
            y: 0,
            pixels: RgbaImage::new(0, 0),
        }
    }

    /// The rectangle `rect` of `full` (clipped to it), as a patch of a picture of its size.
    pub fn crop(full: &RgbaImage, rect: DirtyRect) -> Patch {
        let (w, h) = full.dimensions();
        let Some(rect) = DirtyRect::clip(
            rect.x0.into(),
            rect.y0.into(),
            rect.x1.into(),
            rect.y1.into(),
            w,
            h,
        ) else {
            return Patch::unchanged((w, h));
        };
        let pixels = image::imageops::crop_imm(full, rect.x0, rect.y0, rect.width(), rect.height())
            .to_image();
        Patch {
            size: (w, h),
            x: rect.x0,
            y: rect.y0,
            pixels,
        }
    }

    /// The rectangle the patch replaces; `None` when it replaces nothing.
    pub fn rect(&self) -> Option<DirtyRect> {
        let (w, h) = self.pixels.dimensions();
        (w > 0 && h > 0).then(|| DirtyRect::new(self.x, self.y, self.x + w, self.y + h))
    }

    /// Whether the patch lies inside its picture (a patch read from a file may not).
    fn fits(&self) -> bool {
        let (w, h) = self.pixels.dimensions();
        u64::from(self.x) + u64::from(w) <= u64::from(self.size.0)
            && u64::from(self.y) + u64::from(h) <= u64::from(self.size.1)
    }

    /// Writes the patch's pixels into `image`, which must be of the patch's size.
    pub fn paste_into(&self, image: &mut RgbaImage) -> Result<(), CompareError> {
        if image.dimensions() != self.size || !self.fits() {
            return Err(CompareError::PatchMismatch {
                x: self.x,
                y: self.y,
                width: self.pixels.width(),
                height: self.pixels.height(),
                image_width: image.width().min(self.size.0),
                image_height: image.height().min(self.size.1),
            });
        }
        let Some(rect) = self.rect() else {
            return Ok(());
        };
        let row_bytes = self.size.0 as usize * 4;
        let (x0, width) = (rect.x0 as usize * 4, rect.width() as usize * 4);
        let data: &mut [u8] = image;
        for (i, src) in self.pixels.as_raw().chunks_exact(width).enumerate() {
            let start = (rect.y0 as usize + i) * row_bytes + x0;
            data[start..start + width].copy_from_slice(src);
        }
        Ok(())
    }

    /// The full picture: `base` with the patch's pixels written in.
    pub fn apply(&self, base: &RgbaImage) -> Result<RgbaImage, CompareError> {
        let mut out = base.clone();
        self.paste_into(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;
    use crate::compare::fixtures::gradient;

    #[test]
    fn changed_bounds_are_the_tight_box_of_every_difference() {
        let original = gradient(300, 200);
        assert_eq!(changed_bounds(&original, &original), None);
        let mut result = original.clone();
        result.put_pixel(40, 150, Rgba([0, 0, 0, 0]));
        result.get_pixel_mut(250, 20).0[3] ^= 1; // alpha alone counts
        assert_eq!(
            changed_bounds(&original, &result),
            Some(DirtyRect::new(40, 20, 251, 151))
        );
        assert_eq!(
            changed_bounds(&original, &RgbaImage::new(3, 3)),
            Some(DirtyRect::new(0, 0, 300, 200))
        );
    }

    #[test]
    fn a_patch_gives_the_full_picture_back_bit_for_bit() {
        let original = gradient(64, 48);
        let mut result = original.clone();
        for y in 10..20 {
            for x in 30..50 {
                result.put_pixel(x, y, Rgba([x as u8, y as u8, 7, 200]));
            }
        }
        let patch = Patch::between(&original, &result).unwrap();
        assert_eq!(
            (patch.x, patch.y, patch.pixels.dimensions()),
            (30, 10, (20, 10))
        );
        assert_eq!(patch.apply(&original).unwrap(), result);
        let same = Patch::between(&original, &original).unwrap();
        assert_eq!(same.rect(), None);
        assert_eq!(same.apply(&original).unwrap(), original);
        assert!(Patch::between(&original, &RgbaImage::new(4, 4)).is_none());
        // A patch that does not fit its base is an error, not a panic.
        let mut wrong = patch.clone();
        wrong.x = 60;
        assert!(wrong.apply(&original).is_err());
        assert!(patch.apply(&RgbaImage::new(10, 10)).is_err());
    }
}
