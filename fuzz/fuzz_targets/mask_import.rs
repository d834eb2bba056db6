//! Importing a mask file: the first four bytes choose the expected size (so both matching and
//! mismatching sizes are reached), the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use touchup::mask::{Polarity, export_png, import_mask};

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let w = u32::from(u16::from_le_bytes([data[0], data[1]]) % 512) + 1;
    let h = u32::from(u16::from_le_bytes([data[2], data[3]]) % 512) + 1;
    let polarity = if data[4] & 1 == 0 {
        Polarity::WhiteEdits
    } else {
        Polarity::BlackEdits
    };
    let file = &data[5..];
    // The size the file claims, when it claims one: import at that size too.
    let mut sizes = vec![(w, h)];
    if let Ok(img) = touchup::imageio::decode_with(
        file,
        touchup::imageio::DecodeLimits {
            max_side: 2048,
            max_alloc: 64 * 1024 * 1024,
        },
        false,
    ) {
        sizes.push((img.width(), img.height()));
    }
    for (w, h) in sizes {
        if let Ok(mask) = import_mask(file, w, h, polarity) {
            assert_eq!(mask.size(), (w, h));
            // An imported mask exports to a 0/255 PNG of the same size that imports back.
            let png = export_png(&mask, polarity).expect("an imported mask exports");
            let again = import_mask(&png, w, h, polarity).expect("an exported mask imports");
            assert_eq!(again.as_raw(), mask.as_raw());
        }
    }
});
