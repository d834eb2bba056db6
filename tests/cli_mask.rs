//! `touchup mask` run as a real process on a PNG written by the test: the new wand, grow and
//! shrink options, command-line order, one-line errors and `--data-uri`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use image::{Rgba, RgbaImage};
use touchup::mask::{Mask, THRESHOLD, grow};

const W: u32 = 200;
const H: u32 = 120;
/// The flat panel: columns 50..150, rows 30..90.
const PANEL: (u32, u32, u32, u32) = (50, 30, 150, 90);

fn in_panel(x: u32, y: u32) -> bool {
    x >= PANEL.0 && x < PANEL.2 && y >= PANEL.1 && y < PANEL.3
}

fn write_photo(dir: &Path) -> PathBuf {
    let img = RgbaImage::from_fn(W, H, |x, y| {
        if in_panel(x, y) {
            Rgba([200, 30, 40, 255])
        } else {
            Rgba([(x * 255 / W) as u8, (y * 255 / H) as u8, 160, 255])
        }
    });
    let path = dir.join("photo.png");
    img.save(&path).unwrap();
    path
}

fn touchup(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_touchup"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `touchup mask --image PHOTO ARGS --out OUT` and returns the marked pixels.
fn mask_of(args: &[&str]) -> Vec<bool> {
    let dir = tempfile::tempdir().unwrap();
    let photo = write_photo(dir.path());
    let out = dir.path().join("mask.png");
    let mut all = vec!["mask", "--image", photo.to_str().unwrap()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.to_str().unwrap()]);
    let run = touchup(&all);
    assert!(
        run.status.success(),
        "touchup {all:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.stdout.is_empty(), "data only with --data-uri");
    let png = std::fs::read(&out).unwrap();
    let gray = image::load_from_memory(&png).unwrap().into_luma8();
    assert_eq!(gray.dimensions(), (W, H));
    gray.into_raw()
        .iter()
        .map(|&v| {
            assert!(v == 0 || v == 255, "export holds only 0 and 255");
            v == 255
        })
        .collect()
}

fn rect_grown(x: i64, y: i64, w: i64, h: i64, n: u32) -> Vec<bool> {
    let mut m = Mask::new(W, H);
    m.fill_rect(x, y, w, h, 255);
    grow(&mut m, n);
    m.as_raw().iter().map(|&v| v >= THRESHOLD).collect()
}

fn at(bits: &[bool], x: u32, y: u32) -> bool {
    bits[(y * W + x) as usize]
}

#[test]
fn rect_then_grow_grows_that_rectangle_with_round_corners() {
    let bits = mask_of(&["--rect", "10,10,100,50", "--grow", "12"]);
    assert_eq!(bits, rect_grown(10, 10, 100, 50, 12));
    // Straight sides moved out by 12 (clipped at the image's top and left edges).
    assert!(at(&bits, 121, 30) && !at(&bits, 122, 30));
    assert!(at(&bits, 60, 71) && !at(&bits, 60, 72));
    // The bottom-right corner is round: 9 px diagonally out is beyond the disk, 8 px inside.
    assert!(at(&bits, 109 + 8, 59 + 8));
    assert!(!at(&bits, 109 + 9, 59 + 9));
}

#[test]
fn operations_apply_in_command_line_order() {
    let rect_then_grow = mask_of(&["--rect", "10,10,100,50", "--grow", "12"]);
    let grow_then_rect = mask_of(&["--grow", "12", "--rect", "10,10,100,50"]);
    // Growing an empty mask does nothing; the rectangle afterwards is just the rectangle.
    assert_eq!(grow_then_rect, rect_grown(10, 10, 100, 50, 0));
    assert_ne!(rect_then_grow, grow_then_rect);
    // Shrink after grow, and invert in the middle, also follow the order.
    let grown_shrunk = mask_of(&["--rect", "40,40,60,30", "--grow", "5", "--shrink", "5"]);
    assert_eq!(grown_shrunk, rect_grown(40, 40, 60, 30, 0));
    let inverted_then_rect = mask_of(&["--invert", "--rect", "0,0,10,10"]);
    assert!(at(&inverted_then_rect, 5, 5) && at(&inverted_then_rect, 100, 100));
    let rect_then_inverted = mask_of(&["--rect", "0,0,10,10", "--invert"]);
    assert!(!at(&rect_then_inverted, 5, 5) && at(&rect_then_inverted, 100, 100));
}

#[test]
fn wand_selects_the_flat_panel_and_combines_with_grow_and_shrink() {
    let wand = mask_of(&["--wand", "60,40"]);
    for y in 0..H {
        for x in 0..W {
            assert_eq!(at(&wand, x, y), in_panel(x, y), "pixel {x},{y}");
        }
    }
    let tight = mask_of(&["--wand", "60,40:0", "--shrink", "3"]);
    assert!(at(&tight, 53, 33) && !at(&tight, 52, 33) && !at(&tight, 50, 30));
    let grown = mask_of(&["--wand", "60,40:5", "--grow", "4"]);
    assert!(at(&grown, 46, 60) && !at(&grown, 45, 60));
}

fn assert_one_line_failure(args: &[&str], mention: &str) {
    let dir = tempfile::tempdir().unwrap();
    let photo = write_photo(dir.path());
    let mut all = vec!["mask", "--image", photo.to_str().unwrap()];
    all.extend_from_slice(args);
    all.push("--data-uri");
    let run = touchup(&all);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{args:?} should fail");
    assert!(run.stdout.is_empty(), "{args:?}: nothing on stdout");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?}: one line, got {stderr:?}"
    );
    assert!(stderr.starts_with("touchup: "), "{stderr}");
    assert!(stderr.contains(mention), "{args:?}: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[test]
fn bad_values_give_a_one_line_error_and_a_failing_exit() {
    assert_one_line_failure(&["--grow", "-3"], "--grow '-3'");
    assert_one_line_failure(&["--grow", "abc"], "--grow 'abc'");
    assert_one_line_failure(&["--shrink", "0"], "--shrink '0'");
    assert_one_line_failure(&["--shrink", "2.5"], "whole number");
    assert_one_line_failure(&["--wand", "5"], "--wand '5'");
    assert_one_line_failure(&["--wand", "1,2:500"], "tolerance");
    assert_one_line_failure(&["--wand", "1.5,2"], "whole pixel");
    assert_one_line_failure(&["--wand", "500,20"], "200x120");
    assert_one_line_failure(&["--rect", "1,2,3"], "--rect");
}

#[test]
fn data_uri_prints_only_the_data_uri() {
    let dir = tempfile::tempdir().unwrap();
    let photo = write_photo(dir.path());
    let run = touchup(&[
        "mask",
        "--image",
        photo.to_str().unwrap(),
        "--rect",
        "10,10,100,50",
        "--grow",
        "12",
        "--data-uri",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    let b64 = stdout
        .trim_end()
        .strip_prefix("data:image/png;base64,")
        .unwrap();
    let png = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let gray = image::load_from_memory(&png).unwrap().into_luma8();
    let bits: Vec<bool> = gray.into_raw().iter().map(|&v| v == 255).collect();
    assert_eq!(bits, rect_grown(10, 10, 100, 50, 12));
}
