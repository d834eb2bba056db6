//! Reading text: lines rendered by the test (bundled fonts, several sizes, angles up to 20°)
//! over real photographs (tests/fixtures/text) are found, masked and read; the lettering check
//! ranks spellings; the CLI's `mask --text-match` and `check-text`. The models run in this
//! process once (one shared reader, one shared set of scenes).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use image::RgbaImage;
use touchup::fonts::{Typeface, render_line};
use touchup::mask::{Combine, Mask};
use touchup::text::{self, CompareOptions, DifferenceKind, Script, TextLine};

/// One line drawn by the test.
#[derive(Debug, Clone)]
struct Drawn {
    text: &'static str,
    face: Typeface,
    px: f32,
    /// Centre in image pixels.
    at: (f32, f32),
    /// Degrees, clockwise.
    angle: f32,
}

struct Scene {
    name: &'static str,
    image: RgbaImage,
    /// Per drawn line, the pixels of its ink (coverage at least 50 %).
    ink: Vec<Vec<(u32, u32)>>,
    /// Per drawn line, the area of its tight ink box (before turning).
    box_area: Vec<f32>,
    drawn: Vec<Drawn>,
    lines: Vec<TextLine>,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/text")
        .join(name)
}

fn background(name: &str) -> RgbaImage {
    touchup::imageio::open(&fixture(name)).expect("the background photo is in the repository")
}

/// Draws `line` turned by its angle about its centre, in a colour that stands out from the
/// photo under it; returns the ink pixels and the ink box's area.
fn draw(image: &mut RgbaImage, line: &Drawn) -> (Vec<(u32, u32)>, f32) {
    let bmp = render_line(line.face, line.text, line.px).expect("ink");
    let (bw, bh) = (bmp.width as f32, bmp.height as f32);
    let (s, c) = line.angle.to_radians().sin_cos();
    let reach = (bw * bw + bh * bh).sqrt() / 2.0 + 2.0;
    let (cx, cy) = line.at;
    let x0 = (cx - reach).max(0.0) as u32;
    let y0 = (cy - reach).max(0.0) as u32;
    let x1 = ((cx + reach) as u32).min(image.width() - 1);
    let y1 = ((cy + reach) as u32).min(image.height() - 1);
    // Mean colour under the line decides light or dark letters.
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for y in y0..=y1 {
        for x in x0..=x1 {
            let p = image.get_pixel(x, y);
            for k in 0..3 {
                sum[k] += p[k] as u64;
            }
            n += 1;
        }
    }
    let mean = [0, 1, 2].map(|k| (sum[k] / n.max(1)) as u8);
    let ink_colour = touchup::local::contrasting_colour(mean);
    let sample = |u: f32, v: f32| -> f32 {
        // Bilinear coverage at bitmap position (u, v) (pixel centres at +0.5).
        let (u, v) = (u - 0.5, v - 0.5);
        let (u0, v0) = (u.floor(), v.floor());
        let (fu, fv) = (u - u0, v - v0);
        let get = |x: f32, y: f32| {
            if x < 0.0 || y < 0.0 || x >= bw || y >= bh {
                0.0
            } else {
                bmp.get(x as u32, y as u32) as f32 / 255.0
            }
        };
        let top = get(u0, v0) * (1.0 - fu) + get(u0 + 1.0, v0) * fu;
        let bottom = get(u0, v0 + 1.0) * (1.0 - fu) + get(u0 + 1.0, v0 + 1.0) * fu;
        top * (1.0 - fv) + bottom * fv
    };
    let mut ink = Vec::new();
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            // Turn back by the angle into the bitmap's frame.
            let u = dx * c + dy * s + bw / 2.0;
            let v = -dx * s + dy * c + bh / 2.0;
            let a = sample(u, v);
            if a <= 0.0 {
                continue;
            }
            let p = image.get_pixel_mut(x, y);
            for k in 0..3 {
                p[k] = (p[k] as f32 * (1.0 - a) + ink_colour[k] as f32 * a).round() as u8;
            }
            if a >= 0.5 {
                ink.push((x, y));
            }
        }
    }
    (ink, bw * bh)
}

fn scene(name: &'static str, bg: &str, drawn: Vec<Drawn>) -> Scene {
    let mut image = background(bg);
    let mut ink = Vec::new();
    let mut box_area = Vec::new();
    for d in &drawn {
        let (i, a) = draw(&mut image, d);
        ink.push(i);
        box_area.push(a);
    }
    let reader = text::reader().expect("the models are in assets/models");
    let lines = reader.read(&image, Script::Latin).expect("reads");
    Scene {
        name,
        image,
        ink,
        box_area,
        drawn,
        lines,
    }
}

