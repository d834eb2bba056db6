//! Re-lettering a sign in its own style. For each text line found inside the mask: the old
//! strokes are told from the panel behind them ([`analyse`]), their style is measured
//! ([`measure`]), the strokes alone are erased (grown by a pixel or two and filled from the
//! ground right around them), and the prompt's quoted strings are drawn in that style
//! ([`draw`]).
//!
//! Strings and lines are paired in reading order. When the prompt quotes fewer strings than
//! there are lines, the strings go to the largest lines; the remaining lines of like size
//! (at least half the area of the smallest line written) are erased and left blank, smaller
//! ones (small print the mask also covers) are left as they are; when it quotes more, the
//! extra strings go on new lines below the last one, at the old line pitch (1.5 cap heights
//! when there was one line), each only if it fits inside the mask.

pub mod analyse;
pub mod draw;
pub mod faces;
pub mod measure;

use image::RgbaImage;

use crate::mask::{DirtyRect, Mask};
use crate::text::{Quad, TextLine};

pub use analyse::{Analysis, Frame};
pub use faces::Face;
pub use measure::{Alignment, Case, LineStyle};

/// What happened to one old line.
#[derive(Debug, Clone, PartialEq)]
pub struct Relettered {
    /// What the recogniser read there.
    pub old: String,
    /// The string drawn in its place (`None`: erased only, or not drawn).
    pub new: Option<String>,
    pub style: LineStyle,
    pub face: Face,
    /// "white italic sans, 38 px caps, 4° up, centred".
    pub description: String,
    /// Pixels of old strokes erased.
    pub erased: usize,
    /// Where the new string's ink lies.
    pub area: Option<DirtyRect>,
    pub colour: [u8; 3],
}

/// Joins boxes that the detector split along one line (same band, similar height and angle,
/// a gap under a line height), so that one string replaces the whole line.
pub fn merge_split_lines(lines: Vec<TextLine>) -> Vec<TextLine> {
    let mut out: Vec<TextLine> = Vec::new();
    for line in lines {
        let joined = out.iter_mut().rev().take(1).any(|prev| {
            let f = Frame::from_quad(&prev.area.corners);
            let g = Frame::from_quad(&line.area.corners);
            let (s, t) = f.to_line(line.area.corners[0][0], line.area.corners[0][1]);
            let similar = (g.height / f.height - 1.0).abs() < 0.35
                && (f.angle() - g.angle()).abs() < 4.0
                && t.abs() < 0.35 * f.height
                && s > f.length - 0.5 * f.height
                && s < f.length + 1.2 * f.height;
            if similar {
                let mut corners = prev.area.corners;
                let end = line.area.corners;
                let reach = f.to_line(end[1][0], end[1][1]).0.max(f.length);
                let top = f.to_image(reach, 0.0);
                let bottom = f.to_image(reach, f.height);
                corners[1] = [top.0, top.1];
                corners[2] = [bottom.0, bottom.1];
                prev.area.corners = corners;
                prev.text = format!("{} {}", prev.text, line.text);
            }
            similar
        });
        if !joined {
            out.push(line);
        }
    }
    out
}

