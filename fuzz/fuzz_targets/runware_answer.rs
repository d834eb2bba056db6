//! Parsing Runware answers: `data` and `errors` (arrays, objects, bare arrays), async poll
//! items with status and progress, and upload answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use touchup::runware::{ResultItem, parse_body, upload_answer};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = parse_body(data) else {
        return;
    };
    for item in &body.data {
        let item = ResultItem::from_value(item);
        let _ = item.has_image();
        if let Some(e) = &item.error {
            let _ = e.to_string();
        }
    }
    for e in &body.errors {
        let _ = e.to_string();
        for p in &e.parameter {
            let _ = touchup::edit::Field::from_parameter(p);
        }
    }
    let _ = upload_answer(&body);
});
