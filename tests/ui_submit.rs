//! Submitting from the editor against the stand-in Runware server: the form, the results, and
//! a server error that changes nothing the designer made.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use support::{KEY, Mode, StandIn};
use touchup::runware::{ApiKey, Client, ClientConfig};
use touchup::ui::edit_panel::jobs::JobState;
use touchup::ui::{App, AppOptions, Command, StatusKind};

/// A client for the stand-in server, with short retries.
fn standin_client(standin: &StandIn, read_timeout: Duration) -> Arc<Client> {
    let config = ClientConfig {
        endpoint: standin.url.clone(),
        retry_base_delay: Duration::from_millis(10),
        retry_jitter: Duration::from_millis(10),
        read_timeout,
        ..ClientConfig::default()
    };
    Arc::new(Client::new(config, ApiKey::new(KEY).unwrap()).unwrap())
}

/// The real App in a harness, saving its results under `results`.
fn app_with(
    options: AppOptions,
    results: std::path::PathBuf,
    backend: Option<touchup::ui::Backend>,
    height: f32,
) -> Harness<'static, App> {
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1400.0, height))
        .build_eframe(move |cc| {
            let mut app = App::new(cc, options);
            app.settings.output_root = Some(results);
            if backend.is_some() {
                app.settings.backend = backend;
            }
            app
        });
    h.run_steps(3);
    h
}

fn app_against(standin: &StandIn, out: &std::path::Path) -> Harness<'static, App> {
    let options = AppOptions {
        client: Some(standin_client(standin, Duration::from_secs(10))),
        // Never the user's own history.
        data_root: Some(out.join("history")),
        ..AppOptions::default()
    };
    app_with(options, out.to_path_buf(), None, 900.0)
}

/// The App on the local engine, with its history and results in the given folders.
fn local_app(
    history: std::path::PathBuf,
    results: std::path::PathBuf,
    height: f32,
) -> Harness<'static, App> {
    let options = AppOptions {
        data_root: Some(history),
        ..AppOptions::default()
    };
    app_with(options, results, Some(touchup::ui::Backend::Local), height)
}

/// The one `edit-*` folder a submission wrote.
fn result_folder(root: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("edit-"))
        })
        .expect("a result folder")
}

fn step_until(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        if start.elapsed() > Duration::from_secs(60) {
            let a = h.state();
            panic!(
                "timed out waiting for {what}: message {:?}, progress {:?}, status {:?}, results {}",
                a.edit.form.message,
                a.edit.form.progress,
                a.status.message.as_ref().map(|s| s.text.clone()),
                a.results.entries.len()
            );
        }
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
}

/// Marks the sign and types a prompt, the way a designer does.
fn prepare(h: &mut Harness<'static, App>, prompt: &str) {
    let ctx = h.ctx.clone();
    h.state_mut()
        .document
        .current_mut()
        .unwrap()
        .editor
        .apply("Rectangle", None, |m| m.fill_rect(308, 96, 920, 170, 255));
    let _ = ctx;
    h.state_mut().command(Command::ZoomFit);
    h.run_steps(2);
    h.get_by_label("Prompt").click();
    h.run_steps(1);
    h.get_by_label("Prompt").type_text(prompt);
    h.run_steps(2);
}

/// Clicks Submit and steps until the edit has finished with results.
fn submit_and_wait(h: &mut Harness<'static, App>) {
    h.get_by_label("Submit").click();
    h.run_steps(1);
    step_until(h, "the results", |a| {
        !a.edit.form.busy && !a.results.entries.is_empty()
    });
}

