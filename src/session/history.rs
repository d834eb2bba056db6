//! The history store: every edit in its own folder under `ROOT/history`, assembled in a hidden
//! temporary folder and renamed in whole; listing, reopening, keeping, deleting and pruning.

use std::fs;
use std::path::{Path, PathBuf};

use image::RgbaImage;

use super::disk::{
    decode_mask, encode_mask, encode_png, io_err, now_unix_ms, plain_file_name, read_picture,
};
use super::{
    DEFAULT_BUDGET_BYTES, ENTRY_FILE, EditId, EditRecord, EditSummary, FORMAT_VERSION,
    HistoryProblem, Listing, MASK_FILE, NewEdit, NewResult, Recorded, ReopenedEdit, ResultRecord,
    SessionError, THUMB_FILE, THUMBNAIL_SIDE, check_no_secrets, default_root, write_atomic,
};
use crate::imageio;

/// The history of edits on disk.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
    budget_bytes: u64,
}

impl History {
    /// The history under `root/history` (created when missing), with the default budget.
    pub fn open(root: &Path) -> Result<Self, SessionError> {
        let dir = root.join("history");
        fs::create_dir_all(&dir).map_err(io_err("create the history folder", &dir))?;
        let history = Self {
            dir,
            budget_bytes: DEFAULT_BUDGET_BYTES,
        };
        history.sweep_leftovers();
        Ok(history)
    }

    /// The history under the user's data directory.
    pub fn open_default() -> Result<Self, SessionError> {
        Self::open(&default_root()?)
    }

