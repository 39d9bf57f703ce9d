//! HD-6: no plain e-mail addresses in pages. Addresses in rendered text become
//! `name [at] domain` and `mailto:` links lose their target; a contact form replaces them later.

/// Rewrites every `local@domain.tld` in the HTML and drops `mailto:` targets.
pub fn obfuscate_emails(html: &str) -> String {
    let html = html.replace("href=\"mailto:", "data-removed=\"");
    let chars: Vec<char> = html.chars().collect();
    let is_local = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+');
    let is_domain = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-');
    let mut out = String::with_capacity(html.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        let local_before = i > 0 && is_local(chars[i - 1]);
        let domain_after: String = chars[i + 1..].iter().take_while(|&&d| is_domain(d)).collect();
        if c == '@' && local_before && domain_after.trim_end_matches('.').contains('.') {
            out.push_str(" [at] ");
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd6_addresses_are_not_left_in_plain_form() {
        let html = r#"<p>Пошта: info@baq.kz, <a href="mailto:adv@baq.kz">жарнама</a>. @username қалады.</p>"#;
        let out = obfuscate_emails(html);
        assert!(!out.contains("info@baq.kz") && !out.contains("adv@baq.kz") && !out.contains("mailto:"), "{out}");
        assert!(out.contains("info [at] baq.kz"));
        assert!(out.contains("@username"), "handles that are not addresses stay");
    }
}
