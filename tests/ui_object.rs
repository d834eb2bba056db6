//! The Object tool in the editor, through egui_kittest and the real `App`: O encodes the photo
//! in the background (a spinner in the tools panel; the rest of the editor keeps working), the
//! object under the pointer is outlined, a click selects the sign drawn by the test (one undo
//! step), Shift+click steps to another candidate in the same step, Alt+click removes it.

use std::time::{Duration, Instant};

use egui::{Key, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use touchup::ui::{App, AppOptions, ObjectScan, Tool};

#[path = "support/street_sign.rs"]
mod street_sign;

use street_sign::{PANEL, inside, photo};

fn harness(mut options: AppOptions) -> Harness<'static, App> {
    if options.data_root.is_none() {
        options.data_root = Some(tempfile::tempdir().unwrap().keep());
    }
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1200.0, 800.0))
        .build_eframe(move |cc| App::new(cc, options));
    h.run_steps(3);
    h
}

/// Steps until `done` holds; the encoder runs once in a debug build on a loaded machine, so
/// the timeout is generous.
fn step_until(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "timed out waiting for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
}

fn marked(app: &App) -> usize {
    app.document
        .current()
        .unwrap()
        .editor
        .mask()
        .count_at_least(128)
}

fn undo_steps(app: &App) -> usize {
    app.document
        .current()
        .unwrap()
        .editor
        .history()
        .stats()
        .undo_steps
}

fn screen(app: &App, x: f32, y: f32) -> Pos2 {
    app.canvas
        .view
        .image_to_screen(app.canvas.rect(), Pos2::new(x, y))
}

fn click(h: &mut Harness<'static, App>, at: Pos2, modifiers: Modifiers) {
    h.hover_at(at);
    h.event(egui::Event::ModifiersChanged(modifiers));
    h.run_steps(1);
    h.event(egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers,
    });
    h.run_steps(1);
    h.event(egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers,
    });
    h.run_steps(1);
    h.event(egui::Event::ModifiersChanged(Modifiers::NONE));
    h.run_steps(1);
}

fn idle(app: &App) -> bool {
    app.document
        .current()
        .is_some_and(|d| d.object.decoding == 0)
}

/// The share of the drawn panel that is marked, and the share of the marked pixels that lie
/// on the panel.
fn coverage(app: &App) -> (f64, f64) {
    let mask = app.document.current().unwrap().editor.mask();
    let (mut both, mut on_mask, mut on_panel) = (0u64, 0u64, 0u64);
    for y in 0..mask.height() {
        for x in 0..mask.width() {
            let (m, p) = (mask.is_marked(x, y), inside(PANEL, x, y));
            both += u64::from(m && p);
            on_mask += u64::from(m);
            on_panel += u64::from(p);
        }
    }
    (
        both as f64 / on_panel.max(1) as f64,
        both as f64 / on_mask.max(1) as f64,
    )
}

