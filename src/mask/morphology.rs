//! Whole-mask operations on the marked shape: grow and shrink by a round (disk) structuring
//! element, feather, fill holes.
//!
//! Grow and shrink work on the thresholded shape (coverage at least [`THRESHOLD`]) through an
//! exact Euclidean distance transform (Felzenszwalb and Huttenlocher's lower envelope of
//! parabolas), so their cost does not depend on the radius, and the marked set afterwards is
//! exactly the dilation or erosion by the disk `{(dx, dy) : dx² + dy² <= N²}`:
//!
//! - grow N: a pixel is marked when some marked pixel lies within distance N of it;
//! - shrink N: a marked pixel stays marked when no unmarked pixel lies within distance N.
//!   Pixels outside the image count as marked here (like OpenCV's default border), so a
//!   mask touching the image edge does not shrink away from it.
//!
//! The new edge is anti-aliased from the same distances (coverage ramps over one pixel), with
//! coverage nudged so the 50 % threshold still gives exactly the disk result.

use super::flood::{Connectivity, scanline_fill};
use super::{DirtyRect, Mask, THRESHOLD};

/// "No feature in reach".
const FAR: u32 = u32::MAX;

/// Coverage for a pixel that must export as `marked`, from an anti-aliasing estimate.
fn nudged(aa: f32, marked: bool) -> u8 {
    let c = (aa.clamp(0.0, 1.0) * 255.0).round() as u8;
    if marked {
        c.max(THRESHOLD)
    } else {
        c.min(THRESHOLD - 1)
    }
}

/// Collects the box of changed pixels.
#[derive(Default)]
struct ChangeBox(Option<DirtyRect>);

impl ChangeBox {
    fn row(&mut self, y: u32, first: u32, last: u32) {
        if first <= last {
            let line = DirtyRect::new(first, y, last + 1, y + 1);
            self.0 = Some(self.0.map_or(line, |b| b.union(line)));
        }
    }
}

/// `rect` widened by `margin` pixels on every side, clipped to the mask; `None` when nothing
/// of it is left inside.
fn widened(mask: &Mask, rect: DirtyRect, margin: i64) -> Option<DirtyRect> {
    DirtyRect::clip(
        rect.x0 as i64 - margin,
        rect.y0 as i64 - margin,
        rect.x1 as i64 + margin,
        rect.y1 as i64 + margin,
        mask.width(),
        mask.height(),
    )
}

/// Squared Euclidean distance from each pixel of `rect` to the nearest pixel of `rect` that is
/// marked (`feature_marked`) or unmarked (`!feature_marked`); [`FAR`] when there is none.
/// Row-major over `rect`. Exact wherever the distance is at most `cap`; elsewhere the value is
/// above `cap²` (possibly [`FAR`]), which is all the callers need to know there.
pub(crate) fn squared_distances(
    mask: &Mask,
    rect: DirtyRect,
    feature_marked: bool,
    cap: u32,
) -> Vec<u32> {
    let (w, h) = (rect.width() as usize, rect.height() as usize);
    let mut g = vec![FAR; w * h];
    // Vertical pass: distance to the nearest feature in the same column, down then up.
    for y in 0..h {
        let src = &mask.row(rect.y0 + y as u32)[rect.x0 as usize..rect.x1 as usize];
        let (done, rest) = g.split_at_mut(y * w);
        let cur = &mut rest[..w];
        let prev = (y > 0).then(|| &done[(y - 1) * w..]);
        for x in 0..w {
            if (src[x] >= THRESHOLD) == feature_marked {
                cur[x] = 0;
            } else if let Some(prev) = prev
                && prev[x] != FAR
            {
                cur[x] = prev[x] + 1;
            }
        }
    }
    for y in (0..h.saturating_sub(1)).rev() {
        let (upper, lower) = g.split_at_mut((y + 1) * w);
        let cur = &mut upper[y * w..];
        let below = &lower[..w];
        for x in 0..w {
            if below[x] != FAR && below[x] + 1 < cur[x] {
                cur[x] = below[x] + 1;
            }
        }
    }
    // A column distance above the cap only gives 2-D distances above it: drop those parabolas.
    for v in g.iter_mut() {
        if *v > cap {
            *v = FAR;
        }
    }
    // Horizontal pass: lower envelope of the parabolas (x - q)² + g(q)².
    let mut f = vec![0f64; w];
    let mut v = vec![0usize; w];
    let mut z = vec![0f64; w + 1];
    for row in g.chunks_exact_mut(w) {
        envelope_row(row, &mut f, &mut v, &mut z);
    }
    g
}

