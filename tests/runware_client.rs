//! The Runware client against the strict stand-in server (real HTTP on 127.0.0.1).

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use support::{KEY, Mode, StandIn};
use tokio_util::sync::CancellationToken;
use touchup::edit::{Delivery, EditRequest, Field, ImageInput, OutputType, StyleType};
use touchup::mask::{Mask, Polarity, export_png};
use touchup::runware::{
    ApiKey, Client, ClientConfig, EditResult, PollConfig, RunwareError, SubmissionMessage,
    SubmitEvent, spawn_submission,
};
use uuid::Uuid;

const W: u32 = 32;
const H: u32 = 24;

fn seed_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(W, H, |x, y| {
        image::Rgba([x as u8 * 8, y as u8 * 10, 90, 255])
    });
    touchup::imageio::encode(&img, touchup::imageio::Format::Png, 100).unwrap()
}

fn mask_png(w: u32, h: u32) -> Vec<u8> {
    let mut mask = Mask::new(w, h);
    mask.fill_rect(4, 4, 10, 8, 255);
    export_png(&mask, Polarity::WhiteEdits).unwrap()
}

fn request() -> EditRequest {
    let mut r = EditRequest {
        prompt: "Replace the sign with 'BRAMBLE & RYE'".into(),
        ..Default::default()
    };
    r.settings.style_type = Some(StyleType::Design);
    r.settings.style_preset = Some("EDITORIAL".into());
    r.seed_image = Some(ImageInput::bytes(seed_png()));
    r.mask_image = Some(ImageInput::bytes(mask_png(W, H)));
    r
}

fn config(url: &str) -> ClientConfig {
    ClientConfig {
        endpoint: url.to_string(),
        read_timeout: Duration::from_secs(20),
        retry_base_delay: Duration::from_millis(5),
        retry_jitter: Duration::from_millis(5),
        poll: PollConfig {
            first_delay: Duration::from_millis(5),
            factor: 1.5,
            max_delay: Duration::from_millis(20),
            budget: Duration::from_secs(20),
        },
        ..ClientConfig::default()
    }
}

fn client_with(config: ClientConfig, key: &str) -> Client {
    Client::new(config, ApiKey::new(key).unwrap()).unwrap()
}

async fn submit(
    client: &Client,
    r: &EditRequest,
) -> (Result<Vec<EditResult>, RunwareError>, Vec<SubmitEvent>) {
    let mut events = Vec::new();
    let mut on_event = |e: SubmitEvent| events.push(e);
    let out = client
        .submit(r, Uuid::new_v4(), &CancellationToken::new(), &mut on_event)
        .await;
    (out, events)
}

fn retries(events: &[SubmitEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, SubmitEvent::Retrying { .. }))
        .count()
}

#[tokio::test]
async fn url_results_are_downloaded_and_match_what_the_server_made() {
    let server = StandIn::start();
    let client = client_with(config(&server.url), KEY);
    let mut r = request();
    r.settings.number_results = Some(2);
    r.settings.include_cost = Some(true);
    let (out, events) = submit(&client, &r).await;
    let results = out.unwrap();
    assert_eq!(results.len(), 2);
    server.with(|s| {
        assert!(s.rejections.is_empty(), "{:?}", s.rejections);
        assert_eq!(s.downloads, 2);
        for res in &results {
            let uuid = res.image_uuid.as_ref().unwrap();
            assert_eq!(&res.bytes, s.images.get(uuid).unwrap());
            assert_eq!(res.cost, Some(0.09));
            assert!(res.seed.is_some());
        }
        // The body was an array with the mask and seed inline as data URIs.
        let body = &s.bodies[0];
        assert!(
            body[0]["inputs"]["maskImage"]
                .as_str()
                .unwrap()
                .starts_with("data:image/png;base64,")
        );
        assert_eq!(body[0]["model"], "ideogram:4@3");
    });
    assert_eq!(results[0].index, 1);
    assert_eq!(results[1].index, 2);
    let reported = events
        .iter()
        .filter(|e| matches!(e, SubmitEvent::Result(_)))
        .count();
    assert_eq!(reported, 2);
    let picture = image::load_from_memory(&results[0].bytes).unwrap();
    assert_eq!((picture.width(), picture.height()), (W, H));
}

