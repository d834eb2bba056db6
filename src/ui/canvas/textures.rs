//! The GPU side of the open photo: the photo texture and the mask overlay, the overlay updated
//! rectangle by rectangle (`TextureHandle::set_partial`), and the small export preview.

use egui::{Color32, ColorImage, TextureHandle, TextureOptions};
use image::RgbaImage;

use crate::mask::{DirtyRect, Mask};

/// How textures are sampled: crisp pixels when zoomed in, smooth when zoomed out.
pub const TEXTURE_OPTIONS: TextureOptions = TextureOptions {
    magnification: egui::TextureFilter::Nearest,
    minification: egui::TextureFilter::Linear,
    wrap_mode: egui::TextureWrapMode::ClampToEdge,
    mipmap_mode: None,
};

/// Photos and results: as [`TEXTURE_OPTIONS`], plus mipmaps, so a 4K photo shown at a third of
/// its size (fit to window, grid tiles) is averaged rather than sampled sparsely (no shimmer or
/// moiré on lettering). The mask overlay keeps [`TEXTURE_OPTIONS`]: it is updated in parts
/// while painting, and each update would rebuild its mipmaps.
pub const PHOTO_TEXTURE_OPTIONS: TextureOptions = TextureOptions {
    mipmap_mode: Some(egui::TextureFilter::Linear),
    ..TEXTURE_OPTIONS
};

/// The GPU side of a document: the photo and the mask overlay, both possibly downscaled to the
/// GPU's largest texture side.
pub struct CanvasTextures {
    pub image: TextureHandle,
    pub overlay: TextureHandle,
    /// Texture pixels per image pixel (1.0 unless the photo exceeds the GPU limit).
    pub scale: f32,
    pub size: [usize; 2],
    /// Bytes sent to the GPU for the overlay since the textures were made (after the first
    /// full upload).
    pub overlay_bytes: u64,
    /// Bytes sent for the overlay during the current frame.
    pub frame_bytes: u64,
    /// Bands of the overlay still to send (a change too big for one frame, such as undoing a
    /// stroke across most of a large photo, goes over several frames).
    pending: Vec<DisplayRect>,
}

/// At most this many overlay bytes go to the GPU in one frame (a 2048 x 1024 band); the rest of
/// a larger change follows in the next frames.
pub const FRAME_UPLOAD_BUDGET: usize = 8 * 1024 * 1024;

impl CanvasTextures {
    pub fn new(ctx: &egui::Context, image: &RgbaImage, mask: &Mask, max_side: usize) -> Self {
        let (w, h) = image.dimensions();
        let longest = w.max(h) as usize;
        let scale = if longest > max_side && max_side > 0 {
            max_side as f32 / longest as f32
        } else {
            1.0
        };
        let display = if scale < 1.0 {
            crate::imageio::fit_within(image, max_side as u32)
        } else {
            image.clone()
        };
        let size = [display.width() as usize, display.height() as usize];
        let color = ColorImage::from_rgba_unmultiplied(size, display.as_raw());
        let image_tex = ctx.load_texture("photo", color, PHOTO_TEXTURE_OPTIONS);
        let overlay = ctx.load_texture(
            "mask-overlay",
            overlay_pixels(mask, scale, size, DisplayRect::full(size)),
            TEXTURE_OPTIONS,
        );
        Self {
            image: image_tex,
            overlay,
            scale,
            size,
            overlay_bytes: 0,
            frame_bytes: 0,
            pending: Vec::new(),
        }
    }

    /// Sends `rect` (image pixels) of the overlay to the GPU: at once when it fits in a frame's
    /// budget, else the first band now and the rest in later frames ([`Self::send_pending`]).
    pub fn update_overlay(&mut self, mask: &Mask, rect: DirtyRect) {
        self.queue_overlay(rect);
        self.send_pending(mask);
    }

    /// Queues `rect` (image pixels) of the overlay for the next frames, sending nothing in this
    /// one: for a change that already took a good part of the frame (an undo of thousands of
    /// tiles), whose first band would push the frame past its time.
    pub fn defer_overlay(&mut self, rect: DirtyRect) {
        self.queue_overlay(rect);
        self.frame_bytes = self.frame_bytes.max(FRAME_UPLOAD_BUDGET as u64);
    }

    /// Adds `rect` (image pixels) to the bands waiting to be sent, in place of the waiting
    /// bands it covers.
    fn queue_overlay(&mut self, rect: DirtyRect) {
        let Some(d) = DisplayRect::from_image(rect, self.scale, self.size) else {
            return;
        };
        self.pending.retain(|p| !d.covers(p));
        self.pending.extend(d.bands(FRAME_UPLOAD_BUDGET));
    }

    /// Sends pending bands up to this frame's budget; `true` while some are left.
    pub fn send_pending(&mut self, mask: &Mask) -> bool {
        let budget = FRAME_UPLOAD_BUDGET as u64;
        while let Some(&d) = self.pending.first() {
            let bytes = (d.w * d.h * 4) as u64;
            if self.frame_bytes > 0 && self.frame_bytes + bytes > budget {
                break;
            }
            self.pending.remove(0);
            let pixels = overlay_pixels(mask, self.scale, self.size, d);
            self.overlay
                .set_partial([d.x, d.y], pixels, TEXTURE_OPTIONS);
            self.overlay_bytes += bytes;
            self.frame_bytes += bytes;
        }
        !self.pending.is_empty()
    }

    /// Overlay bands still waiting for a frame.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// A rectangle in texture pixels.
#[derive(Debug, Clone, Copy)]
struct DisplayRect {
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

impl DisplayRect {
    fn full(size: [usize; 2]) -> Self {
        Self {
            x: 0,
            y: 0,
            w: size[0],
            h: size[1],
        }
    }

