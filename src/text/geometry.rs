//! From the detector's probability map to rotated boxes: threshold, connected components, the
//! minimum-area rectangle around each (convex hull and rotating calipers), grown ("unclipped")
//! the way PaddleOCR's DB post-processing does.

use super::{Quad, TextBox};

/// Post-processing settings (PaddleOCR's DB defaults as RapidOCR ships them).
#[derive(Debug, Clone, Copy)]
pub struct BoxOptions {
    /// A map pixel is text above this probability.
    pub threshold: f32,
    /// A component is kept when its mean probability is at least this.
    pub box_threshold: f32,
    /// The box grows by `area * unclip / perimeter` on every side.
    pub unclip: f32,
    /// Components whose rectangle is thinner than this (map pixels) are noise.
    pub min_side: f32,
}

impl Default for BoxOptions {
    fn default() -> Self {
        Self {
            threshold: 0.3,
            box_threshold: 0.5,
            unclip: 1.6,
            min_side: 3.0,
        }
    }
}

/// A rotated rectangle: centre, unit direction of its `width` side, and side lengths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RotatedRect {
    pub cx: f32,
    pub cy: f32,
    pub ux: f32,
    pub uy: f32,
    pub width: f32,
    pub height: f32,
}

impl RotatedRect {
    /// Turns the rectangle so that `width` runs along the reading direction: the long side,
    /// unless the box is nearly square, then the side closest to horizontal; pointing right.
    fn oriented(self) -> Self {
        let mut r = self;
        let long_is_height = r.height > r.width;
        let square = r.width.max(r.height) < 1.5 * r.width.min(r.height).max(1e-3);
        let steep = r.uy.abs() > r.ux.abs();
        if (!square && long_is_height) || (square && steep) {
            r = Self {
                ux: -r.uy,
                uy: r.ux,
                width: r.height,
                height: r.width,
                ..r
            };
        }
        if r.ux < 0.0 || (r.ux == 0.0 && r.uy < 0.0) {
            r.ux = -r.ux;
            r.uy = -r.uy;
        }
        r
    }

    /// Corners top-left, top-right, bottom-right, bottom-left in reading order.
    pub fn corners(&self) -> Quad {
        let (hx, hy) = (self.ux * self.width / 2.0, self.uy * self.width / 2.0);
        // The "down" direction: the reading direction turned 90° clockwise (y grows down).
        let (vx, vy) = (-self.uy * self.height / 2.0, self.ux * self.height / 2.0);
        [
            [self.cx - hx - vx, self.cy - hy - vy],
            [self.cx + hx - vx, self.cy + hy - vy],
            [self.cx + hx + vx, self.cy + hy + vy],
            [self.cx - hx + vx, self.cy - hy + vy],
        ]
    }
}

