//! The Object tool on the canvas: the object under the pointer outlined (decoded in the
//! background, one at a time), the pending selection outlined boldly, a box being dragged, and
//! the pointer and keys turned into actions.

use egui::{Color32, Pos2, Rect, Stroke};

use super::super::actions::Action;
use super::super::document::DocumentState;
use super::super::object_tool::{ObjectInput, ObjectScan};
use super::View;
use crate::mask::Combine;

/// A drag shorter than this (screen points) is a click.
const MIN_BOX: f32 = 6.0;

/// Pointer and key input of the Object tool. `drag_from` keeps where a box drag started
/// (photo pixels).
#[allow(clippy::too_many_arguments)]
pub fn input(
    ctx: &egui::Context,
    response: &egui::Response,
    view: View,
    canvas: Rect,
    document: &DocumentState,
    drag_from: &mut Option<Pos2>,
    actions: &mut Vec<Action>,
) {
    let Some(doc) = document.current() else {
        return;
    };
    let state = &doc.object;
    let to_image = |p: Pos2| view.screen_to_image(canvas, p);
    let (alt, shift, press_origin) =
        ctx.input(|i| (i.modifiers.alt, i.modifiers.shift, i.pointer.press_origin()));
    // The outline follows the pointer (throttled in `object_tool::hover`).
    let hover = response.hover_pos().map(to_image);
    let dragging = response.dragged() || drag_from.is_some();
    let wanted = if dragging { None } else { hover };
    let changed = match (wanted, state.hover_wanted) {
        (Some(a), Some(b)) => a.distance(b) >= 1.0,
        (None, None) => false,
        _ => true,
    };
    if changed {
        actions.push(Action::ObjectHover(wanted));
    }
    // A drag that ended out of sight (another tool, a lost release) is forgotten.
    if drag_from.is_some() && !response.drag_stopped() && !ctx.input(|i| i.pointer.primary_down()) {
        *drag_from = None;
    }
    if response.drag_started_by(egui::PointerButton::Primary) {
        *drag_from = press_origin
            .or(response.interact_pointer_pos())
            .map(to_image);
    }
    if response.drag_stopped() {
        if let (Some(from), Some(to)) = (drag_from.take(), response.interact_pointer_pos()) {
            let to = to_image(to);
            if view
                .image_to_screen(canvas, from)
                .distance(view.image_to_screen(canvas, to))
                >= MIN_BOX
            {
                actions.push(Action::Object(ObjectInput::Box { from, to, alt }));
            } else {
                actions.push(Action::Object(ObjectInput::Click {
                    at: from,
                    alt,
                    shift,
                }));
            }
        }
        return;
    }
    if response.clicked()
        && let Some(at) = response.interact_pointer_pos()
    {
        actions.push(Action::Object(ObjectInput::Click {
            at: to_image(at),
            alt,
            shift,
        }));
    }
    if state.pending.is_some() && !ctx.egui_wants_keyboard_input() {
        ctx.input_mut(|i| {
            if i.consume_key(egui::Modifiers::NONE, egui::Key::Enter) {
                actions.push(Action::Object(ObjectInput::Commit));
            }
            if i.consume_key(egui::Modifiers::NONE, egui::Key::Escape) {
                actions.push(Action::Object(ObjectInput::Cancel));
            }
        });
    }
}

fn segments(
    painter: &egui::Painter,
    lines: &[[Pos2; 2]],
    to_screen: impl Fn(Pos2) -> Pos2,
    width: f32,
    colour: Color32,
) {
    for [a, b] in lines {
        let (a, b) = (to_screen(*a), to_screen(*b));
        painter.line_segment(
            [a, b],
            Stroke::new(width + 2.0, Color32::from_black_alpha(150)),
        );
    }
    for [a, b] in lines {
        let (a, b) = (to_screen(*a), to_screen(*b));
        painter.line_segment([a, b], Stroke::new(width, colour));
    }
}

/// Draws the hover outline, the pending selection and what the encoder is doing.
pub fn draw(
    painter: &egui::Painter,
    view: View,
    canvas: Rect,
    document: &DocumentState,
    drag: Option<(Pos2, Pos2)>,
) {
    let Some(doc) = document.current() else {
        return;
    };
    let note = |text: &str| super::note(painter, canvas, text);
    match &doc.object.scan {
        ObjectScan::NotStarted => return,
        ObjectScan::Encoding => {
            super::busy_note(painter, canvas, "Looking at the photo…");
            return;
        }
        ObjectScan::Failed(why) => {
            note(&format!("The Object tool cannot look at this photo: {why}"));
            return;
        }
        ObjectScan::Ready(_) => {}
    }
    let to_screen = |p: Pos2| view.image_to_screen(canvas, p);
    let cyan = Color32::from_rgb(80, 220, 255);
    let orange = Color32::from_rgb(255, 170, 60);
    if let Some((_, lines)) = &doc.object.hover
        && drag.is_none()
    {
        segments(
            painter,
            lines,
            to_screen,
            1.2,
            Color32::from_rgb(230, 250, 255),
        );
    }
    if let Some(p) = &doc.object.pending
        && p.generation == document.generation
    {
        let colour = match p.combine {
            Combine::Add => cyan,
            Combine::Subtract => orange,
        };
        segments(painter, &p.outline, to_screen, 2.0, colour);
    }
    if let Some((a, b)) = drag {
        let r = Rect::from_two_pos(to_screen(a), to_screen(b));
        painter.rect_stroke(
            r,
            0.0,
            Stroke::new(3.0, Color32::from_black_alpha(160)),
            egui::StrokeKind::Middle,
        );
        painter.rect_stroke(r, 0.0, Stroke::new(1.5, cyan), egui::StrokeKind::Middle);
    }
    if doc.object.decoding > 0 {
        painter
            .ctx()
            .request_repaint_after(std::time::Duration::from_millis(50));
    }
}
