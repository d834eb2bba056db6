//! Frame time of the compare view's grid: the original and 8 results, each a 3840x2160 texture
//! (plus a 3840x2160 heatmap per result) uploaded once, in a 1920x1080-point window at 2 pixels
//! per point (a 4K monitor at 200 %).
//!
//! What one timed iteration is: the CPU side of one frame as eframe does it, i.e.
//! `Context::run_ui` (input, layout, widget interaction, painting to shapes) followed by
//! `Context::tessellate` (shapes to triangle meshes). There is no GPU here: uploading the
//! meshes, drawing and presenting are not measured. The frame's `TexturesDelta` is counted and
//! must be empty in every measured frame, since switching views never re-uploads textures.
//!
//! One more row drives the same view through egui_kittest's `Harness::step` (which does not
//! tessellate, so the bench tessellates the frame's shapes itself); the harness also builds the
//! AccessKit tree every frame, which a normal app only does while a screen reader is on.
//!
//! Run: `cargo bench --bench grid_view`; medians in benches/README.md.

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use egui::epaint::{ClippedPrimitive, Primitive};
use egui::{
    Color32, ColorImage, Context, Event, Key, Modifiers, PointerButton, Pos2, RawInput, Rect,
    TextureHandle, TextureId, TextureOptions, TexturesDelta, Vec2, ViewportId,
};
use egui_kittest::{Harness, TestRenderer};
use touchup::compare::OutsideFigures;
use touchup::ui::results::compare::{
    CompareAction, CompareInputs, CompareMode, CompareView, ResultTextures,
};

/// The window, in logical points.
const WINDOW: Vec2 = Vec2::new(1920.0, 1080.0);
/// A 4K monitor at 200 % scaling.
const PIXELS_PER_POINT: f32 = 2.0;
/// What a desktop GPU reports at least (wgpu's default limit); egui's default is 2048.
const MAX_TEXTURE_SIDE: usize = 8192;
const IMAGE: [usize; 2] = [3840, 2160];
const RESULTS: usize = 8;
/// 400 %: four physical screen pixels per image pixel.
const ZOOM_400: f32 = 4.0 / PIXELS_PER_POINT;
const FRAME_DT: f32 = 1.0 / 60.0;

/// How the app samples photo textures (`ui::canvas::TEXTURE_OPTIONS`, private to the crate).
const TEXTURE_OPTIONS: TextureOptions = TextureOptions {
    magnification: egui::TextureFilter::Nearest,
    minification: egui::TextureFilter::Linear,
    wrap_mode: egui::TextureWrapMode::ClampToEdge,
    mipmap_mode: None,
};

/// Bytes a frame's texture delta sends to the GPU (whole textures and partial updates), in
/// all and without egui's font atlas (texture 0, which grows when new glyphs are drawn).
fn uploaded_bytes(delta: &TexturesDelta) -> (usize, usize) {
    let bytes = |only_images: bool| {
        delta
            .set
            .iter()
            .filter(|(id, _)| !only_images || **id != TextureId::default())
            .flat_map(|(_, deltas)| deltas)
            .map(|d| d.image.width() * d.image.height() * d.image.bytes_per_pixel())
            .sum()
    };
    (bytes(false), bytes(true))
}

/// Tessellated output of one frame.
#[derive(Debug, Default, Clone, Copy)]
struct FrameStats {
    uploaded_bytes: usize,
    /// Of which not the font atlas.
    image_bytes: usize,
    freed_textures: usize,
    shapes: usize,
    meshes: usize,
    vertices: usize,
    indices: usize,
    /// Wall time of `run_ui` and of `tessellate` in this frame (for the printed split).
    run_ui: Duration,
    tessellate: Duration,
}

impl FrameStats {
    fn count(&mut self, primitives: &[ClippedPrimitive]) {
        for p in primitives {
            if let Primitive::Mesh(mesh) = &p.primitive {
                self.meshes += 1;
                self.vertices += mesh.vertices.len();
                self.indices += mesh.indices.len();
            }
        }
    }
}

fn figures(changed: u64) -> OutsideFigures {
    let outside = (IMAGE[0] * IMAGE[1]) as u64 * 9 / 10;
    OutsideFigures {
        outside_pixels: outside,
        changed_pixels: changed,
        changed_fraction: changed as f64 / outside as f64,
        mean_difference: 1.5,
        max_difference: if changed > 0 { 80 } else { 0 },
        threshold: 16,
        feather_px: 4,
        resampled: None,
    }
}

