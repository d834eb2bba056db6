//! Colour match at the mask's edge: a generator often shifts the colours of the whole picture
//! (brighter, warmer) while it edits the masked part. Composited through the mask, the original
//! outside meets the shifted inside in a visible step. This measures the shift where the model
//! was asked to change nothing (a ring just outside the mask, beyond the feather band), spreads
//! it smoothly over the mask (a membrane fill of the ring's values on a coarse grid: a
//! low-frequency field, not a global histogram match) and takes it out of the result. An
//! intended change inside the mask (a sign repainted red) stays as the model made it, since the
//! ring around it did not change.

use image::RgbaImage;
use serde::{Deserialize, Serialize};

use super::CompareError;
use crate::mask::{Mask, THRESHOLD};

/// How far beyond the feather band the ring starts, in pixels.
const RING_GAP: u32 = 2;
/// How wide the ring is, in pixels.
const RING_WIDTH: u32 = 12;
/// How deep inside the mask the edge band reaches, in pixels.
const EDGE_BAND: u32 = 4;

/// The mean step across the mask's edge (levels, the mean over R, G and B of the magnitude of
/// the mean difference between result and original just inside the mask), before and after
/// the colour match.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EdgeSteps {
    pub before: f32,
    pub after: f32,
    /// The mean drift measured in the ring outside the mask (R, G, B levels).
    pub drift: [f32; 3],
}

/// A result corrected by the drift around the mask.
#[derive(Debug, Clone)]
pub struct ColourMatch {
    pub image: RgbaImage,
    pub steps: EdgeSteps,
}

/// Counts of marked pixels in boxes, from a summed-area table.
struct Marked {
    w: usize,
    h: usize,
    sums: Vec<u32>,
}

impl Marked {
    fn new(mask: &Mask) -> Marked {
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        let mut sums = vec![0u32; (w + 1) * (h + 1)];
        for y in 0..h {
            let row = mask.row(y as u32);
            let mut run = 0u32;
            for x in 0..w {
                run += u32::from(row[x] >= THRESHOLD);
                sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + run;
            }
        }
        Marked { w, h, sums }
    }

    /// Marked pixels within `r` (Chebyshev) of `(x, y)`.
    fn around(&self, x: usize, y: usize, r: usize) -> u32 {
        let x0 = x.saturating_sub(r);
        let y0 = y.saturating_sub(r);
        let x1 = (x + r + 1).min(self.w);
        let y1 = (y + r + 1).min(self.h);
        let s = |xx: usize, yy: usize| self.sums[yy * (self.w + 1) + xx];
        s(x1, y1) + s(x0, y0) - s(x0, y1) - s(x1, y0)
    }

    fn box_area(&self, x: usize, y: usize, r: usize) -> u32 {
        let w = (x + r + 1).min(self.w) - x.saturating_sub(r);
        let h = (y + r + 1).min(self.h) - y.saturating_sub(r);
        (w * h) as u32
    }
}

fn diff(a: &image::Rgba<u8>, b: &image::Rgba<u8>) -> [f32; 3] {
    [
        f32::from(a[0]) - f32::from(b[0]),
        f32::from(a[1]) - f32::from(b[1]),
        f32::from(a[2]) - f32::from(b[2]),
    ]
}

/// The step just inside the mask's edge: the magnitude of the mean difference there.
fn edge_step(original: &RgbaImage, result: &RgbaImage, marked: &Marked, mask: &Mask) -> f32 {
    let mut sum = [0f64; 3];
    let mut n = 0u64;
    let r = EDGE_BAND as usize;
    for y in 0..marked.h {
        let row = mask.row(y as u32);
        for (x, &c) in row.iter().enumerate().take(marked.w) {
            if c < THRESHOLD || marked.around(x, y, r) == marked.box_area(x, y, r) {
                continue;
            }
            let d = diff(
                result.get_pixel(x as u32, y as u32),
                original.get_pixel(x as u32, y as u32),
            );
            for (s, v) in sum.iter_mut().zip(d) {
                *s += f64::from(v);
            }
            n += 1;
        }
    }
    if n == 0 {
        return 0.0;
    }
    (sum.iter().map(|s| (s / n as f64).abs()).sum::<f64>() / 3.0) as f32
}

