//! Times touchup's mask export (threshold + PNG + data URI) on a mask file, printing the same
//! JSON as `shared/peers/pillow_mask_export.py` so the two can be compared in one run.
//!
//! `cargo run --release --example mask_export_timing -- MASK.png [--repeat N]`

use std::time::Instant;

use touchup::mask::{Polarity, export_data_uri, import_mask};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or_else(|| anyhow::anyhow!("usage: mask_export_timing MASK.png [--repeat N]"))?;
    let repeat: usize = match args.iter().position(|a| a == "--repeat") {
        Some(i) => args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(5),
        None => 5,
    };
    let bytes = std::fs::read(path)?;
    let (w, h) = image::image_dimensions(path)?;
    let mask = import_mask(&bytes, w, h, Polarity::WhiteEdits)?;
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        let uri = export_data_uri(&mask, Polarity::WhiteEdits)?;
        times.push(t0.elapsed().as_secs_f64());
        size = uri.len();
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{{\"peer\": \"touchup\", \"width\": {w}, \"height\": {h}, \"best_s\": {}, \"median_s\": {median}, \"data_uri_bytes\": {size}}}",
        times[0]
    );
    Ok(())
}
