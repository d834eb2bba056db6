//! The editor window (eframe/egui). Thin: every action goes through the core.

mod app;
mod autosave;
mod canvas;
pub mod commands;
pub mod compare;
pub mod form;
mod submit;
pub mod tools;

use std::path::PathBuf;

pub use app::{App, AppOptions, Backend, DialogKind, Document, Settings, Status, StatusKind, Tool};
pub use canvas::View;
pub use commands::Command;

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
