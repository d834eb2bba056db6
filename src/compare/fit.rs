//! Fitting a result to the original's size: borrowed when it matches, otherwise resampled
//! (bilinear when enlarging, a triangle filter when shrinking), and said so ([`Resampled`]).

use std::borrow::Cow;

use image::RgbaImage;
use image::imageops::FilterType;
use serde::{Deserialize, Serialize};

use super::CompareError;
use super::bands::for_row_bands;

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

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;

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
}
