//! Selection tools and mask operations on synthetic inputs with known answers: rectangle and
//! lasso against their exact rasterisation, the magic wand on a noisy panel over a gradient,
//! grow and shrink against brute-force disk dilation and erosion, feather, fill holes, undo.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;

use image::{Rgba, RgbaImage};
use proptest::prelude::*;
use touchup::mask::{
    Combine, Connectivity, Mask, MaskEditor, THRESHOLD, WandError, WandOptions, colour_distance,
    feather, fill_holes, grow, magic_wand, shapes, shrink, wand_region,
};

fn marked_set(m: &Mask) -> Vec<bool> {
    m.as_raw().iter().map(|&v| v >= THRESHOLD).collect()
}

/// A small deterministic generator (no wall clock, no global state).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    fn noise(&mut self, amp: i32) -> i32 {
        (self.next() % (2 * amp as u32 + 1)) as i32 - amp
    }
}

fn mask_from(w: u32, h: u32, bits: &[bool]) -> Mask {
    Mask::from_raw(
        w,
        h,
        bits.iter().map(|&b| if b { 255 } else { 0 }).collect(),
    )
    .unwrap()
}

// ---------- rectangle and lasso ----------

#[test]
fn rectangle_with_fractional_corners_marks_exactly_the_pixel_centres_inside() {
    let mut m = Mask::new(40, 30);
    // Corners given in either order.
    shapes::fill_rect(&mut m, (31.3, 22.8), (5.7, 3.2), Combine::Add);
    for y in 0..30 {
        for x in 0..40 {
            let (cx, cy) = (x as f32 + 0.5, y as f32 + 0.5);
            let inside = (5.7..31.3).contains(&cx) && (3.2..22.8).contains(&cy);
            assert_eq!(m.is_marked(x, y), inside, "pixel {x},{y}");
        }
    }
    // Edges are anti-aliased: column 5 is 30 % covered, row 22 80 %.
    assert!(
        (60..=95).contains(&m.get(5, 10)),
        "left edge coverage {}",
        m.get(5, 10)
    );
    assert!(
        (180..=225).contains(&m.get(15, 22)),
        "bottom edge coverage {}",
        m.get(15, 22)
    );
    assert_eq!(m.get(15, 10), 255);
}

#[test]
fn rectangle_subtract_removes_exactly_its_pixels() {
    let mut m = Mask::new(20, 20);
    m.fill_all();
    shapes::fill_rect(&mut m, (4.0, 4.0), (10.0, 12.0), Combine::Subtract);
    for y in 0..20 {
        for x in 0..20 {
            let hole = (4..10).contains(&x) && (4..12).contains(&y);
            assert_eq!(m.is_marked(x, y), !hole, "pixel {x},{y}");
        }
    }
}

#[test]
fn lasso_equals_the_centre_rasterisation_of_its_closed_path() {
    // A wobbly freehand loop that crosses itself, with repeated points and a closing point.
    let mut path = Vec::new();
    for i in 0..=240 {
        let t = i as f32 / 240.0 * std::f32::consts::TAU;
        let r = 22.0 + 6.0 * (5.0 * t).sin();
        path.push((
            40.0 + r * t.cos() + 10.0 * (2.0 * t).sin(),
            35.0 + r * t.sin(),
        ));
        if i % 17 == 0 {
            path.push(*path.last().unwrap());
        }
    }
    let mut m = Mask::new(80, 70);
    shapes::fill_lasso(&mut m, &path, Combine::Add);
    let mut marked = 0;
    for y in 0..70 {
        for x in 0..80 {
            let inside = shapes::contains(&path, x as f32 + 0.5, y as f32 + 0.5);
            assert_eq!(m.is_marked(x, y), inside, "pixel {x},{y}");
            marked += inside as usize;
        }
    }
    assert!(marked > 1000, "the loop encloses a real area ({marked})");
}

// ---------- magic wand ----------

/// A flat panel with mild noise on a smooth gradient: the wand's textbook case.
fn panel_on_gradient(w: u32, h: u32, panel: (u32, u32, u32, u32)) -> RgbaImage {
    let mut rng = Lcg(7);
    RgbaImage::from_fn(w, h, |x, y| {
        let in_panel = x >= panel.0 && x < panel.2 && y >= panel.1 && y < panel.3;
        let base = if in_panel {
            [40.0, 90.0, 190.0]
        } else {
            let t = x as f32 / w as f32;
            let s = y as f32 / h as f32;
            [220.0 - 60.0 * t, 170.0 + 50.0 * s, 90.0 + 40.0 * t * s]
        };
        let c = base.map(|v| (v as i32 + rng.noise(3)).clamp(0, 255) as u8);
        Rgba([c[0], c[1], c[2], 255])
    })
}

