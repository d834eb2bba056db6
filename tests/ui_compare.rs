//! The compare widget driven through egui_kittest: views by click and by shortcut, the swipe
//! divider drags, zoom holds across views, tiles select, keep/discard come back as actions,
//! and switching never uploads a texture.

use egui::{Color32, ColorImage, Key, Modifiers, TextureHandle, TextureOptions, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use touchup::compare::OutsideFigures;
use touchup::ui::results::compare::{
    CompareAction, CompareInputs, CompareMode, CompareView, ResultTextures,
};

const IMAGE: Vec2 = Vec2::new(64.0, 48.0);

struct State {
    compare: CompareView,
    textures: Option<Vec<TextureHandle>>,
    figures: Vec<OutsideFigures>,
    kept: Vec<bool>,
    discarded: Vec<bool>,
    actions: Vec<CompareAction>,
    uploads_after_first_frame: Option<usize>,
}

fn figures(changed: u64) -> OutsideFigures {
    OutsideFigures {
        outside_pixels: 1000,
        changed_pixels: changed,
        changed_fraction: changed as f64 / 1000.0,
        mean_difference: 1.0,
        max_difference: if changed > 0 { 90 } else { 0 },
        threshold: 16,
        feather_px: 4,
        resampled: None,
    }
}

fn texture(ctx: &egui::Context, name: &str, colour: Color32) -> TextureHandle {
    let img = ColorImage::new([64, 48], vec![colour; 64 * 48]);
    ctx.load_texture(name, img, TextureOptions::NEAREST)
}

fn harness(results: usize) -> Harness<'static, State> {
    let state = State {
        compare: CompareView::new(),
        textures: None,
        figures: (0..results).map(|i| figures(i as u64 * 10)).collect(),
        kept: vec![false; results],
        discarded: vec![false; results],
        actions: Vec::new(),
        uploads_after_first_frame: None,
    };
    let mut h = Harness::builder()
        .with_size(Vec2::new(1000.0, 700.0))
        .build_ui_state(
            move |ui, s: &mut State| {
                let ctx = ui.ctx().clone();
                let textures = s.textures.get_or_insert_with(|| {
                    let mut t = vec![texture(&ctx, "original", Color32::GRAY)];
                    for i in 0..results {
                        t.push(texture(&ctx, &format!("result-{i}"), Color32::RED));
                        t.push(texture(&ctx, &format!("heat-{i}"), Color32::YELLOW));
                    }
                    t
                });
                let inputs: Vec<ResultTextures<'_>> = (0..results)
                    .map(|i| ResultTextures {
                        image: &textures[1 + 2 * i],
                        heatmap: Some(&textures[2 + 2 * i]),
                        figures: Some(&s.figures[i]),
                        kept: s.kept[i],
                        discarded: s.discarded[i],
                        lettering: &[],
                    })
                    .collect();
                let actions = s.compare.show(
                    ui,
                    &CompareInputs {
                        original: &textures[0],
                        image_size: IMAGE,
                        results: &inputs,
                    },
                );
                for a in &actions {
                    match *a {
                        CompareAction::SetKept { index, kept } => s.kept[index] = kept,
                        CompareAction::SetDiscarded { index, discarded } => {
                            s.discarded[index] = discarded
                        }
                        CompareAction::Select(_) => {}
                    }
                }
                s.actions.extend(actions);
                let allocated = ctx.tex_manager().read().num_allocated();
                s.uploads_after_first_frame.get_or_insert(allocated);
                assert_eq!(
                    Some(allocated),
                    s.uploads_after_first_frame,
                    "the compare view must not allocate textures"
                );
            },
            state,
        );
    h.run_steps(2);
    h
}

#[test]
fn every_view_is_reachable_by_click_and_by_shortcut() {
    let mut h = harness(4);
    for mode in [
        CompareMode::Swipe,
        CompareMode::Flip,
        CompareMode::Grid,
        CompareMode::SideBySide,
    ] {
        h.get_by_label(mode.label()).click();
        h.run_steps(2);
        assert_eq!(h.state().compare.mode, mode, "clicking {}", mode.label());
    }
    for mode in [
        CompareMode::Grid,
        CompareMode::Swipe,
        CompareMode::SideBySide,
        CompareMode::Flip,
    ] {
        h.key_press(mode.shortcut());
        h.run_steps(2);
        assert_eq!(
            h.state().compare.mode,
            mode,
            "shortcut for {}",
            mode.label()
        );
    }
    // Grid shows the original and all four results as tiles.
    h.key_press(CompareMode::Grid.shortcut());
    h.run_steps(2);
    assert_eq!(h.state().compare.pane_rects().len(), 5);
    h.get_by_label("Result 3 tile");
    h.check_accessibility();
}

