//! Voting: every hole pixel becomes the weighted mean of what the patches covering it
//! propose; and the seam correction.

use std::sync::atomic::AtomicBool;

use super::Level;
use super::search::in_chunks;
use crate::local::LocalError;
use crate::local::canvas::{Canvas, Rgba};
use crate::local::fast_marching;

/// Weights of the targets' votes: closer matches weigh more (relative to the median).
pub(super) fn vote_weights(level: &Level) -> Vec<f32> {
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
pub(super) fn proposal(level: &Level, weight_at: &[f32], radius: usize, p: usize) -> Option<Rgba> {
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
pub(super) fn vote(level: &mut Level, radius: usize) {
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

/// Every hole pixel becomes the pixel its own match points at, not a mean of the patches
/// covering it: the texture's grain survives the last step instead of being averaged away.
pub(super) fn copy_matches(level: &mut Level) {
    for k in 0..level.hole_pixels.len() {
        let p = level.hole_pixels[k] as usize;
        level.canvas.pixels[p] = level.canvas.pixels[level.matches[p] as usize];
    }
}

/// Removes the seam: where the fill proposes something else than the known pixels around
/// the hole, that mismatch is spread smoothly into the hole (fast marching) and added, so
/// the fill meets its surroundings in colour and brightness while keeping its texture.
/// `copied`: the hole was filled by [`copy_matches`] (the proposal at a known pixel is then
/// the pixel its match points at), else by the vote.
pub(super) fn blend_seam(
    level: &mut Level,
    radius: usize,
    copied: bool,
    cancel: &AtomicBool,
) -> Result<(), LocalError> {
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
        let proposed = if copied {
            Some(level.canvas.pixels[level.matches[t] as usize])
        } else {
            proposal(level, &weight_at, radius, t)
        };
        if let Some(v) = proposed {
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
