//! The editor driven the way a designer uses it, through egui_kittest and the real `App`.

use std::time::{Duration, Instant};

use egui::{Key, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use touchup::mask::{Polarity, export_data_uri};
use touchup::ui::{App, AppOptions, StatusKind, Tool};

fn harness(mut options: AppOptions) -> Harness<'static, App> {
    // Never the user's own history: each test gets a fresh folder.
    if options.data_root.is_none() {
        options.data_root = Some(tempfile::tempdir().unwrap().keep());
    }
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1200.0, 800.0))
        .build_eframe(move |cc| App::new(cc, options));
    h.run_steps(3);
    h
}

/// Steps until `done` holds (background work finishing), failing after a generous timeout.
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

fn write_png(dir: &std::path::Path, name: &str, w: u32, h: u32) -> std::path::PathBuf {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, 255])
    });
    let path = dir.join(name);
    img.save(&path).unwrap();
    path
}

/// The screen position of an image point.
fn screen(app: &App, x: f32, y: f32) -> Pos2 {
    app.canvas
        .view
        .image_to_screen(app.canvas.rect(), Pos2::new(x, y))
}

fn marked(app: &App) -> usize {
    app.document
        .current()
        .unwrap()
        .editor
        .mask()
        .count_at_least(128)
}

#[test]
fn starts_on_the_demo_storefront() {
    let h = harness(AppOptions::default());
    let doc = h.state().document.current().expect("a document");
    assert_eq!(
        (doc.image.width(), doc.image.height()),
        (touchup::demo::WIDTH, touchup::demo::HEIGHT)
    );
    assert_eq!(marked(h.state()), 0);
    h.get_by_label("File");
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "Brush size");
}

