//! touchup's core: everything that paints masks, reads and writes pictures, talks to Runware
//! and inpaints offline lives here and is tested without a window. The GUI (`ui`) is a thin
//! face over it; nothing outside `ui` imports `ui`.

pub mod assets;
pub mod compare;
pub mod demo;
pub mod edit;
pub mod fonts;
pub mod icon;
pub mod imageio;
pub mod jobs;
pub mod local;
pub mod mask;
pub mod memory;
pub mod models;
pub mod output;
pub mod runware;
pub mod segment;
pub mod session;
pub mod text;
pub mod ui;
