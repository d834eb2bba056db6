//! The job queue as the editor drives it: jobs frozen at submission, results in memory (no
//! output folder), both engines, cost totals, cancel and retry, and the shared 429 slowdown,
//! against the stand-in Runware server.

mod support;

use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use support::{KEY, Mode, StandIn};
use touchup::edit::{EditRequest, ImageInput};
use touchup::jobs::{
    EditRunner, Engine, JobId, JobRunner, JobSpec, JobState, Queue, QueueConfig, QueueEvent,
};
use touchup::mask::{Mask, Polarity, export_png};
use touchup::output::EditInputs;
use touchup::runware::{ApiKey, Client, ClientConfig, RateGate};

const W: u32 = 32;
const H: u32 = 24;

fn photo() -> image::RgbaImage {
    image::RgbaImage::from_fn(W, H, |x, y| {
        image::Rgba([x as u8 * 8, y as u8 * 10, 90, 255])
    })
}

fn mask() -> Mask {
    let mut mask = Mask::new(W, H);
    mask.fill_rect(4, 4, 10, 8, 255);
    mask
}

/// A job as the editor would build it from its state.
fn spec(name: &str, engine: Engine, prompt: &str) -> JobSpec {
    let mut request = EditRequest {
        prompt: prompt.into(),
        ..Default::default()
    };
    request.settings.include_cost = Some(true);
    request.settings.number_results = Some(2);
    let png = touchup::imageio::encode(&photo(), touchup::imageio::Format::Png, 100).unwrap();
    request.seed_image = Some(ImageInput::bytes(png));
    request.mask_image = Some(ImageInput::bytes(
        export_png(&mask(), Polarity::WhiteEdits).unwrap(),
    ));
    let mut spec = JobSpec::new(name, engine, request);
    spec.inputs = Some(EditInputs {
        original: Arc::new(photo()),
        mask: Arc::new(mask()),
    });
    spec.first_seed = Some(5);
    spec
}

struct Setup {
    queue: Queue,
    events: Receiver<QueueEvent>,
    _runtime: tokio::runtime::Runtime,
}

fn setup(server: &StandIn, concurrency: usize) -> Setup {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = ClientConfig {
        endpoint: server.url.clone(),
        retry_base_delay: Duration::from_millis(5),
        ..ClientConfig::default()
    };
    let gate = Arc::new(RateGate::new(
        Duration::from_millis(5),
        Duration::from_millis(200),
    ));
    let client = Client::new(config, ApiKey::new(KEY).unwrap())
        .unwrap()
        .with_gate(gate.clone());
    let runner: Arc<dyn JobRunner> = Arc::new(EditRunner::new(
        runtime.handle().clone(),
        Some(Arc::new(client)),
    ));
    let (queue, events) = Queue::new(QueueConfig { concurrency }, runner, || {});
    let q = queue.clone();
    gate.observe(Box::new(move |pause| q.slowdown(pause)));
    Setup {
        queue,
        events,
        _runtime: runtime,
    }
}

fn states(events: &Receiver<QueueEvent>, id: JobId) -> Vec<String> {
    events
        .try_iter()
        .filter_map(|e| match e {
            QueueEvent::State { id: i, state } if i == id => Some(state.label()),
            _ => None,
        })
        .collect()
}

#[test]
fn runware_and_local_jobs_finish_with_their_results_in_memory() {
    let server = StandIn::start();
    let s = setup(&server, 2);
    let remote = s
        .queue
        .submit(spec("sign", Engine::Runware, "Write 'OPEN'"))
        .unwrap();
    let local = s
        .queue
        .submit(spec("menu", Engine::Local, "'SOUP'"))
        .unwrap();
    assert!(s.queue.wait_idle(Duration::from_secs(60)));
    let r = s.queue.status(remote).unwrap();
    assert_eq!(r.state, JobState::Done);
    assert_eq!(r.results.len(), 2);
    assert!(r.results.iter().all(|x| x.saved.is_none()), "no folder");
    assert_eq!(r.cost(), Some(0.18));
    let sent = server.with(|s| s.bodies[0][0]["taskUUID"].clone());
    assert_eq!(sent, r.task_uuid.unwrap().to_string());
    let l = s.queue.status(local).unwrap();
    assert_eq!(l.state, JobState::Done);
    let seeds: Vec<Option<i64>> = l.results.iter().map(|x| x.image.seed).collect();
    assert_eq!(seeds, vec![Some(5), Some(6)]);
    // The local results keep every pixel outside the mask.
    let original = photo();
    let m = mask();
    for result in &l.results {
        let img = touchup::imageio::decode(&result.image.bytes).unwrap();
        for (x, y, p) in img.enumerate_pixels() {
            if m.get(x, y) < touchup::mask::THRESHOLD {
                assert_eq!(p, original.get_pixel(x, y));
            }
        }
    }
    assert!((s.queue.total_cost() - 0.18).abs() < 1e-9);
    let seen = states(&s.events, remote);
    assert_eq!(seen.first().map(String::as_str), Some("queued"));
    assert!(seen.contains(&"sending".to_string()), "{seen:?}");
    assert!(seen.contains(&"receiving 2 of 2".to_string()), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("done"));
}

#[test]
fn a_refused_job_is_retried_and_a_running_one_cancelled() {
    let server = StandIn::start();
    server.with(|s| s.refuse_prompt = Some("NOPE".into()));
    let s = setup(&server, 1);
    let id = s
        .queue
        .submit(spec("sign", Engine::Runware, "Write 'NOPE'"))
        .unwrap();
    assert!(s.queue.wait_idle(Duration::from_secs(60)));
    let failure = s.queue.status(id).unwrap().failure().cloned().unwrap();
    assert!(
        failure.message.contains("invalidPositivePrompt"),
        "{failure:?}"
    );
    assert!(!failure.unclear, "a 400 is a clear refusal");
    server.with(|s| s.refuse_prompt = None);
    s.queue.retry(id).unwrap();
    assert!(s.queue.wait_idle(Duration::from_secs(60)));
    assert_eq!(s.queue.status(id).unwrap().state, JobState::Done);
    let uuids = server.with(|s| s.inference_uuids.clone());
    assert_eq!(uuids.len(), 2);
    assert_eq!(uuids[0], uuids[1], "a retry sends the same task");

    server.set_mode(Mode::Slow(Duration::from_secs(30)));
    let slow = s
        .queue
        .submit(spec("slow", Engine::Runware, "Write 'LATER'"))
        .unwrap();
    for _ in 0..1000 {
        if server.with(|s| s.concurrency.now()) == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    s.queue.cancel(slow).unwrap();
    assert!(s.queue.wait_idle(Duration::from_secs(10)));
    assert_eq!(s.queue.status(slow).unwrap().state, JobState::Cancelled);
}

#[test]
fn a_429_slows_every_job() {
    let server = StandIn::start();
    server.set_mode(Mode::TooManyRequests(5));
    let s = setup(&server, 3);
    let ids: Vec<JobId> = (0..3)
        .map(|i| {
            s.queue
                .submit(spec(&format!("j{i}"), Engine::Runware, &format!("'{i}'")))
                .unwrap()
        })
        .collect();
    assert!(s.queue.wait_idle(Duration::from_secs(60)));
    for id in ids {
        assert_eq!(s.queue.status(id).unwrap().state, JobState::Done);
    }
    let pauses = s
        .events
        .try_iter()
        .filter(|e| matches!(e, QueueEvent::Slowdown { .. }))
        .count();
    assert_eq!(pauses, 5, "each 429 closed the shared gate");
    assert_eq!(server.with(|s| s.inference_attempts()), 3 + 5);
}
