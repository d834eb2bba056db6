//! What the text models' cached plans hold: resident memory after loading the models, then
//! after each read that builds a new plan (a new detector input size or recogniser width).
//! `cargo run --release --example text_plan_memory` (Linux: reads /proc/self/statm).

use image::{Rgba, RgbaImage};
use touchup::fonts::{Typeface, render_line};

fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

/// A `w`x`h` picture with one dark line of `text` on a light ground.
fn picture(w: u32, h: u32, text: &str, px: f32) -> RgbaImage {
    let mut img = RgbaImage::from_pixel(w, h, Rgba([235, 230, 220, 255]));
    if let Some(bmp) = render_line(Typeface::SansBold, text, px) {
        for y in 0..bmp.height.min(h.saturating_sub(10)) {
            for x in 0..bmp.width.min(w.saturating_sub(10)) {
                let c = bmp.get(x, y);
                if c > 0 {
                    let v = 235 - (c as u32 * 200 / 255) as u8;
                    img.put_pixel(x + 5, y + 5, Rgba([v, v, v, 255]));
                }
            }
        }
    }
    img
}

fn main() -> anyhow::Result<()> {
    let start = rss_mib();
    let reader = touchup::text::reader()?;
    let loaded = rss_mib();
    println!(
        "start {start:.0} MiB; models loaded {loaded:.0} MiB (+{:.0})",
        loaded - start
    );
    let script = touchup::text::Script::Latin;
    // Detector sizes: pictures whose padded detector inputs differ.
    let mut last = rss_mib();
    for (w, h) in [
        (600, 400),
        (900, 300),
        (1200, 800),
        (400, 1200),
        (1600, 1000),
        (300, 300),
    ] {
        let img = picture(w, h, "OPEN", 60.0);
        reader.detect(&img)?;
        let now = rss_mib();
        println!(
            "detector plan for a {w}x{h} picture: {now:.0} MiB (+{:.0})",
            now - last
        );
        last = now;
    }
    // Recogniser widths: lines of growing length (each padded width is one plan).
    for n in [1usize, 2, 3, 4, 5, 7, 9, 11, 14, 19] {
        let text = "ABCDE ".repeat(n);
        let img = picture(48 * 6 * n as u32 / 2 + 200, 120, text.trim(), 40.0);
        let lines = reader.read(&img, script)?;
        let now = rss_mib();
        println!(
            "{} line(s), widest {} px: {now:.0} MiB (+{:.0})",
            lines.len(),
            lines
                .iter()
                .map(|l| l.area.width() as u32)
                .max()
                .unwrap_or(0),
            now - last
        );
        last = now;
    }
    println!(
        "total held beyond the loaded models: {:.0} MiB",
        rss_mib() - loaded
    );
    Ok(())
}
