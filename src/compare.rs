//! Comparing results with the original: fitting a result to the original's size, keeping the
//! pixels outside the mask (a composite through a feathered mask), checking what a result
//! changed outside the mask (a heatmap and figures), and the labelled before/after sheet for
//! sharing.
//!
//! Everything here works on full-resolution RGBA pixels with plain row loops; the heavy passes
//! split their rows over the machine's cores with `std::thread::scope`.
//!
//! Regions, for a mask and a feather radius `r` (pixels):
//! - *inside*: mask coverage at or above [`THRESHOLD`] (what was sent to the model as marked);
//! - *feather band*: unmarked pixels whose Euclidean distance to the nearest marked pixel is at
//!   most `r`;
//! - *outside*: everything else. A composite equals the original here bit for bit, and the
//!   outside-mask check looks only here.

use std::borrow::Cow;

use image::RgbaImage;
use image::imageops::FilterType;
use serde::{Deserialize, Serialize};

use crate::fonts::{Typeface, render_line};
use crate::mask::{Mask, THRESHOLD};

/// The feather radius used unless the user picks another (pixels).
pub const DEFAULT_FEATHER_PX: u32 = 4;
/// The widest feather accepted (pixels); larger requests are clamped to this.
pub const MAX_FEATHER_PX: u32 = 64;
/// A pixel outside the mask counts as *changed noticeably* when the largest of its four channel
/// differences (R, G, B, A, in 0..=255 levels) is at least this: 16 levels is about 6 %, above
/// what re-encoding as JPEG or WebP at usual qualities moves a pixel, well below a visible edit.
pub const DEFAULT_NOTICEABLE_DIFFERENCE: u8 = 16;

/// What went wrong while comparing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    #[error(
        "the mask is {mask_width}x{mask_height} pixels but the original is \
         {image_width}x{image_height}; the mask must be made on the same picture"
    )]
    MaskSizeMismatch {
        mask_width: u32,
        mask_height: u32,
        image_width: u32,
        image_height: u32,
    },
    #[error("{which} has no pixels (0x0); nothing to compare")]
    EmptyImage { which: String },
}

/// A result that came back at another size than the original and was resampled to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resampled {
    /// The result's size as returned (width, height).
    pub from: (u32, u32),
    /// The original's size it was resampled to.
    pub to: (u32, u32),
    /// True when the aspect ratios differ by more than one pixel, so the result was stretched.
    pub stretched: bool,
}

impl std::fmt::Display for Resampled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "resampled from {}x{} to {}x{}",
            self.from.0, self.from.1, self.to.0, self.to.1
        )?;
        if self.stretched {
            write!(f, " (aspect ratio differed: stretched)")?;
        }
        Ok(())
    }
}

/// Returns `result` at `width` x `height`: borrowed when it already has that size, otherwise
/// resampled (bilinear when enlarging, a triangle filter when shrinking), with what was done.
pub fn fit_to_size(
    result: &RgbaImage,
    width: u32,
    height: u32,
) -> Result<(Cow<'_, RgbaImage>, Option<Resampled>), CompareError> {
    let (rw, rh) = result.dimensions();
    if rw == 0 || rh == 0 {
        return Err(CompareError::EmptyImage {
            which: "the result".into(),
        });
    }
    if width == 0 || height == 0 {
        return Err(CompareError::EmptyImage {
            which: "the original".into(),
        });
    }
    if (rw, rh) == (width, height) {
        return Ok((Cow::Borrowed(result), None));
    }
    // Would the result's aspect ratio, scaled to the original's width, miss its height by more
    // than a pixel?
    let expected_h = rh as f64 * width as f64 / rw as f64;
    let stretched = (expected_h - height as f64).abs() > 1.0;
    let resized = if width >= rw && height >= rh {
        upscale_bilinear(result, width, height)
    } else {
        image::imageops::resize(result, width, height, FilterType::Triangle)
    };
    tracing::debug!(from = ?(rw, rh), to = ?(width, height), "resampled a result to the original's size");
    Ok((
        Cow::Owned(resized),
        Some(Resampled {
            from: (rw, rh),
            to: (width, height),
            stretched,
        }),
    ))
}

