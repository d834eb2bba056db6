//! Painting on an 8192x8192 photo in the real editor: the CPU time of each frame of a 500-dab
//! brush drag, then of the undo, and the memory the process holds at each step.
//!
//! The `App` is driven through egui_kittest's `Harness` (1600x1000 points, 1 pixel per point,
//! textures up to 8192 px as a desktop GPU takes them). One frame is `Harness::step` (the app's
//! logic and ui, plus the AccessKit tree the harness builds every frame, which a normal app
//! only builds while a screen reader is on) followed by tessellating its shapes; the GPU side
//! (uploading, drawing) is not measured, but the bytes each frame would upload are counted.
//! Each frame moves the pointer 3 points, a new dab of a 300 px brush at the fitted zoom.
//! Frames are timed by the clock (what a designer waits) and, on Linux, by the UI thread's own
//! CPU time (what the frame costs: on a shared machine the clock also counts the time the
//! thread waited for a core; the undo's helper threads are not in it).
//!
//! Run: `cargo bench --bench paint_large`; figures in benches/README.md.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use egui::{Event, Modifiers, PointerButton, Pos2, TexturesDelta, Vec2};
use egui_kittest::{Harness, TestRenderer};
use touchup::ui::{App, AppOptions};

const SIDE: u32 = 8192;
const DABS: usize = 500;
const FLICKS: usize = 60;
const BUDGET: Duration = Duration::from_micros(16_667);

/// A renderer that only counts the bytes a frame would upload to the GPU.
#[derive(Clone, Default)]
struct UploadCounter {
    bytes: Rc<Cell<usize>>,
}

impl TestRenderer for UploadCounter {
    fn handle_delta(&mut self, delta: &mut TexturesDelta) {
        let bytes: usize = delta
            .set
            .values()
            .flatten()
            .map(|d| d.image.width() * d.image.height() * d.image.bytes_per_pixel())
            .sum();
        self.bytes.set(self.bytes.get() + bytes);
        delta.clear();
    }

    #[cfg(feature = "snapshots")]
    fn render(
        &mut self,
        _ctx: &egui::Context,
        _output: &egui::FullOutput,
    ) -> Result<image::RgbaImage, String> {
        Err("the paint_large bench has no GPU renderer".into())
    }
}

/// Resident memory of this process, from /proc (0 where there is none).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time this thread has used (Linux; zero elsewhere).
fn thread_cpu() -> Duration {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid timespec for the call to write.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return Duration::new(t.tv_sec as u64, t.tv_nsec as u32);
        }
    }
    Duration::ZERO
}

/// What one frame took.
#[derive(Clone, Copy)]
struct Frame {
    /// By the clock: on a shared machine this also holds the time the thread waited for a core.
    took: Duration,
    /// The UI thread's own CPU time.
    cpu: Duration,
    /// The bytes it would upload to the GPU.
    bytes: usize,
}

