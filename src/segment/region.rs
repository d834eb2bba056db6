//! A selected object at the photo's full size: the decoder's 256x256 logits sampled
//! bilinearly at every photo pixel (the same as SAM's upsample to 1024, crop and resize, in one
//! step) and turned into anti-aliased coverage. Only the object's bounding box is computed and
//! kept.

use rayon::prelude::*;

use super::LOW_RES;
use crate::mask::{Combine, DirtyRect, Mask};

/// Coverage ramps over about this many model-input pixels per unit of logit: the edge stays
/// one or two photo pixels wide whatever the photo's size.
const EDGE_GAIN: f32 = 2.0;
/// A logit times the gain below this gives coverage under half a level (sigmoid < 1/510).
const FLOOR: f32 = -6.25;

/// An object's coverage over its bounding box.
#[derive(Clone, PartialEq, Eq)]
pub struct ObjectRegion {
    width: u32,
    height: u32,
    bounds: Option<DirtyRect>,
    coverage: Vec<u8>,
}

impl std::fmt::Debug for ObjectRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectRegion")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bounds", &self.bounds)
            .finish()
    }
}

/// The columns and rows of the model's 256x256 cells that cover the photo's part of its input
/// (the rest is padding), for a photo scaled to `scaled`.
pub(super) fn photo_cells(scaled: (u32, u32)) -> (usize, usize) {
    (
        (scaled.0 as usize).div_ceil(4).clamp(1, LOW_RES),
        (scaled.1 as usize).div_ceil(4).clamp(1, LOW_RES),
    )
}

/// From this gain times logit up, 255 * sigmoid rounds to 255: 255 / (1 + e^-t) >= 254.5 needs
/// e^-t <= 1 / 509, t >= 6.2324.
const SATURATED: f32 = 6.25;

/// 255 * sigmoid(t), rounded: logit 0 gives 128 (marked). Inside an object (most of its
/// pixels) the answer is 255 without an exponential.
fn coverage_of(t: f32) -> u8 {
    if t >= SATURATED {
        255
    } else {
        (255.0 / (1.0 + (-t).exp()) + 0.5) as u8
    }
}

/// A part of a candidate whose marked cells number under this share of the largest part's is
/// left out: the specks a "whole object" candidate scatters over a photo (seen on a road sign:
/// bits of the next panel's border and arrow), never a second real part of the object.
const ISLAND_SHARE: f32 = 0.02;

/// The logits without their islands: parts (8-connected marked cells, logit above 0, over the
/// photo's `cw` x `ch` cells) with fewer cells than [`ISLAND_SHARE`] of the largest part's, or
/// than 3, are dropped, and so is any soft coverage (logit above `cutoff`) more than two cells
/// from a part kept. `None` when nothing is left out. Parts are found on marked cells
/// alone: a "whole object" candidate often has a faint negative haze over the whole photo that
/// would link every speck to the object.
pub(super) fn drop_islands(logits: &[f32], cw: usize, ch: usize, cutoff: f32) -> Option<Vec<f32>> {
    let at = |x: usize, y: usize| logits[y * LOW_RES + x];
    let mut part = vec![u32::MAX; cw * ch];
    let mut sizes: Vec<usize> = Vec::new();
    let mut stack = Vec::new();
    for start in 0..cw * ch {
        if part[start] != u32::MAX || at(start % cw, start / cw) <= 0.0 {
            continue;
        }
        let id = sizes.len() as u32;
        let mut count = 0;
        part[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            count += 1;
            let (x, y) = (i % cw, i / cw);
            for ny in y.saturating_sub(1)..=(y + 1).min(ch - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(cw - 1) {
                    let n = ny * cw + nx;
                    if part[n] == u32::MAX && at(nx, ny) > 0.0 {
                        part[n] = id;
                        stack.push(n);
                    }
                }
            }
        }
        sizes.push(count);
    }
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let least = ((largest as f32 * ISLAND_SHARE).ceil() as usize).max(3);
    let kept = |i: usize| part[i] != u32::MAX && sizes[part[i] as usize] >= least;
    // Cells within two cells of a kept part keep their soft edge.
    let mut near = vec![false; cw * ch];
    for i in (0..cw * ch).filter(|&i| kept(i)) {
        let (x, y) = (i % cw, i / cw);
        for ny in y.saturating_sub(2)..=(y + 2).min(ch - 1) {
            for nx in x.saturating_sub(2)..=(x + 2).min(cw - 1) {
                near[ny * cw + nx] = true;
            }
        }
    }
    let dropped: Vec<usize> = (0..cw * ch)
        .filter(|&i| at(i % cw, i / cw) > cutoff && !kept(i) && !near[i])
        .collect();
    if dropped.is_empty() {
        return None;
    }
    let mut out = logits.to_vec();
    for i in dropped {
        out[(i / cw) * LOW_RES + i % cw] = cutoff - 1.0;
    }
    Some(out)
}