/// The original, then (result, heatmap) per result, all full 3840x2160 textures.
struct Textures {
    original: TextureHandle,
    results: Vec<(TextureHandle, TextureHandle)>,
}

impl Textures {
    fn load(ctx: &Context) -> Self {
        let make = |name: String, colour: Color32| {
            let image = ColorImage::new(IMAGE, vec![colour; IMAGE[0] * IMAGE[1]]);
            ctx.load_texture(name, image, TEXTURE_OPTIONS)
        };
        let original = make("original".into(), Color32::from_rgb(90, 110, 130));
        let results = (0..RESULTS)
            .map(|i| {
                let shade = 60 + 20 * i as u8;
                (
                    make(format!("result-{i}"), Color32::from_rgb(shade, 120, 90)),
                    make(
                        format!("heat-{i}"),
                        Color32::from_rgba_unmultiplied(255, 0, 0, 100),
                    ),
                )
            })
            .collect();
        Self { original, results }
    }
}

/// The caller's side of the compare view: its state, the textures and each result's flags.
struct Comparison {
    compare: CompareView,
    textures: Textures,
    figures: Vec<OutsideFigures>,
    kept: Vec<bool>,
    discarded: Vec<bool>,
}

impl Comparison {
    fn new(textures: Textures) -> Self {
        Self {
            compare: CompareView::new(),
            textures,
            // Every other result leaked changes outside the mask.
            figures: (0..RESULTS)
                .map(|i| figures(if i % 2 == 0 { 0 } else { 1500 * i as u64 }))
                .collect(),
            kept: vec![false; RESULTS],
            discarded: (0..RESULTS).map(|i| i == 5).collect(),
        }
    }

    /// What the app does each frame: the compare view inside the central panel.
    fn ui(&mut self, ui: &mut egui::Ui) {
        egui::CentralPanel::default().show(ui, |ui| {
            let results: Vec<ResultTextures<'_>> = (0..RESULTS)
                .map(|i| ResultTextures {
                    image: &self.textures.results[i].0,
                    heatmap: Some(&self.textures.results[i].1),
                    figures: Some(&self.figures[i]),
                    kept: self.kept[i],
                    discarded: self.discarded[i],
                    lettering: &[],
                })
                .collect();
            let actions = self.compare.show(
                ui,
                &CompareInputs {
                    original: &self.textures.original,
                    image_size: Vec2::new(IMAGE[0] as f32, IMAGE[1] as f32),
                    results: &results,
                },
            );
            for action in actions {
                match action {
                    CompareAction::SetKept { index, kept } => self.kept[index] = kept,
                    CompareAction::SetDiscarded { index, discarded } => {
                        self.discarded[index] = discarded
                    }
                    CompareAction::Select(_) => {}
                }
            }
        });
    }

    /// Zoom to 400 % with the image centred in each tile.
    fn zoom_400(&mut self) {
        let Some(tile) = self.compare.pane_rects().first().copied() else {
            panic!("no pane drawn yet");
        };
        let image = Vec2::new(IMAGE[0] as f32, IMAGE[1] as f32);
        self.compare.view.zoom = ZOOM_400;
        self.compare.view.offset = (tile.size() - image * ZOOM_400) * 0.5;
    }

    fn first_pane(&self) -> Rect {
        match self.compare.pane_rects().first() {
            Some(r) => *r,
            None => panic!("no pane drawn yet"),
        }
    }
}

/// An egui context driven the way eframe drives it, frame after frame.
struct Session {
    ctx: Context,
    time: f64,
    state: Comparison,
}

impl Session {
    fn new() -> Self {
        let ctx = Context::default();
        // One frame first, so that the context knows `max_texture_side` before 4K textures.
        let output = ctx.run_ui(frame_input(0.0, Vec::new()), |_| {});
        drop(output);
        let state = Comparison::new(Textures::load(&ctx));
        Self {
            ctx,
            time: f64::from(FRAME_DT),
            state,
        }
    }

