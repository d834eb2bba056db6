//! Reading and writing pictures: decoding with limits (so a hostile header or a decompression
//! bomb fails cleanly instead of eating memory), EXIF orientation, encoding, and data URIs.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbaImage};

mod damage;

pub use damage::{Damage, DamageKind, inspect as inspect_damage};

/// The longest side we open. 16384 covers every camera and leaves 8192x8192 comfortable.
pub const MAX_SIDE: u32 = 16_384;
/// The most memory a single decode may allocate.
pub const MAX_ALLOC: u64 = 1536 * 1024 * 1024;
/// The biggest file we read from disk.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// What went wrong with a picture's bytes.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the file is empty")]
    Empty,
    #[error("this is not a picture touchup can read (supported: JPEG, PNG, WebP, BMP, GIF, TIFF)")]
    UnknownFormat,
    #[error("the picture is {width}x{height} pixels; the largest touchup opens is {max}x{max}")]
    TooLarge { width: u32, height: u32, max: u32 },
    #[error("the picture is larger than the {max}x{max} pixels touchup opens")]
    TooLargeUnknown { max: u32 },
    #[error("the picture would need more than {} MiB of memory to decode", MAX_ALLOC / (1024 * 1024))]
    TooMuchMemory,
    #[error("the picture is damaged or cut short ({0})")]
    Corrupt(String),
    /// Cut short or damaged in a way decoders paper over (a JPEG's missing part comes out
    /// grey). [`decode`] refuses it; [`decode_anyway`] opens it once the user agreed.
    #[error("the picture is {0}")]
    Damaged(Damage),
    #[error("the picture uses a feature touchup cannot decode ({0})")]
    Unsupported(String),
    #[error("the file is {size} MiB; the largest touchup reads is {} MiB", MAX_FILE_BYTES / (1024 * 1024))]
    FileTooBig { size: u64 },
    #[error("could not read the file: {0}")]
    Io(String),
    #[error("could not encode the picture: {0}")]
    Encode(String),
    #[error("not a valid data URI: {0}")]
    DataUri(String),
}

impl ImageError {
    /// The damage, when the picture is cut short or damaged but could be opened anyway.
    pub fn damage(&self) -> Option<&Damage> {
        match self {
            ImageError::Damaged(d) => Some(d),
            _ => None,
        }
    }
}

/// An [`ImageError`] with the file it came from: "could not open photo.png: ...", or for a
/// damaged picture "photo.jpg is truncated: about 60 % of it is missing".
#[derive(Debug, thiserror::Error)]
pub struct OpenError {
    pub path: PathBuf,
    #[source]
    pub source: ImageError,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            ImageError::Damaged(d) => write!(f, "{} is {d}", file_label(&self.path)),
            other => write!(f, "could not open {}: {other}", file_label(&self.path)),
        }
    }
}

impl OpenError {
    /// The damage, when the file is cut short or damaged (see [`open_anyway`]).
    pub fn damage(&self) -> Option<&Damage> {
        self.source.damage()
    }
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn classify(err: image::ImageError, max_side: u32) -> ImageError {
    use image::error::{ImageError as E, LimitErrorKind};
    match err {
        E::Limits(l) => match l.kind() {
            LimitErrorKind::DimensionError => ImageError::TooLargeUnknown { max: max_side },
            _ => ImageError::TooMuchMemory,
        },
        E::Unsupported(u) => ImageError::Unsupported(u.to_string()),
        E::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            ImageError::Corrupt("the file ends too early".into())
        }
        E::IoError(e) => ImageError::Corrupt(e.to_string()),
        other => ImageError::Corrupt(other.to_string()),
    }
}

fn limits() -> image::Limits {
    DecodeLimits::default().to_image_limits()
}

/// How much a decode may take on. `Default` is what photos get; results from the network
/// get [`DecodeLimits::RESULT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_side: u32,
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_side: MAX_SIDE,
            max_alloc: MAX_ALLOC,
        }
    }
}

impl DecodeLimits {
    /// For result pictures from the service (Ideogram answers at most a few megapixels): a
    /// decompression bomb is refused from its header, and one decode stays under 512 MiB.
    pub const RESULT: DecodeLimits = DecodeLimits {
        max_side: 8192,
        max_alloc: 512 * 1024 * 1024,
    };

    fn to_image_limits(self) -> image::Limits {
        let mut l = image::Limits::default();
        l.max_image_width = Some(self.max_side);
        l.max_image_height = Some(self.max_side);
        l.max_alloc = Some(self.max_alloc);
        l
    }
}

