//! The one place that loads the ONNX models (the text reader's and the object selector's) and
//! runs them with tract: where the files are found (`$TOUCHUP_MODELS`, `models/` beside the
//! executable, the repository's `assets/models`), a clear message for a missing or damaged file,
//! the thread pool the matrix products run on, and a small cache of optimised plans per input
//! shape (tract needs concrete shapes to optimise; a plan takes 0.1-2 s to build).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};

use tract_linalg::multithread::{Executor, set_default_executor};
use tract_onnx::prelude::*;

/// Why a model could not be loaded or run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The file is not in the folder (set `TOUCHUP_MODELS` to the folder holding it).
    #[error(
        "the model file {file} is missing from {dir} (set TOUCHUP_MODELS to the folder that holds it)"
    )]
    Missing { dir: String, file: &'static str },
    /// The file is there but tract cannot read it (cut short, not ONNX, another model).
    #[error("the model file {path} is damaged or not the expected model: {why}")]
    Damaged {
        path: String,
        file: &'static str,
        why: String,
    },
    /// The model ran and failed.
    #[error("the model {file} failed: {why}")]
    Run { file: &'static str, why: String },
}

/// The folder with the models: the first folder of [`crate::assets::model_dirs`] (the
/// documented search order, `$TOUCHUP_MODELS` first) that holds `probe`, else the first folder
/// searched (what a "missing" message then names).
pub fn model_dir(probe: &str) -> PathBuf {
    match crate::assets::model_path(probe) {
        Ok(path) => path.parent().map(Path::to_path_buf).unwrap_or_default(),
        Err(missing) => missing
            .looked
            .into_iter()
            .next()
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models")),
    }
}

/// Splits tract's large matrix products over every core (once per process; later calls do
/// nothing). Work that runs one item per core wraps itself in a single-thread scope.
pub fn use_all_cores() {
    static POOL: Once = Once::new();
    POOL.call_once(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cores > 1 {
            match rayon::ThreadPoolBuilder::new()
                .thread_name(|i| format!("touchup-models-{i}"))
                .num_threads(cores)
                .build()
            {
                Ok(pool) => set_default_executor(Executor::MultiThread(Arc::new(pool))),
                Err(e) => tracing::warn!("the models run on one thread: {e}"),
            }
        }
    });
}

type SharedPlan = Arc<TypedRunnableModel>;

/// One ONNX model: its parsed graph and the optimised plans built so far (most recent last).
pub struct Model {
    file: &'static str,
    graph: InferenceModel,
    plans: Mutex<Vec<(Vec<Vec<usize>>, SharedPlan)>>,
    /// Held while a plan is built.
    building: Mutex<()>,
    keep: usize,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("file", &self.file).finish()
    }
}

impl Model {
    /// Reads `dir/file`, keeping up to `keep` plans. Also returns the model's metadata
    /// (key, value) pairs.
    pub fn load(
        dir: &Path,
        file: &'static str,
        keep: usize,
    ) -> Result<(Self, Vec<(String, String)>), ModelError> {
        let path = dir.join(file);
        if !path.is_file() {
            return Err(ModelError::Missing {
                dir: dir.display().to_string(),
                file,
            });
        }
        let damaged = |e: TractError| ModelError::Damaged {
            path: path.display().to_string(),
            file,
            why: format!("{e:#}"),
        };
        let onnx = tract_onnx::onnx().with_ignore_value_info(true);
        let proto = onnx.proto_model_for_path(&path).map_err(damaged)?;
        let metadata = proto
            .metadata_props
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();
        let graph = onnx.model_for_proto_model(&proto).map_err(damaged)?;
        Ok((
            Self {
                file,
                graph,
                plans: Mutex::new(Vec::new()),
                building: Mutex::new(()),
                keep: keep.max(1),
            },
            metadata,
        ))
    }

