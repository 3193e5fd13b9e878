//! Pixel conversions from what webcams send to the RGB888 frames the pipeline reads.
//!
//! Pure functions over byte slices, compiled without any feature, so the default `cargo test`
//! checks them even on a machine with no camera and no V4L2 headers.

use std::borrow::Cow;

use image::ImageDecoder;

/// Why a camera buffer could not be turned into RGB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConvertError {
    /// The buffer is shorter than the frame size says.
    ShortFrame { expected: usize, got: usize },
    /// YUYV packs two pixels in four bytes, so the width must be even.
    OddWidth(u32),
    /// The JPEG decoder refused the data.
    Jpeg(String),
    /// The JPEG decoded, but its size is not the size the camera negotiated.
    JpegSize {
        expected: (u32, u32),
        got: (u32, u32),
    },
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConvertError::ShortFrame { expected, got } => {
                write!(f, "frame holds {got} bytes, expected at least {expected}")
            }
            ConvertError::OddWidth(w) => write!(f, "YUYV frames need an even width, got {w}"),
            ConvertError::Jpeg(e) => write!(f, "cannot decode MJPEG frame: {e}"),
            ConvertError::JpegSize { expected, got } => write!(
                f,
                "MJPEG frame is {}x{}, expected {}x{}",
                got.0, got.1, expected.0, expected.1
            ),
        }
    }
}

impl std::error::Error for ConvertError {}

#[inline]
fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// One BT.601 limited-range ("studio swing", Y 16..235, Cb/Cr 16..240) YCbCr sample as RGB,
/// in the 8-bit fixed-point form most capture stacks use.
#[inline]
pub fn ycbcr_bt601_limited_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let c = 298 * (i32::from(y) - 16);
    let d = i32::from(cb) - 128;
    let e = i32::from(cr) - 128;
    [
        clamp_u8((c + 409 * e + 128) >> 8),
        clamp_u8((c - 100 * d - 208 * e + 128) >> 8),
        clamp_u8((c + 516 * d + 128) >> 8),
    ]
}

/// Converts a packed YUYV 4:2:2 frame (`Y0 U Y1 V` per pixel pair, BT.601 limited range, what
/// UVC webcams send) to packed RGB888.
///
/// `stride` is the driver's bytes per line (`bytesperline`), at least `2 * width`; `out` is
/// resized to `width * height * 3`.
pub fn yuyv_to_rgb888(
    src: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    out: &mut Vec<u8>,
) -> Result<(), ConvertError> {
    if !width.is_multiple_of(2) {
        return Err(ConvertError::OddWidth(width));
    }
    let (w, h) = (width as usize, height as usize);
    let row_bytes = 2 * w;
    let stride = stride.max(row_bytes);
    let needed = if h == 0 {
        0
    } else {
        (h - 1) * stride + row_bytes
    };
    if src.len() < needed {
        return Err(ConvertError::ShortFrame {
            expected: needed,
            got: src.len(),
        });
    }
    out.resize(w * h * 3, 0);
    if w == 0 {
        return Ok(());
    }
    for (row, dst) in out.chunks_exact_mut(w * 3).enumerate() {
        let line = &src[row * stride..row * stride + row_bytes];
        for (quad, px) in line.chunks_exact(4).zip(dst.chunks_exact_mut(6)) {
            let (y0, u, y1, v) = (quad[0], quad[1], quad[2], quad[3]);
            px[..3].copy_from_slice(&ycbcr_bt601_limited_to_rgb(y0, u, v));
            px[3..].copy_from_slice(&ycbcr_bt601_limited_to_rgb(y1, u, v));
        }
    }
    Ok(())
}

