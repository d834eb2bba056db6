//! The offline engine, checked pixel by pixel on pictures generated here.

use std::sync::atomic::AtomicBool;

use image::{Rgba, RgbaImage};
use touchup::local::{FillMethod, LocalError, LocalOptions, choose_fill, edit, fill};
use touchup::mask::Mask;

fn no_progress(_: f32) {}

/// Brick wall: 24x12 bricks in a running bond, 2 px mortar, per-brick tint and some grain.
fn brick_wall(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let row = y / 12;
        let shift = if row % 2 == 0 { 0 } else { 12 };
        let col = (x + shift) / 24;
        let mortar = y % 12 < 2 || (x + shift) % 24 < 2;
        let grain = ((x.wrapping_mul(73) ^ y.wrapping_mul(151)) % 23) as u8;
        if mortar {
            Rgba([200 + grain / 2, 195 + grain / 2, 185, 255])
        } else {
            let tint = ((row * 7 + col * 13) % 5) as u8 * 9;
            Rgba([
                150 + tint + grain,
                60 + tint / 2 + grain / 2,
                40 + grain / 2,
                255,
            ])
        }
    })
}

fn rect_mask(w: u32, h: u32, x: i64, y: i64, rw: i64, rh: i64) -> Mask {
    let mut m = Mask::new(w, h);
    m.fill_rect(x, y, rw, rh, 255);
    m
}

fn run_fill(image: &RgbaImage, mask: &Mask, method: FillMethod, seed: u64) -> RgbaImage {
    let options = LocalOptions {
        fill: method,
        ..LocalOptions::default()
    };
    fill(
        image,
        mask,
        &options,
        seed,
        &no_progress,
        &AtomicBool::new(false),
    )
    .unwrap()
}

fn assert_outside_unchanged(before: &RgbaImage, after: &RgbaImage, mask: &Mask) {
    for (x, y, p) in before.enumerate_pixels() {
        if !mask.is_marked(x, y) {
            assert_eq!(
                p,
                after.get_pixel(x, y),
                "pixel ({x},{y}) outside the mask changed"
            );
        }
    }
}

/// Std of the 4-neighbour Laplacian of the gray image inside the mask (>= 3 px from its edge)
/// over the same in the ring 3..=16 px around it (chessboard distance, enough for rectangles).
fn texture_ratio(image: &RgbaImage, mask: &Mask) -> f64 {
    let (w, h) = image.dimensions();
    let gray = |x: u32, y: u32| {
        let p = image.get_pixel(x, y).0;
        0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64
    };
    let bounds = mask.marked_bounds().unwrap();
    let (mut inside, mut ring) = (Vec::new(), Vec::new());
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let lap = gray(x - 1, y) + gray(x + 1, y) + gray(x, y - 1) + gray(x, y + 1)
                - 4.0 * gray(x, y);
            let dx = (bounds.x0 as i64 - x as i64).max(x as i64 - bounds.x1 as i64 + 1);
            let dy = (bounds.y0 as i64 - y as i64).max(y as i64 - bounds.y1 as i64 + 1);
            let d = dx.max(dy); // > 0 outside, <= 0 inside
            if d <= -3 {
                inside.push(lap);
            } else if (3..=16).contains(&d) {
                ring.push(lap);
            }
        }
    }
    let std = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    };
    std(&inside) / std(&ring)
}

#[test]
fn outside_the_mask_nothing_changes_bit_for_bit() {
    let image = brick_wall(120, 90);
    let mut mask = rect_mask(120, 90, 30, 20, 50, 40);
    // Soft edge below the threshold must count as outside.
    for x in 30..80 {
        mask.set(x, 19, 127);
        mask.set(x, 60, 60);
    }
    for method in FillMethod::ALL {
        let out = run_fill(&image, &mask, method, 3);
        assert_outside_unchanged(&image, &out, &mask);
        let changed = (20..60)
            .flat_map(|y| (30..80).map(move |x| (x, y)))
            .filter(|&(x, y)| out.get_pixel(x, y) != image.get_pixel(x, y))
            .count();
        assert!(changed > 0, "{method:?} left the hole as it was");
    }
}

