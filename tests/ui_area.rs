//! The edit area in the editor: the frame over the photo follows the mask, can be moved and
//! resized, and Submit sends exactly its crop through the core's job queue (the same pipeline as
//! `touchup edit`), the result pasted back onto the mask.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::Pos2;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use support::{KEY, Mode, StandIn};
use touchup::runware::{ApiKey, Client, ClientConfig};
use touchup::ui::{App, AppOptions};

const W: u32 = 3000;
const H: u32 = 2000;

fn app(standin: &StandIn, dir: &std::path::Path, (w, h): (u32, u32)) -> Harness<'static, App> {
    let photo = dir.join("street.png");
    image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([(40 + x % 150) as u8, (60 + y % 120) as u8, 90, 255])
    })
    .save(&photo)
    .unwrap();
    let config = ClientConfig {
        endpoint: standin.url.clone(),
        retry_base_delay: Duration::from_millis(10),
        retry_jitter: Duration::from_millis(10),
        ..ClientConfig::default()
    };
    let client = Arc::new(Client::new(config, ApiKey::new(KEY).unwrap()).unwrap());
    let options = AppOptions {
        image: Some(photo),
        client: Some(client),
        data_root: Some(dir.join("history")),
        ..AppOptions::default()
    };
    let results = dir.join("results");
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 900.0))
        .build_eframe(move |cc| {
            let mut app = App::new(cc, options);
            app.settings.output_root = Some(results);
            app
        });
    h.run_steps(3);
    step_until(&mut h, "the photo", |a| {
        a.document.current().is_some_and(|d| d.name == "street.png")
    });
    h
}

fn step_until(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}: status {:?}",
            h.state().status.message.as_ref().map(|m| m.text.clone())
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
}

fn mask_rect(h: &mut Harness<'static, App>, x: i64, y: i64, w: i64, hh: i64) {
    h.state_mut()
        .document
        .current_mut()
        .unwrap()
        .editor
        .apply("Rectangle", None, |m| m.fill_rect(x, y, w, hh, 255));
    // A mask change outside a gesture bumps the generation the way the editor's commands do.
    h.state_mut().document.generation += 1;
    h.run_steps(3);
}

fn area(h: &Harness<'static, App>) -> touchup::edit::EditArea {
    let app = h.state();
    app.document
        .edit_area(&app.settings.area)
        .expect("a photo")
        .expect("an area")
        .area
}

/// The frame's label, as the canvas shows it (and screen readers read it).
fn frame_label(h: &Harness<'static, App>) -> String {
    h.get_by(|n| n.label().is_some_and(|l| l.starts_with("Edit area: Sends")))
        .accesskit_node()
        .label()
        .unwrap_or_default()
}

fn screen(h: &Harness<'static, App>, x: f32, y: f32) -> Pos2 {
    let app = h.state();
    app.canvas
        .view
        .image_to_screen(app.canvas.rect(), Pos2::new(x, y))
}

/// Drags from `a` to `b` (screen points) in a few frames.
fn drag(h: &mut Harness<'static, App>, a: Pos2, b: Pos2) {
    h.drag_at(a);
    h.step();
    for i in 1..=4 {
        h.hover_at(a + (b - a) * (i as f32 / 4.0));
        h.step();
    }
    h.drop_at(b);
    h.run_steps(2);
}

