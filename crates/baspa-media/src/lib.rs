//! Images (PF-5, CM-8): responsive WebP variants made from our own decoded pixels. The upload
//! checks (`baspa-actions::uploads`) have already accepted and re-encoded the file; this crate
//! decodes it, applies the camera's orientation, resizes with `fast_image_resize` and encodes
//! lossy WebP with libwebp (`webp.rs`, the only unsafe code in Baspa). No IO, no database.

mod webp;

use std::io::Cursor;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageDecoder, ImageReader};

/// Widths of the responsive variants; an image gets those narrower than itself, plus `full`.
pub const VARIANT_WIDTHS: [u32; 3] = [480, 960, 1600];

/// Default lossy quality (0–100): visually lossless for photos at a third of the JPEG bytes.
pub const DEFAULT_QUALITY: f32 = 80.0;

/// One encoded variant: `w480`, `w960`, `w1600` or `full` (the original size).
#[derive(Debug, Clone)]
pub struct Variant {
    pub label: String,
    pub width: u32,
    pub height: u32,
    pub webp: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("not a readable image: {0}")]
    Decode(String),
    #[error("image too large: {0}×{1} pixels")]
    TooLarge(u32, u32),
    #[error("resizing failed: {0}")]
    Resize(String),
    #[error("WebP encoding failed")]
    Encode,
}

/// Images above this many pixels are refused rather than exhausting memory (a 100 MP limit
/// covers every camera the newsrooms use).
const MAX_PIXELS: u64 = 100_000_000;

/// Decodes `original` (JPEG, PNG, GIF or WebP) with its EXIF orientation applied.
pub fn decode(original: &[u8]) -> Result<DynamicImage, MediaError> {
    let reader =
        ImageReader::new(Cursor::new(original)).with_guessed_format().map_err(|e| MediaError::Decode(e.to_string()))?;
    let (w, h) = reader.into_dimensions().map_err(|e| MediaError::Decode(e.to_string()))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(MediaError::TooLarge(w, h));
    }
    let reader =
        ImageReader::new(Cursor::new(original)).with_guessed_format().map_err(|e| MediaError::Decode(e.to_string()))?;
    let mut decoder = reader.into_decoder().map_err(|e| MediaError::Decode(e.to_string()))?;
    let orientation = decoder.orientation().ok();
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| MediaError::Decode(e.to_string()))?;
    if let Some(o) = orientation {
        picture.apply_orientation(o);
    }
    Ok(picture)
}

/// WebP variants of an image at each of `widths` narrower than it, and at its own size.
pub fn webp_variants(original: &[u8], widths: &[u32], quality: f32) -> Result<Vec<Variant>, MediaError> {
    let picture = decode(original)?;
    let has_alpha = picture.color().has_alpha();
    let pixels = if has_alpha {
        DynamicImage::ImageRgba8(picture.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(picture.to_rgb8())
    };
    let (width, height) = (pixels.width(), pixels.height());
    let mut out = Vec::new();
    let mut resizer = Resizer::new();
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    let pixel_type = if has_alpha { PixelType::U8x4 } else { PixelType::U8x3 };
    for &target in widths.iter().filter(|w| **w < width) {
        let target_height = ((u64::from(height) * u64::from(target) + u64::from(width) / 2) / u64::from(width)).max(1);
        let target_height = u32::try_from(target_height).map_err(|e| MediaError::Resize(e.to_string()))?;
        let mut small = Image::new(target, target_height, pixel_type);
        resizer.resize(&pixels, &mut small, &options).map_err(|e| MediaError::Resize(e.to_string()))?;
        let webp = webp::encode(small.buffer(), target, target_height, has_alpha, quality)?;
        out.push(Variant { label: format!("w{target}"), width: target, height: target_height, webp });
    }
    let full = webp::encode(pixels.as_bytes(), width, height, has_alpha, quality)?;
    out.push(Variant { label: "full".to_owned(), width, height, webp: full });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).expect("jpeg");
        out.into_inner()
    }

    #[test]
    fn pf5_a_photo_gets_webp_variants_narrower_than_itself_and_its_full_size() {
        let variants = webp_variants(&jpeg(1200, 800), &VARIANT_WIDTHS, DEFAULT_QUALITY).expect("variants");
        let labels: Vec<(&str, u32, u32)> = variants.iter().map(|v| (v.label.as_str(), v.width, v.height)).collect();
        assert_eq!(labels, vec![("w480", 480, 320), ("w960", 960, 640), ("full", 1200, 800)]);
        for v in &variants {
            assert_eq!(&v.webp[..4], b"RIFF");
            assert_eq!(&v.webp[8..12], b"WEBP");
            let back = image::load_from_memory(&v.webp).expect("decodes");
            assert_eq!((back.width(), back.height()), (v.width, v.height));
        }
    }

    #[test]
    fn pf5_transparency_survives_and_garbage_is_a_clear_error() {
        let img = image::RgbaImage::from_fn(600, 300, |x, _| image::Rgba([10, 20, 30, if x < 300 { 0 } else { 255 }]));
        let mut png = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(img).write_to(&mut png, image::ImageFormat::Png).expect("png");
        let variants = webp_variants(&png.into_inner(), &VARIANT_WIDTHS, DEFAULT_QUALITY).expect("variants");
        let small = image::load_from_memory(&variants[0].webp).expect("decodes").to_rgba8();
        assert_eq!(small.get_pixel(10, 10)[3], 0, "transparent stays transparent");
        assert!(matches!(webp_variants(b"not an image", &VARIANT_WIDTHS, 80.0), Err(MediaError::Decode(_))));
    }
}
