//! The nearest-patch search (PatchMatch): propagation and random search.

use std::sync::atomic::{AtomicBool, Ordering};

use super::Level;
use crate::local::LocalError;
use crate::local::canvas::{Canvas, squared_difference};
use crate::local::seeded_random::SeededRandom;

/// Sum of squared RGB differences between the patch at `t` and the patch at `s`, over the
/// target pixels inside the canvas; stops early once past `limit`.
#[inline]
pub(super) fn patch_distance(
    canvas: &Canvas,
    radius: usize,
    t: usize,
    s: usize,
    limit: f32,
) -> f32 {
    let (w, h) = (canvas.width, canvas.height);
    let (tx, ty) = (t % w, t / w);
    let (sx, sy) = (s % w, s / w);
    let x_from = tx.saturating_sub(radius);
    let x_to = (tx + radius).min(w - 1);
    let span = x_to - x_from + 1;
    let sx_from = sx + x_from - tx;
    let pixels = &canvas.pixels;
    let mut sum = 0.0f32;
    for dy in -(radius as isize)..=(radius as isize) {
        let y = ty as isize + dy;
        if y < 0 || y >= h as isize {
            continue;
        }
        let source_y = (sy as isize + dy) as usize;
        let target_row = &pixels[y as usize * w + x_from..y as usize * w + x_from + span];
        let source_row = &pixels[source_y * w + sx_from..source_y * w + sx_from + span];
        for (a, b) in target_row.iter().zip(source_row) {
            sum += squared_difference(a, b);
        }
        if sum > limit {
            return sum;
        }
    }
    sum
}

pub(super) fn refresh_costs(level: &mut Level, radius: usize) {
    let shared = &*level;
    let costs = in_chunks(shared.targets.len(), |range, _| {
        range
            .map(|k| {
                let t = shared.targets[k] as usize;
                let s = shared.matches[t] as usize;
                patch_distance(&shared.canvas, radius, t, s, f32::INFINITY)
            })
            .collect::<Vec<f32>>()
    });
    for (k, cost) in costs.into_iter().flatten().enumerate() {
        level.costs[level.targets[k] as usize] = cost;
    }
}

/// Work on more than this many items is split into [`CHUNKS`] pieces run on threads.
const PARALLEL_FROM: usize = 4096;
/// A fixed number of pieces (not the number of cores), so results do not depend on the
/// machine: each piece is computed the same way wherever it runs.
const CHUNKS: usize = 4;

