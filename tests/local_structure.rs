//! The offline fill continues structure: mortar lines, tile grids, planks and slanted siding
//! come back across the hole with their period, phase and direction; a flat framed panel
//! comes back flat. Every picture is generated here, so the hidden truth is known exactly.

use std::sync::atomic::AtomicBool;

use image::{Rgba, RgbaImage};
use touchup::local::{FillMethod, LocalOptions, fill};
use touchup::mask::Mask;

fn run_fill(image: &RgbaImage, mask: &Mask, seed: u64) -> RgbaImage {
    let options = LocalOptions {
        fill: FillMethod::Auto,
        ..LocalOptions::default()
    };
    fill(
        image,
        mask,
        &options,
        seed,
        &|_| {},
        &AtomicBool::new(false),
    )
    .unwrap()
}

fn rect_mask(w: u32, h: u32, (x, y, rw, rh): (u32, u32, u32, u32)) -> Mask {
    let mut m = Mask::new(w, h);
    m.fill_rect(x as i64, y as i64, rw as i64, rh as i64, 255);
    m
}

fn grey(p: &Rgba<u8>) -> f64 {
    0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64
}

/// A small hash for per-brick tints and grain, so the pictures look like walls, not like
/// flat drawings.
fn hash(a: u32, b: u32) -> u32 {
    let mut v = a.wrapping_mul(0x9E37_79B1) ^ b.wrapping_mul(0x85EB_CA77);
    v ^= v >> 15;
    v = v.wrapping_mul(0x2C1B_3C6D);
    v ^ (v >> 12)
}

/// Running bond: bricks 32x14 between 3 px of light mortar, every other course shifted by
/// half a brick; each brick has its own tint and every pixel some grain.
fn brick_wall(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let course = y / 17;
        let shifted = x + if course % 2 == 0 { 0 } else { 16 };
        let grain = (hash(x, y) % 13) as u8;
        if y % 17 < 3 || shifted % 35 < 3 {
            Rgba([205 + grain / 2, 200 + grain / 2, 190, 255])
        } else {
            let tint = (hash(shifted / 35, course) % 5) as u8 * 8;
            Rgba([
                140 + tint + grain,
                62 + tint / 2 + grain / 2,
                45 + grain / 2,
                255,
            ])
        }
    })
}

/// Square tiles 22 px apart with 2 px dark grout, each tile slightly tinted.
fn tile_grid(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let grain = (hash(x, y) % 7) as u8;
        if x % 22 < 2 || (y + 5) % 22 < 2 {
            Rgba([70 + grain, 72 + grain, 75 + grain, 255])
        } else {
            let tint = (hash(x / 22, (y + 5) / 22) % 4) as u8 * 6;
            Rgba([215 + tint + grain, 220 + tint + grain, 222 + grain, 255])
        }
    })
}

/// Slanted siding: boards 15 px apart across a direction of about 20 degrees, with a dark
/// shadow line at each lap and a gentle shading across each board.
fn slanted_siding(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let across = y as f64 * 0.94 + x as f64 * 0.34;
        let phase = across.rem_euclid(15.0);
        let grain = (hash(x, y) % 9) as f64;
        let v = if phase < 2.5 {
            70.0
        } else {
            150.0 + phase * 4.0
        } + grain;
        let v = v.min(255.0) as u8;
        Rgba([v, v.saturating_sub(10), v.saturating_sub(30), 255])
    })
}

/// Pearson correlation of two equally long series.
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt().max(1e-9)
}

/// Mean grey of each row of `hole` (x, y, w, h).
fn row_profile(image: &RgbaImage, (x0, y0, w, h): (u32, u32, u32, u32)) -> Vec<f64> {
    (y0..y0 + h)
        .map(|y| {
            (x0..x0 + w)
                .map(|x| grey(image.get_pixel(x, y)))
                .sum::<f64>()
                / w as f64
        })
        .collect()
}

