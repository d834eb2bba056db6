//! The Text tool and the lettering check in the editor, through egui_kittest and the real
//! `App`: T finds the lines of a sign drawn by the test on a real photo, a click masks one
//! line (undoable), Alt+click unmasks it, "Mask all text" marks every line; a local edit whose
//! prompt quotes a string shows each result's lettering line.

use std::time::{Duration, Instant};

use egui::{Key, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use image::{Rgba, RgbaImage};
use touchup::fonts::{Typeface, render_line};
use touchup::ui::{App, AppOptions, Tool};

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

/// Steps until `done` holds; the text models load in the first search (seconds in a debug
/// build on a loaded machine), so the timeout is generous.
fn step_until(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "timed out waiting for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
}

/// Dark letters on a cream panel, drawn on the photo; returns the panel's rectangle.
fn sign(image: &mut RgbaImage, text: &str, px: f32, at: (u32, u32)) -> (u32, u32, u32, u32) {
    let bmp = render_line(Typeface::SansBold, text, px).expect("ink");
    let pad = (px * 0.4) as u32;
    let (x0, y0) = at;
    let (x1, y1) = (x0 + bmp.width + 2 * pad, y0 + bmp.height + 2 * pad);
    for y in y0..y1.min(image.height()) {
        for x in x0..x1.min(image.width()) {
            let mut p = [245.0f32, 238.0, 222.0];
            if x >= x0 + pad
                && y >= y0 + pad
                && x - x0 - pad < bmp.width
                && y - y0 - pad < bmp.height
            {
                let a = bmp.get(x - x0 - pad, y - y0 - pad) as f32 / 255.0;
                for (k, ink) in [25.0f32, 25.0, 35.0].into_iter().enumerate() {
                    p[k] = p[k] * (1.0 - a) + ink * a;
                }
            }
            image.put_pixel(x, y, Rgba([p[0] as u8, p[1] as u8, p[2] as u8, 255]));
        }
    }
    (x0, y0, x1, y1)
}

fn shopfront(dir: &std::path::Path) -> (std::path::PathBuf, [(u32, u32, u32, u32); 2]) {
    let photo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text/coffee.jpg");
    let mut image = touchup::imageio::open(&photo).expect("the photo is in the repository");
    let a = sign(&mut image, "OPEN 7AM-3PM", 40.0, (40, 40));
    let b = sign(&mut image, "Fresh Bagels", 32.0, (60, 230));
    let path = dir.join("shopfront.png");
    image.save(&path).unwrap();
    (path, [a, b])
}

fn marked(app: &App) -> usize {
    app.document
        .current()
        .unwrap()
        .editor
        .mask()
        .count_at_least(128)
}

fn is_marked(app: &App, x: u32, y: u32) -> bool {
    app.document
        .current()
        .unwrap()
        .editor
        .mask()
        .is_marked(x, y)
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

fn found_lines(app: &App) -> Vec<touchup::text::TextLine> {
    app.document
        .current()
        .map(|d| d.text.lines().to_vec())
        .unwrap_or_default()
}

#[test]
fn the_text_tool_finds_the_lines_and_a_click_masks_one() {
    let dir = tempfile::tempdir().unwrap();
    let (path, [open, fresh]) = shopfront(dir.path());
    let mut h = harness(AppOptions {
        image: Some(path),
        ..Default::default()
    });
    step_until(&mut h, "the photo", |a| {
        a.document
            .current()
            .is_some_and(|d| d.name == "shopfront.png")
    });
    assert_eq!(marked(h.state()), 0);

    h.key_press(Key::T);
    h.run_steps(2);
    assert_eq!(h.state().canvas.tool, Tool::Text);
    step_until(&mut h, "the text lines", |a| !found_lines(a).is_empty());
    let lines = found_lines(h.state());
    let reads = |want: &str| {
        lines
            .iter()
            .position(|l| touchup::text::normalise(&l.text) == touchup::text::normalise(want))
    };
    let i_open = reads("OPEN 7AM-3PM").unwrap_or_else(|| panic!("read the sign: {lines:?}"));
    assert!(reads("Fresh Bagels").is_some(), "{lines:?}");
    assert!(
        h.query_by_label_contains("text lines found").is_some(),
        "the tools panel says what was found"
    );
    // And, per line, what the offline re-lettering measured of it.
    let style = h
        .query_all_by(|n| {
            n.value()
                .is_some_and(|v| v.starts_with("\u{201c}OPEN 7AM-3PM\u{201d}: "))
        })
        .filter_map(|n| n.value())
        .max_by_key(String::len)
        .expect("the sign's line is listed with its style");
    assert!(style.contains(" px caps"), "{style}");
    assert!(!style.contains("not measured"), "{style}");

    // Hovering a line shows what was read there.
    let centre = lines[i_open].area.centre();
    let at = screen(h.state(), centre[0], centre[1]);
    h.hover_at(at);
    h.run_steps(3);
    let shown: Vec<String> = h
        .query_all_by_label_contains("OPEN 7AM-3PM")
        .filter_map(|n| n.accesskit_node().label())
        .collect();
    assert!(
        shown.iter().any(|l| !l.starts_with('\u{201c}')),
        "the reading shows on hover: {shown:?}"
    );

    // A click masks that line only: its letters, not the other sign.
    click(&mut h, at, Modifiers::NONE);
    let one = marked(h.state());
    assert!(one > 0, "the line was masked");
    let (cx, cy) = ((open.0 + open.2) / 2, (open.1 + open.3) / 2);
    assert!(is_marked(h.state(), cx, cy));
    let (fx, fy) = ((fresh.0 + fresh.2) / 2, (fresh.1 + fresh.3) / 2);
    assert!(!is_marked(h.state(), fx, fy), "the other line is untouched");
    let panel = ((open.2 - open.0) * (open.3 - open.1)) as usize;
    assert!(
        one <= panel * 2,
        "{one} pixels marked for a {panel} px panel"
    );

    // Undoable like the brush.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert_eq!(marked(h.state()), 0, "undo removes the line");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_steps(2);
    assert_eq!(marked(h.state()), one, "redo brings it back");

    // Alt+click unmasks it.
    click(&mut h, at, Modifiers::ALT);
    assert_eq!(marked(h.state()), 0, "Alt+click unmasks the line");

    // "Mask all text" marks every line.
    h.get_by_label("Mask all text").click();
    h.run_steps(3);
    assert!(is_marked(h.state(), cx, cy));
    assert!(is_marked(h.state(), fx, fy));
}

#[test]
fn a_quoted_prompt_shows_each_results_lettering() {
    let dir = tempfile::tempdir().unwrap();
    let (path, [open, _]) = shopfront(dir.path());
    let mut h = harness(AppOptions {
        image: Some(path),
        data_root: Some(dir.path().join("data")),
        ..Default::default()
    });
    step_until(&mut h, "the photo", |a| {
        a.document
            .current()
            .is_some_and(|d| d.name == "shopfront.png")
    });
    {
        let app = h.state_mut();
        app.settings.backend = Some(touchup::ui::Backend::Local);
        app.settings.output_root = Some(dir.path().join("results"));
        app.edit.form.request.prompt = "Change the sign to read \"SALE 50%\"".into();
        let (x, y) = (open.0 as i64, open.1 as i64);
        let (w, h) = ((open.2 - open.0) as i64, (open.3 - open.1) as i64);
        app.document
            .edit_mask(|ed| ed.apply("Rectangle", None, |m| m.fill_rect(x, y, w, h, 255)));
    }
    h.run_steps(2);
    h.get_by_label("Submit").click();
    step_until(&mut h, "a result with its lettering", |a| {
        a.results.entries.first().is_some_and(|e| {
            !matches!(
                e.lettering,
                touchup::ui::edit_panel::submit::Lettering::Reading
            )
        })
    });
    let entry = &h.state().results.entries[0];
    let touchup::ui::edit_panel::submit::Lettering::Read(check) = &entry.lettering else {
        panic!("the lettering was read: {:?}", entry.lettering);
    };
    assert_eq!(check.total, 1);
    assert_eq!(check.strings[0].expected, "SALE 50%");
    assert!(
        h.query_by_label_contains("Lettering ").is_some(),
        "the results list shows the lettering line"
    );
}
