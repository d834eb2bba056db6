//! The Runware `imageInference` task as sent on the wire ([`InferenceTask`]): built from a
//! request, and read back from pasted task JSON into one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    Delivery, EditRequest, EditSettings, ImageInput, MODEL, MagicPrompt, OutputFormat, OutputType,
    RenderingSpeed, Safety, SafetyMode, StyleType,
};

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

impl EditRequest {
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
}

fn non_empty(images: &[ImageInput]) -> Option<Vec<String>> {
    (!images.is_empty()).then(|| images.iter().map(ImageInput::to_wire).collect())
}
