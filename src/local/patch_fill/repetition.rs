//! Repetition in the surroundings: the displacements along which the known picture repeats
//! (a brick course, a tile grid, planks, siding, a straight edge), measured before any source
//! is chosen. The known grey image is high-passed (its local mean removed, so shading does
//! not count) and correlated with itself at every shift up to [`MAX_SHIFT`]; the peaks of that
//! normalised autocorrelation are the structure's periods and directions. The search tries
//! those displacements first, so mortar lines and grids continue across the hole in phase
//! instead of being matched patch by patch at a random phase.

use crate::local::canvas::{Canvas, grey};

/// Shifts up to this many pixels (each axis) are measured.
const MAX_SHIFT: usize = 64;
/// At most this many known pixels (on a regular grid) take part in each correlation.
const MAX_SAMPLES: usize = 3000;
/// Half side of the box whose mean is removed from the grey image.
const HIGH_PASS: usize = 6;
/// A peak needs at least this correlation to count as repetition ...
const MIN_CORRELATION: f32 = 0.3;
/// ... and the surroundings are "periodic" when the best peak reaches this.
const PERIODIC: f32 = 0.5;
/// How many displacements are kept.
const KEEP: usize = 6;
/// Peaks closer to one another than this (chessboard) are one peak.
const SEPARATION: isize = 3;

/// What [`analyse`] found: displacements `(dx, dy)` in pixels of the analysed canvas, strongest
/// first, each with its correlation in `0..=1`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Repetition {
    pub(super) offsets: Vec<(isize, isize, f32)>,
}

impl Repetition {
    /// Whether the surroundings clearly repeat (a grid, a course, stripes).
    pub(super) fn is_periodic(&self) -> bool {
        self.offsets.first().is_some_and(|o| o.2 >= PERIODIC)
    }

    /// The displacements at pyramid level `level` (halved per level, so fractional: whole
    /// steps of them are rounded only once they are taken).
    pub(super) fn at_level(&self, level: usize) -> Vec<(f32, f32)> {
        let scale = (1u32 << level.min(16)) as f32;
        self.offsets
            .iter()
            .map(|&(dx, dy, _)| (dx as f32 / scale, dy as f32 / scale))
            .collect()
    }

    /// The length of the shortest clear period, when the surroundings are periodic.
    pub(super) fn shortest_period(&self) -> Option<f32> {
        self.offsets
            .iter()
            .filter(|o| o.2 >= PERIODIC)
            .map(|o| ((o.0 * o.0 + o.1 * o.1) as f32).sqrt())
            .min_by(f32::total_cmp)
    }
}

/// Measures the repetition of `canvas`'s known pixels.
pub(super) fn analyse(canvas: &Canvas) -> Repetition {
    let (w, h) = (canvas.width, canvas.height);
    let detail = high_pass(canvas);
    let known = canvas.hole.iter().filter(|&&m| !m).count();
    if known < 64 {
        return Repetition::default();
    }
    let stride = ((known as f64 / MAX_SAMPLES as f64).sqrt().ceil() as usize).max(1);
    let samples: Vec<(isize, isize, f32)> = (0..h)
        .step_by(stride)
        .flat_map(|y| (0..w).step_by(stride).map(move |x| (x, y)))
        .filter_map(|(x, y)| detail[y * w + x].map(|v| (x as isize, y as isize, v)))
        .collect();
    let reach = MAX_SHIFT.min(w / 2).min(h / 2) as isize;
    if reach < SEPARATION + 1 || samples.len() < 32 {
        return Repetition::default();
    }
    let side = (2 * reach + 1) as usize;
    let at = |dx: isize, dy: isize| ((dy + reach) as usize) * side + (dx + reach) as usize;
    let mut correlation = vec![f32::NEG_INFINITY; side * side];
    let min_pairs = (samples.len() / 8).max(24);
    for dy in 0..=reach {
        for dx in -reach..=reach {
            if dy == 0 && dx <= 0 {
                continue;
            }
            let (mut ab, mut aa, mut bb, mut pairs) = (0.0f64, 0.0f64, 0.0f64, 0usize);
            for &(x, y, a) in &samples {
                let (qx, qy) = (x + dx, y + dy);
                if qx < 0 || qy < 0 || qx >= w as isize || qy >= h as isize {
                    continue;
                }
                if let Some(b) = detail[qy as usize * w + qx as usize] {
                    ab += (a * b) as f64;
                    aa += (a * a) as f64;
                    bb += (b * b) as f64;
                    pairs += 1;
                }
            }
            if pairs >= min_pairs && aa > 0.0 && bb > 0.0 {
                let c = (ab / (aa * bb).sqrt()) as f32;
                correlation[at(dx, dy)] = c;
                correlation[at(-dx, -dy)] = c;
            }
        }
    }
    let mut peaks: Vec<(isize, isize, f32)> = Vec::new();
    for dy in 0..=reach {
        for dx in -reach..=reach {
            let c = correlation[at(dx, dy)];
            if (dy == 0 && dx <= 0) || dx.abs().max(dy) < SEPARATION || c < MIN_CORRELATION {
                continue;
            }
            let is_peak = (-1..=1).all(|oy: isize| {
                (-1..=1).all(|ox: isize| {
                    let (nx, ny) = (dx + ox, dy + oy);
                    (ox == 0 && oy == 0)
                        || nx.abs() > reach
                        || ny.abs() > reach
                        || correlation[at(nx, ny)] <= c
                })
            });
            if is_peak {
                peaks.push((dx, dy, c));
            }
        }
    }
    peaks.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    let mut offsets: Vec<(isize, isize, f32)> = Vec::new();
    for p in peaks {
        let near = offsets.iter().any(|o| {
            (o.0 - p.0).abs().max((o.1 - p.1).abs()) < SEPARATION
                || (o.0 + p.0).abs().max((o.1 + p.1).abs()) < SEPARATION
        });
        if !near {
            offsets.push(p);
        }
        if offsets.len() == KEEP {
            break;
        }
    }
    Repetition { offsets }
}

