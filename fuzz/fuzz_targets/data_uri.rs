//! Data-URI and base64 parsing, and the abbreviation shown in "View request".
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(bytes) = touchup::imageio::parse_data_uri(text) {
        // What was read round-trips.
        let uri = touchup::imageio::data_uri(&bytes, "image/png");
        assert_eq!(touchup::imageio::parse_data_uri(&uri).ok(), Some(bytes));
    }
    let _ = touchup::edit::abbreviate_image(text);
    let _ = touchup::imageio::sniff_mime(data);
});
