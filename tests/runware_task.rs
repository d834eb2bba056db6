//! The task JSON: built from a request, imported from the product spec's examples, validated.

use serde_json::Value;
use touchup::edit::{
    EditRequest, Field, ImageInput, OutputFormat, OutputType, RenderingSpeed, StyleType,
    abbreviate_image,
};
use uuid::Uuid;

const FIXTURES: [&str; 4] = [
    "aquarium-kiosk-menu",
    "bakery-window-signage",
    "retro-vending-rebrand",
    "wayfinding-mural",
];

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/runware/{name}.request.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

fn without_uuid(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("taskUUID");
    v
}

/// The fixture's options typed in by hand (as the form would), not imported.
fn typed_request(name: &str) -> EditRequest {
    let spec: Value = serde_json::from_str(&fixture(name)).unwrap();
    let ideo = &spec["providerSettings"]["ideogram"];
    let mut r = EditRequest {
        prompt: spec["positivePrompt"].as_str().unwrap().to_string(),
        ..EditRequest::default()
    };
    r.settings.rendering_speed = Some(RenderingSpeed::Quality);
    r.settings.magic_prompt = Some(touchup::edit::MagicPrompt::Off);
    r.settings.style_type = Some(StyleType::Design);
    r.settings.style_preset = Some(ideo["stylePreset"].as_str().unwrap().to_string());
    r.seed_image = Some(ImageInput::Reference(
        spec["inputs"]["seedImage"].as_str().unwrap().into(),
    ));
    r.mask_image = Some(ImageInput::Reference(
        spec["inputs"]["maskImage"].as_str().unwrap().into(),
    ));
    r
}

#[test]
fn built_tasks_equal_the_fixtures_except_the_uuid() {
    for name in FIXTURES {
        let expected: Value = serde_json::from_str(&fixture(name)).unwrap();
        let request = typed_request(name);
        assert!(
            request.validate().is_empty(),
            "{name}: {:?}",
            request.validate()
        );
        let uuid = Uuid::new_v4();
        let built = request.to_task_json(uuid);
        assert_eq!(built["taskUUID"], Value::String(uuid.to_string()));
        assert_eq!(without_uuid(built), without_uuid(expected), "{name}");
    }
}

#[test]
fn import_then_export_round_trips() {
    for name in FIXTURES {
        let expected: Value = serde_json::from_str(&fixture(name)).unwrap();
        let request = EditRequest::from_task_json(&fixture(name)).unwrap();
        assert!(
            request.ignored_fields.is_empty(),
            "{name}: {:?}",
            request.ignored_fields
        );
        assert_eq!(request.settings.style_type, Some(StyleType::Design));
        let uuid: Uuid = expected["taskUUID"].as_str().unwrap().parse().unwrap();
        assert_eq!(request.to_task_json(uuid), expected, "{name}");
        // An array holding the task imports the same way.
        let wrapped = format!("[{}]", fixture(name));
        assert_eq!(EditRequest::from_task_json(&wrapped).unwrap(), request);
    }
}

#[test]
fn every_option_goes_where_runware_expects_it() {
    let mut r = typed_request("bakery-window-signage");
    r.settings.style_type = None;
    r.settings.style_code = Some("0a1B2c3D".into());
    r.settings.number_results = Some(3);
    r.settings.output_format = Some(OutputFormat::Webp);
    r.settings.output_quality = Some(80);
    r.settings.output_type = Some(OutputType::Url);
    r.settings.include_cost = Some(true);
    r.settings.delivery = Some(touchup::edit::Delivery::Async);
    r.settings.webhook_url = Some("https://example.com/hook".into());
    r.settings.upload_endpoint = Some("https://example.com/put".into());
    r.settings.ttl = Some(120);
    r.settings.safety = Some(touchup::edit::Safety {
        check_content: Some(true),
        mode: Some(touchup::edit::SafetyMode::Fast),
    });
    r.character_reference_image = Some(ImageInput::Reference("char-uuid".into()));
    r.character_reference_mask = Some(ImageInput::Reference("char-mask-uuid".into()));
    assert_eq!(r.validate(), vec![]);
    let t = r.to_task_json(Uuid::new_v4());
    assert_eq!(t["numberResults"], 3);
    assert_eq!(t["outputFormat"], "WEBP");
    assert_eq!(t["outputQuality"], 80);
    assert_eq!(t["outputType"], "URL");
    assert_eq!(t["includeCost"], true);
    assert_eq!(t["deliveryMethod"], "async");
    assert_eq!(t["webhookURL"], "https://example.com/hook");
    assert_eq!(t["uploadEndpoint"], "https://example.com/put");
    assert_eq!(t["ttl"], 120);
    assert_eq!(t["safety"]["checkContent"], true);
    assert_eq!(t["safety"]["mode"], "fast");
    assert_eq!(t["providerSettings"]["ideogram"]["styleCode"], "0a1B2c3D");
    assert_eq!(
        t["providerSettings"]["ideogram"]["characterReferenceImages"][0],
        "char-uuid"
    );
    assert_eq!(
        t["providerSettings"]["ideogram"]["characterReferenceImagesMask"][0],
        "char-mask-uuid"
    );
    for forbidden in ["width", "height", "seed", "negativePrompt"] {
        assert!(t.get(forbidden).is_none(), "{forbidden} must not be sent");
    }
    // And it imports back to the same request.
    let back = EditRequest::from_task_value(t.clone()).unwrap();
    assert_eq!(back.to_task_json(Uuid::nil()), r.to_task_json(Uuid::nil()));
}