/// One row of the Felzenszwalb-Huttenlocher transform: `row` holds column distances on entry
/// and squared 2-D distances on exit.
fn envelope_row(row: &mut [u32], f: &mut [f64], v: &mut [usize], z: &mut [f64]) {
    let n = row.len();
    let mut k: usize = 0;
    let mut any = false;
    for q in 0..n {
        if row[q] == FAR {
            continue;
        }
        // Inside a run of zeros only the run's ends can be nearest for pixels outside it, and
        // pixels inside it are at distance 0 (written below).
        if row[q] == 0 && q > 0 && q + 1 < n && row[q - 1] == 0 && row[q + 1] == 0 {
            continue;
        }
        let gq = row[q] as f64;
        f[q] = gq * gq;
        if !any {
            any = true;
            v[0] = q;
            z[0] = f64::NEG_INFINITY;
            z[1] = f64::INFINITY;
            continue;
        }
        let qf = q as f64;
        let mut s;
        loop {
            let pf = v[k] as f64;
            s = ((f[q] + qf * qf) - (f[v[k]] + pf * pf)) / (2.0 * (qf - pf));
            // z[0] is -inf, so the envelope never empties.
            if s > z[k] || k == 0 {
                break;
            }
            k -= 1;
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f64::INFINITY;
    }
    if !any {
        return;
    }
    let mut k = 0;
    for (x, out) in row.iter_mut().enumerate() {
        if *out == 0 {
            continue;
        }
        let xf = x as f64;
        while z[k + 1] < xf {
            k += 1;
        }
        let p = v[k];
        let dx = xf - p as f64;
        let d = dx * dx + f[p];
        *out = if d >= (FAR - 1) as f64 {
            FAR - 1
        } else {
            d as u32
        };
    }
}

/// Grows the marked shape by `radius` pixels with a round structuring element (a disk of that
/// radius). Returns the changed box; `None` when nothing changed.
pub fn grow(mask: &mut Mask, radius: u32) -> Option<DirtyRect> {
    reshape(mask, radius, Reshape::Grow)
}

/// Shrinks the marked shape by `radius` pixels: erosion by a disk of that radius (pixels
/// outside the image count as marked). Returns the changed box; `None` when nothing changed.
pub fn shrink(mask: &mut Mask, radius: u32) -> Option<DirtyRect> {
    reshape(mask, radius, Reshape::Shrink)
}

/// Which way [`reshape`] moves the edge.
#[derive(Clone, Copy)]
enum Reshape {
    Grow,
    Shrink,
}

impl Reshape {
    /// How far beyond the marked box the pass must look. Growing reaches `radius` out;
    /// shrinking needs one ring of unmarked pixels around the marked box, as any unmarked
    /// pixel farther out has one on the ring at least as close.
    fn margin(self, radius: u32) -> i64 {
        match self {
            Reshape::Grow => radius as i64,
            Reshape::Shrink => 1,
        }
    }

    /// Whether distances are measured to marked pixels (grow) or to unmarked ones (shrink).
    fn measures_to_marked(self) -> bool {
        matches!(self, Reshape::Grow)
    }

    /// New coverage of a pixel with coverage `old` at squared distance `d` (at most the ramp's
    /// end) from the nearest feature, for a disk of squared radius `r2` and radius `rf`.
    fn coverage(self, old: u8, d: u32, r2: u64, rf: f32) -> u8 {
        match self {
            // At distance 0 the pixel is solid.
            Reshape::Grow if d == 0 => 255,
            Reshape::Grow => {
                let inside = d != FAR && d as u64 <= r2;
                let aa = if d == FAR {
                    0.0
                } else {
                    rf + 0.5 - (d as f32).sqrt()
                };
                old.max(nudged(aa, inside))
            }
            Reshape::Shrink => {
                let keep = d == FAR || d as u64 > r2;
                let aa = if d == FAR {
                    1.0
                } else {
                    (d as f32).sqrt() - rf + 0.5
                };
                let new = old.min(nudged(aa, keep));
                if keep { new.max(THRESHOLD) } else { new }
            }
        }
    }
}

/// Grows or shrinks the marked shape by `radius` pixels (see [`grow`] and [`shrink`]).
fn reshape(mask: &mut Mask, radius: u32, op: Reshape) -> Option<DirtyRect> {
    if radius == 0 {
        return None;
    }
    let marked = mask.marked_bounds()?;
    let rect = widened(mask, marked, op.margin(radius))?;
    let d2 = squared_distances(
        mask,
        rect,
        op.measures_to_marked(),
        radius.saturating_add(1),
    );
    let r2 = radius as u64 * radius as u64;
    let ramp2 = (radius as u64 + 1).pow(2);
    let rf = radius as f32;
    let w = rect.width() as usize;
    let mut changed = ChangeBox::default();
    for (i, y) in (rect.y0..rect.y1).enumerate() {
        let row = &mut mask.row_mut(y)[rect.x0 as usize..rect.x1 as usize];
        let dist = &d2[i * w..(i + 1) * w];
        let (mut first, mut last) = (u32::MAX, 0);
        for x in 0..w {
            let d = dist[x];
            // Beyond the ramp nothing changes.
            if d as u64 > ramp2 {
                continue;
            }
            let new = op.coverage(row[x], d, r2, rf);
            if new != row[x] {
                row[x] = new;
                first = first.min(rect.x0 + x as u32);
                last = rect.x0 + x as u32;
            }
        }
        changed.row(y, first, last);
    }
    changed.0
}

/// Softens the coverage edge over `radius` pixels on each side without changing which pixels
/// are marked. Coverage becomes a ramp of the distance to the shape's edge: a marked pixel at
/// distance `d` from the nearest unmarked pixel gets `0.5 + (d - 0.5) / (2 radius)`, an
/// unmarked pixel at distance `d` from the nearest marked one `0.5 - (d - 0.5) / (2 radius)`
/// (clamped to 0..=1, and kept on its side of the 50 % threshold). Any earlier soft edge is
/// replaced; the export is unchanged. Returns the changed box.
pub fn feather(mask: &mut Mask, radius: f32) -> Option<DirtyRect> {
    if !radius.is_finite() || radius < 0.5 {
        return None;
    }
    let reach = radius.ceil() as i64 + 1;
    let Some(marked) = mask.marked_bounds() else {
        // Nothing marked: the only soft coverage left is below the threshold; clear it.
        return clear_sub_threshold(mask, mask.bounds());
    };
    let rect = widened(mask, marked, reach)?;
    let cap = reach as u32 + 1;
    let outside = squared_distances(mask, rect, true, cap);
    let inside = squared_distances(mask, rect, false, cap);
    let w = rect.width() as usize;
    let half_ramp = 2.0 * radius;
    let mut changed = ChangeBox::default();
    for (i, y) in (rect.y0..rect.y1).enumerate() {
        let row = &mut mask.row_mut(y)[rect.x0 as usize..rect.x1 as usize];
        let (mut first, mut last) = (u32::MAX, 0);
        for x in 0..w {
            let is_marked = row[x] >= THRESHOLD;
            let new = if is_marked {
                let d = inside[i * w + x];
                let aa = if d == FAR {
                    1.0
                } else {
                    0.5 + ((d as f32).sqrt() - 0.5) / half_ramp
                };
                nudged(aa, true)
            } else {
                let d = outside[i * w + x];
                let aa = if d == FAR {
                    0.0
                } else {
                    0.5 - ((d as f32).sqrt() - 0.5) / half_ramp
                };
                nudged(aa, false)
            };
            if new != row[x] {
                row[x] = new;
                first = first.min(rect.x0 + x as u32);
                last = rect.x0 + x as u32;
            }
        }
        changed.row(y, first, last);
    }
    // Farther out every pixel is unmarked and beyond the ramp.
    let mut all = changed.0;
    for band in outside_bands(mask.bounds(), rect) {
        all = DirtyRect::merge(all, clear_sub_threshold(mask, band));
    }
    all
}

/// The (up to four) rectangles of `whole` outside `inner`.
fn outside_bands(whole: DirtyRect, inner: DirtyRect) -> Vec<DirtyRect> {
    [
        DirtyRect::new(whole.x0, whole.y0, whole.x1, inner.y0),
        DirtyRect::new(whole.x0, inner.y1, whole.x1, whole.y1),
        DirtyRect::new(whole.x0, inner.y0, inner.x0, inner.y1),
        DirtyRect::new(inner.x1, inner.y0, whole.x1, inner.y1),
    ]
    .into_iter()
    .filter(|r| !r.is_empty())
    .collect()
}

/// Sets every non-zero coverage in `rect` to 0 (callers pass areas with no marked pixel).
fn clear_sub_threshold(mask: &mut Mask, rect: DirtyRect) -> Option<DirtyRect> {
    let mut changed = ChangeBox::default();
    for y in rect.y0..rect.y1 {
        let row = &mut mask.row_mut(y)[rect.x0 as usize..rect.x1 as usize];
        let (mut first, mut last) = (u32::MAX, 0);
        for (x, v) in row.iter_mut().enumerate() {
            if *v != 0 {
                *v = 0;
                first = first.min(rect.x0 + x as u32);
                last = rect.x0 + x as u32;
            }
        }
        changed.row(y, first, last);
    }
    changed.0
}

/// Marks every hole: each unmarked region that cannot reach the image border through unmarked
/// pixels (moving left, right, up or down). Returns the changed box.
pub fn fill_holes(mask: &mut Mask) -> Option<DirtyRect> {
    let (width, height) = mask.size();
    if width == 0 || height == 0 {
        return None;
    }
    let w = width as usize;
    let mut outside = vec![0u8; w * height as usize];
    let border = (0..width)
        .flat_map(|x| [(x, 0), (x, height - 1)])
        .chain((0..height).flat_map(|y| [(0, y), (width - 1, y)]));
    let data = mask.as_raw();
    // Without a cancel flag the fill cannot be cancelled.
    let _ = scanline_fill(
        width,
        height,
        border,
        Connectivity::Four,
        &mut outside,
        |x, y| data[y as usize * w + x as usize] < THRESHOLD,
        None,
    );
    let mut changed = ChangeBox::default();
    for y in 0..height {
        let reached = &outside[y as usize * w..(y as usize + 1) * w];
        let row = mask.row_mut(y);
        let (mut first, mut last) = (u32::MAX, 0);
        for x in 0..w {
            if row[x] < THRESHOLD && reached[x] == 0 {
                row[x] = 255;
                first = first.min(x as u32);
                last = x as u32;
            }
        }
        changed.row(y, first, last);
    }
    changed.0
}
