//! The upload corpus of SC-3: harmful files that must be refused (with the words the editor
//! sees) and clean files of every accepted type that must be stored. Everything is generated
//! here, so the repository holds no harmful bytes; the clean DOCX is the committed Word report.

use std::io::{Cursor, Write};
use std::sync::OnceLock;

use lopdf::{Document, Object, Stream, dictionary};

/// One file and what must happen to it.
pub struct Case {
    /// What the case is, for failure messages.
    pub label: &'static str,
    /// The name on the editor's disk.
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub expect: Expect,
}

pub enum Expect {
    /// Stored, as this MIME type.
    Stored(&'static str),
    /// Refused; the reason contains this text.
    Refused(&'static str),
}

/// The whole corpus, built once per test binary (the archive bombs take a moment to pack).
pub fn corpus() -> &'static [Case] {
    static CORPUS: OnceLock<Vec<Case>> = OnceLock::new();
    CORPUS.get_or_init(build)
}

const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

fn build() -> Vec<Case> {
    use Expect::{Refused, Stored};
    let case = |label, name, bytes, expect| Case { label, name, bytes, expect };
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec();
    exe.extend(std::iter::repeat_n(0u8, 2048));
    let bomb = bomb_zip();
    vec![
        case("EICAR test file", "invoice.pdf", EICAR.to_vec(), Refused("virus signature (EICAR test)")),
        case("EICAR inside a PDF", "eicar.pdf", [&pdf_clean()[..], EICAR].concat(), Refused("EICAR")),
        case(
            "PHP web shell in a JPEG comment",
            "photo.jpg",
            jpeg_with_comment(b"<?php system($_GET['c']); ?>"),
            Refused("PHP code"),
        ),
        case(
            "short PHP tag in a JPEG comment",
            "photo.jpg",
            jpeg_with_comment(b"<?=`$_GET[0]`?>"),
            Refused("PHP code"),
        ),
        case(
            "JSP shell in a JPEG comment",
            "photo.jpg",
            jpeg_with_comment(b"<% Runtime.getRuntime().exec(request.getParameter(\"c\")); %>"),
            Refused("JSP/ASP code"),
        ),
        case("PNG/ZIP polyglot", "cat.png", [png(), zip(&[("shell.php", b"x")])].concat(), Refused("hides an archive")),
        case(
            "SVG with a script",
            "logo.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#.to_vec(),
            Refused("SVG drawings are not accepted"),
        ),
        case(
            "SVG with onload",
            "logo.svg",
            br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
            Refused("SVG drawings are not accepted"),
        ),
        case(
            "HTML page",
            "page.html",
            b"<!DOCTYPE html><html><body onload=alert(1)>hi</body></html>".to_vec(),
            Refused("web pages (HTML)"),
        ),
        case("JavaScript file", "tool.js", b"fetch('/admin/users').then(r=>r.text())".to_vec(), Refused(".js script")),
        case("PDF with a JavaScript name tree", "report.pdf", pdf_javascript_names(), Refused("JavaScript")),
        case("PDF with /OpenAction JavaScript", "report.pdf", pdf_open_action(false), Refused("when the PDF opens")),
        case(
            "PDF with /OpenAction JavaScript in a compressed object stream",
            "report.pdf",
            pdf_open_action(true),
            Refused("when the PDF opens"),
        ),
        case("PDF with a hex-escaped /J#61vaScript", "report.pdf", pdf_escaped(), Refused("JavaScript")),
        case("PDF with /Launch", "report.pdf", pdf_launch(), Refused("/Launch")),
        case(".docm", "letter.docm", docx_with(&[]), Refused("macro-enabled Office files (.docm)")),
        case(
            ".docx holding vbaProject.bin",
            "letter.docx",
            docx_with(&[("word/vbaProject.bin", b"\xD0\xCF\x11\xE0macro")]),
            Refused("contains macros"),
        ),
        case("zip bomb named .docx", "budget.docx", bomb.clone(), Refused("archive bomb")),
        case("zip bomb named .zip", "budget.zip", bomb, Refused("archive bomb")),
        case("plain zip", "photos.zip", zip(&[("notes.txt", b"hello")]), Refused("(an archive)")),
        case("Windows program named .pdf", "report.pdf", exe, Refused("Windows program")),
        case("clean JPEG", "photo.jpg", jpeg(), Stored("image/jpeg")),
        case("clean PNG", "chart.png", png(), Stored("image/png")),
        case("clean GIF", "anim.gif", encoded(image::ImageFormat::Gif), Stored("image/png")),
        case("clean WebP", "photo.webp", encoded(image::ImageFormat::WebP), Stored("image/png")),
        case("clean PDF", "report.pdf", pdf_clean(), Stored("application/pdf")),
        case("clean PDF with object streams", "report.pdf", pdf_clean_object_streams(), Stored("application/pdf")),
        case(
            "clean DOCX (Word)",
            "report.docx",
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../baspa/tests/fixtures/word/report.docx"))
                .expect("report.docx fixture"),
            Stored("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ),
        case(
            "clean generated DOCX",
            "letter.docx",
            docx_with(&[]),
            Stored("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ),
        case(
            "clean XLSX",
            "budget.xlsx",
            xlsx(),
            Stored("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ),
    ]
}

fn picture() -> image::RgbImage {
    image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, ((x + y) * 2) as u8]))
}

fn encoded(format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture()).to_rgba8().write_to(&mut out, format).expect("encode");
    out.into_inner()
}

pub fn png() -> Vec<u8> {
    encoded(image::ImageFormat::Png)
}

pub fn jpeg() -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    picture().write_to(&mut out, image::ImageFormat::Jpeg).expect("jpeg");
    out.into_inner()
}

/// A JPEG with a COM (comment) segment right after the SOI marker.
pub fn jpeg_with_comment(comment: &[u8]) -> Vec<u8> {
    let jpeg = jpeg();
    let len = u16::try_from(comment.len() + 2).expect("short comment").to_be_bytes();
    [&jpeg[..2], &[0xFF, 0xFE], &len[..], comment, &jpeg[2..]].concat()
}

pub fn zip(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        writer.start_file(*name, options).expect("zip entry");
        writer.write_all(data).expect("zip write");
    }
    writer.finish().expect("zip").into_inner()
}

/// 200 MB of zeros packed into one entry (about 200 KB).
fn bomb_zip() -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("word/document.xml", options).expect("zip entry");
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..200 {
        writer.write_all(&zeros).expect("zip write");
    }
    writer.finish().expect("zip").into_inner()
}

