//! Reading one line: the rotated box is sampled upright at the recogniser's height (48 px),
//! normalised like the detector's input, and the per-step class scores are decoded greedily
//! (CTC: repeats merged, blanks dropped), choosing only among the allowed script's classes.

use std::sync::OnceLock;

use image::RgbaImage;
use tract_onnx::prelude::Tensor;

use super::{Script, TextBox, TextError};

/// The recogniser's input height.
pub const LINE_HEIGHT: usize = 48;
/// Inputs are at least this wide (PaddleOCR's 320 x 48), padded with grey.
const MIN_WIDTH: usize = 320;
/// The widest line read (longer lines are squeezed).
const MAX_WIDTH: usize = 1920;
/// Padded widths, so that a dozen plans serve every line. Short lines, the most common, get
/// steps of 80 px: padding costs recognition time in proportion.
pub const WIDTHS: [usize; 10] = [320, 400, 480, 560, 640, 800, 960, 1120, 1440, 1920];

/// The recogniser's classes: 0 is the CTC blank, then the model's character list, then space.
pub struct Alphabet {
    classes: Vec<String>,
    allowed: [OnceLock<Vec<usize>>; 5],
}

impl Alphabet {
    pub fn new(characters: Vec<String>) -> Self {
        let mut classes = Vec::with_capacity(characters.len() + 2);
        classes.push(String::new());
        classes.extend(characters);
        classes.push(" ".to_string());
        Self {
            classes,
            allowed: Default::default(),
        }
    }

    /// The classes `script` allows (the blank always), in order, computed once per script.
    pub fn allowed(&self, script: Script) -> &[usize] {
        let slot = match script {
            Script::Latin => 0,
            Script::Cyrillic => 1,
            Script::Greek => 2,
            Script::Any => 3,
            Script::Ascii => 4,
        };
        self.allowed[slot].get_or_init(|| {
            self.classes
                .iter()
                .enumerate()
                .filter(|(i, c)| {
                    *i == 0 || (!c.is_empty() && c.chars().all(|ch| script.allows(ch)))
                })
                .map(|(i, _)| i)
                .collect()
        })
    }

    /// Greedy CTC decoding of `steps` x `classes` scores, among `allowed` classes only:
    /// the text and the mean score of its characters.
    pub fn decode(&self, scores: &[f32], classes: usize, allowed: &[usize]) -> (String, f32) {
        let mut text = String::new();
        let mut sum = 0.0f32;
        let mut kept = 0usize;
        let mut previous = 0usize;
        for step in scores.chunks_exact(classes) {
            let mut best = 0usize;
            let mut best_score = f32::MIN;
            for &k in allowed {
                if let Some(&s) = step.get(k)
                    && s > best_score
                {
                    best = k;
                    best_score = s;
                }
            }
            if best != 0
                && best != previous
                && let Some(c) = self.classes.get(best)
            {
                text.push_str(c);
                sum += best_score;
                kept += 1;
            }
            previous = best;
        }
        let confidence = if kept == 0 { 0.0 } else { sum / kept as f32 };
        (text.trim().to_string(), confidence)
    }
}

/// One line sampled upright at [`LINE_HEIGHT`]: three planes (BGR, normalised to -1..1) of
/// `LINE_HEIGHT` x `width` values, not yet padded.
pub struct LineSamples {
    pub width: usize,
    data: Vec<f32>,
}

/// The padded input width for a line `width` wide: the smallest of [`WIDTHS`] that holds it.
pub fn padded_width(width: usize) -> usize {
    WIDTHS
        .iter()
        .copied()
        .find(|&p| p >= width.max(MIN_WIDTH))
        .unwrap_or(MAX_WIDTH)
}

