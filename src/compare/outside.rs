//! What a result changed outside the mask and its feather band: the figures
//! ([`OutsideFigures`]) and a heatmap overlay ([`OutsideCheck`]).

use image::RgbaImage;
use serde::{Deserialize, Serialize};

use super::bands::{for_row_bands, thread_count};
use super::{CompareError, FeatherMask, Resampled, fit_to_size};

/// What a result changed outside the mask and its feather band, against the original.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OutsideFigures {
    /// Pixels outside mask and band (the ones checked).
    pub outside_pixels: u64,
    /// Of those, how many changed noticeably (largest channel difference >= `threshold`).
    pub changed_pixels: u64,
    /// `changed_pixels / outside_pixels`, 0 when nothing lies outside.
    pub changed_fraction: f64,
    /// Mean over outside pixels of the largest channel difference (0..=255 levels).
    pub mean_difference: f64,
    /// The largest channel difference seen outside (0..=255 levels).
    pub max_difference: u8,
    /// The noticeable-difference threshold used (levels).
    pub threshold: u8,
    /// The feather radius used (pixels).
    pub feather_px: u32,
    /// Set when the result was resampled to the original's size first.
    pub resampled: Option<Resampled>,
}

/// The figures plus a heatmap overlay at the original's size: transparent where nothing changed
/// noticeably (and inside mask and band), yellow to red with rising opacity as the change grows.
#[derive(Debug, Clone)]
pub struct OutsideCheck {
    pub figures: OutsideFigures,
    pub heatmap: RgbaImage,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    outside: u64,
    changed: u64,
    sum: u64,
    max: u8,
}

impl Tally {
    fn merge(self, o: Tally) -> Tally {
        Tally {
            outside: self.outside + o.outside,
            changed: self.changed + o.changed,
            sum: self.sum + o.sum,
            max: self.max.max(o.max),
        }
    }

    fn figures(
        self,
        threshold: u8,
        feather_px: u32,
        resampled: Option<Resampled>,
    ) -> OutsideFigures {
        let (fraction, mean) = if self.outside == 0 {
            (0.0, 0.0)
        } else {
            (
                self.changed as f64 / self.outside as f64,
                self.sum as f64 / self.outside as f64,
            )
        };
        OutsideFigures {
            outside_pixels: self.outside,
            changed_pixels: self.changed,
            changed_fraction: fraction,
            mean_difference: mean,
            max_difference: self.max,
            threshold,
            feather_px,
            resampled,
        }
    }
}

#[inline]
fn pixel_difference(a: &[u8], b: &[u8]) -> u8 {
    if a.len() < 4 || b.len() < 4 {
        return 0;
    }
    a[0].abs_diff(b[0])
        .max(a[1].abs_diff(b[1]))
        .max(a[2].abs_diff(b[2]))
        .max(a[3].abs_diff(b[3]))
}

/// The heatmap colour for a noticeable difference `d >= threshold`.
pub fn heat_colour(d: u8, threshold: u8) -> [u8; 4] {
    let span = (255 - threshold.min(254)) as u32;
    let t = (d.saturating_sub(threshold) as u32 * 255 / span.max(1)).min(255);
    let g = (220 * (255 - t) / 255) as u8;
    let a = (150 + 100 * t / 255) as u8;
    [255, g, 0, a]
}