/// Decodes any supported picture to RGBA8 with its EXIF orientation applied, so pixel (0, 0)
/// is the top-left of the picture as a viewer displays it. GIFs give their first frame. A
/// picture that is cut short or damaged is refused with [`ImageError::Damaged`].
pub fn decode(bytes: &[u8]) -> Result<RgbaImage, ImageError> {
    decode_dynamic(bytes).map(DynamicImage::into_rgba8)
}

/// Like [`decode`], but opens a cut-short or damaged picture as far as it goes (what is
/// missing comes out as the decoder fills it, usually grey). Only after the user agreed to a
/// warning naming the [`Damage`].
pub fn decode_anyway(bytes: &[u8]) -> Result<RgbaImage, ImageError> {
    decode_with(bytes, DecodeLimits::default(), true).map(DynamicImage::into_rgba8)
}

/// Like [`decode`], keeping the decoded pixel type.
pub fn decode_dynamic(bytes: &[u8]) -> Result<DynamicImage, ImageError> {
    decode_with(bytes, DecodeLimits::default(), false)
}

/// The decode behind the others: `limits` bound the size and memory, `accept_damaged` lets a
/// cut-short or damaged picture through.
pub fn decode_with(
    bytes: &[u8],
    limits: DecodeLimits,
    accept_damaged: bool,
) -> Result<DynamicImage, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    let max_side = limits.max_side;
    // Opening a damaged picture anyway: mend what a decoder would choke on (end markers,
    // checksums) and decode as far as the data goes.
    let mended = if accept_damaged {
        damage::mend(bytes)
    } else {
        None
    };
    let bytes = mended.as_deref().unwrap_or(bytes);
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Io(e.to_string()))?;
    if reader.format().is_none() {
        return Err(ImageError::UnknownFormat);
    }
    // Read the header alone first, so an absurd size is named in the message.
    if let Ok((width, height)) = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Io(e.to_string()))?
        .into_dimensions()
        && (width > max_side || height > max_side)
    {
        return Err(ImageError::TooLarge {
            width,
            height,
            max: max_side,
        });
    }
    if !accept_damaged && let Some(damage) = damage::inspect(bytes) {
        return Err(ImageError::Damaged(damage));
    }
    reader.limits(limits.to_image_limits());
    let mut decoder = reader.into_decoder().map_err(|e| classify(e, max_side))?;
    let (width, height) = decoder.dimensions();
    // The decoded buffer plus the RGBA8 copy we make of it must fit the budget; checked before
    // a single pixel is decoded, so a small file claiming a huge picture costs nothing.
    let decoded = decoder.total_bytes();
    let rgba = u64::from(width) * u64::from(height) * 4;
    let needed = if decoder.color_type() == image::ColorType::Rgba8 {
        decoded
    } else {
        decoded.saturating_add(rgba)
    };
    if needed > limits.max_alloc {
        return Err(ImageError::TooMuchMemory);
    }
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt("the picture has no pixels".into()));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| classify(e, max_side))?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Reads a file with a size cap.
pub fn read_file(path: &Path) -> Result<Vec<u8>, OpenError> {
    let wrap = |source| OpenError {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(|e| wrap(ImageError::Io(io_reason(&e))))?;
    if meta.is_dir() {
        return Err(wrap(ImageError::Io("it is a folder, not a file".into())));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(wrap(ImageError::FileTooBig {
            size: meta.len() / (1024 * 1024),
        }));
    }
    std::fs::read(path).map_err(|e| wrap(ImageError::Io(io_reason(&e))))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Opens a picture file: [`read_file`] then [`decode`], errors naming the file. A damaged
/// file fails with an error whose [`OpenError::damage`] says what is missing.
pub fn open(path: &Path) -> Result<RgbaImage, OpenError> {
    let bytes = read_file(path)?;
    decode(&bytes).map_err(|source| OpenError {
        path: path.to_path_buf(),
        source,
    })
}

/// Opens a damaged picture file as far as it goes ([`decode_anyway`]), after the user agreed.
pub fn open_anyway(path: &Path) -> Result<RgbaImage, OpenError> {
    let bytes = read_file(path)?;
    decode_anyway(&bytes).map_err(|source| OpenError {
        path: path.to_path_buf(),
        source,
    })
}

/// Output formats for results and exports.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Format {
    Jpg,
    #[default]
    Png,
    Webp,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }
}

