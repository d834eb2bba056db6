//! Every user action is a [`Command`]: menu items, buttons and shortcuts all emit one, and the
//! app applies it in one place. The shortcut table lives here, with a test that no two clash.

use egui::{Key, KeyboardShortcut, Modifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Open,
    OpenDemo,
    PasteImage,
    LoadMask,
    SaveMask,
    CopyMaskDataUri,
    Undo,
    Redo,
    RedoAlt,
    ToolBrush,
    ToolEraser,
    SwapBrushEraser,
    ToolRectangle,
    ToolPolygon,
    ToolLasso,
    ToolWand,
    ToolText,
    ToolObject,
    MaskAllText,
    GrowMask,
    ShrinkMask,
    FeatherMask,
    FillHoles,
    BrushSmaller,
    BrushBigger,
    ToggleMask,
    ClearMask,
    InvertMask,
    FillMask,
    ZoomFit,
    ZoomActual,
    ZoomIn,
    ZoomOut,
    ShowShortcuts,
    ToggleCompare,
    SaveResult,
    SaveKept,
    ExportComparison,
}

impl Command {
    /// Commands that have a keyboard shortcut, most specific first (Ctrl+Shift+Z before
    /// Ctrl+Z) so a shorter chord never swallows a longer one.
    pub const WITH_SHORTCUTS: &[Command] = &[
        Command::Redo,
        Command::CopyMaskDataUri,
        Command::RedoAlt,
        Command::Undo,
        Command::Open,
        Command::SaveResult,
        Command::SaveMask,
        Command::ExportComparison,
        Command::PasteImage,
        Command::ZoomIn,
        Command::ZoomOut,
        Command::BrushSmaller,
        Command::BrushBigger,
        Command::ToolBrush,
        Command::ToolEraser,
        Command::SwapBrushEraser,
        Command::ToolRectangle,
        Command::ToolPolygon,
        Command::ToolLasso,
        Command::ToolWand,
        Command::ToolText,
        Command::ToolObject,
        Command::ToggleMask,
        Command::ZoomFit,
        Command::ZoomActual,
        Command::ShowShortcuts,
        Command::ToggleCompare,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Command::Open => "Open image…",
            Command::OpenDemo => "Open demo image",
            Command::PasteImage => "Paste image",
            Command::LoadMask => "Load mask…",
            Command::SaveMask => "Save mask…",
            Command::CopyMaskDataUri => "Copy mask as data URI",
            Command::Undo => "Undo",
            Command::Redo | Command::RedoAlt => "Redo",
            Command::ToolBrush => "Brush",
            Command::ToolEraser => "Eraser",
            Command::SwapBrushEraser => "Swap brush/eraser",
            Command::ToolRectangle => "Rectangle",
            Command::ToolPolygon => "Polygon",
            Command::ToolLasso => "Lasso",
            Command::ToolWand => "Magic wand",
            Command::ToolText => "Text lines",
            Command::ToolObject => "Object",
            Command::MaskAllText => "Mask all text",
            Command::GrowMask => "Grow mask",
            Command::ShrinkMask => "Shrink mask",
            Command::FeatherMask => "Feather mask",
            Command::FillHoles => "Fill holes",
            Command::BrushSmaller => "Smaller brush",
            Command::BrushBigger => "Bigger brush",
            Command::ToggleMask => "Show/hide mask",
            Command::ClearMask => "Clear mask",
            Command::InvertMask => "Invert mask",
            Command::FillMask => "Fill all",
            Command::ZoomFit => "Fit to window",
            Command::ZoomActual => "Actual size (100 %)",
            Command::ZoomIn => "Zoom in",
            Command::ZoomOut => "Zoom out",
            Command::ShowShortcuts => "Keyboard shortcuts",
            Command::ToggleCompare => "Compare results / edit mask",
            Command::SaveResult => "Save selected result…",
            Command::SaveKept => "Save kept results…",
            Command::ExportComparison => "Export before/after…",
        }
    }

    pub fn shortcut(self) -> Option<KeyboardShortcut> {
        let cmd = Modifiers::COMMAND;
        let cmd_shift = Modifiers::COMMAND | Modifiers::SHIFT;
        let none = Modifiers::NONE;
        let s = |m, k| Some(KeyboardShortcut::new(m, k));
        match self {
            Command::Open => s(cmd, Key::O),
            Command::PasteImage => s(cmd, Key::V),
            Command::SaveMask => s(cmd, Key::S),
            Command::CopyMaskDataUri => s(cmd_shift, Key::C),
            Command::Undo => s(cmd, Key::Z),
            Command::Redo => s(cmd_shift, Key::Z),
            Command::RedoAlt => s(cmd, Key::Y),
            Command::ToolBrush => s(none, Key::B),
            Command::ToolEraser => s(none, Key::E),
            Command::SwapBrushEraser => s(none, Key::X),
            Command::ToolRectangle => s(none, Key::R),
            Command::ToolPolygon => s(none, Key::P),
            Command::ToolLasso => s(none, Key::L),
            Command::ToolWand => s(none, Key::W),
            Command::ToolText => s(none, Key::T),
            Command::ToolObject => s(none, Key::O),
            Command::BrushSmaller => s(none, Key::OpenBracket),
            Command::BrushBigger => s(none, Key::CloseBracket),
            Command::ToggleMask => s(none, Key::H),
            Command::ZoomFit => s(none, Key::F),
            Command::ZoomActual => s(none, Key::Num1),
            Command::ZoomIn => s(cmd, Key::Plus),
            Command::ZoomOut => s(cmd, Key::Minus),
            Command::ShowShortcuts => s(none, Key::F1),
            Command::ToggleCompare => s(none, Key::C),
            Command::SaveResult => s(cmd_shift, Key::S),
            Command::ExportComparison => s(cmd, Key::E),
            Command::OpenDemo
            | Command::SaveKept
            | Command::LoadMask
            | Command::ClearMask
            | Command::InvertMask
            | Command::FillMask
            | Command::MaskAllText
            | Command::GrowMask
            | Command::ShrinkMask
            | Command::FeatherMask
            | Command::FillHoles => None,
        }
    }

    /// Does the shortcut act while a text field has the keyboard? Single keys and editing
    /// chords (undo, paste) belong to the text field then.
    pub fn works_while_typing(self) -> bool {
        matches!(
            self,
            Command::Open
                | Command::SaveMask
                | Command::CopyMaskDataUri
                | Command::SaveResult
                | Command::ExportComparison
        )
    }
}

