//! The lettering check: each string the prompt quotes is matched to its best reading among the
//! lines read (alone or joined with neighbours), with the letters that differ and a score.

use serde::Serialize;

use super::matching::{CompareOptions, Difference, distance, readings};
use super::{Quad, TextLine};

/// How one expected string was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StringCheck {
    /// The string the prompt quotes.
    pub expected: String,
    /// The best reading ("" when nothing was read).
    pub read: String,
    /// Letters that differ (a look-alike O/0, I/1 counts as one, and is never exact).
    pub distance: u32,
    pub exact: bool,
    /// The recogniser's confidence in the reading, 0..1.
    pub confidence: f32,
    /// 0..1: 1 for an exact, confident reading; falls with each wrong letter (a look-alike
    /// costs half a letter) and with low confidence.
    pub score: f32,
    /// Each letter that differs, where, and what was read instead.
    pub differences: Vec<Difference>,
    /// Indices of the lines that make up the reading.
    pub lines: Vec<usize>,
    /// Where the string was found: a box around those lines (image pixels).
    #[serde(rename = "box")]
    pub quad: Option<Quad>,
}

/// The lettering of one image against the prompt's quoted strings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LetteringCheck {
    /// How many strings were read exactly.
    pub exact: usize,
    /// How many strings were expected.
    pub total: usize,
    /// Mean of the strings' scores, 0..1 (1 when nothing was expected).
    pub score: f32,
    /// One line for people: "Lettering 3/3 exact" or the misreadings.
    pub summary: String,
    pub strings: Vec<StringCheck>,
}

impl StringCheck {
    /// "'OPEN 7AN-3PM' for 'OPEN 7AM-3PM', 1 letter", "'OPEN' exact" or "'OPEN' not found".
    pub fn describe(&self) -> String {
        if self.exact {
            format!("'{}' exact", self.expected)
        } else if self.read.is_empty() {
            format!("'{}' not found", self.expected)
        } else {
            let unit = if self.distance == 1 {
                "letter"
            } else {
                "letters"
            };
            format!(
                "'{}' for '{}', {} {unit}",
                self.read, self.expected, self.distance
            )
        }
    }
}

/// Matches every `expected` string to its best reading among `lines` (the lines alone and
/// runs of up to four neighbours). Costs microseconds: call it freely.
pub fn check_lettering(
    expected: &[String],
    lines: &[TextLine],
    options: CompareOptions,
) -> LetteringCheck {
    let candidates = readings(lines, 4);
    let strings: Vec<StringCheck> = expected
        .iter()
        .map(|want| check_one(want, lines, &candidates, options))
        .collect();
    let exact = strings.iter().filter(|s| s.exact).count();
    let total = strings.len();
    let score = if total == 0 {
        1.0
    } else {
        strings.iter().map(|s| s.score).sum::<f32>() / total as f32
    };
    let summary = if exact == total {
        format!("Lettering {exact}/{total} exact")
    } else {
        let wrong: Vec<String> = strings
            .iter()
            .filter(|s| !s.exact)
            .map(StringCheck::describe)
            .collect();
        format!("Lettering {exact}/{total} exact: {}", wrong.join("; "))
    };
    LetteringCheck {
        exact,
        total,
        score,
        summary,
        strings,
    }
}

fn check_one(
    want: &str,
    lines: &[TextLine],
    candidates: &[super::matching::Reading],
    options: CompareOptions,
) -> StringCheck {
    let want = super::matching::normalise(want);
    let mut best: Option<(f32, &super::matching::Reading, super::matching::Distance)> = None;
    for c in candidates {
        let d = distance(&want, &c.text, options);
        let better = match &best {
            None => true,
            Some((cost, b, _)) => {
                d.cost < *cost - 1e-4 || (d.cost <= *cost + 1e-4 && c.confidence > b.confidence)
            }
        };
        if better {
            best = Some((d.cost, c, d));
        }
    }
    match best {
        Some((cost, reading, d)) => {
            let len = d.expected_len.max(1) as f32;
            let similarity = (1.0 - cost / len).max(0.0);
            StringCheck {
                expected: want,
                read: super::matching::normalise(&reading.text),
                distance: d.edits,
                exact: d.edits == 0,
                confidence: reading.confidence,
                score: (similarity * reading.confidence).clamp(0.0, 1.0),
                differences: d.differences,
                lines: reading.lines.clone(),
                quad: enclosing_quad(reading.lines.iter().map(|&i| &lines[i])),
            }
        }
        None => StringCheck {
            distance: want.chars().filter(|c| *c != ' ').count() as u32,
            expected: want,
            read: String::new(),
            exact: false,
            confidence: 0.0,
            score: 0.0,
            differences: Vec::new(),
            lines: Vec::new(),
            quad: None,
        },
    }
}

/// A box at the first line's angle around every corner of `lines`.
fn enclosing_quad<'a>(lines: impl Iterator<Item = &'a TextLine>) -> Option<Quad> {
    let lines: Vec<&TextLine> = lines.collect();
    let first = lines.first()?;
    let (s, c) = first.area.angle.to_radians().sin_cos();
    let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for l in &lines {
        for [x, y] in l.area.corners {
            let u = x * c + y * s;
            let v = -x * s + y * c;
            u0 = u0.min(u);
            u1 = u1.max(u);
            v0 = v0.min(v);
            v1 = v1.max(v);
        }
    }
    let back = |u: f32, v: f32| [u * c - v * s, u * s + v * c];
    Some([back(u0, v0), back(u1, v0), back(u1, v1), back(u0, v1)])
}

/// The lettering check of one edited result against its prompt: `None` when the prompt quotes
/// no string. Reads only inside the marked area of `mask` (what was edited). Loads the models
/// on first use; then about 0.3-1 s per result. Call it off the UI thread.
pub fn check_result(
    result: &image::RgbaImage,
    mask: &crate::mask::Mask,
    prompt: &str,
) -> Result<Option<LetteringCheck>, super::TextError> {
    let expected = crate::local::parse_prompt(prompt).lines;
    if expected.is_empty() {
        return Ok(None);
    }
    let reader = super::reader()?;
    let lines = reader.read_in_mask(result, mask, super::Script::of(&expected));
    // The detector's buffers are large and freed now: give them back.
    crate::memory::release_free();
    let lines = lines?;
    let options = CompareOptions {
        case_sensitive: super::matching::prompt_cares_about_case(prompt),
    };
    Ok(Some(check_lettering(&expected, &lines, options)))
}
