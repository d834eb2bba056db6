//! `touchup edit`: send an edit to Ideogram 3.0 Edit on Runware (or the local engine) and save
//! the results, headless.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use image::RgbaImage;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use touchup::compare::{
    DEFAULT_NOTICEABLE_DIFFERENCE, FeatherMask, MAX_FEATHER_PX, SheetOptions, comparison_sheet,
    composite, outside_figures,
};
use touchup::edit::{
    Delivery, EditRequest, Field, FieldError, ImageInput, MagicPrompt, OutputFormat,
    RenderingSpeed, ResultImage, StyleType, find_style_preset,
};
use touchup::local::LocalOptions;
use touchup::mask::{Mask, Polarity};
use touchup::runware::{ApiKey, Client, ClientConfig, KEY_ENV, RunwareError, SubmitEvent};
use uuid::Uuid;

/// Which engine edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// Ideogram 3.0 Edit on Runware (needs RUNWARE_API_KEY).
    Runware,
    /// The offline engine.
    Local,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The photo to edit (its EXIF-rotated size is what the mask must match).
    #[arg(long, value_name = "IMG")]
    image: Option<PathBuf>,
    /// The mask, white marking the area to edit (as `touchup mask` writes it by default).
    #[arg(long, value_name = "MASK.png")]
    mask: Option<PathBuf>,
    /// What to change (1 to 2000 characters).
    #[arg(long, value_name = "TEXT")]
    prompt: Option<String>,
    /// One of the 62 Ideogram style presets, e.g. EDITORIAL or "magazine editorial".
    #[arg(long, value_name = "P")]
    style_preset: Option<String>,
    /// AUTO, GENERAL, REALISTIC, DESIGN or FICTION (RENDER_3D and ANIME are sent with a
    /// warning: Ideogram 3.0 may refuse them).
    #[arg(long, value_name = "T")]
    style_type: Option<String>,
    /// TURBO, DEFAULT or QUALITY.
    #[arg(long, value_name = "S")]
    rendering_speed: Option<String>,
    /// AUTO, ON or OFF.
    #[arg(long, value_name = "M")]
    magic_prompt: Option<String>,
    /// An 8-hex-digit style code (not with --style-type).
    #[arg(long, value_name = "HEX")]
    style_code: Option<String>,
    /// How many pictures, 1 to 20.
    #[arg(long, value_name = "N")]
    results: Option<u32>,
    /// jpg, png or webp.
    #[arg(long, value_name = "jpg|png|webp")]
    format: Option<String>,
    /// Output quality, 20 to 99.
    #[arg(long, value_name = "Q")]
    quality: Option<u8>,
    /// Ask Runware to report the cost of each picture.
    #[arg(long)]
    include_cost: bool,
    /// Queue the task and poll for the pictures instead of waiting on one request.
    #[arg(long = "async")]
    asynchronous: bool,
    /// Runware: which colour marks the edit in the mask sent (the file is read white-edits);
    /// local: which colour marks the edit in the mask file.
    #[arg(
        long,
        default_value = "white-edits",
        value_name = "white-edits|black-edits"
    )]
    polarity: Polarity,
    /// runware or local; by default runware when RUNWARE_API_KEY is set, else local.
    #[arg(long, value_enum)]
    backend: Option<Backend>,
    /// Send this Runware task (a fresh taskUUID; other flags override its fields).
    #[arg(long, value_name = "TASK.json")]
    request: Option<PathBuf>,
    /// Local engine: the seed of the first result (the next ones take seed+1, ...); random
    /// when not given.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Soft seam, in pixels, when compositing results over the original (0 to 64).
    #[arg(long, value_name = "PX", default_value_t = touchup::compare::DEFAULT_FEATHER_PX)]
    feather: u32,
    /// Save the model's output as returned instead of composited over the original.
    #[arg(long)]
    no_keep_outside: bool,
    /// Where to write result-1.<ext>, ..., compare.png and results.json.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
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

