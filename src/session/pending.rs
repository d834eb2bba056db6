//! Edit jobs that have not finished, kept under `ROOT/jobs/<key>/` (the photo, its mask and
//! what was asked) from the moment they are queued until they end, so that jobs still queued or
//! running when the editor crashes or is killed can be offered back at the next start. A clean
//! exit removes them all ([`PendingJobs::clear`]).
//!
//! A job's folder is complete once its `job.json` is there (written last, atomically); a folder
//! without it is a save cut short and is dropped.

use std::fs;
use std::path::{Path, PathBuf};

use image::RgbaImage;
use serde::{Deserialize, Serialize};

use super::disk::{decode_mask, encode_mask, encode_png, io_err, now_unix_ms, read_picture};
use super::{FORMAT_VERSION, SessionError, check_no_secrets, write_atomic};
use crate::mask::Mask;

const JOB_FILE: &str = "job.json";
const PHOTO_FILE: &str = "photo.png";
const MASK_FILE: &str = "mask.png";

/// What a pending job asks for (no pictures, no key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRecord {
    /// The photo's name and file in the editor.
    pub name: String,
    pub path: Option<PathBuf>,
    pub engine: crate::jobs::Engine,
    pub prompt: String,
    /// The edit settings as the form held them (see [`super::settings_value`]).
    pub settings: serde_json::Value,
}

/// A pending job read back from disk.
#[derive(Debug, Clone)]
pub struct PendingJob {
    pub key: String,
    pub record: PendingRecord,
    pub image: RgbaImage,
    pub mask: Mask,
    pub saved_unix_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct JobFile {
    format_version: u32,
    saved_unix_ms: u64,
    #[serde(flatten)]
    record: PendingRecord,
}

/// The folder of pending jobs.
#[derive(Debug, Clone)]
pub struct PendingJobs {
    dir: PathBuf,
}

impl PendingJobs {
    /// The pending jobs under `root/jobs` (nothing is created until a job is saved).
    pub fn new(root: &Path) -> Self {
        Self {
            dir: root.join("jobs"),
        }
    }

    fn folder(&self, key: &str) -> Option<PathBuf> {
        let plain = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        plain.then(|| self.dir.join(key))
    }

    /// Keeps a job until [`Self::remove`]. Refuses settings holding a secret-like field and a
    /// mask of another size than the photo.
    pub fn save(
        &self,
        key: &str,
        record: &PendingRecord,
        image: &RgbaImage,
        mask: &Mask,
    ) -> Result<(), SessionError> {
        check_no_secrets(&record.settings)?;
        if mask.size() != image.dimensions() {
            return Err(SessionError::MaskSize {
                mask_width: mask.width(),
                mask_height: mask.height(),
                image_width: image.width(),
                image_height: image.height(),
            });
        }
        let dir = self
            .folder(key)
            .ok_or_else(|| SessionError::PendingJob(format!("not a job key: {key:?}")))?;
        fs::create_dir_all(&dir).map_err(io_err("create the job folder", &dir))?;
        write_atomic(&dir.join(PHOTO_FILE), &encode_png(image)?)?;
        write_atomic(&dir.join(MASK_FILE), &encode_mask(mask)?)?;
        let file = JobFile {
            format_version: FORMAT_VERSION,
            saved_unix_ms: now_unix_ms(),
            record: record.clone(),
        };
        let json = serde_json::to_vec_pretty(&file)?;
        write_atomic(&dir.join(JOB_FILE), &json)
    }

    /// Forgets a job (it ended). Not there is fine.
    pub fn remove(&self, key: &str) {
        if let Some(dir) = self.folder(key)
            && dir.exists()
            && let Err(e) = fs::remove_dir_all(&dir)
        {
            tracing::warn!(err = %e, dir = %dir.display(), "could not remove a pending job");
        }
    }

    /// Forgets every job (a clean exit, or the designer declined them).
    pub fn clear(&self) {
        if self.dir.exists()
            && let Err(e) = fs::remove_dir_all(&self.dir)
        {
            tracing::warn!(err = %e, "could not remove the pending jobs");
        }
    }

    /// Whether any job folder is there (without reading them).
    pub fn any(&self) -> bool {
        fs::read_dir(&self.dir).is_ok_and(|mut d| d.next().is_some())
    }