#[test]
fn opens_an_image_then_paints_undoes_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_png(dir.path(), "shopfront.png", 640, 400);
    let mut h = harness(AppOptions {
        image: Some(path),
        ..AppOptions::default()
    });
    step_until(&mut h, "the image to open", |a| {
        a.document
            .current()
            .is_some_and(|d| d.name == "shopfront.png")
    });
    assert_eq!(h.state().document.current().unwrap().image.width(), 640);

    // Drag across the canvas: the stroke paints continuously under the pointer.
    drag_stroke(&mut h, (100.0, 200.0), (500.0, 200.0));
    {
        let app = h.state();
        let mask = app.document.current().unwrap().editor.mask();
        for x in (110..490).step_by(10) {
            assert!(mask.is_marked(x, 200), "column {x} painted");
        }
        assert!(!mask.is_marked(300, 20), "far away stays clear");
        assert_eq!(
            app.document
                .current()
                .as_ref()
                .unwrap()
                .editor
                .history()
                .stats()
                .undo_steps,
            1,
            "one stroke, one step"
        );
    }

    // Ctrl+Shift+C copies exactly the exported data URI.
    // One raw key event, so the frame that handles it is the one whose output we read.
    h.event(egui::Event::Key {
        key: Key::C,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: Modifiers::COMMAND | Modifiers::SHIFT,
    });
    h.step();
    let expected = export_data_uri(
        h.state().document.current().unwrap().editor.mask(),
        Polarity::WhiteEdits,
    )
    .unwrap();
    let copied: Vec<String> = h
        .output()
        .platform_output
        .commands
        .iter()
        .filter_map(|c| match c {
            egui::OutputCommand::CopyText(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(copied, vec![expected]);

    // Ctrl+Z clears the stroke; Ctrl+Shift+Z and Ctrl+Y bring it back.
    let painted = marked(h.state());
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert_eq!(marked(h.state()), 0);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_steps(2);
    assert_eq!(marked(h.state()), painted);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(1);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.run_steps(1);
    assert_eq!(marked(h.state()), painted);
}

#[test]
fn shortcuts_change_the_brush_and_tool() {
    let mut h = harness(AppOptions::default());
    let size = h.state().settings.brush_size;
    h.key_press(Key::CloseBracket);
    h.step();
    assert!(h.state().settings.brush_size > size);
    h.key_press(Key::OpenBracket);
    h.key_press(Key::OpenBracket);
    h.step();
    assert!(h.state().settings.brush_size < size);
    h.key_press(Key::E);
    h.step();
    assert_eq!(h.state().canvas.tool, Tool::Eraser);
    h.key_press(Key::X);
    h.step();
    assert_eq!(h.state().canvas.tool, Tool::Brush);
    let shown = h.state().settings.show_mask;
    h.key_press(Key::H);
    h.step();
    assert_eq!(h.state().settings.show_mask, !shown);
}

#[test]
fn painting_uploads_only_the_changed_rectangle() {
    let mut h = harness(AppOptions::default());
    h.state_mut().settings.brush_size = 20.0;
    h.run_steps(2);
    let p = h.state().canvas.rect().center();
    h.drag_at(p);
    h.step();
    let first = h.state().document.overlay_frame_bytes();
    let zoom = h.state().canvas.view.zoom;
    // Move by 8 screen points: the segment's box is the brush box plus the move.
    h.hover_at(p + egui::vec2(8.0, 0.0));
    h.step();
    let moved = h.state().document.overlay_frame_bytes();
    h.drop_at(p + egui::vec2(8.0, 0.0));
    h.step();
    let brush_box = (20.0f64 + 2.0).powi(2) * 4.0;
    assert!(first > 0, "the dab was uploaded");
    assert!(
        (first as f64) <= 2.0 * brush_box,
        "dab frame sent {first} bytes, brush box is {brush_box}"
    );
    let step_px = 8.0 / zoom as f64;
    let segment_box = (20.0 + 2.0 + step_px) * (20.0 + 2.0) * 4.0;
    assert!(
        (moved as f64) <= 2.0 * segment_box,
        "segment frame sent {moved} bytes"
    );
    // Far less than the whole overlay (1536x1024x4 bytes).
    assert!(h.state().document.overlay_total_bytes() < 1536 * 1024 * 4 / 50);
}

#[test]
fn a_bad_file_is_explained_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("menu.jpg");
    std::fs::write(&bad, b"this is not a jpeg").unwrap();
    let mut h = harness(AppOptions::default());
    h.state_mut().command(touchup::ui::Command::FillMask);
    h.run_steps(2);
    let before = marked(h.state());
    assert!(before > 0);
    h.state_mut().act(touchup::ui::Action::OpenPath(bad));
    step_until(&mut h, "the error", |a| {
        a.status
            .message
            .as_ref()
            .is_some_and(|s| s.kind == StatusKind::Error)
    });
    let status = h.state().status.message.clone().unwrap();
    assert!(
        status.text.contains("menu.jpg") && status.text.contains("not a picture"),
        "{}",
        status.text
    );
    assert_eq!(
        h.state().document.current().unwrap().name,
        "demo-storefront.png"
    );
    assert_eq!(marked(h.state()), before, "the mask is untouched");
}

/// A JPEG of `w`x`h` cut to `keep` of its bytes (its scan data ends early).
fn truncated_jpeg(dir: &std::path::Path, name: &str, keep: f32) -> std::path::PathBuf {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&img)
        .unwrap();
    bytes.truncate((bytes.len() as f32 * keep) as usize);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_truncated_photo_opens_only_after_the_warning_is_agreed_to() {
    let dir = tempfile::tempdir().unwrap();
    let cut = truncated_jpeg(dir.path(), "shopfront.jpg", 0.4);
    let mut h = harness(AppOptions::default());
    h.state_mut().command(touchup::ui::Command::FillMask);
    h.run_steps(2);
    let before = marked(h.state());

    // Asked first; nothing changes until the answer.
    h.state_mut()
        .act(touchup::ui::Action::OpenPath(cut.clone()));
    step_until(&mut h, "the warning", |a| {
        a.document.damaged_pending.is_some()
    });
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("shopfront.jpg is truncated: about")
            .is_some(),
        "the warning names the file"
    );
    assert!(
        h.query_by_label_contains("% of it is missing").is_some(),
        "the warning says what is missing"
    );
    assert_eq!(
        h.state().document.current().unwrap().name,
        "demo-storefront.png"
    );
    h.get_by_label("Don't open").click();
    h.run_steps(3);
    assert!(h.state().document.damaged_pending.is_none());
    assert_eq!(
        h.state().document.current().unwrap().name,
        "demo-storefront.png"
    );
    assert_eq!(marked(h.state()), before, "the mask is untouched");
    assert!(h.query_by_label_contains("is truncated").is_none());

    // Agreed to: opened as far as it goes, and the form says so.
    let mut h = harness(AppOptions::default());
    h.state_mut().act(touchup::ui::Action::OpenPath(cut));
    step_until(&mut h, "the warning", |a| {
        a.document.damaged_pending.is_some()
    });
    h.run_steps(2);
    h.get_by_label("Open anyway").click();
    step_until(&mut h, "the damaged photo", |a| {
        a.document
            .current()
            .is_some_and(|d| d.name == "shopfront.jpg")
    });
    let doc = h.state().document.current().unwrap();
    assert_eq!(doc.image.dimensions(), (320, 240));
    assert!(doc.damage.as_deref().unwrap_or("").contains("missing"));
    let status = h.state().status.message.clone().unwrap();
    assert!(status.text.contains("Opened anyway"), "{}", status.text);
    assert!(h.query_by_label_contains("This photo is damaged").is_some());
}

