//! The files that install touchup as a desktop app: the icons are what `src/icon.rs` draws, the
//! desktop entry and the AppStream metainfo agree with each other and with the app id, and
//! every file the Debian package lists is in the repository.

use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_committed_icons_are_what_the_code_draws() {
    for size in touchup::icon::SIZES {
        let path = touchup::icon::png_path(size);
        let file = image::open(repo(&path))
            .unwrap_or_else(|e| panic!("{path}: {e} (run `cargo run --example icons`)"))
            .into_rgba8();
        let drawn = touchup::icon::draw(size);
        assert_eq!(file.dimensions(), (size, size), "{path}");
        assert!(
            file.as_raw() == drawn.as_raw(),
            "{path} differs from src/icon.rs: run `cargo run --example icons`"
        );
    }
}

/// `Key=value` of the `[Desktop Entry]` group.
fn desktop_key<'a>(entry: &'a str, key: &str) -> &'a str {
    entry
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in the desktop entry"))
}

#[test]
fn the_desktop_entry_opens_every_photo_type_with_the_app_id_and_icon() {
    let app = touchup::icon::APP_ID;
    let entry = read(&format!("assets/{app}.desktop"));
    assert!(entry.starts_with("[Desktop Entry]\n"));
    assert_eq!(desktop_key(&entry, "Exec"), "touchup %f");
    assert_eq!(desktop_key(&entry, "Icon"), app);
    assert_eq!(desktop_key(&entry, "StartupWMClass"), app);
    assert!(
        desktop_key(&entry, "Categories")
            .split(';')
            .any(|c| c == "Graphics")
    );
    let mime: Vec<&str> = desktop_key(&entry, "MimeType")
        .split(';')
        .filter(|m| !m.is_empty())
        .collect();
    // The formats the image crate is built with (Cargo.toml) and the CLI's help names.
    for format in ["jpeg", "png", "webp", "bmp", "gif", "tiff"] {
        let m = format!("image/{format}");
        assert!(mime.contains(&m.as_str()), "{m} missing from {mime:?}");
        let sample =
            image::ImageFormat::from_mime_type(&m).unwrap_or_else(|| panic!("image knows no {m}"));
        assert!(
            sample.reading_enabled(),
            "{m}: the image crate cannot read it"
        );
    }
}

#[test]
fn the_metainfo_names_the_desktop_entry_icon_and_binary() {
    let info = read("assets/app.touchup.touchup.metainfo.xml");
    assert!(info.contains("<id>app.touchup.touchup</id>"));
    assert!(info.contains(&format!(
        r#"<launchable type="desktop-id">{}.desktop</launchable>"#,
        touchup::icon::APP_ID
    )));
    assert!(info.contains(&format!(
        r#"<icon type="stock">{}</icon>"#,
        touchup::icon::APP_ID
    )));
    assert!(info.contains("<binary>touchup</binary>"));
    assert!(info.contains(&format!(
        r#"<release version="{}""#,
        env!("CARGO_PKG_VERSION")
    )));
}

#[test]
fn every_file_the_package_lists_is_in_the_repository() {
    let manifest = read("Cargo.toml");
    let deb = manifest
        .split("[package.metadata.deb]")
        .nth(1)
        .expect("Cargo.toml has [package.metadata.deb]");
    let deb = deb.split("\n[").next().unwrap_or(deb);
    let sources: Vec<&str> = deb
        .lines()
        .filter_map(|l| l.trim().strip_prefix("[\""))
        .filter_map(|l| l.split('"').next())
        .collect();
    assert!(sources.len() >= 10, "{sources:?}");
    let mut models = 0;
    for source in sources {
        if source.starts_with("target/") {
            continue;
        }
        if let Some(dir) = source.strip_suffix("/*.onnx") {
            let found = std::fs::read_dir(repo(dir))
                .expect("models folder")
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "onnx"))
                .count();
            assert!(found >= 2, "{source}: {found} models");
            models += found;
            continue;
        }
        assert!(repo(source).is_file(), "{source} is not in the repository");
    }
    assert!(models >= 2);
    for size in touchup::icon::SIZES {
        assert!(
            deb.contains(&touchup::icon::png_path(size)),
            "{size} px icon is not packaged"
        );
    }
}
