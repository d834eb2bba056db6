//! The left panel: the mask tools, brush, mask operations, overlay, and the export with its
//! preview of exactly what will be sent. It edits the tool settings and pushes commands.

use super::actions::Action;
use super::canvas::Tool;
use super::canvas::gesture::SelectionTool;
use super::commands::Command;
use super::document::DocumentState;
use super::settings::Settings;
use crate::mask::{Brush, Polarity};

fn push_button(
    ui: &mut egui::Ui,
    actions: &mut Vec<Action>,
    label: &str,
    command: Command,
    enabled: bool,
) {
    if ui
        .add_enabled(enabled, egui::Button::new(label))
        .on_hover_text(command.label())
        .clicked()
    {
        actions.push(Action::Command(command));
    }
}

/// The mask tools, each with its icon (Material Symbols, from `egui_material_icons`).
pub(crate) const TOOLS: [(Tool, Command, egui_material_icons::MaterialIcon); 8] = {
    use egui_material_icons::icons::*;
    [
        (Tool::Brush, Command::ToolBrush, ICON_BRUSH),
        (Tool::Eraser, Command::ToolEraser, ICON_INK_ERASER),
        (
            Tool::Select(SelectionTool::Rectangle),
            Command::ToolRectangle,
            ICON_CROP_SQUARE,
        ),
        (
            Tool::Select(SelectionTool::Polygon),
            Command::ToolPolygon,
            ICON_POLYLINE,
        ),
        (
            Tool::Select(SelectionTool::Lasso),
            Command::ToolLasso,
            ICON_LASSO_SELECT,
        ),
        (
            Tool::Select(SelectionTool::Wand),
            Command::ToolWand,
            ICON_AUTO_FIX,
        ),
        (Tool::Text, Command::ToolText, ICON_TEXT_FIELDS),
        (Tool::Object, Command::ToolObject, ICON_CATEGORY),
    ]
};

/// The tool strip: one icon button per tool, the current one selected; each tooltip names the
/// tool and its shortcut ("Brush (B)"), and each button carries the tool's name for screen
/// readers.
fn tool_strip(ui: &mut egui::Ui, tool: Tool, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 2.0;
        for (t, command, icon) in TOOLS {
            let name = command.label();
            let tip = match command.shortcut() {
                Some(sc) => format!("{name} ({})", super::commands::keys_text(&sc)),
                None => name.to_string(),
            };
            let selected = tool == t;
            let button = egui::Button::selectable(selected, icon.rich_text().size(22.0))
                .min_size(egui::vec2(34.0, 34.0));
            let response = ui.add(button);
            response.widget_info(|| {
                egui::WidgetInfo::selected(egui::Role::Button, true, selected, name)
            });
            if response.on_hover_text(tip).clicked() {
                actions.push(Action::Command(command));
            }
        }
    });
    // The current tool by name, so the strip never leaves one guessing.
    if let Some((_, command, _)) = TOOLS.iter().find(|(t, _, _)| *t == tool) {
        ui.weak(format!("Tool: {}", command.label()));
    }
}

pub(crate) fn ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    tool: Tool,
    document: &mut DocumentState,
    actions: &mut Vec<Action>,
) {
    let has_doc = document.current().is_some();
    ui.heading("Mask");
    tool_strip(ui, tool, actions);
    if let Tool::Select(t) = tool {
        ui.weak(match t {
            SelectionTool::Rectangle => "Drag a box (Shift: square). Alt subtracts.",
            SelectionTool::Polygon => {
                "Click corners; double-click or Enter closes, Backspace removes a corner, Esc cancels. Alt subtracts."
            }
            SelectionTool::Lasso => "Draw around the area. Alt subtracts.",
            SelectionTool::Wand => "Click a flat colour area. Alt subtracts.",
        });
    }
    if tool == Tool::Text {
        text_tool_ui(ui, settings, document, actions);
    }
    if tool == Tool::Object {
        object_tool_ui(ui, document);
    }
    ui.add(egui::Slider::new(&mut settings.wand_tolerance, 0.0..=100.0).text("Wand tolerance"));
    ui.add(
        egui::Slider::new(&mut settings.brush_size, Brush::MIN_SIZE..=Brush::MAX_SIZE)
            .logarithmic(true)
            .suffix(" px")
            .text("Brush size"),
    );
    let mut hardness = settings.brush_hardness * 100.0;
    if ui
        .add(
            egui::Slider::new(&mut hardness, 0.0..=100.0)
                .suffix(" %")
                .text("Hardness"),
        )
        .changed()
    {
        settings.brush_hardness = hardness / 100.0;
    }
    ui.horizontal(|ui| {
        push_button(ui, actions, "Clear", Command::ClearMask, true);
        push_button(ui, actions, "Invert", Command::InvertMask, true);
        push_button(ui, actions, "Fill", Command::FillMask, true);
    });
    ui.horizontal(|ui| {
        ui.add(
            egui::DragValue::new(&mut settings.grow_px)
                .range(1..=500)
                .suffix(" px"),
        )
        .on_hover_text("Pixels to grow or shrink by");
        push_button(ui, actions, "Grow", Command::GrowMask, true);
        push_button(ui, actions, "Shrink", Command::ShrinkMask, true);
    });
    ui.horizontal(|ui| {
        ui.add(
            egui::DragValue::new(&mut settings.feather_px)
                .range(0.5..=100.0)
                .suffix(" px"),
        )
        .on_hover_text("Feather radius");
        push_button(ui, actions, "Feather", Command::FeatherMask, true);
        push_button(ui, actions, "Fill holes", Command::FillHoles, true);
    });
    ui.separator();
    ui.label("Overlay");
    ui.checkbox(&mut settings.show_mask, "Show mask (H)");
    ui.horizontal(|ui| {
        let label = ui.label("Colour");
        ui.color_edit_button_srgb(&mut settings.overlay_color)
            .labelled_by(label.id);
    });
    let mut opacity = settings.overlay_opacity * 100.0;
    if ui
        .add(
            egui::Slider::new(&mut opacity, 5.0..=100.0)
                .suffix(" %")
                .text("Opacity"),
        )
        .changed()
    {
        settings.overlay_opacity = opacity / 100.0;
    }
    ui.separator();
    ui.label("Export");
    for p in Polarity::ALL {
        ui.radio_value(&mut settings.polarity, p, p.label());
    }
    document.export_preview_ui(ui, settings.polarity);
    ui.horizontal_wrapped(|ui| {
        push_button(
            ui,
            actions,
            "Copy data URI",
            Command::CopyMaskDataUri,
            has_doc,
        );
        push_button(ui, actions, "Save…", Command::SaveMask, has_doc);
        push_button(ui, actions, "Load…", Command::LoadMask, has_doc);
    });
}

