//! The status bar: what is running (with a spinner), the photo, zoom and pointer position, and
//! the last message (errors stay until dismissed).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Error,
}

#[derive(Debug, Clone)]
pub struct Status {
    pub kind: StatusKind,
    pub text: String,
}

/// The last message and the background work under way.
#[derive(Default)]
pub struct StatusLine {
    pub message: Option<Status>,
    /// What is running in the background (shown with a spinner).
    pub busy: Option<String>,
}

/// What the status bar shows about the photo.
pub struct PhotoLine<'a> {
    pub name: &'a str,
    pub size: (u32, u32),
    pub marked: usize,
    /// Screen pixels per image pixel.
    pub zoom: f32,
    pub pointer: Option<egui::Pos2>,
}

impl StatusLine {
    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Status {
            kind: StatusKind::Info,
            text: text.into(),
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::warn!("{text}");
        self.message = Some(Status {
            kind: StatusKind::Error,
            text,
        });
    }

    /// Shows an outcome: `Ok` as information, `Err` as an error.
    pub fn report(&mut self, outcome: Result<String, String>) {
        match outcome {
            Ok(text) => self.info(text),
            Err(text) => self.error(text),
        }
    }

    pub fn busy(&mut self, what: impl Into<String>) {
        self.busy = Some(what.into());
    }

    pub fn done(&mut self) {
        self.busy = None;
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, photo: Option<PhotoLine<'_>>) {
        ui.horizontal(|ui| {
            if let Some(busy) = &self.busy {
                ui.spinner();
                ui.label(busy);
                ui.separator();
            }
            if let Some(p) = photo {
                let (w, h) = p.size;
                let pct = 100.0 * p.marked as f64 / (w as f64 * h as f64).max(1.0);
                ui.label(format!(
                    "{} · {w}x{h} · {:.0} % · mask {pct:.1} %",
                    p.name,
                    p.zoom * 100.0
                ));
                if let Some(pos) = p.pointer {
                    ui.label(format!("x {} y {}", pos.x.floor(), pos.y.floor()));
                }
            }
            if let Some(status) = &self.message {
                ui.separator();
                let color = match status.kind {
                    StatusKind::Info => ui.visuals().text_color(),
                    StatusKind::Error => ui.visuals().error_fg_color,
                };
                ui.colored_label(color, &status.text);
                if status.kind == StatusKind::Error && ui.small_button("Dismiss").clicked() {
                    self.message = None;
                }
            }
        });
    }
}
