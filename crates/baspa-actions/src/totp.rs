//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1, 6 digits, 30 s), the
//! variant every authenticator app supports. Secrets travel as RFC 4648 base32.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new random 160-bit secret, base32-encoded.
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    base32_encode(&bytes)
}

pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !matches!(c, ' ' | '-' | '=')) {
        let value = BASE32.iter().position(|&b| b as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The code for one time step.
pub fn code_at_step(secret: &[u8], step: i64) -> Option<u32> {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[digest.len() - 1] & 0x0f) as usize;
    let value = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    Some(value % 10u32.pow(DIGITS))
}

/// The step a code matches within one step of clock drift either way, if any.
pub fn matching_step(secret_base32: &str, code: &str, unix_seconds: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let secret = base32_decode(secret_base32)?;
    let now = unix_seconds.div_euclid(STEP_SECONDS);
    (now - 1..=now + 1).find(|&step| code_at_step(&secret, step) == Some(wanted))
}

/// What authenticator apps read from a QR code or a pasted link.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!("otpauth://totp/{}:{}?secret={secret_base32}&issuer={}", enc(issuer), enc(account), enc(issuer))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8-digit codes; we compare the last six digits).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight_digits) in
            [(59i64, 94287082u32), (1111111109, 7081804), (1111111111, 14050471), (1234567890, 89005924)]
        {
            assert_eq!(code_at_step(secret, time / STEP_SECONDS), Some(eight_digits % 1_000_000), "t={time}");
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI======").as_deref(), Some(&b"foobar"[..]));
        let s = new_secret();
        assert_eq!(s.len(), 32);
        assert_eq!(base32_decode(&s).map(|b| b.len()), Some(20));
    }

    #[test]
    fn codes_match_within_one_step_only() {
        let secret = new_secret();
        let raw = base32_decode(&secret).expect("decodes");
        let t = 1_700_000_000;
        let code = format!("{:06}", code_at_step(&raw, t / STEP_SECONDS).expect("code"));
        assert_eq!(matching_step(&secret, &code, t), Some(t / STEP_SECONDS));
        assert_eq!(matching_step(&secret, &code, t + STEP_SECONDS), Some(t / STEP_SECONDS));
        assert_eq!(matching_step(&secret, &code, t + 3 * STEP_SECONDS), None);
        assert_eq!(matching_step(&secret, "12a456", t), None);
        assert_eq!(matching_step(&secret, "", t), None);
    }
}