#[test]
fn submit_shows_the_results_and_saves_them() {
    let standin = StandIn::start();
    let out = tempfile::tempdir().unwrap();
    let mut h = app_against(&standin, out.path());
    prepare(&mut h, "A sign reading 'NORTH HALL' in gold");
    submit_and_wait(&mut h);
    let app = h.state();
    assert_eq!(
        app.results.entries.len(),
        app.edit.form.request.settings.results_wanted() as usize
    );
    assert!(
        app.status
            .message
            .as_ref()
            .is_some_and(|s| s.kind == StatusKind::Info),
        "{:?}",
        app.status.message
    );
    // Saved the moment they arrived, with the sidecar index.
    let folder = result_folder(out.path());
    assert!(folder.join("result-1.png").exists() || folder.join("result-1.jpg").exists());
    let index = std::fs::read_to_string(folder.join("results.json")).unwrap();
    assert!(index.contains("imageUUID"));
    assert!(!index.contains(KEY), "the key never reaches disk");
    // What the stand-in received: the prompt, the mask, a seed; it found nothing to refuse.
    standin.with(|s| {
        assert!(s.rejections.is_empty(), "{:?}", s.rejections);
        let body = s.bodies.last().unwrap().to_string();
        assert!(body.contains("NORTH HALL"));
    });
}

#[test]
fn switching_keep_outside_pixels_reshows_the_results_already_received() {
    let standin = StandIn::start();
    let out = tempfile::tempdir().unwrap();
    let mut h = app_against(&standin, out.path());
    prepare(&mut h, "A sign reading 'NORTH HALL' in gold");
    submit_and_wait(&mut h);
    // A pixel outside the mask but inside the edit area (what was sent): the stand-in's
    // pictures differ from the photo there.
    let area = {
        let a = h.state();
        a.document
            .edit_area(&a.settings.area)
            .unwrap()
            .unwrap()
            .area
    };
    let (px, py) = (area.x + 2, area.y + 2);
    let outside = move |a: &App| {
        let original = *a.document.current().unwrap().image.get_pixel(px, py);
        let r = &a.results.entries[0];
        (
            original,
            *r.shown.get_pixel(px, py),
            *r.image.get_pixel(px, py),
        )
    };
    let (original, shown, raw) = outside(h.state());
    assert_eq!(
        shown, original,
        "composited: outside pixels are the photo's"
    );
    assert_ne!(raw, original);
    assert!(h.state().settings.compare.keep_outside);

    h.get_by_label("Keep outside pixels").click();
    h.run_steps(1);
    step_until(&mut h, "the raw results", |a| {
        !a.is_busy() && outside(a).1 != original
    });
    {
        let app = h.state();
        assert!(!app.settings.compare.keep_outside);
        let r = &app.results.entries[0];
        if r.image.dimensions() == r.shown.dimensions() {
            assert!(*r.shown == *r.image, "off: shown exactly as returned");
        }
        assert!(r.figures.is_some() && r.heatmap.is_some());
    }

    h.get_by_label("Keep outside pixels").click();
    h.run_steps(1);
    step_until(&mut h, "the composites", |a| {
        !a.is_busy() && outside(a).1 == original
    });
}

#[test]
fn a_server_error_is_shown_and_loses_nothing() {
    let standin = StandIn::start();
    standin.set_mode(Mode::RejectParameter("positivePrompt".into()));
    let out = tempfile::tempdir().unwrap();
    let mut h = app_against(&standin, out.path());
    prepare(&mut h, "Replace the lettering with 'OPEN 7AM-3PM'");
    let mask_before = h.state().document.current().unwrap().editor.mask().clone();
    let prompt_before = h.state().edit.form.request.prompt.clone();
    let settings_before = h.state().edit.form.request.settings.clone();
    h.get_by_label("Submit").click();
    h.run_steps(1);
    step_until(&mut h, "the failure", |a| {
        !a.edit.form.busy
            && a.status
                .message
                .as_ref()
                .is_some_and(|s| s.kind == StatusKind::Error)
    });
    let app = h.state();
    let status = &app.status.message.as_ref().unwrap().text;
    assert!(
        status.contains("positivePrompt") || status.contains("prompt"),
        "{status}"
    );
    assert!(
        app.edit
            .form
            .errors
            .iter()
            .any(|e| e.field == touchup::edit::Field::Prompt),
        "{:?}",
        app.edit.form.errors
    );
    assert_eq!(app.document.current().unwrap().editor.mask(), &mask_before);
    assert_eq!(app.edit.form.request.prompt, prompt_before);
    assert_eq!(app.edit.form.request.settings, settings_before);
    assert!(app.results.entries.is_empty());
    // 400 is never retried.
    assert_eq!(standin.with(|s| s.inference_attempts()), 1);
    // Saving a result with none there says why instead of opening a file dialog.
    h.state_mut().command(Command::SaveResult);
    h.run_steps(2);
    let status = h.state().status.message.clone().unwrap();
    assert_eq!(status.kind, StatusKind::Error);
    assert!(status.text.contains("no results yet"), "{}", status.text);
}

