//! What an uploaded file really is (CM-8, SC-3): the type comes from the bytes, never from the
//! name; only an allow-list is accepted; images are decoded and re-encoded so nothing hidden
//! after or inside the picture survives; Office files with macros, executables, scripts and
//! web shells are refused. Every refusal says why in words an editor understands.
//!
//! Deeper checks (SC-3): pictures that hide an archive (polyglots); PDFs with active content
//! (JavaScript, launch actions, embedded files, rich media, XFA), read with lopdf including object
//! streams; Office files opened as zips (macros, OLE objects, ActiveX, archive bombs); SVG and
//! HTML are always refused because they can carry scripts. `inspect_with_scanner` adds ClamAV
//! (`clamd.rs`), and `upload_media` keeps refused bytes in quarantine.

use std::io::Cursor;

use crate::clamd::{Clamd, Verdict};

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
    #[error("the document cannot be read ({0}); it may be damaged: save it again and upload the new copy")]
    BrokenDocument(String),
    #[error("the virus scanner found {0} in the file; it was not stored")]
    Infected(String),
    #[error("the virus scanner is unavailable, so the file was not accepted; try again later")]
    ScannerUnavailable,
}

impl UploadRefusal {
    /// Refusals whose bytes are worth keeping in quarantine for an administrator to look at:
    /// not an empty file, and not an oversized one (keeping it would let anyone fill the disk).
    pub fn keeps_bytes(&self) -> bool {
        !matches!(self, UploadRefusal::Empty | UploadRefusal::TooLarge { .. })
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

/// Bytes that appear in source code (printable ASCII and layout characters).
fn is_texty(b: u8) -> bool {
    matches!(b, 0x20..=0x7e | b'\t' | b'\r' | b'\n')
}

/// A short opening tag (`<?=`, `<%`) counts as code only when text follows it: either a closing
/// tag after a few characters, or a long run of text. Two or three bytes alone occur by chance in
/// every compressed photo or PDF stream; sixteen printable bytes after them almost never do.
fn code_follows(rest: &[u8]) -> bool {
    let run = rest.iter().take(200).take_while(|b| is_texty(**b)).count();
    let text = &rest[..run];
    run >= 16 || (run >= 3 && (contains(text, b"?>") || contains(text, b"%>")))
}

/// Server-side code (web shells) anywhere in the file: PHP, JSP, ASP and the usual obfuscated
/// PHP one-liners. Long markers match anywhere; short ones need code after them (see
/// `code_follows`) so clean binary files are not refused.
fn server_code(bytes: &[u8]) -> Option<&'static str> {
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'<' {
            continue;
        }
        let rest = &bytes[i + 1..];
        if starts_with_ci(rest, b"?php") {
            return Some("PHP code");
        }
        if rest.starts_with(b"?=") && code_follows(&rest[2..]) {
            return Some("PHP code");
        }
        if starts_with_ci(rest, b"jsp:") {
            return Some("JSP code");
        }
        if rest.first() == Some(&b'%')
            && matches!(rest.get(1), Some(b'@' | b'=' | b'!' | b' ' | b'\t' | b'\r' | b'\n'))
            && code_follows(&rest[2..])
        {
            return Some("JSP/ASP code");
        }
    }
    const ONE_LINERS: [&[u8]; 12] = [
        b"eval(base64_decode",
        b"eval(gzinflate",
        b"eval(gzuncompress",
        b"eval(str_rot13",
        b"eval($_",
        b"assert($_",
        b"system($_",
        b"passthru($_",
        b"shell_exec($_",
        b"runtime.getruntime().exec(",
        b"eval request(",
        b"wscript.shell",
    ];
    ONE_LINERS.iter().any(|n| contains_ci(bytes, n)).then_some("server code (a web shell)")
}

