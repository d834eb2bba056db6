//! What an edit asks of Ideogram 3.0 Edit: the prompt, every option the model offers, and the
//! images. Validation answers per field (so a form can show each problem beside its control);
//! the Runware task JSON is built from here and read back into here.
//!
//! Every option is an `Option`: `None` means "not sent, the service's default applies", so a
//! task imported from JSON re-exports exactly as it was written.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The Runware model identifier of Ideogram 3.0 Edit.
pub const MODEL: &str = "ideogram:4@3";
/// Prompt length limits, in characters.
pub const PROMPT_MAX_CHARS: usize = 2000;
/// Number of results limits.
pub const RESULTS_RANGE: std::ops::RangeInclusive<u32> = 1..=20;
/// Output quality limits.
pub const QUALITY_RANGE: std::ops::RangeInclusive<u8> = 20..=99;
/// Shortest time-to-live the service accepts, in seconds.
pub const TTL_MIN: u32 = 60;
/// Most style reference images.
pub const STYLE_REFERENCES_MAX: usize = 4;

/// All 62 Ideogram style presets, as the API spells them.
pub const STYLE_PRESETS: [&str; 62] = [
    "80S_ILLUSTRATION",
    "90S_NOSTALGIA",
    "ABSTRACT_ORGANIC",
    "ANALOG_NOSTALGIA",
    "ART_BRUT",
    "ART_DECO",
    "ART_POSTER",
    "AURA",
    "AVANT_GARDE",
    "BAUHAUS",
    "BLUEPRINT",
    "BLURRY_MOTION",
    "BRIGHT_ART",
    "C4D_CARTOON",
    "CHILDRENS_BOOK",
    "COLLAGE",
    "COLORING_BOOK_I",
    "COLORING_BOOK_II",
    "CUBISM",
    "DARK_AURA",
    "DOODLE",
    "DOUBLE_EXPOSURE",
    "DRAMATIC_CINEMA",
    "EDITORIAL",
    "EMOTIONAL_MINIMAL",
    "ETHEREAL_PARTY",
    "EXPIRED_FILM",
    "FLAT_ART",
    "FLAT_VECTOR",
    "FOREST_REVERIE",
    "GEO_MINIMALIST",
    "GLASS_PRISM",
    "GOLDEN_HOUR",
    "GRAFFITI_I",
    "GRAFFITI_II",
    "HALFTONE_PRINT",
    "HIGH_CONTRAST",
    "HIPPIE_ERA",
    "ICONIC",
    "JAPANDI_FUSION",
    "JAZZY",
    "LONG_EXPOSURE",
    "MAGAZINE_EDITORIAL",
    "MINIMAL_ILLUSTRATION",
    "MIXED_MEDIA",
    "MONOCHROME",
    "NIGHTLIFE",
    "OIL_PAINTING",
    "OLD_CARTOONS",
    "PAINT_GESTURE",
    "POP_ART",
    "RETRO_ETCHING",
    "RIVIERA_POP",
    "SPOTLIGHT_80S",
    "STYLIZED_RED",
    "SURREAL_COLLAGE",
    "TRAVEL_POSTER",
    "VINTAGE_GEO",
    "VINTAGE_POSTER",
    "WATERCOLOR",
    "WEIRD",
    "WOODBLOCK_PRINT",
];

/// A readable name for a style preset code: `80S_ILLUSTRATION` -> "80s Illustration",
/// `COLORING_BOOK_II` -> "Coloring Book II", `C4D_CARTOON` -> "C4D Cartoon".
pub fn style_preset_label(code: &str) -> String {
    code.split('_')
        .map(|word| {
            let roman = word.chars().all(|c| c == 'I' || c == 'V');
            let has_digit = word.chars().any(|c| c.is_ascii_digit());
            if roman || (has_digit && !word.ends_with('S')) {
                word.to_string()
            } else {
                let mut chars = word.chars();
                match chars.next() {
                    Some(first) => first.to_string() + &chars.as_str().to_lowercase(),
                    None => String::new(),
                }
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Finds a preset by its API code or readable name, ignoring case, spaces, '-' and '_'.
pub fn find_style_preset(text: &str) -> Option<&'static str> {
    let key = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let wanted = key(text);
    STYLE_PRESETS.iter().copied().find(|p| key(p) == wanted)
}

macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $api:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $api)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The value as the API spells it.
            pub fn as_api(self) -> &'static str {
                match self { $($name::$variant => $api,)+ }
            }

            /// A readable name for a form.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            /// Parses the API spelling or the label, ignoring case.
            pub fn parse(text: &str) -> Option<$name> {
                let t = text.trim();
                Self::ALL.iter().copied().find(|v| {
                    v.as_api().eq_ignore_ascii_case(t) || v.label().eq_ignore_ascii_case(t)
                })
            }

            /// The accepted spellings, for messages.
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_api()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_api())
            }
        }
    };
}