#[test]
fn an_empty_mask_is_caught_before_anything_is_sent() {
    let standin = StandIn::start();
    let out = tempfile::tempdir().unwrap();
    let mut h = app_against(&standin, out.path());
    h.get_by_label("Prompt").click();
    h.run_steps(1);
    h.get_by_label("Prompt").type_text("new sign");
    h.run_steps(2);
    h.get_by_label("Submit").click();
    h.run_steps(3);
    assert!(
        h.state()
            .edit
            .form
            .message
            .as_ref()
            .is_some_and(|m| m.contains("mask is empty"))
    );
    assert_eq!(standin.with(|s| s.bodies.len()), 0);
}

#[test]
fn the_local_engine_runs_the_whole_loop_with_no_account() {
    let out = tempfile::tempdir().unwrap();
    let mut h = local_app(out.path().join("history"), out.path().to_path_buf(), 900.0);
    h.get_by_label("Engine");
    // Mask the lettering of the demo sign and ask for new words.
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
    h.get_by_label("Prompt").click();
    h.run_steps(1);
    h.get_by_label("Prompt")
        .type_text("A sign reading 'NORTH HALL'");
    h.run_steps(2);
    submit_and_wait(&mut h);
    let app = h.state();
    let original = &app.document.current().unwrap().image;
    let mask = app.document.current().unwrap().editor.mask();
    let result = &app.results.entries[0].image;
    assert_eq!(result.dimensions(), original.dimensions());
    let mut changed_inside = 0;
    for (x, y, p) in result.enumerate_pixels() {
        if mask.get(x, y) == 0 {
            assert_eq!(p, original.get_pixel(x, y), "outside the mask at {x},{y}");
        } else if p != original.get_pixel(x, y) {
            changed_inside += 1;
        }
    }
    assert!(changed_inside > 1000, "the masked lettering was replaced");
    let folder = result_folder(out.path());
    assert!(folder.join("result-1.png").exists());
    assert!(folder.join("results.json").exists());
}

