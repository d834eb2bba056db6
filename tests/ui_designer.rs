//! What a designer trips over (issue 29), driven through egui_kittest and the real `App`: the
//! shortcut list closes with Esc, `1` zooms to 100 % at the pointer in both views, the swipe
//! divider drags, results rows keep their size, "Use as new seed" starts clean, "Mask all text"
//! leaves out what is not text, Submit reports every problem at once, discarding recovered work
//! clears its form, a photo being opened says so, and the tool strip names each tool.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Key, Pos2, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use touchup::ui::edit_panel::submit::Lettering;
use touchup::ui::results::compare::CompareMode;
use touchup::ui::{Action, App, AppOptions, Backend, Command, TextScan};

fn app(options: AppOptions, size: Vec2) -> Harness<'static, App> {
    let mut options = options;
    if options.data_root.is_none() {
        options.data_root = Some(tempfile::tempdir().unwrap().keep());
    }
    let mut h = Harness::builder()
        .with_size(size)
        .build_eframe(move |cc| App::new(cc, options));
    h.run_steps(3);
    h
}

fn editor() -> Harness<'static, App> {
    app(AppOptions::default(), Vec2::new(1400.0, 900.0))
}

fn step_until(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
}

/// The App on the local engine with `n` results of an edit of the demo sign, its results
/// saved under a temporary folder.
fn with_results(n: u32, prompt: &str) -> Harness<'static, App> {
    let out = tempfile::tempdir().unwrap().keep();
    let options = AppOptions {
        data_root: Some(out.join("history")),
        ..AppOptions::default()
    };
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 900.0))
        .build_eframe(move |cc| {
            let mut app = App::new(cc, options);
            app.settings.output_root = Some(out.join("results"));
            app.settings.backend = Some(Backend::Local);
            app
        });
    h.run_steps(3);
    let (sx, sy, sw, sh) = touchup::demo::SIGN;
    h.state_mut()
        .document
        .current_mut()
        .unwrap()
        .editor
        .apply("Rectangle", None, |m| {
            m.fill_rect(
                sx as i64 + 30,
                sy as i64 + 30,
                sw as i64 - 60,
                sh as i64 - 60,
                255,
            )
        });
    h.state_mut().edit.form.request.prompt = prompt.into();
    h.state_mut().edit.form.request.settings.number_results = Some(n);
    h.run_steps(2);
    h.get_by_label("Submit").click();
    h.run_steps(1);
    step_until(&mut h, "the results", |a| {
        !a.edit.form.busy && a.results.entries.len() == n as usize
    });
    h
}

fn ppp(h: &Harness<'static, App>) -> f32 {
    h.ctx.pixels_per_point()
}

#[test]
fn esc_closes_the_shortcut_list() {
    let mut h = editor();
    h.key_press(Key::F1);
    h.run_steps(2);
    assert!(h.state().dialogs.show_shortcuts);
    h.get_by_label("Previous / next result");
    // The arrows are drawn with glyphs the fonts have (egui's own draw as boxes).
    h.get_by_label("← / →");
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(!h.state().dialogs.show_shortcuts, "Esc closes the list");
    assert!(h.query_by_label("Previous / next result").is_none());
}

#[test]
fn one_zooms_the_editor_to_100_percent_at_the_pointer() {
    let mut h = editor();
    let canvas = h.state().canvas.rect();
    // Away from the centre, so "at the pointer" and "at the centre" differ.
    let pointer = canvas.min + Vec2::new(canvas.width() * 0.25, canvas.height() * 0.3);
    h.hover_at(pointer);
    h.run_steps(2);
    let under = h.state().canvas.view.screen_to_image(canvas, pointer);
    assert!(
        (h.state().canvas.view.zoom * ppp(&h) - 1.0).abs() > 0.05,
        "the demo opens fitted, not at 100 %"
    );
    h.key_press(Key::Num1);
    h.run_steps(2);
    let view = h.state().canvas.view;
    assert!(
        (view.zoom * ppp(&h) - 1.0).abs() < 1e-4,
        "zoom {}",
        view.zoom
    );
    let after = view.image_to_screen(canvas, under);
    assert!(
        (after - pointer).length() < 0.5,
        "the photo point under the pointer stays put: {after:?} vs {pointer:?}"
    );
    // The status bar reads the zoom the way the compare view does.
    assert!(h.query_by_label_contains(" · 100 % · mask").is_some());
}

