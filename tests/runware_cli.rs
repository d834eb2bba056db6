//! `touchup edit`, the real binary, against the stand-in Runware server.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{KEY, Mode, StandIn};

const W: u32 = 40;
const H: u32 = 30;

fn write_inputs(dir: &Path) {
    let img = image::RgbaImage::from_fn(W, H, |x, y| {
        image::Rgba([x as u8 * 6, y as u8 * 8, 120, 255])
    });
    img.save(dir.join("photo.png")).unwrap();
    let mut mask = image::GrayImage::new(W, H);
    for y in 5..15 {
        for x in 10..30 {
            mask.put_pixel(x, y, image::Luma([255]));
        }
    }
    mask.save(dir.join("mask.png")).unwrap();
}

fn touchup(dir: &Path, url: Option<&str>, key: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_touchup"));
    cmd.current_dir(dir)
        .arg("edit")
        .args(args)
        .env_remove("RUNWARE_API_KEY")
        .env_remove("RUNWARE_API_URL")
        .env("TOUCHUP_NO_KEYRING", "1")
        .env("TOUCHUP_RETRY_BASE_MS", "5")
        .env("TOUCHUP_POLL_FIRST_MS", "5");
    if let Some(url) = url {
        cmd.env("RUNWARE_API_URL", url);
    }
    if let Some(key) = key {
        cmd.env("RUNWARE_API_KEY", key);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A scratch folder holding the inputs of [`write_inputs`].
fn folder_with_inputs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    dir
}

/// `touchup edit <args...>` against `server`, with the key it accepts.
fn edit_via(server: &StandIn, dir: &Path, args: &[&str]) -> Output {
    touchup(dir, Some(&server.url), Some(KEY), args)
}

/// [`BASIC`] followed by `extra`.
fn basic_and(extra: &[&'static str]) -> Vec<&'static str> {
    let mut args = BASIC.to_vec();
    args.extend_from_slice(extra);
    args
}

/// `--image <image> --mask <mask> --prompt x <extra...> --out o`.
fn prompted<'a>(image: &'a str, mask: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--image", image, "--mask", mask, "--prompt", "x"];
    args.extend_from_slice(extra);
    args.extend(["--out", "o"]);
    args
}

fn assert_succeeded(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

fn read_index(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap()
}

const BASIC: [&str; 8] = [
    "--image",
    "photo.png",
    "--mask",
    "mask.png",
    "--prompt",
    "Write 'OPEN' on the sign",
    "--out",
    "out",
];

#[test]
fn an_edit_saves_every_result_and_an_index() {
    let server = StandIn::start();
    let dir = folder_with_inputs();
    let args = basic_and(&[
        "--results",
        "2",
        "--include-cost",
        "--style-preset",
        "magazine editorial",
        "--style-type",
        "design",
        "--rendering-speed",
        "QUALITY",
        "--magic-prompt",
        "off",
        "--format",
        "png",
        "--quality",
        "90",
        // The stand-in's pictures are unlike the photo everywhere; the colour match (which
        // would take that "drift" out) is tested in edit_area.rs.
        "--no-colour-match",
    ]);
    let o = edit_via(&server, dir.path(), &args);
    assert_succeeded(&o);
    let out = dir.path().join("out");
    let index = read_index(&out);
    let results = index["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    server.with(|s| {
        assert!(s.rejections.is_empty(), "{:?}", s.rejections);
        let original = image::open(dir.path().join("photo.png"))
            .unwrap()
            .to_rgba8();
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r["file"], format!("result-{}.png", i + 1));
            assert_eq!(r["raw_file"], format!("result-{}.raw.png", i + 1));
            // The raw output is kept as returned.
            let bytes = std::fs::read(out.join(r["raw_file"].as_str().unwrap())).unwrap();
            assert_eq!(
                &bytes,
                s.images.get(r["imageUUID"].as_str().unwrap()).unwrap()
            );
            // The saved result is composited: the original outside mask and feather band,
            // the model's output inside the mask.
            let raw = image::load_from_memory(&bytes).unwrap().to_rgba8();
            let saved = image::open(out.join(r["file"].as_str().unwrap()))
                .unwrap()
                .to_rgba8();
            assert_eq!(saved.dimensions(), (W, H));
            for (x, y, p) in saved.enumerate_pixels() {
                let dx = if x < 10 { 10 - x } else { x.saturating_sub(29) };
                let dy = if y < 5 { 5 - y } else { y.saturating_sub(14) };
                let feather = touchup::compare::DEFAULT_FEATHER_PX;
                if dx * dx + dy * dy > feather * feather {
                    assert_eq!(p, original.get_pixel(x, y), "outside at {x},{y}");
                } else if dx == 0 && dy == 0 {
                    assert_eq!(p, raw.get_pixel(x, y), "inside at {x},{y}");
                }
            }
            // The stand-in's pictures differ from the photo everywhere: the raw output
            // changed most of the outside.
            let fraction = r["outside_mask_changed_fraction"].as_f64().unwrap();
            assert!(fraction > 0.5 && fraction <= 1.0, "{fraction}");
            assert_eq!(r["cost"], 0.09);
            assert!(r["seed"].is_i64());
        }
        let sheet = image::open(out.join("compare.png")).unwrap();
        assert!(sheet.width() > W, "compare.png is {}", sheet.width());
        let task = &s.bodies[0][0];
        let ideo = &task["providerSettings"]["ideogram"];
        assert_eq!(ideo["stylePreset"], "MAGAZINE_EDITORIAL");
        assert_eq!(ideo["styleType"], "DESIGN");
        assert_eq!(ideo["renderingSpeed"], "QUALITY");
        assert_eq!(ideo["magicPrompt"], "OFF");
        assert_eq!(task["numberResults"], 2);
        assert_eq!(task["outputFormat"], "PNG");
        assert_eq!(task["outputQuality"], 90);
        // The mask went as white-edits 0/255 PNG of the photo's size.
        let mask = touchup::imageio::parse_data_uri(task["inputs"]["maskImage"].as_str().unwrap())
            .unwrap();
        let mask = image::load_from_memory(&mask).unwrap().to_luma8();
        assert_eq!(mask.dimensions(), (W, H));
        assert_eq!(mask.get_pixel(12, 6).0[0], 255);
        assert_eq!(mask.get_pixel(0, 0).0[0], 0);
    });
    // Data on stdout: the saved files.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(!stderr(&o).contains(KEY) && !stdout.contains(KEY));
    assert!(
        !std::fs::read_to_string(out.join("results.json"))
            .unwrap()
            .contains(KEY)
    );
}

