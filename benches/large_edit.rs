//! A small sign on a large photo, in the real editor: the time from Submit to the first result
//! on screen, and the longest frame meanwhile (the editor must stay responsive while the edit
//! runs), plus the memory held. Once with the local engine and once through Runware's API
//! against the tests' stand-in server on 127.0.0.1 (real HTTP and JSON; it answers at once with
//! the sent crop 20 levels brighter and the sign painted red), so the second row is the
//! editor's own time: area, upload, download, paste, colour match, save and drawing.
//!
//! The photo is made here: 8000x6000 (a smooth gradient with fine detail, JPEG q92) with a
//! 400x160 sign masked at (5200, 1800), as in benches/README.md's "Large photo, small sign".
//! The `App` is driven through egui_kittest's `Harness` (1600x1000 points, textures up to 8192
//! px); a frame is `Harness::step`, which includes building the AccessKit tree.
//!
//! Run: `cargo bench --bench large_edit` (every row) or `cargo bench --bench large_edit --
//! local|runware|runware-whole`; figures in benches/README.md.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use support::{KEY, Mode, StandIn};
use touchup::edit::AreaMode;
use touchup::runware::{ApiKey, Client, ClientConfig};
use touchup::ui::{App, AppOptions, Backend};

const W: u32 = 8000;
const H: u32 = 6000;

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

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Steps until `done`, returning the time taken and the longest single frame.
fn step_until(
    h: &mut Harness<'_, App>,
    what: &str,
    done: impl Fn(&App) -> bool,
) -> (Duration, Duration) {
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "timed out waiting for {what}"
        );
        let frame = Instant::now();
        h.step();
        worst = worst.max(frame.elapsed());
        std::thread::sleep(Duration::from_millis(2));
    }
    (start.elapsed(), worst)
}

fn main() {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |name: &str| which.is_empty() || which.iter().any(|w| w == name);
    if wants("local") {
        run(Backend::Local, AreaMode::Mask);
    }
    if wants("runware") {
        run(Backend::Runware, AreaMode::Mask);
    }
    if wants("runware-whole") {
        run(Backend::Runware, AreaMode::Whole);
    }
}

fn run(backend: Backend, area: AreaMode) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("big.jpg");
    let photo = image::RgbImage::from_fn(W, H, |x, y| {
        let n = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 28;
        image::Rgb([
            (x * 255 / W) as u8 ^ n as u8,
            (y * 255 / H) as u8,
            (128 + n * 4) as u8,
        ])
    });
    {
        let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("the photo file"));
        image::codecs::jpeg::JpegEncoder::new_with_quality(file, 92)
            .encode_image(&photo)
            .expect("the photo is written");
    }
    drop(photo);
    let rss_start = rss_mib();

    let root = dir.path().to_path_buf();
    let standin = (backend == Backend::Runware).then(|| {
        let s = StandIn::start();
        s.set_mode(Mode::Paint {
            brighten: 20,
            paint: Some([200, 30, 40]),
        });
        s
    });
    let client = standin.as_ref().map(|s| {
        let config = ClientConfig {
            endpoint: s.url.clone(),
            ..ClientConfig::default()
        };
        Arc::new(Client::new(config, ApiKey::new(KEY).expect("the key")).expect("the client"))
    });
    let options = AppOptions {
        image: Some(path),
        no_keyring: true,
        client,
        data_root: Some(root.join("data")),
        ..AppOptions::default()
    };
    let opening = Instant::now();
    let results = root.join("results");
    let mut h = Harness::builder()
        .with_size(Vec2::new(1600.0, 1000.0))
        .build_eframe(move |cc| {
            let mut app = App::new(cc, options);
            app.settings.output_root = Some(results);
            app.settings.backend = Some(backend);
            app.settings.area.mode = area;
            app
        });
    h.input_mut().max_texture_side = Some(8192);
    let (_, open_worst) = step_until(&mut h, "the photo to open", |a| {
        a.document.current().is_some_and(|d| d.image.width() == W)
    });
    let opened = opening.elapsed();
    h.run_steps(3);
    let rss_open = rss_mib();
    h.state_mut()
        .document
        .current_mut()
        .expect("the photo is open")
        .editor
        .apply("Rectangle", None, |m| {
            m.fill_rect(5200, 1800, 400, 160, 255)
        });
    h.state_mut().edit.form.request.prompt = "a sign that says \"OPEN\"".into();
    h.state_mut().edit.form.request.settings.number_results = Some(1);
    h.run_steps(3);

    let submit = Instant::now();
    h.get_by_label("Submit").click();
    let (_, submit_frame) = step_until(&mut h, "the submission to start", |_| true);
    h.step();
    let click_frame = submit.elapsed();
    let (_, wait_worst) = step_until(&mut h, "the first result", |a| {
        !a.results.entries.is_empty()
    });
    let first = submit.elapsed();
    let (_, after_worst) = step_until(&mut h, "the edit to finish", |a| !a.edit.is_running());
    let finished = submit.elapsed();
    let (_, _) = step_until(&mut h, "the history entry", |a| a.results.edit_id.is_some());
    let recorded = submit.elapsed();
    h.run_steps(3);
    let rss_done = rss_mib();
    let history_bytes = dir_size(&root.join("data"));

    let engine = match (backend, area) {
        (Backend::Local, _) => "local engine",
        (Backend::Runware, AreaMode::Mask) => "Runware stand-in on 127.0.0.1, around the mask",
        (Backend::Runware, AreaMode::Whole) => "Runware stand-in on 127.0.0.1, whole photo",
    };
    println!("large_edit: {W}x{H} JPEG, a 400x160 sign masked, {engine}, 1 result");
    println!("| step | figure |");
    println!("|---|---:|");
    println!(
        "| open (decode to first frame with the photo) | {} |",
        secs(opened)
    );
    println!("| longest frame while opening | {} |", secs(open_worst));
    println!(
        "| Submit click frame (+1 frame) | {} (step {}) |",
        secs(click_frame),
        secs(submit_frame)
    );
    println!("| Submit to the first result on screen | {} |", secs(first));
    println!("| longest frame while waiting | {} |", secs(wait_worst));
    println!(
        "| Submit to finished (results saved) | {} |",
        secs(finished)
    );
    println!(
        "| longest frame after the first result | {} |",
        secs(after_worst)
    );
    println!("| Submit to recorded in the history | {} |", secs(recorded));
    if let Some(s) = &standin {
        let sizes = s.with(|st| st.seed_sizes.clone());
        println!("| sent (seed image sizes) | {sizes:?} |");
    }
    println!("| memory before opening | {rss_start:.0} MiB |");
    println!("| memory with the photo open | {rss_open:.0} MiB |");
    println!("| memory after the edit | {rss_done:.0} MiB |");
    println!(
        "| data folder (history, autosave) after the edit | {:.1} MiB |",
        history_bytes as f64 / 1048576.0
    );
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                dir_size(&p)
            } else {
                e.metadata().map_or(0, |m| m.len())
            }
        })
        .sum()
}
