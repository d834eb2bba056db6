//! The editor window (eframe/egui). Thin: every action goes through the core.
//!
//! `app` is the shell that owns the parts; each part is a module with its own state:
//! `document` (the photo and its mask), `canvas` (view, brush and selection gestures),
//! `tools_panel` (left), `edit_panel` (the form and the submission), `results` (the results
//! list and the compare view), `history_panel`, `dialogs` (every modal question), `autosave`
//! and `status`. Panels draw and queue [`Action`]s; `actions` runs them, `messages` handles
//! what background work (`work`) answers. `commands` is the table of shortcuts and labels.

mod actions;
mod app;
mod autosave;
pub mod canvas;
pub mod commands;
mod dialogs;
mod document;
pub mod edit_panel;
mod file_browser;
mod files;
mod history_panel;
mod menu;
mod messages;
mod object_tool;
pub mod results;
mod settings;
mod status;
mod text_tool;
mod tools_panel;
mod work;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use actions::Action;
pub use app::{App, AppOptions};
pub use canvas::gesture::SelectionTool;
pub use canvas::{Canvas, Tool, View};
pub use commands::Command;
pub use dialogs::Dialogs;
pub use document::{Document, DocumentState, TextScan};
pub use edit_panel::EditPanel;
pub use files::DialogKind;
pub use history_panel::HistoryPanel;
pub use object_tool::{ObjectInput, ObjectScan, ObjectState, PendingObject};
pub use results::Results;
pub use settings::{Backend, Settings};
pub use status::{Status, StatusKind, StatusLine};

/// Opens the editor window and runs until it is closed.
pub fn run(image: Option<PathBuf>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    let signals = {
        let _inside = runtime.enter();
        stop_signals()
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("touchup")
            // The desktop entry's name (touchup.desktop), so docks and Wayland pair the window
            // with its menu entry and icon; it also names eframe's settings folder.
            .with_app_id(crate::icon::APP_ID)
            .with_icon(window_icon())
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([640.0, 420.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "touchup",
        options,
        Box::new(move |cc| {
            let app = App::new(
                cc,
                AppOptions {
                    image,
                    runtime: Some(handle.clone()),
                    client: None,
                    no_keyring: false,
                    data_root: None,
                },
            );
            if let Some(signals) = signals {
                handle.spawn(signals.stop(app.stop_flag(), cc.egui_ctx.clone()));
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the editor window: {e}"))
}

/// The icon for the title bar and the task switcher, drawn at 128 px (about a millisecond).
pub fn window_icon() -> egui::IconData {
    let size = 128;
    egui::IconData {
        rgba: crate::icon::draw(size).into_raw(),
        width: size,
        height: size,
    }
}

/// SIGTERM, SIGINT and SIGHUP, caught so that a plain `kill` saves the work and closes the
/// window like a normal quit (registered before the window opens: a signal that comes early
/// waits for the app).
#[cfg(unix)]
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
fn stop_signals() -> Option<StopSignals> {
    use tokio::signal::unix::{SignalKind, signal};
    let register = || -> std::io::Result<StopSignals> {
        Ok(StopSignals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    };
    match register() {
        Ok(signals) => Some(signals),
        Err(e) => {
            tracing::warn!("cannot catch SIGTERM/SIGINT/SIGHUP ({e}); they end touchup at once");
            None
        }
    }
}

#[cfg(unix)]
impl StopSignals {
    /// The first signal asks the app to save and close; a second one ends the process at once
    /// (the work autosaved so far is then offered back as after a crash).
    async fn stop(mut self, flag: Arc<AtomicBool>, ctx: egui::Context) {
        let mut first = true;
        loop {
            // (name, number): a second one ends with the shell's 128 + number.
            let (name, number) = tokio::select! {
                _ = self.term.recv() => ("SIGTERM", 15),
                _ = self.int.recv() => ("SIGINT", 2),
                _ = self.hup.recv() => ("SIGHUP", 1),
            };
            if !first {
                tracing::warn!("{name} again; ending at once");
                std::process::exit(128 + number);
            }
            first = false;
            tracing::info!("{name}: saving the work and closing");
            flag.store(true, Ordering::SeqCst);
            ctx.request_repaint();
        }
    }
}

#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
fn stop_signals() -> Option<StopSignals> {
    None
}

#[cfg(not(unix))]
impl StopSignals {
    async fn stop(self, _flag: Arc<AtomicBool>, _ctx: egui::Context) {}
}

/// "1 result", "4 results".
pub(crate) fn results_count(n: usize) -> String {
    if n == 1 {
        "1 result".into()
    } else {
        format!("{n} results")
    }
}