/// Runs `work` on consecutive ranges covering `0..n` (on scoped threads when `n` is large)
/// and returns the results in range order. `work` also gets the range's number.
pub(super) fn in_chunks<T: Send>(
    n: usize,
    work: impl Fn(std::ops::Range<usize>, usize) -> T + Sync,
) -> Vec<T> {
    let pieces = if n < PARALLEL_FROM { 1 } else { CHUNKS };
    let len = n.div_ceil(pieces).max(1);
    let ranges: Vec<std::ops::Range<usize>> = (0..pieces)
        .map(|c| (c * len).min(n)..((c + 1) * len).min(n))
        .collect();
    if pieces == 1 {
        return ranges.into_iter().map(|r| work(r, 0)).collect();
    }
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .enumerate()
            .map(|(c, r)| scope.spawn(move || work(r, c)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// One PatchMatch sweep: propagation from the already-visited neighbours, then a random
/// search in shrinking windows around the current match. The targets are cut into fixed
/// pieces swept in parallel; each piece sees its own fresh matches and the others' from
/// before the sweep, so the result is the same however the threads run.
pub(super) fn search(
    level: &mut Level,
    radius: usize,
    backwards: bool,
    seed: u64,
    stream: u64,
    cancel: &AtomicBool,
) -> Result<(), LocalError> {
    let shared = &*level;
    let pieces = in_chunks(shared.targets.len(), |range, piece| {
        let mut random = SeededRandom::derive(seed, stream * 16 + piece as u64);
        search_piece(shared, radius, backwards, range, &mut random, cancel)
    });
    let mut k = 0;
    for piece in pieces {
        for (m, cost) in piece? {
            let t = level.targets[k] as usize;
            level.matches[t] = m;
            level.costs[t] = cost;
            k += 1;
        }
    }
    Ok(())
}

pub(super) fn search_piece(
    level: &Level,
    radius: usize,
    backwards: bool,
    range: std::ops::Range<usize>,
    random: &mut SeededRandom,
    cancel: &AtomicBool,
) -> Result<Vec<(u32, f32)>, LocalError> {
    let (w, h) = (level.canvas.width, level.canvas.height);
    let widest = w.max(h);
    let step: isize = if backwards { 1 } else { -1 };
    let start = range.start;
    let mut fresh: Vec<(u32, f32)> = range
        .clone()
        .map(|k| {
            let t = level.targets[k] as usize;
            (level.matches[t], level.costs[t])
        })
        .collect();
    let order: Vec<usize> = if backwards {
        range.clone().rev().collect()
    } else {
        range.clone().collect()
    };
    for (done, k) in order.into_iter().enumerate() {
        if done % 1024 == 0 && cancel.load(Ordering::Relaxed) {
            return Err(LocalError::Cancelled);
        }
        let t = level.targets[k] as usize;
        let (tx, ty) = (t % w, t / w);
        let (mut best, mut best_cost) = (fresh[k - start].0 as usize, fresh[k - start].1);
        // Propagation: the neighbour before us (in sweep order) along x, then along y.
        let neighbours = [
            (tx as isize + step, ty as isize, -step, 0isize),
            (tx as isize, ty as isize + step, 0, -step),
        ];
        for (nx, ny, shift_x, shift_y) in neighbours {
            if nx < 0 || ny < 0 || nx >= w as isize || ny >= h as isize {
                continue;
            }
            let nb = ny as usize * w + nx as usize;
            let nk = level.target_index[nb] as usize;
            if nk == u32::MAX as usize {
                continue;
            }
            let s = if range.contains(&nk) {
                fresh[nk - start].0 as usize
            } else {
                level.matches[nb] as usize
            };
            let cx = (s % w) as isize + shift_x;
            let cy = (s / w) as isize + shift_y;
            consider_candidate(level, radius, t, (cx, cy), &mut best, &mut best_cost);
        }
        // The surroundings' own periods: the nearest allowed source one or more whole periods
        // away, each way; it keeps a grid or a course in phase across the hole.
        for &(dx, dy) in &level.offsets {
            for sign in [1.0f32, -1.0] {
                if let Some(c) = period_source(level, (tx, ty), (sign * dx, sign * dy)) {
                    consider_candidate(level, radius, t, c, &mut best, &mut best_cost);
                }
            }
        }
        // Random search around the best match, window halving each time.
        let mut reach = widest;
        while reach >= 1 {
            let cx = (best % w) as isize + random.offset(reach);
            let cy = (best / w) as isize + random.offset(reach);
            reach /= 2;
            consider_candidate(level, radius, t, (cx, cy), &mut best, &mut best_cost);
        }
        fresh[k - start] = (best as u32, best_cost);
    }
    Ok(fresh)
}

/// How many whole periods a period candidate may step to leave the hole.
const MAX_PERIOD_STEPS: usize = 32;

/// The first pixel at `from + k * step` (k = 1, 2, ..., rounded) on the canvas where `ok`
/// holds, with its `k`.
pub(super) fn period_step(
    ok: &[bool],
    (w, h): (usize, usize),
    (x, y): (usize, usize),
    (dx, dy): (f32, f32),
) -> Option<(isize, isize, usize)> {
    for k in 1..=MAX_PERIOD_STEPS {
        let cx = (x as f32 + k as f32 * dx).round() as isize;
        let cy = (y as f32 + k as f32 * dy).round() as isize;
        if cx < 0 || cy < 0 || cx >= w as isize || cy >= h as isize {
            return None;
        }
        if ok[cy as usize * w + cx as usize] {
            return Some((cx, cy, k));
        }
    }
    None
}

/// The first allowed source centre whole periods away from `(x, y)`.
fn period_source(level: &Level, at: (usize, usize), step: (f32, f32)) -> Option<(isize, isize)> {
    let size = (level.canvas.width, level.canvas.height);
    period_step(&level.source_ok, size, at, step).map(|(x, y, _)| (x, y))
}

/// Tries the source patch centred at `(cx, cy)` for target pixel `t`: when it lies inside the
/// canvas, is an allowed source other than `best`, and matches more closely than `best_cost`,
/// it becomes the new best match.
pub(super) fn consider_candidate(
    level: &Level,
    radius: usize,
    t: usize,
    (cx, cy): (isize, isize),
    best: &mut usize,
    best_cost: &mut f32,
) {
    let (w, h) = (level.canvas.width, level.canvas.height);
    if cx < 0 || cy < 0 || cx >= w as isize || cy >= h as isize {
        return;
    }
    let candidate = cy as usize * w + cx as usize;
    if candidate == *best || !level.source_ok[candidate] {
        return;
    }
    let cost = patch_distance(&level.canvas, radius, t, candidate, *best_cost);
    if cost < *best_cost {
        *best = candidate;
        *best_cost = cost;
    }
}
