//! The Text tool on the canvas: every text line found in the photo outlined as the rotated box
//! that will be marked (grown by the margin), the line under the pointer highlighted and what
//! was read in it shown beside the pointer, and a click that adds the line to the mask (Alt+click removes it).

use egui::{Color32, Pos2, Rect, Stroke};

use super::super::actions::Action;
use super::super::document::{DocumentState, TextScan};
use super::View;
use crate::mask::Combine;
use crate::text::TextLine;

/// Whether a found line is probably lettering (so "Mask all text" takes it): read with at
/// least 50 % confidence, with a letter or digit in it, and a lone character only when read
/// with at least 80 %. Pictograms read as "R" or "À" at 5–39 % are left out; they stay on the
/// canvas, dimmed, and a click still masks one on purpose.
pub fn likely_text(line: &TextLine) -> bool {
    let letters = line.text.chars().filter(|c| c.is_alphanumeric()).count();
    letters >= 1 && line.confidence >= 0.5 && (letters >= 2 || line.confidence >= 0.8)
}

/// The line under image point `p` (the topmost when boxes overlap: the smallest one).
pub fn line_at(lines: &[TextLine], p: Pos2, margin: f32) -> Option<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.area.contains(p.x, p.y, margin))
        .min_by(|(_, a), (_, b)| {
            (a.area.width() * a.area.height()).total_cmp(&(b.area.width() * b.area.height()))
        })
        .map(|(i, _)| i)
}

/// Pointer input of the Text tool: a click on a line marks it (Alt: unmarks it).
pub fn input(
    ctx: &egui::Context,
    response: &egui::Response,
    view: View,
    canvas: Rect,
    document: &DocumentState,
    margin: f32,
    actions: &mut Vec<Action>,
) {
    let Some(doc) = document.current() else {
        return;
    };
    let lines = doc.text.lines();
    // What was read, beside the pointer while it is over a line.
    if let Some(line) = response
        .hover_pos()
        .and_then(|p| line_at(lines, view.screen_to_image(canvas, p), margin))
        .and_then(|i| lines.get(i))
    {
        let reading = if likely_text(line) {
            format!(
                "Reads \u{201c}{}\u{201d} ({:.0} % sure). Click to mask it, Alt+click to unmask.",
                line.text,
                line.confidence * 100.0
            )
        } else {
            format!(
                "Probably not text: read as \u{201c}{}\u{201d} ({:.0} % sure), so \"Mask all \
                 text\" leaves it out. Click to mask it anyway, Alt+click to unmask.",
                line.text,
                line.confidence * 100.0
            )
        };
        response.clone().on_hover_text_at_pointer(reading);
    }
    if !response.clicked() {
        return;
    }
    let Some(pos) = response.interact_pointer_pos() else {
        return;
    };
    let p = view.screen_to_image(canvas, pos);
    if let Some(i) = line_at(lines, p, margin) {
        let alt = ctx.input(|i| i.modifiers.alt);
        actions.push(Action::MarkText {
            lines: vec![i],
            combine: if alt { Combine::Subtract } else { Combine::Add },
        });
    }
}

/// Draws the outlines (the hovered line filled) and what the search is doing.
pub fn draw(
    painter: &egui::Painter,
    view: View,
    canvas: Rect,
    document: &DocumentState,
    hover: Option<Pos2>,
    margin: f32,
) {
    let Some(doc) = document.current() else {
        return;
    };
    let note = |text: &str| super::note(painter, canvas, text);
    let lines = match &doc.text {
        TextScan::NotStarted => return,
        TextScan::Finding => {
            super::busy_note(painter, canvas, "Finding the text lines…");
            return;
        }
        TextScan::Failed(why) => {
            note(&format!("The text could not be read: {why}"));
            return;
        }
        TextScan::Found(lines) if lines.is_empty() => {
            note("No text was found in this photo.");
            return;
        }
        TextScan::Found(lines) => lines,
    };
    let to_screen = |p: [f32; 2]| view.image_to_screen(canvas, Pos2::new(p[0], p[1]));
    let hovered = hover.and_then(|p| line_at(lines, p, margin));
    for (i, line) in lines.iter().enumerate() {
        let quad: Vec<Pos2> = line.area.outline(margin).map(to_screen).to_vec();
        let on = hovered == Some(i);
        if !likely_text(line) {
            // Probably not text: dimmed and thin, still clickable on purpose.
            let colour = if on {
                Color32::from_rgb(200, 200, 200)
            } else {
                Color32::from_rgba_unmultiplied(170, 170, 170, 120)
            };
            painter.add(egui::Shape::closed_line(quad, Stroke::new(1.0, colour)));
            continue;
        }
        if on {
            painter.add(egui::Shape::convex_polygon(
                quad.clone(),
                Color32::from_rgba_unmultiplied(80, 220, 255, 50),
                Stroke::NONE,
            ));
        }
        painter.add(egui::Shape::closed_line(
            quad.clone(),
            Stroke::new(3.0, Color32::from_black_alpha(150)),
        ));
        painter.add(egui::Shape::closed_line(
            quad,
            Stroke::new(if on { 2.0 } else { 1.2 }, Color32::from_rgb(80, 220, 255)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::TextBox;

    fn line(x0: f32, y0: f32, x1: f32, y1: f32) -> TextLine {
        TextLine {
            text: "x".into(),
            confidence: 1.0,
            area: TextBox {
                corners: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
                angle: 0.0,
                score: 1.0,
            },
        }
    }

    #[test]
    fn pictograms_read_at_low_confidence_are_not_likely_text() {
        let read = |text: &str, confidence: f32| TextLine {
            text: text.into(),
            confidence,
            ..line(0.0, 0.0, 10.0, 10.0)
        };
        assert!(likely_text(&read("OPEN 7AM-3PM", 0.93)));
        assert!(likely_text(&read("Bagels", 0.55)));
        assert!(!likely_text(&read("R", 0.39)));
        assert!(!likely_text(&read("À", 0.05)));
        assert!(!likely_text(&read("R", 0.7)));
        assert!(likely_text(&read("5", 0.9)));
        assert!(!likely_text(&read("·—", 0.9)));
        assert!(!likely_text(&read("EXIT", 0.3)));
    }

    #[test]
    fn the_smallest_line_under_the_pointer_wins_and_the_margin_counts() {
        let lines = vec![line(0.0, 0.0, 200.0, 100.0), line(50.0, 40.0, 90.0, 60.0)];
        assert_eq!(line_at(&lines, Pos2::new(60.0, 50.0), 0.0), Some(1));
        assert_eq!(line_at(&lines, Pos2::new(150.0, 50.0), 0.0), Some(0));
        assert_eq!(line_at(&lines, Pos2::new(205.0, 50.0), 0.0), None);
        assert_eq!(line_at(&lines, Pos2::new(205.0, 50.0), 8.0), Some(0));
    }
}
