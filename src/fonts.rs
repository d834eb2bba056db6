//! The bundled fonts (DejaVu, Bitstream Vera licence: assets/fonts/LICENSE-DejaVu.txt) and
//! rasterising a line of text into a coverage bitmap.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

/// One bundled typeface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Typeface {
    SansBold,
    SerifBold,
    MonoBold,
}

impl Typeface {
    pub const ALL: [Typeface; 3] = [Typeface::SansBold, Typeface::SerifBold, Typeface::MonoBold];

    pub fn name(self) -> &'static str {
        match self {
            Typeface::SansBold => "DejaVu Sans Bold",
            Typeface::SerifBold => "DejaVu Serif Bold",
            Typeface::MonoBold => "DejaVu Sans Mono Bold",
        }
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Typeface::SansBold => include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf"),
            Typeface::SerifBold => include_bytes!("../assets/fonts/DejaVuSerif-Bold.ttf"),
            Typeface::MonoBold => include_bytes!("../assets/fonts/DejaVuSansMono-Bold.ttf"),
        }
    }

    /// The parsed font. The bundled files are checked by a test, so this cannot fail at run
    /// time; `None` is still returned rather than panicking.
    pub fn font(self) -> Option<FontRef<'static>> {
        FontRef::try_from_slice(self.bytes()).ok()
    }
}

/// A line of text rasterised to coverage (0..=255), tightly cropped to its ink.
#[derive(Debug, Clone)]
pub struct TextBitmap {
    pub width: u32,
    pub height: u32,
    pub coverage: Vec<u8>,
}

impl TextBitmap {
    pub fn get(&self, x: u32, y: u32) -> u8 {
        self.coverage[(y * self.width + x) as usize]
    }
}

/// The advance width and ink height of `text` at `px` pixels per em (for fitting).
pub fn measure(face: Typeface, text: &str, px: f32) -> Option<(f32, f32)> {
    let bmp = render_line(face, text, px)?;
    Some((bmp.width as f32, bmp.height as f32))
}

/// Rasterises one line of text at `px` pixels per em; `None` for text with no visible ink.
pub fn render_line(face: Typeface, text: &str, px: f32) -> Option<TextBitmap> {
    let font = face.font()?;
    let scale = PxScale::from(px.max(1.0));
    let scaled = font.as_scaled(scale);
    let mut caret = 0.0f32;
    let mut prev = None;
    let mut outlines = Vec::new();
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(caret, scaled.ascent()));
        caret += scaled.h_advance(id);
        prev = Some(id);
        if let Some(o) = font.outline_glyph(glyph) {
            outlines.push(o);
        }
    }
    let mut bounds: Option<ab_glyph::Rect> = None;
    for o in &outlines {
        let b = o.px_bounds();
        bounds = Some(match bounds {
            None => b,
            Some(a) => ab_glyph::Rect {
                min: ab_glyph::point(a.min.x.min(b.min.x), a.min.y.min(b.min.y)),
                max: ab_glyph::point(a.max.x.max(b.max.x), a.max.y.max(b.max.y)),
            },
        });
    }
    let bounds = bounds?;
    let (ox, oy) = (bounds.min.x.floor(), bounds.min.y.floor());
    let width = (bounds.max.x.ceil() - ox).max(1.0) as u32;
    let height = (bounds.max.y.ceil() - oy).max(1.0) as u32;
    let mut coverage = vec![0u8; width as usize * height as usize];
    for o in &outlines {
        let b = o.px_bounds();
        let (gx, gy) = ((b.min.x - ox) as i64, (b.min.y - oy) as i64);
        o.draw(|x, y, c| {
            let (px_, py_) = (gx + x as i64, gy + y as i64);
            if px_ >= 0 && py_ >= 0 && (px_ as u32) < width && (py_ as u32) < height {
                let i = py_ as usize * width as usize + px_ as usize;
                let v = (c.clamp(0.0, 1.0) * 255.0).round() as u8;
                coverage[i] = coverage[i].max(v);
            }
        });
    }
    Some(TextBitmap {
        width,
        height,
        coverage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_fonts_parse_and_render() {
        for face in Typeface::ALL {
            assert!(face.font().is_some(), "{} does not parse", face.name());
            let bmp = render_line(face, "OPEN 7AM", 40.0).expect("ink");
            assert!(bmp.width > bmp.height, "a line of text is wider than tall");
            assert!(bmp.coverage.contains(&255));
        }
        assert!(render_line(Typeface::SansBold, "   ", 40.0).is_none());
    }
}