/// Bilinear enlargement with pixel centres aligned (fixed point, rows split over threads): the
/// common case of a model returning a smaller picture. Every output channel lies between the
/// source values around it.
fn upscale_bilinear(src: &RgbaImage, width: u32, height: u32) -> RgbaImage {
    let (sw, sh) = (src.width() as usize, src.height() as usize);
    // For each output coordinate: the two source coordinates and the weight of the second (0..=256).
    let taps = |out: u32, src_len: usize| -> Vec<(usize, usize, u32)> {
        (0..out)
            .map(|i| {
                let f = ((i as f64 + 0.5) * src_len as f64 / out as f64 - 0.5).max(0.0);
                let i0 = (f.floor() as usize).min(src_len - 1);
                let i1 = (i0 + 1).min(src_len - 1);
                let frac = (((f - i0 as f64) * 256.0).round() as u32).min(256);
                (i0, i1, frac)
            })
            .collect()
    };
    let (xs, ys) = (taps(width, sw), taps(height, sh));
    let row_bytes = width as usize * 4;
    let mut out = vec![0u8; row_bytes * height as usize];
    let data = src.as_raw();
    for_row_bands(&mut out, row_bytes, |first_row, band| {
        for (i, row) in band.chunks_exact_mut(row_bytes).enumerate() {
            let (y0, y1, fy) = ys[first_row + i];
            let top = &data[y0 * sw * 4..(y0 + 1) * sw * 4];
            let bottom = &data[y1 * sw * 4..(y1 + 1) * sw * 4];
            for (o, &(x0, x1, fx)) in row.chunks_exact_mut(4).zip(&xs) {
                for c in 0..4 {
                    let t = top[x0 * 4 + c] as u32 * (256 - fx) + top[x1 * 4 + c] as u32 * fx;
                    let b = bottom[x0 * 4 + c] as u32 * (256 - fx) + bottom[x1 * 4 + c] as u32 * fx;
                    o[c] = ((t * (256 - fy) + b * fy + 32_768) >> 16) as u8;
                }
            }
        }
    });
    RgbaImage::from_raw(width, height, out).unwrap_or_else(|| RgbaImage::new(width, height))
}