/// The standard Huffman tables of the JPEG spec (ITU T.81 annex K.3), as one DHT segment.
/// Motion-JPEG streams (AVI1, and many UVC webcams) leave them out and expect the decoder to
/// assume these.
mod std_dht {
    pub const LUMA_DC_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    pub const CHROMA_DC_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    pub const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    pub const LUMA_AC_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D];
    pub const LUMA_AC_VALUES: [u8; 162] = [
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
        0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52,
        0xD1, 0xF0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25,
        0x26, 0x27, 0x28, 0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45,
        0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64,
        0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83,
        0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
        0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6,
        0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3,
        0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8,
        0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
    ];
    pub const CHROMA_AC_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
    pub const CHROMA_AC_VALUES: [u8; 162] = [
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
        0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33,
        0x52, 0xF0, 0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18,
        0x19, 0x1A, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44,
        0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63,
        0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A,
        0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
        0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4,
        0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA,
        0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7,
        0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
    ];

    /// The whole DHT segment, marker included: four tables (class/id 0x00, 0x10, 0x01, 0x11).
    pub fn segment() -> Vec<u8> {
        let tables: [(u8, &[u8], &[u8]); 4] = [
            (0x00, &LUMA_DC_BITS, &DC_VALUES),
            (0x10, &LUMA_AC_BITS, &LUMA_AC_VALUES),
            (0x01, &CHROMA_DC_BITS, &DC_VALUES),
            (0x11, &CHROMA_AC_BITS, &CHROMA_AC_VALUES),
        ];
        let body: usize = tables.iter().map(|(_, b, v)| 1 + b.len() + v.len()).sum();
        let len = (2 + body) as u16;
        let mut seg = Vec::with_capacity(2 + usize::from(len));
        seg.extend_from_slice(&[0xFF, 0xC4]);
        seg.extend_from_slice(&len.to_be_bytes());
        for (class_id, bits, values) in tables {
            seg.push(class_id);
            seg.extend_from_slice(bits);
            seg.extend_from_slice(values);
        }
        seg
    }
}

/// Where the headers of a JPEG stand with respect to Huffman tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HuffmanTables {
    /// A DHT segment comes before the first scan.
    Present,
    /// The first scan (SOS) starts at this offset and no DHT came before it.
    MissingBeforeScan(usize),
    /// The header could not be walked (not a JPEG, truncated): leave it to the decoder.
    Unknown,
}

fn find_huffman_tables(jpeg: &[u8]) -> HuffmanTables {
    if jpeg.len() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 {
        return HuffmanTables::Unknown;
    }
    let mut pos = 2;
    loop {
        // A marker is 0xFF (possibly repeated as fill) followed by its code.
        if jpeg.get(pos) != Some(&0xFF) {
            return HuffmanTables::Unknown;
        }
        let start = pos;
        while jpeg.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&code) = jpeg.get(pos) else {
            return HuffmanTables::Unknown;
        };
        pos += 1;
        match code {
            0xC4 => return HuffmanTables::Present,
            0xDA => return HuffmanTables::MissingBeforeScan(start),
            0xD9 => return HuffmanTables::Unknown,
            // Markers without a length field.
            0x01 | 0xD0..=0xD8 => continue,
            _ => {
                let (Some(&hi), Some(&lo)) = (jpeg.get(pos), jpeg.get(pos + 1)) else {
                    return HuffmanTables::Unknown;
                };
                let len = usize::from(u16::from_be_bytes([hi, lo]));
                if len < 2 {
                    return HuffmanTables::Unknown;
                }
                pos += len;
            }
        }
    }
}

/// The JPEG with the standard Huffman tables inserted before the first scan when its header has
/// none (as many MJPEG webcams send it); the input unchanged otherwise.
pub fn with_standard_huffman_tables(jpeg: &[u8]) -> Cow<'_, [u8]> {
    match find_huffman_tables(jpeg) {
        HuffmanTables::MissingBeforeScan(sos) => {
            let dht = std_dht::segment();
            let mut out = Vec::with_capacity(jpeg.len() + dht.len());
            out.extend_from_slice(&jpeg[..sos]);
            out.extend_from_slice(&dht);
            out.extend_from_slice(&jpeg[sos..]);
            Cow::Owned(out)
        }
        HuffmanTables::Present | HuffmanTables::Unknown => Cow::Borrowed(jpeg),
    }
}

