//! A stand-in for Runware's REST API on 127.0.0.1: real sockets, real JSON, and as strict as
//! RUNWARE.md describes the real service. Each test starts its own on a free port; it runs on
//! its own thread and runtime so both async tests and tests of the binary can use it.
#![allow(dead_code)]
// Handlers return the finished HTTP reply as their error: the size does not matter here.
#![allow(clippy::result_large_err)]

pub mod faults;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

pub mod batch;

pub const KEY: &str = "test-key-3f9a1c";
pub const MODEL: &str = "ideogram:4@3";

/// How the stand-in answers inference tasks.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Check strictly, then answer with pictures as the task's outputType asks.
    Normal,
    /// 402 insufficientCredits.
    NoCredits,
    /// 403 forbidden.
    Forbidden,
    /// 400 naming this parameter (as a string).
    RejectParameter(String),
    /// 400 naming several parameters (as an array).
    RejectParameters(Vec<String>),
    /// The first `n` inference attempts get 429, then normal answers.
    TooManyRequests(usize),
    /// Always 503 with an HTML page.
    Unavailable,
    /// 200 with a body that is not JSON.
    Garbage,
    /// Wait this long before answering inference tasks (then answer normally).
    Slow(Duration),
    /// 200 with both a result in `data` and an error in `errors`.
    PartialError,
    /// A singular `error` object with HTTP 400.
    SingularError,
    /// Answer with the seed image itself, every pixel `brighten` levels lighter (a generator's
    /// colour drift) and, when `paint` is given, the pixels the mask marks (white) painted that
    /// colour: where the edit lands can be checked pixel by pixel.
    Paint {
        brighten: i16,
        paint: Option<[u8; 3]>,
    },
}

/// An async job the stand-in is "working on".
#[derive(Debug, Clone)]
struct Job {
    task: Value,
    polls: usize,
}

#[derive(Debug)]
pub struct State {
    pub mode: Mode,
    /// Async: how many polls before the first picture is ready (each later poll adds one).
    pub polls_before_ready: usize,
    /// Async: fail the job on this poll instead (1-based).
    pub fail_on_poll: Option<usize>,
    /// Every JSON body received on /v1, in order.
    pub bodies: Vec<Value>,
    /// Every taskUUID of an imageInference POST, in order (retries included).
    pub inference_uuids: Vec<String>,
    pub uploads: usize,
    pub polls: usize,
    pub downloads: usize,
    /// Why the stand-in refused something (what a strict server would say).
    pub rejections: Vec<String>,
    /// imageUUID -> the picture bytes the stand-in produced or stored.
    pub images: HashMap<String, Vec<u8>>,
    jobs: HashMap<String, Job>,
    pub port: u16,
    /// Inference requests in flight (see [`batch::Concurrency`]).
    pub concurrency: batch::Concurrency,
    /// Inference tasks whose prompt contains this are refused with 400.
    pub refuse_prompt: Option<String>,
    /// The size of every seed image an inference task sent, in order.
    pub seed_sizes: Vec<(u32, u32)>,
    /// The last inference task's seed image and mask, decoded (for [`Mode::Paint`]).
    pub last_inputs: Option<(image::RgbaImage, image::GrayImage)>,
}

impl State {
    pub fn inference_attempts(&self) -> usize {
        self.inference_uuids.len()
    }
}

