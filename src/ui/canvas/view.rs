//! The view transform (zoom and pan) that maps image pixels to screen points: one for the
//! mask canvas, one shared by every pane of the compare view.

use egui::{Pos2, Rect, Vec2};

/// Where the image sits on screen: `zoom` screen points per image pixel, `offset` of the image's
/// top-left corner from the canvas's top-left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub zoom: f32,
    pub offset: Vec2,
}

impl Default for View {
    fn default() -> Self {
        Self {
            zoom: 1.0,
            offset: Vec2::ZERO,
        }
    }
}

impl View {
    pub const MIN_ZOOM: f32 = 0.01;
    pub const MAX_ZOOM: f32 = 64.0;

    pub fn image_to_screen(&self, canvas: Rect, p: Pos2) -> Pos2 {
        canvas.min + self.offset + p.to_vec2() * self.zoom
    }

    pub fn screen_to_image(&self, canvas: Rect, p: Pos2) -> Pos2 {
        ((p - canvas.min - self.offset) / self.zoom).to_pos2()
    }

    /// The screen rectangle the whole image covers.
    pub fn image_rect(&self, canvas: Rect, size: Vec2) -> Rect {
        Rect::from_min_size(self.image_to_screen(canvas, Pos2::ZERO), size * self.zoom)
    }

    /// Fits the image in the canvas with a small margin, centred.
    pub fn fit(&mut self, canvas: Rect, size: Vec2) {
        if size.x <= 0.0 || size.y <= 0.0 || canvas.width() <= 0.0 {
            return;
        }
        let avail = (canvas.size() - Vec2::splat(16.0)).max(Vec2::splat(1.0));
        self.zoom = (avail.x / size.x)
            .min(avail.y / size.y)
            .clamp(Self::MIN_ZOOM, Self::MAX_ZOOM);
        self.offset = (canvas.size() - size * self.zoom) * 0.5;
    }

    /// 100 %: one image pixel on one physical screen pixel, keeping the canvas centre fixed.
    pub fn actual_size(&mut self, canvas: Rect, pixels_per_point: f32) {
        let target = 1.0 / pixels_per_point.max(0.1);
        self.zoom_at(canvas, canvas.center(), target / self.zoom);
    }

    /// Zooms by `factor` keeping the image point under `anchor` where it is.
    pub fn zoom_at(&mut self, canvas: Rect, anchor: Pos2, factor: f32) {
        if !factor.is_finite() || factor <= 0.0 {
            return;
        }
        let new_zoom = (self.zoom * factor).clamp(Self::MIN_ZOOM, Self::MAX_ZOOM);
        let image_point = self.screen_to_image(canvas, anchor);
        self.zoom = new_zoom;
        self.offset = anchor - canvas.min - image_point.to_vec2() * new_zoom;
    }

    pub fn pan(&mut self, delta: Vec2) {
        self.offset += delta;
    }
}
