//! Where the installed program finds its data files (the ONNX models), wherever it runs from:
//! a checkout, `cargo install`, a Debian package or a folder copied to another machine.
//!
//! The fonts (1.4 MB) and the demo photo (2.5 MB) are compiled into the binary and need no
//! look-up. The models (31 MB of text models, more with the object models) are files: they stay
//! out of the binary so that the CLI does not map them on every start and the package can
//! ship them once in `/usr/share/touchup/models`.
//!
//! A model `NAME` is looked for as `DIR/NAME` in these folders, first hit wins:
//!
//! 1. `$TOUCHUP_MODELS` (the folder itself, when set and not empty);
//! 2. `models/` beside the executable (a copied folder: `touchup` + `models/`);
//! 3. `../share/touchup/models` from the executable's folder (`PREFIX/bin/touchup` with
//!    `PREFIX/share/touchup/models`);
//! 4. `$XDG_DATA_HOME/touchup/models` (default `~/.local/share/touchup/models`);
//! 5. `touchup/models` in each folder of `$XDG_DATA_DIRS` (default
//!    `/usr/local/share:/usr/share`, so `/usr/share/touchup/models` for the package);
//! 6. the checkout the binary was built from (`assets/models`), so `cargo run` needs nothing.
//!
//! A missing model names every folder that was tried.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A model file that is in none of the searched folders.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", missing_message(.name, .looked))]
pub struct ModelMissing {
    /// The file's name, e.g. `PP-OCRv6_det_small.onnx`.
    pub name: String,
    /// Every folder that was tried, in order.
    pub looked: Vec<PathBuf>,
}

fn missing_message(name: &str, looked: &[PathBuf]) -> String {
    let mut message = format!("the model {name} is not installed; looked in ");
    for (i, dir) in looked.iter().enumerate() {
        let _ = write!(
            message,
            "{}{}",
            if i > 0 { ", " } else { "" },
            dir.display()
        );
    }
    message.push_str(" (TOUCHUP_MODELS names a folder to look in first)");
    message
}

/// The full path of model file `name` (see the module doc for the order), or every place it
/// was looked for.
pub fn model_path(name: &str) -> Result<PathBuf, ModelMissing> {
    find_in(name, &model_dirs())
}

/// The folders searched for models, in order, for this process (see the module doc).
pub fn model_dirs() -> Vec<PathBuf> {
    let exe = std::env::current_exe().ok();
    let exe = exe.as_deref().map(|e| e.canonicalize().unwrap_or(e.into()));
    search_dirs(
        |key| std::env::var_os(key),
        exe.as_deref(),
        Path::new(env!("CARGO_MANIFEST_DIR")),
    )
}

/// The search order for `env` (a variable's value, if set), the executable `exe` and the
/// build-time checkout `checkout`. Pure, for tests.
pub fn search_dirs(
    env: impl Fn(&str) -> Option<OsString>,
    exe: Option<&Path>,
    checkout: &Path,
) -> Vec<PathBuf> {
    let set = |key: &str| env(key).filter(|v| !v.is_empty());
    let mut dirs = Vec::new();
    if let Some(dir) = set("TOUCHUP_MODELS") {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(bin) = exe.and_then(Path::parent) {
        dirs.push(bin.join("models"));
        if let Some(prefix) = bin.parent() {
            dirs.push(prefix.join("share/touchup/models"));
        }
    }
    let data_home = set("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".local/share")));
    if let Some(home) = data_home {
        dirs.push(home.join("touchup/models"));
    }
    let data_dirs = set("XDG_DATA_DIRS").unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    for dir in std::env::split_paths(&data_dirs).filter(|p| p.is_absolute()) {
        dirs.push(dir.join("touchup/models"));
    }
    dirs.push(checkout.join("assets/models"));
    // The same folder twice (e.g. an exe in /usr/bin and /usr/share in both lists) is tried once.
    let mut seen = Vec::with_capacity(dirs.len());
    dirs.retain(|d| {
        let new = !seen.contains(d);
        if new {
            seen.push(d.clone());
        }
        new
    });
    dirs
}

/// The first `DIR/name` that is a file, or all of `dirs` in the error.
pub fn find_in(name: &str, dirs: &[PathBuf]) -> Result<PathBuf, ModelMissing> {
    dirs.iter()
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| ModelMissing {
            name: name.to_string(),
            looked: dirs.to_vec(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn the_order_is_env_exe_prefix_data_home_data_dirs_checkout() {
        let dirs = search_dirs(
            env_of(&[
                ("TOUCHUP_MODELS", "/m"),
                ("HOME", "/home/u"),
                ("XDG_DATA_HOME", "/xdg/home"),
                ("XDG_DATA_DIRS", "/a/share:/b/share"),
            ]),
            Some(Path::new("/opt/tu/bin/touchup")),
            Path::new("/src/touchup"),
        );
        let want: Vec<PathBuf> = [
            "/m",
            "/opt/tu/bin/models",
            "/opt/tu/share/touchup/models",
            "/xdg/home/touchup/models",
            "/a/share/touchup/models",
            "/b/share/touchup/models",
            "/src/touchup/assets/models",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(dirs, want);
    }

    #[test]
    fn unset_variables_fall_back_to_the_xdg_defaults() {
        let dirs = search_dirs(
            env_of(&[("HOME", "/home/u"), ("TOUCHUP_MODELS", "")]),
            Some(Path::new("/usr/bin/touchup")),
            Path::new("/src/touchup"),
        );
        let want: Vec<PathBuf> = [
            "/usr/bin/models",
            // /usr/share/touchup/models is both the prefix's share and a data dir: once.
            "/usr/share/touchup/models",
            "/home/u/.local/share/touchup/models",
            "/usr/local/share/touchup/models",
            "/src/touchup/assets/models",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(dirs, want);
    }

    #[test]
    fn relative_xdg_folders_are_ignored_as_the_spec_says() {
        let dirs = search_dirs(
            env_of(&[("XDG_DATA_HOME", "rel"), ("XDG_DATA_DIRS", "x:/ok")]),
            None,
            Path::new("/c"),
        );
        let want: Vec<PathBuf> = ["/ok/touchup/models", "/c/assets/models"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(dirs, want);
    }

    #[test]
    fn the_first_folder_with_the_file_wins_and_a_miss_names_every_folder() {
        let root = tempfile::tempdir().expect("tempdir");
        let dirs: Vec<PathBuf> = ["one", "two", "three"]
            .iter()
            .map(|d| root.path().join(d))
            .collect();
        for d in &dirs[1..] {
            std::fs::create_dir_all(d).expect("mkdir");
            std::fs::write(d.join("m.onnx"), b"x").expect("write");
        }
        assert_eq!(find_in("m.onnx", &dirs), Ok(dirs[1].join("m.onnx")));
        // A folder named like the model is not the model.
        std::fs::create_dir_all(dirs[0].join("m.onnx")).expect("mkdir");
        assert_eq!(find_in("m.onnx", &dirs), Ok(dirs[1].join("m.onnx")));

        let missing = find_in("other.onnx", &dirs).expect_err("nowhere");
        assert_eq!(missing.looked, dirs);
        let text = missing.to_string();
        assert!(text.contains("other.onnx"), "{text}");
        for d in &dirs {
            assert!(text.contains(&d.display().to_string()), "{text}");
        }
    }

    #[test]
    fn this_checkout_has_the_text_models() {
        // The last fallback: a test binary finds the repository's models without any setting.
        let dirs = model_dirs();
        assert_eq!(
            dirs.last(),
            Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models"))
        );
        assert!(model_path("PP-OCRv6_det_small.onnx").is_ok());
    }
}
