//! Decoding a photo with limits: the damage check, the strict decode and the decode-anyway
//! path must never panic, hang or allocate beyond the limits, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use touchup::imageio::{self, DecodeLimits};

const LIMITS: DecodeLimits = DecodeLimits {
    max_side: 4096,
    max_alloc: 256 * 1024 * 1024,
};

fuzz_target!(|data: &[u8]| {
    let _ = imageio::inspect_damage(data);
    let strict = imageio::decode_with(data, LIMITS, false);
    let anyway = imageio::decode_with(data, LIMITS, true);
    // What opens strictly opens anyway, to the same pixels.
    if let Ok(img) = &strict {
        let other = anyway.as_ref().expect("strict decode succeeded but decode-anyway failed");
        assert_eq!(img.as_bytes(), other.as_bytes());
    }
});