/// Signatures of things that must never be served from a media folder: programs at the start;
/// the EICAR test string, server-side code and browser scripts anywhere.
fn dangerous(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(b"MZ") {
        return Some("the file is a Windows program".into());
    }
    if bytes.starts_with(b"\x7fELF")
        || bytes.starts_with(b"#!")
        || bytes.starts_with(&[0xCF, 0xFA, 0xED, 0xFE])
        || bytes.starts_with(&[0xCE, 0xFA, 0xED, 0xFE])
        || bytes.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE])
    {
        return Some("the file is a program or script".into());
    }
    const EICAR: &[u8] = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE";
    if contains(bytes, EICAR) {
        return Some("the file carries a virus signature (EICAR test)".into());
    }
    if let Some(what) = markup(bytes) {
        return Some(what);
    }
    if let Some(what) = server_code(bytes) {
        return Some(format!("the file contains {what}"));
    }
    embedded_tag(bytes).map(|what| format!("the file contains {what}"))
}

/// Browser markup hidden in another file (`<script>` after a picture, an SVG in a PDF). A tag
/// counts when its name is followed by a delimiter and text up to a `>`: four letters alone turn
/// up by chance in large compressed files.
fn embedded_tag(bytes: &[u8]) -> Option<&'static str> {
    const TAGS: [(&[u8], &str); 4] = [
        (b"script", "a script"),
        (b"html", "a web page"),
        (b"svg", "an SVG drawing (scripts can hide in SVG)"),
        (b"iframe", "a web page frame"),
    ];
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'<' {
            continue;
        }
        let rest = &bytes[i + 1..];
        for (tag, what) in TAGS {
            if !starts_with_ci(rest, tag) {
                continue;
            }
            let after = &rest[tag.len()..];
            let text = &after[..after.iter().take(500).take_while(|b| is_texty(**b)).count()];
            if matches!(text.first(), Some(b'>' | b' ' | b'\t' | b'\r' | b'\n' | b'/')) && text.contains(&b'>') {
                return Some(what);
            }
        }
    }
    None
}

/// SVG and HTML named for what they are, so the editor knows what to upload instead.
fn markup(bytes: &[u8]) -> Option<String> {
    let start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = &start[start.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    if start.first() != Some(&b'<') {
        return None;
    }
    let head = &start[..start.len().min(4096)];
    if contains_ci(head, b"<svg") {
        return Some(
            "SVG drawings are not accepted because they can carry scripts; export the drawing as PNG and upload that"
                .into(),
        );
    }
    if [&b"<!doctype html"[..], b"<html", b"<head", b"<body", b"<script", b"<iframe"]
        .iter()
        .any(|n| contains_ci(head, n))
    {
        return Some("web pages (HTML) are not accepted because they can carry scripts; save it as PDF".into());
    }
    None
}

/// What the bytes are, before the deeper check of each kind.
enum Sniffed {
    Known(UploadKind),
    /// A zip: an Office file or a plain archive, decided by `office::inspect`.
    Zip,
}

/// Names of script and page files, to say "a .js script" instead of "unknown".
const SCRIPT_EXTENSIONS: [&str; 17] = [
    "js", "mjs", "vbs", "vbe", "ps1", "bat", "cmd", "sh", "php", "phtml", "jsp", "asp", "aspx", "py", "pl", "hta",
    "wsf",
];

fn sniff(bytes: &[u8], declared: &str) -> Result<Sniffed, UploadRefusal> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Sniffed::Known(UploadKind::Jpeg));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Sniffed::Known(UploadKind::Png));
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok(Sniffed::Known(UploadKind::Gif));
    }
    if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(Sniffed::Known(UploadKind::Webp));
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok(Sniffed::Known(UploadKind::Pdf));
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Ok(Sniffed::Zip);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(UploadRefusal::NotAllowed("an old Office format (.doc/.xls); save it as .docx/.xlsx".into()));
    }
    if [&b"Rar!"[..], b"7z\xBC\xAF", b"\x1F\x8B", b"MSCF", b"BZh"].iter().any(|m| bytes.starts_with(m)) {
        return Err(UploadRefusal::NotAllowed("an archive".into()));
    }
    if SCRIPT_EXTENSIONS.contains(&declared) {
        return Err(UploadRefusal::NotAllowed(format!("a .{declared} script")));
    }
    Err(UploadRefusal::NotAllowed("unknown".into()))
}