#[test]
fn a_swipe_divider_drags_in_the_app_and_the_photo_stays_put() {
    let mut h = with_results(1, "A sign reading 'NORTH HALL'");
    h.key_press(Key::C);
    h.run_steps(2);
    h.key_press(CompareMode::Swipe.shortcut());
    h.run_steps(3);
    assert_eq!(h.state().results.compare_view.mode, CompareMode::Swipe);
    let pane = h.state().results.compare_view.pane_rects()[0];
    let before = h.state().results.compare_view.swipe;
    let view_before = h.state().results.compare_view.view;
    // Grab the knob (drawn 11 points wide either side) 10 points off the line, as a hand
    // does.
    let start = Pos2::new(
        pane.left() + before * pane.width() + 10.0,
        pane.center().y + 5.0,
    );
    h.drag_at(start);
    h.run_steps(1);
    for i in 1..=6 {
        h.hover_at(start + Vec2::new(-20.0 * i as f32, 0.0));
        h.run_steps(1);
    }
    h.drop_at(start + Vec2::new(-120.0, 0.0));
    h.run_steps(2);
    let after = h.state().results.compare_view.swipe;
    let expected = before - 120.0 / pane.width();
    assert!(
        (after - expected).abs() < 0.03,
        "the divider moved to {after}, expected about {expected}"
    );
    assert_eq!(
        h.state().results.compare_view.view,
        view_before,
        "dragging the divider must not pan the photo"
    );
}

#[test]
fn one_zooms_the_compare_view_to_100_percent_at_the_pointer_with_a_readout() {
    let mut h = with_results(1, "A sign reading 'NORTH HALL'");
    h.key_press(Key::C);
    h.run_steps(3);
    assert!(h.state().results.comparing);
    let panes = h.state().results.compare_view.pane_rects().to_vec();
    let pane = panes[1];
    let pointer = pane.min + Vec2::new(pane.width() * 0.3, pane.height() * 0.6);
    h.hover_at(pointer);
    h.run_steps(2);
    let view = h.state().results.compare_view.view;
    let under = view.screen_to_image(pane, pointer);
    let fitted = touchup::ui::canvas::view::zoom_readout(view.percent(ppp(&h)));
    h.get_by_label(&format!("Zoom {fitted}"));
    h.key_press(Key::Num1);
    h.run_steps(2);
    let view = h.state().results.compare_view.view;
    assert!(
        (view.zoom * ppp(&h) - 1.0).abs() < 1e-4,
        "zoom {}",
        view.zoom
    );
    assert!((view.image_to_screen(pane, under) - pointer).length() < 0.5);
    h.get_by_label("Zoom 100 %");
    // F fits again, as on the mask canvas.
    h.key_press(Key::F);
    h.run_steps(2);
    h.get_by_label(&format!("Zoom {fitted}"));
}

#[test]
fn result_rows_keep_their_size_when_the_lettering_is_read() {
    let mut h = with_results(2, "A sign reading 'NORTH HALL'");
    let seed_buttons = |h: &Harness<'static, App>| -> Vec<egui::Rect> {
        h.get_all_by_label("Use as new seed")
            .map(|n| n.rect())
            .collect()
    };
    h.state_mut().results.entries[0].lettering = Lettering::Reading;
    h.state_mut().results.entries[1].lettering = Lettering::Reading;
    h.run_steps(3);
    let reading = seed_buttons(&h);
    assert_eq!(reading.len(), 2);
    // A long verdict that would wrap onto two lines in the panel.
    h.state_mut().results.entries[0].lettering = Lettering::Failed(
        "the text models could not be loaded from a folder with a very long name indeed, \
         far wider than the panel"
            .into(),
    );
    h.run_steps(3);
    let read = seed_buttons(&h);
    assert_eq!(
        reading, read,
        "Keep and \"Use as new seed\" must not move when the reading ends"
    );
    // The whole message is there for the tooltip and screen readers, though cut on screen.
    assert!(h.query_by_label_contains("far wider than").is_some());
}

#[test]
fn the_four_results_of_a_submission_are_on_screen_together_at_1400x900() {
    let h = with_results(4, "A sign reading 'NORTH HALL'");
    let screen = h.ctx.content_rect();
    let rows: Vec<egui::Rect> = h
        .get_all_by_label("Use as new seed")
        .map(|n| n.rect())
        .collect();
    assert_eq!(rows.len(), 4);
    for (i, r) in rows.iter().enumerate() {
        assert!(
            screen.contains_rect(*r),
            "result {}'s buttons at {r:?} are off the screen {screen:?}: the designer has to \
             scroll to reach them",
            i + 1
        );
    }
    // And the list's thumbnails too.
    for i in 1..=4 {
        let thumb = h.get_by_label(&format!("Result {i}")).rect();
        assert!(
            screen.contains_rect(thumb),
            "result {i}'s thumbnail at {thumb:?}"
        );
    }
}