#[test]
fn wand_on_a_noisy_flat_panel_selects_the_panel_and_nothing_else() {
    let panel = (30, 20, 110, 60);
    let img = panel_on_gradient(160, 100, panel);
    for seed in [(31, 21), (70, 40), (109, 59)] {
        let mut m = Mask::new(160, 100);
        let changed = magic_wand(
            &mut m,
            &img,
            seed,
            &WandOptions::default(),
            Combine::Add,
            None,
        )
        .unwrap();
        assert_eq!(
            changed,
            Some(touchup::mask::DirtyRect::new(30, 20, 110, 60))
        );
        for y in 0..100 {
            for x in 0..160 {
                let inside = x >= panel.0 && x < panel.2 && y >= panel.1 && y < panel.3;
                assert_eq!(
                    m.get(x, y),
                    if inside { 255 } else { 0 },
                    "pixel {x},{y} seed {seed:?}"
                );
            }
        }
    }
}

#[test]
fn wand_tolerance_is_a_perceptual_distance_from_the_clicked_colour() {
    assert!(colour_distance([40, 90, 190], [43, 87, 193]) < 4.0);
    assert!(colour_distance([0, 0, 0], [255, 255, 255]) > 99.0);
    // The gradient background never gets within the default tolerance of the panel.
    assert!(colour_distance([40, 90, 190], [160, 170, 90]) > 30.0);
    // A tolerance of zero on a noisy panel keeps only pixels of the exact clicked colour.
    let img = panel_on_gradient(60, 40, (10, 10, 50, 30));
    let opts = WandOptions {
        tolerance: 0.0,
        ..WandOptions::default()
    };
    let region = wand_region(&img, (20, 20), &opts, None).unwrap();
    let seed = *img.get_pixel(20, 20);
    for y in 0..40 {
        for x in 0..60 {
            if region.contains(x, y) {
                assert_eq!(*img.get_pixel(x, y), seed, "pixel {x},{y}");
            }
        }
    }
    // Background on the gradient, with a wide tolerance, spreads over the background only.
    let wide = WandOptions {
        tolerance: 25.0,
        ..WandOptions::default()
    };
    let bg = wand_region(&img, (2, 2), &wide, None).unwrap();
    assert_eq!(bg.pixel_count(), 60 * 40 - 40 * 20);
    assert!(!bg.contains(30, 20));
}

#[test]
fn four_connected_wand_stops_at_a_diagonal_touch_and_eight_connected_crosses_it() {
    let img = RgbaImage::from_fn(20, 20, |x, y| {
        let a = x < 10 && y < 10;
        let b = x >= 10 && y >= 10;
        if a || b {
            Rgba([250, 250, 250, 255])
        } else {
            Rgba([10, 10, 10, 255])
        }
    });
    let four = wand_region(&img, (2, 2), &WandOptions::default(), None).unwrap();
    assert_eq!(four.pixel_count(), 100);
    assert!(!four.contains(15, 15));
    let eight_opts = WandOptions {
        connectivity: Connectivity::Eight,
        ..WandOptions::default()
    };
    let eight = wand_region(&img, (2, 2), &eight_opts, None).unwrap();
    assert_eq!(eight.pixel_count(), 200);
    assert!(eight.contains(15, 15));
}

#[test]
fn wand_subtract_unmarks_the_region_only() {
    let panel = (30, 20, 110, 60);
    let img = panel_on_gradient(160, 100, panel);
    let mut m = Mask::new(160, 100);
    m.fill_all();
    magic_wand(
        &mut m,
        &img,
        (50, 30),
        &WandOptions::default(),
        Combine::Subtract,
        None,
    )
    .unwrap();
    for y in 0..100 {
        for x in 0..160 {
            let inside = x >= panel.0 && x < panel.2 && y >= panel.1 && y < panel.3;
            assert_eq!(m.is_marked(x, y), !inside, "pixel {x},{y}");
        }
    }
}

