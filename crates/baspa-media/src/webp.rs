//! The one FFI call into libwebp (lossy encoding; the `image` crate encodes WebP losslessly
//! only). Safety rests on three checks made here before the call: the buffer holds exactly
//! width × height × channels bytes, the sizes fit libwebp's `int`, and the output is copied and
//! freed with libwebp's own `WebPFree` before returning.
#![allow(unsafe_code)]

use crate::MediaError;

/// Encodes packed RGB or RGBA pixels as lossy WebP at `quality` (0–100).
pub fn encode(pixels: &[u8], width: u32, height: u32, has_alpha: bool, quality: f32) -> Result<Vec<u8>, MediaError> {
    let channels: usize = if has_alpha { 4 } else { 3 };
    let (Ok(w), Ok(h)) = (i32::try_from(width), i32::try_from(height)) else { return Err(MediaError::Encode) };
    let Some(stride) = w.checked_mul(channels as i32) else { return Err(MediaError::Encode) };
    let expected = (width as usize).checked_mul(height as usize).and_then(|n| n.checked_mul(channels));
    if expected != Some(pixels.len()) || width == 0 || height == 0 || width > 16383 || height > 16383 {
        return Err(MediaError::Encode);
    }
    let quality = quality.clamp(0.0, 100.0);
    let mut output: *mut u8 = std::ptr::null_mut();
    // SAFETY: `pixels` is a live slice of exactly `stride * h` bytes (checked above); libwebp
    // reads only that, writes a newly allocated buffer pointer into `output` and returns its
    // length (0 on failure, leaving `output` null).
    let len = unsafe {
        if has_alpha {
            libwebp_sys::WebPEncodeRGBA(pixels.as_ptr(), w, h, stride, quality, &mut output)
        } else {
            libwebp_sys::WebPEncodeRGB(pixels.as_ptr(), w, h, stride, quality, &mut output)
        }
    };
    if output.is_null() {
        return Err(MediaError::Encode);
    }
    // SAFETY: libwebp returned `output` pointing at `len` initialised bytes it owns; we copy them
    // and free the buffer with the matching deallocator exactly once.
    let encoded = unsafe {
        let bytes = std::slice::from_raw_parts(output, len).to_vec();
        libwebp_sys::WebPFree(output.cast());
        bytes
    };
    if encoded.is_empty() { Err(MediaError::Encode) } else { Ok(encoded) }
}
