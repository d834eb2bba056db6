//! Undo/redo for the mask. A step keeps only the 64x64 tiles it changed, LZ4-compressed (masks
//! are mostly long runs, so a tile usually shrinks to a few dozen bytes). Undo and redo swap the
//! stored tiles with the mask's current ones, so one copy serves both directions.

use std::collections::{BTreeMap, VecDeque};

use rayon::prelude::*;

use super::{DirtyRect, Mask};

const TILE: u32 = 64;

#[derive(Debug, Clone)]
struct TileDiff {
    tx: u32,
    ty: u32,
    /// The tile's pixels (LZ4, size-prefixed) as they were on the other side of this step.
    packed: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Step {
    label: String,
    tiles: Vec<TileDiff>,
    bytes: usize,
    /// Marked pixels (coverage at least `THRESHOLD`) the step added; negative when it removed.
    marked_delta: i64,
}

/// Pixels of `pixels` with coverage at least `THRESHOLD`.
fn marked_in(pixels: &[u8]) -> i64 {
    super::count_at_least(pixels, super::THRESHOLD) as i64
}

fn tile_rect(mask: &Mask, tx: u32, ty: u32) -> DirtyRect {
    DirtyRect::new(
        tx * TILE,
        ty * TILE,
        ((tx + 1) * TILE).min(mask.width()),
        ((ty + 1) * TILE).min(mask.height()),
    )
}

/// A stored tile whose pixels all have one value: the tag, then the value.
const UNIFORM: u8 = 1;
/// A stored tile of mixed pixels: the tag, then LZ4 with the size first.
const MIXED: u8 = 0;

/// A tile's pixels as stored. Most tiles of a large mask are all marked or all clear: those
/// take two bytes, and no compressor runs over them.
fn pack_pixels(pixels: &[u8]) -> Vec<u8> {
    // An OR over every pixel (no early exit, so it runs on wide registers).
    match pixels.first() {
        Some(&v) if pixels.iter().fold(0u8, |acc, &p| acc | (p ^ v)) == 0 => vec![UNIFORM, v],
        _ => {
            let mut packed = vec![MIXED];
            packed.extend_from_slice(&lz4_flex::compress_prepend_size(pixels));
            packed
        }
    }
}

/// A tile of mixed pixels as stored, compressed through `scratch` (reused from tile to tile,
/// so a swap of thousands of tiles allocates only their small results).
fn pack_mixed(pixels: &[u8], scratch: &mut Vec<u8>) -> Vec<u8> {
    scratch.resize(lz4_flex::block::get_maximum_output_size(pixels.len()), 0);
    match lz4_flex::block::compress_into(pixels, scratch) {
        Ok(n) => {
            let mut packed = Vec::with_capacity(n + 5);
            packed.push(MIXED);
            packed.extend_from_slice(&(pixels.len() as u32).to_le_bytes());
            packed.extend_from_slice(&scratch[..n]);
            packed
        }
        // Never for a buffer of the maximum size; the plain path then.
        Err(_) => pack_pixels(pixels),
    }
}

/// Unpacks a tile of `area` pixels into `out`; false when the bytes are not such a tile's
/// (never for our own data). `out` is reused from tile to tile, so thousands of tiles
/// allocate nothing.
fn unpack(packed: &[u8], area: usize, out: &mut Vec<u8>) -> bool {
    match packed.split_first() {
        Some((&UNIFORM, &[v])) => {
            out.clear();
            out.resize(area, v);
            true
        }
        Some((&MIXED, body)) => {
            let Ok((size, body)) = lz4_flex::block::uncompressed_size(body) else {
                return false;
            };
            if size != area {
                return false;
            }
            out.resize(size, 0);
            matches!(lz4_flex::block::decompress_into(body, out), Ok(n) if n == size)
        }
        _ => false,
    }
}

/// Collects the pre-change state of every tile a multi-frame operation (a brush stroke)
/// touches; [`History::commit`] turns it into one undo step.
#[derive(Debug, Default)]
pub struct StrokeRecorder {
    label: String,
    before: BTreeMap<(u32, u32), Saved>,
}

/// A tile as it was before a change: packed, with its checksum and marked count, so that the
/// commit tells changed tiles from unchanged ones without unpacking them (unpacking thousands
/// of tiles took most of a frame on a 67-megapixel mask).
#[derive(Debug)]
struct Saved {
    packed: Vec<u8>,
    crc: u32,
    marked: i64,
}

impl StrokeRecorder {
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            before: BTreeMap::new(),
        }
    }

    /// Call before changing `rect` of `mask`: saves the tiles not saved yet.
    pub fn before_change(&mut self, mask: &Mask, rect: DirtyRect) {
        if rect.is_empty() {
            return;
        }
        let (tx0, ty0) = (rect.x0 / TILE, rect.y0 / TILE);
        let (tx1, ty1) = ((rect.x1 - 1) / TILE, (rect.y1 - 1) / TILE);
        for ty in ty0..=ty1 {
            for tx in tx0..=tx1 {
                self.before.entry((tx, ty)).or_insert_with(|| {
                    let pixels = mask.read_rect(tile_rect(mask, tx, ty));
                    Saved {
                        packed: pack_pixels(&pixels),
                        crc: crc32fast::hash(&pixels),
                        marked: marked_in(&pixels),
                    }
                });
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.before.is_empty()
    }
}

/// The tiles of one band of tile rows (all with the same `ty`, in any order) that differ from
/// what was saved, each with the marked pixels it gained. Tiles saved as one value (most of
/// a large mask: all clear or all marked) are checked in one pass over the band's rows; the
/// others are read out and compared by checksum, then pixel by pixel.
fn changed_in_band(mask: &Mask, mut band: Vec<((u32, u32), Saved)>) -> Vec<(TileDiff, i64)> {
    band.sort_unstable_by_key(|((tx, _), _)| *tx);
    let Some(&((_, ty), _)) = band.first() else {
        return Vec::new();
    };
    let rect = |tx: u32| tile_rect(mask, tx, ty);
    // Per tile: the value it was saved as (when uniform), whether any pixel differs from it
    // now, and the marked pixels it holds now.
    let uniform: Vec<Option<u8>> = band
        .iter()
        .map(|(_, saved)| match saved.packed.as_slice() {
            [UNIFORM, v] => Some(*v),
            _ => None,
        })
        .collect();
    // Per tile: one byte counter per column (a tile has at most 64 rows, so none overflows)
    // and the OR of every pixel's difference from the saved value; ragged tiles at the
    // mask's right edge count the plain way.
    let mut lanes = vec![[0u8; TILE as usize]; band.len()];
    let mut diff = vec![0u8; band.len()];
    let mut ragged = vec![0i64; band.len()];
    let (y0, y1) = (ty * TILE, ((ty + 1) * TILE).min(mask.height()));
    for y in y0..y1 {
        let row = mask.row(y);
        for (k, ((tx, _), _)) in band.iter().enumerate() {
            let Some(v) = uniform[k] else { continue };
            let r = rect(*tx);
            let stretch = &row[r.x0 as usize..r.x1 as usize];
            match stretch.as_array::<{ TILE as usize }>() {
                Some(full) => {
                    let mut d = 0u8;
                    for (lane, &p) in lanes[k].iter_mut().zip(full) {
                        *lane += u8::from(p >= super::THRESHOLD);
                        d |= p ^ v;
                    }
                    diff[k] |= d;
                }
                None => {
                    diff[k] |= stretch.iter().fold(0u8, |acc, &p| acc | (p ^ v));
                    ragged[k] += marked_in(stretch);
                }
            }
        }
    }
    let differs: Vec<bool> = diff.iter().map(|&d| d != 0).collect();
    let marked_now: Vec<i64> = lanes
        .iter()
        .zip(&ragged)
        .map(|(l, &r)| l.iter().map(|&c| c as i64).sum::<i64>() + r)
        .collect();
    let (mut old, mut now) = (Vec::new(), Vec::new());
    let mut out = Vec::new();
    for (k, ((tx, ty), saved)) in band.into_iter().enumerate() {
        let (changed, marked) = match uniform[k] {
            Some(_) => (differs[k], marked_now[k]),
            None => {
                mask.read_rect_into(rect(tx), &mut now);
                // A different checksum means a change; the same one is checked pixel by
                // pixel (our own bytes always unpack).
                let same = crc32fast::hash(&now) == saved.crc
                    && unpack(&saved.packed, now.len(), &mut old)
                    && old == now;
                (!same, marked_in(&now))
            }
        };
        if changed {
            let delta = marked - saved.marked;
            let packed = saved.packed;
            out.push((TileDiff { tx, ty, packed }, delta));
        }
    }
    out
}

/// Figures for the history's memory use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryStats {
    pub undo_steps: usize,
    pub redo_steps: usize,
    pub bytes: usize,
}

