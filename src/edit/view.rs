//! The request as text for people: "View request" (pretty JSON, image payloads abbreviated)
//! and "Copy as cURL" (the key left to the shell).

use serde_json::Value;
use uuid::Uuid;

use super::EditRequest;

impl EditRequest {
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
