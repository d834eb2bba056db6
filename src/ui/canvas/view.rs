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

    /// 100 %: one image pixel on one physical screen pixel, keeping the image point under
    /// `anchor` (the pointer, or the canvas centre) where it is.
    pub fn actual_size(&mut self, canvas: Rect, anchor: Pos2, pixels_per_point: f32) {
        self.set_zoom_at(canvas, anchor, 1.0 / pixels_per_point.max(0.1));
    }

    /// Sets the zoom to exactly `zoom`, keeping the image point under `anchor` where it is.
    pub fn set_zoom_at(&mut self, canvas: Rect, anchor: Pos2, zoom: f32) {
        if !zoom.is_finite() || zoom <= 0.0 {
            return;
        }
        let image_point = self.screen_to_image(canvas, anchor);
        self.zoom = zoom.clamp(Self::MIN_ZOOM, Self::MAX_ZOOM);
        self.offset = anchor - canvas.min - image_point.to_vec2() * self.zoom;
    }

    /// Image pixels per physical screen pixel as a percentage (100 = actual size).
    pub fn percent(&self, pixels_per_point: f32) -> f32 {
        self.zoom * pixels_per_point * 100.0
    }

    /// The zoom as both views show it: "100 %", "33 %", "12.5 %".
    pub fn readout(&self, pixels_per_point: f32) -> String {
        zoom_readout(self.percent(pixels_per_point))
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

/// A zoom percentage as the canvas and the compare view both show it: whole percents, with
/// one decimal below 20 % ("12.5 %"); "100 %" only at exactly actual size (99.7 % reads
/// "99.7 %", so 100 % on screen means 100 %).
pub fn zoom_readout(percent: f32) -> String {
    let exact = (percent - 100.0).abs() < 0.01;
    if exact {
        "100 %".into()
    } else if percent < 20.0 || ((percent - percent.round()).abs() >= 0.05 && percent < 1000.0) {
        let s = format!("{percent:.1}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "100" {
            format!("{percent:.2} %")
        } else {
            format!("{s} %")
        }
    } else {
        format!("{percent:.0} %")
    }
}

/// Turns wheel and pinch zooming into view changes with a stop at 100 %: a zoom that would
/// cross actual size stops exactly on it, and the rest of that wheel movement is absorbed
/// (up to three wheel notches while the wheel keeps turning, one after a pause), so a designer
/// can always land on 100 % with the wheel, whatever the wheel's step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WheelZoom {
    /// How much zoom (natural log of the factor) still to absorb while parked at 100 %.
    held: f32,
    /// When the wheel last moved (egui's input time, seconds).
    last: f64,
}

impl WheelZoom {
    /// egui turns a wheel notch into 40 points and the views zoom by e^(points/200): one
    /// notch is 0.2 in these units.
    const NOTCH: f32 = 0.2;
    /// Absorbed at 100 % while the wheel keeps turning (a fast wheel's momentum).
    const DETENT: f32 = 3.0 * Self::NOTCH;
    /// After this long without wheel input, one notch leaves 100 %.
    const PAUSE: f64 = 0.35;