fn cross(o: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// Convex hull (monotone chain), counter-clockwise, without repeated points.
pub(crate) fn convex_hull(mut points: Vec<(f32, f32)>) -> Vec<(f32, f32)> {
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let mut hull: Vec<(f32, f32)> = Vec::with_capacity(points.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &(f32, f32)>> = if pass == 0 {
            Box::new(points.iter())
        } else {
            Box::new(points.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// The minimum-area rectangle around `points` (one of its sides lies on a hull edge).
pub(crate) fn min_area_rect(points: Vec<(f32, f32)>) -> Option<RotatedRect> {
    let hull = convex_hull(points);
    if hull.is_empty() {
        return None;
    }
    if hull.len() < 3 {
        let (a, b) = (hull[0], *hull.last().unwrap_or(&hull[0]));
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        let (ux, uy) = if len > 0.0 {
            (dx / len, dy / len)
        } else {
            (1.0, 0.0)
        };
        return Some(RotatedRect {
            cx: (a.0 + b.0) / 2.0,
            cy: (a.1 + b.1) / 2.0,
            ux,
            uy,
            width: len,
            height: 0.0,
        });
    }
    let mut best: Option<(f32, RotatedRect)> = None;
    for i in 0..hull.len() {
        let a = hull[i];
        let b = hull[(i + 1) % hull.len()];
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        if len == 0.0 {
            continue;
        }
        let (ux, uy) = (dx / len, dy / len);
        let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &hull {
            let u = p.0 * ux + p.1 * uy;
            let v = -p.0 * uy + p.1 * ux;
            u0 = u0.min(u);
            u1 = u1.max(u);
            v0 = v0.min(v);
            v1 = v1.max(v);
        }
        let area = (u1 - u0) * (v1 - v0);
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let (cu, cv) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
            best = Some((
                area,
                RotatedRect {
                    cx: cu * ux - cv * uy,
                    cy: cu * uy + cv * ux,
                    ux,
                    uy,
                    width: u1 - u0,
                    height: v1 - v0,
                },
            ));
        }
    }
    best.map(|(_, r)| r)
}

/// The mean of `map` over the pixels whose centres lie inside `b`.
fn rect_mean(map: &[f32], width: usize, height: usize, b: &TextBox) -> f32 {
    let (x0, y0, x1, y1) = b.bounds();
    let (sx, sy) = (x0.floor().max(0.0) as usize, y0.floor().max(0.0) as usize);
    let (ex, ey) = (
        (x1.ceil().max(0.0) as usize).min(width),
        (y1.ceil().max(0.0) as usize).min(height),
    );
    let (mut sum, mut n) = (0.0f32, 0usize);
    for y in sy..ey {
        for x in sx..ex {
            if b.contains(x as f32 + 0.5, y as f32 + 0.5, 0.0) {
                sum += map[y * width + x];
                n += 1;
            }
        }
    }
    if n == 0 { 0.0 } else { sum / n as f32 }
}

/// Boxes of text in a `width` x `height` probability map, in map pixel coordinates
/// (pixel centres at `x + 0.5`). Sorted top to bottom, then left to right.
pub fn boxes_from_map(
    map: &[f32],
    width: usize,
    height: usize,
    options: &BoxOptions,
) -> Vec<TextBox> {
    let on: Vec<bool> = map.iter().map(|&p| p > options.threshold).collect();
    let mut label = vec![u32::MAX; width * height];
    let mut boxes = Vec::new();
    let mut stack = Vec::new();
    let mut next = 0u32;
    for start in 0..width * height {
        if !on[start] || label[start] != u32::MAX {
            continue;
        }
        // Flood the component (8-connected); keep each row's extreme pixels for the hull.
        label[start] = next;
        stack.push(start);
        let mut rows: std::collections::HashMap<usize, (usize, usize)> = Default::default();
        let mut sum = 0.0f32;
        let mut count = 0usize;
        while let Some(i) = stack.pop() {
            let (x, y) = (i % width, i / width);
            sum += map[i];
            count += 1;
            let e = rows.entry(y).or_insert((x, x));
            e.0 = e.0.min(x);
            e.1 = e.1.max(x);
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= width as i64 || ny >= height as i64 {
                        continue;
                    }
                    let j = ny as usize * width + nx as usize;
                    if on[j] && label[j] == u32::MAX {
                        label[j] = next;
                        stack.push(j);
                    }
                }
            }
        }
        next += 1;
        let score = sum / count as f32;
        if count < 4 || score < options.box_threshold {
            continue;
        }
        let mut pts = Vec::with_capacity(rows.len() * 4);
        for (&y, &(x0, x1)) in &rows {
            // Pixel squares' outer corners, so a one-pixel-high row still has height.
            pts.push((x0 as f32, y as f32));
            pts.push((x0 as f32, y as f32 + 1.0));
            pts.push((x1 as f32 + 1.0, y as f32));
            pts.push((x1 as f32 + 1.0, y as f32 + 1.0));
        }
        let Some(rect) = min_area_rect(pts) else {
            continue;
        };
        if rect.width.min(rect.height) < options.min_side {
            continue;
        }
        // As PaddleOCR's DB post-processing scores a box: the mean probability over the whole
        // rectangle, not only over the pixels above the threshold, so a blob that fills its
        // rectangle loosely (a spoon's highlight, foliage) scores low while a line of letters,
        // whose rectangle it fills, keeps its score.
        if rect_mean(
            map,
            width,
            height,
            &TextBox::from_rect(&rect.oriented(), score),
        ) < options.box_threshold
        {
            continue;
        }
        let grow = rect.width * rect.height * options.unclip / (2.0 * (rect.width + rect.height));
        let grown = RotatedRect {
            width: rect.width + 2.0 * grow,
            height: rect.height + 2.0 * grow,
            ..rect
        }
        .oriented();
        boxes.push(TextBox::from_rect(&grown, score));
    }
    super::reading_order(&mut boxes);
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_area_rect_of_a_turned_rectangle_recovers_it() {
        let (c, s) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
        let pts: Vec<(f32, f32)> = [(-20.0, -5.0), (20.0, -5.0), (20.0, 5.0), (-20.0, 5.0)]
            .iter()
            .map(|&(x, y)| (100.0 + x * c - y * s, 50.0 + x * s + y * c))
            .collect();
        let r = min_area_rect(pts).unwrap().oriented();
        assert!(
            (r.width - 40.0).abs() < 1e-3 && (r.height - 10.0).abs() < 1e-3,
            "{r:?}"
        );
        assert!((r.uy.atan2(r.ux).to_degrees() - 30.0).abs() < 1e-3, "{r:?}");
        assert!((r.cx - 100.0).abs() < 1e-3 && (r.cy - 50.0).abs() < 1e-3);
        let q = r.corners();
        // Top-left is above-left of the centre in the turned frame.
        assert!(q[0][0] < 100.0 && q[0][1] < 50.0, "{q:?}");
    }

    #[test]
    fn map_with_two_bars_gives_two_boxes_in_reading_order() {
        let (w, h) = (64usize, 32usize);
        let mut map = vec![0.0f32; w * h];
        for y in 4..10 {
            for x in 30..60 {
                map[y * w + x] = 0.9;
            }
        }
        for y in 20..26 {
            for x in 4..40 {
                map[y * w + x] = 0.9;
            }
        }
        let b = boxes_from_map(&map, w, h, &BoxOptions::default());
        assert_eq!(b.len(), 2);
        assert!(b[0].corners[0][1] < b[1].corners[0][1]);
        assert!(b[0].angle.abs() < 1e-3);
    }

    #[test]
    fn a_blob_that_fills_its_rectangle_loosely_is_not_a_box() {
        // A ring: every pixel of it is confidently "text" (0.9), but its 40x40 rectangle is
        // mostly empty, as around a highlight on a spoon.
        let (w, h) = (64usize, 64usize);
        let mut map = vec![0.0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                let r = ((x as f32 - 32.0).powi(2) + (y as f32 - 32.0).powi(2)).sqrt();
                if (18.0..21.0).contains(&r) {
                    map[y * w + x] = 0.9;
                }
            }
        }
        let b = boxes_from_map(&map, w, h, &BoxOptions::default());
        assert!(b.is_empty(), "{b:?}");
        // The same probability as a solid bar is a box.
        let mut bar = vec![0.0f32; w * h];
        for y in 20..28 {
            for x in 8..56 {
                bar[y * w + x] = 0.9;
            }
        }
        assert_eq!(boxes_from_map(&bar, w, h, &BoxOptions::default()).len(), 1);
    }
}