    /// One frame: run the ui, count the texture delta, tessellate.
    fn frame(&mut self, events: Vec<Event>) -> FrameStats {
        let input = frame_input(self.time, events);
        self.time += f64::from(FRAME_DT);
        let state = &mut self.state;
        let start = Instant::now();
        let mut output = self.ctx.run_ui(input, |ui| state.ui(ui));
        let run_ui = start.elapsed();
        let (uploaded_bytes, image_bytes) = uploaded_bytes(&output.textures_delta);
        let mut stats = FrameStats {
            uploaded_bytes,
            image_bytes,
            freed_textures: output.textures_delta.free.len(),
            shapes: output.shapes.len(),
            ..Default::default()
        };
        let shapes = std::mem::take(&mut output.shapes);
        let start = Instant::now();
        let primitives = self.ctx.tessellate(shapes, output.pixels_per_point);
        stats.tessellate = start.elapsed();
        stats.run_ui = run_ui;
        stats.count(&primitives);
        black_box(primitives);
        black_box(output);
        stats
    }
}

/// The raw input eframe would pass for one frame of the window.
fn frame_input(time: f64, events: Vec<Event>) -> RawInput {
    let mut input = RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, WINDOW)),
        max_texture_side: Some(MAX_TEXTURE_SIDE),
        time: Some(time),
        predicted_dt: FRAME_DT,
        events,
        ..Default::default()
    };
    if let Some(viewport) = input.viewports.get_mut(&ViewportId::ROOT) {
        viewport.native_pixels_per_point = Some(PIXELS_PER_POINT);
    }
    input
}

fn pointer_moved(p: Pos2) -> Event {
    Event::PointerMoved(p)
}

fn primary(p: Pos2, pressed: bool) -> Event {
    Event::PointerButton {
        pos: p,
        button: PointerButton::Primary,
        pressed,
        modifiers: Modifiers::NONE,
    }
}

fn key(key: Key, pressed: bool) -> Event {
    Event::Key {
        key,
        physical_key: None,
        pressed,
        repeat: false,
        modifiers: Modifiers::NONE,
    }
}

/// A pointer sweeping back and forth by `step` points per frame, within `amplitude` of `centre`.
struct Sweep {
    centre: Pos2,
    amplitude: f32,
    step: f32,
    frame: u32,
}

impl Sweep {
    fn next(&mut self) -> Pos2 {
        let period = (4.0 * self.amplitude / self.step).max(1.0) as u32;
        let t = (self.frame % period) as f32 * self.step;
        self.frame += 1;
        // Triangle wave: 0 -> +a -> 0 -> -a -> 0.
        let a = self.amplitude;
        let x = if t < a {
            t
        } else if t < 3.0 * a {
            2.0 * a - t
        } else {
            t - 4.0 * a
        };
        self.centre + Vec2::new(x, 0.4 * x)
    }
}

/// Runs the measured frames and keeps the totals for the printed summary.
#[derive(Default)]
struct Totals {
    frames: usize,
    uploaded_bytes: usize,
    freed_textures: usize,
    run_ui: Duration,
    tessellate: Duration,
    last: FrameStats,
}

impl Totals {
    fn add(&mut self, s: FrameStats) {
        self.frames += 1;
        self.uploaded_bytes += s.uploaded_bytes;
        self.freed_textures += s.freed_textures;
        self.run_ui += s.run_ui;
        self.tessellate += s.tessellate;
        self.last = s;
    }

    fn report(&self, name: &str) {
        let frames = self.frames.max(1) as f64;
        println!(
            "{name}: mean per frame {:.1} µs in run_ui + {:.1} µs in tessellate",
            self.run_ui.as_secs_f64() * 1e6 / frames,
            self.tessellate.as_secs_f64() * 1e6 / frames
        );
        println!(
            "{name}: {} frames, {} texture bytes uploaded, {} textures freed; last frame {} shapes -> {} meshes, {} vertices, {} indices",
            self.frames,
            self.uploaded_bytes,
            self.freed_textures,
            self.last.shapes,
            self.last.meshes,
            self.last.vertices,
            self.last.indices
        );
        assert_eq!(
            self.uploaded_bytes, 0,
            "{name}: a steady frame uploaded texture bytes"
        );
        assert_eq!(
            self.freed_textures, 0,
            "{name}: a steady frame freed textures"
        );
    }
}

/// Sets the view up, settles it (fonts and caches warm), then times `frame` in criterion.
/// Zooms to 400 %, presses the primary button on the first pane, and returns the sweep that
/// pans from there.
fn grab_at_400(session: &mut Session) -> Sweep {
    session.state.zoom_400();
    let grab = session.state.first_pane().center();
    session.frame(vec![pointer_moved(grab), primary(grab, true)]);
    Sweep {
        centre: grab,
        amplitude: 120.0,
        step: 8.0,
        frame: 0,
    }
}

