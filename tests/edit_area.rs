//! The edit area through the real binary and the stand-in Runware server: what is sent around
//! the mask of a large photo, where the answer lands, and the colour match at the mask's edge.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use image::{Rgba, RgbaImage};
use serde_json::Value;
use support::{KEY, Mode, StandIn};
use touchup::compare::FeatherMask;
use touchup::mask::Mask;

/// A photo with smooth shading and a fine texture (no level near 0 or 255).
fn photo(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let t = ((x * 7 + y * 13) % 11) as u8;
        Rgba([
            (50 + (x * 120 / w) as u8) + t,
            (70 + (y * 100 / h) as u8) + t,
            (90 + ((x + y) * 60 / (w + h)) as u8) + t,
            255,
        ])
    })
}

/// Writes `photo.png` (`w` x `h`) and `mask.png` marking `rect` (x, y, w, h).
fn write_inputs(dir: &Path, w: u32, h: u32, rect: (u32, u32, u32, u32)) -> (RgbaImage, Mask) {
    let img = photo(w, h);
    img.save(dir.join("photo.png")).unwrap();
    let mut mask = Mask::new(w, h);
    mask.fill_rect(
        rect.0.into(),
        rect.1.into(),
        rect.2.into(),
        rect.3.into(),
        255,
    );
    let png = touchup::mask::export_png(&mask, touchup::mask::Polarity::WhiteEdits).unwrap();
    std::fs::write(dir.join("mask.png"), png).unwrap();
    (img, mask)
}

fn edit(server: &StandIn, dir: &Path, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_touchup"));
    cmd.current_dir(dir)
        .args([
            "edit",
            "--image",
            "photo.png",
            "--mask",
            "mask.png",
            "--prompt",
            // No quoted string: no lettering check (not what these tests are about).
            "Repaint the sign",
            "--out",
            "out",
        ])
        .args(extra)
        .env_remove("RUNWARE_API_KEY")
        .env("RUNWARE_API_URL", &server.url)
        .env("RUNWARE_API_KEY", KEY)
        .env("TOUCHUP_NO_KEYRING", "1")
        .env("TOUCHUP_RETRY_BASE_MS", "5")
        .env("TOUCHUP_POLL_FIRST_MS", "5");
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn index(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("out/results.json")).unwrap()).unwrap()
}

fn result(dir: &Path) -> RgbaImage {
    image::open(dir.join("out/result-1.png"))
        .unwrap()
        .to_rgba8()
}

/// Every pixel outside the feathered mask equals the original.
fn assert_unchanged_outside(original: &RgbaImage, result: &RgbaImage, mask: &Mask) {
    assert_eq!(original.dimensions(), result.dimensions());
    let feather = FeatherMask::new(mask, touchup::compare::DEFAULT_FEATHER_PX);
    for (x, y, p) in result.enumerate_pixels() {
        if feather.is_outside(x, y) {
            assert_eq!(
                p,
                original.get_pixel(x, y),
                "({x},{y}) changed outside the mask"
            );
        }
    }
}

#[test]
fn a_sign_in_a_4000x5920_photo_goes_out_at_native_resolution_and_lands_on_its_mask() {
    let server = StandIn::start();
    server.set_mode(Mode::Paint {
        brighten: 0,
        paint: Some([220, 20, 30]),
    });
    let dir = tempfile::tempdir().unwrap();
    let sign = (1700, 3100, 470, 170);
    let (original, mask) = write_inputs(dir.path(), 4000, 5920, sign);
    let out = edit(&server, dir.path(), &[]);
    // Between the download and the saved file, the progress names each step: the seconds a
    // large photo's save takes no longer read as "downloading".
    let said = String::from_utf8_lossy(&out.stderr);
    let steps: Vec<usize> = [
        "downloading picture 1",
        "pasting picture 1 into the photo",
        "saving picture 1",
    ]
    .iter()
    .map(|s| {
        said.find(s)
            .unwrap_or_else(|| panic!("no \"{s}\" in:\n{said}"))
    })
    .collect();
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{said}");

    let sent = server.with(|s| s.seed_sizes.clone());
    assert_eq!(sent.len(), 1);
    let (sw, sh) = sent[0];
    assert!(sw.max(sh) <= 2048, "sent {sw}x{sh}");
    assert!(sw >= 470 + 256 && sh >= 170 + 256, "sent {sw}x{sh}");

    let record = &index(dir.path())["results"][0]["area"];
    let (w, h) = (
        record["width"].as_u64().unwrap(),
        record["height"].as_u64().unwrap(),
    );
    assert_eq!(
        (sw as u64, sh as u64),
        (w, h),
        "one sent pixel per photo pixel"
    );
    assert_eq!(record["sent_width"].as_u64(), Some(w));
    let (ax, ay) = (record["x"].as_u64().unwrap(), record["y"].as_u64().unwrap());
    assert!(ax as u32 <= sign.0 && ay as u32 <= sign.1);
    assert!((ax + w) as u32 >= sign.0 + sign.2 && (ay + h) as u32 >= sign.1 + sign.3);

    let out = result(dir.path());
    assert_unchanged_outside(&original, &out, &mask);
    // The stand-in painted what the sent mask marks: it lands exactly on the photo's mask.
    for (x, y) in [
        (sign.0, sign.1),
        (sign.0 + sign.2 - 1, sign.1 + sign.3 - 1),
        (sign.0 + 200, sign.1 + 80),
    ] {
        assert_eq!(out.get_pixel(x, y).0, [220, 20, 30, 255], "({x},{y})");
    }
    // Just outside the mask, beyond the feather: the original.
    let below = (sign.0 + 100, sign.1 + sign.3 + 6);
    assert_eq!(
        out.get_pixel(below.0, below.1),
        original.get_pixel(below.0, below.1)
    );
}

