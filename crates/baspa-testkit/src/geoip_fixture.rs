//! A tiny MaxMind DB (the `.mmdb` format of GeoLite2 and DB-IP) written from scratch for tests:
//! one IPv4 network mapped to one country. Real databases cannot ship with the repo; the format
//! is small enough to write: a binary search tree of 24-bit records, 16 zero bytes, a data
//! section, and a metadata map after the `\xAB\xCD\xEFMaxMind.com` marker.

use std::path::Path;

fn string(out: &mut Vec<u8>, s: &str) {
    assert!(s.len() < 29, "short strings only");
    out.push(0x40 | s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

fn map_header(out: &mut Vec<u8>, entries: u8) {
    out.push(0xE0 | entries);
}

fn uint(out: &mut Vec<u8>, type_bits: u8, value: u64) {
    let bytes: Vec<u8> = value.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
    match type_bits {
        5 | 6 => out.push((type_bits << 5) | bytes.len() as u8),
        // Extended types: a zero type field, then the type minus 7.
        ext => {
            out.push(bytes.len() as u8);
            out.push(ext - 7);
        }
    }
    out.extend_from_slice(&bytes);
}

/// Writes a database in which `network/prefix` has `country.iso_code = iso_code`.
pub fn write_country_mmdb(path: &Path, network: [u8; 4], prefix: u8, iso_code: &str) {
    let ip = u32::from_be_bytes(network);
    let node_count = u32::from(prefix);
    let data_record = node_count + 16;
    let mut tree = Vec::new();
    for depth in 0..node_count {
        let bit = (ip >> (31 - depth)) & 1;
        let onward = if depth + 1 < node_count { depth + 1 } else { data_record };
        let (left, right) = if bit == 0 { (onward, node_count) } else { (node_count, onward) };
        for record in [left, right] {
            tree.extend_from_slice(&record.to_be_bytes()[1..]);
        }
    }
    let mut data = Vec::new();
    map_header(&mut data, 1);
    string(&mut data, "country");
    map_header(&mut data, 1);
    string(&mut data, "iso_code");
    string(&mut data, iso_code);
    let mut meta = b"\xAB\xCD\xEFMaxMind.com".to_vec();
    map_header(&mut meta, 9);
    string(&mut meta, "binary_format_major_version");
    uint(&mut meta, 5, 2);
    string(&mut meta, "binary_format_minor_version");
    uint(&mut meta, 5, 0);
    string(&mut meta, "build_epoch");
    uint(&mut meta, 9, 1_764_000_000);
    string(&mut meta, "database_type");
    string(&mut meta, "Baspa-Test-Country");
    string(&mut meta, "description");
    map_header(&mut meta, 0);
    string(&mut meta, "ip_version");
    uint(&mut meta, 5, 4);
    string(&mut meta, "languages");
    meta.extend_from_slice(&[0x00, 0x04]); // empty array (extended type 11)
    string(&mut meta, "node_count");
    uint(&mut meta, 6, u64::from(node_count));
    string(&mut meta, "record_size");
    uint(&mut meta, 5, 24);
    let mut file = tree;
    file.extend_from_slice(&[0u8; 16]);
    file.extend_from_slice(&data);
    file.extend_from_slice(&meta);
    std::fs::write(path, file).expect("write mmdb");
}
