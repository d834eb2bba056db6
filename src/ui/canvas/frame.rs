//! The edit area on the canvas: a dashed frame over the photo around what is sent, with its
//! size and scale ("Sends 1216x832 around the mask, 100 %"). It follows the mask until the
//! designer drags its label (to move it) or its corner (to resize it); a double-click on the
//! label makes it follow the mask again.

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};

use super::View;
use crate::edit::{AreaSettings, EditArea};
use crate::ui::document::DocumentState;

/// The smallest frame a drag makes, in photo pixels.
const MIN_SIDE: f32 = 64.0;

/// The frame's text, as the canvas shows it.
pub fn label(area: &EditArea, photo: (u32, u32), moved: bool) -> String {
    let mut text = area.label(photo);
    if moved {
        text.push_str(" (placed by hand)");
    }
    text
}

/// Handles the frame's handles and returns its shapes (drawn over the photo) and whether the
/// pointer is on a handle (the tools leave the pointer alone then).
pub(crate) fn ui(
    ui: &mut egui::Ui,
    view: View,
    canvas: Rect,
    document: &mut DocumentState,
    settings: &AreaSettings,
) -> (Vec<egui::Shape>, bool) {
    let Some(Ok(plan)) = document.edit_area(settings) else {
        return (Vec::new(), false);
    };
    let Some(doc) = document.current() else {
        return (Vec::new(), false);
    };
    let photo = doc.image.dimensions();
    let moved = doc.frame.is_some();
    let area = plan.area;
    let to_screen = |x: u32, y: u32| view.image_to_screen(canvas, Pos2::new(x as f32, y as f32));
    let r = Rect::from_min_max(
        to_screen(area.x, area.y),
        to_screen(area.x + area.width, area.y + area.height),
    );
    let mut shapes = Vec::new();
    let colour = if plan.split_advised {
        Color32::from_rgb(255, 170, 60)
    } else {
        Color32::from_rgb(255, 220, 90)
    };
    let corners = [
        r.left_top(),
        r.right_top(),
        r.right_bottom(),
        r.left_bottom(),
        r.left_top(),
    ];
    shapes.push(egui::Shape::line(
        corners.to_vec(),
        Stroke::new(3.0, Color32::from_black_alpha(150)),
    ));
    shapes.extend(egui::Shape::dashed_line(
        &corners,
        Stroke::new(1.5, colour),
        8.0,
        5.0,
    ));

    // The label is the move handle.
    let text = label(&area, photo, moved);
    let font = egui::FontId::proportional(13.0);
    let galley = ui
        .painter()
        .layout_no_wrap(text.clone(), font, Color32::BLACK);
    let pad = Vec2::new(6.0, 3.0);
    let size = galley.size() + pad * 2.0;
    let mut top_left = r.left_top() - Vec2::new(0.0, size.y + 2.0);
    top_left.y = top_left.y.max(canvas.top());
    top_left.x = top_left
        .x
        .clamp(canvas.left(), (canvas.right() - size.x).max(canvas.left()));
    let tab = Rect::from_min_size(top_left, size);
    let id = ui.scope_id().with("edit-area-move");
    let handle = ui.interact(tab, id, Sense::click_and_drag()).on_hover_text(
        "What is sent: drag to move it, drag its corner to resize it, double-click to \
             follow the mask again.",
    );
    handle.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Edit area: {text}"))
    });
    shapes.push(egui::Shape::rect_filled(tab, 4.0, colour));
    shapes.push(egui::Shape::galley(tab.min + pad, galley, Color32::BLACK));

    // The corner is the resize handle.
    let grip = Rect::from_center_size(r.right_bottom(), Vec2::splat(12.0));
    let grip_id = ui.scope_id().with("edit-area-resize");
    let resize = ui
        .interact(grip, grip_id, Sense::drag())
        .on_hover_text("Drag to resize the area sent");
    resize.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Button, true, "Resize the edit area")
    });
    shapes.push(egui::Shape::rect_filled(grip, 2.0, colour));
    shapes.push(egui::Shape::rect_stroke(
        grip,
        2.0,
        Stroke::new(1.0, Color32::BLACK),
        egui::StrokeKind::Inside,
    ));

    let zoom = view.zoom.max(1e-6);
    let (pw, ph) = (photo.0 as f32, photo.1 as f32);
    // Drags are measured from where they began, so slow drags at a high zoom add up.
    let start_key = ui.scope_id().with("edit-area-drag-start");
    if handle.drag_started() || resize.drag_started() {
        ui.data_mut(|d| d.insert_temp(start_key, area));
    }
    let moved_by = |response: &egui::Response| -> Vec2 {
        let origin = ui.ctx().input(|i| i.pointer.press_origin());
        match (origin, response.interact_pointer_pos()) {
            (Some(a), Some(b)) => (b - a) / zoom,
            _ => Vec2::ZERO,
        }
    };
    let start: EditArea = ui.data(|d| d.get_temp(start_key)).unwrap_or(area);
    if handle.double_clicked() {
        if let Some(doc) = document.current_mut() {
            doc.frame = None;
        }
    } else if handle.dragged() {
        let d = moved_by(&handle);
        let x = (start.x as f32 + d.x).clamp(0.0, (pw - start.width as f32).max(0.0));
        let y = (start.y as f32 + d.y).clamp(0.0, (ph - start.height as f32).max(0.0));
        if let Some(doc) = document.current_mut() {
            doc.frame = Some(EditArea::with_rect(
                x.round() as u32,
                y.round() as u32,
                start.width,
                start.height,
            ));
        }
    } else if resize.dragged() {
        let d = moved_by(&resize);
        let w = (start.width as f32 + d.x).clamp(MIN_SIDE.min(pw), pw - start.x as f32);
        let h = (start.height as f32 + d.y).clamp(MIN_SIDE.min(ph), ph - start.y as f32);
        if let Some(doc) = document.current_mut() {
            doc.frame = Some(EditArea::with_rect(
                start.x,
                start.y,
                w.round() as u32,
                h.round() as u32,
            ));
        }
    }
    if handle.hovered() || handle.dragged() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::Grab);
    }
    if resize.hovered() || resize.dragged() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeNwSe);
    }
    let busy = handle.hovered() || handle.dragged() || resize.hovered() || resize.dragged();
    (shapes, busy)
}
