//! The mask raster, brush, stroke interpolation, export and undo history, checked pixel by pixel.

use proptest::prelude::*;
use touchup::mask::{
    Brush, BrushMode, DirtyRect, History, Mask, MaskEditor, Polarity, export_data_uri, export_png,
    import_mask, shapes, threshold,
};

fn decode_gray(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let img = image::load_from_memory(png).expect("decodes").into_luma8();
    (img.width(), img.height(), img.into_raw())
}

#[test]
fn dab_of_size_one_marks_exactly_one_pixel() {
    let mut m = Mask::new(9, 9);
    Brush::new(1.0, 1.0, BrushMode::Paint).dab(&mut m, (4.5, 4.5));
    for y in 0..9 {
        for x in 0..9 {
            assert_eq!(m.is_marked(x, y), (x, y) == (4, 4), "pixel {x},{y}");
        }
    }
}

#[test]
fn hard_dab_marks_the_pixels_whose_centres_are_within_the_radius() {
    let mut m = Mask::new(64, 64);
    let brush = Brush::new(21.0, 1.0, BrushMode::Paint);
    brush.dab(&mut m, (32.0, 32.0));
    let r = brush.radius();
    for y in 0..64 {
        for x in 0..64 {
            let d = ((x as f32 + 0.5 - 32.0).powi(2) + (y as f32 + 0.5 - 32.0).powi(2)).sqrt();
            if d < r - 0.6 {
                assert_eq!(m.get(x, y), 255, "inside at {x},{y}");
            }
            if d > r + 0.6 {
                assert_eq!(m.get(x, y), 0, "outside at {x},{y}");
            }
        }
    }
}

#[test]
fn soft_brush_falls_off_towards_the_edge() {
    let mut m = Mask::new(101, 1);
    Brush::new(80.0, 0.0, BrushMode::Paint).dab(&mut m, (50.5, 0.5));
    let row = m.row(0);
    assert_eq!(row[50], 255);
    for x in 51..100 {
        assert!(row[x] <= row[x - 1], "monotone falloff at {x}");
    }
    assert_eq!(row[95], 0);
    assert!(row[70] > 0 && row[70] < 255);
}

#[test]
fn fast_pointer_still_gives_a_continuous_stroke() {
    // Two pointer samples 400 px apart with a 6 px brush: every column between them is marked.
    let mut m = Mask::new(500, 20);
    Brush::new(6.0, 1.0, BrushMode::Paint).segment(&mut m, (50.5, 10.5), (450.5, 10.5));
    for x in 50..=450 {
        assert!(m.is_marked(x, 10), "gap at column {x}");
    }
    assert!(!m.is_marked(20, 10) && !m.is_marked(480, 10));
    assert!(!m.is_marked(200, 2));
}

#[test]
fn eraser_unmarks_and_paint_never_builds_up() {
    let mut m = Mask::new(40, 40);
    let paint = Brush::new(10.0, 0.5, BrushMode::Paint);
    paint.dab(&mut m, (20.0, 20.0));
    let once = m.clone();
    paint.dab(&mut m, (20.0, 20.0));
    assert_eq!(m, once, "repeating a dab does not darken the coverage");
    Brush::new(30.0, 1.0, BrushMode::Erase).dab(&mut m, (20.0, 20.0));
    assert!(m.is_empty());
}

#[test]
fn rect_covers_exactly_its_columns_and_rows() {
    let mut m = Mask::new(30, 20);
    m.fill_rect(3, 4, 10, 5, 255);
    for y in 0..20 {
        for x in 0..30 {
            let inside = (3..13).contains(&x) && (4..9).contains(&y);
            assert_eq!(m.is_marked(x, y), inside, "{x},{y}");
        }
    }
    // Clipped at the border, and entirely outside is a no-op.
    assert_eq!(
        m.fill_rect(25, 15, 100, 100, 255),
        Some(DirtyRect::new(25, 15, 30, 20))
    );
    assert_eq!(m.fill_rect(40, 40, 5, 5, 255), None);
}

#[test]
fn polygon_export_equals_its_pixel_centre_rasterisation() {
    let pts = [(10.3, 5.7), (80.2, 12.1), (70.9, 60.4), (15.1, 48.8)];
    let mut m = Mask::new(100, 70);
    shapes::fill_polygon(&mut m, &pts, shapes::Combine::Add);
    let mut partial = 0;
    for y in 0..70 {
        for x in 0..100 {
            let inside = shapes::contains(&pts, x as f32 + 0.5, y as f32 + 0.5);
            assert_eq!(m.is_marked(x, y), inside, "{x},{y}");
            let v = m.get(x, y);
            if v > 0 && v < 255 {
                partial += 1;
            }
        }
    }
    assert!(
        partial > 50,
        "edges are anti-aliased in the coverage ({partial} partial pixels)"
    );
}

