//! The round brush. A stroke segment is rasterised as a capsule: every pixel gets the coverage
//! of its distance to the segment, which is exactly what stamping dabs infinitely close together
//! along the segment would give (dabs combine with `max`, so overlap never builds up). However
//! fast the pointer moves, the stroke stays continuous.

use super::{DirtyRect, Mask};

/// Paint marks pixels for editing; erase unmarks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum BrushMode {
    Paint,
    Erase,
}

/// A round brush measured in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Brush {
    /// Diameter in image pixels, 1..=1000.
    pub size: f32,
    /// 0.0 (soft edge all the way in) ..= 1.0 (hard edge, one pixel of anti-aliasing).
    pub hardness: f32,
    pub mode: BrushMode,
}

impl Default for Brush {
    fn default() -> Self {
        Self {
            size: 40.0,
            hardness: 0.8,
            mode: BrushMode::Paint,
        }
    }
}

impl Brush {
    pub const MIN_SIZE: f32 = 1.0;
    pub const MAX_SIZE: f32 = 1000.0;

    pub fn new(size: f32, hardness: f32, mode: BrushMode) -> Self {
        Self {
            size: size.clamp(Self::MIN_SIZE, Self::MAX_SIZE),
            hardness: hardness.clamp(0.0, 1.0),
            mode,
        }
    }

    pub fn radius(&self) -> f32 {
        self.size.clamp(Self::MIN_SIZE, Self::MAX_SIZE) * 0.5
    }

    /// Coverage (0..=1) of a pixel whose centre lies `d` pixels from the brush centre line.
    pub fn coverage(&self, d: f32) -> f32 {
        let r = self.radius();
        let edge = (r + 0.5 - d).clamp(0.0, 1.0);
        let h = self.hardness.clamp(0.0, 1.0);
        if h >= 1.0 {
            return edge;
        }
        let inner = r * h;
        let soft = if d <= inner {
            1.0
        } else {
            let t = ((d - inner) / (r - inner).max(1e-3)).clamp(0.0, 1.0);
            1.0 - t * t * (3.0 - 2.0 * t)
        };
        edge.min(soft)
    }

    /// The next brush size step for `[` / `]`: about 10 % per press, at least one pixel.
    pub fn stepped_size(size: f32, up: bool) -> f32 {
        let step = (size * 0.1).max(1.0);
        let next = if up { size + step } else { size - step };
        next.round().clamp(Self::MIN_SIZE, Self::MAX_SIZE)
    }

    /// One dab centred on `p` (image pixel coordinates; pixel centres sit at `.5`).
    pub fn dab(&self, mask: &mut Mask, p: (f32, f32)) -> Option<DirtyRect> {
        self.segment(mask, p, p)
    }