    /// The folder holding the entries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn budget_bytes(&self) -> u64 {
        self.budget_bytes
    }

    /// Sets the size budget; takes effect at the next [`History::record`] or [`History::prune`].
    pub fn set_budget_bytes(&mut self, bytes: u64) {
        self.budget_bytes = bytes;
    }

    fn entry_dir(&self, id: &EditId) -> PathBuf {
        self.dir.join(id.as_str())
    }

    /// Removes what interrupted deletes left, and temporary folders older than an hour (an
    /// interrupted record; younger ones may belong to another running instance).
    fn sweep_leftovers(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
            if (name.starts_with(".trash-") || (name.starts_with(".tmp-") && old))
                && let Err(err) = fs::remove_dir_all(e.path())
            {
                tracing::warn!(folder = %name, %err, "could not remove a leftover history folder");
            }
        }
    }

    /// Records an edit (atomically: the entry appears whole or not at all), then prunes the
    /// oldest edits beyond the budget. Refuses settings holding a secret-like field.
    pub fn record(&self, edit: &NewEdit<'_>) -> Result<Recorded, SessionError> {
        check_no_secrets(&edit.settings)?;
        let seed_pixels = edit.seed_image.pixels()?;
        let (w, h) = seed_pixels.dimensions();
        if edit.mask.size() != (w, h) {
            return Err(SessionError::MaskSize {
                mask_width: edit.mask.width(),
                mask_height: edit.mask.height(),
                image_width: w,
                image_height: h,
            });
        }
        let created = now_unix_ms();
        let id = EditId::new(created);
        let tmp = self.dir.join(format!(".tmp-{id}"));
        fs::create_dir_all(&tmp).map_err(io_err("create", &tmp))?;
        let built = (|| {
            let (seed_bytes, ext) = edit.seed_image.file_bytes()?;
            let seed_file = format!("seed.{ext}");
            write_atomic(&tmp.join(&seed_file), &seed_bytes)?;
            write_atomic(&tmp.join(MASK_FILE), &encode_mask(edit.mask)?)?;
            let thumb = imageio::fit_within(&seed_pixels, THUMBNAIL_SIDE);
            write_atomic(&tmp.join(THUMB_FILE), &encode_png(&thumb)?)?;
            let mut results = Vec::with_capacity(edit.results.len());
            for (i, r) in edit.results.iter().enumerate() {
                results.push(write_result(&tmp, i, r)?);
            }
            let record = EditRecord {
                format_version: FORMAT_VERSION,
                id: id.clone(),
                created_unix_ms: created,
                prompt: edit.prompt.to_string(),
                settings: edit.settings.clone(),
                image_size: (w, h),
                seed_file,
                mask_file: MASK_FILE.to_string(),
                results,
            };
            write_atomic(&tmp.join(ENTRY_FILE), &serde_json::to_vec_pretty(&record)?)?;
            let dest = self.entry_dir(&id);
            fs::rename(&tmp, &dest).map_err(io_err("move into the history", &dest))
        })();
        if let Err(err) = built {
            let _ = fs::remove_dir_all(&tmp);
            return Err(err);
        }
        tracing::info!(%id, results = edit.results.len(), "recorded an edit in the history");
        // The edit is safely recorded; a failed prune is logged, not turned into a failure.
        let pruned = self.prune_keeping(Some(&id)).unwrap_or_else(|err| {
            tracing::warn!(%err, "could not prune the history to its budget");
            Vec::new()
        });
        Ok(Recorded { id, pruned })
    }

    fn read_record(&self, id: &EditId) -> Result<EditRecord, SessionError> {
        let dir = self.entry_dir(id);
        if !dir.is_dir() {
            return Err(SessionError::NotFound { id: id.to_string() });
        }
        let path = dir.join(ENTRY_FILE);
        let corrupt = |reason: String| SessionError::Corrupt {
            id: id.to_string(),
            reason,
        };
        let bytes = fs::read(&path).map_err(|e| corrupt(format!("cannot read entry.json: {e}")))?;
        let record: EditRecord = serde_json::from_slice(&bytes)
            .map_err(|e| corrupt(format!("entry.json is not a valid record: {e}")))?;
        if record.id != *id {
            return Err(corrupt(format!(
                "entry.json names another edit ({})",
                record.id
            )));
        }
        let names = [&record.seed_file, &record.mask_file].into_iter().chain(
            record
                .results
                .iter()
                .flat_map(|r| std::iter::once(&r.file).chain(&r.raw_file)),
        );
        for name in names {
            if plain_file_name(name).is_none() {
                return Err(corrupt(format!(
                    "entry.json names a file outside its folder: {name:?}"
                )));
            }
        }
        for name in [&record.seed_file, &record.mask_file] {
            if !dir.join(name).is_file() {
                return Err(corrupt(format!("{name} is missing")));
            }
        }
        Ok(record)
    }

    fn write_record(&self, record: &EditRecord) -> Result<(), SessionError> {
        let path = self.entry_dir(&record.id).join(ENTRY_FILE);
        write_atomic(&path, &serde_json::to_vec_pretty(record)?)
    }

    /// Adds a result that arrived after the edit was recorded; returns its index.
    pub fn add_result(&self, id: &EditId, result: &NewResult<'_>) -> Result<usize, SessionError> {
        let mut record = self.read_record(id)?;
        let index = record.results.len();
        let rec = write_result(&self.entry_dir(id), index, result)?;
        record.results.push(rec);
        self.write_record(&record)?;
        Ok(index)
    }

    /// Stars (keeps) or unstars result `index` of an edit.
    pub fn set_kept(&self, id: &EditId, index: usize, kept: bool) -> Result<(), SessionError> {
        let mut record = self.read_record(id)?;
        let r = record
            .results
            .get_mut(index)
            .ok_or_else(|| SessionError::NoSuchResult {
                id: id.to_string(),
                index,
            })?;
        r.kept = kept;
        self.write_record(&record)
    }

    /// Every readable edit, newest first; damaged ones are listed in `problems` and skipped.
    pub fn list(&self) -> Listing {
        let mut listing = Listing::default();
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(err) => {
                listing.problems.push(HistoryProblem {
                    name: self.dir.display().to_string(),
                    message: format!("cannot read the history folder: {err}"),
                });
                return listing;
            }
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !e.path().is_dir() {
                continue;
            }
            let id = match EditId::parse(&name) {
                Ok(id) => id,
                Err(err) => {
                    listing.problems.push(HistoryProblem {
                        name,
                        message: err.to_string(),
                    });
                    continue;
                }
            };
            match self.read_record(&id) {
                Ok(record) => listing.edits.push(EditSummary {
                    thumbnail: e.path().join(THUMB_FILE),
                    bytes: folder_bytes(&e.path()),
                    result_count: record.results.len(),
                    kept_count: record.results.iter().filter(|r| r.kept).count(),
                    id: record.id,
                    created_unix_ms: record.created_unix_ms,
                    prompt: record.prompt,
                    image_size: record.image_size,
                }),
                Err(err) => {
                    tracing::warn!(entry = %name, %err, "skipped a damaged history entry");
                    listing.problems.push(HistoryProblem {
                        name,
                        message: err.to_string(),
                    });
                }
            }
        }
        listing
            .edits
            .sort_by(|a, b| (b.created_unix_ms, &b.id).cmp(&(a.created_unix_ms, &a.id)));
        listing
    }

    /// The thumbnail of an edit.
    pub fn load_thumbnail(&self, id: &EditId) -> Result<RgbaImage, SessionError> {
        read_picture(&self.entry_dir(id).join(THUMB_FILE)).map_err(|e| SessionError::Corrupt {
            id: id.to_string(),
            reason: format!("thumbnail: {e}"),
        })
    }

    /// Reads an edit back: seed image, mask, record (prompt, settings) and results.
    pub fn reopen(&self, id: &EditId) -> Result<ReopenedEdit, SessionError> {
        let record = self.read_record(id)?;
        let dir = self.entry_dir(id);
        let corrupt = |what: &str, e: imageio::ImageError| SessionError::Corrupt {
            id: id.to_string(),
            reason: format!("{what}: {e}"),
        };
        let seed =
            read_picture(&dir.join(&record.seed_file)).map_err(|e| corrupt("seed image", e))?;
        let mask = decode_mask(&dir.join(&record.mask_file)).map_err(|e| corrupt("mask", e))?;
        if mask.size() != seed.dimensions() || seed.dimensions() != record.image_size {
            return Err(SessionError::Corrupt {
                id: id.to_string(),
                reason: format!(
                    "seed is {}x{}, mask {}x{}, record says {}x{}",
                    seed.width(),
                    seed.height(),
                    mask.width(),
                    mask.height(),
                    record.image_size.0,
                    record.image_size.1
                ),
            });
        }
        let results = record
            .results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                read_picture(&dir.join(&r.file))
                    .map_err(|e| corrupt(&format!("result {}", i + 1), e))
            })
            .collect();
        let raws = record
            .results
            .iter()
            .map(|r| {
                let file = plain_file_name(r.raw_file.as_deref()?)?;
                read_picture(&dir.join(file))
                    .map_err(|e| tracing::warn!(edit = %id, %file, "raw output unreadable: {e}"))
                    .ok()
            })
            .collect();
        Ok(ReopenedEdit {
            record,
            seed,
            mask,
            results,
            raws,
        })
    }

    /// The path of a stored file of an edit (a result or raw output named in its record).
    pub fn file_path(&self, id: &EditId, file: &str) -> Option<PathBuf> {
        plain_file_name(file).map(|f| self.entry_dir(id).join(f))
    }

    /// Deletes an edit (also a damaged one): renamed aside first, so it vanishes at once.
    pub fn delete(&self, id: &EditId) -> Result<(), SessionError> {
        let dir = self.entry_dir(id);
        if !dir.is_dir() {
            return Err(SessionError::NotFound { id: id.to_string() });
        }
        let trash = self
            .dir
            .join(format!(".trash-{id}-{}", uuid::Uuid::new_v4().simple()));
        fs::rename(&dir, &trash).map_err(io_err("move aside for deletion", &dir))?;
        fs::remove_dir_all(&trash).map_err(io_err("delete", &trash))?;
        tracing::info!(%id, "deleted an edit from the history");
        Ok(())
    }

    /// Deletes the oldest edits until the history fits its budget (the newest always stays).
    pub fn prune(&self) -> Result<Vec<EditId>, SessionError> {
        self.prune_keeping(None)
    }

    fn prune_keeping(&self, keep: Option<&EditId>) -> Result<Vec<EditId>, SessionError> {
        let listing = self.list();
        let mut total: u64 = listing.edits.iter().map(|e| e.bytes).sum();
        let mut pruned = Vec::new();
        // Oldest first; never the newest, never the one just recorded.
        for e in listing.edits.iter().skip(1).rev() {
            if total <= self.budget_bytes {
                break;
            }
            if Some(&e.id) == keep {
                continue;
            }
            self.delete(&e.id)?;
            total = total.saturating_sub(e.bytes);
            pruned.push(e.id.clone());
        }
        if !pruned.is_empty() {
            tracing::info!(
                count = pruned.len(),
                budget = self.budget_bytes,
                "pruned old edits"
            );
        }
        Ok(pruned)
    }
}

