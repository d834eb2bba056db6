//! Writes the application icon in every hicolor size into `assets/icons/hicolor/` (the files
//! the package installs). Run from the repository: `cargo run --example icons`.

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    for size in touchup::icon::SIZES {
        let path = std::path::PathBuf::from(touchup::icon::png_path(size));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        touchup::icon::draw(size)
            .save(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