#[test]
fn black_edits_polarity_inverts_the_sent_mask() {
    let server = StandIn::start();
    let dir = folder_with_inputs();
    let args = basic_and(&["--polarity", "black-edits"]);
    let o = edit_via(&server, dir.path(), &args);
    assert_succeeded(&o);
    server.with(|s| {
        let uri = s.bodies[0][0]["inputs"]["maskImage"]
            .as_str()
            .unwrap()
            .to_string();
        let mask = image::load_from_memory(&touchup::imageio::parse_data_uri(&uri).unwrap())
            .unwrap()
            .to_luma8();
        assert_eq!(mask.get_pixel(12, 6).0[0], 0);
        assert_eq!(mask.get_pixel(0, 0).0[0], 255);
    });
}

#[test]
fn async_delivery_polls_until_all_pictures_are_saved() {
    let server = StandIn::start();
    server.with(|s| s.polls_before_ready = 2);
    let dir = folder_with_inputs();
    let args = basic_and(&["--async", "--results", "2"]);
    let o = edit_via(&server, dir.path(), &args);
    assert_succeeded(&o);
    assert!(stderr(&o).contains("1/2 ready"), "{}", stderr(&o));
    assert!(dir.path().join("out/result-2.png").exists());
    assert_eq!(
        server.with(|s| s.bodies[0][0]["deliveryMethod"].clone()),
        "async"
    );
}