/// Pictures above this many pixels are written as PNG with one fixed row filter (see
/// [`encode`]): about 4 megapixels and up.
pub const LARGE_PNG_PIXELS: u64 = 1 << 22;

/// Encodes RGBA pixels. JPEG drops alpha; WebP is lossless (the image crate's encoder). PNG is
/// the fast deflate level; above [`LARGE_PNG_PIXELS`] with the Sub filter on every row.
pub fn encode(img: &RgbaImage, format: Format, quality: u8) -> Result<Vec<u8>, ImageError> {
    let mut out = Cursor::new(Vec::new());
    let res = match format {
        Format::Png if u64::from(img.width()) * u64::from(img.height()) > LARGE_PNG_PIXELS => {
            use image::ImageEncoder as _;
            use image::codecs::png::{CompressionType, FilterType, PngEncoder};
            // Adaptive filtering tries every filter on every row; on a large photo that is most
            // of the encoding time, and one fixed filter costs a few per cent in size.
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
                .write_image(
                    img.as_raw(),
                    img.width(),
                    img.height(),
                    image::ExtendedColorType::Rgba8,
                )
        }
        Format::Png => img.write_to(&mut out, image::ImageFormat::Png),
        Format::Webp => img.write_to(&mut out, image::ImageFormat::WebP),
        Format::Jpg => {
            let rgb = DynamicImage::ImageRgba8(img.clone()).into_rgb8();
            let enc =
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100));
            rgb.write_with_encoder(enc)
        }
    };
    res.map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

/// `data:<mime>;base64,<bytes>`.
pub fn data_uri(bytes: &[u8], mime: &str) -> String {
    let mut out = String::with_capacity(13 + mime.len() + bytes.len().div_ceil(3) * 4);
    out.push_str("data:");
    out.push_str(mime);
    out.push_str(";base64,");
    base64::engine::general_purpose::STANDARD.encode_string(bytes, &mut out);
    out
}

/// Sniffs the MIME type of encoded picture bytes (for data URIs); PNG when unknown.
pub fn sniff_mime(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => "image/jpeg",
        Ok(image::ImageFormat::WebP) => "image/webp",
        Ok(image::ImageFormat::Gif) => "image/gif",
        Ok(image::ImageFormat::Bmp) => "image/bmp",
        Ok(image::ImageFormat::Tiff) => "image/tiff",
        _ => "image/png",
    }
}

/// The bytes inside a `data:...;base64,...` URI, or of a bare base64 string.
pub fn parse_data_uri(text: &str) -> Result<Vec<u8>, ImageError> {
    let text = text.trim();
    let payload = if let Some(rest) = text.strip_prefix("data:") {
        let (meta, payload) = rest
            .split_once(',')
            .ok_or_else(|| ImageError::DataUri("no ',' after the media type".into()))?;
        if !meta.ends_with(";base64") {
            return Err(ImageError::DataUri(
                "only base64 data URIs are supported".into(),
            ));
        }
        payload
    } else {
        text
    };
    let cleaned: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| ImageError::DataUri(e.to_string()))
}

/// A box-filtered downscale so the longest side is at most `max_side` (a copy when it already
/// fits). Used for display textures beyond the GPU's limit and for thumbnails.
pub fn fit_within(img: &RgbaImage, max_side: u32) -> RgbaImage {
    let (w, h) = img.dimensions();
    let longest = w.max(h);
    if longest <= max_side || max_side == 0 {
        return img.clone();
    }
    let scale = max_side as f64 / longest as f64;
    let nw = ((w as f64 * scale).round() as u32).max(1);
    let nh = ((h as f64 * scale).round() as u32).max(1);
    shrink(img, nw, nh)
}

/// Resizes to `width` x `height` with a triangle filter. A reduction by more than 4 times first
/// averages blocks of [`block_factor`] pixels a side ([`box_reduce`]), so a 48-megapixel photo
/// becomes a thumbnail in a few hundred milliseconds instead of seconds; smaller changes of
/// size are the triangle filter alone.
pub fn shrink(img: &RgbaImage, width: u32, height: u32) -> RgbaImage {
    let filter = image::imageops::FilterType::Triangle;
    match block_factor(img.dimensions(), (width, height)) {
        k if k >= 2 => image::imageops::resize(&box_reduce(img, k), width, height, filter),
        _ => image::imageops::resize(img, width, height, filter),
    }
}

/// The block side [`shrink`] averages first when going from `from` to `to` (1: none): half the
/// reduction, so the triangle filter that follows still has two or more pixels to blend.
pub fn block_factor(from: (u32, u32), to: (u32, u32)) -> u32 {
    let kx = from.0 / to.0.max(1);
    let ky = from.1 / to.1.max(1);
    (kx.min(ky) / 2).max(1)
}

