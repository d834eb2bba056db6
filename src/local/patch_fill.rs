//! The exemplar fill: a multi-scale patch search (PatchMatch, Barnes et al. 2009) with voting
//! (Wexler et al. 2007). Every patch overlapping the hole is matched to the most similar patch
//! of the known surroundings; each hole pixel becomes the weighted vote of the patches that
//! cover it. Solved coarse to fine, so large structures settle first and the fine levels
//! carry the texture (brick joints, wood grain) instead of a blur.

use std::sync::atomic::{AtomicBool, Ordering};

use super::LocalError;
use super::canvas::{Canvas, Rgba};
use super::fast_marching;
use super::seeded_random::SeededRandom;

/// How many search-and-vote rounds each level gets (coarsest, middle, finest).
const ROUNDS_COARSEST: usize = 6;
const ROUNDS_MIDDLE: usize = 4;
const ROUNDS_FINEST: usize = 3;
/// A level needs at least this many source patches to be worth solving.
const MIN_SOURCES: usize = 16;
/// The pyramid stops once the hole is at most this deep (pixels) at the coarsest level.
const COARSEST_DEPTH: f32 = 2.0;
/// Patches are copied from a band around the hole as wide as the hole is deep (halved per
/// level), but never narrower than this many patch radii at the finest level.
const MIN_BAND_RADII: usize = 4;

/// One pyramid level: the canvas, where patches may be copied from, and the current matches.
struct Level {
    canvas: Canvas,
    /// `true` at the centre of every patch that lies inside the canvas and holds no hole pixel.
    source_ok: Vec<bool>,
    sources: Vec<u32>,
    /// Centres of every patch that overlaps the hole (the hole grown by the patch radius).
    targets: Vec<u32>,
    is_target: Vec<bool>,
    /// Per pixel: its position in `targets`, or `u32::MAX`.
    target_index: Vec<u32>,
    hole_pixels: Vec<u32>,
    /// Per pixel (meaningful at hole pixels): the matched source centre and its distance.
    matches: Vec<u32>,
    costs: Vec<f32>,
}

impl Level {
    /// `band`: sources are patches whose centre lies at most this far (chessboard distance)
    /// from the hole; when fewer than [`MIN_SOURCES`] do, every hole-free patch qualifies.
    fn new(canvas: Canvas, radius: usize, band: usize) -> Self {
        let (w, h) = (canvas.width, canvas.height);
        let mut source_ok = source_centres(&canvas.hole, w, h, radius);
        let distance = distance_from_hole(&canvas.hole, w, h);
        let near = source_ok
            .iter()
            .zip(&distance)
            .filter(|&(&ok, &d)| ok && d as usize <= band)
            .count();
        if near >= MIN_SOURCES {
            for (ok, &d) in source_ok.iter_mut().zip(&distance) {
                *ok = *ok && d as usize <= band;
            }
        }
        let sources = (0..w * h)
            .filter(|&i| source_ok[i])
            .map(|i| i as u32)
            .collect();
        let is_target = grow(&canvas.hole, w, h, radius);
        let targets: Vec<u32> = (0..w * h)
            .filter(|&i| is_target[i])
            .map(|i| i as u32)
            .collect();
        let mut target_index = vec![u32::MAX; w * h];
        for (k, &t) in targets.iter().enumerate() {
            target_index[t as usize] = k as u32;
        }
        let hole_pixels = (0..w * h)
            .filter(|&i| canvas.hole[i])
            .map(|i| i as u32)
            .collect();
        Self {
            canvas,
            source_ok,
            sources,
            targets,
            is_target,
            target_index,
            hole_pixels,
            matches: vec![0; w * h],
            costs: vec![f32::INFINITY; w * h],
        }
    }
}

/// Whether a patch fill can run on `canvas` at all (some hole-free patch exists).
pub(crate) fn has_sources(canvas: &Canvas, radius: usize) -> bool {
    source_centres(&canvas.hole, canvas.width, canvas.height, radius)
        .iter()
        .any(|&ok| ok)
}

