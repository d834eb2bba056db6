//! The selection tools as a state machine, with no drawing: rectangle (drag, Shift for a
//! square), polygon (click corners; double-click, Enter or a click on the first corner closes;
//! Backspace removes the last corner; Esc cancels), lasso (freehand drag) and magic wand
//! (click). Each adds to the mask, or subtracts with Alt held when the gesture starts.
//!
//! The canvas feeds pointer events in image pixel coordinates to [`ToolState::handle`], draws
//! [`ToolState::gesture`] while a gesture is under way, and applies the [`SelectionOp`] a
//! finished gesture returns: [`SelectionOp::apply_shape`] for shapes, or for the wand
//! [`crate::mask::wand_region`] on a worker thread followed by
//! [`crate::mask::MaskEditor::apply_wand`].

use crate::mask::{Combine, DirtyRect, MaskEditor};

/// Which selection tool is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SelectionTool {
    Rectangle,
    Polygon,
    Lasso,
    Wand,
}

impl SelectionTool {
    pub const ALL: [SelectionTool; 4] = [
        SelectionTool::Rectangle,
        SelectionTool::Polygon,
        SelectionTool::Lasso,
        SelectionTool::Wand,
    ];

    /// The name shown in the toolbar (and used as the undo label).
    pub fn label(self) -> &'static str {
        match self {
            SelectionTool::Rectangle => "Rectangle",
            SelectionTool::Polygon => "Polygon",
            SelectionTool::Lasso => "Lasso",
            SelectionTool::Wand => "Magic wand",
        }
    }
}

/// Modifier keys held during an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Modifiers {
    /// Rectangle: constrain to a square.
    pub shift: bool,
    /// Subtract instead of add (read when a gesture starts).
    pub alt: bool,
}

/// Keys the tools react to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKey {
    Enter,
    Backspace,
    Escape,
}

/// Input for the tools, positions in image pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ToolEvent {
    PointerDown { pos: (f32, f32), mods: Modifiers },
    PointerMove { pos: (f32, f32), mods: Modifiers },
    PointerUp { pos: (f32, f32), mods: Modifiers },
    DoubleClick { pos: (f32, f32), mods: Modifiers },
    Key(ToolKey),
}

/// A finished selection, ready to apply to the mask.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectionOp {
    /// A closed outline (rectangle corners, polygon corners or lasso path) to fill.
    Shape {
        tool: SelectionTool,
        points: Vec<(f32, f32)>,
        combine: Combine,
    },
    /// A wand click on pixel `seed`.
    Wand { seed: (u32, u32), combine: Combine },
}

impl SelectionOp {
    pub fn combine(&self) -> Combine {
        match self {
            SelectionOp::Shape { combine, .. } | SelectionOp::Wand { combine, .. } => *combine,
        }
    }

    /// Fills a shape as one undo step; `None` for the wand (its region comes from a worker)
    /// or when nothing changed.
    pub fn apply_shape(&self, editor: &mut MaskEditor) -> Option<DirtyRect> {
        match self {
            SelectionOp::Shape {
                tool,
                points,
                combine,
            } => {
                let label = match combine {
                    Combine::Add => tool.label().to_string(),
                    Combine::Subtract => format!("{} (subtract)", tool.label()),
                };
                editor.fill_shape(&label, points, *combine)
            }
            SelectionOp::Wand { .. } => None,
        }
    }
}

/// The result of one event.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutcome {
    /// Nothing for the caller to do (the preview may have changed: repaint).
    Continue,
    /// The event was not for the tool (let the canvas pan, zoom, ...).
    Ignored,
    /// A gesture finished: apply this.
    Commit(SelectionOp),
    /// The gesture in progress was abandoned.
    Cancelled,
}

/// A gesture under way, in image pixel coordinates: what the tool tracks and what the canvas
/// draws ([`ToolState::gesture`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Gesture {
    Idle,
    /// An axis-aligned rectangle between two corners.
    Rect {
        start: (f32, f32),
        end: (f32, f32),
        combine: Combine,
    },
    /// The corners placed so far, and the rubber band to the pointer.
    Polygon {
        corners: Vec<(f32, f32)>,
        pointer: Option<(f32, f32)>,
        combine: Combine,
    },
    /// The freehand path so far.
    Lasso {
        path: Vec<(f32, f32)>,
        combine: Combine,
    },
}