#[test]
fn the_object_tool_outlines_selects_cycles_and_removes_the_sign() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("street.png");
    photo().save(&path).unwrap();
    let mut h = harness(AppOptions {
        image: Some(path),
        ..Default::default()
    });
    step_until(&mut h, "the photo", |a| {
        a.document.current().is_some_and(|d| d.name == "street.png")
    });

    h.key_press(Key::O);
    h.run_steps(1);
    assert_eq!(h.state().canvas.tool, Tool::Object);
    // While the photo is encoded: the spinner says so and the editor keeps working.
    let encoding = |a: &App| {
        a.document
            .current()
            .is_some_and(|d| matches!(d.object.scan, ObjectScan::Encoding))
    };
    assert!(encoding(h.state()), "the encoder runs in the background");
    assert!(
        h.query_by_label("Looking at the photo…").is_some(),
        "the tools panel says so"
    );
    let shown = h.state().settings.show_mask;
    h.key_press(Key::H);
    h.run_steps(1);
    assert_ne!(
        h.state().settings.show_mask,
        shown,
        "H still works meanwhile"
    );
    h.key_press(Key::H);
    h.run_steps(1);
    let started = Instant::now();
    step_until(&mut h, "the encoding", |a| {
        a.document
            .current()
            .is_some_and(|d| matches!(d.object.scan, ObjectScan::Ready(_)))
    });
    eprintln!("encoded in {:?} (debug build)", started.elapsed());

    // Hovering the panel outlines the object there.
    let on_panel = screen(h.state(), 200.5, 110.5);
    h.hover_at(on_panel);
    h.run_steps(1);
    step_until(&mut h, "the hover outline", |a| {
        a.document
            .current()
            .and_then(|d| d.object.hover.as_ref())
            .is_some_and(|(_, lines)| !lines.is_empty())
    });
    assert_eq!(marked(h.state()), 0, "hovering marks nothing");

    // A click selects the sign: one undo step.
    let steps = undo_steps(h.state());
    click(&mut h, on_panel, Modifiers::NONE);
    step_until(&mut h, "the selection", |a| marked(a) > 0 && idle(a));
    let (recall, precision) = coverage(h.state());
    assert!(
        recall > 0.9 && precision > 0.9,
        "recall {recall:.3}, precision {precision:.3}"
    );
    assert_eq!(undo_steps(h.state()), steps + 1);
    let whole = marked(h.state());

    // Shift+click shows another candidate, still as one step.
    let chosen = |a: &App| {
        a.document
            .current()
            .and_then(|d| d.object.pending.as_ref())
            .map(|p| p.chosen)
    };
    let first = chosen(h.state()).expect("a pending selection");
    click(&mut h, on_panel, Modifiers::SHIFT);
    h.run_steps(2);
    let second = chosen(h.state()).expect("still pending");
    assert_ne!(first, second, "Shift+click steps to another candidate");
    assert_eq!(undo_steps(h.state()), steps + 1, "it replaced the step");
    // Round the candidates back to the first.
    for _ in 0..4 {
        if chosen(h.state()) == Some(first) {
            break;
        }
        click(&mut h, on_panel, Modifiers::SHIFT);
        h.run_steps(2);
    }
    assert_eq!(chosen(h.state()), Some(first));
    assert_eq!(marked(h.state()), whole);

    // Undo removes the object; redo brings it back.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert_eq!(marked(h.state()), 0, "undo removes the object");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_steps(2);
    assert_eq!(marked(h.state()), whole, "redo brings it back");

    // Alt+click on the sign removes it (a new selection: the redo closed the pending one).
    click(&mut h, on_panel, Modifiers::ALT);
    step_until(&mut h, "the removal", |a| idle(a) && marked(a) < whole / 20);
    assert_eq!(undo_steps(h.state()), steps + 2);
    // Enter closes it; it stays removed.
    h.key_press(Key::Enter);
    h.run_steps(2);
    assert!(
        h.state()
            .document
            .current()
            .is_some_and(|d| d.object.pending.is_none())
    );
    assert!(marked(h.state()) < whole / 20);

    // A box dragged around the sign selects it again.
    let (a, b) = (
        screen(h.state(), 170.0, 80.0),
        screen(h.state(), 470.0, 260.0),
    );
    h.hover_at(a);
    h.run_steps(1);
    h.event(egui::Event::PointerButton {
        pos: a,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    h.run_steps(1);
    for k in 1..=6 {
        h.hover_at(a + (b - a) * (k as f32 / 6.0));
        h.run_steps(1);
    }
    h.event(egui::Event::PointerButton {
        pos: b,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.run_steps(1);
    step_until(&mut h, "the box selection", |a| {
        idle(a) && marked(a) > whole * 9 / 10
    });
    let (recall, precision) = coverage(h.state());
    assert!(
        recall > 0.9 && precision > 0.9,
        "box: recall {recall:.3}, precision {precision:.3}"
    );
    assert_eq!(undo_steps(h.state()), steps + 3);

    // A box around sign and post selects both; Alt+click on the post inside that pending
    // selection refines it with a background point: the post goes, in the same undo step.
    h.key_press(Key::Enter);
    h.run_steps(2);
    let post = |a: &App| {
        a.document
            .current()
            .unwrap()
            .editor
            .mask()
            .is_marked(320, 400)
    };
    let (a, b) = (
        screen(h.state(), 170.0, 80.0),
        screen(h.state(), 470.0, 479.0),
    );
    drag(&mut h, a, b);
    step_until(&mut h, "sign and post", |a| idle(a) && post(a));
    assert_eq!(undo_steps(h.state()), steps + 4);
    let on_post = screen(h.state(), 320.5, 400.5);
    click(&mut h, on_post, Modifiers::ALT);
    step_until(&mut h, "the post left out", |a| idle(a) && !post(a));
    assert_eq!(
        undo_steps(h.state()),
        steps + 4,
        "the refinement replaced the step"
    );
    assert!(coverage(h.state()).0 > 0.9, "the sign stays");
}

fn drag(h: &mut Harness<'static, App>, a: Pos2, b: Pos2) {
    h.hover_at(a);
    h.run_steps(1);
    h.event(egui::Event::PointerButton {
        pos: a,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    h.run_steps(1);
    for k in 1..=6 {
        h.hover_at(a + (b - a) * (k as f32 / 6.0));
        h.run_steps(1);
    }
    h.event(egui::Event::PointerButton {
        pos: b,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.run_steps(1);
}
