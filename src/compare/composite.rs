//! The composite: the result over the original through the feathered mask, the original bit
//! for bit outside mask and band.

use image::RgbaImage;

use super::bands::for_row_bands;
use super::{CompareError, FeatherMask, Resampled, fit_to_size};

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

pub(super) fn composite_same_size(
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

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;
    use crate::compare::fixtures::{gradient, nearest_marked_d2, square_mask};
    use crate::mask::Mask;

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
