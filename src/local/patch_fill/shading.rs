//! Shading from the smooth fill, grain from the patches (a structure and texture split, as in
//! Bertalmio et al. 2003). Copied patches carry the surface's grain, but also the brightness of
//! wherever they came from; the smooth fill from the hole's border follows the light across the
//! hole but has no grain. Where the surface does not repeat and the border is not a flat
//! panel, the fill keeps the patches' fine detail and takes its coarse shading from the smooth
//! fill ([`take_shading`]). And where the copied grain came out weaker than the surroundings'
//! (patches from smoother parts, the seam correction), it is brought up to theirs
//! ([`match_grain`]), so the fill does not read as a soft spot in a crisp photo.

use super::raster::distance_from_hole;
use crate::local::canvas::{Canvas, grey};

/// Radius of each of the three box blurs that split coarse shading from fine grain: together
/// about a Gaussian of sigma sqrt(r (r + 1)), 6.5 px for 6.
pub(super) const SHADING_RADIUS: usize = 6;

/// Replaces the coarse shading of `filled`'s hole by that of `smooth` (the same canvas, its
/// hole filled smoothly): every hole pixel gains the low-passed difference `smooth - filled`.
/// Known pixels do not change.
pub(super) fn take_shading(filled: &mut Canvas, smooth: &Canvas, radius: usize) {
    let (w, h) = (filled.width, filled.height);
    if smooth.width != w || smooth.height != h || w == 0 || h == 0 {
        return;
    }
    // One plane per colour channel: the difference on the hole, zero where the pixel is known
    // (both fills agree there), so the correction fades to nothing at the border.
    for c in 0..3 {
        let mut plane: Vec<f32> = (0..w * h)
            .map(|i| {
                if filled.hole[i] {
                    smooth.pixels[i][c] - filled.pixels[i][c]
                } else {
                    0.0
                }
            })
            .collect();
        let mut scratch = vec![0.0f32; w.max(h)];
        for _ in 0..3 {
            box_rows(&mut plane, w, h, radius, &mut scratch);
            box_columns(&mut plane, w, h, radius, &mut scratch);
        }
        for (i, p) in filled.pixels.iter_mut().enumerate() {
            if filled.hole[i] {
                p[c] = (p[c] + plane[i]).clamp(0.0, 255.0);
            }
        }
    }
}

/// The ring of known pixels whose grain the fill should match (chessboard distance from the
/// hole, inclusive), and how deep into the hole the fill's own grain is measured from.
const GRAIN_RING: std::ops::RangeInclusive<u32> = 3..=16;
const GRAIN_DEPTH: f32 = 3.0;
/// The fill's grain is strengthened at most this many times.
pub(super) const MAX_GRAIN_GAIN: f32 = 2.0;

/// Brings the fill's fine grain up to the typical grain of the known ring around it, when it
/// came out weaker (patches from smoother parts of the surroundings, the seam correction):
/// the fine band of every hole pixel (the pixel less its 3x3 neighbourhood's mean, three
/// times) is strengthened by the ratio of the two grains, at most [`MAX_GRAIN_GAIN`], and
/// never weakened. "Typical" is the median absolute deviation of the grey Laplacian: a few
/// strong edges in the ring (a window frame, a coin's rim) do not count as grain, so noise is
/// not blown up to match them. Returns the gain used (1 when nothing changed).
pub(super) fn match_grain(filled: &mut Canvas) -> f32 {
    let (w, h) = (filled.width, filled.height);
    if w < 3 || h < 3 {
        return 1.0;
    }
    let grey: Vec<f32> = filled.pixels.iter().map(grey).collect();
    let ring_distance = distance_from_hole(&filled.hole, w, h);
    let depth = filled.hole_depth();
    let (mut ring, mut inside) = (Vec::new(), Vec::new());
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let laplacian = grey[i - 1] + grey[i + 1] + grey[i - w] + grey[i + w] - 4.0 * grey[i];
            if filled.hole[i] {
                if depth[i] >= GRAIN_DEPTH {
                    inside.push(laplacian);
                }
            } else if GRAIN_RING.contains(&ring_distance[i]) {
                let neighbours = [i - 1, i + 1, i - w, i + w];
                if !neighbours.iter().any(|&j| filled.hole[j]) {
                    ring.push(laplacian);
                }
            }
        }
    }
    if ring.len() < 32 || inside.len() < 32 {
        return 1.0;
    }
    // Nor is the fill's detail as a whole pushed past the ring's (its standard deviation):
    // a fill whose few strong edges already outdo the ring is not sharpened further.
    let (ring_detail, fill_detail) = (deviation(&ring), deviation(&inside));
    let (ring_grain, fill_grain) = (spread(&mut ring), spread(&mut inside));
    if fill_grain <= f32::EPSILON || fill_detail <= f32::EPSILON {
        return 1.0;
    }
    let gain = (ring_grain / fill_grain)
        .min(ring_detail / fill_detail)
        .min(MAX_GRAIN_GAIN);
    if gain <= 1.0 {
        return 1.0;
    }
    for c in 0..3 {
        let mut low: Vec<f32> = filled.pixels.iter().map(|p| p[c]).collect();
        let mut scratch = vec![0.0f32; w.max(h)];
        for _ in 0..3 {
            box_rows(&mut low, w, h, 1, &mut scratch);
            box_columns(&mut low, w, h, 1, &mut scratch);
        }
        for (i, p) in filled.pixels.iter_mut().enumerate() {
            if filled.hole[i] {
                // Faded in over the first pixels, so the border stays seamless.
                let fade = (depth[i] / GRAIN_DEPTH).min(1.0);
                let fine = p[c] - low[i];
                p[c] = (p[c] + (gain - 1.0) * fade * fine).clamp(0.0, 255.0);
            }
        }
    }
    gain
}

