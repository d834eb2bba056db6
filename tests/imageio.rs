//! Opening pictures: every supported format and pixel type, EXIF orientation, and bad files that
//! must fail with a clear message (never a panic, never unbounded memory).

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use touchup::imageio::{self, ImageError};

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
    assert!(matches!(err, ImageError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("damaged or cut short"));

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
