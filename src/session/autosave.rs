//! Autosave of the current work under `ROOT/autosave`, and the recovery offered after a crash
//! or a kill (a marker file only a clean exit removes). A session stopped by a signal (SIGTERM,
//! SIGINT, SIGHUP) saves its work and swaps the marker for `stopped`, so the next start offers
//! the work back as kept, not as a crash.

use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use image::RgbaImage;
use serde::{Deserialize, Serialize};

use super::disk::{
    decode_mask, encode_mask, encode_png, io_err, now_unix_ms, plain_file_name, read_picture,
};
use super::{FORMAT_VERSION, MARKER_FILE, SessionError, WORK_FILE, check_no_secrets, write_atomic};
use crate::mask::Mask;

/// Left by [`Autosave::mark_stopped`]: the last session was stopped by a signal and its work
/// was saved on the way out.
const STOPPED_FILE: &str = "stopped";

/// The current work, as autosaved.
#[derive(Debug, Clone, Copy)]
pub struct WorkSnapshot<'a> {
    pub image: &'a RgbaImage,
    pub mask: &'a Mask,
    pub prompt: &'a str,
    pub settings: &'a serde_json::Value,
}

/// What tells one photo from another for [`Autosave::save_with_fingerprint`]: its size and a
/// hash of its pixels.
pub fn image_fingerprint(image: &RgbaImage) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    image.dimensions().hash(&mut h);
    image.as_raw().hash(&mut h);
    h.finish()
}

/// Work found after a crash or a kill.
#[derive(Debug, Clone)]
pub struct RecoveredWork {
    pub image: RgbaImage,
    pub mask: Mask,
    pub prompt: String,
    pub settings: serde_json::Value,
    pub saved_unix_ms: u64,
    /// The session that left it was stopped by a signal and saved on the way out (not a crash).
    pub stopped_by_signal: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct WorkRecord {
    format_version: u32,
    saved_unix_ms: u64,
    prompt: String,
    #[serde(default)]
    settings: serde_json::Value,
    image_size: (u32, u32),
    image_file: String,
    mask_file: String,
}

/// What [`Autosave::start`] found.
#[derive(Debug)]
pub struct AutosaveStart {
    pub autosave: Autosave,
    /// The work of a session that ended without [`Autosave::finish`] (a crash or a kill).
    pub recovered: Option<RecoveredWork>,
    /// Set when such work existed but could not be read.
    pub problem: Option<SessionError>,
}

/// Autosave of the current work. Start it once at launch; it leaves a marker file that only
/// [`Autosave::finish`] (a clean exit) removes, so the next launch knows whether to offer the
/// autosaved work back. (A second instance running at the same time sees the first's marker
/// and offers its work too.)
#[derive(Debug)]
pub struct Autosave {
    dir: PathBuf,
    image_written: Option<(u64, String)>,
    saves: u64,
}

impl Autosave {
    /// Starts autosaving under `root/autosave`, returning work left by an unclean exit.
    pub fn start(root: &Path) -> Result<AutosaveStart, SessionError> {
        let dir = root.join("autosave");
        fs::create_dir_all(&dir).map_err(io_err("create the autosave folder", &dir))?;
        let marker = dir.join(MARKER_FILE);
        let stopped_marker = dir.join(STOPPED_FILE);
        let stopped = stopped_marker.exists();
        let crashed = marker.exists();
        let (mut recovered, mut problem) = (None, None);
        if (crashed || stopped) && dir.join(WORK_FILE).exists() {
            match read_work(&dir) {
                Ok(mut w) => {
                    tracing::info!(
                        stopped,
                        "found autosaved work from a session that did not exit cleanly"
                    );
                    w.stopped_by_signal = stopped;
                    recovered = Some(w);
                }
                Err(e) => {
                    tracing::warn!(err = %e, "autosaved work is damaged");
                    problem = Some(e);
                }
            }
        } else if !crashed && !stopped {
            remove_work_files(&dir, None);
        }
        write_atomic(&marker, std::process::id().to_string().as_bytes())?;
        // From now on this session's marker speaks for the work on disk: should it crash
        // before the work is answered for, the next start offers it as after a crash.
        remove_if_there(&stopped_marker)?;
        Ok(AutosaveStart {
            autosave: Autosave {
                dir,
                image_written: None,
                saves: 0,
            },
            recovered,
            problem,
        })
    }

    /// Saves the current work (replacing the previous save). The image is rewritten only when
    /// its pixels changed. Refuses settings holding a secret-like field.
    pub fn save(&mut self, work: &WorkSnapshot<'_>) -> Result<(), SessionError> {
        self.save_with_fingerprint(work, image_fingerprint(work.image))
    }