/// Averages blocks of `k` x `k` pixels (rounded; the blocks at the right and bottom edges
/// average the pixels they have): a picture `k` times smaller, rows split over the cores.
pub fn box_reduce(img: &RgbaImage, k: u32) -> RgbaImage {
    let (w, h) = img.dimensions();
    let k = k.max(1);
    let (nw, nh) = (w.div_ceil(k), h.div_ceil(k));
    let (k, w, h, nw) = (k as usize, w as usize, h as usize, nw as usize);
    let mut out = vec![0u8; nw * nh as usize * 4];
    if out.is_empty() {
        return RgbaImage::new(nw as u32, nh);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8));
    let rows_per = (nh as usize).div_ceil(threads).max(1);
    let data = img.as_raw();
    std::thread::scope(|scope| {
        for (band, chunk) in out.chunks_mut(rows_per * nw * 4).enumerate() {
            scope.spawn(move || {
                let mut sums = vec![0u32; nw * 4];
                for (i, out_row) in chunk.chunks_exact_mut(nw * 4).enumerate() {
                    let y0 = (band * rows_per + i) * k;
                    let y1 = (y0 + k).min(h);
                    sums.fill(0);
                    for y in y0..y1 {
                        let row = &data[y * w * 4..(y + 1) * w * 4];
                        for (block, pixels) in row.chunks(k * 4).enumerate() {
                            let sum = &mut sums[block * 4..block * 4 + 4];
                            for p in pixels.chunks_exact(4) {
                                for c in 0..4 {
                                    sum[c] += u32::from(p[c]);
                                }
                            }
                        }
                    }
                    for (bx, (o, sum)) in out_row
                        .chunks_exact_mut(4)
                        .zip(sums.chunks_exact(4))
                        .enumerate()
                    {
                        let cols = (w - bx * k).min(k);
                        let count = (cols * (y1 - y0)) as u32;
                        for c in 0..4 {
                            o[c] = ((sum[c] + count / 2) / count.max(1)) as u8;
                        }
                    }
                }
            });
        }
    });
    RgbaImage::from_raw(nw as u32, nh, out).unwrap_or_else(|| RgbaImage::new(nw as u32, nh))
}

#[cfg(test)]
mod tests {
    use image::Rgba;

    use super::*;

    #[test]
    fn box_reduce_averages_whole_and_edge_blocks() {
        // 5x3 in blocks of 2: columns 0-1, 2-3, 4; rows 0-1, 2.
        let img = RgbaImage::from_fn(5, 3, |x, y| {
            Rgba([(x * 10 + y) as u8, 255, 0, (x * 50) as u8])
        });
        let small = box_reduce(&img, 2);
        assert_eq!(small.dimensions(), (3, 2));
        // Block (0, 0): values 0, 10, 1, 11 -> 5.5 rounds to 6; alpha 0, 50, 0, 50 -> 25.
        assert_eq!(small.get_pixel(0, 0).0, [6, 255, 0, 25]);
        // Block (2, 0) is one column wide: 40 and 41 -> 40.5 rounds to 41.
        assert_eq!(small.get_pixel(2, 0).0, [41, 255, 0, 200]);
        // Block (2, 1) is the single pixel (4, 2).
        assert_eq!(small.get_pixel(2, 1).0, [42, 255, 0, 200]);
        assert_eq!(box_reduce(&img, 1), img);
    }

    #[test]
    fn shrink_of_a_flat_picture_stays_flat_and_small_changes_skip_the_blocks() {
        let flat = RgbaImage::from_pixel(1000, 600, Rgba([12, 34, 56, 255]));
        let small = shrink(&flat, 100, 60);
        assert_eq!(small.dimensions(), (100, 60));
        assert!(small.pixels().all(|p| p.0 == [12, 34, 56, 255]));
        assert_eq!(block_factor((1000, 600), (100, 60)), 5);
        assert_eq!(block_factor((200, 100), (100, 50)), 1);
        let img = RgbaImage::from_fn(200, 100, |x, y| Rgba([x as u8, y as u8, 0, 255]));
        let filter = image::imageops::FilterType::Triangle;
        assert_eq!(
            shrink(&img, 100, 50),
            image::imageops::resize(&img, 100, 50, filter)
        );
        assert_eq!(fit_within(&flat, 250).dimensions(), (250, 150));
    }
}
