//! Comparing results with the original in one go: resample once, then composite (when keeping
//! the outside) and check outside the mask; [`CompareSettings`] holds the user's choices.

use image::RgbaImage;
use serde::{Deserialize, Serialize};

use super::composite::composite_same_size;
use super::outside::check_same_size;
use super::{
    CompareError, DEFAULT_FEATHER_PX, DEFAULT_NOTICEABLE_DIFFERENCE, FeatherMask, OutsideCheck,
    fit_to_size,
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
