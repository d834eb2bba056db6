//! The feathered mask: a composite weight per pixel from the mask and a feather radius, by
//! Euclidean distance to the nearest marked pixel (two separable passes, rows over threads).

use image::RgbaImage;

use super::bands::for_row_bands;
use super::{CompareError, MAX_FEATHER_PX};
use crate::mask::{Mask, THRESHOLD};

/// The composite weight of every pixel, from a mask and a feather radius: 255 inside the mask
/// (the result shows), 0 outside mask and band (the original shows, bit for bit), and in the
/// band a weight falling linearly with the distance `d` to the mask: `255 * (r + 1 - d) / (r + 1)`.
#[derive(Clone, PartialEq, Eq)]
pub struct FeatherMask {
    width: u32,
    height: u32,
    radius: u32,
    weights: Vec<u8>,
}

impl std::fmt::Debug for FeatherMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatherMask")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("radius", &self.radius)
            .finish()
    }
}

impl FeatherMask {
    /// Weights for `mask` with a feather of `radius_px` pixels (clamped to [`MAX_FEATHER_PX`]).
    pub fn new(mask: &Mask, radius_px: u32) -> Self {
        let radius = radius_px.min(MAX_FEATHER_PX);
        let (width, height) = mask.size();
        let (w, h) = (width as usize, height as usize);
        let mut weights = vec![0u8; w * h];
        if radius == 0 || w == 0 || h == 0 {
            for (dst, &c) in weights.iter_mut().zip(mask.as_raw()) {
                *dst = if c >= THRESHOLD { 255 } else { 0 };
            }
            return Self {
                width,
                height,
                radius,
                weights,
            };
        }
        // Only rows within r of a marked row can have a weight.
        let Some(bounds) = mask.marked_bounds() else {
            return Self {
                width,
                height,
                radius,
                weights,
            };
        };
        let (marked_y0, marked_y1) = (bounds.y0 as usize, bounds.y1 as usize);
        // Pass 1: per row, the horizontal distance to the nearest marked pixel, capped at r + 1
        // (rows without marked pixels keep the cap).
        let cap = radius as u16 + 1;
        let mut horizontal = vec![cap; w * h];
        for_row_bands(
            &mut horizontal[marked_y0 * w..marked_y1 * w],
            w,
            |first_row, band| {
                for (i, row) in band.chunks_mut(w).enumerate() {
                    let coverage = mask.row((marked_y0 + first_row + i) as u32);
                    let mut dist = cap;
                    for (d, &c) in row.iter_mut().zip(coverage) {
                        dist = if c >= THRESHOLD {
                            0
                        } else {
                            (dist + 1).min(cap)
                        };
                        *d = dist;
                    }
                    let mut dist = cap;
                    for (d, &c) in row.iter_mut().zip(coverage).rev() {
                        dist = if c >= THRESHOLD {
                            0
                        } else {
                            (dist + 1).min(cap)
                        };
                        *d = (*d).min(dist);
                    }
                }
            },
        );
        // The weight for each squared distance up to r².
        let r2 = (radius * radius) as usize;
        let table: Vec<u8> = (0..=r2)
            .map(|d2| {
                if d2 == 0 {
                    255
                } else {
                    let d = (d2 as f64).sqrt();
                    let r1 = radius as f64 + 1.0;
                    (255.0 * (r1 - d) / r1).round().clamp(1.0, 254.0) as u8
                }
            })
            .collect();
        // Pass 2: per row, the smallest dy² + dx² over rows within r, looked up in the table.
        let horizontal = &horizontal;
        let r = radius as usize;
        let (out_y0, out_y1) = (marked_y0.saturating_sub(r), (marked_y1 + r).min(h));
        for_row_bands(
            &mut weights[out_y0 * w..out_y1 * w],
            w,
            |first_row, band| {
                let mut best = vec![0u32; w];
                for (i, out) in band.chunks_mut(w).enumerate() {
                    let y = out_y0 + first_row + i;
                    best.fill(u32::MAX);
                    for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
                        let dy = yy.abs_diff(y) as u32;
                        let dy2 = dy * dy;
                        let src = &horizontal[yy * w..(yy + 1) * w];
                        for (b, &dx) in best.iter_mut().zip(src) {
                            let dx = dx as u32;
                            *b = (*b).min(dy2 + dx * dx);
                        }
                    }
                    for (o, &d2) in out.iter_mut().zip(best.iter()) {
                        *o = table.get(d2 as usize).copied().unwrap_or(0);
                    }
                }
            },
        );
        Self {
            width,
            height,
            radius,
            weights,
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The feather radius in pixels (after clamping).
    pub fn radius(&self) -> u32 {
        self.radius
    }

    /// The composite weight at (x, y): 0 shows the original, 255 the result; 0 off the image.
    pub fn weight(&self, x: u32, y: u32) -> u8 {
        if x < self.width && y < self.height {
            self.weights[y as usize * self.width as usize + x as usize]
        } else {
            0
        }
    }

    /// All weights, row-major.
    pub fn as_raw(&self) -> &[u8] {
        &self.weights
    }

    /// Is (x, y) outside the mask and its feather band (where the original is kept)?
    pub fn is_outside(&self, x: u32, y: u32) -> bool {
        self.weight(x, y) == 0
    }

    /// How many pixels are outside the mask and its feather band.
    pub fn outside_count(&self) -> u64 {
        self.weights.iter().filter(|&&w| w == 0).count() as u64
    }

    pub(super) fn check_image(&self, original: &RgbaImage) -> Result<(), CompareError> {
        let (iw, ih) = original.dimensions();
        if iw == 0 || ih == 0 {
            return Err(CompareError::EmptyImage {
                which: "the original".into(),
            });
        }
        if (iw, ih) != self.size() {
            return Err(CompareError::MaskSizeMismatch {
                mask_width: self.width,
                mask_height: self.height,
                image_width: iw,
                image_height: ih,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::fixtures::square_mask;

    #[test]
    fn feather_weights_follow_euclidean_distance() {
        let mut mask = Mask::new(21, 21);
        mask.set(10, 10, 255);
        mask.set(3, 3, 100); // below the threshold: not marked
        let f = FeatherMask::new(&mask, 3);
        assert_eq!(f.weight(10, 10), 255);
        for y in 0..21 {
            for x in 0..21 {
                let d2 = (x as i64 - 10).pow(2) + (y as i64 - 10).pow(2);
                let w = f.weight(x, y);
                if d2 == 0 {
                    assert_eq!(w, 255);
                } else if d2 <= 9 {
                    assert!(w > 0 && w < 255, "({x},{y}) d2={d2} w={w}");
                } else {
                    assert_eq!(w, 0, "({x},{y}) d2={d2} is beyond the band");
                }
            }
        }
        // Weights fall with distance.
        assert!(f.weight(11, 10) > f.weight(12, 10));
        assert!(f.weight(12, 10) > f.weight(13, 10));
        assert!(f.weight(11, 11) < f.weight(11, 10));
        // (12,12) is at 2.83 px, (13,12) at 3.6 px: in and out.
        assert!(f.weight(12, 12) > 0);
        assert_eq!(f.weight(13, 12), 0);
        assert_eq!(f.outside_count(), 21 * 21 - 29);
    }

    #[test]
    fn feather_zero_is_the_thresholded_mask() {
        let mut mask = square_mask(9, 7, 2, 2, 3);
        mask.set(0, 0, 127);
        mask.set(8, 6, 128);
        let f = FeatherMask::new(&mask, 0);
        for y in 0..7 {
            for x in 0..9 {
                assert_eq!(f.weight(x, y) == 255, mask.is_marked(x, y));
                assert!(matches!(f.weight(x, y), 0 | 255));
            }
        }
        assert_eq!(FeatherMask::new(&mask, 1000).radius(), MAX_FEATHER_PX);
    }
}
