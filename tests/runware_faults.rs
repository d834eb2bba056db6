//! The client and `touchup edit` against a misbehaving server ([`support::faults`]): resets
//! halfway through a body, bodies that trickle forever, result URLs that announce 2 GB or
//! never end, a decompression bomb, JSON nested too deep, a redirect to plain http, 10,000
//! items. Each ends in a clear error (the client's own deadlines and caps end it; a hang would
//! fail the test's outer timeout), memory stays bounded (a counting allocator watches the
//! peak of this whole test binary), and what was received stays on disk.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::faults::{BadResult, Fault, FaultServer, PLAIN_HTTP_ELSEWHERE};
use support::{KEY, Mode};
use tokio_util::sync::CancellationToken;
use touchup::edit::{EditRequest, ImageInput, OutputType};
use touchup::mask::{Mask, Polarity, export_png};
use touchup::runware::{
    ApiKey, Client, ClientConfig, EditResult, PollConfig, RunwareError, SubmitEvent,
};
use uuid::Uuid;

/// Counts the bytes this test binary holds, and the most it ever held.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = HELD.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                HELD.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const GIB: usize = 1024 * 1024 * 1024;

fn assert_memory_bounded() {
    let peak = PEAK.load(Ordering::Relaxed);
    assert!(
        peak < GIB,
        "the test binary held {} MiB at its peak",
        peak >> 20
    );
}

const W: u32 = 32;
const H: u32 = 24;

fn seed_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(W, H, |x, y| {
        image::Rgba([x as u8 * 8, y as u8 * 10, 90, 255])
    });
    touchup::imageio::encode(&img, touchup::imageio::Format::Png, 100).unwrap()
}

fn request(results: u32) -> EditRequest {
    let mut mask = Mask::new(W, H);
    mask.fill_rect(4, 4, 10, 8, 255);
    let mut r = EditRequest {
        prompt: "Replace the sign with 'BRAMBLE & RYE'".into(),
        ..Default::default()
    };
    r.settings.number_results = Some(results);
    r.seed_image = Some(ImageInput::bytes(seed_png()));
    r.mask_image = Some(ImageInput::bytes(
        export_png(&mask, Polarity::WhiteEdits).unwrap(),
    ));
    r
}

/// Short deadlines so each fault ends in about a second or two.
fn config(url: &str) -> ClientConfig {
    ClientConfig {
        endpoint: url.to_string(),
        read_timeout: Duration::from_millis(800),
        body_timeout: Duration::from_millis(800),
        retry_base_delay: Duration::from_millis(5),
        retry_jitter: Duration::from_millis(5),
        poll: PollConfig {
            first_delay: Duration::from_millis(5),
            factor: 1.5,
            max_delay: Duration::from_millis(20),
            budget: Duration::from_secs(10),
        },
        ..ClientConfig::default()
    }
}

async fn submit_to(
    _server: &FaultServer,
    config: ClientConfig,
    r: &EditRequest,
) -> (Result<Vec<EditResult>, RunwareError>, Vec<SubmitEvent>) {
    let client = Client::new(config, ApiKey::new(KEY).unwrap()).unwrap();
    let mut events = Vec::new();
    let mut on_event = |e: SubmitEvent| events.push(e);
    let cancel = CancellationToken::new();
    let run = client.submit(r, Uuid::new_v4(), &cancel, &mut on_event);
    // A hang is a failure: every fault must end by the client's own deadlines well before.
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the client hung on a misbehaving server");
    assert_memory_bounded();
    (out, events)
}

