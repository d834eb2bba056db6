//! The mask canvas: the photo with its overlay under one view transform (zoom and pan), the
//! brush painting straight into the mask editor, the selection gestures (their finished shapes
//! go to the command queue), and the brush outline or gesture drawn on top.

pub mod frame;
pub mod gesture;
pub mod object;
pub mod text;
pub mod textures;
pub mod view;

use egui::{Color32, Pos2, Rect, Sense, Stroke};

use super::actions::Action;
use super::document::DocumentState;
use super::settings::Settings;
use crate::mask::{Brush, BrushMode, Combine};
use gesture::{Gesture, Modifiers, SelectionTool, ToolEvent, ToolKey, ToolOutcome, ToolState};
pub use view::View;

/// The tool the pointer uses on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Brush,
    Eraser,
    Select(SelectionTool),
    /// Click a text line found in the photo to mask it.
    Text,
    /// Click an object (MobileSAM) to mask it.
    Object,
}

/// The canvas's own state: view, tool, gesture and where it was drawn.
pub struct Canvas {
    pub view: View,
    pub tool: Tool,
    /// The selection tool's gesture in progress.
    pub tool_state: ToolState,
    /// The view must be fitted once the canvas size is known.
    pub fit_pending: bool,
    /// The view is "fit to window" (refitted when the canvas changes size).
    view_fitted: bool,
    rect_fitted: Rect,
    rect: Rect,
    /// Space is held: the primary button pans instead of painting.
    panning: bool,
    pub hover_image_pos: Option<Pos2>,
    /// Wheel zooming, with its stop at 100 %.
    wheel: view::WheelZoom,
    /// A photo is being opened ("Opening big.jpg…"), set by the App each frame.
    pub opening: Option<String>,
    /// A line at the foot of the canvas, set by the App each frame: what to do first, or
    /// (`true`) the problem Submit found with the mask.
    pub hint: Option<(String, bool)>,
    /// Where the Object tool's box drag started (photo pixels).
    object_drag: Option<Pos2>,
}

impl Default for Canvas {
    fn default() -> Self {
        Self {
            view: View::default(),
            tool: Tool::Brush,
            tool_state: ToolState::new(SelectionTool::Rectangle, (1, 1)),
            fit_pending: true,
            view_fitted: false,
            rect_fitted: Rect::NOTHING,
            rect: Rect::NOTHING,
            panning: false,
            hover_image_pos: None,
            wheel: view::WheelZoom::default(),
            opening: None,
            hint: None,
            object_drag: None,
        }
    }
}

/// The brush as the settings and tool make it.
pub fn brush(settings: &Settings, tool: Tool) -> Brush {
    let mode = match tool {
        Tool::Eraser => BrushMode::Erase,
        _ => BrushMode::Paint,
    };
    Brush::new(settings.brush_size, settings.brush_hardness, mode)
}

fn space_held(ctx: &egui::Context) -> bool {
    ctx.input(|i| i.key_down(egui::Key::Space)) && !ctx.egui_wants_keyboard_input()
}

impl Canvas {
    /// Whether the view is set for the photo shown (it is fitted at the first frame that
    /// draws the photo): until then the zoom is not worth a readout.
    pub fn view_ready(&self) -> bool {
        !self.fit_pending
    }

    /// Where `1` zooms to 100 %: the pointer when it is over the photo's canvas, else the
    /// canvas centre.
    pub fn zoom_anchor(&self) -> Pos2 {
        self.hover_image_pos
            .map(|p| self.view.image_to_screen(self.rect, p))
            .filter(|p| self.rect.contains(*p))
            .unwrap_or(self.rect.center())
    }

    /// Where the canvas was drawn in the last frame (screen points).
    pub fn rect(&self) -> Rect {
        self.rect
    }

    /// A new photo: fit it, drop any gesture.
    pub fn photo_changed(&mut self, size: (u32, u32)) {
        self.tool_state.set_image_size(size);
        self.fit_pending = true;
    }