/// The undo/redo history of one mask.
#[derive(Debug)]
pub struct History {
    undo: VecDeque<Step>,
    redo: Vec<Step>,
    bytes: usize,
    max_steps: usize,
    budget_bytes: usize,
    /// The marked pixels added by every step committed, undone or redone so far (see
    /// [`History::marked_drift`]).
    drift: i64,
    /// Bumped by every step committed, undone or redone: two equal readings mean the mask has
    /// not changed through this history in between.
    version: u64,
}

impl Default for History {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_STEPS, Self::DEFAULT_BUDGET)
    }
}

impl History {
    pub const DEFAULT_MAX_STEPS: usize = 500;
    pub const DEFAULT_BUDGET: usize = 256 * 1024 * 1024;

    pub fn new(max_steps: usize, budget_bytes: usize) -> Self {
        Self {
            undo: VecDeque::new(),
            redo: Vec::new(),
            bytes: 0,
            max_steps: max_steps.max(1),
            budget_bytes,
            drift: 0,
            version: 0,
        }
    }

    /// How many marked pixels (coverage at least `THRESHOLD`) the steps committed, undone and
    /// redone so far added in all (negative when they removed more). Two readings differ by
    /// what the mask's marked count changed between them, as long as every change went through
    /// this history: counting a huge mask once is enough.
    pub fn marked_drift(&self) -> i64 {
        self.drift
    }