#[test]
fn results_open_in_the_compare_view_with_their_outside_mask_figures() {
    let out = tempfile::tempdir().unwrap();
    let mut h = local_app(out.path().join("history"), out.path().to_path_buf(), 900.0);
    h.state_mut()
        .document
        .current_mut()
        .unwrap()
        .editor
        .apply("Rectangle", None, |m| m.fill_rect(1000, 440, 240, 200, 255));
    h.state_mut().edit.form.request.prompt = "remove the door's top".into();
    submit_and_wait(&mut h);
    {
        let entry = &h.state().results.entries[0];
        let figures = entry.figures.as_ref().expect("figures");
        assert_eq!(
            figures.changed_pixels, 0,
            "the local engine never touches outside pixels"
        );
        assert!(entry.heatmap.is_some());
    }
    // The result pasted into the photo is saved, with the engine's output beside it.
    let folder = result_folder(out.path());
    assert!(folder.join("result-1.png").exists());
    assert!(folder.join("result-1.raw.png").exists());
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("results.json")).unwrap())
            .unwrap();
    assert_eq!(index["engine"], "local");
    // "Save kept" needs a star first; Keep beside the result gives it one.
    h.state_mut().command(Command::SaveKept);
    h.run_steps(2);
    let status = h.state().status.message.clone().unwrap();
    assert!(status.text.contains("No result is kept"), "{}", status.text);
    h.get_by_label("Keep").click();
    h.run_steps(2);
    assert!(h.state().results.entries[0].kept);
    let kept_dir = out.path().join("kept");
    std::fs::create_dir(&kept_dir).unwrap();
    h.state_mut().act(touchup::ui::Action::Picked(
        touchup::ui::DialogKind::SaveKept,
        kept_dir.clone(),
    ));
    h.run_steps(1);
    step_until(&mut h, "the kept result to be saved", |a| !a.is_busy());
    assert!(kept_dir.join("kept-result-1.png").is_file());
    // Lossless PNG unless the chosen name asks for another format.
    let jpeg = out.path().join("chosen.jpg");
    h.state_mut().act(touchup::ui::Action::Picked(
        touchup::ui::DialogKind::SaveResult,
        jpeg.clone(),
    ));
    h.run_steps(1);
    step_until(&mut h, "the JPEG", |a| !a.is_busy());
    assert_eq!(&std::fs::read(&jpeg).unwrap()[..2], &[0xFF, 0xD8]);
    // Export a labelled before/after sheet for the client.
    let sheet = out.path().join("before-after.png");
    h.state_mut().act(touchup::ui::Action::Picked(
        touchup::ui::DialogKind::ExportComparison,
        sheet.clone(),
    ));
    h.run_steps(1);
    step_until(&mut h, "the export", |a| !a.is_busy());
    let (w, hh) = image::image_dimensions(&sheet).unwrap();
    assert!(w > hh, "original and result side by side ({w}x{hh})");
    h.key_press(egui::Key::C);
    h.run_steps(3);
    assert!(h.state().results.comparing);
    // The picture is on the GPU; its heatmap only once the overlay is switched on (M).
    let heat_uploaded = |a: &App| {
        a.results.entries[0]
            .textures
            .as_ref()
            .map(|t| t.1.is_some())
    };
    assert_eq!(heat_uploaded(h.state()), Some(false));
    h.key_press(egui::Key::M);
    h.run_steps(3);
    assert!(h.state().results.compare_view.show_heatmap);
    assert_eq!(heat_uploaded(h.state()), Some(true));
    // In the compare view single keys drive it, not the mask tools.
    let tool = h.state().canvas.tool;
    h.key_press(egui::Key::W);
    h.run_steps(2);
    assert_eq!(h.state().canvas.tool, tool);
    h.key_press(egui::Key::C);
    h.run_steps(2);
    assert!(!h.state().results.comparing);
}

#[test]
fn a_photo_over_2048_px_is_sent_around_its_mask_at_full_resolution() {
    let standin = StandIn::start();
    let out = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big-sign.png");
    image::RgbaImage::from_fn(3000, 1500, |x, y| {
        image::Rgba([(x % 200) as u8, (y % 200) as u8, 90, 255])
    })
    .save(&big)
    .unwrap();
    let options = AppOptions {
        image: Some(big),
        client: Some(standin_client(&standin, Duration::from_secs(20))),
        data_root: Some(out.path().join("history")),
        ..AppOptions::default()
    };
    let mut h = app_with(options, out.path().to_path_buf(), None, 900.0);
    step_until(&mut h, "the big photo", |a| {
        a.document
            .current()
            .is_some_and(|d| d.name == "big-sign.png")
    });
    prepare(&mut h, "A sign reading 'EXIT'");
    h.get_by_label("Submit").click();
    h.run_steps(3);
    // Nothing to ask: only the area around the sign goes out, at the photo's resolution.
    step_until(&mut h, "the results", |a| {
        !a.edit.form.busy && !a.results.entries.is_empty()
    });
    standin.with(|s| {
        assert!(
            s.rejections.is_empty(),
            "seed and mask were the same size: {:?}",
            s.rejections
        );
        let (w, hh) = s.seed_sizes[0];
        assert!(w <= 2048 && hh <= 2048 && w >= 920 && hh >= 170, "{w}x{hh}");
    });
    let app = h.state();
    // The photo being edited keeps its full size; the result is pasted back at that size.
    assert_eq!(
        app.document.current().unwrap().image.dimensions(),
        (3000, 1500)
    );
    assert_eq!(app.results.entries[0].shown.dimensions(), (3000, 1500));
}

