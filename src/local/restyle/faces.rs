//! The faces re-lettering chooses from (all DejaVu, Bitstream Vera licence:
//! `assets/fonts/LICENSE-DejaVu.txt`; the Book and Condensed Bold files come from Debian's
//! `fonts-dejavu-extra`/`fonts-dejavu-core`) and a rasteriser that draws a line with extra
//! letter spacing at any size, with its baseline and cap height known.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

/// A face re-lettering can draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Sans,
    SansBold,
    SansCondensedBold,
    SerifBold,
    MonoBold,
}

impl Face {
    pub const ALL: [Face; 5] = [
        Face::Sans,
        Face::SansBold,
        Face::SansCondensedBold,
        Face::SerifBold,
        Face::MonoBold,
    ];

    /// A short description ("sans", "condensed sans", "serif", ...).
    pub fn kind(self) -> &'static str {
        match self {
            Face::Sans | Face::SansBold => "sans",
            Face::SansCondensedBold => "condensed sans",
            Face::SerifBold => "serif",
            Face::MonoBold => "monospace",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Face::Sans => "DejaVu Sans",
            Face::SansBold => "DejaVu Sans Bold",
            Face::SansCondensedBold => "DejaVu Sans Condensed Bold",
            Face::SerifBold => "DejaVu Serif Bold",
            Face::MonoBold => "DejaVu Sans Mono Bold",
        }
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Face::Sans => include_bytes!("../../../assets/fonts/DejaVuSans.ttf"),
            Face::SansBold => include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf"),
            Face::SansCondensedBold => {
                include_bytes!("../../../assets/fonts/DejaVuSansCondensed-Bold.ttf")
            }
            Face::SerifBold => include_bytes!("../../../assets/fonts/DejaVuSerif-Bold.ttf"),
            Face::MonoBold => include_bytes!("../../../assets/fonts/DejaVuSansMono-Bold.ttf"),
        }
    }

    pub fn font(self) -> Option<FontRef<'static>> {
        FontRef::try_from_slice(self.bytes()).ok()
    }

    /// Cap height ('H' ink height) per pixel of em size.
    pub fn cap_ratio(self) -> Option<f32> {
        let font = self.font()?;
        let scale = PxScale::from(100.0);
        let glyph = font
            .glyph_id('H')
            .with_scale_and_position(scale, ab_glyph::point(0.0, 0.0));
        let outline = font.outline_glyph(glyph)?;
        let b = outline.px_bounds();
        Some((b.max.y - b.min.y) / 100.0)
    }
}

/// A rasterised line: coverage 0..=1, with the baseline's row and the ink's left edge known.
#[derive(Debug, Clone)]
pub struct Glyphs {
    pub width: usize,
    pub height: usize,
    pub coverage: Vec<f32>,
    /// Row of the baseline (in bitmap pixels, may be fractional).
    pub baseline: f32,
    /// Column of the first ink (always about `pad`).
    pub left: f32,
    /// Column just past the last ink.
    pub right: f32,
}

impl Glyphs {
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.coverage[y * self.width + x]
    }

    /// Bilinear coverage at a (fractional) bitmap position; 0 outside.
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        let (x, y) = (x - 0.5, y - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let get = |xi: f32, yi: f32| {
            if xi < 0.0 || yi < 0.0 || xi >= self.width as f32 || yi >= self.height as f32 {
                0.0
            } else {
                self.at(xi as usize, yi as usize)
            }
        };
        let a = get(x0, y0) * (1.0 - fx) + get(x0 + 1.0, y0) * fx;
        let b = get(x0, y0 + 1.0) * (1.0 - fx) + get(x0 + 1.0, y0 + 1.0) * fx;
        a * (1.0 - fy) + b * fy
    }
}

/// Draws `text` in `face` at `px` pixels per em with `tracking` extra pixels between letters,
/// `pad` empty pixels on every side. `None` when the text has no ink.
pub fn rasterise(face: Face, text: &str, px: f32, tracking: f32, pad: usize) -> Option<Glyphs> {
    let font = face.font()?;
    let scale = PxScale::from(px.max(1.0));
    let scaled = font.as_scaled(scale);
    let mut caret = 0.0f32;
    let mut prev = None;
    let mut outlines = Vec::new();
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            caret += scaled.kern(p, id) + tracking;
        }
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(caret, 0.0));
        caret += scaled.h_advance(id);
        prev = Some(id);
        if let Some(o) = font.outline_glyph(glyph) {
            outlines.push(o);
        }
    }
    let mut min = (f32::MAX, f32::MAX);
    let mut max = (f32::MIN, f32::MIN);
    for o in &outlines {
        let b = o.px_bounds();
        min = (min.0.min(b.min.x), min.1.min(b.min.y));
        max = (max.0.max(b.max.x), max.1.max(b.max.y));
    }
    if outlines.is_empty() {
        return None;
    }
    let ox = min.0.floor() - pad as f32;
    let oy = min.1.floor() - pad as f32;
    let width = (max.0.ceil() - ox) as usize + pad;
    let height = (max.1.ceil() - oy) as usize + pad;
    let mut coverage = vec![0.0f32; width * height];
    for o in &outlines {
        let b = o.px_bounds();
        let (gx, gy) = ((b.min.x - ox) as i64, (b.min.y - oy) as i64);
        o.draw(|x, y, c| {
            let (px_, py_) = (gx + x as i64, gy + y as i64);
            if px_ >= 0 && py_ >= 0 && (px_ as usize) < width && (py_ as usize) < height {
                let i = py_ as usize * width + px_ as usize;
                coverage[i] = (coverage[i] + c.clamp(0.0, 1.0)).min(1.0);
            }
        });
    }
    Some(Glyphs {
        width,
        height,
        coverage,
        baseline: -oy,
        left: min.0 - ox,
        right: max.0 - ox,
    })
}