    /// Applies a wheel/pinch `factor` at `anchor` to `view`; `now` is the input time.
    pub fn apply(
        &mut self,
        view: &mut View,
        canvas: Rect,
        anchor: Pos2,
        factor: f32,
        pixels_per_point: f32,
        now: f64,
    ) {
        if !factor.is_finite() || factor <= 0.0 || (factor - 1.0).abs() <= 1e-4 {
            return;
        }
        let paused = now - self.last > Self::PAUSE;
        self.last = now;
        let actual = 1.0 / pixels_per_point.max(0.1);
        let at_actual = (view.zoom - actual).abs() <= actual * 1e-4;
        if !at_actual {
            self.held = 0.0;
        } else if paused {
            self.held = self.held.min(Self::NOTCH * 0.5);
        }
        let mut step = factor.ln();
        if at_actual && self.held > 0.0 {
            if step.abs() <= self.held {
                self.held -= step.abs();
                return;
            }
            step = step.signum() * (step.abs() - self.held);
            self.held = 0.0;
            view.zoom_at(canvas, anchor, step.exp());
            return;
        }
        let target = view.zoom * step.exp();
        let crosses =
            (view.zoom < actual && target > actual) || (view.zoom > actual && target < actual);
        if crosses {
            view.set_zoom_at(canvas, anchor, actual);
            self.held = Self::DETENT;
        } else {
            view.zoom_at(canvas, anchor, step.exp());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canvas() -> Rect {
        Rect::from_min_size(Pos2::new(10.0, 20.0), Vec2::new(800.0, 600.0))
    }

    #[test]
    fn actual_size_keeps_the_point_under_the_pointer() {
        let mut v = View {
            zoom: 0.37,
            offset: Vec2::new(30.0, 40.0),
        };
        let anchor = Pos2::new(300.0, 200.0);
        let under = v.screen_to_image(canvas(), anchor);
        v.actual_size(canvas(), anchor, 2.0);
        assert_eq!(v.zoom, 0.5);
        assert_eq!(v.readout(2.0), "100 %");
        let after = v.image_to_screen(canvas(), under);
        assert!((after - anchor).length() < 1e-3, "{after:?}");
    }

    #[test]
    fn wheel_steps_of_any_size_stop_at_100_percent() {
        for notch in [0.2f32, 0.47, 0.9] {
            for (start, dir) in [(0.3f32, 1.0f32), (3.7, -1.0)] {
                let mut v = View {
                    zoom: start,
                    offset: Vec2::ZERO,
                };
                let mut w = WheelZoom::default();
                let anchor = Pos2::new(200.0, 150.0);
                let mut seen = Vec::new();
                // A wheel turned steadily, one step every 0.1 s.
                for i in 0..30 {
                    w.apply(
                        &mut v,
                        canvas(),
                        anchor,
                        (dir * notch).exp(),
                        1.0,
                        i as f64 * 0.1,
                    );
                    seen.push(v.readout(1.0));
                }
                assert!(
                    seen.iter().any(|s| s == "100 %"),
                    "notch {notch} from {start}: {seen:?}"
                );
                // It does not stay there: the wheel goes on past 100 %.
                let last = v.percent(1.0);
                assert!(
                    if dir > 0.0 {
                        last > 100.0
                    } else {
                        last < 100.0
                    },
                    "{seen:?}"
                );
            }
        }
    }

    #[test]
    fn after_a_pause_one_notch_leaves_100_percent() {
        let mut v = View {
            zoom: 0.9,
            offset: Vec2::ZERO,
        };
        let mut w = WheelZoom::default();
        let anchor = Pos2::new(100.0, 100.0);
        w.apply(&mut v, canvas(), anchor, 0.3f32.exp(), 1.0, 1.0);
        assert_eq!(v.readout(1.0), "100 %");
        // The rest of a fast wheel's movement is absorbed...
        w.apply(&mut v, canvas(), anchor, 0.2f32.exp(), 1.0, 1.02);
        assert_eq!(v.readout(1.0), "100 %");
        // ...and after a pause, one notch goes on.
        w.apply(&mut v, canvas(), anchor, 0.2f32.exp(), 1.0, 2.0);
        assert!(v.percent(1.0) > 105.0, "{}", v.readout(1.0));
    }

    #[test]
    fn readouts() {
        assert_eq!(zoom_readout(100.0), "100 %");
        assert_eq!(zoom_readout(99.7), "99.7 %");
        assert_eq!(zoom_readout(100.3), "100.3 %");
        assert_eq!(zoom_readout(12.5), "12.5 %");
        assert_eq!(zoom_readout(250.0), "250 %");
        assert_eq!(zoom_readout(45.0), "45 %");
    }
}
