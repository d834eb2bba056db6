//! The edit form, driven through its accessibility tree (egui_kittest), submitting to the
//! stand-in Runware server.

mod support;

use std::sync::Arc;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use support::{KEY, Mode, StandIn};
use touchup::edit::{Field, ImageInput, StyleType};
use touchup::runware::{
    ApiKey, Client, ClientConfig, RunwareError, SubmissionMessage, spawn_submission,
};
use touchup::ui::edit_panel::form::{self, FormAction, FormState};

type State = (FormState, Vec<FormAction>);

fn harness() -> Harness<'static, State> {
    Harness::builder()
        .with_size(egui::vec2(420.0, 1400.0))
        .build_ui_state(
            |ui, s: &mut State| {
                if let Some(a) = form::show(ui, &mut s.0) {
                    s.1.push(a);
                }
            },
            (FormState::default(), Vec::new()),
        )
}

fn png(w: u32, h: u32, value: u8) -> Vec<u8> {
    let mut img = image::GrayImage::new(w, h);
    for y in 2..6 {
        for x in 2..6 {
            img.put_pixel(x, y, image::Luma([value]));
        }
    }
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn run_submission(server: &StandIn, state: &FormState) -> Result<usize, RunwareError> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let config = ClientConfig {
        endpoint: server.url.clone(),
        retry_base_delay: Duration::from_millis(5),
        retry_jitter: Duration::from_millis(5),
        ..ClientConfig::default()
    };
    let client = Arc::new(Client::new(config, ApiKey::new(KEY).unwrap()).unwrap());
    let sub = spawn_submission(rt.handle(), client, state.request.clone(), || {});
    let mut results = 0;
    loop {
        match sub.messages.recv_timeout(Duration::from_secs(20)).unwrap() {
            SubmissionMessage::Event(touchup::runware::SubmitEvent::Result(_)) => results += 1,
            SubmissionMessage::Event(_) => {}
            SubmissionMessage::Finished(r) => return r.map(|v| v.len().max(results)),
        }
    }
}

#[test]
fn filling_the_form_and_submitting_gets_results() {
    let server = StandIn::start();
    let mut h = harness();
    h.run();
    h.get_by_label("Prompt").focus();
    h.get_by_label("Prompt")
        .type_text("Paint 'OPEN' on the door");
    h.run();
    h.get_by_label("Submit").click();
    h.run();
    // The photo and mask come from the editor; the form's fields are valid.
    assert_eq!(h.state().1, vec![FormAction::Submit]);
    assert_eq!(h.state().0.request.prompt, "Paint 'OPEN' on the door");
    assert!(h.query_by_label_contains("24 / 2000 characters").is_some());

    let state = &mut h.state_mut().0;
    state.request.seed_image = Some(ImageInput::bytes(png(12, 10, 200)));
    state.request.mask_image = Some(ImageInput::bytes(png(12, 10, 255)));
    let n = run_submission(&server, state).unwrap();
    assert_eq!(n, 1);
    assert!(server.with(|s| s.rejections.is_empty()));
}

#[test]
fn a_style_code_disables_style_type_and_bad_input_is_shown_beside_its_field() {
    let mut h = harness();
    h.run();
    h.get_by_label("Prompt").focus();
    h.get_by_label("Prompt").type_text("x");
    h.get_by_label("Style code").focus();
    h.get_by_label("Style code").type_text("XYZ");
    h.run();
    assert!(h.query_by_label_contains("exactly 8 hexadecimal").is_some());
    assert!(
        h.query_by_label_contains("Style type is off while a style code is set")
            .is_some()
    );
    h.get_by_label("Submit").click();
    h.run();
    assert!(h.state().1.is_empty(), "an invalid form must not submit");
    assert!(h.query_by_label_contains("to fix before sending").is_some());
}

#[test]
fn a_server_error_keeps_everything_and_is_shown() {
    let server = StandIn::start();
    server.set_mode(Mode::RejectParameter(
        "providerSettings.ideogram.styleType".into(),
    ));
    let mut h = harness();
    {
        let state = &mut h.state_mut().0;
        state.request.prompt = "Replace the menu".into();
        state.request.settings.style_type = Some(StyleType::Fiction);
        state.request.seed_image = Some(ImageInput::bytes(png(12, 10, 200)));
        state.request.mask_image = Some(ImageInput::bytes(png(12, 10, 255)));
        state.busy = true;
    }
    h.run();
    let before = h.state().0.request.clone();
    let err = run_submission(&server, &h.state().0).unwrap_err();
    h.state_mut().0.show_failure(&err);
    h.run();
    let state = &h.state().0;
    assert_eq!(
        state.request, before,
        "prompt, settings and images unchanged"
    );
    assert!(!state.busy);
    assert_eq!(
        state.errors.iter().map(|e| e.field).collect::<Vec<_>>(),
        vec![Field::StyleType]
    );
    assert!(h.query_by_label_contains("invalidParameter").is_some());
    // Once in the message above the buttons, once beside the style type.
    assert_eq!(
        h.query_all_by_label_contains("This value is not accepted")
            .count(),
        2
    );
}

#[test]
fn importing_a_task_fills_the_form() {
    let mut h = harness();
    h.run();
    h.get_by_label("Import request").click();
    h.run();
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/runware/aquarium-kiosk-menu.request.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    h.state_mut().0.import_text = text.clone();
    h.run();
    h.get_by_label("Import pasted JSON").click();
    h.run();
    let action = h.state_mut().1.pop().unwrap();
    let FormAction::Import(pasted) = action else {
        panic!("{action:?}")
    };
    h.state_mut().0.import(&pasted).unwrap();
    h.run();
    assert_eq!(
        h.state().0.request.settings.style_preset.as_deref(),
        Some("MAGAZINE_EDITORIAL")
    );
    assert_eq!(
        h.state().0.request.settings.style_type,
        Some(StyleType::Design)
    );
    assert!(
        h.state()
            .0
            .request
            .prompt
            .starts_with("Edit only the masked hanging menu")
    );
    assert_eq!(
        h.state().0.request.seed_image,
        Some(ImageInput::Reference(
            "https://assets.runware.ai/assets/inputs/a68c7d4b-3570-4ed8-8ecd-b545479cf8e2.jpg"
                .into()
        ))
    );
}
