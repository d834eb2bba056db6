//! The old lettering's style, measured from a classified line: baseline and cap line (angle
//! and perspective), cap height and x-height, slant, weight, spacing, ink and ground colour,
//! edge softness and grain, alignment within the panel, and case.

use image::RgbaImage;

use super::analyse::{Analysis, Class, distance};
use crate::mask::Mask;

/// Where the line sits in its panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    Left,
    Centre,
    Right,
}

/// The old line's letter case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Upper,
    Lower,
    Title,
    Mixed,
}

/// What was measured of one line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineStyle {
    /// Baseline angle, degrees clockwise from the x axis (image y down).
    pub angle: f32,
    /// Change of the cap height along the line, pixels per pixel (perspective; 0 when none).
    pub keystone: f32,
    /// Cap height (capitals, digits and ascenders) at the line's middle, pixels.
    pub cap_height: f32,
    /// x-height, when the line has lower-case letters.
    pub x_height: Option<f32>,
    /// Slant of the stems, degrees; positive leans right (italic).
    pub slant: f32,
    /// Stroke width, pixels; `weight` is it over the cap height.
    pub stroke: f32,
    pub weight: f32,
    /// Median gap between neighbouring letters over the cap height.
    pub spacing: f32,
    pub ink: [u8; 3],
    pub ground: [u8; 3],
    /// Ink lighter than the ground.
    pub light_on_dark: bool,
    /// Width of the ground-to-ink transition (1 is a crisp antialiased edge).
    pub edge: f32,
    /// Grain of the ink: standard deviation of its cores, levels.
    pub grain: f32,
    pub alignment: Alignment,
    pub case: Case,
    /// The ink's extent along the baseline, after the slant is undone (line `s`).
    pub start: f32,
    pub end: f32,
    /// Where the baseline crosses `s = 0`, in line `t`, and its slope in the box's frame.
    pub baseline_t0: f32,
    pub baseline_slope: f32,
    /// How far the panel (the ground around the line, inside the mask) reaches from the
    /// ink's middle along the baseline, to the left and to the right.
    pub room_left: f32,
    pub room_right: f32,
}

impl LineStyle {
    /// "white italic sans, 38 px, 4° up, centred".
    pub fn describe(&self, face: &str) -> String {
        let colour = colour_name(self.ink);
        let italic = if self.slant.abs() >= 5.0 {
            " italic"
        } else {
            ""
        };
        let bold = if self.weight >= 0.17 { " bold" } else { "" };
        let tilt = if self.angle.abs() < 0.5 {
            "level".to_string()
        } else if self.angle < 0.0 {
            format!("{:.0}° up", -self.angle)
        } else {
            format!("{:.0}° down", self.angle)
        };
        let align = match self.alignment {
            Alignment::Left => "left",
            Alignment::Centre => "centred",
            Alignment::Right => "right",
        };
        format!(
            "{colour}{bold}{italic} {face}, {:.0} px caps, {tilt}, {align}",
            self.cap_height
        )
    }
}

fn colour_name(rgb: [u8; 3]) -> &'static str {
    let [r, g, b] = rgb.map(|v| v as f32);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    if max - min < 40.0 {
        return if max > 180.0 {
            "white"
        } else if max < 70.0 {
            "black"
        } else {
            "grey"
        };
    }
    if r >= g && r >= b {
        if g > 0.6 * r { "yellow" } else { "red" }
    } else if g >= b {
        "green"
    } else {
        "blue"
    }
}

/// Theil-Sen line through points: (intercept, slope).
fn robust_line(points: &[(f32, f32)]) -> Option<(f32, f32)> {
    match points.len() {
        0 => None,
        1 => Some((points[0].1, 0.0)),
        _ => {
            let mut slopes = Vec::new();
            for (i, a) in points.iter().enumerate() {
                for b in &points[i + 1..] {
                    if (b.0 - a.0).abs() > 1.0 {
                        slopes.push((b.1 - a.1) / (b.0 - a.0));
                    }
                }
            }
            let slope = if slopes.is_empty() {
                0.0
            } else {
                median(&mut slopes)
            };
            let mut icepts: Vec<f32> = points.iter().map(|p| p.1 - slope * p.0).collect();
            Some((median(&mut icepts), slope))
        }
    }
}