/// For each output position, the low-resolution index below it and the weight of the next.
fn taps(count: u32, scale: f32, cells: usize, from: u32) -> Vec<(usize, usize, f32)> {
    (from..from + count)
        .map(|i| {
            let l = (i as f32 + 0.5) * scale / 4.0 - 0.5;
            let last = cells.saturating_sub(1);
            if l <= 0.0 {
                return (0, 0, 0.0);
            }
            let i0 = (l.floor() as usize).min(last);
            let i1 = (i0 + 1).min(last);
            (i0, i1, l - l.floor())
        })
        .collect()
}

impl ObjectRegion {
    /// The region of one candidate's `logits` (256x256) for a `width`x`height` photo that was
    /// scaled to `scaled` in the model's input.
    pub(crate) fn from_logits(logits: &[f32], width: u32, height: u32, scaled: (u32, u32)) -> Self {
        let empty = Self {
            width,
            height,
            bounds: None,
            coverage: Vec::new(),
        };
        if logits.len() != LOW_RES * LOW_RES || width == 0 || height == 0 {
            return empty;
        }
        let sx = scaled.0 as f32 / width as f32;
        let sy = scaled.1 as f32 / height as f32;
        let gain = EDGE_GAIN / sx.max(1e-6);
        let cutoff = FLOOR / gain;
        let (cw, ch) = photo_cells(scaled);
        let cleaned = drop_islands(logits, cw, ch, cutoff);
        let logits: &[f32] = cleaned.as_deref().unwrap_or(logits);
        let (mut c0, mut c1, mut r0, mut r1) = (usize::MAX, 0, usize::MAX, 0);
        for y in 0..ch {
            for (x, &v) in logits[y * LOW_RES..y * LOW_RES + cw].iter().enumerate() {
                if v > cutoff {
                    c0 = c0.min(x);
                    c1 = c1.max(x);
                    r0 = r0.min(y);
                    r1 = r1.max(y);
                }
            }
        }
        if c0 == usize::MAX {
            return empty;
        }
        // Photo pixels whose samples touch those cells (one cell of margin).
        let to_pixel = |cell: f32, s: f32| (cell + 0.5) * 4.0 / s - 0.5;
        let span = |lo: usize, hi: usize, s: f32, size: u32| {
            let a = to_pixel(lo as f32 - 1.0, s).floor().max(0.0) as u32;
            let b = (to_pixel(hi as f32 + 1.0, s).ceil().max(0.0) as u32 + 1).min(size);
            (a.min(size), b)
        };
        let (x0, x1) = span(c0, c1, sx, width);
        let (y0, y1) = span(r0, r1, sy, height);
        if x0 >= x1 || y0 >= y1 {
            return empty;
        }
        let w = (x1 - x0) as usize;
        let columns = taps(x1 - x0, sx, LOW_RES, x0);
        let rows = taps(y1 - y0, sy, LOW_RES, y0);
        let mut coverage = vec![0u8; w * (y1 - y0) as usize];
        coverage
            .par_chunks_mut(w)
            .zip(rows.par_iter())
            .for_each(|(out, &(a, b, fy))| {
                let top = &logits[a * LOW_RES..(a + 1) * LOW_RES];
                let bottom = &logits[b * LOW_RES..(b + 1) * LOW_RES];
                for (o, &(l, r, fx)) in out.iter_mut().zip(&columns) {
                    let upper = top[l] + (top[r] - top[l]) * fx;
                    let lower = bottom[l] + (bottom[r] - bottom[l]) * fx;
                    let v = upper + (lower - upper) * fy;
                    if v > cutoff {
                        *o = coverage_of(gain * v);
                    }
                }
            });
        let mut region = Self {
            width,
            height,
            bounds: Some(DirtyRect::new(x0, y0, x1, y1)),
            coverage,
        };
        region.tighten();
        region
    }

