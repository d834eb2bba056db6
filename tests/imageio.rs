//! Opening pictures: every supported format and pixel type, EXIF orientation, and bad files that
//! must fail with a clear message (never a panic, never unbounded memory).

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use touchup::imageio::{self, DamageKind, ImageError};

fn sample(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        if x < w / 2 {
            if y < h / 2 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 255, 255])
            }
        } else if y < h / 2 {
            Rgba([0, 255, 0, 255])
        } else {
            Rgba([255, 255, 255, 255])
        }
    })
}

fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn close(a: Rgba<u8>, b: [u8; 3], tol: i32) -> bool {
    (0..3).all(|i| (a[i] as i32 - b[i] as i32).abs() <= tol)
}

#[test]
fn opens_every_supported_format_and_pixel_type() {
    let img = sample(32, 16);
    let cases: Vec<(&str, Vec<u8>, i32)> = vec![
        (
            "png rgba8",
            encode(DynamicImage::ImageRgba8(img.clone()), ImageFormat::Png),
            0,
        ),
        (
            "png rgb16",
            encode(
                DynamicImage::ImageRgb16(DynamicImage::ImageRgba8(img.clone()).into_rgb16()),
                ImageFormat::Png,
            ),
            0,
        ),
        (
            "jpeg",
            encode(
                DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(img.clone()).into_rgb8()),
                ImageFormat::Jpeg,
            ),
            40,
        ),
        (
            "webp",
            encode(DynamicImage::ImageRgba8(img.clone()), ImageFormat::WebP),
            0,
        ),
        (
            "bmp",
            encode(
                DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(img.clone()).into_rgb8()),
                ImageFormat::Bmp,
            ),
            0,
        ),
        (
            "gif",
            encode(DynamicImage::ImageRgba8(img.clone()), ImageFormat::Gif),
            0,
        ),
        (
            "tiff",
            encode(DynamicImage::ImageRgba8(img.clone()), ImageFormat::Tiff),
            0,
        ),
    ];
    for (name, bytes, tol) in cases {
        let got = imageio::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.dimensions(), (32, 16), "{name}");
        assert!(
            close(*got.get_pixel(2, 2), [255, 0, 0], tol),
            "{name} top-left {:?}",
            got.get_pixel(2, 2)
        );
        assert!(
            close(*got.get_pixel(29, 13), [255, 255, 255], tol),
            "{name} bottom-right"
        );
    }
}

#[test]
fn opens_gray_and_palette_pngs() {
    let gray = DynamicImage::ImageLuma8(image::GrayImage::from_fn(8, 4, |x, _| {
        image::Luma([x as u8 * 30])
    }));
    let got = imageio::decode(&encode(gray, ImageFormat::Png)).unwrap();
    assert_eq!(got.get_pixel(3, 1).0, [90, 90, 90, 255]);

    // An indexed PNG written with the png crate: two palette entries.
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, 4, 2);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(vec![10, 20, 30, 200, 100, 50]);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[0, 1, 0, 1, 1, 1, 0, 0]).unwrap();
    }
    let got = imageio::decode(&bytes).unwrap();
    assert_eq!(got.get_pixel(0, 0).0, [10, 20, 30, 255]);
    assert_eq!(got.get_pixel(1, 0).0, [200, 100, 50, 255]);
}

/// Inserts a chunk right after IHDR.
fn with_chunk(png: &[u8], kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let ihdr_end = 8 + 4 + 4 + 13 + 4;
    let mut out = png[..ihdr_end].to_vec();
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

/// A little-endian TIFF/EXIF block holding only an Orientation tag.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut e = b"II*\0".to_vec();
    e.extend_from_slice(&8u32.to_le_bytes());
    e.extend_from_slice(&1u16.to_le_bytes());
    e.extend_from_slice(&0x0112u16.to_le_bytes());
    e.extend_from_slice(&3u16.to_le_bytes());
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&value.to_le_bytes());
    e.extend_from_slice(&[0, 0]);
    e.extend_from_slice(&0u32.to_le_bytes());
    e
}

