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

    fn capsule(&self, mask: &mut Mask, a: (f32, f32), b: (f32, f32)) -> Option<DirtyRect> {
        let reach = self.radius() + 1.0;
        let rect = DirtyRect::clip(
            (a.0.min(b.0) - reach).floor() as i64,
            (a.1.min(b.1) - reach).floor() as i64,
            (a.0.max(b.0) + reach).ceil() as i64 + 1,
            (a.1.max(b.1) + reach).ceil() as i64 + 1,
            mask.width(),
            mask.height(),
        )?;
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = dx * dx + dy * dy;
        let erase = self.mode == BrushMode::Erase;
        // Coverage depends only on distance: tabulate it once per quarter pixel.
        let table: Vec<u8> = (0..=((reach * 4.0) as usize + 4))
            .map(|i| (self.coverage(i as f32 * 0.25) * 255.0).round() as u8)
            .collect();
        let last = table.len() - 1;
        // Track the pixels that actually change, so callers upload and redraw only those.
        let (mut cx0, mut cy0, mut cx1, mut cy1) = (u32::MAX, u32::MAX, 0u32, 0u32);
        for y in rect.y0..rect.y1 {
            let py = y as f32 + 0.5;
            let row = mask.row_mut(y);
            let mut row_changed = false;
            for x in rect.x0..rect.x1 {
                let px = x as f32 + 0.5;
                let t = if len2 > 0.0 {
                    (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (qx, qy) = (a.0 + t * dx - px, a.1 + t * dy - py);
                let d = (qx * qx + qy * qy).sqrt();
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
                    row_changed = true;
                    cx0 = cx0.min(x);
                    cx1 = cx1.max(x + 1);
                }
            }
            if row_changed {
                cy0 = cy0.min(y);
                cy1 = cy1.max(y + 1);
            }
        }
        (cx0 < cx1 && cy0 < cy1).then(|| DirtyRect::new(cx0, cy0, cx1, cy1))
    }
}