    /// Shrinks the kept box to the pixels with any coverage.
    fn tighten(&mut self) {
        let Some(b) = self.bounds else { return };
        let w = b.width() as usize;
        let (mut c0, mut c1, mut r0, mut r1) = (usize::MAX, 0, usize::MAX, 0);
        for (y, row) in self.coverage.chunks(w).enumerate() {
            if let Some(first) = row.iter().position(|&v| v > 0) {
                let last = row.iter().rposition(|&v| v > 0).unwrap_or(first);
                c0 = c0.min(first);
                c1 = c1.max(last);
                r0 = r0.min(y);
                r1 = r1.max(y);
            }
        }
        if c0 == usize::MAX {
            self.bounds = None;
            self.coverage.clear();
            return;
        }
        let nw = c1 - c0 + 1;
        let mut out = Vec::with_capacity(nw * (r1 - r0 + 1));
        for row in self.coverage.chunks(w).skip(r0).take(r1 - r0 + 1) {
            out.extend_from_slice(&row[c0..=c1]);
        }
        self.coverage = out;
        self.bounds = Some(DirtyRect::new(
            b.x0 + c0 as u32,
            b.y0 + r0 as u32,
            b.x0 + c1 as u32 + 1,
            b.y0 + r1 as u32 + 1,
        ));
    }

    /// The photo's size.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The smallest rectangle holding every pixel with some coverage (`None`: nothing found).
    pub fn bounds(&self) -> Option<DirtyRect> {
        self.bounds
    }

    /// Coverage at (x, y), 0..=255 (0 outside the object's box).
    pub fn get(&self, x: u32, y: u32) -> u8 {
        match self.bounds {
            Some(b) if x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1 => {
                self.coverage[(y - b.y0) as usize * b.width() as usize + (x - b.x0) as usize]
            }
            _ => 0,
        }
    }

    /// How many pixels would be marked (coverage at least 50 %).
    pub fn marked_count(&self) -> usize {
        crate::mask::count_at_least(&self.coverage, crate::mask::THRESHOLD)
    }

    /// True when no pixel would be marked.
    pub fn is_empty(&self) -> bool {
        self.marked_count() == 0
    }

    /// Adds the object to `mask` (each pixel keeps the larger coverage) or subtracts it.
    /// Returns the changed box; `None` when the mask has another size or the object is empty.
    pub fn apply(&self, mask: &mut Mask, combine: Combine) -> Option<DirtyRect> {
        if mask.size() != (self.width, self.height) {
            return None;
        }
        let b = self.bounds?;
        let w = b.width() as usize;
        for (y, cov) in (b.y0..b.y1).zip(self.coverage.chunks(w)) {
            let row = &mut mask.row_mut(y)[b.x0 as usize..b.x1 as usize];
            for (m, &c) in row.iter_mut().zip(cov) {
                *m = match combine {
                    Combine::Add => (*m).max(c),
                    Combine::Subtract => (*m).min(255 - c),
                };
            }
        }
        Some(b)
    }