    /// Paints the segment from `a` to `b`; returns the rectangle of pixels that changed.
    pub fn segment(&self, mask: &mut Mask, a: (f32, f32), b: (f32, f32)) -> Option<DirtyRect> {
        if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
            return None;
        }
        // Long segments are cut into pieces about one diameter long so each piece's bounding
        // box stays tight: the work is proportional to the stroke's area, not its bounding box.
        let r = self.radius();
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let pieces = (len / (2.0 * r).max(4.0)).ceil().max(1.0) as usize;
        let mut dirty = None;
        for i in 0..pieces {
            let t0 = i as f32 / pieces as f32;
            let t1 = (i + 1) as f32 / pieces as f32;
            let p0 = (a.0 + (b.0 - a.0) * t0, a.1 + (b.1 - a.1) * t0);
            let p1 = (a.0 + (b.0 - a.0) * t1, a.1 + (b.1 - a.1) * t1);
            dirty = DirtyRect::merge(dirty, self.capsule(mask, p0, p1));
        }
        dirty
    }

    /// Paints a polyline; returns the rectangle of pixels that changed.
    pub fn polyline(&self, mask: &mut Mask, points: &[(f32, f32)]) -> Option<DirtyRect> {
        match points {
            [] => None,
            [p] => self.dab(mask, *p),
            _ => points.windows(2).fold(None, |acc, w| {
                DirtyRect::merge(acc, self.segment(mask, w[0], w[1]))
            }),
        }
    }

    /// Coverage (0..=255) per quarter pixel of distance, out to `reach` and a pixel beyond:
    /// coverage depends only on distance, so a capsule tabulates it once. It never grows with
    /// distance, so the table is 255 up to some index and 0 from another.
    fn coverage_table(&self, reach: f32) -> Vec<u8> {
        (0..=((reach * 4.0) as usize + 4))
            .map(|i| (self.coverage(i as f32 * 0.25) * 255.0).round() as u8)
            .collect()
    }

    fn capsule(&self, mask: &mut Mask, a: (f32, f32), b: (f32, f32)) -> Option<DirtyRect> {
        let reach = self.radius() + 1.0;
        let rect = DirtyRect::around_segment(a, b, reach, mask.width(), mask.height())?;
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = dx * dx + dy * dy;
        let erase = self.mode == BrushMode::Erase;
        let table = self.coverage_table(reach);
        let last = table.len() - 1;
        let first_partial = table.iter().position(|&c| c < 255).unwrap_or(table.len());
        let first_zero = table.iter().position(|&c| c == 0).unwrap_or(table.len());
        // A pixel takes table[round(4 d)]: full below (first_partial - 0.5) / 4, nothing from
        // (first_zero - 0.5) / 4 on. Each row is cut where the capsule of each radius crosses
        // it, with a margin so that rounding in that geometry never decides a pixel: the
        // pixels between the two cuts (the rim) are measured one by one as before, the full
        // core is filled in one go, and nothing outside the outer cut is visited. On a large
        // brush nearly every pixel is core, so the stroke costs about a byte written per pixel.
        const MARGIN: f32 = 0.1;
        let full_radius = (first_partial as f32 - 0.5) * 0.25 - MARGIN;
        let outer_radius = (first_zero as f32 - 0.5) * 0.25 + MARGIN;
        let shape = Capsule { a, dx, dy, len2 };
        let full = if erase { 0u8 } else { 255u8 };
        // Track the pixels that actually change, so callers upload and redraw only those.
        let (mut cx0, mut cy0, mut cx1, mut cy1) = (u32::MAX, u32::MAX, 0u32, 0u32);
        for y in rect.y0..rect.y1 {
            let py = y as f32 + 0.5;
            // Pixel columns whose centres lie within the radius: x + 0.5 in [lo, hi].
            let columns = |radius: f32, widen: i64| {
                shape.row_span(py, radius).map(|(lo, hi)| {
                    let (left, right) = (rect.x0 as i64, rect.x1 as i64);
                    let x0 = ((lo - 0.5).ceil() as i64 - widen).clamp(left, right);
                    let x1 = ((hi - 0.5).floor() as i64 + 1 + widen).clamp(x0, right);
                    (x0 as u32, x1 as u32)
                })
            };
            let Some((ox0, ox1)) = columns(outer_radius, 1) else {
                continue;
            };
            // No core on this row: every pixel is rim.
            let (ix0, ix1) = columns(full_radius, 0).map_or((ox1, ox1), |(x0, x1)| {
                (x0.clamp(ox0, ox1), x1.clamp(ox0, ox1))
            });
            let row = mask.row_mut(y);
            let mut row_changed = false;
            let mut note = |x0: u32, x1: u32| {
                row_changed = true;
                cx0 = cx0.min(x0);
                cx1 = cx1.max(x1);
            };
            for x in (ox0..ix0).chain(ix1..ox1) {
                let d = shape.distance((x as f32 + 0.5, py));
                let i = ((d * 4.0).round() as usize).min(last);
                let c = table[i];
                if c == 0 {
                    continue;
                }
                let v = &mut row[x as usize];
                let new = if erase {
                    (*v).min(255 - c)
                } else {
                    (*v).max(c)
                };
                if new != *v {
                    *v = new;
                    note(x, x + 1);
                }
            }
            // The core: every pixel becomes `full` (paint: max with 255; erase: min with 0).
            let core = &mut row[ix0 as usize..ix1 as usize];
            if let (Some(first), Some(end)) = (
                core.iter().position(|&v| v != full),
                core.iter().rposition(|&v| v != full),
            ) {
                core[first..=end].fill(full);
                note(ix0 + first as u32, ix0 + end as u32 + 1);
            }
            if row_changed {
                cy0 = cy0.min(y);
                cy1 = cy1.max(y + 1);
            }
        }
        (cx0 < cx1 && cy0 < cy1).then(|| DirtyRect::new(cx0, cy0, cx1, cy1))
    }
}