#[test]
fn a_wide_sign_goes_out_at_the_largest_scale_that_fits_and_whole_never_past_2048() {
    let server = StandIn::start();
    server.set_mode(Mode::Paint {
        brighten: 0,
        paint: Some([10, 200, 10]),
    });
    let dir = tempfile::tempdir().unwrap();
    let (original, mask) = write_inputs(dir.path(), 3000, 2200, (400, 900, 2130, 200));
    edit(&server, dir.path(), &[]);
    let (sw, sh) = server.with(|s| s.seed_sizes[0]);
    assert_eq!(sw.max(sh), 2048, "sent {sw}x{sh}");
    let out = result(dir.path());
    assert_unchanged_outside(&original, &out, &mask);
    let p = out.get_pixel(1400, 1000);
    assert!(p[1] > 180 && p[0] < 40, "{p:?}");

    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    edit(&server, dir.path(), &["--area", "whole"]);
    let (sw, sh) = server.with(|s| s.seed_sizes[1]);
    assert_eq!((sw, sh), (2048, 1502), "the whole photo, downscaled");
    let record = &index(dir.path())["results"][0]["area"];
    assert_eq!(record["width"].as_u64(), Some(3000));
    assert_eq!(record["sent_width"].as_u64(), Some(2048));
}

#[test]
fn a_drifted_result_is_matched_at_the_edge_and_a_red_sign_stays_red() {
    let server = StandIn::start();
    server.set_mode(Mode::Paint {
        brighten: 20,
        paint: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let sign = (500, 400, 300, 120);
    let (original, mask) = write_inputs(dir.path(), 1600, 1200, sign);
    edit(&server, dir.path(), &[]);
    let out = result(dir.path());
    assert_unchanged_outside(&original, &out, &mask);
    let mut worst = 0i16;
    for y in sign.1..sign.1 + sign.3 {
        for x in sign.0..sign.0 + sign.2 {
            let (a, b) = (out.get_pixel(x, y), original.get_pixel(x, y));
            for c in 0..3 {
                worst = worst.max((i16::from(a[c]) - i16::from(b[c])).abs());
            }
        }
    }
    assert!(worst <= 3, "{worst} levels off inside the mask");
    let area = &index(dir.path())["results"][0]["area"];
    let before = area["edge_step_before"].as_f64().unwrap();
    let after = area["edge_step_after"].as_f64().unwrap();
    assert!(before > 15.0 && after < 2.0, "{area}");

    // Without the colour match the drift stays.
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    edit(&server, dir.path(), &["--no-colour-match"]);
    let out = result(dir.path());
    let (a, b) = (out.get_pixel(600, 450), original.get_pixel(600, 450));
    assert!((i16::from(a[0]) - i16::from(b[0])) >= 18, "{a:?} {b:?}");

    // A sign painted red (and everything brighter) stays red.
    server.set_mode(Mode::Paint {
        brighten: 20,
        paint: Some([220, 20, 30]),
    });
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    edit(&server, dir.path(), &[]);
    let out = result(dir.path());
    let p = out.get_pixel(650, 460);
    assert!(p[0] >= 190 && p[1] <= 30 && p[2] <= 40, "{p:?}");
    assert_unchanged_outside(&original, &out, &mask);
}

#[test]
fn batch_lines_take_area_and_context_and_the_local_engine_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let sign = (900, 700, 160, 60);
    write_inputs(dir.path(), 2000, 1500, sign);
    let lines = [
        serde_json::json!({"name": "tight", "image": "photo.png", "mask": "mask.png",
            "prompt": "Repaint the sign", "backend": "local", "seed": 3, "context": 20}),
        serde_json::json!({"name": "whole", "image": "photo.png", "mask": "mask.png",
            "prompt": "Repaint the sign", "backend": "local", "seed": 3, "area": "whole"}),
    ];
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(dir.path().join("m.jsonl"), text.join("\n") + "\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_touchup"))
        .current_dir(dir.path())
        .args(["batch", "m.jsonl", "--out", "out"])
        .env_remove("RUNWARE_API_KEY")
        .env_remove("RUNWARE_API_URL")
        .env("TOUCHUP_NO_KEYRING", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("out").join(name).join("results.json"))
                .unwrap(),
        )
        .unwrap()
    };
    let tight = read("tight");
    assert_eq!(tight["engine"], "local");
    assert!(
        tight["request"].get("model").is_none(),
        "{}",
        tight["request"]
    );
    assert!(tight["request"].get("taskUUID").is_none());
    let area = &tight["results"][0]["area"];
    // 160x60 plus 20 px on each side, widened to the nearest Ideogram aspect (3:1 here).
    assert_eq!(area["height"].as_u64(), Some(100));
    assert!(area["width"].as_u64().unwrap() >= 200, "{area}");
    assert_eq!(
        area["sent_width"], area["width"],
        "the local engine works at full size"
    );
    let whole = read("whole");
    let area = &whole["results"][0]["area"];
    assert_eq!(
        (area["x"].as_u64(), area["width"].as_u64()),
        (Some(0), Some(2000))
    );
}