/// The active selection tool and its gesture in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolState {
    tool: SelectionTool,
    gesture: Gesture,
    /// Image size, for the wand (clicks outside the picture are ignored).
    image_size: (u32, u32),
    /// A polygon click this close (image pixels) to the first corner closes the polygon. The
    /// canvas should set it from the zoom so it stays a few screen pixels.
    pub close_distance: f32,
}

/// Lasso points closer than this (image pixels) to the previous one are skipped.
const LASSO_MIN_STEP: f32 = 0.5;
/// A polygon click this close to the last corner is the same corner (the second click of a
/// double-click).
const SAME_CORNER: f32 = 1.0;

fn distance(a: (f32, f32), b: (f32, f32)) -> f32 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

fn combine_for(mods: Modifiers) -> Combine {
    if mods.alt {
        Combine::Subtract
    } else {
        Combine::Add
    }
}

/// The rectangle's far corner, made square with Shift (the larger side wins).
fn rect_end(start: (f32, f32), pos: (f32, f32), mods: Modifiers) -> (f32, f32) {
    if !mods.shift {
        return pos;
    }
    let (dx, dy) = (pos.0 - start.0, pos.1 - start.1);
    let side = dx.abs().max(dy.abs());
    let sign = |v: f32| if v < 0.0 { -1.0 } else { 1.0 };
    (start.0 + sign(dx) * side, start.1 + sign(dy) * side)
}

fn rect_corners(a: (f32, f32), b: (f32, f32)) -> Vec<(f32, f32)> {
    vec![a, (b.0, a.1), b, (a.0, b.1)]
}

impl ToolState {
    pub fn new(tool: SelectionTool, image_size: (u32, u32)) -> Self {
        Self {
            tool,
            gesture: Gesture::Idle,
            image_size,
            close_distance: 4.0,
        }
    }

    pub fn tool(&self) -> SelectionTool {
        self.tool
    }

    /// Switches tool, dropping any gesture in progress.
    pub fn set_tool(&mut self, tool: SelectionTool) {
        self.tool = tool;
        self.gesture = Gesture::Idle;
    }

    /// A new image was opened: drop the gesture and remember the size.
    pub fn set_image_size(&mut self, size: (u32, u32)) {
        self.image_size = size;
        self.gesture = Gesture::Idle;
    }

    /// True while a gesture is under way (the canvas should not pan on drag, Esc belongs here).
    pub fn is_active(&self) -> bool {
        self.gesture != Gesture::Idle
    }

    /// The gesture under way, to draw.
    pub fn gesture(&self) -> &Gesture {
        &self.gesture
    }

    /// Feeds one event; see [`ToolOutcome`].
    pub fn handle(&mut self, event: ToolEvent) -> ToolOutcome {
        if let ToolEvent::Key(ToolKey::Escape) = event {
            return if self.is_active() {
                self.gesture = Gesture::Idle;
                ToolOutcome::Cancelled
            } else {
                ToolOutcome::Ignored
            };
        }
        match self.tool {
            SelectionTool::Rectangle => self.rectangle(event),
            SelectionTool::Polygon => self.polygon(event),
            SelectionTool::Lasso => self.lasso(event),
            SelectionTool::Wand => self.wand(event),
        }
    }

    fn rectangle(&mut self, event: ToolEvent) -> ToolOutcome {
        match (event, &mut self.gesture) {
            (ToolEvent::PointerDown { pos, mods }, _) => {
                self.gesture = Gesture::Rect {
                    start: pos,
                    end: pos,
                    combine: combine_for(mods),
                };
                ToolOutcome::Continue
            }
            (ToolEvent::PointerMove { pos, mods }, Gesture::Rect { start, end, .. }) => {
                *end = rect_end(*start, pos, mods);
                ToolOutcome::Continue
            }
            (ToolEvent::PointerUp { pos, mods }, Gesture::Rect { start, combine, .. }) => {
                let (start, combine) = (*start, *combine);
                let end = rect_end(start, pos, mods);
                self.gesture = Gesture::Idle;
                if (end.0 - start.0).abs() < 0.5 || (end.1 - start.1).abs() < 0.5 {
                    return ToolOutcome::Cancelled;
                }
                ToolOutcome::Commit(SelectionOp::Shape {
                    tool: SelectionTool::Rectangle,
                    points: rect_corners(start, end),
                    combine,
                })
            }
            _ => ToolOutcome::Ignored,
        }
    }

