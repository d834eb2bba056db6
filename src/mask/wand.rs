//! The magic wand: the connected region around a clicked pixel whose colour lies within a
//! tolerance of the clicked colour, measured in OKLab (a perceptual colour space: equal steps
//! look equally different, so one tolerance behaves alike on dark and light panels).
//!
//! Distances are ΔE in OKLab scaled by 100 (black to white is 100; about 2 is a just visible
//! difference). Alpha is ignored: the wand looks at colour only.
//!
//! The search is split in two so a 4096x4096 photo never stalls the UI: [`wand_region`] reads
//! only the image and can run on a worker thread (with a cancel flag); [`WandRegion::apply`]
//! then changes the mask in one quick pass, inside [`super::MaskEditor::apply`] for undo.

use std::sync::atomic::AtomicBool;

use image::RgbaImage;

use super::flood::{Cancelled, scanline_fill};
use super::shapes::Combine;
use super::{Connectivity, DirtyRect, Mask};

/// How the wand decides which pixels belong to the region.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WandOptions {
    /// Largest OKLab ΔE (x100) from the clicked colour still selected, 0..=100.
    pub tolerance: f32,
    pub connectivity: Connectivity,
}

impl Default for WandOptions {
    fn default() -> Self {
        Self {
            tolerance: Self::DEFAULT_TOLERANCE,
            connectivity: Connectivity::Four,
        }
    }
}

impl WandOptions {
    pub const DEFAULT_TOLERANCE: f32 = 10.0;
    pub const MAX_TOLERANCE: f32 = 100.0;
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WandError {
    #[error(
        "the wand point {x},{y} lies outside the {width}x{height} image; click inside the picture"
    )]
    SeedOutside {
        x: u32,
        y: u32,
        width: u32,
        height: u32,
    },
    #[error("wand tolerance {0} is out of range: use a number from 0 to 100")]
    BadTolerance(f32),
    #[error(
        "the mask is {mask_w}x{mask_h} pixels but the image is {image_w}x{image_h}; the wand needs the image the mask belongs to"
    )]
    SizeMismatch {
        mask_w: u32,
        mask_h: u32,
        image_w: u32,
        image_h: u32,
    },
    #[error("the magic wand was cancelled")]
    Cancelled,
}

impl From<Cancelled> for WandError {
    fn from(_: Cancelled) -> Self {
        WandError::Cancelled
    }
}

/// The pixels a wand click selected (a full-size 0/1 raster and its bounding box).
#[derive(Clone, PartialEq, Eq)]
pub struct WandRegion {
    width: u32,
    height: u32,
    selected: Vec<u8>,
    bounds: Option<DirtyRect>,
}

impl std::fmt::Debug for WandRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WandRegion")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bounds", &self.bounds)
            .finish()
    }
}

impl WandRegion {
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The smallest rectangle holding the region (`None` only for an empty region).
    pub fn bounds(&self) -> Option<DirtyRect> {
        self.bounds
    }

    pub fn contains(&self, x: u32, y: u32) -> bool {
        x < self.width
            && y < self.height
            && self.selected[y as usize * self.width as usize + x as usize] != 0
    }

    /// How many pixels the region holds.
    pub fn pixel_count(&self) -> usize {
        let Some(b) = self.bounds else { return 0 };
        let w = self.width as usize;
        (b.y0..b.y1)
            .map(|y| {
                let row = y as usize * w;
                self.selected[row + b.x0 as usize..row + b.x1 as usize]
                    .iter()
                    .filter(|&&v| v != 0)
                    .count()
            })
            .sum()
    }

    /// Marks (Add) or unmarks (Subtract) the region's pixels with full coverage. Returns the
    /// box of pixels that changed; `None` when the mask has another size or nothing changed.
    pub fn apply(&self, mask: &mut Mask, combine: Combine) -> Option<DirtyRect> {
        if mask.size() != (self.width, self.height) {
            return None;
        }
        let b = self.bounds?;
        let value = match combine {
            Combine::Add => 255,
            Combine::Subtract => 0,
        };
        let w = self.width as usize;
        let mut changed: Option<DirtyRect> = None;
        for y in b.y0..b.y1 {
            let sel = &self.selected[y as usize * w..(y as usize + 1) * w];
            let row = mask.row_mut(y);
            let (mut first, mut last) = (u32::MAX, 0u32);
            for x in b.x0..b.x1 {
                let i = x as usize;
                if sel[i] != 0 && row[i] != value {
                    row[i] = value;
                    first = first.min(x);
                    last = x;
                }
            }
            if first != u32::MAX {
                let line = DirtyRect::new(first, y, last + 1, y + 1);
                changed = Some(changed.map_or(line, |c| c.union(line)));
            }
        }
        changed
    }
}

/// sRGB byte to linear light.
fn srgb_to_linear_table() -> [f32; 256] {
    let mut t = [0.0f32; 256];
    for (i, v) in t.iter_mut().enumerate() {
        let c = i as f32 / 255.0;
        *v = if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        };
    }
    t
}

