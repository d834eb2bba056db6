//! Validation of a request, per form field ([`Field`]), so a form can show each problem beside
//! its control; service `parameter` names map to the same fields.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    EditRequest, ImageInput, OutputType, PROMPT_MAX_CHARS, QUALITY_RANGE, RESULTS_RANGE,
    STYLE_PRESETS, STYLE_REFERENCES_MAX, TTL_MIN,
};

/// A form field, named so the form can put a message beside it. `parameter` names from the
/// service map here with [`Field::from_parameter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    Prompt,
    StylePreset,
    StyleType,
    RenderingSpeed,
    MagicPrompt,
    StyleCode,
    NumberResults,
    OutputFormat,
    OutputQuality,
    OutputType,
    IncludeCost,
    StyleReferenceImages,
    CharacterReferenceImage,
    CharacterReferenceMask,
    Delivery,
    WebhookUrl,
    UploadEndpoint,
    Ttl,
    Safety,
    SeedImage,
    MaskImage,
    Model,
}

impl Field {
    /// The form field a service `parameter` names (`positivePrompt`,
    /// `providerSettings.ideogram.styleCode`, `inputs.maskImage`, `numberResults`, ...).
    pub fn from_parameter(parameter: &str) -> Option<Field> {
        let last = parameter.rsplit(['.', '/']).next().unwrap_or(parameter);
        let last = last.split('[').next().unwrap_or(last);
        Some(match last {
            "positivePrompt" | "prompt" => Field::Prompt,
            "stylePreset" => Field::StylePreset,
            "styleType" => Field::StyleType,
            "renderingSpeed" => Field::RenderingSpeed,
            "magicPrompt" => Field::MagicPrompt,
            "styleCode" => Field::StyleCode,
            "numberResults" => Field::NumberResults,
            "outputFormat" => Field::OutputFormat,
            "outputQuality" => Field::OutputQuality,
            "outputType" => Field::OutputType,
            "includeCost" => Field::IncludeCost,
            "styleReferenceImages" => Field::StyleReferenceImages,
            "characterReferenceImages" => Field::CharacterReferenceImage,
            "characterReferenceImagesMask" => Field::CharacterReferenceMask,
            "deliveryMethod" => Field::Delivery,
            "webhookURL" => Field::WebhookUrl,
            "uploadEndpoint" => Field::UploadEndpoint,
            "ttl" => Field::Ttl,
            "safety" | "checkContent" | "mode" => Field::Safety,
            "seedImage" => Field::SeedImage,
            "maskImage" => Field::MaskImage,
            "model" => Field::Model,
            _ => return None,
        })
    }

    /// The form's label for the field.
    pub fn label(self) -> &'static str {
        match self {
            Field::Prompt => "Prompt",
            Field::StylePreset => "Style preset",
            Field::StyleType => "Style type",
            Field::RenderingSpeed => "Rendering speed",
            Field::MagicPrompt => "Magic prompt",
            Field::StyleCode => "Style code",
            Field::NumberResults => "Number of results",
            Field::OutputFormat => "Output format",
            Field::OutputQuality => "Quality",
            Field::OutputType => "Output type",
            Field::IncludeCost => "Include cost",
            Field::StyleReferenceImages => "Style reference images",
            Field::CharacterReferenceImage => "Character reference image",
            Field::CharacterReferenceMask => "Character reference mask",
            Field::Delivery => "Delivery",
            Field::WebhookUrl => "Webhook URL",
            Field::UploadEndpoint => "Upload endpoint",
            Field::Ttl => "TTL",
            Field::Safety => "Content safety check",
            Field::SeedImage => "Image",
            Field::MaskImage => "Mask",
            Field::Model => "Model",
        }
    }
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field.label(), self.message)
    }
}

fn is_http_url(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with("https://") || t.starts_with("http://")) && t.len() > "https://".len()
}

impl EditRequest {
    /// Every problem that would make the service refuse the task, per field. Empty when the
    /// task can be sent.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut push = |field: Field, message: String| errors.push(FieldError { field, message });
        let s = &self.settings;

