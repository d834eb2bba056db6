//! A misbehaving Runware: a little HTTP/1.1 server on 127.0.0.1, written on raw sockets so it
//! can do what a polite server never does (reset a connection halfway through a body, trickle
//! bytes forever, announce 2 GB). It sits in front of the strict [`StandIn`]: whatever it does
//! not spoil it forwards there, so tasks really run and `getResponse` really answers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::StandIn;

/// What a spoiled result URL does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BadResult {
    /// Announces 2 GB (and would send zeros until the client hangs up).
    Huge,
    /// No length, zeros forever.
    Endless,
    /// A small PNG whose header claims 12000x12000 pixels, the zeros really there
    /// (about 150 KB that inflate to 144 MB).
    Bomb,
    /// The picture's first half, then the connection is reset.
    ResetHalfway,
    /// A redirect to plain http off loopback.
    RedirectToPlainHttp,
}

/// How the server misbehaves on `POST /v1`.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Forwards everything.
    None,
    /// The first inference task is forwarded (so it runs), then the connection is closed
    /// without an answer.
    DropAfterSend,
    /// The first inference request's connection is closed before its body is read: the task
    /// never reaches the stand-in.
    CloseBeforeRead,
    /// Every answer: the headers and the first half of the body, then a reset.
    ResetMidBody,
    /// Every answer: headers, then a byte every 100 ms, forever.
    Trickle,
    /// The inference answer is `{"data": [[[[ ... ]]]]}` this deep.
    DeepJson(usize),
    /// The inference answer holds this many result items (copies of the real first one).
    ManyItems(usize),
    /// Result URLs from index `from` (0-based) on point at a spoiled download.
    Results { bad: BadResult, from: usize },
    /// The API answers 307 to plain http off loopback.
    RedirectToPlainHttp,
}

#[derive(Debug)]
pub struct FaultState {
    pub fault: Fault,
    /// Inference requests seen (spoiled or not).
    pub inference_requests: usize,
    /// Connections cut or spoiled.
    pub spoiled: usize,
    port: u16,
}

pub struct FaultServer {
    pub url: String,
    pub inner: StandIn,
    pub state: Arc<Mutex<FaultState>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A loopback-free address nobody answers on (TEST-NET-3): a redirect there must never be
/// followed.
pub const PLAIN_HTTP_ELSEWHERE: &str = "http://203.0.113.7/stolen";

impl FaultServer {
    pub fn start(fault: Fault) -> FaultServer {
        // The forwarding client needs a TLS provider even for plain http.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let inner = StandIn::start();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(FaultState {
            fault,
            inference_requests: 0,
            spoiled: 0,
            port,
        }));
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let shared = state.clone();
        let upstream = inner.url.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let http = reqwest::Client::new();
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let state = shared.clone();
                            let upstream = upstream.clone();
                            let http = http.clone();
                            tokio::spawn(async move {
                                let _ = serve(stream, state, &upstream, &http).await;
                            });
                        }
                    }
                }
            });
        });
        FaultServer {
            url: format!("http://127.0.0.1:{port}/v1"),
            inner,
            state,
            stop: Some(stop_tx),
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut FaultState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one request: the head, then as many body bytes as Content-Length says.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<(Request, usize)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() > 64 * 1024 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let body = buf[head_end..].to_vec();
    Ok(Some((
        Request {
            method,
            path,
            headers,
            body,
        },
        len,
    )))
}

async fn read_body(stream: &mut TcpStream, req: &mut Request, len: usize) -> std::io::Result<()> {
    let mut chunk = vec![0u8; 64 * 1024];
    while req.body.len() < len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        req.body.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

fn head(status: u16, content_type: &str, len: Option<u64>, extra: &str) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        302 => "Found",
        307 => "Temporary Redirect",
        _ => "Whatever",
    };
    let length = len
        .map(|l| format!("content-length: {l}\r\n"))
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\n{length}{extra}connection: close\r\n\r\n"
    )
    .into_bytes()
}

async fn answer(stream: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    stream
        .write_all(&head(
            status,
            "application/json",
            Some(body.len() as u64),
            "",
        ))
        .await?;
    stream.write_all(body).await?;
    stream.flush().await
}

