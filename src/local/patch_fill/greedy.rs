//! The first fill of the coarsest level where the surroundings neither repeat nor are a flat
//! panel: patches are copied into the hole one at a time, from its border inward (exemplar
//! inpainting in the order of Criminisi, Pérez and Toyama 2004). The spot filled next is the
//! one whose patch is best known and where an edge runs into the border most squarely, so an
//! edge that enters the hole is carried on into it before the plain parts around it close
//! over it. Each patch copied is the source that best agrees with the known pixels it covers
//! and, weakly, with the smooth fill in the pixels it brings and in their mean colour: an edge
//! that only grazes the hole (a roof line at the end of a band of sky) does not grow across
//! it, and a piece whose light does not belong (a lamp's head) is not pasted onto a wall.
//!
//! A smooth fill here would start the search from a blend of everything around the hole (a
//! window sill, a wall and a shutter mixed to grey), and the patches would settle on that
//! blend; copied patches start it from real surfaces and real edges.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::local::LocalError;
use crate::local::canvas::{Canvas, Rgba, grey, squared_difference as difference};

/// How much the smooth fill has to say when choosing a source, against the known pixels'
/// full weight: each pixel the patch brings, by its squared difference to the smooth fill,
/// and their mean colour, by its squared difference to the smooth fill's mean (per pixel).
/// The mean keeps out a patch whose light or colour does not belong (a lamp copied onto a
/// wall) while leaving it free to bring edges and grain.
const GUIDE: Guide = Guide {
    pixel: 0.05,
    mean: 0.5,
};
/// Sources are looked for at most this many hole depths from the patch (chessboard), and at
/// least [`MIN_REACH`] patch radii: edges are carried on from nearby, and the search stays
/// short along a long band.
const REACH_DEPTHS: f32 = 4.0;
const MIN_REACH: usize = 8;
/// The edge term is the gradient across the border divided by this (the grey levels' range).
const LEVELS: f32 = 255.0;
/// An edge-free border still gets this much of an edge's weight, so confidence orders it.
const PLAIN_EDGE: f32 = 0.08;

/// Fills `canvas`'s hole in place from its known pixels. `guide` is the same canvas with the
/// hole filled smoothly; `source_ok` marks the centres of patches that may be copied (whole,
/// hole-free). `depth` is the hole's largest distance to a known pixel.
pub(super) fn fill(
    canvas: &mut Canvas,
    guide: &Canvas,
    source_ok: &[bool],
    radius: usize,
    depth: f32,
    cancel: &AtomicBool,
) -> Result<Vec<u32>, LocalError> {
    fill_weighted(canvas, guide, source_ok, radius, depth, GUIDE, cancel)
}

/// The smooth fill's weights in choosing a source (see [`GUIDE`]).
#[derive(Clone, Copy)]
struct Guide {
    pixel: f32,
    mean: f32,
}

/// [`fill`] with the smooth fill weighing `weights` (the tests compare weights).
fn fill_weighted(
    canvas: &mut Canvas,
    guide: &Canvas,
    source_ok: &[bool],
    radius: usize,
    depth: f32,
    weights: Guide,
    cancel: &AtomicBool,
) -> Result<Vec<u32>, LocalError> {
    let (w, h) = (canvas.width, canvas.height);
    if guide.width != w || guide.height != h || !source_ok.contains(&true) {
        return Ok(vec![u32::MAX; w * h]);
    }
    let mut state = State::new(canvas, radius, weights);
    let reach = ((REACH_DEPTHS * depth).ceil() as usize).max(MIN_REACH * radius);
    let mut steps = 0usize;
    while let Some(t) = state.next_target() {
        steps += 1;
        if steps.is_multiple_of(64) && cancel.load(Ordering::Relaxed) {
            return Err(LocalError::Cancelled);
        }
        let Some(s) = state.best_source(canvas, guide, t, source_ok, reach) else {
            break;
        };
        state.copy(canvas, t, s);
    }
    Ok(state.copied_from)
}

