//! `touchup edit` with the local engine, the real binary: the default with no key, the files
//! it writes, keep-outside compositing, and clean failures.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const W: u32 = 48;
const H: u32 = 36;
const FEATHER: u32 = 3;

fn photo() -> image::RgbaImage {
    image::RgbaImage::from_fn(W, H, |x, y| {
        image::Rgba([(x * 5) as u8, (y * 7) as u8, ((x * y) % 251) as u8, 255])
    })
}

/// Marked: the rectangle x in 12..36, y in 8..24.
fn marked(x: u32, y: u32) -> bool {
    (12..36).contains(&x) && (8..24).contains(&y)
}

fn write_inputs(dir: &Path) {
    photo().save(dir.join("photo.png")).unwrap();
    let mask = image::GrayImage::from_fn(W, H, |x, y| {
        image::Luma([if marked(x, y) { 255 } else { 0 }])
    });
    mask.save(dir.join("mask.png")).unwrap();
    let inverted = image::GrayImage::from_fn(W, H, |x, y| {
        image::Luma([if marked(x, y) { 0 } else { 255 }])
    });
    inverted.save(dir.join("mask-black.png")).unwrap();
    image::GrayImage::from_pixel(W, H, image::Luma([255]))
        .save(dir.join("whole.png"))
        .unwrap();
    image::GrayImage::new(W + 1, H)
        .save(dir.join("wrong-size.png"))
        .unwrap();
}

fn touchup(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_touchup"))
        .current_dir(dir)
        .arg("edit")
        .args(args)
        .env_remove("RUNWARE_API_KEY")
        .env_remove("RUNWARE_API_URL")
        .env("TOUCHUP_NO_KEYRING", "1")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn index(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap()
}

fn load(path: &Path) -> image::RgbaImage {
    image::open(path).unwrap().to_rgba8()
}

/// A scratch folder holding the inputs of [`write_inputs`].
fn folder_with_inputs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    dir
}

/// `touchup edit --image photo.png --mask <mask> --prompt <prompt> <extra...> --out <out>`.
fn edit(dir: &Path, mask: &str, prompt: &str, extra: &[&str], out: &str) -> Output {
    let mut args = vec!["--image", "photo.png", "--mask", mask, "--prompt", prompt];
    args.extend_from_slice(extra);
    args.extend(["--out", out]);
    touchup(dir, &args)
}