fn reasons(events: &[SubmitEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            SubmitEvent::Retrying { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_dropped_answer_is_asked_for_and_never_paid_twice() {
    let server = FaultServer::start(Fault::DropAfterSend);
    let (out, events) = submit_to(&server, config(&server.url), &request(1)).await;
    let results = out.unwrap();
    assert_eq!(results.len(), 1);
    assert!(touchup::imageio::decode(&results[0].bytes).is_ok());
    // One task ran upstream; the client asked for it instead of sending it again.
    assert_eq!(server.inner.with(|s| s.inference_attempts()), 1);
    assert!(server.inner.with(|s| s.polls) >= 1);
    let said = reasons(&events).join(" | ");
    assert!(said.contains("instead of sending it again"), "{said}");
}

#[tokio::test]
async fn what_never_arrived_is_sent_again_once_runware_says_it_does_not_know_it() {
    let server = FaultServer::start(Fault::CloseBeforeRead);
    let (out, events) = submit_to(&server, config(&server.url), &request(1)).await;
    assert_eq!(out.unwrap().len(), 1);
    // The first try never reached the stand-in; the second did, once.
    assert_eq!(server.inner.with(|s| s.inference_attempts()), 1);
    let said = reasons(&events).join(" | ");
    assert!(said.contains("never arrived: it is sent again"), "{said}");
}

#[tokio::test]
async fn a_connection_reset_halfway_through_every_answer_is_a_clear_error() {
    let server = FaultServer::start(Fault::ResetMidBody);
    let (out, _) = submit_to(&server, config(&server.url), &request(1)).await;
    let err = out.unwrap_err();
    assert!(matches!(err, RunwareError::Connect(_)), "{err:?}");
    assert!(err.to_string().contains("broke off"), "{err}");
    // Sent once; after that only asked about.
    assert_eq!(server.inner.with(|s| s.inference_attempts()), 1);
}

#[tokio::test]
async fn a_body_that_trickles_forever_is_cut_off() {
    let server = FaultServer::start(Fault::Trickle);
    let (out, _) = submit_to(&server, config(&server.url), &request(1)).await;
    let err = out.unwrap_err();
    assert!(matches!(err, RunwareError::Timeout(_)), "{err:?}");
    assert!(err.to_string().contains("did not arrive in full"), "{err}");
    // Sent once; after that only asked about (getResponse, which trickles too).
    assert_eq!(server.with(|s| s.inference_requests), 1);
    assert!(server.with(|s| s.spoiled) > 1);
}

#[tokio::test]
async fn json_nested_too_deep_is_garbage_not_a_stack_overflow() {
    let server = FaultServer::start(Fault::DeepJson(200_000));
    let (out, _) = submit_to(&server, config(&server.url), &request(1)).await;
    let err = out.unwrap_err();
    assert!(matches!(err, RunwareError::Garbage(_)), "{err:?}");
    assert!(err.to_string().contains("recursion limit"), "{err}");
}

#[tokio::test]
async fn ten_thousand_items_keep_what_was_asked_and_say_so() {
    let server = FaultServer::start(Fault::ManyItems(10_000));
    let mut events = Vec::new();
    let client = Client::new(config(&server.url), ApiKey::new(KEY).unwrap()).unwrap();
    let mut on_event = |e: SubmitEvent| events.push(e);
    let out = client
        .submit(
            &request(2),
            Uuid::new_v4(),
            &CancellationToken::new(),
            &mut on_event,
        )
        .await;
    let err = out.unwrap_err();
    assert!(err.to_string().contains("holds 10000 pictures"), "{err}");
    let got = events
        .iter()
        .filter(|e| matches!(e, SubmitEvent::Result(_)))
        .count();
    assert_eq!(got, 2);
    // Only two were fetched.
    assert_eq!(server.inner.with(|s| s.downloads), 2);
    assert_memory_bounded();
}

async fn bad_result(bad: BadResult) -> RunwareError {
    let server = FaultServer::start(Fault::Results { bad, from: 0 });
    // Deadlines far off: these check the caps, whatever the machine's load.
    let mut cfg = config(&server.url);
    cfg.read_timeout = Duration::from_secs(30);
    cfg.body_timeout = Duration::from_secs(40);
    let (out, _) = submit_to(&server, cfg, &request(1)).await;
    out.unwrap_err()
}

#[tokio::test]
async fn a_result_of_two_gigabytes_is_refused_from_its_length() {
    let err = bad_result(BadResult::Huge).await;
    assert!(matches!(err, RunwareError::Download { .. }), "{err:?}");
    assert!(err.to_string().contains("2048 MiB"), "{err}");
}

#[tokio::test]
async fn a_result_that_never_ends_is_cut_at_the_cap() {
    let err = bad_result(BadResult::Endless).await;
    assert!(matches!(err, RunwareError::Download { .. }), "{err:?}");
    assert!(err.to_string().contains("over the 64 MiB limit"), "{err}");
}

#[tokio::test]
async fn a_decompression_bomb_result_is_refused_before_decoding() {
    let err = bad_result(BadResult::Bomb).await;
    assert!(matches!(err, RunwareError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("12000x12000"), "{err}");
}

#[tokio::test]
async fn a_result_cut_halfway_is_an_error_never_an_image() {
    let err = bad_result(BadResult::ResetHalfway).await;
    assert!(matches!(err, RunwareError::Download { .. }), "{err:?}");
    assert!(err.to_string().contains("broke off"), "{err}");
}

#[tokio::test]
async fn a_redirect_to_plain_http_elsewhere_is_refused() {
    let err = bad_result(BadResult::RedirectToPlainHttp).await;
    assert!(err.to_string().contains("refused a redirect"), "{err}");
    assert!(err.to_string().contains(PLAIN_HTTP_ELSEWHERE), "{err}");

    let server = FaultServer::start(Fault::RedirectToPlainHttp);
    let (out, events) = submit_to(&server, config(&server.url), &request(1)).await;
    let err = out.unwrap_err();
    assert!(matches!(err, RunwareError::Garbage(_)), "{err:?}");
    assert!(err.to_string().contains("refused a redirect"), "{err}");
    // Not retried: the answer was a redirect, not a network failure.
    assert!(reasons(&events).is_empty());
}

#[tokio::test]
async fn an_answer_over_the_size_cap_is_not_retried() {
    let server = FaultServer::start(Fault::None);
    server.inner.set_mode(Mode::Normal);
    let mut cfg = config(&server.url);
    cfg.max_body_bytes = 100;
    let mut r = request(1);
    r.settings.output_type = Some(OutputType::Base64Data);
    let (out, events) = submit_to(&server, cfg, &r).await;
    let err = out.unwrap_err();
    assert!(matches!(err, RunwareError::Garbage(_)), "{err:?}");
    assert!(err.to_string().contains("too large"), "{err}");
    assert!(reasons(&events).is_empty());
    assert_eq!(server.inner.with(|s| s.inference_attempts()), 1);
}

#[tokio::test]
async fn a_bmp_photo_is_sent_as_png() {
    let server = FaultServer::start(Fault::None);
    let img = image::RgbaImage::from_fn(W, H, |x, y| image::Rgba([x as u8, y as u8, 9, 255]));
    let mut bmp = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img.clone())
        .into_rgb8()
        .write_to(&mut bmp, image::ImageFormat::Bmp)
        .unwrap();
    let mut r = request(1);
    r.seed_image = Some(ImageInput::bytes(bmp.into_inner()));
    let (out, _) = submit_to(&server, config(&server.url), &r).await;
    out.unwrap();
    let sent = server
        .inner
        .with(|s| s.bodies[0][0]["inputs"]["seedImage"].clone());
    let sent = sent.as_str().unwrap();
    assert!(sent.starts_with("data:image/png;base64,"), "{sent:.40}");
    let pixels =
        touchup::imageio::decode(&touchup::imageio::parse_data_uri(sent).unwrap()).unwrap();
    assert_eq!(pixels, img);
}

// ---- the CLI: one line, non-zero, and what arrived stays on disk ----

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

fn touchup(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_touchup"))
        .current_dir(dir)
        .arg("edit")
        .args(args)
        .env("RUNWARE_API_URL", url)
        .env("RUNWARE_API_KEY", KEY)
        .env("TOUCHUP_NO_KEYRING", "1")
        .env("TOUCHUP_RETRY_BASE_MS", "5")
        .env("TOUCHUP_POLL_FIRST_MS", "5")
        .env("TOUCHUP_READ_TIMEOUT_MS", "800")
        .env("TOUCHUP_BODY_TIMEOUT_MS", "800")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn results_already_received_stay_on_disk_when_a_later_one_breaks() {
    let server = FaultServer::start(Fault::Results {
        bad: BadResult::ResetHalfway,
        from: 1,
    });
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let o = touchup(
        dir.path(),
        &server.url,
        &[
            "--image",
            "photo.png",
            "--mask",
            "mask.png",
            "--prompt",
            "x",
            "--results",
            "2",
            "--out",
            "out",
        ],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    let last = err.trim().lines().last().unwrap();
    assert!(last.starts_with("touchup: "), "{err}");
    assert!(last.contains("1 picture(s) already saved"), "{err}");
    let out = dir.path().join("out");
    assert!(touchup::imageio::open(&out.join("result-1.png")).is_ok());
    assert!(!out.join("result-2.png").exists());
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(index["results"].as_array().unwrap().len(), 1);
}

#[test]
fn a_truncated_photo_is_refused_in_one_line_before_anything_is_sent() {
    let server = FaultServer::start(Fault::None);
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let img = image::RgbaImage::from_fn(40, 30, |x, y| {
        image::Rgba([
            (x * 37 % 255) as u8,
            (y * 91 % 255) as u8,
            (x ^ y) as u8,
            255,
        ])
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img)
        .into_rgb8()
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let jpeg = jpeg.into_inner();
    std::fs::write(dir.path().join("photo.jpg"), &jpeg[..jpeg.len() / 2]).unwrap();
    let o = touchup(
        dir.path(),
        &server.url,
        &[
            "--image",
            "photo.jpg",
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
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("photo.jpg is truncated: about "), "{err}");
    assert!(err.contains(" % of it is missing"), "{err}");
    assert_eq!(server.inner.with(|s| s.bodies.len()), 0);
}

#[test]
fn a_grey_jpeg_mask_given_with_a_request_is_sent_as_the_exported_png() {
    let server = FaultServer::start(Fault::None);
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    // A soft-edged mask saved as JPEG: full of greys.
    let soft = image::GrayImage::from_fn(40, 30, |x, _| image::Luma([(x * 6) as u8]));
    soft.save(dir.path().join("soft.jpg")).unwrap();
    let photo = std::fs::read(dir.path().join("photo.png")).unwrap();
    let task = serde_json::json!({
        "taskType": "imageInference", "taskUUID": Uuid::new_v4().to_string(),
        "model": "ideogram:4@3", "positivePrompt": "Write OPEN",
        "inputs": {"seedImage": touchup::imageio::data_uri(&photo, "image/png")},
    });
    std::fs::write(dir.path().join("task.json"), task.to_string()).unwrap();
    let o = touchup(
        dir.path(),
        &server.url,
        &[
            "--request",
            "task.json",
            "--mask",
            "soft.jpg",
            "--out",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(server.inner.with(|s| s.rejections.is_empty()));
    let sent = server
        .inner
        .with(|s| s.bodies[0][0]["inputs"]["maskImage"].clone());
    let sent = sent.as_str().unwrap();
    assert!(sent.starts_with("data:image/png;base64,"), "{sent:.40}");
    let mask = touchup::imageio::decode(&touchup::imageio::parse_data_uri(sent).unwrap()).unwrap();
    assert_eq!(mask.dimensions(), (40, 30));
    // Only 0 and 255, thresholded at mid-grey as the editor exports: x * 6 >= 128 from x = 22.
    for (x, _, p) in mask.enumerate_pixels() {
        let want = if x >= 22 { 255 } else { 0 };
        assert_eq!(p.0[..3], [want; 3], "x = {x}");
    }
}

#[test]
fn a_ttl_with_inline_output_is_sent_with_a_note_and_old_style_types_are_kept() {
    let server = FaultServer::start(Fault::None);
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let photo = std::fs::read(dir.path().join("photo.png")).unwrap();
    let task = |extra: serde_json::Value| {
        let mut t = serde_json::json!({
            "taskType": "imageInference", "taskUUID": Uuid::new_v4().to_string(),
            "model": "ideogram:4@3", "positivePrompt": "Write OPEN",
            "inputs": {"seedImage": touchup::imageio::data_uri(&photo, "image/png")},
        });
        for (k, v) in extra.as_object().unwrap() {
            t[k] = v.clone();
        }
        t.to_string()
    };
    std::fs::write(
        dir.path().join("ttl.json"),
        task(serde_json::json!({"ttl": 3600, "outputType": "base64Data"})),
    )
    .unwrap();
    let o = touchup(
        dir.path(),
        &server.url,
        &[
            "--request",
            "ttl.json",
            "--mask",
            "mask.png",
            "--out",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("note: TTL (--request): a TTL applies only to URL output"),
        "{err}"
    );
    let sent = server.inner.with(|s| s.bodies[0][0].clone());
    assert_eq!(sent["ttl"], 3600);
    assert_eq!(sent["outputType"], "base64Data");

    // RENDER_3D imports, is kept and sent as written, with a warning; the (strict) stand-in
    // refuses it as Ideogram 3.0 may.
    std::fs::write(
        dir.path().join("render.json"),
        task(serde_json::json!({"providerSettings": {"ideogram": {"styleType": "RENDER_3D"}}})),
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.path().join("render.json")).unwrap();
    let imported = EditRequest::from_task_json(&text).unwrap();
    assert_eq!(
        imported.settings.style_type.map(|t| t.as_api()),
        Some("RENDER_3D")
    );
    assert_eq!(
        imported.warnings()[0].field,
        touchup::edit::Field::StyleType
    );
    let o = touchup(
        dir.path(),
        &server.url,
        &[
            "--request",
            "render.json",
            "--mask",
            "mask.png",
            "--out",
            "out2",
        ],
    );
    let err = stderr(&o);
    assert!(
        err.contains("RENDER_3D is an Ideogram 1.0/2.x style type"),
        "{err}"
    );
    assert!(!o.status.success());
    let sent = server.inner.with(|s| s.bodies[1][0].clone());
    assert_eq!(
        sent["providerSettings"]["ideogram"]["styleType"],
        "RENDER_3D"
    );
}
