//! The archive file itself: tar → zstd → age, written and read as streams (blocking code; the
//! callers run it on a blocking thread). Reading hashes every entry and counts the lines of the
//! table files, optionally extracting them, so verify and restore share one pass.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use crate::BackupError;
use crate::crypto::{Identities, Recipients, describe_read_error};
use crate::manifest::Manifest;

/// Counts and hashes what passes through to the file.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Packs `files` (paths relative to `staging`, in order; put `manifest.json` last) into `out`.
/// Returns the blake3 and size of the encrypted file. `out` is fsynced before returning.
pub fn pack(
    staging: &Path,
    files: &[String],
    recipients: &Recipients,
    level: i32,
    out: &Path,
) -> Result<(String, u64), BackupError> {
    let io = |e: std::io::Error| BackupError::io(format!("writing {}", out.display()), e);
    let file = std::fs::File::create(out).map_err(io)?;
    let hashing = HashingWriter { inner: std::io::BufWriter::new(file), hasher: blake3::Hasher::new(), bytes: 0 };
    let encrypted = recipients.encrypt(hashing)?;
    let compressed = zstd::Encoder::new(encrypted, level).map_err(io)?;
    let mut tar = tar::Builder::new(compressed);
    tar.mode(tar::HeaderMode::Deterministic);
    for rel in files {
        tar.append_path_with_name(staging.join(rel), rel).map_err(io)?;
    }
    let compressed = tar.into_inner().map_err(io)?;
    let encrypted = compressed.finish().map_err(io)?;
    let mut hashing = encrypted.finish().map_err(io)?;
    hashing.flush().map_err(io)?;
    let digest = hashing.hasher.finalize().to_hex().to_string();
    let bytes = hashing.bytes;
    let file = hashing.inner.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok((digest, bytes))
}

/// What one pass over an archive found.
#[derive(Debug, Default)]
pub struct Unpacked {
    pub manifest: Option<Manifest>,
    /// blake3 and size of every entry by its path.
    pub hashes: BTreeMap<String, (String, u64)>,
    /// Lines of each `db/<table>.jsonl`.
    pub lines: BTreeMap<String, u64>,
}

/// Decrypts, decompresses and reads the archive at `path`, extracting into `extract_to` when
/// given. Any damage (wrong key, changed byte, cut-off file) ends the pass with a message
/// saying which.
pub fn unpack(path: &Path, ids: &Identities, extract_to: Option<&Path>) -> Result<Unpacked, BackupError> {
    let file = std::fs::File::open(path).map_err(|e| BackupError::io(path.display(), e))?;
    let plain = ids.decrypt_to(std::io::BufReader::new(file))?;
    let damaged = |e: std::io::Error| BackupError::Crypto(describe_read_error(&e));
    let decoder = zstd::Decoder::new(plain).map_err(damaged)?;
    let mut archive = tar::Archive::new(decoder);
    let mut out = Unpacked::default();
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let rel = entry.path().map_err(damaged)?.to_string_lossy().replace('\\', "/");
        if rel.starts_with('/') || rel.split('/').any(|p| p == "..") {
            return Err(BackupError::Refused(format!("the archive holds an unsafe path {rel:?}")));
        }
        let mut sink: Box<dyn Write> = match extract_to {
            Some(dir) => {
                let dest = dir.join(&rel);
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| BackupError::io(parent.display(), e))?;
                }
                Box::new(std::io::BufWriter::new(
                    std::fs::File::create(&dest).map_err(|e| BackupError::io(dest.display(), e))?,
                ))
            }
            None => Box::new(std::io::sink()),
        };
        let mut hasher = blake3::Hasher::new();
        let mut newlines = 0u64;
        let mut bytes = 0u64;
        let mut keep = Vec::new();
        let is_manifest = rel == "manifest.json";
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = entry.read(&mut buf).map_err(damaged)?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            hasher.update(chunk);
            bytes += n as u64;
            newlines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            if is_manifest {
                keep.extend_from_slice(chunk);
            }
            sink.write_all(chunk).map_err(|e| BackupError::io(&rel, e))?;
        }
        sink.flush().map_err(|e| BackupError::io(&rel, e))?;
        if is_manifest {
            let m: Manifest = serde_json::from_slice(&keep)
                .map_err(|e| BackupError::Refused(format!("manifest.json cannot be read: {e}")))?;
            out.manifest = Some(m);
        } else {
            if let Some(table) = rel.strip_prefix("db/").and_then(|t| t.strip_suffix(".jsonl")) {
                out.lines.insert(table.to_owned(), newlines);
            }
            out.hashes.insert(rel, (hasher.finalize().to_hex().to_string(), bytes));
        }
    }
    // The zstd frame and the age stream must end cleanly too: reading to the end makes age
    // authenticate the last chunk, which is what catches a cut-off file.
    let mut rest = archive.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(damaged)?;
    Ok(out)
}
