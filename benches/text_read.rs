//! Detection and recognition times of touchup's text reader on the images given on the command
//! line (medians of `TEXT_RUNS`, default 3, after one warm-up run that builds the plans), and
//! the lines read, one JSON object per image. Run by `benches/text_vs_rapidocr.sh`:
//!   cargo bench --bench text_read -- IMAGE...

use std::time::Instant;

use touchup::text::{Script, reader};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let images: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let runs: usize = std::env::var("TEXT_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    let started = Instant::now();
    let reader = match reader() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("text_read: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("models loaded in {:.2} s", started.elapsed().as_secs_f64());
    for path in images {
        let image = match touchup::imageio::open(std::path::Path::new(&path)) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("text_read: {e}");
                std::process::exit(1);
            }
        };
        let t = Instant::now();
        let first = reader.detect(&image);
        let first_detect = t.elapsed().as_secs_f64();
        let Ok(boxes) = first else {
            eprintln!("text_read: detection failed on {path}");
            std::process::exit(1);
        };
        let t = Instant::now();
        let _ = reader.recognise(&image, &boxes, Script::Latin);
        let first_recognise = t.elapsed().as_secs_f64();
        let (mut det, mut rec) = (Vec::new(), Vec::new());
        let mut lines = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let boxes = reader.detect(&image).unwrap_or_default();
            det.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            lines = reader
                .recognise(&image, &boxes, Script::Latin)
                .unwrap_or_default();
            rec.push(t.elapsed().as_secs_f64());
        }
        let out = serde_json::json!({
            "image": path,
            "width": image.width(),
            "height": image.height(),
            "first_detect_s": first_detect,
            "first_recognise_s": first_recognise,
            "detect_s": median(det),
            "recognise_s": median(rec),
            "lines": lines,
        });
        println!("{out}");
    }
}