fn median(values: &mut [f32]) -> f32 {
    let mid = values.len() / 2;
    values.select_nth_unstable_by(mid, f32::total_cmp);
    values[mid]
}

fn least_squares(points: &[(f32, f32)]) -> Option<(f32, f32)> {
    let n = points.len() as f32;
    if points.len() < 2 {
        return robust_line(points);
    }
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f32>() / n,
        points.iter().map(|p| p.1).sum::<f32>() / n,
    );
    let sxx: f32 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f32 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx > 1.0 { sxy / sxx } else { 0.0 };
    Some((my - slope * mx, slope))
}

/// One letter's extent in line coordinates.
#[derive(Debug, Clone, Copy)]
struct Piece {
    s0: f32,
    s1: f32,
    top: f32,
    bottom: f32,
}

impl Piece {
    fn mid(&self) -> f32 {
        (self.s0 + self.s1) / 2.0
    }
}

/// Measures `a`'s letters. `reading` is what the recogniser read there (for the case), and
/// `mask` bounds the room the new line may take.
pub fn measure(a: &Analysis, image: &RgbaImage, mask: &Mask, reading: &str) -> Option<LineStyle> {
    let mut pieces: Vec<Piece> = a
        .letters
        .iter()
        .map(|px| {
            let mut p = Piece {
                s0: f32::MAX,
                s1: f32::MIN,
                top: f32::MAX,
                bottom: f32::MIN,
            };
            for &i in px {
                let (s, t) = a.line_pos(i);
                p.s0 = p.s0.min(s - 0.5);
                p.s1 = p.s1.max(s + 0.5);
                p.top = p.top.min(t - 0.5);
                p.bottom = p.bottom.max(t + 0.5);
            }
            p
        })
        .collect();
    let tallest = pieces
        .iter()
        .map(|p| p.bottom - p.top)
        .fold(0.0f32, f32::max);
    // Dots, commas and hyphens say little about the lines.
    pieces.retain(|p| p.bottom - p.top >= 0.35 * tallest);
    if pieces.is_empty() {
        return None;
    }
    // Baseline: the pieces' feet; descenders (and a rotated box's corners) fall off the line.
    let feet: Vec<(f32, f32)> = pieces.iter().map(|p| (p.mid(), p.bottom)).collect();
    let (b0, kb) = robust_line(&feet)?;
    let on_base: Vec<(f32, f32)> = feet
        .iter()
        .copied()
        .filter(|&(s, t)| (t - (b0 + kb * s)).abs() <= 0.08 * tallest + 0.75)
        .collect();
    let (b0, kb) = if on_base.len() >= 2 {
        least_squares(&on_base)?
    } else {
        (b0, kb)
    };
    let base_at = |s: f32| b0 + kb * s;
    // Heights above the baseline; the upper group are capitals, digits and ascenders.
    let heights: Vec<f32> = pieces.iter().map(|p| base_at(p.mid()) - p.top).collect();
    let top = heights.iter().copied().fold(0.0f32, f32::max);
    let mut upper: Vec<f32> = heights
        .iter()
        .copied()
        .filter(|&h| h >= 0.85 * top)
        .collect();
    if top <= 1.0 || upper.is_empty() {
        return None;
    }
    let cap_height = median(&mut upper);
    let mut lower: Vec<f32> = heights
        .iter()
        .copied()
        .filter(|&h| h >= 0.45 * top && h < 0.85 * top)
        .collect();
    let x_height = (!lower.is_empty()).then(|| median(&mut lower));
    // Cap line through the upper group's tops: its slope against the baseline's is the
    // perspective.
    let tops: Vec<(f32, f32)> = pieces
        .iter()
        .zip(&heights)
        .filter(|(_, h)| **h >= 0.85 * top)
        .map(|(p, _)| (p.mid(), p.top))
        .collect();
    let span = tops.iter().map(|p| p.0).fold(f32::MIN, f32::max)
        - tops.iter().map(|p| p.0).fold(f32::MAX, f32::min);
    let mut keystone = 0.0;
    if tops.len() >= 3
        && span > 4.0 * cap_height
        && let Some((_, kt)) = robust_line(&tops)
    {
        // Height = base - top grows by (kb - kt) per pixel.
        let k = kb - kt;
        if (k * span).abs() > 0.08 * cap_height {
            keystone = k.clamp(-0.05, 0.05);
        }
    }
    // Slant: the shear that stands the stems upright packs the ink into the fewest columns.
    let mut ink_points: Vec<(f32, f32, f32)> = Vec::new();
    for &i in a.letters.iter().flatten() {
        let (s, t) = a.line_pos(i);
        let up = base_at(s) - t;
        if (0.0..=cap_height).contains(&up) {
            ink_points.push((s, up, a.alpha[i]));
        }
    }
    if ink_points.is_empty() {
        return None;
    }
    let s_min = ink_points.iter().map(|p| p.0).fold(f32::MAX, f32::min);
    let s_max = ink_points.iter().map(|p| p.0).fold(f32::MIN, f32::max);
    let score = |deg: f32| -> f32 {
        let k = deg.to_radians().tan();
        let lo = s_min - cap_height;
        let bins = (s_max - lo + cap_height).max(1.0) as usize + 2;
        let mut hist = vec![0.0f32; bins];
        for &(s, up, w) in &ink_points {
            let x = s - k * up - lo;
            if x >= 0.0 {
                let xi = x.floor() as usize;
                let f = x - x.floor();
                if xi + 1 < bins {
                    hist[xi] += w * (1.0 - f);
                    hist[xi + 1] += w * f;
                }
            }
        }
        hist.iter().map(|v| v * v).sum()
    };
    let mut best = (0.0f32, f32::MIN);
    for step in -30..=30 {
        let deg = step as f32;
        let v = score(deg);
        if v > best.1 {
            best = (deg, v);
        }
    }
    let mut slant = best.0;
    for _ in 0..2 {
        let step = if slant == best.0 { 0.5 } else { 0.25 };
        for deg in [slant - step, slant + step] {
            let v = score(deg);
            if v > best.1 {
                best = (deg, v);
            }
        }
        slant = best.0;
    }
    let k = slant.to_radians().tan();
    let (start, end) = ink_points
        .iter()
        .map(|&(s, up, _)| s - k * up)
        .fold((f32::MAX, f32::MIN), |(lo, hi), x| {
            (lo.min(x - 0.5), hi.max(x + 0.5))
        });
    // Spacing: gaps between neighbouring letters (side by side, not overlapping).
    let mut order = pieces.clone();
    order.sort_by(|p, q| p.s0.total_cmp(&q.s0));
    let mut gaps: Vec<f32> = order
        .windows(2)
        .map(|w| w[1].s0 - w[0].s1)
        .filter(|g| *g > 0.0 && *g < 1.5 * cap_height)
        .collect();
    let spacing = if gaps.is_empty() {
        0.0
    } else {
        median(&mut gaps) / cap_height.max(1.0)
    };
    let stroke = a.stroke_width();
    // Ink grain: the pixel-to-pixel spread of the letters' cores' lightness (each core pixel
    // against the mean of its core neighbours), not the slow shading across a line, which
    // drawing as per-pixel noise turned into a stipple.
    let w = a.width;
    let core = |i: usize| a.alpha[i] >= 0.95 && a.class[i] == Class::Letter;
    let steps: Vec<f32> = a
        .letters
        .iter()
        .flatten()
        .copied()
        .filter(|&i| core(i))
        .filter_map(|i| {
            let (x, y) = (i % w, i / w);
            let near: Vec<usize> = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then_some(i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < a.height).then_some(i + w),
            ]
            .into_iter()
            .flatten()
            .filter(|&j| core(j))
            .collect();
            (near.len() >= 3).then(|| {
                let m = near.iter().map(|&j| lightness(a.rgb[j])).sum::<f32>() / near.len() as f32;
                lightness(a.rgb[i]) - m
            })
        })
        .collect();
    let grain = if steps.len() > 4 {
        let m = steps.iter().sum::<f32>() / steps.len() as f32;
        // A pixel against the mean of n others of the same spread varies by (1 + 1/n) times
        // the spread's square: about 1.3 for three or four neighbours.
        (steps.iter().map(|v| (v - m).powi(2)).sum::<f32>() / steps.len() as f32 / 1.3)
            .sqrt()
            .min(10.0)
    } else {
        0.0
    };
    let (room_left, room_right, panel_left, panel_right) = room(
        a,
        image,
        mask,
        base_at,
        cap_height,
        k,
        (start - 0.1 * cap_height, end + 0.1 * cap_height),
    );
    let alignment = {
        let (lm, rm) = (start - panel_left, panel_right - end);
        let tolerance = (0.5 * cap_height).max(0.15 * (lm + rm));
        if !lm.is_finite() || !rm.is_finite() || (lm - rm).abs() <= tolerance {
            Alignment::Centre
        } else if lm < rm {
            Alignment::Left
        } else {
            Alignment::Right
        }
    };
    let case = case_of(reading).unwrap_or(if x_height.is_some() {
        Case::Mixed
    } else {
        Case::Upper
    });
    let to_u8 = |c: [f32; 3]| c.map(|v| v.round().clamp(0.0, 255.0) as u8);
    Some(LineStyle {
        angle: a.frame.angle() + kb.atan().to_degrees(),
        keystone,
        cap_height,
        x_height,
        slant,
        stroke,
        weight: stroke / cap_height.max(1.0),
        spacing,
        ink: to_u8(a.ink),
        ground: to_u8(a.ground),
        light_on_dark: lightness(a.ink) > lightness(a.ground),
        edge: a.edge_width(),
        grain,
        alignment,
        case,
        start,
        end,
        baseline_t0: b0,
        baseline_slope: kb,
        room_left,
        room_right,
    })
}