fn line(text: &'static str, face: Typeface, px: f32, at: (f32, f32), angle: f32) -> Drawn {
    Drawn {
        text,
        face,
        px,
        at,
        angle,
    }
}

/// The scenes, rendered and read once for every test of this binary.
fn scenes() -> &'static [Scene] {
    static SCENES: OnceLock<Vec<Scene>> = OnceLock::new();
    SCENES.get_or_init(|| {
        use Typeface::*;
        vec![
            scene(
                "coffee",
                "coffee.jpg",
                vec![
                    line("OPEN 7AM-3PM", SansBold, 44.0, (200.0, 60.0), 0.0),
                    line("Fresh Bagels", SerifBold, 34.0, (260.0, 230.0), -12.0),
                ],
            ),
            scene(
                "brick",
                "brick.jpg",
                vec![
                    line("WELCOME", MonoBold, 46.0, (200.0, 120.0), 20.0),
                    line("Espresso 2.50", SansBold, 28.0, (200.0, 300.0), 5.0),
                ],
            ),
            scene(
                "rocket",
                "rocket.jpg",
                vec![line("LAUNCH DAY", SerifBold, 40.0, (240.0, 170.0), -20.0)],
            ),
        ]
    })
}

#[test]
fn rendered_lines_are_masked_with_their_ink_and_little_more() {
    for s in scenes() {
        let mut mask = Mask::new(s.image.width(), s.image.height());
        text::mark_boxes(
            &mut mask,
            s.lines.iter().map(|l| &l.area),
            2.0,
            Combine::Add,
        );
        for (d, ink) in s.drawn.iter().zip(&s.ink) {
            let inside = ink.iter().filter(|&&(x, y)| mask.is_marked(x, y)).count();
            let share = inside as f32 / ink.len() as f32;
            assert!(
                share >= 0.9,
                "{}: only {:.0} % of '{}' is masked; lines: {:?}",
                s.name,
                share * 100.0,
                d.text,
                s.lines
            );
        }
        let marked = mask.count_at_least(touchup::mask::THRESHOLD) as f32;
        let area: f32 = s.box_area.iter().sum();
        assert!(
            marked <= 3.0 * area,
            "{}: the mask ({marked} px) is more than 3x the lines' area ({area} px)",
            s.name
        );
    }
}

#[test]
fn boxes_follow_the_angle_of_each_line_and_read_it() {
    for s in scenes() {
        for d in &s.drawn {
            let found = s.lines.iter().find(|l| {
                let [x, y] = l.area.centre();
                (x - d.at.0).abs() < d.px && (y - d.at.1).abs() < d.px
            });
            let found = found
                .unwrap_or_else(|| panic!("{}: no box at '{}': {:?}", s.name, d.text, s.lines));
            assert!(
                (found.area.angle - d.angle).abs() <= 3.0,
                "{}: '{}' drawn at {}°, box at {}°",
                s.name,
                d.text,
                d.angle,
                found.area.angle
            );
            // Letter for letter, case included (spaces between words are not compared: the
            // recogniser often drops them).
            let d2 = text::distance(
                d.text,
                &found.text,
                CompareOptions {
                    case_sensitive: true,
                },
            );
            assert_eq!(
                d2.edits, 0,
                "{}: '{}' read as '{}'",
                s.name, d.text, found.text
            );
            assert!(found.confidence > 0.8, "{found:?}");
        }
    }
}

#[test]
fn every_drawn_string_is_checked_exact() {
    for s in scenes() {
        let expected: Vec<String> = s.drawn.iter().map(|d| d.text.to_lowercase()).collect();
        let check = text::check_lettering(&expected, &s.lines, CompareOptions::default());
        assert_eq!(check.exact, check.total, "{}: {}", s.name, check.summary);
        assert!(check.score > 0.8, "{}: {check:?}", s.name);
        for st in &check.strings {
            assert!(st.quad.is_some() && !st.lines.is_empty());
        }
    }
}

/// A plain sign: dark letters on the coffee photo.
fn sign(text: &'static str) -> RgbaImage {
    let mut image = background("coffee.jpg");
    draw(
        &mut image,
        &line(text, Typeface::SansBold, 44.0, (220.0, 120.0), 4.0),
    );
    image
}