    /// Whether `other` lies wholly inside this rectangle.
    fn covers(&self, other: &DisplayRect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.x + other.w <= self.x + self.w
            && other.y + other.h <= self.y + self.h
    }

    /// This rectangle cut into full-width bands of at most `budget` bytes (at least one row).
    fn bands(self, budget: usize) -> Vec<DisplayRect> {
        let rows = (budget / (self.w * 4).max(1)).max(1);
        (self.y..self.y + self.h)
            .step_by(rows)
            .map(|y| DisplayRect {
                y,
                h: rows.min(self.y + self.h - y),
                ..self
            })
            .collect()
    }

    fn from_image(r: DirtyRect, scale: f32, size: [usize; 2]) -> Option<Self> {
        if r.is_empty() {
            return None;
        }
        let x0 = ((r.x0 as f32 * scale).floor() as usize).min(size[0]);
        let y0 = ((r.y0 as f32 * scale).floor() as usize).min(size[1]);
        let x1 = ((r.x1 as f32 * scale).ceil() as usize).min(size[0]);
        let y1 = ((r.y1 as f32 * scale).ceil() as usize).min(size[1]);
        (x1 > x0 && y1 > y0).then_some(Self {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        })
    }
}

/// White with the coverage as alpha (premultiplied); the overlay colour and opacity are
/// applied as a tint when drawing, so changing them uploads nothing.
fn overlay_pixels(mask: &Mask, scale: f32, size: [usize; 2], d: DisplayRect) -> ColorImage {
    let mut pixels = Vec::with_capacity(d.w * d.h);
    let (mw, mh) = (mask.width(), mask.height());
    for ty in d.y..d.y + d.h {
        if scale >= 1.0 {
            let row = mask.row(ty as u32);
            pixels.extend(
                row[d.x..d.x + d.w]
                    .iter()
                    .map(|&c| Color32::from_rgba_premultiplied(c, c, c, c)),
            );
        } else {
            let my = (((ty as f32 + 0.5) / scale) as u32).min(mh.saturating_sub(1));
            for tx in d.x..d.x + d.w {
                let mx = (((tx as f32 + 0.5) / scale) as u32).min(mw.saturating_sub(1));
                let c = mask.get(mx, my);
                pixels.push(Color32::from_rgba_premultiplied(c, c, c, c));
            }
        }
    }
    let _ = size;
    ColorImage::new([d.w, d.h], pixels)
}

/// A small picture of exactly what will be sent: the thresholded mask in the chosen polarity,
/// sampled (nearest) down to at most `max_side`.
pub fn export_preview(mask: &Mask, polarity: crate::mask::Polarity, max_side: u32) -> ColorImage {
    let (w, h) = mask.size();
    let scale = (max_side as f32 / w.max(h) as f32).min(1.0);
    let pw = ((w as f32 * scale).round() as usize).max(1);
    let ph = ((h as f32 * scale).round() as usize).max(1);
    let (on, off) = polarity.values();
    let mut pixels = Vec::with_capacity(pw * ph);
    for y in 0..ph {
        let my = (((y as f32 + 0.5) / scale) as u32).min(h - 1);
        for x in 0..pw {
            let mx = (((x as f32 + 0.5) / scale) as u32).min(w - 1);
            let v = if mask.is_marked(mx, my) { on } else { off };
            pixels.push(Color32::from_gray(v));
        }
    }
    ColorImage::new([pw, ph], pixels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_the_rectangle_once_within_the_budget() {
        let r = DisplayRect {
            x: 10,
            y: 5,
            w: 1000,
            h: 777,
        };
        let bands = r.bands(4000 * 100);
        assert_eq!(bands.len(), 8);
        let mut next = r.y;
        for b in &bands {
            assert_eq!((b.x, b.w, b.y), (r.x, r.w, next));
            assert!(b.w * b.h * 4 <= 4000 * 100);
            next += b.h;
        }
        assert_eq!(next, r.y + r.h);
        assert!(r.covers(&bands[3]) && !bands[3].covers(&r));
        // A row wider than the budget is still one band a row.
        assert_eq!(r.bands(10).len(), 777);
    }

    #[test]
    fn a_large_change_reaches_the_gpu_over_several_frames() {
        let ctx = egui::Context::default();
        let side = 2000u32;
        let image = RgbaImage::new(side, side);
        let mut mask = Mask::new(side, side);
        let mut tex = CanvasTextures::new(&ctx, &image, &mask, 2048);
        let rect = mask.fill_rect(0, 0, side as i64, side as i64, 255).unwrap();
        tex.update_overlay(&mask, rect);
        let total = (side * side * 4) as u64;
        assert!(
            tex.frame_bytes <= FRAME_UPLOAD_BUDGET as u64,
            "{}",
            tex.frame_bytes
        );
        assert!(tex.has_pending());
        let mut frames = 1;
        while tex.has_pending() {
            tex.frame_bytes = 0;
            tex.send_pending(&mask);
            assert!(tex.frame_bytes <= FRAME_UPLOAD_BUDGET as u64);
            frames += 1;
        }
        assert_eq!(tex.overlay_bytes, total, "every pixel sent exactly once");
        assert!(frames >= 2, "{frames} frames");
        // A small change meanwhile goes at once.
        tex.frame_bytes = 0;
        let small = mask.fill_rect(10, 10, 20, 20, 0).unwrap();
        tex.update_overlay(&mask, small);
        assert_eq!(tex.frame_bytes, 20 * 20 * 4);
        assert!(!tex.has_pending());
    }
}