struct State {
    w: usize,
    h: usize,
    radius: usize,
    known: Vec<bool>,
    confidence: Vec<f32>,
    grey: Vec<f32>,
    /// For a pixel filled here: the source pixel it was copied from (`u32::MAX` otherwise).
    copied_from: Vec<u32>,
    /// Unknown pixels with a known 4-neighbour, with their priorities (stale entries, pixels
    /// since filled, are dropped when met).
    front: Vec<u32>,
    on_front: Vec<bool>,
    priority: Vec<f32>,
    weights: Guide,
}

impl State {
    fn new(canvas: &Canvas, radius: usize, weights: Guide) -> Self {
        let (w, h) = (canvas.width, canvas.height);
        let known: Vec<bool> = canvas.hole.iter().map(|&m| !m).collect();
        let mut state = Self {
            w,
            h,
            radius,
            confidence: known.iter().map(|&k| if k { 1.0 } else { 0.0 }).collect(),
            known,
            grey: canvas.pixels.iter().map(grey).collect(),
            copied_from: vec![u32::MAX; w * h],
            front: Vec::new(),
            on_front: vec![false; w * h],
            priority: vec![0.0; w * h],
            weights,
        };
        state.update(0, 0, w, h);
        state
    }

    fn is_front(&self, x: usize, y: usize) -> bool {
        let i = y * self.w + x;
        !self.known[i]
            && ((x > 0 && self.known[i - 1])
                || (x + 1 < self.w && self.known[i + 1])
                || (y > 0 && self.known[i - self.w])
                || (y + 1 < self.h && self.known[i + self.w]))
    }

    /// The columns and rows of the patch centred at `t` that lie inside the canvas.
    fn patch(&self, t: usize) -> (Range<usize>, Range<usize>) {
        let (r, (x, y)) = (self.radius, (t % self.w, t / self.w));
        (
            x.saturating_sub(r)..(x + r + 1).min(self.w),
            y.saturating_sub(r)..(y + r + 1).min(self.h),
        )
    }

    /// The confidence of the patch at `t`: the share of it known, known pixels counting what
    /// they were filled with.
    fn patch_confidence(&self, t: usize) -> f32 {
        let (xs, ys) = self.patch(t);
        let side = (2 * self.radius + 1) as f32;
        let mut sum = 0.0f32;
        for y in ys {
            for x in xs.clone() {
                sum += self.confidence[y * self.w + x];
            }
        }
        sum / (side * side)
    }

    /// Re-examines the pixels in `[x0, x1) x [y0, y1)`: joins new front pixels, re-weighs all.
    fn update(&mut self, x0: usize, y0: usize, x1: usize, y1: usize) {
        for y in y0..y1 {
            for x in x0..x1 {
                let i = y * self.w + x;
                if !self.is_front(x, y) {
                    continue;
                }
                self.priority[i] = self.weigh(i);
                if !self.on_front[i] {
                    self.on_front[i] = true;
                    self.front.push(i as u32);
                }
            }
        }
    }

    /// The priority of the front pixel `t`: its patch's confidence times the edge term (how
    /// strongly and squarely an edge inside the patch runs into the border).
    fn weigh(&self, t: usize) -> f32 {
        let (w, h) = (self.w, self.h);
        let (x, y) = (t % w, t / w);
        let (mut nx, mut ny) = (0.0f32, 0.0f32);
        let mut strongest = (0.0f32, 0.0f32, 0.0f32);
        let (xs, ys) = self.patch(t);
        for py in ys {
            for px in xs.clone() {
                let j = py * w + px;
                if !self.known[j] {
                    continue;
                }
                // The border's normal: from the hole towards the known pixels around it.
                nx += px as f32 - x as f32;
                ny += py as f32 - y as f32;
                if px == 0 || py == 0 || px + 1 >= w || py + 1 >= h {
                    continue;
                }
                let (l, rt, u, d) = (j - 1, j + 1, j - w, j + w);
                if self.known[l] && self.known[rt] && self.known[u] && self.known[d] {
                    let gx = (self.grey[rt] - self.grey[l]) / 2.0;
                    let gy = (self.grey[d] - self.grey[u]) / 2.0;
                    let g = gx * gx + gy * gy;
                    if g > strongest.2 {
                        strongest = (gx, gy, g);
                    }
                }
            }
        }
        let length = (nx * nx + ny * ny).sqrt();
        let edge = if length > f32::EPSILON {
            // The isophote (the edge's direction) is the gradient turned a right angle.
            let (gx, gy, _) = strongest;
            ((-gy * nx + gx * ny) / length).abs() / LEVELS
        } else {
            0.0
        };
        self.patch_confidence(t) * (edge + PLAIN_EDGE)
    }

