//! The menu bar: every item emits the same command as its shortcut and buttons, with the
//! shortcut shown beside it.

use super::actions::Action;
use super::commands::Command;

/// What the menus need to know to enable their items.
pub(crate) struct MenuState {
    pub has_doc: bool,
    pub has_results: bool,
    pub can_undo: bool,
    pub can_redo: bool,
}

fn item(ui: &mut egui::Ui, actions: &mut Vec<Action>, command: Command, enabled: bool) {
    let mut button = egui::Button::new(command.label());
    if let Some(sc) = command.shortcut() {
        button = button.shortcut_text(ui.ctx().format_shortcut(&sc));
    }
    if ui.add_enabled(enabled, button).clicked() {
        actions.push(Action::Command(command));
        ui.close();
    }
}

pub(crate) fn ui(ui: &mut egui::Ui, state: &MenuState, actions: &mut Vec<Action>) {
    let MenuState {
        has_doc,
        has_results,
        can_undo,
        can_redo,
    } = *state;
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            item(ui, actions, Command::Open, true);
            item(ui, actions, Command::OpenDemo, true);
            item(ui, actions, Command::PasteImage, true);
            ui.separator();
            item(ui, actions, Command::LoadMask, has_doc);
            item(ui, actions, Command::SaveMask, has_doc);
            item(ui, actions, Command::CopyMaskDataUri, has_doc);
            ui.separator();
            item(ui, actions, Command::SaveResult, has_results);
            item(ui, actions, Command::SaveKept, has_results);
            item(ui, actions, Command::ExportComparison, has_results);
            ui.separator();
            if ui.button("Quit").clicked() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("Edit", |ui| {
            item(ui, actions, Command::Undo, can_undo);
            item(ui, actions, Command::Redo, can_redo);
            ui.separator();
            item(ui, actions, Command::ClearMask, has_doc);
            item(ui, actions, Command::InvertMask, has_doc);
            item(ui, actions, Command::FillMask, has_doc);
        });
        ui.menu_button("View", |ui| {
            item(ui, actions, Command::ZoomFit, has_doc);
            item(ui, actions, Command::ZoomActual, has_doc);
            item(ui, actions, Command::ZoomIn, has_doc);
            item(ui, actions, Command::ZoomOut, has_doc);
            item(ui, actions, Command::ToggleMask, has_doc);
        });
        ui.menu_button("Settings", |ui| {
            if ui.button("Runware API key…").clicked() {
                actions.push(Action::OpenKeyDialog);
                ui.close();
            }
        });
        ui.menu_button("Help", |ui| {
            item(ui, actions, Command::ShowShortcuts, true);
        });
    });
}
