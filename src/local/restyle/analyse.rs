//! One text line's box split into its two populations, ink and ground (and whatever is
//! neither: a panel's border, a pictogram, the pole), and the old strokes erased.
//!
//! The ground's colour is the median of the box's outer ring; every pixel's distance from it
//! is split in two by Otsu's threshold; the far population's median is the ink. Each pixel
//! then gets an ink coverage, its position between ground and ink along the line joining
//! them. Letters are the connected pieces of ink that stay clear of the ring (a border or a
//! pole crossing the box touches it and is left alone).

use image::RgbaImage;

use super::super::seeded_random::SeededRandom;
use crate::mask::Mask;
use crate::text::Quad;

/// A line's own coordinates: `s` along the reading direction from the box's top-left corner,
/// `t` across it, downwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub origin: [f32; 2],
    pub u: [f32; 2],
    pub v: [f32; 2],
    pub length: f32,
    pub height: f32,
}

impl Frame {
    pub fn from_quad(q: &Quad) -> Self {
        let d = |a: [f32; 2], b: [f32; 2]| ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        let length = d(q[0], q[1]).max(1e-3);
        let height = d(q[0], q[3]).max(1e-3);
        let u = [(q[1][0] - q[0][0]) / length, (q[1][1] - q[0][1]) / length];
        // Down: the reading direction turned a quarter clockwise (y grows down).
        let v = [-u[1], u[0]];
        Self {
            origin: q[0],
            u,
            v,
            length,
            height,
        }
    }

    /// Image position -> (s, t).
    pub fn to_line(&self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = (x - self.origin[0], y - self.origin[1]);
        (
            dx * self.u[0] + dy * self.u[1],
            dx * self.v[0] + dy * self.v[1],
        )
    }

    /// (s, t) -> image position.
    pub fn to_image(&self, s: f32, t: f32) -> (f32, f32) {
        (
            self.origin[0] + s * self.u[0] + t * self.v[0],
            self.origin[1] + s * self.u[1] + t * self.v[1],
        )
    }

    /// Angle of the reading direction, degrees clockwise from the x axis.
    pub fn angle(&self) -> f32 {
        self.u[1].atan2(self.u[0]).to_degrees()
    }
}

/// What a pixel of the box is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Outside the (grown) box.
    Outside,
    Ground,
    /// Part of a letter.
    Letter,
    /// Neither: ink-coloured pieces touching the ring, other colours, soft fringes.
    Other,
}

/// A line's box, classified.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub frame: Frame,
    /// The axis-aligned pixels analysed: x0, y0, width, height.
    pub x0: u32,
    pub y0: u32,
    pub width: usize,
    pub height: usize,
    /// Per pixel of the region: colour, ink coverage 0..1 and class.
    pub rgb: Vec<[f32; 3]>,
    pub alpha: Vec<f32>,
    pub class: Vec<Class>,
    /// Letters as lists of region pixel indices.
    pub letters: Vec<Vec<usize>>,
    pub ground: [f32; 3],
    pub ink: [f32; 3],
    /// Distance from ground to ink colour (RGB levels).
    pub contrast: f32,
    /// Margin the box was grown by.
    pub margin: f32,
}

fn median(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    values.select_nth_unstable_by(mid, f32::total_cmp);
    values[mid]
}

fn median_colour(pixels: impl Iterator<Item = [f32; 3]>) -> [f32; 3] {
    let all: Vec<[f32; 3]> = pixels.collect();
    let mut out = [0.0; 3];
    for (c, slot) in out.iter_mut().enumerate() {
        let mut v: Vec<f32> = all.iter().map(|p| p[c]).collect();
        *slot = median(&mut v);
    }
    out
}