    /// [`Autosave::save`] with the image's [`image_fingerprint`] already known (a caller that
    /// saves the same photo again and again need not hash its pixels every time).
    pub fn save_with_fingerprint(
        &mut self,
        work: &WorkSnapshot<'_>,
        fingerprint: u64,
    ) -> Result<(), SessionError> {
        check_no_secrets(work.settings)?;
        if work.mask.size() != work.image.dimensions() {
            return Err(SessionError::MaskSize {
                mask_width: work.mask.width(),
                mask_height: work.mask.height(),
                image_width: work.image.width(),
                image_height: work.image.height(),
            });
        }
        let image_file = match &self.image_written {
            Some((f, name)) if *f == fingerprint && self.dir.join(name).is_file() => name.clone(),
            _ => {
                let name = format!("image-{fingerprint:016x}.png");
                write_atomic(&self.dir.join(&name), &encode_png(work.image)?)?;
                self.image_written = Some((fingerprint, name.clone()));
                name
            }
        };
        self.saves += 1;
        let mask_file = format!("mask-{}-{}.png", std::process::id(), self.saves);
        write_atomic(&self.dir.join(&mask_file), &encode_mask(work.mask)?)?;
        let record = WorkRecord {
            format_version: FORMAT_VERSION,
            saved_unix_ms: now_unix_ms(),
            prompt: work.prompt.to_string(),
            settings: work.settings.clone(),
            image_size: work.image.dimensions(),
            image_file: image_file.clone(),
            mask_file: mask_file.clone(),
        };
        write_atomic(
            &self.dir.join(WORK_FILE),
            &serde_json::to_vec_pretty(&record)?,
        )?;
        remove_work_files(&self.dir, Some((&image_file, &mask_file)));
        Ok(())
    }

    /// Forgets the autosaved work (the user declined to restore it, or saved elsewhere).
    pub fn discard(&mut self) {
        remove_work_files(&self.dir, None);
        self.image_written = None;
    }

    /// A clean exit: removes the autosaved work and the markers.
    pub fn finish(mut self) -> Result<(), SessionError> {
        self.discard();
        remove_if_there(&self.dir.join(STOPPED_FILE))?;
        remove_if_there(&self.dir.join(MARKER_FILE))
    }

    /// The session was stopped by a signal after its work was saved: the work stays, and the
    /// next start offers it back as kept on the way out (not as after a crash). Work that holds
    /// nothing is the caller's to judge when it is offered.
    pub fn mark_stopped(self) -> Result<(), SessionError> {
        write_atomic(
            &self.dir.join(STOPPED_FILE),
            std::process::id().to_string().as_bytes(),
        )?;
        remove_if_there(&self.dir.join(MARKER_FILE))
    }
}

fn remove_if_there(path: &Path) -> Result<(), SessionError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("remove", path)(e)),
    }
}

fn read_work(dir: &Path) -> Result<RecoveredWork, SessionError> {
    let corrupt = |reason: String| SessionError::CorruptAutosave { reason };
    let bytes = fs::read(dir.join(WORK_FILE)).map_err(|e| corrupt(format!("work.json: {e}")))?;
    let rec: WorkRecord =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("work.json: {e}")))?;
    let (Some(image_file), Some(mask_file)) = (
        plain_file_name(&rec.image_file),
        plain_file_name(&rec.mask_file),
    ) else {
        return Err(corrupt("work.json names a file outside its folder".into()));
    };
    let image = read_picture(&dir.join(image_file)).map_err(|e| corrupt(format!("image: {e}")))?;
    let mask = decode_mask(&dir.join(mask_file)).map_err(|e| corrupt(format!("mask: {e}")))?;
    if mask.size() != image.dimensions() {
        return Err(corrupt("the mask and the image differ in size".into()));
    }
    Ok(RecoveredWork {
        image,
        mask,
        prompt: rec.prompt,
        settings: rec.settings,
        saved_unix_ms: rec.saved_unix_ms,
        stopped_by_signal: false,
    })
}