/// Zip data inside a picture (a PNG/ZIP or JPEG/ZIP polyglot): a zip reader finds it from the
/// end of the file, so the "picture" doubles as an archive. Only a well-formed local header or
/// end-of-central-directory record counts, so a chance `PK` in compressed pixels does not.
fn hides_archive(bytes: &[u8]) -> bool {
    let le16 = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    for i in 0..bytes.len().saturating_sub(4) {
        if bytes[i] != b'P' || bytes[i + 1] != b'K' {
            continue;
        }
        match (bytes[i + 2], bytes[i + 3]) {
            (3, 4) => {
                let version_ok = le16(i + 4).is_some_and(|v| v <= 63);
                let method_ok = le16(i + 8).is_some_and(|m| matches!(m, 0 | 8 | 9 | 12 | 14 | 93 | 95 | 99));
                let name_ok = le16(i + 26).is_some_and(|n| (1..=1024).contains(&n));
                if version_ok && method_ok && name_ok {
                    return true;
                }
            }
            (5, 6) => {
                let disks_ok = le16(i + 4) == Some(0) && le16(i + 6) == Some(0);
                let fits = le16(i + 20).is_some_and(|comment| i + 22 + usize::from(comment) <= bytes.len());
                if disks_ok && fits {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
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

/// Macro-enabled Office names, refused before anything else so the reason names the macros.
const MACRO_EXTENSIONS: [&str; 8] = ["docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppsm"];

/// Checks an upload; `declared_name` is the name on the visitor's disk. Synchronous and
/// self-contained; `inspect_with_scanner` adds ClamAV.
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
    let declared = declared_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    if MACRO_EXTENSIONS.contains(&declared.as_str()) {
        return Err(UploadRefusal::Dangerous(format!(
            "macro-enabled Office files (.{declared}) are not accepted; save it as .docx or .xlsx without macros"
        )));
    }
    let kind = match sniff(bytes, &declared)? {
        Sniffed::Known(kind) => kind,
        Sniffed::Zip => office::inspect(bytes)?,
    };
    if !kind.accepts_extension(&declared) {
        return Err(UploadRefusal::NameMismatch { declared, actual: kind.extension().to_uppercase() });
    }
    if kind.is_image() {
        if hides_archive(bytes) {
            return Err(UploadRefusal::Dangerous(
                "the picture hides an archive (zip data inside the image); export the picture again and upload that"
                    .into(),
            ));
        }
        let (bytes, width, height) = reencode(bytes, kind)?;
        let kind = if kind == UploadKind::Jpeg { UploadKind::Jpeg } else { UploadKind::Png };
        return Ok(Inspected { kind, bytes, width: Some(width), height: Some(height) });
    }
    if kind == UploadKind::Pdf {
        pdf::inspect(bytes)?;
    }
    Ok(Inspected { kind, bytes: bytes.to_vec(), width: None, height: None })
}

/// `inspect`, then ClamAV when one is configured. The scanner sees the bytes as sent. A
/// configured scanner that cannot answer refuses the upload (fail closed): an unscanned file
/// must not slip through because clamd was restarting.
pub async fn inspect_with_scanner(
    declared_name: &str,
    bytes: &[u8],
    max_bytes: usize,
    scanner: Option<&Clamd>,
) -> Result<Inspected, UploadRefusal> {
    let inspected = inspect(declared_name, bytes, max_bytes)?;
    let Some(scanner) = scanner else { return Ok(inspected) };
    match scanner.scan(bytes).await {
        Ok(Verdict::Clean) => Ok(inspected),
        Ok(Verdict::Infected(signature)) => {
            tracing::warn!(%signature, name = declared_name, "clamd found a virus in an upload");
            Err(UploadRefusal::Infected(signature))
        }
        Err(e) => {
            tracing::error!(error = %e, "virus scanner unavailable; upload refused");
            Err(UploadRefusal::ScannerUnavailable)
        }
    }
}

/// The quarantine folder for `media_dir`: its sibling `quarantine`, outside what the web server
/// serves.
pub fn quarantine_dir(media_dir: &std::path::Path) -> std::path::PathBuf {
    media_dir.parent().map_or_else(|| media_dir.join("..").join("quarantine"), |p| p.join("quarantine"))
}

/// Writes refused bytes to `<quarantine>/<32 hex>.bin` and returns the key; `None` (logged) when
/// the disk refuses, because the upload is refused either way.
pub async fn quarantine(media_dir: &std::path::Path, bytes: &[u8]) -> Option<String> {
    let dir = quarantine_dir(media_dir);
    let random: [u8; 16] = rand::random();
    let key: String = random.iter().map(|b| format!("{b:02x}")).collect::<String>() + ".bin";
    let written = async {
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::write(dir.join(&key), bytes).await
    }
    .await;
    match written {
        Ok(()) => Some(key),
        Err(e) => {
            tracing::error!(error = %e, dir = %dir.display(), "cannot write a refused upload to quarantine");
            None
        }
    }
}

/// PDF active content (SC-3): JavaScript, actions run on opening or on events, programs to
/// launch, embedded files, Flash/rich media and XFA forms. Such PDFs are refused rather than
/// flagged: a reader's viewer may run them the moment a visitor opens the file, and an editor
/// can always "Print to PDF" to get a clean copy.
mod pdf {
    use lopdf::{Document, Object};

    use super::UploadRefusal;

    /// Names that mean active content, wherever they appear (as a key or a value). lopdf and
    /// `raw_names` both decode `#xx` escapes, so `/J#61vaScript` is `/JavaScript` here.
    fn meaning(name: &[u8]) -> Option<&'static str> {
        Some(match name {
            b"JavaScript" | b"JS" => "JavaScript",
            b"Launch" => "an action that starts a program (/Launch)",
            b"EmbeddedFile" | b"EmbeddedFiles" | b"EF" | b"GoToE" => "files embedded inside it",
            b"AA" => "actions that run automatically on events (/AA)",
            b"RichMedia" | b"RichMediaContent" | b"RichMediaSettings" => "Flash or other rich media (/RichMedia)",
            b"XFA" => "an XFA form (forms that run code)",
            _ => return None,
        })
    }

    fn refusal(what: &str) -> UploadRefusal {
        UploadRefusal::Dangerous(format!(
            "the PDF contains {what}; save it again without it (for example with \"Print to PDF\") and upload the new copy"
        ))
    }

    pub(super) fn inspect(bytes: &[u8]) -> Result<(), UploadRefusal> {
        let raw = raw_names(bytes);
        match Document::load_mem(bytes) {
            Ok(doc) => {
                if let Some(what) = open_action(&doc) {
                    return Err(refusal(what));
                }
                // Every object, those from compressed object streams included (lopdf unpacks
                // them on load).
                for object in doc.objects.values() {
                    if let Some(what) = walk(object, 0) {
                        return Err(refusal(what));
                    }
                }
                // Objects the parser skipped (broken or outside the cross-reference table) may
                // still be found by a lenient viewer.
                raw.map_or(Ok(()), |what| Err(refusal(what)))
            }
            Err(e) => match raw {
                Some(what) => Err(refusal(what)),
                None => Err(UploadRefusal::BrokenDocument(format!("the PDF structure is broken: {e}"))),
            },
        }
    }

    /// `/OpenAction` runs when the file opens; a page destination (an array) is harmless, an
    /// action dictionary is not unless it only goes to a page or a link.
    fn open_action(doc: &Document) -> Option<&'static str> {
        let catalog = doc.catalog().ok()?;
        let mut action = catalog.get(b"OpenAction").ok()?;
        if let Object::Reference(id) = action {
            action = doc.get_object(*id).ok()?;
        }
        let Object::Dictionary(dict) = action else { return None };
        match dict.get(b"S").and_then(Object::as_name) {
            Ok(b"GoTo" | b"URI" | b"Named") => None,
            Ok(b"JavaScript") => Some("JavaScript that runs when the PDF opens (/OpenAction)"),
            _ => Some("an action that runs when the PDF opens (/OpenAction)"),
        }
    }

    fn walk(object: &Object, depth: usize) -> Option<&'static str> {
        // Objects nest through references, which are not followed here; direct nesting this
        // deep is not a real document.
        if depth > 64 {
            return Some("objects nested too deeply to check");
        }
        match object {
            Object::Name(name) => meaning(name),
            Object::Array(items) => items.iter().find_map(|o| walk(o, depth + 1)),
            Object::Dictionary(dict) => {
                dict.iter().find_map(|(key, value)| meaning(key).or_else(|| walk(value, depth + 1)))
            }
            Object::Stream(stream) => {
                stream.dict.iter().find_map(|(key, value)| meaning(key).or_else(|| walk(value, depth + 1)))
            }
            _ => None,
        }
    }

    fn is_delimiter(b: u8) -> bool {
        b.is_ascii_whitespace() || matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
    }

    /// A byte scan of the name tokens outside stream data, decoding `#xx`. Stream data is
    /// skipped because compressed bytes contain `/JS` by chance.
    fn raw_names(bytes: &[u8]) -> Option<&'static str> {
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i..].starts_with(b"stream") && (i < 3 || &bytes[i - 3..i] != b"end") {
                let after = i + b"stream".len();
                if matches!(bytes.get(after), Some(b'\r' | b'\n')) {
                    let end = bytes[after..].windows(9).position(|w| w == b"endstream");
                    i = end.map_or(bytes.len(), |e| after + e + 9);
                    continue;
                }
            }
            if bytes[i] == b'/' {
                let mut name = Vec::new();
                let mut j = i + 1;
                while j < bytes.len() && !is_delimiter(bytes[j]) {
                    let hex = bytes.get(j + 1..j + 3).and_then(|h| std::str::from_utf8(h).ok());
                    match (bytes[j], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                        (b'#', Some(decoded)) => {
                            name.push(decoded);
                            j += 3;
                        }
                        (b, _) => {
                            name.push(b);
                            j += 1;
                        }
                    }
                }
                if let Some(what) = meaning(&name) {
                    return Some(what);
                }
                i = j;
                continue;
            }
            i += 1;
        }
        None
    }
}

