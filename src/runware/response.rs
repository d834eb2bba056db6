//! Tolerant reading of Runware answers: `data` and `errors` (each an array or a single object),
//! a singular `error`, `parameter` as a string or an array, unknown fields ignored.

use std::fmt;

use serde_json::Value;

/// One error the service reported.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiError {
    pub code: Option<String>,
    pub message: Option<String>,
    /// The parameters the error is about (one, or several for cross-field errors).
    pub parameter: Vec<String>,
    pub task_uuid: Option<String>,
    pub task_type: Option<String>,
    pub documentation: Option<String>,
    pub allowed_values: Option<Value>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

impl ApiError {
    pub fn from_value(v: &Value) -> ApiError {
        match v {
            Value::Object(map) => {
                let parameter = match map.get("parameter") {
                    Some(Value::String(s)) => vec![s.clone()],
                    Some(Value::Array(items)) => {
                        items.iter().filter_map(|i| text(Some(i))).collect()
                    }
                    _ => Vec::new(),
                };
                ApiError {
                    code: text(map.get("code")),
                    message: text(map.get("message")).or_else(|| text(map.get("error"))),
                    parameter,
                    task_uuid: text(map.get("taskUUID")),
                    task_type: text(map.get("taskType")),
                    documentation: text(map.get("documentation")),
                    allowed_values: map.get("allowedValues").cloned(),
                }
            }
            Value::String(s) => ApiError {
                message: Some(s.clone()),
                ..ApiError::default()
            },
            other => ApiError {
                message: Some(other.to_string()),
                ..ApiError::default()
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code.as_deref().unwrap_or("error");
        write!(f, "{code}")?;
        if let Some(m) = &self.message {
            write!(f, ": {}", m.replace('\n', " "))?;
        }
        if !self.parameter.is_empty() {
            write!(f, " (parameter {})", self.parameter.join(", "))?;
        }
        if let Some(allowed) = &self.allowed_values {
            write!(f, " (allowed: {allowed})")?;
        }
        Ok(())
    }
}

/// A parsed answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResponseBody {
    pub data: Vec<Value>,
    pub errors: Vec<ApiError>,
}

fn as_list(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

/// Parses an answer body. `Err` carries a short description of what was wrong.
pub fn parse_body(bytes: &[u8]) -> Result<ResponseBody, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let start = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]).replace('\n', " ");
        format!("not JSON: {e}; it starts with '{start}'")
    })?;
    let map = match &value {
        Value::Object(map) => map,
        // A bare array of items, as both official SDKs accept.
        Value::Array(items) => {
            if items.iter().any(|i| !i.is_object()) {
                return Err("the answer is a JSON array, but not of objects".into());
            }
            return Ok(ResponseBody {
                data: items.clone(),
                errors: Vec::new(),
            });
        }
        _ => return Err("the answer is JSON but not an object".into()),
    };
    let data = as_list(map.get("data"));
    let mut errors: Vec<ApiError> = as_list(map.get("errors"))
        .iter()
        .map(ApiError::from_value)
        .collect();
    errors.extend(as_list(map.get("error")).iter().map(ApiError::from_value));
    if !map.contains_key("data") && !map.contains_key("errors") && !map.contains_key("error") {
        return Err("the answer has neither 'data' nor 'errors'".into());
    }
    Ok(ResponseBody { data, errors })
}

/// The imageUUID an `imageUpload` answer gives (its `data` an array or an object), or why
/// there is none.
pub fn upload_answer(answer: &ResponseBody) -> Result<String, String> {
    if let Some(e) = answer.errors.first() {
        return Err(e.to_string());
    }
    answer
        .data
        .iter()
        .find_map(|d| d.get("imageUUID").and_then(Value::as_str))
        .filter(|u| !u.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| "the answer holds no imageUUID".into())
}

/// One `data` item of an inference or getResponse answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultItem {
    pub task_type: Option<String>,
    pub task_uuid: Option<String>,
    pub image_uuid: Option<String>,
    pub image_url: Option<String>,
    pub image_base64_data: Option<String>,
    pub image_data_uri: Option<String>,
    pub seed: Option<i64>,
    pub cost: Option<f64>,
    pub nsfw_content: Option<bool>,
    pub status: Option<String>,
    pub progress: Option<f64>,
    pub error: Option<ApiError>,
}

impl ResultItem {
    pub fn from_value(v: &Value) -> ResultItem {
        let get = |k: &str| text(v.get(k));
        ResultItem {
            task_type: get("taskType"),
            task_uuid: get("taskUUID"),
            image_uuid: get("imageUUID"),
            image_url: get("imageURL"),
            image_base64_data: get("imageBase64Data"),
            image_data_uri: get("imageDataURI"),
            seed: v
                .get("seed")
                .and_then(|s| s.as_i64().or_else(|| s.as_str()?.parse().ok())),
            cost: v
                .get("cost")
                .and_then(|c| c.as_f64().or_else(|| c.as_str()?.parse().ok())),
            nsfw_content: v.get("NSFWContent").and_then(Value::as_bool),
            status: get("status").map(|s| s.to_ascii_lowercase()),
            progress: v.get("progress").and_then(Value::as_f64),
            error: v
                .get("error")
                .filter(|e| !e.is_null())
                .map(ApiError::from_value),
        }
    }

    /// Whether the item carries a picture.
    pub fn has_image(&self) -> bool {
        self.image_url.is_some()
            || self.image_base64_data.is_some()
            || self.image_data_uri.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_error_shape() {
        let b = parse_body(br#"{"data":[{"taskUUID":"a"}],"errors":[{"code":"x","message":"m","parameter":["a","b"],"zzz":1}]}"#).unwrap();
        assert_eq!(b.data.len(), 1);
        assert_eq!(b.errors[0].parameter, vec!["a", "b"]);
        let b = parse_body(
            br#"{"error":{"code":"invalidApiKey","message":"bad","parameter":"apiKey"}}"#,
        )
        .unwrap();
        assert_eq!(b.errors[0].code.as_deref(), Some("invalidApiKey"));
        assert_eq!(b.errors[0].parameter, vec!["apiKey"]);
        let b = parse_body(br#"{"data":{"imageUUID":"u"}}"#).unwrap();
        assert_eq!(b.data.len(), 1);
        assert!(parse_body(b"<html>").is_err());
        assert!(parse_body(b"[1]").is_err());
        let b = parse_body(br#"[{"taskType":"imageInference","imageUUID":"u"}]"#).unwrap();
        assert_eq!(b.data.len(), 1);
        assert!(b.errors.is_empty());
        assert!(parse_body(b"{}").is_err());
    }
}
