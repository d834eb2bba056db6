//! The edit form: prompt and every Ideogram 3.0 Edit option, validated as you type, each
//! problem shown under its field. Self-contained: the App owns a [`FormState`], calls [`show`]
//! in a side panel and acts on the returned [`FormAction`].

use egui::{Color32, ComboBox, DragValue, RichText, TextEdit, Ui};

use crate::edit::{
    Delivery, EditRequest, Field, FieldError, MagicPrompt, OutputFormat, OutputType,
    PROMPT_MAX_CHARS, RenderingSpeed, STYLE_PRESETS, Safety, SafetyMode, StyleType,
    find_style_preset, style_preset_label,
};

/// What the user asked the form to do.
#[derive(Debug, Clone, PartialEq)]
pub enum FormAction {
    /// The options are valid: send the edit (the App fills in the seed and mask).
    Submit,
    /// Stop the running submission.
    Cancel,
    /// Show the JSON that would be sent.
    ViewRequest,
    /// Put a cURL command on the clipboard.
    CopyCurl,
    /// Import this pasted task JSON (see [`FormState::import`]).
    Import(String),
    /// Ask for a task JSON file to import.
    ImportFile,
    /// Ask for a style reference image file to add.
    AddStyleReference,
    /// Remove style reference image `n` (0-based).
    RemoveStyleReference(usize),
    /// Ask for a character reference image file.
    ChooseCharacterReference,
    /// Ask for a mask for the character reference image.
    ChooseCharacterMask,
    /// Remove the character reference image and its mask.
    ClearCharacterReference,
}

/// The form's state: the request being edited and what the form shows about it.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    /// Prompt, options and (set by the App) images.
    pub request: EditRequest,
    /// Problems to show beside their fields (validation and the service's `parameter`s).
    pub errors: Vec<FieldError>,
    /// The last failure as one line, shown above the buttons.
    pub message: Option<String>,
    /// A submission is running: Submit is disabled and Cancel enabled.
    pub busy: bool,
    /// Progress text while busy ("2/4 ready", ...).
    pub progress: Option<String>,
    /// Filter for the style preset list.
    pub preset_filter: String,
    /// Text pasted into "Import request".
    pub import_text: String,
    pub import_open: bool,
    /// The open photo was damaged and opened anyway: what is missing (set by the App).
    pub photo_warning: Option<String>,
    /// A photo is open and nothing is masked yet (set by the App each frame): the form says
    /// what to do first, and Submit reports the empty mask with the form's own problems.
    pub mask_empty: bool,
}

/// What Submit says about an empty mask (on the canvas, and in the form's message).
pub const EMPTY_MASK_PROBLEM: &str =
    "Paint over the part of the photo to change first: the mask is empty.";

/// What a newcomer is told to do first, on the canvas while nothing is masked.
pub const START_HINT: &str = "Start here: paint over what to change (Brush, B), or choose the \
     Text tool (T) and click a line of lettering; then describe the change on the right and \
     press Submit.";

/// Fields the App supplies from the editor rather than the form.
fn from_editor(field: Field) -> bool {
    matches!(field, Field::SeedImage | Field::MaskImage)
}

impl FormState {
    /// Problems with the form's own fields (the App checks the photo and the mask).
    pub fn form_problems(&self) -> Vec<FieldError> {
        self.request
            .validate()
            .into_iter()
            .filter(|e| !from_editor(e.field))
            .collect()
    }

    /// Shows a failed submission: the message, and each named parameter beside its field.
    /// Prompt, settings and images stay as they are.
    pub fn show_failure(&mut self, error: &crate::runware::RunwareError) {
        self.busy = false;
        self.progress = None;
        self.message = Some(error.to_string());
        self.errors = match error {
            crate::runware::RunwareError::Invalid(problems) => problems.clone(),
            _ => {
                let mut out = Vec::new();
                for api in error.api_errors() {
                    for p in &api.parameter {
                        if let Some(field) = Field::from_parameter(p) {
                            out.push(FieldError {
                                field,
                                message: api.message.clone().unwrap_or_else(|| api.to_string()),
                            });
                        }
                    }
                }
                out
            }
        };
    }