/// Office Open XML (DOCX, XLSX) is a zip: it is opened, its parts listed and measured, and
/// `[Content_Types].xml` read. Macros, embedded OLE objects, ActiveX controls and packed
/// archives are refused, and so is anything that unpacks suspiciously large (an archive bomb
/// hurts whoever opens it: the visitor's Office or a preview job).
mod office {
    use std::io::{Cursor, Read};

    use super::{UploadKind, UploadRefusal};

    /// Unpacked size of all parts together.
    const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;
    /// How many times larger than its packed size a part may unpack (Apache POI's default).
    /// Small parts are exempt: a tiny, very regular XML part compresses far better than this.
    const MAX_RATIO: u64 = 100;
    const RATIO_EXEMPT_BYTES: u64 = 1024 * 1024;
    const MAX_ENTRIES: usize = 10_000;
    const CONTENT_TYPES_MAX_BYTES: u64 = 1024 * 1024;

    fn bomb(detail: String) -> UploadRefusal {
        UploadRefusal::Dangerous(format!(
            "{detail}; it is refused as a possible archive bomb (a file built to fill the disk or memory when opened)"
        ))
    }

    fn dangerous(what: &str) -> UploadRefusal {
        UploadRefusal::Dangerous(format!(
            "the Office file contains {what}; save it as a plain .docx or .xlsx without it"
        ))
    }