#[test]
fn right_spelling_scores_higher_than_one_wrong_letter_which_is_reported() {
    let reader = text::reader().expect("models");
    let want = vec!["OPEN 7AM–3PM".to_string()];
    let right = reader
        .read(&sign("OPEN 7AM-3PM"), Script::of(&want))
        .expect("reads");
    let wrong = reader
        .read(&sign("OPEN 7AN-3PM"), Script::of(&want))
        .expect("reads");
    let a = text::check_lettering(&want, &right, CompareOptions::default());
    let b = text::check_lettering(&want, &wrong, CompareOptions::default());
    assert!(a.strings[0].exact, "{a:?}");
    assert_eq!(a.summary, "Lettering 1/1 exact");
    assert!(!b.strings[0].exact, "{b:?}");
    assert!(a.strings[0].score > b.strings[0].score, "{a:?} {b:?}");
    assert_eq!(b.strings[0].distance, 1, "{b:?}");
    let diff = &b.strings[0].differences[0];
    assert_eq!(
        (
            diff.kind.clone(),
            diff.expected.as_str(),
            diff.read.as_str()
        ),
        (DifferenceKind::Wrong, "M", "N")
    );
    assert_eq!(diff.at, "OPEN 7AM".len() - 1);
    assert!(
        b.summary
            .contains("'OPEN 7AN-3PM' for 'OPEN 7AM-3PM', 1 letter"),
        "{}",
        b.summary
    );
}

#[test]
fn look_alikes_are_near_misses_never_exact() {
    let d = text::distance("OPEN", "0PEN", CompareOptions::default());
    assert_eq!(d.edits, 1);
    assert_eq!(d.cost, 0.5);
    assert_eq!(d.differences[0].kind, DifferenceKind::Lookalike);
    let d = text::distance("OPEN 7AM–3PM", "open 7am-3pm", CompareOptions::default());
    assert_eq!(d.edits, 0, "case and dash insensitive: {d:?}");
    let d = text::distance(
        "Open",
        "OPEN",
        CompareOptions {
            case_sensitive: true,
        },
    );
    assert_eq!(d.edits, 3);
}

