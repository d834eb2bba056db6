//! Mask benchmarks: export to a data URI, a long brush stroke, (printed once) the undo
//! memory after 100 strokes, and undo/redo of a stroke over half of an 8192² mask.
//! `cargo bench --bench mask`

use criterion::{Criterion, criterion_group, criterion_main};
use touchup::mask::{Brush, BrushMode, Mask, MaskEditor, Polarity, export_data_uri};

/// A sign-editing mask: a panel, a lettering band and a few strokes.
fn sign_mask(n: u32) -> Mask {
    let mut m = Mask::new(n, n);
    let n = n as i64;
    m.fill_rect(n / 8, n / 10, n / 2, n / 8, 255);
    m.fill_rect(n / 5, n / 2, n / 3, n / 20, 255);
    let brush = Brush::new(n as f32 / 20.0, 0.8, BrushMode::Paint);
    brush.polyline(
        &mut m,
        &[
            (n as f32 * 0.6, n as f32 * 0.7),
            (n as f32 * 0.9, n as f32 * 0.8),
            (n as f32 * 0.7, n as f32 * 0.95),
        ],
    );
    m
}

/// 500 pointer samples along a wavy path across the mask.
fn stroke_points(n: u32) -> Vec<(f32, f32)> {
    (0..500)
        .map(|i| {
            let t = i as f32 / 499.0;
            (
                100.0 + t * (n as f32 - 200.0),
                n as f32 / 2.0 + (t * 20.0).sin() * n as f32 / 4.0,
            )
        })
        .collect()
}

fn export(c: &mut Criterion) {
    let mut g = c.benchmark_group("export_data_uri");
    g.sample_size(10);
    for n in [4096u32, 8192] {
        let m = sign_mask(n);
        g.bench_function(format!("{n}x{n}"), |b| {
            b.iter(|| export_data_uri(&m, Polarity::WhiteEdits))
        });
    }
    g.finish();
}

fn stroke(c: &mut Criterion) {
    let pts = stroke_points(4096);
    let brush = Brush::new(100.0, 0.8, BrushMode::Paint);
    let mut g = c.benchmark_group("stroke");
    g.sample_size(10);
    g.bench_function("500 dabs r50 on 4096x4096", |b| {
        b.iter_batched_ref(
            || MaskEditor::new(4096, 4096),
            |ed| {
                ed.begin_stroke(brush, pts[0]);
                for &p in &pts[1..] {
                    ed.continue_stroke(p);
                }
                ed.end_stroke();
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn undo_memory(_: &mut Criterion) {
    let mut ed = MaskEditor::new(4096, 4096);
    let brush = Brush::new(100.0, 0.8, BrushMode::Paint);
    for k in 0..100 {
        let pts: Vec<(f32, f32)> = stroke_points(4096)
            .into_iter()
            .map(|(x, y)| (x, (y + k as f32 * 37.0) % 4096.0))
            .collect();
        ed.begin_stroke(brush, pts[0]);
        for &p in &pts[1..] {
            ed.continue_stroke(p);
        }
        ed.end_stroke();
    }
    let stats = ed.history().stats();
    eprintln!(
        "undo memory after 100 strokes of 500 dabs (r50) on 4096x4096: {:.2} MiB in {} steps",
        stats.bytes as f64 / (1024.0 * 1024.0),
        stats.undo_steps
    );
}

/// Undo and redo of one stroke of a 3000 px brush over half of an 8192x8192 mask (about
/// 8,800 tiles swapped each way), as `benches/paint_large.rs` makes in the editor.
fn undo_large(c: &mut Criterion) {
    let n = 8192u32;
    let mut ed = MaskEditor::new(n, n);
    let brush = Brush::new(3000.0, 0.8, BrushMode::Paint);
    let pts: Vec<(f32, f32)> = (0..500)
        .map(|i| {
            let t = i as f32 / 499.0;
            (
                1000.0 + t * 6000.0,
                n as f32 / 2.0 + (t * 100.0).sin() * n as f32 * 0.3,
            )
        })
        .collect();
    ed.begin_stroke(brush, pts[0]);
    for &p in &pts[1..] {
        ed.continue_stroke(p);
    }
    ed.end_stroke();
    let mut g = c.benchmark_group("undo");
    g.sample_size(20);
    g.bench_function("undo + redo of a half-mask stroke on 8192x8192", |b| {
        b.iter(|| {
            ed.undo();
            ed.redo();
        })
    });
    g.finish();
}

criterion_group!(benches, export, stroke, undo_memory, undo_large);
criterion_main!(benches);