#[test]
fn an_8192_pixel_photo_opens_paints_and_undoes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mural.png");
    {
        let img = image::RgbImage::from_fn(8192, 8192, |x, y| {
            image::Rgb([(x / 32) as u8, (y / 32) as u8, 90])
        });
        let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let encoder = image::codecs::png::PngEncoder::new_with_quality(
            file,
            image::codecs::png::CompressionType::Fast,
            image::codecs::png::FilterType::NoFilter,
        );
        img.write_with_encoder(encoder).unwrap();
    }
    let mut h = harness(AppOptions {
        image: Some(path),
        ..AppOptions::default()
    });
    step_until(&mut h, "the 8192 px photo to open", |a| {
        a.document.current().is_some_and(|d| d.name == "mural.png")
    });
    assert_eq!(
        h.state().document.current().unwrap().image.dimensions(),
        (8192, 8192)
    );
    h.state_mut().settings.brush_size = 200.0;
    drag_stroke(&mut h, (1000.0, 4000.0), (7000.0, 4200.0));
    {
        let mask = h.state().document.current().unwrap().editor.mask();
        for x in (1200..6800).step_by(400) {
            let y = 4000 + (x - 1000) * 200 / 6000;
            assert!(mask.is_marked(x, y), "({x}, {y}) painted");
        }
        assert!(!mask.is_marked(4000, 1000), "far away stays clear");
    }
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert_eq!(marked(h.state()), 0, "undo took the stroke away");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_steps(2);
    assert!(marked(h.state()) > 200 * 5000, "redo brought it back");
}

#[test]
fn ctrl_enter_submits_from_the_prompt() {
    let mut h = harness(AppOptions::default());
    // An empty prompt: the shortcut goes through the same checks as the button.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_steps(2);
    assert!(
        h.state()
            .edit
            .form
            .message
            .as_deref()
            .is_some_and(|m| m.contains("problem")),
        "{:?}",
        h.state().edit.form.message
    );
    // Typed into the prompt, Ctrl+Enter sends instead of adding a line.
    h.state_mut()
        .document
        .current_mut()
        .unwrap()
        .editor
        .apply("Rectangle", None, |m| m.fill_rect(308, 96, 920, 170, 255));
    h.get_by_label("Prompt").click();
    h.run_steps(1);
    h.get_by_label("Prompt").type_text("Remove the sign");
    h.run_steps(1);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_steps(3);
    assert_eq!(h.state().edit.form.request.prompt, "Remove the sign");
    assert!(
        h.state().edit.form.message.is_none(),
        "{:?}",
        h.state().edit.form.message
    );
    assert!(
        h.state().edit.is_running() || !h.state().results.entries.is_empty(),
        "the edit was submitted"
    );
}

#[test]
fn menu_items_run_the_same_commands() {
    let mut h = harness(AppOptions::default());
    h.get_by_label("Edit").click();
    h.run_steps(2);
    h.get_by_label("Fill all").click();
    h.run_steps(2);
    let total = (touchup::demo::WIDTH * touchup::demo::HEIGHT) as usize;
    assert_eq!(marked(h.state()), total);
    // The panel's Invert button runs the same command as Edit > Invert mask.
    h.get_by_label("Invert").click();
    h.run_steps(2);
    assert_eq!(marked(h.state()), 0);
    h.get_by_label("Edit").click();
    h.run_steps(2);
    h.get_by_label("Invert mask").click();
    h.run_steps(2);
    assert_eq!(marked(h.state()), total);
}

