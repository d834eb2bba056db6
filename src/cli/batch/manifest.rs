//! The manifest of `touchup batch`: JSON Lines, one edit a line. Each line's keys are
//! `image`, a `mask` file or mask operations (`rect`, `polygon`, `stroke`, `wand`, `grow`,
//! `shrink`, `fill-holes`, `invert`, `text`, `text-match`, `object`, `object-exclude`,
//! `object-box`; applied in the order of the keys; `text-margin` grows the text lines;
//! consecutive object keys are one prompt), `prompt`, an optional
//! `name`, and any option of `touchup edit` under its long flag's name. Relative paths are
//! relative to the manifest.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, FromArgMatches};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::super::edit::EditArgs;
use super::super::mask::{OPERATIONS, Op, check_text_margin, parse_op};

/// A JSON object with its keys in the order written (serde_json's map sorts them).
struct Ordered(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `touchup edit` options a line may give, with whether each takes a value.
const OPTIONS: [(&str, bool); 22] = [
    ("image", true),
    ("mask", true),
    ("prompt", true),
    ("style-preset", true),
    ("style-type", true),
    ("rendering-speed", true),
    ("magic-prompt", true),
    ("style-code", true),
    ("results", true),
    ("format", true),
    ("quality", true),
    ("include-cost", false),
    ("async", false),
    ("polarity", true),
    ("backend", true),
    ("request", true),
    ("seed", true),
    ("feather", true),
    ("no-keep-outside", false),
    ("area", true),
    ("context", true),
    ("no-colour-match", false),
];

/// Options naming files (relative to the manifest).
const PATHS: [&str; 3] = ["image", "mask", "request"];

/// One line of the manifest, parsed.
pub(crate) struct Line {
    /// 1-based line number in the file.
    pub number: usize,
    /// The folder name under `--out` (`name`, else the line number).
    pub name: String,
    /// A digest of the line's text: `--resume` skips a done line only if it is unchanged.
    pub fingerprint: String,
    /// The line as `touchup edit` arguments (`--out DIR/<name>`).
    pub args: EditArgs,
    /// Mask operations, in key order.
    pub ops: Vec<Op>,
}

/// A line that could not be read, with its number and (when known) its name.
pub(crate) struct LineError {
    pub number: usize,
    pub name: String,
    pub message: String,
}

fn digest(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    d.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn scalar(key: &str, value: &Value) -> anyhow::Result<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => bail!("'{key}' must be a string or a number, not {other}"),
    }
}

/// Resolves a path of the manifest against its folder.
fn resolve(base: &Path, text: &str) -> String {
    let p = Path::new(text);
    if p.is_absolute() {
        text.to_string()
    } else {
        base.join(p).display().to_string()
    }
}

/// Whether a name can be a folder under `--out`.
fn check_name(name: &str) -> anyhow::Result<()> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '\0') || c.is_control());
    if bad || name == "batch.json" {
        bail!("'name' {name:?} cannot be a folder name; use letters, digits, '-' or '_'");
    }
    Ok(())
}

