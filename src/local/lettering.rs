//! The prompt's quoted strings drawn into the filled region: one line per string, fitted to
//! the largest rectangle inside the mask with margins, centred, in a colour that contrasts
//! with the fill or one the prompt names.

use image::RgbaImage;

use super::LocalOptions;
use super::seeded_random::SeededRandom;
use crate::fonts::{TextBitmap, Typeface, render_line};
use crate::mask::{DirtyRect, Mask};

/// What the prompt asks to write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lettering {
    /// The quoted strings, in order; one line each.
    pub lines: Vec<String>,
    /// A colour named outside the quotes ("white letters"), if any.
    pub colour: Option<[u8; 3]>,
}

/// Where one line of text was drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct TextPlacement {
    pub text: String,
    pub typeface: Typeface,
    pub px: f32,
    /// The ink's box in image pixels.
    pub area: DirtyRect,
    pub colour: [u8; 3],
}

const COLOUR_WORDS: &[(&str, [u8; 3])] = &[
    ("black", [20, 20, 20]),
    ("white", [250, 250, 250]),
    ("red", [200, 30, 35]),
    ("green", [30, 140, 60]),
    ("blue", [30, 70, 180]),
    ("navy", [20, 35, 90]),
    ("yellow", [245, 210, 40]),
    ("gold", [212, 175, 55]),
    ("golden", [212, 175, 55]),
    ("orange", [240, 130, 30]),
    ("purple", [120, 50, 150]),
    ("pink", [235, 120, 170]),
    ("brown", [110, 70, 40]),
    ("grey", [128, 128, 128]),
    ("gray", [128, 128, 128]),
    ("silver", [192, 192, 200]),
    ("cream", [245, 235, 205]),
    ("teal", [0, 128, 128]),
    ("maroon", [120, 20, 30]),
    ("cyan", [0, 190, 210]),
    ("magenta", [200, 0, 150]),
];

/// Words that say a colour is meant for the text rather than for something else.
const TEXT_WORDS: &[&str] = &[
    "text",
    "letters",
    "lettering",
    "letter",
    "words",
    "word",
    "font",
    "type",
    "sign",
    "writing",
    "script",
    "caption",
    "title",
];

fn closing_quote(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '\'' => Some('\''),
        '\u{201C}' => Some('\u{201D}'),
        '\u{2018}' => Some('\u{2019}'),
        '\u{201E}' => Some('\u{201C}'),
        '\u{00AB}' => Some('\u{00BB}'),
        _ => None,
    }
}

/// Finds the quoted strings and a colour word in `prompt`. A straight or typographic quote
/// opens only after a non-letter and closes only before one, so "Joe's" stays a word.
pub fn parse_prompt(prompt: &str) -> Lettering {
    let chars: Vec<char> = prompt.chars().collect();
    let mut lines = Vec::new();
    let mut outside = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let opens = closing_quote(c).filter(|_| i == 0 || !chars[i - 1].is_alphanumeric());
        if let Some(close) = opens {
            let end = (i + 1..chars.len()).find(|&j| {
                (chars[j] == close || (close == '\u{201D}' && chars[j] == '"'))
                    && (j + 1 == chars.len() || !chars[j + 1].is_alphanumeric())
            });
            if let Some(end) = end {
                let text: String = chars[i + 1..end].iter().collect();
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                if !text.is_empty() {
                    lines.push(text);
                }
                outside.push(' ');
                i = end + 1;
                continue;
            }
        }
        outside.push(c);
        i += 1;
    }
    let words: Vec<String> = outside
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let colour_at = |k: usize| {
        COLOUR_WORDS
            .iter()
            .find(|(name, _)| *name == words[k])
            .map(|(_, rgb)| *rgb)
    };
    // Prefer a colour followed closely by a text word ("white letters", "in gold lettering").
    let near_text = (0..words.len()).find_map(|k| {
        let colour = colour_at(k)?;
        let soon = words.iter().skip(k + 1).take(3);
        soon.clone()
            .any(|w| TEXT_WORDS.contains(&w.as_str()))
            .then_some(colour)
    });
    let colour = near_text.or_else(|| (0..words.len()).find_map(colour_at));
    Lettering { lines, colour }
}

