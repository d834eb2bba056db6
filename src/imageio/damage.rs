//! Spotting pictures that are cut short or damaged before they are decoded: a JPEG whose scan
//! data ends early or that lacks its end marker, a PNG whose chunks fail their checksum, stop
//! in the middle, or never reach `IEND`. Decoders fill such gaps silently (a JPEG's missing
//! lower part comes out grey), so the structure is walked here and what is missing estimated.

use std::fmt;

/// What is wrong with a damaged picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DamageKind {
    /// The file stops before the picture's data does.
    Truncated,
    /// The picture's data is all there, but the file's end marker (JPEG EOI, PNG IEND) is not.
    NoEndMarker,
    /// A PNG chunk's checksum does not match its contents.
    BadChecksum,
}

/// A damaged picture: what is wrong and, when it can be told, how much of the picture is
/// missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Damage {
    pub kind: DamageKind,
    /// 0..=100, the share of the picture's pixels (JPEG) or pixel data (PNG) that is missing.
    pub missing_percent: Option<u8>,
    /// Which part is damaged, e.g. "chunk IDAT" (for checksum failures).
    pub part: Option<String>,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.missing_percent) {
            (DamageKind::NoEndMarker, _) => {
                write!(
                    f,
                    "truncated: its end marker is missing (the picture may be complete)"
                )
            }
            (DamageKind::Truncated, Some(p)) if p >= 1 => {
                write!(f, "truncated: about {p} % of it is missing")
            }
            (DamageKind::Truncated, Some(_)) => {
                write!(f, "truncated: less than 1 % of it is missing")
            }
            (DamageKind::Truncated, None) => write!(f, "truncated: its end is missing"),
            (DamageKind::BadChecksum, missing) => {
                let part = self.part.as_deref().unwrap_or("a chunk");
                write!(f, "damaged: {part} fails its checksum")?;
                match missing {
                    Some(p) if p >= 1 => write!(f, ", and about {p} % of the picture is missing"),
                    _ => Ok(()),
                }
            }
        }
    }
}

/// The damage in encoded picture bytes, if any (JPEG and PNG are checked; other formats are
/// left to their decoders, which refuse short files).
pub fn inspect(bytes: &[u8]) -> Option<Damage> {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        inspect_jpeg(bytes)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        inspect_png(bytes)
    } else {
        None
    }
}

// ---- JPEG ----

/// Where a JPEG's structure ends.
#[derive(Debug, PartialEq)]
enum JpegEnd {
    /// EOI found.
    Complete,
    /// The file stops inside a header segment or before any scan.
    CutInHeaders,
    /// The file stops inside entropy-coded scan data.
    CutInScan,
    /// Scan data ended cleanly but no EOI followed.
    NoEoi,
}

fn walk_jpeg(bytes: &[u8]) -> JpegEnd {
    let mut pos = 2;
    let mut scans = 0usize;
    loop {
        // Skip fill bytes before a marker.
        while pos < bytes.len() && bytes[pos] == 0xFF && bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        if pos + 1 >= bytes.len() {
            return if scans > 0 {
                JpegEnd::NoEoi
            } else {
                JpegEnd::CutInHeaders
            };
        }
        if bytes[pos] != 0xFF {
            // Not a marker where one should be: leave it to the decoder.
            return JpegEnd::Complete;
        }
        let marker = bytes[pos + 1];
        pos += 2;
        match marker {
            0xD9 => return JpegEnd::Complete,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(len) = bytes
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            return JpegEnd::CutInHeaders;
        };
        if len < 2 || pos + len > bytes.len() {
            return if len < 2 {
                JpegEnd::Complete
            } else {
                JpegEnd::CutInHeaders
            };
        }
        pos += len;
        if marker == 0xDA {
            scans += 1;
            // Entropy-coded data: runs until a marker other than a stuffed 0xFF00 or RSTn.
            loop {
                match bytes[pos..].iter().position(|&b| b == 0xFF) {
                    None => return JpegEnd::CutInScan,
                    Some(i) => pos += i,
                }
                match bytes.get(pos + 1) {
                    None => return JpegEnd::CutInScan,
                    Some(0x00) | Some(0xD0..=0xD7) | Some(0xFF) => pos += 1,
                    Some(_) => break,
                }
            }
        }
    }
}

