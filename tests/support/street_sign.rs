//! A street sign on cobblestones, drawn in code: the test photo of the Object tool (tests/segment.rs
//! and tests/ui_object.rs).

use image::{Rgba, RgbaImage};
use touchup::fonts::{Typeface, render_line};

pub const W: u32 = 640;
pub const H: u32 = 480;
/// The sign's panel, frame included: columns 180..460, rows 90..250.
pub const PANEL: (u32, u32, u32, u32) = (180, 90, 460, 250);
/// The post under it: columns 312..328, rows 250..H.
pub const POST: (u32, u32, u32, u32) = (312, 250, 328, H);

pub fn inside(r: (u32, u32, u32, u32), x: u32, y: u32) -> bool {
    x >= r.0 && x < r.2 && y >= r.1 && y < r.3
}

/// A small hash for repeatable noise.
fn hash(mut v: u32) -> u32 {
    v ^= v >> 16;
    v = v.wrapping_mul(0x7feb_352d);
    v ^= v >> 15;
    v = v.wrapping_mul(0x846c_a68b);
    v ^ (v >> 16)
}

/// Cobblestones: staggered stones of varied brown-grey with dark joints and grain.
fn ground(x: u32, y: u32) -> [u8; 3] {
    let row = y / 28;
    let shift = if row.is_multiple_of(2) { 0 } else { 19 };
    let col = (x + shift) / 38;
    let (u, v) = ((x + shift) % 38, y % 28);
    let grain = (hash(x * 7919 + y * 104_729) % 31) as i32 - 15;
    if u < 3 || v < 3 {
        let g = 60 + grain / 2;
        return [g as u8, (g - 4) as u8, (g - 8) as u8];
    }
    let stone = hash(row * 1013 + col * 7);
    let base = 120 + (stone % 60) as i32;
    let warm = (stone >> 8) % 25;
    [
        (base + warm as i32 + grain).clamp(0, 255) as u8,
        (base + grain).clamp(0, 255) as u8,
        (base - warm as i32 + grain).clamp(0, 255) as u8,
    ]
}

/// The test photo: cobblestones, a grey post and a blue street sign with a metal frame and
/// white lettering.
pub fn photo() -> RgbaImage {
    let mut img = RgbaImage::from_fn(W, H, |x, y| {
        if inside(PANEL, x, y) {
            let edge = (x - PANEL.0)
                .min(PANEL.2 - 1 - x)
                .min(y - PANEL.1)
                .min(PANEL.3 - 1 - y);
            if edge < 6 {
                // The brushed metal frame.
                let g = 185 + (hash(x * 31 + y) % 20) as u8;
                Rgba([g, g, g + 5, 255])
            } else if edge < 10 {
                Rgba([240, 240, 240, 255])
            } else {
                Rgba([25, 60, 150, 255])
            }
        } else if inside(POST, x, y) {
            let shade = 80 + (x - POST.0) * 4;
            Rgba([shade as u8, shade as u8, (shade + 6) as u8, 255])
        } else {
            let [r, g, b] = ground(x, y);
            Rgba([r, g, b, 255])
        }
    });
    let ink = render_line(Typeface::SansBold, "MAIN ST", 64.0).expect("the bundled font");
    let (ox, oy) = (
        (PANEL.0 + PANEL.2 - ink.width) / 2,
        (PANEL.1 + PANEL.3 - ink.height) / 2,
    );
    for y in 0..ink.height {
        for x in 0..ink.width {
            let a = ink.get(x, y) as u32;
            let p = img.get_pixel_mut(ox + x, oy + y);
            for c in 0..3 {
                p[c] = ((p[c] as u32 * (255 - a) + 255 * a) / 255) as u8;
            }
        }
    }
    img
}