/// Makes strokes thicker (`by` > 0) or thinner (`by` < 0) by about `by` pixels on each side:
/// the coverage is turned into a signed distance to the outline (chamfer 3-4 on a 4x grid)
/// and re-thresholded, then averaged back to 1x.
pub fn embolden(glyphs: &Glyphs, by: f32) -> Glyphs {
    if by.abs() < 0.1 {
        return glyphs.clone();
    }
    const UP: usize = 4;
    let grow = by.max(0.0).ceil() as usize + 1;
    let (w, h) = (glyphs.width + 2 * grow, glyphs.height + 2 * grow);
    let (bw, bh) = (w * UP, h * UP);
    // Bilinear up-sampling, then inside/outside at half coverage.
    let mut inside = vec![false; bw * bh];
    for y in 0..bh {
        for x in 0..bw {
            let sx = (x as f32 + 0.5) / UP as f32 - grow as f32;
            let sy = (y as f32 + 0.5) / UP as f32 - grow as f32;
            inside[y * bw + x] = glyphs.sample(sx, sy) >= 0.5;
        }
    }
    // Distance (in 4x pixels, times 3) to the nearest pixel of the other side.
    let distance = |target: bool| -> Vec<u32> {
        let far = u32::MAX / 2;
        let mut d: Vec<u32> = inside
            .iter()
            .map(|&v| if v == target { 0 } else { far })
            .collect();
        for y in 0..bh {
            for x in 0..bw {
                let i = y * bw + x;
                let mut best = d[i];
                if x > 0 {
                    best = best.min(d[i - 1] + 3);
                }
                if y > 0 {
                    best = best.min(d[i - bw] + 3);
                    if x > 0 {
                        best = best.min(d[i - bw - 1] + 4);
                    }
                    if x + 1 < bw {
                        best = best.min(d[i - bw + 1] + 4);
                    }
                }
                d[i] = best;
            }
        }
        for y in (0..bh).rev() {
            for x in (0..bw).rev() {
                let i = y * bw + x;
                let mut best = d[i];
                if x + 1 < bw {
                    best = best.min(d[i + 1] + 3);
                }
                if y + 1 < bh {
                    best = best.min(d[i + bw] + 3);
                    if x + 1 < bw {
                        best = best.min(d[i + bw + 1] + 4);
                    }
                    if x > 0 {
                        best = best.min(d[i + bw - 1] + 4);
                    }
                }
                d[i] = best;
            }
        }
        d
    };
    let limit = (by.abs() * UP as f32 * 3.0).round() as u32;
    let keep: Vec<bool> = if by > 0.0 {
        let to_ink = distance(true);
        to_ink.iter().map(|&d| d <= limit).collect()
    } else {
        let to_ground = distance(false);
        to_ground.iter().map(|&d| d > limit).collect()
    };
    let mut coverage = vec![0.0f32; w * h];
    for y in 0..bh {
        for x in 0..bw {
            if keep[y * bw + x] {
                coverage[(y / UP) * w + x / UP] += 1.0 / (UP * UP) as f32;
            }
        }
    }
    Glyphs {
        width: w,
        height: h,
        coverage,
        baseline: glyphs.baseline + grow as f32,
        left: glyphs.left + grow as f32 - by.max(0.0),
        right: glyphs.right + grow as f32 + by.max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_face_parses_and_knows_its_cap_height() {
        for face in Face::ALL {
            let ratio = face.cap_ratio().expect("an H");
            assert!((0.6..0.8).contains(&ratio), "{}: {ratio}", face.name());
            let g = rasterise(face, "Hx", 40.0, 0.0, 2).expect("ink");
            // The H's foot sits on the baseline.
            let row = g.baseline.round() as usize - 1;
            assert!((0..g.width).any(|x| g.at(x, row) > 0.9), "{}", face.name());
            assert!((0..g.width).all(|x| g.at(x, row + 2) < 0.01));
        }
    }

    #[test]
    fn tracking_widens_and_emboldening_thickens() {
        let a = rasterise(Face::Sans, "HHHH", 40.0, 0.0, 2).unwrap();
        let b = rasterise(Face::Sans, "HHHH", 40.0, 5.0, 2).unwrap();
        assert!(((b.right - b.left) - (a.right - a.left) - 15.0).abs() < 1.0);
        let ink = |g: &Glyphs| g.coverage.iter().sum::<f32>();
        let bold = embolden(&a, 1.0);
        let thin = embolden(&a, -0.5);
        assert!(ink(&bold) > ink(&a) * 1.2, "{} {}", ink(&bold), ink(&a));
        assert!(ink(&thin) < ink(&a) * 0.92, "{} {}", ink(&thin), ink(&a));
    }
}