    /// Every complete pending job, oldest first, and why the others could not be read (those
    /// are removed).
    pub fn load_all(&self) -> (Vec<PendingJob>, Vec<String>) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return (Vec::new(), Vec::new());
        };
        let (mut jobs, mut problems) = (Vec::new(), Vec::new());
        for entry in entries.flatten() {
            let key = entry.file_name().to_string_lossy().into_owned();
            match self.load(&key) {
                Ok(job) => jobs.push(job),
                Err(e) => {
                    problems.push(format!("job {key}: {e}"));
                    self.remove(&key);
                }
            }
        }
        jobs.sort_by_key(|j| j.saved_unix_ms);
        (jobs, problems)
    }

    fn load(&self, key: &str) -> Result<PendingJob, SessionError> {
        let dir = self
            .folder(key)
            .ok_or_else(|| SessionError::PendingJob(format!("not a job key: {key:?}")))?;
        let path = dir.join(JOB_FILE);
        let text = fs::read_to_string(&path).map_err(io_err("read", &path))?;
        let file: JobFile = serde_json::from_str(&text)
            .map_err(|e| SessionError::PendingJob(format!("{}: {e}", path.display())))?;
        let image = read_picture(&dir.join(PHOTO_FILE))
            .map_err(|e| SessionError::PendingJob(format!("the photo: {e}")))?;
        let mask = decode_mask(&dir.join(MASK_FILE))
            .map_err(|e| SessionError::PendingJob(format!("the mask: {e}")))?;
        if mask.size() != image.dimensions() {
            return Err(SessionError::PendingJob(
                "the mask's size differs from the photo's".into(),
            ));
        }
        Ok(PendingJob {
            key: key.to_string(),
            record: file.record,
            image,
            mask,
            saved_unix_ms: file.saved_unix_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(prompt: &str) -> PendingRecord {
        PendingRecord {
            name: "shop.jpg".into(),
            path: Some("/photos/shop.jpg".into()),
            engine: crate::jobs::Engine::Local,
            prompt: prompt.into(),
            settings: serde_json::json!({"numberResults": 2}),
        }
    }

    #[test]
    fn saved_jobs_come_back_until_removed_and_clear_forgets_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = PendingJobs::new(dir.path());
        assert!(!store.any());
        let image = RgbaImage::from_pixel(40, 30, image::Rgba([10, 200, 30, 255]));
        let mut mask = Mask::new(40, 30);
        mask.fill_rect(5, 5, 10, 8, 255);
        store.save("a1", &record("first"), &image, &mask).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        store.save("b2", &record("second"), &image, &mask).unwrap();
        let (jobs, problems) = store.load_all();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].record, record("first"), "oldest first");
        assert_eq!(jobs[1].key, "b2");
        assert_eq!(jobs[0].image, image);
        assert_eq!(jobs[0].mask, mask);

        store.remove("a1");
        let (jobs, _) = store.load_all();
        assert_eq!(jobs.len(), 1);
        store.clear();
        assert!(!store.any());
        assert!(store.load_all().0.is_empty());
    }

    #[test]
    fn a_cut_short_or_foreign_folder_is_dropped_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let store = PendingJobs::new(dir.path());
        let image = RgbaImage::new(8, 8);
        let mask = Mask::new(8, 8);
        store.save("good", &record("ok"), &image, &mask).unwrap();
        // A save cut short: the pictures, no job.json.
        let cut = dir.path().join("jobs").join("cut");
        fs::create_dir_all(&cut).unwrap();
        fs::write(cut.join(PHOTO_FILE), b"not a png").unwrap();
        let (jobs, problems) = store.load_all();
        assert_eq!(jobs.len(), 1);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("cut"), "{problems:?}");
        assert!(!cut.exists(), "the broken folder is removed");
    }

    #[test]
    fn secrets_bad_keys_and_mismatched_masks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = PendingJobs::new(dir.path());
        let image = RgbaImage::new(8, 8);
        let mut r = record("x");
        r.settings = serde_json::json!({"apiKey": "secret"});
        assert!(store.save("k", &r, &image, &Mask::new(8, 8)).is_err());
        assert!(
            store
                .save("../up", &record("x"), &image, &Mask::new(8, 8))
                .is_err()
        );
        assert!(
            store
                .save("k", &record("x"), &image, &Mask::new(4, 8))
                .is_err()
        );
        assert!(!store.any());
    }
}
