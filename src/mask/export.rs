//! Export: threshold the coverage at 50 %, write a grayscale PNG holding only 0 and 255 at the
//! mask's exact size, in the chosen polarity; and the reverse, loading such a file as a mask.

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
    let (on, off) = polarity.values();
    let w = mask.width() as usize;
    // Scanlines (filter byte 0, then the thresholded row) are built a band at a time and
    // streamed into the compressor, so no full-size copy of the mask is ever made.
    let band_rows = (256 * 1024 / (w + 1)).max(1);
    let mut deflate = RleDeflate::new();
    let mut band = Vec::with_capacity(band_rows * (w + 1));
    let mut y = 0;
    while y < mask.height() {
        band.clear();
        let end = (y + band_rows as u32).min(mask.height());
        for row in y..end {
            band.push(0);
            band.extend(
                mask.row(row)
                    .iter()
                    .map(|&v| if v >= THRESHOLD { on } else { off }),
            );
        }
        deflate.push(&band, end == mask.height())?;
        y = end;
    }
    if mask.height() == 0 {
        deflate.push(&[], true)?;
    }
    encode_gray_png(mask.width(), mask.height(), &deflate.out)
}

/// `data:image/png;base64,...` of [`export_png`].
pub fn export_data_uri(mask: &Mask, polarity: Polarity) -> Result<String, ExportError> {
    let png = export_png(mask, polarity)?;
    Ok(png_data_uri(&png))
}

/// Wraps PNG bytes in a data URI.
pub fn png_data_uri(png: &[u8]) -> String {
    crate::imageio::data_uri(png, "image/png")
}

/// A zlib stream with the run-length strategy: a mask is long runs of 0 and 255, which RLE
/// matching finds in one pass and dynamic Huffman codes pack tightly. (The png crate's encoder
/// offers no strategy setting, so the few chunks around the data are written here.)
struct RleDeflate {
    stream: zlib_rs::Deflate,
    out: Vec<u8>,
}

impl RleDeflate {
    fn new() -> Self {
        let config = zlib_rs::DeflateConfig {
            level: 6,
            strategy: zlib_rs::Strategy::Rle,
            ..zlib_rs::DeflateConfig::default()
        };
        Self {
            stream: zlib_rs::Deflate::new_with_config(config),
            out: Vec::new(),
        }
    }

    /// Compresses `input`; with `last` the stream is finished.
    fn push(&mut self, mut input: &[u8], last: bool) -> Result<(), ExportError> {
        let flush = if last {
            zlib_rs::DeflateFlush::Finish
        } else {
            zlib_rs::DeflateFlush::NoFlush
        };
        loop {
            if self.out.capacity() - self.out.len() < 16 * 1024 {
                self.out.reserve(64 * 1024 + self.out.len() / 2);
            }
            let start = self.out.len();
            self.out.resize(self.out.capacity(), 0);
            let (in_before, out_before) = (self.stream.total_in(), self.stream.total_out());
            let status = self
                .stream
                .compress(input, &mut self.out[start..], flush)
                .map_err(|e| ExportError::Encode(format!("deflate failed: {}", e.as_str())))?;
            let consumed = (self.stream.total_in() - in_before) as usize;
            let produced = (self.stream.total_out() - out_before) as usize;
            self.out.truncate(start + produced);
            input = &input[consumed..];
            match status {
                zlib_rs::Status::StreamEnd => return Ok(()),
                _ if !last && input.is_empty() => return Ok(()),
                // More output room needed (or more to finish): go round again.
                _ => {}
            }
        }
    }
}

fn push_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) -> Result<(), ExportError> {
    let len = u32::try_from(data.len()).map_err(|_| {
        ExportError::Encode("the compressed mask is too large for one PNG chunk".into())
    })?;
    png.extend_from_slice(&len.to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.finalize().to_be_bytes());
    Ok(())
}

/// An 8-bit grayscale PNG around an already compressed zlib stream of scanlines.
fn encode_gray_png(width: u32, height: u32, zdata: &[u8]) -> Result<Vec<u8>, ExportError> {
    let mut png = Vec::with_capacity(zdata.len() + 64);
    png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 0 (grayscale), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    push_chunk(&mut png, b"IHDR", &ihdr)?;
    push_chunk(&mut png, b"IDAT", zdata)?;
    push_chunk(&mut png, b"IEND", &[])?;
    Ok(png)
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
    let img = crate::imageio::decode_dynamic(bytes)?;
    let (w, h) = (img.width(), img.height());
    if (w, h) != (width, height) {
        return Err(ExportError::SizeMismatch {
            mask_w: w,
            mask_h: h,
            image_w: width,
            image_h: height,
        });
    }
    let marked = |white: bool| {
        let marked = match polarity {
            Polarity::WhiteEdits => white,
            Polarity::BlackEdits => !white,
        };
        if marked { 255 } else { 0 }
    };
    let data = match img {
        // A grey mask (what the editor and most tools write) is read as it is: no RGBA copy of
        // a 48 MP mask.
        image::DynamicImage::ImageLuma8(grey) => grey
            .into_raw()
            .into_iter()
            .map(|v| marked(v >= 128))
            .collect(),
        other => other
            .into_rgba8()
            .pixels()
            .map(|p| {
                // Luma of the pixel; transparent counts as black.
                let [r, g, b, a] = p.0;
                let luma = (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000;
                marked(luma * u32::from(a) / 255 >= 128)
            })
            .collect(),
    };
    Mask::from_raw(width, height, data).ok_or(ExportError::SizeMismatch {
        mask_w: w,
        mask_h: h,
        image_w: width,
        image_h: height,
    })
}
