//! The new string drawn in the old line's style: the closest face (by weight and width, from
//! the old line's own reading drawn in each), synthetic weight and slant, sized to the old cap
//! height, laid on the old baseline (angle and perspective), aligned as the old line was,
//! softened to the photo's edge width and given its grain.

use image::RgbaImage;

use super::super::seeded_random::SeededRandom;
use super::analyse::{edge_width, stroke_width};
use super::faces::{Face, Glyphs, embolden, rasterise};
use super::measure::{Alignment, LineStyle};
use crate::mask::{DirtyRect, Mask};

/// A face and how to bend it towards the old lettering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipe {
    pub face: Face,
    /// Pixels per em for the old cap height.
    pub px: f32,
    /// Stroke growth on each side, pixels (negative thins).
    pub embolden: f32,
    /// Extra pixels between letters.
    pub tracking: f32,
}

/// A usable sample of the old line's text for comparing faces.
fn sample_text(reading: &str) -> Option<&str> {
    let chars = reading.chars().filter(|c| !c.is_whitespace()).count();
    (chars >= 2 && reading.chars().all(|c| c.is_ascii_graphic() || c == ' ')).then_some(reading)
}

fn ink_width(g: &Glyphs) -> f32 {
    g.right - g.left
}

fn glyph_stroke(g: &Glyphs) -> f32 {
    stroke_width(&g.coverage, g.width, g.height, |_| true)
}

/// Picks the face whose stroke (and, when the old line was read, width) is closest, and the
/// synthetic weight and spacing that close the rest of the gap.
pub fn choose(style: &LineStyle, reading: &str) -> Option<Recipe> {
    let sample = sample_text(reading);
    let probe = sample.unwrap_or("Hamburgefonts");
    let old_width = style.end - style.start;
    let mut best: Option<(f32, Recipe)> = None;
    for face in Face::ALL {
        let px = style.cap_height / face.cap_ratio()?;
        let Some(g) = rasterise(face, probe, px, 0.0, 2) else {
            continue;
        };
        let stroke = glyph_stroke(&g);
        let mut cost = (style.stroke.max(0.5) / stroke.max(0.5)).ln().abs();
        if sample.is_some() {
            cost += 0.6 * (old_width.max(1.0) / ink_width(&g).max(1.0)).ln().abs();
        }
        let recipe = Recipe {
            face,
            px,
            embolden: ((style.stroke - stroke) / 2.0).clamp(-0.3 * stroke, 0.4 * stroke),
            tracking: 0.0,
        };
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, recipe));
        }
    }
    let (_, mut recipe) = best?;
    if let Some(text) = sample {
        let gaps = text.chars().count().saturating_sub(1).max(1) as f32;
        if let Some(g) = rasterise(recipe.face, text, recipe.px, 0.0, 2) {
            let drawn = ink_width(&g) + 2.0 * recipe.embolden;
            recipe.tracking = ((old_width - drawn) / gaps)
                .clamp(-0.15 * style.cap_height, 0.6 * style.cap_height);
        }
    }
    Some(recipe)
}

/// Where a string was drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    pub px: f32,
    pub cap_height: f32,
    pub area: DirtyRect,
    pub colour: [u8; 3],
    /// Share of the string's ink that fell outside the mask (and was not drawn).
    pub clipped: f32,
}

/// Renders `text` with `recipe` scaled by `scale`.
fn render(recipe: &Recipe, text: &str, scale: f32) -> Option<Glyphs> {
    let g = rasterise(
        recipe.face,
        text,
        recipe.px * scale,
        recipe.tracking * scale,
        3,
    )?;
    Some(embolden(&g, recipe.embolden * scale))
}

