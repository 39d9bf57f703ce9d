//! Which language a request is for (ML-2): by host (`rus.baq.kz`) or by path prefix (`/en/`),
//! and how to build URLs back to each language version.

use baspa_domain::{LanguageRouting, LanguageSpec};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// Serve `path` (without the language prefix) in `lang`.
    Serve { lang: &'a LanguageSpec, path: String },
    /// Send the visitor to this path first (the bare root of a prefix-routed site).
    Redirect(String),
}

/// Host name without the port, lower-cased.
pub fn host_name(host_header: &str) -> String {
    let h = host_header.trim().to_ascii_lowercase();
    if h.starts_with('[') {
        return h.split(']').next().map(|s| format!("{s}]")).unwrap_or(h);
    }
    h.rsplit_once(':')
        .map(|(name, port)| if port.bytes().all(|b| b.is_ascii_digit()) { name.to_owned() } else { h.clone() })
        .unwrap_or(h)
}

/// `:8080` when the request came to a non-default port, else empty.
pub fn port_suffix(host_header: &str) -> String {
    let name = host_name(host_header);
    host_header
        .trim()
        .to_ascii_lowercase()
        .strip_prefix(&name)
        .filter(|rest| rest.starts_with(':'))
        .map(str::to_owned)
        .unwrap_or_default()
}

pub fn resolve<'a>(languages: &'a [LanguageSpec], host_header: &str, path: &str) -> Option<Resolution<'a>> {
    let host = host_name(host_header);
    if let Some(lang) =
        languages.iter().find(|l| matches!(&l.routing, LanguageRouting::Host(h) if h.eq_ignore_ascii_case(&host)))
    {
        return Some(Resolution::Serve { lang, path: path.to_owned() });
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    for lang in languages {
        if let LanguageRouting::PathPrefix(prefix) = &lang.routing
            && prefix.trim_matches('/') == first
            && !first.is_empty()
        {
            let rest = &path.trim_start_matches('/')[first.len()..];
            let rest = if rest.is_empty() { "/".to_owned() } else { rest.to_owned() };
            return Some(Resolution::Serve { lang, path: rest });
        }
    }
    let default = languages.iter().find(|l| l.is_default).or_else(|| languages.first())?;
    match &default.routing {
        LanguageRouting::PathPrefix(prefix) if path == "/" => {
            Some(Resolution::Redirect(format!("/{}/", prefix.trim_matches('/'))))
        }
        // Unknown hosts (and a bare IP) get the default language, as the old main domain did.
        _ => Some(Resolution::Serve { lang: default, path: path.to_owned() }),
    }
}

/// The absolute origin plus prefix of a language version, as seen from this request.
pub fn language_base(lang: &LanguageSpec, host_header: &str) -> String {
    match &lang.routing {
        LanguageRouting::Host(h) => format!("http://{h}{}", port_suffix(host_header)),
        LanguageRouting::PathPrefix(p) => {
            format!("http://{}/{}", host_header.trim(), p.trim_matches('/'))
        }
    }
}

/// The cookie domain that lets a language choice made on one host count on the others: the
/// default language's host when every other language host is a subdomain of it
/// (`baq.kz` covers `rus.baq.kz`); otherwise none (the cookie stays on its own host).
pub fn cookie_domain(languages: &[LanguageSpec]) -> Option<String> {
    let hosts: Vec<&str> = languages
        .iter()
        .filter_map(|l| if let LanguageRouting::Host(h) = &l.routing { Some(h.as_str()) } else { None })
        .collect();
    let default = languages
        .iter()
        .find(|l| l.is_default)
        .and_then(|l| if let LanguageRouting::Host(h) = &l.routing { Some(h.as_str()) } else { None })?;
    let covered = hosts.iter().all(|h| *h == default || h.ends_with(&format!(".{default}")));
    (hosts.len() > 1 && covered).then(|| default.to_owned())
}

#[cfg(test)]
mod tests {
    use baspa_domain::LangCode;

    use super::*;

    fn lang(code: &str, routing: LanguageRouting, is_default: bool) -> LanguageSpec {
        LanguageSpec {
            code: LangCode::parse(code).unwrap(),
            bcp47: code.into(),
            native_name: code.into(),
            routing,
            is_default,
            fallback: vec![],
            position: 0,
        }
    }

    #[test]
    fn ml2_host_routing_picks_the_language_of_the_host_and_defaults_for_unknown_hosts() {
        let langs = [
            lang("kk", LanguageRouting::Host("baq.localhost".into()), true),
            lang("ru", LanguageRouting::Host("rus.baq.localhost".into()), false),
        ];
        let served = |host: &str, path: &str| match resolve(&langs, host, path) {
            Some(Resolution::Serve { lang, path }) => (lang.code.to_string(), path),
            other => panic!("{other:?}"),
        };
        assert_eq!(served("rus.baq.localhost:8080", "/"), ("ru".into(), "/".into()));
        assert_eq!(served("BAQ.localhost", "/sport/"), ("kk".into(), "/sport/".into()));
        assert_eq!(served("127.0.0.1:3000", "/"), ("kk".into(), "/".into()));
        assert_eq!(language_base(&langs[1], "baq.localhost:8080"), "http://rus.baq.localhost:8080");
    }

    #[test]
    fn ml2_path_prefix_routing_strips_the_prefix_and_sends_the_bare_root_to_the_default() {
        let langs = [
            lang("kk", LanguageRouting::PathPrefix("kk".into()), true),
            lang("ru", LanguageRouting::PathPrefix("ru".into()), false),
            lang("en", LanguageRouting::PathPrefix("en".into()), false),
        ];
        assert_eq!(resolve(&langs, "gov.localhost", "/"), Some(Resolution::Redirect("/kk/".into())));
        match resolve(&langs, "gov.localhost", "/en/about/leadership/") {
            Some(Resolution::Serve { lang, path }) => {
                assert_eq!((lang.code.as_str(), path.as_str()), ("en", "/about/leadership/"))
            }
            other => panic!("{other:?}"),
        }
        match resolve(&langs, "gov.localhost", "/ru") {
            Some(Resolution::Serve { lang, path }) => {
                assert_eq!((lang.code.as_str(), path.as_str()), ("ru", "/"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(host_name("[::1]:8080"), "[::1]");
    }
}