pub struct StandIn {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl StandIn {
    pub fn start() -> StandIn {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Normal,
            polls_before_ready: 1,
            fail_on_poll: None,
            bodies: Vec::new(),
            inference_uuids: Vec::new(),
            uploads: 0,
            polls: 0,
            downloads: 0,
            rejections: Vec::new(),
            images: HashMap::new(),
            jobs: HashMap::new(),
            port,
            concurrency: batch::Concurrency::default(),
            refuse_prompt: None,
            seed_sizes: Vec::new(),
            last_inputs: None,
        }));
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let shared = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let state = shared.clone();
                            tokio::spawn(async move {
                                let service = hyper::service::service_fn(move |req| {
                                    let state = state.clone();
                                    async move { Ok::<_, Infallible>(handle(req, state).await) }
                                });
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        StandIn {
            url: format!("http://127.0.0.1:{port}/v1"),
            state,
            stop: Some(stop_tx),
        }
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn reply(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .unwrap()
}

fn json_reply(status: u16, value: Value) -> Response<Full<Bytes>> {
    reply(status, "application/json", value.to_string())
}

fn error(
    status: u16,
    code: &str,
    message: &str,
    parameter: Value,
    uuid: &str,
) -> Response<Full<Bytes>> {
    json_reply(
        status,
        json!({"errors": [{
            "code": code, "message": message, "parameter": parameter,
            "taskType": "imageInference", "taskUUID": uuid,
            "documentation": "https://runware.ai/docs", "status": "error", "extraUnknown": {"x": 1}
        }]}),
    )
}

async fn handle(req: Request<Incoming>, state: Arc<Mutex<State>>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if req.method() == hyper::Method::GET && path.starts_with("/images/") {
        let uuid = path
            .trim_start_matches("/images/")
            .trim_end_matches(".png")
            .to_string();
        let mut s = state.lock().unwrap();
        s.downloads += 1;
        return match s.images.get(&uuid) {
            Some(bytes) => reply(200, "image/png", bytes.clone()),
            None => reply(404, "text/plain", "no such image"),
        };
    }
    if req.method() != hyper::Method::POST || path != "/v1" {
        return reply(404, "text/plain", "not found");
    }
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type_ok = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Ok(collected) = req.into_body().collect().await else {
        return reply(400, "text/plain", "unreadable body");
    };
    let body = collected.to_bytes();
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            state
                .lock()
                .unwrap()
                .rejections
                .push("body is not JSON".into());
            return error(
                400,
                "invalidJson",
                "The body is not JSON",
                json!("body"),
                "",
            );
        }
    };
    state.lock().unwrap().bodies.push(value.clone());
    if auth.as_deref() != Some(&format!("Bearer {KEY}")) {
        return json_reply(
            401,
            json!({"errors":[{"code":"invalidApiKey","message":"Invalid API key. Get one at https://my.runware.ai","parameter":"apiKey"}]}),
        );
    }
    if !content_type_ok {
        state
            .lock()
            .unwrap()
            .rejections
            .push("content-type is not JSON".into());
        return error(
            400,
            "invalidContentType",
            "Send application/json",
            json!("body"),
            "",
        );
    }
    let Value::Array(tasks) = value else {
        state
            .lock()
            .unwrap()
            .rejections
            .push("body is not an array".into());
        return error(
            400,
            "invalidBody",
            "The body must be an array of tasks",
            json!("body"),
            "",
        );
    };
    let mut data = Vec::new();
    for task in &tasks {
        let uuid = task
            .get("taskUUID")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !is_uuid_v4(&uuid) {
            state
                .lock()
                .unwrap()
                .rejections
                .push(format!("taskUUID '{uuid}' is not a UUID v4"));
            return error(
                400,
                "invalidTaskUUID",
                "taskUUID must be a UUID v4",
                json!("taskUUID"),
                &uuid,
            );
        }
        let response = match task.get("taskType").and_then(Value::as_str) {
            Some("imageInference") => inference(task, &uuid, &state).await,
            Some("imageUpload") => upload(task, &uuid, &state),
            Some("getResponse") => get_response(&uuid, &state),
            _ => Err(error(
                400,
                "invalidTaskType",
                "Unknown taskType",
                json!("taskType"),
                &uuid,
            )),
        };
        match response {
            Ok(items) => data.extend(items),
            Err(resp) => return resp,
        }
    }
    json_reply(200, json!({ "data": data }))
}

fn is_uuid_v4(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok_and(|u| u.get_version_num() == 4) && text.len() == 36
}

const INFERENCE_KEYS: [&str; 16] = [
    "taskType",
    "taskUUID",
    "model",
    "positivePrompt",
    "providerSettings",
    "inputs",
    "outputType",
    "outputFormat",
    "outputQuality",
    "webhookURL",
    "deliveryMethod",
    "uploadEndpoint",
    "safety",
    "ttl",
    "includeCost",
    "numberResults",
];
const IDEOGRAM_KEYS: [&str; 8] = [
    "renderingSpeed",
    "magicPrompt",
    "styleType",
    "stylePreset",
    "styleCode",
    "styleReferenceImages",
    "characterReferenceImages",
    "characterReferenceImagesMask",
];