/// Samples the box upright at [`LINE_HEIGHT`], as wide as its aspect asks (at most
/// `MAX_WIDTH`: longer lines are squeezed).
pub fn sample_line(image: &RgbaImage, area: &TextBox) -> LineSamples {
    let c = area.corners;
    let (w, h) = (area.width().max(1.0), area.height().max(1.0));
    let target = ((LINE_HEIGHT as f32 * w / h).ceil() as usize).clamp(8, MAX_WIDTH);
    let mut data = vec![0.0f32; 3 * LINE_HEIGHT * target];
    if image.width() == 0 || image.height() == 0 {
        return LineSamples {
            width: target,
            data,
        };
    }
    let step = h / LINE_HEIGHT as f32;
    // Supersample when shrinking so that thin strokes are not lost between samples.
    let sub = (step.ceil() as usize).clamp(1, 4);
    let (iw, ih) = (image.width() as i64, image.height() as i64);
    let fetch = |x: i64, y: i64| {
        let p = image.get_pixel(x.clamp(0, iw - 1) as u32, y.clamp(0, ih - 1) as u32);
        [p[0] as f32, p[1] as f32, p[2] as f32]
    };
    let bilinear = |x: f32, y: f32| {
        let (x, y) = (x - 0.5, y - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let a = fetch(x0, y0);
        let b = fetch(x0 + 1, y0);
        let cc = fetch(x0, y0 + 1);
        let d = fetch(x0 + 1, y0 + 1);
        let mut out = [0.0f32; 3];
        for k in 0..3 {
            let top = a[k] + (b[k] - a[k]) * fx;
            let bottom = cc[k] + (d[k] - cc[k]) * fx;
            out[k] = top + (bottom - top) * fy;
        }
        out
    };
    let u = [(c[1][0] - c[0][0]) / w, (c[1][1] - c[0][1]) / w];
    let v = [(c[3][0] - c[0][0]) / h, (c[3][1] - c[0][1]) / h];
    // Source pixels per output pixel along the line and across it.
    let (su, sv) = (w / target as f32, h / LINE_HEIGHT as f32);
    let plane = LINE_HEIGHT * target;
    for oy in 0..LINE_HEIGHT {
        for ox in 0..target {
            let mut acc = [0.0f32; 3];
            for j in 0..sub {
                for i in 0..sub {
                    let a = (ox as f32 + (i as f32 + 0.5) / sub as f32) * su;
                    let b = (oy as f32 + (j as f32 + 0.5) / sub as f32) * sv;
                    let x = c[0][0] + a * u[0] + b * v[0];
                    let y = c[0][1] + a * u[1] + b * v[1];
                    // Shrinking, the taps already average the footprint: the nearest
                    // pixel serves (a quarter of a bilinear tap's reads).
                    let p = if sub > 1 {
                        fetch(x.floor() as i64, y.floor() as i64)
                    } else {
                        bilinear(x, y)
                    };
                    for k in 0..3 {
                        acc[k] += p[k];
                    }
                }
            }
            let n = (sub * sub) as f32;
            let at = oy * target + ox;
            // BGR order.
            data[at] = acc[2] / n / 127.5 - 1.0;
            data[plane + at] = acc[1] / n / 127.5 - 1.0;
            data[2 * plane + at] = acc[0] / n / 127.5 - 1.0;
        }
    }
    LineSamples {
        width: target,
        data,
    }
}

/// The line as a `[1, 3, LINE_HEIGHT, width]` input, padded on the right with 0 (grey);
/// `width` should hold the line (a wider line is cut).
pub fn line_tensor(line: &LineSamples, width: usize) -> Result<Tensor, TextError> {
    let plane = LINE_HEIGHT * width;
    let mut data = vec![0.0f32; 3 * plane];
    let lw = line.width.min(width);
    let src_plane = LINE_HEIGHT * line.width;
    for k in 0..3 {
        for y in 0..LINE_HEIGHT {
            let from = k * src_plane + y * line.width;
            let to = k * plane + y * width;
            data[to..to + lw].copy_from_slice(&line.data[from..from + lw]);
        }
    }
    Tensor::from_shape(&[1, 3, LINE_HEIGHT, width], &data)
        .map_err(|e| TextError::Run(format!("{e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_ctc_merges_repeats_drops_blanks_and_obeys_the_script() {
        let a = Alphabet::new(vec!["A".into(), "B".into(), "中".into()]);
        // classes: 0 blank, 1 A, 2 B, 3 中, 4 space
        let step = |k: usize, s: f32| {
            let mut v = vec![0.0f32; 5];
            v[k] = s;
            v
        };
        let mut scores = Vec::new();
        for (k, s) in [(1, 0.9), (1, 0.8), (0, 0.9), (1, 0.7), (4, 0.9), (2, 0.6)] {
            scores.extend(step(k, s));
        }
        // A step where 中 wins overall but B is the best Latin class.
        let mut last = step(3, 0.9);
        last[2] = 0.5;
        scores.extend(step(0, 0.9));
        scores.extend(last);
        let (text, _) = a.decode(&scores, 5, a.allowed(Script::Any));
        assert_eq!(text, "AA B中");
        let (text, conf) = a.decode(&scores, 5, a.allowed(Script::Latin));
        assert_eq!(text, "AA BB");
        assert!((conf - (0.9 + 0.7 + 0.9 + 0.6 + 0.5) / 5.0).abs() < 1e-5);
    }
}
