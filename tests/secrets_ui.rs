//! The editor's half of "the key never leaves the Authorization header": the key comes from
//! RUNWARE_API_KEY as a designer sets it, the real `App` submits against the stand-in server
//! (a success, then a refused request), shows "View request", copies the cURL text, autosaves
//! and records the history, with every log line at debug level captured; then every file it
//! wrote and every text it showed or copied is scanned for the key (plain and base64).
//!
//! One test in its own binary: it sets process-wide environment variables and the global
//! tracing subscriber.

mod support;

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use support::{KEY, Mode, StandIn};
use touchup::ui::{App, AppOptions, Command};

/// Everything logged, from every thread.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn leaks(haystack: &[u8]) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD.encode(KEY);
    [KEY.as_bytes(), b64.as_bytes()]
        .iter()
        .any(|needle| haystack.windows(needle.len()).any(|w| w == *needle))
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
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

fn copied_texts(h: &Harness<'static, App>) -> Vec<String> {
    h.output()
        .platform_output
        .commands
        .iter()
        .filter_map(|c| match c {
            egui::OutputCommand::CopyText(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_editor_never_writes_logs_shows_or_copies_the_key() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let standin = StandIn::start();
    // SAFETY: this binary holds this one test; nothing else reads the environment meanwhile.
    unsafe {
        std::env::set_var("RUNWARE_API_KEY", KEY);
        std::env::set_var("RUNWARE_API_URL", &standin.url);
    }
    let root = tempfile::tempdir().unwrap();
    let (data, results) = (root.path().join("data"), root.path().join("results"));
    let options = AppOptions {
        no_keyring: true,
        data_root: Some(data.clone()),
        ..AppOptions::default()
    };
    let out = results.clone();
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 900.0))
        .build_eframe(move |cc| {
            let mut app = App::new(cc, options);
            app.settings.output_root = Some(out);
            app.settings.backend = Some(touchup::ui::Backend::Runware);
            app
        });
    h.run_steps(3);
    step_until(&mut h, "autosave to start", |a| a.autosave_ready());
    h.state_mut()
        .document
        .current_mut()
        .unwrap()
        .editor
        .apply("Rectangle", None, |m| m.fill_rect(308, 96, 920, 170, 255));
    h.state_mut().edit.form.request.prompt = "Replace the sign text with \"OPEN LATE\"".into();
    h.run_steps(2);
    let mut shown = Vec::<String>::new();

    // A success: results saved, the edit recorded in the history.
    h.get_by_label("Submit").click();
    h.run_steps(1);
    step_until(&mut h, "the results", |a| {
        !a.edit.form.busy && !a.results.entries.is_empty()
    });
    step_until(&mut h, "the history entry", |a| a.results.edit_id.is_some());
    assert!(
        standin.with(|s| s.inference_attempts()) >= 1,
        "the stand-in was reached"
    );

    // A refusal: the message and the field errors are shown.
    standin.set_mode(Mode::RejectParameter("prompt".into()));
    h.get_by_label("Submit").click();
    h.run_steps(1);
    step_until(&mut h, "the failure", |a| {
        !a.edit.form.busy && a.edit.form.message.is_some()
    });
    shown.extend(h.state().edit.form.message.clone());
    shown.extend(h.state().status.message.as_ref().map(|m| m.text.clone()));

    // View request and Copy as cURL.
    h.get_by_label("View request").click();
    h.run_steps(3);
    let preview = h.state().dialogs.request_preview.clone();
    assert!(
        preview.as_deref().is_some_and(|p| p.contains("ideogram")),
        "the request was shown"
    );
    shown.extend(preview);
    h.state_mut().dialogs.request_preview = None;
    h.get_by_label("Copy as cURL").click();
    let mut curl = Vec::new();
    for _ in 0..4 {
        h.step();
        curl.extend(copied_texts(&h));
    }
    assert!(
        curl.iter().any(|c| c.contains("curl")),
        "a cURL command was copied: {curl:?}"
    );
    shown.extend(curl);

    // Autosave, then a clean exit.
    let ctx = h.ctx.clone();
    assert!(h.state_mut().autosave_now(&ctx));
    h.state_mut().command(Command::ZoomFit);
    h.run_steps(2);
    drop(h);

    let mut files = Vec::new();
    files_under(root.path(), &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("work.json")),
        "autosave wrote its work: {files:?}"
    );
    assert!(
        files.iter().any(|f| f.starts_with(&results)),
        "results were saved: {files:?}"
    );
    assert!(
        files.iter().any(|f| f.starts_with(data.join("history"))),
        "the history was written: {files:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(!leaks(&bytes), "{} holds the key", file.display());
    }
    for text in &shown {
        assert!(
            !leaks(text.as_bytes()),
            "shown or copied text holds the key: {text}"
        );
    }
    let logs = logs.0.lock().unwrap().clone();
    assert!(!logs.is_empty(), "debug logging captured something");
    assert!(!leaks(&logs), "the logs hold the key");
}
