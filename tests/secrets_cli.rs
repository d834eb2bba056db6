//! The Runware key never leaves the Authorization header: `touchup edit` is driven through
//! success and every kind of failure (service errors, a wrong key, timeouts, a misbehaving
//! server) with logs at debug level, and every byte printed and every file written (results,
//! results.json, anything under a scratch HOME) is scanned for the key. The "View request"
//! and cURL texts and the client's Debug output are scanned too. (The GUI's half, history and
//! autosave, is covered by the GUI's own tests.)

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use support::faults::{BadResult, Fault, FaultServer};
use support::{KEY, Mode, StandIn};
use touchup::edit::{EditRequest, ImageInput};

/// A second sentinel, one the stand-in refuses (for the wrong-key path).
const WRONG_KEY: &str = "sentinel-wrong-key-77c1d0e5";

fn leaks(haystack: &[u8], key: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD.encode(key);
    [key.as_bytes(), b64.as_bytes()]
        .iter()
        .any(|needle| haystack.windows(needle.len()).any(|w| w == *needle))
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn write_inputs(dir: &Path) {
    let img = image::RgbaImage::from_fn(40, 30, |x, y| {
        image::Rgba([x as u8 * 6, y as u8 * 8, 120, 255])
    });
    img.save(dir.join("photo.png")).unwrap();
    let mut mask = image::GrayImage::new(40, 30);
    for y in 5..15 {
        for x in 10..30 {
            mask.put_pixel(x, y, image::Luma([255]));
        }
    }
    mask.save(dir.join("mask.png")).unwrap();
}

/// Runs `touchup edit` in a fresh folder (also its HOME) and scans all it printed and wrote.
/// Returns whether it succeeded, for the caller to check the path really was taken.
fn run_and_scan(label: &str, url: &str, key: &str, extra: &[&str], log: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut args = vec![
        "--image",
        "photo.png",
        "--mask",
        "mask.png",
        "--prompt",
        "Write OPEN",
        "--out",
        "out",
    ];
    args.extend_from_slice(extra);
    let o = Command::new(env!("CARGO_BIN_EXE_touchup"))
        .current_dir(dir.path())
        .arg("edit")
        .args(&args)
        .env("RUNWARE_API_URL", url)
        .env("RUNWARE_API_KEY", key)
        .env("TOUCHUP_NO_KEYRING", "1")
        .env("TOUCHUP_LOG", log)
        .env("TOUCHUP_RETRY_BASE_MS", "5")
        .env("TOUCHUP_POLL_FIRST_MS", "5")
        .env("TOUCHUP_READ_TIMEOUT_MS", "700")
        .env("TOUCHUP_BODY_TIMEOUT_MS", "700")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .output()
        .unwrap();
    assert!(!leaks(&o.stdout, key), "{label}: the key is on stdout");
    assert!(!leaks(&o.stderr, key), "{label}: the key is on stderr");
    let mut files = Vec::new();
    files_under(dir.path(), &mut files);
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !leaks(&bytes, key),
            "{label}: the key is in {}",
            file.display()
        );
    }
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn the_key_is_never_printed_logged_or_written_on_any_path() {
    let server = StandIn::start();
    // Success, sync and async, with debug and trace logs.
    let (ok, err) = run_and_scan("sync", &server.url, KEY, &["--include-cost"], "debug");
    assert!(ok, "{err}");
    assert!(err.contains("DEBUG"), "debug logs were not on: {err}");
    let (ok, err) = run_and_scan(
        "async",
        &server.url,
        KEY,
        &["--async", "--results", "2"],
        "trace",
    );
    assert!(ok, "{err}");
    // A wrong key: refused, and neither key appears.
    let (ok, err) = run_and_scan("wrong key", &server.url, WRONG_KEY, &[], "debug");
    assert!(!ok && err.contains("401"), "{err}");

    // Every failure the service can answer with.
    let modes = [
        Mode::NoCredits,
        Mode::Forbidden,
        Mode::RejectParameter("providerSettings.ideogram.styleType".into()),
        Mode::RejectParameters(vec!["positivePrompt".into(), "inputs.maskImage".into()]),
        Mode::TooManyRequests(100),
        Mode::Unavailable,
        Mode::Garbage,
        Mode::PartialError,
        Mode::SingularError,
    ];
    for mode in modes {
        server.set_mode(mode.clone());
        let (ok, err) = run_and_scan(&format!("{mode:?}"), &server.url, KEY, &[], "debug");
        assert!(!ok, "{mode:?} succeeded: {err}");
    }
    // A timeout whose task is then asked for.
    server.set_mode(Mode::Slow(Duration::from_secs(3)));
    let (ok, err) = run_and_scan("slow", &server.url, KEY, &[], "debug");
    assert!(ok, "{err}");
    // Nobody listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (ok, _) = run_and_scan(
        "refused",
        &format!("http://127.0.0.1:{port}/v1"),
        KEY,
        &[],
        "debug",
    );
    assert!(!ok);

    // A server that misbehaves on the wire.
    let faults = [
        Fault::DropAfterSend,
        Fault::CloseBeforeRead,
        Fault::ResetMidBody,
        Fault::Trickle,
        Fault::DeepJson(10_000),
        Fault::ManyItems(50),
        Fault::RedirectToPlainHttp,
        Fault::Results {
            bad: BadResult::Huge,
            from: 0,
        },
        Fault::Results {
            bad: BadResult::RedirectToPlainHttp,
            from: 0,
        },
    ];
    for fault in faults {
        let bad = FaultServer::start(fault.clone());
        let _ = run_and_scan(&format!("{fault:?}"), &bad.url, KEY, &[], "debug");
        assert!(
            bad.with(|s| s.spoiled) >= 1,
            "{fault:?} was never triggered"
        );
    }
}

#[test]
fn view_request_curl_and_debug_output_hold_no_key() {
    // SAFETY of the test: the key is set in this process's environment, as a user would.
    unsafe {
        std::env::set_var("RUNWARE_API_KEY", KEY);
        std::env::set_var("TOUCHUP_NO_KEYRING", "1");
    }
    let png = touchup::imageio::encode(
        &image::RgbaImage::new(4, 4),
        touchup::imageio::Format::Png,
        100,
    )
    .unwrap();
    let request = EditRequest {
        prompt: "Write OPEN".into(),
        seed_image: Some(ImageInput::bytes(png.clone())),
        mask_image: Some(ImageInput::bytes(png)),
        ..EditRequest::default()
    };
    let uuid = uuid::Uuid::new_v4();
    let view = request.view_request(uuid);
    let curl = request.curl_command(uuid, "https://api.runware.ai/v1");
    assert!(curl.contains("$RUNWARE_API_KEY"), "{curl}");
    for text in [view, curl, format!("{request:?}")] {
        assert!(!leaks(text.as_bytes(), KEY), "{text}");
    }
    let client = touchup::runware::client_from_env().unwrap();
    let debug = format!("{client:?}");
    assert!(!leaks(debug.as_bytes(), KEY), "{debug}");
    unsafe { std::env::remove_var("RUNWARE_API_KEY") };
}