/// The grey image minus its local mean over the known pixels of a box; `None` on the hole.
fn high_pass(canvas: &Canvas) -> Vec<Option<f32>> {
    let (w, h) = (canvas.width, canvas.height);
    let stride = w + 1;
    let mut sum = vec![0.0f64; stride * (h + 1)];
    let mut count = vec![0u32; stride * (h + 1)];
    for y in 0..h {
        let (mut row_sum, mut row_count) = (0.0f64, 0u32);
        for x in 0..w {
            let i = y * w + x;
            if !canvas.hole[i] {
                let p = canvas.pixels[i];
                row_sum += grey(&p) as f64;
                row_count += 1;
            }
            sum[(y + 1) * stride + x + 1] = sum[y * stride + x + 1] + row_sum;
            count[(y + 1) * stride + x + 1] = count[y * stride + x + 1] + row_count;
        }
    }
    let r = HIGH_PASS;
    (0..w * h)
        .map(|i| {
            if canvas.hole[i] {
                return None;
            }
            let (x, y) = (i % w, i / w);
            let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
            let (x1, y1) = ((x + r + 1).min(w), (y + r + 1).min(h));
            let box_sum = sum[y1 * stride + x1] + sum[y0 * stride + x0]
                - sum[y0 * stride + x1]
                - sum[y1 * stride + x0];
            let box_count = count[y1 * stride + x1] + count[y0 * stride + x0]
                - count[y0 * stride + x1]
                - count[y1 * stride + x0];
            Some(grey(&canvas.pixels[i]) - (box_sum / box_count.max(1) as f64) as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canvas_from(w: usize, h: usize, mut f: impl FnMut(usize, usize) -> f32) -> Canvas {
        let mut pixels = Vec::new();
        let mut hole = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let v = f(x, y);
                pixels.push([v, v, v, 255.0]);
                hole.push((40..80).contains(&x) && (30..60).contains(&y));
            }
        }
        Canvas {
            width: w,
            height: h,
            pixels,
            hole,
        }
    }

    #[test]
    fn a_grid_repeats_along_its_periods() {
        // Tiles 16 wide and 12 high with dark grout.
        let grid = canvas_from(120, 90, |x, y| {
            if x % 16 < 2 || y % 12 < 2 {
                60.0
            } else {
                200.0
            }
        });
        let found = analyse(&grid);
        assert!(found.is_periodic(), "{found:?}");
        let periods: Vec<(isize, isize)> = found.offsets.iter().map(|o| (o.0, o.1)).collect();
        let is_period = |d: &(isize, isize)| d.0 % 16 == 0 && d.1 % 12 == 0;
        assert!(is_period(&periods[0]), "{periods:?}");
        assert!(
            periods.iter().any(|d| d.1 == 0 && d.0.abs() == 16),
            "{periods:?}"
        );
        assert!(
            periods.iter().any(|d| d.0 == 0 && d.1.abs() == 12),
            "{periods:?}"
        );
        assert_eq!(found.shortest_period(), Some(12.0));
        assert_eq!(
            found.at_level(2)[0],
            (periods[0].0 as f32 / 4.0, periods[0].1 as f32 / 4.0)
        );
    }

    #[test]
    fn noise_does_not_repeat() {
        let mut state = 12345u32;
        let noise = canvas_from(120, 90, |_, _| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((state >> 16) % 200) as f32
        });
        let found = analyse(&noise);
        assert!(!found.is_periodic(), "{found:?}");
    }
}
