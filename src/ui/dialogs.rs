//! Every modal question and small window: discard the mask for another photo, quit with an
//! unsaved mask, recover autosaved work, how to send a mask whose parts lie far apart, the Runware key, the request
//! JSON and the keyboard shortcuts. Each reads what it asks about and answers with an action.

use super::actions::Action;
use super::commands::Command;

/// Which windows are open, and what they hold while open.
#[derive(Default)]
pub struct Dialogs {
    pub show_shortcuts: bool,
    /// The Runware key dialog and the text typed into it.
    key: Option<String>,
    /// Submit asked how to send a mask whose groups lie far apart.
    pub asking_split: bool,
    /// The window was asked to close while the mask had unsaved changes.
    pub confirming_quit: bool,
    /// The user chose to quit without saving: the next close goes through.
    quit_confirmed: bool,
    /// The JSON shown by "View request".
    pub request_preview: Option<String>,
}

/// The answers of the replace question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaceAnswer {
    SaveFirst,
    Discard,
    Keep,
}

/// A mask whose groups one area holds only at under half scale, as the question shows it.
pub(crate) struct SplitOffer {
    pub groups: usize,
    /// The scale one area would be sent at.
    pub scale: f64,
    /// The scale the whole photo would be sent at.
    pub whole: f64,
    /// Pictures each job asks for.
    pub pictures: u32,
    /// Runware bills each picture.
    pub runware: bool,
}

/// Work a crashed session left, as the recovery question shows it.
pub(crate) struct RecoveryOffer {
    pub name: String,
    pub size: (u32, u32),
    pub marked: usize,
    pub prompt: String,
    pub saved_ago: String,
    /// The last session was stopped by a signal and saved its work on the way out.
    pub stopped_by_signal: bool,
}

/// What the questions ask about this frame.
pub(crate) struct Asking {
    /// A newly opened photo's name, waiting for "discard the current mask?".
    pub replacing: Option<String>,
    /// The mask's groups lie far apart (while the question is asked).
    pub split: Option<SplitOffer>,
    pub recovery: Option<RecoveryOffer>,
    pub unsaved_mask: bool,
    /// Edit jobs queued or running (quitting cancels them).
    pub jobs_active: usize,
    /// Unfinished jobs of an earlier session on offer: how many, and the first one's prompt.
    pub unfinished_jobs: Option<(usize, String)>,
    /// A damaged photo waiting for "open it anyway?": what is missing.
    pub damaged: Option<String>,
}

impl Dialogs {
    pub fn open_key_dialog(&mut self) {
        self.key = Some(String::new());
    }

    /// Quitting without saving was chosen: let the close through.
    pub fn confirm_quit(&mut self) {
        self.confirming_quit = false;
        self.quit_confirmed = true;
    }

    pub(crate) fn ui(&mut self, ctx: &egui::Context, asking: Asking, actions: &mut Vec<Action>) {
        self.shortcuts_window(ctx);
        if let Some(name) = &asking.replacing {
            replace_question(ctx, name, actions);
        }
        if let Some(what) = &asking.damaged {
            damaged_question(ctx, what, actions);
        }
        self.request_window(ctx);
        self.key_window(ctx, actions);
        if self.asking_split {
            match &asking.split {
                Some(offer) => self.split_question(ctx, offer, actions),
                None => self.asking_split = false,
            }
        }
        if let Some(offer) = &asking.recovery {
            recovery_question(ctx, offer, actions);
        } else if let Some((n, prompt)) = &asking.unfinished_jobs {
            unfinished_jobs_question(ctx, *n, prompt, actions);
        }
        self.quit_question(ctx, asking.unsaved_mask, asking.jobs_active, actions);
    }