    /// The front pixel of highest priority (the first one found among equals).
    fn next_target(&mut self) -> Option<usize> {
        let known = &self.known;
        let on_front = &mut self.on_front;
        self.front.retain(|&i| {
            let keep = !known[i as usize];
            if !keep {
                on_front[i as usize] = false;
            }
            keep
        });
        let mut best: Option<(f32, usize)> = None;
        for &i in &self.front {
            let p = self.priority[i as usize];
            if best.is_none_or(|(b, _)| p > b) {
                best = Some((p, i as usize));
            }
        }
        best.map(|(_, i)| i)
    }

    /// What a source patch is compared with at `t`, over the patch's pixels inside the
    /// canvas: the known pixels in full, the smooth fill elsewhere at [`Guide::pixel`], and
    /// the smooth fill's mean over those pixels at [`Guide::mean`].
    fn target(&self, canvas: &Canvas, guide: &Canvas, t: usize) -> Target {
        let w = self.w;
        let (tx, ty) = (t % w, t / w);
        let (xs, ys) = self.patch(t);
        let (x0, y0) = (xs.start, ys.start);
        let (mut known, mut brought) = (Vec::new(), Vec::new());
        let mut mean = [0.0f32; 4];
        for y in ys {
            for x in xs.clone() {
                let j = y * w + x;
                let offset = (y - y0) * w + (x - x0);
                if self.known[j] {
                    known.push((offset, canvas.pixels[j]));
                } else {
                    let g = guide.pixels[j];
                    for c in 0..3 {
                        mean[c] += g[c];
                    }
                    brought.push((offset, g));
                }
            }
        }
        let n = brought.len().max(1) as f32;
        Target {
            known,
            brought,
            mean: mean.map(|v| v / n),
            weights: self.weights,
            // The patch's top-left pixel, relative to its centre.
            left: tx - x0,
            up: ty - y0,
        }
    }

    /// The source for the patch at `t`: the best of the sources its filled neighbours' own
    /// sources continue and of every source at most `reach` away (every source at all when
    /// none is that near).
    fn best_source(
        &self,
        canvas: &Canvas,
        guide: &Canvas,
        t: usize,
        source_ok: &[bool],
        reach: usize,
    ) -> Option<usize> {
        let (w, h) = (self.w, self.h);
        let (tx, ty) = (t % w, t / w);
        let target = self.target(canvas, guide, t);
        let mut best: Option<(f32, usize)> = None;
        let consider = |s: usize, best: &mut Option<(f32, usize)>| {
            let limit = best.map_or(f32::INFINITY, |(c, _)| c);
            let c = target.cost(canvas, s, limit);
            if c < limit {
                *best = Some((c, s));
            }
        };
        // Coherence: a neighbour copied from `o` suggests the source that continues `o`.
        let (xs, ys) = self.patch(t);
        for py in ys {
            for px in xs.clone() {
                let o = self.copied_from[py * w + px];
                if o == u32::MAX {
                    continue;
                }
                let (ox, oy) = (o as usize % w, o as usize / w);
                if let (Some(sx), Some(sy)) = (
                    (ox + tx).checked_sub(px).filter(|&v| v < w),
                    (oy + ty).checked_sub(py).filter(|&v| v < h),
                ) && source_ok[sy * w + sx]
                {
                    consider(sy * w + sx, &mut best);
                }
            }
        }
        let near = |reach: usize| {
            let xs = tx.saturating_sub(reach)..(tx + reach + 1).min(w);
            (ty.saturating_sub(reach)..(ty + reach + 1).min(h))
                .flat_map(move |y| xs.clone().map(move |x| y * w + x))
        };
        for s in near(reach) {
            if source_ok[s] {
                consider(s, &mut best);
            }
        }
        if best.is_none() {
            for (s, _) in source_ok.iter().enumerate().filter(|&(_, &ok)| ok) {
                consider(s, &mut best);
            }
        }
        best.map(|(_, s)| s)
    }