/// Closes with a TCP reset instead of an orderly FIN.
#[allow(deprecated)]
fn reset(stream: TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    req: &Request,
) -> Result<(u16, Vec<u8>), reqwest::Error> {
    let mut builder = http.post(upstream).body(req.body.clone());
    for (k, v) in &req.headers {
        if k == "authorization" || k == "content-type" {
            builder = builder.header(k.as_str(), v.as_str());
        }
    }
    let response = builder.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.bytes().await?.to_vec()))
}

fn is_inference(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|v| {
        v.as_array().is_some_and(|tasks| {
            tasks
                .iter()
                .any(|t| t.get("taskType").and_then(Value::as_str) == Some("imageInference"))
        })
    })
}

/// Zeros, 64 KiB at a time, until the client hangs up.
async fn zeros_forever(stream: &mut TcpStream) {
    let zeros = vec![0u8; 64 * 1024];
    while stream.write_all(&zeros).await.is_ok() {}
}

/// A greyscale PNG of `side` x `side` zeros, written a row at a time.
pub fn bomb_png(side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = vec![0u8; side as usize];
        for _ in 0..side {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
    }
    out
}

async fn serve_result(stream: TcpStream, path: &str, upstream: &str) -> std::io::Result<()> {
    let mut stream = stream;
    match path {
        "/bad/huge.png" => {
            stream
                .write_all(&head(200, "image/png", Some(2 * 1024 * 1024 * 1024), ""))
                .await?;
            zeros_forever(&mut stream).await;
        }
        "/bad/endless.png" => {
            stream.write_all(&head(200, "image/png", None, "")).await?;
            stream.write_all(b"\x89PNG\r\n\x1a\n").await?;
            zeros_forever(&mut stream).await;
        }
        "/bad/bomb.png" => {
            let png = bomb_png(12_000);
            stream
                .write_all(&head(200, "image/png", Some(png.len() as u64), ""))
                .await?;
            stream.write_all(&png).await?;
        }
        "/bad/redirect.png" => {
            let location = format!("location: {PLAIN_HTTP_ELSEWHERE}.png\r\n");
            stream
                .write_all(&head(302, "text/plain", Some(0), &location))
                .await?;
        }
        p if p.starts_with("/bad/half/") => {
            // The real picture from the stand-in, cut off halfway.
            let real = p.trim_start_matches("/bad/half/");
            let base = upstream.trim_end_matches("/v1");
            let bytes = reqwest::get(format!("{base}/images/{real}"))
                .await
                .map_err(std::io::Error::other)?
                .bytes()
                .await
                .map_err(std::io::Error::other)?;
            stream
                .write_all(&head(200, "image/png", Some(bytes.len() as u64), ""))
                .await?;
            stream.write_all(&bytes[..bytes.len() / 2]).await?;
            stream.flush().await?;
            reset(stream);
        }
        _ => {
            stream
                .write_all(&head(404, "text/plain", Some(0), ""))
                .await?;
        }
    }
    Ok(())
}

/// Points result URLs of the answer's items at the spoiled download, from item `from` on.
fn spoil_results(body: &[u8], bad: BadResult, from: usize, port: u16) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    if let Some(items) = value.get_mut("data").and_then(Value::as_array_mut) {
        for (i, item) in items.iter_mut().enumerate().skip(from) {
            let Some(url) = item.get("imageURL").and_then(Value::as_str) else {
                continue;
            };
            let file = url.rsplit('/').next().unwrap_or("x.png").to_string();
            let path = match bad {
                BadResult::Huge => "huge.png".to_string(),
                BadResult::Endless => "endless.png".to_string(),
                BadResult::Bomb => "bomb.png".to_string(),
                BadResult::RedirectToPlainHttp => "redirect.png".to_string(),
                BadResult::ResetHalfway => format!("half/{file}"),
            };
            item["imageURL"] = json!(format!("http://127.0.0.1:{port}/bad/{path}"));
            let _ = i;
        }
    }
    value.to_string().into_bytes()
}

