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
mod files;
mod history_panel;
mod menu;
mod messages;
pub mod results;
mod settings;
mod status;
mod tools_panel;
mod work;

use std::path::PathBuf;

pub use actions::Action;
pub use app::{App, AppOptions};
pub use canvas::gesture::SelectionTool;
pub use canvas::{Canvas, Tool, View};
pub use commands::Command;
pub use dialogs::Dialogs;
pub use document::{Document, DocumentState};
pub use edit_panel::EditPanel;
pub use files::DialogKind;
pub use history_panel::HistoryPanel;
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
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("touchup")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([640.0, 420.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "touchup",
        options,
        Box::new(move |cc| {
            Ok(Box::new(App::new(
                cc,
                AppOptions {
                    image,
                    runtime: Some(handle),
                    client: None,
                    no_keyring: false,
                    data_root: None,
                },
            )))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the editor window: {e}"))
}
