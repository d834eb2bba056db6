//! The edit request: prompt, options ([`EditSettings`]) and pictures ([`ImageInput`]).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Delivery, MagicPrompt, OutputType, RenderingSpeed, Safety, StyleType};
use super::{OutputFormat, abbreviate_image};

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