/// Reads this frame's shortcuts (consuming their key presses). While comparing, single keys
/// belong to the compare view, except the ones that leave it or show help.
pub fn from_shortcuts(ctx: &egui::Context, comparing: bool) -> Vec<Command> {
    let typing = ctx.egui_wants_keyboard_input();
    let mut out = Vec::new();
    ctx.input_mut(|i| {
        for &command in Command::WITH_SHORTCUTS {
            if typing && !command.works_while_typing() {
                continue;
            }
            let single_key = command.shortcut().is_some_and(|sc| sc.modifiers.is_none());
            if comparing
                && single_key
                && !matches!(command, Command::ToggleCompare | Command::ShowShortcuts)
            {
                continue;
            }
            if let Some(sc) = command.shortcut()
                && i.consume_shortcut(&sc)
            {
                out.push(command);
            }
        }
    });
    out
}

/// A key as the help and tooltips show it, in glyphs egui's bundled fonts have (egui's own
/// arrow symbols draw as missing-glyph boxes): "←", "[", "F1".
pub fn key_text(key: Key) -> &'static str {
    match key {
        Key::ArrowLeft => "←",
        Key::ArrowRight => "→",
        Key::ArrowUp => "↑",
        Key::ArrowDown => "↓",
        Key::Num1 => "1",
        _ => key.symbol_or_name(),
    }
}

/// A shortcut as the help shows it: "Ctrl+Shift+Z", "[", "F1".
pub fn keys_text(sc: &KeyboardShortcut) -> String {
    let mods = egui::ModifierNames::NAMES.format(&sc.modifiers, cfg!(target_os = "macos"));
    let key = key_text(sc.logical_key);
    if mods.is_empty() {
        key.to_string()
    } else {
        format!("{mods}+{key}")
    }
}

