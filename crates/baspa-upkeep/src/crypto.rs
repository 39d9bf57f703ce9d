//! age encryption for archives and media objects: x25519 recipients from the configuration,
//! identities from a file. Errors say in words what went wrong (wrong key, damaged file).

use std::io::{Read, Write};
use std::path::Path;

use age::secrecy::ExposeSecret;

use crate::BackupError;

/// The recipients every backup is encrypted to.
pub struct Recipients {
    keys: Vec<age::x25519::Recipient>,
    /// Short hash of the sorted recipients: media objects live under it, so changing the keys
    /// uploads fresh objects instead of reusing ones the new key cannot open.
    pub fingerprint: String,
}

impl Recipients {
    pub fn parse(raw: &[String]) -> Result<Self, BackupError> {
        if raw.is_empty() {
            return Err(BackupError::Config(
                "no backup recipient: set backup.recipients to an age public key (age1…); `baspa backup keygen` makes a pair"
                    .into(),
            ));
        }
        let mut keys = Vec::new();
        for r in raw {
            let key = r.trim().parse::<age::x25519::Recipient>().map_err(|e| {
                BackupError::Config(format!("backup.recipients: {r:?} is not an age x25519 public key: {e}"))
            })?;
            keys.push(key);
        }
        let mut sorted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        sorted.sort();
        let fingerprint = blake3::hash(sorted.join("\n").as_bytes()).to_hex()[..16].to_owned();
        Ok(Self { keys, fingerprint })
    }

    /// Wraps `out` so everything written to it is encrypted; call `finish` on the result.
    pub fn encrypt<W: Write>(&self, out: W) -> Result<age::stream::StreamWriter<W>, BackupError> {
        let encryptor = age::Encryptor::with_recipients(self.keys.iter().map(|k| k as &dyn age::Recipient))
            .map_err(|e| BackupError::Crypto(format!("cannot set up encryption: {e}")))?;
        encryptor.wrap_output(out).map_err(|e| BackupError::Crypto(format!("cannot start encryption: {e}")))
    }

    pub fn encrypt_bytes(&self, bytes: &[u8]) -> Result<Vec<u8>, BackupError> {
        let mut out = Vec::with_capacity(bytes.len() + 256);
        let mut w = self.encrypt(&mut out)?;
        w.write_all(bytes).map_err(|e| BackupError::Crypto(e.to_string()))?;
        w.finish().map_err(|e| BackupError::Crypto(e.to_string()))?;
        Ok(out)
    }
}

/// The identities that open backups.
pub struct Identities {
    keys: Vec<Box<dyn age::Identity + Send + Sync>>,
    pub source: String,
}

impl Identities {
    pub fn load(path: Option<&Path>) -> Result<Self, BackupError> {
        let Some(path) = path else {
            return Err(BackupError::Config(
                "no identity to open backups: set backup.identity_file or pass --identity FILE".into(),
            ));
        };
        let file = age::IdentityFile::from_file(path.display().to_string())
            .map_err(|e| BackupError::Config(format!("cannot read the identity file {}: {e}", path.display())))?;
        let keys = file
            .into_identities()
            .map_err(|e| BackupError::Config(format!("the identity file {} is not usable: {e}", path.display())))?;
        if keys.is_empty() {
            return Err(BackupError::Config(format!("the identity file {} holds no key", path.display())));
        }
        Ok(Self { keys, source: path.display().to_string() })
    }

    fn describe(&self, e: age::DecryptError) -> BackupError {
        describe_decrypt_error(e, &self.source)
    }

    pub fn decrypt_bytes(&self, bytes: &[u8]) -> Result<Vec<u8>, BackupError> {
        let decryptor = age::Decryptor::new(bytes).map_err(|e| self.describe(e))?;
        let mut reader = decryptor
            .decrypt(self.keys.iter().map(|k| k.as_ref() as &dyn age::Identity))
            .map_err(|e| self.describe(e))?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out).map_err(|e| BackupError::Crypto(describe_read_error(&e)))?;
        Ok(out)
    }

    /// A reader of the plaintext of `input`. Wrong keys and damaged headers are named here;
    /// damage in the body shows up as read errors (see `describe_read_error`).
    pub fn decrypt_to<R: Read>(&self, input: R) -> Result<impl Read, BackupError> {
        let decryptor = age::Decryptor::new(input).map_err(|e| self.describe(e))?;
        decryptor.decrypt(self.keys.iter().map(|k| k.as_ref() as &dyn age::Identity)).map_err(|e| self.describe(e))
    }
}

fn describe_decrypt_error(e: age::DecryptError, source: &str) -> BackupError {
    use age::DecryptError as E;
    BackupError::Crypto(match e {
        E::NoMatchingKeys => {
            format!(
                "wrong key: none of the identities in {source} can open this archive (it was encrypted to other recipients)"
            )
        }
        E::InvalidHeader | E::UnknownFormat => "the archive's header is damaged or it is not an age file".to_owned(),
        E::InvalidMac | E::DecryptionFailed | E::KeyDecryptionFailed => {
            "the archive is damaged: its header does not authenticate (a byte was changed?)".to_owned()
        }
        E::Io(io) => describe_read_error(&io),
        other => format!("cannot decrypt: {other}"),
    })
}

/// Read errors from the age stream in words an operator understands at 3 a.m.
pub fn describe_read_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    if e.kind() == std::io::ErrorKind::UnexpectedEof || text.contains("last chunk") || text.contains("truncated") {
        format!("the archive is truncated (it ends before its last encrypted chunk): {text}")
    } else if text.contains("decrypt") || text.contains("authentic") {
        format!("the archive is damaged: an encrypted chunk does not authenticate (a byte was changed): {text}")
    } else {
        text
    }
}

/// A new identity and its public key (`baspa backup keygen`).
pub fn generate_identity() -> (String, String) {
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    (id.to_string().expose_secret().to_owned(), public)
}