#[test]
fn export_is_a_grayscale_png_of_only_0_and_255_in_either_polarity() {
    let mut m = Mask::new(37, 23);
    Brush::new(15.0, 0.0, BrushMode::Paint).dab(&mut m, (18.0, 11.0));
    for polarity in Polarity::ALL {
        let png = export_png(&m, polarity).unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!(img.color(), image::ColorType::L8, "8-bit grayscale");
        let (w, h, px) = decode_gray(&png);
        assert_eq!((w, h), (37, 23));
        assert!(px.iter().all(|&v| v == 0 || v == 255));
        assert_eq!(px, threshold(&m, polarity));
        let (on, off) = polarity.values();
        for (i, &v) in m.as_raw().iter().enumerate() {
            assert_eq!(px[i], if v >= 128 { on } else { off });
        }
    }
}

#[test]
fn data_uri_decodes_to_the_exact_mask() {
    let mut m = Mask::new(64, 48);
    m.fill_rect(5, 6, 20, 10, 255);
    let uri = export_data_uri(&m, Polarity::WhiteEdits).unwrap();
    let b64 = uri.strip_prefix("data:image/png;base64,").expect("prefix");
    let png = touchup::imageio::parse_data_uri(&format!("data:image/png;base64,{b64}")).unwrap();
    let (_, _, px) = decode_gray(&png);
    assert_eq!(px, threshold(&m, Polarity::WhiteEdits));
}

#[test]
fn import_reads_either_polarity_and_names_both_sizes_on_mismatch() {
    let mut m = Mask::new(20, 10);
    m.fill_rect(2, 2, 5, 5, 255);
    for polarity in Polarity::ALL {
        let png = export_png(&m, polarity).unwrap();
        let back = import_mask(&png, 20, 10, polarity).unwrap();
        assert_eq!(threshold(&back, polarity), threshold(&m, polarity));
    }
    let png = export_png(&m, Polarity::WhiteEdits).unwrap();
    let err = import_mask(&png, 30, 10, Polarity::WhiteEdits)
        .unwrap_err()
        .to_string();
    assert!(err.contains("20x10") && err.contains("30x10"), "{err}");
    let err = import_mask(b"not a png", 20, 10, Polarity::WhiteEdits)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a picture"), "{err}");
}

#[test]
fn undo_and_redo_cover_strokes_and_whole_mask_operations() {
    let mut ed = MaskEditor::new(200, 100);
    let brush = Brush::new(10.0, 1.0, BrushMode::Paint);
    let empty = ed.mask().clone();
    ed.begin_stroke(brush, (10.0, 10.0));
    ed.continue_stroke((100.0, 50.0));
    ed.continue_stroke((150.0, 20.0));
    ed.end_stroke();
    let stroked = ed.mask().clone();
    assert_ne!(stroked, empty);
    ed.invert();
    let inverted = ed.mask().clone();
    ed.line_to(Brush::new(4.0, 1.0, BrushMode::Erase), (190.0, 90.0));
    let lined = ed.mask().clone();
    assert_ne!(lined, inverted);

    assert!(ed.undo().is_some());
    assert_eq!(ed.mask(), &inverted);
    ed.undo();
    assert_eq!(ed.mask(), &stroked);
    ed.undo();
    assert_eq!(ed.mask(), &empty);
    assert!(ed.undo().is_none());
    ed.redo();
    ed.redo();
    ed.redo();
    assert_eq!(ed.mask(), &lined);
    assert!(ed.redo().is_none());
}

#[test]
fn a_new_change_after_undo_drops_the_redo_steps() {
    let mut ed = MaskEditor::new(50, 50);
    ed.fill_all();
    ed.undo();
    assert!(ed.history().can_redo());
    ed.apply("Rectangle", None, |m| m.fill_rect(0, 0, 5, 5, 255));
    assert!(!ed.history().can_redo());
}