#[test]
fn finished_edits_are_kept_in_the_history_and_survive_a_restart() {
    let out = tempfile::tempdir().unwrap();
    let data_root = out.path().join("history");
    let mut h = local_app(data_root.clone(), out.path().join("results"), 1600.0);
    h.state_mut()
        .document
        .current_mut()
        .unwrap()
        .editor
        .apply("Rectangle", None, |m| m.fill_rect(1000, 440, 240, 200, 255));
    h.state_mut().edit.form.request.prompt = "a plain wooden door".into();
    let mask = h.state().document.current().unwrap().editor.mask().clone();
    h.get_by_label("Submit").click();
    h.run_steps(1);
    step_until(&mut h, "the edit to be recorded", |a| {
        !a.edit.form.busy && a.history.edits.len() == 1
    });
    // Keep (star) the result in the compare view: the history stores the star.
    h.key_press(egui::Key::C);
    h.run_steps(2);
    h.key_press(egui::Key::K);
    h.run_steps(2);
    assert!(h.state().results.entries[0].kept);
    step_until(&mut h, "the star to be stored", |a| {
        a.history.edits.first().is_some_and(|e| e.kept_count == 1)
    });
    // Quit cleanly: no autosaved work is offered back at the restart (under load the
    // autosave may have run, and its question would cover the history).
    h.state_mut().end_session();
    drop(h);

    // A new App (a restart) finds it, and reopening restores photo, mask, prompt and results.
    let mut h = local_app(data_root.clone(), out.path().join("results"), 1600.0);
    step_until(&mut h, "the history to load", |a| {
        a.history.edits.len() == 1
    });
    h.state_mut().edit.form.request.prompt = "something else".into();
    h.get_by_label("History (1)").click();
    h.run_steps(2);
    h.get_by_label("Reopen").click();
    h.run_steps(1);
    step_until(&mut h, "the edit to reopen", |a| {
        a.edit.form.request.prompt == "a plain wooden door"
    });
    let app = h.state();
    assert_eq!(app.document.current().unwrap().editor.mask(), &mask);
    assert_eq!(app.results.entries.len(), 1);
    assert!(app.results.entries[0].figures.is_some());
    assert!(
        app.results.entries[0].kept,
        "the star comes back with the edit"
    );
    step_until(&mut h, "the reopened result's heatmap", |a| {
        a.results.entries[0].heatmap.is_some()
    });
    step_until(&mut h, "the edit's thumbnail", |a| {
        a.history.thumbnails_shown() == 1
    });
    h.get_by_label("Delete").click();
    h.run_steps(2);
    // Delete asks first; "No" keeps the edit.
    h.get_by_label("No").click();
    h.run_steps(2);
    assert_eq!(h.state().history.edits.len(), 1);
    h.get_by_label("Delete").click();
    h.run_steps(2);
    h.get_by_label("Yes, delete").click();
    h.run_steps(1);
    step_until(&mut h, "the deletion", |a| a.history.edits.is_empty());
    assert_eq!(h.state().history.thumbnails_shown(), 0);
}

/// Records an edit of a `side`-pixel noise photo (incompressible: about 4 bytes a pixel on
/// disk) straight into the history.
fn record_noise_edit(root: &std::path::Path, side: u32, prompt: &str) {
    let mut state = 0x9e37_79b9_u32 ^ side;
    let photo = image::RgbaImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgba([a, b, c, 255])
    });
    let mut mask = touchup::mask::Mask::new(side, side);
    mask.fill_rect(10, 10, 50, 50, 255);
    let history = touchup::session::History::open(root).unwrap();
    history
        .record(&touchup::session::NewEdit {
            seed_image: touchup::session::Picture::Pixels(&photo),
            mask: &mask,
            prompt,
            settings: serde_json::json!({}),
            results: vec![touchup::session::NewResult::new(
                touchup::session::Picture::Pixels(&photo),
            )],
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(5));
}

