//! Reading the text in a photo offline: PaddleOCR's detector and recogniser (ONNX, Apache-2.0,
//! in `assets/models/`) run on the CPU with tract. The detector finds text lines as rotated
//! boxes that follow the sign's angle; the recogniser reads each line (greedy CTC, restricted
//! to one script). On top of that: masking chosen lines, matching `--text-match` strings, and
//! the lettering check of an edited result against the prompt's quoted strings.
//!
//! Cost: the models load once per process ([`reader`]; call it off the UI thread). Detection
//! takes about 1 s for a 1600x1200 or a 12 MP photo on two cores in a release build (larger
//! photos are area-averaged down to at most [`DETECT_MAX_SIDE`] pixels on their long side, the
//! matrix products use every core); reading runs one line per core, about 0.1 s for five lines.
//! Figures: `benches/README.md`.

mod check;
mod engine;
mod geometry;
mod matching;
mod recognise;
mod resample;

use serde::Serialize;

use crate::mask::{Combine, DirtyRect, Mask, shapes};

pub use check::{LetteringCheck, StringCheck, check_lettering, check_result};
pub use engine::{DETECT_MAX_SIDE, TextReader, model_dir, reader};
pub use geometry::BoxOptions;
pub use matching::{
    CompareOptions, Difference, DifferenceKind, Distance, distance, lines_matching, normalise,
    prompt_cares_about_case, tolerance,
};

/// Four corners in image pixels: top-left, top-right, bottom-right, bottom-left, in the
/// line's reading direction.
pub type Quad = [[f32; 2]; 4];

/// Why text could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TextError {
    #[error("{0}")]
    ModelsMissing(crate::assets::ModelMissing),
    #[error("could not load the text model {0}: {1}")]
    Model(&'static str, String),
    #[error("the text model failed on this image: {0}")]
    Run(String),
}

/// A detected line of text: a rotated box.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextBox {
    pub corners: Quad,
    /// Angle of the reading direction in degrees, clockwise from the x axis (y points down).
    pub angle: f32,
    /// The detector's mean probability inside the box, 0..1.
    pub score: f32,
}

/// A detected line and what was read in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextLine {
    pub text: String,
    /// The recogniser's confidence, 0..1 (mean of the kept characters' probabilities).
    pub confidence: f32,
    #[serde(rename = "box")]
    pub area: TextBox,
}

impl TextBox {
    fn from_rect(r: &geometry::RotatedRect, score: f32) -> Self {
        Self {
            corners: r.corners(),
            angle: r.uy.atan2(r.ux).to_degrees(),
            score,
        }
    }

    /// Length along the reading direction.
    pub fn width(&self) -> f32 {
        dist(self.corners[0], self.corners[1])
    }

    /// Height across the reading direction.
    pub fn height(&self) -> f32 {
        dist(self.corners[0], self.corners[3])
    }

    pub fn centre(&self) -> [f32; 2] {
        let c = &self.corners;
        [
            (c[0][0] + c[1][0] + c[2][0] + c[3][0]) / 4.0,
            (c[0][1] + c[1][1] + c[2][1] + c[3][1]) / 4.0,
        ]
    }

    /// Axis-aligned extent (x0, y0, x1, y1).
    pub fn bounds(&self) -> (f32, f32, f32, f32) {
        let xs = self.corners.map(|p| p[0]);
        let ys = self.corners.map(|p| p[1]);
        (
            xs.iter().copied().fold(f32::MAX, f32::min),
            ys.iter().copied().fold(f32::MAX, f32::min),
            xs.iter().copied().fold(f32::MIN, f32::max),
            ys.iter().copied().fold(f32::MIN, f32::max),
        )
    }