fn parse_line(
    number: usize,
    text: &str,
    base: &Path,
    out: &Path,
) -> Result<Line, (String, anyhow::Error)> {
    let fallback = number.to_string();
    let Ordered(fields) = serde_json::from_str(text)
        .map_err(|e| (fallback.clone(), anyhow::anyhow!("not a JSON object: {e}")))?;
    let name = match fields.iter().find(|(k, _)| k == "name") {
        Some((_, Value::String(n))) => n.clone(),
        Some((_, Value::Number(n))) => n.to_string(),
        Some((_, other)) => {
            return Err((
                fallback,
                anyhow::anyhow!("'name' must be a string, not {other}"),
            ));
        }
        None => fallback,
    };
    let fail = |e: anyhow::Error| (name.clone(), e);
    check_name(&name).map_err(fail)?;
    let mut argv: Vec<String> = vec!["line".into()];
    let mut ops = Vec::new();
    // The text margin applies to every text operation of the line, wherever it is written.
    let text_margin = match fields
        .iter()
        .find(|(k, _)| k.replace('_', "-") == "text-margin")
    {
        None => 2.0,
        Some((_, Value::Number(n))) => n.as_f64().unwrap_or(f64::NAN) as f32,
        Some((_, Value::String(s))) => s.trim().parse().unwrap_or(f32::NAN),
        Some((_, other)) => {
            return Err(fail(anyhow::anyhow!(
                "'text-margin' must be a number of pixels, not {other}"
            )));
        }
    };
    let text_margin = check_text_margin(text_margin).map_err(fail)?;
    for (key, value) in &fields {
        let key = key.replace('_', "-");
        if key == "name" || key == "text-margin" {
            continue;
        }
        if key == "out" {
            return Err(fail(anyhow::anyhow!(
                "'out' is set by touchup batch (--out DIR/<name>); remove it"
            )));
        }
        if OPERATIONS.contains(&key.as_str()) {
            let texts: Vec<Value> = match value {
                Value::Array(items) => items.clone(),
                Value::Bool(false) | Value::Null => Vec::new(),
                Value::Bool(true) => vec![Value::String(String::new())],
                other => vec![other.clone()],
            };
            for t in &texts {
                let t = match t {
                    Value::String(s) if s.is_empty() => String::new(),
                    other => scalar(&key, other).map_err(fail)?,
                };
                ops.push(parse_op(&key, &t, text_margin).map_err(fail)?);
            }
            continue;
        }
        let Some(&(_, takes_value)) = OPTIONS.iter().find(|(k, _)| *k == key) else {
            return Err(fail(anyhow::anyhow!(
                "unknown key '{key}'; a line takes name, {}, {}, text-margin",
                OPTIONS.map(|(k, _)| k).join(", "),
                OPERATIONS.join(", ")
            )));
        };
        match (value, takes_value) {
            (Value::Null | Value::Bool(false), _) => {}
            (Value::Bool(true), false) => argv.push(format!("--{key}")),
            (v, false) => {
                return Err(fail(anyhow::anyhow!(
                    "'{key}' is a switch: give true or false, not {v}"
                )));
            }
            (v, true) => {
                let mut text = scalar(&key, v).map_err(fail)?;
                if PATHS.contains(&key.as_str()) {
                    text = resolve(base, &text);
                }
                argv.push(format!("--{key}={text}"));
            }
        }
    }
    if !ops.is_empty() && fields.iter().any(|(k, _)| k == "mask") {
        return Err(fail(anyhow::anyhow!(
            "give either a 'mask' file or mask operations, not both"
        )));
    }
    argv.push(format!("--out={}", out.join(&name).display()));
    let command = EditArgs::augment_args(clap::Command::new("line").no_binary_name(false));
    let matches = command
        .try_get_matches_from(&argv)
        .map_err(|e| fail(anyhow::anyhow!("{}", clap_line(&e))))?;
    let args = EditArgs::from_arg_matches(&matches)
        .map_err(|e| fail(anyhow::anyhow!("{}", clap_line(&e))))?;
    Ok(Line {
        number,
        name,
        fingerprint: digest(text.trim()),
        args,
        ops,
    })
}

/// clap's message on one line, without its usage and help hints.
fn clap_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or("").trim();
    first
        .trim_start_matches("error: ")
        .replace(" '--", " '")
        .to_string()
}

/// Reads every line of `path`: the lines that parse, and the errors of those that do not
/// (blank lines are skipped, their numbers kept). Names must be unique.
pub(crate) fn read(
    path: &Path,
    out: &Path,
) -> anyhow::Result<(Vec<Line>, Vec<LineError>, PathBuf)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the manifest {}", path.display()))?;
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let base = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    };
    let mut lines = Vec::new();
    let mut errors: Vec<LineError> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match parse_line(number, raw, &base, out) {
            Ok(line) => {
                if let Some(other) = lines.iter().find(|l: &&Line| l.name == line.name) {
                    errors.push(LineError {
                        number,
                        name: line.name.clone(),
                        message: format!(
                            "the name '{}' is already used by line {}; names must be unique",
                            line.name, other.number
                        ),
                    });
                } else {
                    lines.push(line);
                }
            }
            Err((name, e)) => errors.push(LineError {
                number,
                name,
                message: super::super::one_line(&e),
            }),
        }
    }
    if lines.is_empty() && errors.is_empty() {
        bail!("the manifest {} holds no line", path.display());
    }
    Ok((lines, errors, base))
}