    /// Copies the unknown pixels of the patch at `s` into the patch at `t`.
    fn copy(&mut self, canvas: &mut Canvas, t: usize, s: usize) {
        let (w, h) = (self.w, self.h);
        let (tx, ty) = (t % w, t / w);
        let (sx, sy) = (s % w, s / w);
        let (xs, ys) = self.patch(t);
        let (x0, x1, y0, y1) = (xs.start, xs.end, ys.start, ys.end);
        let confidence = self.patch_confidence(t);
        for y in ys {
            for x in xs.clone() {
                let j = y * w + x;
                if self.known[j] {
                    continue;
                }
                let k = (sy + y - ty) * w + (sx + x - tx);
                canvas.pixels[j] = canvas.pixels[k];
                self.grey[j] = self.grey[k];
                self.known[j] = true;
                self.confidence[j] = confidence;
                self.copied_from[j] = k as u32;
            }
        }
        // Priorities change wherever a patch reaches the pixels just filled.
        let reach = self.radius + 1;
        self.update(
            x0.saturating_sub(reach),
            y0.saturating_sub(reach),
            (x1 + reach).min(w),
            (y1 + reach).min(h),
        );
    }
}

/// A patch to match (see [`State::target`]): per pixel, the colour wanted and its weight.
struct Target {
    /// The known pixels (offset from the patch's top-left pixel in the canvas, colour).
    known: Vec<(usize, Rgba)>,
    /// The pixels the patch brings, with the smooth fill's colour, and its mean over them.
    brought: Vec<(usize, Rgba)>,
    mean: Rgba,
    weights: Guide,
    left: usize,
    up: usize,
}

/// The known pixels are summed in runs this long between checks against the limit.
const RUN: usize = 8;