#[test]
fn wand_rejects_bad_input_and_honours_its_cancel_flag() {
    let img = panel_on_gradient(600, 600, (100, 100, 500, 500));
    let err = wand_region(&img, (600, 3), &WandOptions::default(), None).unwrap_err();
    assert!(
        matches!(err, WandError::SeedOutside { x: 600, y: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("600x600"));
    for tolerance in [-1.0, 100.5, f32::NAN] {
        let opts = WandOptions {
            tolerance,
            ..WandOptions::default()
        };
        assert!(matches!(
            wand_region(&img, (1, 1), &opts, None),
            Err(WandError::BadTolerance(_))
        ));
    }
    let cancel = AtomicBool::new(true);
    assert_eq!(
        wand_region(&img, (300, 300), &WandOptions::default(), Some(&cancel)).unwrap_err(),
        WandError::Cancelled
    );
    let mut small = Mask::new(10, 10);
    assert!(matches!(
        magic_wand(
            &mut small,
            &img,
            (1, 1),
            &WandOptions::default(),
            Combine::Add,
            None
        ),
        Err(WandError::SizeMismatch { .. })
    ));
}

// ---------- grow and shrink ----------

fn brute_dilate(w: u32, h: u32, bits: &[bool], r: i64) -> Vec<bool> {
    let mut out = vec![false; bits.len()];
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            'search: for dy in -r..=r {
                for dx in -r..=r {
                    let (qx, qy) = (x + dx, y + dy);
                    if dx * dx + dy * dy <= r * r
                        && qx >= 0
                        && qy >= 0
                        && qx < w as i64
                        && qy < h as i64
                        && bits[(qy * w as i64 + qx) as usize]
                    {
                        out[(y * w as i64 + x) as usize] = true;
                        break 'search;
                    }
                }
            }
        }
    }
    out
}

/// Erosion with pixels outside the image counting as marked.
fn brute_erode(w: u32, h: u32, bits: &[bool], r: i64) -> Vec<bool> {
    let mut out = vec![false; bits.len()];
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            let mut keep = true;
            for dy in -r..=r {
                for dx in -r..=r {
                    let (qx, qy) = (x + dx, y + dy);
                    if dx * dx + dy * dy <= r * r
                        && qx >= 0
                        && qy >= 0
                        && qx < w as i64
                        && qy < h as i64
                        && !bits[(qy * w as i64 + qx) as usize]
                    {
                        keep = false;
                    }
                }
            }
            out[(y * w as i64 + x) as usize] = keep;
        }
    }
    out
}