    /// Changes with every step committed, undone or redone (see the field's note).
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn stats(&self) -> HistoryStats {
        HistoryStats {
            undo_steps: self.undo.len(),
            redo_steps: self.redo.len(),
            bytes: self.bytes,
        }
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// The label of the step Undo would revert.
    pub fn undo_label(&self) -> Option<&str> {
        self.undo.back().map(|s| s.label.as_str())
    }

    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    /// Forgets everything (a new image was opened).
    pub fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
        self.bytes = 0;
    }

    /// Turns a finished recording into an undo step, keeping only tiles that really changed.
    /// Returns false when nothing changed (no step is added).
    pub fn commit(&mut self, mask: &Mask, recorder: StrokeRecorder) -> bool {
        // Each band of tile rows is compared on its own core (a stroke over a 67-megapixel
        // mask touches thousands of tiles), and within a band row by row of pixels: the
        // touched tiles' stretches of one row lie side by side in memory, so the pass streams
        // through the band instead of jumping a whole mask row for every 64 bytes.
        let mut bands: Vec<Vec<((u32, u32), Saved)>> = Vec::new();
        for (key, saved) in recorder.before {
            // The map is ordered by (tx, ty): sort into bands by ty, then tx.
            let ty = key.1 as usize;
            if bands.len() <= ty {
                bands.resize_with(ty + 1, Vec::new);
            }
            bands[ty].push((key, saved));
        }

        let changed: Vec<(TileDiff, i64)> = bands
            .into_par_iter()
            .filter(|band| !band.is_empty())
            .flat_map_iter(|band| changed_in_band(mask, band))
            .collect();
        let marked_delta = changed.iter().map(|(_, d)| d).sum::<i64>();
        let tiles: Vec<TileDiff> = changed.into_iter().map(|(t, _)| t).collect();
        if tiles.is_empty() {
            return false;
        }
        self.drift += marked_delta;
        self.version += 1;
        let bytes = tiles.iter().map(|t| t.packed.len() + 16).sum::<usize>() + 64;
        for step in self.redo.drain(..) {
            self.bytes -= step.bytes;
        }
        self.bytes += bytes;
        self.undo.push_back(Step {
            label: recorder.label,
            tiles,
            bytes,
            marked_delta,
        });
        self.enforce_limits();
        true
    }

    /// Records a one-shot operation: `op` changes the mask and returns what it changed.
    /// `area` is the region the operation may touch (saved before it runs).
    pub fn record(
        &mut self,
        mask: &mut Mask,
        label: &str,
        area: DirtyRect,
        op: impl FnOnce(&mut Mask) -> Option<DirtyRect>,
    ) -> Option<DirtyRect> {
        let mut rec = StrokeRecorder::new(label);
        rec.before_change(mask, area);
        let changed = op(mask);
        self.commit(mask, rec);
        changed
    }

    fn enforce_limits(&mut self) {
        while self.undo.len() > self.max_steps
            || (self.bytes > self.budget_bytes && self.undo.len() > 1)
        {
            match self.undo.pop_front() {
                Some(step) => {
                    self.bytes -= step.bytes;
                }
                None => break,
            }
        }
    }