    fn shortcuts_window(&mut self, ctx: &egui::Context) {
        // Esc closes the list, as it closes other help.
        if self.show_shortcuts
            && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape))
        {
            self.show_shortcuts = false;
        }
        let mut open = self.show_shortcuts;
        // Tall enough for most of the list at once; every group's keys in one column.
        let height = (ctx.content_rect().height() - 80.0).clamp(240.0, 720.0);
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .default_size([520.0, height])
            .resizable(true)
            .vscroll(true)
            .show(ctx, |ui| {
                for (group, rows) in super::commands::shortcut_sheet() {
                    ui.strong(group);
                    egui::Grid::new(("shortcuts", group))
                        .striped(true)
                        .min_col_width(260.0)
                        .max_col_width(260.0)
                        .show(ui, |ui| {
                            for (what, keys) in rows {
                                ui.label(what);
                                ui.monospace(keys);
                                ui.end_row();
                            }
                        });
                    ui.add_space(4.0);
                }
            });
        self.show_shortcuts = open;
    }

    fn request_window(&mut self, ctx: &egui::Context) {
        let Some(text) = &self.request_preview else {
            return;
        };
        let mut open = true;
        let mut text = text.clone();
        egui::Window::new("Request")
            .open(&mut open)
            .default_size([520.0, 420.0])
            .show(ctx, |ui| {
                ui.label(
                    "The JSON that will be sent (image payloads abbreviated; the key goes in a \
                     header, never here):",
                );
                egui::ScrollArea::vertical().show(ui, |ui| {
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .code_editor()
                            .desired_width(f32::INFINITY)
                            .interactive(true),
                    );
                });
            });
        if !open {
            self.request_preview = None;
        }
    }

    /// Stores or removes the Runware key in the OS keyring (never in the settings file).
    fn key_window(&mut self, ctx: &egui::Context, actions: &mut Vec<Action>) {
        let Some(text) = &mut self.key else {
            return;
        };
        let mut open = true;
        let mut answer = None;
        let from_env = crate::runware::ApiKey::from_env().is_some();
        egui::Window::new("Runware API key")
            .open(&mut open)
            .resizable(false)
            .show(ctx, |ui| {
                if from_env {
                    ui.label(
                        "RUNWARE_API_KEY is set in the environment; it is used before the keyring.",
                    );
                }
                ui.label(
                    "The key is kept in the OS keyring, never in touchup's settings, logs or \
                     exports.",
                );
                ui.horizontal(|ui| {
                    let label = ui.label("Key");
                    ui.add(
                        egui::TextEdit::singleline(text)
                            .password(true)
                            .desired_width(260.0),
                    )
                    .labelled_by(label.id);
                });
                ui.horizontal(|ui| {
                    let typed = text.trim();
                    if ui
                        .add_enabled(!typed.is_empty(), egui::Button::new("Save to keyring"))
                        .clicked()
                    {
                        answer = Some(Some(typed.to_string()));
                    }
                    if ui.button("Remove from keyring").clicked() {
                        answer = Some(None);
                    }
                });
            });
        if let Some(answer) = answer {
            self.key = None;
            actions.push(Action::StoreKey(answer));
        } else if !open {
            self.key = None;
        }
    }

    /// The mask's groups lie so far apart that one area holds them only at under half scale:
    /// offer one job per group (with what it costs), the whole photo, or one area anyway.
    fn split_question(
        &mut self,
        ctx: &egui::Context,
        offer: &SplitOffer,
        actions: &mut Vec<Action>,
    ) {
        use super::document::SplitAnswer;
        let n = offer.groups;
        let pictures = u64::from(offer.pictures) * n as u64;
        let cost = if offer.runware {
            format!(
                " One job per group sends {n} edits of {} picture(s) each: {pictures} pictures billed instead of {}.",
                offer.pictures, offer.pictures
            )
        } else {
            String::new()
        };
        let per_group = format!("One job per group ({n} jobs)");
        let one = format!("One area ({:.0} %)", offer.scale * 100.0);
        let whole = format!("Whole photo ({:.0} %)", offer.whole * 100.0);
        let choice = ask(
            ctx,
            "confirm-split",
            "The mask's parts lie far apart",
            &format!(
                "The mask marks {n} groups far apart: one area holding them all goes out at {:.0} % \
                 of the photo's resolution, so the edit comes back soft. Each group in its own \
                 job goes out at full resolution.{cost}",
                offer.scale * 100.0
            ),
            &[&per_group, &whole, &one, "Cancel"],
            Some(3),
        );
        if let Some(choice) = choice {
            self.asking_split = false;
            let answer = match choice {
                0 => Some(SplitAnswer::PerGroup),
                1 => Some(SplitAnswer::Whole),
                2 => Some(SplitAnswer::OneArea),
                _ => None,
            };
            if let Some(a) = answer {
                actions.push(Action::SplitAnswer(a));
            }
        }
    }

    /// Closing the window with an unsaved mask, or with edit jobs still to finish, asks first.
    fn quit_question(
        &mut self,
        ctx: &egui::Context,
        unsaved_mask: bool,
        jobs_active: usize,
        actions: &mut Vec<Action>,
    ) {
        let something_to_lose = unsaved_mask || jobs_active > 0;
        if ctx.input(|i| i.viewport().close_requested())
            && !self.quit_confirmed
            && something_to_lose
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirming_quit = true;
        }
        if !self.confirming_quit {
            return;
        }
        let mut text = Vec::new();
        if unsaved_mask {
            text.push("The mask has changes that are not saved.".to_string());
        }
        if jobs_active > 0 {
            text.push(format!(
                "{jobs_active} edit job(s) are still queued or running: quitting cancels them \
                 (results already received stay in their folders)."
            ));
        }
        let buttons: &[&str] = if unsaved_mask {
            &["Save mask…", "Quit without saving", "Keep editing"]
        } else {
            &["Quit and cancel the jobs", "Keep editing"]
        };
        let keep = buttons.len() - 1;
        let choice = ask(
            ctx,
            "confirm-quit",
            "Quit touchup?",
            &text.join(" "),
            buttons,
            Some(keep),
        );
        match choice.map(|c| (c, buttons[c])) {
            Some((_, "Save mask…")) => {
                self.confirming_quit = false;
                actions.push(Action::Command(Command::SaveMask));
            }
            Some((c, _)) if c + 1 < buttons.len() => {
                self.confirm_quit();
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Some(_) => self.confirming_quit = false,
            None => {}
        }
    }
}

