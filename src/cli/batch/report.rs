//! `DIR/batch.json`: every line of the manifest with its state, files, seeds, cost,
//! outside-mask figures and error, rewritten whole (atomically) after every change, so it is
//! true whenever it is read, also after Ctrl-C.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use touchup::jobs::{JobState, JobStatus};

/// One line as `batch.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LineRecord {
    pub line: usize,
    pub name: String,
    /// A digest of the line's text (`--resume` skips a done line only if it is unchanged).
    pub fingerprint: Option<String>,
    /// queued, sending, waiting, receiving n of N, done, failed, cancelled (or invalid, for a
    /// line that could not be read or checked).
    pub state: String,
    pub engine: Option<String>,
    /// The line's folder, relative to `--out`.
    pub dir: String,
    /// The results to use, relative to `--out`.
    pub files: Vec<String>,
    /// The models' outputs as returned, relative to `--out`.
    pub raw_files: Vec<String>,
    pub compare: Option<String>,
    pub seeds: Vec<Option<i64>>,
    #[serde(rename = "imageUUIDs")]
    pub image_uuids: Vec<Option<String>>,
    /// The total `cost` of the line's pictures (USD), when Runware reported it.
    pub cost: Option<f64>,
    /// Per result: the fraction of pixels outside the mask that changed noticeably.
    pub outside_mask_changed_fraction: Vec<Option<f64>>,
    pub error: Option<String>,
    /// The failure may have run on Runware although nothing came back.
    #[serde(default)]
    pub unclear: bool,
    #[serde(rename = "taskUUID")]
    pub task_uuid: Option<String>,
    /// Runs in this invocation (retries after failures add to it).
    pub runs: u32,
    /// It was sent again although an earlier run ended unclearly (it may have run twice).
    #[serde(default)]
    pub resent_after_unclear: bool,
    pub elapsed_s: f64,
}

impl LineRecord {
    pub fn new(line: usize, name: &str, fingerprint: Option<String>) -> LineRecord {
        LineRecord {
            line,
            name: name.to_string(),
            fingerprint,
            state: "queued".into(),
            engine: None,
            dir: name.to_string(),
            files: Vec::new(),
            raw_files: Vec::new(),
            compare: None,
            seeds: Vec::new(),
            image_uuids: Vec::new(),
            cost: None,
            outside_mask_changed_fraction: Vec::new(),
            error: None,
            unclear: false,
            task_uuid: None,
            runs: 0,
            resent_after_unclear: false,
            elapsed_s: 0.0,
        }
    }

    pub fn is_done(&self) -> bool {
        self.state == "done"
    }

    /// Takes what the queue knows about the line's job.
    pub fn update(&mut self, status: &JobStatus, out: &Path) {
        self.state = status.state.label();
        self.engine = Some(status.engine.label().into());
        self.task_uuid = status.task_uuid.map(|u| u.to_string());
        self.runs = status.runs;
        self.resent_after_unclear |= status.resent_after_unclear;
        self.elapsed_s = (status.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
        let rel = |file: &str| format!("{}/{file}", self.dir);
        let saved: Vec<_> = status
            .results
            .iter()
            .filter_map(|r| r.saved.as_ref())
            .collect();
        self.files = saved.iter().map(|s| rel(&s.file)).collect();
        self.raw_files = saved.iter().map(|s| rel(&s.raw_file)).collect();
        self.seeds = status.results.iter().map(|r| r.image.seed).collect();
        self.image_uuids = status
            .results
            .iter()
            .map(|r| r.image.image_uuid.clone())
            .collect();
        self.cost = status.cost();
        self.outside_mask_changed_fraction = saved
            .iter()
            .map(|s| s.outside.map(|o| o.changed_fraction))
            .collect();
        self.compare = status.sheet.as_ref().and_then(|p| {
            p.strip_prefix(out)
                .ok()
                .map(|r| r.to_string_lossy().replace('\\', "/"))
        });
        match &status.state {
            JobState::Failed(f) => {
                self.error = Some(f.message.clone());
                self.unclear = f.unclear;
            }
            JobState::Done => {
                self.error = None;
                self.unclear = false;
            }
            _ => {}
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Report {
    pub manifest: String,
    pub out: String,
    /// The run ended (every line finished or the batch was stopped).
    pub finished: bool,
    /// The batch was stopped (Ctrl-C) before every line ran.
    #[serde(default)]
    pub stopped: bool,
    pub total_cost: f64,
    pub done: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub pending: usize,
    pub lines: Vec<LineRecord>,
}

impl Report {
    pub fn new(manifest: &Path, out: &Path, lines: Vec<LineRecord>) -> Report {
        let mut r = Report {
            manifest: manifest.display().to_string(),
            out: out.display().to_string(),
            finished: false,
            stopped: false,
            total_cost: 0.0,
            done: 0,
            failed: 0,
            cancelled: 0,
            pending: 0,
            lines,
        };
        r.count();
        r
    }

    /// The previous run's file in `out`, if there is a readable one.
    pub fn previous(out: &Path) -> Option<Report> {
        let text = std::fs::read_to_string(out.join("batch.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn count(&mut self) {
        let states = |want: &[&str]| {
            self.lines
                .iter()
                .filter(|l| want.contains(&l.state.as_str()))
                .count()
        };
        self.done = states(&["done"]);
        self.failed = states(&["failed", "invalid"]);
        self.cancelled = states(&["cancelled"]);
        self.pending = self.lines.len() - self.done - self.failed - self.cancelled;
        self.total_cost = self
            .lines
            .iter()
            .filter_map(|l| l.cost)
            .fold(0.0, |a, c| a + c);
    }

    /// Writes `out/batch.json` whole (a temporary file renamed over it).
    pub fn save(&mut self, out: &Path) -> anyhow::Result<PathBuf> {
        self.count();
        let text = serde_json::to_string_pretty(self)?;
        let path = out.join("batch.json");
        touchup::output::write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }
}