    fn swap(mask: &mut Mask, step: &mut Step) -> Option<DirtyRect> {
        // Each band of tile rows is a disjoint part of the mask, swapped on its own core: a
        // stroke over a 67-megapixel mask leaves thousands of tiles to swap.
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        if w == 0 || h == 0 {
            return None;
        }
        let tile = TILE as usize;
        step.tiles.sort_unstable_by_key(|t| (t.ty, t.tx));
        let mut groups: Vec<&mut [TileDiff]> = Vec::new();
        let mut rest: &mut [TileDiff] = &mut step.tiles;
        for ty in 0..h.div_ceil(tile) {
            let n = rest.iter().take_while(|t| t.ty as usize == ty).count();
            let (group, tail) = std::mem::take(&mut rest).split_at_mut(n);
            groups.push(group);
            rest = tail;
        }
        let dirty: Vec<Option<DirtyRect>> = mask
            .data
            .par_chunks_mut(tile * w)
            .zip(groups.into_par_iter())
            .enumerate()
            .map(|(ty, (band, tiles))| {
                let rows = band.len() / w;
                let mut dirty = None;
                let mut pixels = Vec::with_capacity(tile * tile);
                let mut stored = Vec::with_capacity(tile * tile);
                let mut scratch = Vec::new();
                for t in tiles.iter_mut() {
                    let x0 = t.tx as usize * tile;
                    let x1 = (x0 + tile).min(w);
                    if x0 >= x1 {
                        continue;
                    }
                    let area = (x1 - x0) * rows;
                    let stored_value = match t.packed.as_slice() {
                        [UNIFORM, v] => Some(*v),
                        // Our own bytes always fit their tile; a tile that did not stays as
                        // it is.
                        _ if !unpack(&t.packed, area, &mut stored) => continue,
                        _ => None,
                    };
                    // The tile as it is now, stored for the way back: checked for one value
                    // where it lies (most tiles of a large stroke are all marked or all clear),
                    // read out and compressed only when mixed.
                    let first = band[x0];
                    let mixed = (0..rows).fold(0u8, |acc, r| {
                        band[r * w + x0..r * w + x1]
                            .iter()
                            .fold(acc, |a, &p| a | (p ^ first))
                    }) != 0;
                    t.packed = if mixed {
                        pixels.clear();
                        for r in 0..rows {
                            pixels.extend_from_slice(&band[r * w + x0..r * w + x1]);
                        }
                        pack_mixed(&pixels, &mut scratch)
                    } else {
                        vec![UNIFORM, first]
                    };
                    for r in 0..rows {
                        let row = &mut band[r * w + x0..r * w + x1];
                        match stored_value {
                            Some(v) => row.fill(v),
                            None => {
                                row.copy_from_slice(&stored[r * (x1 - x0)..(r + 1) * (x1 - x0)])
                            }
                        }
                    }
                    let y0 = (ty * tile) as u32;
                    let rect = DirtyRect::new(x0 as u32, y0, x1 as u32, y0 + rows as u32);
                    dirty = DirtyRect::merge(dirty, Some(rect));
                }
                dirty
            })
            .collect();
        let dirty = dirty.into_iter().fold(None, DirtyRect::merge);
        let new_bytes = step
            .tiles
            .iter()
            .map(|t| t.packed.len() + 16)
            .sum::<usize>()
            + 64;
        step.bytes = new_bytes;
        dirty
    }

    /// Reverts the newest step; returns the region that changed.
    pub fn undo(&mut self, mask: &mut Mask) -> Option<DirtyRect> {
        let mut step = self.undo.pop_back()?;
        self.bytes -= step.bytes;
        let dirty = Self::swap(mask, &mut step);
        self.bytes += step.bytes;
        self.drift -= step.marked_delta;
        self.version += 1;
        self.redo.push(step);
        dirty
    }

    /// Re-applies the newest undone step; returns the region that changed.
    pub fn redo(&mut self, mask: &mut Mask) -> Option<DirtyRect> {
        let mut step = self.redo.pop()?;
        self.bytes -= step.bytes;
        let dirty = Self::swap(mask, &mut step);
        self.bytes += step.bytes;
        self.drift += step.marked_delta;
        self.version += 1;
        self.undo.push_back(step);
        self.enforce_limits();
        dirty
    }
}
