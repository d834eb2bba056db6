//! `touchup batch`, the real binary, against the stand-in Runware server: the concurrency
//! limit as the server counts it, a refused line failing alone, `--resume`, `--dry-run`, a 429
//! storm, mask operations in key order and Ctrl-C.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use support::{KEY, Mode, StandIn};

const W: u32 = 40;
const H: u32 = 30;

fn write_inputs(dir: &Path) {
    let img = image::RgbaImage::from_fn(W, H, |x, y| {
        image::Rgba([x as u8 * 6, y as u8 * 8, 120, 255])
    });
    img.save(dir.join("photo.png")).unwrap();
    let mask = image::GrayImage::from_fn(W, H, |x, y| {
        let marked = (10..30).contains(&x) && (5..15).contains(&y);
        image::Luma([if marked { 255 } else { 0 }])
    });
    mask.save(dir.join("mask.png")).unwrap();
    image::GrayImage::new(W + 3, H)
        .save(dir.join("wrong.png"))
        .unwrap();
}

fn command(dir: &Path, server: &StandIn, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_touchup"));
    cmd.current_dir(dir)
        .arg("batch")
        .args(args)
        .env("RUNWARE_API_URL", &server.url)
        .env("RUNWARE_API_KEY", KEY)
        .env("TOUCHUP_NO_KEYRING", "1")
        .env("TOUCHUP_RETRY_BASE_MS", "5")
        .env("TOUCHUP_POLL_FIRST_MS", "5");
    cmd
}

fn batch(dir: &Path, server: &StandIn, args: &[&str]) -> Output {
    command(dir, server, args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn write_manifest(dir: &Path, lines: &[Value]) {
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    // The manifest lives in a subfolder: its paths are relative to it, not to the cwd.
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::write(dir.join("jobs/manifest.jsonl"), text.join("\n") + "\n").unwrap();
}

/// Six lines over the same photo; line `refused` (1-based) carries the marker the stand-in
/// refuses when told to.
fn six_lines(refused: Option<usize>) -> Vec<Value> {
    (1..=6)
        .map(|i| {
            let prompt = if Some(i) == refused {
                format!("Write 'SALE {i}' REFUSE-ME")
            } else {
                format!("Write 'SALE {i}' on the sign")
            };
            json!({"name": format!("shop-{i}"), "image": "../photo.png", "mask": "../mask.png",
                   "prompt": prompt, "include-cost": true, "format": "png"})
        })
        .collect()
}

fn read_report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("out/batch.json")).unwrap()).unwrap()
}

fn states(report: &Value) -> Vec<String> {
    report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["state"].as_str().unwrap().to_string())
        .collect()
}

/// The most lines running at once, from the state lines on stderr.
fn most_running(err: &str) -> usize {
    let mut running = std::collections::HashSet::new();
    let mut most = 0;
    for line in err.lines() {
        let Some((who, state)) = line.split_once("): ") else {
            continue;
        };
        let state = state.split(' ').next().unwrap_or("").trim_end_matches(':');
        match state {
            "sending" | "waiting" | "receiving" => {
                running.insert(who.to_string());
            }
            "done" | "failed" | "cancelled" => {
                running.remove(who);
            }
            _ => {}
        }
        most = most.max(running.len());
    }
    most
}

const MANIFEST: &str = "jobs/manifest.jsonl";

