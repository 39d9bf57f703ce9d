//! Country from the client address (ML-3), when a MaxMind-format database (GeoLite2 or DB-IP
//! `.mmdb`) is configured. Used only for a first visit whose `Accept-Language` names none of the
//! site's languages.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
    /// ISO country code → language code, e.g. `KZ` → `kk`.
    languages: BTreeMap<String, String>,
}

impl GeoIp {
    pub fn open(path: &Path, languages: BTreeMap<String, String>) -> Result<Self, String> {
        let reader =
            maxminddb::Reader::open_readfile(path).map_err(|e| format!("GeoIP database {}: {e}", path.display()))?;
        let languages = languages.into_iter().map(|(country, lang)| (country.to_ascii_uppercase(), lang)).collect();
        Ok(Self { reader, languages })
    }

    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let result = self.reader.lookup(ip).ok()?;
        let iso: Option<String> = result.decode_path(&maxminddb::path!["country", "iso_code"]).ok()?;
        iso
    }

    /// The language configured for the client's country, if any.
    pub fn language_for(&self, ip: IpAddr) -> Option<&str> {
        self.languages.get(&self.country(ip)?).map(String::as_str)
    }
}