#[test]
fn use_as_new_seed_starts_a_clean_state() {
    let mut h = with_results(2, "A sign reading 'NORTH HALL'");
    h.key_press(Key::C);
    h.run_steps(2);
    assert!(h.state().results.comparing);
    h.state_mut().act(Action::UseAsSeed(1));
    h.run_steps(3);
    let app = h.state();
    assert!(!app.results.comparing, "the old comparison is closed");
    assert!(
        app.results.entries.is_empty(),
        "the old results no longer stand against the new original"
    );
    let doc = app.document.current().unwrap();
    assert!(doc.name.starts_with("result-"), "{}", doc.name);
    // Compare has nothing stale to show.
    h.key_press(Key::C);
    h.run_steps(2);
    assert!(!h.state().results.comparing);
}

fn line(text: &str, confidence: f32, x: f32, y: f32) -> touchup::text::TextLine {
    touchup::text::TextLine {
        text: text.into(),
        confidence,
        area: touchup::text::TextBox {
            corners: [[x, y], [x + 200.0, y], [x + 200.0, y + 40.0], [x, y + 40.0]],
            angle: 0.0,
            score: 0.9,
        },
    }
}

#[test]
fn mask_all_text_leaves_out_low_confidence_pictograms() {
    let mut h = editor();
    h.state_mut().settings.text_margin = 0.0;
    h.state_mut().document.current_mut().unwrap().text = TextScan::Found(Arc::new(vec![
        line("OPEN 7AM-3PM", 0.94, 100.0, 100.0),
        line("R", 0.39, 600.0, 100.0),
        line("À", 0.05, 100.0, 400.0),
    ]));
    h.state_mut().command(Command::MaskAllText);
    h.run_steps(3);
    let app = h.state();
    let mask = app.document.current().unwrap().editor.mask();
    assert!(mask.get(200, 120) > 0, "the lettering is masked");
    assert_eq!(mask.get(700, 120), 0, "the 'R' pictogram is left out");
    assert_eq!(mask.get(200, 420), 0, "the 'À' pictogram is left out");
    let said = &app.status.message.as_ref().unwrap().text;
    assert!(said.contains("left out 2"), "{said}");
    // Clicking a dimmed box still masks it, on purpose.
    h.state_mut().act(Action::MarkText {
        lines: vec![1],
        combine: touchup::mask::Combine::Add,
    });
    h.run_steps(2);
    assert!(
        h.state()
            .document
            .current()
            .unwrap()
            .editor
            .mask()
            .get(700, 120)
            > 0
    );
}

#[test]
fn submit_with_no_prompt_and_no_mask_reports_both_beside_their_fields() {
    let mut h = editor();
    // A newcomer is told what to do first.
    h.get_by_label(touchup::ui::edit_panel::form::START_HINT);
    h.get_by_label("Submit").click();
    h.run_steps(2);
    let errors = &h.state().edit.form.errors;
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        h.query_by_label(touchup::ui::edit_panel::form::EMPTY_MASK_PROBLEM)
            .is_some()
    );
    assert!(h.query_by_label_contains("2 problems to fix").is_some());
    assert!(h.state().edit.jobs.list().is_empty());
    // The mask problem goes once something is masked.
    h.state_mut()
        .document
        .current_mut()
        .unwrap()
        .editor
        .apply("Rectangle", None, |m| m.fill_rect(10, 10, 50, 50, 255));
    h.run_steps(3);
    assert!(
        h.query_by_label(touchup::ui::edit_panel::form::EMPTY_MASK_PROBLEM)
            .is_none()
    );
    assert!(
        h.query_by_label(touchup::ui::edit_panel::form::START_HINT)
            .is_none()
    );
}

#[test]
fn discarding_recovered_work_clears_its_prompt_and_result_count() {
    let root = tempfile::tempdir().unwrap();
    let options = || AppOptions {
        data_root: Some(root.path().to_path_buf()),
        ..AppOptions::default()
    };
    let mut h = app(options(), Vec2::new(1200.0, 800.0));
    step_until(&mut h, "autosave to start", |a| a.autosave_ready());
    h.state_mut()
        .document
        .current_mut()
        .unwrap()
        .editor
        .apply("Rectangle", None, |m| m.fill_rect(10, 10, 80, 80, 255));
    h.state_mut().edit.form.request.prompt = "Replace the sign text with 'OPEN LATE'".into();
    h.state_mut().edit.form.request.settings.number_results = Some(3);
    let ctx = h.ctx.clone();
    assert!(h.state_mut().autosave_now(&ctx));
    drop(h);

    let mut h = app(options(), Vec2::new(1200.0, 800.0));
    step_until(&mut h, "autosave to start", |a| a.autosave_ready());
    assert!(h.state().is_offering_recovery());
    // The form comes back from the crashed session's stored settings (eframe keeps them).
    h.state_mut().edit.form.request.prompt = "Replace the sign text with 'OPEN LATE'".into();
    h.state_mut().edit.form.request.settings.number_results = Some(3);
    h.get_by_label("Discard").click();
    h.run_steps(3);
    let form = &h.state().edit.form;
    assert!(!h.state().is_offering_recovery());
    assert_eq!(form.request.prompt, "");
    assert_eq!(form.request.settings.number_results, None);
}