#[test]
fn the_frame_follows_the_mask_moves_resizes_and_submit_sends_its_crop() {
    let standin = StandIn::start();
    standin.set_mode(Mode::Paint {
        brighten: 0,
        paint: Some([220, 20, 30]),
    });
    let dir = tempfile::tempdir().unwrap();
    let mut h = app(&standin, dir.path(), (W, H));
    h.state_mut().command(touchup::ui::Command::ZoomFit);
    h.run_steps(2);

    // No mask: no frame.
    assert!(
        h.query_by(|n| n.label().is_some_and(|l| l.starts_with("Edit area: Sends")))
            .is_none()
    );
    mask_rect(&mut h, 1200, 800, 300, 100);
    let first = area(&h);
    assert!(
        first.x <= 1200 && first.x + first.width >= 1500,
        "{first:?}"
    );
    assert_eq!(first.scale(), 1.0);
    let label = frame_label(&h);
    assert!(
        label.contains(&format!(
            "Sends {}x{} around the mask, 100 %",
            first.width, first.height
        )),
        "{label}"
    );

    // It follows the mask.
    mask_rect(&mut h, 2200, 1500, 200, 80);
    let grown = area(&h);
    assert!(
        grown.x + grown.width >= 2400 && grown.x <= 1200,
        "{grown:?}"
    );

    // Dragging its label moves it (by photo pixels: screen points / zoom).
    let zoom = h.state().canvas.view.zoom;
    let tab = h
        .get_by(|n| n.label().is_some_and(|l| l.starts_with("Edit area: Sends")))
        .rect()
        .center();
    drag(&mut h, tab, tab + egui::vec2(-40.0, -30.0));
    let moved = area(&h);
    assert!(h.state().document.current().unwrap().frame.is_some());
    let dx = grown.x as f32 - moved.x as f32;
    assert!(
        (dx - 40.0 / zoom).abs() <= 2.0 || moved.x == 0,
        "{grown:?} -> {moved:?}"
    );
    assert_eq!((moved.width, moved.height), (grown.width, grown.height));
    assert!(frame_label(&h).contains("placed by hand"));

    // Its corner resizes it.
    let corner = screen(
        &h,
        (moved.x + moved.width) as f32,
        (moved.y + moved.height) as f32,
    );
    drag(&mut h, corner, corner + egui::vec2(-60.0, -20.0));
    let resized = area(&h);
    assert_eq!((resized.x, resized.y), (moved.x, moved.y));
    assert!(resized.width < moved.width, "{moved:?} -> {resized:?}");

    // A mask change no longer moves it.
    mask_rect(&mut h, 100, 100, 50, 50);
    assert_eq!(area(&h), resized);

    // Submit sends exactly the frame's crop, and the painted result lands on the mask.
    h.get_by_label("Prompt").click();
    h.run_steps(1);
    h.get_by_label("Prompt").type_text("Repaint the sign");
    h.run_steps(2);
    h.get_by_label("Submit").click();
    h.run_steps(1);
    step_until(&mut h, "the result", |a| {
        !a.edit.form.busy && !a.results.entries.is_empty()
    });
    let sent = standin.with(|s| s.seed_sizes.clone());
    assert_eq!(sent, vec![(resized.sent_width, resized.sent_height)]);
    let app = h.state();
    let shown = &app.results.entries[0].shown;
    assert_eq!(shown.dimensions(), (W, H));
    // Inside the frame and the mask: painted; outside the frame: the photo.
    let inside = (resized.x + 10, resized.y + 10);
    let original = &app.document.current().unwrap().image;
    if app
        .document
        .current()
        .unwrap()
        .editor
        .mask()
        .get(inside.0, inside.1)
        == 255
    {
        assert_eq!(shown.get_pixel(inside.0, inside.1).0, [220, 20, 30, 255]);
    }
    assert_eq!(shown.get_pixel(120, 120), original.get_pixel(120, 120));
    assert_eq!(shown.get_pixel(1300, 850).0, [220, 20, 30, 255]);
    // The Jobs list shows the job the queue ran.
    assert!(matches!(
        app.edit.jobs.list()[0].state,
        touchup::ui::edit_panel::jobs::JobState::Done(1)
    ));

    // "Follow the mask" lets it follow again.
    h.get_by_label("Follow the mask").click();
    h.run_steps(2);
    assert!(h.state().document.current().unwrap().frame.is_none());
}

#[test]
fn parts_far_apart_are_offered_one_job_each() {
    let standin = StandIn::start();
    standin.set_mode(Mode::Paint {
        brighten: 0,
        paint: Some([10, 200, 10]),
    });
    let dir = tempfile::tempdir().unwrap();
    // Two small signs in opposite corners of a 5000 px photo: one area holding both goes out
    // at 41 %.
    let mut h = app(&standin, dir.path(), (5000, 3000));
    mask_rect(&mut h, 60, 60, 200, 80);
    mask_rect(&mut h, 4700, 2850, 200, 80);
    let plan = {
        let app = h.state();
        app.document.edit_area(&app.settings.area).unwrap().unwrap()
    };
    assert!(plan.split_advised, "{plan:?}");
    h.get_by_label("Prompt").click();
    h.run_steps(1);
    h.get_by_label("Prompt").type_text("Repaint the signs");
    h.run_steps(2);
    h.get_by_label("Submit").click();
    h.run_steps(3);
    assert!(h.state().dialogs.asking_split, "asked before sending");
    assert_eq!(standin.with(|s| s.bodies.len()), 0);
    h.get_by_label("One job per group (2 jobs)").click();
    h.run_steps(2);
    step_until(&mut h, "both jobs", |a| {
        a.edit.jobs.list().len() == 2 && a.edit.jobs.active() == 0
    });
    let sent = standin.with(|s| s.seed_sizes.clone());
    assert_eq!(sent.len(), 2);
    for (w, hh) in sent {
        assert!(
            w <= 1000 && hh <= 1000,
            "each group at full resolution: {w}x{hh}"
        );
    }
}