/// Asks before a newly opened photo replaces a mask that was never saved or copied.
fn replace_question(ctx: &egui::Context, new_name: &str, actions: &mut Vec<Action>) {
    let choice = ask(
        ctx,
        "confirm-replace",
        "Discard the current mask?",
        &format!(
            "Opening {new_name} replaces the current photo. Its mask has changes that were not \
             saved or copied."
        ),
        &[
            "Save mask first",
            "Discard mask and open",
            "Keep the current photo",
        ],
        Some(2),
    );
    let answer = match choice {
        Some(0) => ReplaceAnswer::SaveFirst,
        Some(1) => ReplaceAnswer::Discard,
        Some(_) => ReplaceAnswer::Keep,
        None => return,
    };
    actions.push(Action::Replace(answer));
}

/// Asks before a cut-short or damaged photo opens: what is missing would be sent as it shows.
fn damaged_question(ctx: &egui::Context, what: &str, actions: &mut Vec<Action>) {
    let choice = ask(
        ctx,
        "confirm-damaged",
        "Open a damaged photo?",
        &format!(
            "{what}. Opened anyway, the missing part shows as grey or garbled pixels, and that is \
             what the model would get as the seed. Open the original file instead if you have it."
        ),
        &["Open anyway", "Don't open"],
        Some(1),
    );
    if let Some(answer) = choice {
        actions.push(Action::OpenDamaged(answer == 0));
    }
}

/// Asks whether to queue again the edit jobs an earlier session did not finish.
fn unfinished_jobs_question(
    ctx: &egui::Context,
    n: usize,
    prompt: &str,
    actions: &mut Vec<Action>,
) {
    let text = format!(
        "{n} edit job(s) were still queued or running when touchup last stopped (the first: \
         \u{201c}{prompt}\u{201d}). Each kept its photo, mask and settings. Queue them again?"
    );
    let choice = ask(
        ctx,
        "unfinished-jobs",
        "Unfinished edit jobs",
        &text,
        &["Queue them again", "Discard them"],
        Some(1),
    );
    if let Some(answer) = choice {
        actions.push(Action::RequeueJobs(answer == 0));
    }
}

fn recovery_question(ctx: &egui::Context, offer: &RecoveryOffer, actions: &mut Vec<Action>) {
    let RecoveryOffer {
        name,
        size: (w, h),
        marked,
        prompt,
        saved_ago,
        stopped_by_signal,
    } = offer;
    let (heading, opening) = if *stopped_by_signal {
        (
            "Restore the work saved on close?",
            "touchup was closed by the system (a signal) last time; your work was saved",
        )
    } else {
        (
            "Recover your work?",
            "touchup did not close cleanly last time. Your work was autosaved",
        )
    };
    let mut text =
        format!("{opening}: {name} ({w}x{h}), {marked} marked pixels, saved {saved_ago}.");
    if !prompt.is_empty() {
        text.push_str(&format!("\nPrompt: \"{prompt}\""));
    }
    // No Escape: the work stays on offer until the user picks one.
    if let Some(i) = ask(
        ctx,
        "recover-work",
        heading,
        &text,
        &["Restore", "Discard"],
        None,
    ) {
        actions.push(Action::Recover(i == 0));
    }
}

/// A modal question: a heading, an explanation and a row of buttons; returns the index of the
/// button clicked. Escape (or a click beside the dialog) answers `escape` when there is one.
pub fn ask(
    ctx: &egui::Context,
    id: &str,
    heading: &str,
    text: &str,
    buttons: &[&str],
    escape: Option<usize>,
) -> Option<usize> {
    let mut choice = None;
    let modal = egui::Modal::new(egui::Id::unique(id)).show(ctx, |ui| {
        ui.set_max_width(460.0);
        ui.heading(heading);
        ui.label(text);
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            for (i, label) in buttons.iter().enumerate() {
                if ui.button(*label).clicked() {
                    choice = Some(i);
                }
            }
        });
    });
    if choice.is_none() && modal.should_close() {
        choice = escape;
    }
    choice
}