#[test]
fn same_seed_same_fill_other_seed_other_fill() {
    let image = brick_wall(120, 90);
    let mask = rect_mask(120, 90, 35, 25, 45, 35);
    let a = run_fill(&image, &mask, FillMethod::Patch, 11);
    let b = run_fill(&image, &mask, FillMethod::Patch, 11);
    let c = run_fill(&image, &mask, FillMethod::Patch, 12);
    assert_eq!(a, b, "one seed, one result");
    assert_ne!(a, c, "another seed gives another fill");
    let prompt = "'OPEN 7AM-3PM'";
    let run = |seed| {
        edit(
            &image,
            &mask,
            prompt,
            &LocalOptions::default(),
            seed,
            &no_progress,
            &AtomicBool::new(false),
        )
        .unwrap()
    };
    assert_eq!(run(5), run(5));
}

#[test]
fn the_patch_fill_carries_texture_where_fast_marching_smears() {
    let image = brick_wall(160, 128);
    let mask = rect_mask(160, 128, 50, 40, 60, 44);
    let original = texture_ratio(&image, &mask);
    assert!(
        original > 0.8,
        "the synthetic wall is textured everywhere: {original}"
    );
    let patch = texture_ratio(&run_fill(&image, &mask, FillMethod::Patch, 1), &mask);
    let smooth = texture_ratio(&run_fill(&image, &mask, FillMethod::FastMarching, 1), &mask);
    assert!(patch >= 0.6, "patch fill texture ratio {patch}");
    assert!(smooth < 0.4, "fast marching should smear: {smooth}");
}

#[test]
fn masks_on_the_border_fill_from_the_inside() {
    let image = RgbaImage::from_fn(64, 48, |x, y| Rgba([(x * 3) as u8, (y * 4) as u8, 90, 255]));
    let mut mask = Mask::new(64, 48);
    mask.fill_rect(-5, -5, 20, 15, 255); // top-left corner
    mask.fill_rect(56, 10, 20, 30, 255); // right edge
    mask.fill_rect(20, 44, 30, 10, 255); // bottom edge
    for method in FillMethod::ALL {
        let out = run_fill(&image, &mask, method, 2);
        assert_outside_unchanged(&image, &out, &mask);
        // A smooth gradient must come back close to itself, not black or white.
        for (x, y, p) in out.enumerate_pixels() {
            if mask.is_marked(x, y) {
                let q = image.get_pixel(x, y);
                let err = (0..3)
                    .map(|c| (p[c] as i32 - q[c] as i32).abs())
                    .max()
                    .unwrap();
                assert!(err < 60, "{method:?} at ({x},{y}): {p:?} vs {q:?}");
            }
        }
    }
}

#[test]
fn a_single_pixel_is_filled_from_its_neighbours() {
    let mut image = RgbaImage::from_pixel(20, 20, Rgba([40, 120, 200, 255]));
    image.put_pixel(7, 9, Rgba([255, 0, 0, 255]));
    let mut mask = Mask::new(20, 20);
    mask.set(7, 9, 255);
    assert_eq!(choose_fill(&mask), FillMethod::FastMarching);
    for method in FillMethod::ALL {
        let out = run_fill(&image, &mask, method, 0);
        assert_eq!(
            out.get_pixel(7, 9),
            &Rgba([40, 120, 200, 255]),
            "{method:?}"
        );
        assert_outside_unchanged(&image, &out, &mask);
    }
}