/// Tallies one band of rows; writes heatmap pixels when `heat` is given.
fn tally_rows(
    orig: &[u8],
    res: &[u8],
    weights: &[u8],
    threshold: u8,
    mut heat: Option<&mut [u8]>,
) -> Tally {
    let mut t = Tally::default();
    // Branch-free per pixel (the compiler vectorises it); counts fit u32 per chunk of 4096.
    const CHUNK: usize = 4096;
    let threshold = threshold.max(1);
    for (c, ((a, b), w)) in orig
        .chunks(CHUNK * 4)
        .zip(res.chunks(CHUNK * 4))
        .zip(weights.chunks(CHUNK))
        .enumerate()
    {
        let (mut outside, mut changed, mut sum, mut max) = (0u32, 0u32, 0u32, 0u8);
        for ((a, b), &wt) in a.chunks_exact(4).zip(b.chunks_exact(4)).zip(w) {
            let keep = (wt == 0) as u8;
            let d = pixel_difference(a, b) * keep;
            outside += keep as u32;
            sum += d as u32;
            changed += (d >= threshold) as u32;
            max = max.max(d);
        }
        t.outside += outside as u64;
        t.changed += changed as u64;
        t.sum += sum as u64;
        t.max = t.max.max(max);
        if changed > 0
            && let Some(h) = heat.as_deref_mut()
        {
            for (i, ((a, b), &wt)) in a.chunks_exact(4).zip(b.chunks_exact(4)).zip(w).enumerate() {
                let d = pixel_difference(a, b);
                if wt == 0 && d >= threshold {
                    let p = (c * CHUNK + i) * 4;
                    h[p..p + 4].copy_from_slice(&heat_colour(d, threshold));
                }
            }
        }
    }
    t
}

/// Where `result` differs from `original` outside the mask and its feather band: figures and a
/// heatmap. A result of another size is resampled first (said in `figures.resampled`).
pub fn check_outside(
    original: &RgbaImage,
    result: &RgbaImage,
    feather: &FeatherMask,
    threshold: u8,
) -> Result<OutsideCheck, CompareError> {
    feather.check_image(original)?;
    let (result, resampled) = fit_to_size(result, original.width(), original.height())?;
    Ok(check_same_size(
        original, &result, feather, threshold, resampled,
    ))
}

/// The figures only, without the heatmap (cheaper: for the CLI and the history).
pub fn outside_figures(
    original: &RgbaImage,
    result: &RgbaImage,
    feather: &FeatherMask,
    threshold: u8,
) -> Result<OutsideFigures, CompareError> {
    feather.check_image(original)?;
    let (result, resampled) = fit_to_size(result, original.width(), original.height())?;
    let (orig, res, weights) = (original.as_raw(), result.as_raw(), feather.as_raw());
    let n = weights.len();
    let threads = thread_count(n);
    let per = n.div_ceil(threads).max(1);
    let tally = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(per)
            .map(|start| {
                let end = (start + per).min(n);
                let (o, r, w) = (
                    &orig[start * 4..end * 4],
                    &res[start * 4..end * 4],
                    &weights[start..end],
                );
                scope.spawn(move || tally_rows(o, r, w, threshold, None))
            })
            .collect();
        handles
            .into_iter()
            .fold(Tally::default(), |acc, h| match h.join() {
                Ok(t) => acc.merge(t),
                Err(panic) => std::panic::resume_unwind(panic),
            })
    });
    Ok(tally.figures(threshold, feather.radius(), resampled))
}