#[test]
fn the_history_budget_removes_the_oldest_edits() {
    let out = tempfile::tempdir().unwrap();
    let data_root = out.path().join("data");
    record_noise_edit(&data_root, 600, "the oldest");
    record_noise_edit(&data_root, 600, "the newest");
    let mut h = local_app(data_root.clone(), out.path().join("results"), 1600.0);
    step_until(&mut h, "the history and its thumbnails", |a| {
        a.history.edits.len() == 2 && a.history.thumbnails_shown() == 2
    });
    h.get_by_label("History (2)").click();
    h.run_steps(2);
    h.get_by_label("the oldest");
    let used: u64 = h.state().history.edits.iter().map(|e| e.bytes).sum();
    assert!(
        used > 2 * 1024 * 1024,
        "{used} bytes: the test needs over 2 MiB"
    );

    // A budget below what the two take: the oldest goes, the newest always stays.
    h.state_mut().act(touchup::ui::Action::SetHistoryBudget(2));
    step_until(&mut h, "the pruning", |a| a.history.edits.len() == 1);
    let app = h.state();
    assert_eq!(app.history.edits[0].prompt, "the newest");
    assert_eq!(app.settings.history_budget_mib, 2);
    let status = app.status.message.clone().unwrap();
    assert!(
        status.text.contains("Removed the 1 oldest"),
        "{}",
        status.text
    );
    assert_eq!(app.history.thumbnails_shown(), 1);
    let folders = std::fs::read_dir(data_root.join("history"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(folders, 1, "the oldest edit's folder is gone from disk");
}

/// The jobs' states, oldest first.
fn job_states(app: &App) -> Vec<JobState> {
    app.edit
        .jobs
        .list()
        .iter()
        .map(|j| j.state.clone())
        .collect()
}

fn set_prompt(h: &mut Harness<'static, App>, prompt: &str) {
    h.get_by_label("Prompt").click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_label("Prompt").type_text(prompt);
    h.run_steps(2);
    assert_eq!(h.state().edit.form.request.prompt, prompt);
}

#[test]
fn submissions_queue_two_at_a_time_and_can_be_cancelled_retried_and_opened() {
    let standin = StandIn::start();
    standin.set_mode(Mode::Slow(Duration::from_millis(1500)));
    standin.with(|s| s.refuse_prompt = Some("REFUSED".into()));
    let out = tempfile::tempdir().unwrap();
    let mut h = app_against(&standin, out.path());
    h.state_mut().settings.job_concurrency = 2;
    let first_prompt = "A sign reading 'NORTH HALL' in gold";
    prepare(&mut h, first_prompt);
    let first_mask = h.state().document.current().unwrap().editor.mask().clone();
    h.get_by_label("Submit").click();
    h.run_steps(2);

    // The designer goes on while job 1 runs: another prompt and more of the photo masked.
    // Submit is not refused: it queues.
    set_prompt(&mut h, "A sign reading 'WEST HALL'");
    h.state_mut()
        .document
        .current_mut()
        .unwrap()
        .editor
        .apply("Rectangle", None, |m| m.fill_rect(100, 400, 200, 100, 255));
    h.get_by_label("Submit").click();
    h.run_steps(2);
    // Two more wait for a slot: one the server refuses, one cancelled before it starts.
    set_prompt(&mut h, "A sign reading 'REFUSED' in red");
    h.get_by_label("Submit").click();
    h.run_steps(2);
    set_prompt(&mut h, "A sign reading 'SOUTH HALL'");
    h.get_by_label("Submit").click();
    h.run_steps(2);
    let states = job_states(h.state());
    assert_eq!(states.len(), 4, "{states:?}");
    assert!(matches!(states[0], JobState::Running(_)), "{states:?}");
    assert!(matches!(states[1], JobState::Running(_)), "{states:?}");
    assert_eq!(
        states[2],
        JobState::Queued,
        "two run at once, the rest wait"
    );
    assert_eq!(
        states[3],
        JobState::Queued,
        "two run at once, the rest wait"
    );
    assert!(h.query_by_label_contains("2 running, 2 queued").is_some());

    // Job 4 is cancelled before it starts.
    h.get_by_label("Cancel job 4").click();
    h.run_steps(2);
    assert_eq!(job_states(h.state())[3], JobState::Cancelled);

    // The editor keeps answering while jobs 1 and 2 run: frames come, typing lands.
    // (The stand-in holds each answer 1.5 s; a UI that waited on a job would get a handful
    // of frames through in that time instead of dozens.)
    set_prompt(&mut h, "Next idea: 'EAST HALL'");
    let start = Instant::now();
    let mut frames_while_running = 0;
    while h.state().edit.jobs.active() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "jobs did not end"
        );
        frames_while_running += 1;
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        frames_while_running >= 10,
        "{frames_while_running} frames while jobs ran"
    );
    h.run_steps(2);
    let states = job_states(h.state());
    let wanted = h.state().edit.form.request.settings.results_wanted() as usize;
    assert_eq!(states[0], JobState::Done(wanted), "{states:?}");
    assert_eq!(states[1], JobState::Done(wanted), "{states:?}");
    match &states[2] {
        JobState::Failed(e) => assert!(e.contains("HTTP 400"), "{e}"),
        other => panic!("job 3 should have failed: {other:?}"),
    }
    assert_eq!(states[3], JobState::Cancelled);
    assert!(
        standin.with(|s| s.concurrency.max()) <= 2,
        "at most two at once"
    );
    // Each job sent what it was submitted with; the cancelled one sent nothing.
    standin.with(|s| {
        let prompts: Vec<String> = s
            .bodies
            .iter()
            .flat_map(|b| b.as_array().cloned().unwrap_or_default())
            .filter_map(|t| t["positivePrompt"].as_str().map(String::from))
            .collect();
        assert!(prompts.iter().any(|p| p == first_prompt), "{prompts:?}");
        assert!(prompts.iter().any(|p| p.contains("WEST")), "{prompts:?}");
        assert!(
            !prompts.iter().any(|p| p.contains("SOUTH")),
            "job 4 never went out"
        );
    });

    // Retry job 3 once the server takes it: it runs with its own prompt and finishes.
    standin.with(|s| s.refuse_prompt = None);
    h.get_by_label("Retry job 3").click();
    h.run_steps(2);
    step_until(&mut h, "job 3 to finish again", |a| {
        a.edit.jobs.get(3).is_some_and(|j| !j.state.is_active())
    });
    assert_eq!(job_states(h.state())[2], JobState::Done(wanted));
    step_until(&mut h, "the finished jobs in the history", |a| {
        a.history.edits.len() == 3
    });
    assert_eq!(h.state().edit.form.request.prompt, "Next idea: 'EAST HALL'");

    // Open job 1: its photo, mask, prompt and results come back.
    // (The oldest job is at the foot of the list: scroll the list.)
    h.get_by_label("Open job 4").scroll_down();
    h.run_steps(3);
    h.get_by_label("Open job 1").click();
    h.run_steps(3);
    let app = h.state();
    assert_eq!(
        app.edit.form.request.prompt, first_prompt,
        "{:?}",
        app.status.message
    );
    assert_eq!(app.document.current().unwrap().editor.mask(), &first_mask);
    assert_eq!(app.results.entries.len(), wanted);
    assert!(app.results.edit_id.is_some(), "its history entry is known");
}