api_enum!(
    /// Ideogram 3.0 style types.
    StyleType {
        Auto => "AUTO", "Auto";
        General => "GENERAL", "General";
        Realistic => "REALISTIC", "Realistic";
        Design => "DESIGN", "Design";
        Fiction => "FICTION", "Fiction";
    }
);

api_enum!(
    /// Speed against quality of the rendering.
    RenderingSpeed {
        Turbo => "TURBO", "Turbo";
        Default => "DEFAULT", "Default";
        Quality => "QUALITY", "Quality";
    }
);

api_enum!(
    /// Whether Ideogram rewrites the prompt.
    MagicPrompt {
        Auto => "AUTO", "Auto";
        On => "ON", "On";
        Off => "OFF", "Off";
    }
);

api_enum!(
    /// Encoding of the result pictures.
    OutputFormat {
        Jpg => "JPG", "JPG";
        Png => "PNG", "PNG";
        Webp => "WEBP", "WEBP";
    }
);

api_enum!(
    /// How result pictures come back.
    OutputType {
        Url => "URL", "URL";
        Base64Data => "base64Data", "Base64";
        DataUri => "dataURI", "Data URI";
    }
);

api_enum!(
    /// Whether the submit waits for the pictures or answers at once and is polled.
    Delivery {
        Sync => "sync", "Wait for the results";
        Async => "async", "Queue and poll";
    }
);

api_enum!(
    /// Content safety check strength.
    SafetyMode {
        None => "none", "None";
        Fast => "fast", "Fast";
    }
);

impl OutputFormat {
    /// File extension of results in this format.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::Webp => "webp",
        }
    }
}

/// The `safety` object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Safety {
    pub check_content: Option<bool>,
    pub mode: Option<SafetyMode>,
}

/// A picture the task refers to: either text sent as written (an imageUUID, a URL, a data URI
/// or bare base64), or encoded picture bytes from a file or the editor (sent as a data URI, or
/// uploaded once and referred to by imageUUID).
#[derive(Clone, PartialEq, Eq)]
pub enum ImageInput {
    Reference(String),
    Bytes(Arc<Vec<u8>>),
}

impl ImageInput {
    pub fn bytes(bytes: Vec<u8>) -> Self {
        ImageInput::Bytes(Arc::new(bytes))
    }

    /// The value for the task JSON: references as written, bytes as a data URI.
    pub fn to_wire(&self) -> String {
        match self {
            ImageInput::Reference(text) => text.clone(),
            ImageInput::Bytes(bytes) => {
                crate::imageio::data_uri(bytes, crate::imageio::sniff_mime(bytes))
            }
        }
    }

    /// Encoded bytes, when the picture is in memory or in a data URI / base64 reference.
    pub fn local_bytes(&self) -> Option<Vec<u8>> {
        match self {
            ImageInput::Bytes(bytes) => Some(bytes.as_ref().clone()),
            ImageInput::Reference(text) if text.starts_with("data:") => {
                crate::imageio::parse_data_uri(text).ok()
            }
            ImageInput::Reference(_) => None,
        }
    }

    /// Width and height when the picture is local and its header can be read (only the
    /// header is parsed; cheap enough to run while the user types).
    pub fn dimensions(&self) -> Option<(u32, u32)> {
        let header_size = |bytes: &[u8]| {
            image::ImageReader::new(std::io::Cursor::new(bytes))
                .with_guessed_format()
                .ok()?
                .into_dimensions()
                .ok()
        };
        match self {
            ImageInput::Bytes(bytes) => header_size(bytes),
            ImageInput::Reference(_) => header_size(&self.local_bytes()?),
        }
    }
}

impl fmt::Debug for ImageInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageInput::Reference(text) => write!(f, "Reference({})", abbreviate_image(text)),
            ImageInput::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
        }
    }
}