fn bench_session(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    session: &mut Session,
    name: &str,
    mut frame: impl FnMut(&mut Session) -> FrameStats,
) {
    for _ in 0..30 {
        frame(session);
    }
    let mut totals = Totals::default();
    c.bench_function(name, |b| b.iter(|| totals.add(frame(session))));
    totals.report(name);
}

fn grid_view(c: &mut Criterion) {
    let mut session = Session::new();
    let first = session.frame(Vec::new());
    println!(
        "first frame uploads {} bytes ({:.0} MiB: the original, {RESULTS} results and {RESULTS} heatmaps at {}x{}, plus the font atlas)",
        first.uploaded_bytes,
        first.uploaded_bytes as f64 / (1024.0 * 1024.0),
        IMAGE[0],
        IMAGE[1]
    );
    assert!(first.uploaded_bytes >= (1 + 2 * RESULTS) * IMAGE[0] * IMAGE[1] * 4);
    // The first switch ever (side by side -> grid, by its shortcut): new captions may add
    // glyphs to the font atlas, but no image texture is sent again.
    session.state.compare.request_fit();
    let switch = session.frame(vec![key(Key::G, true), key(Key::G, false)]);
    assert_eq!(session.state.compare.mode, CompareMode::Grid);
    println!(
        "first switch to the grid: {} bytes uploaded, of which {} outside the font atlas",
        switch.uploaded_bytes, switch.image_bytes
    );
    assert_eq!(
        switch.image_bytes, 0,
        "switching re-uploaded an image texture"
    );
    assert_eq!(session.state.compare.pane_rects().len(), RESULTS + 1);
    let tile = session.state.compare.pane_rects()[4];
    println!(
        "window {}x{} points at {PIXELS_PER_POINT} px/pt; grid tile {:.0}x{:.0} points; fit zoom {:.4} points per image pixel",
        WINDOW.x,
        WINDOW.y,
        tile.width(),
        tile.height(),
        session.state.compare.view.zoom
    );

    let mut group = c.benchmark_group("grid_view");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    // Fit: the pointer moves over the middle tile (hovering is what repaints a still view).
    for heatmap in [false, true] {
        session.state.compare.show_heatmap = heatmap;
        let mut sweep = Sweep {
            centre: tile.center(),
            amplitude: 60.0,
            step: 5.0,
            frame: 0,
        };
        let name = format!("grid_fit_heatmap_{}", if heatmap { "on" } else { "off" });
        bench_session(&mut group, &mut session, &name, |s| {
            s.frame(vec![pointer_moved(sweep.next())])
        });
    }

    // 400 %, panning: the primary button is held on the original's tile and the pointer
    // sweeps, so every frame pans the shared view of all nine tiles.
    for heatmap in [false, true] {
        session.state.compare.show_heatmap = heatmap;
        let mut sweep = grab_at_400(&mut session);
        let before = session.state.compare.view.offset;
        let mut travelled = 0.0;
        let name = format!(
            "grid_400_pan_heatmap_{}",
            if heatmap { "on" } else { "off" }
        );
        bench_session(&mut group, &mut session, &name, |s| {
            let offset = s.state.compare.view.offset;
            let stats = s.frame(vec![pointer_moved(sweep.next())]);
            travelled += (s.state.compare.view.offset - offset).length();
            stats
        });
        let p = sweep.next();
        session.frame(vec![primary(p, false)]);
        assert!(
            travelled > 100.0,
            "the drag did not pan the view (offset {before:?} -> {:?})",
            session.state.compare.view.offset
        );
        assert!((session.state.compare.view.zoom - ZOOM_400).abs() < 1e-6);
    }

    // Reference: side by side at 400 %, heatmap on, panning the same way.
    session.state.compare.mode = CompareMode::SideBySide;
    session.state.compare.show_heatmap = true;
    session.frame(Vec::new());
    let mut sweep = grab_at_400(&mut session);
    bench_session(
        &mut group,
        &mut session,
        "side_by_side_400_pan_heatmap_on",
        |s| s.frame(vec![pointer_moved(sweep.next())]),
    );
    let p = sweep.next();
    session.frame(vec![primary(p, false)]);

    // Switching: every frame presses G or S, alternating grid and side by side (400 %,
    // heatmap on). The mode must actually change each frame.
    session.state.zoom_400();
    let mut to_grid = true;
    bench_session(&mut group, &mut session, "switch_grid_side_by_side", |s| {
        let (k, mode) = if to_grid {
            (Key::G, CompareMode::Grid)
        } else {
            (Key::S, CompareMode::SideBySide)
        };
        to_grid = !to_grid;
        let stats = s.frame(vec![key(k, true), key(k, false)]);
        assert_eq!(s.state.compare.mode, mode, "the shortcut did not switch");
        stats
    });

    // The kittest harness: Harness::step (run_ui + AccessKit tree + kittest's tree update,
    // no tessellation) plus tessellation done here.
    drop(session);
    bench_harness(&mut group);
    group.finish();
}