fn write_result(dir: &Path, index: usize, r: &NewResult<'_>) -> Result<ResultRecord, SessionError> {
    let n = index + 1;
    let (bytes, ext) = r.image.file_bytes()?;
    let file = format!("result-{n}.{ext}");
    write_atomic(&dir.join(&file), &bytes)?;
    let raw_file = match &r.raw {
        Some(raw) => {
            let (bytes, ext) = raw.file_bytes()?;
            let name = format!("raw-{n}.{ext}");
            write_atomic(&dir.join(&name), &bytes)?;
            Some(name)
        }
        None => None,
    };
    Ok(ResultRecord {
        file,
        raw_file,
        image_uuid: r.image_uuid.clone(),
        seed: r.seed,
        cost: r.cost,
        outside: r.outside,
        kept: false,
    })
}

fn folder_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use image::RgbaImage;
    use serde_json::json;

    use super::*;
    use crate::compare::{FeatherMask, outside_figures};
    use crate::mask::Mask;
    use crate::session::Picture;
    use crate::session::fixtures::{mask, photo, settings};

    fn record_one(
        history: &History,
        prompt: &str,
        tint: u8,
    ) -> (EditId, RgbaImage, Mask, Vec<RgbaImage>) {
        let seed = photo(40, 30, tint);
        let m = mask(40, 30);
        let results = vec![photo(40, 30, tint.wrapping_add(50)), photo(20, 15, 9)];
        let f = FeatherMask::new(&m, 2);
        let figs = outside_figures(&seed, &results[0], &f, 16).unwrap();
        let raw_png = encode_png(&results[1]).unwrap();
        let mut r0 = NewResult::new(Picture::Pixels(&results[0]));
        r0.image_uuid = Some("3f5ac0f4-0f4f-4a55-9ab2-c6c8a2d6c001".into());
        r0.seed = Some(42);
        r0.cost = Some(0.06);
        r0.outside = Some(figs);
        let mut r1 = NewResult::new(Picture::Pixels(&results[1]));
        r1.raw = Some(Picture::Encoded(&raw_png));
        let rec = history
            .record(&NewEdit {
                seed_image: Picture::Pixels(&seed),
                mask: &m,
                prompt,
                settings: settings(),
                results: vec![r0, r1],
            })
            .unwrap();
        (rec.id, seed, m, results)
    }

    #[test]
    fn write_reload_in_a_fresh_instance_and_reopen() {
        let root = tempfile::tempdir().unwrap();
        let (id, seed, m, results) = {
            let history = History::open(root.path()).unwrap();
            record_one(&history, "OPEN 7 DAYS", 10)
        };
        // A new instance, as after a restart.
        let history = History::open(root.path()).unwrap();
        let listing = history.list();
        assert!(listing.problems.is_empty(), "{:?}", listing.problems);
        assert_eq!(listing.edits.len(), 1);
        let s = &listing.edits[0];
        assert_eq!(
            (s.id.clone(), s.prompt.as_str()),
            (id.clone(), "OPEN 7 DAYS")
        );
        assert_eq!(
            (s.result_count, s.kept_count, s.image_size),
            (2, 0, (40, 30))
        );
        assert!(s.bytes > 0);
        let thumb = history.load_thumbnail(&id).unwrap();
        assert_eq!(thumb.dimensions(), (40, 30), "small seeds are not enlarged");
        assert_eq!(thumb, seed);

        let back = history.reopen(&id).unwrap();
        assert_eq!(back.seed, seed);
        assert_eq!(back.mask, m);
        assert_eq!(back.record.prompt, "OPEN 7 DAYS");
        assert_eq!(back.record.settings, settings());
        assert_eq!(back.results.len(), 2);
        assert_eq!(back.results[0].as_ref().unwrap(), &results[0]);
        assert_eq!(back.results[1].as_ref().unwrap(), &results[1]);
        let r0 = &back.record.results[0];
        assert_eq!(
            r0.image_uuid.as_deref(),
            Some("3f5ac0f4-0f4f-4a55-9ab2-c6c8a2d6c001")
        );
        assert_eq!((r0.seed, r0.cost), (Some(42), Some(0.06)));
        let figs = r0.outside.unwrap();
        assert_eq!(figs.changed_pixels, figs.outside_pixels);
        assert!(figs.outside_pixels > 0);
        let raw = back.record.results[1].raw_file.as_deref().unwrap();
        assert_eq!(raw, "raw-2.png");
        let raw_path = history.file_path(&id, raw).unwrap();
        assert_eq!(imageio::open(&raw_path).unwrap(), results[1]);
        assert!(
            back.raws[0].is_none(),
            "result 1 was recorded without a raw output"
        );
        assert_eq!(back.raws[1].as_ref(), Some(&results[1]));
        assert!(history.file_path(&id, "../entry.json").is_none());
    }

    #[test]
    fn add_result_and_keep_survive_reload() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let (id, ..) = record_one(&history, "p", 1);
        let late = photo(40, 30, 200);
        let mut r = NewResult::new(Picture::Pixels(&late));
        r.seed = Some(99);
        assert_eq!(history.add_result(&id, &r).unwrap(), 2);
        history.set_kept(&id, 2, true).unwrap();
        assert!(matches!(
            history.set_kept(&id, 9, true),
            Err(SessionError::NoSuchResult { index: 9, .. })
        ));
        let history = History::open(root.path()).unwrap();
        let back = history.reopen(&id).unwrap();
        assert_eq!(back.results.len(), 3);
        assert_eq!(back.results[2].as_ref().unwrap(), &late);
        assert!(back.record.results[2].kept);
        assert_eq!(history.list().edits[0].kept_count, 1);
    }

    #[test]
    fn delete_removes_the_edit() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let (a, ..) = record_one(&history, "a", 1);
        let (b, ..) = record_one(&history, "b", 2);
        assert_eq!(history.list().edits.len(), 2);
        history.delete(&a).unwrap();
        let listing = history.list();
        assert_eq!(listing.edits.len(), 1);
        assert_eq!(listing.edits[0].id, b);
        assert!(matches!(
            history.reopen(&a),
            Err(SessionError::NotFound { .. })
        ));
        assert!(matches!(
            history.delete(&a),
            Err(SessionError::NotFound { .. })
        ));
        // Nothing left behind in the folder but b.
        let names: Vec<_> = fs::read_dir(history.dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![b.to_string()]);
    }

    #[test]
    fn truncated_entry_is_reported_and_skipped() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let (bad, ..) = record_one(&history, "bad", 1);
        let (good, ..) = record_one(&history, "good", 2);
        let entry = history.dir().join(bad.as_str()).join(ENTRY_FILE);
        let bytes = fs::read(&entry).unwrap();
        fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
        // A truncated result picture in the good entry: reopen still works, that result errs.
        let result = history.dir().join(good.as_str()).join("result-1.png");
        let rb = fs::read(&result).unwrap();
        fs::write(&result, &rb[..rb.len() / 3]).unwrap();
        // A stray folder with a name that is not an id.
        fs::create_dir(history.dir().join("not an id")).unwrap();

        let history = History::open(root.path()).unwrap();
        let listing = history.list();
        assert_eq!(listing.edits.len(), 1);
        assert_eq!(listing.edits[0].id, good);
        assert_eq!(listing.problems.len(), 2);
        let p = listing
            .problems
            .iter()
            .find(|p| p.name == bad.as_str())
            .unwrap();
        assert!(p.message.contains("damaged"), "{}", p.message);
        assert!(matches!(
            history.reopen(&bad),
            Err(SessionError::Corrupt { .. })
        ));
        let back = history.reopen(&good).unwrap();
        assert!(back.results[0].is_err());
        assert!(back.results[1].is_ok());
        // A damaged entry can still be deleted.
        history.delete(&bad).unwrap();
        assert_eq!(history.list().problems.len(), 1);

        // A truncated seed makes reopen fail cleanly.
        let seed = history.dir().join(good.as_str()).join("seed.png");
        let sb = fs::read(&seed).unwrap();
        fs::write(&seed, &sb[..sb.len() / 2]).unwrap();
        assert!(matches!(
            history.reopen(&good),
            Err(SessionError::Corrupt { .. })
        ));
    }

    #[test]
    fn budget_prunes_the_oldest() {
        let root = tempfile::tempdir().unwrap();
        let mut history = History::open(root.path()).unwrap();
        let mut ids = Vec::new();
        for i in 0..4u8 {
            ids.push(record_one(&history, &format!("edit {i}"), i * 40).0);
            std::thread::sleep(std::time::Duration::from_millis(3));
        }
        let sizes: Vec<u64> = history.list().edits.iter().map(|e| e.bytes).collect();
        // Room for the two newest only.
        history.set_budget_bytes(sizes[0] + sizes[1]);
        let pruned = history.prune().unwrap();
        assert_eq!(pruned, vec![ids[0].clone(), ids[1].clone()]);
        let left: Vec<EditId> = history.list().edits.into_iter().map(|e| e.id).collect();
        assert_eq!(left, vec![ids[3].clone(), ids[2].clone()]);
        // A tiny budget still keeps the newest edit, and recording prunes by itself.
        history.set_budget_bytes(1);
        let rec = record_one(&history, "newest", 7).0;
        let left: Vec<EditId> = history.list().edits.into_iter().map(|e| e.id).collect();
        assert_eq!(left, vec![rec]);
    }

    #[test]
    fn mismatched_mask_and_bad_pictures_are_errors() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let seed = photo(8, 8, 1);
        let m = Mask::new(9, 8);
        let err = history
            .record(&NewEdit {
                seed_image: Picture::Pixels(&seed),
                mask: &m,
                prompt: "p",
                settings: json!({}),
                results: vec![],
            })
            .unwrap_err();
        assert!(matches!(err, SessionError::MaskSize { mask_width: 9, .. }));
        let m = Mask::new(8, 8);
        let junk = b"not a picture at all";
        let err = history
            .record(&NewEdit {
                seed_image: Picture::Pixels(&seed),
                mask: &m,
                prompt: "p",
                settings: json!({}),
                results: vec![NewResult::new(Picture::Encoded(junk))],
            })
            .unwrap_err();
        assert!(matches!(err, SessionError::Picture { .. }));
        // The failed record left no folder behind, hidden or not.
        assert_eq!(fs::read_dir(history.dir()).unwrap().count(), 0);
        assert!(EditId::parse("../etc").is_err());
        assert!(EditId::parse("").is_err());
    }

    #[test]
    fn encoded_seed_is_kept_as_is() {
        let root = tempfile::tempdir().unwrap();
        let history = History::open(root.path()).unwrap();
        let seed = photo(16, 12, 3);
        let jpeg = imageio::encode(&seed, imageio::Format::Jpg, 90).unwrap();
        let m = Mask::new(16, 12);
        let id = history
            .record(&NewEdit {
                seed_image: Picture::Encoded(&jpeg),
                mask: &m,
                prompt: "p",
                settings: json!(null),
                results: vec![],
            })
            .unwrap()
            .id;
        let back = history.reopen(&id).unwrap();
        assert_eq!(back.record.seed_file, "seed.jpg");
        assert_eq!(
            fs::read(history.dir().join(id.as_str()).join("seed.jpg")).unwrap(),
            jpeg
        );
        assert_eq!(back.seed, imageio::decode(&jpeg).unwrap());
    }
}