/// All options of an edit, persisted between sessions (no images, no key).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EditSettings {
    pub style_preset: Option<String>,
    pub style_type: Option<StyleType>,
    pub rendering_speed: Option<RenderingSpeed>,
    pub magic_prompt: Option<MagicPrompt>,
    pub style_code: Option<String>,
    pub number_results: Option<u32>,
    pub output_format: Option<OutputFormat>,
    pub output_quality: Option<u8>,
    pub output_type: Option<OutputType>,
    pub include_cost: Option<bool>,
    pub delivery: Option<Delivery>,
    pub webhook_url: Option<String>,
    pub upload_endpoint: Option<String>,
    pub ttl: Option<u32>,
    pub safety: Option<Safety>,
}

impl EditSettings {
    /// How many pictures the task asks for (the service's default is 1).
    pub fn results_wanted(&self) -> u32 {
        self.number_results.unwrap_or(1)
    }

    /// The format results arrive in (the service's default is JPG).
    pub fn format(&self) -> OutputFormat {
        self.output_format.unwrap_or(OutputFormat::Jpg)
    }

    pub fn is_async(&self) -> bool {
        self.delivery == Some(Delivery::Async)
    }
}

/// A whole edit: prompt, options and pictures.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EditRequest {
    pub prompt: String,
    pub settings: EditSettings,
    #[serde(skip)]
    pub seed_image: Option<ImageInput>,
    #[serde(skip)]
    pub mask_image: Option<ImageInput>,
    #[serde(skip)]
    pub style_reference_images: Vec<ImageInput>,
    #[serde(skip)]
    pub character_reference_image: Option<ImageInput>,
    #[serde(skip)]
    pub character_reference_mask: Option<ImageInput>,
    /// Task fields this program does not model, kept from an imported task only to report
    /// them; they are never sent.
    #[serde(skip)]
    pub ignored_fields: Vec<String>,
}

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
        if let Some(ttl) = s.ttl {
            if ttl < TTL_MIN {
                push(
                    Field::Ttl,
                    format!("{ttl} s is too short; at least {TTL_MIN} s"),
                );
            }
            if s.output_type.is_some_and(|t| t != OutputType::Url) {
                push(
                    Field::Ttl,
                    "a TTL applies only to URL output; clear it or choose URL".into(),
                );
            }
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

    /// The Runware task, images as [`ImageInput::to_wire`] gives them.
    pub fn to_task(&self, task_uuid: Uuid) -> InferenceTask {
        let s = &self.settings;
        let ideogram = IdeogramSettings {
            rendering_speed: s.rendering_speed,
            magic_prompt: s.magic_prompt,
            style_type: s.style_type,
            style_preset: s.style_preset.clone(),
            style_code: s.style_code.clone(),
            style_reference_images: non_empty(&self.style_reference_images),
            character_reference_images: self
                .character_reference_image
                .as_ref()
                .map(|i| vec![i.to_wire()]),
            character_reference_images_mask: self
                .character_reference_mask
                .as_ref()
                .map(|i| vec![i.to_wire()]),
        };
        let provider_settings =
            (ideogram != IdeogramSettings::default()).then_some(ProviderSettings { ideogram });
        let inputs = (self.seed_image.is_some() || self.mask_image.is_some()).then(|| Inputs {
            seed_image: self.seed_image.as_ref().map(ImageInput::to_wire),
            mask_image: self.mask_image.as_ref().map(ImageInput::to_wire),
        });
        InferenceTask {
            task_type: "imageInference".into(),
            task_uuid: task_uuid.to_string(),
            model: MODEL.into(),
            positive_prompt: self.prompt.clone(),
            provider_settings,
            inputs,
            output_type: s.output_type,
            output_format: s.output_format,
            output_quality: s.output_quality,
            webhook_url: s.webhook_url.clone(),
            delivery_method: s.delivery,
            upload_endpoint: s.upload_endpoint.clone(),
            safety: s.safety.clone().map(|x| SafetyWire {
                check_content: x.check_content,
                mode: x.mode,
            }),
            ttl: s.ttl,
            include_cost: s.include_cost,
            number_results: s.number_results,
            extra: Map::new(),
        }
    }

    /// The task as JSON.
    pub fn to_task_json(&self, task_uuid: Uuid) -> Value {
        serde_json::to_value(self.to_task(task_uuid)).unwrap_or(Value::Null)
    }

    /// Reads a Runware task (an object, or an array holding one `imageInference` task) back
    /// into a request. Fields this program does not model are listed in `ignored_fields`.
    pub fn from_task_json(text: &str) -> Result<EditRequest, ImportError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ImportError::NotJson(e.to_string()))?;
        Self::from_task_value(value)
    }

    pub fn from_task_value(value: Value) -> Result<EditRequest, ImportError> {
        let object = match value {
            Value::Array(items) => items
                .into_iter()
                .find(|i| i.get("taskType").and_then(Value::as_str) == Some("imageInference"))
                .ok_or(ImportError::NoInferenceTask)?,
            v @ Value::Object(_) => v,
            _ => return Err(ImportError::NoInferenceTask),
        };
        let task: InferenceTask =
            serde_json::from_value(object).map_err(|e| ImportError::Shape(e.to_string()))?;
        if task.task_type != "imageInference" {
            return Err(ImportError::NoInferenceTask);
        }
        if task.model != MODEL {
            return Err(ImportError::Model(task.model));
        }
        let mut ignored: Vec<String> = task.extra.keys().cloned().collect();
        let ideogram = task
            .provider_settings
            .map(|p| p.ideogram)
            .unwrap_or_default();
        let reference = |s: String| ImageInput::Reference(s);
        let inputs = task.inputs.unwrap_or_default();
        let first = |v: Option<Vec<String>>, name: &str, ignored: &mut Vec<String>| {
            let mut v = v.unwrap_or_default();
            if v.len() > 1 {
                ignored.push(format!("{name}[1..]"));
            }
            (!v.is_empty()).then(|| reference(v.swap_remove(0)))
        };
        let character_reference_image = first(
            ideogram.character_reference_images,
            "characterReferenceImages",
            &mut ignored,
        );
        let character_reference_mask = first(
            ideogram.character_reference_images_mask,
            "characterReferenceImagesMask",
            &mut ignored,
        );
        Ok(EditRequest {
            prompt: task.positive_prompt,
            settings: EditSettings {
                style_preset: ideogram.style_preset,
                style_type: ideogram.style_type,
                rendering_speed: ideogram.rendering_speed,
                magic_prompt: ideogram.magic_prompt,
                style_code: ideogram.style_code,
                number_results: task.number_results,
                output_format: task.output_format,
                output_quality: task.output_quality,
                output_type: task.output_type,
                include_cost: task.include_cost,
                delivery: task.delivery_method,
                webhook_url: task.webhook_url,
                upload_endpoint: task.upload_endpoint,
                ttl: task.ttl,
                safety: task.safety.map(|s| Safety {
                    check_content: s.check_content,
                    mode: s.mode,
                }),
            },
            seed_image: inputs.seed_image.map(reference),
            mask_image: inputs.mask_image.map(reference),
            style_reference_images: ideogram
                .style_reference_images
                .unwrap_or_default()
                .into_iter()
                .map(reference)
                .collect(),
            character_reference_image,
            character_reference_mask,
            ignored_fields: ignored,
        })
    }

    /// The JSON body that would be sent (an array of one task), pretty-printed, with image
    /// payloads abbreviated, for "View request".
    pub fn view_request(&self, task_uuid: Uuid) -> String {
        let mut body = Value::Array(vec![self.to_task_json(task_uuid)]);
        abbreviate_payloads(&mut body);
        serde_json::to_string_pretty(&body).unwrap_or_default()
    }

    /// A runnable cURL command sending this task; the key is read from `$RUNWARE_API_KEY` by
    /// the shell, never written out.
    pub fn curl_command(&self, task_uuid: Uuid, endpoint: &str) -> String {
        let body = Value::Array(vec![self.to_task_json(task_uuid)]);
        let json = serde_json::to_string(&body).unwrap_or_default();
        format!(
            "curl -sS -X POST {} \\\n  -H 'Content-Type: application/json' \\\n  -H \"Authorization: Bearer $RUNWARE_API_KEY\" \\\n  --data-binary {}",
            shell_quote(endpoint),
            shell_quote(&json)
        )
    }
}

