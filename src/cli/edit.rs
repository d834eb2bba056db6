//! `touchup edit`: send an edit to Ideogram 3.0 Edit on Runware (or the local engine) and save
//! the results, headless.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use tokio_util::sync::CancellationToken;
use touchup::edit::{
    Delivery, EditRequest, Field, FieldError, ImageInput, MagicPrompt, OutputFormat,
    RenderingSpeed, ResultFolder, StyleType, find_style_preset,
};
use touchup::mask::Polarity;
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
    /// AUTO, GENERAL, REALISTIC, DESIGN or FICTION.
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
    /// Which colour marks the edit in the mask sent to Runware.
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
    /// Where to write result-1.<ext>, ... and results.json.
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
fn seed_bytes(path: &Path) -> anyhow::Result<(Vec<u8>, u32, u32)> {
    let bytes = touchup::imageio::read_file(path)?;
    let upright = touchup::imageio::decode(&bytes)
        .with_context(|| format!("could not read the image {}", path.display()))?;
    let raw = image::load_from_memory(&bytes).ok().map(|i| i.to_rgba8());
    let (w, h) = upright.dimensions();
    if raw.as_ref() == Some(&upright) {
        Ok((bytes, w, h))
    } else {
        let png = touchup::imageio::encode(&upright, touchup::imageio::Format::Png, 100)
            .with_context(|| format!("could not re-encode the upright {}", path.display()))?;
        Ok((png, w, h))
    }
}

fn build_request(args: &EditArgs) -> anyhow::Result<EditRequest> {
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

    if let Some(path) = &args.image {
        let (bytes, w, h) = seed_bytes(path)?;
        if w.max(h) > 2048 {
            eprintln!(
                "note: {} is {w}x{h}; Runware stores images at most 2048 px on the long side",
                path.display()
            );
        }
        request.seed_image = Some(ImageInput::bytes(bytes));
        if let Some(mask_path) = &args.mask {
            let mask_file = touchup::imageio::read_file(mask_path)?;
            let mask = touchup::mask::import_mask(&mask_file, w, h, Polarity::WhiteEdits)
                .with_context(|| {
                    format!(
                        "the mask {} does not fit the image {} ({w}x{h})",
                        mask_path.display(),
                        path.display()
                    )
                })?;
            if mask.is_empty() {
                bail!(
                    "the mask {} marks nothing (white marks the area to edit)",
                    mask_path.display()
                );
            }
            let png = touchup::mask::export_png(&mask, args.polarity)?;
            request.mask_image = Some(ImageInput::bytes(png));
        }
    } else if args.mask.is_some() && args.request.is_none() {
        bail!("--mask needs --image (the photo the mask belongs to)");
    }
    if args.image.is_none()
        && let Some(mask_path) = &args.mask
    {
        // With --request and no --image: the mask must fit the task's seed; the server checks.
        let mask_file = touchup::imageio::read_file(mask_path)?;
        request.mask_image = Some(ImageInput::bytes(mask_file));
    }
    let problems = request.validate();
    if !problems.is_empty() {
        bail!("the edit is incomplete: {}", describe_problems(&problems));
    }
    Ok(request)
}

pub fn run(args: &EditArgs) -> anyhow::Result<()> {
    let key = ApiKey::configured().map(|(k, _)| k);
    let backend = args.backend.unwrap_or(if key.is_some() {
        Backend::Runware
    } else {
        Backend::Local
    });
    let request = build_request(args)?;
    match backend {
        Backend::Local => {
            if key.is_none() && args.backend.is_none() {
                bail!(
                    "{KEY_ENV} is not set and the local engine is not available in this build: set {KEY_ENV} to use Runware"
                );
            }
            run_local(args, &request)
        }
        Backend::Runware => {
            let Some(key) = key else {
                bail!(
                    "--backend runware needs a Runware API key: set {KEY_ENV} or store the key in the system keyring from the editor's settings (get one at https://my.runware.ai)"
                );
            };
            run_runware(args, &request, key)
        }
    }
}

/// The offline engine. To plug it in: run it on `request` (photo, mask, prompt) to get
/// `Vec<ResultImage>` (no imageUUID or cost; a seed if it has one), then
/// `touchup::edit::save_results(&args.out, request.to_task_json(Uuid::new_v4()), &images)`
/// and print each returned path on stdout, as the Runware path does.
fn run_local(args: &EditArgs, request: &EditRequest) -> anyhow::Result<()> {
    let _ = (&args.out, request);
    bail!(
        "the local engine is not available in this build; use --backend runware with {KEY_ENV} set"
    )
}

fn run_runware(args: &EditArgs, request: &EditRequest, key: ApiKey) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("could not start the network runtime")?;
    let client = Client::new(ClientConfig::from_env(), key)?;
    let task_uuid = Uuid::new_v4();
    let mut folder = ResultFolder::create(&args.out, request.to_task_json(task_uuid))?;
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
                        save_error = Some(e.into());
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
