//! The pictures of a task, made fit to send: Runware takes PNG, JPEG and WebP only, so BMP,
//! GIF and TIFF are converted to PNG (never sent as `data:image/bmp`); a picture that is cut
//! short or damaged is refused by field before anything leaves the machine.

use crate::edit::{EditRequest, Field, FieldError, ImageInput};
use crate::imageio;

use super::error::RunwareError;

/// Checks and converts every local picture of `request` in place.
pub fn prepare(request: &mut EditRequest) -> Result<(), RunwareError> {
    let mut problems = Vec::new();
    let mut fix = |input: &mut ImageInput, field: Field, what: &str| {
        if let Err(message) = prepare_one(input) {
            problems.push(FieldError {
                field,
                message: format!("{what} {message}"),
            });
        }
    };
    if let Some(i) = request.seed_image.as_mut() {
        fix(i, Field::SeedImage, "the photo");
    }
    if let Some(i) = request.mask_image.as_mut() {
        fix(i, Field::MaskImage, "the mask");
    }
    let count = request.style_reference_images.len();
    for (n, i) in request.style_reference_images.iter_mut().enumerate() {
        let what = if count == 1 {
            "the style reference".to_string()
        } else {
            format!("style reference {}", n + 1)
        };
        fix(i, Field::StyleReferenceImages, &what);
    }
    if let Some(i) = request.character_reference_image.as_mut() {
        fix(i, Field::CharacterReferenceImage, "the character reference");
    }
    if let Some(i) = request.character_reference_mask.as_mut() {
        fix(i, Field::CharacterReferenceMask, "the character mask");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(RunwareError::Invalid(problems))
    }
}

/// Whether Runware takes these encoded bytes as they are.
fn accepted_format(bytes: &[u8]) -> Option<bool> {
    match image::guess_format(bytes).ok()? {
        image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::WebP => Some(true),
        _ => Some(false),
    }
}

/// The bytes to send instead, when they must change (converted to PNG); `Err` says why the
/// picture cannot be sent.
fn converted(bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
    match accepted_format(bytes) {
        // Not a picture format we know: sent as given, the service decides.
        None => Ok(None),
        Some(true) => match imageio::inspect_damage(bytes) {
            Some(damage) => Err(format!("is {damage}")),
            None => Ok(None),
        },
        Some(false) => {
            let img = imageio::decode(bytes).map_err(|e| format!("cannot be read: {e}"))?;
            let png = imageio::encode(&img, imageio::Format::Png, 100)
                .map_err(|e| format!("cannot be converted to PNG: {e}"))?;
            Ok(Some(png))
        }
    }
}

fn prepare_one(input: &mut ImageInput) -> Result<(), String> {
    match input {
        ImageInput::Bytes(bytes) => {
            if let Some(png) = converted(bytes)? {
                *input = ImageInput::bytes(png);
            }
        }
        // A data URI from an imported task: its payload is checked the same way.
        ImageInput::Reference(text) if text.trim_start().starts_with("data:") => {
            let bytes = imageio::parse_data_uri(text).map_err(|e| format!("is {e}"))?;
            if let Some(png) = converted(&bytes)? {
                *input = ImageInput::Reference(imageio::data_uri(&png, "image/png"));
            }
        }
        // UUIDs and URLs are the service's to resolve.
        ImageInput::Reference(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(format: image::ImageFormat) -> (image::RgbaImage, Vec<u8>) {
        let img = image::RgbaImage::from_fn(6, 4, |x, y| {
            image::Rgba([(x * 40) as u8, (y * 60) as u8, 7, 255])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgba8(img.clone())
            .into_rgb8()
            .write_to(&mut out, format)
            .unwrap_or_else(|e| panic!("{format:?}: {e}"));
        (img, out.into_inner())
    }

    #[test]
    fn bmp_gif_and_tiff_become_png_with_the_same_pixels() {
        for format in [image::ImageFormat::Bmp, image::ImageFormat::Tiff] {
            let (img, bytes) = picture(format);
            let mut input = ImageInput::bytes(bytes);
            prepare_one(&mut input).unwrap();
            let ImageInput::Bytes(sent) = &input else {
                panic!("{format:?} became a reference");
            };
            assert_eq!(imageio::sniff_mime(sent), "image/png", "{format:?}");
            assert_eq!(imageio::decode(sent).unwrap(), img, "{format:?}");
            assert!(input.to_wire().starts_with("data:image/png;base64,"));
        }
        // GIF is palette-based: the pixels are the GIF's own, sent as PNG.
        let (_, gif) = picture(image::ImageFormat::Gif);
        let expected = imageio::decode(&gif).unwrap();
        let mut input = ImageInput::Reference(imageio::data_uri(&gif, "image/gif"));
        prepare_one(&mut input).unwrap();
        let wire = input.to_wire();
        assert!(wire.starts_with("data:image/png;base64,"), "{wire:.40}");
        let sent = imageio::parse_data_uri(&wire).unwrap();
        assert_eq!(imageio::decode(&sent).unwrap(), expected);
    }

    #[test]
    fn png_jpeg_and_references_pass_untouched() {
        let (_, png) = picture(image::ImageFormat::Png);
        let mut input = ImageInput::bytes(png.clone());
        prepare_one(&mut input).unwrap();
        assert_eq!(input, ImageInput::bytes(png));
        let mut uuid = ImageInput::Reference("0b0b2f44-8d9e-4b8e-9a55-54a1f6c0f0aa".into());
        prepare_one(&mut uuid).unwrap();
        assert_eq!(
            uuid,
            ImageInput::Reference("0b0b2f44-8d9e-4b8e-9a55-54a1f6c0f0aa".into())
        );
    }

    #[test]
    fn a_truncated_reference_is_refused_by_field() {
        let (_, png) = picture(image::ImageFormat::Png);
        let mut request = EditRequest {
            style_reference_images: vec![ImageInput::bytes(png[..png.len() - 12].to_vec())],
            ..EditRequest::default()
        };
        let Err(RunwareError::Invalid(problems)) = prepare(&mut request) else {
            panic!("a damaged reference was accepted");
        };
        assert_eq!(problems[0].field, Field::StyleReferenceImages);
        assert!(
            problems[0]
                .message
                .starts_with("the style reference is truncated"),
            "{}",
            problems[0].message
        );
    }
}