#[test]
fn swipe_divider_drags() {
    let mut h = harness(2);
    h.get_by_label("Swipe").click();
    h.run_steps(2);
    let before = h.state().compare.swipe;
    let pane = h.state().compare.pane_rects()[0];
    let start = egui::pos2(pane.left() + before * pane.width(), pane.center().y);
    h.drag_at(start);
    h.run_steps(1);
    for i in 1..=5 {
        h.hover_at(start + egui::vec2(20.0 * i as f32, 0.0));
        h.run_steps(1);
    }
    h.drop_at(start + egui::vec2(100.0, 0.0));
    h.run_steps(2);
    let after = h.state().compare.swipe;
    let expected = before + 100.0 / pane.width();
    assert!(
        (after - expected).abs() < 0.02,
        "divider at {after}, expected about {expected}"
    );
    h.get_by_label("Swipe divider");
}

#[test]
fn zoom_in_one_view_holds_in_another() {
    let mut h = harness(2);
    let pane = h.state().compare.pane_rects()[1];
    let before = h.state().compare.view;
    h.hover_at(pane.center());
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 120.0),
        modifiers: Modifiers::NONE,
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
    });
    h.run_steps(10);
    let zoomed = h.state().compare.view;
    assert!(
        zoomed.zoom > before.zoom * 1.2,
        "{} -> {}",
        before.zoom,
        zoomed.zoom
    );
    // Pan by dragging the original pane.
    let left = h.state().compare.pane_rects()[0];
    h.drag_at(left.center());
    h.run_steps(1);
    h.hover_at(left.center() + egui::vec2(30.0, 10.0));
    h.run_steps(1);
    h.drop_at(left.center() + egui::vec2(30.0, 10.0));
    h.run_steps(2);
    let panned = h.state().compare.view;
    assert!((panned.offset - zoomed.offset - egui::vec2(30.0, 10.0)).length() < 1.0);
    for mode in [CompareMode::Grid, CompareMode::Swipe, CompareMode::Flip] {
        h.key_press(mode.shortcut());
        h.run_steps(3);
        assert_eq!(
            h.state().compare.view,
            panned,
            "{} keeps zoom and pan",
            mode.label()
        );
    }
}

#[test]
fn grid_tiles_select_and_keep_discard_come_back_as_actions() {
    let mut h = harness(3);
    h.get_by_label("Grid").click();
    h.run_steps(2);
    h.get_by_label("Result 3 tile").click();
    h.run_steps(2);
    assert_eq!(h.state().compare.selected, 2);
    assert!(h.state().actions.contains(&CompareAction::Select(2)));
    h.get_by_label("Keep result 2").click();
    h.run_steps(2);
    assert!(h.state().kept[1]);
    h.get_by_label("Discard result 1").click();
    h.run_steps(2);
    assert!(h.state().discarded[0]);
    h.get_by_label("Restore result 1");
    // Keyboard: next result, keep it.
    h.key_press(Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(h.state().compare.selected, 0);
    h.key_press(Key::K);
    h.run_steps(2);
    assert!(h.state().kept[0]);
    h.check_accessibility();
}

#[test]
fn flip_and_heatmap_toggle() {
    let mut h = harness(1);
    h.get_by_label("Flip").click();
    h.run_steps(2);
    h.get_by_label("Show original").click();
    h.run_steps(2);
    assert!(h.state().compare.show_original);
    h.get_by_label("Heatmap").click();
    h.run_steps(2);
    assert!(h.state().compare.show_heatmap);
    h.key_press(Key::M);
    h.run_steps(2);
    assert!(!h.state().compare.show_heatmap);
}

/// The image's screen rectangle in the first pane, as the shared view places it.
fn image_in_first_pane(h: &Harness<'static, State>) -> (egui::Rect, egui::Rect) {
    let pane = h.state().compare.pane_rects()[0];
    (pane, h.state().compare.view.image_rect(pane, IMAGE))
}

#[test]
fn a_new_layout_fits_the_picture_until_the_view_is_zoomed() {
    let mut h = harness(4);
    // Side by side -> Swipe: the picture spans the divider, so the result shows right of it.
    h.key_press(CompareMode::Swipe.shortcut());
    h.run_steps(3);
    let (pane, image) = image_in_first_pane(&h);
    let divider = pane.left() + h.state().compare.swipe * pane.width();
    assert!(
        image.left() < divider && image.right() > divider,
        "the swipe divider at {divider} crosses the picture {image:?}"
    );
    // Grid: each tile shows the whole picture, centred, not shifted or cropped.
    h.key_press(CompareMode::Grid.shortcut());
    h.run_steps(3);
    let (tile, image) = image_in_first_pane(&h);
    assert!(
        tile.expand(0.5).contains_rect(image),
        "{image:?} inside {tile:?}"
    );
    assert!((image.center() - tile.center()).length() < 1.0);
    // Zoomed by the designer: the zoom holds when the layout changes.
    h.hover_at(tile.center());
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 120.0),
        modifiers: Modifiers::NONE,
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
    });
    h.run_steps(5);
    let zoomed = h.state().compare.view;
    h.key_press(CompareMode::Flip.shortcut());
    h.run_steps(3);
    assert_eq!(h.state().compare.view, zoomed);
}

