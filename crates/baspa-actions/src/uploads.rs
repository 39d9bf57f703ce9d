//! What an uploaded file really is (CM-8, SC-3): the type comes from the bytes, never from the
//! name; only an allow-list is accepted; images are decoded and re-encoded so nothing hidden
//! after or inside the picture survives; Office files with macros, executables, scripts and
//! web shells are refused. Every refusal says why in words an editor understands.
//!
//! The deeper checks of the security issue (PDF actions, archive bombs, ClamAV, quarantine)
//! build on `inspect`.

use std::io::Cursor;

/// Files bigger than this are refused before anything is stored.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 50 * 1024 * 1024;

/// The kinds Baspa accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    Jpeg,
    Png,
    Gif,
    Webp,
    Pdf,
    Docx,
    Xlsx,
}

impl UploadKind {
    pub fn mime(self) -> &'static str {
        match self {
            UploadKind::Jpeg => "image/jpeg",
            UploadKind::Png => "image/png",
            UploadKind::Gif => "image/gif",
            UploadKind::Webp => "image/webp",
            UploadKind::Pdf => "application/pdf",
            UploadKind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            UploadKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            UploadKind::Jpeg => "jpg",
            UploadKind::Png => "png",
            UploadKind::Gif => "gif",
            UploadKind::Webp => "webp",
            UploadKind::Pdf => "pdf",
            UploadKind::Docx => "docx",
            UploadKind::Xlsx => "xlsx",
        }
    }

    fn accepts_extension(self, ext: &str) -> bool {
        match self {
            UploadKind::Jpeg => matches!(ext, "jpg" | "jpeg" | "jpe"),
            other => ext == other.extension(),
        }
    }

    pub fn is_image(self) -> bool {
        matches!(self, UploadKind::Jpeg | UploadKind::Png | UploadKind::Gif | UploadKind::Webp)
    }
}

/// A checked upload, ready to store.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub kind: UploadKind,
    /// The bytes to store: re-encoded for images, as sent for documents.
    pub bytes: Vec<u8>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UploadRefusal {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size_mb} MB; the limit is {limit_mb} MB")]
    TooLarge { size_mb: usize, limit_mb: usize },
    #[error("{0}")]
    Dangerous(String),
    #[error("files of this type are not accepted ({0}); upload JPEG, PNG, GIF, WebP, PDF, DOCX or XLSX")]
    NotAllowed(String),
    #[error("the name says .{declared} but the file is {actual}; rename it or upload the right file")]
    NameMismatch { declared: String, actual: String },
    #[error("the image cannot be read ({0}); it may be damaged")]
    BrokenImage(String),
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Signatures of things that must never be served from a media folder, found anywhere in the
/// file: executables at the start; server-side scripts and the EICAR test string anywhere.
fn dangerous(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(b"MZ") {
        return Some("the file is a Windows program".into());
    }
    if bytes.starts_with(b"\x7fELF") || bytes.starts_with(b"#!") {
        return Some("the file is a program or script".into());
    }
    const EICAR: &[u8] = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE";
    if contains(bytes, EICAR) {
        return Some("the file carries a virus signature (EICAR test)".into());
    }
    let lower: Vec<u8> = bytes.iter().take(4 * 1024 * 1024).map(u8::to_ascii_lowercase).collect();
    for (needle, what) in [
        (&b"<?php"[..], "PHP code"),
        (b"<%@", "JSP/ASP code"),
        (b"<% ", "ASP code"),
        (b"<script", "a script"),
        (b"<html", "a web page"),
        (b"<svg", "an SVG drawing (scripts can hide in SVG)"),
    ] {
        if contains(&lower, needle) {
            return Some(format!("the file contains {what}"));
        }
    }
    None
}

fn sniff(bytes: &[u8]) -> Result<UploadKind, UploadRefusal> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(UploadKind::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(UploadKind::Png);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok(UploadKind::Gif);
    }
    if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(UploadKind::Webp);
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok(UploadKind::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // Office Open XML is a zip whose local headers name its parts in plain text.
        if contains(bytes, b"vbaProject.bin") {
            return Err(UploadRefusal::Dangerous("the Office file contains macros; save it without macros".into()));
        }
        if contains(bytes, b"word/") {
            return Ok(UploadKind::Docx);
        }
        if contains(bytes, b"xl/") {
            return Ok(UploadKind::Xlsx);
        }
        return Err(UploadRefusal::NotAllowed("a zip archive".into()));
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(UploadRefusal::NotAllowed("an old Office format (.doc/.xls); save it as .docx/.xlsx".into()));
    }
    Err(UploadRefusal::NotAllowed("unknown".into()))
}