#[test]
fn zoom_shortcuts_fit_and_actual_size() {
    let mut h = harness(AppOptions::default());
    let fitted = h.state().canvas.view.zoom;
    assert!(
        fitted < 1.0,
        "the demo is bigger than the canvas, so it is fitted"
    );
    h.key_press(Key::Num1);
    h.step();
    assert!(
        (h.state().canvas.view.zoom - 1.0).abs() < 1e-3,
        "100 % at 1 pixel per point"
    );
    h.key_press(Key::F);
    h.run_steps(2);
    assert!((h.state().canvas.view.zoom - fitted).abs() < 1e-3);
    // Wheel zoom keeps the image point under the pointer in place.
    let c = h.state().canvas.rect().center();
    let before = h
        .state()
        .canvas
        .view
        .screen_to_image(h.state().canvas.rect(), c);
    h.hover_at(c);
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 120.0),
        modifiers: Modifiers::NONE,
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
    });
    h.run_steps(10);
    let app = h.state();
    assert!(app.canvas.view.zoom > fitted);
    let after = app.canvas.view.screen_to_image(app.canvas.rect(), c);
    assert!((after - before).length() < 1.0, "{before:?} -> {after:?}");
}

#[test]
fn opening_another_photo_asks_before_discarding_an_unsaved_mask() {
    let dir = tempfile::tempdir().unwrap();
    let other = write_png(dir.path(), "other.png", 300, 200);
    let mut h = harness(AppOptions::default());
    h.state_mut().command(touchup::ui::Command::FillMask);
    h.run_steps(2);
    assert!(h.state_mut().document.has_unsaved_mask());

    // Keep: nothing changes.
    h.state_mut()
        .act(touchup::ui::Action::OpenPath(other.clone()));
    step_until(&mut h, "the question", |a| {
        a.document.replace_pending.is_some()
    });
    h.get_by_label("Keep the current photo").click();
    h.run_steps(3);
    assert_eq!(
        h.state().document.current().unwrap().name,
        "demo-storefront.png"
    );
    assert!(marked(h.state()) > 0);

    // Discard: the new photo opens with an empty mask.
    h.state_mut()
        .act(touchup::ui::Action::OpenPath(other.clone()));
    step_until(&mut h, "the question", |a| {
        a.document.replace_pending.is_some()
    });
    h.get_by_label("Discard mask and open").click();
    h.run_steps(3);
    assert_eq!(h.state().document.current().unwrap().name, "other.png");
    assert_eq!(marked(h.state()), 0);

    // After copying the mask it counts as saved: no question.
    h.state_mut().command(touchup::ui::Command::FillMask);
    h.run_steps(2);
    h.state_mut().command(touchup::ui::Command::CopyMaskDataUri);
    h.run_steps(2);
    assert!(!h.state_mut().document.has_unsaved_mask());
}

/// Clicks at an image point (converted with the current view).
fn click_image(h: &mut Harness<'static, App>, x: f32, y: f32) {
    let p = screen(h.state(), x, y);
    click_at(h, p);
}