/// The photo as it should be sent: the file's own bytes, unless EXIF rotation changes its
/// pixels, in which case the upright picture as PNG (so it matches the mask).
fn seed_bytes(path: &Path) -> anyhow::Result<(Vec<u8>, RgbaImage)> {
    let bytes = touchup::imageio::read_file(path)?;
    // A photo cut short is refused by name ("photo.jpg is truncated: about 60 % of it is
    // missing"): its missing part would be sent as grey.
    let upright =
        touchup::imageio::decode(&bytes).map_err(|source| touchup::imageio::OpenError {
            path: path.to_path_buf(),
            source,
        })?;
    let raw = image::load_from_memory(&bytes).ok().map(|i| i.to_rgba8());
    if raw.as_ref() == Some(&upright) {
        Ok((bytes, upright))
    } else {
        let png = touchup::imageio::encode(&upright, touchup::imageio::Format::Png, 100)
            .with_context(|| format!("could not re-encode the upright {}", path.display()))?;
        Ok((png, upright))
    }
}

/// The photo (upright) and the mask on this machine: what the local engine edits and what
/// results are composited over and compared with.
struct LocalInputs {
    original: RgbaImage,
    mask: Mask,
}

/// The photo and mask from a task's own data URIs (white marks the edit, as Runware takes it).
fn inputs_from_request(request: &EditRequest) -> Option<LocalInputs> {
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
    Some(LocalInputs { original, mask })
}