/// A renderer for the harness that only counts what would be uploaded.
#[derive(Clone, Default)]
struct UploadCounter {
    bytes: Rc<Cell<usize>>,
}

impl TestRenderer for UploadCounter {
    fn handle_delta(&mut self, delta: &mut TexturesDelta) {
        self.bytes.set(self.bytes.get() + uploaded_bytes(delta).0);
        delta.clear();
    }

    #[cfg(feature = "snapshots")]
    fn render(
        &mut self,
        _ctx: &egui::Context,
        _output: &egui::FullOutput,
    ) -> Result<image::RgbaImage, String> {
        Err("the grid_view bench has no GPU renderer".into())
    }
}

fn bench_harness(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let counter = UploadCounter::default();
    let mut harness = Harness::builder()
        .with_size(WINDOW)
        .with_pixels_per_point(PIXELS_PER_POINT)
        .renderer(counter.clone())
        .build_ui_state(
            |ui, state: &mut Option<Comparison>| {
                // Textures once the context knows the texture limit (set after building).
                if state.is_none() && ui.input(|i| i.max_texture_side) >= IMAGE[0] {
                    let mut comparison = Comparison::new(Textures::load(ui.ctx()));
                    comparison.compare.mode = CompareMode::Grid;
                    comparison.compare.show_heatmap = true;
                    *state = Some(comparison);
                }
                if let Some(comparison) = state {
                    comparison.ui(ui);
                }
            },
            None,
        );
    harness.input_mut().max_texture_side = Some(MAX_TEXTURE_SIDE);
    harness.run_steps(3);
    assert!(harness.state().is_some(), "textures were not made");
    assert_eq!(harness.ctx.pixels_per_point(), PIXELS_PER_POINT);
    let tile = match harness.state().as_ref().map(|s| s.compare.pane_rects()) {
        Some(panes) if panes.len() == RESULTS + 1 => panes[4],
        _ => panic!("the grid did not draw {} tiles", RESULTS + 1),
    };
    let mut sweep = Sweep {
        centre: tile.center(),
        amplitude: 60.0,
        step: 5.0,
        frame: 0,
    };
    let (mut frames, mut stepping, mut tessellating) = (0u32, Duration::ZERO, Duration::ZERO);
    let mut frame = |h: &mut Harness<'_, Option<Comparison>>| {
        h.event(pointer_moved(sweep.next()));
        let start = Instant::now();
        h.step();
        let stepped = Instant::now();
        let shapes = h.output().shapes.clone();
        let primitives = h.ctx.tessellate(shapes, h.output().pixels_per_point);
        tessellating += stepped.elapsed();
        stepping += stepped - start;
        frames += 1;
        black_box(primitives);
    };
    for _ in 0..30 {
        frame(&mut harness);
    }
    let before = counter.bytes.get();
    group.bench_function("kittest_harness_grid_fit_heatmap_on", |b| {
        b.iter(|| frame(&mut harness))
    });
    let uploaded = counter.bytes.get() - before;
    println!(
        "kittest_harness_grid_fit_heatmap_on: mean per frame {:.1} µs in Harness::step + {:.1} µs in clone + tessellate",
        stepping.as_secs_f64() * 1e6 / f64::from(frames.max(1)),
        tessellating.as_secs_f64() * 1e6 / f64::from(frames.max(1))
    );
    println!("kittest_harness_grid_fit_heatmap_on: {uploaded} texture bytes uploaded while timed");
    assert_eq!(uploaded, 0, "the harness frames uploaded texture bytes");
}

criterion_group!(benches, grid_view);
criterion_main!(benches);