fn reencode(bytes: &[u8], kind: UploadKind) -> Result<(Vec<u8>, u32, u32), UploadRefusal> {
    let format = match kind {
        UploadKind::Jpeg => image::ImageFormat::Jpeg,
        UploadKind::Png => image::ImageFormat::Png,
        UploadKind::Gif => image::ImageFormat::Gif,
        UploadKind::Webp => image::ImageFormat::WebP,
        _ => return Err(UploadRefusal::BrokenImage("not an image".into())),
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    // A decompression bomb (a tiny file declaring a gigantic picture) stops here.
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| UploadRefusal::BrokenImage(e.to_string()))?;
    let (width, height) = (picture.width(), picture.height());
    let mut out = Cursor::new(Vec::new());
    // Re-encoding drops metadata and anything appended; GIF and WebP are stored as PNG for now
    // (the WebP pipeline of the performance issue makes WebP variants).
    let (target, encoded) = match kind {
        UploadKind::Jpeg => (image::ImageFormat::Jpeg, picture.to_rgb8().write_to(&mut out, image::ImageFormat::Jpeg)),
        _ => (image::ImageFormat::Png, picture.write_to(&mut out, image::ImageFormat::Png)),
    };
    encoded.map_err(|e| UploadRefusal::BrokenImage(format!("cannot re-encode as {target:?}: {e}")))?;
    Ok((out.into_inner(), width, height))
}

/// Checks an upload; `declared_name` is the name on the visitor's disk.
pub fn inspect(declared_name: &str, bytes: &[u8], max_bytes: usize) -> Result<Inspected, UploadRefusal> {
    if bytes.is_empty() {
        return Err(UploadRefusal::Empty);
    }
    if bytes.len() > max_bytes {
        return Err(UploadRefusal::TooLarge { size_mb: bytes.len().div_ceil(1 << 20), limit_mb: max_bytes >> 20 });
    }
    if let Some(reason) = dangerous(bytes) {
        return Err(UploadRefusal::Dangerous(reason));
    }
    let kind = sniff(bytes)?;
    let declared = declared_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    if !kind.accepts_extension(&declared) {
        return Err(UploadRefusal::NameMismatch { declared, actual: kind.extension().to_uppercase() });
    }
    if kind.is_image() {
        let (bytes, width, height) = reencode(bytes, kind)?;
        let kind = if kind == UploadKind::Jpeg { UploadKind::Jpeg } else { UploadKind::Png };
        return Ok(Inspected { kind, bytes, width: Some(width), height: Some(height) });
    }
    Ok(Inspected { kind, bytes: bytes.to_vec(), width: None, height: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image::RgbImage::from_pixel(4, 3, image::Rgb([200, 10, 10]))
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn sc3_type_comes_from_the_bytes_and_payloads_do_not_survive() {
        let mut with_payload = png();
        with_payload.extend_from_slice(b"<?php system($_GET['c']); ?>");
        assert!(matches!(inspect("photo.png", &with_payload, 1 << 20), Err(UploadRefusal::Dangerous(_))));
        let clean = inspect("photo.png", &png(), 1 << 20).unwrap();
        assert_eq!((clean.kind, clean.width, clean.height), (UploadKind::Png, Some(4), Some(3)));

        let mut exe = b"MZ\x90\x00".to_vec();
        exe.extend(std::iter::repeat_n(0u8, 100));
        let refusal = inspect("holiday.jpg", &exe, 1 << 20).unwrap_err();
        assert_eq!(refusal.to_string(), "the file is a Windows program");

        let broken = [&[0xFFu8, 0xD8, 0xFF, 0xE0][..], &[0u8; 64][..]].concat();
        assert!(matches!(inspect("broken.jpg", &broken, 1 << 20), Err(UploadRefusal::BrokenImage(_))));
        assert!(matches!(inspect("photo.pdf", &png(), 1 << 20), Err(UploadRefusal::NameMismatch { .. })));
        assert!(matches!(inspect("big.png", &png(), 10), Err(UploadRefusal::TooLarge { .. })));
        let eicar = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        assert!(matches!(inspect("eicar.pdf", eicar, 1 << 20), Err(UploadRefusal::Dangerous(_))));
        assert!(matches!(inspect("a.svg", b"<svg onload=alert(1)>", 1 << 20), Err(UploadRefusal::Dangerous(_))));
        assert!(matches!(
            inspect("macro.docx", b"PK\x03\x04....word/vbaProject.bin", 1 << 20),
            Err(UploadRefusal::Dangerous(_))
        ));
        assert_eq!(inspect("report.pdf", b"%PDF-1.7\n...", 1 << 20).unwrap().kind, UploadKind::Pdf);
    }
}