    fn close_polygon(&mut self) -> ToolOutcome {
        let Gesture::Polygon {
            corners, combine, ..
        } = &self.gesture
        else {
            return ToolOutcome::Ignored;
        };
        if corners.len() < 3 {
            // Not a shape yet: keep collecting corners.
            return ToolOutcome::Continue;
        }
        let op = SelectionOp::Shape {
            tool: SelectionTool::Polygon,
            points: corners.clone(),
            combine: *combine,
        };
        self.gesture = Gesture::Idle;
        ToolOutcome::Commit(op)
    }

    fn polygon(&mut self, event: ToolEvent) -> ToolOutcome {
        let close_distance = self.close_distance;
        match event {
            ToolEvent::PointerDown { pos, mods } => match &mut self.gesture {
                Gesture::Polygon { corners, .. } => {
                    let first = corners[0];
                    if corners.len() >= 3 && distance(pos, first) <= close_distance {
                        return self.close_polygon();
                    }
                    if corners
                        .last()
                        .is_some_and(|&l| distance(l, pos) < SAME_CORNER)
                    {
                        return ToolOutcome::Continue;
                    }
                    corners.push(pos);
                    ToolOutcome::Continue
                }
                _ => {
                    self.gesture = Gesture::Polygon {
                        corners: vec![pos],
                        pointer: Some(pos),
                        combine: combine_for(mods),
                    };
                    ToolOutcome::Continue
                }
            },
            ToolEvent::PointerMove { pos, .. } => match &mut self.gesture {
                Gesture::Polygon { pointer, .. } => {
                    *pointer = Some(pos);
                    ToolOutcome::Continue
                }
                _ => ToolOutcome::Ignored,
            },
            ToolEvent::DoubleClick { .. } | ToolEvent::Key(ToolKey::Enter) => self.close_polygon(),
            ToolEvent::Key(ToolKey::Backspace) => match &mut self.gesture {
                Gesture::Polygon { corners, .. } => {
                    corners.pop();
                    if corners.is_empty() {
                        self.gesture = Gesture::Idle;
                        ToolOutcome::Cancelled
                    } else {
                        ToolOutcome::Continue
                    }
                }
                _ => ToolOutcome::Ignored,
            },
            ToolEvent::PointerUp { .. } | ToolEvent::Key(ToolKey::Escape) => ToolOutcome::Ignored,
        }
    }

    fn lasso(&mut self, event: ToolEvent) -> ToolOutcome {
        match (event, &mut self.gesture) {
            (ToolEvent::PointerDown { pos, mods }, _) => {
                self.gesture = Gesture::Lasso {
                    path: vec![pos],
                    combine: combine_for(mods),
                };
                ToolOutcome::Continue
            }
            (ToolEvent::PointerMove { pos, .. }, Gesture::Lasso { path, .. }) => {
                if path
                    .last()
                    .is_none_or(|&l| distance(l, pos) >= LASSO_MIN_STEP)
                {
                    path.push(pos);
                }
                ToolOutcome::Continue
            }
            (ToolEvent::PointerUp { pos, .. }, Gesture::Lasso { path, combine }) => {
                let mut path = std::mem::take(path);
                let combine = *combine;
                if path
                    .last()
                    .is_none_or(|&l| distance(l, pos) >= LASSO_MIN_STEP)
                {
                    path.push(pos);
                }
                self.gesture = Gesture::Idle;
                if path.len() < 3 {
                    return ToolOutcome::Cancelled;
                }
                ToolOutcome::Commit(SelectionOp::Shape {
                    tool: SelectionTool::Lasso,
                    points: path,
                    combine,
                })
            }
            _ => ToolOutcome::Ignored,
        }
    }

