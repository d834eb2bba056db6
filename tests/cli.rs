//! The `touchup` binary as scripts use it: data on stdout, one-line errors on stderr, exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn touchup(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_touchup"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the binary runs")
}

/// `touchup mask --image <image> <ops...>`.
fn mask(image: &Path, ops: &[&str]) -> Output {
    let mut args = vec!["mask", "--image", image.to_str().unwrap()];
    args.extend_from_slice(ops);
    touchup(&args)
}

fn assert_succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn photo(dir: &Path, w: u32, h: u32) -> PathBuf {
    let path = dir.join("store.png");
    image::RgbaImage::from_pixel(w, h, image::Rgba([90, 120, 200, 255]))
        .save(&path)
        .unwrap();
    path
}

fn gray(path: &Path) -> image::GrayImage {
    image::open(path).unwrap().into_luma8()
}

fn assert_clean_failure(out: &Output) -> String {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("touchup: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    err
}

#[test]
fn rect_mask_is_exact_and_in_the_chosen_polarity() {
    let dir = tempfile::tempdir().unwrap();
    let img = photo(dir.path(), 40, 30);
    let out_path = dir.path().join("m.png");
    let out = mask(
        &img,
        &["--rect", "3,4,10,5", "--out", out_path.to_str().unwrap()],
    );
    assert_succeeded(&out);
    assert!(out.stdout.is_empty(), "messages go to stderr");
    let m = gray(&out_path);
    assert_eq!(m.dimensions(), (40, 30));
    for (x, y, p) in m.enumerate_pixels() {
        let inside = (3..13).contains(&x) && (4..9).contains(&y);
        assert_eq!(p.0[0], if inside { 255 } else { 0 }, "{x},{y}");
    }

    let out = mask(
        &img,
        &[
            "--rect",
            "3,4,10,5",
            "--polarity",
            "black-edits",
            "--out",
            out_path.to_str().unwrap(),
        ],
    );
    assert_succeeded(&out);
    let m = gray(&out_path);
    assert_eq!(m.get_pixel(5, 5).0[0], 0);
    assert_eq!(m.get_pixel(0, 0).0[0], 255);
}

#[test]
fn data_uri_is_the_only_thing_on_stdout_and_decodes_to_the_mask() {
    let dir = tempfile::tempdir().unwrap();
    let img = photo(dir.path(), 64, 32);
    let out = mask(
        &img,
        &[
            "--stroke",
            "3:10,16,50,16",
            "--polygon",
            "2,2,20,2,2,12",
            "--data-uri",
        ],
    );
    assert_succeeded(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("data:image/png;base64,"));
    assert_eq!(stdout.trim_end().lines().count(), 1);
    let png = touchup::imageio::parse_data_uri(stdout.trim_end()).unwrap();
    let m = image::load_from_memory(&png).unwrap().into_luma8();
    assert_eq!(m.dimensions(), (64, 32));
    assert!(m.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
    // The stroke of radius 3 covers its centre line and not 5 px away from it.
    for x in 10..=50 {
        assert_eq!(m.get_pixel(x, 16).0[0], 255, "stroke at {x}");
    }
    assert_eq!(m.get_pixel(30, 21).0[0], 0);
    // The polygon's corner region.
    assert_eq!(m.get_pixel(4, 4).0[0], 255);
}

#[test]
fn operations_apply_in_command_line_order() {
    let dir = tempfile::tempdir().unwrap();
    let img = photo(dir.path(), 20, 20);
    let a = dir.path().join("a.png");
    let b = dir.path().join("b.png");
    let rect_then_invert = [
        "--rect",
        "0,0,5,5",
        "--invert",
        "--out",
        a.to_str().unwrap(),
    ];
    assert_succeeded(&mask(&img, &rect_then_invert));
    let invert_then_rect = [
        "--invert",
        "--rect",
        "0,0,5,5",
        "--out",
        b.to_str().unwrap(),
    ];
    assert_succeeded(&mask(&img, &invert_then_rect));
    // rect then invert: the rect is cleared; invert then rect: everything marked.
    assert_eq!(gray(&a).get_pixel(1, 1).0[0], 0);
    assert_eq!(gray(&a).get_pixel(10, 10).0[0], 255);
    assert!(gray(&b).pixels().all(|p| p.0[0] == 255));
}

#[test]
fn mask_size_follows_the_displayed_exif_rotated_image() {
    // A JPEG with EXIF orientation 6 (rotate 90°): 40x20 stored, 20x40 displayed.
    let dir = tempfile::tempdir().unwrap();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode(
            &vec![128u8; 40 * 20 * 3],
            40,
            20,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    let mut exif = b"Exif\0\0II*\0".to_vec();
    exif.extend_from_slice(&8u32.to_le_bytes());
    exif.extend_from_slice(&1u16.to_le_bytes());
    exif.extend_from_slice(&[0x12, 0x01, 3, 0]);
    exif.extend_from_slice(&1u32.to_le_bytes());
    exif.extend_from_slice(&6u16.to_le_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut with_exif = jpeg[..2].to_vec();
    with_exif.extend_from_slice(&[0xFF, 0xE1]);
    with_exif.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    with_exif.extend_from_slice(&exif);
    with_exif.extend_from_slice(&jpeg[2..]);
    let path = dir.path().join("rotated.jpg");
    std::fs::write(&path, with_exif).unwrap();
    let out_path = dir.path().join("m.png");
    let out = mask(
        &path,
        &["--rect", "0,0,1,1", "--out", out_path.to_str().unwrap()],
    );
    assert_succeeded(&out);
    assert_eq!(gray(&out_path).dimensions(), (20, 40));
}

#[test]
fn bad_input_gives_one_line_and_a_failure_exit() {
    let dir = tempfile::tempdir().unwrap();
    let img = photo(dir.path(), 10, 10);
    let err = assert_clean_failure(&mask(&img, &["--rect", "1,2,3", "--data-uri"]));
    assert!(err.contains("--rect") && err.contains("X,Y,W,H"), "{err}");
    let err = assert_clean_failure(&mask(&img, &["--rect", "1,2,0,3", "--data-uri"]));
    assert!(err.contains("at least 1"), "{err}");
    let err = assert_clean_failure(&mask(&img, &["--polygon", "1,2,3,4", "--data-uri"]));
    assert!(err.contains("three"), "{err}");
    let err = assert_clean_failure(&mask(&img, &["--stroke", "x:1,2", "--data-uri"]));
    assert!(err.contains("radius"), "{err}");
    let missing = dir.path().join("nope.jpg");
    let err = assert_clean_failure(&mask(&missing, &["--data-uri"]));
    assert!(
        err.contains("nope.jpg") && err.contains("no such file"),
        "{err}"
    );
    let garbage = dir.path().join("garbage.png");
    std::fs::write(&garbage, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let err = assert_clean_failure(&mask(&garbage, &["--data-uri"]));
    assert!(err.contains("garbage.png"), "{err}");
    // Writing into a folder that does not exist.
    let err = assert_clean_failure(&mask(&img, &["--out", "/nonexistent-dir/m.png"]));
    assert!(err.contains("could not write"), "{err}");
}

#[test]
fn demo_subcommand_redraws_the_bundled_image() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("demo.png");
    let out = touchup(&["demo", "--out", out_path.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(std::fs::read(&out_path).unwrap().len() > 1000);
    let drawn = image::open(&out_path).unwrap().into_rgba8();
    assert_eq!(drawn, touchup::demo::image());
}

#[test]
fn a_rect_wholly_outside_the_photo_is_an_error_like_an_outside_wand() {
    let dir = tempfile::tempdir().unwrap();
    let img = photo(dir.path(), 40, 30);
    let err = assert_clean_failure(&mask(&img, &["--wand", "50,5", "--data-uri"]));
    assert!(err.contains("outside the 40x30 image"), "{err}");
    for rect in ["40,0,5,5", "-10,-10,5,5", "0,30,40,2"] {
        let err = assert_clean_failure(&mask(&img, &["--rect", rect, "--data-uri"]));
        assert!(
            err.contains(&format!("--rect '{rect}'")) && err.contains("outside the 40x30 image"),
            "{rect}: {err}"
        );
    }
    // Partly outside is clipped, as before.
    assert_succeeded(&mask(&img, &["--rect", "35,25,10,10", "--data-uri"]));
}

#[test]
fn a_missing_photo_is_named_by_its_whole_path() {
    let err = assert_clean_failure(&mask(Path::new("/nonexistent/x.png"), &["--data-uri"]));
    assert!(err.contains("/nonexistent/x.png"), "{err}");
}