#[test]
fn a_whole_image_mask_has_nothing_to_fill_from() {
    let image = brick_wall(32, 32);
    let mut mask = Mask::new(32, 32);
    mask.fill_all();
    let err = edit(
        &image,
        &mask,
        "'HELLO'",
        &LocalOptions::default(),
        1,
        &no_progress,
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert_eq!(err, LocalError::NothingToFillFrom);
    assert!(err.to_string().contains("nothing to fill from"));
}

#[test]
fn empty_and_mismatched_masks_are_refused() {
    let image = brick_wall(32, 32);
    let cancel = AtomicBool::new(false);
    let options = LocalOptions::default();
    let empty = Mask::new(32, 32);
    assert_eq!(
        edit(&image, &empty, "", &options, 1, &no_progress, &cancel).unwrap_err(),
        LocalError::EmptyMask
    );
    let wrong = rect_mask(16, 32, 2, 2, 4, 4);
    let err = edit(&image, &wrong, "", &options, 1, &no_progress, &cancel).unwrap_err();
    assert!(matches!(
        err,
        LocalError::SizeMismatch { mask_width: 16, .. }
    ));
    assert!(err.to_string().contains("16x32"));
}

#[test]
fn a_forced_patch_fill_without_room_for_a_patch_says_so() {
    // Every 7x7 window of this 10x10 image touches the hole.
    let image = brick_wall(10, 10);
    let mask = rect_mask(10, 10, 3, 3, 4, 4);
    let options = LocalOptions {
        fill: FillMethod::Patch,
        ..LocalOptions::default()
    };
    let err = fill(
        &image,
        &mask,
        &options,
        1,
        &no_progress,
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert_eq!(err, LocalError::NoSourcePatches { patch: 7 });
    // Auto falls back to fast marching instead.
    let out = run_fill(&image, &mask, FillMethod::Auto, 1);
    assert_outside_unchanged(&image, &out, &mask);
}

#[test]
fn thin_strokes_march_and_wide_boxes_patch() {
    let mut thin = Mask::new(200, 100);
    thin.fill_rect(10, 40, 180, 6, 255);
    assert_eq!(choose_fill(&thin), FillMethod::FastMarching);
    let wide = rect_mask(200, 100, 40, 20, 100, 50);
    assert_eq!(choose_fill(&wide), FillMethod::Patch);
}

#[test]
fn cancelling_stops_with_an_error() {
    let image = brick_wall(160, 128);
    let mask = rect_mask(160, 128, 40, 30, 70, 50);
    let cancel = AtomicBool::new(true);
    for method in [FillMethod::Patch, FillMethod::FastMarching] {
        let options = LocalOptions {
            fill: method,
            ..LocalOptions::default()
        };
        let err = edit(&image, &mask, "'X'", &options, 1, &no_progress, &cancel).unwrap_err();
        assert_eq!(err, LocalError::Cancelled, "{method:?}");
    }
}

#[test]
fn progress_rises_from_zero_to_one() {
    let image = brick_wall(160, 128);
    let mask = rect_mask(160, 128, 40, 30, 70, 50);
    let seen = std::sync::Mutex::new(Vec::new());
    let record = |p: f32| seen.lock().unwrap().push(p);
    edit(
        &image,
        &mask,
        "'NORTH HALL'",
        &LocalOptions::default(),
        1,
        &record,
        &AtomicBool::new(false),
    )
    .unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 3, "progress reported {} times", seen.len());
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "not monotone: {seen:?}"
    );
    assert!(seen.iter().all(|p| (0.0..=1.0).contains(p)));
    assert_eq!(seen.last(), Some(&1.0));
}

/// Pixels that differ between the plain fill and the fill with text.
fn text_pixels(with: &RgbaImage, without: &RgbaImage) -> Vec<(u32, u32)> {
    with.enumerate_pixels()
        .filter(|(x, y, p)| *p != without.get_pixel(*x, *y))
        .map(|(x, y, _)| (x, y))
        .collect()
}

