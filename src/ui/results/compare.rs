//! The compare view: the original and the results side by side, as a swipe with a draggable
//! divider, as a flip (hold Tab or press "Show original"), or as a grid of every result. All
//! panes share one [`View`], so zoom and pan stay in step across panes and across views.
//!
//! The widget draws textures it is given and never uploads any: switching views or results
//! costs no GPU upload. Keeping and discarding results are returned as [`CompareAction`]s for
//! the caller to apply (and record in the history).

use egui::{
    Align2, Color32, FontId, Key, Modifiers, Pos2, Rect, Response, Role, Sense, Stroke, StrokeKind,
    TextureHandle, Vec2, WidgetInfo,
};

use super::super::canvas::View;
use super::super::canvas::view::WheelZoom;
use crate::compare::OutsideFigures;

/// How the original and the results are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum CompareMode {
    /// Original left, selected result right.
    #[default]
    SideBySide,
    /// One image; the original left of a draggable divider, the result right of it.
    Swipe,
    /// The result, or the original in its place while Tab is held or "Show original" is on.
    Flip,
    /// The original and every result as tiles.
    Grid,
}

impl CompareMode {
    pub const ALL: [CompareMode; 4] = [
        CompareMode::SideBySide,
        CompareMode::Swipe,
        CompareMode::Flip,
        CompareMode::Grid,
    ];

    /// The button label (also its accessible name).
    pub fn label(self) -> &'static str {
        match self {
            CompareMode::SideBySide => "Side by side",
            CompareMode::Swipe => "Swipe",
            CompareMode::Flip => "Flip",
            CompareMode::Grid => "Grid",
        }
    }

    /// The key (no modifier) that switches to this view.
    pub fn shortcut(self) -> Key {
        match self {
            CompareMode::SideBySide => Key::S,
            CompareMode::Swipe => Key::W,
            CompareMode::Flip => Key::T,
            CompareMode::Grid => Key::G,
        }
    }
}

/// Hold to see the original in place of the result, in every view.
pub const SHORTCUT_HOLD_ORIGINAL: Key = Key::Tab;
/// Toggle the outside-mask heatmap.
pub const SHORTCUT_HEATMAP: Key = Key::M;
/// Select the previous / next result.
pub const SHORTCUT_PREVIOUS: Key = Key::ArrowLeft;
pub const SHORTCUT_NEXT: Key = Key::ArrowRight;
/// 100 % at the pointer, and fit: the same keys as on the mask canvas.
pub const SHORTCUT_ACTUAL_SIZE: Key = Key::Num1;
pub const SHORTCUT_FIT: Key = Key::F;
/// Keep (star) or unkeep the selected result.
pub const SHORTCUT_KEEP: Key = Key::K;
/// Discard (or restore) the selected result.
pub const SHORTCUT_DISCARD: Key = Key::D;

/// One result's textures and state, as the caller holds them.
#[derive(Clone, Copy)]
pub struct ResultTextures<'a> {
    pub image: &'a TextureHandle,
    /// The outside-mask heatmap overlay, same extent as the image.
    pub heatmap: Option<&'a TextureHandle>,
    pub figures: Option<&'a OutsideFigures>,
    pub kept: bool,
    pub discarded: bool,
    /// Where the prompt's quoted strings were read (image pixels): outlined on the result.
    pub lettering: &'a [crate::text::Quad],
}

/// What the widget draws this frame.
#[derive(Clone, Copy)]
pub struct CompareInputs<'a> {
    pub original: &'a TextureHandle,
    /// The original's size in image pixels (textures may be downscaled; they are stretched to
    /// this extent, so every pane shares image coordinates).
    pub image_size: Vec2,
    pub results: &'a [ResultTextures<'a>],
}

/// What the user asked for; the caller applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareAction {
    /// A result was selected (by clicking its tile, its button, or an arrow key).
    Select(usize),
    SetKept {
        index: usize,
        kept: bool,
    },
    SetDiscarded {
        index: usize,
        discarded: bool,
    },
}

