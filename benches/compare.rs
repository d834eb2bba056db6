//! Compositing and outside-mask figures at 4096x4096 with 4 results (see benches/README.md).
//!
//! Run: `cargo bench --bench compare`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use image::{Rgba, RgbaImage};
use touchup::compare::{
    CompareSettings, DEFAULT_FEATHER_PX, DEFAULT_NOTICEABLE_DIFFERENCE, FeatherMask, check_outside,
    compare_result, composite, outside_figures,
};
use touchup::mask::Mask;

const SIDE: u32 = 4096;

/// A photo-like original: smooth gradients with some texture.
fn original() -> RgbaImage {
    RgbaImage::from_fn(SIDE, SIDE, |x, y| {
        let n = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 27;
        Rgba([
            (x / 16) as u8 ^ n as u8,
            (y / 16) as u8,
            ((x + y) / 32) as u8,
            255,
        ])
    })
}

/// A storefront sign: a 1600x500 band plus a round badge, as a designer would paint.
fn sign_mask() -> Mask {
    let mut m = Mask::new(SIDE, SIDE);
    m.fill_rect(1200, 900, 1600, 500, 255);
    let (cx, cy, r) = (3000i64, 2600i64, 300i64);
    for y in cy - r..=cy + r {
        for x in cx - r..=cx + r {
            if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                m.set(x as u32, y as u32, 255);
            }
        }
    }
    m
}

/// Four results: each repaints the sign; two also leak changes outside (a global tint and a
/// patch), as real model outputs do.
fn results(original: &RgbaImage, mask: &Mask) -> Vec<RgbaImage> {
    (0..4u8)
        .map(|k| {
            let mut r = original.clone();
            for (x, y, p) in r.enumerate_pixels_mut() {
                if mask.is_marked(x, y) {
                    p.0 = [40 * k, 200, 90, 255];
                } else if k == 1 {
                    p.0[0] = p.0[0].saturating_add(3);
                } else if k == 3 && (100..600).contains(&x) && (3000..3400).contains(&y) {
                    p.0[2] = p.0[2].wrapping_add(80);
                }
            }
            r
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let original = original();
    let mask = sign_mask();
    let results = results(&original, &mask);
    let feather = FeatherMask::new(&mask, DEFAULT_FEATHER_PX);
    let settings = CompareSettings::default();
    // The figures, to check against the peer's (benches/compare_peer.py prints the same).
    for (i, r) in results.iter().enumerate() {
        if let Ok(f) = outside_figures(&original, r, &feather, DEFAULT_NOTICEABLE_DIFFERENCE) {
            eprintln!(
                "result {}: outside {} changed {} mean {:.4} max {}",
                i + 1,
                f.outside_pixels,
                f.changed_pixels,
                f.mean_difference,
                f.max_difference
            );
        }
    }

    let mut g = c.benchmark_group("compare_4096x4096");
    g.sample_size(10);
    g.bench_function("feather_mask_r4", |b| {
        b.iter(|| FeatherMask::new(black_box(&mask), DEFAULT_FEATHER_PX))
    });
    g.bench_function("composite_4_results", |b| {
        b.iter(|| {
            for r in &results {
                black_box(composite(&original, black_box(r), &feather).ok());
            }
        })
    });
    g.bench_function("outside_figures_4_results", |b| {
        b.iter(|| {
            for r in &results {
                black_box(
                    outside_figures(&original, r, &feather, DEFAULT_NOTICEABLE_DIFFERENCE).ok(),
                );
            }
        })
    });
    g.bench_function("outside_check_with_heatmap_4_results", |b| {
        b.iter(|| {
            for r in &results {
                black_box(
                    check_outside(&original, r, &feather, DEFAULT_NOTICEABLE_DIFFERENCE).ok(),
                );
            }
        })
    });
    g.bench_function("compare_all_4_results", |b| {
        b.iter(|| {
            let f = FeatherMask::new(&mask, settings.feather_px);
            for r in &results {
                black_box(compare_result(&original, r, &f, &settings).ok());
            }
        })
    });
    let half = image::imageops::resize(
        &results[0],
        SIDE / 2,
        SIDE / 2,
        image::imageops::FilterType::Triangle,
    );
    g.bench_function("composite_1_result_resampled_from_2048", |b| {
        b.iter(|| black_box(composite(&original, black_box(&half), &feather).ok()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