#[test]
fn validation_names_each_field() {
    let mut r = typed_request("wayfinding-mural");
    r.prompt = "x".repeat(2001);
    r.settings.style_code = Some("12345G78".into());
    r.settings.number_results = Some(21);
    r.settings.output_quality = Some(19);
    r.settings.ttl = Some(59);
    r.settings.output_type = Some(OutputType::Base64Data);
    r.settings.style_preset = Some("NOT_A_PRESET".into());
    r.settings.webhook_url = Some("ftp://x".into());
    r.style_reference_images = vec![ImageInput::Reference("a".into()); 5];
    r.character_reference_mask = Some(ImageInput::Reference("m".into()));
    let fields: Vec<Field> = r.validate().into_iter().map(|e| e.field).collect();
    for f in [
        Field::Prompt,
        Field::StyleCode,
        Field::StyleType,
        Field::StyleReferenceImages,
        Field::NumberResults,
        Field::OutputQuality,
        Field::Ttl,
        Field::StylePreset,
        Field::WebhookUrl,
        Field::CharacterReferenceMask,
    ] {
        assert!(fields.contains(&f), "{f:?} missing from {fields:?}");
    }
    // Exactly 2000 characters (multi-byte ones count once) is fine.
    let mut ok = typed_request("wayfinding-mural");
    ok.prompt = "é".repeat(2000);
    assert!(ok.validate().is_empty());
    ok.prompt = "  ".into();
    assert_eq!(ok.validate()[0].field, Field::Prompt);
    ok.prompt = "x".into();
    ok.mask_image = None;
    assert_eq!(ok.validate()[0].field, Field::MaskImage);
}

