//! The HTTP side of talking to Runware: which URLs may be reached (https, or http to a loopback
//! address, also for every redirect), bodies read under a size cap and a deadline, reqwest
//! errors sorted by whether the request may have reached the server, and retry delays with
//! jitter.

use std::time::Duration;

use super::error::RunwareError;

pub(super) fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Accepts https URLs, and http only to loopback addresses.
pub(super) fn check_url(url: &str) -> Result<reqwest::Url, RunwareError> {
    let parsed =
        reqwest::Url::parse(url).map_err(|_| RunwareError::BadEndpoint(url.to_string()))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if parsed.host_str().is_some_and(is_loopback_host) => Ok(parsed),
        "http" => Err(RunwareError::InsecureEndpoint(url.to_string())),
        _ => Err(RunwareError::BadEndpoint(url.to_string())),
    }
}

/// Redirects are followed (at most 5) only to URLs [`check_url`] accepts: an https answer
/// that redirects to plain http off loopback is refused before connecting.
pub(super) fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 5 {
            return attempt.error("more than 5 redirects");
        }
        let target = attempt.url().to_string();
        match check_url(&target) {
            Ok(_) => attempt.follow(),
            Err(_) => attempt.error(format!(
                "refused a redirect to '{target}': only https (or http to this machine) is followed"
            )),
        }
    })
}

/// Whether a failed attempt may have reached the server: then an inference task may be
/// running (and charged), and must be asked about, not sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// The connection was never made: nothing was sent.
    NotSent,
    /// The server answered (with an error status): it decided about the task.
    Answered,
    /// Sent (or perhaps sent), then no complete answer: a timeout or a dropped connection.
    Lost,
}

/// A failed attempt: the error to report and how far the request got.
#[derive(Debug)]
pub(super) struct Failure {
    pub error: RunwareError,
    pub reach: Reach,
}

impl Failure {
    pub fn answered(error: RunwareError) -> Failure {
        Failure {
            error,
            reach: Reach::Answered,
        }
    }
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Failure {
        classify(e)
    }
}

/// Sorts a reqwest error (its messages name the URL, never the key, which travels only in a
/// header).
pub(super) fn classify(e: reqwest::Error) -> Failure {
    let (timeout, connect, redirect) = (e.is_timeout(), e.is_connect(), e.is_redirect());
    if connect && !timeout && is_refused(&e) {
        // Nothing listens there: retrying cannot help and nothing was sent.
        let place = e
            .url()
            .map(host_and_port)
            .unwrap_or_else(|| "that address".into());
        return Failure {
            error: RunwareError::NothingAnswers(place),
            reach: Reach::NotSent,
        };
    }
    let detail = describe(e);
    if redirect {
        return Failure {
            error: RunwareError::Garbage(detail),
            reach: Reach::Answered,
        };
    }
    if connect {
        let error = if timeout {
            RunwareError::Timeout(detail)
        } else {
            RunwareError::Connect(detail)
        };
        return Failure {
            error,
            reach: Reach::NotSent,
        };
    }
    let error = if timeout {
        RunwareError::Timeout(detail)
    } else {
        RunwareError::Connect(detail)
    };
    Failure {
        error,
        reach: Reach::Lost,
    }
}

/// Whether one of the error's causes is a refused connection (nothing listens there).
fn is_refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// "host:port" of a URL, for messages (the port the scheme implies when none is written).
pub(super) fn host_and_port(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// A reqwest error and its causes on one line, without the URL.
pub(super) fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
        source = cause.source();
    }
    out
}

/// Why a body could not be read in full.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum BodyError {
    /// Over the size cap (announced or counted): not a network failure, never retried.
    TooBig(String),
    /// The whole body did not arrive within the deadline (a trickle, or silence).
    TimedOut(String),
    /// The connection broke off in the middle.
    Broken(String),
}

impl BodyError {
    pub fn detail(&self) -> &str {
        match self {
            BodyError::TooBig(d) | BodyError::TimedOut(d) | BodyError::Broken(d) => d,
        }
    }
}