#[test]
fn local_jobs_queue_one_at_a_time_and_both_land_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = local_app(
        dir.path().join("history"),
        dir.path().join("results"),
        900.0,
    );
    h.state_mut().settings.job_concurrency = 1;
    prepare(&mut h, "Change the sign to read 'FIRST'");
    h.get_by_label("Submit").click();
    h.run_steps(1);
    set_prompt(&mut h, "Change the sign to read 'SECOND'");
    h.get_by_label("Submit").click();
    h.run_steps(2);
    let states = job_states(h.state());
    assert_eq!(
        states.len(),
        2,
        "{states:?} {:?} {:?}",
        h.state().edit.form.message,
        h.state().status.message
    );
    assert_eq!(states[1], JobState::Queued, "{states:?}");
    step_until(&mut h, "both jobs in the history", |a| {
        a.edit.jobs.active() == 0 && a.history.edits.len() == 2
    });
    assert!(
        job_states(h.state())
            .iter()
            .all(|s| matches!(s, JobState::Done(n) if *n > 0))
    );
    // The shown job is the second; its results are the ones in the list.
    assert!(!h.state().results.entries.is_empty());
    let folders: Vec<_> = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(folders.len(), 2, "a results folder per job: {folders:?}");
}

#[test]
fn quitting_with_jobs_running_asks_first() {
    let standin = StandIn::start();
    standin.set_mode(Mode::Slow(Duration::from_secs(3)));
    let out = tempfile::tempdir().unwrap();
    let mut h = app_against(&standin, out.path());
    prepare(&mut h, "A sign reading 'NORTH HALL' in gold");
    h.get_by_label("Submit").click();
    h.run_steps(2);
    assert_eq!(h.state().edit.jobs.active(), 1);
    let close = |h: &mut Harness<'static, App>| {
        if let Some(info) = h.input_mut().viewports.get_mut(&egui::ViewportId::ROOT) {
            info.events.push(egui::ViewportEvent::Close);
        }
        h.step();
        h.run_steps(2);
    };
    let closing = |h: &Harness<'static, App>| {
        h.output()
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .is_some_and(|v| v.commands.contains(&egui::ViewportCommand::Close))
    };
    close(&mut h);
    assert!(
        h.state().dialogs.confirming_quit,
        "a running job is asked about"
    );
    assert!(
        h.query_by_label_contains("1 edit job(s) are still queued or running")
            .is_some()
    );
    h.get_by_label("Keep editing").click();
    h.run_steps(2);
    assert!(!h.state().dialogs.confirming_quit);
    assert_eq!(h.state().edit.jobs.active(), 1, "the job goes on");
    close(&mut h);
    h.get_by_label("Quit and cancel the jobs").click();
    h.step();
    assert!(closing(&h), "the window is told to close");
}