    /// Shows a failed job: its message above the buttons, and beside each field it names.
    pub fn show_job_failure(&mut self, message: &str, fields: &[Field]) {
        self.busy = false;
        self.progress = None;
        self.message = Some(message.to_string());
        self.errors = fields
            .iter()
            .map(|&field| FieldError {
                field,
                message: message.to_string(),
            })
            .collect();
    }

    /// Fills the form from a Runware task JSON (prompt, settings, seed and mask references).
    pub fn import(&mut self, text: &str) -> Result<(), crate::edit::ImportError> {
        let request = EditRequest::from_task_json(text)?;
        self.request = request;
        self.errors.clear();
        self.message = if self.request.ignored_fields.is_empty() {
            None
        } else {
            Some(format!(
                "Not imported (not taken by this model): {}",
                self.request.ignored_fields.join(", ")
            ))
        };
        Ok(())
    }
}

fn show_errors(ui: &mut Ui, errors: &[FieldError], field: Field) {
    for e in errors.iter().filter(|e| e.field == field) {
        ui.add(
            egui::Label::new(
                RichText::new(e.message.clone()).color(Color32::from_rgb(220, 80, 60)),
            )
            .wrap(),
        );
    }
}

/// What can be sent but may not do what the designer expects, beside its field.
fn show_warnings(ui: &mut Ui, warnings: &[FieldError], field: Field) {
    for w in warnings.iter().filter(|w| w.field == field) {
        ui.add(
            egui::Label::new(
                RichText::new(format!("Note: {}", w.message)).color(ui.visuals().warn_fg_color),
            )
            .wrap(),
        );
    }
}

fn option_combo<T: Copy + PartialEq>(
    ui: &mut Ui,
    label: &str,
    value: &mut Option<T>,
    all: &[T],
    name: fn(T) -> &'static str,
    default_name: &str,
) {
    let selected = value.map(name).unwrap_or(default_name);
    ComboBox::from_label(label)
        .selected_text(selected)
        .show_ui(ui, |ui| {
            ui.selectable_value(value, None, default_name);
            for v in all {
                ui.selectable_value(value, Some(*v), name(*v));
            }
        });
}

fn labelled_text(ui: &mut Ui, label: &str, value: &mut Option<String>, hint: &str) -> bool {
    let mut text = value.clone().unwrap_or_default();
    let changed = ui
        .horizontal(|ui| {
            let l = ui.label(label);
            ui.add(
                TextEdit::singleline(&mut text)
                    .hint_text(hint)
                    .desired_width(180.0),
            )
            .labelled_by(l.id)
            .changed()
        })
        .inner;
    if changed {
        let t = text.trim().to_string();
        *value = (!t.is_empty()).then_some(t);
    }
    changed
}

/// Submits the form from anywhere in the editor (also while typing the prompt).
pub const SHORTCUT_SUBMIT: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Enter);