fn inspect_jpeg(bytes: &[u8]) -> Option<Damage> {
    let kind = match walk_jpeg(bytes) {
        JpegEnd::Complete => return None,
        JpegEnd::CutInHeaders => {
            return Some(Damage {
                kind: DamageKind::Truncated,
                missing_percent: Some(100),
                part: None,
            });
        }
        JpegEnd::CutInScan | JpegEnd::NoEoi => DamageKind::Truncated,
    };
    let missing = jpeg_missing_rows(bytes);
    let kind = if kind == DamageKind::Truncated && missing == Some(0) {
        // The scan data is all there: only the end marker is gone.
        DamageKind::NoEndMarker
    } else {
        kind
    };
    Some(Damage {
        kind,
        missing_percent: missing,
        part: None,
    })
}

/// The share of rows, from the bottom, that the decoder had to fill in (it fills them with
/// mid-grey, which is what a designer would see).
fn jpeg_missing_rows(bytes: &[u8]) -> Option<u8> {
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Jpeg);
    reader.limits(super::limits());
    let img = reader.decode().ok()?;
    let img = img.into_rgb8();
    let (w, h) = img.dimensions();
    if h == 0 || w == 0 {
        return None;
    }
    let grey_row = |y: u32| (0..w).all(|x| img.get_pixel(x, y).0 == [128, 128, 128]);
    let mut filled = 0u32;
    while filled < h && grey_row(h - 1 - filled) {
        filled += 1;
    }
    Some(percent(u64::from(filled), u64::from(h)))
}

fn percent(part: u64, whole: u64) -> u8 {
    if whole == 0 {
        return 100;
    }
    let p = (part.min(whole) as f64 / whole as f64 * 100.0).round();
    p as u8
}

// ---- PNG ----

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

struct PngHeader {
    width: u32,
    height: u32,
    bits_per_pixel: u32,
    interlaced: bool,
}

fn parse_ihdr(data: &[u8]) -> Option<PngHeader> {
    if data.len() < 13 {
        return None;
    }
    let width = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let height = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
    let depth = u32::from(data[8]);
    let channels = match data[9] {
        0 | 3 => 1,
        2 => 3,
        4 => 2,
        6 => 4,
        _ => return None,
    };
    Some(PngHeader {
        width,
        height,
        bits_per_pixel: depth * channels,
        interlaced: data[12] == 1,
    })
}

/// The size of the filtered scanlines the IDAT stream must inflate to.
fn expected_raw_len(h: &PngHeader) -> u64 {
    let row = |w: u64| {
        if w == 0 {
            0
        } else {
            1 + w.saturating_mul(u64::from(h.bits_per_pixel)).div_ceil(8)
        }
    };
    let (w, ht) = (u64::from(h.width), u64::from(h.height));
    if !h.interlaced {
        return row(w).saturating_mul(ht);
    }
    // Adam7: (x start, y start, x step, y step) of each pass.
    const PASSES: [(u64, u64, u64, u64); 7] = [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ];
    PASSES
        .iter()
        .map(|&(x0, y0, dx, dy)| {
            let pw = w.saturating_sub(x0).div_ceil(dx);
            let ph = ht.saturating_sub(y0).div_ceil(dy);
            row(pw).saturating_mul(ph)
        })
        .fold(0u64, u64::saturating_add)
}

/// How many bytes the IDAT stream inflates to, stopping at `cap`; the output is discarded a
/// buffer at a time, so a bomb costs time bounded by `cap`, never memory.
fn inflated_len(idat: &[&[u8]], cap: u64) -> u64 {
    let mut inflate = zlib_rs::Inflate::new(true, 15);
    let mut out = vec![0u8; 64 * 1024];
    let mut parts = idat.iter();
    let mut input: &[u8] = &[];
    loop {
        if input.is_empty()
            && let Some(p) = parts.next()
        {
            input = p;
            continue;
        }
        let (in_before, out_before) = (inflate.total_in(), inflate.total_out());
        let status = inflate.decompress(input, &mut out, zlib_rs::InflateFlush::NoFlush);
        let consumed = ((inflate.total_in() - in_before) as usize).min(input.len());
        input = &input[consumed..];
        let produced = inflate.total_out() - out_before;
        match status {
            Ok(zlib_rs::Status::StreamEnd) | Err(_) => break,
            _ if inflate.total_out() >= cap => break,
            // No progress: more input is needed and there is none left.
            _ if consumed == 0 && produced == 0 && input.is_empty() && parts.len() == 0 => break,
            _ if consumed == 0 && produced == 0 && !input.is_empty() => break,
            _ => {}
        }
    }
    inflate.total_out().min(cap)
}