    pub fn select_tool(&mut self, tool: SelectionTool) {
        self.tool = Tool::Select(tool);
        self.tool_state.set_tool(tool);
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        document: &mut DocumentState,
        settings: &Settings,
        actions: &mut Vec<Action>,
    ) {
        let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
        let canvas = response.rect;
        self.rect = canvas;
        painter.rect_filled(canvas, 0.0, Color32::from_gray(38));
        let ctx = ui.ctx().clone();
        let Some(size) = document.current().map(|d| d.size()) else {
            // While a photo is being opened, say so (a large one takes a while), rather than
            // invite opening one.
            let text = match &self.opening {
                Some(what) => what.clone(),
                None => "Open an image (Ctrl+O) or drop one here".to_string(),
            };
            let at =
                egui::Rect::from_center_size(canvas.center(), egui::vec2(canvas.width(), 40.0));
            let label = egui::RichText::new(text).size(18.0).color(Color32::GRAY);
            ui.put(at, egui::Label::new(label).selectable(false));
            if self.opening.is_some() {
                ui.put(
                    egui::Rect::from_center_size(
                        canvas.center() + egui::vec2(0.0, 36.0),
                        egui::vec2(24.0, 24.0),
                    ),
                    egui::Spinner::new(),
                );
            }
            return;
        };
        document.ensure_textures(&ctx);
        // Stay fitted while the window or panels change size, until the user zooms or pans.
        if self.view_fitted && canvas.size() != self.rect_fitted.size() {
            self.fit_pending = true;
        }
        if self.fit_pending && canvas.width() > 1.0 {
            self.view.fit(canvas, size);
            self.fit_pending = false;
            self.view_fitted = true;
            self.rect_fitted = canvas;
        }
        let view_before = self.view;
        self.navigate(&ctx, &response, canvas);
        if self.view != view_before {
            self.view_fitted = false;
        }
        // The edit area's handles lie over the photo: while the pointer is on one, the tools
        // leave it alone.
        let (frame_shapes, on_frame) = frame::ui(ui, self.view, canvas, document, &settings.area);
        let brush = match self.tool {
            _ if on_frame => None,
            Tool::Select(_) => {
                self.selection_input(&ctx, &response, canvas, actions);
                None
            }
            Tool::Text => {
                if !space_held(&ctx) && !self.panning {
                    let margin = settings.text_margin;
                    text::input(
                        &ctx, &response, self.view, canvas, document, margin, actions,
                    );
                }
                None
            }
            Tool::Object => {
                if !space_held(&ctx) && !self.panning {
                    object::input(
                        &ctx,
                        &response,
                        self.view,
                        canvas,
                        document,
                        &mut self.object_drag,
                        actions,
                    );
                }
                None
            }
            _ => {
                let brush = brush(settings, self.tool);
                self.paint(&ctx, &response, canvas, document, brush);
                Some(brush)
            }
        };
        self.draw(&ctx, &painter, &response, canvas, document, settings, brush);
        painter.extend(frame_shapes);
        self.hint_ui(ui, canvas);
    }