pub fn distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Otsu's threshold of values in 0..=442.
fn otsu(values: &[f32]) -> f32 {
    let mut hist = [0u32; 443];
    for &v in values {
        hist[(v.round() as usize).min(442)] += 1;
    }
    let total = values.len() as f64;
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &n)| i as f64 * n as f64)
        .sum();
    let (mut w0, mut sum0) = (0.0f64, 0.0f64);
    let (mut best, mut best_t) = (-1.0f64, 0usize);
    for (t, &n) in hist.iter().enumerate() {
        w0 += n as f64;
        sum0 += t as f64 * n as f64;
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0, (sum - sum0) / w1);
        let between = w0 * w1 * (m0 - m1).powi(2);
        if between > best {
            best = between;
            best_t = t;
        }
    }
    best_t as f32 + 0.5
}

/// The lowest ink-to-ground distance taken for lettering (RGB levels).
const MIN_CONTRAST: f32 = 28.0;

impl Analysis {
    /// Classifies the pixels of `quad` (grown by a margin); `None` when the box holds no two
    /// distinct populations or no letter.
    pub fn of(image: &RgbaImage, quad: &Quad) -> Option<Self> {
        let frame = Frame::from_quad(quad);
        let margin = (0.15 * frame.height).clamp(2.0, 12.0);
        let ring = 2.0f32.min(margin);
        let corners = [
            frame.to_image(-margin, -margin),
            frame.to_image(frame.length + margin, -margin),
            frame.to_image(frame.length + margin, frame.height + margin),
            frame.to_image(-margin, frame.height + margin),
        ];
        let fmin = |f: fn(&(f32, f32)) -> f32| corners.iter().map(f).fold(f32::MAX, f32::min);
        let fmax = |f: fn(&(f32, f32)) -> f32| corners.iter().map(f).fold(f32::MIN, f32::max);
        let (iw, ih) = (image.width() as f32, image.height() as f32);
        let x0 = fmin(|p| p.0).floor().clamp(0.0, iw) as u32;
        let y0 = fmin(|p| p.1).floor().clamp(0.0, ih) as u32;
        let x1 = fmax(|p| p.0).ceil().clamp(0.0, iw) as u32;
        let y1 = fmax(|p| p.1).ceil().clamp(0.0, ih) as u32;
        let (width, height) = ((x1 - x0) as usize, (y1 - y0) as usize);
        if width < 4 || height < 4 {
            return None;
        }
        let n = width * height;
        let mut rgb = vec![[0.0f32; 3]; n];
        let mut class = vec![Class::Outside; n];
        let mut on_ring = vec![false; n];
        for y in 0..height {
            for x in 0..width {
                let i = y * width + x;
                let (px, py) = (x0 + x as u32, y0 + y as u32);
                let p = image.get_pixel(px, py).0;
                rgb[i] = [p[0] as f32, p[1] as f32, p[2] as f32];
                let (s, t) = frame.to_line(px as f32 + 0.5, py as f32 + 0.5);
                let (ds, dt) = (
                    (-margin - s).max(s - frame.length - margin),
                    (-margin - t).max(t - frame.height - margin),
                );
                let outside_by = ds.max(dt);
                if outside_by <= 0.0 {
                    class[i] = Class::Other;
                    // Also the image's edge bounds the ring when the box is cut by it.
                    let at_edge =
                        px == 0 || py == 0 || px + 1 == image.width() || py + 1 == image.height();
                    on_ring[i] = outside_by > -ring || at_edge;
                }
            }
        }
        let inside: Vec<usize> = (0..n).filter(|&i| class[i] != Class::Outside).collect();
        let ground = ground_colour(&rgb, &inside, &on_ring);
        let d: Vec<f32> = inside.iter().map(|&i| distance(rgb[i], ground)).collect();
        let threshold = otsu(&d);
        let mut ink = median_colour(
            inside
                .iter()
                .zip(&d)
                .filter(|(_, dv)| **dv > threshold)
                .map(|(&i, _)| rgb[i]),
        );
        let mut alpha = vec![0.0f32; n];
        let mut contrast = 0.0;
        let mut letters: Vec<Vec<usize>> = Vec::new();
        // Three passes: the ink's colour from the strongest ink, then from the letters' cores
        // (not from a border or another panel crossing the ring), then the letters found
        // again with that colour.
        for pass in 0..3 {
            contrast = distance(ink, ground);
            if contrast < MIN_CONTRAST {
                return None;
            }
            let axis = [ink[0] - ground[0], ink[1] - ground[1], ink[2] - ground[2]];
            let norm = contrast * contrast;
            for &i in &inside {
                let p = rgb[i];
                let dot = (p[0] - ground[0]) * axis[0]
                    + (p[1] - ground[1]) * axis[1]
                    + (p[2] - ground[2]) * axis[2];
                alpha[i] = (dot / norm).clamp(0.0, 1.0);
            }
            letters = find_letters(&alpha, &class, &on_ring, width, height, &inside);
            if pass < 2 {
                let core: Vec<usize> = letters
                    .iter()
                    .flatten()
                    .copied()
                    .filter(|&i| {
                        let (x, y) = (i % width, i / width);
                        x > 0
                            && y > 0
                            && x + 1 < width
                            && y + 1 < height
                            && [i, i - 1, i + 1, i - width, i + width]
                                .iter()
                                .all(|&j| alpha[j] >= 0.5)
                    })
                    .collect();
                let all: Vec<usize> = letters.iter().flatten().copied().collect();
                let from = if core.len() >= 8 { &core } else { &all };
                if from.len() >= 2 {
                    ink = median_colour(from.iter().map(|&i| rgb[i]));
                }
            }
        }
        // Ground: near the ground's colour.
        for &i in &inside {
            if distance(rgb[i], ground) <= 0.4 * contrast {
                class[i] = Class::Ground;
            }
        }
        for &i in letters.iter().flatten() {
            class[i] = Class::Letter;
        }
        if letters.is_empty() {
            return None;
        }
        Some(Self {
            frame,
            x0,
            y0,
            width,
            height,
            rgb,
            alpha,
            class,
            letters,
            ground,
            ink,
            contrast,
            margin,
        })
    }