#[test]
fn exif_orientation_is_applied_so_the_mask_matches_the_display() {
    let img = sample(40, 20);
    let png = encode(DynamicImage::ImageRgba8(img), ImageFormat::Png);
    // 6 = rotate 90° clockwise to display: 40x20 becomes 20x40 and the red top-left corner
    // moves to the top-right.
    let rotated = imageio::decode(&with_chunk(&png, b"eXIf", &exif_orientation(6))).unwrap();
    assert_eq!(rotated.dimensions(), (20, 40));
    assert_eq!(rotated.get_pixel(19, 0).0, [255, 0, 0, 255]);
    assert_eq!(rotated.get_pixel(0, 0).0, [0, 0, 255, 255]);
}

#[test]
fn bad_files_fail_with_a_clear_reason() {
    assert!(matches!(imageio::decode(&[]), Err(ImageError::Empty)));
    assert!(matches!(
        imageio::decode(b"hello, this is text"),
        Err(ImageError::UnknownFormat)
    ));

    let png = encode(DynamicImage::ImageRgba8(sample(64, 64)), ImageFormat::Png);
    let truncated = &png[..png.len() / 2];
    let err = imageio::decode(truncated).unwrap_err();
    let damage = err.damage().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(damage.kind, DamageKind::Truncated);
    assert!(err.to_string().contains("truncated"), "{err}");

    let jpeg = encode(
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(sample(64, 64)).into_rgb8()),
        ImageFormat::Jpeg,
    );
    assert!(imageio::decode(&jpeg[..40]).is_err());
}

/// A PNG whose header claims `w`x`h` RGBA16 pixels, with a token IDAT: decoding it fully would
/// need gigabytes.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[16, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", ihdr),
        (b"IDAT", vec![0x78, 0x9c, 0x03, 0x00]),
        (b"IEND", vec![]),
    ] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(&data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(&data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    out
}

#[test]
fn huge_headers_and_decompression_bombs_are_refused_before_allocating() {
    let err = imageio::decode(&png_claiming(100_000, 100_000)).unwrap_err();
    assert!(matches!(err, ImageError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("100000x100000"), "{err}");
    // Within the side limit but 16000x16000 RGBA16 would take about 2 GiB.
    let err = imageio::decode(&png_claiming(16_000, 16_000)).unwrap_err();
    assert!(matches!(err, ImageError::TooMuchMemory), "{err:?}");
}

#[test]
fn open_names_the_file_in_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("menu-board.jpg");
    std::fs::write(&path, b"").unwrap();
    let err = imageio::open(&path).unwrap_err().to_string();
    assert_eq!(err, "could not open menu-board.jpg: the file is empty");
    let err = imageio::open(&dir.path().join("missing.png"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing.png") && err.contains("no such file"),
        "{err}"
    );
}

#[test]
fn data_uris_round_trip() {
    let bytes = encode(DynamicImage::ImageRgba8(sample(4, 4)), ImageFormat::Png);
    let uri = imageio::data_uri(&bytes, imageio::sniff_mime(&bytes));
    assert!(uri.starts_with("data:image/png;base64,"));
    assert_eq!(imageio::parse_data_uri(&uri).unwrap(), bytes);
    assert!(imageio::parse_data_uri("data:image/png,rawtext").is_err());
    assert!(imageio::parse_data_uri("data:image/png;base64,@@@").is_err());
}

/// A photo-like picture (smooth gradients and some texture), so a JPEG's bytes spread evenly
/// over its rows.
fn photo(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let n = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 27;
        Rgba([
            (x * 255 / w) as u8 ^ n as u8,
            (y * 255 / h) as u8,
            ((x + y) * 3) as u8,
            255,
        ])
    })
}

fn jpeg_of(img: &RgbaImage) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(img.clone()).into_rgb8()),
        ImageFormat::Jpeg,
    )
}