/// Re-letters `lines` (inside `mask`, in reading order) with `strings`. `original` is read for
/// the old lettering; `image` (a copy of it) is written, inside the mask only. `colour` overrides the measured ink.
/// An empty result means no line had lettering to work with (the caller falls back to
/// filling the whole mask).
pub fn reletter(
    original: &RgbaImage,
    image: &mut RgbaImage,
    mask: &Mask,
    lines: &[TextLine],
    strings: &[String],
    colour: Option<[u8; 3]>,
    seed: u64,
) -> Vec<Relettered> {
    let mut found: Vec<(Analysis, LineStyle, &TextLine)> = Vec::new();
    for line in lines {
        let Some(a) = Analysis::of(original, &line.area.corners) else {
            tracing::debug!(text = %line.text, "no lettering told from its ground");
            continue;
        };
        let Some(style) = measure::measure(&a, original, mask, &line.text) else {
            continue;
        };
        found.push((a, style, line));
    }
    // The strings go to the largest lines (in reading order); a line much smaller than those
    // (small print that the mask also covers) is left alone, a line of like size is erased.
    let area = |a: &Analysis| a.frame.length * a.frame.height;
    let mut by_size: Vec<usize> = (0..found.len()).collect();
    by_size.sort_by(|&i, &j| area(&found[j].0).total_cmp(&area(&found[i].0)));
    let wanted = strings.len().min(found.len()).max(1);
    let smallest = by_size.get(wanted - 1).map_or(0.0, |&i| area(&found[i].0));
    let keep: Vec<bool> = (0..found.len())
        .map(|i| by_size[..wanted].contains(&i) || area(&found[i].0) >= 0.5 * smallest)
        .collect();
    let mut k = 0;
    found.retain(|_| {
        k += 1;
        keep[k - 1]
    });
    // Which string each kept line gets: the largest lines, in reading order.
    let mut by_size: Vec<usize> = (0..found.len()).collect();
    by_size.sort_by(|&i, &j| area(&found[j].0).total_cmp(&area(&found[i].0)));
    let mut written: Vec<usize> = by_size.into_iter().take(strings.len()).collect();
    written.sort_unstable();
    let string_of = |line: usize| {
        written
            .iter()
            .position(|&w| w == line)
            .and_then(|k| strings.get(k))
    };
    let mut out = Vec::new();
    // Erase every old line first, so that a new line never lands on old ink.
    let mut erased = Vec::new();
    for (k, (a, style, _)) in found.iter().enumerate() {
        let grow = (1.0 + style.edge).round().clamp(2.0, 4.0) as i64;
        erased.push(a.erase(image, mask, grow, seed.wrapping_add(k as u64)));
    }
    for (k, ((a, style, line), erased)) in found.iter().zip(erased).enumerate() {
        let recipe = draw::choose(style, &line.text);
        let ink = colour.unwrap_or(style.ink);
        let text = string_of(k);
        let drawn = match (text, recipe) {
            (Some(text), Some(recipe)) => {
                draw::draw(image, mask, &a.frame, style, &recipe, text, ink, 0.0, seed)
            }
            _ => None,
        };
        let face = recipe.map_or(Face::SansBold, |r| r.face);
        out.push(Relettered {
            old: line.text.clone(),
            new: drawn.as_ref().and(text.cloned()),
            style: style.clone(),
            face,
            description: style.describe(face.kind()),
            erased,
            area: drawn.map(|d| d.area),
            colour: ink,
        });
    }
    // Strings beyond the old lines: below the last one.
    if let Some((a, style, line)) = found.last()
        && strings.len() > found.len()
    {
        let pitch = if found.len() >= 2 {
            let prev = &found[found.len() - 2];
            let (pa, pb) = (
                prev.0.frame.to_image(0.0, prev.1.baseline_t0),
                a.frame.to_image(0.0, style.baseline_t0),
            );
            ((pb.0 - pa.0).powi(2) + (pb.1 - pa.1).powi(2)).sqrt()
        } else {
            1.5 * style.cap_height
        };
        let recipe = draw::choose(style, &line.text);
        for (j, text) in strings[found.len()..].iter().enumerate() {
            let Some(recipe) = recipe else { break };
            let shift = pitch * (j + 1) as f32;
            let ink = colour.unwrap_or(style.ink);
            // Try on a copy: only kept when it fits inside the mask.
            let mut trial = image.clone();
            let fits = draw::draw(
                &mut trial, mask, &a.frame, style, &recipe, text, ink, shift, seed,
            )
            .filter(|d| d.clipped < 0.02);
            if let Some(d) = fits {
                *image = trial;
                out.push(Relettered {
                    old: String::new(),
                    new: Some(text.clone()),
                    style: style.clone(),
                    face: recipe.face,
                    description: style.describe(recipe.face.kind()),
                    erased: 0,
                    area: Some(d.area),
                    colour: ink,
                });
            } else {
                tracing::warn!(text = %text, "no room in the mask for an extra line of text");
            }
        }
    }
    out
}

/// What the re-lettering measures of a line, in words ("white sans, 38 px caps, 4° up,
/// centred"), as the Text tool shows it; `None` when its lettering cannot be told from its
/// ground. The room the line may take is its own box grown by half its height.
pub fn describe_line(image: &RgbaImage, line: &TextLine) -> Option<String> {
    let a = Analysis::of(image, &line.area.corners)?;
    let mut room = Mask::new(image.width(), image.height());
    let grow = (a.frame.height * 0.5).max(2.0);
    crate::text::mark_boxes(
        &mut room,
        std::iter::once(&line.area),
        grow,
        crate::mask::Combine::Add,
    );
    let style = measure::measure(&a, image, &room, &line.text)?;
    let face = draw::choose(&style, &line.text).map_or(Face::SansBold, |r| r.face);
    Some(style.describe(face.kind()))
}

/// A text line from a bare box (for callers that know where the lettering is).
pub fn line_at(corners: Quad, text: &str) -> TextLine {
    let f = Frame::from_quad(&corners);
    TextLine {
        text: text.to_string(),
        confidence: 1.0,
        area: crate::text::TextBox {
            corners,
            angle: f.angle(),
            score: 1.0,
        },
    }
}

#[cfg(test)]
mod tests;