async fn serve(
    mut stream: TcpStream,
    state: Arc<Mutex<FaultState>>,
    upstream: &str,
    http: &reqwest::Client,
) -> std::io::Result<()> {
    let Some((mut req, len)) = read_head(&mut stream).await? else {
        return Ok(());
    };
    if req.method == "GET" && req.path.starts_with("/bad/") {
        state.lock().unwrap().spoiled += 1;
        return serve_result(stream, &req.path, upstream).await;
    }
    let (fault, port) = {
        let s = state.lock().unwrap();
        (s.fault.clone(), s.port)
    };
    if req.method == "GET" {
        // Result downloads of unspoiled items go straight to the stand-in.
        let base = upstream.trim_end_matches("/v1");
        let bytes = reqwest::get(format!("{base}{}", req.path))
            .await
            .map_err(std::io::Error::other)?
            .bytes()
            .await
            .map_err(std::io::Error::other)?;
        stream
            .write_all(&head(200, "image/png", Some(bytes.len() as u64), ""))
            .await?;
        return stream.write_all(&bytes).await;
    }
    // Peek: an inference request the fault wants to cut before reading?
    let inference_so_far = state.lock().unwrap().inference_requests;
    if fault == Fault::CloseBeforeRead && inference_so_far == 0 {
        read_body(&mut stream, &mut req, len).await?;
        if is_inference(&req.body) {
            let mut s = state.lock().unwrap();
            s.inference_requests += 1;
            s.spoiled += 1;
            drop(s);
            reset(stream);
            return Ok(());
        }
    } else {
        read_body(&mut stream, &mut req, len).await?;
    }
    let inference = is_inference(&req.body);
    let nth = {
        let mut s = state.lock().unwrap();
        if inference {
            s.inference_requests += 1;
        }
        s.inference_requests
    };
    let spoil = |state: &Arc<Mutex<FaultState>>| state.lock().unwrap().spoiled += 1;
    match &fault {
        Fault::Trickle => {
            spoil(&state);
            stream
                .write_all(&head(200, "application/json", Some(1_000_000), ""))
                .await?;
            stream.write_all(b"{\"data\":[").await?;
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if stream.write_all(b" ").await.is_err() {
                    return Ok(());
                }
            }
        }
        Fault::RedirectToPlainHttp => {
            spoil(&state);
            let location = format!("location: {PLAIN_HTTP_ELSEWHERE}\r\n");
            stream
                .write_all(&head(307, "text/plain", Some(0), &location))
                .await?;
            return Ok(());
        }
        Fault::DeepJson(depth) if inference => {
            spoil(&state);
            let mut body = String::from("{\"data\":");
            body.push_str(&"[".repeat(*depth));
            body.push_str(&"]".repeat(*depth));
            body.push('}');
            return answer(&mut stream, 200, body.as_bytes()).await;
        }
        _ => {}
    }
    let (status, body) = forward(http, upstream, &req)
        .await
        .map_err(std::io::Error::other)?;
    match &fault {
        Fault::DropAfterSend if inference && nth == 1 => {
            spoil(&state);
            // The task ran upstream; its answer is lost on the way.
            reset(stream);
            Ok(())
        }
        Fault::ResetMidBody => {
            spoil(&state);
            stream
                .write_all(&head(200, "application/json", Some(body.len() as u64), ""))
                .await?;
            stream.write_all(&body[..body.len() / 2]).await?;
            stream.flush().await?;
            reset(stream);
            Ok(())
        }
        Fault::ManyItems(n) if inference && status == 200 => {
            spoil(&state);
            let mut value: Value = serde_json::from_slice(&body).unwrap();
            let first = value["data"][0].clone();
            let items: Vec<Value> = (0..*n)
                .map(|i| {
                    let mut item = first.clone();
                    item["imageUUID"] = json!(format!("{}-{i}", first["imageUUID"]));
                    item
                })
                .collect();
            value["data"] = Value::Array(items);
            answer(&mut stream, 200, value.to_string().as_bytes()).await
        }
        Fault::Results { bad, from } if status == 200 => {
            spoil(&state);
            let body = spoil_results(&body, *bad, *from, port);
            answer(&mut stream, status, &body).await
        }
        _ => answer(&mut stream, status, &body).await,
    }
}
