//! Times the offline engine's fill on one image and mask and scores it inside the mask against
//! the input, printing one JSON line like `opencv_inpaint.py` does (see benches/README.md).
//!
//! `cargo run --release --example inpaint_bench -- IMAGE MASK OUT [--method auto|patch|marching]
//!  [--seed N] [--repeat N]`

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, bail};
use touchup::local::{FillMethod, LocalOptions, edit, fill};
use touchup::mask::Mask;

fn main() -> anyhow::Result<()> {
    // RUST_LOG=touchup=debug shows what the fill decided (surroundings, lines, levels, gain).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut positional = Vec::new();
    let mut method = FillMethod::Auto;
    let mut seed = 1u64;
    let mut repeat = 3usize;
    let mut prompt = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--method" => {
                method = match args.next().as_deref() {
                    Some("auto") => FillMethod::Auto,
                    Some("patch") => FillMethod::Patch,
                    Some("marching") => FillMethod::FastMarching,
                    other => bail!("--method takes auto, patch or marching, not {other:?}"),
                }
            }
            "--seed" => seed = args.next().context("--seed needs a number")?.parse()?,
            "--prompt" => prompt = Some(args.next().context("--prompt needs text")?),
            "--repeat" => repeat = args.next().context("--repeat needs a number")?.parse()?,
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    let [image_path, mask_path, out_path] = positional.as_slice() else {
        bail!(
            "usage: inpaint_bench IMAGE MASK OUT [--method auto|patch|marching] [--seed N] [--repeat N] [--prompt TEXT]"
        );
    };
    let image = touchup::imageio::open(image_path)
        .with_context(|| format!("cannot open image {}", image_path.display()))?;
    let gray = image::open(mask_path)
        .with_context(|| format!("cannot open mask {}", mask_path.display()))?
        .to_luma8();
    let (w, h) = gray.dimensions();
    let mask = Mask::from_raw(w, h, gray.into_raw()).context("mask size")?;
    let options = LocalOptions {
        fill: method,
        ..LocalOptions::default()
    };
    let cancel = AtomicBool::new(false);
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let result = match &prompt {
            Some(text) => edit(&image, &mask, text, &options, seed, &|_| {}, &cancel)?,
            None => fill(&image, &mask, &options, seed, &|_| {}, &cancel)?,
        };
        times.push(start.elapsed().as_secs_f64());
        out = Some(result);
    }
    let Some(out) = out else { bail!("nothing ran") };
    out.save(out_path)
        .with_context(|| format!("cannot write {}", out_path.display()))?;
    let mut squared = 0.0f64;
    let mut count = 0usize;
    for y in 0..h {
        for x in 0..w {
            if mask.is_marked(x, y) {
                let (a, b) = (image.get_pixel(x, y).0, out.get_pixel(x, y).0);
                for c in 0..3 {
                    let d = a[c] as f64 - b[c] as f64;
                    squared += d * d;
                }
                count += 3;
            }
        }
    }
    let mse = squared / count.max(1) as f64;
    let psnr = if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    };
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"peer\": \"touchup-local\", \"best_s\": {}, \"median_s\": {}, \"masked_pixels\": {}, \"psnr_in_mask_db\": {}}}",
        times[0],
        times[times.len() / 2],
        count / 3,
        psnr
    );
    Ok(())
}