fn arb_bits() -> impl Strategy<Value = (u32, u32, Vec<bool>)> {
    (1u32..28, 1u32..24, 0u32..100).prop_flat_map(|(w, h, density)| {
        (
            Just(w),
            Just(h),
            prop::collection::vec(
                prop::bool::weighted(density as f64 / 100.0 * 0.5),
                (w * h) as usize,
            ),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn grow_equals_dilation_by_a_disk((w, h, bits) in arb_bits(), r in 0u32..9) {
        let mut m = mask_from(w, h, &bits);
        grow(&mut m, r);
        prop_assert_eq!(marked_set(&m), brute_dilate(w, h, &bits, r as i64));
    }

    #[test]
    fn shrink_equals_erosion_by_a_disk((w, h, bits) in arb_bits(), r in 0u32..9) {
        // Erosion of sparse noise is empty; invert half the cases to erode large shapes.
        let mut m = mask_from(w, h, &bits);
        shrink(&mut m, r);
        prop_assert_eq!(marked_set(&m), brute_erode(w, h, &bits, r as i64));
        let inv: Vec<bool> = bits.iter().map(|b| !b).collect();
        let mut m = mask_from(w, h, &inv);
        shrink(&mut m, r);
        prop_assert_eq!(marked_set(&m), brute_erode(w, h, &inv, r as i64));
    }

    #[test]
    fn feather_never_changes_which_pixels_are_marked((w, h, bits) in arb_bits(), r in 0.5f32..6.0) {
        let mut m = mask_from(w, h, &bits);
        feather(&mut m, r);
        prop_assert_eq!(marked_set(&m), bits);
    }

    #[test]
    fn fill_holes_marks_exactly_the_enclosed_unmarked_pixels((w, h, bits) in arb_bits()) {
        let mut m = mask_from(w, h, &bits);
        fill_holes(&mut m);
        // Reference: breadth-first search from the border through unmarked pixels.
        let idx = |x: u32, y: u32| (y * w + x) as usize;
        let mut reached = vec![false; bits.len()];
        let mut queue = VecDeque::new();
        for y in 0..h {
            for x in 0..w {
                if (x == 0 || y == 0 || x == w - 1 || y == h - 1) && !bits[idx(x, y)] {
                    reached[idx(x, y)] = true;
                    queue.push_back((x, y));
                }
            }
        }
        while let Some((x, y)) = queue.pop_front() {
            let n = [(x.wrapping_sub(1), y), (x + 1, y), (x, y.wrapping_sub(1)), (x, y + 1)];
            for (nx, ny) in n {
                if nx < w && ny < h && !bits[idx(nx, ny)] && !reached[idx(nx, ny)] {
                    reached[idx(nx, ny)] = true;
                    queue.push_back((nx, ny));
                }
            }
        }
        let expected: Vec<bool> = reached.iter().map(|r| !r).collect();
        prop_assert_eq!(marked_set(&m), expected);
    }
}

#[test]
fn grown_rectangle_has_round_corners_and_straight_sides() {
    let mut m = Mask::new(140, 100);
    m.fill_rect(40, 30, 50, 30, 255);
    grow(&mut m, 12);
    // Sides move out by exactly 12.
    assert!(m.is_marked(28, 45) && !m.is_marked(27, 45));
    assert!(m.is_marked(101, 45) && !m.is_marked(102, 45));
    assert!(m.is_marked(60, 18) && !m.is_marked(60, 17));
    // The corner is round: 12 px diagonally out is beyond the disk, 8 px is inside it.
    assert!(!m.is_marked(40 - 12, 30 - 12));
    assert!(!m.is_marked(40 - 9, 30 - 9));
    assert!(m.is_marked(40 - 8, 30 - 8));
    // The new edge is anti-aliased, never a hard 0/255 step everywhere.
    let soft = m.as_raw().iter().filter(|&&v| v != 0 && v != 255).count();
    assert!(soft > 100, "{soft} soft edge pixels");
}

#[test]
fn grow_then_shrink_by_the_same_radius_restores_a_convex_shape() {
    let mut m = Mask::new(120, 120);
    m.fill_rect(30, 40, 50, 30, 255);
    let before = marked_set(&m);
    grow(&mut m, 10);
    shrink(&mut m, 10);
    assert_eq!(marked_set(&m), before);
}

#[test]
fn shrink_keeps_a_full_mask_full_and_grow_reports_what_changed() {
    let mut m = Mask::new(30, 20);
    m.fill_all();
    assert_eq!(shrink(&mut m, 5), None);
    assert_eq!(m.count_at_least(THRESHOLD), 600);
    let mut m = Mask::new(30, 20);
    m.set(10, 10, 255);
    let changed = grow(&mut m, 3).unwrap();
    assert_eq!(changed, touchup::mask::DirtyRect::new(7, 7, 14, 14));
    assert_eq!(
        grow(&mut Mask::new(5, 5), 3),
        None,
        "nothing marked, nothing to grow"
    );
}

#[test]
fn feather_ramps_the_edge_and_keeps_the_interior_solid() {
    let mut m = Mask::new(100, 60);
    m.fill_rect(30, 20, 40, 20, 255);
    feather(&mut m, 4.0);
    assert_eq!(m.get(50, 30), 255, "interior");
    assert_eq!(m.get(5, 5), 0, "far outside");
    // Across the left edge (between columns 29 and 30) coverage rises monotonically.
    let ramp: Vec<u8> = (24..36).map(|x| m.get(x, 30)).collect();
    assert!(ramp.windows(2).all(|p| p[0] <= p[1]), "{ramp:?}");
    assert!(m.get(29, 30) > 64 && m.get(29, 30) < THRESHOLD, "{ramp:?}");
    assert!(
        m.get(30, 30) >= THRESHOLD && m.get(30, 30) < 200,
        "{ramp:?}"
    );
}

#[test]
fn fill_holes_fills_a_ring_but_not_a_bay_open_to_the_border() {
    let mut m = Mask::new(50, 30);
    // A ring: 20x20 square with a 10x10 hole.
    m.fill_rect(2, 2, 20, 20, 255);
    m.fill_rect(7, 7, 10, 10, 0);
    // A "C" whose opening reaches the right border.
    m.fill_rect(30, 2, 20, 20, 255);
    m.fill_rect(35, 7, 15, 10, 0);
    fill_holes(&mut m);
    assert!(m.is_marked(10, 10), "the ring's hole is filled");
    assert!(!m.is_marked(40, 10), "the bay open to the border stays");
}

// ---------- undo ----------

#[test]
fn every_selection_operation_is_one_undo_step() {
    let img = panel_on_gradient(160, 100, (30, 20, 110, 60));
    let mut ed = MaskEditor::new(160, 100);
    let region = wand_region(&img, (60, 30), &WandOptions::default(), None).unwrap();
    let mut states = vec![ed.mask().clone()];
    ed.apply_wand(&region, Combine::Add);
    states.push(ed.mask().clone());
    ed.grow(6);
    states.push(ed.mask().clone());
    ed.fill_shape(
        "Polygon",
        &[(120.0, 70.0), (150.0, 72.0), (140.0, 95.0), (118.0, 90.0)],
        Combine::Add,
    );
    states.push(ed.mask().clone());
    ed.shrink(2);
    states.push(ed.mask().clone());
    ed.feather(3.0);
    states.push(ed.mask().clone());
    ed.fill_shape(
        "Lasso",
        &[(30.0, 20.0), (60.0, 20.0), (30.0, 45.0)],
        Combine::Subtract,
    );
    states.push(ed.mask().clone());
    for w in states.windows(2) {
        assert_ne!(w[0], w[1], "each operation changed the mask");
    }
    for expected in states.iter().rev().skip(1) {
        ed.undo();
        assert_eq!(ed.mask(), expected);
    }
    assert!(!ed.history().can_undo());
    for expected in states.iter().skip(1) {
        ed.redo();
        assert_eq!(ed.mask(), expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn wand_region_equals_a_breadth_first_search((w, h, bits) in arb_bits(), sx in 0u32..28, sy in 0u32..24, eight in any::<bool>()) {
        let (sx, sy) = (sx % w, sy % h);
        let img = RgbaImage::from_fn(w, h, |x, y| {
            if bits[(y * w + x) as usize] { Rgba([230, 40, 40, 255]) } else { Rgba([20, 120, 220, 255]) }
        });
        let connectivity = if eight { Connectivity::Eight } else { Connectivity::Four };
        let opts = WandOptions { tolerance: 5.0, connectivity };
        let region = wand_region(&img, (sx, sy), &opts, None).unwrap();
        let idx = |x: u32, y: u32| (y * w + x) as usize;
        let colour = bits[idx(sx, sy)];
        let mut reached = vec![false; bits.len()];
        reached[idx(sx, sy)] = true;
        let mut queue = VecDeque::from([(sx as i64, sy as i64)]);
        while let Some((x, y)) = queue.pop_front() {
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    if (dx == 0 && dy == 0) || (!eight && dx != 0 && dy != 0) {
                        continue;
                    }
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let i = idx(nx as u32, ny as u32);
                    if bits[i] == colour && !reached[i] {
                        reached[i] = true;
                        queue.push_back((nx, ny));
                    }
                }
            }
        }
        for y in 0..h {
            for x in 0..w {
                prop_assert_eq!(region.contains(x, y), reached[idx(x, y)], "pixel {},{}", x, y);
            }
        }
        prop_assert_eq!(region.pixel_count(), reached.iter().filter(|&&r| r).count());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// The anti-aliased edge after grow comes from exact Euclidean distances: each unmarked
    /// pixel's new coverage is the ramp `r + 0.5 - d` of its brute-force distance `d` to the
    /// nearest marked pixel (kept on the disk's side of the threshold).
    #[test]
    fn grow_edge_coverage_follows_the_exact_distance((w, h, bits) in arb_bits(), r in 1u32..7) {
        let mut m = mask_from(w, h, &bits);
        grow(&mut m, r);
        let marked: Vec<(i64, i64)> = (0..h as i64)
            .flat_map(|y| (0..w as i64).map(move |x| (x, y)))
            .filter(|&(x, y)| bits[(y * w as i64 + x) as usize])
            .collect();
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                let d2 = marked.iter().map(|&(mx, my)| (mx - x).pow(2) + (my - y).pow(2)).min();
                let got = m.get(x as u32, y as u32);
                let expected = match d2 {
                    None => 0,
                    Some(0) => 255,
                    Some(d2) => {
                        let aa = ((r as f32 + 0.5 - (d2 as f32).sqrt()).clamp(0.0, 1.0) * 255.0).round() as u8;
                        if d2 <= (r * r) as i64 { aa.max(THRESHOLD) } else { aa.min(THRESHOLD - 1) }
                    }
                };
                prop_assert_eq!(got, expected, "pixel {},{} d2 {:?}", x, y, d2);
            }
        }
    }
}