#[tokio::test]
async fn base64_and_data_uri_results_are_decoded() {
    for output in [OutputType::Base64Data, OutputType::DataUri] {
        let server = StandIn::start();
        let client = client_with(config(&server.url), KEY);
        let mut r = request();
        r.settings.output_type = Some(output);
        let results = submit(&client, &r).await.0.unwrap();
        assert_eq!(results.len(), 1);
        server.with(|s| {
            assert_eq!(s.downloads, 0, "{output:?} needs no download");
            assert_eq!(
                &results[0].bytes,
                s.images
                    .get(results[0].image_uuid.as_ref().unwrap())
                    .unwrap()
            );
        });
    }
}

#[tokio::test]
async fn a_wrong_key_is_not_retried_and_never_printed() {
    let server = StandIn::start();
    let client = client_with(config(&server.url), "wrong-key-SECRET");
    let (out, events) = submit(&client, &request()).await;
    let err = out.unwrap_err();
    assert!(
        matches!(err, RunwareError::Api { status: 401, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("invalidApiKey") && text.contains("RUNWARE_API_KEY"),
        "{text}"
    );
    assert!(!text.contains("SECRET") && !format!("{err:?} {client:?}").contains("SECRET"));
    assert_eq!(retries(&events), 0);
    assert_eq!(server.with(|s| s.bodies.len()), 1);
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    for (mode, status, words) in [
        (Mode::NoCredits, 402, "credits"),
        (Mode::Forbidden, 403, "forbidden"),
        (
            Mode::RejectParameter("providerSettings.ideogram.stylePreset".into()),
            400,
            "stylePreset",
        ),
    ] {
        let server = StandIn::start();
        server.set_mode(mode.clone());
        let client = client_with(config(&server.url), KEY);
        let (out, events) = submit(&client, &request()).await;
        let err = out.unwrap_err();
        match &err {
            RunwareError::Api { status: s, errors } => {
                assert_eq!(*s, status);
                assert!(!errors.is_empty());
            }
            other => panic!("{mode:?}: {other:?}"),
        }
        assert!(err.to_string().contains(words), "{err}");
        assert_eq!(
            server.with(|s| s.inference_attempts()),
            1,
            "{mode:?} was retried"
        );
        assert_eq!(retries(&events), 0);
    }
}

#[tokio::test]
async fn a_named_parameter_points_at_its_form_field() {
    let server = StandIn::start();
    server.set_mode(Mode::RejectParameter(
        "providerSettings.ideogram.stylePreset".into(),
    ));
    let client = client_with(config(&server.url), KEY);
    let err = submit(&client, &request()).await.0.unwrap_err();
    assert_eq!(err.fields(), vec![Field::StylePreset]);
    assert_eq!(
        err.api_errors()[0].code.as_deref(),
        Some("invalidParameter")
    );

    server.set_mode(Mode::RejectParameters(vec![
        "providerSettings.ideogram.styleCode".into(),
        "providerSettings.ideogram.styleType".into(),
    ]));
    let err = submit(&client, &request()).await.0.unwrap_err();
    assert_eq!(err.fields(), vec![Field::StyleCode, Field::StyleType]);
    assert!(
        err.to_string()
            .contains("styleCode, providerSettings.ideogram.styleType"),
        "{err}"
    );

    server.set_mode(Mode::SingularError);
    let err = submit(&client, &request()).await.0.unwrap_err();
    assert!(matches!(err, RunwareError::Api { status: 400, .. }));
    assert_eq!(err.fields(), vec![Field::Prompt]);
    assert!(
        err.to_string()
            .contains("invalidPositivePrompt: Prompt rejected"),
        "{err}"
    );
}

#[tokio::test]
async fn busy_answers_are_retried_with_the_same_task_uuid() {
    let server = StandIn::start();
    server.set_mode(Mode::TooManyRequests(2));
    // Without jitter the backoff itself shows (jitter: http::tests and runware_faults).
    let mut cfg = config(&server.url);
    cfg.retry_jitter = Duration::ZERO;
    let client = client_with(cfg, KEY);
    let uuid = Uuid::new_v4();
    let mut events = Vec::new();
    let mut on_event = |e: SubmitEvent| events.push(e);
    let results = client
        .submit(&request(), uuid, &CancellationToken::new(), &mut on_event)
        .await
        .unwrap();
    assert_eq!(results.len(), 1);
    let uuids = server.with(|s| s.inference_uuids.clone());
    assert_eq!(uuids, vec![uuid.to_string(); 3]);
    assert_eq!(retries(&events), 2);
    // Exponential: the second delay is twice the first.
    let delays: Vec<Duration> = events
        .iter()
        .filter_map(|e| match e {
            SubmitEvent::Retrying { delay, .. } => Some(*delay),
            _ => None,
        })
        .collect();
    assert_eq!(
        delays,
        vec![Duration::from_millis(5), Duration::from_millis(10)]
    );
}

#[tokio::test]
async fn an_html_503_is_retried_three_times_then_explained() {
    let server = StandIn::start();
    server.set_mode(Mode::Unavailable);
    let client = client_with(config(&server.url), KEY);
    let (out, events) = submit(&client, &request()).await;
    let err = out.unwrap_err();
    assert!(
        matches!(err, RunwareError::Http { status: 503, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("503 Service Temporarily Unavailable"),
        "{err}"
    );
    assert_eq!(server.with(|s| s.inference_attempts()), 4);
    assert_eq!(retries(&events), 3);
    let uuids = server.with(|s| s.inference_uuids.clone());
    assert!(uuids.iter().all(|u| u == &uuids[0]));
}

#[tokio::test]
async fn a_garbage_body_is_reported_not_retried() {
    let server = StandIn::start();
    server.set_mode(Mode::Garbage);
    let client = client_with(config(&server.url), KEY);
    let err = submit(&client, &request()).await.0.unwrap_err();
    assert!(matches!(err, RunwareError::Garbage(_)), "{err:?}");
    assert!(err.to_string().contains("not JSON"), "{err}");
    assert_eq!(server.with(|s| s.inference_attempts()), 1);
}

#[tokio::test]
async fn a_slow_answer_is_asked_for_not_sent_again() {
    // Runware keeps running a sync task whose answer timed out: sending it again would be a
    // second task to pay for. The client asks for its result under the same taskUUID.
    let server = StandIn::start();
    server.set_mode(Mode::Slow(Duration::from_secs(3)));
    let mut cfg = config(&server.url);
    cfg.read_timeout = Duration::from_millis(150);
    let client = client_with(cfg, KEY);
    let (out, events) = submit(&client, &request()).await;
    let results = out.unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(server.with(|s| s.inference_attempts()), 1);
    assert!(server.with(|s| s.polls) >= 1);
    let said = events
        .iter()
        .find_map(|e| match e {
            SubmitEvent::Retrying { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .unwrap();
    assert!(said.contains("instead of sending it again"), "{said}");
    let polled_uuid = server.with(|s| s.bodies.last().unwrap()[0]["taskUUID"].clone());
    assert_eq!(polled_uuid, server.with(|s| s.inference_uuids[0].clone()));
}

#[tokio::test]
async fn a_refused_connection_fails_at_once_and_says_where_and_what_to_do() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = client_with(config(&format!("http://127.0.0.1:{port}/v1")), KEY);
    let (out, events) = submit(&client, &request()).await;
    let err = out.unwrap_err();
    assert!(matches!(err, RunwareError::NothingAnswers(_)), "{err:?}");
    let said = err.to_string();
    assert!(
        said.starts_with(&format!("Nothing answers at 127.0.0.1:{port}")),
        "{said}"
    );
    assert!(said.contains("check the address"), "{said}");
    assert!(!said.contains("os error"), "{said}");
    // Refused is final: no retries, and nothing was sent, so it is not "unclear".
    assert_eq!(retries(&events), 0);
    assert!(!err.is_transient() && !err.is_unclear());
}

#[tokio::test]
async fn async_results_arrive_one_by_one() {
    let server = StandIn::start();
    server.with(|s| s.polls_before_ready = 2);
    let client = client_with(config(&server.url), KEY);
    let mut r = request();
    r.settings.delivery = Some(Delivery::Async);
    r.settings.number_results = Some(3);
    r.settings.output_type = Some(OutputType::DataUri);
    let (out, events) = submit(&client, &r).await;
    let results = out.unwrap();
    assert_eq!(results.len(), 3);
    let uuids: Vec<_> = results
        .iter()
        .map(|r| r.image_uuid.clone().unwrap())
        .collect();
    assert!(uuids[0] != uuids[1] && uuids[1] != uuids[2]);
    // A result is reported between polls, not all at the end.
    let trail: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            SubmitEvent::Result(r) => Some(format!("R{}", r.index)),
            SubmitEvent::Polling { done, .. } => Some(format!("P{done}")),
            _ => None,
        })
        .collect();
    assert_eq!(trail, vec!["P0", "R1", "P1", "R2", "P2", "R3", "P3"]);
    assert!(events.contains(&SubmitEvent::Queued));
    server.with(|s| {
        assert_eq!(s.polls, 4);
        assert_eq!(s.inference_attempts(), 1);
        // Every poll asked for the original task.
        let polled: Vec<&Value> = s.bodies[1..].iter().map(|b| &b[0]["taskUUID"]).collect();
        assert!(polled.iter().all(|u| **u == s.bodies[0][0]["taskUUID"]));
        assert!(
            s.bodies[1..]
                .iter()
                .all(|b| b[0]["taskType"] == "getResponse")
        );
    });
}

#[tokio::test]
async fn an_async_failure_is_reported_with_its_code() {
    let server = StandIn::start();
    server.with(|s| {
        s.polls_before_ready = 5;
        s.fail_on_poll = Some(2);
    });
    let client = client_with(config(&server.url), KEY);
    let mut r = request();
    r.settings.delivery = Some(Delivery::Async);
    let err = submit(&client, &r).await.0.unwrap_err();
    assert!(
        err.to_string()
            .contains("timeoutProvider: The provider did not answer"),
        "{err}"
    );
    assert_eq!(server.with(|s| s.polls), 2);
}

#[tokio::test]
async fn polling_gives_up_after_its_budget() {
    let server = StandIn::start();
    server.with(|s| s.polls_before_ready = 1_000_000);
    let mut cfg = config(&server.url);
    cfg.poll.budget = Duration::from_millis(60);
    let client = client_with(cfg, KEY);
    let mut r = request();
    r.settings.delivery = Some(Delivery::Async);
    let err = submit(&client, &r).await.0.unwrap_err();
    assert!(matches!(err, RunwareError::PollBudget(_)), "{err:?}");
    assert!(server.with(|s| s.polls) >= 1);
}

fn drain_until_finished(
    sub: &touchup::runware::Submission,
) -> (Vec<SubmitEvent>, Result<Vec<EditResult>, RunwareError>) {
    let mut events = Vec::new();
    loop {
        match sub.messages.recv_timeout(Duration::from_secs(20)).unwrap() {
            SubmissionMessage::Event(e) => events.push(e),
            SubmissionMessage::Finished(r) => return (events, r),
        }
    }
}

#[test]
fn cancel_stops_a_hanging_request_at_once() {
    let server = StandIn::start();
    server.set_mode(Mode::Slow(Duration::from_secs(60)));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = Arc::new(client_with(config(&server.url), KEY));
    let sub = spawn_submission(rt.handle(), client, request(), || {});
    // Wait until the request is on the wire, then cancel.
    match sub.messages.recv_timeout(Duration::from_secs(20)).unwrap() {
        SubmissionMessage::Event(SubmitEvent::Sending { attempt: 1 }) => {}
        other => panic!("{other:?}"),
    }
    while server.with(|s| s.inference_attempts()) == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    sub.cancel();
    let (_, out) = drain_until_finished(&sub);
    assert!(matches!(out, Err(RunwareError::Cancelled)), "{out:?}");
    assert_eq!(server.with(|s| s.inference_attempts()), 1);
}

#[test]
fn cancel_stops_polling() {
    let server = StandIn::start();
    server.with(|s| s.polls_before_ready = 1_000_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = Arc::new(client_with(config(&server.url), KEY));
    let mut r = request();
    r.settings.delivery = Some(Delivery::Async);
    let sub = spawn_submission(rt.handle(), client, r, || {});
    loop {
        if let SubmissionMessage::Event(SubmitEvent::Polling { .. }) =
            sub.messages.recv_timeout(Duration::from_secs(20)).unwrap()
        {
            break;
        }
    }
    sub.cancel();
    let (_, out) = drain_until_finished(&sub);
    assert!(matches!(out, Err(RunwareError::Cancelled)), "{out:?}");
    let polls = server.with(|s| s.polls);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        server.with(|s| s.polls),
        polls,
        "polling went on after cancel"
    );
}

#[tokio::test]
async fn a_seed_is_uploaded_once_and_reused() {
    let server = StandIn::start();
    let mut cfg = config(&server.url);
    cfg.upload_seed = true;
    let client = client_with(cfg, KEY);
    submit(&client, &request()).await.0.unwrap();
    submit(&client, &request()).await.0.unwrap();
    server.with(|s| {
        assert!(s.rejections.is_empty(), "{:?}", s.rejections);
        assert_eq!(s.uploads, 1);
        let sent: Vec<&Value> = s
            .bodies
            .iter()
            .filter(|b| b[0]["taskType"] == "imageInference")
            .map(|b| &b[0]["inputs"]["seedImage"])
            .collect();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0], sent[1]);
        assert!(
            s.images.contains_key(sent[0].as_str().unwrap()),
            "seedImage is the uploaded imageUUID"
        );
    });
}

#[tokio::test]
async fn a_grey_mask_is_refused_by_the_strict_server() {
    let server = StandIn::start();
    let client = client_with(config(&server.url), KEY);
    let mut r = request();
    let grey = image::GrayImage::from_pixel(W, H, image::Luma([128]));
    let mut png = Vec::new();
    grey.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    r.mask_image = Some(ImageInput::bytes(png));
    let err = submit(&client, &r).await.0.unwrap_err();
    assert_eq!(err.fields(), vec![Field::MaskImage]);
    assert!(err.to_string().contains("0 or 255"), "{err}");
    assert_eq!(server.with(|s| s.rejections.len()), 1);
}

#[tokio::test]
async fn invalid_requests_never_leave_the_machine() {
    let server = StandIn::start();
    let client = client_with(config(&server.url), KEY);
    let mut r = request();
    r.mask_image = Some(ImageInput::bytes(mask_png(W + 1, H)));
    let err = submit(&client, &r).await.0.unwrap_err();
    assert_eq!(err.fields(), vec![Field::MaskImage]);
    r = request();
    r.settings.style_code = Some("DEADBEEF".into());
    let err = submit(&client, &r).await.0.unwrap_err();
    assert_eq!(err.fields(), vec![Field::StyleType]);
    assert_eq!(server.with(|s| s.bodies.len()), 0);
}

#[tokio::test]
async fn a_partial_answer_keeps_the_results_and_reports_the_error() {
    let server = StandIn::start();
    server.set_mode(Mode::PartialError);
    let client = client_with(config(&server.url), KEY);
    let mut r = request();
    r.settings.number_results = Some(2);
    let (out, events) = submit(&client, &r).await;
    let err = out.unwrap_err();
    assert!(err.to_string().contains("timeoutProvider"), "{err}");
    let delivered = events
        .iter()
        .filter(|e| matches!(e, SubmitEvent::Result(_)))
        .count();
    assert_eq!(delivered, 1);
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let err = Client::new(
        ClientConfig {
            endpoint: "http://api.runware.ai/v1".into(),
            ..ClientConfig::default()
        },
        ApiKey::new("k").unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, RunwareError::InsecureEndpoint(_)));
    assert!(Client::new(ClientConfig::default(), ApiKey::new("k").unwrap()).is_ok());
}

#[tokio::test]
async fn the_stand_in_is_strict_about_what_it_accepts() {
    let server = StandIn::start();
    let client = client_with(config(&server.url), KEY);
    let cancel = CancellationToken::new();
    let mut ignore = |_e: SubmitEvent| {};
    let good = request().to_task_json(Uuid::new_v4());
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut t = good.clone();
                t["width"] = 1024.into();
                serde_json::json!([t])
            },
            "width",
        ),
        (
            {
                let mut t = good.clone();
                t["seed"] = 7.into();
                serde_json::json!([t])
            },
            "seed",
        ),
        (
            {
                let mut t = good.clone();
                t["taskUUID"] = Uuid::nil().to_string().into();
                serde_json::json!([t])
            },
            "taskUUID",
        ),
        (
            {
                let mut t = good.clone();
                t["model"] = "runware:100@1".into();
                serde_json::json!([t])
            },
            "model",
        ),
        (
            {
                let mut t = good.clone();
                t["providerSettings"]["ideogram"]["styleType"] = "ANIME".into();
                serde_json::json!([t])
            },
            "styleType",
        ),
        (good.clone(), "body"),
    ];
    for (body, parameter) in cases {
        let err = client
            .post_tasks(&body, &cancel, &mut ignore)
            .await
            .unwrap_err();
        match &err {
            RunwareError::Api {
                status: 400,
                errors,
            } => {
                assert!(
                    errors[0].parameter.iter().any(|p| p.contains(parameter)),
                    "{parameter}: {err}"
                );
            }
            other => panic!("{parameter}: {other:?}"),
        }
    }
    // And the good one passes.
    let answer = client
        .post_tasks(&serde_json::json!([good]), &cancel, &mut ignore)
        .await
        .unwrap();
    assert_eq!(answer.data.len(), 1);
    assert_eq!(server.with(|s| s.rejections.len()), 6);
}
