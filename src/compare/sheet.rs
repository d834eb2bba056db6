//! The before/after sheet for sharing: the original and every result side by side, each
//! labelled above ("Original", "Result 1", ...).

use std::borrow::Cow;

use image::RgbaImage;
use image::imageops::FilterType;

use super::CompareError;
use crate::fonts::{Typeface, render_line};

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
    use image::Rgba;

    use super::*;

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
}