    /// First bytes of packed formats and OLE containers found inside a part.
    fn packed(head: &[u8]) -> Option<&'static str> {
        if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            return Some("an embedded OLE object");
        }
        let archives: [&[u8]; 7] = [b"PK\x03\x04", b"PK\x05\x06", b"Rar!", b"7z\xBC\xAF", b"\x1F\x8B", b"MSCF", b"BZh"];
        archives.iter().any(|m| head.starts_with(m)).then_some("another archive packed inside it")
    }

    pub(super) fn inspect(bytes: &[u8]) -> Result<UploadKind, UploadRefusal> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| UploadRefusal::BrokenDocument(format!("the zip structure is broken: {e}")))?;
        if zip.len() > MAX_ENTRIES {
            return Err(bomb(format!("the file holds {} parts (the limit is {MAX_ENTRIES})", zip.len())));
        }
        let broken = |e: zip::result::ZipError| UploadRefusal::BrokenDocument(e.to_string());
        // Declared sizes first: an honest bomb is refused without unpacking a byte.
        let mut declared_total: u64 = 0;
        let mut content_types = None;
        for i in 0..zip.len() {
            let entry = zip.by_index_raw(i).map_err(broken)?;
            let name = entry.name().map_err(broken)?.into_owned();
            let lower = name.to_ascii_lowercase();
            if entry.encrypted() {
                return Err(UploadRefusal::NotAllowed("a password-protected archive".into()));
            }
            declared_total = declared_total.saturating_add(entry.size());
            if declared_total > MAX_TOTAL_BYTES {
                return Err(bomb(format!("unpacked, the file would be over {} MB", MAX_TOTAL_BYTES >> 20)));
            }
            let ratio = entry.size() / entry.compressed_size().max(1);
            if entry.size() > RATIO_EXEMPT_BYTES && ratio > MAX_RATIO {
                return Err(bomb(format!("the part {name} unpacks {ratio} times larger than it is packed")));
            }
            if lower.ends_with("vbaproject.bin") || lower.ends_with("vbadata.xml") {
                return Err(UploadRefusal::Dangerous(
                    "the Office file contains macros; save it as .docx or .xlsx without macros".into(),
                ));
            }
            if lower.contains("activex") {
                return Err(dangerous("ActiveX controls"));
            }
            if lower.contains("oleobject") || (lower.contains("/embeddings/") && lower.ends_with(".bin")) {
                return Err(dangerous("an embedded OLE object"));
            }
            let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
            if matches!(
                ext,
                "zip"
                    | "docx"
                    | "xlsx"
                    | "pptx"
                    | "docm"
                    | "xlsm"
                    | "pptm"
                    | "jar"
                    | "7z"
                    | "rar"
                    | "gz"
                    | "cab"
                    | "exe"
            ) {
                return Err(dangerous(&format!("another file packed inside it ({name})")));
            }
            if name == "[Content_Types].xml" {
                content_types = Some(i);
            }
        }
        // Then the real sizes, in case the declared ones lie: each part is unpacked into
        // nothing, never past the limits.
        let mut total: u64 = 0;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(broken)?;
            let name = entry.name().map_err(broken)?.into_owned();
            let packed_size = entry.compressed_size().max(1);
            let budget = (MAX_TOTAL_BYTES - total).min(RATIO_EXEMPT_BYTES.max(packed_size.saturating_mul(MAX_RATIO)));
            let mut head = [0u8; 8];
            let head_len =
                read_up_to(&mut entry, &mut head).map_err(|e| UploadRefusal::BrokenDocument(e.to_string()))?;
            if let Some(what) = packed(&head[..head_len]) {
                return Err(dangerous(&format!("{what} ({name})")));
            }
            let rest = std::io::copy(&mut (&mut entry).take(budget + 1), &mut std::io::sink())
                .map_err(|e| UploadRefusal::BrokenDocument(format!("the part {name} is damaged: {e}")))?;
            let size = rest + head_len as u64;
            if size > budget {
                return Err(bomb(format!("the part {name} unpacks larger than it says")));
            }
            total += size;
        }
        let Some(index) = content_types else {
            return Err(UploadRefusal::NotAllowed("an archive".into()));
        };
        let mut types = String::new();
        zip.by_index(index)
            .map_err(broken)?
            .take(CONTENT_TYPES_MAX_BYTES)
            .read_to_string(&mut types)
            .map_err(|e| UploadRefusal::BrokenDocument(format!("[Content_Types].xml cannot be read: {e}")))?;
        let types = types.to_ascii_lowercase();
        if types.contains("macroenabled") || types.contains("vbaproject") {
            return Err(UploadRefusal::Dangerous(
                "the Office file is macro-enabled; save it as .docx or .xlsx without macros".into(),
            ));
        }
        if types.contains("oleobject") {
            return Err(dangerous("an embedded OLE object"));
        }
        if types.contains("activex") {
            return Err(dangerous("ActiveX controls"));
        }
        if types.contains("wordprocessingml.document.main+xml") {
            Ok(UploadKind::Docx)
        } else if types.contains("spreadsheetml.sheet.main+xml") {
            Ok(UploadKind::Xlsx)
        } else {
            Err(UploadRefusal::NotAllowed(
                "an Office file that is neither a Word document nor an Excel workbook".into(),
            ))
        }
    }

    fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(filled)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn png() -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image::RgbImage::from_pixel(4, 3, image::Rgb([200, 10, 10]))
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    fn jpeg_with_comment(comment: &[u8]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image::RgbImage::from_pixel(8, 8, image::Rgb([10, 120, 200]))
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .unwrap();
        let jpeg = out.into_inner();
        let len = u16::try_from(comment.len() + 2).unwrap().to_be_bytes();
        [&jpeg[..2], &[0xFF, 0xFE], &len[..], comment, &jpeg[2..]].concat()
    }

    fn zip(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in parts {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    const DOCX_TYPES: &[u8] = br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

    fn reason(name: &str, bytes: &[u8]) -> String {
        match inspect(name, bytes, 1 << 26) {
            Ok(i) => panic!("{name} was accepted as {:?}", i.kind),
            Err(e) => e.to_string(),
        }
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
        assert!(reason("eicar.pdf", eicar).contains("EICAR"));
    }

    #[test]
    fn sc3_web_shell_markers_are_found_in_a_jpeg_comment() {
        for shell in [
            &b"<?php system($_GET['c']); ?>"[..],
            b"<?=`$_GET[0]`?>",
            b"<% Runtime.getRuntime().exec(request.getParameter(\"c\")); %>",
            b"<%@ page import=\"java.io.*\" %>",
            b"<%= new java.util.Date() %>",
            b"<jsp:scriptlet>out.println(1);</jsp:scriptlet>",
            b"eval(base64_decode('ZWNobyAxOw=='));",
            b"<% eval request(\"cmd\") %>",
        ] {
            let r = reason("photo.jpg", &jpeg_with_comment(shell));
            assert!(r.contains("code") || r.contains("web shell"), "{}: {r}", String::from_utf8_lossy(shell));
        }
        // A comment with ordinary text and markup-like characters is fine.
        let ok = inspect("photo.jpg", &jpeg_with_comment(b"Taken at 5<%10 zoom, a<b, <?xml?>"), 1 << 20);
        assert_eq!(ok.map(|i| i.kind), Ok(UploadKind::Jpeg));
    }

    /// Random bytes stand for compressed photo and PDF stream data: the short markers (`<%`,
    /// `<?=`, `PK`, `/JS`, `<svg`) occur in them by chance and must not cause refusals.
    #[test]
    fn sc3_marker_checks_do_not_fire_on_random_binary_data() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let noise: Vec<u8> = (0..8 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        assert_eq!(server_code(&noise), None);
        assert_eq!(embedded_tag(&noise), None);
        assert!(!hides_archive(&noise));
        // `<%`, `<?=` and `PK` do occur in it: the checks above passed on their merits.
        assert!(contains(&noise, b"<%") && contains(&noise, b"PK"));
    }

    #[test]
    fn sc3_a_picture_that_hides_an_archive_is_refused() {
        let polyglot = [png(), zip(&[("shell.php", b"x")])].concat();
        assert!(reason("cat.png", &polyglot).contains("hides an archive"));
        let jpeg = jpeg_with_comment(b"hello");
        let polyglot = [jpeg, zip(&[("a.txt", b"hello")])].concat();
        assert!(reason("cat.jpg", &polyglot).contains("hides an archive"));
    }

    #[test]
    fn sc3_svg_html_and_scripts_are_refused_with_their_names() {
        assert!(reason("a.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>").contains("SVG"));
        assert!(
            reason("a.svg", b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<svg><script>alert(1)</script></svg>")
                .contains("SVG")
        );
        assert!(reason("a.html", b"<!DOCTYPE html><p>hi").contains("web pages (HTML)"));
        assert!(reason("run.js", b"fetch('/admin').then(r => r.text())").contains("a .js script"));
        assert!(reason("run.sh", b"#!/bin/sh\nrm -rf /").contains("program or script"));
    }

    fn pdf_with(extra: &str) -> Vec<u8> {
        format!(
            "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R {extra} >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
        )
        .into_bytes()
    }

    #[test]
    fn sc3_pdf_active_content_is_refused_even_with_escaped_names() {
        assert!(
            reason("a.pdf", &pdf_with("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")).contains("JavaScript")
        );
        assert!(
            reason("a.pdf", &pdf_with("/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"))
                .contains("JavaScript")
        );
        assert!(reason("a.pdf", &pdf_with("/OpenAction << /S /Launch /F (cmd.exe) >>")).contains("opens"));
        assert!(reason("a.pdf", &pdf_with("/Names << /EmbeddedFiles << /Names [] >> >>")).contains("embedded"));
        assert!(reason("a.pdf", &pdf_with("/AA << /O << /S /GoTo /D [0] >> >>")).contains("/AA"));
        assert!(reason("a.pdf", &pdf_with("/AcroForm << /XFA 3 0 R >>")).contains("XFA"));
        assert!(reason("a.pdf", &pdf_with("/Extra << /Subtype /RichMedia >>")).contains("rich media"));
        // Harmless: opening at a page.
        assert_eq!(inspect("a.pdf", &pdf_with("/OpenAction [0 /Fit]"), 1 << 20).map(|i| i.kind), Ok(UploadKind::Pdf));
        // Unreadable: refused, and said so.
        assert!(reason("a.pdf", b"%PDF-1.7\n...").contains("cannot be read"));
        // Unreadable with active content: the active content is named.
        assert!(reason("a.pdf", b"%PDF-1.7\n<< /S /J#61vaScript >>").contains("JavaScript"));
    }

    #[test]
    fn sc3_office_files_are_opened_and_their_parts_checked() {
        let types = ("[Content_Types].xml", DOCX_TYPES);
        let body = ("word/document.xml", &b"<w:document/>"[..]);
        assert_eq!(inspect("a.docx", &zip(&[types, body]), 1 << 20).map(|i| i.kind), Ok(UploadKind::Docx));
        assert!(reason("a.docx", &zip(&[types, body, ("word/vbaProject.bin", b"x")])).contains("macros"));
        assert!(reason("a.docm", &zip(&[types, body])).contains("macro-enabled"));
        assert!(reason("a.docx", &zip(&[types, body, ("word/activeX/activeX1.xml", b"x")])).contains("ActiveX"));
        assert!(reason("a.docx", &zip(&[types, body, ("word/embeddings/oleObject1.bin", b"x")])).contains("OLE"));
        let inner = zip(&[("x.txt", b"x")]);
        assert!(reason("a.docx", &zip(&[types, body, ("word/media/image1.png", &inner)])).contains("archive packed"));
        let macro_types =
            String::from_utf8_lossy(DOCX_TYPES).replace("document.main+xml", "document.macroEnabled.main+xml");
        assert!(
            reason("a.docx", &zip(&[("[Content_Types].xml", macro_types.as_bytes()), body])).contains("macro-enabled")
        );
        assert!(reason("a.docx", &zip(&[body])).contains("(an archive)"));
        assert!(reason("a.zip", &zip(&[("notes.txt", b"hello")])).contains("(an archive)"));
        let zeros = vec![0u8; 8 << 20];
        assert!(reason("a.docx", &zip(&[types, body, ("word/media/big.bin", &zeros)])).contains("archive bomb"));
    }
}