#[test]
fn history_keeps_at_least_200_steps_and_respects_its_budget() {
    let mut ed = MaskEditor::new(256, 256);
    let brush = Brush::new(3.0, 1.0, BrushMode::Paint);
    for i in 0..250 {
        let y = (i % 250) as f32 + 3.0;
        ed.begin_stroke(brush, (3.0, y));
        ed.continue_stroke((250.0, y));
        ed.end_stroke();
    }
    assert_eq!(ed.history().stats().undo_steps, 250);

    // A tiny budget drops the oldest steps but always keeps the newest one.
    let mut small = MaskEditor::new(256, 256);
    *small.history_mut() = History::new(1000, 2_000);
    for i in 0..50u32 {
        small.apply("noise", None, |m| {
            for y in 0..256 {
                for x in 0..256 {
                    if (x * 7 + y * 13 + i * 31) % 5 == 0 {
                        m.set(x, y, 255);
                    }
                }
            }
            Some(m.bounds())
        });
    }
    let stats = small.history().stats();
    assert!(stats.undo_steps < 50 && stats.undo_steps >= 1, "{stats:?}");
    assert!(stats.bytes <= 2_000 || stats.undo_steps == 1, "{stats:?}");
}

#[test]
fn an_undo_step_stores_only_the_tiles_it_changed() {
    let mut ed = MaskEditor::new(4096, 4096);
    ed.begin_stroke(Brush::new(20.0, 1.0, BrushMode::Paint), (100.0, 100.0));
    ed.end_stroke();
    let bytes = ed.history().stats().bytes;
    // One dab touches at most four 64x64 tiles; compressed they take well under 4 KiB each.
    assert!(
        bytes < 4 * 4096,
        "a small dab cost {bytes} bytes of history"
    );
}

/// An operation: kind, two points, and a size.
type Op = (u8, f32, f32, f32, f32, f32);

fn arb_mask_and_ops() -> impl Strategy<Value = (u32, u32, Vec<Op>)> {
    (1u32..120, 1u32..120).prop_flat_map(|(w, h)| {
        let op = (
            0u8..6,
            -10f32..130.0,
            -10f32..130.0,
            -10f32..130.0,
            -10f32..130.0,
            1f32..40.0,
        );
        (Just(w), Just(h), proptest::collection::vec(op, 1..12))
    })
}

fn run_op(ed: &mut MaskEditor, op: &Op) {
    let &(kind, x0, y0, x1, y1, size) = op;
    match kind {
        0 => {
            ed.begin_stroke(Brush::new(size, 0.7, BrushMode::Paint), (x0, y0));
            ed.continue_stroke((x1, y1));
            ed.end_stroke();
        }
        1 => {
            ed.begin_stroke(Brush::new(size, 1.0, BrushMode::Erase), (x0, y0));
            ed.continue_stroke((x1, y1));
            ed.end_stroke();
        }
        2 => {
            ed.invert();
        }
        3 => {
            ed.apply("Rectangle", None, |m| {
                m.fill_rect(x0 as i64, y0 as i64, size as i64, size as i64, 255)
            });
        }
        4 => {
            ed.apply("Polygon", None, |m| {
                shapes::fill_polygon(
                    m,
                    &[(x0, y0), (x1, y0), (x1, y1), (x0 + size, y1)],
                    shapes::Combine::Add,
                )
            });
        }
        _ => {
            ed.line_to(Brush::new(size, 0.3, BrushMode::Paint), (x1, y1));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn export_holds_only_0_and_255_at_the_seed_size((w, h, ops) in arb_mask_and_ops(), black in any::<bool>()) {
        let mut ed = MaskEditor::new(w, h);
        for op in &ops {
            run_op(&mut ed, op);
        }
        let polarity = if black { Polarity::BlackEdits } else { Polarity::WhiteEdits };
        let png = export_png(ed.mask(), polarity).unwrap();
        let (pw, ph, px) = decode_gray(&png);
        prop_assert_eq!((pw, ph), (w, h));
        prop_assert!(px.iter().all(|&v| v == 0 || v == 255));
    }

    #[test]
    fn undo_then_redo_is_identity((w, h, ops) in arb_mask_and_ops()) {
        let mut ed = MaskEditor::new(w, h);
        let mut states = vec![ed.mask().clone()];
        for op in &ops {
            run_op(&mut ed, op);
            if ed.mask() != states.last().unwrap() {
                states.push(ed.mask().clone());
            }
        }
        let last = ed.mask().clone();
        // Undo all the way, checking each intermediate state, then redo all the way.
        for expected in states.iter().rev().skip(1) {
            ed.undo();
            prop_assert_eq!(ed.mask(), expected);
        }
        for _ in 1..states.len() {
            ed.redo();
        }
        prop_assert_eq!(ed.mask(), &last);
    }
}