/// How many threads a pass over `pixels` pixels uses.
fn thread_count(pixels: usize) -> usize {
    if pixels < 1 << 18 {
        return 1;
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// Runs `work(first_row, rows_chunk)` over horizontal bands of `out` (rows of `row_len`
/// elements), one band per thread, and returns each band's answer in order.
fn for_row_bands<T, R, F>(out: &mut [T], row_len: usize, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(usize, &mut [T]) -> R + Sync,
{
    let rows = out.len().checked_div(row_len).unwrap_or(0);
    let threads = thread_count(out.len()).min(rows.max(1));
    if threads <= 1 {
        return vec![work(0, out)];
    }
    let rows_per_band = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = out
            .chunks_mut(rows_per_band * row_len)
            .enumerate()
            .map(|(i, chunk)| {
                let work = &work;
                scope.spawn(move || work(i * rows_per_band, chunk))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

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

    fn check_image(&self, original: &RgbaImage) -> Result<(), CompareError> {
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

/// A composite of a result over the original.
#[derive(Debug, Clone)]
pub struct Composite {
    pub image: RgbaImage,
    /// Set when the result had another size and was resampled before compositing.
    pub resampled: Option<Resampled>,
}

/// The result over the original through the feathered mask: the original bit for bit outside
/// mask and band, the (resampled) result inside the mask, a blend in the band.
pub fn composite(
    original: &RgbaImage,
    result: &RgbaImage,
    feather: &FeatherMask,
) -> Result<Composite, CompareError> {
    feather.check_image(original)?;
    let (result, resampled) = fit_to_size(result, original.width(), original.height())?;
    Ok(Composite {
        image: composite_same_size(original, &result, feather),
        resampled,
    })
}

fn composite_same_size(
    original: &RgbaImage,
    result: &RgbaImage,
    feather: &FeatherMask,
) -> RgbaImage {
    let (w, h) = original.dimensions();
    let row_bytes = w as usize * 4;
    let mut out = vec![0u8; row_bytes * h as usize];
    let (orig, res, weights) = (original.as_raw(), result.as_raw(), feather.as_raw());
    for_row_bands(&mut out, row_bytes, |first_row, band| {
        let start = first_row * row_bytes;
        let orig = &orig[start..start + band.len()];
        let res = &res[start..start + band.len()];
        let weights = &weights[first_row * w as usize..first_row * w as usize + band.len() / 4];
        // Most pixels keep the original: copy the band at once, then touch only the others.
        band.copy_from_slice(orig);
        for (i, &wt) in weights.iter().enumerate() {
            if wt == 0 {
                continue;
            }
            let px = i * 4..i * 4 + 4;
            let (o, a, b) = (&mut band[px.clone()], &orig[px.clone()], &res[px]);
            match wt {
                255 => o.copy_from_slice(b),
                _ => {
                    let (wa, wb) = (255 - wt as u32, wt as u32);
                    for c in 0..4 {
                        o[c] = ((a[c] as u32 * wa + b[c] as u32 * wb + 127) / 255) as u8;
                    }
                }
            }
        }
    });
    match RgbaImage::from_raw(w, h, out) {
        Some(img) => img,
        // The buffer is allocated for exactly w x h pixels above.
        None => RgbaImage::new(w, h),
    }
}

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

fn check_same_size(
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

/// Settings for comparing results.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompareSettings {
    /// Feather radius in pixels.
    pub feather_px: u32,
    /// Noticeable difference threshold in levels (see [`DEFAULT_NOTICEABLE_DIFFERENCE`]).
    pub noticeable_difference: u8,
    /// Composite results over the original (keep outside pixels); off keeps the raw output.
    pub keep_outside: bool,
}

impl Default for CompareSettings {
    fn default() -> Self {
        Self {
            feather_px: DEFAULT_FEATHER_PX,
            noticeable_difference: DEFAULT_NOTICEABLE_DIFFERENCE,
            keep_outside: true,
        }
    }
}

/// One result compared with the original.
#[derive(Debug, Clone)]
pub struct ResultComparison {
    /// The image to show and save: the composite with keep-outside on, else the raw result
    /// (resampled to the original's size when it differed).
    pub shown: RgbaImage,
    /// The outside-mask check of the raw (resampled) result against the original.
    pub check: OutsideCheck,
}

/// Compares one result: resamples once, then composites (when `keep_outside`) and checks.
pub fn compare_result(
    original: &RgbaImage,
    result: &RgbaImage,
    feather: &FeatherMask,
    settings: &CompareSettings,
) -> Result<ResultComparison, CompareError> {
    feather.check_image(original)?;
    let (fitted, resampled) = fit_to_size(result, original.width(), original.height())?;
    let check = check_same_size(
        original,
        &fitted,
        feather,
        settings.noticeable_difference,
        resampled,
    );
    let shown = if settings.keep_outside {
        composite_same_size(original, &fitted, feather)
    } else {
        fitted.into_owned()
    };
    Ok(ResultComparison { shown, check })
}

/// Compares every result with the original (the feather is computed once).
pub fn compare_results(
    original: &RgbaImage,
    results: &[RgbaImage],
    mask: &Mask,
    settings: &CompareSettings,
) -> Result<Vec<ResultComparison>, CompareError> {
    let feather = FeatherMask::new(mask, settings.feather_px);
    feather.check_image(original)?;
    results
        .iter()
        .map(|r| compare_result(original, r, &feather, settings))
        .collect()
}

/// Layout of the before/after sheet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SheetOptions {
    /// Each tile fits within this many pixels on its longest side.
    pub max_tile_side: u32,
    /// Tiles per row before wrapping.
    pub max_columns: usize,
    /// Space between and around tiles (pixels).
    pub gap: u32,
    /// Label text size (pixels per em).
    pub label_px: f32,
    pub background: [u8; 4],
    pub label_colour: [u8; 4],
}

impl Default for SheetOptions {
    fn default() -> Self {
        Self {
            max_tile_side: 1024,
            max_columns: 5,
            gap: 16,
            label_px: 28.0,
            background: [30, 30, 30, 255],
            label_colour: [245, 245, 245, 255],
        }
    }
}

/// The label of tile `index` on the sheet: "Original", then "Result 1", "Result 2", ...
pub fn sheet_label(index: usize) -> String {
    if index == 0 {
        "Original".to_string()
    } else {
        format!("Result {index}")
    }
}

/// Where each tile's picture landed on the sheet (for tests and for drawing extras).
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub image: RgbaImage,
    /// (x, y, width, height) of each tile's picture, in order: original, result 1, ...
    pub tiles: Vec<(u32, u32, u32, u32)>,
    /// (x, y, width, height) of each label strip.
    pub labels: Vec<(u32, u32, u32, u32)>,
}

/// A before/after comparison sheet: the original and every result side by side (wrapping after
/// `max_columns`), each labelled above ("Original", "Result 1", ...). Results are scaled to the
/// original's tile size.
pub fn comparison_sheet(
    original: &RgbaImage,
    results: &[&RgbaImage],
    options: &SheetOptions,
) -> Result<Sheet, CompareError> {
    let (ow, oh) = original.dimensions();
    if ow == 0 || oh == 0 {
        return Err(CompareError::EmptyImage {
            which: "the original".into(),
        });
    }
    if let Some(i) = results
        .iter()
        .position(|r| r.width() == 0 || r.height() == 0)
    {
        return Err(CompareError::EmptyImage {
            which: format!("result {}", i + 1),
        });
    }
    let side = options.max_tile_side.max(16);
    let scale = (side as f64 / ow.max(oh) as f64).min(1.0);
    let tw = ((ow as f64 * scale).round() as u32).max(1);
    let th = ((oh as f64 * scale).round() as u32).max(1);
    let label_px = options.label_px.clamp(6.0, 200.0);
    let strip_h = (label_px * 1.6).ceil() as u32;
    let count = results.len() + 1;
    let columns = options.max_columns.clamp(1, count);
    let rows = count.div_ceil(columns);
    let gap = options.gap;
    let sheet_w = gap + columns as u32 * (tw + gap);
    let sheet_h = gap + rows as u32 * (strip_h + th + gap);
    let mut image = RgbaImage::from_pixel(sheet_w, sheet_h, image::Rgba(options.background));
    let mut tiles = Vec::with_capacity(count);
    let mut labels = Vec::with_capacity(count);
    let sources = std::iter::once(original).chain(results.iter().copied());
    for (i, src) in sources.enumerate() {
        let (col, row) = ((i % columns) as u32, (i / columns) as u32);
        let x = gap + col * (tw + gap);
        let y = gap + row * (strip_h + th + gap);
        let tile: Cow<'_, RgbaImage> = if src.dimensions() == (tw, th) {
            Cow::Borrowed(src)
        } else {
            Cow::Owned(image::imageops::resize(src, tw, th, FilterType::Triangle))
        };
        image::imageops::replace(&mut image, tile.as_ref(), x as i64, (y + strip_h) as i64);
        tiles.push((x, y + strip_h, tw, th));
        labels.push((x, y, tw, strip_h));
        if let Some(text) = render_line(Typeface::SansBold, &sheet_label(i), label_px) {
            let ty = y + strip_h.saturating_sub(text.height) / 2;
            draw_coverage(
                &mut image,
                &text.coverage,
                text.width,
                x,
                ty,
                tw,
                options.label_colour,
            );
        }
    }
    Ok(Sheet {
        image,
        tiles,
        labels,
    })
}

/// Blends `colour` through a coverage bitmap at (x, y), clipped to `max_w` columns and the image.
fn draw_coverage(
    image: &mut RgbaImage,
    coverage: &[u8],
    width: u32,
    x: u32,
    y: u32,
    max_w: u32,
    colour: [u8; 4],
) {
    if width == 0 {
        return;
    }
    for (row, line) in coverage.chunks(width as usize).enumerate() {
        let py = y + row as u32;
        if py >= image.height() {
            break;
        }
        for (col, &c) in line.iter().enumerate().take(max_w as usize) {
            let px = x + col as u32;
            if c == 0 || px >= image.width() {
                continue;
            }
            let dst = image.get_pixel_mut(px, py);
            for (d, &c_ch) in dst.0.iter_mut().zip(&colour).take(3) {
                *d = ((*d as u32 * (255 - c as u32) + c_ch as u32 * c as u32 + 127) / 255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn gradient(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            Rgba([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
                255,
            ])
        })
    }

    fn square_mask(w: u32, h: u32, x: i64, y: i64, s: i64) -> Mask {
        let mut m = Mask::new(w, h);
        m.fill_rect(x, y, s, s, 255);
        m
    }

    /// Squared distance from (x, y) to the nearest marked pixel, brute force.
    fn nearest_marked_d2(mask: &Mask, x: u32, y: u32) -> Option<u64> {
        let mut best = None;
        for my in 0..mask.height() {
            for mx in 0..mask.width() {
                if mask.is_marked(mx, my) {
                    let d2 = (mx.abs_diff(x) as u64).pow(2) + (my.abs_diff(y) as u64).pow(2);
                    best = Some(best.map_or(d2, |b: u64| b.min(d2)));
                }
            }
        }
        best
    }

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

    #[test]
    fn composite_keeps_outside_takes_inside_blends_band() {
        let original = RgbaImage::from_pixel(30, 20, Rgba([0, 0, 0, 255]));
        let result = RgbaImage::from_pixel(30, 20, Rgba([255, 255, 255, 255]));
        let mask = square_mask(30, 20, 10, 5, 6);
        let f = FeatherMask::new(&mask, 4);
        let c = composite(&original, &result, &f).unwrap();
        assert!(c.resampled.is_none());
        for y in 0..20 {
            for x in 0..30 {
                let p = c.image.get_pixel(x, y).0;
                let d2 = nearest_marked_d2(&mask, x, y).unwrap();
                if d2 == 0 {
                    assert_eq!(p, [255, 255, 255, 255]);
                } else if d2 > 16 {
                    assert_eq!(p, [0, 0, 0, 255], "({x},{y})");
                } else {
                    assert!(p[0] > 0 && p[0] < 255, "({x},{y}) in the band is {p:?}");
                    assert_eq!(p[3], 255);
                }
            }
        }
        // The seam is soft: nearer the mask is brighter.
        assert!(c.image.get_pixel(9, 7).0[0] > c.image.get_pixel(8, 7).0[0]);
    }

    #[test]
    fn result_of_another_size_is_resampled_and_reported() {
        let original = gradient(40, 30);
        let result = RgbaImage::from_pixel(20, 15, Rgba([9, 9, 9, 255]));
        let mask = square_mask(40, 30, 5, 5, 10);
        let f = FeatherMask::new(&mask, 2);
        let c = composite(&original, &result, &f).unwrap();
        assert_eq!(c.image.dimensions(), (40, 30));
        let r = c.resampled.unwrap();
        assert_eq!((r.from, r.to, r.stretched), ((20, 15), (40, 30), false));
        assert!(r.to_string().contains("20x15 to 40x30"));
        assert_eq!(c.image.get_pixel(8, 8).0, [9, 9, 9, 255]);
        let stretched = fit_to_size(&RgbaImage::new(10, 10), 40, 30)
            .unwrap()
            .1
            .unwrap();
        assert!(stretched.stretched);
        assert!(stretched.to_string().contains("stretched"));
    }

    #[test]
    fn bilinear_enlargement_interpolates_within_neighbours() {
        let flat = RgbaImage::from_pixel(7, 5, Rgba([10, 20, 30, 40]));
        let (big, info) = fit_to_size(&flat, 29, 23).unwrap();
        assert!(info.is_some());
        assert!(big.pixels().all(|p| p.0 == [10, 20, 30, 40]));
        // A horizontal ramp 0, 255: the output rises monotonically from 0 to 255.
        let ramp = RgbaImage::from_fn(2, 1, |x, _| Rgba([if x == 0 { 0 } else { 255 }, 0, 0, 255]));
        let (big, _) = fit_to_size(&ramp, 8, 3).unwrap();
        let row: Vec<u8> = (0..8).map(|x| big.get_pixel(x, 1).0[0]).collect();
        assert_eq!((row[0], row[7]), (0, 255));
        assert!(row.windows(2).all(|w| w[0] <= w[1]), "{row:?}");
        assert!(row[3] > 0 && row[4] < 255);
        // Four times wider: output pixel 3's centre (3.5 / 4 - 0.5 = 0.375) sits three eighths
        // of the way from source 0 to source 1: 255 * 3 / 8 = 95.6, rounded.
        assert_eq!(big.get_pixel(3, 0).0[0], 96);
        assert_eq!(
            big.get_pixel(1, 0).0[0],
            0,
            "left of the first centre clamps"
        );
    }

    #[test]
    fn mismatched_or_empty_inputs_are_errors_not_panics() {
        let original = gradient(10, 10);
        let f = FeatherMask::new(&Mask::new(12, 10), 2);
        let err = composite(&original, &original, &f).unwrap_err();
        assert!(matches!(
            err,
            CompareError::MaskSizeMismatch { mask_width: 12, .. }
        ));
        assert!(err.to_string().contains("12x10"));
        let f = FeatherMask::new(&Mask::new(10, 10), 2);
        let err = check_outside(&original, &RgbaImage::new(0, 0), &f, 16).unwrap_err();
        assert!(matches!(err, CompareError::EmptyImage { .. }));
        assert!(comparison_sheet(&RgbaImage::new(0, 3), &[], &SheetOptions::default()).is_err());
    }

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

    #[test]
    fn compare_results_composites_or_keeps_raw() {
        let original = gradient(32, 32);
        let results = vec![
            RgbaImage::from_pixel(32, 32, Rgba([200, 0, 0, 255])),
            RgbaImage::from_pixel(16, 16, Rgba([0, 200, 0, 255])),
        ];
        let mask = square_mask(32, 32, 8, 8, 8);
        let on = compare_results(&original, &results, &mask, &CompareSettings::default()).unwrap();
        assert_eq!(on.len(), 2);
        assert_eq!(on[0].shown.get_pixel(0, 0), original.get_pixel(0, 0));
        assert_eq!(on[0].shown.get_pixel(10, 10).0, [200, 0, 0, 255]);
        assert!(on[1].check.figures.resampled.is_some());
        assert_eq!(on[1].shown.get_pixel(31, 31), original.get_pixel(31, 31));
        // The raw result changed everything outside; the figures say so.
        assert_eq!(
            on[0].check.figures.changed_pixels,
            on[0].check.figures.outside_pixels
        );
        let off = CompareSettings {
            keep_outside: false,
            ..CompareSettings::default()
        };
        let raw = compare_results(&original, &results, &mask, &off).unwrap();
        assert_eq!(raw[0].shown.get_pixel(0, 0).0, [200, 0, 0, 255]);
        assert_eq!(raw[1].shown.dimensions(), (32, 32));
    }

    #[test]
    fn large_images_split_over_threads_match_single_thread() {
        // 600x500 is above the threading cut-off; compare with the brute-force expectation.
        let (w, h) = (600u32, 500u32);
        let original = gradient(w, h);
        let result = RgbaImage::from_pixel(w, h, Rgba([1, 2, 3, 4]));
        let mut mask = Mask::new(w, h);
        mask.fill_rect(100, 100, 50, 300, 255);
        mask.fill_rect(400, 0, 10, 10, 255);
        let f = FeatherMask::new(&mask, 5);
        let c = composite(&original, &result, &f).unwrap();
        for y in (0..h).step_by(7) {
            for x in (0..w).step_by(3) {
                let near_a = x + 5 >= 100 && x < 155 && y + 5 >= 100 && y < 405;
                let near_b = x + 5 >= 400 && x < 415 && y < 15;
                if !near_a && !near_b {
                    assert_eq!(c.image.get_pixel(x, y), original.get_pixel(x, y));
                }
            }
        }
        assert_eq!(c.image.get_pixel(120, 250).0, [1, 2, 3, 4]);
        let fig = outside_figures(&original, &result, &f, 16).unwrap();
        assert_eq!(fig.outside_pixels, f.outside_count());
        let check = check_outside(&original, &result, &f, 16).unwrap();
        assert_eq!(check.figures, fig);
    }

    #[test]
    fn sheet_places_labelled_tiles() {
        let original = RgbaImage::from_pixel(200, 100, Rgba([200, 0, 0, 255]));
        let r1 = RgbaImage::from_pixel(200, 100, Rgba([0, 200, 0, 255]));
        let r2 = RgbaImage::from_pixel(100, 50, Rgba([0, 0, 200, 255]));
        let opts = SheetOptions {
            max_tile_side: 100,
            max_columns: 2,
            ..SheetOptions::default()
        };
        let sheet = comparison_sheet(&original, &[&r1, &r2], &opts).unwrap();
        assert_eq!(sheet.tiles.len(), 3);
        assert_eq!(sheet.tiles[0].2, 100);
        assert_eq!(sheet.tiles[0].3, 50);
        // Two columns: the third tile wraps to a second row.
        assert_eq!(sheet.tiles[2].0, sheet.tiles[0].0);
        assert!(sheet.tiles[2].1 > sheet.tiles[0].1);
        let expect = [[200, 0, 0, 255], [0, 200, 0, 255], [0, 0, 200, 255]];
        for (t, colour) in sheet.tiles.iter().zip(expect) {
            let (x, y, w, h) = *t;
            assert_eq!(sheet.image.get_pixel(x + w / 2, y + h / 2).0, colour);
            assert_eq!(sheet.image.get_pixel(x, y).0, colour);
            assert_eq!(sheet.image.get_pixel(x + w - 1, y + h - 1).0, colour);
        }
        // Each label strip has ink, and the labels differ ("Original" vs "Result 1").
        let strip = |i: usize| {
            let (x, y, w, h) = sheet.labels[i];
            let mut px = Vec::new();
            for yy in y..y + h {
                for xx in x..x + w {
                    px.push(sheet.image.get_pixel(xx, yy).0);
                }
            }
            px
        };
        for i in 0..3 {
            assert!(strip(i).iter().any(|p| p[0] > 200), "label {i} has ink");
        }
        assert_ne!(strip(0), strip(1));
        assert_ne!(strip(1), strip(2));
        assert_eq!(sheet_label(0), "Original");
        assert_eq!(sheet_label(2), "Result 2");
        // The background shows between tiles.
        assert_eq!(sheet.image.get_pixel(0, 0).0, opts.background);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// (width, height, coverage, radius, result width, result height, original, result).
        type Case = (u32, u32, Vec<u8>, u32, u32, u32, Vec<u8>, Vec<u8>);

        fn arb_case() -> impl Strategy<Value = Case> {
            (1u32..28, 1u32..28, 0u32..7, 1u32..40, 1u32..40).prop_flat_map(|(w, h, r, rw, rh)| {
                let n = (w * h) as usize;
                (
                    Just(w),
                    Just(h),
                    // Mostly unmarked coverage with some marked pixels.
                    proptest::collection::vec(
                        prop_oneof![6 => Just(0u8), 1 => any::<u8>(), 2 => Just(255u8)],
                        n,
                    ),
                    Just(r),
                    // Result size: same as the original half the time.
                    prop_oneof![Just(w), Just(rw)],
                    prop_oneof![Just(h), Just(rh)],
                    proptest::collection::vec(any::<u8>(), n * 4),
                    proptest::collection::vec(any::<u8>(), 40 * 40 * 4),
                )
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            #[test]
            fn composite_equals_original_outside_mask_and_feather(
                (w, h, coverage, r, rw, rh, orig_px, res_px) in arb_case()
            ) {
                let mask = Mask::from_raw(w, h, coverage).unwrap();
                let original = RgbaImage::from_raw(w, h, orig_px).unwrap();
                let result = RgbaImage::from_raw(rw, rh, res_px[..(rw * rh * 4) as usize].to_vec()).unwrap();
                let f = FeatherMask::new(&mask, r);
                let c = composite(&original, &result, &f).unwrap();
                prop_assert_eq!(c.image.dimensions(), (w, h));
                prop_assert_eq!(c.resampled.is_some(), (rw, rh) != (w, h));
                let (fitted, _) = fit_to_size(&result, w, h).unwrap();
                for y in 0..h {
                    for x in 0..w {
                        let d2 = nearest_marked_d2(&mask, x, y);
                        let got = c.image.get_pixel(x, y);
                        match d2 {
                            Some(0) => prop_assert_eq!(got, fitted.get_pixel(x, y)),
                            Some(d2) if d2 <= (r * r) as u64 => {}
                            _ => prop_assert_eq!(got, original.get_pixel(x, y), "at ({}, {})", x, y),
                        }
                    }
                }
            }
        }
    }
}