/// The standard deviation.
fn deviation(values: &[f32]) -> f32 {
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    var.sqrt() as f32
}

/// The median absolute deviation from the median.
fn spread(values: &mut [f32]) -> f32 {
    let median = |v: &mut [f32]| {
        let mid = v.len() / 2;
        *v.select_nth_unstable_by(mid, f32::total_cmp).1
    };
    let centre = median(values);
    for v in values.iter_mut() {
        *v = (*v - centre).abs();
    }
    median(values)
}

/// A box blur of `radius` along each row; the window is clipped at the ends and averaged over
/// what it holds.
fn box_rows(plane: &mut [f32], w: usize, h: usize, radius: usize, scratch: &mut [f32]) {
    for y in 0..h {
        let row = &mut plane[y * w..(y + 1) * w];
        box_line(row.iter().copied(), w, radius, &mut scratch[..w]);
        row.copy_from_slice(&scratch[..w]);
    }
}

fn box_columns(plane: &mut [f32], w: usize, h: usize, radius: usize, scratch: &mut [f32]) {
    for x in 0..w {
        box_line(
            (0..h).map(|y| plane[y * w + x]),
            h,
            radius,
            &mut scratch[..h],
        );
        for y in 0..h {
            plane[y * w + x] = scratch[y];
        }
    }
}