const DOCX_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

/// A minimal Word document, plus extra parts.
pub fn docx_with(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", DOCX_TYPES.as_bytes()),
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#,
        ),
        (
            "word/document.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Astana, 2026</w:t></w:r></w:p></w:body></w:document>"#,
        ),
    ];
    parts.extend_from_slice(extra);
    zip(&parts)
}

/// A minimal Excel workbook with one sheet and one cell.
pub fn xlsx() -> Vec<u8> {
    zip(&[
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Budget" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        (
            "xl/worksheets/sheet1.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Budget 2026</t></is></c><c r="B1"><v>1200</v></c></row></sheetData></worksheet>"#,
        ),
    ])
}

/// A one-page PDF with text; `catalog_extra` adds entries to the catalog.
fn pdf_document(catalog_extra: impl FnOnce(&mut Document) -> Vec<(&'static str, Object)>) -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica"});
    let content = b"BT /F1 24 Tf 72 720 Td (Astana budget report 2026) Tj ET".to_vec();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => dictionary! {"Font" => dictionary! {"F1" => font_id}},
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {"Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1}),
    );
    let mut catalog = dictionary! {"Type" => "Catalog", "Pages" => pages_id};
    for (key, value) in catalog_extra(&mut doc) {
        catalog.set(key, value);
    }
    let catalog_id = doc.add_object(catalog);
    doc.trailer.set("Root", catalog_id);
    doc.compress();
    doc
}

fn saved(mut doc: Document, object_streams: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if object_streams {
        let options =
            lopdf::SaveOptions::builder().use_object_streams(true).use_xref_streams(true).compression_level(6).build();
        doc.save_with_options(&mut out, options).expect("save pdf");
    } else {
        doc.save_to(&mut out).expect("save pdf");
    }
    out
}

pub fn pdf_clean() -> Vec<u8> {
    saved(pdf_document(|_| vec![]), false)
}

fn pdf_clean_object_streams() -> Vec<u8> {
    saved(pdf_document(|_| vec![("OpenAction", vec![0.into(), "Fit".into()].into())]), true)
}

fn javascript_action(doc: &mut Document, code: &str) -> Object {
    doc.add_object(dictionary! {"Type" => "Action", "S" => "JavaScript", "JS" => Object::string_literal(code)}).into()
}

fn pdf_javascript_names() -> Vec<u8> {
    saved(
        pdf_document(|doc| {
            let action = javascript_action(doc, "app.alert('hi')");
            let tree = dictionary! {"Names" => vec![Object::string_literal("hello"), action]};
            vec![("Names", dictionary! {"JavaScript" => tree}.into())]
        }),
        false,
    )
}

/// With `object_streams`, the action lives inside a compressed object stream: the raw file does
/// not contain `/JavaScript` at all (checked), so only a parser that unpacks object streams finds
/// it.
fn pdf_open_action(object_streams: bool) -> Vec<u8> {
    let bytes = saved(
        pdf_document(|doc| vec![("OpenAction", javascript_action(doc, "app.launchURL('http://x.invalid')"))]),
        object_streams,
    );
    if object_streams {
        assert!(!bytes.windows(11).any(|w| w == b"/JavaScript"), "the action must be hidden in an object stream");
    }
    bytes
}

/// `/JavaScript` written as `/J#61vaScript`, which every PDF reader reads as the same name. The
/// script text is shortened by the same two bytes so the cross-reference offsets stay right.
fn pdf_escaped() -> Vec<u8> {
    let bytes = saved(pdf_document(|doc| vec![("OpenAction", javascript_action(doc, "alertXY"))]), false);
    let text = bytes.iter().map(|b| *b as char).collect::<String>();
    assert!(text.contains("/JavaScript") && text.contains("alertXY"), "unexpected PDF layout");
    let escaped = text.replacen("/JavaScript", "/J#61vaScript", 1).replacen("alertXY", "alert", 1);
    let out: Vec<u8> = escaped.chars().map(|c| c as u8).collect();
    assert_eq!(out.len(), bytes.len());
    out
}

fn pdf_launch() -> Vec<u8> {
    saved(
        pdf_document(|doc| {
            let action = doc.add_object(dictionary! {"S" => "Launch", "F" => Object::string_literal("cmd.exe")});
            let page_aa = dictionary! {"O" => action};
            vec![("Names", dictionary! {"Launchers" => page_aa}.into())]
        }),
        false,
    )
}
