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
    /// Screen pixels per image pixel; `None` until the view is set for the photo.
    pub zoom: Option<f32>,
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
        // Wrapped: a long message makes the bar taller, never wider than the window.
        ui.horizontal_wrapped(|ui| {
            if let Some(busy) = &self.busy {
                ui.spinner();
                ui.label(busy);
                ui.separator();
            }
            if let Some(p) = photo {
                let (w, h) = p.size;
                let pct = 100.0 * p.marked as f64 / (w as f64 * h as f64).max(1.0);
                let zoom = match p.zoom {
                    Some(z) => super::canvas::view::zoom_readout(z * 100.0),
                    None => "fitting…".to_string(),
                };
                ui.label(format!("{} · {w}x{h} · {zoom} · mask {pct:.1} %", p.name));
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
                ui.add(egui::Label::new(egui::RichText::new(&status.text).color(color)).wrap());
                if status.kind == StatusKind::Error && ui.small_button("Dismiss").clicked() {
                    self.message = None;
                }
            }
        });
    }
}

/// A prompt shortened for a one-line message: whole words up to about `max` characters, with
/// "…" when something was left out (never cut mid-word, unless its first word alone is longer).
pub fn short_prompt(prompt: &str, max: usize) -> String {
    let flat: Vec<&str> = prompt.split_whitespace().collect();
    let whole = flat.join(" ");
    if whole.chars().count() <= max {
        return whole;
    }
    let mut out = String::new();
    for word in flat {
        let len = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if len > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        out = whole.chars().take(max).collect();
    }
    let out = out.trim_end_matches([',', ';', ':', '.', '-']).to_string();
    format!("{out}…")
}

#[cfg(test)]
mod tests {
    use super::short_prompt;

    #[test]
    fn prompts_are_shortened_at_a_word_boundary() {
        let p = "Replace the sign text with 'NORTH HALL' in gold serif letters";
        let s = short_prompt(p, 40);
        assert_eq!(s, "Replace the sign text with 'NORTH HALL'…");
        assert!(p.starts_with(s.trim_end_matches('…')));
        assert_eq!(short_prompt("short one", 40), "short one");
        assert_eq!(short_prompt("Supercalifragilistic", 5), "Super…");
    }
}
