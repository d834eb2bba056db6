//! The exemplar fill: a multi-scale patch search (PatchMatch, Barnes et al. 2009) with voting
//! (Wexler et al. 2007). Every patch overlapping the hole is matched to the most similar patch
//! of the known surroundings; each hole pixel becomes the weighted vote of the patches that
//! cover it. Solved coarse to fine, so large structures settle first and the fine levels
//! carry the texture (brick joints, wood grain) instead of a blur.

use std::sync::atomic::AtomicBool;

mod context;
mod greedy;
mod lines;
mod raster;
mod repetition;
mod search;
mod shading;
mod vote;

use super::LocalError;
use super::canvas::{Canvas, grey};
use super::fast_marching;
use super::seeded_random::SeededRandom;
use context::flat_context_ring;
use raster::{distance_from_hole, downsample, grow, source_centres};
use search::{period_step, refresh_costs, search};
use vote::{blend_seam, copy_matches, vote};

/// How many search-and-vote rounds each level gets (coarsest, middle, finest).
const ROUNDS_COARSEST: usize = 6;
const ROUNDS_MIDDLE: usize = 4;
const ROUNDS_FINEST: usize = 3;
/// A level needs at least this many source patches to be worth solving.
const MIN_SOURCES: usize = 16;
/// The pyramid stops once the hole is at most this deep (pixels) at the coarsest level.
const COARSEST_DEPTH: f32 = 2.0;
/// Where the coarsest level is first filled patch by patch ([`greedy`]), it keeps the hole up
/// to this deep: deep enough for the edges around the hole to be seen and carried into it.
const GREEDY_DEPTH: f32 = 12.0;
/// The coarsest level of a periodic surface keeps at least this many pixels per period.
const MIN_PERIOD: f32 = 6.0;
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
    /// The surroundings' periods at this level's scale (tried by every search).
    offsets: Vec<(f32, f32)>,
}

impl Level {
    /// `band`: sources are patches whose centre lies at most this far (chessboard distance)
    /// from the hole; when fewer than [`MIN_SOURCES`] do, every hole-free patch qualifies.
    fn new(canvas: Canvas, radius: usize, band: usize, offsets: Vec<(f32, f32)>) -> Self {
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
            offsets,
        }
    }
}

/// Whether a patch fill can run on `canvas` at all (some hole-free patch exists).
pub(crate) fn has_sources(canvas: &Canvas, radius: usize) -> bool {
    source_centres(&canvas.hole, canvas.width, canvas.height, radius)
        .iter()
        .any(|&ok| ok)
}

/// The ring around the hole whose detail [`plain_surroundings`] measures (chessboard
/// distance from the hole, inclusive).
const PLAIN_RING: std::ops::RangeInclusive<u32> = 3..=16;
/// Below this spread (standard deviation, grey levels) of the ring's Laplacian the ring is
/// plain: the photo's own noise, a wall's shading.
const PLAIN_DETAIL: f64 = 4.0;

/// Whether the hole sits in plain, unframed surroundings (a shaded wall, a clear sky): the
/// ring's fine detail is no more than noise and it is not a flat panel that ends. There a
/// patch carries only noise, and a smooth fill from the border comes closer to what the hole
/// hides than copied patches do.
/// `depth`: the hole's largest distance to a known pixel.
pub(crate) fn plain_surroundings(canvas: &Canvas, radius: usize, depth: f32) -> bool {
    let (w, h) = (canvas.width, canvas.height);
    let distance = distance_from_hole(&canvas.hole, w, h);
    let grey: Vec<f64> = canvas.pixels.iter().map(|p| grey(p) as f64).collect();
    let (mut sum, mut squares, mut n) = (0.0f64, 0.0f64, 0usize);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let i = y * w + x;
            if !PLAIN_RING.contains(&distance[i]) {
                continue;
            }
            let neighbours = [i - 1, i + 1, i - w, i + w];
            if neighbours.iter().any(|&j| canvas.hole[j]) {
                continue;
            }
            let laplacian = neighbours.iter().map(|&j| grey[j]).sum::<f64>() - 4.0 * grey[i];
            sum += laplacian;
            squares += laplacian * laplacian;
            n += 1;
        }
    }
    if n < 32 {
        return false;
    }
    let mean = sum / n as f64;
    let spread = (squares / n as f64 - mean * mean).max(0.0).sqrt();
    spread < PLAIN_DETAIL
        && flat_context_ring(canvas, radius, textured_band(depth, radius)).is_none()
}