/// Mean grey of each column of `hole` between rows `ys`.
fn column_profile(image: &RgbaImage, (x0, w): (u32, u32), ys: std::ops::Range<u32>) -> Vec<f64> {
    let n = ys.len() as f64;
    (x0..x0 + w)
        .map(|x| ys.clone().map(|y| grey(image.get_pixel(x, y))).sum::<f64>() / n)
        .collect()
}

/// Correlation of the filled hole with the hidden truth, pixel by pixel.
fn pixel_correlation(a: &RgbaImage, b: &RgbaImage, (x0, y0, w, h): (u32, u32, u32, u32)) -> f64 {
    let pick = |img: &RgbaImage| -> Vec<f64> {
        (y0..y0 + h)
            .flat_map(|y| (x0..x0 + w).map(move |x| (x, y)))
            .map(|(x, y)| grey(img.get_pixel(x, y)))
            .collect()
    };
    correlation(&pick(a), &pick(b))
}

#[test]
fn mortar_lines_continue_across_a_hole_in_a_brick_wall() {
    // The case of the issue: a 90x70 hole in the middle of a wall of light mortar.
    let (w, h) = (260, 200);
    let wall = brick_wall(w, h);
    let hole = (85, 65, 90, 70);
    let mask = rect_mask(w, h, hole);
    for seed in [1, 2] {
        let out = run_fill(&wall, &mask, seed);
        // Bed joints: the row profile inside the hole has its mortar rows where the wall has.
        let rows = correlation(&row_profile(&out, hole), &row_profile(&wall, hole));
        assert!(rows > 0.9, "seed {seed}: row profile correlation {rows:.2}");
        // Head joints: in every course wholly inside the hole, the columns that are mortar
        // (course mean brighter than halfway between brick and mortar) are the wall's: the
        // joints stand where they belong, the running bond's half-brick shift kept.
        let (x0, _, cw, _) = hole;
        for course in 0..h / 17 {
            let (top, bottom) = (course * 17 + 3, course * 17 + 17);
            if top < hole.1 || bottom > hole.1 + hole.3 {
                continue;
            }
            let joints = |img: &RgbaImage| -> Vec<bool> {
                let profile = column_profile(img, (x0, cw), top..bottom);
                profile.into_iter().map(|v| v > 150.0).collect()
            };
            let (filled, truth) = (joints(&out), joints(&wall));
            assert!(
                truth.iter().filter(|&&j| j).count() >= 6,
                "the course has joints"
            );
            let agree = filled.iter().zip(&truth).filter(|(a, b)| a == b).count();
            assert!(
                agree as f64 >= 0.95 * cw as f64,
                "seed {seed}, course {course}: joints right in {agree} of {cw} columns"
            );
        }
        let whole = pixel_correlation(&out, &wall, hole);
        assert!(whole > 0.7, "seed {seed}: fill vs hidden wall {whole:.2}");
    }
}

#[test]
fn a_tile_grid_continues_with_its_period() {
    let (w, h) = (220, 180);
    let tiles = tile_grid(w, h);
    let hole = (61, 47, 83, 71);
    let out = run_fill(&tiles, &rect_mask(w, h, hole), 3);
    let rows = correlation(&row_profile(&out, hole), &row_profile(&tiles, hole));
    let columns = correlation(
        &column_profile(&out, (hole.0, hole.2), hole.1..hole.1 + hole.3),
        &column_profile(&tiles, (hole.0, hole.2), hole.1..hole.1 + hole.3),
    );
    assert!(rows > 0.9, "grout rows correlate {rows:.2}");
    assert!(columns > 0.9, "grout columns correlate {columns:.2}");
}

#[test]
fn slanted_boards_keep_their_direction() {
    let (w, h) = (220, 180);
    let siding = slanted_siding(w, h);
    let hole = (70, 55, 80, 64);
    let out = run_fill(&siding, &rect_mask(w, h, hole), 4);
    let c = pixel_correlation(&out, &siding, hole);
    assert!(c > 0.8, "fill vs hidden siding {c:.2}");
}

