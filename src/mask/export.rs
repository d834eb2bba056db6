//! Export: threshold the coverage at 50 %, write a grayscale PNG holding only 0 and 255 at the
//! mask's exact size, in the chosen polarity; and the reverse, loading such a file as a mask.

use base64::Engine as _;

use super::{Mask, THRESHOLD};

/// Which colour marks the area to edit in an exported mask.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Polarity {
    /// White (255) marks the edit, black keeps: Runware's convention, the default.
    #[default]
    WhiteEdits,
    /// Black (0) marks the edit, white keeps: Ideogram's own API.
    BlackEdits,
}

impl Polarity {
    pub const ALL: [Polarity; 2] = [Polarity::WhiteEdits, Polarity::BlackEdits];

    /// The label shown in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Polarity::WhiteEdits => "White marks the edit (Runware)",
            Polarity::BlackEdits => "Black marks the edit (Ideogram API)",
        }
    }

    /// The command-line spelling.
    pub fn cli_name(self) -> &'static str {
        match self {
            Polarity::WhiteEdits => "white-edits",
            Polarity::BlackEdits => "black-edits",
        }
    }

    /// The exported value of a marked and of a kept pixel.
    pub fn values(self) -> (u8, u8) {
        match self {
            Polarity::WhiteEdits => (255, 0),
            Polarity::BlackEdits => (0, 255),
        }
    }
}

impl std::str::FromStr for Polarity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "white-edits" => Ok(Polarity::WhiteEdits),
            "black-edits" => Ok(Polarity::BlackEdits),
            other => Err(format!(
                "unknown polarity '{other}': use white-edits or black-edits"
            )),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("could not encode the mask as PNG: {0}")]
    Encode(String),
    #[error(
        "the mask is {mask_w}x{mask_h} pixels but the image is {image_w}x{image_h}; a mask must have exactly the image's size"
    )]
    SizeMismatch {
        mask_w: u32,
        mask_h: u32,
        image_w: u32,
        image_h: u32,
    },
    #[error(transparent)]
    Decode(#[from] crate::imageio::ImageError),
}

/// The 0/255 export raster (one byte per pixel, row-major) in the given polarity.
pub fn threshold(mask: &Mask, polarity: Polarity) -> Vec<u8> {
    let (on, off) = polarity.values();
    mask.as_raw()
        .iter()
        .map(|&v| if v >= THRESHOLD { on } else { off })
        .collect()
}

/// The mask as an 8-bit grayscale PNG holding only 0 and 255.
pub fn export_png(mask: &Mask, polarity: Polarity) -> Result<Vec<u8>, ExportError> {
    let pixels = threshold(mask, polarity);
    encode_gray_png(mask.width(), mask.height(), &pixels)
}

/// `data:image/png;base64,...` of [`export_png`].
pub fn export_data_uri(mask: &Mask, polarity: Polarity) -> Result<String, ExportError> {
    let png = export_png(mask, polarity)?;
    Ok(png_data_uri(&png))
}

/// Wraps PNG bytes in a data URI.
pub fn png_data_uri(png: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = String::with_capacity(22 + png.len().div_ceil(3) * 4);
    out.push_str("data:image/png;base64,");
    b64.encode_string(png, &mut out);
    out
}

fn encode_gray_png(width: u32, height: u32, pixels: &[u8]) -> Result<Vec<u8>, ExportError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    // Masks are long runs of 0 and 255: "Up" turns every row that repeats the one above into
    // zeros, which the fast deflate squeezes to almost nothing.
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::Filter::Up);
    let mut writer = enc
        .write_header()
        .map_err(|e| ExportError::Encode(e.to_string()))?;
    writer
        .write_image_data(pixels)
        .map_err(|e| ExportError::Encode(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| ExportError::Encode(e.to_string()))?;
    Ok(out)
}

/// Loads a mask file (PNG, JPEG, or any format [`crate::imageio`] reads) of exactly
/// `width` x `height` pixels in the given polarity: pixels on the "edit" side of mid-gray
/// become fully marked.
pub fn import_mask(
    bytes: &[u8],
    width: u32,
    height: u32,
    polarity: Polarity,
) -> Result<Mask, ExportError> {
    let img = crate::imageio::decode(bytes)?;
    let (w, h) = (img.width(), img.height());
    if (w, h) != (width, height) {
        return Err(ExportError::SizeMismatch {
            mask_w: w,
            mask_h: h,
            image_w: width,
            image_h: height,
        });
    }
    let data = img
        .pixels()
        .map(|p| {
            // Luma of the (already alpha-composited-free) pixel; transparent counts as black.
            let [r, g, b, a] = p.0;
            let luma = (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000;
            let luma = luma * u32::from(a) / 255;
            let white = luma >= 128;
            let marked = match polarity {
                Polarity::WhiteEdits => white,
                Polarity::BlackEdits => !white,
            };
            if marked { 255 } else { 0 }
        })
        .collect();
    Mask::from_raw(width, height, data).ok_or(ExportError::SizeMismatch {
        mask_w: w,
        mask_h: h,
        image_w: width,
        image_h: height,
    })
}