        let chars = self.prompt.chars().count();
        if self.prompt.trim().is_empty() {
            push(
                Field::Prompt,
                "describe the edit (1 to 2000 characters)".into(),
            );
        } else if chars > PROMPT_MAX_CHARS {
            push(
                Field::Prompt,
                format!("{chars} characters; shorten it to at most {PROMPT_MAX_CHARS}"),
            );
        }
        if let Some(preset) = &s.style_preset
            && !STYLE_PRESETS.contains(&preset.as_str())
        {
            push(
                Field::StylePreset,
                format!("'{preset}' is not one of the 62 style presets"),
            );
        }
        if let Some(code) = &s.style_code {
            if code.len() != 8 || !code.chars().all(|c| c.is_ascii_hexdigit()) {
                push(
                    Field::StyleCode,
                    format!("'{code}' must be exactly 8 hexadecimal characters (0-9, A-F)"),
                );
            }
            if s.style_type.is_some() {
                push(
                    Field::StyleType,
                    "a style code cannot be combined with a style type; clear one of them".into(),
                );
            }
            if !self.style_reference_images.is_empty() {
                push(
                    Field::StyleReferenceImages,
                    "a style code cannot be combined with style reference images; remove them or the code".into(),
                );
            }
        }
        if let Some(n) = s.number_results
            && !RESULTS_RANGE.contains(&n)
        {
            push(
                Field::NumberResults,
                format!("{n} is out of range; choose 1 to 20"),
            );
        }
        if let Some(q) = s.output_quality
            && !QUALITY_RANGE.contains(&q)
        {
            push(
                Field::OutputQuality,
                format!("{q} is out of range; choose 20 to 99"),
            );
        }
        if self.style_reference_images.len() > STYLE_REFERENCES_MAX {
            push(
                Field::StyleReferenceImages,
                format!(
                    "{} images; at most {STYLE_REFERENCES_MAX} are accepted",
                    self.style_reference_images.len()
                ),
            );
        }
        match (
            &self.character_reference_image,
            &self.character_reference_mask,
        ) {
            (None, Some(_)) => push(
                Field::CharacterReferenceMask,
                "a character mask needs a character reference image".into(),
            ),
            (Some(image), Some(mask)) => {
                if let (Some(a), Some(b)) = (image.dimensions(), mask.dimensions())
                    && a != b
                {
                    push(
                        Field::CharacterReferenceMask,
                        format!(
                            "the mask is {}x{} but its reference image is {}x{}; they must match",
                            b.0, b.1, a.0, a.1
                        ),
                    );
                }
            }
            _ => {}
        }
        if let Some(url) = &s.webhook_url
            && !is_http_url(url)
        {
            push(Field::WebhookUrl, format!("'{url}' is not an http(s) URL"));
        }
        if let Some(url) = &s.upload_endpoint
            && !is_http_url(url)
        {
            push(
                Field::UploadEndpoint,
                format!("'{url}' is not an http(s) URL"),
            );
        }
        if let Some(ttl) = s.ttl
            && ttl < TTL_MIN
        {
            push(
                Field::Ttl,
                format!("{ttl} s is too short; at least {TTL_MIN} s"),
            );
        }
        match &self.seed_image {
            None => push(Field::SeedImage, "choose the photo to edit".into()),
            Some(ImageInput::Reference(r)) if r.trim().is_empty() => {
                push(Field::SeedImage, "the image reference is empty".into())
            }
            _ => {}
        }
        match &self.mask_image {
            None => push(
                Field::MaskImage,
                "paint or import a mask of the area to edit".into(),
            ),
            Some(ImageInput::Reference(r)) if r.trim().is_empty() => {
                push(Field::MaskImage, "the mask reference is empty".into())
            }
            Some(mask) => {
                if let (Some(seed), Some(m)) = (
                    self.seed_image.as_ref().and_then(|s| s.dimensions()),
                    mask.dimensions(),
                ) && seed != m
                {
                    push(
                        Field::MaskImage,
                        format!(
                            "the mask is {}x{} but the image is {}x{}; they must be the same size",
                            m.0, m.1, seed.0, seed.1
                        ),
                    );
                }
            }
        }
        errors
    }

    /// What may not do what the user expects, though the task can be sent: per field, for a
    /// form to show beside its control and the CLI to print as notes. A TTL with non-URL
    /// output is sent (Runware ignores it there); `RENDER_3D` and `ANIME`, listed on the
    /// model page but Ideogram 1.0/2.x styles, are kept and may be refused.
    pub fn warnings(&self) -> Vec<FieldError> {
        let mut warnings = Vec::new();
        let s = &self.settings;
        if s.ttl.is_some()
            && let Some(t) = s.output_type.filter(|t| *t != OutputType::Url)
        {
            warnings.push(FieldError {
                field: Field::Ttl,
                message: format!(
                    "a TTL applies only to URL output; with {t} output Runware ignores it"
                ),
            });
        }
        if let Some(t) = s.style_type.filter(|t| t.may_be_refused()) {
            warnings.push(FieldError {
                field: Field::StyleType,
                message: format!(
                    "{t} is an Ideogram 1.0/2.x style type; Ideogram 3.0 Edit may refuse it"
                ),
            });
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_map_to_fields() {
        assert_eq!(
            Field::from_parameter("providerSettings.ideogram.styleCode"),
            Some(Field::StyleCode)
        );
        assert_eq!(Field::from_parameter("positivePrompt"), Some(Field::Prompt));
        assert_eq!(
            Field::from_parameter("inputs.maskImage"),
            Some(Field::MaskImage)
        );
        assert_eq!(Field::from_parameter("whatever"), None);
    }

    #[test]
    fn a_ttl_without_url_output_and_old_style_types_are_warnings_not_errors() {
        use crate::edit::StyleType;
        let mut r = EditRequest {
            prompt: "x".into(),
            seed_image: Some(ImageInput::Reference("seed".into())),
            mask_image: Some(ImageInput::Reference("mask".into())),
            ..EditRequest::default()
        };
        r.settings.ttl = Some(3600);
        r.settings.output_type = Some(OutputType::Base64Data);
        r.settings.style_type = Some(StyleType::Anime);
        assert_eq!(r.validate(), Vec::new());
        let warnings = r.warnings();
        let fields: Vec<Field> = warnings.iter().map(|w| w.field).collect();
        assert_eq!(fields, vec![Field::Ttl, Field::StyleType]);
        assert!(
            warnings[0].message.contains("ignores it"),
            "{}",
            warnings[0].message
        );
        assert!(
            warnings[1].message.contains("may refuse"),
            "{}",
            warnings[1].message
        );
        r.settings.output_type = Some(OutputType::Url);
        r.settings.style_type = Some(StyleType::Design);
        assert!(r.warnings().is_empty());
        // Too short is still an error.
        r.settings.ttl = Some(10);
        assert_eq!(r.validate()[0].field, Field::Ttl);
    }
}