/// The edit as given on the command line; with `--image` and `--mask` also the photo and mask
/// (the mask file read in `mask_polarity`).
fn build_request(
    args: &EditArgs,
    mask_polarity: Polarity,
) -> anyhow::Result<(EditRequest, Option<LocalInputs>)> {
    let mut request = match &args.request {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read the task {}", path.display()))?;
            let r = EditRequest::from_task_json(&text)
                .with_context(|| format!("could not import the task {}", path.display()))?;
            if !r.ignored_fields.is_empty() {
                eprintln!(
                    "note: {} has fields this model does not take, not sent: {}",
                    path.display(),
                    r.ignored_fields.join(", ")
                );
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
    if let Some(q) = args.quality {
        s.output_quality = Some(q);
    }
    if args.include_cost {
        s.include_cost = Some(true);
    }
    if args.asynchronous {
        s.delivery = Some(Delivery::Async);
    }

    let mut inputs = None;
    if let Some(path) = &args.image {
        let (bytes, original) = seed_bytes(path)?;
        let (w, h) = original.dimensions();
        if w.max(h) > 2048 {
            eprintln!(
                "note: {} is {w}x{h}; Runware stores images at most 2048 px on the long side",
                path.display()
            );
        }
        request.seed_image = Some(ImageInput::bytes(bytes));
        if let Some(mask_path) = &args.mask {
            let mask_file = touchup::imageio::read_file(mask_path)?;
            let mask =
                touchup::mask::import_mask(&mask_file, w, h, mask_polarity).with_context(|| {
                    format!(
                        "the mask {} does not fit the image {} ({w}x{h})",
                        mask_path.display(),
                        path.display()
                    )
                })?;
            if mask.is_empty() {
                let marking = match mask_polarity {
                    Polarity::WhiteEdits => "white marks the area to edit",
                    Polarity::BlackEdits => "with --polarity black-edits, black marks the area",
                };
                bail!("the mask {} marks nothing ({marking})", mask_path.display());
            }
            let png = touchup::mask::export_png(&mask, args.polarity)?;
            request.mask_image = Some(ImageInput::bytes(png));
            inputs = Some(LocalInputs { original, mask });
        }
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
        let mask_file = touchup::imageio::read_file(mask_path)?;
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
    let problems = request.validate();
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

pub fn run(args: &EditArgs) -> anyhow::Result<()> {
    if args.feather > MAX_FEATHER_PX {
        bail!(
            "--feather {} is too wide; use 0 to {MAX_FEATHER_PX} pixels",
            args.feather
        );
    }
    let key = ApiKey::configured().map(|(k, _)| k);
    let backend = match (args.backend, key.is_some()) {
        (Some(backend), _) => backend,
        (None, true) => Backend::Runware,
        (None, false) => {
            eprintln!(
                "no Runware key is configured ({KEY_ENV} or the system keyring): using the local engine (offline)"
            );
            Backend::Local
        }
    };
    if backend == Backend::Runware && args.seed.is_some() {
        bail!("--seed is for the local engine (--backend local); Runware picks its own seeds");
    }
    let mask_polarity = match backend {
        Backend::Local => args.polarity,
        Backend::Runware => Polarity::WhiteEdits,
    };
    let (request, inputs) = build_request(args, mask_polarity)?;
    match backend {
        Backend::Local => {
            let Some(inputs) = inputs else {
                bail!(
                    "the local engine needs the photo and its mask on this machine: give --image IMG and --mask MASK.png"
                );
            };
            run_local(args, &request, &inputs)
        }
        Backend::Runware => {
            let Some(key) = key else {
                bail!(
                    "--backend runware needs a Runware API key: set {KEY_ENV} or store the key in the system keyring from the editor's settings (get one at https://my.runware.ai)"
                );
            };
            run_runware(args, &request, inputs.as_ref(), key)
        }
    }
}

/// Saves results as they come: each composited over the original (unless --no-keep-outside)
/// with the raw output beside it, the outside-mask figures, `results.json` after every
/// picture, and at the end `compare.png`.
struct ResultWriter<'a> {
    dir: PathBuf,
    request: Value,
    entries: Vec<Value>,
    inputs: Option<(&'a LocalInputs, FeatherMask)>,
    keep_outside: bool,
    /// What was saved as each result, decoded (for the comparison sheet).
    shown: Vec<RgbaImage>,
}

impl<'a> ResultWriter<'a> {
    fn create(
        args: &EditArgs,
        request: Value,
        inputs: Option<&'a LocalInputs>,
    ) -> anyhow::Result<ResultWriter<'a>> {
        std::fs::create_dir_all(&args.out).with_context(|| {
            format!(
                "could not create the output folder {}; check the path and permissions",
                args.out.display()
            )
        })?;
        let mut request = request;
        touchup::edit::abbreviate_payloads(&mut request);
        if inputs.is_none() {
            eprintln!(
                "note: the photo and mask are not on this machine, so results are saved as returned (no compositing, no compare.png)"
            );
        }
        Ok(ResultWriter {
            dir: args.out.clone(),
            request,
            entries: Vec::new(),
            inputs: inputs.map(|i| (i, FeatherMask::new(&i.mask, args.feather))),
            keep_outside: !args.no_keep_outside,
            shown: Vec::new(),
        })
    }

    fn write(&self, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).with_context(|| {
            format!(
                "could not write {}; check free space and permissions",
                path.display()
            )
        })?;
        Ok(path)
    }

    /// Saves one picture; returns the path of the result to use.
    fn add(&mut self, image: &ResultImage) -> anyhow::Result<PathBuf> {
        let n = self.entries.len() + 1;
        let ext = match touchup::imageio::sniff_mime(&image.bytes) {
            "image/jpeg" => "jpg",
            "image/webp" => "webp",
            _ => "png",
        };
        let decoded = match self.inputs {
            Some(_) => match touchup::imageio::decode(&image.bytes) {
                Ok(img) => Some(img),
                Err(e) => {
                    eprintln!("note: result {n} could not be decoded ({e}); saved as returned");
                    None
                }
            },
            None => None,
        };
        let (file, raw_file, figures) = match (self.inputs.as_ref(), decoded) {
            (Some((inputs, feather)), Some(raw)) => {
                let figures = outside_figures(
                    &inputs.original,
                    &raw,
                    feather,
                    DEFAULT_NOTICEABLE_DIFFERENCE,
                )
                .with_context(|| format!("could not compare result {n} with the original"))?;
                if let Some(r) = &figures.resampled {
                    eprintln!("note: result {n}: {r}");
                }
                if self.keep_outside {
                    let raw_name = format!("result-{n}.raw.{ext}");
                    self.write(&raw_name, &image.bytes)?;
                    let composite = composite(&inputs.original, &raw, feather)
                        .with_context(|| format!("could not composite result {n}"))?;
                    let png = touchup::imageio::encode(
                        &composite.image,
                        touchup::imageio::Format::Png,
                        100,
                    )
                    .with_context(|| format!("could not encode result {n} as PNG"))?;
                    let name = format!("result-{n}.png");
                    self.write(&name, &png)?;
                    self.shown.push(composite.image);
                    (name, raw_name, Some(figures))
                } else {
                    let name = format!("result-{n}.{ext}");
                    self.write(&name, &image.bytes)?;
                    self.shown.push(raw);
                    (name.clone(), name, Some(figures))
                }
            }
            _ => {
                let name = format!("result-{n}.{ext}");
                self.write(&name, &image.bytes)?;
                (name.clone(), name, None)
            }
        };
        self.entries.push(json!({
            "file": file,
            "raw_file": raw_file,
            "imageUUID": image.image_uuid,
            "seed": image.seed,
            "cost": image.cost,
            "outside_mask_changed_fraction": figures.as_ref().map(|f| f.changed_fraction),
            "outside_mask": figures,
        }));
        self.write_index()?;
        Ok(self.dir.join(file))
    }

    fn write_index(&self) -> anyhow::Result<PathBuf> {
        let index = json!({
            "results": self.entries,
            "keep_outside": self.keep_outside,
            "request": self.request,
        });
        let text = serde_json::to_string_pretty(&index).context("could not build results.json")?;
        self.write("results.json", text.as_bytes())
    }

    /// `compare.png`: the original and every saved result side by side, labelled.
    fn write_sheet(&self) -> anyhow::Result<Option<PathBuf>> {
        let Some((inputs, _)) = &self.inputs else {
            return Ok(None);
        };
        if self.shown.is_empty() {
            return Ok(None);
        }
        let results: Vec<&RgbaImage> = self.shown.iter().collect();
        let sheet = comparison_sheet(&inputs.original, &results, &SheetOptions::default())
            .context("could not draw the comparison sheet")?;
        let png = touchup::imageio::encode(&sheet.image, touchup::imageio::Format::Png, 100)
            .context("could not encode compare.png")?;
        Ok(Some(self.write("compare.png", &png)?))
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The offline engine: one edit per result, seeds `seed`, `seed + 1`, ...
fn run_local(args: &EditArgs, request: &EditRequest, inputs: &LocalInputs) -> anyhow::Result<()> {
    let wanted = request.settings.results_wanted();
    let first_seed = args
        .seed
        .unwrap_or_else(|| Uuid::new_v4().as_u64_pair().0 % (1 << 31));
    let mut writer =
        ResultWriter::create(args, request.to_task_json(Uuid::new_v4()), Some(inputs))?;
    eprintln!(
        "editing with the local engine ({wanted} picture{}, first seed {first_seed})",
        if wanted == 1 { "" } else { "s" }
    );
    let cancel = AtomicBool::new(false);
    let options = LocalOptions::default();
    for i in 0..u64::from(wanted) {
        let seed = first_seed.wrapping_add(i);
        let shown_step = Cell::new(-1i32);
        let progress = |p: f32| {
            let step = (p.clamp(0.0, 1.0) * 4.0) as i32;
            if step > shown_step.get() {
                shown_step.set(step);
                eprintln!("picture {}/{wanted}: {} %", i + 1, step * 25);
            }
        };
        let out = touchup::local::edit(
            &inputs.original,
            &inputs.mask,
            &request.prompt,
            &options,
            seed,
            &progress,
            &cancel,
        )
        .map_err(|e| anyhow::anyhow!("the local edit failed: {e}"))?;
        let png = touchup::imageio::encode(&out, touchup::imageio::Format::Png, 100)
            .context("could not encode the local result as PNG")?;
        let path = writer.add(&ResultImage {
            bytes: png,
            image_uuid: None,
            seed: i64::try_from(seed).ok(),
            cost: None,
        })?;
        println!("{}", path.display());
        eprintln!("saved {} (seed {seed})", path.display());
    }
    if let Some(sheet) = writer.write_sheet()? {
        eprintln!("wrote {}", sheet.display());
    }
    eprintln!(
        "done: {} picture{} in {}",
        writer.len(),
        if writer.len() == 1 { "" } else { "s" },
        args.out.display()
    );
    Ok(())
}

fn run_runware(
    args: &EditArgs,
    request: &EditRequest,
    inputs: Option<&LocalInputs>,
    key: ApiKey,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("could not start the network runtime")?;
    let client = Client::new(ClientConfig::from_env(), key)?;
    let task_uuid = Uuid::new_v4();
    let mut folder = ResultWriter::create(args, request.to_task_json(task_uuid), inputs)?;
    let wanted = request.settings.results_wanted();
    eprintln!(
        "sending the edit to Runware ({} picture{}, taskUUID {task_uuid})",
        wanted,
        if wanted == 1 { "" } else { "s" }
    );
    let mut save_error: Option<anyhow::Error> = None;
    let outcome = {
        let mut on_event = |event: SubmitEvent| match event {
            SubmitEvent::Uploading => eprintln!("uploading the image..."),
            SubmitEvent::Sending { attempt } if attempt > 1 => {
                eprintln!("sending again (attempt {attempt})...")
            }
            SubmitEvent::Sending { .. } => {}
            SubmitEvent::Retrying { delay, reason, .. } if delay.is_zero() => {
                eprintln!("{reason}")
            }
            SubmitEvent::Retrying { delay, reason, .. } => {
                eprintln!("will retry in {:.1} s: {reason}", delay.as_secs_f64())
            }
            SubmitEvent::Queued => eprintln!("queued; waiting for the pictures..."),
            SubmitEvent::Polling {
                done,
                wanted,
                progress,
            } => match progress {
                Some(p) => eprintln!("{done}/{wanted} ready ({p:.0} %)"),
                None => eprintln!("{done}/{wanted} ready"),
            },
            SubmitEvent::Downloading { index } => eprintln!("downloading picture {index}..."),
            SubmitEvent::Result(result) => match folder.add(&result.to_result_image()) {
                Ok(path) => {
                    println!("{}", path.display());
                    let mut facts = Vec::new();
                    if let Some(u) = &result.image_uuid {
                        facts.push(format!("imageUUID {u}"));
                    }
                    if let Some(s) = result.seed {
                        facts.push(format!("seed {s}"));
                    }
                    if let Some(c) = result.cost {
                        facts.push(format!("cost ${c}"));
                    }
                    eprintln!("saved {} ({})", path.display(), facts.join(", "));
                }
                Err(e) => {
                    if save_error.is_none() {
                        save_error = Some(e);
                    }
                }
            },
        };
        runtime.block_on(client.submit(
            request,
            task_uuid,
            &CancellationToken::new(),
            &mut on_event,
        ))
    };
    if let Some(e) = save_error {
        return Err(e);
    }
    folder.write_index()?;
    if let Some(sheet) = folder.write_sheet()? {
        eprintln!("wrote {}", sheet.display());
    }
    match outcome {
        Ok(results) => {
            eprintln!(
                "done: {} picture{} in {}",
                results.len(),
                if results.len() == 1 { "" } else { "s" },
                args.out.display()
            );
            Ok(())
        }
        Err(e) => {
            let kept = if folder.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} picture(s) already saved in {})",
                    folder.len(),
                    args.out.display()
                )
            };
            Err(anyhow::anyhow!(
                "the Runware edit failed: {}{kept}",
                explain(&e)
            ))
        }
    }
}

fn explain(e: &RunwareError) -> String {
    let fields: Vec<&str> = e.fields().into_iter().map(flag_for).collect();
    if fields.is_empty() || matches!(e, RunwareError::Invalid(_)) {
        e.to_string()
    } else {
        format!("{e} (see {})", fields.join(", "))
    }
}
