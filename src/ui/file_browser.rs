//! touchup's own file browser, for desktops where no native dialog can open: the folder as a
//! path you can type, Up, the folders and the files of the right kind, a name for saving, and
//! Open / Save / Choose this folder or Cancel. (The egui file-dialog crates either target
//! another egui version or draw emoji that egui's bundled fonts cannot.)

use std::path::{Path, PathBuf};

use super::files::DialogKind;

/// What the browser ended with this frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Chosen(PathBuf),
    Cancelled,
}

struct Entry {
    name: String,
    is_dir: bool,
}

pub struct FileBrowser {
    kind: DialogKind,
    dir: PathBuf,
    /// The folder field as typed.
    dir_text: String,
    entries: Vec<Entry>,
    /// The file clicked (open) or typed (save).
    name: String,
    problem: Option<String>,
}

/// The file name endings offered for `kind` (empty: folders only).
fn extensions(kind: DialogKind) -> &'static [&'static str] {
    match kind {
        DialogKind::OpenImage => &["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"],
        DialogKind::LoadMask
        | DialogKind::StyleReference
        | DialogKind::CharacterReference
        | DialogKind::CharacterMask => &["png", "jpg", "jpeg", "webp"],
        DialogKind::SaveMask | DialogKind::ExportComparison => &["png"],
        DialogKind::SaveResult => &["png", "jpg", "jpeg", "webp"],
        DialogKind::ImportRequest => &["json"],
        DialogKind::SaveKept => &[],
    }
}

fn title(kind: DialogKind) -> &'static str {
    match kind {
        DialogKind::OpenImage => "Open image",
        DialogKind::LoadMask => "Load mask",
        DialogKind::SaveMask => "Save mask",
        DialogKind::SaveResult => "Save the selected result",
        DialogKind::SaveKept => "Save kept results into a folder",
        DialogKind::ExportComparison => "Export a before/after comparison",
        DialogKind::ImportRequest => "Import a Runware task",
        DialogKind::StyleReference | DialogKind::CharacterReference | DialogKind::CharacterMask => {
            "Choose a reference image"
        }
    }
}

impl FileBrowser {
    pub fn new(kind: DialogKind, dir: PathBuf, suggested_name: String) -> Self {
        let mut browser = Self {
            kind,
            dir_text: dir.display().to_string(),
            dir,
            entries: Vec::new(),
            name: suggested_name,
            problem: None,
        };
        browser.read_dir();
        browser
    }

    pub fn kind(&self) -> DialogKind {
        self.kind
    }