pub(super) fn check_same_size(
    original: &RgbaImage,
    result: &RgbaImage,
    feather: &FeatherMask,
    threshold: u8,
    resampled: Option<Resampled>,
) -> OutsideCheck {
    let (w, h) = original.dimensions();
    let row_bytes = w as usize * 4;
    let mut heat = vec![0u8; row_bytes * h as usize];
    let (orig, res, weights) = (original.as_raw(), result.as_raw(), feather.as_raw());
    let tallies = for_row_bands(&mut heat, row_bytes, |first_row, band| {
        let start = first_row * row_bytes;
        let px = first_row * w as usize;
        tally_rows(
            &orig[start..start + band.len()],
            &res[start..start + band.len()],
            &weights[px..px + band.len() / 4],
            threshold,
            Some(band),
        )
    });
    let tally = tallies.into_iter().fold(Tally::default(), Tally::merge);
    let heatmap = RgbaImage::from_raw(w, h, heat).unwrap_or_else(|| RgbaImage::new(w, h));
    OutsideCheck {
        figures: tally.figures(threshold, feather.radius(), resampled),
        heatmap,
    }
}

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;
    use crate::compare::fixtures::{gradient, nearest_marked_d2, square_mask};

    #[test]
    fn outside_check_counts_a_known_leak() {
        let (w, h) = (64u32, 48u32);
        let original = gradient(w, h);
        let mask = square_mask(w, h, 30, 20, 10);
        let f = FeatherMask::new(&mask, 3);
        let mut result = original.clone();
        // Inside the mask: anything goes, not counted.
        for y in 20..30 {
            for x in 30..40 {
                result.put_pixel(x, y, Rgba([1, 2, 3, 255]));
            }
        }
        // In the band (one pixel left of the mask): not counted.
        result.put_pixel(29, 25, Rgba([255, 255, 255, 255]));
        // A 5x4 leak far from the mask, by +100 on green (gradient green is y*5 <= 235? clamp).
        let mut leaked = 0u64;
        for y in 2..6 {
            for x in 2..7 {
                let mut p = *original.get_pixel(x, y);
                p.0[1] = p.0[1].saturating_add(100);
                assert_eq!(p.0[1] - original.get_pixel(x, y).0[1], 100);
                result.put_pixel(x, y, p);
                leaked += 1;
            }
        }
        // A faint change (+5 on blue) below the threshold at one pixel.
        let mut p = *original.get_pixel(60, 40);
        p.0[2] = p.0[2].saturating_add(5);
        result.put_pixel(60, 40, p);

        let outside = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter(|&(x, y)| nearest_marked_d2(&mask, x, y).unwrap() > 9)
            .count() as u64;
        let check = check_outside(&original, &result, &f, 16).unwrap();
        let fig = check.figures;
        assert_eq!(fig.outside_pixels, outside);
        assert_eq!(fig.changed_pixels, leaked);
        assert!((fig.changed_fraction - leaked as f64 / outside as f64).abs() < 1e-12);
        let mean = (leaked * 100 + 5) as f64 / outside as f64;
        assert!((fig.mean_difference - mean).abs() < 1e-12);
        assert_eq!(fig.max_difference, 100);
        assert_eq!(fig.threshold, 16);
        assert_eq!(fig.feather_px, 3);
        assert!(fig.resampled.is_none());
        // The heatmap lights exactly the leaked pixels.
        for y in 0..h {
            for x in 0..w {
                let lit = check.heatmap.get_pixel(x, y).0[3] > 0;
                let in_leak = (2..7).contains(&x) && (2..6).contains(&y);
                assert_eq!(lit, in_leak, "heatmap at ({x},{y})");
            }
        }
        assert_eq!(check.heatmap.get_pixel(3, 3).0, heat_colour(100, 16));
        // The figures-only path agrees.
        assert_eq!(outside_figures(&original, &result, &f, 16).unwrap(), fig);
    }

    #[test]
    fn identical_result_has_no_outside_change_and_threshold_is_inclusive() {
        let original = gradient(20, 20);
        let f = FeatherMask::new(&square_mask(20, 20, 0, 0, 4), 2);
        let fig = outside_figures(&original, &original, &f, 16).unwrap();
        assert_eq!((fig.changed_pixels, fig.max_difference), (0, 0));
        assert_eq!(fig.mean_difference, 0.0);
        let mut result = original.clone();
        let mut p = *original.get_pixel(15, 15);
        p.0[3] = 255 - 16; // alpha counts too
        result.put_pixel(15, 15, p);
        let fig = outside_figures(&original, &result, &f, 16).unwrap();
        assert_eq!((fig.changed_pixels, fig.max_difference), (1, 16));
        let fig = outside_figures(&original, &result, &f, 17).unwrap();
        assert_eq!(fig.changed_pixels, 0);
        // Everything masked: nothing outside, fractions are 0 rather than NaN.
        let all = FeatherMask::new(&square_mask(20, 20, 0, 0, 20), 2);
        let fig = outside_figures(&original, &result, &all, 16).unwrap();
        assert_eq!((fig.outside_pixels, fig.changed_fraction), (0, 0.0));
    }

    #[test]
    fn heat_colour_runs_yellow_to_red() {
        let low = heat_colour(16, 16);
        let high = heat_colour(255, 16);
        assert_eq!(low, [255, 220, 0, 150]);
        assert_eq!(high, [255, 0, 0, 250]);
        assert!(heat_colour(100, 16)[1] < low[1]);
    }
}
