//! Fuzzes the rich-text sanitiser (`SanitizedHtml::sanitize`, HD-1) and what reads its output:
//! no input may panic, and no executable markup may survive.
#![no_main]

use baspa_domain::SanitizedHtml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let clean = SanitizedHtml::sanitize(&raw);
    let lower = clean.as_str().to_ascii_lowercase();
    for tag in ["<script", "<style", "<object", "<embed", "<form", "<svg", "<math", "<base", "<meta", "<link"] {
        assert!(!lower.contains(tag), "{tag} survived sanitising");
    }
    // Sanitising is stable: clean HTML stays clean when saved again.
    let again = SanitizedHtml::sanitize(clean.as_str());
    assert!(!again.as_str().to_ascii_lowercase().contains("<script"));
    let _ = clean.plain_text();
    let _ = baspa_domain::video_embed_src(&raw);
});