impl Target {
    /// The weighted squared RGB difference to the patch centred at `s` (whole inside the
    /// canvas); stops once past `limit`. The pixels brought and their mean come first, so
    /// the known pixels, which weigh most, are where a poor source is cut short.
    fn cost(&self, canvas: &Canvas, s: usize, limit: f32) -> f32 {
        let origin = s - self.up * canvas.width - self.left;
        let pixels = &canvas.pixels[origin..];
        let mut sum = 0.0f32;
        if !self.brought.is_empty() {
            let mut mean = [0.0f32; 4];
            for (offset, wanted) in &self.brought {
                let b = &pixels[*offset];
                sum += difference(wanted, b);
                for c in 0..3 {
                    mean[c] += b[c];
                }
            }
            let n = self.brought.len() as f32;
            sum = self.weights.pixel * sum
                + self.weights.mean * n * difference(&self.mean, &mean.map(|v| v / n));
        }
        for run in self.known.chunks(RUN) {
            if sum >= limit {
                return sum;
            }
            for (offset, wanted) in run {
                sum += difference(wanted, &pixels[*offset]);
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::super::raster::source_centres;
    use super::*;
    use crate::local::fast_marching;

    /// A `w`x`h` grey canvas of `f(x, y)` with the hole `hole(x, y)`.
    fn canvas(
        w: usize,
        h: usize,
        f: impl Fn(usize, usize) -> f32,
        hole: impl Fn(usize, usize) -> bool,
    ) -> Canvas {
        let mut pixels = Vec::with_capacity(w * h);
        let mut marked = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let v = f(x, y);
                pixels.push([v, v, v, 255.0]);
                marked.push(hole(x, y));
            }
        }
        Canvas {
            width: w,
            height: h,
            pixels,
            hole: marked,
        }
    }

    /// Fills `original`'s hole with radius-3 patches and the smooth fill as guide; returns the
    /// fill and the smooth fill.
    fn filled(original: &Canvas, weights: Guide) -> (Canvas, Canvas) {
        let (w, h) = (original.width, original.height);
        let mut smooth = original.clone();
        let cancel = AtomicBool::new(false);
        fast_marching::fill(&mut smooth, 5.0, &|_| {}, &cancel).unwrap();
        let mut canvas = original.clone();
        let source_ok = source_centres(&canvas.hole, w, h, 3);
        let depth = canvas.max_hole_depth();
        let from =
            fill_weighted(&mut canvas, &smooth, &source_ok, 3, depth, weights, &cancel).unwrap();
        // Every hole pixel is a copy of a known one, and nothing else changed.
        for (i, &from) in from.iter().enumerate() {
            if canvas.hole[i] {
                let f = from as usize;
                assert!(f < w * h && !canvas.hole[f], "pixel {i} copied from {f}");
                assert_eq!(canvas.pixels[i], original.pixels[f]);
            } else {
                assert_eq!(from, u32::MAX);
                assert_eq!(canvas.pixels[i], original.pixels[i]);
            }
        }
        (canvas, smooth)
    }

    #[test]
    fn an_edge_through_the_hole_comes_back_sharp_where_the_smooth_fill_blurs_it() {
        // Dark above row 32, light below; a 20x20 hole on the edge.
        let original = canvas(
            64,
            64,
            |_, y| if y < 32 { 40.0 } else { 200.0 },
            |x, y| (22..42).contains(&x) && (22..42).contains(&y),
        );
        let (fill, smooth) = filled(&original, GUIDE);
        let i = |x: usize, y: usize| y * 64 + x;
        for y in 22..42 {
            for x in 22..42 {
                assert_eq!(fill.pixels[i(x, y)], original.pixels[i(x, y)], "({x}, {y})");
            }
        }
        // The smooth fill alone leaves a blend in the middle of the hole.
        let middle = smooth.pixels[i(32, 31)][0];
        assert!(middle > 60.0 && middle < 180.0, "{middle}");
    }

    #[test]
    fn a_facade_at_the_end_of_a_band_of_sky_does_not_grow_across_it() {
        // The bench's band over the city photo: its left end hides part of a tower's facade,
        // the rest plain overcast sky (benches/README.md, offline fill).
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/inpaint_set/hdr_city_facades.png"
        );
        let photo = image::open(path).unwrap().to_rgb8();
        let (w, h) = (photo.width() as usize, photo.height() as usize);
        let band = |x: usize, y: usize| (80..320).contains(&x) && (41..55).contains(&y);
        let mut original = canvas(w, h, |_, _| 0.0, band);
        for (p, q) in original.pixels.iter_mut().zip(photo.pixels()) {
            *p = [q[0] as f32, q[1] as f32, q[2] as f32, 255.0];
        }
        // Mean error against the photo (which the hole's pixels still hold) over the band's sky
        // to the right of the tower.
        let sky: Vec<usize> = (0..w * h)
            .filter(|&i| band(i % w, i / w) && i % w >= 160)
            .collect();
        let sky_error = |c: &Canvas| {
            let mut sum = 0.0f32;
            for &i in &sky {
                for k in 0..3 {
                    sum += (c.pixels[i][k] - original.pixels[i][k]).abs();
                }
            }
            sum / (3 * sky.len()) as f32
        };
        let (fill, _) = filled(&original, GUIDE);
        assert!(sky_error(&fill) < 4.0, "{}", sky_error(&fill));
        // Either of the smooth fill's two terms alone is enough here.
        for alone in [
            Guide {
                pixel: 0.0,
                ..GUIDE
            },
            Guide { mean: 0.0, ..GUIDE },
        ] {
            let (fill, _) = filled(&original, alone);
            assert!(sky_error(&fill) < 4.0, "{}", sky_error(&fill));
        }
        // Without the smooth fill's say, the facade's edges are carried into the sky.
        let (unguided, _) = filled(
            &original,
            Guide {
                pixel: 0.0,
                mean: 0.0,
            },
        );
        assert!(sky_error(&unguided) > 6.0, "{}", sky_error(&unguided));
    }
}