/// Black or white, whichever stands out more against `background` (WCAG contrast ratio).
pub fn contrasting_colour(background: [u8; 3]) -> [u8; 3] {
    let l = relative_luminance(background);
    let against_white = 1.05 / (l + 0.05);
    let against_black = (l + 0.05) / 0.05;
    if against_white >= against_black {
        [250, 250, 250]
    } else {
        [20, 20, 20]
    }
}

fn relative_luminance(rgb: [u8; 3]) -> f32 {
    let lin = |v: u8| {
        let c = v as f32 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

/// The largest axis-aligned rectangle of marked pixels (histogram method), if any.
pub(crate) fn largest_inner_rectangle(mask: &Mask) -> Option<DirtyRect> {
    let bounds = mask.marked_bounds()?;
    let w = bounds.width() as usize;
    let mut heights = vec![0usize; w];
    let mut best: Option<(usize, DirtyRect)> = None;
    let mut stack: Vec<usize> = Vec::with_capacity(w + 1);
    for y in bounds.y0..bounds.y1 {
        for (k, h) in heights.iter_mut().enumerate() {
            *h = if mask.is_marked(bounds.x0 + k as u32, y) {
                *h + 1
            } else {
                0
            };
        }
        stack.clear();
        for k in 0..=w {
            let current = if k < w { heights[k] } else { 0 };
            while let Some(&top) = stack.last() {
                if heights[top] < current {
                    break;
                }
                stack.pop();
                let height = heights[top];
                let left = stack.last().map_or(0, |&s| s + 1);
                let area = height * (k - left);
                if height > 0 && best.is_none_or(|(a, _)| area > a) {
                    let rect = DirtyRect::new(
                        bounds.x0 + left as u32,
                        y + 1 - height as u32,
                        bounds.x0 + k as u32,
                        y + 1,
                    );
                    best = Some((area, rect));
                }
            }
            stack.push(k);
        }
    }
    best.map(|(_, r)| r)
}

/// Renders `text` as large as fits `max_w` x `max_h`; `None` when even tiny text does not.
fn fit_line(face: Typeface, text: &str, max_w: f32, max_h: f32) -> Option<(f32, TextBitmap)> {
    const PROBE: f32 = 64.0;
    let probe = render_line(face, text, PROBE)?;
    let mut px = PROBE * (max_w / probe.width as f32).min(max_h / probe.height as f32);
    for _ in 0..12 {
        if px < 4.0 {
            return None;
        }
        let bmp = render_line(face, text, px)?;
        if bmp.width as f32 <= max_w && bmp.height as f32 <= max_h {
            return Some((px, bmp));
        }
        px *= 0.94;
    }
    None
}

/// Draws the lines into `image` inside the mask's largest inner rectangle. Lines that do not
/// fit are skipped (with a warning). Only marked pixels are written.
pub(crate) fn draw(
    image: &mut RgbaImage,
    mask: &Mask,
    lettering: &Lettering,
    options: &LocalOptions,
    seed: u64,
) -> Vec<TextPlacement> {
    let mut placed = Vec::new();
    let Some(rect) = largest_inner_rectangle(mask) else {
        return placed;
    };
    let mut random = SeededRandom::derive(seed, 0x7E47);
    let face = options
        .typeface
        .unwrap_or(Typeface::ALL[random.below(Typeface::ALL.len())]);
    let margin_share = 0.08 + 0.06 * random.unit();
    let margin_x = (rect.width() as f32 * margin_share).max(1.0);
    let margin_y = (rect.height() as f32 * margin_share).max(1.0);
    let inner_w = rect.width() as f32 - 2.0 * margin_x;
    let inner_h = rect.height() as f32 - 2.0 * margin_y;
    let n = lettering.lines.len() as f32;
    let gap_share = 0.25;
    let slot_h = inner_h / (n + gap_share * (n - 1.0));
    if inner_w < 4.0 || slot_h < 4.0 {
        tracing::warn!(
            width = rect.width(),
            height = rect.height(),
            "the masked region is too small for the text; drawing none"
        );
        return placed;
    }
    let colour = options
        .text_colour
        .or(lettering.colour)
        .unwrap_or_else(|| contrasting_colour(mean_colour(image, rect)));
    let fitted: Vec<Option<(f32, TextBitmap)>> = lettering
        .lines
        .iter()
        .map(|line| fit_line(face, line, inner_w, slot_h))
        .collect();
    let block_h: f32 = slot_h * n + gap_share * slot_h * (n - 1.0);
    let slack_y = (inner_h - block_h).max(0.0);
    let jitter_y = (random.unit() - 0.5) * 0.5 * slack_y.min(margin_y);
    let top = rect.y0 as f32 + margin_y + slack_y / 2.0 + jitter_y;
    for (k, (line, fit)) in lettering.lines.iter().zip(&fitted).enumerate() {
        let Some((px, bmp)) = fit else {
            tracing::warn!(text = %line, "a line of text does not fit the masked region");
            continue;
        };
        let slot_top = top + k as f32 * slot_h * (1.0 + gap_share);
        let x0 = rect.x0 as f32 + (rect.width() as f32 - bmp.width as f32) / 2.0;
        let y0 = slot_top + (slot_h - bmp.height as f32) / 2.0;
        let (x0, y0) = (x0.round().max(0.0) as u32, y0.round().max(0.0) as u32);
        blend(image, mask, bmp, x0, y0, colour);
        placed.push(TextPlacement {
            text: line.clone(),
            typeface: face,
            px: *px,
            area: DirtyRect::new(x0, y0, x0 + bmp.width, y0 + bmp.height),
            colour,
        });
    }
    placed
}

fn mean_colour(image: &RgbaImage, rect: DirtyRect) -> [u8; 3] {
    let mut sum = [0u64; 3];
    for y in rect.y0..rect.y1 {
        for x in rect.x0..rect.x1 {
            let p = image.get_pixel(x, y).0;
            for c in 0..3 {
                sum[c] += p[c] as u64;
            }
        }
    }
    let n = rect.area().max(1) as u64;
    sum.map(|s| (s / n) as u8)
}

fn blend(image: &mut RgbaImage, mask: &Mask, bmp: &TextBitmap, x0: u32, y0: u32, colour: [u8; 3]) {
    let (w, h) = image.dimensions();
    for by in 0..bmp.height {
        for bx in 0..bmp.width {
            let (x, y) = (x0 + bx, y0 + by);
            let a = bmp.get(bx, by) as f32 / 255.0;
            if a <= 0.0 || x >= w || y >= h || !mask.is_marked(x, y) {
                continue;
            }
            let p = image.get_pixel_mut(x, y);
            for (channel, &ink) in p.0.iter_mut().zip(&colour) {
                let v = *channel as f32 * (1.0 - a) + ink as f32 * a;
                *channel = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_of_every_kind_become_lines() {
        let l = parse_prompt("replace with 'OPEN 7AM-3PM' and \"NORTH HALL\"");
        assert_eq!(l.lines, vec!["OPEN 7AM-3PM", "NORTH HALL"]);
        let l = parse_prompt("sign saying \u{201C}CAF\u{C9}\u{201D} and \u{2018}Bar\u{2019}");
        assert_eq!(l.lines, vec!["CAF\u{C9}", "Bar"]);
    }

    #[test]
    fn apostrophes_inside_words_are_not_quotes() {
        let l = parse_prompt("Joe's diner sign reading 'JOE'S'");
        assert_eq!(l.lines, vec!["JOE'S"]);
        assert!(
            parse_prompt("remove the old text, it's gone")
                .lines
                .is_empty()
        );
    }

    #[test]
    fn colour_near_a_text_word_wins() {
        let l = parse_prompt("on the red wall write 'EXIT' in white letters");
        assert_eq!(l.colour, Some([250, 250, 250]));
        let l = parse_prompt("gold 'SALE'");
        assert_eq!(l.colour, Some([212, 175, 55]));
        assert_eq!(
            parse_prompt("write 'RED'").colour,
            None,
            "quoted words are text"
        );
    }

    #[test]
    fn contrast_picks_the_far_end() {
        assert_eq!(contrasting_colour([240, 240, 230]), [20, 20, 20]);
        assert_eq!(contrasting_colour([30, 20, 60]), [250, 250, 250]);
    }

    #[test]
    fn largest_inner_rectangle_of_an_l_shape() {
        let mut m = Mask::new(40, 40);
        m.fill_rect(5, 5, 30, 6, 255);
        m.fill_rect(5, 5, 6, 30, 255);
        m.fill_rect(20, 20, 10, 10, 255);
        // The 30x6 bar (180 px) beats the 6x30 bar (180, found later) and the 10x10 block.
        let r = largest_inner_rectangle(&m).unwrap();
        assert_eq!(r.area(), 180);
        for y in r.y0..r.y1 {
            for x in r.x0..r.x1 {
                assert!(m.is_marked(x, y));
            }
        }
    }
}