/// Fills `canvas`'s hole in place. `depth` is the hole's largest distance to a known pixel.
pub(crate) fn fill(
    canvas: &mut Canvas,
    radius: usize,
    depth: f32,
    seed: u64,
    progress: &dyn Fn(f32),
    cancel: &AtomicBool,
) -> Result<(), LocalError> {
    // Copy from near the hole: a designer filling a panel expects the panel, not the wall
    // beyond its frame. Textured surroundings: a band as wide as the hole is deep (half its
    // thickness), halved per level. Flat surroundings that end (a panel inside a frame): the
    // flat ring only, and no level so coarse that the ring is thinner than a patch there.
    let textured_band = (depth.ceil() as usize).max(MIN_BAND_RADII * radius);
    let flat_ring = flat_context_ring(canvas, radius, textured_band);
    // Textured surroundings keep the whole window and the full pyramid: limiting them cost
    // the real brick photo most of its texture (benches/README.md).
    let band_at = |level: usize| match flat_ring {
        Some(ring) => (ring >> level).saturating_sub(radius),
        None => usize::MAX,
    };
    let narrowest_band = match flat_ring {
        Some(_) => radius + 1,
        None => 0,
    };
    tracing::debug!(?flat_ring, textured_band, "patch fill source band");
    let mut levels = vec![Level::new(canvas.clone(), radius, band_at(0))];
    if levels[0].sources.is_empty() {
        return Err(LocalError::NoSourcePatches {
            patch: 2 * radius + 1,
        });
    }
    let mut level_depth = depth;
    // Down until the hole is at most a couple of pixels deep, so that every coarse target
    // patch reaches known pixels and the surroundings steer the first matches; but not so far
    // that the band of context around the hole gets too thin for a patch (there a thin ring
    // of panel around the hole would vanish and the wall beyond it would win).
    while level_depth > COARSEST_DEPTH {
        let Some(last) = levels.last() else { break };
        let coarse_band = band_at(levels.len());
        if coarse_band < narrowest_band {
            break;
        }
        let coarse = downsample(&last.canvas);
        if coarse.width < 4 * radius + 2 || coarse.height < 4 * radius + 2 {
            break;
        }
        let level = Level::new(coarse, radius, coarse_band);
        if level.sources.len() < MIN_SOURCES || level.hole_pixels.is_empty() {
            break;
        }
        levels.push(level);
        level_depth /= 2.0;
    }
    let count = levels.len();
    tracing::debug!(levels = count, depth, "patch fill pyramid");

    // Work per level ~ targets x rounds; progress follows it.
    let rounds = |index: usize| match index {
        0 => ROUNDS_FINEST,
        i if i + 1 == count => ROUNDS_COARSEST,
        _ => ROUNDS_MIDDLE,
    };
    let work: Vec<f32> = (0..count)
        .map(|i| (levels[i].targets.len() * rounds(i)) as f32)
        .collect();
    let total_work: f32 = work.iter().sum::<f32>().max(1.0);
    let mut work_done = 0.0f32;

    // Coarsest level: start from the smooth fill, then random matches.
    {
        let coarsest = &mut levels[count - 1];
        fast_marching::fill(&mut coarsest.canvas, 5.0, &|_| {}, cancel)?;
        let mut random = SeededRandom::derive(seed, (count - 1) as u64 * 1000);
        for k in 0..coarsest.targets.len() {
            let t = coarsest.targets[k] as usize;
            let s = coarsest.sources[random.below(coarsest.sources.len())];
            coarsest.matches[t] = s;
        }
        refresh_costs(coarsest, radius);
    }

    for index in (0..count).rev() {
        if index + 1 < count {
            let (finer, coarser) = levels.split_at_mut(index + 1);
            upsample_matches(&coarser[0], &mut finer[index], radius, seed, index);
        }
        let level = &mut levels[index];
        for round in 0..rounds(index) {
            let stream = index as u64 * 1000 + round as u64 + 1;
            search(level, radius, round % 2 == 1, seed, stream, cancel)?;
            vote(level, radius);
            refresh_costs(level, radius);
            work_done += level.targets.len() as f32;
            progress((work_done / total_work).min(1.0));
        }
    }
    blend_seam(&mut levels[0], radius, cancel)?;
    let finest = &levels[0];
    for &t in &finest.hole_pixels {
        canvas.pixels[t as usize] = finest.canvas.pixels[t as usize];
    }
    Ok(())
}