    fn wand(&mut self, event: ToolEvent) -> ToolOutcome {
        let ToolEvent::PointerDown { pos, mods } = event else {
            return ToolOutcome::Ignored;
        };
        let (w, h) = self.image_size;
        if !(pos.0 >= 0.0 && pos.1 >= 0.0 && pos.0 < w as f32 && pos.1 < h as f32) {
            return ToolOutcome::Ignored;
        }
        ToolOutcome::Commit(SelectionOp::Wand {
            seed: (pos.0 as u32, pos.1 as u32),
            combine: combine_for(mods),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::shapes;

    const NONE: Modifiers = Modifiers {
        shift: false,
        alt: false,
    };
    const ALT: Modifiers = Modifiers {
        shift: false,
        alt: true,
    };
    const SHIFT: Modifiers = Modifiers {
        shift: true,
        alt: false,
    };

    fn down(x: f32, y: f32, mods: Modifiers) -> ToolEvent {
        ToolEvent::PointerDown { pos: (x, y), mods }
    }
    fn mv(x: f32, y: f32, mods: Modifiers) -> ToolEvent {
        ToolEvent::PointerMove { pos: (x, y), mods }
    }
    fn up(x: f32, y: f32, mods: Modifiers) -> ToolEvent {
        ToolEvent::PointerUp { pos: (x, y), mods }
    }

    #[test]
    fn rectangle_drag_previews_and_commits_its_corners() {
        let mut t = ToolState::new(SelectionTool::Rectangle, (100, 100));
        assert_eq!(t.handle(down(10.0, 20.0, NONE)), ToolOutcome::Continue);
        t.handle(mv(30.0, 25.0, NONE));
        assert_eq!(
            t.gesture(),
            &Gesture::Rect {
                start: (10.0, 20.0),
                end: (30.0, 25.0),
                combine: Combine::Add
            }
        );
        let ToolOutcome::Commit(op) = t.handle(up(40.0, 50.0, NONE)) else {
            panic!("rectangle should commit");
        };
        assert_eq!(
            op,
            SelectionOp::Shape {
                tool: SelectionTool::Rectangle,
                points: vec![(10.0, 20.0), (40.0, 20.0), (40.0, 50.0), (10.0, 50.0)],
                combine: Combine::Add
            }
        );
        assert!(!t.is_active());
        assert_eq!(t.gesture(), &Gesture::Idle);
    }

    #[test]
    fn shift_makes_a_square_and_alt_subtracts() {
        let mut t = ToolState::new(SelectionTool::Rectangle, (100, 100));
        t.handle(down(50.0, 50.0, ALT));
        let ToolOutcome::Commit(op) = t.handle(up(40.0, 80.0, SHIFT)) else {
            panic!("should commit");
        };
        let SelectionOp::Shape {
            points, combine, ..
        } = op
        else {
            panic!("shape expected");
        };
        assert_eq!(combine, Combine::Subtract);
        assert_eq!(points[2], (20.0, 80.0), "30 px square towards the pointer");
        // A click without a drag selects nothing.
        t.handle(down(5.0, 5.0, NONE));
        assert_eq!(t.handle(up(5.2, 5.0, NONE)), ToolOutcome::Cancelled);
    }

    #[test]
    fn polygon_by_clicks_closes_on_double_click_enter_or_first_corner() {
        let corners = [(10.0, 10.0), (60.0, 14.0), (58.0, 40.0), (12.0, 36.0)];
        // Double-click on the last corner: the second click of the pair adds nothing.
        let mut t = ToolState::new(SelectionTool::Polygon, (100, 100));
        for &(x, y) in &corners {
            assert_eq!(t.handle(down(x, y, NONE)), ToolOutcome::Continue);
        }
        t.handle(down(12.0, 36.0, NONE));
        let outcome = t.handle(ToolEvent::DoubleClick {
            pos: (12.0, 36.0),
            mods: NONE,
        });
        let expected = ToolOutcome::Commit(SelectionOp::Shape {
            tool: SelectionTool::Polygon,
            points: corners.to_vec(),
            combine: Combine::Add,
        });
        assert_eq!(outcome, expected);
        // Enter.
        for &(x, y) in &corners {
            t.handle(down(x, y, NONE));
        }
        assert_eq!(t.handle(ToolEvent::Key(ToolKey::Enter)), expected);
        // A click on the first corner.
        for &(x, y) in &corners {
            t.handle(down(x, y, NONE));
        }
        assert_eq!(t.handle(down(11.0, 11.5, NONE)), expected);
    }

    #[test]
    fn polygon_backspace_removes_the_last_corner_and_escape_cancels() {
        let mut t = ToolState::new(SelectionTool::Polygon, (100, 100));
        t.handle(down(10.0, 10.0, ALT));
        t.handle(down(50.0, 10.0, NONE));
        t.handle(down(90.0, 90.0, NONE));
        t.handle(mv(70.0, 60.0, NONE));
        assert_eq!(
            t.handle(ToolEvent::Key(ToolKey::Backspace)),
            ToolOutcome::Continue
        );
        assert_eq!(
            t.gesture(),
            &Gesture::Polygon {
                corners: vec![(10.0, 10.0), (50.0, 10.0)],
                pointer: Some((70.0, 60.0)),
                combine: Combine::Subtract
            }
        );
        // Two corners are not a shape: Enter keeps collecting.
        assert_eq!(
            t.handle(ToolEvent::Key(ToolKey::Enter)),
            ToolOutcome::Continue
        );
        t.handle(down(30.0, 50.0, NONE));
        let Some(SelectionOp::Shape { combine, .. }) =
            (match t.handle(ToolEvent::Key(ToolKey::Enter)) {
                ToolOutcome::Commit(op) => Some(op),
                _ => None,
            })
        else {
            panic!("should commit");
        };
        assert_eq!(
            combine,
            Combine::Subtract,
            "Alt at the first click subtracts"
        );
        t.handle(down(10.0, 10.0, NONE));
        t.handle(down(20.0, 10.0, NONE));
        assert_eq!(
            t.handle(ToolEvent::Key(ToolKey::Escape)),
            ToolOutcome::Cancelled
        );
        assert!(!t.is_active());
        assert_eq!(
            t.handle(ToolEvent::Key(ToolKey::Escape)),
            ToolOutcome::Ignored
        );
        // Backspace down to nothing ends the gesture.
        t.handle(down(10.0, 10.0, NONE));
        assert_eq!(
            t.handle(ToolEvent::Key(ToolKey::Backspace)),
            ToolOutcome::Cancelled
        );
    }

    #[test]
    fn lasso_drag_commits_its_path_and_fills_it() {
        let mut t = ToolState::new(SelectionTool::Lasso, (64, 64));
        t.handle(down(10.0, 10.0, NONE));
        t.handle(mv(10.1, 10.1, NONE));
        t.handle(mv(50.0, 12.0, NONE));
        t.handle(mv(48.0, 50.0, NONE));
        let ToolOutcome::Commit(op) = t.handle(up(12.0, 46.0, NONE)) else {
            panic!("lasso should commit");
        };
        let SelectionOp::Shape { ref points, .. } = op else {
            panic!("shape expected");
        };
        assert_eq!(points.len(), 4, "the 0.1 px wobble is dropped: {points:?}");
        let mut ed = MaskEditor::new(64, 64);
        assert!(op.apply_shape(&mut ed).is_some());
        for y in 0..64 {
            for x in 0..64 {
                let inside = shapes::contains(points, x as f32 + 0.5, y as f32 + 0.5);
                assert_eq!(ed.mask().is_marked(x, y), inside, "pixel {x},{y}");
            }
        }
        assert_eq!(ed.history().undo_label(), Some("Lasso"));
        ed.undo();
        assert!(ed.mask().is_empty());
    }

    #[test]
    fn wand_click_gives_the_pixel_and_ignores_clicks_outside_the_image() {
        let mut t = ToolState::new(SelectionTool::Wand, (100, 50));
        assert_eq!(
            t.handle(down(12.7, 30.2, ALT)),
            ToolOutcome::Commit(SelectionOp::Wand {
                seed: (12, 30),
                combine: Combine::Subtract
            })
        );
        assert_eq!(t.handle(down(100.0, 3.0, NONE)), ToolOutcome::Ignored);
        assert_eq!(t.handle(down(-0.5, 3.0, NONE)), ToolOutcome::Ignored);
        assert!(!t.is_active());
    }

    #[test]
    fn switching_tools_drops_the_gesture() {
        let mut t = ToolState::new(SelectionTool::Polygon, (100, 100));
        t.handle(down(10.0, 10.0, NONE));
        assert!(t.is_active());
        t.set_tool(SelectionTool::Lasso);
        assert!(!t.is_active());
        assert_eq!(t.handle(mv(20.0, 20.0, NONE)), ToolOutcome::Ignored);
    }
}