fn non_empty(images: &[ImageInput]) -> Option<Vec<String>> {
    (!images.is_empty()).then(|| images.iter().map(ImageInput::to_wire).collect())
}

/// Single-quotes text for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A short stand-in for an image payload: data URIs and long base64 become their media type and
/// size; UUIDs and URLs stay.
pub fn abbreviate_image(text: &str) -> String {
    if let Some(rest) = text.strip_prefix("data:") {
        let meta = rest.split(',').next().unwrap_or("");
        let len = rest.len().saturating_sub(meta.len() + 1);
        return format!("data:{meta},… ({len} base64 characters)");
    }
    if text.len() > 200 && !text.contains("://") {
        return format!("… ({} base64 characters)", text.len());
    }
    text.to_string()
}

const IMAGE_KEYS: [&str; 6] = [
    "seedImage",
    "maskImage",
    "styleReferenceImages",
    "characterReferenceImages",
    "characterReferenceImagesMask",
    "image",
];

/// Abbreviates every image payload in a task body (see [`abbreviate_image`]).
pub fn abbreviate_payloads(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(abbreviate_payloads),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if IMAGE_KEYS.contains(&key.as_str()) {
                    match v {
                        Value::String(s) => *s = abbreviate_image(s),
                        Value::Array(list) => {
                            for item in list.iter_mut() {
                                if let Value::String(s) = item {
                                    *s = abbreviate_image(s);
                                }
                            }
                        }
                        other => abbreviate_payloads(other),
                    }
                } else {
                    abbreviate_payloads(v);
                }
            }
        }
        _ => {}
    }
}

