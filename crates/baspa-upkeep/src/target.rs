//! Backup targets through opendal: a local folder (`file:///var/backups/baspa` or a plain path)
//! or S3-compatible storage (`s3://bucket/prefix?endpoint=https://…&region=…`, keys from
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). Uploads are written under a temporary name
//! and renamed when the backend can rename; S3 makes an object visible only once complete.

use std::path::Path;

use opendal::{Operator, services};

use crate::BackupError;
use crate::manifest::{SIDECAR_SUFFIX, Sidecar};

const CHUNK: u64 = 8 << 20;

#[derive(Clone)]
pub struct Target {
    /// The target as configured, with any secret left out (for messages and the journal).
    pub label: String,
    op: Operator,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

impl Target {
    pub fn open(spec: &str) -> Result<Self, BackupError> {
        let fail = |reason: String| BackupError::Target { target: spec.to_owned(), reason };
        let spec = spec.trim();
        if let Some(rest) = spec.strip_prefix("s3://") {
            let url = url::Url::parse(spec).map_err(|e| fail(e.to_string()))?;
            let bucket = url.host_str().ok_or_else(|| fail("s3://BUCKET/prefix: the bucket is missing".into()))?;
            let mut b = services::S3::default().bucket(bucket).root(url.path());
            for (k, v) in url.query_pairs() {
                b = match k.as_ref() {
                    "endpoint" => b.endpoint(&v),
                    "region" => b.region(&v),
                    other => return Err(fail(format!("unknown option {other:?}; use endpoint= and region="))),
                };
            }
            let op = Operator::new(b).map_err(|e| fail(e.to_string()))?;
            let label = format!("s3://{}", rest.split('?').next().unwrap_or(rest));
            return Ok(Self { label, op });
        }
        let path = match spec.strip_prefix("file://") {
            Some(p) => p.to_owned(),
            None if spec.contains("://") => {
                return Err(fail("use file:///PATH (or a plain path) or s3://BUCKET/PREFIX".into()));
            }
            None => spec.to_owned(),
        };
        let abs = std::path::absolute(Path::new(&path)).map_err(|e| fail(e.to_string()))?;
        std::fs::create_dir_all(&abs).map_err(|e| fail(format!("cannot create the folder: {e}")))?;
        let b = services::Fs::default().root(&abs.display().to_string());
        let op = Operator::new(b).map_err(|e| fail(e.to_string()))?;
        Ok(Self { label: format!("file://{}", abs.display()), op })
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> BackupError {
        BackupError::Target { target: self.label.clone(), reason: format!("{what}: {e}") }
    }

    pub async fn exists(&self, path: &str) -> Result<bool, BackupError> {
        self.op.exists(path).await.map_err(|e| self.err(path, e))
    }

    pub async fn read(&self, path: &str) -> Result<Vec<u8>, BackupError> {
        match self.op.read(path).await {
            Ok(b) => Ok(b.to_vec()),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => {
                Err(BackupError::NotFound(format!("{path} is missing from {}", self.label)))
            }
            Err(e) => Err(self.err(path, e)),
        }
    }

    /// Writes `path` so that it appears only complete: under a temporary name renamed at the end
    /// where the backend can rename (a local folder), directly where an object only becomes
    /// visible once fully uploaded (S3). A killed run leaves at most a `.partial` name, which
    /// `exists` never mistakes for the object.
    pub async fn write(&self, path: &str, bytes: Vec<u8>) -> Result<(), BackupError> {
        if !self.op.info().capability().rename {
            return self.op.write(path, bytes).await.map(|_| ()).map_err(|e| self.err(path, e));
        }
        let temp = format!("{path}.partial");
        self.op.write(&temp, bytes).await.map_err(|e| self.err(&temp, e))?;
        self.op.rename(&temp, path).await.map_err(|e| self.err(path, e))
    }

    pub async fn delete(&self, path: &str) -> Result<(), BackupError> {
        self.op.delete(path).await.map_err(|e| self.err(path, e))
    }

    /// Uploads a local file so that `path` appears only once the whole file is there.
    pub async fn upload_file(&self, local: &Path, path: &str) -> Result<(), BackupError> {
        use tokio::io::AsyncReadExt;
        let can_rename = self.op.info().capability().rename;
        let temp = if can_rename { format!("{path}.partial") } else { path.to_owned() };
        let mut file = tokio::fs::File::open(local).await.map_err(|e| BackupError::io(local.display(), e))?;
        let mut writer = self.op.writer(&temp).await.map_err(|e| self.err(&temp, e))?;
        let mut buf = vec![0u8; CHUNK as usize];
        loop {
            let n = file.read(&mut buf).await.map_err(|e| BackupError::io(local.display(), e))?;
            if n == 0 {
                break;
            }
            writer.write(buf[..n].to_vec()).await.map_err(|e| self.err(&temp, e))?;
        }
        writer.close().await.map_err(|e| self.err(&temp, e))?;
        if can_rename {
            self.op.rename(&temp, path).await.map_err(|e| self.err(path, e))?;
        }
        Ok(())
    }

    /// Downloads `path` into a local file, returning its size.
    pub async fn download(&self, path: &str, local: &Path) -> Result<u64, BackupError> {
        use tokio::io::AsyncWriteExt;
        let meta = match self.op.stat(path).await {
            Ok(m) => m,
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => {
                return Err(BackupError::NotFound(format!("{path} is missing from {}", self.label)));
            }
            Err(e) => return Err(self.err(path, e)),
        };
        let size = meta.content_length();
        let reader = self.op.reader(path).await.map_err(|e| self.err(path, e))?;
        let mut out = tokio::fs::File::create(local).await.map_err(|e| BackupError::io(local.display(), e))?;
        let mut offset = 0;
        while offset < size {
            let end = (offset + CHUNK).min(size);
            let chunk = reader.read(offset..end).await.map_err(|e| self.err(path, e))?;
            out.write_all(&chunk.to_vec()).await.map_err(|e| BackupError::io(local.display(), e))?;
            offset = end;
        }
        out.flush().await.map_err(|e| BackupError::io(local.display(), e))?;
        Ok(size)
    }

    /// Complete backups (those with a sidecar), oldest first. Unreadable sidecars are skipped
    /// with a warning; `verify` names them.
    pub async fn list_backups(&self) -> Result<Vec<Sidecar>, BackupError> {
        let entries = match self.op.list("archives/").await {
            Ok(e) => e,
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.err("archives/", e)),
        };
        let mut out = Vec::new();
        for e in entries {
            if !e.name().ends_with(SIDECAR_SUFFIX) {
                continue;
            }
            let bytes = self.read(e.path()).await?;
            match serde_json::from_slice::<Sidecar>(&bytes) {
                Ok(s) => out.push(s),
                Err(err) => tracing::warn!(target = %self.label, path = e.path(), error = %err, "unreadable sidecar"),
            }
        }
        out.sort_by(|a, b| (a.created(), &a.name).cmp(&(b.created(), &b.name)));
        Ok(out)
    }

    /// Every file under `prefix`, recursively.
    pub async fn list_files(&self, prefix: &str) -> Result<Vec<String>, BackupError> {
        match self.op.list_with(prefix).recursive(true).await {
            Ok(entries) => {
                Ok(entries.into_iter().filter(|e| e.metadata().is_file()).map(|e| e.path().to_owned()).collect())
            }
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(self.err(prefix, e)),
        }
    }
}