    /// The box grown by `margin` pixels on every side.
    pub fn outline(&self, margin: f32) -> Quad {
        let c = self.corners;
        let unit = |a: [f32; 2], b: [f32; 2]| {
            let d = dist(a, b).max(1e-6);
            [(b[0] - a[0]) / d, (b[1] - a[1]) / d]
        };
        let u = unit(c[0], c[1]);
        let v = unit(c[0], c[3]);
        let at = |p: [f32; 2], su: f32, sv: f32| {
            [
                p[0] + margin * (su * u[0] + sv * v[0]),
                p[1] + margin * (su * u[1] + sv * v[1]),
            ]
        };
        [
            at(c[0], -1.0, -1.0),
            at(c[1], 1.0, -1.0),
            at(c[2], 1.0, 1.0),
            at(c[3], -1.0, 1.0),
        ]
    }

    /// Does the point (image pixels) lie inside the box grown by `margin`? (Hover and click.)
    pub fn contains(&self, x: f32, y: f32, margin: f32) -> bool {
        let q = self.outline(margin);
        shapes::contains(&q.map(|p| (p[0], p[1])), x, y)
    }

    fn offset(&mut self, dx: f32, dy: f32) {
        for p in &mut self.corners {
            p[0] += dx;
            p[1] += dy;
        }
    }
}

impl TextLine {
    pub fn height(&self) -> f32 {
        self.area.height()
    }

    pub fn bounds(&self) -> (f32, f32, f32, f32) {
        self.area.bounds()
    }
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Sorts boxes top to bottom, then left to right within a band of about half a line height.
pub(crate) fn reading_order(boxes: &mut [TextBox]) {
    boxes.sort_by(|a, b| a.centre()[1].total_cmp(&b.centre()[1]));
    let mut start = 0;
    while start < boxes.len() {
        let band = boxes[start].height() * 0.5;
        let top = boxes[start].centre()[1];
        let mut end = start + 1;
        while end < boxes.len() && boxes[end].centre()[1] - top <= band {
            end += 1;
        }
        boxes[start..end].sort_by(|a, b| a.centre()[0].total_cmp(&b.centre()[0]));
        start = end;
    }
}

/// Which characters the recogniser may output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Script {
    /// Latin letters, digits, punctuation and symbols (the default).
    #[default]
    Latin,
    /// Unaccented Latin letters (A-Z), digits, punctuation and symbols: for expected strings
    /// without accents, so that a plain "i" or "e" is not read as "í" or "é".
    Ascii,
    Cyrillic,
    Greek,
    /// Everything the model knows (18,000 characters, mostly Chinese).
    Any,
}

impl Script {
    /// The script the expected strings are written in: unaccented Latin when their letters
    /// are all A-Z (or there are none), Latin when they are all Latin, Cyrillic or Greek
    /// likewise, otherwise any.
    pub fn of<S: AsRef<str>>(strings: &[S]) -> Script {
        let letters: Vec<char> = strings
            .iter()
            .flat_map(|s| s.as_ref().chars())
            .filter(|c| c.is_alphabetic())
            .collect();
        for script in [
            Script::Ascii,
            Script::Latin,
            Script::Cyrillic,
            Script::Greek,
        ] {
            if letters.iter().all(|&c| script.allows(c)) {
                return script;
            }
        }
        Script::Any
    }

    /// May the recogniser output `c`?
    pub fn allows(self, c: char) -> bool {
        let u = c as u32;
        let common = c.is_ascii_graphic()
            || c == ' '
            || (0x00A0..=0x00BF).contains(&u)
            || (0x2010..=0x205F).contains(&u)
            || (0x20A0..=0x20CF).contains(&u)
            || (0x2100..=0x214F).contains(&u);
        let ascii_letter = c.is_ascii_alphabetic();
        match self {
            Script::Any => true,
            Script::Latin => {
                common || (0x00C0..=0x024F).contains(&u) || (0x1E00..=0x1EFF).contains(&u)
            }
            Script::Ascii => common,
            Script::Cyrillic => (common && !ascii_letter) || (0x0400..=0x052F).contains(&u),
            Script::Greek => (common && !ascii_letter) || (0x0370..=0x03FF).contains(&u),
        }
    }
}