/// Removes autosaved work files except `keep` (image, mask); `None` removes work.json too.
fn remove_work_files(dir: &Path, keep: Option<(&str, &str)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with("image-") || name.starts_with("mask-") || name == WORK_FILE;
        let kept = match keep {
            Some((img, mask)) => name == img || name == mask || name == WORK_FILE,
            None => false,
        };
        if ours
            && !kept
            && let Err(err) = fs::remove_file(e.path())
        {
            tracing::warn!(file = %name, %err, "could not remove an old autosave file");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;
    use crate::session::fixtures::{mask, photo, settings};

    #[test]
    fn autosave_is_offered_after_a_crash_not_after_a_clean_exit() {
        let root = tempfile::tempdir().unwrap();
        let image = photo(24, 16, 5);
        let m = mask(24, 16);
        let s = settings();

        // First run: nothing to recover; save twice (the second with a changed mask), then
        // "crash" (no finish).
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_none() && start.problem.is_none());
        let mut a = start.autosave;
        let snapshot = WorkSnapshot {
            image: &image,
            mask: &Mask::new(24, 16),
            prompt: "first",
            settings: &s,
        };
        a.save(&snapshot).unwrap();
        a.save(&WorkSnapshot {
            mask: &m,
            prompt: "CLOSED MONDAYS",
            ..snapshot
        })
        .unwrap();
        drop(a);
        // Only the latest files remain.
        let files = fs::read_dir(root.path().join("autosave")).unwrap().count();
        assert_eq!(files, 4, "marker, work.json, one image, one mask");

        // Second run: the work is offered back.
        let start = Autosave::start(root.path()).unwrap();
        let got = start.recovered.expect("work after a crash");
        assert_eq!(got.image, image);
        assert_eq!(got.mask, m);
        assert_eq!(got.prompt, "CLOSED MONDAYS");
        assert_eq!(got.settings, s);
        assert!(got.saved_unix_ms > 0);
        assert!(!got.stopped_by_signal, "a crash is not a signal stop");
        // Clean exit this time.
        start.autosave.finish().unwrap();

        // Third run: nothing to offer.
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_none());
        start.autosave.finish().unwrap();
    }

    #[test]
    fn work_saved_on_a_signal_stop_is_offered_as_such_and_a_clean_exit_still_clears_all() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("autosave");
        let image = photo(24, 16, 9);
        let m = mask(24, 16);
        let s = settings();
        let mut a = Autosave::start(root.path()).unwrap().autosave;
        a.save(&WorkSnapshot {
            image: &image,
            mask: &m,
            prompt: "OPEN LATE",
            settings: &s,
        })
        .unwrap();
        a.mark_stopped().unwrap();
        assert!(dir.join(STOPPED_FILE).is_file());
        assert!(
            !dir.join(MARKER_FILE).exists(),
            "no crash marker after a stop"
        );
        assert!(dir.join(WORK_FILE).is_file(), "the work stays");

        // The next start offers it, saying it was a signal stop, and its own marker takes over.
        let start = Autosave::start(root.path()).unwrap();
        let got = start.recovered.expect("work after a signal stop");
        assert!(got.stopped_by_signal);
        assert_eq!(got.mask, m);
        assert_eq!(got.prompt, "OPEN LATE");
        assert!(!dir.join(STOPPED_FILE).exists());
        assert!(dir.join(MARKER_FILE).is_file());
        // That session crashes before the work is answered for: offered again, as a crash.
        drop(start.autosave);
        let start = Autosave::start(root.path()).unwrap();
        let got = start.recovered.expect("work still kept");
        assert!(!got.stopped_by_signal);
        // Stopped again, then a session that ends cleanly leaves nothing at all.
        start.autosave.mark_stopped().unwrap();
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_some_and(|w| w.stopped_by_signal));
        start.autosave.finish().unwrap();
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "no files left");
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_none() && start.problem.is_none());

        // A stop with nothing saved offers nothing.
        start.autosave.mark_stopped().unwrap();
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_none() && start.problem.is_none());
        start.autosave.finish().unwrap();
    }

    #[test]
    fn damaged_autosave_is_reported_not_fatal() {
        let root = tempfile::tempdir().unwrap();
        let image = photo(8, 8, 1);
        let m = Mask::new(8, 8);
        let mut a = Autosave::start(root.path()).unwrap().autosave;
        a.save(&WorkSnapshot {
            image: &image,
            mask: &m,
            prompt: "p",
            settings: &json!({}),
        })
        .unwrap();
        drop(a);
        let work = root.path().join("autosave").join(WORK_FILE);
        let bytes = fs::read(&work).unwrap();
        fs::write(&work, &bytes[..bytes.len() - 10]).unwrap();
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_none());
        assert!(matches!(
            start.problem,
            Some(SessionError::CorruptAutosave { .. })
        ));
        // Discarding clears it; the next crash offers nothing stale.
        let mut a = start.autosave;
        a.discard();
        drop(a);
        let start = Autosave::start(root.path()).unwrap();
        assert!(start.recovered.is_none() && start.problem.is_none());
    }
}