/// Decodes one MJPEG frame to packed RGB888 into `out` (resized to `width * height * 3`).
///
/// Frames without Huffman tables get the standard ones; grayscale JPEGs are expanded to RGB. The
/// decoded size must be `width` x `height`.
pub fn mjpeg_to_rgb888(
    jpeg: &[u8],
    width: u32,
    height: u32,
    out: &mut Vec<u8>,
) -> Result<(), ConvertError> {
    let jpeg = with_standard_huffman_tables(jpeg);
    let decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&*jpeg))
        .map_err(|e| ConvertError::Jpeg(e.to_string()))?;
    let got = decoder.dimensions();
    if got != (width, height) {
        return Err(ConvertError::JpegSize {
            expected: (width, height),
            got,
        });
    }
    let pixels = width as usize * height as usize;
    match decoder.color_type() {
        image::ColorType::Rgb8 => {
            out.resize(pixels * 3, 0);
            decoder
                .read_image(out)
                .map_err(|e| ConvertError::Jpeg(e.to_string()))?;
        }
        image::ColorType::L8 => {
            let mut gray = vec![0u8; pixels];
            decoder
                .read_image(&mut gray)
                .map_err(|e| ConvertError::Jpeg(e.to_string()))?;
            out.clear();
            out.extend(gray.iter().flat_map(|&l| [l, l, l]));
        }
        other => {
            return Err(ConvertError::Jpeg(format!(
                "unsupported JPEG colour type {other:?} (expected YCbCr or grayscale)"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse of the conversion, BT.601 limited range, rounded: what a camera would send
    /// for an RGB colour.
    fn rgb_to_ycbcr_limited([r, g, b]: [u8; 3]) -> (u8, u8, u8) {
        let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
        let y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
        let cb = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
        let cr = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
        (y.round() as u8, cb.round() as u8, cr.round() as u8)
    }

    #[test]
    fn yuyv_known_values() {
        // Black, white, and the limited-range primaries.
        assert_eq!(ycbcr_bt601_limited_to_rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(ycbcr_bt601_limited_to_rgb(235, 128, 128), [255, 255, 255]);
        assert_eq!(ycbcr_bt601_limited_to_rgb(126, 128, 128), [128, 128, 128]);
        // Below black and above white clamp instead of wrapping.
        assert_eq!(ycbcr_bt601_limited_to_rgb(0, 128, 128), [0, 0, 0]);
        assert_eq!(ycbcr_bt601_limited_to_rgb(255, 128, 128), [255, 255, 255]);
        for rgb in [
            [255, 0, 0],
            [0, 255, 0],
            [0, 0, 255],
            [255, 255, 0],
            [0, 255, 255],
            [255, 0, 255],
            [200, 100, 50],
        ] {
            let (y, cb, cr) = rgb_to_ycbcr_limited(rgb);
            let back = ycbcr_bt601_limited_to_rgb(y, cb, cr);
            for c in 0..3 {
                assert!(
                    back[c].abs_diff(rgb[c]) <= 2,
                    "{rgb:?} -> ({y},{cb},{cr}) -> {back:?}"
                );
            }
        }
        // The textbook limited-range red: Y=81 Cb=90 Cr=240.
        assert_eq!(ycbcr_bt601_limited_to_rgb(81, 90, 240), [255, 0, 0]);
    }

    #[test]
    fn yuyv_frame_layout_and_stride() {
        // 4x2 frame with 4 bytes of padding per line: left pair red/red, right pair white/black
        // on the first row; second row all gray.
        let (ry, ru, rv) = (81, 90, 240);
        let mut src = vec![
            ry, ru, ry, rv, 235, 128, 16, 128, 0xEE, 0xEE, 0xEE, 0xEE, //
            126, 128, 126, 128, 126, 128, 126, 128, 0xEE, 0xEE, 0xEE, 0xEE,
        ];
        let mut out = Vec::new();
        yuyv_to_rgb888(&src, 4, 2, 12, &mut out).unwrap();
        assert_eq!(
            out,
            [
                255, 0, 0, 255, 0, 0, 255, 255, 255, 0, 0, 0, //
                128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128
            ]
        );
        // The last line's padding may be missing.
        src.truncate(20);
        yuyv_to_rgb888(&src, 4, 2, 12, &mut out).unwrap();
        // One byte less is a short frame.
        src.truncate(19);
        assert_eq!(
            yuyv_to_rgb888(&src, 4, 2, 12, &mut out),
            Err(ConvertError::ShortFrame {
                expected: 20,
                got: 19
            })
        );
        assert_eq!(
            yuyv_to_rgb888(&[0; 64], 3, 2, 0, &mut out),
            Err(ConvertError::OddWidth(3))
        );
    }

    fn test_image(w: u32, h: u32) -> image::RgbImage {
        // Smooth content so JPEG loss stays small: gradients and a flat block.
        image::RgbImage::from_fn(w, h, |x, y| {
            if x >= w / 2 && y >= h / 2 {
                image::Rgb([30, 160, 220])
            } else {
                image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
            }
        })
    }

    fn encode_jpeg(img: &image::RgbImage, quality: u8) -> Vec<u8> {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality)
            .encode_image(img)
            .unwrap();
        jpeg
    }

    /// Removes every DHT segment from a JPEG header, as MJPEG webcams send their frames.
    fn strip_dht(jpeg: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        let mut pos = 2;
        while pos + 4 <= jpeg.len() {
            assert_eq!(jpeg[pos], 0xFF);
            let code = jpeg[pos + 1];
            if code == 0xDA {
                break;
            }
            let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
            if code != 0xC4 {
                out.extend_from_slice(&jpeg[pos..pos + 2 + len]);
            }
            pos += 2 + len;
        }
        out.extend_from_slice(&jpeg[pos..]);
        out
    }

    #[test]
    fn mjpeg_decodes_an_encoded_frame() {
        let img = test_image(64, 48);
        let jpeg = encode_jpeg(&img, 95);
        let mut out = Vec::new();
        mjpeg_to_rgb888(&jpeg, 64, 48, &mut out).unwrap();
        assert_eq!(out.len(), 64 * 48 * 3);
        let max_err = out
            .iter()
            .zip(img.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        let mean_err = out
            .iter()
            .zip(img.as_raw())
            .map(|(a, b)| u32::from(a.abs_diff(*b)))
            .sum::<u32>() as f64
            / out.len() as f64;
        assert!(
            mean_err < 2.0 && max_err < 40,
            "mean {mean_err}, max {max_err}"
        );
        // A pixel well inside the flat block comes back almost exactly.
        let i = (40 * 64 + 50) * 3;
        for (c, want) in [30u8, 160, 220].into_iter().enumerate() {
            assert!(out[i + c].abs_diff(want) <= 3, "{:?}", &out[i..i + 3]);
        }
    }

    #[test]
    fn mjpeg_without_huffman_tables_decodes_like_the_original() {
        let img = test_image(32, 16);
        let jpeg = encode_jpeg(&img, 90);
        let stripped = strip_dht(&jpeg);
        assert!(stripped.len() < jpeg.len());
        assert_eq!(find_huffman_tables(&jpeg), HuffmanTables::Present);
        assert!(matches!(
            find_huffman_tables(&stripped),
            HuffmanTables::MissingBeforeScan(_)
        ));
        // Without the fix-up the decoder cannot read the frame.
        let plain = image::load_from_memory_with_format(&stripped, image::ImageFormat::Jpeg);
        assert!(plain.is_err(), "decoder accepted a JPEG with no DHT");

        let (mut want, mut got) = (Vec::new(), Vec::new());
        mjpeg_to_rgb888(&jpeg, 32, 16, &mut want).unwrap();
        mjpeg_to_rgb888(&stripped, 32, 16, &mut got).unwrap();
        assert_eq!(want, got);
        // Frames that have their tables are passed through untouched.
        assert!(matches!(
            with_standard_huffman_tables(&jpeg),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn standard_dht_segment_is_well_formed() {
        let seg = std_dht::segment();
        assert_eq!(&seg[..2], &[0xFF, 0xC4]);
        assert_eq!(
            usize::from(u16::from_be_bytes([seg[2], seg[3]])),
            seg.len() - 2
        );
        assert_eq!(seg.len(), 420);
        for (bits, values) in [
            (&std_dht::LUMA_DC_BITS[..], &std_dht::DC_VALUES[..]),
            (&std_dht::CHROMA_DC_BITS[..], &std_dht::DC_VALUES[..]),
            (&std_dht::LUMA_AC_BITS[..], &std_dht::LUMA_AC_VALUES[..]),
            (&std_dht::CHROMA_AC_BITS[..], &std_dht::CHROMA_AC_VALUES[..]),
        ] {
            let count: usize = bits.iter().map(|&b| usize::from(b)).sum();
            assert_eq!(count, values.len());
        }
    }

    #[test]
    fn mjpeg_errors_are_reported_not_panics() {
        let mut out = Vec::new();
        assert!(matches!(
            mjpeg_to_rgb888(b"not a jpeg at all", 4, 4, &mut out),
            Err(ConvertError::Jpeg(_))
        ));
        let jpeg = encode_jpeg(&test_image(16, 16), 80);
        assert_eq!(
            mjpeg_to_rgb888(&jpeg, 32, 16, &mut out),
            Err(ConvertError::JpegSize {
                expected: (32, 16),
                got: (16, 16)
            })
        );
        // Truncated frames (a webcam dropping USB packets) fail cleanly too.
        let cut = &jpeg[..jpeg.len() / 3];
        let _ = mjpeg_to_rgb888(cut, 16, 16, &mut out);
        for len in 0..40.min(jpeg.len()) {
            let _ = find_huffman_tables(&jpeg[..len]);
            let _ = with_standard_huffman_tables(&jpeg[..len]);
        }
    }

    #[test]
    fn grayscale_jpeg_expands_to_rgb() {
        let gray = image::GrayImage::from_fn(16, 8, |x, _| image::Luma([(x * 16) as u8]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
            .encode_image(&gray)
            .unwrap();
        let mut out = Vec::new();
        mjpeg_to_rgb888(&jpeg, 16, 8, &mut out).unwrap();
        assert_eq!(out.len(), 16 * 8 * 3);
        for px in out.chunks_exact(3) {
            assert!(px[0] == px[1] && px[1] == px[2]);
        }
    }
}