    /// Lists the folder: its folders, then its files of the right kind, by name.
    fn read_dir(&mut self) {
        self.problem = None;
        let wanted = extensions(self.kind);
        match std::fs::read_dir(&self.dir) {
            Ok(read) => {
                let mut entries: Vec<Entry> = read
                    .filter_map(Result::ok)
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        let is_dir = e.path().is_dir();
                        let ext = Path::new(&name)
                            .extension()
                            .map(|x| x.to_string_lossy().to_ascii_lowercase())
                            .unwrap_or_default();
                        let shown =
                            !name.starts_with('.') && (is_dir || wanted.contains(&ext.as_str()));
                        shown.then_some(Entry { name, is_dir })
                    })
                    .collect();
                entries.sort_by(|a, b| {
                    b.is_dir
                        .cmp(&a.is_dir)
                        .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
                });
                self.entries = entries;
            }
            Err(e) => {
                self.entries.clear();
                self.problem = Some(format!("could not read {}: {e}", self.dir.display()));
            }
        }
    }

    fn enter(&mut self, dir: PathBuf) {
        self.dir = dir;
        self.dir_text = self.dir.display().to_string();
        self.read_dir();
    }

    /// The path the confirm button would give, if it is one.
    fn choice(&self) -> Option<PathBuf> {
        if self.kind.picks_folder() {
            return Some(self.dir.clone());
        }
        let name = self.name.trim();
        (!name.is_empty()).then(|| self.dir.join(name))
    }

    pub fn ui(&mut self, ctx: &egui::Context) -> Outcome {
        let mut outcome = Outcome::Open;
        let mut open = true;
        let mut enter = None;
        egui::Window::new(title(self.kind))
            .id(egui::Id::unique("touchup-file-browser"))
            .open(&mut open)
            .default_size([560.0, 440.0])
            .collapsible(false)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    let label = ui.label("Folder");
                    let field = ui
                        .add(egui::TextEdit::singleline(&mut self.dir_text).desired_width(360.0))
                        .labelled_by(label.id);
                    if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        enter = Some(PathBuf::from(self.dir_text.trim()));
                    }
                    if ui
                        .button("Up")
                        .on_hover_text("The folder above this one")
                        .clicked()
                        && let Some(parent) = self.dir.parent()
                    {
                        enter = Some(parent.to_path_buf());
                    }
                });
                if let Some(problem) = &self.problem {
                    ui.colored_label(ui.visuals().error_fg_color, problem);
                }
                egui::ScrollArea::vertical()
                    .max_height(260.0)
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        for entry in &self.entries {
                            let label = if entry.is_dir {
                                format!("{}/", entry.name)
                            } else {
                                entry.name.clone()
                            };
                            let selected = !entry.is_dir && entry.name == self.name;
                            let r = ui.selectable_label(selected, label);
                            if entry.is_dir && (r.double_clicked() || r.clicked()) {
                                enter = Some(self.dir.join(&entry.name));
                            } else if r.double_clicked() {
                                self.name = entry.name.clone();
                                outcome = Outcome::Chosen(self.dir.join(&entry.name));
                            } else if r.clicked() {
                                self.name = entry.name.clone();
                            }
                        }
                        if self.entries.is_empty() && self.problem.is_none() {
                            ui.weak("Nothing of the right kind here.");
                        }
                    });
                if !self.kind.picks_folder() {
                    ui.horizontal(|ui| {
                        let label = ui.label("File name");
                        ui.add(egui::TextEdit::singleline(&mut self.name).desired_width(300.0))
                            .labelled_by(label.id);
                    });
                }
                ui.horizontal(|ui| {
                    let confirm = if self.kind.picks_folder() {
                        "Choose this folder"
                    } else if self.kind.saves() {
                        "Save"
                    } else {
                        "Open"
                    };
                    let choice = self.choice();
                    if ui
                        .add_enabled(choice.is_some(), egui::Button::new(confirm))
                        .clicked()
                        && let Some(path) = choice
                    {
                        outcome = Outcome::Chosen(path);
                    }
                    if ui.button("Cancel").clicked() {
                        outcome = Outcome::Cancelled;
                    }
                });
            });
        if let Some(dir) = enter {
            self.enter(dir);
        }
        if !open {
            return Outcome::Cancelled;
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_lists_its_folders_first_then_the_files_of_the_right_kind() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.png", "A.JPG", "notes.txt", ".hidden.png"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("shop")).unwrap();
        let b = FileBrowser::new(
            DialogKind::OpenImage,
            dir.path().to_path_buf(),
            String::new(),
        );
        let names: Vec<&str> = b.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["shop", "A.JPG", "b.png"]);
        let b = FileBrowser::new(
            DialogKind::SaveKept,
            dir.path().to_path_buf(),
            String::new(),
        );
        assert_eq!(b.choice(), Some(dir.path().to_path_buf()));
        let b = FileBrowser::new(
            DialogKind::SaveMask,
            dir.path().to_path_buf(),
            "shop-mask.png".into(),
        );
        assert_eq!(b.choice(), Some(dir.path().join("shop-mask.png")));
    }

    #[test]
    fn an_unreadable_folder_is_explained() {
        let b = FileBrowser::new(
            DialogKind::OpenImage,
            PathBuf::from("/nonexistent/touchup-test"),
            String::new(),
        );
        assert!(
            b.problem
                .as_deref()
                .is_some_and(|p| p.contains("could not read"))
        );
    }
}
