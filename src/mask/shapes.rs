//! Filled shapes on the mask: exact rectangles and anti-aliased polygons (also used for the
//! lasso). A polygon pixel's coverage is its area inside the shape (four sub-rows, exact in x),
//! nudged so that the 50 % threshold gives exactly the pixel-centre rasterisation: a pixel is
//! marked at export if and only if its centre lies inside the polygon (non-zero winding).

use super::{DirtyRect, Mask};

/// Add to the mask, or subtract from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Combine {
    Add,
    Subtract,
}

/// The x-intervals where the horizontal line at `y` is inside the polygon (non-zero rule).
fn spans_at(points: &[(f32, f32)], y: f32, out: &mut Vec<(f32, f32)>) {
    out.clear();
    let mut crossings: Vec<(f32, i32)> = Vec::new();
    let n = points.len();
    for i in 0..n {
        let (x0, y0) = points[i];
        let (x1, y1) = points[(i + 1) % n];
        if y0 == y1 {
            continue;
        }
        let (lo, hi, dir) = if y0 < y1 { (y0, y1, 1) } else { (y1, y0, -1) };
        if y >= lo && y < hi {
            let t = (y - y0) / (y1 - y0);
            crossings.push((x0 + t * (x1 - x0), dir));
        }
    }
    crossings.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut winding = 0;
    let mut start = 0.0;
    for (x, dir) in crossings {
        let was_inside = winding != 0;
        winding += dir;
        let inside = winding != 0;
        if !was_inside && inside {
            start = x;
        } else if was_inside && !inside && x > start {
            out.push((start, x));
        }
    }
}

/// Coverage (0..=255) of the polygon over each pixel of row `y`, for columns `x0..x1`.
fn row_coverage(
    points: &[(f32, f32)],
    y: u32,
    x0: u32,
    x1: u32,
    acc: &mut [f32],
    centre: &mut [bool],
) {
    const SUB: u32 = 4;
    acc.fill(0.0);
    centre.fill(false);
    let mut spans = Vec::new();
    for k in 0..SUB {
        let sy = y as f32 + (k as f32 + 0.5) / SUB as f32;
        spans_at(points, sy, &mut spans);
        for &(a, b) in &spans {
            let a = a.max(x0 as f32);
            let b = b.min(x1 as f32);
            if b <= a {
                continue;
            }
            let first = a.floor() as u32;
            let last = (b.ceil() as u32).min(x1);
            for x in first..last {
                let overlap = (b.min(x as f32 + 1.0) - a.max(x as f32)).max(0.0);
                acc[(x - x0) as usize] += overlap / SUB as f32;
            }
        }
    }
    spans_at(points, y as f32 + 0.5, &mut spans);
    for &(a, b) in &spans {
        // Centres x + 0.5 in [a, b).
        let first = (a - 0.5).ceil().max(x0 as f32) as u32;
        let end = ((b - 0.5).ceil().max(0.0) as u32).min(x1);
        for x in first.max(x0)..end {
            centre[(x - x0) as usize] = true;
        }
    }
}

/// Fills a polygon (image pixel coordinates, at least three corners). Returns the changed box.
pub fn fill_polygon(mask: &mut Mask, points: &[(f32, f32)], combine: Combine) -> Option<DirtyRect> {
    if points.len() < 3 || points.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()) {
        return None;
    }
    let (mut minx, mut miny, mut maxx, mut maxy) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for &(x, y) in points {
        minx = minx.min(x);
        miny = miny.min(y);
        maxx = maxx.max(x);
        maxy = maxy.max(y);
    }
    let rect = DirtyRect::clip(
        minx.floor() as i64,
        miny.floor() as i64,
        maxx.ceil() as i64 + 1,
        maxy.ceil() as i64 + 1,
        mask.width(),
        mask.height(),
    )?;
    let w = rect.width() as usize;
    let mut acc = vec![0.0f32; w];
    let mut centre = vec![false; w];
    for y in rect.y0..rect.y1 {
        row_coverage(points, y, rect.x0, rect.x1, &mut acc, &mut centre);
        let row = &mut mask.row_mut(y)[rect.x0 as usize..rect.x1 as usize];
        for i in 0..w {
            let mut c = (acc[i].clamp(0.0, 1.0) * 255.0).round() as u8;
            c = if centre[i] {
                c.max(super::THRESHOLD)
            } else {
                c.min(super::THRESHOLD - 1)
            };
            match combine {
                Combine::Add => row[i] = row[i].max(c),
                Combine::Subtract => row[i] = row[i].min(255 - c),
            }
        }
    }
    Some(rect)
}

/// Is the point inside the polygon (non-zero winding)? The reference for tests.
pub fn contains(points: &[(f32, f32)], px: f32, py: f32) -> bool {
    let mut spans = Vec::new();
    spans_at(points, py, &mut spans);
    spans.iter().any(|&(a, b)| px >= a && px < b)
}

/// Fills the axis-aligned rectangle between two corners (any order, fractional pixels allowed)
/// with anti-aliased edges; at export a pixel is marked exactly when its centre is inside.
pub fn fill_rect(
    mask: &mut Mask,
    a: (f32, f32),
    b: (f32, f32),
    combine: Combine,
) -> Option<DirtyRect> {
    let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
    let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
    if x0 == x1 || y0 == y1 {
        return None;
    }
    fill_polygon(mask, &[(x0, y0), (x1, y0), (x1, y1), (x0, y1)], combine)
}

/// Fills a freehand lasso: the closed path through the pointer positions (the last point joins
/// the first; a self-crossing path fills by the non-zero rule). Repeated points are dropped.
pub fn fill_lasso(mask: &mut Mask, path: &[(f32, f32)], combine: Combine) -> Option<DirtyRect> {
    let mut points: Vec<(f32, f32)> = Vec::with_capacity(path.len());
    for &p in path {
        if points.last() != Some(&p) {
            points.push(p);
        }
    }
    while points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    fill_polygon(mask, &points, combine)
}