/// The compare widget's own state. Create once, call [`CompareView::show`] every frame.
#[derive(Debug, Clone)]
pub struct CompareView {
    pub mode: CompareMode,
    /// Shared by every pane of every view.
    pub view: View,
    /// The result shown in single-result views.
    pub selected: usize,
    /// Swipe divider across the pane, 0 (left edge) to 1 (right edge).
    pub swipe: f32,
    pub show_heatmap: bool,
    /// "Show original" toggled on (Flip); holding Tab does the same while held.
    pub show_original: bool,
    /// "Keep outside pixels" is on: the results shown (and saved) are composited over the
    /// original, so the outside figures (of the model's raw output) are not a fault of theirs.
    pub outside_kept: bool,
    fit_pending: bool,
    /// The view is as the last fit left it (no zoom or pan since): a new layout fits again.
    fitted: bool,
    /// The layout and pane size the view was last fitted to.
    fitted_for: Option<(CompareMode, Vec2)>,
    panes: Vec<Rect>,
    /// Wheel zooming, with its stop at 100 %.
    wheel: WheelZoom,
}

impl Default for CompareView {
    fn default() -> Self {
        Self {
            mode: CompareMode::default(),
            view: View::default(),
            selected: 0,
            swipe: 0.5,
            show_heatmap: false,
            show_original: false,
            outside_kept: true,
            fit_pending: true,
            fitted: false,
            fitted_for: None,
            panes: Vec::new(),
            wheel: WheelZoom::default(),
        }
    }
}

/// How far either side of the swipe line a press grabs the divider (points), and the radius of
/// its knob: the grab area is wider than the knob.
const DIVIDER_GRAB: f32 = 14.0;
const DIVIDER_KNOB: f32 = 11.0;

/// Full texture coordinates.
const FULL_UV: Rect = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));

impl CompareView {
    pub fn new() -> Self {
        Self::default()
    }

    /// Fits the image to the panes at the next frame (after opening new results).
    pub fn request_fit(&mut self) {
        self.fit_pending = true;
    }

    /// The screen rectangles of the panes drawn last frame (original first, then results).
    pub fn pane_rects(&self) -> &[Rect] {
        &self.panes
    }

    /// Draws the toolbar and the panes in the space `ui` offers; returns what the user asked.
    pub fn show(&mut self, ui: &mut egui::Ui, inputs: &CompareInputs<'_>) -> Vec<CompareAction> {
        let mut actions = Vec::new();
        let n = inputs.results.len();
        if n > 0 {
            self.selected = self.selected.min(n - 1);
        }
        let hold_original = self.shortcuts(ui, n, inputs, &mut actions);
        self.toolbar(ui, inputs, &mut actions);

        let canvas = ui.available_rect_before_wrap();
        ui.allocate_rect(canvas, Sense::hover());
        let pane_specs = self.layout(canvas, n);
        // A new layout (or pane size) fits the picture again unless the designer has zoomed or
        // panned since the last fit: then the shared zoom and pan hold across layouts.
        if let Some(first) = pane_specs.first()
            && first.0.width() > 1.0
        {
            let layout = Some((self.mode, first.0.size()));
            if self.fit_pending || (self.fitted && self.fitted_for != layout) {
                self.view.fit(first.0, inputs.image_size);
                self.fit_pending = false;
                self.fitted = true;
                self.fitted_for = layout;
            }
        }
        self.panes = pane_specs.iter().map(|p| p.0).collect();
        for (i, (pane, content)) in pane_specs.into_iter().enumerate() {
            self.pane(ui, i, pane, content, inputs, hold_original, &mut actions);
        }
        actions
    }