    /// The hint or mask problem at the foot of the canvas (hover-only: painting goes on
    /// under it).
    fn hint_ui(&self, ui: &mut egui::Ui, canvas: Rect) {
        let Some((text, problem)) = &self.hint else {
            return;
        };
        let width = (canvas.width() - 40.0).clamp(100.0, 640.0);
        let (fg, bg) = if *problem {
            (
                Color32::WHITE,
                Color32::from_rgba_unmultiplied(150, 30, 20, 225),
            )
        } else {
            (Color32::WHITE, Color32::from_black_alpha(190))
        };
        let rect = Rect::from_center_size(
            egui::pos2(canvas.center().x, canvas.bottom() - 44.0),
            egui::vec2(width, 56.0),
        );
        let mut child = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(rect)
                .layout(egui::Layout::bottom_up(egui::Align::Center)),
        );
        egui::Frame::new()
            .fill(bg)
            .corner_radius(4.0)
            .inner_margin(6.0)
            .show(&mut child, |ui| {
                ui.add(
                    egui::Label::new(egui::RichText::new(text.as_str()).color(fg))
                        .wrap()
                        .selectable(false),
                );
            });
    }

    /// Zoom at the pointer (wheel, pinch) and pan (Space+drag, middle-drag).
    fn navigate(&mut self, ctx: &egui::Context, response: &egui::Response, canvas: Rect) {
        if let Some(hover) = response.hover_pos() {
            let (scroll, zoom) = ctx.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
            let factor = zoom * (scroll / 200.0).exp();
            let (ppp, now) = (ctx.pixels_per_point(), ctx.input(|i| i.time));
            self.wheel
                .apply(&mut self.view, canvas, hover, factor, ppp, now);
        }
        let space = space_held(ctx);
        if response.dragged_by(egui::PointerButton::Middle)
            || (space && response.dragged_by(egui::PointerButton::Primary))
        {
            self.view.pan(response.drag_delta());
            self.panning = true;
        } else if !space {
            self.panning = false;
        }
    }

    /// Brush and eraser strokes, straight into the mask editor; only the changed rectangle
    /// goes to the GPU.
    fn paint(
        &mut self,
        ctx: &egui::Context,
        response: &egui::Response,
        canvas: Rect,
        document: &mut DocumentState,
        brush: Brush,
    ) {
        let (pressed, down, released, shift, press_origin, pointer) = ctx.input(|i| {
            (
                i.pointer.primary_pressed(),
                i.pointer.primary_down(),
                i.pointer.primary_released(),
                i.modifiers.shift,
                i.pointer.press_origin(),
                i.pointer.interact_pos(),
            )
        });
        let view = self.view;
        let to_image = |p: Pos2| view.screen_to_image(canvas, p);
        let painting = !space_held(ctx) && !self.panning;
        let stroking = document.current().is_some_and(|d| d.editor.is_stroking());
        if painting && pressed && response.hovered() {
            // The stroke starts where the button went down, even if the pointer has moved
            // since (a fast drag).
            if let Some(p) = press_origin.or(pointer) {
                let ip = to_image(p);
                document.edit_mask(|ed| {
                    if shift && ed.last_point().is_some() {
                        ed.line_to(brush, (ip.x, ip.y))
                    } else {
                        ed.begin_stroke(brush, (ip.x, ip.y))
                    }
                });
            }
            if let (Some(from), Some(p)) = (press_origin, pointer)
                && from != p
                && !shift
            {
                let ip = to_image(p);
                document.edit_mask(|ed| ed.continue_stroke((ip.x, ip.y)));
            }
        } else if painting
            && down
            && stroking
            && let Some(p) = pointer
        {
            let ip = to_image(p);
            document.edit_mask(|ed| ed.continue_stroke((ip.x, ip.y)));
        }
        if (released || !down) && document.current().is_some_and(|d| d.editor.is_stroking()) {
            if let Some(doc) = document.current_mut() {
                doc.editor.end_stroke();
            }
            document.generation += 1;
        }
    }

    /// Turns pointer and key input into selection tool events; finished gestures become
    /// actions (the wand's flood runs in the background).
    fn selection_input(
        &mut self,
        ctx: &egui::Context,
        response: &egui::Response,
        canvas: Rect,
        actions: &mut Vec<Action>,
    ) {
        if space_held(ctx) || self.panning {
            return;
        }
        let view = self.view;
        self.tool_state.close_distance = 8.0 / view.zoom.max(1e-3);
        let (pressed, released, moved, press_origin, pos, mods) = ctx.input(|i| {
            (
                i.pointer.primary_pressed(),
                i.pointer.primary_released(),
                i.pointer.is_moving(),
                i.pointer.press_origin(),
                i.pointer.interact_pos().or(i.pointer.hover_pos()),
                Modifiers {
                    shift: i.modifiers.shift,
                    alt: i.modifiers.alt,
                },
            )
        });
        let to_image = |p: Pos2| {
            let ip = view.screen_to_image(canvas, p);
            (ip.x, ip.y)
        };
        let mut events = Vec::new();
        if let Some(p) = pos {
            let ip = to_image(p);
            if response.double_clicked() {
                events.push(ToolEvent::DoubleClick { pos: ip, mods });
            } else if pressed && response.hovered() {
                // A drag tool starts where the button went down, not where the first movement
                // was seen.
                let start = press_origin.map_or(ip, to_image);
                events.push(ToolEvent::PointerDown { pos: start, mods });
                if start != ip {
                    events.push(ToolEvent::PointerMove { pos: ip, mods });
                }
            } else if released && self.tool_state.is_active() {
                events.push(ToolEvent::PointerUp { pos: ip, mods });
            } else if moved && (self.tool_state.is_active() || response.hovered()) {
                events.push(ToolEvent::PointerMove { pos: ip, mods });
            }
        }
        if self.tool_state.is_active() && !ctx.egui_wants_keyboard_input() {
            ctx.input_mut(|i| {
                for (key, tk) in [
                    (egui::Key::Enter, ToolKey::Enter),
                    (egui::Key::Backspace, ToolKey::Backspace),
                    (egui::Key::Escape, ToolKey::Escape),
                ] {
                    if i.consume_key(egui::Modifiers::NONE, key) {
                        events.push(ToolEvent::Key(tk));
                    }
                }
            });
        }
        for event in events {
            if let ToolOutcome::Commit(op) = self.tool_state.handle(event) {
                actions.push(Action::Select(op));
            }
        }
        if self.tool_state.is_active() {
            ctx.request_repaint();
        }
    }

    /// Draws the photo, the overlay, the brush outline or the selection gesture.
    #[allow(clippy::too_many_arguments)]
    fn draw(
        &mut self,
        ctx: &egui::Context,
        painter: &egui::Painter,
        response: &egui::Response,
        canvas: Rect,
        document: &DocumentState,
        settings: &Settings,
        brush: Option<Brush>,
    ) {
        let Some(doc) = document.current() else {
            return;
        };
        let image_rect = self.view.image_rect(canvas, doc.size());
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        if let Some(tex) = &document.textures {
            painter.image(tex.image.id(), image_rect, uv, Color32::WHITE);
            if settings.show_mask {
                let [r, g, b] = settings.overlay_color;
                let alpha = (settings.overlay_opacity.clamp(0.0, 1.0) * 255.0) as u8;
                painter.image(
                    tex.overlay.id(),
                    image_rect,
                    uv,
                    Color32::from_rgba_unmultiplied(r, g, b, alpha),
                );
            }
        }
        let view = self.view;
        self.hover_image_pos = response
            .hover_pos()
            .map(|p| view.screen_to_image(canvas, p));
        if self.tool == Tool::Text {
            let margin = settings.text_margin;
            text::draw(
                painter,
                view,
                canvas,
                document,
                self.hover_image_pos,
                margin,
            );
        } else if self.tool == Tool::Object {
            let drag = self.object_drag.zip(self.hover_image_pos);
            object::draw(painter, view, canvas, document, drag);
        } else {
            draw_gesture(painter, self.tool_state.gesture(), |p| {
                view.image_to_screen(canvas, Pos2::new(p.0, p.1))
            });
        }
        if ctx.input(|i| !i.raw.hovered_files.is_empty()) {
            painter.rect_filled(canvas, 0.0, Color32::from_black_alpha(140));
            painter.text(
                canvas.center(),
                egui::Align2::CENTER_CENTER,
                "Drop to open",
                egui::FontId::proportional(24.0),
                Color32::WHITE,
            );
        }
        if let Some(hover) = response.hover_pos() {
            if let Some(brush) = brush {
                let r = brush.radius() * self.view.zoom;
                painter.circle_stroke(hover, r, Stroke::new(2.5, Color32::from_black_alpha(160)));
                painter.circle_stroke(hover, r, Stroke::new(1.0, Color32::WHITE));
            }
            ctx.set_cursor_icon(if space_held(ctx) {
                egui::CursorIcon::Grab
            } else {
                egui::CursorIcon::Crosshair
            });
        }
    }
}

