//! The working raster of the fill: a rectangle cut out of the photo as floating-point RGBA,
//! with the hole (the marked pixels) beside it.

use image::RgbaImage;

use crate::mask::{DirtyRect, Mask};

pub(crate) type Rgba = [f32; 4];

#[derive(Debug, Clone)]
pub(crate) struct Canvas {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) pixels: Vec<Rgba>,
    /// `true` where the pixel is to be filled.
    pub(crate) hole: Vec<bool>,
}

impl Canvas {
    /// Cuts `area` out of `image`; hole = mask coverage at or above the threshold.
    pub(crate) fn cut(image: &RgbaImage, mask: &Mask, area: DirtyRect) -> Self {
        let width = area.width() as usize;
        let height = area.height() as usize;
        let mut pixels = Vec::with_capacity(width * height);
        let mut hole = Vec::with_capacity(width * height);
        for y in area.y0..area.y1 {
            for x in area.x0..area.x1 {
                let p = image.get_pixel(x, y).0;
                pixels.push([p[0] as f32, p[1] as f32, p[2] as f32, p[3] as f32]);
                hole.push(mask.is_marked(x, y));
            }
        }
        Self {
            width,
            height,
            pixels,
            hole,
        }
    }

    /// Writes the hole pixels (only those) back into `image` at `area`.
    pub(crate) fn paste_hole(&self, image: &mut RgbaImage, area: DirtyRect) {
        for y in 0..self.height {
            for x in 0..self.width {
                let i = y * self.width + x;
                if self.hole[i] {
                    let v = self.pixels[i];
                    let px = image::Rgba([
                        quantize(v[0]),
                        quantize(v[1]),
                        quantize(v[2]),
                        quantize(v[3]),
                    ]);
                    image.put_pixel(area.x0 + x as u32, area.y0 + y as u32, px);
                }
            }
        }
    }

    pub(crate) fn hole_count(&self) -> usize {
        self.hole.iter().filter(|&&h| h).count()
    }

    /// The hole's largest distance to a known pixel ([`Canvas::hole_depth`]'s largest finite
    /// value; 0 without a hole).
    pub(crate) fn max_hole_depth(&self) -> f32 {
        self.hole_depth()
            .into_iter()
            .filter(|d| *d < 1.0e8)
            .fold(0.0, f32::max)
    }

    /// For every pixel, the chamfer distance (in pixels) to the nearest known pixel; 0 for
    /// known pixels. Outside the canvas counts as unknown, so a hole on the image border is
    /// only reached from inside.
    pub(crate) fn hole_depth(&self) -> Vec<f32> {
        const FAR: f32 = 1.0e9;
        let (w, h) = (self.width, self.height);
        let mut d: Vec<f32> = self
            .hole
            .iter()
            .map(|&m| if m { FAR } else { 0.0 })
            .collect();
        let diag = std::f32::consts::SQRT_2;
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if d[i] == 0.0 {
                    continue;
                }
                let mut best = d[i];
                if x > 0 {
                    best = best.min(d[i - 1] + 1.0);
                }
                if y > 0 {
                    best = best.min(d[i - w] + 1.0);
                    if x > 0 {
                        best = best.min(d[i - w - 1] + diag);
                    }
                    if x + 1 < w {
                        best = best.min(d[i - w + 1] + diag);
                    }
                }
                d[i] = best;
            }
        }
        for y in (0..h).rev() {
            for x in (0..w).rev() {
                let i = y * w + x;
                if d[i] == 0.0 {
                    continue;
                }
                let mut best = d[i];
                if x + 1 < w {
                    best = best.min(d[i + 1] + 1.0);
                }
                if y + 1 < h {
                    best = best.min(d[i + w] + 1.0);
                    if x + 1 < w {
                        best = best.min(d[i + w + 1] + diag);
                    }
                    if x > 0 {
                        best = best.min(d[i + w - 1] + diag);
                    }
                }
                d[i] = best;
            }
        }
        d
    }
}

/// The grey level of a pixel (ITU-R BT.601 weights), as every step of the fill measures it.
#[inline]
pub(crate) fn grey(p: &Rgba) -> f32 {
    0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
}

/// The squared RGB distance between two pixels (alpha not counted).
#[inline]
pub(crate) fn squared_difference(a: &Rgba, b: &Rgba) -> f32 {
    let (d0, d1, d2) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    d0 * d0 + d1 * d1 + d2 * d2
}

fn quantize(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}