    /// Shortcuts; returns whether the original is held in place of the result.
    fn shortcuts(
        &mut self,
        ui: &mut egui::Ui,
        n: usize,
        inputs: &CompareInputs<'_>,
        actions: &mut Vec<CompareAction>,
    ) -> bool {
        if ui.ctx().egui_wants_keyboard_input() {
            return false;
        }
        let hold = ui.input(|i| i.key_down(SHORTCUT_HOLD_ORIGINAL));
        ui.input_mut(|i| {
            for mode in CompareMode::ALL {
                if i.consume_key(Modifiers::NONE, mode.shortcut()) {
                    self.mode = mode;
                }
            }
            if i.consume_key(Modifiers::NONE, SHORTCUT_HEATMAP) {
                self.show_heatmap = !self.show_heatmap;
            }
            if i.consume_key(Modifiers::NONE, SHORTCUT_FIT) {
                self.fit_pending = true;
            }
            if i.consume_key(Modifiers::NONE, SHORTCUT_ACTUAL_SIZE) {
                // At the pointer when it is over a pane (each pane shares the view), else at
                // the first pane's centre.
                let pointer = i.pointer.hover_pos();
                let hovered = pointer
                    .and_then(|p| self.panes.iter().find(|r| r.contains(p)).map(|r| (*r, p)));
                if let Some((pane, anchor)) =
                    hovered.or(self.panes.first().map(|r| (*r, r.center())))
                {
                    self.view.actual_size(pane, anchor, i.pixels_per_point);
                    self.fitted = false;
                }
            }
            if n > 0 {
                if i.consume_key(Modifiers::NONE, SHORTCUT_NEXT) {
                    self.selected = (self.selected + 1) % n;
                    actions.push(CompareAction::Select(self.selected));
                }
                if i.consume_key(Modifiers::NONE, SHORTCUT_PREVIOUS) {
                    self.selected = (self.selected + n - 1) % n;
                    actions.push(CompareAction::Select(self.selected));
                }
                let r = &inputs.results[self.selected];
                if i.consume_key(Modifiers::NONE, SHORTCUT_KEEP) {
                    actions.push(CompareAction::SetKept {
                        index: self.selected,
                        kept: !r.kept,
                    });
                }
                if i.consume_key(Modifiers::NONE, SHORTCUT_DISCARD) {
                    actions.push(CompareAction::SetDiscarded {
                        index: self.selected,
                        discarded: !r.discarded,
                    });
                }
            }
        });
        hold
    }

    fn toolbar(
        &mut self,
        ui: &mut egui::Ui,
        inputs: &CompareInputs<'_>,
        actions: &mut Vec<CompareAction>,
    ) {
        ui.horizontal_wrapped(|ui| {
            for mode in CompareMode::ALL {
                ui.selectable_value(&mut self.mode, mode, mode.label())
                    .on_hover_text(format!("Shortcut: {:?}", mode.shortcut()));
            }
            ui.separator();
            ui.toggle_value(&mut self.show_heatmap, "Heatmap")
                .on_hover_text("Where each result changed pixels outside the mask (M)");
            if self.mode == CompareMode::Flip {
                ui.toggle_value(&mut self.show_original, "Show original")
                    .on_hover_text("Or hold Tab");
            }
            if ui
                .button("Fit")
                .on_hover_text(format!("Fit the picture ({})", SHORTCUT_FIT.name()))
                .clicked()
            {
                self.fit_pending = true;
            }
            let ppp = ui.ctx().pixels_per_point();
            let readout = self.view.readout(ppp);
            let zoom = ui
                .add(egui::Label::new(format!("Zoom {readout}")).sense(Sense::click()))
                .on_hover_text(
                    "Wheel to zoom (it stops at 100 %); 1 or click here: 100 % at the pointer",
                );
            if zoom.clicked()
                && let Some(pane) = self.panes.first().copied()
            {
                self.view.actual_size(pane, pane.center(), ppp);
                self.fitted = false;
            }
            if inputs.results.is_empty() {
                return;
            }
            ui.separator();
            let n = inputs.results.len();
            if n <= 3 {
                for i in 0..n {
                    if ui
                        .selectable_label(self.selected == i, format!("Result {}", i + 1))
                        .clicked()
                    {
                        self.selected = i;
                        actions.push(CompareAction::Select(i));
                    }
                }
            } else {
                // Many results: one menu, so Keep and Discard stay on the toolbar's line.
                let mut selected = self.selected;
                let label = ui.label("Showing");
                egui::ComboBox::from_id_salt("compare-result")
                    .selected_text(format!("Result {} of {n}", selected + 1))
                    .show_ui(ui, |ui| {
                        for i in 0..n {
                            ui.selectable_value(&mut selected, i, format!("Result {}", i + 1));
                        }
                    })
                    .response
                    .labelled_by(label.id);
                if selected != self.selected {
                    self.selected = selected;
                    actions.push(CompareAction::Select(selected));
                }
            }
            let r = &inputs.results[self.selected];
            ui.separator();
            let keep = if r.kept { "Kept" } else { "Keep" };
            if ui
                .selectable_label(r.kept, keep)
                .on_hover_text("Keep (star) the selected result (K)")
                .clicked()
            {
                actions.push(CompareAction::SetKept {
                    index: self.selected,
                    kept: !r.kept,
                });
            }
            let discard = if r.discarded { "Restore" } else { "Discard" };
            if ui
                .button(discard)
                .on_hover_text("Discard or restore the selected result (D)")
                .clicked()
            {
                actions.push(CompareAction::SetDiscarded {
                    index: self.selected,
                    discarded: !r.discarded,
                });
            }
        });
    }

