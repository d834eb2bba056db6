//! `touchup batch` with the local engine and no key: the concurrency limit (from the state
//! lines on stderr), a failing line that fails alone, `--resume`, `--dry-run`, and results
//! that keep every pixel outside the mask.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

const W: u32 = 48;
const H: u32 = 36;

fn photo() -> image::RgbaImage {
    image::RgbaImage::from_fn(W, H, |x, y| {
        image::Rgba([(x * 5) as u8, (y * 7) as u8, ((x * y) % 251) as u8, 255])
    })
}

fn write_inputs(dir: &Path) {
    photo().save(dir.join("photo.png")).unwrap();
    let mask = image::GrayImage::from_fn(W, H, |x, y| {
        let marked = (12..36).contains(&x) && (8..24).contains(&y);
        image::Luma([if marked { 255 } else { 0 }])
    });
    mask.save(dir.join("mask.png")).unwrap();
    image::GrayImage::new(W, H + 1)
        .save(dir.join("wrong.png"))
        .unwrap();
}

fn batch(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_touchup"))
        .current_dir(dir)
        .arg("batch")
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

fn write_manifest(dir: &Path, lines: &[Value]) {
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(dir.join("manifest.jsonl"), text.join("\n") + "\n").unwrap();
}

/// Six lines; line `whole` (1-based) marks the whole photo, which the local engine cannot
/// fill from anything.
fn six_lines(whole: Option<usize>) -> Vec<Value> {
    (1..=6)
        .map(|i| {
            let mut line = json!({"image": "photo.png", "prompt": format!("'OPEN {i}'"),
                                  "seed": i, "name": format!("menu-{i}")});
            if Some(i) == whole {
                line["rect"] = json!(format!("0,0,{W},{H}"));
            } else {
                line["mask"] = json!("mask.png");
            }
            line
        })
        .collect()
}

fn report(dir: &Path) -> Value {
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
        match state.split([' ', ':']).next().unwrap_or("") {
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

#[test]
fn six_local_lines_run_three_at_a_time_and_keep_the_outside() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    write_manifest(dir.path(), &six_lines(None));
    let o = batch(
        dir.path(),
        &["manifest.jsonl", "--out", "out", "--concurrency", "3"],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("local engine"), "{err}");
    let most = most_running(&err);
    assert!((1..=3).contains(&most), "{most}: {err}");
    let r = report(dir.path());
    assert_eq!(states(&r), vec!["done"; 6]);
    let original = photo();
    for i in 1..=6 {
        let line = &r["lines"][i - 1];
        assert_eq!(line["engine"], "local");
        assert_eq!(line["seeds"], json!([i]));
        assert!(line["cost"].is_null());
        assert_eq!(line["outside_mask_changed_fraction"], json!([0.0]));
        let result = image::open(dir.path().join(format!("out/menu-{i}/result-1.png")))
            .unwrap()
            .to_rgba8();
        for (x, y, p) in result.enumerate_pixels() {
            let marked = (12..36).contains(&x) && (8..24).contains(&y);
            if !marked {
                assert_eq!(p, original.get_pixel(x, y), "line {i} at {x},{y}");
            }
        }
        assert!(
            dir.path()
                .join(format!("out/menu-{i}/compare.png"))
                .exists()
        );
    }
    assert_eq!(r["total_cost"], 0.0);
}

#[test]
fn a_failing_local_line_fails_alone_and_resume_runs_only_it() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    write_manifest(dir.path(), &six_lines(Some(2)));
    let o = batch(dir.path(), &["manifest.jsonl", "--out", "out"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(
            "line 2 (menu-2): failed: the local edit failed: the mask covers the whole image"
        ),
        "{err}"
    );
    let r = report(dir.path());
    assert_eq!(
        states(&r),
        vec!["done", "failed", "done", "done", "done", "done"]
    );
    let first_run = std::fs::read(dir.path().join("out/menu-1/result-1.png")).unwrap();

    // Line 2 fixed: --resume runs it and leaves the done lines alone.
    write_manifest(dir.path(), &six_lines(None));
    let o = batch(dir.path(), &["manifest.jsonl", "--out", "out", "--resume"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let ran: std::collections::BTreeSet<&str> =
        err.lines().filter(|l| l.ends_with("): waiting")).collect();
    assert_eq!(ran.len(), 1, "{err}");
    assert!(ran.contains("line 2 (menu-2): waiting"), "{err}");
    assert_eq!(
        err.matches("done in the earlier run, skipped").count(),
        5,
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("out/menu-1/result-1.png")).unwrap(),
        first_run
    );
    assert_eq!(states(&report(dir.path())), vec!["done"; 6]);
}

#[test]
fn dry_run_checks_every_line_and_names_the_wrong_size_mask() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let mut lines = six_lines(None);
    lines[3]["mask"] = json!("wrong.png");
    lines[5]["image"] = json!("missing.png");
    lines.push(json!({"image": "photo.png", "mask": "mask.png", "prompt": "x", "colour": "red"}));
    write_manifest(dir.path(), &lines);
    let o = batch(dir.path(), &["manifest.jsonl", "--out", "out", "--dry-run"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    let find = |prefix: &str| {
        err.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}: {err}"))
            .to_string()
    };
    assert!(find("line 4 (menu-4): ").contains("does not fit"), "{err}");
    let missing = find("line 6 (menu-6): ");
    assert!(
        missing.contains("missing.png") && missing.contains("no such file"),
        "{missing}"
    );
    assert!(find("line 7: ").contains("unknown key 'colour'"), "{err}");
    assert!(
        find("line 1 (menu-1): ").contains("ok (local, 1 picture)"),
        "{err}"
    );
    assert!(
        err.contains("dry run: 4 of 7 lines are valid; nothing was sent"),
        "{err}"
    );
    assert!(!dir.path().join("out").exists());
}