/// Why a task JSON could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the request is not valid JSON ({0}); paste a Runware task object or array")]
    NotJson(String),
    #[error("the JSON holds no imageInference task; paste a Runware task like the examples")]
    NoInferenceTask,
    #[error("the task does not fit the imageInference shape: {0}")]
    Shape(String),
    #[error("the task is for model '{0}', but this program edits with {MODEL}")]
    Model(String),
}

/// `imageInference` as sent on the wire. Absent options are not sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceTask {
    pub task_type: String,
    #[serde(rename = "taskUUID")]
    pub task_uuid: String,
    pub model: String,
    pub positive_prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_settings: Option<ProviderSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Inputs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_type: Option<OutputType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<OutputFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_quality: Option<u8>,
    #[serde(
        default,
        rename = "webhookURL",
        skip_serializing_if = "Option::is_none"
    )]
    pub webhook_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_method: Option<Delivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety: Option<SafetyWire>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_cost: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_results: Option<u32>,
    /// Fields not modelled (on import only; never filled when building).
    #[serde(flatten, skip_serializing)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SafetyWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_content: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<SafetyMode>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProviderSettings {
    #[serde(default)]
    pub ideogram: IdeogramSettings,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdeogramSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendering_speed: Option<RenderingSpeed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magic_prompt: Option<MagicPrompt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style_type: Option<StyleType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style_preset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style_reference_images: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_reference_images: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_reference_images_mask: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_image: Option<String>,
}

/// Runware stores uploads at most this many pixels on the long side.
pub const RUNWARE_MAX_SIDE: u32 = 2048;

/// Whether a photo of this size should be offered a downscale before sending.
pub fn needs_downscale(width: u32, height: u32) -> bool {
    width.max(height) > RUNWARE_MAX_SIDE
}

/// Scales a photo and its mask together so the long side is at most `max_side`, keeping them
/// exactly the same size (the mask's coverage is filtered, and thresholded again on export).
/// Returns copies unchanged when they already fit. `None` when the two differ in size.
pub fn downscale_together(
    photo: &image::RgbaImage,
    mask: &crate::mask::Mask,
    max_side: u32,
) -> Option<(image::RgbaImage, crate::mask::Mask)> {
    let (w, h) = photo.dimensions();
    if mask.size() != (w, h) {
        return None;
    }
    let longest = w.max(h);
    if longest <= max_side || max_side == 0 {
        return Some((photo.clone(), mask.clone()));
    }
    let scale = f64::from(max_side) / f64::from(longest);
    let nw = ((f64::from(w) * scale).round() as u32).clamp(1, max_side);
    let nh = ((f64::from(h) * scale).round() as u32).clamp(1, max_side);
    let filter = image::imageops::FilterType::Triangle;
    let small_photo = image::imageops::resize(photo, nw, nh, filter);
    let coverage = image::GrayImage::from_raw(w, h, mask.as_raw().to_vec())?;
    let small_cov = image::imageops::resize(&coverage, nw, nh, filter);
    let small_mask = crate::mask::Mask::from_raw(nw, nh, small_cov.into_raw())?;
    Some((small_photo, small_mask))
}