/// OKLab (L, a, b) of an sRGB colour, each scaled by 100.
fn oklab(linear: &[f32; 256], r: u8, g: u8, b: u8) -> [f32; 3] {
    let (r, g, b) = (linear[r as usize], linear[g as usize], linear[b as usize]);
    let l = 0.412_221_46 * r + 0.536_332_55 * g + 0.051_445_995 * b;
    let m = 0.211_903_5 * r + 0.680_699_5 * g + 0.107_396_96 * b;
    let s = 0.088_302_46 * r + 0.281_718_85 * g + 0.629_978_7 * b;
    let (l, m, s) = (l.cbrt(), m.cbrt(), s.cbrt());
    [
        100.0 * (0.210_454_26 * l + 0.793_617_8 * m - 0.004_072_047 * s),
        100.0 * (1.977_998_5 * l - 2.428_592_2 * m + 0.450_593_7 * s),
        100.0 * (0.025_904_037 * l + 0.782_771_77 * m - 0.808_675_77 * s),
    ]
}

/// OKLab ΔE (x100) between two sRGB colours.
pub fn colour_distance(a: [u8; 3], b: [u8; 3]) -> f32 {
    let lin = srgb_to_linear_table();
    let p = oklab(&lin, a[0], a[1], a[2]);
    let q = oklab(&lin, b[0], b[1], b[2]);
    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt()
}

/// "Is this colour within the tolerance of the seed?", remembered per distinct colour (two bits
/// for each of the 2^24 RGB colours: 4 MiB), so each colour costs one OKLab conversion however
/// many pixels share it.
struct ColourTest {
    linear: [f32; 256],
    seed: [f32; 3],
    tolerance_sq: f32,
    /// Per colour: 0 unknown, 1 outside, 2 inside.
    memo: Vec<u8>,
}

impl ColourTest {
    fn new(seed: [u8; 3], tolerance: f32) -> Self {
        let linear = srgb_to_linear_table();
        let seed = oklab(&linear, seed[0], seed[1], seed[2]);
        Self {
            linear,
            seed,
            tolerance_sq: tolerance * tolerance,
            memo: vec![0u8; 1 << 22],
        }
    }

    #[inline]
    fn accepts(&mut self, r: u8, g: u8, b: u8) -> bool {
        let key = (r as usize) << 16 | (g as usize) << 8 | b as usize;
        let (byte, shift) = (key >> 2, (key & 3) * 2);
        match (self.memo[byte] >> shift) & 3 {
            2 => true,
            1 => false,
            _ => {
                let c = oklab(&self.linear, r, g, b);
                let d = (c[0] - self.seed[0]).powi(2)
                    + (c[1] - self.seed[1]).powi(2)
                    + (c[2] - self.seed[2]).powi(2);
                let inside = d <= self.tolerance_sq;
                self.memo[byte] |= (if inside { 2 } else { 1 }) << shift;
                inside
            }
        }
    }
}

/// Finds the wand region around `seed` without touching any mask. Safe to run on a worker
/// thread; set `cancel` to stop it early (it then returns [`WandError::Cancelled`]).
pub fn wand_region(
    image: &RgbaImage,
    seed: (u32, u32),
    options: &WandOptions,
    cancel: Option<&AtomicBool>,
) -> Result<WandRegion, WandError> {
    let (width, height) = image.dimensions();
    let (sx, sy) = seed;
    if sx >= width || sy >= height {
        return Err(WandError::SeedOutside {
            x: sx,
            y: sy,
            width,
            height,
        });
    }
    if !(0.0..=WandOptions::MAX_TOLERANCE).contains(&options.tolerance) {
        return Err(WandError::BadTolerance(options.tolerance));
    }
    let pixels = image.as_raw();
    let w = width as usize;
    let seed_px = image.get_pixel(sx, sy).0;
    let mut test = ColourTest::new([seed_px[0], seed_px[1], seed_px[2]], options.tolerance);
    let mut selected = vec![0u8; w * height as usize];
    let bounds = scanline_fill(
        width,
        height,
        [seed],
        options.connectivity,
        &mut selected,
        |x, y| {
            let i = (y as usize * w + x as usize) * 4;
            test.accepts(pixels[i], pixels[i + 1], pixels[i + 2])
        },
        cancel,
    )?;
    tracing::debug!(?bounds, tolerance = options.tolerance, "magic wand region");
    Ok(WandRegion {
        width,
        height,
        selected,
        bounds,
    })
}

/// The wand in one call: finds the region around `seed` in `image` and adds it to (or
/// subtracts it from) `mask`. Returns the changed box.
pub fn magic_wand(
    mask: &mut Mask,
    image: &RgbaImage,
    seed: (u32, u32),
    options: &WandOptions,
    combine: Combine,
    cancel: Option<&AtomicBool>,
) -> Result<Option<DirtyRect>, WandError> {
    if mask.size() != image.dimensions() {
        return Err(WandError::SizeMismatch {
            mask_w: mask.width(),
            mask_h: mask.height(),
            image_w: image.width(),
            image_h: image.height(),
        });
    }
    let region = wand_region(image, seed, options, cancel)?;
    Ok(region.apply(mask, combine))
}
