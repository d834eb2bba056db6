//! Raster steps of the patch fill: growing the hole, distances to it, where whole patches
//! fit, and halving a level.

use crate::local::canvas::Canvas;

/// The hole grown by `radius` pixels in every direction (a square structuring element).
pub(super) fn grow(hole: &[bool], w: usize, h: usize, radius: usize) -> Vec<bool> {
    let mut across = vec![false; w * h];
    for y in 0..h {
        let row = &hole[y * w..(y + 1) * w];
        let mut last_hole: Option<usize> = None;
        for x in 0..w {
            if row[x] {
                last_hole = Some(x);
            }
            if last_hole.is_some_and(|l| x - l <= radius) {
                across[y * w + x] = true;
            }
        }
        let mut next_hole: Option<usize> = None;
        for x in (0..w).rev() {
            if row[x] {
                next_hole = Some(x);
            }
            if next_hole.is_some_and(|n| n - x <= radius) {
                across[y * w + x] = true;
            }
        }
    }
    let mut grown = vec![false; w * h];
    for x in 0..w {
        let mut last: Option<usize> = None;
        for y in 0..h {
            if across[y * w + x] {
                last = Some(y);
            }
            if last.is_some_and(|l| y - l <= radius) {
                grown[y * w + x] = true;
            }
        }
        let mut next: Option<usize> = None;
        for y in (0..h).rev() {
            if across[y * w + x] {
                next = Some(y);
            }
            if next.is_some_and(|n| n - y <= radius) {
                grown[y * w + x] = true;
            }
        }
    }
    grown
}

/// Per pixel: the chessboard distance to the nearest hole pixel (0 on the hole; `u32::MAX`
/// everywhere when there is no hole).
pub(super) fn distance_from_hole(hole: &[bool], w: usize, h: usize) -> Vec<u32> {
    let far = u32::MAX;
    let mut d: Vec<u32> = hole.iter().map(|&b| if b { 0 } else { far }).collect();
    let step = |v: u32| v.saturating_add(1);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let mut best = d[i];
            if x > 0 {
                best = best.min(step(d[i - 1]));
            }
            if y > 0 {
                let up = i - w;
                best = best.min(step(d[up]));
                if x > 0 {
                    best = best.min(step(d[up - 1]));
                }
                if x + 1 < w {
                    best = best.min(step(d[up + 1]));
                }
            }
            d[i] = best;
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let i = y * w + x;
            let mut best = d[i];
            if x + 1 < w {
                best = best.min(step(d[i + 1]));
            }
            if y + 1 < h {
                let down = i + w;
                best = best.min(step(d[down]));
                if x + 1 < w {
                    best = best.min(step(d[down + 1]));
                }
                if x > 0 {
                    best = best.min(step(d[down - 1]));
                }
            }
            d[i] = best;
        }
    }
    d
}

/// Centres of patches fully inside the canvas with no hole pixel (summed-area table).
pub(super) fn source_centres(hole: &[bool], w: usize, h: usize, radius: usize) -> Vec<bool> {
    let mut sums = vec![0u32; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u32;
        for x in 0..w {
            row += hole[y * w + x] as u32;
            sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
        }
    }
    let mut ok = vec![false; w * h];
    if w <= 2 * radius || h <= 2 * radius {
        return ok;
    }
    for y in radius..h - radius {
        for x in radius..w - radius {
            let (x0, y0, x1, y1) = (x - radius, y - radius, x + radius + 1, y + radius + 1);
            let count = sums[y1 * (w + 1) + x1] + sums[y0 * (w + 1) + x0]
                - sums[y0 * (w + 1) + x1]
                - sums[y1 * (w + 1) + x0];
            ok[y * w + x] = count == 0;
        }
    }
    ok
}

/// Half size: known pixels average the known pixels below them; a coarse pixel is hole when
/// any pixel below it is.
pub(super) fn downsample(fine: &Canvas) -> Canvas {
    let (fw, fh) = (fine.width, fine.height);
    let (w, h) = (fw.div_ceil(2), fh.div_ceil(2));
    let mut pixels = Vec::with_capacity(w * h);
    let mut hole = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let mut sum = [0.0f32; 4];
            let mut n = 0.0f32;
            let mut any_hole = false;
            for fy in 2 * y..(2 * y + 2).min(fh) {
                for fx in 2 * x..(2 * x + 2).min(fw) {
                    let i = fy * fw + fx;
                    if fine.hole[i] {
                        any_hole = true;
                        continue;
                    }
                    let v = fine.pixels[i];
                    for c in 0..4 {
                        sum[c] += v[c];
                    }
                    n += 1.0;
                }
            }
            pixels.push(if n > 0.0 {
                sum.map(|s| s / n)
            } else {
                [0.0; 4]
            });
            hole.push(any_hole);
        }
    }
    Canvas {
        width: w,
        height: h,
        pixels,
        hole,
    }
}