fn click_at(h: &mut Harness<'static, App>, p: Pos2) {
    h.hover_at(p);
    h.step();
    h.event(egui::Event::PointerButton {
        pos: p,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    h.step();
    h.event(egui::Event::PointerButton {
        pos: p,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.step();
}

#[test]
fn polygon_by_clicks_closes_with_enter_and_undoes() {
    let mut h = harness(AppOptions::default());
    h.key_press(Key::P);
    h.step();
    assert_eq!(
        h.state().canvas.tool,
        Tool::Select(touchup::ui::SelectionTool::Polygon)
    );
    // A sign seen in perspective: four corners.
    let corners = [
        (400.0, 100.0),
        (1100.0, 130.0),
        (1080.0, 260.0),
        (420.0, 240.0),
    ];
    for &(x, y) in &corners {
        click_image(&mut h, x, y);
    }
    assert_eq!(
        marked(h.state()),
        0,
        "nothing is applied before the polygon closes"
    );
    h.key_press(Key::Enter);
    h.run_steps(3);
    let pts: Vec<(f32, f32)> = corners.to_vec();
    {
        let mask = h.state().document.current().unwrap().editor.mask();
        assert!(mask.is_marked(750, 180), "inside the sign");
        assert!(
            !mask.is_marked(300, 180) && !mask.is_marked(750, 400),
            "outside stays clear"
        );
        // Clicks land on screen pixels, so corners are within a pixel of the intended ones:
        // compare away from the edges.
        for y in (110..250).step_by(7) {
            for x in (410..1090).step_by(13) {
                let inside = touchup::mask::shapes::contains(&pts, x as f32 + 0.5, y as f32 + 0.5);
                let near_edge = [(0usize, 1usize), (1, 2), (2, 3), (3, 0)]
                    .iter()
                    .any(|&(a, b)| {
                        let (ax, ay) = pts[a];
                        let (bx, by) = pts[b];
                        let (dx, dy) = (bx - ax, by - ay);
                        let t = (((x as f32 - ax) * dx + (y as f32 - ay) * dy)
                            / (dx * dx + dy * dy))
                            .clamp(0.0, 1.0);
                        ((ax + t * dx - x as f32).powi(2) + (ay + t * dy - y as f32).powi(2)).sqrt()
                            < 4.0
                    });
                if !near_edge {
                    assert_eq!(mask.is_marked(x, y), inside, "{x},{y}");
                }
            }
        }
    }
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert_eq!(marked(h.state()), 0, "the polygon is one undo step");
}

#[test]
fn escape_cancels_a_polygon_and_backspace_drops_a_corner() {
    let mut h = harness(AppOptions::default());
    h.key_press(Key::P);
    h.step();
    for &(x, y) in &[(400.0, 500.0), (600.0, 500.0), (600.0, 700.0)] {
        click_image(&mut h, x, y);
    }
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(!h.state().canvas.tool_state.is_active());
    assert_eq!(marked(h.state()), 0);
    // Backspace removes the last corner: a triangle minus one corner plus another.
    for &(x, y) in &[(400.0, 500.0), (600.0, 500.0), (900.0, 900.0)] {
        click_image(&mut h, x, y);
    }
    h.key_press(Key::Backspace);
    h.step();
    click_image(&mut h, 600.0, 700.0);
    h.key_press(Key::Enter);
    h.run_steps(2);
    let mask = h.state().document.current().unwrap().editor.mask();
    assert!(mask.is_marked(560, 560));
    assert!(
        !mask.is_marked(800, 850),
        "the removed corner is not part of the shape"
    );
}

#[test]
fn magic_wand_picks_the_flat_sign_panel_with_one_click() {
    let mut h = harness(AppOptions::default());
    h.key_press(Key::W);
    h.step();
    // Click on the green panel of the demo sign, away from its lettering.
    let (sx, sy, sw, sh) = touchup::demo::SIGN;
    click_image(&mut h, (sx + 30) as f32, (sy + 30) as f32);
    step_until(&mut h, "the wand", |a| marked(a) > 0 && !a.is_busy());
    let mask = h.state().document.current().unwrap().editor.mask();
    let inside = (sx + 20..sx + sw - 20)
        .step_by(40)
        .filter(|&x| mask.is_marked(x, sy + 20))
        .count();
    assert!(
        inside >= ((sw - 40) / 40) as usize - 1,
        "the panel's top band is selected ({inside})"
    );
    assert!(
        !mask.is_marked(sx - 20, sy + sh / 2),
        "the brick wall is not selected"
    );
    assert!(
        !mask.is_marked(sx + 5, sy + 5),
        "the gold frame is not selected"
    );
    assert!(marked(h.state()) < (sw * sh) as usize, "only the panel");
}

#[test]
fn the_key_dialog_never_puts_the_key_in_settings_or_messages() {
    // The keyring is off so a developer's stored key is never overwritten by a test.
    let mut h = harness(AppOptions {
        no_keyring: true,
        ..AppOptions::default()
    });
    h.get_by_label("Settings").click();
    h.run_steps(2);
    h.get_by_label("Runware API key…").click();
    // The menu queues the action; the window opens on the next frame and is laid out on the
    // one after.
    h.run_steps(3);
    h.get_by_label("Key").click();
    h.run_steps(1);
    let secret = "sk-test-DO-NOT-LEAK-5512";
    h.get_by_label("Key").type_text(secret);
    h.run_steps(1);
    h.get_by_label("Save to keyring").click();
    h.run_steps(1);
    step_until(&mut h, "the keyring's answer", |a| {
        !a.is_busy() && a.status.message.is_some()
    });
    let status = h.state().status.message.clone().unwrap();
    assert_eq!(status.kind, StatusKind::Error);
    assert!(status.text.contains("RUNWARE_API_KEY"), "{}", status.text);
    assert!(!status.text.contains(secret), "{}", status.text);
    let settings = serde_json::to_string(&h.state().settings).unwrap();
    assert!(!settings.contains(secret));
}

/// Paints a stroke across the demo photo.
fn paint_stroke(h: &mut Harness<'static, App>) {
    drag_stroke(h, (200.0, 300.0), (600.0, 320.0));
}

/// Drags the pointer between two image points, a frame every quarter of the way.
fn drag_stroke(h: &mut Harness<'static, App>, from: (f32, f32), to: (f32, f32)) {
    let (a, b) = (
        screen(h.state(), from.0, from.1),
        screen(h.state(), to.0, to.1),
    );
    h.drag_at(a);
    h.step();
    for i in 1..=4 {
        h.hover_at(a + (b - a) * (i as f32 / 4.0));
        h.step();
    }
    h.drop_at(b);
    h.run_steps(2);
}

fn harness_in(root: &std::path::Path) -> Harness<'static, App> {
    let mut h = harness(AppOptions {
        data_root: Some(root.to_path_buf()),
        ..AppOptions::default()
    });
    step_until(&mut h, "autosave to start", |a| a.autosave_ready());
    h
}

#[test]
fn work_is_offered_back_after_a_crash_and_restored_whole() {
    let root = tempfile::tempdir().unwrap();
    let mut h = harness_in(root.path());
    assert!(
        !h.state().is_offering_recovery(),
        "a first start offers nothing"
    );
    paint_stroke(&mut h);
    let painted = h.state().document.current().unwrap().editor.mask().clone();
    assert!(painted.count_at_least(128) > 1000);
    h.state_mut().edit.form.request.prompt = "Replace the sign text with \"OPEN LATE\"".into();
    h.state_mut().edit.form.request.settings.number_results = Some(3);
    let ctx = h.ctx.clone();
    assert!(h.state_mut().autosave_now(&ctx));
    assert!(root.path().join("autosave").join("work.json").is_file());
    // A crash: the app goes away without a clean exit.
    drop(h);

    let mut h = harness_in(root.path());
    assert!(h.state().is_offering_recovery());
    h.get_by_label("Recover your work?");
    // Until the user answers, the new session's work does not replace the old one on disk.
    h.state_mut().command(touchup::ui::Command::ClearMask);
    h.run_steps(2);
    assert!(!h.state_mut().autosave_now(&ctx));
    h.get_by_label("Restore").click();
    h.run_steps(3);
    let app = h.state_mut();
    assert!(!app.is_offering_recovery());
    let doc = app.document.current().unwrap();
    assert_eq!(doc.name, "demo-storefront.png");
    assert!(
        doc.editor.mask() == &painted,
        "the mask comes back pixel for pixel"
    );
    assert_eq!(
        app.edit.form.request.prompt,
        "Replace the sign text with \"OPEN LATE\""
    );
    assert_eq!(app.edit.form.request.settings.number_results, Some(3));
    assert!(
        app.document.has_unsaved_mask(),
        "recovered marks count as unsaved"
    );
    assert_eq!(app.status.message.as_ref().unwrap().kind, StatusKind::Info);
}

/// The root viewport's commands in the last frame's output.
fn viewport_commands(h: &Harness<'static, App>) -> Vec<egui::ViewportCommand> {
    h.output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .map(|v| v.commands.clone())
        .unwrap_or_default()
}

/// What a signal (SIGTERM, SIGINT, SIGHUP) does to the app: it saves the work, closes the window
/// without asking about the unsaved mask, and keeps the work; eframe then calls `on_exit`.
fn stop_by_signal(h: &mut Harness<'static, App>) {
    h.state().request_stop();
    h.step();
    assert!(
        viewport_commands(h).contains(&egui::ViewportCommand::Close),
        "a signal closes the window"
    );
    // The close request that follows goes through: no "quit with an unsaved mask?" question.
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.step();
    assert!(!viewport_commands(h).contains(&egui::ViewportCommand::CancelClose));
    assert!(!h.state().dialogs.confirming_quit);
    eframe::App::on_exit(h.state_mut(), None);
}

#[test]
fn a_signal_saves_the_work_and_the_next_start_offers_it_as_saved_not_crashed() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("autosave");
    let mut h = harness_in(root.path());
    paint_stroke(&mut h);
    let painted = h.state().document.current().unwrap().editor.mask().clone();
    assert!(painted.count_at_least(128) > 1000);
    h.state_mut().edit.form.request.prompt = "Replace the sign text with \"OPEN LATE\"".into();
    assert!(h.state_mut().document.has_unsaved_mask());
    // No autosave has run yet: the stop itself saves the marks and the prompt.
    stop_by_signal(&mut h);
    assert!(dir.join("work.json").is_file(), "the work is on disk");
    assert!(
        dir.join("stopped").is_file(),
        "marked as stopped by a signal"
    );
    assert!(!dir.join("running.lock").exists(), "no crash marker");
    drop(h);

    let mut h = harness_in(root.path());
    assert!(h.state().is_offering_recovery());
    h.get_by_label("Restore the work saved on close?");
    h.get_by_label_contains("touchup was closed by the system (a signal) last time");
    assert!(h.query_by_label("Recover your work?").is_none());
    h.get_by_label("Restore").click();
    h.run_steps(3);
    let app = h.state();
    assert!(!app.is_offering_recovery());
    assert!(app.document.current().unwrap().editor.mask() == &painted);
    assert_eq!(
        app.edit.form.request.prompt,
        "Replace the sign text with \"OPEN LATE\""
    );
}

#[test]
fn a_signal_with_nothing_in_the_work_leaves_nothing_to_offer() {
    // Untouched: nothing is saved, nothing offered.
    let root = tempfile::tempdir().unwrap();
    let mut h = harness_in(root.path());
    stop_by_signal(&mut h);
    assert!(!root.path().join("autosave").join("work.json").exists());
    drop(h);
    let h = harness_in(root.path());
    assert!(!h.state().is_offering_recovery());
    drop(h);

    // Painted, autosaved, then cleared: the saved work holds no marks and no prompt.
    let root = tempfile::tempdir().unwrap();
    let mut h = harness_in(root.path());
    paint_stroke(&mut h);
    let ctx = h.ctx.clone();
    assert!(h.state_mut().autosave_now(&ctx));
    h.state_mut().command(touchup::ui::Command::ClearMask);
    h.run_steps(2);
    assert_eq!(marked(h.state()), 0);
    stop_by_signal(&mut h);
    drop(h);
    let h = harness_in(root.path());
    assert!(
        !h.state().is_offering_recovery(),
        "empty work is not offered"
    );
}

#[test]
fn a_clean_exit_or_a_discard_leaves_nothing_to_offer() {
    let root = tempfile::tempdir().unwrap();
    let ctx;
    {
        let mut h = harness_in(root.path());
        ctx = h.ctx.clone();
        paint_stroke(&mut h);
        assert!(h.state_mut().autosave_now(&ctx));
        h.state_mut().end_session();
    }
    let mut h = harness_in(root.path());
    assert!(
        !h.state().is_offering_recovery(),
        "a clean exit offers nothing"
    );

    // Crash, then decline the offer: the work is gone for good, even after another crash.
    paint_stroke(&mut h);
    assert!(h.state_mut().autosave_now(&ctx));
    drop(h);
    let mut h = harness_in(root.path());
    assert!(h.state().is_offering_recovery());
    h.get_by_label("Discard").click();
    h.run_steps(3);
    assert!(!h.state().is_offering_recovery());
    assert_eq!(marked(h.state()), 0, "the open photo stays as it was");
    let ctx = h.ctx.clone();
    assert!(h.state_mut().autosave_now(&ctx), "autosave runs again");
    drop(h);
    let h = harness_in(root.path());
    assert!(!h.state().is_offering_recovery());
}

#[test]
fn damaged_autosave_is_reported_and_the_app_carries_on() {
    let root = tempfile::tempdir().unwrap();
    {
        let mut h = harness_in(root.path());
        paint_stroke(&mut h);
        let ctx = h.ctx.clone();
        assert!(h.state_mut().autosave_now(&ctx));
    }
    let work = root.path().join("autosave").join("work.json");
    let bytes = std::fs::read(&work).unwrap();
    std::fs::write(&work, &bytes[..bytes.len() / 2]).unwrap();

    let mut h = harness_in(root.path());
    assert!(!h.state().is_offering_recovery());
    let status = h.state().status.message.clone().expect("a message");
    assert_eq!(status.kind, StatusKind::Error);
    assert!(status.text.contains("could not be read"), "{}", status.text);
    // The editor still works, and autosaves again.
    paint_stroke(&mut h);
    assert!(marked(h.state()) > 0);
    let ctx = h.ctx.clone();
    assert!(h.state_mut().autosave_now(&ctx));
    let text = std::fs::read_to_string(&work).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
}

/// Asks the window to close, as the window manager's close button does.
fn request_close(h: &mut Harness<'static, App>) {
    if let Some(info) = h.input_mut().viewports.get_mut(&egui::ViewportId::ROOT) {
        info.events.push(egui::ViewportEvent::Close);
    }
    h.step();
    h.run_steps(2);
}

fn sent_close(h: &Harness<'static, App>) -> bool {
    h.output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .is_some_and(|v| v.commands.contains(&egui::ViewportCommand::Close))
}

#[test]
fn closing_with_an_unsaved_mask_asks_first() {
    let mut h = harness(AppOptions::default());
    // Nothing painted: the window just closes.
    request_close(&mut h);
    assert!(!h.state().dialogs.confirming_quit);

    paint_stroke(&mut h);
    request_close(&mut h);
    assert!(h.state().dialogs.confirming_quit);
    h.get_by_label("Keep editing").click();
    h.run_steps(2);
    assert!(!h.state().dialogs.confirming_quit);
    assert!(marked(h.state()) > 0, "cancel keeps the work");

    request_close(&mut h);
    h.get_by_label("Quit without saving").click();
    h.step();
    assert!(sent_close(&h), "the window is told to close");
}

/// The marks the last autosave wrote, from its work.json (none before the first save).
fn autosaved_marks(root: &std::path::Path) -> Option<usize> {
    let dir = root.join("autosave");
    let work: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("work.json")).ok()?).ok()?;
    let mask = image::open(dir.join(work["mask_file"].as_str()?)).ok()?;
    Some(mask.to_luma8().pixels().filter(|p| p.0[0] >= 128).count())
}

#[test]
fn autosave_waits_for_a_pause_in_the_input_and_then_saves_on_its_own() {
    let root = tempfile::tempdir().unwrap();
    let mut h = harness_in(root.path());
    paint_stroke(&mut h);
    let painted = h
        .state()
        .document
        .current()
        .unwrap()
        .editor
        .mask()
        .count_at_least(128);
    // The pointer keeps moving over the canvas for longer than the autosave interval: the
    // due save waits (copying and encoding a large mask would slow the frames that follow).
    let centre = h.state().canvas.rect().center();
    let start = Instant::now();
    let mut i = 0.0;
    while start.elapsed() < Duration::from_millis(2600) {
        i += 1.0;
        h.hover_at(centre + egui::vec2((i * 7.0) % 40.0, 0.0));
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        autosaved_marks(root.path()),
        None,
        "saved while the pointer moved"
    );
    // The pointer rests: the save follows on its own, with the stroke.
    let rested = Instant::now();
    while autosaved_marks(root.path()).is_none() {
        assert!(
            rested.elapsed() < Duration::from_secs(20),
            "no autosave after the input stopped"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(autosaved_marks(root.path()), Some(painted));
}