pub fn lightness(c: [f32; 3]) -> f32 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

fn case_of(reading: &str) -> Option<Case> {
    let letters: Vec<char> = reading.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() < 2
        || letters
            .iter()
            .any(|c| !c.is_uppercase() && !c.is_lowercase())
    {
        return None;
    }
    if letters.iter().all(|c| c.is_uppercase()) {
        return Some(Case::Upper);
    }
    if letters.iter().all(|c| c.is_lowercase()) {
        return Some(Case::Lower);
    }
    let title = reading.split_whitespace().all(|w| {
        let mut cs = w.chars().filter(|c| c.is_alphabetic());
        cs.next().is_none_or(|c| c.is_uppercase()) && cs.all(|c| c.is_lowercase())
    });
    Some(if title { Case::Title } else { Case::Mixed })
}

/// Walks along the line's middle from the ink's middle both ways. Returns how far the new ink
/// may reach (inside the mask, over the ground; the old ink's own extent always counts) and
/// where the panel ends (ground ignoring the mask), as `s` values: (room left, room right,
/// panel left, panel right).
fn room(
    a: &Analysis,
    image: &RgbaImage,
    mask: &Mask,
    base_at: impl Fn(f32) -> f32,
    cap: f32,
    shear: f32,
    (start, end): (f32, f32),
) -> (f32, f32, f32, f32) {
    let middle = (start + end) / 2.0;
    let limit = (4.0 * (end - start)).max(20.0 * cap);
    let probe = |s: f32, frac: f32| -> (bool, bool) {
        let t = base_at(s) - frac * cap;
        let (x, y) = a.frame.to_image(s, t);
        if x < 0.0 || y < 0.0 || x >= image.width() as f32 || y >= image.height() as f32 {
            return (false, false);
        }
        let p = image.get_pixel(x as u32, y as u32).0;
        let c = [p[0] as f32, p[1] as f32, p[2] as f32];
        let ground = distance(c, a.ground) <= 0.4 * a.contrast;
        // The old ink's own extent (slanted at this height) always counts.
        let lean = shear * frac * cap;
        let within = s >= start + lean && s <= end + lean;
        (ground || within, mask.is_marked(x as u32, y as u32))
    };
    let walk = |dir: f32| -> (f32, f32) {
        let (mut room, mut panel) = (None, None);
        let mut s = middle;
        while (s - middle).abs() < limit {
            s += dir;
            let mut free = true;
            let mut marked = true;
            for frac in [0.1, 0.5, 0.9] {
                let (g, m) = probe(s, frac);
                free &= g;
                marked &= m;
            }
            if room.is_none() && (!free || !marked) {
                room = Some(s - dir);
            }
            if panel.is_none() && !free {
                panel = Some(s - dir);
            }
            if room.is_some() && panel.is_some() {
                break;
            }
        }
        let far = middle + dir * f32::INFINITY;
        (room.unwrap_or(s), panel.unwrap_or(far))
    };
    let (room_left, panel_left) = walk(-1.0);
    let (room_right, panel_right) = walk(1.0);
    (room_left, room_right, panel_left, panel_right)
}
