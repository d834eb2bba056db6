//! Comparing what was read with what the prompt asked for: normalisation (dashes, quotes,
//! whitespace, case), a weighted edit distance where O/0 and I/1 are near-misses (cheaper than
//! another letter, never exact), and the choice of the best reading for each expected string
//! among the lines and runs of neighbouring lines (the detector may split one sign line).

use serde::Serialize;

use super::TextLine;

/// How readings are compared with an expected string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompareOptions {
    /// Letter case counts (the prompt cares about it); otherwise "OPEN" matches "Open".
    pub case_sensitive: bool,
}

/// Dashes, quotes and spaces as the recogniser returns them: every dash is `-`, every single
/// quote `'`, every double quote `"`, runs of whitespace one space, trimmed.
pub fn normalise(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{00B4}' | '`'
            | '\u{FF07}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
            | '\u{00BB}' | '\u{FF02}' => '"',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Does the prompt say letter case matters ("in capitals", "uppercase", "exact case")?
pub fn prompt_cares_about_case(prompt: &str) -> bool {
    let lower = prompt.to_lowercase();
    [
        "uppercase",
        "upper case",
        "lowercase",
        "lower case",
        "capital",
        "all caps",
        "exact case",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// The characters compared: normalised, without spaces (the recogniser often drops or adds a
/// space between words), case-folded unless case counts. Each keeps its index in `shown`.
struct Folded {
    chars: Vec<char>,
    /// The character as written, for the report.
    original: Vec<char>,
    /// Index of each character in the normalised text (spaces included).
    at: Vec<usize>,
}

fn fold(normalised: &str, options: CompareOptions) -> Folded {
    let mut f = Folded {
        chars: Vec::new(),
        original: Vec::new(),
        at: Vec::new(),
    };
    for (i, c) in normalised.chars().enumerate() {
        if c == ' ' {
            continue;
        }
        let folded = if options.case_sensitive {
            c
        } else {
            c.to_lowercase().next().unwrap_or(c)
        };
        f.chars.push(folded);
        f.original.push(c);
        f.at.push(i);
    }
    f
}

/// O and 0, I, l and 1: read alike by people and by recognisers.
fn lookalike(a: char, b: char) -> bool {
    let class = |c: char| match c {
        'O' | 'o' | '0' => 1,
        'I' | 'l' | '1' | '|' => 2,
        _ => 0,
    };
    class(a) != 0 && class(a) == class(b)
}

/// What one edit changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Another letter stands in place of the expected one.
    Wrong,
    /// A look-alike (O/0, I/1) stands in place of the expected letter: a near-miss.
    Lookalike,
    /// The expected letter is missing.
    Missing,
    /// A letter that was not expected.
    Extra,
}

/// One letter that differs between the expected string and the reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub kind: DifferenceKind,
    /// Character index in the (normalised) expected string where it happens.
    pub at: usize,
    /// The expected letter ("" for an extra one).
    pub expected: String,
    /// The letter read ("" for a missing one).
    pub read: String,
}

/// The distance between an expected string and a reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Distance {
    /// Number of letters that differ (a near-miss counts as one).
    pub edits: u32,
    /// Weighted cost: 1 a letter, 0.5 a look-alike.
    pub cost: f32,
    pub differences: Vec<Difference>,
    /// Compared length of the expected string (letters, no spaces).
    pub expected_len: usize,
}

const NEAR_MISS_COST: f32 = 0.5;

/// Weighted edit distance between `expected` and `read` (both normalised first) with the
/// letters that differ.
pub fn distance(expected: &str, read: &str, options: CompareOptions) -> Distance {
    let e = fold(&normalise(expected), options);
    let r = fold(&normalise(read), options);
    let (n, m) = (e.chars.len(), r.chars.len());
    let sub_cost = |i: usize, j: usize| {
        if e.chars[i] == r.chars[j] {
            0.0
        } else if lookalike(e.original[i], r.original[j]) {
            NEAR_MISS_COST
        } else {
            1.0
        }
    };
    // Full table for the traceback; strings are sign lines, a few dozen letters.
    let w = m + 1;
    let mut d = vec![0.0f32; (n + 1) * w];
    for i in 0..=n {
        d[i * w] = i as f32;
    }
    for (j, cell) in d.iter_mut().take(m + 1).enumerate() {
        *cell = j as f32;
    }
    for i in 1..=n {
        for j in 1..=m {
            let diag = d[(i - 1) * w + j - 1] + sub_cost(i - 1, j - 1);
            let up = d[(i - 1) * w + j] + 1.0;
            let left = d[i * w + j - 1] + 1.0;
            d[i * w + j] = diag.min(up).min(left);
        }
    }
    let mut differences = Vec::new();
    let (mut i, mut j) = (n, m);
    let end_at = e.at.last().map_or(0, |a| a + 1);
    while i > 0 || j > 0 {
        let here = d[i * w + j];
        if i > 0 && j > 0 && (here - (d[(i - 1) * w + j - 1] + sub_cost(i - 1, j - 1))).abs() < 1e-4
        {
            let c = sub_cost(i - 1, j - 1);
            if c > 0.0 {
                differences.push(Difference {
                    kind: if c < 1.0 {
                        DifferenceKind::Lookalike
                    } else {
                        DifferenceKind::Wrong
                    },
                    at: e.at[i - 1],
                    expected: e.original[i - 1].to_string(),
                    read: r.original[j - 1].to_string(),
                });
            }
            i -= 1;
            j -= 1;
        } else if i > 0 && (here - (d[(i - 1) * w + j] + 1.0)).abs() < 1e-4 {
            differences.push(Difference {
                kind: DifferenceKind::Missing,
                at: e.at[i - 1],
                expected: e.original[i - 1].to_string(),
                read: String::new(),
            });
            i -= 1;
        } else {
            differences.push(Difference {
                kind: DifferenceKind::Extra,
                at: if i < n { e.at[i] } else { end_at },
                expected: String::new(),
                read: r.original[j - 1].to_string(),
            });
            j -= 1;
        }
    }
    differences.reverse();
    Distance {
        edits: differences.len() as u32,
        cost: d[n * w + m],
        differences,
        expected_len: n,
    }
}

/// A reading that may join several neighbouring lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub text: String,
    pub confidence: f32,
    /// Indices of the joined lines, in reading order.
    pub lines: Vec<usize>,
}

/// Are two lines next to each other on the sign (same line split in two, or the next line)?
fn neighbours(a: &TextLine, b: &TextLine) -> bool {
    let h = a.height().max(b.height()).max(1.0);
    let (ax0, ay0, ax1, ay1) = a.bounds();
    let (bx0, by0, bx1, by1) = b.bounds();
    let gap_x = (bx0 - ax1).max(ax0 - bx1).max(0.0);
    let gap_y = (by0 - ay1).max(ay0 - by1).max(0.0);
    gap_x <= 3.0 * h && gap_y <= 1.0 * h
}

/// Every line alone, and runs of up to `max_join` neighbouring lines (in reading order)
/// joined with a space.
pub fn readings(lines: &[TextLine], max_join: usize) -> Vec<Reading> {
    let mut out = Vec::new();
    for start in 0..lines.len() {
        let mut text = String::new();
        let mut weighted = 0.0f32;
        let mut letters = 0usize;
        let mut idx = Vec::new();
        for k in start..lines.len().min(start + max_join.max(1)) {
            if let Some(&last) = idx.last() {
                if !neighbours(&lines[last], &lines[k]) {
                    break;
                }
                text.push(' ');
            }
            let l = &lines[k];
            if l.text.trim().is_empty() {
                break;
            }
            text.push_str(&l.text);
            let n = l.text.chars().count().max(1);
            weighted += l.confidence * n as f32;
            letters += n;
            idx.push(k);
            out.push(Reading {
                text: text.clone(),
                confidence: weighted / letters as f32,
                lines: idx.clone(),
            });
        }
    }
    out
}

/// The edits allowed for "this line reads STRING" (`--text-match`): none up to 3 letters, then
/// one per five letters.
pub fn tolerance(expected_len: usize) -> f32 {
    if expected_len <= 3 {
        0.5
    } else {
        (expected_len as f32 / 5.0).floor().max(1.0)
    }
}

/// The lines whose reading (alone, any run of its words, or joined with neighbours) matches
/// `pattern` within [`tolerance`], case and dash insensitive.
pub fn lines_matching(lines: &[TextLine], pattern: &str) -> Vec<usize> {
    let options = CompareOptions::default();
    let mut hit = vec![false; lines.len()];
    let fits = |text: &str| {
        let d = distance(pattern, text, options);
        d.expected_len > 0 && d.cost <= tolerance(d.expected_len)
    };
    for reading in readings(lines, 3) {
        let words: Vec<&str> = reading.text.split_whitespace().collect();
        let any = if reading.lines.len() == 1 {
            (0..words.len()).any(|a| (a + 1..=words.len()).any(|b| fits(&words[a..b].join(" "))))
        } else {
            fits(&reading.text)
        };
        if any {
            for &i in &reading.lines {
                hit[i] = true;
            }
        }
    }
    (0..lines.len()).filter(|&i| hit[i]).collect()
}