/// How far from a hole `depth` deep textured surroundings are copied from: a band as wide as
/// the hole is deep, at least a few patches.
fn textured_band(depth: f32, radius: usize) -> usize {
    (depth.ceil() as usize).max(MIN_BAND_RADII * radius)
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
    let textured_band = textured_band(depth, radius);
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
    // Structure is continued where it meets the hole: a flat border has none to continue.
    let repetition = match flat_ring {
        Some(_) => repetition::Repetition::default(),
        None => repetition::analyse(canvas),
    };
    // A straight edge that enters the hole and leaves it again is drawn across it first, on
    // surfaces that neither are flat nor repeat (those carry their edges by their periods).
    let mut work = canvas.clone();
    let crossing = match flat_ring {
        None if !repetition.is_periodic() => lines::find(&work),
        _ => Vec::new(),
    };
    for line in &crossing {
        for i in lines::draw(&mut work, line) {
            work.hole[i] = false;
        }
    }
    tracing::debug!(
        ?flat_ring,
        textured_band,
        ?repetition,
        ?crossing,
        "patch fill surroundings"
    );
    if !work.hole.contains(&true) {
        canvas.pixels = work.pixels;
        return Ok(());
    }
    // Where nothing repeats and the border is not flat, the coarse shading comes from the
    // smooth fill and the patches bring the grain (`shading`).
    let smooth = match flat_ring {
        None if !repetition.is_periodic() => {
            let mut smooth = work.clone();
            fast_marching::fill(&mut smooth, 5.0, &|_| {}, cancel)?;
            Some(smooth)
        }
        _ => None,
    };
    let mut levels = vec![Level::new(work, radius, band_at(0), repetition.at_level(0))];
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
    // A periodic surface keeps its period visible at the coarsest level: below a few pixels
    // per period the grid blurs away and the finer levels cannot bring it back in phase.
    let periodic = repetition.is_periodic();
    let shortest_period = repetition.shortest_period();
    let coarsest_depth = match smooth {
        Some(_) => GREEDY_DEPTH,
        None => COARSEST_DEPTH,
    };
    while level_depth > coarsest_depth {
        let Some(last) = levels.last() else { break };
        if shortest_period.is_some_and(|p| p / ((2u32 << levels.len()) as f32) < MIN_PERIOD) {
            break;
        }
        let coarse_band = band_at(levels.len());
        if coarse_band < narrowest_band {
            break;
        }
        let coarse = downsample(&last.canvas);
        if coarse.width < 4 * radius + 2 || coarse.height < 4 * radius + 2 {
            break;
        }
        let offsets = repetition.at_level(levels.len());
        let level = Level::new(coarse, radius, coarse_band, offsets);
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

    // Coarsest level: where the surroundings neither repeat nor are flat, start from patches
    // copied in from the border one by one, each matched to where it came from; otherwise
    // from the smooth fill, or from the surroundings copied along their periods where they
    // repeat, and random matches.
    {
        let coarsest = &mut levels[count - 1];
        let mut smooth_start = coarsest.canvas.clone();
        fast_marching::fill(&mut smooth_start, 5.0, &|_| {}, cancel)?;
        // Per pixel filled patch by patch: the source pixel it was copied from.
        let copied_from = match smooth {
            Some(_) => Some(greedy::fill(
                &mut coarsest.canvas,
                &smooth_start,
                &coarsest.source_ok,
                radius,
                level_depth,
                cancel,
            )?),
            None => {
                coarsest.canvas = smooth_start;
                None
            }
        };
        if periodic {
            copy_along_periods(&mut coarsest.canvas, &coarsest.offsets);
        }
        let mut random = SeededRandom::derive(seed, (count - 1) as u64 * 1000);
        for k in 0..coarsest.targets.len() {
            let t = coarsest.targets[k] as usize;
            let s = coarsest.sources[random.below(coarsest.sources.len())];
            // A patch filled patch by patch starts matched to where it was copied from.
            coarsest.matches[t] = match copied_from.as_ref().map(|from| from[t] as usize) {
                Some(f) if coarsest.source_ok.get(f) == Some(&true) => f as u32,
                _ => s,
            };
        }
        refresh_costs(coarsest, radius);
    }

    for index in (0..count).rev() {
        if index + 1 < count {
            let (finer, coarser) = levels.split_at_mut(index + 1);
            upsample_matches(&coarser[0], &mut finer[index], radius, seed, index);
            if periodic {
                // The coarse fill carries the grid only to a coarse pixel; start each finer
                // level from the periods again, so joints land exactly where they belong.
                let fine = &mut finer[index];
                copy_along_periods(&mut fine.canvas, &fine.offsets);
                refresh_costs(fine, radius);
            }
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
    copy_matches(&mut levels[0]);
    blend_seam(&mut levels[0], radius, true, cancel)?;
    if let Some(smooth) = &smooth {
        shading::take_shading(&mut levels[0].canvas, smooth, shading::SHADING_RADIUS);
    }
    if flat_ring.is_none() {
        let gain = shading::match_grain(&mut levels[0].canvas);
        tracing::debug!(gain, "patch fill grain");
    }
    let finest = &levels[0];
    for (i, pixel) in canvas.pixels.iter_mut().enumerate() {
        if canvas.hole[i] {
            *pixel = finest.canvas.pixels[i];
        }
    }
    Ok(())
}

/// Fills every hole pixel with the known pixel the fewest whole periods away (the strongest
/// period first when two are as near); pixels no period reaches keep what they had.
fn copy_along_periods(canvas: &mut Canvas, offsets: &[(f32, f32)]) {
    let (w, h) = (canvas.width, canvas.height);
    let known: Vec<bool> = canvas.hole.iter().map(|&m| !m).collect();
    for i in 0..w * h {
        if !canvas.hole[i] {
            continue;
        }
        let mut best: Option<(usize, usize)> = None;
        for &(dx, dy) in offsets {
            for sign in [1.0f32, -1.0] {
                let step = (sign * dx, sign * dy);
                if let Some((x, y, k)) = period_step(&known, (w, h), (i % w, i / w), step)
                    && best.is_none_or(|(_, bk)| k < bk)
                {
                    best = Some((y as usize * w + x as usize, k));
                }
            }
        }
        if let Some((source, _)) = best {
            canvas.pixels[i] = canvas.pixels[source];
        }
    }
}

/// Seeds a finer level from the coarser one: each target takes its coarse match, scaled up,
/// and each hole pixel starts as the pixel its own match points at (as the last step does):
/// a vote here would average the texture away before the level's search begins, and the
/// search would then prefer smooth sources to match the smooth start.
fn upsample_matches(coarse: &Level, fine: &mut Level, radius: usize, seed: u64, index: usize) {
    let (cw, fw, fh) = (coarse.canvas.width, fine.canvas.width, fine.canvas.height);
    let mut random = SeededRandom::derive(seed, index as u64 * 1000 + 999);
    for k in 0..fine.targets.len() {
        let t = fine.targets[k] as usize;
        let (x, y) = (t % fw, t / fw);
        let c = (y / 2) * cw + x / 2;
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
    copy_matches(fine);
    refresh_costs(fine, radius);
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
    fn joints_crossing_a_plain_border_make_it_textured_and_plain_surfaces_reach_the_limit() {
        // Light 2 px joints every 16 columns run through the flat ring and into the hole:
        // a plain brick face crossed by mortar, not a panel.
        let mut jointed = framed_hole(80, 80, 20, 30);
        for (i, p) in jointed.pixels.iter_mut().enumerate() {
            if (i % 80) % 16 < 2 {
                *p = [210.0, 205.0, 195.0, 255.0];
            }
        }
        assert_eq!(flat_context_ring(&jointed, 3, 25), None);
        let plain = framed_hole(80, 80, 20, 40);
        assert_eq!(flat_context_ring(&plain, 3, 25), Some(25));
    }

    #[test]
    fn a_shaded_wall_is_plain_and_stripes_or_a_panel_are_not() {
        // A wall shaded from dark to light (too much for a flat panel), a little noise: plain.
        let mut shaded = framed_hole(80, 80, 20, 0);
        for (i, p) in shaded.pixels.iter_mut().enumerate() {
            let v = 20.0 + 2.8 * (i % 80) as f32 + (i * 7 % 3) as f32 * 0.5;
            *p = [v, v * 0.9, v * 0.8, 255.0];
        }
        let plain = |c: &Canvas| plain_surroundings(c, 3, c.max_hole_depth());
        assert!(plain(&shaded));
        // Stripes right up to the hole: texture to carry.
        assert!(!plain(&framed_hole(80, 80, 20, 0)));
        // A flat panel that ends at a frame: left to the panel fill.
        assert!(!plain(&framed_hole(80, 80, 20, 9)));
    }

    #[test]
    fn sources_stay_in_the_band_unless_too_few_qualify() {
        let canvas = framed_hole(80, 80, 20, 9);
        let level = Level::new(canvas.clone(), 3, 6, Vec::new());
        let d = distance_from_hole(&canvas.hole, 80, 80);
        assert!(level.sources.len() >= MIN_SOURCES);
        assert!(
            level
                .sources
                .iter()
                .all(|&s| (4..=6).contains(&d[s as usize]))
        );
        // A band no patch fits in falls back to every hole-free patch.
        let wide = Level::new(canvas, 3, 2, Vec::new());
        assert!(wide.sources.iter().any(|&s| d[s as usize] > 20));
    }
}
