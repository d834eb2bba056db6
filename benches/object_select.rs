//! The Object tool's times on a photo (default: a 4000x3000 street scene drawn here, written to
//! `target/object-12mp.png` for `benches/segment_peer.py`): model load, the first encode
//! (pre-processing, plan build and encoder), a second encode of another photo of the same size,
//! and per-click decodes (one click, a refinement with the previous logits and three points,
//! each followed by the full-size upsample). Medians of `OBJECT_RUNS` (default 5) clicks.
//!   cargo bench --bench object_select [-- PHOTO]

use std::time::Instant;

use image::{Rgba, RgbaImage};
use touchup::segment::{Prompt, segmenter};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn hash(mut v: u32) -> u32 {
    v ^= v >> 16;
    v = v.wrapping_mul(0x7feb_352d);
    v ^= v >> 15;
    v = v.wrapping_mul(0x846c_a68b);
    v ^ (v >> 16)
}

/// Cobblestones with a blue sign on a post, 4000x3000.
fn scene(seed: u32) -> RgbaImage {
    RgbaImage::from_fn(4000, 3000, |x, y| {
        let grain = (hash(x * 7919 + y * 104_729 + seed) % 31) as i32 - 15;
        if (1100..2900).contains(&x) && (550..1550).contains(&y) {
            let edge = (x - 1100).min(2899 - x).min(y - 550).min(1549 - y);
            return if edge < 36 {
                Rgba([190, 190, 195, 255])
            } else {
                Rgba([25, 60, 150, 255])
            };
        }
        if (1950..2050).contains(&x) && y >= 1550 {
            return Rgba([100, 100, 106, 255]);
        }
        let row = y / 170;
        let shift = if row.is_multiple_of(2) { 0 } else { 120 };
        let (col, u, v) = ((x + shift) / 240, (x + shift) % 240, y % 170);
        if u < 16 || v < 16 {
            let g = (60 + grain / 2) as u8;
            return Rgba([g, g, g, 255]);
        }
        let stone = hash(row * 1013 + col * 7 + seed);
        let base = 120 + (stone % 60) as i32;
        let c = |d: i32| (base + d + grain).clamp(0, 255) as u8;
        Rgba([c(10), c(0), c(-10), 255])
    })
}

fn main() {
    let path = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let runs: usize = std::env::var("OBJECT_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
        .max(1);
    let image = match &path {
        Some(p) => match touchup::imageio::open(std::path::Path::new(p)) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("object_select: {e}");
                std::process::exit(1);
            }
        },
        None => {
            let img = scene(0);
            let out =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/object-12mp.png");
            if let Err(e) = img.save(&out) {
                eprintln!("object_select: could not write {}: {e}", out.display());
            }
            img
        }
    };
    let (w, h) = image.dimensions();
    let t = Instant::now();
    let s = match segmenter() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("object_select: {e}");
            std::process::exit(1);
        }
    };
    println!("models loaded: {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let (_, _) = touchup::segment::preprocess(&image).unwrap_or_default();
    println!("{w}x{h}: pre-processing {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let embedding = match s.encode(&image) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("object_select: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "first encode (pre-processing, plan, encoder): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    if path.is_none() {
        let other = scene(1);
        let t = Instant::now();
        if s.encode(&other).is_ok() {
            println!(
                "next photo's encode (plan built): {:.2} s",
                t.elapsed().as_secs_f64()
            );
        }
        // The same on one thread (tract's matrix products not split over the cores).
        use tract_linalg::multithread::{Executor, multithread_tract_scope};
        let third = scene(2);
        let t = Instant::now();
        if multithread_tract_scope(Executor::SingleThread, || s.encode(&third)).is_ok() {
            println!(
                "next photo's encode on one thread: {:.2} s",
                t.elapsed().as_secs_f64()
            );
        }
    }
    let (cx, cy) = (w as f32 * 0.3, h as f32 * 0.22);
    let click = Prompt::click(cx, cy);
    let mut first = None;
    let (mut decode, mut upsample, mut refine) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..=runs {
        let t = Instant::now();
        let Ok(c) = s.decode(&embedding, &click, None) else {
            eprintln!("object_select: the decode failed");
            std::process::exit(1);
        };
        let d = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let region = c.region(c.preferred());
        let u = t.elapsed().as_secs_f64();
        if i == 0 {
            println!("first click (decoder plan build): {:.3} s", d + u);
            first = Some(c);
            continue;
        }
        decode.push(d);
        upsample.push(u);
        if i == 1 {
            println!("selected {} pixels", region.map_or(0, |r| r.marked_count()));
        }
    }
    if let Some(c) = &first {
        let previous = c.logits(c.preferred()).map(<[f32]>::to_vec);
        let prompt = click
            .clone()
            .with_point(w as f32 * 0.7, h as f32 * 0.45, true)
            .with_point(w as f32 * 0.5, h as f32 * 0.8, false);
        for _ in 0..=runs {
            let t = Instant::now();
            if let Ok(c) = s.decode(&embedding, &prompt, previous.as_deref()) {
                let _ = c.region(c.preferred());
            }
            refine.push(t.elapsed().as_secs_f64());
        }
        refine.remove(0);
    }
    println!(
        "per click: decoder {:.0} ms + full-size upsample {:.0} ms (medians of {runs})",
        median(decode) * 1000.0,
        median(upsample) * 1000.0
    );
    println!(
        "refine (3 points + previous logits, new plan after the first): {:.0} ms",
        median(refine) * 1000.0
    );
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!("peak memory: {}", line.trim_start_matches("VmHWM:").trim());
    }
}
