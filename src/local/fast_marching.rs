//! The fast-marching fill (Telea, 2004, as OpenCV's `INPAINT_TELEA`): the hole is filled from
//! its edge inwards, in order of distance, each pixel a weighted mean of the known pixels
//! around it. Smooth, quick, right for thin strokes and small spots; it smears textures.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::LocalError;
use super::canvas::Canvas;

const KNOWN: u8 = 0;
const BAND: u8 = 1;
const INSIDE: u8 = 2;

/// Fills `canvas`'s hole in place with neighbourhood `radius`. Every hole pixel must be
/// reachable from a known pixel (the caller checks that some pixel is known).
pub(crate) fn fill(
    canvas: &mut Canvas,
    radius: f32,
    progress: &dyn Fn(f32),
    cancel: &AtomicBool,
) -> Result<(), LocalError> {
    let (w, h) = (canvas.width, canvas.height);
    let total = canvas.hole_count().max(1);
    let mut state: Vec<u8> = canvas
        .hole
        .iter()
        .map(|&m| if m { INSIDE } else { KNOWN })
        .collect();
    let mut t = vec![f32::INFINITY; w * h];
    let mut heap = BinaryHeap::new();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if state[i] != KNOWN {
                continue;
            }
            t[i] = 0.0;
            let touches_hole = neighbours(x, y, w, h).any(|n| state[n] == INSIDE);
            if touches_hole {
                state[i] = BAND;
                heap.push((Reverse(0.0f32.to_bits()), Reverse(i)));
            }
        }
    }
    let reach = radius.ceil() as isize;
    let mut done = 0usize;
    while let Some((_, Reverse(i))) = heap.pop() {
        if state[i] == KNOWN {
            continue;
        }
        state[i] = KNOWN;
        let (x, y) = (i % w, i / w);
        for n in neighbours(x, y, w, h) {
            if state[n] != INSIDE {
                continue;
            }
            let (nx, ny) = (n % w, n / w);
            t[n] = arrival_time(&t, &state, nx, ny, w, h);
            let value = weighted_mean(canvas, &t, &state, nx, ny, reach, radius);
            canvas.pixels[n] = value;
            state[n] = BAND;
            heap.push((Reverse(t[n].to_bits()), Reverse(n)));
            done += 1;
            if done.is_multiple_of(2048) {
                if cancel.load(Ordering::Relaxed) {
                    return Err(LocalError::Cancelled);
                }
                progress(done as f32 / total as f32);
            }
        }
    }
    progress(1.0);
    Ok(())
}

fn neighbours(x: usize, y: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let i = y * w + x;
    [
        (x > 0).then(|| i - 1),
        (x + 1 < w).then(|| i + 1),
        (y > 0).then(|| i - w),
        (y + 1 < h).then(|| i + w),
    ]
    .into_iter()
    .flatten()
}

fn settled_time(t: &[f32], state: &[u8], i: usize) -> f32 {
    if state[i] == INSIDE {
        f32::INFINITY
    } else {
        t[i]
    }
}

/// Solves the eikonal equation |grad T| = 1 at (x, y) from its settled neighbours.
fn arrival_time(t: &[f32], state: &[u8], x: usize, y: usize, w: usize, h: usize) -> f32 {
    let i = y * w + x;
    let mut a = f32::INFINITY;
    if x > 0 {
        a = a.min(settled_time(t, state, i - 1));
    }
    if x + 1 < w {
        a = a.min(settled_time(t, state, i + 1));
    }
    let mut b = f32::INFINITY;
    if y > 0 {
        b = b.min(settled_time(t, state, i - w));
    }
    if y + 1 < h {
        b = b.min(settled_time(t, state, i + w));
    }
    match (a.is_finite(), b.is_finite()) {
        (true, true) => {
            let diff = a - b;
            if diff.abs() >= 1.0 {
                1.0 + a.min(b)
            } else {
                (a + b + (2.0 - diff * diff).sqrt()) / 2.0
            }
        }
        (true, false) => 1.0 + a,
        (false, true) => 1.0 + b,
        (false, false) => f32::INFINITY,
    }
}

fn time_gradient(t: &[f32], state: &[u8], x: usize, y: usize, w: usize, h: usize) -> (f32, f32) {
    let i = y * w + x;
    let centre = t[i];
    let axis = |before: Option<usize>, after: Option<usize>| -> f32 {
        let b = before
            .map(|j| settled_time(t, state, j))
            .filter(|v| v.is_finite());
        let a = after
            .map(|j| settled_time(t, state, j))
            .filter(|v| v.is_finite());
        match (b, a) {
            (Some(b), Some(a)) => (a - b) * 0.5,
            (None, Some(a)) => a - centre,
            (Some(b), None) => centre - b,
            (None, None) => 0.0,
        }
    };
    let gx = axis((x > 0).then(|| i - 1), (x + 1 < w).then(|| i + 1));
    let gy = axis((y > 0).then(|| i - w), (y + 1 < h).then(|| i + w));
    (gx, gy)
}

fn weighted_mean(
    canvas: &Canvas,
    t: &[f32],
    state: &[u8],
    x: usize,
    y: usize,
    reach: isize,
    radius: f32,
) -> [f32; 4] {
    let (w, h) = (canvas.width, canvas.height);
    let i = y * w + x;
    let (gx, gy) = time_gradient(t, state, x, y, w, h);
    let mut sum = [0.0f32; 4];
    let mut weight_sum = 0.0f32;
    let r2 = radius * radius;
    for dy in -reach..=reach {
        let qy = y as isize + dy;
        if qy < 0 || qy >= h as isize {
            continue;
        }
        for dx in -reach..=reach {
            let qx = x as isize + dx;
            if qx < 0 || qx >= w as isize || (dx == 0 && dy == 0) {
                continue;
            }
            let len2 = (dx * dx + dy * dy) as f32;
            if len2 > r2 {
                continue;
            }
            let q = qy as usize * w + qx as usize;
            if state[q] == INSIDE {
                continue;
            }
            // Direction from the neighbour to the pixel, against the marching front.
            let (rx, ry) = (-dx as f32, -dy as f32);
            let len = len2.sqrt();
            let mut direction = (rx * gx + ry * gy) / len;
            if direction.abs() <= 0.01 {
                direction = 1.0e-6;
            }
            let distance = 1.0 / (len2 * len);
            let level = 1.0 / (1.0 + (t[q] - t[i]).abs());
            let wgt = (direction * distance * level).abs();
            let v = canvas.pixels[q];
            for c in 0..4 {
                sum[c] += wgt * v[c];
            }
            weight_sum += wgt;
        }
    }
    if weight_sum > 0.0 {
        sum.map(|s| s / weight_sum)
    } else {
        canvas.pixels[i]
    }
}
