//! Disk helpers every part of the session shares: atomic writes, the secret check on settings,
//! and pictures (what to store, PNG encoding of pixels and masks, reading them back).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use image::RgbaImage;
use serde::Serialize;

use super::SessionError;
use crate::imageio;
use crate::mask::Mask;

pub(super) fn io_err(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> SessionError {
    let path = path.to_path_buf();
    move |source| SessionError::Io {
        action,
        path,
        source,
    }
}

/// The user's data directory for touchup (e.g. `~/.local/share/touchup` on Linux).
pub fn default_root() -> Result<PathBuf, SessionError> {
    directories::ProjectDirs::from("app", "touchup", "touchup")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or(SessionError::NoDataDir)
}

pub(super) fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced, then renamed
/// over `path`: readers see the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SessionError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut f = fs::File::create(&tmp).map_err(io_err("create", &tmp))?;
        f.write_all(bytes).map_err(io_err("write", &tmp))?;
        f.sync_all().map_err(io_err("sync", &tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(io_err("rename into place", path))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Refuses settings that carry a field named like a secret (see the module docs).
pub fn check_no_secrets(settings: &serde_json::Value) -> Result<(), SessionError> {
    fn looks_secret(name: &str) -> bool {
        let n: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        n == "key"
            || n.ends_with("apikey")
            || n.starts_with("apikey")
            || [
                "secret",
                "password",
                "passwd",
                "token",
                "authorization",
                "credential",
                "bearer",
            ]
            .iter()
            .any(|s| n.contains(s))
    }
    fn walk(v: &serde_json::Value, path: &str) -> Result<(), SessionError> {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let here = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    if looks_secret(k) {
                        return Err(SessionError::SecretInSettings { field: here });
                    }
                    walk(v, &here)?;
                }
                Ok(())
            }
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| walk(v, &format!("{path}[{i}]"))),
            _ => Ok(()),
        }
    }
    walk(settings, "")
}

/// Turns any serializable settings type into the JSON value the session stores.
pub fn settings_value<T: Serialize>(settings: &T) -> Result<serde_json::Value, SessionError> {
    Ok(serde_json::to_value(settings)?)
}

/// A picture to store: pixels (written as PNG) or an already encoded file (kept as is).
#[derive(Debug, Clone, Copy)]
pub enum Picture<'a> {
    Pixels(&'a RgbaImage),
    Encoded(&'a [u8]),
}

impl Picture<'_> {
    /// The bytes to write and their extension.
    pub(super) fn file_bytes(&self) -> Result<(Vec<u8>, &'static str), SessionError> {
        match self {
            Picture::Pixels(img) => Ok((encode_png(img)?, "png")),
            Picture::Encoded(bytes) => {
                if image::guess_format(bytes).is_err() {
                    return Err(SessionError::Picture {
                        action: "store",
                        source: imageio::ImageError::UnknownFormat,
                    });
                }
                let ext = match imageio::sniff_mime(bytes) {
                    "image/jpeg" => "jpg",
                    "image/webp" => "webp",
                    "image/gif" => "gif",
                    "image/bmp" => "bmp",
                    "image/tiff" => "tiff",
                    _ => "png",
                };
                Ok((bytes.to_vec(), ext))
            }
        }
    }

    pub(super) fn pixels(&self) -> Result<std::borrow::Cow<'_, RgbaImage>, SessionError> {
        match self {
            Picture::Pixels(img) => Ok(std::borrow::Cow::Borrowed(img)),
            Picture::Encoded(bytes) => {
                imageio::decode(bytes)
                    .map(std::borrow::Cow::Owned)
                    .map_err(|source| SessionError::Picture {
                        action: "decode",
                        source,
                    })
            }
        }
    }
}

pub(super) fn encode_png(img: &RgbaImage) -> Result<Vec<u8>, SessionError> {
    imageio::encode(img, imageio::Format::Png, 100).map_err(|source| SessionError::Picture {
        action: "encode",
        source,
    })
}

pub(super) fn encode_mask(mask: &Mask) -> Result<Vec<u8>, SessionError> {
    use image::ImageEncoder as _;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    // Straight from the mask's buffer (a copy of a 67-megapixel mask faulted in fresh pages on
    // every save). A mask is long runs: the fast compressor keeps it small and takes a
    // fraction of the default's time on a large one.
    let mut out = std::io::Cursor::new(Vec::new());
    let large = u64::from(mask.width()) * u64::from(mask.height()) > imageio::LARGE_PNG_PIXELS;
    let encoder = if large {
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
    } else {
        PngEncoder::new(&mut out)
    };
    encoder
        .write_image(
            mask.as_raw(),
            mask.width(),
            mask.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| SessionError::Picture {
            action: "encode",
            source: imageio::ImageError::Encode(e.to_string()),
        })?;
    Ok(out.into_inner())
}

pub(super) fn read_picture(path: &Path) -> Result<RgbaImage, imageio::ImageError> {
    imageio::open(path).map_err(|e| e.source)
}

pub(super) fn decode_mask(path: &Path) -> Result<Mask, imageio::ImageError> {
    let img = read_picture(path)?;
    let (w, h) = img.dimensions();
    let data: Vec<u8> = img.pixels().map(|p| p.0[0]).collect();
    Mask::from_raw(w, h, data).ok_or_else(|| imageio::ImageError::Corrupt("mask size".into()))
}

/// A file name from a record: a plain name inside the entry's folder, never a path.
pub(super) fn plain_file_name(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(name)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;
    use crate::session::fixtures::photo;
    use crate::session::{Autosave, History, NewEdit, WorkSnapshot};

    #[test]
    fn settings_with_a_key_field_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let seed = photo(8, 8, 1);
        let m = Mask::new(8, 8);
        for (field, settings) in [
            (
                "apiKey",
                json!({"apiKey": "rw-secret-123", "style": "AUTO"}),
            ),
            (
                "auth.api_key",
                json!({"auth": {"api_key": "rw-secret-123"}}),
            ),
            (
                "tasks[0].RUNWARE_API_KEY",
                json!({"tasks": [{"RUNWARE_API_KEY": "x"}]}),
            ),
            ("Authorization", json!({"Authorization": "Bearer x"})),
            ("token", json!({"token": "x"})),
        ] {
            let err = history
                .record(&NewEdit {
                    seed_image: Picture::Pixels(&seed),
                    mask: &m,
                    prompt: "p",
                    settings,
                    results: vec![],
                })
                .unwrap_err();
            match &err {
                SessionError::SecretInSettings { field: f } => assert_eq!(f, field),
                other => panic!("expected a refusal, got {other}"),
            }
            assert!(!err.to_string().contains("rw-secret-123"));
        }
        assert!(history.list().edits.is_empty(), "nothing was written");
        let names = fs::read_dir(history.dir()).unwrap().count();
        assert_eq!(names, 0);
        // Ordinary names that merely contain "key"-like letters pass.
        check_no_secrets(&json!({"keep_outside": true, "monkey": 1, "keyframes": []})).unwrap();
        let mut a = Autosave::start(root.path()).unwrap().autosave;
        let bad = json!({"apiKey": "x"});
        let err = a
            .save(&WorkSnapshot {
                image: &seed,
                mask: &m,
                prompt: "p",
                settings: &bad,
            })
            .unwrap_err();
        assert!(matches!(err, SessionError::SecretInSettings { .. }));
    }

    #[test]
    fn atomic_write_replaces_whole_files_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        write_atomic(&p, b"first version").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no-such-dir").join("f");
        assert!(matches!(
            write_atomic(&missing, b"x"),
            Err(SessionError::Io { .. })
        ));
    }
}