/// The picture a reference stands for, if the stand-in can see it.
fn resolve_image(
    reference: &str,
    state: &Arc<Mutex<State>>,
) -> Result<Option<image::DynamicImage>, String> {
    let bytes = if reference.starts_with("data:") {
        touchup::imageio::parse_data_uri(reference).map_err(|e| e.to_string())?
    } else if reference.starts_with("https://") {
        return Ok(None);
    } else if let Some(bytes) = state.lock().unwrap().images.get(reference) {
        bytes.clone()
    } else {
        touchup::imageio::parse_data_uri(reference)
            .map_err(|_| format!("unknown image '{reference}'"))?
    };
    image::load_from_memory(&bytes)
        .map(Some)
        .map_err(|e| e.to_string())
}

fn check_inference(task: &Value, state: &Arc<Mutex<State>>) -> Result<(u32, u32), (String, Value)> {
    let obj = task
        .as_object()
        .ok_or(("task is not an object".to_string(), json!("body")))?;
    for key in obj.keys() {
        if !INFERENCE_KEYS.contains(&key.as_str()) {
            return Err((format!("'{key}' is not a parameter of {MODEL}"), json!(key)));
        }
    }
    if obj.get("model").and_then(Value::as_str) != Some(MODEL) {
        return Err(("unsupported model".into(), json!("model")));
    }
    let prompt = obj
        .get("positivePrompt")
        .and_then(Value::as_str)
        .unwrap_or("");
    if prompt.is_empty() || prompt.chars().count() > 2000 {
        return Err((
            "positivePrompt must be 1..2000 characters".into(),
            json!("positivePrompt"),
        ));
    }
    let one_of =
        |key: &str, value: Option<&Value>, allowed: &[&str]| -> Result<(), (String, Value)> {
            match value {
                None => Ok(()),
                Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
                Some(other) => Err((format!("{key} {other} is not allowed"), json!(key))),
            }
        };
    one_of(
        "outputType",
        obj.get("outputType"),
        &["URL", "base64Data", "dataURI"],
    )?;
    one_of(
        "outputFormat",
        obj.get("outputFormat"),
        &["JPG", "PNG", "WEBP"],
    )?;
    one_of(
        "deliveryMethod",
        obj.get("deliveryMethod"),
        &["sync", "async"],
    )?;
    let range = |key: &str, lo: u64, hi: u64| -> Result<(), (String, Value)> {
        match obj.get(key) {
            None => Ok(()),
            Some(v) if v.as_u64().is_some_and(|n| (lo..=hi).contains(&n)) => Ok(()),
            Some(v) => Err((format!("{key} {v} is out of range"), json!(key))),
        }
    };
    range("numberResults", 1, 20)?;
    range("outputQuality", 20, 99)?;
    range("ttl", 60, u64::MAX)?;
    // A ttl with non-URL output is ignored, as Runware does.
    if let Some(ps) = obj.get("providerSettings") {
        let ps = ps.as_object().ok_or((
            "providerSettings must be an object".to_string(),
            json!("providerSettings"),
        ))?;
        for key in ps.keys() {
            if key != "ideogram" {
                return Err((
                    format!("providerSettings.{key} is not for this model"),
                    json!("providerSettings"),
                ));
            }
        }
        if let Some(ideo) = ps.get("ideogram").and_then(Value::as_object) {
            for key in ideo.keys() {
                if !IDEOGRAM_KEYS.contains(&key.as_str()) {
                    return Err((
                        format!("unknown setting {key}"),
                        json!(format!("providerSettings.ideogram.{key}")),
                    ));
                }
            }
            one_of(
                "providerSettings.ideogram.renderingSpeed",
                ideo.get("renderingSpeed"),
                &["TURBO", "DEFAULT", "QUALITY"],
            )?;
            one_of(
                "providerSettings.ideogram.magicPrompt",
                ideo.get("magicPrompt"),
                &["AUTO", "ON", "OFF"],
            )?;
            one_of(
                "providerSettings.ideogram.styleType",
                ideo.get("styleType"),
                &["AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION"],
            )?;
            if let Some(preset) = ideo.get("stylePreset") {
                let ok = preset
                    .as_str()
                    .is_some_and(|p| touchup::edit::STYLE_PRESETS.contains(&p));
                if !ok {
                    return Err((
                        format!("stylePreset {preset} is not allowed"),
                        json!("providerSettings.ideogram.stylePreset"),
                    ));
                }
            }
            if let Some(code) = ideo.get("styleCode") {
                let ok = code
                    .as_str()
                    .is_some_and(|c| c.len() == 8 && c.chars().all(|ch| ch.is_ascii_hexdigit()));
                if !ok {
                    return Err((
                        "styleCode must be 8 hex characters".into(),
                        json!("providerSettings.ideogram.styleCode"),
                    ));
                }
                if ideo.contains_key("styleType") || ideo.contains_key("styleReferenceImages") {
                    return Err((
                        "styleCode cannot be combined with styleType or styleReferenceImages"
                            .into(),
                        json!([
                            "providerSettings.ideogram.styleCode",
                            "providerSettings.ideogram.styleType"
                        ]),
                    ));
                }
            }
        }
    }
    let inputs = obj
        .get("inputs")
        .and_then(Value::as_object)
        .ok_or(("inputs are required".to_string(), json!("inputs")))?;
    for key in inputs.keys() {
        if key != "seedImage" && key != "maskImage" {
            return Err((
                format!("inputs.{key} is not accepted"),
                json!(format!("inputs.{key}")),
            ));
        }
    }
    let seed_ref = inputs.get("seedImage").and_then(Value::as_str).ok_or((
        "inputs.seedImage is required".to_string(),
        json!("inputs.seedImage"),
    ))?;
    let mask_ref = inputs.get("maskImage").and_then(Value::as_str).ok_or((
        "inputs.maskImage is required".to_string(),
        json!("inputs.maskImage"),
    ))?;
    let seed = resolve_image(seed_ref, state)
        .map_err(|e| (format!("seedImage: {e}"), json!("inputs.seedImage")))?;
    let mask = resolve_image(mask_ref, state)
        .map_err(|e| (format!("maskImage: {e}"), json!("inputs.maskImage")))?;
    if let Some(mask) = &mask {
        let luma = mask.to_luma8();
        if luma.pixels().any(|p| p.0[0] != 0 && p.0[0] != 255) {
            return Err((
                "maskImage must be pure black and white (0 or 255)".into(),
                json!("inputs.maskImage"),
            ));
        }
    }
    if let (Some(seed), Some(mask)) = (&seed, &mask)
        && (seed.width(), seed.height()) != (mask.width(), mask.height())
    {
        return Err((
            format!(
                "maskImage is {}x{} but seedImage is {}x{}",
                mask.width(),
                mask.height(),
                seed.width(),
                seed.height()
            ),
            json!(["inputs.maskImage", "inputs.seedImage"]),
        ));
    }
    if let Some(seed) = &seed {
        let mut s = state.lock().unwrap();
        s.seed_sizes.push((seed.width(), seed.height()));
        if let Some(mask) = &mask {
            s.last_inputs = Some((seed.to_rgba8(), mask.to_luma8()));
        }
    }
    Ok(seed.map(|s| (s.width(), s.height())).unwrap_or((16, 12)))
}

