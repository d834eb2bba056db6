//! Scanline flood fill: the connected-region search behind the magic wand and fill holes.
//! Each popped seed is widened to the longest run of passable pixels on its row; the rows above
//! and below are then scanned once and one seed is pushed per run found there. The stack holds
//! runs, not pixels, so a 4096x4096 region needs a few thousand entries at most.

use std::sync::atomic::{AtomicBool, Ordering};

use super::DirtyRect;

/// Which neighbours count as connected.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Connectivity {
    /// Left, right, up and down only: a region never leaks through a diagonal gap.
    #[default]
    Four,
    /// Also the four diagonals.
    Eight,
}

/// The search was stopped through its cancel flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cancelled;

/// How many runs are filled between two looks at the cancel flag.
const CANCEL_CHECK_EVERY: u32 = 256;

/// Sets `filled[y * width + x] = 1` for every pixel reachable from the seeds through pixels
/// where `passable(x, y)` holds (pixels already non-zero in `filled` are walls). Returns the
/// bounding box of what this call filled.
pub(crate) fn scanline_fill(
    width: u32,
    height: u32,
    seeds: impl IntoIterator<Item = (u32, u32)>,
    connectivity: Connectivity,
    filled: &mut [u8],
    mut passable: impl FnMut(u32, u32) -> bool,
    cancel: Option<&AtomicBool>,
) -> Result<Option<DirtyRect>, Cancelled> {
    if connectivity == Connectivity::Four {
        return span_fill_four(width, height, seeds, filled, passable, cancel);
    }
    let w = width as usize;
    debug_assert_eq!(filled.len(), w * height as usize);
    let mut stack: Vec<(u32, u32)> = seeds
        .into_iter()
        .filter(|&(x, y)| x < width && y < height)
        .collect();
    let mut bounds: Option<DirtyRect> = None;
    let mut runs = 0u32;
    while let Some((x, y)) = stack.pop() {
        let row = y as usize * w;
        if filled[row + x as usize] != 0 || !passable(x, y) {
            continue;
        }
        runs = runs.wrapping_add(1);
        if runs.is_multiple_of(CANCEL_CHECK_EVERY)
            && cancel.is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(Cancelled);
        }
        let mut lx = x;
        while lx > 0 && filled[row + lx as usize - 1] == 0 && passable(lx - 1, y) {
            lx -= 1;
        }
        let mut rx = x;
        while rx + 1 < width && filled[row + rx as usize + 1] == 0 && passable(rx + 1, y) {
            rx += 1;
        }
        filled[row + lx as usize..=row + rx as usize].fill(1);
        let run = DirtyRect::new(lx, y, rx + 1, y + 1);
        bounds = Some(bounds.map_or(run, |b| b.union(run)));

        let (sx0, sx1) = match connectivity {
            Connectivity::Four => (lx, rx),
            Connectivity::Eight => (lx.saturating_sub(1), (rx + 1).min(width - 1)),
        };
        let above = y.checked_sub(1);
        let below = (y + 1 < height).then_some(y + 1);
        for ny in [above, below].into_iter().flatten() {
            let nrow = ny as usize * w;
            let mut in_run = false;
            for nx in sx0..=sx1 {
                let open = filled[nrow + nx as usize] == 0 && passable(nx, ny);
                if open && !in_run {
                    stack.push((nx, ny));
                }
                in_run = open;
            }
        }
    }
    Ok(bounds)
}

/// The 4-connected case with the span-filling algorithm (Smith 1979, as refined by Heckbert):
/// a span records which way it came from, so the parent's row is rescanned only where the child
/// reaches past the parent's ends and most pixels are tested once.
fn span_fill_four(
    width: u32,
    height: u32,
    seeds: impl IntoIterator<Item = (u32, u32)>,
    filled: &mut [u8],
    mut passable: impl FnMut(u32, u32) -> bool,
    cancel: Option<&AtomicBool>,
) -> Result<Option<DirtyRect>, Cancelled> {
    let w = width as usize;
    let (wi, hi) = (width as i64, height as i64);
    debug_assert_eq!(filled.len(), w * height as usize);
    // (x1, x2, y, dy): scan row y over x1..=x2, having come from row y - dy.
    let mut stack: Vec<(i64, i64, i64, i64)> = Vec::new();
    for (x, y) in seeds {
        // A seed's row above is scanned as if the seed were filled: only for passable seeds.
        if x < width && y < height && filled[y as usize * w + x as usize] == 0 && passable(x, y) {
            let (x, y) = (x as i64, y as i64);
            stack.push((x, x, y, 1));
            stack.push((x, x, y - 1, -1));
        }
    }
    let (mut bx0, mut by0, mut bx1, mut by1) = (i64::MAX, i64::MAX, i64::MIN, i64::MIN);
    let mut pops = 0u32;
    while let Some((start, x2, y, dy)) = stack.pop() {
        if y < 0 || y >= hi {
            continue;
        }
        pops = pops.wrapping_add(1);
        if pops.is_multiple_of(CANCEL_CHECK_EVERY)
            && cancel.is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(Cancelled);
        }
        let row = y as usize * w;
        let yu = y as u32;
        let mut inside =
            |filled: &[u8], x: i64| filled[row + x as usize] == 0 && passable(x as u32, yu);
        let mut x1 = start;
        let mut x = x1;
        let mut touched = false;
        if inside(filled, x1) {
            while x > 0 && inside(filled, x - 1) {
                x -= 1;
            }
            if x < x1 {
                filled[row + x as usize..row + x1 as usize].fill(1);
                bx0 = bx0.min(x);
                bx1 = bx1.max(x1 - 1);
                touched = true;
                stack.push((x, x1 - 1, y - dy, -dy));
            }
        }
        while x1 <= x2 {
            let run_start = x1;
            while x1 < wi && inside(filled, x1) {
                x1 += 1;
            }
            if x1 > run_start {
                filled[row + run_start as usize..row + x1 as usize].fill(1);
                bx0 = bx0.min(run_start);
                bx1 = bx1.max(x1 - 1);
                touched = true;
            }
            if x1 > x {
                stack.push((x, x1 - 1, y + dy, dy));
            }
            if x1 - 1 > x2 {
                stack.push((x2 + 1, x1 - 1, y - dy, -dy));
            }
            x1 += 1;
            while x1 < x2 && !inside(filled, x1) {
                x1 += 1;
            }
            x = x1;
        }
        if touched {
            by0 = by0.min(y);
            by1 = by1.max(y);
        }
    }
    Ok(
        (bx0 <= bx1)
            .then(|| DirtyRect::new(bx0 as u32, by0 as u32, bx1 as u32 + 1, by1 as u32 + 1)),
    )
}