/// Keeps the lines that lie mostly inside the marked area of `mask` (see [`box_in_mask`]).
pub fn lines_in_mask(lines: Vec<TextLine>, mask: &Mask) -> Vec<TextLine> {
    lines
        .into_iter()
        .filter(|l| box_in_mask(&l.area, mask))
        .collect()
}

/// Whether a box lies mostly inside the marked area of `mask`: at least half of a 5x5 grid of
/// points over the box is marked.
pub fn box_in_mask(area: &TextBox, mask: &Mask) -> bool {
    let c = area.corners;
    let mut inside = 0;
    let n = 5;
    for i in 0..n {
        for j in 0..n {
            let (s, t) = ((i as f32 + 0.5) / n as f32, (j as f32 + 0.5) / n as f32);
            let x = c[0][0] + s * (c[1][0] - c[0][0]) + t * (c[3][0] - c[0][0]);
            let y = c[0][1] + s * (c[1][1] - c[0][1]) + t * (c[3][1] - c[0][1]);
            if x >= 0.0 && y >= 0.0 && mask.is_marked(x as u32, y as u32) {
                inside += 1;
            }
        }
    }
    inside * 2 >= n * n
}

/// The rectangle of the mask that marking `boxes` grown by `margin` can change (for the undo
/// history: `MaskEditor::apply(label, text::outline_bounds(..), ..)`).
pub fn outline_bounds<'a>(
    boxes: impl IntoIterator<Item = &'a TextBox>,
    margin: f32,
    mask: &Mask,
) -> Option<DirtyRect> {
    let mut out: Option<DirtyRect> = None;
    for b in boxes {
        let q = b.outline(margin);
        let xs = q.map(|p| p[0]);
        let ys = q.map(|p| p[1]);
        let fmin = |v: [f32; 4]| v.iter().copied().fold(f32::MAX, f32::min);
        let fmax = |v: [f32; 4]| v.iter().copied().fold(f32::MIN, f32::max);
        let r = DirtyRect::clip(
            fmin(xs).floor() as i64 - 1,
            fmin(ys).floor() as i64 - 1,
            fmax(xs).ceil() as i64 + 1,
            fmax(ys).ceil() as i64 + 1,
            mask.width(),
            mask.height(),
        );
        if let Some(r) = r {
            out = Some(out.map_or(r, |o| o.union(r)));
        }
    }
    out
}

/// Marks (or with [`Combine::Subtract`] unmarks) each box grown by `margin` pixels, as
/// anti-aliased polygons. Returns the changed rectangle. Microseconds per box; the GUI calls
/// it inside `MaskEditor::apply` so that it is one undo step.
pub fn mark_boxes<'a>(
    mask: &mut Mask,
    boxes: impl IntoIterator<Item = &'a TextBox>,
    margin: f32,
    combine: Combine,
) -> Option<DirtyRect> {
    let mut out: Option<DirtyRect> = None;
    for b in boxes {
        let q = b.outline(margin).map(|p| (p[0], p[1]));
        if let Some(r) = shapes::fill_polygon(mask, &q, combine) {
            out = Some(out.map_or(r, |o| o.union(r)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Script;

    #[test]
    fn the_expected_strings_choose_the_narrowest_script() {
        assert_eq!(Script::of(&["OPEN 7AM-3PM", "2.50 €"]), Script::Ascii);
        assert_eq!(Script::of::<&str>(&[]), Script::Ascii);
        assert_eq!(Script::of(&["Café"]), Script::Latin);
        assert_eq!(Script::of(&["Кафе 24"]), Script::Cyrillic);
        assert_eq!(Script::of(&["καφέ"]), Script::Greek);
        assert_eq!(Script::of(&["咖啡"]), Script::Any);
        assert!(Script::Ascii.allows('e') && !Script::Ascii.allows('é'));
        assert!(Script::Ascii.allows('€') && Script::Ascii.allows('&'));
        assert!(Script::Latin.allows('é'));
    }
}