/// Draws `text` into `image` (inside `mask` only) on the old line's baseline, `shift` pixels
/// below it (for strings beyond the old lines).
#[allow(clippy::too_many_arguments)]
pub fn draw(
    image: &mut RgbaImage,
    mask: &Mask,
    frame: &super::analyse::Frame,
    style: &LineStyle,
    recipe: &Recipe,
    text: &str,
    colour: [u8; 3],
    shift: f32,
    seed: u64,
) -> Option<Drawn> {
    let cap = style.cap_height.max(1.0);
    let lo = style.start.min(style.room_left + 0.3 * cap);
    let hi = style.end.max(style.room_right - 0.3 * cap);
    let mut scale = 1.0;
    let mut glyphs = render(recipe, text, scale)?;
    let room = (hi - lo).max(1.0);
    // Too long for the room: first narrower letters (down to 82 %, as a condensed cut would
    // be), then smaller ones.
    let mut squeeze = 1.0f32;
    if ink_width(&glyphs) > room {
        squeeze = (room / ink_width(&glyphs)).max(0.82);
        if ink_width(&glyphs) * squeeze > room {
            scale = room / (ink_width(&glyphs) * squeeze);
            glyphs = render(recipe, text, scale)?;
        }
    }
    let width = ink_width(&glyphs) * squeeze;
    let x0 = match style.alignment {
        Alignment::Left => style.start,
        Alignment::Right => style.end - width,
        Alignment::Centre => (style.start + style.end - width) / 2.0,
    };
    let x0 = x0.max(lo).min(hi - width);
    // The baseline's own frame: through the old baseline, along its angle.
    let (ox, oy) = frame.to_image(0.0, style.baseline_t0 + shift);
    let theta = style.angle.to_radians();
    let u = [theta.cos(), theta.sin()];
    let v = [-u[1], u[0]];
    let shear = style.slant.to_radians().tan();
    let middle = (style.start + style.end) / 2.0;
    let ascent = glyphs.baseline + 2.0;
    let descent = glyphs.height as f32 - glyphs.baseline + 2.0;
    let tall = ascent * (1.0 + style.keystone.abs() * width / cap);
    // Target pixels: the box of the placed glyphs.
    let corners = [
        (x0 - 4.0, -tall),
        (x0 + width + 4.0 + shear.abs() * tall, -tall),
        (x0 + width + 4.0 + shear.abs() * tall, descent * 1.5),
        (x0 - 4.0 - shear.abs() * descent, descent * 1.5),
    ]
    .map(|(s, t)| (ox + s * u[0] + t * v[0], oy + s * u[1] + t * v[1]));
    let (iw, ih) = (image.width() as f32, image.height() as f32);
    let bx0 = corners
        .iter()
        .map(|p| p.0)
        .fold(f32::MAX, f32::min)
        .floor()
        .clamp(0.0, iw) as u32;
    let by0 = corners
        .iter()
        .map(|p| p.1)
        .fold(f32::MAX, f32::min)
        .floor()
        .clamp(0.0, ih) as u32;
    let bx1 = corners
        .iter()
        .map(|p| p.0)
        .fold(f32::MIN, f32::max)
        .ceil()
        .clamp(0.0, iw) as u32;
    let by1 = corners
        .iter()
        .map(|p| p.1)
        .fold(f32::MIN, f32::max)
        .ceil()
        .clamp(0.0, ih) as u32;
    if bx1 <= bx0 || by1 <= by0 {
        return None;
    }
    let (w, h) = ((bx1 - bx0) as usize, (by1 - by0) as usize);
    let mut cover = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let (px, py) = (
                bx0 as f32 + x as f32 + 0.5 - ox,
                by0 as f32 + y as f32 + 0.5 - oy,
            );
            let s = px * u[0] + py * u[1];
            let t = px * v[0] + py * v[1];
            let up = -t;
            let grow = (1.0 + style.keystone * (s - middle) / cap).max(0.2);
            let gx = (s - shear * up - x0) / squeeze + glyphs.left;
            let gy = glyphs.baseline - up / grow;
            cover[y * w + x] = glyphs.sample(gx, gy);
        }
    }
    // Soften to the old edge.
    let own = edge_width(&cover, w, h, |_| true);
    let extra = (style.edge * style.edge - own * own).max(0.0).sqrt() / 2.5;
    if extra > 0.3 {
        blur(&mut cover, w, h, extra.min(4.0));
    }
    let mut random = SeededRandom::derive(seed, 0x1E77);
    let (mut drawn, mut clipped) = (0.0f32, 0.0f32);
    for y in 0..h {
        for x in 0..w {
            let a = cover[y * w + x];
            if a <= 0.004 {
                continue;
            }
            let (px, py) = (bx0 + x as u32, by0 + y as u32);
            if !mask.is_marked(px, py) {
                clipped += a;
                continue;
            }
            drawn += a;
            let noise = (random.unit() + random.unit() + random.unit() - 1.5) * 2.0 * style.grain;
            let p = image.get_pixel_mut(px, py);
            for (channel, &ink) in p.0.iter_mut().zip(&colour) {
                let v = *channel as f32 * (1.0 - a) + (ink as f32 + noise) * a;
                *channel = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Some(Drawn {
        px: recipe.px * scale,
        cap_height: style.cap_height * scale,
        area: DirtyRect::new(bx0, by0, bx1, by1),
        colour,
        clipped: clipped / (drawn + clipped).max(1e-3),
    })
}

/// Separable Gaussian blur in place.
fn blur(values: &mut [f32], w: usize, h: usize, sigma: f32) {
    let r = (sigma * 3.0).ceil() as i64;
    let kernel: Vec<f32> = (-r..=r)
        .map(|k| (-(k * k) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    let mut tmp = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (k, kv) in kernel.iter().enumerate() {
                let xx = (x as i64 + k as i64 - r).clamp(0, w as i64 - 1) as usize;
                acc += values[y * w + xx] * kv;
            }
            tmp[y * w + x] = acc;
        }
    }
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (k, kv) in kernel.iter().enumerate() {
                let yy = (y as i64 + k as i64 - r).clamp(0, h as i64 - 1) as usize;
                acc += tmp[yy * w + x] * kv;
            }
            values[y * w + x] = acc;
        }
    }
}