fn inspect_png(bytes: &[u8]) -> Option<Damage> {
    let mut pos = PNG_SIGNATURE.len();
    let mut header: Option<PngHeader> = None;
    let mut idat: Vec<&[u8]> = Vec::new();
    let mut bad_crc: Option<String> = None;
    let mut cut = false;
    let mut saw_iend = false;
    while pos < bytes.len() {
        let Some(len_bytes) = bytes.get(pos..pos + 8) else {
            cut = true;
            break;
        };
        let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        let kind = &len_bytes[4..8];
        let data_start = pos + 8;
        let data_end = data_start.saturating_add(len as usize);
        let name = String::from_utf8_lossy(kind).into_owned();
        if len > 0x7FFF_FFFF || data_end.saturating_add(4) > bytes.len() {
            // The chunk runs past the end of the file: keep what is there of an IDAT.
            if kind == b"IDAT" && data_start < bytes.len() {
                idat.push(&bytes[data_start..bytes.len().min(data_end)]);
            }
            cut = true;
            break;
        }
        let data = &bytes[data_start..data_end];
        let stored = u32::from_be_bytes([
            bytes[data_end],
            bytes[data_end + 1],
            bytes[data_end + 2],
            bytes[data_end + 3],
        ]);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        if crc.finalize() != stored && bad_crc.is_none() {
            bad_crc = Some(format!("chunk {name}"));
        }
        match kind {
            b"IHDR" if header.is_none() => header = parse_ihdr(data),
            b"IDAT" => idat.push(data),
            b"IEND" => {
                saw_iend = true;
                break;
            }
            _ => {}
        }
        pos = data_end + 4;
    }
    if bad_crc.is_none() && !cut && saw_iend {
        return None;
    }
    // How much of the pixel data is there.
    let missing = header.as_ref().map(|h| {
        let expected = expected_raw_len(h);
        let got = inflated_len(&idat, expected);
        percent(expected - got.min(expected), expected)
    });
    let kind = if bad_crc.is_some() {
        DamageKind::BadChecksum
    } else if missing == Some(0) && !cut {
        DamageKind::NoEndMarker
    } else {
        DamageKind::Truncated
    };
    Some(Damage {
        kind,
        missing_percent: missing.or(if cut { None } else { Some(0) }),
        part: bad_crc,
    })
}

/// Bytes a decoder will take for a damaged PNG, for opening it anyway: its complete chunks
/// with their checksums made right and an `IEND` added. `None` for other formats (the JPEG
/// decoder already fills what is missing with grey).
pub fn mend(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(PNG_SIGNATURE) {
        return None;
    }
    let mut out = PNG_SIGNATURE.to_vec();
    let mut pos = PNG_SIGNATURE.len();
    while let Some(head) = bytes.get(pos..pos + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        if kind == b"IEND" {
            break;
        }
        let start = pos + 8;
        let end = start.saturating_add(len).min(bytes.len());
        let data = &bytes[start..end];
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
        if end < start.saturating_add(len) {
            break;
        }
        pos = end + 4;
    }
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(b"IEND");
    out.extend_from_slice(&0xAE42_6082u32.to_be_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam7_sizes_add_up() {
        let h = PngHeader {
            width: 1,
            height: 1,
            bits_per_pixel: 8,
            interlaced: true,
        };
        // Only the first pass holds the single pixel: one filter byte and one sample.
        assert_eq!(expected_raw_len(&h), 2);
        let h = PngHeader {
            width: 8,
            height: 8,
            bits_per_pixel: 8,
            interlaced: true,
        };
        let passes = [(1, 1), (1, 1), (2, 1), (2, 2), (4, 2), (4, 4), (8, 4)];
        let sum: u64 = passes.iter().map(|&(w, h)| (1 + w) * h).sum();
        assert_eq!(expected_raw_len(&h), sum);
    }

    #[test]
    fn other_formats_are_left_to_their_decoders() {
        assert_eq!(inspect(b"GIF89a"), None);
        assert_eq!(inspect(b""), None);
    }
}