#[test]
fn quoted_text_is_drawn_inside_the_mask_box() {
    let wall = RgbaImage::from_pixel(240, 160, Rgba([235, 230, 220, 255]));
    let mask = rect_mask(240, 160, 40, 50, 160, 60);
    let options = LocalOptions::default();
    let cancel = AtomicBool::new(false);
    let plain = fill(&wall, &mask, &options, 4, &no_progress, &cancel).unwrap();
    for seed in [4, 5, 6] {
        let plain = fill(&wall, &mask, &options, seed, &no_progress, &cancel).unwrap();
        let out = edit(
            &wall,
            &mask,
            "a sign saying 'OPEN 7AM-3PM' and \"NORTH HALL\"",
            &options,
            seed,
            &no_progress,
            &cancel,
        )
        .unwrap();
        assert_outside_unchanged(&wall, &out, &mask);
        let ink = text_pixels(&out, &plain);
        assert!(
            ink.len() > 500,
            "seed {seed}: only {} text pixels",
            ink.len()
        );
        let (x0, x1) = (
            ink.iter().map(|p| p.0).min().unwrap(),
            ink.iter().map(|p| p.0).max().unwrap(),
        );
        let (y0, y1) = (
            ink.iter().map(|p| p.1).min().unwrap(),
            ink.iter().map(|p| p.1).max().unwrap(),
        );
        assert!(
            x0 >= 40 && x1 < 200 && y0 >= 50 && y1 < 110,
            "seed {seed}: ink box {x0},{y0}..{x1},{y1}"
        );
        // Margins on every side, and centred within a few pixels horizontally.
        assert!(x0 > 41 && x1 < 198 && y0 > 51 && y1 < 108);
        let (left, right) = (x0 - 40, 199 - x1);
        assert!(
            left.abs_diff(right) <= 3,
            "seed {seed}: not centred ({left} vs {right})"
        );
        // Light wall: dark letters, two lines (a gap of untouched rows between them).
        let darkest = ink
            .iter()
            .map(|&(x, y)| out.get_pixel(x, y)[0])
            .min()
            .unwrap();
        assert!(
            darkest < 60,
            "seed {seed}: text not dark on a light wall ({darkest})"
        );
        let rows: std::collections::BTreeSet<u32> = ink.iter().map(|p| p.1).collect();
        let gaps = rows
            .iter()
            .zip(rows.iter().skip(1))
            .filter(|(a, b)| **b > **a + 1)
            .count();
        assert!(gaps >= 1, "seed {seed}: expected two lines");
    }
    let _ = plain;
}

#[test]
fn seeds_vary_the_lettering_and_colour_words_pick_the_colour() {
    let wall = RgbaImage::from_pixel(240, 160, Rgba([120, 120, 120, 255]));
    let mask = rect_mask(240, 160, 40, 50, 160, 60);
    let cancel = AtomicBool::new(false);
    let options = LocalOptions::default();
    let outs: Vec<RgbaImage> = (0..4)
        .map(|seed| {
            edit(
                &wall,
                &mask,
                "'EXIT' in red letters",
                &options,
                seed,
                &no_progress,
                &cancel,
            )
            .unwrap()
        })
        .collect();
    assert!(
        outs.iter().skip(1).any(|o| *o != outs[0]),
        "four seeds drew the same text"
    );
    let plain = fill(&wall, &mask, &options, 0, &no_progress, &cancel).unwrap();
    let ink = text_pixels(&outs[0], &plain);
    let reddest = ink
        .iter()
        .map(|&(x, y)| outs[0].get_pixel(x, y).0)
        .max_by_key(|p| p[0] as i32 - p[1] as i32)
        .unwrap();
    assert!(reddest[0] > 180 && reddest[1] < 60, "not red: {reddest:?}");
}

#[test]
fn text_stays_inside_an_irregular_mask() {
    let wall = RgbaImage::from_pixel(200, 200, Rgba([30, 40, 60, 255]));
    let mut mask = Mask::new(200, 200);
    touchup::mask::shapes::fill_polygon(
        &mut mask,
        &[(100.0, 20.0), (180.0, 100.0), (100.0, 180.0), (20.0, 100.0)],
        touchup::mask::shapes::Combine::Add,
    );
    let cancel = AtomicBool::new(false);
    let options = LocalOptions::default();
    let plain = fill(&wall, &mask, &options, 9, &no_progress, &cancel).unwrap();
    let out = edit(
        &wall,
        &mask,
        "\u{201C}NORTH HALL\u{201D}",
        &options,
        9,
        &no_progress,
        &cancel,
    )
    .unwrap();
    assert_outside_unchanged(&wall, &out, &mask);
    let ink = text_pixels(&out, &plain);
    assert!(ink.len() > 100);
    assert!(ink.iter().all(|&(x, y)| mask.is_marked(x, y)));
    let brightest = ink
        .iter()
        .map(|&(x, y)| out.get_pixel(x, y)[0])
        .max()
        .unwrap();
    assert!(brightest > 200, "light text on a dark wall");
}