#[test]
fn a_jpeg_cut_short_is_refused_with_how_much_is_missing() {
    let full = jpeg_of(&photo(128, 128));
    let cut = &full[..full.len() * 2 / 5];
    let err = imageio::decode(cut).unwrap_err();
    let damage = err.damage().unwrap_or_else(|| panic!("{err:?}")).clone();
    assert_eq!(damage.kind, DamageKind::Truncated);
    let missing = damage.missing_percent.unwrap();
    // 40 % of the bytes are kept: well over a third of the rows are gone.
    assert!((35..=85).contains(&missing), "{missing}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, cut).unwrap();
    let err = imageio::open(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("photo.jpg is truncated: about {missing} % of it is missing")
    );
    assert!(err.damage().is_some());

    // Opening anyway gives the picture as far as it goes, the rest mid-grey.
    let anyway = imageio::open_anyway(&path).unwrap();
    assert_eq!(anyway.dimensions(), (128, 128));
    assert!(
        anyway
            .pixels()
            .rev()
            .take(128)
            .all(|p| p.0 == [128, 128, 128, 255])
    );
    let original = imageio::decode(&full).unwrap();
    assert_eq!(anyway.get_pixel(5, 2), original.get_pixel(5, 2));
}

#[test]
fn a_jpeg_without_its_end_marker_is_named_and_opens_whole_anyway() {
    let full = jpeg_of(&photo(64, 48));
    assert_eq!(&full[full.len() - 2..], &[0xFF, 0xD9]);
    let no_eoi = &full[..full.len() - 2];
    let err = imageio::decode(no_eoi).unwrap_err();
    let damage = err.damage().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(damage.kind, DamageKind::NoEndMarker);
    assert!(err.to_string().contains("end marker is missing"), "{err}");
    assert_eq!(
        imageio::decode_anyway(no_eoi).unwrap(),
        imageio::decode(&full).unwrap()
    );
}

/// The byte offset and length of the first chunk of this kind.
fn find_chunk(png: &[u8], kind: &[u8; 4]) -> (usize, usize) {
    let mut pos = 8;
    loop {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        if &png[pos + 4..pos + 8] == kind {
            return (pos, len);
        }
        pos += 12 + len;
    }
}

#[test]
fn damaged_pngs_are_named_by_what_is_wrong() {
    let img = photo(96, 64);
    let png = encode(DynamicImage::ImageRgba8(img.clone()), ImageFormat::Png);

    // A flipped byte inside IDAT: its checksum fails.
    let (at, len) = find_chunk(&png, b"IDAT");
    let mut flipped = png.clone();
    flipped[at + 8 + len / 2] ^= 0x40;
    let err = imageio::decode(&flipped).unwrap_err();
    let damage = err.damage().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(damage.kind, DamageKind::BadChecksum);
    assert!(
        err.to_string().contains("chunk IDAT fails its checksum"),
        "{err}"
    );

    // IDAT cut in the middle: about half the pixel data is missing.
    let cut = &png[..at + 8 + len / 2];
    let err = imageio::decode(cut).unwrap_err();
    let damage = err.damage().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(damage.kind, DamageKind::Truncated);
    let missing = damage.missing_percent.unwrap();
    assert!((20..=80).contains(&missing), "{missing}");
    assert!(
        err.to_string()
            .contains(&format!("truncated: about {missing} % of it is missing")),
        "{err}"
    );

    // No IEND: everything else is there, and opening anyway gives every pixel.
    let (iend, _) = find_chunk(&png, b"IEND");
    let no_iend = &png[..iend];
    let err = imageio::decode(no_iend).unwrap_err();
    assert_eq!(
        err.damage().unwrap().kind,
        DamageKind::NoEndMarker,
        "{err:?}"
    );
    assert_eq!(imageio::decode_anyway(no_iend).unwrap(), img);

    // Intact files pass untouched.
    assert_eq!(imageio::inspect_damage(&png), None);
    assert_eq!(imageio::inspect_damage(&jpeg_of(&img)), None);
    assert_eq!(imageio::decode(&png).unwrap(), img);
}

/// Fuzz finding (decode_photo): a damaged PNG whose IHDR claims a width near 2^32 overflowed
/// the expected scanline size in the damage check.
#[test]
fn fuzz_a_damaged_png_claiming_a_vast_width_is_refused_without_overflow() {
    let bytes: [u8; 43] = [
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x17, 0x49, 0x48, 0x44,
        0x52, 0x0b, 0x00, 0x00, 0x00, 0xed, 0x00, 0xd6, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x04,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    let _ = imageio::inspect_damage(&bytes);
    assert!(imageio::decode(&bytes).is_err());
    assert!(imageio::decode_anyway(&bytes).is_err());
}