/// The job folders kept for after a crash (complete ones: with their job.json).
fn kept_jobs(root: &std::path::Path) -> usize {
    std::fs::read_dir(root.join("jobs"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().join("job.json").exists())
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn jobs_running_at_a_crash_are_offered_back_at_the_next_start() {
    let standin = StandIn::start();
    standin.set_mode(Mode::Slow(Duration::from_secs(60)));
    let out = tempfile::tempdir().unwrap();
    let root = out.path().join("history");
    let prompt = "A sign reading 'NORTH HALL' in gold";
    {
        let mut h = app_against(&standin, out.path());
        prepare(&mut h, prompt);
        h.get_by_label("Submit").click();
        h.run_steps(2);
        assert_eq!(h.state().edit.jobs.active(), 1);
        let start = Instant::now();
        while kept_jobs(&root) == 0 {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the job is kept on disk"
            );
            h.step();
            std::thread::sleep(Duration::from_millis(10));
        }
        // The editor "crashes": dropped without a clean exit.
    }
    assert_eq!(kept_jobs(&root), 1);

    standin.set_mode(Mode::Normal);
    let mut h = app_against(&standin, out.path());
    // Autosaved work, if any was saved in time, is asked about first; then the jobs.
    step_until(&mut h, "a question", |a| {
        a.is_offering_recovery() || a.edit.jobs.has_offer()
    });
    if h.state().is_offering_recovery() {
        h.get_by_label("Discard").click();
        h.run_steps(2);
    }
    step_until(&mut h, "the unfinished jobs", |a| a.edit.jobs.has_offer());
    assert!(
        h.query_by_label_contains("1 edit job(s) were still queued or running")
            .is_some()
    );
    h.get_by_label("Queue them again").click();
    h.run_steps(2);
    assert_eq!(h.state().edit.jobs.list().len(), 1);
    step_until(&mut h, "the requeued job to finish", |a| {
        a.edit.jobs.active() == 0 && a.history.edits.len() == 1
    });
    let job = &h.state().edit.jobs.list()[0];
    assert!(
        matches!(job.state, JobState::Done(n) if n > 0),
        "{:?}",
        job.state
    );
    standin.with(|s| {
        let body = s.bodies.last().unwrap().to_string();
        assert!(body.contains("NORTH HALL"), "sent with its own prompt");
    });
    assert_eq!(kept_jobs(&root), 0, "an ended job is no longer kept");

    // A clean exit leaves nothing to offer.
    h.state_mut().end_session();
    assert!(!root.join("jobs").exists() || kept_jobs(&root) == 0);
}