#[test]
fn grid_tile_buttons_never_overlap_and_stay_in_their_tile() {
    let mut h = harness(8);
    h.key_press(CompareMode::Grid.shortcut());
    h.run_steps(3);
    let tiles = h.state().compare.pane_rects().to_vec();
    for (i, &tile) in tiles.iter().enumerate().skip(1) {
        let keep = h.get_by_label(&format!("Keep result {i}")).rect();
        let discard = h.get_by_label(&format!("Discard result {i}")).rect();
        assert!(
            keep.intersect(discard).area() <= 0.0 || !keep.intersects(discard),
            "Keep {keep:?} and Discard {discard:?} of result {i} overlap"
        );
        assert!(
            tile.contains_rect(keep) && tile.contains_rect(discard),
            "inside tile {i}"
        );
    }
}

#[test]
fn with_many_results_the_toolbar_keeps_one_line() {
    let h = harness(4);
    let first = h.get_by_label("Side by side").rect();
    let discard = h.get_by_label("Discard").rect();
    assert!(
        (first.center().y - discard.center().y).abs() < 2.0,
        "Discard {discard:?} is on the first line {first:?}"
    );
}

#[test]
fn the_heatmap_on_a_clean_result_says_nothing_changed() {
    // Result 1 changed nothing outside the mask (figures(0)).
    let mut h = harness(2);
    h.key_press(egui::Key::M);
    h.run_steps(3);
    assert!(h.state().compare.show_heatmap);
    h.get_by_label("Heatmap: nothing changed outside the mask");
    // Result 2 leaked: no such note.
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(3);
    assert!(
        h.query_by_label("Heatmap: nothing changed outside the mask")
            .is_none()
    );
}

#[test]
fn with_outside_pixels_kept_the_figures_name_the_model_output_and_are_not_red() {
    use touchup::ui::results::compare::{figures_caption, outside_changed};
    let f = figures(548);
    // Keep outside pixels on: the saved result is untouched outside; the figure is the raw
    // output's, said so, and nothing is wrong.
    let kept = figures_caption(&f, true);
    assert!(kept.starts_with("untouched outside"), "{kept}");
    assert!(kept.contains("model output changed 54.8 %"), "{kept}");
    assert!(!outside_changed(&f, true));
    // Off: the result shown is the raw output, and its change outside is the fault to flag.
    assert_eq!(figures_caption(&f, false), "54.8 % changed outside");
    assert!(outside_changed(&f, false));
    let mut resampled = figures(0);
    resampled.resampled = Some(touchup::compare::Resampled {
        from: (32, 24),
        to: (64, 48),
        stretched: false,
    });
    let said = figures_caption(&resampled, true);
    assert!(said.contains("model output resampled"), "{said}");
    assert!(!outside_changed(&resampled, true) && !outside_changed(&resampled, false));
}

#[test]
fn one_goes_to_100_percent_at_the_pointer_and_the_wheel_stops_there() {
    let mut h = harness(2);
    let ppp = h.ctx.pixels_per_point();
    let pane = h.state().compare.pane_rects()[1];
    let pointer = pane.min + Vec2::new(pane.width() * 0.3, pane.height() * 0.4);
    h.hover_at(pointer);
    h.run_steps(2);
    let fitted = h.state().compare.view.percent(ppp);
    assert!(
        fitted > 100.0,
        "the small test picture is shown enlarged: {fitted}"
    );
    // The readout says the zoom the view has.
    h.get_by_label(&format!("Zoom {}", h.state().compare.view.readout(ppp)));
    // Wheel towards 100 % in big steps (a fast wheel): it stops at exactly 100 %.
    let mut seen = Vec::new();
    for _ in 0..12 {
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Line,
            delta: Vec2::new(0.0, -3.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
            modifiers: Modifiers::NONE,
        });
        h.run_steps(4);
        seen.push(h.state().compare.view.readout(ppp));
    }
    assert!(seen.iter().any(|s| s == "100 %"), "{seen:?}");
    // `1` goes straight to 100 % with the point under the pointer where it was.
    h.key_press(Key::F);
    h.run_steps(2);
    let view = h.state().compare.view;
    let under = view.screen_to_image(pane, pointer);
    h.key_press(Key::Num1);
    h.run_steps(2);
    let view = h.state().compare.view;
    assert_eq!(view.readout(ppp), "100 %");
    assert!((view.image_to_screen(pane, under) - pointer).length() < 0.5);
    h.get_by_label("Zoom 100 %");
}