/// [`Mode::Paint`]'s picture: the seed, brightened, with the masked pixels painted.
fn painted_picture(
    inputs: &(image::RgbaImage, image::GrayImage),
    brighten: i16,
    paint: Option<[u8; 3]>,
) -> Vec<u8> {
    let (seed, mask) = inputs;
    let mut out = seed.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        match paint {
            Some(c) if mask.get_pixel(x, y).0[0] == 255 => {
                *p = image::Rgba([c[0], c[1], c[2], 255]);
            }
            _ => {
                for ch in 0..3 {
                    p.0[ch] = (i16::from(p.0[ch]) + brighten).clamp(0, 255) as u8;
                }
            }
        }
    }
    touchup::imageio::encode(&out, touchup::imageio::Format::Png, 100).unwrap()
}

fn make_picture(w: u32, h: u32, n: usize) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([
            (x * 7 + n as u32 * 40) as u8,
            (y * 5) as u8,
            (n * 60) as u8,
            255,
        ])
    });
    touchup::imageio::encode(&img, touchup::imageio::Format::Png, 100).unwrap()
}

/// One finished result item, encoded as the task's outputType asks.
fn result_item(
    task: &Value,
    uuid: &str,
    n: usize,
    size: (u32, u32),
    state: &Arc<Mutex<State>>,
) -> Value {
    let painted = {
        let s = state.lock().unwrap();
        match (&s.mode, &s.last_inputs) {
            (Mode::Paint { brighten, paint }, Some(inputs)) => {
                Some(painted_picture(inputs, *brighten, *paint))
            }
            _ => None,
        }
    };
    let bytes = painted.unwrap_or_else(|| make_picture(size.0, size.1, n));
    let image_uuid = uuid::Uuid::new_v4().to_string();
    let mut s = state.lock().unwrap();
    s.images.insert(image_uuid.clone(), bytes.clone());
    let mut item = json!({
        "taskType": "imageInference", "taskUUID": uuid, "imageUUID": image_uuid,
        "seed": 1000 + n as i64, "someNewField": [1, 2, 3],
    });
    match task
        .get("outputType")
        .and_then(Value::as_str)
        .unwrap_or("URL")
    {
        "base64Data" => item["imageBase64Data"] = json!(base64_encode(&bytes)),
        "dataURI" => item["imageDataURI"] = json!(touchup::imageio::data_uri(&bytes, "image/png")),
        _ => {
            item["imageURL"] = json!(format!(
                "http://127.0.0.1:{}/images/{image_uuid}.png",
                s.port
            ))
        }
    }
    if task.get("includeCost") == Some(&Value::Bool(true)) {
        item["cost"] = json!(0.09);
    }
    item
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn inference(
    task: &Value,
    uuid: &str,
    state: &Arc<Mutex<State>>,
) -> Result<Vec<Value>, Response<Full<Bytes>>> {
    let (mode, _in_flight, refusal) = {
        let mut s = state.lock().unwrap();
        s.inference_uuids.push(uuid.to_string());
        let refusal = batch::refuse(task, uuid, s.refuse_prompt.as_deref());
        (s.mode.clone(), s.concurrency.enter(), refusal)
    };
    if let Some(r) = refusal {
        return Err(r);
    }
    let attempts = state.lock().unwrap().inference_attempts();
    match &mode {
        Mode::NoCredits => {
            return Err(error(
                402,
                "insufficientCredits",
                "Insufficient credits to run this task",
                json!(null),
                uuid,
            ));
        }
        Mode::Forbidden => {
            return Err(error(
                403,
                "forbidden",
                "This key may not use this model",
                json!(null),
                uuid,
            ));
        }
        Mode::RejectParameter(p) => {
            return Err(error(
                400,
                "invalidParameter",
                "This value is not accepted",
                json!(p),
                uuid,
            ));
        }
        Mode::RejectParameters(p) => {
            return Err(error(
                400,
                "conflictingParameters",
                "These cannot be combined",
                json!(p),
                uuid,
            ));
        }
        Mode::TooManyRequests(n) if attempts <= *n => {
            return Err(error(
                429,
                "tooManyRequests",
                "The queue is full",
                json!(null),
                uuid,
            ));
        }
        Mode::Unavailable => {
            return Err(reply(
                503,
                "text/html",
                "<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>503</h1></body></html>",
            ));
        }
        Mode::Garbage => return Err(reply(200, "application/json", "{\"data\": [ oops <<<")),
        Mode::SingularError => {
            return Err(json_reply(
                400,
                json!({"error": {"code": "invalidPositivePrompt", "message": "Prompt rejected", "parameter": "positivePrompt"}}),
            ));
        }
        _ => {}
    }
    let size = match check_inference(task, state) {
        Ok(size) => size,
        Err((message, parameter)) => {
            state.lock().unwrap().rejections.push(message.clone());
            return Err(error(400, "invalidParameter", &message, parameter, uuid));
        }
    };
    let n = task
        .get("numberResults")
        .and_then(Value::as_u64)
        .unwrap_or(1) as usize;
    // Like Runware, a task keeps running once received, sync or async: `getResponse` knows it
    // even when the sync answer never reached the client.
    state.lock().unwrap().jobs.insert(
        uuid.to_string(),
        Job {
            task: task.clone(),
            polls: 0,
        },
    );
    if task.get("deliveryMethod").and_then(Value::as_str) == Some("async") {
        return Ok(vec![
            json!({"taskType": "imageInference", "taskUUID": uuid}),
        ]);
    }
    if let Mode::Slow(d) = &mode {
        tokio::time::sleep(*d).await;
    }
    let items: Vec<Value> = (0..n)
        .map(|i| result_item(task, uuid, i, size, state))
        .collect();
    if mode == Mode::PartialError {
        return Err(json_reply(
            200,
            json!({
                "data": items[..1],
                "errors": [{"code": "timeoutProvider", "message": "The provider timed out on one picture", "taskUUID": uuid, "parameter": ["numberResults"]}],
            }),
        ));
    }
    Ok(items)
}

fn upload(
    task: &Value,
    uuid: &str,
    state: &Arc<Mutex<State>>,
) -> Result<Vec<Value>, Response<Full<Bytes>>> {
    let image = task.get("image").and_then(Value::as_str).unwrap_or("");
    let Ok(bytes) = touchup::imageio::parse_data_uri(image) else {
        return Err(error(
            400,
            "invalidImage",
            "image must be a data URI or base64",
            json!("image"),
            uuid,
        ));
    };
    if image::load_from_memory(&bytes).is_err() {
        return Err(error(
            400,
            "invalidImage",
            "image is not a picture",
            json!("image"),
            uuid,
        ));
    }
    let image_uuid = uuid::Uuid::new_v4().to_string();
    let mut s = state.lock().unwrap();
    s.uploads += 1;
    s.images.insert(image_uuid.clone(), bytes);
    Ok(vec![
        json!({"taskType": "imageUpload", "taskUUID": uuid, "imageUUID": image_uuid,
        "imageURL": format!("http://127.0.0.1:{}/images/{image_uuid}.png", s.port)}),
    ])
}

fn get_response(
    uuid: &str,
    state: &Arc<Mutex<State>>,
) -> Result<Vec<Value>, Response<Full<Bytes>>> {
    let (job, ready_after, fail_on) = {
        let mut s = state.lock().unwrap();
        s.polls += 1;
        let ready_after = s.polls_before_ready;
        let fail_on = s.fail_on_poll;
        match s.jobs.get_mut(uuid) {
            Some(job) => {
                job.polls += 1;
                (job.clone(), ready_after, fail_on)
            }
            None => {
                return Err(error(
                    400,
                    "unknownTask",
                    "No task with this taskUUID",
                    json!("taskUUID"),
                    uuid,
                ));
            }
        }
    };
    if fail_on == Some(job.polls) {
        return Ok(vec![
            json!({"taskType": "imageInference", "taskUUID": uuid, "status": "error",
            "error": {"code": "timeoutProvider", "message": "The provider did not answer"}}),
        ]);
    }
    let n = job
        .task
        .get("numberResults")
        .and_then(Value::as_u64)
        .unwrap_or(1) as usize;
    let ready = (job.polls + 1).saturating_sub(ready_after).min(n);
    let mut items = Vec::new();
    for i in 0..n {
        if i < ready {
            // The same picture on every poll: the stand-in remembers it per (task, index).
            let key = format!("{uuid}#{i}");
            let existing = state.lock().unwrap().images.get(&key).cloned();
            let item = match existing {
                Some(saved) => serde_json::from_slice(&saved).unwrap(),
                None => {
                    let mut item = result_item(&job.task, uuid, i, (16, 12), state);
                    item["status"] = json!("success");
                    state
                        .lock()
                        .unwrap()
                        .images
                        .insert(key, item.to_string().into_bytes());
                    item
                }
            };
            items.push(item);
        } else {
            items.push(json!({"taskType": "imageInference", "taskUUID": uuid, "status": "processing", "progress": 10 * job.polls}));
        }
    }
    Ok(items)
}
