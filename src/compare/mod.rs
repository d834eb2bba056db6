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
//!
//! The parts: `fit` (resampling a result to the original's size), `feather` (the feathered
//! mask weights), `composite` (the result over the original), `outside` (the outside-mask
//! figures and heatmap), `comparison` (one or all results: composite and check together),
//! `region` (the changed rectangle and [`Patch`]: crop + offset over the original),
//! `sheet` (the labelled before/after sheet), `colour` (the colour match at the mask's edge), `paste`
//! (a result made for an edit area, fitted, matched and composited back into the photo)
//! and `bands` (splitting row passes over threads).

mod bands;
mod colour;
mod comparison;
mod composite;
mod feather;
mod fit;
mod outside;
mod paste;
mod region;
mod sheet;

pub use colour::*;
pub use comparison::*;
pub use composite::*;
pub use feather::*;
pub use fit::*;
pub use outside::*;
pub use paste::*;
pub use region::*;
pub use sheet::*;

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
    #[error(
        "a changed region of {width}x{height} pixels at ({x}, {y}) does not fit the \
         {image_width}x{image_height} picture it belongs to"
    )]
    PatchMismatch {
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        image_width: u32,
        image_height: u32,
    },
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Pictures and masks the compare tests share, and a brute-force distance to check against.
    use image::{Rgba, RgbaImage};

    use crate::mask::Mask;

    pub fn gradient(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            Rgba([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
                255,
            ])
        })
    }

    pub fn square_mask(w: u32, h: u32, x: i64, y: i64, s: i64) -> Mask {
        let mut m = Mask::new(w, h);
        m.fill_rect(x, y, s, s, 255);
        m
    }

    /// Squared distance from (x, y) to the nearest marked pixel, brute force.
    pub fn nearest_marked_d2(mask: &Mask, x: u32, y: u32) -> Option<u64> {
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
}
