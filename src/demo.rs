//! The demo photo: a storefront with a sign, drawn by code so the project ships no borrowed
//! picture. `touchup demo --out assets/demo-storefront.png` redraws the bundled copy; a test
//! checks that the bundled file is exactly what this code draws.

use image::{Rgba, RgbaImage};

use crate::fonts::{Typeface, render_line};

pub const WIDTH: u32 = 1536;
pub const HEIGHT: u32 = 1024;

/// The bundled PNG (what [`draw`] makes).
pub const BUNDLED_PNG: &[u8] = include_bytes!("../assets/demo-storefront.png");

/// The rectangle of the sign board (x, y, w, h): what a designer would mask first.
pub const SIGN: (u32, u32, u32, u32) = (308, 96, 920, 170);

fn hash(x: u32, y: u32, seed: u32) -> u32 {
    let mut h =
        x.wrapping_mul(0x8da6_b343) ^ y.wrapping_mul(0xd816_3841) ^ seed.wrapping_mul(0xcb1a_b31f);
    h ^= h >> 13;
    h = h.wrapping_mul(0x5bd1_e995);
    h ^= h >> 15;
    h
}

/// Noise in -1.0..1.0.
fn noise(x: u32, y: u32, seed: u32) -> f32 {
    (hash(x, y, seed) & 0xffff) as f32 / 32767.5 - 1.0
}

fn shade(c: [f32; 3], k: f32) -> Rgba<u8> {
    let f = |v: f32| (v * k).clamp(0.0, 255.0).round() as u8;
    Rgba([f(c[0]), f(c[1]), f(c[2]), 255])
}

/// Repaints a box; `f` gets each pixel's position and current colour.
fn fill(
    img: &mut RgbaImage,
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
    mut f: impl FnMut(u32, u32, Rgba<u8>) -> Rgba<u8>,
) {
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            let old = *img.get_pixel(x, y);
            img.put_pixel(x, y, f(x, y, old));
        }
    }
}

fn blend(under: Rgba<u8>, over: [u8; 3], a: f32) -> Rgba<u8> {
    let m = |u: u8, o: u8| (u as f32 * (1.0 - a) + o as f32 * a).round() as u8;
    Rgba([
        m(under[0], over[0]),
        m(under[1], over[1]),
        m(under[2], over[2]),
        255,
    ])
}

/// Draws `text` centred in the box, `px` high, in `color`.
fn text(img: &mut RgbaImage, face: Typeface, s: &str, px: f32, centre: (f32, f32), color: [u8; 3]) {
    let Some(bmp) = render_line(face, s, px) else {
        return;
    };
    let x0 = (centre.0 - bmp.width as f32 / 2.0).round() as i64;
    let y0 = (centre.1 - bmp.height as f32 / 2.0).round() as i64;
    for y in 0..bmp.height {
        for x in 0..bmp.width {
            let c = bmp.get(x, y);
            let (px_, py_) = (x0 + x as i64, y0 + y as i64);
            if c > 0
                && px_ >= 0
                && py_ >= 0
                && (px_ as u32) < img.width()
                && (py_ as u32) < img.height()
            {
                let p = img.get_pixel(px_ as u32, py_ as u32);
                let out = blend(*p, color, c as f32 / 255.0);
                img.put_pixel(px_ as u32, py_ as u32, out);
            }
        }
    }
}

