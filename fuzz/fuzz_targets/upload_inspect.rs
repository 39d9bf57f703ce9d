//! Fuzzes the upload sniffer (`baspa_actions::uploads::inspect`): type from the bytes, image
//! re-encoding, polyglots, PDF active content, Office zips and archive bombs. The first byte
//! picks the name the uploader declared; no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "photo.jpg",
    "image.png",
    "anim.gif",
    "pic.webp",
    "report.pdf",
    "letter.docx",
    "table.xlsx",
    "slides.pptx",
    "notes.txt",
    "archive.zip",
    "macro.docm",
    "page.html",
    "vector.svg",
    "data.csv",
    "noext",
    "odd.JPEG",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let _ = baspa_actions::uploads::inspect(name, bytes, 8 << 20);
});
