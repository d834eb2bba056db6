//! Importing a Runware task (as pasted or given with `--request`): parse, validate, export
//! again, view and cURL. Whatever imports must re-export and import to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use touchup::edit::EditRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(request) = EditRequest::from_task_json(text) else {
        return;
    };
    let _ = request.validate();
    let uuid = uuid::Uuid::nil();
    let _ = request.view_request(uuid);
    let _ = request.curl_command(uuid, "https://api.runware.ai/v1");
    let json = request.to_task_json(uuid);
    let again = EditRequest::from_task_value(json).expect("an exported task imports");
    assert_eq!(again.prompt, request.prompt);
    assert_eq!(again.settings, request.settings);
});