    /// The image pixel of region index `i`.
    pub fn pixel(&self, i: usize) -> (u32, u32) {
        (
            self.x0 + (i % self.width) as u32,
            self.y0 + (i / self.width) as u32,
        )
    }

    /// The line coordinates of region index `i`'s centre.
    pub fn line_pos(&self, i: usize) -> (f32, f32) {
        let (x, y) = self.pixel(i);
        self.frame.to_line(x as f32 + 0.5, y as f32 + 0.5)
    }

    /// Mean width of the transition from ground to ink, in pixels (about 1 for a sharp
    /// antialiased edge, more for a soft photo), and the letters' total variation.
    pub fn edge_width(&self) -> f32 {
        let near = self.near_letters(2);
        edge_width(&self.alpha, self.width, self.height, |i| near[i])
    }

    /// Letter pixels grown by `by` pixels (a disk).
    pub fn near_letters(&self, by: i64) -> Vec<bool> {
        let mut out = vec![false; self.alpha.len()];
        for &i in self.letters.iter().flatten() {
            let (x, y) = ((i % self.width) as i64, (i / self.width) as i64);
            for dy in -by..=by {
                for dx in -by..=by {
                    if dx * dx + dy * dy > by * by + by {
                        continue;
                    }
                    let (nx, ny) = (x + dx, y + dy);
                    if nx >= 0 && ny >= 0 && nx < self.width as i64 && ny < self.height as i64 {
                        out[ny as usize * self.width + nx as usize] = true;
                    }
                }
            }
        }
        out
    }

