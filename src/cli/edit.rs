//! `touchup edit`: send an edit to Ideogram 3.0 Edit on Runware (or the local engine) and save
//! the results, headless.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use image::RgbaImage;
use touchup::compare::MAX_FEATHER_PX;
use touchup::edit::{
    AreaMode, AreaSettings, Delivery, EditRequest, Field, FieldError, ImageInput, MagicPrompt,
    OutputFormat, RenderingSpeed, StyleType, find_style_preset,
};
use touchup::jobs::{
    EditRunner, Engine, JobFailure, JobRunner, JobSpec, JobState, JobStatus, Queue, QueueConfig,
    QueueEvent,
};
use touchup::local::LocalOptions;
use touchup::mask::{Mask, Polarity};
use touchup::output::{EditInputs, OutputOptions};
use touchup::runware::{ApiKey, Client, ClientConfig, KEY_ENV, RateGate};

/// Which engine edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Backend {
    /// Ideogram 3.0 Edit on Runware (needs RUNWARE_API_KEY).
    Runware,
    /// The offline engine.
    Local,
}

/// What an edit sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AreaArg {
    /// The area around the mask, at the photo's resolution.
    Mask,
    /// The whole photo, downscaled to 2048 px.
    Whole,
}

impl AreaArg {
    pub(crate) fn settings(self, context: Option<u32>) -> AreaSettings {
        AreaSettings {
            mode: match self {
                AreaArg::Mask => AreaMode::Mask,
                AreaArg::Whole => AreaMode::Whole,
            },
            context,
        }
    }
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The photo to edit (its EXIF-rotated size is what the mask must match).
    #[arg(long, value_name = "IMG")]
    pub(crate) image: Option<PathBuf>,
    /// The mask, white marking the area to edit (as `touchup mask` writes it by default).
    #[arg(long, value_name = "MASK.png")]
    pub(crate) mask: Option<PathBuf>,
    /// What to change (1 to 2000 characters).
    #[arg(long, value_name = "TEXT")]
    pub(crate) prompt: Option<String>,
    /// One of the 62 Ideogram style presets, e.g. EDITORIAL or "magazine editorial".
    #[arg(long, value_name = "P")]
    pub(crate) style_preset: Option<String>,
    /// AUTO, GENERAL, REALISTIC, DESIGN or FICTION (RENDER_3D and ANIME are sent with a
    /// warning: Ideogram 3.0 may refuse them).
    #[arg(long, value_name = "T")]
    pub(crate) style_type: Option<String>,
    /// TURBO, DEFAULT or QUALITY.
    #[arg(long, value_name = "S")]
    pub(crate) rendering_speed: Option<String>,
    /// AUTO, ON or OFF.
    #[arg(long, value_name = "M")]
    pub(crate) magic_prompt: Option<String>,
    /// An 8-hex-digit style code (not with --style-type).
    #[arg(long, value_name = "HEX")]
    pub(crate) style_code: Option<String>,
    /// How many pictures, 1 to 20.
    #[arg(long, value_name = "N")]
    pub(crate) results: Option<u32>,
    /// jpg, png or webp.
    #[arg(long, value_name = "jpg|png|webp")]
    pub(crate) format: Option<String>,
    /// Output quality, 20 to 99.
    #[arg(long, value_name = "Q")]
    pub(crate) quality: Option<u32>,
    /// Ask Runware to report the cost of each picture.
    #[arg(long)]
    pub(crate) include_cost: bool,
    /// Queue the task and poll for the pictures instead of waiting on one request.
    #[arg(long = "async")]
    pub(crate) asynchronous: bool,
    /// Runware: which colour marks the edit in the mask sent (the file is read white-edits);
    /// local: which colour marks the edit in the mask file.
    #[arg(
        long,
        default_value = "white-edits",
        value_name = "white-edits|black-edits"
    )]
    pub(crate) polarity: Polarity,
    /// runware or local; by default runware when RUNWARE_API_KEY is set, else local.
    #[arg(long, value_enum)]
    pub(crate) backend: Option<Backend>,
    /// Send this Runware task (a fresh taskUUID; other flags override its fields).
    #[arg(long, value_name = "TASK.json")]
    pub(crate) request: Option<PathBuf>,
    /// Local engine: the seed of the first result (the next ones take seed+1, ...); random
    /// when not given.
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Soft seam, in pixels, when compositing results over the original (0 to 64).
    #[arg(long, value_name = "PX", default_value_t = touchup::compare::DEFAULT_FEATHER_PX)]
    pub(crate) feather: u32,
    /// Save the model's output as returned instead of composited over the original.
    #[arg(long)]
    pub(crate) no_keep_outside: bool,
    /// What is sent: `mask`, the area around the mask at the photo's resolution (downscaled
    /// only as far as 2048 px requires), or `whole`, the whole photo downscaled to 2048 px.
    #[arg(long, value_enum, default_value = "mask", value_name = "mask|whole")]
    pub(crate) area: AreaArg,
    /// Context around the mask, in photo pixels on each side (default: a quarter of the
    /// masked box's longer side, at least 128).
    #[arg(long, value_name = "PX")]
    pub(crate) context: Option<u32>,
    /// Keep each result's colours as the model made them (no correction of the drift measured
    /// just outside the mask).
    #[arg(long)]
    pub(crate) no_colour_match: bool,
    /// Where to write result-1.<ext>, ..., compare.png and results.json.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
}