#[test]
fn a_request_file_is_sent_with_a_fresh_uuid_and_flags_override_it() {
    let server = StandIn::start();
    let dir = folder_with_inputs();
    let fixture = format!(
        "{}/tests/fixtures/runware/bakery-window-signage.request.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let original: Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    // Remote URLs cannot be fetched here, so give the photo and mask locally; the rest comes
    // from the file, with the style preset overridden.
    let o = edit_via(
        &server,
        dir.path(),
        &[
            "--request",
            &fixture,
            "--image",
            "photo.png",
            "--mask",
            "mask.png",
            "--style-preset",
            "BAUHAUS",
            "--out",
            "out",
        ],
    );
    assert_succeeded(&o);
    server.with(|s| {
        let task = &s.bodies[0][0];
        assert_ne!(task["taskUUID"], original["taskUUID"]);
        assert_eq!(task["positivePrompt"], original["positivePrompt"]);
        assert_eq!(
            task["providerSettings"]["ideogram"]["stylePreset"],
            "BAUHAUS"
        );
        assert_eq!(
            task["providerSettings"]["ideogram"]["renderingSpeed"],
            "QUALITY"
        );
    });
    // Without local images the task's own references are sent as written.
    let o = edit_via(
        &server,
        dir.path(),
        &["--request", &fixture, "--out", "out2"],
    );
    assert_succeeded(&o);
    server.with(|s| {
        let task = &s.bodies[1][0];
        assert_eq!(task["inputs"], original["inputs"]);
    });
}

#[test]
fn no_key_names_the_variable() {
    let dir = folder_with_inputs();
    let args = basic_and(&["--backend", "runware"]);
    let o = touchup(dir.path(), None, None, &args);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("RUNWARE_API_KEY"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // The default with no key is the local engine, and stderr says so.
    let o = touchup(dir.path(), None, None, &BASIC);
    assert_succeeded(&o);
    assert!(stderr(&o).contains("RUNWARE_API_KEY"));
    assert!(stderr(&o).contains("local engine"));
    assert!(dir.path().join("out/result-1.png").exists());
}

#[test]
fn no_keep_outside_saves_the_output_as_returned() {
    let server = StandIn::start();
    let dir = folder_with_inputs();
    let args = basic_and(&["--no-keep-outside"]);
    let o = edit_via(&server, dir.path(), &args);
    assert_succeeded(&o);
    let out = dir.path().join("out");
    let index = read_index(&out);
    let r = &index["results"][0];
    assert_eq!(r["raw_file"], "result-1.raw.png");
    assert!(r["outside_mask_changed_fraction"].as_f64().unwrap() > 0.5);
    let bytes = std::fs::read(out.join(r["raw_file"].as_str().unwrap())).unwrap();
    let returned = server.with(|s| {
        s.images
            .get(r["imageUUID"].as_str().unwrap())
            .unwrap()
            .clone()
    });
    assert_eq!(bytes, returned, "the raw output is kept as returned");
    // The result is the output as returned pasted over its whole area (here the whole small
    // photo): no compositing through the mask.
    let saved = image::open(out.join(r["file"].as_str().unwrap()))
        .unwrap()
        .to_rgba8();
    let raw = image::load_from_memory(&returned).unwrap().to_rgba8();
    assert_eq!(saved.dimensions(), (W, H));
    assert_eq!(saved, raw);
    assert!(out.join("compare.png").exists());
}

#[test]
fn server_failures_are_one_line_with_code_message_and_what_to_do() {
    let cases: Vec<(Mode, &str, Option<&str>, Vec<&str>)> = vec![
        (
            Mode::Normal,
            "wrong-key-SECRET",
            None,
            vec!["invalidApiKey", "RUNWARE_API_KEY"],
        ),
        (
            Mode::NoCredits,
            KEY,
            None,
            vec!["insufficientCredits", "credits"],
        ),
        (
            Mode::RejectParameter("providerSettings.ideogram.stylePreset".into()),
            KEY,
            None,
            vec!["invalidParameter", "stylePreset", "--style-preset"],
        ),
        (
            Mode::Unavailable,
            KEY,
            None,
            vec!["503", "Service Temporarily Unavailable", "try again"],
        ),
        (Mode::Garbage, KEY, None, vec!["not JSON"]),
    ];
    for (mode, key, _, words) in cases {
        let server = StandIn::start();
        server.set_mode(mode.clone());
        let dir = tempfile::tempdir().unwrap();
        write_inputs(dir.path());
        let o = touchup(dir.path(), Some(&server.url), Some(key), &BASIC);
        assert!(!o.status.success(), "{mode:?}");
        let err = stderr(&o);
        let last = err.trim().lines().last().unwrap().to_string();
        assert!(
            last.starts_with("touchup: the Runware edit failed"),
            "{mode:?}: {err}"
        );
        for w in words {
            assert!(last.contains(w), "{mode:?}: '{w}' missing from {last}");
        }
        assert!(!err.contains("SECRET") && !err.contains(KEY), "{err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn busy_server_is_retried_and_then_succeeds() {
    let server = StandIn::start();
    server.set_mode(Mode::TooManyRequests(2));
    let dir = folder_with_inputs();
    let o = edit_via(&server, dir.path(), &BASIC);
    assert_succeeded(&o);
    let uuids = server.with(|s| s.inference_uuids.clone());
    assert_eq!(uuids.len(), 3);
    assert!(uuids.iter().all(|u| u == &uuids[0]));
    assert!(stderr(&o).contains("will retry"), "{}", stderr(&o));
}

#[test]
fn bad_input_is_refused_before_sending() {
    let server = StandIn::start();
    let dir = folder_with_inputs();
    image::GrayImage::new(W + 2, H)
        .save(dir.path().join("wrong.png"))
        .unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (prompted("photo.png", "wrong.png", &[]), "does not fit"),
        (
            vec!["--image", "photo.png", "--mask", "mask.png", "--out", "o"],
            "--prompt",
        ),
        (
            prompted("photo.png", "mask.png", &["--style-code", "XYZ"]),
            "--style-code",
        ),
        (
            prompted("photo.png", "mask.png", &["--results", "21"]),
            "--results",
        ),
        (
            prompted("photo.png", "mask.png", &["--style-preset", "NOPE"]),
            "--style-preset",
        ),
        (prompted("missing.png", "mask.png", &[]), "missing.png"),
    ];
    for (args, words) in cases {
        let o = edit_via(&server, dir.path(), &args);
        assert!(!o.status.success(), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(words), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert_eq!(server.with(|s| s.bodies.len()), 0);
}

#[test]
fn a_timeout_is_explained_and_the_task_asked_for_not_resent() {
    let server = StandIn::start();
    server.set_mode(Mode::Slow(std::time::Duration::from_secs(5)));
    let dir = folder_with_inputs();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_touchup"));
    let o = cmd
        .current_dir(dir.path())
        .arg("edit")
        .args(BASIC)
        .env("RUNWARE_API_URL", &server.url)
        .env("RUNWARE_API_KEY", KEY)
        .env("TOUCHUP_RETRY_BASE_MS", "5")
        .env("TOUCHUP_READ_TIMEOUT_MS", "100")
        .output()
        .unwrap();
    // The task was sent: it is asked for with getResponse, never sent (and paid for) again.
    assert_succeeded(&o);
    let err = stderr(&o);
    assert!(err.contains("did not answer in time"), "{err}");
    assert!(err.contains("instead of sending it again"), "{err}");
    assert_eq!(server.with(|s| s.inference_attempts()), 1);
    assert!(dir.path().join("out/result-1.png").exists());
}

#[test]
fn a_refused_connection_says_where_nothing_answers_and_is_not_retried() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = folder_with_inputs();
    let url = format!("http://127.0.0.1:{port}/v1");
    let o = touchup(dir.path(), Some(&url), Some(KEY), &BASIC);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(&format!("Nothing answers at 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(err.contains("check the address"), "{err}");
    assert!(!err.contains("will retry"), "{err}");
    assert!(!err.contains("os error"), "{err}");
    // Nothing was sent, so there is nothing to look for in the dashboard.
    assert!(!err.contains("dashboard"), "{err}");
}