/// A segment from `a` by `(dx, dy)` (`len2` its squared length), for measuring where the set
/// of points within a distance of it crosses a pixel row.
struct Capsule {
    a: (f32, f32),
    dx: f32,
    dy: f32,
    len2: f32,
}

impl Capsule {
    /// Distance from `p` to the segment.
    fn distance(&self, p: (f32, f32)) -> f32 {
        let (a, dx, dy) = (self.a, self.dx, self.dy);
        let t = if self.len2 > 0.0 {
            (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / self.len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (qx, qy) = (a.0 + t * dx - p.0, a.1 + t * dy - p.1);
        (qx * qx + qy * qy).sqrt()
    }

    /// The x interval of the row at height `py` within `radius` of the segment: the union of
    /// the two end discs and the band beside the segment (a capsule is convex, so the union
    /// is one interval). None when the row misses it.
    fn row_span(&self, py: f32, radius: f32) -> Option<(f32, f32)> {
        if radius <= 0.0 {
            return None;
        }
        let mut span: Option<(f32, f32)> = None;
        let mut add = |lo: f32, hi: f32| {
            if lo <= hi {
                span = Some(span.map_or((lo, hi), |(l, h)| (l.min(lo), h.max(hi))));
            }
        };
        let b = (self.a.0 + self.dx, self.a.1 + self.dy);
        for (cx, cy) in [self.a, b] {
            let h2 = radius * radius - (py - cy) * (py - cy);
            if h2 >= 0.0 {
                let h = h2.sqrt();
                add(cx - h, cx + h);
            }
        }
        if self.len2 > 0.0 {
            // Along the segment: 0 <= ((x - ax) dx + (py - ay) dy) / len2 <= 1; across it:
            // |(x - ax) dy - (py - ay) dx| / len <= radius. Both are linear in x.
            let len = self.len2.sqrt();
            let (mut lo, mut hi) = (f32::NEG_INFINITY, f32::INFINITY);
            let mut within = |slope: f32, offset: f32, min: f32, max: f32| {
                // min <= slope * x + offset <= max
                if slope.abs() < 1e-12 {
                    if offset < min || offset > max {
                        lo = f32::INFINITY;
                    }
                } else {
                    let (p, q) = ((min - offset) / slope, (max - offset) / slope);
                    lo = lo.max(p.min(q));
                    hi = hi.min(p.max(q));
                }
            };
            let along = (py - self.a.1) * self.dy - self.a.0 * self.dx;
            within(self.dx, along, 0.0, self.len2);
            let across = -self.a.0 * self.dy - (py - self.a.1) * self.dx;
            within(self.dy, across, -radius * len, radius * len);
            add(lo, hi);
        }
        span
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The capsule measured at every pixel of its box, as it was before the rows were cut:
    /// what the fast version must reproduce exactly.
    fn capsule_one_by_one(
        brush: &Brush,
        mask: &mut Mask,
        a: (f32, f32),
        b: (f32, f32),
    ) -> Option<DirtyRect> {
        let reach = brush.radius() + 1.0;
        let rect = DirtyRect::around_segment(a, b, reach, mask.width(), mask.height())?;
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let shape = Capsule {
            a,
            dx,
            dy,
            len2: dx * dx + dy * dy,
        };
        let table = brush.coverage_table(reach);
        let (mut cx0, mut cy0, mut cx1, mut cy1) = (u32::MAX, u32::MAX, 0u32, 0u32);
        for y in rect.y0..rect.y1 {
            for x in rect.x0..rect.x1 {
                let d = shape.distance((x as f32 + 0.5, y as f32 + 0.5));
                let c = table[((d * 4.0).round() as usize).min(table.len() - 1)];
                let v = mask.get(x, y);
                let new = match brush.mode {
                    BrushMode::Erase => v.min(255 - c),
                    BrushMode::Paint => v.max(c),
                };
                if new != v {
                    mask.row_mut(y)[x as usize] = new;
                    (cx0, cy0) = (cx0.min(x), cy0.min(y));
                    (cx1, cy1) = (cx1.max(x + 1), cy1.max(y + 1));
                }
            }
        }
        (cx0 < cx1 && cy0 < cy1).then(|| DirtyRect::new(cx0, cy0, cx1, cy1))
    }

    /// A 120x90 mask with a bit of everything: empty, full, and partial values.
    fn mixed_mask(seed: u32) -> Mask {
        let mut mask = Mask::new(120, 90);
        for y in 0..90 {
            for (x, v) in mask.row_mut(y).iter_mut().enumerate() {
                let h = (x as u32)
                    .wrapping_mul(7919)
                    .wrapping_add(y.wrapping_mul(104_729))
                    .wrapping_add(seed)
                    .wrapping_mul(2_654_435_761)
                    >> 24;
                *v = match (x / 30 + y as usize / 30) % 3 {
                    0 => 0,
                    1 => 255,
                    _ => h as u8,
                };
            }
        }
        mask
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn the_cut_rows_paint_exactly_what_every_pixel_measured_would(
            size in 1.0f32..160.0,
            hardness in 0.0f32..=1.0,
            erase in any::<bool>(),
            ax in -40.0f32..160.0, ay in -40.0f32..130.0,
            dx in -90.0f32..90.0, dy in -90.0f32..90.0,
            degenerate in any::<bool>(),
            seed in any::<u32>(),
        ) {
            let mode = if erase { BrushMode::Erase } else { BrushMode::Paint };
            let brush = Brush::new(size, hardness, mode);
            let (a, b) = if degenerate { ((ax, ay), (ax, ay)) } else { ((ax, ay), (ax + dx, ay + dy)) };
            let mut fast = mixed_mask(seed);
            let mut slow = fast.clone();
            let fast_rect = brush.capsule(&mut fast, a, b);
            let slow_rect = capsule_one_by_one(&brush, &mut slow, a, b);
            prop_assert_eq!(fast_rect, slow_rect);
            prop_assert!(fast.data == slow.data, "pixels differ");
        }
    }

    #[test]
    fn horizontal_vertical_and_whole_pixel_segments_match_too() {
        // The row geometry's special cases: a slope of zero along or across.
        for (a, b) in [
            ((20.5, 40.5), (100.5, 40.5)),
            ((60.0, 5.0), (60.0, 85.0)),
            ((10.0, 10.0), (110.0, 80.0)),
            ((60.5, 45.5), (60.5, 45.5)),
        ] {
            for size in [1.0, 2.0, 7.0, 40.0, 101.0] {
                for hardness in [0.0, 0.5, 1.0] {
                    for mode in [BrushMode::Paint, BrushMode::Erase] {
                        let brush = Brush::new(size, hardness, mode);
                        let mut fast = mixed_mask(7);
                        let mut slow = fast.clone();
                        let r1 = brush.capsule(&mut fast, a, b);
                        let r2 = capsule_one_by_one(&brush, &mut slow, a, b);
                        assert_eq!(r1, r2, "{a:?} {b:?} size {size} hardness {hardness}");
                        assert!(fast.data == slow.data, "{a:?} {b:?} size {size} {hardness}");
                    }
                }
            }
        }
    }
}