#[test]
fn a_flat_framed_panel_on_a_brick_wall_comes_back_flat() {
    // A sign: a flat cream panel with a dark 5 px frame on the brick wall; the lettering
    // area inside it is masked, leaving 14 px of panel around the hole.
    let (w, h) = (260, 200);
    let panel_colour = [228u8, 222, 205];
    let (px0, py0, px1, py1) = (40u32, 45u32, 220u32, 155u32);
    let mut sign = brick_wall(w, h);
    for y in py0..py1 {
        for x in px0..px1 {
            let frame = x < px0 + 5 || x >= px1 - 5 || y < py0 + 5 || y >= py1 - 5;
            let noise = (hash(x, y) % 3) as u8;
            let p = if frame {
                Rgba([35 + noise, 30 + noise, 28, 255])
            } else {
                Rgba([
                    panel_colour[0] - noise,
                    panel_colour[1] - noise,
                    panel_colour[2],
                    255,
                ])
            };
            sign.put_pixel(x, y, p);
        }
    }
    let hole = (px0 + 19, py0 + 19, px1 - px0 - 38, py1 - py0 - 38);
    let mask = rect_mask(w, h, hole);
    let out = run_fill(&sign, &mask, 1);
    let mut error = 0.0f64;
    let mut count = 0.0f64;
    for y in hole.1..hole.1 + hole.3 {
        for x in hole.0..hole.0 + hole.2 {
            let p = out.get_pixel(x, y);
            for c in 0..3 {
                error += (p[c] as f64 - panel_colour[c] as f64).abs();
            }
            count += 3.0;
        }
    }
    let mean_error = error / count;
    assert!(
        mean_error < 6.0,
        "the panel came back {mean_error:.1} levels off its colour on average"
    );
}

/// Grainy paper with a dark ruled line 3 px wide at `slope` (rows per column) through
/// `(0, y0)`: the line's centre row at column `x` is `y0 + slope * x`.
fn ruled_paper(w: u32, h: u32, y0: f64, slope: f64) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let grain = (hash(x, y) % 41) as f64;
        let off = (y as f64 - (y0 + slope * x as f64)) / (1.0 + slope * slope).sqrt();
        // Anti-aliased edges: full ink within 1 px of the centre, fading over the next.
        let ink = (2.0 - off.abs()).clamp(0.0, 1.0);
        let v = (175.0 + grain) * (1.0 - ink) + (45.0 + grain / 3.0) * ink;
        let v = v as u8;
        Rgba([v, v, v.saturating_sub(8), 255])
    })
}

#[test]
fn a_straight_line_crossing_the_hole_continues_within_two_pixels() {
    // A ruled line crossing a 120x80 hole, steep and shallow: a patch search alone breaks
    // or bends it (no period to follow); it must come back where it was, dark.
    let (w, h) = (240, 180);
    for (y0, slope, seed) in [(40.0, 0.5, 1), (150.0, -0.45, 2), (84.0, 0.05, 3)] {
        let paper = ruled_paper(w, h, y0, slope);
        let hole = (60, 50, 120, 80);
        let out = run_fill(&paper, &rect_mask(w, h, hole), seed);
        // In every column of the hole: the ink's centre (darkness-weighted, near the line)
        // lies within 2 px of the hidden line's, and the line is dark there.
        for x in hole.0..hole.0 + hole.2 {
            let centre = y0 + slope * x as f64;
            let rows = (centre - 6.0).max(0.0) as u32..((centre + 7.0) as u32).min(h);
            let (mut sum, mut weight, mut darkest) = (0.0, 0.0, 255.0f64);
            for y in rows {
                let g = grey(out.get_pixel(x, y));
                let ink = (150.0 - g).max(0.0);
                sum += ink * y as f64;
                weight += ink;
                darkest = darkest.min(g);
            }
            assert!(
                darkest < 110.0,
                "slope {slope}, column {x}: no line (darkest {darkest:.0})"
            );
            let found = sum / weight;
            assert!(
                (found - centre).abs() <= 2.0,
                "slope {slope}, column {x}: line at row {found:.1}, hidden line at {centre:.1}"
            );
        }
    }
}