/// Draws the form. Returns what the user asked for this frame, if anything. `Submit` is only
/// returned when the form's own fields are valid; otherwise the problems are shown.
pub fn show(ui: &mut Ui, state: &mut FormState) -> Option<FormAction> {
    let mut action = None;
    let mut edited = false;
    let warnings = state.request.warnings();
    // Before the prompt's text field sees the keys (it would take Enter as a new line).
    let submit_key = ui.input_mut(|i| i.consume_shortcut(&SHORTCUT_SUBMIT));

    // The empty mask is said on the canvas (where the mask is made), so the form never
    // shifts under the pointer; painting clears it.
    if !state.mask_empty {
        state.errors.retain(|e| e.field != Field::MaskImage);
    }

    // Prompt with a live count.
    let prompt_label = ui.label("Prompt");
    let count = state.request.prompt.chars().count();
    edited |= ui
        .add(
            TextEdit::multiline(&mut state.request.prompt)
                .desired_rows(4)
                .desired_width(f32::INFINITY)
                .hint_text("Describe the change to the masked area"),
        )
        .labelled_by(prompt_label.id)
        .changed();
    let count_color = if count > PROMPT_MAX_CHARS {
        Color32::from_rgb(220, 80, 60)
    } else {
        ui.visuals().weak_text_color()
    };
    ui.label(RichText::new(format!("{count} / {PROMPT_MAX_CHARS} characters")).color(count_color));
    show_errors(ui, &state.errors, Field::Prompt);
    ui.separator();

    let settings = &mut state.request.settings;

    // Style preset, searchable.
    ui.horizontal(|ui| {
        let l = ui.label("Search presets");
        ui.add(TextEdit::singleline(&mut state.preset_filter).desired_width(140.0))
            .labelled_by(l.id);
    });
    let selected = settings
        .style_preset
        .as_deref()
        .map(style_preset_label)
        .unwrap_or_else(|| "None".into());
    let filter = state.preset_filter.to_lowercase();
    let before = settings.style_preset.clone();
    ComboBox::from_label("Style preset")
        .selected_text(selected)
        .height(300.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut settings.style_preset, None, "None");
            for code in STYLE_PRESETS {
                let label = style_preset_label(code);
                if filter.is_empty()
                    || label.to_lowercase().contains(&filter)
                    || code.to_lowercase().contains(&filter)
                {
                    ui.selectable_value(&mut settings.style_preset, Some(code.to_string()), label);
                }
            }
        });
    if let Some(p) = &settings.style_preset
        && find_style_preset(p).is_none()
    {
        ui.label(RichText::new(format!("'{p}' is not a known preset")).weak());
    }
    edited |= before != settings.style_preset;
    show_errors(ui, &state.errors, Field::StylePreset);

    // Style type: disabled while a style code is set.
    let code_set = settings.style_code.is_some();
    let before = (
        settings.style_type,
        settings.rendering_speed,
        settings.magic_prompt,
    );
    ui.add_enabled_ui(!code_set, |ui| {
        option_combo(
            ui,
            "Style type",
            &mut settings.style_type,
            StyleType::ALL,
            StyleType::label,
            "Default (Auto)",
        );
    });
    if code_set {
        ui.label(
            RichText::new("Style type is off while a style code is set (the API refuses both).")
                .weak(),
        );
    }
    show_errors(ui, &state.errors, Field::StyleType);
    show_warnings(ui, &warnings, Field::StyleType);
    option_combo(
        ui,
        "Rendering speed",
        &mut settings.rendering_speed,
        RenderingSpeed::ALL,
        RenderingSpeed::label,
        "Default",
    );
    show_errors(ui, &state.errors, Field::RenderingSpeed);
    option_combo(
        ui,
        "Magic prompt",
        &mut settings.magic_prompt,
        MagicPrompt::ALL,
        MagicPrompt::label,
        "Default (Auto)",
    );
    show_errors(ui, &state.errors, Field::MagicPrompt);
    edited |= before
        != (
            settings.style_type,
            settings.rendering_speed,
            settings.magic_prompt,
        );

    edited |= labelled_text(ui, "Style code", &mut settings.style_code, "8 hex digits");
    show_errors(ui, &state.errors, Field::StyleCode);
    ui.separator();

    // Results and output.
    ui.horizontal(|ui| {
        let l = ui.label("Number of results");
        let mut n = settings.number_results.unwrap_or(1);
        if ui
            .add(DragValue::new(&mut n).range(1..=20))
            .labelled_by(l.id)
            .changed()
        {
            settings.number_results = Some(n);
            edited = true;
        }
    });
    show_errors(ui, &state.errors, Field::NumberResults);
    let before = settings.output_format;
    option_combo(
        ui,
        "Output format",
        &mut settings.output_format,
        OutputFormat::ALL,
        OutputFormat::label,
        "Default (JPG)",
    );
    edited |= before != settings.output_format;
    ui.horizontal(|ui| {
        let l = ui.label("Quality");
        let mut q = settings.output_quality.unwrap_or(95);
        if ui
            .add(DragValue::new(&mut q).range(20..=99))
            .labelled_by(l.id)
            .changed()
        {
            settings.output_quality = Some(q);
            edited = true;
        }
    });
    show_errors(ui, &state.errors, Field::OutputQuality);
    let mut cost = settings.include_cost.unwrap_or(false);
    if ui.checkbox(&mut cost, "Include cost").changed() {
        settings.include_cost = cost.then_some(true);
        edited = true;
    }
    ui.separator();

    // Reference images (files are chosen by the App).
    ui.label("Style reference images");
    ui.add_enabled_ui(!code_set, |ui| {
        let mut remove = None;
        for (i, image) in state.request.style_reference_images.iter().enumerate() {
            ui.horizontal(|ui| {
                let size = image
                    .local_bytes()
                    .map(|b| format!("{} kB", b.len() / 1024))
                    .unwrap_or_else(|| "reference".into());
                ui.label(format!("Style image {} ({size})", i + 1));
                if ui.button(format!("Remove style image {}", i + 1)).clicked() {
                    remove = Some(i);
                }
            });
        }
        if let Some(i) = remove {
            action = Some(FormAction::RemoveStyleReference(i));
        }
        let room = state.request.style_reference_images.len() < crate::edit::STYLE_REFERENCES_MAX;
        if ui
            .add_enabled(room, egui::Button::new("Add style reference image..."))
            .clicked()
        {
            action = Some(FormAction::AddStyleReference);
        }
    });
    if code_set {
        ui.label(RichText::new("Style references are off while a style code is set.").weak());
    }
    show_errors(ui, &state.errors, Field::StyleReferenceImages);
    ui.horizontal_wrapped(|ui| {
        let has_char = state.request.character_reference_image.is_some();
        let text = if has_char {
            "Character reference: set"
        } else {
            "Character reference: none"
        };
        ui.label(text);
        if ui.button("Choose character reference...").clicked() {
            action = Some(FormAction::ChooseCharacterReference);
        }
        if ui
            .add_enabled(has_char, egui::Button::new("Choose character mask..."))
            .clicked()
        {
            action = Some(FormAction::ChooseCharacterMask);
        }
        if ui
            .add_enabled(has_char, egui::Button::new("Clear character reference"))
            .clicked()
        {
            action = Some(FormAction::ClearCharacterReference);
        }
    });
    show_errors(ui, &state.errors, Field::CharacterReferenceImage);
    show_errors(ui, &state.errors, Field::CharacterReferenceMask);

    // Advanced.
    let settings = &mut state.request.settings;
    egui::CollapsingHeader::new("Advanced")
        .default_open(false)
        .show(ui, |ui| {
            let before = (settings.delivery, settings.output_type);
            option_combo(
                ui,
                "Delivery",
                &mut settings.delivery,
                Delivery::ALL,
                Delivery::label,
                "Default (wait)",
            );
            option_combo(
                ui,
                "Output type",
                &mut settings.output_type,
                OutputType::ALL,
                OutputType::label,
                "Default (URL)",
            );
            edited |= before != (settings.delivery, settings.output_type);
            edited |= labelled_text(ui, "Webhook URL", &mut settings.webhook_url, "https://...");
            show_errors(ui, &state.errors, Field::WebhookUrl);
            edited |= labelled_text(
                ui,
                "Upload endpoint",
                &mut settings.upload_endpoint,
                "https://... (PUT)",
            );
            show_errors(ui, &state.errors, Field::UploadEndpoint);
            ui.horizontal(|ui| {
                let mut has_ttl = settings.ttl.is_some();
                if ui.checkbox(&mut has_ttl, "Set TTL").changed() {
                    settings.ttl = has_ttl.then_some(settings.ttl.unwrap_or(3600));
                    edited = true;
                }
                let l = ui.label("TTL (seconds)");
                let mut ttl = settings.ttl.unwrap_or(3600);
                if ui
                    .add_enabled(has_ttl, DragValue::new(&mut ttl).range(60..=u32::MAX))
                    .labelled_by(l.id)
                    .changed()
                {
                    settings.ttl = Some(ttl);
                    edited = true;
                }
            });
            show_errors(ui, &state.errors, Field::Ttl);
            show_warnings(ui, &warnings, Field::Ttl);
            let mut check = settings
                .safety
                .as_ref()
                .and_then(|s| s.check_content)
                .unwrap_or(false);
            if ui.checkbox(&mut check, "Content safety check").changed() {
                settings.safety = check.then_some(Safety {
                    check_content: Some(true),
                    mode: Some(SafetyMode::Fast),
                });
                edited = true;
            }
            show_errors(ui, &state.errors, Field::Safety);
        });
    ui.separator();

    if edited {
        // Re-check as the user types; only the form's own fields.
        state.errors = state.form_problems();
        state.message = None;
    }

    if let Some(what) = &state.photo_warning {
        ui.add(
            egui::Label::new(
                RichText::new(format!(
                    "This photo is damaged ({what}); the missing part is sent as it shows."
                ))
                .color(ui.visuals().warn_fg_color),
            )
            .wrap(),
        );
    }
    if let Some(message) = &state.message {
        ui.add(
            egui::Label::new(RichText::new(message).color(Color32::from_rgb(220, 80, 60))).wrap(),
        );
    }
    ui.horizontal(|ui| {
        let submit = ui.button("Submit").on_hover_text(format!(
            "{}; while an edit runs, the next one waits in the Jobs list",
            super::super::commands::keys_text(&SHORTCUT_SUBMIT)
        ));
        if submit.clicked() || submit_key {
            // Every problem at once, each beside its field: the empty mask with the form's.
            let mut problems = state.form_problems();
            if state.mask_empty {
                problems.insert(
                    0,
                    FieldError {
                        field: Field::MaskImage,
                        message: EMPTY_MASK_PROBLEM.into(),
                    },
                );
            }
            if problems.is_empty() {
                state.errors.clear();
                state.message = None;
                action = Some(FormAction::Submit);
            } else {
                let n = problems.len();
                state.message = Some(if n == 1 {
                    format!("1 problem to fix before sending: {}", problems[0].message)
                } else {
                    format!("{n} problems to fix before sending (each shown beside its field)")
                });
                state.errors = problems;
            }
        }
        if ui
            .add_enabled(state.busy, egui::Button::new("Cancel"))
            .clicked()
        {
            action = Some(FormAction::Cancel);
        }
    });
    // Below the buttons, so they stay put while the progress comes and goes.
    if let Some(progress) = &state.progress {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.add(egui::Label::new(progress.as_str()).wrap());
        });
    }
    ui.horizontal(|ui| {
        if ui.button("View request").clicked() {
            action = Some(FormAction::ViewRequest);
        }
        if ui.button("Copy as cURL").clicked() {
            action = Some(FormAction::CopyCurl);
        }
        if ui.button("Import request").clicked() {
            state.import_open = !state.import_open;
        }
    });
    if state.import_open {
        let l = ui.label("Task JSON to import");
        ui.add(
            TextEdit::multiline(&mut state.import_text)
                .desired_rows(4)
                .desired_width(f32::INFINITY)
                .code_editor(),
        )
        .labelled_by(l.id);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    !state.import_text.trim().is_empty(),
                    egui::Button::new("Import pasted JSON"),
                )
                .clicked()
            {
                action = Some(FormAction::Import(state.import_text.clone()));
            }
            if ui.button("Import from file...").clicked() {
                action = Some(FormAction::ImportFile);
            }
        });
    }
    action
}