    /// Erases the letters from `image` where `mask` is marked: the strokes grown by `grow`
    /// pixels are filled from the ground pixels around them (the ground's local mean plus the
    /// grain of a nearby ground pixel). Returns how many pixels were changed.
    pub fn erase(&self, image: &mut RgbaImage, mask: &Mask, grow: i64, seed: u64) -> usize {
        let (w, h) = (self.width, self.height);
        let near = self.near_letters(grow);
        let hole: Vec<bool> = (0..w * h)
            .map(|i| {
                let (x, y) = self.pixel(i);
                near[i] && self.class[i] != Class::Outside && mask.is_marked(x, y)
            })
            .collect();
        let source: Vec<bool> = (0..w * h)
            .map(|i| self.class[i] == Class::Ground && !near[i])
            .collect();
        // Integral images of the sources' count and colour.
        let stride = w + 1;
        let mut count = vec![0.0f64; stride * (h + 1)];
        let mut sums = vec![[0.0f64; 3]; stride * (h + 1)];
        for y in 0..h {
            let mut row_n = 0.0;
            let mut row_c = [0.0f64; 3];
            for x in 0..w {
                let i = y * w + x;
                if source[i] {
                    row_n += 1.0;
                    for (slot, v) in row_c.iter_mut().zip(self.rgb[i]) {
                        *slot += v as f64;
                    }
                }
                let k = (y + 1) * stride + x + 1;
                count[k] = count[k - stride] + row_n;
                for c in 0..3 {
                    sums[k][c] = sums[k - stride][c] + row_c[c];
                }
            }
        }
        let window = |x: usize, y: usize, r: usize| -> (f64, [f64; 3]) {
            let (ax, ay) = (x.saturating_sub(r), y.saturating_sub(r));
            let (bx, by) = ((x + r + 1).min(w), (y + r + 1).min(h));
            let at = |xx: usize, yy: usize| yy * stride + xx;
            let n = count[at(bx, by)] - count[at(ax, by)] - count[at(bx, ay)] + count[at(ax, ay)];
            let mut c = [0.0; 3];
            for (k, slot) in c.iter_mut().enumerate() {
                *slot = sums[at(bx, by)][k] - sums[at(ax, by)][k] - sums[at(bx, ay)][k]
                    + sums[at(ax, ay)][k];
            }
            (n, c)
        };
        let stroke = self.stroke_width();
        let r0 = ((stroke * 1.2).ceil() as usize + grow as usize + 1).max(3);
        let mean = |x: usize, y: usize| -> Option<[f32; 3]> {
            let mut r = r0;
            loop {
                let (n, c) = window(x, y, r);
                if n >= 6.0 {
                    return Some(c.map(|v| (v / n) as f32));
                }
                if r > w.max(h) {
                    return None;
                }
                r *= 2;
            }
        };
        let mut random = SeededRandom::derive(seed, 0xE7A5);
        let mut changed = 0;
        let reach = 2 * r0;
        for (i, _) in hole.iter().enumerate().filter(|(_, h)| **h) {
            let (x, y) = (i % w, i / w);
            let Some(base) = mean(x, y) else {
                continue;
            };
            // Grain: the deviation of a nearby ground pixel from its own surroundings.
            let mut grain = [0.0f32; 3];
            for _ in 0..16 {
                let sx = x as isize + random.offset(reach);
                let sy = y as isize + random.offset(reach);
                if sx < 0 || sy < 0 || sx >= w as isize || sy >= h as isize {
                    continue;
                }
                let j = sy as usize * w + sx as usize;
                if !source[j] {
                    continue;
                }
                if let Some(m) = mean(sx as usize, sy as usize) {
                    grain = [0, 1, 2].map(|c| self.rgb[j][c] - m[c]);
                }
                break;
            }
            let (px, py) = self.pixel(i);
            let p = image.get_pixel_mut(px, py);
            for c in 0..3 {
                p.0[c] = (base[c] + grain[c]).round().clamp(0.0, 255.0) as u8;
            }
            changed += 1;
        }
        changed
    }

    /// Mean stroke width of the letters in pixels: twice their ink over their outline's
    /// length (total variation of the coverage, which does not depend on the angle).
    pub fn stroke_width(&self) -> f32 {
        let near = self.near_letters(2);
        stroke_width(&self.alpha, self.width, self.height, |i| near[i])
    }
}