#[test]
fn a_large_hole_split_across_threads_is_still_deterministic() {
    // Over 4096 patch centres, so the search, the costs and the vote run in parallel pieces.
    let image = brick_wall(256, 192);
    let mask = rect_mask(256, 192, 60, 50, 130, 90);
    let first = run_fill(&image, &mask, FillMethod::Patch, 21);
    for _ in 0..2 {
        assert_eq!(run_fill(&image, &mask, FillMethod::Patch, 21), first);
    }
    assert_outside_unchanged(&image, &first, &mask);
    assert!(texture_ratio(&first, &mask) >= 0.6);
}

#[test]
fn drawn_text_reports_where_it_went() {
    let mut wall = RgbaImage::from_pixel(240, 160, Rgba([235, 230, 220, 255]));
    let before = wall.clone();
    let mask = rect_mask(240, 160, 40, 50, 160, 60);
    let placed = touchup::local::draw_prompt_text(
        &mut wall,
        &mask,
        "'OPEN' \"LATE\"",
        &LocalOptions::default(),
        3,
    );
    assert_eq!(placed.len(), 2);
    for p in &placed {
        assert!(p.area.x0 >= 40 && p.area.x1 <= 200 && p.area.y0 >= 50 && p.area.y1 <= 110);
        assert_eq!(p.colour, [20, 20, 20]);
    }
    assert_eq!(placed[0].text, "OPEN");
    assert!(
        placed[0].area.y1 <= placed[1].area.y0,
        "first line above the second"
    );
    assert_outside_unchanged(&before, &wall, &mask);
    let nothing = touchup::local::draw_prompt_text(
        &mut wall,
        &mask,
        "no quotes here",
        &LocalOptions::default(),
        3,
    );
    assert!(nothing.is_empty());
}

/// The demo sign: masking the lettering inside the flat green panel (about 20 px of green
/// left around the mask, then the gold frame, then brick) must fill with the panel's green,
/// not with the brick texture from beyond the frame.
#[test]
fn a_hole_inside_a_flat_panel_fills_with_the_panel_not_the_wall_beyond() {
    let image = touchup::demo::image();
    let (width, height) = image.dimensions();
    let (x0, y0, x1, y1) = (338u32, 126u32, 1198u32, 236u32);
    let mask = rect_mask(
        width,
        height,
        x0 as i64,
        y0 as i64,
        (x1 - x0) as i64,
        (y1 - y0) as i64,
    );
    // The panel's green, sampled in the margin left between the mask and the gold frame.
    let mut margin = [0.0f64; 3];
    let mut margin_count = 0.0f64;
    for y in (y0 - 12)..(y0 - 4) {
        for x in x0..x1 {
            let p = image.get_pixel(x, y);
            for c in 0..3 {
                margin[c] += p[c] as f64;
            }
            margin_count += 1.0;
        }
    }
    let green = margin.map(|s| s / margin_count);
    assert!(
        green[1] > green[0] + 20.0,
        "the margin sample is green: {green:?}"
    );

    let out = run_fill(&image, &mask, FillMethod::Patch, 1);
    assert_outside_unchanged(&image, &out, &mask);
    let mut sum = [0.0f64; 3];
    let mut brick = 0usize;
    let mut count = 0usize;
    for y in y0..y1 {
        for x in x0..x1 {
            let p = out.get_pixel(x, y);
            for c in 0..3 {
                sum[c] += p[c] as f64;
            }
            if p[0] as i32 > p[1] as i32 + 40 {
                brick += 1;
            }
            count += 1;
        }
    }
    let mean = sum.map(|s| s / count as f64);
    let distance = (0..3)
        .map(|c| (mean[c] - green[c]).powi(2))
        .sum::<f64>()
        .sqrt();
    let brick_fraction = brick as f64 / count as f64;
    assert!(
        distance < 12.0,
        "fill mean {mean:?} is {distance:.1} away from the panel green {green:?}"
    );
    assert!(
        brick_fraction < 0.01,
        "{:.2} % of the fill is brick-red",
        brick_fraction * 100.0
    );
}