fn mib(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads a body up to `cap` bytes within `deadline` (the whole body, so a server trickling
/// a byte at a time cannot hold the client forever), or fails.
pub(super) async fn read_capped(
    mut response: reqwest::Response,
    cap: u64,
    deadline: Duration,
) -> Result<Vec<u8>, BodyError> {
    if let Some(len) = response.content_length()
        && len > cap
    {
        return Err(BodyError::TooBig(format!(
            "it announces {} ({len} bytes), over the {} limit",
            mib(len),
            mib(cap)
        )));
    }
    let reserve = response.content_length().unwrap_or(0).min(cap) as usize;
    let read = async move {
        let mut out = Vec::with_capacity(reserve);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if out.len() as u64 + chunk.len() as u64 > cap {
                        return Err(BodyError::TooBig(format!(
                            "it is over the {} limit",
                            mib(cap)
                        )));
                    }
                    out.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(out),
                Err(e) if e.is_timeout() => {
                    return Err(BodyError::TimedOut(format!("timed out: {}", describe(e))));
                }
                Err(e) => {
                    return Err(BodyError::Broken(format!(
                        "the connection broke off after {} bytes: {}",
                        out.len(),
                        describe(e)
                    )));
                }
            }
        }
    };
    match tokio::time::timeout(deadline, read).await {
        Ok(result) => result,
        Err(_) => Err(BodyError::TimedOut(format!(
            "the answer did not arrive in full within {} s",
            deadline.as_secs_f64()
        ))),
    }
}

/// What a short answer body says, for messages: an HTML page's title, or its first words.
pub(super) fn short_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(400)]);
    // An HTML error page: its <title> says the most.
    if let Some(start) = text.find("<title>")
        && let Some(end) = text[start..].find("</title>")
    {
        return format!("an HTML page: {}", text[start + 7..start + end].trim());
    }
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        "an empty body".into()
    } else {
        let clipped: String = flat.chars().take(80).collect();
        format!("'{clipped}'")
    }
}

/// The delay before retry number `attempt` (1-based): `base` doubled for each earlier retry,
/// plus a random 0..`jitter` as both official SDKs add, so many clients do not retry in step.
pub(super) fn retry_delay(base: Duration, attempt: u32, jitter: Duration) -> Duration {
    let backoff = base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    backoff.saturating_add(random_fraction_of(jitter))
}

/// A uniformly random duration in `0..max` (from the OS random source behind UUID v4).
fn random_fraction_of(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let bits = uuid::Uuid::new_v4().as_u64_pair().0 >> 11;
    let fraction = bits as f64 / (1u64 << 53) as f64;
    max.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback() {
        assert!(check_url("https://api.runware.ai/v1").is_ok());
        assert!(check_url("http://127.0.0.1:8080/v1").is_ok());
        assert!(check_url("http://localhost:1/v1").is_ok());
        assert!(check_url("http://[::1]:1/v1").is_ok());
        assert!(matches!(
            check_url("http://api.runware.ai/v1"),
            Err(RunwareError::InsecureEndpoint(_))
        ));
        assert!(matches!(
            check_url("ftp://x/"),
            Err(RunwareError::BadEndpoint(_))
        ));
        assert!(matches!(
            check_url("not a url"),
            Err(RunwareError::BadEndpoint(_))
        ));
    }

    #[test]
    fn html_pages_are_summarised() {
        let page =
            b"<html><head><title>503 Service Unavailable</title></head><body>x</body></html>";
        assert_eq!(short_text(page), "an HTML page: 503 Service Unavailable");
        assert_eq!(short_text(b""), "an empty body");
    }

    #[test]
    fn retry_delays_double_and_jitter_stays_within_a_second() {
        let base = Duration::from_secs(1);
        let jitter = Duration::from_secs(1);
        let mut spread = Vec::new();
        for attempt in 1..=3u32 {
            let floor = base * 2u32.pow(attempt - 1);
            for _ in 0..50 {
                let d = retry_delay(base, attempt, jitter);
                assert!(d >= floor && d < floor + jitter, "{attempt}: {d:?}");
                spread.push(d - floor);
            }
        }
        // Really random: not all the same.
        assert!(spread.iter().any(|d| *d != spread[0]));
        assert_eq!(retry_delay(base, 2, Duration::ZERO), Duration::from_secs(2));
    }
}
