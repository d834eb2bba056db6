//! Comparing results with the original in one go: resample once, then composite (when keeping
//! the outside) and check outside the mask; [`CompareSettings`] holds the user's choices.

use image::RgbaImage;
use serde::{Deserialize, Serialize};

use super::composite::{composite_patch, composite_same_size};
use super::outside::{check_region, check_same_size};
use super::{
    CompareError, DEFAULT_FEATHER_PX, DEFAULT_NOTICEABLE_DIFFERENCE, FeatherMask, OutsideCheck,
    OutsideFigures, Patch, changed_bounds,
};
use crate::mask::Mask;

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
    let (fitted, resampled) = feather.fit_result(original, result)?;
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

/// One result compared with the original, kept as changes over it: what a large photo with a
/// small edit needs (no full-size copy is made; only the changed rectangle is worked on).
#[derive(Debug, Clone)]
pub struct RegionComparison {
    /// What to show and save, over the original: the composite with keep-outside on, else the
    /// raw (resampled) result. [`Patch::apply`] gives the same pixels as
    /// [`ResultComparison::shown`].
    pub shown: Patch,
    /// The outside-mask figures of the raw (resampled) result against the original.
    pub figures: OutsideFigures,
    /// The heatmap, as a patch over a transparent picture of the original's size; `None` when
    /// nothing changed noticeably outside the mask.
    pub heat: Option<Patch>,
    /// Whether `shown` is the result exactly as given (same size, and it changed nothing where
    /// the composite would blend), so the result's own file can stand for it.
    pub shown_is_raw: bool,
}

/// Compares one result like [`compare_result`], working only on the rectangle where it
/// differs from the original: outside it the composite and the result both equal the original,
/// and the outside check has nothing to count there but the pixels themselves.
pub fn compare_result_region(
    original: &RgbaImage,
    result: &RgbaImage,
    feather: &FeatherMask,
    settings: &CompareSettings,
) -> Result<RegionComparison, CompareError> {
    let (fitted, resampled) = feather.fit_result(original, result)?;
    let changed = changed_bounds(original, &fitted);
    let threshold = settings.noticeable_difference;
    let (figures, heat) = check_region(original, &fitted, feather, threshold, resampled, changed);
    let raw = match changed {
        Some(rect) => Patch::crop(&fitted, rect),
        None => Patch::unchanged(original.dimensions()),
    };
    let shown = if settings.keep_outside {
        composite_patch(original, &fitted, feather, changed)
    } else {
        raw.clone()
    };
    let shown_is_raw = resampled.is_none() && shown == raw;
    Ok(RegionComparison {
        shown,
        figures,
        heat,
        shown_is_raw,
    })
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

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;
    use crate::compare::fixtures::{gradient, square_mask};
    use crate::compare::{
        SheetOptions, check_outside, comparison_sheet, composite, outside_figures,
    };

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
    fn region_comparison_matches_the_full_one_bit_for_bit() {
        let (w, h) = (120u32, 90u32);
        let original = gradient(w, h);
        let mask = square_mask(w, h, 40, 30, 20);
        let feather = FeatherMask::new(&mask, 3);
        // A local-engine-like result (changes inside the mask only), one that also leaks
        // outside, one of another size and an identical one.
        let mut inside = original.clone();
        let mut leaking = original.clone();
        for y in 30..50 {
            for x in 40..60 {
                inside.put_pixel(x, y, Rgba([9, 8, 7, 255]));
                leaking.put_pixel(x, y, Rgba([9, 8, 7, 255]));
            }
        }
        for x in 5..15 {
            leaking.put_pixel(x, 80, Rgba([255, 255, 255, 255]));
        }
        let small = RgbaImage::from_pixel(60, 45, Rgba([1, 2, 3, 255]));
        for result in [&inside, &leaking, &small, &original] {
            for keep_outside in [true, false] {
                let settings = CompareSettings {
                    keep_outside,
                    ..CompareSettings::default()
                };
                let full = compare_result(&original, result, &feather, &settings).unwrap();
                let region = compare_result_region(&original, result, &feather, &settings).unwrap();
                assert_eq!(region.shown.apply(&original).unwrap(), full.shown);
                assert_eq!(region.figures, full.check.figures);
                let heat = match &region.heat {
                    Some(p) => p.apply(&RgbaImage::new(w, h)).unwrap(),
                    None => RgbaImage::new(w, h),
                };
                assert_eq!(heat, full.check.heatmap);
                assert_eq!(region.heat.is_some(), full.check.figures.changed_pixels > 0);
            }
        }
        let settings = CompareSettings::default();
        let r = compare_result_region(&original, &inside, &feather, &settings).unwrap();
        assert!(
            r.shown_is_raw,
            "changes inside the mask only: the composite is the result"
        );
        assert_eq!(
            r.shown.rect(),
            Some(crate::mask::DirtyRect::new(40, 30, 60, 50))
        );
        let r = compare_result_region(&original, &leaking, &feather, &settings).unwrap();
        assert!(!r.shown_is_raw, "the leak outside is not kept");
        let r = compare_result_region(&original, &small, &feather, &settings).unwrap();
        assert!(!r.shown_is_raw, "resampled");
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
}