/// A finished picture from any engine, with what the engine said about it.
#[derive(Clone, PartialEq)]
pub struct ResultImage {
    /// The encoded picture (JPEG, PNG or WebP).
    pub bytes: Vec<u8>,
    pub image_uuid: Option<String>,
    pub seed: Option<i64>,
    pub cost: Option<f64>,
}

impl fmt::Debug for ResultImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResultImage")
            .field("bytes", &self.bytes.len())
            .field("image_uuid", &self.image_uuid)
            .field("seed", &self.seed)
            .field("cost", &self.cost)
            .finish()
    }
}

/// Why results could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("could not create the output folder {path}: {source}; check the path and permissions")]
    CreateDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("could not write {path}: {source}; check free space and permissions")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// An output folder that takes results one at a time: `result-1.<ext>`, `result-2.<ext>`, ...
/// and `results.json` (`{"results":[{"file","imageUUID","seed","cost"}], "request": ...}`),
/// rewritten after every picture so nothing is lost if a later one fails.
#[derive(Debug)]
pub struct ResultFolder {
    dir: std::path::PathBuf,
    request: Value,
    entries: Vec<Value>,
}

impl ResultFolder {
    /// Creates the folder if needed. `request` is the task as sent (no key ever is; image
    /// payloads are abbreviated here).
    pub fn create(dir: &std::path::Path, request: Value) -> Result<ResultFolder, SaveError> {
        std::fs::create_dir_all(dir).map_err(|source| SaveError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut request = request;
        abbreviate_payloads(&mut request);
        Ok(ResultFolder {
            dir: dir.to_path_buf(),
            request,
            entries: Vec::new(),
        })
    }

    /// Saves one picture (its extension from its bytes) and updates `results.json`.
    pub fn add(&mut self, image: &ResultImage) -> Result<std::path::PathBuf, SaveError> {
        let ext = match crate::imageio::sniff_mime(&image.bytes) {
            "image/jpeg" => "jpg",
            "image/webp" => "webp",
            _ => "png",
        };
        let name = format!("result-{}.{ext}", self.entries.len() + 1);
        let path = self.dir.join(&name);
        std::fs::write(&path, &image.bytes).map_err(|source| SaveError::Write {
            path: path.clone(),
            source,
        })?;
        self.entries.push(serde_json::json!({
            "file": name,
            "imageUUID": image.image_uuid,
            "seed": image.seed,
            "cost": image.cost,
        }));
        self.write_index()?;
        Ok(path)
    }

    /// Writes `results.json` as it stands (also when no picture arrived).
    pub fn write_index(&self) -> Result<std::path::PathBuf, SaveError> {
        let path = self.dir.join("results.json");
        let index = serde_json::json!({ "results": self.entries, "request": self.request });
        let text = serde_json::to_string_pretty(&index).unwrap_or_default();
        std::fs::write(&path, text).map_err(|source| SaveError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Saves a list of pictures into `dir` (what a local engine calls with its results).
pub fn save_results(
    dir: &std::path::Path,
    request: Value,
    images: &[ResultImage],
) -> Result<Vec<std::path::PathBuf>, SaveError> {
    let mut folder = ResultFolder::create(dir, request)?;
    let mut paths = images
        .iter()
        .map(|i| folder.add(i))
        .collect::<Result<Vec<_>, _>>()?;
    if paths.is_empty() {
        paths.push(folder.write_index()?);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_labels_read_well() {
        assert_eq!(style_preset_label("80S_ILLUSTRATION"), "80s Illustration");
        assert_eq!(style_preset_label("COLORING_BOOK_II"), "Coloring Book II");
        assert_eq!(style_preset_label("C4D_CARTOON"), "C4D Cartoon");
        assert_eq!(style_preset_label("SPOTLIGHT_80S"), "Spotlight 80s");
        assert_eq!(
            find_style_preset("magazine editorial"),
            Some("MAGAZINE_EDITORIAL")
        );
        assert_eq!(find_style_preset("nope"), None);
        let mut sorted = STYLE_PRESETS.to_vec();
        sorted.dedup();
        assert_eq!(sorted.len(), 62);
    }

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
}