#[test]
fn six_lines_with_concurrency_three_run_at_most_three_at_once() {
    let server = StandIn::start();
    server.set_mode(Mode::Slow(std::time::Duration::from_millis(300)));
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    write_manifest(dir.path(), &six_lines(None));
    let o = batch(
        dir.path(),
        &server,
        &[MANIFEST, "--out", "out", "--concurrency", "3"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let max = server.with(|s| s.concurrency.max());
    assert!(max <= 3, "{max} requests at once");
    assert!(max >= 2, "the lines ran one by one ({max})");
    assert!(most_running(&stderr(&o)) <= 3, "{}", stderr(&o));
    assert_eq!(server.with(|s| s.inference_attempts()), 6);
    let report = read_report(dir.path());
    assert_eq!(states(&report), vec!["done"; 6]);
    assert!((report["total_cost"].as_f64().unwrap() - 0.54).abs() < 1e-9);
    for i in 1..=6 {
        let line = &report["lines"][i - 1];
        assert_eq!(line["line"], i);
        assert_eq!(line["files"], json!([format!("shop-{i}/result-1.png")]));
        assert_eq!(line["seeds"], json!([1000]));
        assert_eq!(
            line["outside_mask_changed_fraction"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert!(line["error"].is_null());
        let folder = dir.path().join(format!("out/shop-{i}"));
        for f in [
            "result-1.png",
            "result-1.raw.png",
            "compare.png",
            "results.json",
        ] {
            assert!(folder.join(f).exists(), "{}", folder.join(f).display());
        }
    }
    // Each line sent its own prompt once.
    let prompts: std::collections::BTreeSet<String> = server.with(|s| {
        s.bodies
            .iter()
            .map(|b| b[0]["positivePrompt"].as_str().unwrap().to_string())
            .collect()
    });
    assert_eq!(prompts.len(), 6);
    // stdout: the saved results.
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 6);
}

#[test]
fn a_refused_line_fails_alone_and_resume_sends_only_it_again() {
    let server = StandIn::start();
    server.with(|s| s.refuse_prompt = Some("REFUSE-ME".into()));
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    write_manifest(dir.path(), &six_lines(Some(4)));
    let o = batch(dir.path(), &server, &[MANIFEST, "--out", "out"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("line 4 (shop-4): failed: the Runware edit failed"),
        "{err}"
    );
    assert!(
        err.contains("invalidPositivePrompt") && err.contains("--prompt"),
        "{err}"
    );
    let last = err.trim().lines().last().unwrap();
    assert!(
        last.starts_with("touchup: 1 of 6 lines did not succeed (line 4)"),
        "{last}"
    );
    let report = read_report(dir.path());
    assert_eq!(
        states(&report),
        vec!["done", "done", "done", "failed", "done", "done"]
    );
    let failed = &report["lines"][3];
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("invalidPositivePrompt")
    );
    assert_eq!(failed["unclear"], false);
    assert_eq!(report["failed"], 1);
    assert_eq!(server.with(|s| s.inference_attempts()), 6);

    // The service takes it now: --resume sends line 4 and nothing else.
    server.with(|s| s.refuse_prompt = None);
    let o = batch(dir.path(), &server, &[MANIFEST, "--out", "out", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sent: Vec<String> = server.with(|s| {
        s.bodies[6..]
            .iter()
            .map(|b| b[0]["positivePrompt"].as_str().unwrap().to_string())
            .collect()
    });
    assert_eq!(sent, vec!["Write 'SALE 4' REFUSE-ME".to_string()]);
    assert!(stderr(&o).contains("line 1 (shop-1): done in the earlier run, skipped"));
    let report = read_report(dir.path());
    assert_eq!(states(&report), vec!["done"; 6]);
    assert!(report["lines"][3]["error"].is_null());
    assert_eq!(report["finished"], true);
}

#[test]
fn dry_run_sends_nothing_and_names_the_line_with_a_wrong_size_mask() {
    let server = StandIn::start();
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let mut lines = six_lines(None);
    lines[2]["mask"] = json!("../wrong.png");
    lines[4]["results"] = json!(30);
    write_manifest(dir.path(), &lines);
    let o = batch(
        dir.path(),
        &server,
        &[MANIFEST, "--out", "out", "--dry-run"],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    let line3 = err
        .lines()
        .find(|l| l.starts_with("line 3 (shop-3): "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line3.contains("does not fit") && line3.contains("40x30"),
        "{line3}"
    );
    assert!(
        err.contains("line 5 (shop-5): ") && err.contains("--results"),
        "{err}"
    );
    assert!(err.contains("line 1 (shop-1): ok"), "{err}");
    assert!(err.contains("(line 3, 5)"), "{err}");
    assert_eq!(server.with(|s| s.bodies.len()), 0);
    assert!(!dir.path().join("out").exists(), "a dry run writes nothing");
}

#[test]
fn a_429_storm_slows_the_whole_batch_and_still_finishes() {
    let server = StandIn::start();
    server.set_mode(Mode::TooManyRequests(8));
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    write_manifest(dir.path(), &six_lines(None));
    let o = batch(
        dir.path(),
        &server,
        &[MANIFEST, "--out", "out", "--concurrency", "3"],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("Runware is busy (HTTP 429): the whole batch waits"),
        "{err}"
    );
    assert_eq!(states(&read_report(dir.path())), vec!["done"; 6]);
    // Every refused attempt was a 429 and every line got through once: nothing ran twice.
    let uuids = server.with(|s| s.inference_uuids.clone());
    assert_eq!(uuids.len(), 6 + 8);
    let distinct: std::collections::BTreeSet<&String> = uuids.iter().collect();
    assert_eq!(distinct.len(), 6);
}

#[test]
fn mask_operations_apply_in_the_order_of_the_keys() {
    let server = StandIn::start();
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    // Written by hand: json! would sort the keys.
    std::fs::create_dir_all(dir.path().join("jobs")).unwrap();
    std::fs::write(
        dir.path().join(MANIFEST),
        concat!(
            r#"{"image": "../photo.png", "rect": "10,5,20,10", "invert": true, "prompt": "a"}"#,
            "\n\n",
            r#"{"image": "../photo.png", "invert": true, "rect": ["10,5,20,10", "0,0,2,2"], "prompt": "b"}"#,
            "\n",
        ),
    )
    .unwrap();
    let o = batch(
        dir.path(),
        &server,
        &[MANIFEST, "--out", "out", "--concurrency", "1"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let masks: Vec<image::GrayImage> = server.with(|s| {
        s.bodies
            .iter()
            .map(|b| {
                let uri = b[0]["inputs"]["maskImage"].as_str().unwrap();
                let png = touchup::imageio::parse_data_uri(uri).unwrap();
                image::load_from_memory(&png).unwrap().to_luma8()
            })
            .collect()
    });
    let prompts: Vec<String> = server.with(|s| {
        s.bodies
            .iter()
            .map(|b| b[0]["positivePrompt"].as_str().unwrap().to_string())
            .collect()
    });
    let a = &masks[prompts.iter().position(|p| p == "a").unwrap()];
    let b = &masks[prompts.iter().position(|p| p == "b").unwrap()];
    // rect then invert: everything but the rectangle is edited.
    assert_eq!(a.get_pixel(0, 0).0[0], 255);
    assert_eq!(a.get_pixel(15, 8).0[0], 0);
    // invert then rect: everything is edited.
    assert!(b.pixels().all(|p| p.0[0] == 255));
    // Without a name, the folder is the line number (blank lines keep their number).
    assert!(dir.path().join("out/1/result-1.png").exists());
    assert!(dir.path().join("out/3/result-1.png").exists());
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_what_runs_and_leaves_batch_json_true() {
    let server = StandIn::start();
    server.set_mode(Mode::Slow(std::time::Duration::from_secs(30)));
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    write_manifest(dir.path(), &six_lines(None));
    let child = command(dir.path(), &server, &[MANIFEST, "--out", "out"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until two requests are at the server.
    for _ in 0..600 {
        if server.with(|s| s.concurrency.now()) >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(server.with(|s| s.concurrency.now()), 2);
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("stopped by Ctrl-C"), "{err}");
    let report = read_report(dir.path());
    assert_eq!(report["finished"], true);
    assert_eq!(report["stopped"], true);
    assert_eq!(states(&report), vec!["cancelled"; 6]);
    // Only the two running lines were ever sent.
    assert_eq!(server.with(|s| s.inference_attempts()), 2);
}

#[test]
fn a_line_whose_answer_timed_out_is_asked_for_not_sent_again() {
    // The answer is late (5 s) and the client stops waiting after 100 ms: Runware goes on
    // with the task, so the batch asks for its result (getResponse) instead of paying twice.
    let server = StandIn::start();
    server.set_mode(Mode::Slow(std::time::Duration::from_secs(5)));
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    write_manifest(dir.path(), &six_lines(None)[..1]);
    let o = command(dir.path(), &server, &[MANIFEST, "--out", "out"])
        .env("TOUCHUP_READ_TIMEOUT_MS", "100")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("instead of sending it again"), "{err}");
    assert_eq!(
        server.with(|s| s.inference_attempts()),
        1,
        "the task was sent once"
    );
    let line = &read_report(dir.path())["lines"][0];
    assert_eq!(line["state"], "done");
    assert_eq!(line["resent_after_unclear"], false);
}