    /// The panes for the current mode: (screen rect, what it shows).
    fn layout(&self, canvas: Rect, n: usize) -> Vec<(Rect, PaneContent)> {
        let gap = 4.0;
        let result = if n == 0 {
            PaneContent::Original
        } else {
            PaneContent::Result(self.selected)
        };
        match self.mode {
            CompareMode::SideBySide => {
                let w = ((canvas.width() - gap) / 2.0).max(1.0);
                let left = Rect::from_min_size(canvas.min, Vec2::new(w, canvas.height()));
                let right = Rect::from_min_size(
                    Pos2::new(canvas.min.x + w + gap, canvas.min.y),
                    Vec2::new(w, canvas.height()),
                );
                vec![(left, PaneContent::Original), (right, result)]
            }
            CompareMode::Swipe => vec![(canvas, PaneContent::Swipe)],
            CompareMode::Flip => vec![(canvas, result)],
            CompareMode::Grid => {
                let count = n + 1;
                let cols = (count as f32).sqrt().ceil().max(1.0) as usize;
                let rows = count.div_ceil(cols);
                let tw = ((canvas.width() - gap * (cols as f32 - 1.0)) / cols as f32).max(1.0);
                let th = ((canvas.height() - gap * (rows as f32 - 1.0)) / rows as f32).max(1.0);
                (0..count)
                    .map(|i| {
                        let (c, r) = ((i % cols) as f32, (i / cols) as f32);
                        let min = canvas.min + Vec2::new(c * (tw + gap), r * (th + gap));
                        let content = if i == 0 {
                            PaneContent::Original
                        } else {
                            PaneContent::Result(i - 1)
                        };
                        (Rect::from_min_size(min, Vec2::new(tw, th)), content)
                    })
                    .collect()
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pane(
        &mut self,
        ui: &mut egui::Ui,
        index: usize,
        pane: Rect,
        content: PaneContent,
        inputs: &CompareInputs<'_>,
        hold_original: bool,
        actions: &mut Vec<CompareAction>,
    ) {
        let id = ui.scope_id().with(("compare-pane", index));
        let response = ui.interact(pane, id, Sense::click_and_drag());
        let name = match content {
            PaneContent::Original => "Original".to_string(),
            PaneContent::Result(i) => format!("Result {}", i + 1),
            PaneContent::Swipe => "Swipe".to_string(),
        };
        let is_grid = self.mode == CompareMode::Grid;
        let pane_label = if is_grid {
            format!("{name} tile")
        } else {
            format!("{name} pane")
        };
        let role = if is_grid { Role::Button } else { Role::Image };
        response.widget_info(|| WidgetInfo::labeled(role, true, &pane_label));
        self.navigate(ui, pane, &response);

        let painter = ui.painter_at(pane);
        painter.rect_filled(pane, 0.0, Color32::from_gray(24));
        let image_rect = self.view.image_rect(pane, inputs.image_size);
        let result_at = |i: usize| inputs.results.get(i);
        match content {
            PaneContent::Original => {
                painter.image(inputs.original.id(), image_rect, FULL_UV, Color32::WHITE);
            }
            PaneContent::Result(i) => {
                if let Some(r) = result_at(i) {
                    let tex = if hold_original
                        || (self.mode == CompareMode::Flip && self.show_original)
                    {
                        inputs.original
                    } else {
                        r.image
                    };
                    let tint = if r.discarded && is_grid {
                        Color32::from_gray(90)
                    } else {
                        Color32::WHITE
                    };
                    painter.image(tex.id(), image_rect, FULL_UV, tint);
                    if self.show_heatmap
                        && let Some(h) = r.heatmap
                    {
                        painter.image(h.id(), image_rect, FULL_UV, Color32::WHITE);
                    }
                    if self.show_heatmap {
                        clean_note(ui, pane, r.figures);
                    }
                    let original_shown =
                        hold_original || (self.mode == CompareMode::Flip && self.show_original);
                    if !original_shown {
                        outline_lettering(&painter, image_rect, inputs.image_size, r.lettering);
                    }
                }
            }
            PaneContent::Swipe => {
                painter.image(inputs.original.id(), image_rect, FULL_UV, Color32::WHITE);
                let x = pane.left() + self.swipe.clamp(0.0, 1.0) * pane.width();
                if let Some(r) = result_at(self.selected) {
                    let right = Rect::from_min_max(Pos2::new(x, pane.top()), pane.max);
                    let clipped = painter.with_clip_rect(right.intersect(pane));
                    let tex = if hold_original {
                        inputs.original
                    } else {
                        r.image
                    };
                    clipped.image(tex.id(), image_rect, FULL_UV, Color32::WHITE);
                    if self.show_heatmap
                        && let Some(h) = r.heatmap
                    {
                        clipped.image(h.id(), image_rect, FULL_UV, Color32::WHITE);
                    }
                    if self.show_heatmap {
                        clean_note(ui, pane, r.figures);
                    }
                }
                self.divider(ui, pane, x);
            }
        }

        // Caption: the name and the outside-mask figures.
        let figures = match content {
            PaneContent::Result(i) => result_at(i),
            PaneContent::Swipe => result_at(self.selected),
            PaneContent::Original => None,
        };
        let mut caption = match content {
            PaneContent::Swipe => format!("Original | Result {}", self.selected + 1),
            _ => name.clone(),
        };
        let mut badge = Color32::from_black_alpha(170);
        if let Some(r) = figures {
            if r.kept {
                caption.push_str(" (kept)");
            }
            if r.discarded {
                caption.push_str(" (discarded)");
            }
            if let Some(f) = r.figures {
                caption.push_str(&format!(" · {}", figures_caption(f, self.outside_kept)));
                badge = if outside_changed(f, self.outside_kept) {
                    Color32::from_rgba_unmultiplied(160, 30, 20, 210)
                } else {
                    Color32::from_rgba_unmultiplied(20, 110, 40, 210)
                };
            }
        }
        let galley = painter.layout_no_wrap(caption, FontId::proportional(13.0), Color32::WHITE);
        let text_rect = Align2::LEFT_TOP.anchor_size(pane.min + Vec2::splat(6.0), galley.size());
        painter.rect_filled(text_rect.expand(3.0), 3.0, badge);
        painter.galley(text_rect.min, galley, Color32::WHITE);

        if is_grid && let PaneContent::Result(i) = content {
            if i == self.selected {
                painter.rect_stroke(
                    pane.shrink(1.0),
                    0.0,
                    Stroke::new(2.0, ui.visuals().selection.stroke.color),
                    StrokeKind::Inside,
                );
            }
            if response.clicked() {
                self.selected = i;
                actions.push(CompareAction::Select(i));
            }
            self.tile_buttons(ui, pane, i, inputs, actions);
        }
    }

    /// Keep and discard buttons on a grid tile.
    fn tile_buttons(
        &mut self,
        ui: &mut egui::Ui,
        pane: Rect,
        i: usize,
        inputs: &CompareInputs<'_>,
        actions: &mut Vec<CompareAction>,
    ) {
        let Some(r) = inputs.results.get(i) else {
            return;
        };
        // Discard at the bottom-right corner, Keep to its left, each as wide as its text:
        // they never overlap, and they stay inside the tile.
        let strip = Rect::from_min_max(
            Pos2::new(pane.left() + 6.0, pane.bottom() - 28.0),
            Pos2::new(pane.right() - 6.0, pane.bottom() - 4.0),
        );
        let mut strip_ui = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(strip)
                .layout(egui::Layout::right_to_left(egui::Align::Center)),
        );
        strip_ui.set_clip_rect(pane);
        let discard = strip_ui.add(egui::Button::new(if r.discarded {
            "Restore"
        } else {
            "Discard"
        }));
        let keep = strip_ui.add(egui::Button::selectable(
            r.kept,
            if r.kept { "Kept" } else { "Keep" },
        ));
        let keep_label = format!("Keep result {}", i + 1);
        keep.widget_info(|| WidgetInfo::selected(Role::Button, true, r.kept, &keep_label));
        if keep.on_hover_text(&keep_label).clicked() {
            actions.push(CompareAction::SetKept {
                index: i,
                kept: !r.kept,
            });
        }
        let discard_label = if r.discarded {
            format!("Restore result {}", i + 1)
        } else {
            format!("Discard result {}", i + 1)
        };
        discard.widget_info(|| WidgetInfo::labeled(Role::Button, true, &discard_label));
        if discard.on_hover_text(&discard_label).clicked() {
            actions.push(CompareAction::SetDiscarded {
                index: i,
                discarded: !r.discarded,
            });
        }
    }

    /// The swipe divider's id (its drag must never pan the picture under it).
    fn divider_id(ui: &egui::Ui) -> egui::Id {
        ui.scope_id().with("swipe-divider")
    }

    /// The swipe divider: a draggable handle over the line at `x`, as wide as its knob and
    /// then some (a hand aiming at the knob lands a few pixels off the line).
    fn divider(&mut self, ui: &mut egui::Ui, pane: Rect, x: f32) {
        let handle = Rect::from_center_size(
            Pos2::new(x, pane.center().y),
            Vec2::new(2.0 * DIVIDER_GRAB, pane.height()),
        );
        let response = ui.interact(handle, Self::divider_id(ui), Sense::drag());
        let value = self.swipe as f64;
        response.widget_info(|| {
            let mut info = WidgetInfo::labeled(Role::Slider, true, "Swipe divider");
            info.value = Some(value);
            info
        });
        // From the absolute pointer position (not the per-frame delta), so a repeated pass of
        // the same frame cannot move it twice.
        if response.dragged()
            && pane.width() > 0.0
            && let Some(p) = response.interact_pointer_pos()
        {
            self.swipe = ((p.x - pane.left()) / pane.width()).clamp(0.0, 1.0);
        }
        let active = response.hovered() || response.dragged();
        let painter = ui.painter_at(pane);
        let colour = if active {
            Color32::WHITE
        } else {
            Color32::from_gray(220)
        };
        painter.line_segment(
            [Pos2::new(x, pane.top()), Pos2::new(x, pane.bottom())],
            Stroke::new(if active { 3.0 } else { 2.0 }, colour),
        );
        painter.circle_filled(Pos2::new(x, pane.center().y), DIVIDER_KNOB, colour);
        if active {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        }
    }

    /// Zoom at the pointer (wheel, pinch, ctrl+wheel) and pan by dragging, on the shared view.
    fn navigate(&mut self, ui: &egui::Ui, pane: Rect, response: &Response) {
        let before = self.view;
        if let Some(hover) = response.hover_pos() {
            let (scroll, zoom) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
            let factor = zoom * (scroll / 200.0).exp();
            let (ppp, now) = (ui.ctx().pixels_per_point(), ui.input(|i| i.time));
            self.wheel
                .apply(&mut self.view, pane, hover, factor, ppp, now);
        }
        // Not while the swipe divider is held: its drag moves the divider only.
        let divider_held = ui.ctx().dragged_id() == Some(Self::divider_id(ui));
        if response.dragged() && !divider_held {
            self.view.pan(response.drag_delta());
        }
        if self.view != before {
            self.fitted = false;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PaneContent {
    Original,
    Result(usize),
    Swipe,
}

/// With the heatmap on over a result that changed nothing outside the mask, say so (an empty
/// overlay looks like a broken switch).
/// Outlines where each quoted string was read on a result.
fn outline_lettering(
    painter: &egui::Painter,
    image_rect: Rect,
    image_size: Vec2,
    quads: &[crate::text::Quad],
) {
    let scale = image_rect.size() / image_size.max(Vec2::splat(1.0));
    for quad in quads {
        let points: Vec<Pos2> = quad
            .iter()
            .map(|p| image_rect.min + Vec2::new(p[0], p[1]) * scale)
            .collect();
        painter.add(egui::Shape::closed_line(
            points.clone(),
            Stroke::new(3.0, Color32::from_black_alpha(140)),
        ));
        painter.add(egui::Shape::closed_line(
            points,
            Stroke::new(1.5, Color32::from_rgb(255, 220, 60)),
        ));
    }
}

fn clean_note(ui: &mut egui::Ui, pane: Rect, figures: Option<&OutsideFigures>) {
    if figures.is_some_and(|f| f.changed_pixels == 0) {
        let rect = Rect::from_center_size(
            pane.center_bottom() - Vec2::new(0.0, 44.0),
            Vec2::new(330.0, 24.0),
        )
        .intersect(pane);
        let text = egui::RichText::new("Heatmap: nothing changed outside the mask")
            .color(Color32::WHITE)
            .background_color(Color32::from_rgba_unmultiplied(20, 110, 40, 230));
        ui.put(rect, egui::Label::new(text).truncate());
    }
}

/// Whether the picture shown changed pixels outside the mask (what deserves red): never
/// with "Keep outside pixels" on, since it is composited over the original there.
pub fn outside_changed(f: &OutsideFigures, outside_kept: bool) -> bool {
    !outside_kept && f.changed_pixels > 0
}

/// How much the model's output changed outside the mask: "548 px", "3.2 %".
fn changed_amount(f: &OutsideFigures) -> String {
    let pct = f.changed_fraction * 100.0;
    if pct < 0.1 {
        format!("{} px", f.changed_pixels)
    } else {
        format!("{pct:.1} %")
    }
}

/// The outside figures, naming the picture each is about. With "Keep outside pixels" on the
/// shown result is untouched outside and the figure is the model's raw output's ("untouched
/// outside · model output changed 548 px there, restored"); off, the shown result is the raw
/// output ("3.2 % changed outside"). "Resampled" is said of the model's output.
pub fn figures_caption(f: &OutsideFigures, outside_kept: bool) -> String {
    let mut s = if f.changed_pixels == 0 {
        "untouched outside".to_string()
    } else if outside_kept {
        format!(
            "untouched outside · model output changed {} there, restored",
            changed_amount(f)
        )
    } else {
        format!("{} changed outside", changed_amount(f))
    };
    if f.resampled.is_some() {
        s.push_str(" · model output resampled to the photo's size");
    }
    s
}