/// The ground's colour: the most common colour of the box (coarse bins of 32 levels), the
/// ring's pixels counting double, then the median of the pixels near it. A box whose ring
/// runs partly over another panel still finds the panel behind its letters.
fn ground_colour(rgb: &[[f32; 3]], inside: &[usize], on_ring: &[bool]) -> [f32; 3] {
    let bin = |p: [f32; 3]| {
        let q = p.map(|v| (v.clamp(0.0, 255.0) as usize) >> 5);
        (q[0] << 6) | (q[1] << 3) | q[2]
    };
    let mut counts = [0u32; 512];
    let mut sums = [[0.0f32; 3]; 512];
    for &i in inside {
        let b = bin(rgb[i]);
        let w = if on_ring[i] { 2 } else { 1 };
        counts[b] += w;
        for c in 0..3 {
            sums[b][c] += rgb[i][c] * w as f32;
        }
    }
    let best = (0..512).max_by_key(|&b| counts[b]).unwrap_or(0);
    let centre = sums[best].map(|v| v / counts[best].max(1) as f32);
    median_colour(
        inside
            .iter()
            .filter(|&&i| distance(rgb[i], centre) < 40.0)
            .map(|&i| rgb[i]),
    )
}

/// The connected pieces of ink (coverage at least a half, 8-connected) clear of the ring.
fn find_letters(
    alpha: &[f32],
    class: &[Class],
    on_ring: &[bool],
    width: usize,
    height: usize,
    inside: &[usize],
) -> Vec<Vec<usize>> {
    let mut letters = Vec::new();
    let mut seen = vec![false; alpha.len()];
    let mut stack = Vec::new();
    for &start in inside {
        if seen[start] || alpha[start] < 0.5 {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut piece = Vec::new();
        let mut touches = false;
        while let Some(i) = stack.pop() {
            piece.push(i);
            touches |= on_ring[i];
            let (x, y) = ((i % width) as i64, (i / width) as i64);
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= width as i64 || ny >= height as i64 {
                        continue;
                    }
                    let j = ny as usize * width + nx as usize;
                    if !seen[j] && class[j] != Class::Outside && alpha[j] >= 0.5 {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        if !touches && piece.len() >= 2 {
            letters.push(piece);
        }
    }
    letters
}

/// Total variation of `alpha` over the pixels `keep` selects (central differences).
fn variation(alpha: &[f32], w: usize, h: usize, keep: impl Fn(usize) -> bool) -> (f32, f32, f32) {
    // Coverage below 0.15 or above 0.85 counts as none or full, so that the grain of the
    // ground and of the ink adds no outline.
    let clip = |a: f32| ((a - 0.15) / 0.7).clamp(0.0, 1.0);
    let (mut ink, mut tv, mut mid) = (0.0f32, 0.0f32, 0.0f32);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let i = y * w + x;
            if !keep(i) {
                continue;
            }
            let gx = (clip(alpha[i + 1]) - clip(alpha[i - 1])) / 2.0;
            let gy = (clip(alpha[i + w]) - clip(alpha[i - w])) / 2.0;
            tv += (gx * gx + gy * gy).sqrt();
            ink += clip(alpha[i]);
            if (0.1..=0.9).contains(&alpha[i]) {
                mid += 1.0;
            }
        }
    }
    (ink, tv, mid)
}

/// Twice the ink over the outline length.
pub fn stroke_width(alpha: &[f32], w: usize, h: usize, keep: impl Fn(usize) -> bool) -> f32 {
    let (ink, tv, _) = variation(alpha, w, h, keep);
    if tv <= 0.0 { 0.0 } else { 2.0 * ink / tv }
}

/// Pixels partly covered per unit of outline length.
pub fn edge_width(alpha: &[f32], w: usize, h: usize, keep: impl Fn(usize) -> bool) -> f32 {
    let (_, tv, mid) = variation(alpha, w, h, keep);
    if tv <= 0.0 { 0.0 } else { mid / tv }
}