fn run_cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_touchup"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn cli_text_match_marks_only_the_matching_line() {
    let s = &scenes()[0];
    let dir = tempfile::tempdir().expect("tempdir");
    let img = dir.path().join("sign.png");
    s.image.save(&img).expect("write");
    let out = dir.path().join("mask.png");
    let o = run_cli(&[
        "mask",
        "--image",
        img.to_str().unwrap(),
        "--text-match",
        "open 7am–3pm",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).expect("mask written");
    let mask = touchup::mask::import_mask(
        &bytes,
        s.image.width(),
        s.image.height(),
        touchup::mask::Polarity::WhiteEdits,
    )
    .expect("mask");
    let share = |ink: &[(u32, u32)]| {
        ink.iter().filter(|&&(x, y)| mask.is_marked(x, y)).count() as f32 / ink.len() as f32
    };
    assert!(share(&s.ink[0]) >= 0.9, "the matching line is masked");
    assert!(share(&s.ink[1]) == 0.0, "the other line is not");

    // --text marks both; a string no line reads is one clear error.
    let o = run_cli(&[
        "mask",
        "--image",
        img.to_str().unwrap(),
        "--text",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let mask = touchup::mask::import_mask(
        &std::fs::read(&out).expect("mask"),
        s.image.width(),
        s.image.height(),
        touchup::mask::Polarity::WhiteEdits,
    )
    .expect("mask");
    for ink in &s.ink {
        let inside = ink.iter().filter(|&&(x, y)| mask.is_marked(x, y)).count();
        assert!(inside as f32 >= 0.9 * ink.len() as f32);
    }
    let o = run_cli(&[
        "mask",
        "--image",
        img.to_str().unwrap(),
        "--text-match",
        "CLOSED SUNDAYS",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no text line reads that"), "{err}");
}

#[test]
fn cli_check_text_prints_the_lettering_and_lines_as_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let img = dir.path().join("sign.png");
    sign("OPEN 7AN-3PM").save(&img).expect("write");
    let o = run_cli(&[
        "check-text",
        "--image",
        img.to_str().unwrap(),
        "--expect",
        "OPEN 7AM-3PM",
        "Fresh Bagels",
    ]);
    // Not every string reads exactly: exit 1, with the JSON still on stdout and the
    // misreadings on stderr, so scripts can gate on it.
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("7AN-3PM"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["total"], 2);
    assert_eq!(v["exact"], 0);
    assert!(
        v["score"]
            .as_f64()
            .is_some_and(|s| (0.0..=1.0).contains(&s))
    );
    let first = &v["strings"][0];
    for key in [
        "expected",
        "read",
        "distance",
        "exact",
        "confidence",
        "score",
        "differences",
        "box",
    ] {
        assert!(first.get(key).is_some(), "missing {key}: {first}");
    }
    assert_eq!(first["expected"], "OPEN 7AM-3PM");
    assert_eq!(first["read"], "OPEN 7AN-3PM");
    assert_eq!(first["distance"], 1);
    assert_eq!(first["exact"], false);
    assert_eq!(first["differences"][0]["expected"], "M");
    assert_eq!(first["differences"][0]["read"], "N");
    assert_eq!(first["box"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["strings"][1]["exact"], false);
    let lines = v["lines"].as_array().expect("lines");
    assert!(!lines.is_empty());
    assert!(lines[0]["text"].is_string() && lines[0]["confidence"].is_number());
    assert_eq!(lines[0]["box"]["corners"].as_array().map(Vec::len), Some(4));
    assert!(lines[0]["box"]["angle"].is_number());

    // Inside a mask that leaves the line out, nothing is read.
    let mask = dir.path().join("mask.png");
    let mut m = Mask::new(480, 320);
    m.fill_rect(0, 250, 100, 70, 255);
    std::fs::write(
        &mask,
        touchup::mask::export_png(&m, touchup::mask::Polarity::WhiteEdits).expect("png"),
    )
    .expect("write");
    let o = run_cli(&[
        "check-text",
        "--image",
        img.to_str().unwrap(),
        "--expect",
        "OPEN 7AM-3PM",
        "--mask",
        mask.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["strings"][0]["read"], "");
}

#[test]
fn cli_check_text_exits_0_only_when_every_string_is_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let img = dir.path().join("sign.png");
    sign("OPEN 7AM-3PM").save(&img).expect("write");
    let check = |expect: &str| {
        run_cli(&[
            "check-text",
            "--image",
            img.to_str().unwrap(),
            "--expect",
            expect,
        ])
    };
    let o = check("OPEN 7AM-3PM");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["exact"], 1);
    let o = check("OPEN 7AM-4PM");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["exact"], 0);
}

#[test]
fn batch_lines_mask_their_photo_by_text_match_and_text() {
    let s = &scenes()[0];
    let dir = tempfile::tempdir().expect("tempdir");
    s.image.save(dir.path().join("sign.png")).expect("write");
    let lines = [
        serde_json::json!({"name": "hours", "image": "sign.png", "text-match": "open 7am–3pm",
                           "text-margin": 4, "prompt": "remove the hours", "backend": "local"}),
        serde_json::json!({"name": "all", "image": "sign.png", "text": true,
                           "prompt": "a plain board", "backend": "local"}),
        serde_json::json!({"name": "none", "image": "sign.png", "text-match": "CLOSED SUNDAYS",
                           "prompt": "x", "backend": "local"}),
    ];
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(dir.path().join("m.jsonl"), text.join("\n") + "\n").expect("manifest");
    let o = Command::new(env!("CARGO_BIN_EXE_touchup"))
        .current_dir(dir.path())
        .args(["batch", "m.jsonl", "--out", "out"])
        .env_remove("RUNWARE_API_KEY")
        .env("TOUCHUP_NO_KEYRING", "1")
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "the third line fails: {err}");
    assert!(
        err.contains("line 3 (none): failed") && err.contains("no text line reads that"),
        "{err}"
    );
    let changed = |name: &str, ink: &[(u32, u32)]| {
        let result = image::open(dir.path().join(format!("out/{name}/result-1.png")))
            .expect("result written")
            .to_rgba8();
        ink.iter()
            .filter(|&&(x, y)| result.get_pixel(x, y) != s.image.get_pixel(x, y))
            .count() as f32
            / ink.len() as f32
    };
    // Only the matching line is edited; `text` edits both.
    assert!(changed("hours", &s.ink[0]) >= 0.9, "{err}");
    assert_eq!(changed("hours", &s.ink[1]), 0.0);
    assert!(changed("all", &s.ink[0]) >= 0.9);
    assert!(changed("all", &s.ink[1]) >= 0.9);

    // A margin that is not a number of pixels is refused before anything runs.
    std::fs::write(
        dir.path().join("bad.jsonl"),
        r#"{"image": "sign.png", "text": true, "text-margin": -3, "prompt": "x"}"#,
    )
    .expect("manifest");
    let o = Command::new(env!("CARGO_BIN_EXE_touchup"))
        .current_dir(dir.path())
        .args(["batch", "bad.jsonl", "--out", "out2", "--dry-run"])
        .env_remove("RUNWARE_API_KEY")
        .env("TOUCHUP_NO_KEYRING", "1")
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("--text-margin"), "{err}");
}

#[test]
fn check_text_refuses_a_cut_short_photo_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let img = dir.path().join("sign.jpg");
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgba8(sign("OPEN 7AM-3PM"))
        .to_rgb8()
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .expect("encode");
    std::fs::write(&img, &bytes[..bytes.len() / 3]).expect("write");
    let o = run_cli(&[
        "check-text",
        "--image",
        img.to_str().unwrap(),
        "--expect",
        "OPEN",
    ]);
    assert!(!o.status.success());
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("sign.jpg is truncated"), "{err}");
    assert_eq!(err.matches("truncated").count(), 1, "said once: {err}");
}
