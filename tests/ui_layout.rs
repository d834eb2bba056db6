//! What a designer trips over, kept fixed: long messages never push the canvas away, drag
//! tools start where the button went down, the built-in file browser opens where no native
//! dialog can, and empty work is never offered back.

use std::time::{Duration, Instant};

use egui::{Pos2, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use touchup::ui::{Action, App, AppOptions, Command};

fn harness_at(root: &std::path::Path) -> Harness<'static, App> {
    let options = AppOptions {
        data_root: Some(root.to_path_buf()),
        ..AppOptions::default()
    };
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 900.0))
        .build_eframe(move |cc| App::new(cc, options));
    h.run_steps(3);
    h
}

fn step_until(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
}

#[test]
fn long_messages_wrap_and_never_push_the_canvas_away() {
    let root = tempfile::tempdir().unwrap();
    let mut h = harness_at(root.path());
    let canvas = h.state().canvas.rect();
    assert!(canvas.width() > 500.0, "{canvas:?}");
    let long = "could not connect to the Runware service at http://127.0.0.1:9/v1 \
                (connection refused: the server is not answering on that port); retrying in \
                2 s with the same taskUUID 5f0c2f0e-2b7a-4d7e-9d55-0c1f5e8a9b21, attempt 2 of 4"
        .repeat(2);
    h.state_mut().edit.form.progress = Some(long.clone());
    h.state_mut().edit.form.message = Some(long.clone());
    h.state_mut().status.error(long.clone());
    h.run_steps(4);
    let after = h.state().canvas.rect();
    assert!(
        after.width() >= canvas.width() * 0.97,
        "the canvas keeps its width: {canvas:?} -> {after:?}"
    );
    let photo = h.state().canvas.view.zoom;
    assert!(photo > 0.1, "the photo is still shown at {photo}");
    // Dismissing the error leaves the layout as it was.
    h.get_by_label("Dismiss").click();
    h.run_steps(3);
    assert!(h.state().canvas.rect().width() >= canvas.width() * 0.97);
}

#[test]
fn a_fast_rectangle_drag_starts_where_the_button_went_down() {
    let root = tempfile::tempdir().unwrap();
    let mut h = harness_at(root.path());
    h.state_mut().command(Command::ToolRectangle);
    h.run_steps(2);
    let (canvas, view) = (h.state().canvas.rect(), h.state().canvas.view);
    let at = |x: f32, y: f32| view.image_to_screen(canvas, Pos2::new(x, y));
    // Press and a 60 px move arrive in the same frame, as with a fast flick.
    h.event(egui::Event::PointerMoved(at(200.0, 150.0)));
    h.event(egui::Event::PointerButton {
        pos: at(200.0, 150.0),
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.event(egui::Event::PointerMoved(at(260.0, 190.0)));
    h.run_steps(1);
    h.event(egui::Event::PointerMoved(at(400.0, 300.0)));
    h.run_steps(1);
    h.event(egui::Event::PointerButton {
        pos: at(400.0, 300.0),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(3);
    let mask = h.state().document.current().unwrap().editor.mask().clone();
    let (w, hh) = mask.size();
    let (mut x0, mut y0) = (u32::MAX, u32::MAX);
    for y in 0..hh {
        for x in 0..w {
            if mask.is_marked(x, y) {
                x0 = x0.min(x);
                y0 = y0.min(y);
            }
        }
    }
    assert!(
        x0.abs_diff(200) <= 1 && y0.abs_diff(150) <= 1,
        "the rectangle starts at the press (200,150), not at ({x0},{y0})"
    );
}

#[test]
fn the_built_in_file_browser_opens_where_no_native_dialog_can() {
    let root = tempfile::tempdir().unwrap();
    let mut h = harness_at(root.path());
    h.state_mut().files.use_builtin();
    h.state_mut().command(Command::Open);
    h.run_steps(4);
    assert!(h.state().files.is_open());
    assert!(
        !h.state().is_busy(),
        "no spinner waits on a dialog that never comes"
    );
    h.get_by_label("Open image").get_by_label("Cancel").click();
    h.run_steps(3);
    assert!(!h.state().files.is_open());
    // A file chosen there opens like one chosen in a native dialog.
    let path = root.path().join("chosen.png");
    image::RgbaImage::from_pixel(40, 30, image::Rgba([10, 20, 30, 255]))
        .save(&path)
        .unwrap();
    h.state_mut()
        .act(Action::Picked(touchup::ui::DialogKind::OpenImage, path));
    step_until(&mut h, "the chosen photo", |a| {
        a.document.current().is_some_and(|d| d.name == "chosen.png")
    });
}

#[test]
fn work_that_holds_nothing_is_never_offered_back() {
    let root = tempfile::tempdir().unwrap();
    let mut h = harness_at(root.path());
    step_until(&mut h, "autosave to start", |a| a.autosave_ready());
    // Another photo, nothing marked, no prompt: autosaved, then a crash.
    let path = root.path().join("plain.png");
    image::RgbaImage::from_pixel(50, 40, image::Rgba([200, 200, 200, 255]))
        .save(&path)
        .unwrap();
    h.state_mut().act(Action::OpenPath(path));
    step_until(&mut h, "the photo", |a| {
        a.document.current().is_some_and(|d| d.name == "plain.png")
    });
    h.state_mut().edit.form.request.prompt.clear();
    let ctx = h.ctx.clone();
    assert!(h.state_mut().autosave_now(&ctx));
    drop(h);
    let mut h = harness_at(root.path());
    step_until(&mut h, "autosave to start", |a| a.autosave_ready());
    assert!(!h.state().is_offering_recovery());
    assert!(h.query_by_label("Recover your work?").is_none());
}