fn flag_for(field: Field) -> &'static str {
    match field {
        Field::Prompt => "--prompt",
        Field::StylePreset => "--style-preset",
        Field::StyleType => "--style-type",
        Field::RenderingSpeed => "--rendering-speed",
        Field::MagicPrompt => "--magic-prompt",
        Field::StyleCode => "--style-code",
        Field::NumberResults => "--results",
        Field::OutputFormat => "--format",
        Field::OutputQuality => "--quality",
        Field::IncludeCost => "--include-cost",
        Field::Delivery => "--async",
        Field::SeedImage => "--image",
        Field::MaskImage => "--mask",
        _ => "--request",
    }
}

fn describe_problems(problems: &[FieldError]) -> String {
    problems
        .iter()
        .map(|p| format!("{} ({}): {}", p.field.label(), flag_for(p.field), p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn parse_choice<T>(
    value: &Option<String>,
    flag: &str,
    parse: fn(&str) -> Option<T>,
    names: String,
) -> anyhow::Result<Option<T>> {
    match value {
        None => Ok(None),
        Some(text) => match parse(text) {
            Some(v) => Ok(Some(v)),
            None => bail!("{flag} '{text}' is not valid; use one of {names}"),
        },
    }
}

/// A file that could not be opened, named by its whole path (the core names only the file).
pub(crate) fn open_error(e: touchup::imageio::OpenError) -> anyhow::Error {
    if e.damage().is_some() {
        // "photo.jpg is truncated: about 60 % of it is missing"
        return anyhow::anyhow!("{e}");
    }
    anyhow::anyhow!("could not open {}: {}", e.path.display(), e.source)
}

/// The photo's file, read, with what its header says: the upright size and whether EXIF turns
/// it. Nothing is decoded yet.
struct PhotoFile {
    bytes: Vec<u8>,
    /// The size as a viewer shows it (EXIF applied), when the header could be read.
    upright_size: Option<(u32, u32)>,
    /// The file's pixels are already upright (no EXIF turn or flip).
    upright_as_is: bool,
}

fn read_photo(path: &Path) -> anyhow::Result<PhotoFile> {
    let bytes = touchup::imageio::read_file(path).map_err(open_error)?;
    let header = image::ImageReader::new(std::io::Cursor::new(&bytes))
        .with_guessed_format()
        .ok()
        .and_then(|r| r.into_decoder().ok())
        .map(|mut d| {
            let size = image::ImageDecoder::dimensions(&d);
            let turn = image::ImageDecoder::orientation(&mut d).ok();
            (size, turn)
        });
    use image::metadata::Orientation as O;
    let upright_size = header.as_ref().map(|&((w, h), turn)| match turn {
        Some(O::Rotate90 | O::Rotate270 | O::Rotate90FlipH | O::Rotate270FlipH) => (h, w),
        _ => (w, h),
    });
    let upright_as_is = matches!(header, Some((_, Some(O::NoTransforms))));
    Ok(PhotoFile {
        bytes,
        upright_size,
        upright_as_is,
    })
}

/// The photo as it should be sent: the file's own bytes, unless EXIF rotation changes its
/// pixels, in which case the upright picture as PNG (so it matches the mask).
fn seed_bytes(path: &Path, file: PhotoFile) -> anyhow::Result<(Vec<u8>, RgbaImage)> {
    // A photo cut short is refused by name ("photo.jpg is truncated: about 60 % of it is
    // missing"): its missing part would be sent as grey.
    let upright = touchup::imageio::decode(&file.bytes).map_err(|source| {
        open_error(touchup::imageio::OpenError {
            path: path.to_path_buf(),
            source,
        })
    })?;
    // The file's own bytes stand for the upright photo unless its EXIF turns it (read from the
    // header: no second decode of a 48 MP photo).
    if file.upright_as_is {
        Ok((file.bytes, upright))
    } else {
        let png = touchup::imageio::encode(&upright, touchup::imageio::Format::Png, 100)
            .with_context(|| format!("could not re-encode the upright {}", path.display()))?;
        Ok((png, upright))
    }
}

/// Reads a mask file made for a photo of `width` x `height`.
fn import_mask_file(
    mask_path: &Path,
    photo_path: &Path,
    (w, h): (u32, u32),
    polarity: Polarity,
) -> anyhow::Result<Mask> {
    let mask_file = touchup::imageio::read_file(mask_path).map_err(open_error)?;
    touchup::mask::import_mask(&mask_file, w, h, polarity)
        .with_context(|| mask_misfit(mask_path, photo_path, (w, h)))
}

/// "the mask M does not fit the image P (WxH)".
fn mask_misfit(mask_path: &Path, photo_path: &Path, (w, h): (u32, u32)) -> String {
    format!(
        "the mask {} does not fit the image {} ({w}x{h})",
        mask_path.display(),
        photo_path.display()
    )
}

/// The photo (as sent, and decoded) and, when a mask file is given, the mask, decoded at once
/// on two threads when the photo's header tells its size (a 48 MP JPEG and its mask take about
/// as long each).
#[allow(clippy::type_complexity)]
fn photo_and_mask(
    path: &Path,
    mask_path: Option<&Path>,
    polarity: Polarity,
) -> anyhow::Result<((Vec<u8>, RgbaImage), Option<Mask>)> {
    let file = read_photo(path)?;
    match (mask_path, file.upright_size) {
        (Some(mask_path), Some(size)) => std::thread::scope(|s| {
            let mask = s.spawn(|| import_mask_file(mask_path, path, size, polarity));
            let photo = seed_bytes(path, file);
            let mask = match mask.join() {
                Ok(m) => m,
                Err(_) => bail!("reading the mask {} failed", mask_path.display()),
            };
            let photo = photo?;
            let mask = mask?;
            if photo.1.dimensions() != size {
                // The header misled (it cannot, for the formats read): check against the pixels.
                bail!(mask_misfit(mask_path, path, photo.1.dimensions()));
            }
            Ok((photo, Some(mask)))
        }),
        (Some(mask_path), None) => {
            let photo = seed_bytes(path, file)?;
            let mask = import_mask_file(mask_path, path, photo.1.dimensions(), polarity)?;
            Ok((photo, Some(mask)))
        }
        (None, _) => Ok((seed_bytes(path, file)?, None)),
    }
}

/// The photo and mask from a task's own data URIs (white marks the edit, as Runware takes it).
fn inputs_from_request(request: &EditRequest) -> Option<EditInputs> {
    let seed = request.seed_image.as_ref()?.local_bytes()?;
    let mask = request.mask_image.as_ref()?.local_bytes()?;
    let original = touchup::imageio::decode(&seed).ok()?;
    let mask = touchup::mask::import_mask(
        &mask,
        original.width(),
        original.height(),
        Polarity::WhiteEdits,
    )
    .ok()?;
    Some(EditInputs {
        original: Arc::new(original),
        mask: Arc::new(mask),
    })
}

/// A mask for the photo made some other way than a file (`touchup batch`'s mask operations).
pub(crate) type MaskMaker<'a> = &'a dyn Fn(&RgbaImage) -> anyhow::Result<Mask>;

/// The edit as given on the command line; with `--image` and `--mask` (or `mask_maker`) also
/// the photo and mask (the mask file read in `mask_polarity`). Remarks for the user go into
/// `notes`.
fn build_request(
    args: &EditArgs,
    mask_polarity: Polarity,
    mask_maker: Option<MaskMaker>,
    notes: &mut Vec<String>,
) -> anyhow::Result<(EditRequest, Option<EditInputs>)> {
    let mut request = match &args.request {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read the task {}", path.display()))?;
            let r = EditRequest::from_task_json(&text)
                .with_context(|| format!("could not import the task {}", path.display()))?;
            if !r.ignored_fields.is_empty() {
                notes.push(format!(
                    "{} has fields this model does not take, not sent: {}",
                    path.display(),
                    r.ignored_fields.join(", ")
                ));
            }
            r
        }
        None => EditRequest::default(),
    };
    let s = &mut request.settings;
    if let Some(prompt) = &args.prompt {
        request.prompt = prompt.clone();
    }
    if let Some(p) = &args.style_preset {
        let preset = find_style_preset(p).with_context(|| {
            format!("--style-preset '{p}' is not one of the 62 presets (e.g. EDITORIAL, BAUHAUS, MAGAZINE_EDITORIAL)")
        })?;
        s.style_preset = Some(preset.to_string());
    }
    if let Some(t) = parse_choice(
        &args.style_type,
        "--style-type",
        StyleType::parse,
        StyleType::names(),
    )? {
        s.style_type = Some(t);
    }
    if let Some(v) = parse_choice(
        &args.rendering_speed,
        "--rendering-speed",
        RenderingSpeed::parse,
        RenderingSpeed::names(),
    )? {
        s.rendering_speed = Some(v);
    }
    if let Some(v) = parse_choice(
        &args.magic_prompt,
        "--magic-prompt",
        MagicPrompt::parse,
        MagicPrompt::names(),
    )? {
        s.magic_prompt = Some(v);
    }
    if let Some(code) = &args.style_code {
        s.style_code = Some(code.clone());
        // A style code replaces a style type that came from --request.
        if args.style_type.is_none() {
            s.style_type = None;
        }
    }
    if let Some(n) = args.results {
        s.number_results = Some(n);
    }
    if let Some(f) = parse_choice(
        &args.format,
        "--format",
        OutputFormat::parse,
        "jpg, png, webp".into(),
    )? {
        s.output_format = Some(f);
    }
    // Out of the byte range (e.g. 500) gets the same answer as 255.
    let mut problems = Vec::new();
    if let Some(q) = args.quality {
        match u8::try_from(q) {
            Ok(q) => s.output_quality = Some(q),
            Err(_) => problems.push(FieldError {
                field: Field::OutputQuality,
                message: format!("{q} is out of range; choose 20 to 99"),
            }),
        }
    }
    if args.include_cost {
        s.include_cost = Some(true);
    }
    if args.asynchronous {
        s.delivery = Some(Delivery::Async);
    }

    let mut inputs = None;
    if let Some(path) = &args.image {
        let mask_file = if mask_maker.is_some() {
            None
        } else {
            args.mask.as_deref()
        };
        let ((bytes, original), mask) = photo_and_mask(path, mask_file, mask_polarity)?;
        request.seed_image = Some(ImageInput::bytes(bytes));
        if let Some(make) = mask_maker {
            let mask = make(&original)?;
            if mask.is_empty() {
                bail!("the mask operations mark nothing");
            }
            let png = touchup::mask::export_png(&mask, args.polarity)?;
            request.mask_image = Some(ImageInput::bytes(png));
            inputs = Some(EditInputs {
                original: Arc::new(original),
                mask: Arc::new(mask),
            });
        } else if let (Some(mask_path), Some(mask)) = (&args.mask, mask) {
            if mask.is_empty() {
                let marking = match mask_polarity {
                    Polarity::WhiteEdits => "white marks the area to edit",
                    Polarity::BlackEdits => "with --polarity black-edits, black marks the area",
                };
                bail!("the mask {} marks nothing ({marking})", mask_path.display());
            }
            let png = touchup::mask::export_png(&mask, args.polarity)?;
            request.mask_image = Some(ImageInput::bytes(png));
            inputs = Some(EditInputs {
                original: Arc::new(original),
                mask: Arc::new(mask),
            });
        }
    } else if mask_maker.is_some() {
        bail!("mask operations need an image (the photo the mask is drawn on)");
    } else if args.mask.is_some() && args.request.is_none() {
        bail!("--mask needs --image (the photo the mask belongs to)");
    }
    if args.image.is_none()
        && let Some(mask_path) = &args.mask
    {
        // With --request and no --image: the mask is sent as the 0/255 PNG the editor would
        // export from it, never as the file's own bytes (a grey JPEG mask would breach the
        // contract). It must fit the task's seed when that is on this machine; otherwise the
        // server checks the size.
        let mask_file = touchup::imageio::read_file(mask_path).map_err(open_error)?;
        let seed_size = request
            .seed_image
            .as_ref()
            .and_then(ImageInput::local_bytes)
            .and_then(|b| touchup::imageio::decode(&b).ok())
            .map(|img| img.dimensions());
        let (w, h) = match seed_size {
            Some(size) => size,
            None => touchup::imageio::decode(&mask_file)
                .map_err(|source| touchup::imageio::OpenError {
                    path: mask_path.clone(),
                    source,
                })?
                .dimensions(),
        };
        let mask =
            touchup::mask::import_mask(&mask_file, w, h, mask_polarity).with_context(|| {
                format!(
                    "the mask {} does not fit the task's image ({w}x{h})",
                    mask_path.display()
                )
            })?;
        if mask.is_empty() {
            bail!(
                "the mask {} marks nothing (white marks the area to edit)",
                mask_path.display()
            );
        }
        request.mask_image = Some(ImageInput::bytes(touchup::mask::export_png(
            &mask,
            args.polarity,
        )?));
    }
    problems.extend(request.validate());
    if !problems.is_empty() {
        bail!("the edit is incomplete: {}", describe_problems(&problems));
    }
    for w in request.warnings() {
        eprintln!(
            "note: {} ({}): {}",
            w.field.label(),
            flag_for(w.field),
            w.message
        );
    }
    if inputs.is_none() {
        inputs = inputs_from_request(&request);
    }
    Ok((request, inputs))
}

/// The Runware key, when one is configured (environment or system keyring).
pub(crate) fn configured_key() -> Option<ApiKey> {
    ApiKey::configured().map(|(k, _)| k)
}

/// The engine: the flag's, else Runware when there is a key, else the local engine.
pub(crate) fn choose_backend(flag: Option<Backend>, has_key: bool) -> Backend {
    match (flag, has_key) {
        (Some(backend), _) => backend,
        (None, true) => Backend::Runware,
        (None, false) => Backend::Local,
    }
}

pub(crate) const LOCAL_FALLBACK: &str = "no Runware key is configured (RUNWARE_API_KEY or the system keyring): using the local engine (offline)";

/// One edit, checked and with its photo and mask read, ready to queue.
pub(crate) struct Prepared {
    pub spec: JobSpec,
    /// Remarks for the user (printed as `note: ...`).
    pub notes: Vec<String>,
}

/// Checks `args` and reads what they name into a job writing into `args.out`; nothing is sent.
pub(crate) fn prepare(
    args: &EditArgs,
    backend: Backend,
    has_key: bool,
    mask_maker: Option<MaskMaker>,
    name: String,
) -> anyhow::Result<Prepared> {
    if args.feather > MAX_FEATHER_PX {
        bail!(
            "--feather {} is too wide; use 0 to {MAX_FEATHER_PX} pixels",
            args.feather
        );
    }
    if backend == Backend::Runware && args.seed.is_some() {
        bail!("--seed is for the local engine (--backend local); Runware picks its own seeds");
    }
    let mask_polarity = match backend {
        Backend::Local => args.polarity,
        Backend::Runware => Polarity::WhiteEdits,
    };
    let mut notes = Vec::new();
    let (request, inputs) = build_request(args, mask_polarity, mask_maker, &mut notes)?;
    let engine = match backend {
        Backend::Local => {
            if inputs.is_none() {
                bail!(
                    "the local engine needs the photo and its mask on this machine: give --image IMG and --mask MASK.png"
                );
            }
            Engine::Local
        }
        Backend::Runware => {
            if !has_key {
                bail!(
                    "--backend runware needs a Runware API key: set {KEY_ENV} or store the key in the system keyring from the editor's settings (get one at https://my.runware.ai)"
                );
            }
            Engine::Runware
        }
    };
    if inputs.is_none() {
        notes.push(
            "the photo and mask are not on this machine, so results are saved as returned (no compositing, no compare.png)".into(),
        );
    }
    if let Some(c) = args.context
        && c > touchup::edit::MAX_CONTEXT_PX
    {
        bail!(
            "--context {c} is too wide; use 0 to {} pixels",
            touchup::edit::MAX_CONTEXT_PX
        );
    }
    let area = match &inputs {
        Some(inputs) => {
            let settings = args.area.settings(args.context);
            let plan = touchup::edit::plan(&inputs.mask, &settings)?;
            let size = inputs.original.dimensions();
            if engine == Engine::Runware {
                notes.push(plan.area.label(size).replacen("Sends", "sends", 1));
            }
            if plan.split_advised {
                notes.push(format!(
                    "the mask has {} groups far apart: one area holds them only at {:.0} %; \
                     mask each group in its own edit for full resolution",
                    plan.groups.len(),
                    plan.area.scale() * 100.0
                ));
            }
            Some(plan.area)
        }
        None => None,
    };
    let mut spec = JobSpec::new(name, engine, request);
    spec.inputs = inputs;
    spec.local = LocalOptions::default();
    spec.first_seed = args.seed;
    spec.area = area;
    spec.polarity = args.polarity;
    spec.output = Some(OutputOptions {
        dir: args.out.clone(),
        feather: args.feather,
        keep_outside: !args.no_keep_outside,
        colour_match: !args.no_colour_match,
        check_lettering: true,
    });
    Ok(Prepared { spec, notes })
}

/// What runs jobs: a network runtime, the runner and, with a key, the gate every Runware task
/// waits on after a 429.
pub(crate) struct Engines {
    /// Kept alive while jobs run.
    pub _runtime: tokio::runtime::Runtime,
    pub handle: tokio::runtime::Handle,
    pub runner: Arc<EditRunner>,
    pub gate: Option<Arc<RateGate>>,
}

pub(crate) fn engines(key: Option<ApiKey>) -> anyhow::Result<Engines> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("could not start the network runtime")?;
    let handle = runtime.handle().clone();
    let (client, gate) = match key {
        Some(key) => {
            let config = ClientConfig::from_env();
            // The pause after repeated 429s doubles up to 64x the retry delay (a minute with
            // the default 1 s), so a shorter configured delay also shortens the longest wait.
            let base = config.retry_base_delay;
            let gate = Arc::new(RateGate::new(
                base,
                (base * 64).min(std::time::Duration::from_secs(60)),
            ));
            let client = Client::new(config, key)?.with_gate(gate.clone());
            (Some(Arc::new(client)), Some(gate))
        }
        None => (None, None),
    };
    Ok(Engines {
        _runtime: runtime,
        handle: handle.clone(),
        runner: Arc::new(EditRunner::new(handle, client)),
        gate,
    })
}

/// A queue on `engines` whose jobs all slow down when Runware answers 429.
pub(crate) fn queue(
    engines: &Engines,
    concurrency: usize,
) -> (Queue, std::sync::mpsc::Receiver<QueueEvent>) {
    let runner: Arc<dyn JobRunner> = engines.runner.clone();
    let (queue, events) = Queue::new(QueueConfig { concurrency }, runner, || {});
    if let Some(gate) = &engines.gate {
        let q = queue.clone();
        gate.observe(Box::new(move |pause| q.slowdown(pause)));
    }
    (queue, events)
}

/// A failure in one line: the message, the flags it is about, and what was kept.
pub(crate) fn describe_failure(f: &JobFailure, status: Option<&JobStatus>, dir: &Path) -> String {
    let mut flags: Vec<&str> = f.fields.iter().map(|&field| flag_for(field)).collect();
    flags.dedup();
    let see = if flags.is_empty() {
        String::new()
    } else {
        format!(" (see {})", flags.join(", "))
    };
    let kept = match status.map(|s| s.results.len()).unwrap_or(0) {
        0 => String::new(),
        n => format!(" ({n} picture(s) already saved in {})", dir.display()),
    };
    format!("{}{see}{kept}", f.message)
}

/// `saved PATH (imageUUID ..., seed ..., cost $...)`.
pub(crate) fn saved_line(path: &Path, result: &touchup::jobs::JobResult) -> String {
    let mut facts = Vec::new();
    if let Some(u) = &result.image.image_uuid {
        facts.push(format!("imageUUID {u}"));
    }
    if let Some(s) = result.image.seed {
        facts.push(format!("seed {s}"));
    }
    if let Some(c) = result.image.cost {
        facts.push(format!("cost ${c}"));
    }
    format!("saved {} ({})", path.display(), facts.join(", "))
}

pub fn run(args: &EditArgs) -> anyhow::Result<()> {
    let key = configured_key();
    let backend = choose_backend(args.backend, key.is_some());
    if args.backend.is_none() && key.is_none() {
        eprintln!("{LOCAL_FALLBACK}");
    }
    let prepared = prepare(args, backend, key.is_some(), None, "edit".into())?;
    for note in &prepared.notes {
        eprintln!("note: {note}");
    }
    let engines = engines(key.filter(|_| backend == Backend::Runware))?;
    let (queue, events) = queue(&engines, 1);
    let id = queue.submit(prepared.spec)?;
    let mut last = JobState::Queued;
    while !last.is_finished() {
        let Ok(event) = events.recv() else {
            break;
        };
        match event {
            QueueEvent::State { state, .. } => last = state,
            QueueEvent::Note { text, .. } | QueueEvent::Progress { text, .. } => {
                eprintln!("{text}")
            }
            QueueEvent::Result { result, .. } => {
                if let Some(saved) = &result.saved {
                    let path = args.out.join(&saved.file);
                    println!("{}", path.display());
                    eprintln!("{}", saved_line(&path, &result));
                }
            }
            QueueEvent::Slowdown { pause } => eprintln!(
                "Runware is busy (HTTP 429): waiting {:.1} s before sending again",
                pause.as_secs_f64()
            ),
        }
    }
    let status = queue.status(id);
    match last {
        JobState::Done => {
            let n = status.as_ref().map_or(0, |s| s.results.len());
            eprintln!(
                "done: {n} picture{} in {}",
                if n == 1 { "" } else { "s" },
                args.out.display()
            );
            Ok(())
        }
        JobState::Failed(f) => bail!("{}", describe_failure(&f, status.as_ref(), &args.out)),
        _ => bail!("the edit was cancelled"),
    }
}