    /// The names of the model's inputs, in order.
    pub fn input_names(&self) -> Vec<String> {
        self.graph
            .input_outlets()
            .map(|outlets| {
                outlets
                    .iter()
                    .map(|o| self.graph.node(o.node).name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The file the model was read from.
    pub fn file(&self) -> &'static str {
        self.file
    }

    fn run_error(&self, e: impl std::fmt::Display) -> ModelError {
        ModelError::Run {
            file: self.file,
            why: e.to_string(),
        }
    }

    /// The cached plan for these shapes, made the most recently used.
    fn cached(&self, shapes: &[Vec<usize>]) -> Option<SharedPlan> {
        let mut plans = self.plans.lock().ok()?;
        let i = plans.iter().position(|(k, _)| k.as_slice() == shapes)?;
        let entry = plans.remove(i);
        let plan = entry.1.clone();
        plans.push(entry);
        Some(plan)
    }

    /// The plan for inputs of these shapes (input i gets `shapes[i]`), built on first use.
    pub fn plan(&self, shapes: &[Vec<usize>]) -> Result<SharedPlan, ModelError> {
        if let Some(plan) = self.cached(shapes) {
            return Ok(plan);
        }
        // One plan is built at a time per model: two edits meeting the same new shape at once
        // built it twice (twice the time and the building's memory); the second now waits and
        // finds it made.
        let _building = self
            .building
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(plan) = self.cached(shapes) {
            return Ok(plan);
        }
        let started = std::time::Instant::now();
        let mut model = self.graph.clone();
        for (i, shape) in shapes.iter().enumerate() {
            model = model
                .with_input_fact(i, f32::fact(shape.as_slice()).into())
                .map_err(|e| self.run_error(format!("{e:#}")))?;
        }
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| self.run_error(format!("{e:#}")))?;
        tracing::debug!(
            model = self.file,
            ?shapes,
            ms = started.elapsed().as_millis() as u64,
            "built a model plan"
        );
        if let Ok(mut plans) = self.plans.lock() {
            if plans.len() >= self.keep {
                plans.remove(0);
            }
            plans.push((shapes.to_vec(), plan.clone()));
        }
        Ok(plan)
    }

    /// Runs the model; every output is handed to `read` as (shape, values).
    pub fn run_with<T>(
        &self,
        inputs: Vec<Tensor>,
        read: impl FnOnce(&[(&[usize], &[f32])]) -> Result<T, ModelError>,
    ) -> Result<T, ModelError> {
        let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
        let plan = self.plan(&shapes)?;
        let out = plan
            .run(inputs.into_iter().map(|t| t.into()).collect())
            .map_err(|e| self.run_error(format!("{e:#}")))?;
        let mut views = Vec::with_capacity(out.len());
        for value in out.iter() {
            let plain = value
                .try_as_plain_ram()
                .map_err(|e| self.run_error(format!("{e:#}")))?;
            let values = plain
                .as_slice::<f32>()
                .map_err(|e| self.run_error(format!("{e:#}")))?;
            views.push((value.shape(), values));
        }
        read(&views)
    }

    /// A tensor of the given shape from `values`.
    pub fn tensor(&self, shape: &[usize], values: &[f32]) -> Result<Tensor, ModelError> {
        Tensor::from_shape(shape, values).map_err(|e| self.run_error(format!("{e:#}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_names_the_folder_and_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = Model::load(dir.path(), "nothing.onnx", 1).expect_err("missing");
        assert!(matches!(
            err,
            ModelError::Missing {
                file: "nothing.onnx",
                ..
            }
        ));
        let text = err.to_string();
        assert!(text.contains("nothing.onnx"), "{text}");
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
    }

    #[test]
    fn a_damaged_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("cut.onnx"), b"\xff\xff\xff\xff not a model").expect("w");
        let err = Model::load(dir.path(), "cut.onnx", 1).expect_err("damaged");
        assert!(matches!(err, ModelError::Damaged { .. }), "{err:?}");
        assert!(err.to_string().contains("cut.onnx"), "{err}");
    }
}
