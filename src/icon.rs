//! The application icon, drawn by code at any size: a sign board on a blue tile with a brush
//! touching up its lettering. The window uses [`draw`] directly; the PNGs that the package
//! installs (`assets/icons/hicolor/NxN/apps/touchup.png`) are written by
//! `cargo run --example icons`, and a test checks that they are what this code draws.

use image::{Rgba, RgbaImage};

/// The sizes installed into the hicolor icon theme.
pub const SIZES: [u32; 8] = [16, 24, 32, 48, 64, 128, 256, 512];

/// Samples per pixel side (16 samples per pixel).
const SAMPLES: u32 = 4;

/// The desktop entry's name, the window's app id and the icon's name.
pub const APP_ID: &str = "touchup";

/// A colour with straight alpha, channels 0..1.
#[derive(Clone, Copy)]
struct Paint([f32; 4]);

impl Paint {
    fn rgb(hex: u32) -> Self {
        let c = |s: u32| ((hex >> s) & 0xff) as f32 / 255.0;
        Paint([c(16), c(8), c(0), 1.0])
    }

    fn mix(self, other: Paint, t: f32) -> Paint {
        let mut out = [0.0; 4];
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.0[i] + (other.0[i] - self.0[i]) * t;
        }
        Paint(out)
    }
}

/// Signed distance to a box centred at `c` with half sides `h` and corner radius `r`
/// (negative inside), in icon units (0..1 across the icon).
fn rounded_box(p: [f32; 2], c: [f32; 2], h: [f32; 2], r: f32) -> f32 {
    let qx = (p[0] - c[0]).abs() - h[0] + r;
    let qy = (p[1] - c[1]).abs() - h[1] + r;
    let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
    outside + qx.max(qy).min(0.0) - r
}

/// Signed distance to a capsule from `a` to `b` of radius `r`.
fn capsule(p: [f32; 2], a: [f32; 2], b: [f32; 2], r: f32) -> f32 {
    let (pa, ba) = ([p[0] - a[0], p[1] - a[1]], [b[0] - a[0], b[1] - a[1]]);
    let t = ((pa[0] * ba[0] + pa[1] * ba[1]) / (ba[0] * ba[0] + ba[1] * ba[1])).clamp(0.0, 1.0);
    ((pa[0] - ba[0] * t).powi(2) + (pa[1] - ba[1] * t).powi(2)).sqrt() - r
}

/// The icon's colour at point `p` (icon units), transparent outside the tile.
fn shade(p: [f32; 2]) -> Paint {
    let clear = Paint([0.0; 4]);
    if rounded_box(p, [0.5, 0.5], [0.46, 0.46], 0.2) > 0.0 {
        return clear;
    }
    // The tile: a blue that lightens towards the top.
    let mut out = Paint::rgb(0x1d4e89).mix(Paint::rgb(0x3a86c8), 1.0 - p[1]);
    let mut over = |d: f32, paint: Paint| {
        if d <= 0.0 {
            out = paint;
        }
    };
    // The board's shadow, the board with a dark rim, and its two posts.
    over(
        rounded_box(p, [0.5, 0.47], [0.36, 0.2], 0.05),
        Paint::rgb(0x163a66),
    );
    for x in [0.3, 0.7] {
        over(
            rounded_box(p, [x, 0.74], [0.035, 0.14], 0.01),
            Paint::rgb(0x5b3a24),
        );
    }
    over(
        rounded_box(p, [0.5, 0.44], [0.35, 0.19], 0.05),
        Paint::rgb(0x2b2b2b),
    );
    over(
        rounded_box(p, [0.5, 0.44], [0.31, 0.15], 0.03),
        Paint::rgb(0xf6ecd2),
    );
    // Two lines of lettering: the upper one dark, the lower one fresh (being touched up).
    over(
        capsule(p, [0.28, 0.37], [0.72, 0.37], 0.045),
        Paint::rgb(0x2b2b2b),
    );
    over(
        capsule(p, [0.28, 0.51], [0.56, 0.51], 0.045),
        Paint::rgb(0xe4572e),
    );
    // The brush: a handle from the lower right to a ferrule and a tip on the new line.
    over(
        capsule(p, [0.88, 0.9], [0.7, 0.68], 0.05),
        Paint::rgb(0xf2b134),
    );
    over(
        capsule(p, [0.7, 0.68], [0.64, 0.605], 0.052),
        Paint::rgb(0xb8bec6),
    );
    over(
        capsule(p, [0.64, 0.6], [0.585, 0.525], 0.038),
        Paint::rgb(0xe4572e),
    );
    out
}

/// The icon, `size` × `size` pixels, straight (unpremultiplied) alpha.
pub fn draw(size: u32) -> RgbaImage {
    let n = (SAMPLES * SAMPLES) as f32;
    RgbaImage::from_fn(size, size, |x, y| {
        // Premultiplied sums, so the edges blend with the transparent outside correctly.
        let mut sum = [0.0f32; 4];
        for sy in 0..SAMPLES {
            for sx in 0..SAMPLES {
                let p = [
                    (x as f32 + (sx as f32 + 0.5) / SAMPLES as f32) / size as f32,
                    (y as f32 + (sy as f32 + 0.5) / SAMPLES as f32) / size as f32,
                ];
                let c = shade(p).0;
                for i in 0..3 {
                    sum[i] += c[i] * c[3];
                }
                sum[3] += c[3];
            }
        }
        let alpha = sum[3] / n;
        let channel = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
        if alpha <= 0.0 {
            return Rgba([0, 0, 0, 0]);
        }
        Rgba([
            channel(sum[0] / sum[3]),
            channel(sum[1] / sum[3]),
            channel(sum[2] / sum[3]),
            channel(alpha),
        ])
    })
}

/// Where `cargo run --example icons` writes the PNG of `size`, relative to the repository.
pub fn png_path(size: u32) -> String {
    format!("assets/icons/hicolor/{size}x{size}/apps/{APP_ID}.png")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tile_is_opaque_inside_and_clear_at_the_corners() {
        let icon = draw(64);
        assert_eq!(icon.get_pixel(0, 0)[3], 0, "corner");
        assert_eq!(icon.get_pixel(63, 63)[3], 0, "corner");
        assert_eq!(icon.get_pixel(32, 4)[3], 255, "top edge of the tile");
        // The board is cream in the middle between the two lines of lettering.
        let board = icon.get_pixel(32, 28);
        assert!(
            board[0] > 200 && board[1] > 200 && board[2] > 170,
            "{board:?}"
        );
        // The fresh lettering is orange-red.
        let fresh = icon.get_pixel(22, 33);
        assert!(
            fresh[0] > 200 && fresh[1] < 120 && fresh[2] < 80,
            "{fresh:?}"
        );
    }
}