/// Corrects `result` (already fitted to `original`'s size) by the colour drift measured in a
/// ring just outside `mask`, `feather` pixels beyond it; see the module's note. Pixels the
/// composite does not take from the result (outside mask and band) are left as they are.
pub fn match_colours(
    original: &RgbaImage,
    result: &RgbaImage,
    mask: &Mask,
    feather: u32,
) -> Result<ColourMatch, CompareError> {
    let (w, h) = original.dimensions();
    if result.dimensions() != (w, h) || mask.size() != (w, h) {
        return Err(CompareError::MaskSizeMismatch {
            mask_width: mask.width(),
            mask_height: mask.height(),
            image_width: w,
            image_height: h,
        });
    }
    if w == 0 || h == 0 {
        return Err(CompareError::EmptyImage {
            which: "the original".into(),
        });
    }
    let marked = Marked::new(mask);
    let before = edge_step(original, result, &marked, mask);

    // The grid: about 48 cells on the long side, at least 8 px each.
    let cell = (w.max(h) / 48).max(8) as usize;
    let (gw, gh) = ((w as usize).div_ceil(cell), (h as usize).div_ceil(cell));
    let mut sums = vec![[0f64; 3]; gw * gh];
    let mut counts = vec![0u32; gw * gh];
    let near = (feather + RING_GAP) as usize;
    let far = near + RING_WIDTH as usize;
    let mut total = [0f64; 3];
    let mut total_n = 0u64;
    for y in 0..h as usize {
        let row = mask.row(y as u32);
        for (x, &c) in row.iter().enumerate().take(w as usize) {
            if c >= THRESHOLD || marked.around(x, y, near) > 0 || marked.around(x, y, far) == 0 {
                continue;
            }
            let d = diff(
                result.get_pixel(x as u32, y as u32),
                original.get_pixel(x as u32, y as u32),
            );
            let i = (y / cell) * gw + x / cell;
            for (c, v) in d.into_iter().enumerate() {
                sums[i][c] += f64::from(v);
                total[c] += f64::from(v);
            }
            counts[i] += 1;
            total_n += 1;
        }
    }
    if total_n == 0 {
        // No ring (the mask fills the area): nothing to measure against.
        return Ok(ColourMatch {
            image: result.clone(),
            steps: EdgeSteps {
                before,
                after: before,
                drift: [0.0; 3],
            },
        });
    }
    let drift = total.map(|t| (t / total_n as f64) as f32);
    // Known cells: enough ring pixels in them. The rest is a membrane between them (SOR on the
    // Laplace equation, started from the mean drift).
    let min_count = (cell * cell / 16).max(3) as u32;
    let known: Vec<bool> = counts.iter().map(|&n| n >= min_count).collect();
    let mut field: Vec<[f32; 3]> = (0..gw * gh)
        .map(|i| {
            if known[i] {
                sums[i].map(|s| (s / f64::from(counts[i])) as f32)
            } else {
                drift
            }
        })
        .collect();
    let iterations = 4 * gw.max(gh) + 50;
    for _ in 0..iterations {
        for gy in 0..gh {
            for gx in 0..gw {
                let i = gy * gw + gx;
                if known[i] {
                    continue;
                }
                let mut acc = [0f32; 3];
                let mut n = 0f32;
                let mut add = |j: usize| {
                    for (a, v) in acc.iter_mut().zip(field[j]) {
                        *a += v;
                    }
                    n += 1.0;
                };
                if gx > 0 {
                    add(i - 1);
                }
                if gx + 1 < gw {
                    add(i + 1);
                }
                if gy > 0 {
                    add(i - gw);
                }
                if gy + 1 < gh {
                    add(i + gw);
                }
                if n > 0.0 {
                    for (v, a) in field[i].iter_mut().zip(acc) {
                        *v += 1.8 * (a / n - *v);
                    }
                }
            }
        }
    }

    // Take the field out wherever the composite shows the result (the mask and its band).
    let band = (feather + 1) as usize;
    let mut out = result.clone();
    let at = |gx: f32, gy: f32| -> [f32; 3] {
        let gx = gx.clamp(0.0, (gw - 1) as f32);
        let gy = gy.clamp(0.0, (gh - 1) as f32);
        let (x0, y0) = (gx.floor() as usize, gy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(gw - 1), (y0 + 1).min(gh - 1));
        let (fx, fy) = (gx - x0 as f32, gy - y0 as f32);
        let mut v = [0f32; 3];
        for (c, vc) in v.iter_mut().enumerate() {
            let top = field[y0 * gw + x0][c] * (1.0 - fx) + field[y0 * gw + x1][c] * fx;
            let bottom = field[y1 * gw + x0][c] * (1.0 - fx) + field[y1 * gw + x1][c] * fx;
            *vc = top * (1.0 - fy) + bottom * fy;
        }
        v
    };
    for y in 0..h as usize {
        for x in 0..w as usize {
            if marked.around(x, y, band) == 0 {
                continue;
            }
            let f = at(
                (x as f32 + 0.5) / cell as f32 - 0.5,
                (y as f32 + 0.5) / cell as f32 - 0.5,
            );
            let p = out.get_pixel_mut(x as u32, y as u32);
            for (ch, fc) in p.0.iter_mut().zip(f) {
                *ch = (f32::from(*ch) - fc).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    let after = edge_step(original, &out, &marked, mask);
    Ok(ColourMatch {
        image: out,
        steps: EdgeSteps {
            before,
            after,
            drift,
        },
    })
}

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;

    /// A smooth scene with a fine texture, its levels well inside 0..255 (no clipping).
    fn gradient(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            let t = ((x * 3 + y * 5) % 7) as u8;
            Rgba([
                (60 + x * 100 / w) as u8 + t,
                (80 + y * 80 / h) as u8 + t,
                (120 - (x + y) * 40 / (w + h)) as u8 + t,
                255,
            ])
        })
    }

    fn sign_mask(w: u32, h: u32) -> Mask {
        let mut m = Mask::new(w, h);
        m.fill_rect(60, 50, 120, 60, 255);
        m
    }

    fn brighten(img: &RgbaImage, by: i16) -> RgbaImage {
        let mut out = img.clone();
        for p in out.pixels_mut() {
            for c in 0..3 {
                p[c] = (i16::from(p[c]) + by).clamp(0, 255) as u8;
            }
        }
        out
    }

    #[test]
    fn a_result_brightened_everywhere_comes_back_to_the_original_inside() {
        let original = gradient(240, 160);
        let mask = sign_mask(240, 160);
        let result = brighten(&original, 20);
        let m = match_colours(&original, &result, &mask, 4).unwrap();
        assert!(m.steps.before > 19.0, "{:?}", m.steps);
        assert!(m.steps.after < 2.0, "{:?}", m.steps);
        for y in 50..110 {
            for x in 60..180 {
                let (a, b) = (m.image.get_pixel(x, y), original.get_pixel(x, y));
                for c in 0..3 {
                    assert!(
                        (i16::from(a[c]) - i16::from(b[c])).abs() <= 3,
                        "({x},{y}) {a:?} {b:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_intended_change_stays_as_the_model_made_it() {
        let original = gradient(240, 160);
        let mask = sign_mask(240, 160);
        let mut result = original.clone();
        for y in 50..110 {
            for x in 60..180 {
                result.put_pixel(x, y, Rgba([220, 20, 30, 255]));
            }
        }
        let m = match_colours(&original, &result, &mask, 4).unwrap();
        assert_eq!(m.image, result, "nothing drifted around the sign");
        assert!(m.steps.drift.iter().all(|d| d.abs() < 0.01));
        // Red and brighter: the red stays red, the brightening goes.
        let shifted = brighten(&result, 20);
        let m = match_colours(&original, &shifted, &mask, 4).unwrap();
        let p = m.image.get_pixel(120, 80);
        assert!((i16::from(p[0]) - 220).abs() <= 3 && p[1] <= 23, "{p:?}");
    }

    #[test]
    fn a_drift_that_varies_across_the_area_is_followed_smoothly() {
        let original = gradient(240, 160);
        let mask = sign_mask(240, 160);
        let mut result = original.clone();
        // Left half 10 brighter, right half 30: a smooth ramp between.
        for (x, _, p) in result.enumerate_pixels_mut() {
            let by = 10.0 + 20.0 * (x as f32 / 239.0);
            for c in 0..3 {
                p[c] = (f32::from(p[c]) + by).round().clamp(0.0, 255.0) as u8;
            }
        }
        let m = match_colours(&original, &result, &mask, 4).unwrap();
        assert!(m.steps.after < 2.5, "{:?}", m.steps);
        // Near the left and right edges of the sign, the correction follows the local drift.
        for x in [62u32, 176] {
            let (a, b) = (m.image.get_pixel(x, 80), original.get_pixel(x, 80));
            assert!(
                (i16::from(a[0]) - i16::from(b[0])).abs() <= 4,
                "{x}: {a:?} {b:?}"
            );
        }
    }

    #[test]
    fn pixels_outside_the_mask_and_band_are_untouched() {
        let original = gradient(240, 160);
        let mask = sign_mask(240, 160);
        let result = brighten(&original, 20);
        let m = match_colours(&original, &result, &mask, 4).unwrap();
        assert_eq!(m.image.get_pixel(5, 5), result.get_pixel(5, 5));
        assert_eq!(m.image.get_pixel(60 - 10, 80), result.get_pixel(50, 80));
    }

    #[test]
    fn sizes_must_agree() {
        let original = gradient(20, 20);
        let mask = Mask::new(10, 10);
        assert!(match_colours(&original, &original, &mask, 2).is_err());
    }
}
