//! Whether the hole sits in a flat panel that ends (a sign's field inside its frame).

use super::raster::distance_from_hole;
use crate::local::canvas::Canvas;

/// Colour spread (RGB, root mean square) below which the hole's border counts as flat.
const FLAT_SPREAD: f32 = 12.0;
/// How far (RGB distance) a ring's mean colour may drift from the flat border's.
const FLAT_DRIFT: f32 = 24.0;
/// A border pixel this far (RGB distance) from the border's mean colour is an outlier ...
const OUTLIER_DISTANCE: f64 = 30.0;
/// ... and a flat border has at most this share of them. A joint, a plank edge or a tile's
/// grout meeting the hole makes more: a plain brick face crossed by mortar is not a panel.
const MAX_OUTLIERS: f64 = 0.01;

/// When the known pixels bordering the hole (within a patch radius) are flat, how far from
/// the hole that flat colour reaches (chessboard distance, the last ring that still matches),
/// looked for up to `limit` (`limit` when it reaches that far); `None` when the border is
/// textured (spread, or outliers such as joints crossing it).
pub(super) fn flat_context_ring(canvas: &Canvas, radius: usize, limit: usize) -> Option<usize> {
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
    let outliers = distance
        .iter()
        .zip(&canvas.pixels)
        .filter(|&(&d, v)| {
            border.contains(&(d as usize))
                && (0..3)
                    .map(|c| (v[c] as f64 - mean[c]).powi(2))
                    .sum::<f64>()
                    .sqrt()
                    > OUTLIER_DISTANCE
        })
        .count();
    if outliers as f64 > MAX_OUTLIERS * n as f64 {
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
    // Flat as far as was looked: the surface is plain at least that far out.
    Some(limit)
}