/// One frame: step, then tessellate.
fn frame(h: &mut Harness<'_, App>, counter: &UploadCounter) -> Frame {
    let before = counter.bytes.get();
    let cpu = thread_cpu();
    let start = Instant::now();
    h.step();
    let shapes = h.output().shapes.clone();
    let primitives = h.ctx.tessellate(shapes, h.output().pixels_per_point);
    let took = start.elapsed();
    let cpu = thread_cpu().saturating_sub(cpu);
    std::hint::black_box(primitives);
    Frame {
        took,
        cpu,
        bytes: counter.bytes.get() - before,
    }
}

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("large-8192.png");
    // A photo-like gradient with detail, written once (PNG, fast compression).
    let photo = image::RgbImage::from_fn(SIDE, SIDE, |x, y| {
        image::Rgb([(x / 32) as u8, (y / 32) as u8, ((x ^ y) & 0xff) as u8])
    });
    {
        let file = std::fs::File::create(&path).expect("the photo file");
        let encoder = image::codecs::png::PngEncoder::new_with_quality(
            std::io::BufWriter::new(file),
            image::codecs::png::CompressionType::Fast,
            image::codecs::png::FilterType::NoFilter,
        );
        photo
            .write_with_encoder(encoder)
            .expect("the photo is written");
    }
    drop(photo);
    let rss_start = rss_mib();

    let counter = UploadCounter::default();
    let options = AppOptions {
        image: Some(path),
        no_keyring: true,
        data_root: Some(dir.path().join("data")),
        ..AppOptions::default()
    };
    let opening = Instant::now();
    let mut h = Harness::builder()
        .with_size(Vec2::new(1600.0, 1000.0))
        .renderer(counter.clone())
        .build_eframe(move |cc| App::new(cc, options));
    h.input_mut().max_texture_side = Some(SIDE as usize);
    while h
        .state()
        .document
        .current()
        .is_none_or(|d| d.image.width() != SIDE)
    {
        assert!(
            opening.elapsed() < Duration::from_secs(300),
            "the photo did not open"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    let opened = opening.elapsed();
    let mut first_frames = Vec::new();
    for _ in 0..5 {
        first_frames.push(frame(&mut h, &counter).took);
    }
    let rss_open = rss_mib();
    h.state_mut().settings.brush_size = 300.0;
    let canvas = h.state().canvas.rect();
    assert!(canvas.width() > 100.0, "the canvas is not laid out");

    // The drag: press, 500 moves (a dab each), release.
    let start = canvas.center() - Vec2::new(DABS as f32 * 1.5, 0.0) * 0.5;
    let press = |h: &mut Harness<'_, App>, pos: Pos2, pressed: bool| {
        h.event(Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        })
    };
    h.hover_at(start);
    frame(&mut h, &counter);
    press(&mut h, start, true);
    frame(&mut h, &counter);
    let mut drag = Vec::with_capacity(DABS);
    let mut drag_cpu = Vec::with_capacity(DABS);
    let mut uploaded = 0;
    let mut pos = start;
    for i in 0..DABS {
        // A zig-zag so the dabs do not only overlap their predecessors.
        pos = Pos2::new(
            start.x + i as f32 * 1.5,
            canvas.center().y + ((i as f32) * 0.2).sin() * canvas.height() * 0.3,
        );
        h.event(Event::PointerMoved(pos));
        let f = frame(&mut h, &counter);
        drag.push(f.took);
        drag_cpu.push(f.cpu);
        uploaded += f.bytes;
    }
    press(&mut h, pos, false);
    let release = frame(&mut h, &counter);
    // The frames after it (autosave copies the finished stroke).
    let after_release = (0..5)
        .map(|_| frame(&mut h, &counter).took)
        .max()
        .unwrap_or_default();
    let marked = h
        .state()
        .document
        .current()
        .map_or(0, |d| d.editor.mask().count_at_least(128));
    assert!(marked > 0, "the drag painted nothing");
    let rss_painted = rss_mib();

    // Ctrl+Z as a keyboard sends it, one event a frame (kittest's `key_press_modifiers` would
    // run its four events as four frames inside one `step`): the frame of the key press is
    // the undo frame.
    let key = |pressed| Event::Key {
        key: egui::Key::Z,
        physical_key: None,
        pressed,
        repeat: false,
        modifiers: Modifiers::COMMAND,
    };
    h.event(Event::ModifiersChanged(Modifiers::COMMAND));
    frame(&mut h, &counter);
    h.event(key(true));
    let undo = frame(&mut h, &counter);
    h.event(key(false));
    frame(&mut h, &counter);
    h.event(Event::ModifiersChanged(Modifiers::NONE));
    frame(&mut h, &counter);
    // The frames after it (the rest of the overlay goes up in bands).
    let after: Vec<Frame> = (0..30).map(|_| frame(&mut h, &counter)).collect();
    let after_worst = after.iter().map(|f| f.took).max().unwrap_or_default();
    let after_bytes: usize = after.iter().map(|f| f.bytes).sum();
    let after_undo = h
        .state()
        .document
        .current()
        .map_or(usize::MAX, |d| d.editor.mask().count_at_least(1));
    assert_eq!(after_undo, 0, "undo did not clear the stroke");
    let rss_undone = rss_mib();

    // A fast scribble on fresh mask: 60 frames, each moving the pointer 150 points (1 200
    // image pixels at this zoom; a flick of 9 000 points a second at 60 frames a second),
    // back and forth, a little lower each time.
    let mut flick = Vec::with_capacity(FLICKS);
    let mut flick_pos = Pos2::new(canvas.left() + 100.0, canvas.top() + 60.0);
    h.hover_at(flick_pos);
    frame(&mut h, &counter);
    press(&mut h, flick_pos, true);
    frame(&mut h, &counter);
    let mut rightwards = true;
    for _ in 0..FLICKS {
        let x = flick_pos.x + if rightwards { 150.0 } else { -150.0 };
        if x > canvas.right() - 100.0 || x < canvas.left() + 100.0 {
            rightwards = !rightwards;
        }
        flick_pos = Pos2::new(
            x.clamp(canvas.left() + 100.0, canvas.right() - 100.0),
            flick_pos.y + 12.0,
        );
        h.event(Event::PointerMoved(flick_pos));
        flick.push(frame(&mut h, &counter).cpu);
    }
    press(&mut h, flick_pos, false);
    frame(&mut h, &counter);
    flick.sort();

    drag.sort();
    drag_cpu.sort();
    let over = drag.iter().filter(|d| **d > BUDGET).count();
    let over_cpu = drag_cpu.iter().filter(|d| **d > BUDGET).count();
    println!("paint_large: {SIDE}x{SIDE} photo, {DABS}-dab drag with a 300 px brush");
    println!("| step | figure |");
    println!("|---|---:|");
    println!("| open (decode + first frames) | {} |", ms(opened));
    println!(
        "| first frame with the photo (textures made) | {} |",
        ms(first_frames.iter().max().copied().unwrap_or_default())
    );
    println!("| drag frame, median | {} |", ms(median(&drag)));
    println!(
        "| drag frame, 95th percentile | {} |",
        ms(drag[drag.len() * 95 / 100])
    );
    println!(
        "| drag frame, worst | {} |",
        ms(*drag.last().unwrap_or(&Duration::ZERO))
    );
    println!("| drag frames over 16.7 ms | {over} of {DABS} |");
    println!(
        "| drag frame, the UI thread's CPU time: median / worst | {} / {} ({over_cpu} of {DABS} over 16.7 ms) |",
        ms(median(&drag_cpu)),
        ms(*drag_cpu.last().unwrap_or(&Duration::ZERO))
    );
    println!(
        "| uploaded per drag frame, mean | {:.0} KiB |",
        uploaded as f64 / DABS as f64 / 1024.0
    );
    println!(
        "| release frame (the UI thread's CPU time) | {} ({}) |",
        ms(release.took),
        ms(release.cpu)
    );
    println!(
        "| worst of the 5 frames after the release | {} |",
        ms(after_release)
    );
    println!(
        "| undo frame (the UI thread's CPU time, its helpers not counted) | {} ({}; {:.0} KiB uploaded) |",
        ms(undo.took),
        ms(undo.cpu),
        undo.bytes as f64 / 1024.0
    );
    println!(
        "| worst of the 30 frames after the undo | {} ({:.0} KiB uploaded in all) |",
        ms(after_worst),
        after_bytes as f64 / 1024.0
    );
    println!("| marked pixels after the drag | {marked} |");
    println!("| memory before opening | {rss_start:.0} MiB |");
    println!("| memory with the photo open | {rss_open:.0} MiB |");
    println!("| memory after the drag | {rss_painted:.0} MiB |");
    println!("| memory after undo | {rss_undone:.0} MiB |");
    println!(
        "| fast scribble ({FLICKS} frames of 150 points), the UI thread's CPU time: median / worst | {} / {} ({} over 16.7 ms) |",
        ms(median(&flick)),
        ms(*flick.last().unwrap_or(&Duration::ZERO)),
        flick.iter().filter(|d| **d > BUDGET).count()
    );
}
