//! Magic wand and grow-by-20 on a 4096x4096 photo-like image (gradient with noise, a flat sign
//! panel with mild noise). Before measuring, the input picture and the wand's mask are written
//! to `$CARGO_TARGET_DIR/select-bench/` so `benches/select_vs_opencv.sh` times OpenCV on the
//! same input.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use image::{Rgba, RgbaImage};
use touchup::mask::{
    Combine, Mask, Polarity, THRESHOLD, WandOptions, export_png, grow, magic_wand, shrink,
    wand_region,
};

const SIDE: u32 = 4096;
/// Where the wand clicks: inside the panel.
const SEED: (u32, u32) = (1500, 1500);
const GROW: u32 = 20;

fn photo() -> RgbaImage {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = move |amp: i32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % (2 * amp as u64 + 1)) as i32 - amp
    };
    RgbaImage::from_fn(SIDE, SIDE, |x, y| {
        let in_panel = (700..3300).contains(&x) && (900..2700).contains(&y);
        let base = if in_panel {
            [40.0, 90.0, 190.0]
        } else {
            let (t, s) = (x as f32 / SIDE as f32, y as f32 / SIDE as f32);
            [220.0 - 80.0 * t, 150.0 + 70.0 * s, 80.0 + 60.0 * t * s]
        };
        let c = base.map(|v: f32| (v as i32 + noise(3)).clamp(0, 255) as u8);
        Rgba([c[0], c[1], c[2], 255])
    })
}

fn out_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("select-bench")
}

fn bench(c: &mut Criterion) {
    let img = photo();
    let options = WandOptions::default();
    let mut wand_mask = Mask::new(SIDE, SIDE);
    magic_wand(&mut wand_mask, &img, SEED, &options, Combine::Add, None).unwrap();
    let dir = out_dir();
    std::fs::create_dir_all(&dir).unwrap();
    img.save(dir.join("photo.png")).unwrap();
    std::fs::write(
        dir.join("wand_mask.png"),
        export_png(&wand_mask, Polarity::WhiteEdits).unwrap(),
    )
    .unwrap();
    let mut grown = wand_mask.clone();
    grow(&mut grown, GROW);
    let summary = format!(
        "{{\"width\": {SIDE}, \"height\": {SIDE}, \"seed\": \"{},{}\", \"wand_pixels\": {}, \"grown_pixels\": {}}}",
        SEED.0,
        SEED.1,
        wand_mask.count_at_least(THRESHOLD),
        grown.count_at_least(THRESHOLD)
    );
    std::fs::write(dir.join("touchup.json"), &summary).unwrap();
    eprintln!("bench input in {}: {summary}", dir.display());

    let mut g = c.benchmark_group("select_4096");
    g.sample_size(10);
    g.bench_function("wand", |b| {
        b.iter(|| black_box(wand_region(black_box(&img), SEED, &options, None).unwrap()))
    });
    g.bench_function("grow_20", |b| {
        b.iter_batched_ref(
            || wand_mask.clone(),
            |m| black_box(grow(m, GROW)),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("shrink_20", |b| {
        b.iter_batched_ref(
            || wand_mask.clone(),
            |m| black_box(shrink(m, GROW)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