#[test]
fn mask_and_seed_must_match_in_size() {
    let png = |w: u32, h: u32| {
        let img = image::RgbaImage::new(w, h);
        touchup::imageio::encode(&img, touchup::imageio::Format::Png, 100).unwrap()
    };
    let mut r = typed_request("wayfinding-mural");
    r.seed_image = Some(ImageInput::bytes(png(8, 6)));
    r.mask_image = Some(ImageInput::bytes(png(6, 8)));
    let errors = r.validate();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, Field::MaskImage);
    assert!(errors[0].message.contains("6x8"), "{}", errors[0].message);
    r.mask_image = Some(ImageInput::bytes(png(8, 6)));
    assert!(r.validate().is_empty());
    // Bytes go out as data URIs.
    let t = r.to_task_json(Uuid::new_v4());
    assert!(
        t["inputs"]["seedImage"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
}

#[test]
fn view_request_abbreviates_and_curl_hides_the_key() {
    let mut r = typed_request("wayfinding-mural");
    let big = vec![7u8; 30_000];
    r.seed_image = Some(ImageInput::Reference(touchup::imageio::data_uri(
        &big,
        "image/png",
    )));
    let view = r.view_request(Uuid::nil());
    assert!(view.len() < 3000, "{} characters", view.len());
    assert!(view.contains("data:image/png;base64,…"));
    assert!(view.contains("assets.runware.ai")); // URLs stay
    let parsed: Value = serde_json::from_str(&view).unwrap();
    assert!(parsed.is_array());
    assert_eq!(abbreviate_image("https://x/y.png"), "https://x/y.png");

    let curl = r.curl_command(Uuid::nil(), "https://api.runware.ai/v1");
    assert!(curl.contains("\"Authorization: Bearer $RUNWARE_API_KEY\""));
    assert!(curl.starts_with("curl "));
    // The body in the command is the full task (not abbreviated), single-quoted.
    let body_start = curl.find("--data-binary '").unwrap() + "--data-binary '".len();
    let body = &curl[body_start..curl.len() - 1];
    let sent: Value = serde_json::from_str(&body.replace("'\\''", "'")).unwrap();
    assert_eq!(sent[0], r.to_task_json(Uuid::nil()));
}

#[test]
fn settings_persist_and_tolerate_missing_fields() {
    let r = typed_request("retro-vending-rebrand");
    let text = serde_json::to_string(&r.settings).unwrap();
    let back: touchup::edit::EditSettings = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r.settings);
    let partial: touchup::edit::EditSettings =
        serde_json::from_str(r#"{"number_results": 4}"#).unwrap();
    assert_eq!(partial.number_results, Some(4));
    assert_eq!(partial.style_type, None);
}

#[test]
fn import_rejects_other_models_and_reports_unknown_fields() {
    let mut v: Value = serde_json::from_str(&fixture("retro-vending-rebrand")).unwrap();
    v["width"] = 1024.into();
    let r = EditRequest::from_task_value(v.clone()).unwrap();
    assert_eq!(r.ignored_fields, vec!["width".to_string()]);
    assert!(r.to_task_json(Uuid::nil()).get("width").is_none());
    v["model"] = "runware:100@1".into();
    assert!(EditRequest::from_task_value(v).is_err());
    assert!(EditRequest::from_task_json("not json").is_err());
}

#[test]
fn a_large_photo_and_its_mask_shrink_together() {
    use touchup::edit::{RUNWARE_MAX_SIDE, downscale_together, needs_downscale};
    use touchup::mask::{Mask, Polarity, export_png};
    let photo = image::RgbaImage::from_pixel(3000, 1000, image::Rgba([10, 20, 30, 255]));
    let mut mask = Mask::new(3000, 1000);
    mask.fill_rect(300, 100, 1500, 500, 255);
    assert!(needs_downscale(3000, 1000));
    assert!(!needs_downscale(2048, 2048));
    let (p, m) = downscale_together(&photo, &mask, RUNWARE_MAX_SIDE).unwrap();
    assert_eq!(p.dimensions(), (2048, 683));
    assert_eq!(m.size(), p.dimensions());
    // The marked block scales with the picture and the export is still pure 0/255.
    assert!(m.is_marked(1000, 300) && !m.is_marked(100, 50) && !m.is_marked(1400, 600));
    let png = export_png(&m, Polarity::WhiteEdits).unwrap();
    let gray = image::load_from_memory(&png).unwrap().to_luma8();
    assert!(gray.pixels().all(|px| px.0[0] == 0 || px.0[0] == 255));
    assert!(downscale_together(&photo, &Mask::new(10, 10), 2048).is_none());
    let (same, _) = downscale_together(&p, &m, RUNWARE_MAX_SIDE).unwrap();
    assert_eq!(same, p);
}

#[test]
fn the_stand_in_style_checks_are_mirrored_by_validation_of_all_presets() {
    // Every preset and style type the form offers is one the API spelling accepts.
    for preset in touchup::edit::STYLE_PRESETS {
        let mut r = typed_request("bakery-window-signage");
        r.settings.style_preset = Some(preset.to_string());
        assert!(r.validate().is_empty(), "{preset}");
        assert_eq!(
            touchup::edit::find_style_preset(&touchup::edit::style_preset_label(preset)),
            Some(preset)
        );
    }
    for t in StyleType::ALL {
        assert_eq!(StyleType::parse(t.as_api()), Some(*t));
    }
}

#[test]
fn results_are_saved_with_their_facts_and_the_right_extensions() {
    use touchup::edit::{ResultImage, save_results};
    let img = image::RgbaImage::from_pixel(4, 3, image::Rgba([1, 2, 3, 255]));
    let jpg = touchup::imageio::encode(&img, touchup::imageio::Format::Jpg, 90).unwrap();
    let png = touchup::imageio::encode(&img, touchup::imageio::Format::Png, 100).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/out");
    let mut r = typed_request("wayfinding-mural");
    r.seed_image = Some(ImageInput::bytes(png.clone()));
    let images = vec![
        ResultImage {
            bytes: jpg.clone(),
            image_uuid: Some("u1".into()),
            seed: Some(5),
            cost: Some(0.09),
        },
        ResultImage {
            bytes: png.clone(),
            image_uuid: None,
            seed: None,
            cost: None,
        },
    ];
    let paths = save_results(&out, r.to_task_json(Uuid::nil()), &images).unwrap();
    assert_eq!(
        paths,
        vec![out.join("result-1.jpg"), out.join("result-2.png")]
    );
    assert_eq!(std::fs::read(&paths[0]).unwrap(), jpg);
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(index["results"][0]["file"], "result-1.jpg");
    assert_eq!(index["results"][0]["imageUUID"], "u1");
    assert_eq!(index["results"][0]["seed"], 5);
    assert_eq!(index["results"][0]["cost"], 0.09);
    assert_eq!(index["results"][1]["imageUUID"], Value::Null);
    // The request is kept, its image payloads abbreviated.
    let seed = index["request"]["inputs"]["seedImage"].as_str().unwrap();
    assert!(seed.contains("base64 characters"), "{seed}");
}