/// The Text tool's part: what the search found, "Mask all text" and the margin.
fn text_tool_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    document: &DocumentState,
    actions: &mut Vec<Action>,
) {
    use super::document::TextScan;
    ui.weak("Click a text line to mask it; Alt+click unmasks it.");
    let scan = document.current().map(|d| &d.text);
    let found = match scan {
        Some(TextScan::Finding) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Finding the text lines…");
            });
            0
        }
        Some(TextScan::Found(lines)) => {
            ui.label(match lines.len() {
                0 => "No text found in this photo.".to_string(),
                1 => "1 text line found.".to_string(),
                n => format!("{n} text lines found."),
            });
            // What the offline re-lettering will match, line by line.
            let styles = document.current().map_or(&[][..], |d| &d.text_styles[..]);
            if !lines.is_empty() {
                egui::CollapsingHeader::new("Lettering styles")
                    .default_open(true)
                    .show(ui, |ui| {
                        for (i, line) in lines.iter().enumerate() {
                            let style = styles
                                .get(i)
                                .and_then(Option::as_deref)
                                .unwrap_or("style not measured");
                            let text = format!("\u{201c}{}\u{201d}: {style}", line.text);
                            ui.add(egui::Label::new(egui::RichText::new(&text).small()).truncate())
                                .on_hover_text(&text);
                        }
                    });
            }
            lines.len()
        }
        Some(TextScan::Failed(why)) => {
            ui.add(
                egui::Label::new(
                    egui::RichText::new(format!("Could not read the text: {why}"))
                        .color(ui.visuals().error_fg_color),
                )
                .wrap(),
            );
            0
        }
        Some(TextScan::NotStarted) | None => 0,
    };
    push_button(
        ui,
        actions,
        "Mask all text",
        Command::MaskAllText,
        found > 0,
    );
    ui.add(
        egui::Slider::new(&mut settings.text_margin, 0.0..=64.0)
            .suffix(" px")
            .text("Text margin"),
    )
    .on_hover_text("Pixels added around each text line that is masked");
}

/// The Object tool's part: what the encoder is doing, and how to use the tool.
fn object_tool_ui(ui: &mut egui::Ui, document: &DocumentState) {
    use super::object_tool::ObjectScan;
    ui.weak(
        "Click an object to select it; Alt+click removes one. Click inside the new selection to \
         refine it (Alt: leave that part out), Shift+click for part / whole, drag a box. Enter \
         or a click elsewhere closes it, Esc takes it back.",
    );
    match document.current().map(|d| &d.object.scan) {
        Some(ObjectScan::Encoding) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Looking at the photo…");
            });
        }
        Some(ObjectScan::Ready(_)) => {
            ui.label("Ready: point at an object.");
        }
        Some(ObjectScan::Failed(why)) => {
            ui.add(
                egui::Label::new(
                    egui::RichText::new(format!("Cannot look at this photo: {why}"))
                        .color(ui.visuals().error_fg_color),
                )
                .wrap(),
            );
        }
        Some(ObjectScan::NotStarted) | None => {}
    }
}