/// A note at the top of the canvas, on a dark backing (what a tool is doing: "Finding the
/// text…", "Looking at the photo…").
pub(super) fn note(painter: &egui::Painter, canvas: Rect, text: &str) {
    let font = egui::FontId::proportional(15.0);
    let galley = painter.layout(
        text.to_string(),
        font,
        Color32::WHITE,
        (canvas.width() - 40.0).max(100.0),
    );
    let at = Pos2::new(
        canvas.center().x - galley.size().x / 2.0,
        canvas.top() + 12.0,
    );
    let back = Rect::from_min_size(at, galley.size()).expand(6.0);
    painter.rect_filled(back, 4.0, Color32::from_black_alpha(190));
    painter.galley(at, galley, Color32::WHITE);
}

/// A note for work under way in the background: drawn, and the canvas looked at again soon.
pub(super) fn busy_note(painter: &egui::Painter, canvas: Rect, text: &str) {
    note(painter, canvas, text);
    painter
        .ctx()
        .request_repaint_after(std::time::Duration::from_millis(200));
}

/// The outline of a gesture under way: cyan adds, orange subtracts.
fn draw_gesture(
    painter: &egui::Painter,
    gesture: &Gesture,
    to_screen: impl Fn((f32, f32)) -> Pos2,
) {
    let outline = |points: Vec<Pos2>, closed: bool, combine: Combine| {
        let colour = match combine {
            Combine::Add => Color32::from_rgb(80, 220, 255),
            Combine::Subtract => Color32::from_rgb(255, 170, 60),
        };
        let shape = |stroke| {
            if closed {
                egui::Shape::closed_line(points.clone(), stroke)
            } else {
                egui::Shape::line(points.clone(), stroke)
            }
        };
        painter.add(shape(Stroke::new(3.0, Color32::from_black_alpha(160))));
        painter.add(shape(Stroke::new(1.5, colour)));
    };
    match gesture {
        Gesture::Idle => {}
        Gesture::Rect {
            start: a,
            end: b,
            combine,
        } => {
            let pts = [*a, (b.0, a.1), *b, (a.0, b.1)];
            outline(pts.into_iter().map(&to_screen).collect(), true, *combine);
        }
        Gesture::Polygon {
            corners,
            pointer,
            combine,
        } => {
            let mut pts: Vec<Pos2> = corners.iter().map(|&c| to_screen(c)).collect();
            if let Some(p) = pointer {
                pts.push(to_screen(*p));
            }
            outline(pts, false, *combine);
            for &c in corners {
                painter.circle_filled(to_screen(c), 3.5, Color32::WHITE);
            }
        }
        Gesture::Lasso { path, combine } => {
            outline(
                path.iter().map(|&c| to_screen(c)).collect(),
                false,
                *combine,
            );
        }
    }
}