/// The keyboard help, grouped by what the keys do: (group, [(what, keys)]). Every command
/// with a shortcut appears once (Redo with both of its chords), and the compare view's keys
/// and the pointer gestures are listed with them.
pub fn shortcut_sheet() -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    use super::results::compare::{
        CompareMode, SHORTCUT_ACTUAL_SIZE, SHORTCUT_DISCARD, SHORTCUT_FIT, SHORTCUT_HEATMAP,
        SHORTCUT_HOLD_ORIGINAL, SHORTCUT_KEEP, SHORTCUT_NEXT, SHORTCUT_PREVIOUS,
    };
    let keys = |c: Command| c.shortcut().map(|sc| keys_text(&sc)).unwrap_or_default();
    let rows = |commands: &[Command]| -> Vec<(&'static str, String)> {
        commands.iter().map(|&c| (c.label(), keys(c))).collect()
    };
    let mut edit = rows(&[Command::Undo]);
    edit.push((
        Command::Redo.label(),
        format!("{} or {}", keys(Command::Redo), keys(Command::RedoAlt)),
    ));
    edit.push((
        "Submit the edit",
        keys_text(&super::edit_panel::form::SHORTCUT_SUBMIT),
    ));
    let mut tools = rows(&[
        Command::ToolBrush,
        Command::ToolEraser,
        Command::SwapBrushEraser,
        Command::ToolRectangle,
        Command::ToolPolygon,
        Command::ToolLasso,
        Command::ToolWand,
        Command::ToolText,
        Command::ToolObject,
        Command::BrushSmaller,
        Command::BrushBigger,
        Command::ToggleMask,
    ]);
    tools.push(("Straight line from the last point", "Shift+click".into()));
    tools.push((
        "Subtract from the mask (selection tools)",
        "Alt+drag".into(),
    ));
    tools.push(("Unmask a text line (Text tool)", "Alt+click".into()));
    tools.push((
        "Object tool: remove an object; in a pending selection, a background point",
        "Alt+click".into(),
    ));
    tools.push((
        "Object tool: next candidate (part / whole)",
        "Shift+click".into(),
    ));
    let mut view = rows(&[
        Command::ZoomFit,
        Command::ZoomActual,
        Command::ZoomIn,
        Command::ZoomOut,
    ]);
    view.push(("Pan", "Space+drag, middle-drag".into()));
    view.push((
        "Zoom at the pointer (stops at 100 %)",
        "Wheel, pinch".into(),
    ));
    let key = |k: egui::Key| key_text(k).to_string();
    let mut compare = rows(&[Command::ToggleCompare]);
    for mode in CompareMode::ALL {
        compare.push((mode.label(), key(mode.shortcut())));
    }
    compare.extend([
        ("Hold to see the original", key(SHORTCUT_HOLD_ORIGINAL)),
        ("Heatmap of changes outside the mask", key(SHORTCUT_HEATMAP)),
        (
            "Actual size (100 %) at the pointer / fit",
            format!("{} / {}", key(SHORTCUT_ACTUAL_SIZE), key(SHORTCUT_FIT)),
        ),
        (
            "Previous / next result",
            format!("{} / {}", key(SHORTCUT_PREVIOUS), key(SHORTCUT_NEXT)),
        ),
        ("Keep (star) the result", key(SHORTCUT_KEEP)),
        ("Discard or restore the result", key(SHORTCUT_DISCARD)),
    ]);
    vec![
        (
            "Files",
            rows(&[
                Command::Open,
                Command::PasteImage,
                Command::SaveMask,
                Command::CopyMaskDataUri,
                Command::SaveResult,
                Command::ExportComparison,
            ]),
        ),
        ("Edit", edit),
        ("Mask tools", tools),
        ("View", view),
        ("Compare", compare),
        ("Help", rows(&[Command::ShowShortcuts])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_commands_share_a_shortcut_and_the_table_is_complete() {
        let mut seen = std::collections::HashMap::new();
        for &c in Command::WITH_SHORTCUTS {
            let sc = c.shortcut().expect("listed commands have shortcuts");
            if let Some(other) = seen.insert(
                (
                    sc.modifiers.command,
                    sc.modifiers.shift,
                    sc.modifiers.alt,
                    sc.logical_key,
                ),
                c,
            ) {
                panic!("{c:?} and {other:?} share a shortcut");
            }
        }
        // Every command with a shortcut is in the table (so it is actually checked each frame).
        let all = [
            Command::Open,
            Command::OpenDemo,
            Command::PasteImage,
            Command::LoadMask,
            Command::SaveMask,
            Command::CopyMaskDataUri,
            Command::Undo,
            Command::Redo,
            Command::RedoAlt,
            Command::ToolBrush,
            Command::ToolEraser,
            Command::SwapBrushEraser,
            Command::ToolRectangle,
            Command::ToolPolygon,
            Command::ToolLasso,
            Command::ToolWand,
            Command::ToolText,
            Command::ToolObject,
            Command::MaskAllText,
            Command::GrowMask,
            Command::ShrinkMask,
            Command::FeatherMask,
            Command::FillHoles,
            Command::BrushSmaller,
            Command::BrushBigger,
            Command::ToggleMask,
            Command::ClearMask,
            Command::InvertMask,
            Command::FillMask,
            Command::ZoomFit,
            Command::ZoomActual,
            Command::ZoomIn,
            Command::ZoomOut,
            Command::ShowShortcuts,
            Command::ToggleCompare,
            Command::SaveResult,
            Command::SaveKept,
            Command::ExportComparison,
        ];
        for c in all {
            assert_eq!(
                c.shortcut().is_some(),
                Command::WITH_SHORTCUTS.contains(&c),
                "{c:?}"
            );
        }
    }

    #[test]
    fn the_shortcut_help_lists_each_key_once_as_typed() {
        let sheet = shortcut_sheet();
        let rows: Vec<&(&str, String)> = sheet.iter().flat_map(|(_, r)| r).collect();
        let count = |what: &str| rows.iter().filter(|(w, _)| *w == what).count();
        assert_eq!(count("Redo"), 1, "Redo is listed once");
        let redo = rows.iter().find(|(w, _)| *w == "Redo").unwrap();
        assert!(redo.1.contains("Z") && redo.1.contains("Y"), "{}", redo.1);
        let keys_of = |what: &str| rows.iter().find(|(w, _)| *w == what).map(|r| r.1.clone());
        assert_eq!(keys_of("Smaller brush").as_deref(), Some("["));
        assert_eq!(keys_of("Bigger brush").as_deref(), Some("]"));
        assert_eq!(keys_of("Keep (star) the result").as_deref(), Some("K"));
        assert!(keys_of("Submit the edit").is_some_and(|k| k.ends_with("+Enter")));
        for &c in Command::WITH_SHORTCUTS {
            assert!(count(c.label()) >= 1, "{} is in the help", c.label());
        }
        assert!(rows.iter().all(|(_, k)| !k.contains("Bracket")));
    }

    #[test]
    fn every_key_in_the_help_draws_with_the_bundled_fonts() {
        let ctx = egui::Context::default();
        let mut output = ctx.run_ui(Default::default(), |_| {});
        output.textures_delta.clear();
        // The list draws the keys in the monospace font (egui's Hack, which has arrows; its
        // proportional font has none, and egui's own arrow symbols are in neither).
        let font = egui::FontId::monospace(13.0);
        for (_, rows) in shortcut_sheet() {
            for (what, keys) in rows {
                let drawn = ctx.fonts_mut(|f| f.has_glyphs(&font, &keys));
                assert!(drawn, "{what}: '{keys}' has glyphs the fonts lack");
            }
        }
        let next = shortcut_sheet()
            .into_iter()
            .flat_map(|(_, r)| r)
            .find(|(w, _)| *w == "Previous / next result")
            .map(|(_, k)| k);
        assert_eq!(next.as_deref(), Some("← / →"));
    }

    #[test]
    fn longer_chords_are_checked_before_their_prefixes() {
        let pos = |c| {
            Command::WITH_SHORTCUTS
                .iter()
                .position(|&x| x == c)
                .unwrap()
        };
        assert!(pos(Command::Redo) < pos(Command::Undo));
        assert!(pos(Command::SaveResult) < pos(Command::SaveMask));
    }
}