#[test]
fn a_photo_being_opened_says_so_on_the_canvas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large-street.png");
    // Large and noisy enough that decoding it takes a while.
    let mut state = 0x2545_f491_u32;
    let img = image::RgbaImage::from_fn(4000, 3000, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgba([a, b, c, 255])
    });
    img.save(&path).unwrap();
    let mut h = Harness::builder()
        .with_size(Vec2::new(1200.0, 800.0))
        .build_eframe(move |cc| {
            App::new(
                cc,
                AppOptions {
                    image: Some(path),
                    data_root: Some(tempfile::tempdir().unwrap().keep()),
                    ..AppOptions::default()
                },
            )
        });
    h.run_steps(1);
    assert!(
        h.state().document.current().is_none(),
        "still decoding after one frame"
    );
    // Said on the canvas, not only in the status bar.
    assert_eq!(
        h.get_all_by_label("Opening large-street.png…").count(),
        2,
        "the canvas and the status bar say what is opening"
    );
    assert!(
        h.query_by_label_contains("Open an image").is_none(),
        "no invitation to open a photo while one opens"
    );
    step_until(&mut h, "the photo to open", |a| {
        a.document.current().is_some()
    });
    assert!(h.query_by_label_contains("Opening large-street").is_none());
}

#[test]
fn the_tool_strip_has_a_button_per_tool_with_its_shortcut_in_the_tooltip() {
    let mut h = editor();
    for (name, keys) in [
        ("Brush", "B"),
        ("Eraser", "E"),
        ("Rectangle", "R"),
        ("Polygon", "P"),
        ("Lasso", "L"),
        ("Magic wand", "W"),
        ("Text lines", "T"),
    ] {
        let button = h.get_by_role_and_label(egui::accesskit::Role::Button, name);
        button.hover();
        h.run_steps(10);
        let tip = format!("{name} ({keys})");
        assert!(
            h.query_by_label(&tip).is_some(),
            "no tooltip '{tip}' on the {name} button"
        );
    }
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Rectangle")
        .click();
    h.run_steps(2);
    assert_eq!(
        h.state().canvas.tool,
        touchup::ui::Tool::Select(touchup::ui::SelectionTool::Rectangle)
    );
}

#[test]
fn the_jobs_time_column_is_in_view_and_a_reopened_photo_keeps_its_name() {
    let prompt = "Replace the sign text with 'NORTH HALL' in tall gold serif letters on dark green";
    let mut h = with_results(1, prompt);
    // The Jobs row: its time ("3 s") lies left of the right panel, not clipped under it.
    let panel_left = h.get_by_label("Prompt").rect().left();
    let time = h
        .query_all(egui_kittest::kittest::by().predicate(|node| {
            node.value().is_some_and(|l| {
                l.strip_suffix(" s")
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            })
        }))
        .next()
        .expect("the job's time")
        .rect();
    assert!(
        time.right() < panel_left,
        "the time column {time:?} is cut by the panel at {panel_left}"
    );
    // And its state: "Done" whole, left of the panel (it was cut to its last letter when the
    // right panel was wide).
    step_until(&mut h, "the job to end", |a| !a.edit.is_running());
    h.run_steps(2);
    let done = h.get_by_label_contains("Done: 1 result").rect();
    assert!(
        done.right() < panel_left,
        "the job's state {done:?} is cut by the panel at {panel_left}"
    );

    // Reopen it from the history: the photo keeps its name, the status keeps whole words.
    step_until(&mut h, "the edit to be recorded", |a| {
        a.history.edits.len() == 1
    });
    let id = h.state().history.edits[0].id.clone();
    h.state_mut().command(Command::OpenDemo);
    h.run_steps(2);
    h.state_mut().act(Action::ReopenEdit(id));
    h.run_steps(1);
    step_until(&mut h, "the edit to reopen", |a| {
        a.status
            .message
            .as_ref()
            .is_some_and(|m| m.text.starts_with("Reopened"))
    });
    let app = h.state();
    let name = &app.document.current().unwrap().name;
    assert_eq!(name, "demo-storefront.png", "not \"reopened edit\"");
    let said = &app.status.message.as_ref().unwrap().text;
    let quoted = said
        .split('\u{201c}')
        .nth(1)
        .and_then(|s| s.split('\u{201d}').next())
        .expect("the prompt, quoted");
    let kept = quoted.trim_end_matches('…');
    assert!(prompt.starts_with(kept), "{said}");
    assert!(
        prompt[kept.len()..].starts_with(' '),
        "the prompt is cut mid-word: {said}"
    );
}