/// The hole grown by `radius` pixels in every direction (a square structuring element).
fn grow(hole: &[bool], w: usize, h: usize, radius: usize) -> Vec<bool> {
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

/// Colour spread (RGB, root mean square) below which the hole's border counts as flat.
const FLAT_SPREAD: f32 = 12.0;
/// How far (RGB distance) a ring's mean colour may drift from the flat border's.
const FLAT_DRIFT: f32 = 24.0;

/// When the known pixels bordering the hole (within a patch radius) are flat, how far from
/// the hole that flat colour reaches (chessboard distance, the last ring that still matches),
/// looked for up to `limit`; `None` when the border is textured or the colour never ends.
fn flat_context_ring(canvas: &Canvas, radius: usize, limit: usize) -> Option<usize> {
    let (w, h) = (canvas.width, canvas.height);
    let distance = distance_from_hole(&canvas.hole, w, h);
    let mut sums = vec![[0.0f64; 3]; limit + 2];
    let mut squares = vec![0.0f64; limit + 2];
    let mut counts = vec![0usize; limit + 2];
    for (i, &d) in distance.iter().enumerate() {
        let d = d as usize;
        if d == 0 || d > limit + 1 {
            continue;
        }
        let v = canvas.pixels[i];
        for c in 0..3 {
            sums[d][c] += v[c] as f64;
            squares[d] += (v[c] as f64) * (v[c] as f64);
        }
        counts[d] += 1;
    }
    let border = 1..=(radius + 1).min(limit + 1);
    let n: usize = counts[border.clone()].iter().sum();
    if n == 0 {
        return None;
    }
    let mut mean = [0.0f64; 3];
    for d in border.clone() {
        for c in 0..3 {
            mean[c] += sums[d][c];
        }
    }
    let mean = mean.map(|s| s / n as f64);
    let square: f64 = border.clone().map(|d| squares[d]).sum::<f64>() / n as f64;
    let spread = (square - mean.iter().map(|m| m * m).sum::<f64>())
        .max(0.0)
        .sqrt();
    if spread > FLAT_SPREAD as f64 {
        return None;
    }
    for d in (radius + 2)..=(limit + 1) {
        if counts[d] == 0 {
            continue;
        }
        let ring = sums[d].map(|s| s / counts[d] as f64);
        let drift = (0..3)
            .map(|c| (ring[c] - mean[c]).powi(2))
            .sum::<f64>()
            .sqrt();
        if drift > FLAT_DRIFT as f64 {
            return Some(d - 1);
        }
    }
    None
}

/// Per pixel: the chessboard distance to the nearest hole pixel (0 on the hole; `u32::MAX`
/// everywhere when there is no hole).
fn distance_from_hole(hole: &[bool], w: usize, h: usize) -> Vec<u32> {
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
fn source_centres(hole: &[bool], w: usize, h: usize, radius: usize) -> Vec<bool> {
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
fn downsample(fine: &Canvas) -> Canvas {
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

/// Seeds a finer level from the coarser one: hole pixels start as the coarse colour and each
/// target takes its coarse match, scaled up.
fn upsample_matches(coarse: &Level, fine: &mut Level, radius: usize, seed: u64, index: usize) {
    let (cw, fw, fh) = (coarse.canvas.width, fine.canvas.width, fine.canvas.height);
    let mut random = SeededRandom::derive(seed, index as u64 * 1000 + 999);
    for k in 0..fine.targets.len() {
        let t = fine.targets[k] as usize;
        let (x, y) = (t % fw, t / fw);
        let c = (y / 2) * cw + x / 2;
        if fine.canvas.hole[t] {
            fine.canvas.pixels[t] = coarse.canvas.pixels[c];
        }
        let mut chosen = None;
        if coarse.is_target[c] {
            let s = coarse.matches[c] as usize;
            let (sx, sy) = (2 * (s % cw) + (x & 1), 2 * (s / cw) + (y & 1));
            let sx = sx.clamp(radius, fw - 1 - radius);
            let sy = sy.clamp(radius, fh - 1 - radius);
            let candidate = sy * fw + sx;
            if fine.source_ok[candidate] {
                chosen = Some(candidate as u32);
            }
        }
        fine.matches[t] = chosen.unwrap_or_else(|| fine.sources[random.below(fine.sources.len())]);
    }
    refresh_costs(fine, radius);
    vote(fine, radius);
    refresh_costs(fine, radius);
}

/// Sum of squared RGB differences between the patch at `t` and the patch at `s`, over the
/// target pixels inside the canvas; stops early once past `limit`.
#[inline]
fn patch_distance(canvas: &Canvas, radius: usize, t: usize, s: usize, limit: f32) -> f32 {
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
            let d0 = a[0] - b[0];
            let d1 = a[1] - b[1];
            let d2 = a[2] - b[2];
            sum += d0 * d0 + d1 * d1 + d2 * d2;
        }
        if sum > limit {
            return sum;
        }
    }
    sum
}

fn refresh_costs(level: &mut Level, radius: usize) {
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
fn in_chunks<T: Send>(
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
fn search(
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

fn search_piece(
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

/// Tries the source patch centred at `(cx, cy)` for target pixel `t`: when it lies inside the
/// canvas, is an allowed source other than `best`, and matches more closely than `best_cost`,
/// it becomes the new best match.
fn consider_candidate(
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

/// Weights of the targets' votes: closer matches weigh more (relative to the median).
fn vote_weights(level: &Level) -> Vec<f32> {
    let (w, h) = (level.canvas.width, level.canvas.height);
    let mut sorted: Vec<f32> = level
        .targets
        .iter()
        .map(|&t| level.costs[t as usize])
        .filter(|c| c.is_finite())
        .collect();
    let scale = if sorted.is_empty() {
        1.0
    } else {
        let mid = sorted.len() / 2;
        let (_, median, _) = sorted.select_nth_unstable_by(mid, f32::total_cmp);
        median.max(1.0)
    };
    let mut weight_at = vec![0.0f32; w * h];
    for &t in &level.targets {
        weight_at[t as usize] = (-level.costs[t as usize] / scale).exp().max(1.0e-6);
    }
    weight_at
}

/// What the patches covering pixel `p` propose for it (weighted mean); `None` when no target
/// patch covers it.
fn proposal(level: &Level, weight_at: &[f32], radius: usize, p: usize) -> Option<Rgba> {
    let (w, h) = (level.canvas.width, level.canvas.height);
    let (px, py) = ((p % w) as isize, (p / w) as isize);
    let r = radius as isize;
    let mut sum = [0.0f32; 4];
    let mut total = 0.0f32;
    for oy in -r..=r {
        let qy = py - oy;
        if qy < 0 || qy >= h as isize {
            continue;
        }
        for ox in -r..=r {
            let qx = px - ox;
            if qx < 0 || qx >= w as isize {
                continue;
            }
            let q = qy as usize * w + qx as usize;
            if !level.is_target[q] {
                continue;
            }
            let s = level.matches[q] as usize;
            let sx = (s % w) as isize + ox;
            let sy = (s / w) as isize + oy;
            let v = level.canvas.pixels[sy as usize * w + sx as usize];
            let wgt = weight_at[q];
            for c in 0..4 {
                sum[c] += wgt * v[c];
            }
            total += wgt;
        }
    }
    (total > 0.0).then(|| sum.map(|s| s / total))
}

/// Every hole pixel becomes what the patches covering it propose.
fn vote(level: &mut Level, radius: usize) {
    let weight_at = vote_weights(level);
    let shared = &*level;
    let updated = in_chunks(shared.hole_pixels.len(), |range, _| {
        range
            .map(|k| proposal(shared, &weight_at, radius, shared.hole_pixels[k] as usize))
            .collect::<Vec<Option<Rgba>>>()
    });
    for (k, v) in updated.into_iter().flatten().enumerate() {
        if let Some(v) = v {
            level.canvas.pixels[level.hole_pixels[k] as usize] = v;
        }
    }
}

/// Removes the seam: where the patches propose something else than the known pixels around
/// the hole, that mismatch is spread smoothly into the hole (fast marching) and added, so
/// the fill meets its surroundings in colour and brightness while keeping its texture.
fn blend_seam(level: &mut Level, radius: usize, cancel: &AtomicBool) -> Result<(), LocalError> {
    let weight_at = vote_weights(level);
    let mut mismatch = Canvas {
        width: level.canvas.width,
        height: level.canvas.height,
        pixels: vec![[0.0; 4]; level.canvas.pixels.len()],
        hole: level.canvas.hole.clone(),
    };
    for &t in &level.targets {
        let t = t as usize;
        if level.canvas.hole[t] {
            continue;
        }
        if let Some(v) = proposal(level, &weight_at, radius, t) {
            let known = level.canvas.pixels[t];
            mismatch.pixels[t] = [0, 1, 2, 3].map(|c| known[c] - v[c]);
        }
    }
    fast_marching::fill(&mut mismatch, radius as f32, &|_| {}, cancel)?;
    for &t in &level.hole_pixels {
        let t = t as usize;
        let d = mismatch.pixels[t];
        let v = &mut level.canvas.pixels[t];
        for c in 0..4 {
            v[c] = (v[c] + d[c]).clamp(0.0, 255.0);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w`x`h` canvas: a square hole of side `hole` in the middle, flat green up to `ring`
    /// pixels (chessboard) from it, alternating red and white columns beyond.
    fn framed_hole(w: usize, h: usize, hole: usize, ring: usize) -> Canvas {
        let (x0, y0) = ((w - hole) / 2, (h - hole) / 2);
        let mut pixels = Vec::with_capacity(w * h);
        let mut marked = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let dx = (x0 as isize - x as isize).max(x as isize - (x0 + hole - 1) as isize);
                let dy = (y0 as isize - y as isize).max(y as isize - (y0 + hole - 1) as isize);
                let d = dx.max(dy);
                marked.push(d <= 0);
                pixels.push(if d <= ring as isize {
                    [30.0, 80.0, 50.0, 255.0]
                } else if x % 2 == 0 {
                    [200.0, 40.0, 30.0, 255.0]
                } else {
                    [240.0, 240.0, 240.0, 255.0]
                });
            }
        }
        Canvas {
            width: w,
            height: h,
            pixels,
            hole: marked,
        }
    }

    #[test]
    fn distance_from_hole_is_chessboard() {
        let canvas = framed_hole(11, 11, 1, 2);
        let d = distance_from_hole(&canvas.hole, 11, 11);
        assert_eq!(d[5 * 11 + 5], 0);
        assert_eq!(d[5 * 11 + 8], 3);
        assert_eq!(d[2 * 11 + 8], 3);
        assert_eq!(d[0], 5);
    }

    #[test]
    fn a_flat_ring_is_measured_and_texture_has_none() {
        let canvas = framed_hole(80, 80, 20, 9);
        assert_eq!(flat_context_ring(&canvas, 3, 25), Some(9));
        let textured = framed_hole(80, 80, 20, 0);
        assert_eq!(flat_context_ring(&textured, 3, 25), None);
    }

    #[test]
    fn sources_stay_in_the_band_unless_too_few_qualify() {
        let canvas = framed_hole(80, 80, 20, 9);
        let level = Level::new(canvas.clone(), 3, 6);
        let d = distance_from_hole(&canvas.hole, 80, 80);
        assert!(level.sources.len() >= MIN_SOURCES);
        assert!(
            level
                .sources
                .iter()
                .all(|&s| (4..=6).contains(&d[s as usize]))
        );
        // A band no patch fits in falls back to every hole-free patch.
        let wide = Level::new(canvas, 3, 2);
        assert!(wide.sources.iter().any(|&s| d[s as usize] > 20));
    }
}