/// Draws the storefront.
pub fn draw() -> RgbaImage {
    let mut img = wall();
    // Sidewalk.
    fill(&mut img, 0, 880, WIDTH, HEIGHT, |x, y, _| {
        let joint = (x % 192) < 3 || ((y - 880) % 72) < 3;
        let k = 1.0 + noise(x, y, 5) * 0.05;
        if joint {
            shade([110.0, 110.0, 112.0], k)
        } else {
            shade([168.0, 166.0, 160.0], k)
        }
    });
    // The sign board: dark green with a gold frame.
    let (sx, sy, sw, sh) = SIGN;
    fill(&mut img, sx, sy, sx + sw, sy + sh, |x, y, _| {
        let frame = x < sx + 10 || x >= sx + sw - 10 || y < sy + 10 || y >= sy + sh - 10;
        let k = 1.0 + noise(x, y, 9) * 0.04;
        if frame {
            shade([196.0, 160.0, 72.0], k)
        } else {
            shade([28.0, 74.0, 52.0], k)
        }
    });
    text(
        &mut img,
        Typeface::SerifBold,
        "BAKERY & CAFE",
        104.0,
        ((sx + sw / 2) as f32, (sy + sh / 2) as f32),
        [236, 222, 180],
    );
    // Awning: red and cream stripes with a scalloped edge.
    let (ay0, ay1) = (300u32, 392u32);
    fill(&mut img, 220, ay0, 1316, ay1 + 16, |x, y, old| {
        let stripe = ((x - 220) / 48) % 2 == 0;
        let scallop_y =
            ay1 as f32 + 16.0 * ((((x - 220) % 48) as f32 / 48.0) * std::f32::consts::PI).sin();
        if y as f32 > scallop_y {
            return old;
        }
        let k = 0.85 + 0.15 * ((y - ay0) as f32 / (ay1 - ay0) as f32);
        if stripe {
            shade([176.0, 36.0, 40.0], k)
        } else {
            shade([236.0, 226.0, 204.0], k)
        }
    });
    // Shop window with a reflection and lettering.
    let (wx0, wy0, wx1, wy1) = (260u32, 440u32, 900u32, 860u32);
    fill(
        &mut img,
        wx0 - 14,
        wy0 - 14,
        wx1 + 14,
        wy1 + 14,
        |x, y, _| shade([52.0, 46.0, 40.0], 1.0 + noise(x, y, 2) * 0.05),
    );
    fill(&mut img, wx0, wy0, wx1, wy1, |x, y, _| {
        let t = (y - wy0) as f32 / (wy1 - wy0) as f32;
        let streak = (((x + y) as f32 / 90.0).sin() * 0.5 + 0.5).powf(12.0) * 40.0;
        shade(
            [
                40.0 + 30.0 * t + streak,
                58.0 + 30.0 * t + streak,
                70.0 + 26.0 * t + streak,
            ],
            1.0,
        )
    });
    text(
        &mut img,
        Typeface::SansBold,
        "OPEN 7AM-3PM",
        44.0,
        (((wx0 + wx1) / 2) as f32, (wy0 + 70) as f32),
        [250, 250, 244],
    );
    text(
        &mut img,
        Typeface::SansBold,
        "FRESH BREAD DAILY",
        30.0,
        (((wx0 + wx1) / 2) as f32, (wy0 + 124) as f32),
        [232, 200, 120],
    );
    // Wooden door.
    let (dx0, dy0, dx1, dy1) = (1000u32, 440u32, 1240u32, 880u32);
    fill(&mut img, dx0 - 12, dy0 - 12, dx1 + 12, dy1, |x, y, _| {
        shade([52.0, 46.0, 40.0], 1.0 + noise(x, y, 4) * 0.05)
    });
    fill(&mut img, dx0, dy0, dx1, dy1, |x, y, _| {
        let plank = (x - dx0) / 40;
        let seam = (x - dx0) % 40 < 2;
        let grain =
            ((y as f32 / 7.0 + noise(plank, 0, 8) * 9.0).sin() * 0.05) + noise(x, y, 6) * 0.04;
        if seam {
            shade([60.0, 36.0, 20.0], 1.0)
        } else {
            shade([138.0, 88.0, 50.0], 1.0 + grain)
        }
    });
    fill(&mut img, dx1 - 40, 650, dx1 - 26, 680, |_, _, _| {
        Rgba([212, 180, 90, 255])
    });
    img
}

/// The demo photo, decoded from the bundled PNG (drawn afresh if that ever fails).
pub fn image() -> RgbaImage {
    crate::imageio::decode(BUNDLED_PNG).unwrap_or_else(|_| draw())
}

/// The brick wall behind everything.
fn wall() -> RgbaImage {
    let (bw, bh, mortar) = (72u32, 26u32, 5u32);
    let mut img = RgbaImage::new(WIDTH, HEIGHT);
    fill(&mut img, 0, 0, WIDTH, 880, |x, y, _| {
        let course = y / bh;
        let off = if course % 2 == 1 { bw / 2 } else { 0 };
        let bx = (x + off) / bw;
        let in_mortar = (y % bh) < mortar || ((x + off) % bw) < mortar;
        let grain = noise(x, y, 7) * 0.06;
        if in_mortar {
            shade([186.0, 178.0, 164.0], 1.0 + grain)
        } else {
            let tone = 1.0 + noise(bx, course, 3) * 0.12 + grain;
            let base = if hash(bx, course, 11).is_multiple_of(5) {
                [128.0, 58.0, 42.0]
            } else {
                [156.0, 72.0, 52.0]
            };
            shade(base, tone)
        }
    });
    img
}

#[cfg(test)]
mod tests {
    #[test]
    fn bundled_demo_is_what_the_code_draws() {
        let bundled = crate::imageio::decode(super::BUNDLED_PNG).expect("bundled demo decodes");
        assert_eq!(bundled.dimensions(), (super::WIDTH, super::HEIGHT));
        assert!(
            bundled == super::draw(),
            "assets/demo-storefront.png is stale: run `touchup demo --out assets/demo-storefront.png`"
        );
    }
}