fn assert_succeeded(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

#[test]
fn with_no_key_the_local_engine_writes_results_and_an_index() {
    let dir = folder_with_inputs();
    let o = edit(dir.path(), "mask.png", "'OPEN'", &[], "out");
    assert_succeeded(&o);
    assert!(stderr(&o).contains("local engine"), "{}", stderr(&o));
    let out = dir.path().join("out");
    let index = index(&out);
    let results = index["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["file"], "result-1.png");
    assert!(r["imageUUID"].is_null());
    assert!(r["cost"].is_null());
    assert!(r["seed"].is_i64());
    // stdout names the saved file.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.trim().ends_with("result-1.png"), "{stdout}");

    let original = photo();
    let result = load(&out.join("result-1.png"));
    assert_eq!(result.dimensions(), (W, H));
    let mut inside_changed = 0;
    for (x, y, p) in result.enumerate_pixels() {
        if marked(x, y) {
            inside_changed += usize::from(p != original.get_pixel(x, y));
        } else {
            assert_eq!(
                p,
                original.get_pixel(x, y),
                "pixel {x},{y} outside the mask"
            );
        }
    }
    assert!(
        inside_changed > 0,
        "the fill changed nothing inside the mask"
    );
    // The local engine never touches outside pixels, so nothing changed there.
    assert_eq!(r["outside_mask_changed_fraction"], 0.0);
    let raw = load(&out.join(r["raw_file"].as_str().unwrap()));
    assert_eq!(raw, result);
}

#[test]
fn several_results_take_successive_seeds_and_a_comparison_sheet() {
    let dir = folder_with_inputs();
    let o = edit(
        dir.path(),
        "mask.png",
        "'NORTH'",
        &[
            "--backend",
            "local",
            "--results",
            "3",
            "--seed",
            "40",
            "--feather",
            "3",
        ],
        "out",
    );
    assert_succeeded(&o);
    let out = dir.path().join("out");
    let index = index(&out);
    let results = index["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let original = photo();
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["file"], format!("result-{}.png", i + 1));
        assert_eq!(r["raw_file"], format!("result-{}.raw.png", i + 1));
        assert_eq!(r["seed"], 40 + i as i64);
        assert_eq!(r["outside_mask"]["feather_px"], FEATHER);
        let img = load(&out.join(r["file"].as_str().unwrap()));
        for (x, y, p) in img.enumerate_pixels() {
            if !marked(x, y) {
                assert_eq!(p, original.get_pixel(x, y));
            }
        }
    }
    let sheet = load(&out.join("compare.png"));
    assert!(sheet.width() > 3 * W, "sheet is {:?}", sheet.dimensions());
    // The same seed gives the same picture again.
    let o = edit(
        dir.path(),
        "mask.png",
        "'NORTH'",
        &["--seed", "41"],
        "again",
    );
    assert_succeeded(&o);
    assert_eq!(
        load(&dir.path().join("again/result-1.png")),
        load(&out.join("result-2.png"))
    );
}

#[test]
fn black_edits_polarity_reads_the_mask_file_inverted() {
    let dir = folder_with_inputs();
    let black = &["--polarity", "black-edits", "--seed", "7"];
    assert_succeeded(&edit(
        dir.path(),
        "mask-black.png",
        "'OPEN'",
        black,
        "black",
    ));
    assert_succeeded(&edit(
        dir.path(),
        "mask.png",
        "'OPEN'",
        &["--seed", "7"],
        "white",
    ));
    assert_eq!(
        load(&dir.path().join("black/result-1.png")),
        load(&dir.path().join("white/result-1.png"))
    );
}

#[test]
fn failures_end_with_one_error_line_and_a_non_zero_exit() {
    let dir = folder_with_inputs();
    let cases: [(&str, &str); 2] = [
        ("whole.png", "nothing to fill from"),
        ("wrong-size.png", "does not fit the image"),
    ];
    for (mask, expected) in cases {
        let o = edit(dir.path(), mask, "'OPEN'", &[], "out");
        assert!(!o.status.success(), "{mask}");
        let err = stderr(&o);
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("touchup:")).collect();
        assert_eq!(errors.len(), 1, "{err}");
        assert!(errors[0].contains(expected), "{err}");
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
        assert!(!dir.path().join("out/result-1.png").exists());
    }
    // A feather beyond the limit is refused before anything runs.
    let o = edit(
        dir.path(),
        "mask.png",
        "'OPEN'",
        &["--feather", "65"],
        "out",
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--feather"), "{}", stderr(&o));
}

#[test]
fn a_missing_photo_is_named_by_its_whole_path() {
    let dir = folder_with_inputs();
    let o = touchup(
        dir.path(),
        &[
            "--image",
            "/nonexistent/x.png",
            "--mask",
            "mask.png",
            "--prompt",
            "x",
            "--out",
            "out",
        ],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("/nonexistent/x.png") && err.contains("no such file"),
        "{err}"
    );
    assert_eq!(
        err.trim().lines().count(),
        2,
        "the engine note and the error: {err}"
    );
}

#[test]
fn a_quality_beyond_a_byte_gets_the_same_answer_as_255() {
    let dir = folder_with_inputs();
    let answer = |q: &str| {
        let o = edit(dir.path(), "mask.png", "'OPEN'", &["--quality", q], "out");
        assert!(!o.status.success(), "{q}");
        let err = stderr(&o);
        let last = err.trim().lines().last().unwrap().to_string();
        assert!(last.contains("choose 20 to 99"), "{q}: {err}");
        last.replace(q, "Q")
    };
    assert_eq!(answer("500"), answer("255"));
}

#[test]
fn webp_and_jpg_formats_are_written_by_the_local_engine() {
    let dir = folder_with_inputs();
    for (format, ext, mime) in [("webp", "webp", "image/webp"), ("jpg", "jpg", "image/jpeg")] {
        let out = format!("out-{format}");
        let o = edit(
            dir.path(),
            "mask.png",
            "'OPEN'",
            &["--format", format, "--seed", "3"],
            &out,
        );
        assert_succeeded(&o);
        let raw = dir.path().join(&out).join(format!("result-1.raw.{ext}"));
        let bytes = std::fs::read(&raw).unwrap_or_else(|e| panic!("{}: {e}", raw.display()));
        assert_eq!(touchup::imageio::sniff_mime(&bytes), mime);
        let r = &index(&dir.path().join(&out))["results"][0];
        assert_eq!(r["raw_file"], format!("result-1.raw.{ext}"));
        assert_eq!(r["file"], "result-1.png");
    }
    // WebP is lossless: the raw output decodes to the composited result's pixels inside the
    // mask far from its edge, exactly.
    let raw = load(&dir.path().join("out-webp/result-1.raw.webp"));
    let composited = load(&dir.path().join("out-webp/result-1.png"));
    assert_eq!(raw.get_pixel(24, 16), composited.get_pixel(24, 16));
}