    /// The object as a mask of the photo's size.
    pub fn to_mask(&self) -> Mask {
        let mut mask = Mask::new(self.width, self.height);
        self.apply(&mut mask, Combine::Add);
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saturated_shortcut_gives_what_the_sigmoid_gives() {
        let exact = |t: f32| (255.0 / (1.0 + (-t).exp()) + 0.5) as u8;
        let mut t = -12.0f32;
        while t < 40.0 {
            assert_eq!(coverage_of(t), exact(t), "at {t}");
            t += 0.001;
        }
        // The shortcut starts no lower than where the sigmoid reaches 255.
        assert!(exact(SATURATED - 0.02) < 255);
    }

    /// Logits of a disc of radius `r` cells centred on cell (cx, cy): distance-like, 0 on the
    /// circle, positive inside.
    fn disc(cx: f32, cy: f32, r: f32) -> Vec<f32> {
        let mut v = vec![0.0; LOW_RES * LOW_RES];
        for y in 0..LOW_RES {
            for x in 0..LOW_RES {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                v[y * LOW_RES + x] = (r - d) * 4.0;
            }
        }
        v
    }

    #[test]
    fn a_disc_comes_back_at_full_size_with_a_smooth_edge() {
        // A 4096x2048 photo scaled to 1024x512: a cell is 16 photo pixels.
        let region = ObjectRegion::from_logits(&disc(64.0, 32.0, 10.0), 4096, 2048, (1024, 512));
        // Cell 64 is centred on photo pixel (64.5 * 16 - 0.5), so the disc's centre is there.
        let (cx, cy) = (64.5 * 16.0, 32.5 * 16.0);
        assert_eq!(region.get(cx as u32, cy as u32), 255);
        assert_eq!(region.get(cx as u32 + 200, cy as u32), 0);
        // The radius is 160 photo pixels: marked up to it, not beyond, with a few pixels of
        // partial coverage at the edge.
        assert!(region.get(cx as u32 + 155, cy as u32) >= 128);
        assert!(region.get(cx as u32 + 165, cy as u32) < 128);
        let partial = (cx as u32 + 140..cx as u32 + 180)
            .filter(|&x| (1..255).contains(&region.get(x, cy as u32)))
            .count();
        assert!((2..=16).contains(&partial), "{partial} partial pixels");
        let b = region.bounds().expect("found");
        assert!(
            b.x0 > 800 && b.x1 < 1300 && b.y0 > 300 && b.y1 < 750,
            "{b:?}"
        );
        let area = region.marked_count() as f32;
        let expected = std::f32::consts::PI * 160.0 * 160.0;
        assert!((area / expected - 1.0).abs() < 0.03, "{area} vs {expected}");
    }

    #[test]
    fn specks_apart_from_the_object_are_left_out_and_a_second_real_part_stays() {
        // A disc of radius 10 cells, a 2x2-cell speck far from it and a second disc of
        // radius 5 (a quarter of the first's area: a real part).
        let mut logits = disc(40.0, 40.0, 10.0);
        let second = disc(120.0, 40.0, 5.0);
        for (v, s) in logits.iter_mut().zip(&second) {
            *v = v.max(*s);
        }
        for (x, y) in [(200, 200), (201, 200), (200, 201), (201, 201)] {
            logits[y * LOW_RES + x] = 8.0;
        }
        // A faint haze over the rest of the photo (as "whole object" candidates have), above
        // the soft edge's cutoff: it must not tie the speck to the object.
        for v in logits.iter_mut() {
            *v = v.max(-1.0);
        }
        let region = ObjectRegion::from_logits(&logits, 1024, 1024, (1024, 1024));
        // 4 photo pixels a cell: the speck's centre is at about (802, 802).
        assert_eq!(region.get(802, 802), 0, "the speck is left out");
        assert_eq!(region.get(162, 162), 255, "the object stays");
        assert_eq!(region.get(482, 162), 255, "the second part stays");
        // Nor does the haze leave faint coverage there.
        assert_eq!(region.get(700, 700), 0);
        // Without a speck nothing changes at all.
        let mut clean = disc(40.0, 40.0, 10.0);
        for (v, s) in clean.iter_mut().zip(&second) {
            *v = v.max(*s);
        }
        assert!(drop_islands(&clean, LOW_RES, LOW_RES, -3.0).is_none());
    }

    #[test]
    fn add_keeps_the_larger_coverage_and_subtract_removes() {
        let region = ObjectRegion::from_logits(&disc(20.0, 20.0, 5.0), 256, 256, (1024, 1024));
        let mut mask = Mask::new(256, 256);
        mask.fill_rect(0, 0, 256, 10, 255);
        region.apply(&mut mask, Combine::Add);
        assert_eq!(mask.get(5, 5), 255);
        assert!(mask.is_marked(20, 20));
        region.apply(&mut mask, Combine::Subtract);
        assert!(!mask.is_marked(20, 20));
        assert_eq!(mask.get(5, 5), 255);
        // Another size: nothing happens.
        assert_eq!(region.apply(&mut Mask::new(10, 10), Combine::Add), None);
    }

    #[test]
    fn nothing_found_is_an_empty_region() {
        let region =
            ObjectRegion::from_logits(&vec![-20.0; LOW_RES * LOW_RES], 300, 200, (1024, 683));
        assert_eq!(region.bounds(), None);
        assert!(region.is_empty());
        assert_eq!(region.apply(&mut Mask::new(300, 200), Combine::Add), None);
    }
}