/// The running mean of `values` (`n` of them) over a window of `radius` each side, into `out`.
fn box_line(values: impl Iterator<Item = f32>, n: usize, radius: usize, out: &mut [f32]) {
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0f64);
    let mut sum = 0.0f64;
    for v in values {
        sum += v as f64;
        prefix.push(sum);
    }
    for (i, o) in out.iter_mut().enumerate().take(n) {
        let lo = i.saturating_sub(radius);
        let hi = (i + radius + 1).min(n);
        *o = ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w`x`w` canvas of `f(x, y)` grey with a centred square hole of side `side`.
    fn canvas(w: usize, side: usize, f: impl Fn(usize, usize) -> f32) -> Canvas {
        let lo = (w - side) / 2;
        let inside = |v: usize| (lo..lo + side).contains(&v);
        Canvas {
            width: w,
            height: w,
            pixels: (0..w * w)
                .map(|i| {
                    let v = f(i % w, i / w);
                    [v, v, v, 255.0]
                })
                .collect(),
            hole: (0..w * w).map(|i| inside(i % w) && inside(i / w)).collect(),
        }
    }

    #[test]
    fn the_hole_takes_the_smooth_fills_level_and_keeps_its_grain() {
        // The patches brought a checkerboard grain around 60; the smooth fill says 120.
        let grain = |x: usize, y: usize| {
            if (x + y).is_multiple_of(2) {
                10.0
            } else {
                -10.0
            }
        };
        let mut filled = canvas(96, 48, |x, y| 60.0 + grain(x, y));
        let smooth = canvas(96, 48, |_, _| 120.0);
        let known_before: Vec<_> = (0..96 * 96)
            .filter(|&i| !filled.hole[i])
            .map(|i| filled.pixels[i])
            .collect();
        take_shading(&mut filled, &smooth, SHADING_RADIUS);
        // Deeper than the three blurs reach: the level is the smooth fill's, the grain is
        // untouched.
        for y in 42..54 {
            for x in 42..54 {
                let v = filled.pixels[y * 96 + x][0];
                let expected = 120.0 + grain(x, y);
                assert!((v - expected).abs() < 1.5, "({x},{y}) {v} vs {expected}");
            }
        }
        // Known pixels are never touched.
        let known_after: Vec<_> = (0..96 * 96)
            .filter(|&i| !filled.hole[i])
            .map(|i| filled.pixels[i])
            .collect();
        assert_eq!(known_before, known_after);
    }

    /// Deterministic grain in -1..1 (a hash of the position and a salt).
    fn noise(x: usize, y: usize, salt: usize) -> f32 {
        let mut v = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ (salt as u64).wrapping_mul(0x1656_67B1_9E37_79F9);
        v ^= v >> 31;
        v = v.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        v ^= v >> 29;
        (v % 2001) as f32 / 1000.0 - 1.0
    }

    /// The hole's and the ring's grain (MAD of the grey Laplacian), measured as the step does.
    fn grains(c: &Canvas) -> (f32, f32) {
        let (w, h) = (c.width, c.height);
        let ring_distance = distance_from_hole(&c.hole, w, h);
        let depth = c.hole_depth();
        let (mut ring, mut inside) = (Vec::new(), Vec::new());
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let i = y * w + x;
                let g = |j: usize| c.pixels[j][0];
                let l = g(i - 1) + g(i + 1) + g(i - w) + g(i + w) - 4.0 * g(i);
                if c.hole[i] && depth[i] >= GRAIN_DEPTH {
                    inside.push(l);
                } else if !c.hole[i] && GRAIN_RING.contains(&ring_distance[i]) {
                    ring.push(l);
                }
            }
        }
        (spread(&mut inside), spread(&mut ring))
    }

    #[test]
    fn a_fill_with_weaker_grain_than_its_ring_gets_the_rings_grain() {
        // Ring: grain of 12 levels; the fill came out with 7.
        let mut c = canvas(96, 40, |x, y| 128.0 + 12.0 * noise(x, y, 1));
        for i in 0..96 * 96 {
            if c.hole[i] {
                let v = 128.0 + 7.0 * noise(i % 96, i / 96, 2);
                c.pixels[i] = [v, v, v, 255.0];
            }
        }
        let (before, ring) = grains(&c);
        assert!(before < 0.7 * ring, "the set-up: {before} vs {ring}");
        let gain = match_grain(&mut c);
        assert!(gain > 1.3 && gain <= MAX_GRAIN_GAIN, "gain {gain}");
        let (after, ring_after) = grains(&c);
        assert_eq!(ring, ring_after, "the ring is not touched");
        assert!(
            (after / ring - 1.0).abs() < 0.2,
            "the fill's grain {after} against the ring's {ring} (was {before})"
        );
    }

    #[test]
    fn a_few_strong_edges_in_the_ring_are_not_grain_and_stronger_grain_is_kept() {
        // The same faint grain everywhere, plus dark bars crossing the ring (a window frame):
        // the ring's Laplacian spreads far more than the fill's, its typical grain does not.
        let faint = |x: usize, y: usize| 128.0 + 3.0 * noise(x, y, 3);
        let mut framed = canvas(96, 40, |x, y| {
            if x % 48 == 0 || y % 48 == 0 {
                20.0
            } else {
                faint(x, y)
            }
        });
        for i in 0..96 * 96 {
            if framed.hole[i] {
                let v = faint(i % 96, i / 96);
                framed.pixels[i] = [v, v, v, 255.0];
            }
        }
        let before = framed.pixels.clone();
        let gain = match_grain(&mut framed);
        assert!(gain < 1.15, "noise blown up {gain}x to match the edges");
        let most = before
            .iter()
            .zip(&framed.pixels)
            .map(|(a, b)| (a[0] - b[0]).abs())
            .fold(0.0f32, f32::max);
        assert!(most < 1.0, "a pixel moved {most} levels");
        // A fill already grainier than its ring is left exactly as it is.
        let mut coarse = canvas(96, 40, |x, y| 128.0 + 4.0 * noise(x, y, 4));
        for i in 0..96 * 96 {
            if coarse.hole[i] {
                let v = 128.0 + 20.0 * noise(i % 96, i / 96, 5);
                coarse.pixels[i] = [v, v, v, 255.0];
            }
        }
        let before = coarse.pixels.clone();
        assert_eq!(match_grain(&mut coarse), 1.0);
        assert_eq!(before, coarse.pixels);
    }
}
