//! Retention by grandfather-father-son (BK-6): keep the newest backup of each of the last N days,
//! weeks, months and quarters; delete the rest with their sidecars, then the media objects no
//! remaining backup needs. Also the copy of a backup to a second target (the quarterly copy to
//! another medium, kept a year) and the export bundle for an external medium (BK-7).

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Datelike, Utc};

use crate::BackupError;
use crate::manifest::{self, Sidecar};
use crate::target::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The newest backups kept whatever their period (so backups within one day survive).
    pub last: u32,
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
    pub quarterly: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self { last: 10, daily: 7, weekly: 5, monthly: 12, quarterly: 4 }
    }
}

/// Names the period a moment falls in (a day, an ISO week, a month, a quarter).
type Bucket = fn(&DateTime<Utc>) -> String;

/// Which backups the policy keeps (by name). The newest is always kept.
pub fn keep_set(backups: &[Sidecar], policy: Retention) -> HashSet<String> {
    let mut dated: Vec<(DateTime<Utc>, &Sidecar)> =
        backups.iter().filter_map(|s| s.created().map(|c| (c, s))).collect();
    dated.sort_by(|a, b| (b.0, &b.1.name).cmp(&(a.0, &a.1.name)));
    let mut keep = HashSet::new();
    for (_, s) in dated.iter().take(policy.last.max(1) as usize) {
        keep.insert(s.name.clone());
    }
    let buckets: [(u32, Bucket); 4] = [
        (policy.daily, |t| t.format("%Y-%m-%d").to_string()),
        (policy.weekly, |t| format!("{}-W{}", t.iso_week().year(), t.iso_week().week())),
        (policy.monthly, |t| t.format("%Y-%m").to_string()),
        (policy.quarterly, |t| format!("{}-Q{}", t.year(), (t.month() - 1) / 3 + 1)),
    ];
    for (count, bucket) in buckets {
        let mut seen = BTreeSet::new();
        for (t, s) in &dated {
            let b = bucket(t);
            if seen.contains(&b) {
                continue;
            }
            if seen.len() as u32 >= count {
                break;
            }
            seen.insert(b);
            keep.insert(s.name.clone());
        }
    }
    keep
}

/// What a prune removed.
#[derive(Debug, Clone, Default)]
pub struct PruneReport {
    pub kept: usize,
    pub removed: Vec<String>,
    pub objects_removed: u64,
}

async fn delete_unreferenced_objects(target: &Target, remaining: &[Sidecar]) -> Result<u64, BackupError> {
    let referenced: HashSet<String> = remaining
        .iter()
        .flat_map(|s| s.objects.iter().map(move |h| manifest::object_path(&s.recipients_fingerprint, h)))
        .collect();
    let mut removed = 0;
    for path in target.list_files("objects/").await? {
        if !referenced.contains(&path) {
            target.delete(&path).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Applies `policy` to a target. Run it after a backup, not during one: objects uploaded by a
/// backup that has no sidecar yet are not referenced.
pub async fn prune_target(target: &Target, policy: Retention) -> Result<PruneReport, BackupError> {
    let all = target.list_backups().await?;
    let keep = keep_set(&all, policy);
    let mut report = PruneReport::default();
    let mut remaining = Vec::new();
    for s in all {
        if keep.contains(&s.name) {
            remaining.push(s);
            continue;
        }
        // The sidecar goes first: a backup without it no longer counts, even if the archive's
        // deletion fails halfway.
        target.delete(&manifest::sidecar_path(&s.name)).await?;
        target.delete(&manifest::archive_path(&s.name)).await?;
        report.removed.push(s.name);
    }
    report.kept = remaining.len();
    report.objects_removed = delete_unreferenced_objects(target, &remaining).await?;
    Ok(report)
}

/// Copies one backup (archive, its media objects, then its sidecar) to another target.
pub async fn copy_backup(from: &Target, to: &Target, s: &Sidecar, spool: &std::path::Path) -> Result<(), BackupError> {
    std::fs::create_dir_all(spool).map_err(|e| BackupError::io(spool.display(), e))?;
    let work = tempfile::tempdir_in(spool).map_err(|e| BackupError::io(spool.display(), e))?;
    for hash in &s.objects {
        let path = manifest::object_path(&s.recipients_fingerprint, hash);
        if !to.exists(&path).await? {
            to.write(&path, from.read(&path).await?).await?;
        }
    }
    let local = work.path().join("archive");
    from.download(&manifest::archive_path(&s.name), &local).await?;
    to.upload_file(&local, &manifest::archive_path(&s.name)).await?;
    to.write(&manifest::sidecar_path(&s.name), from.read(&manifest::sidecar_path(&s.name)).await?).await?;
    Ok(())
}

/// On the second medium: deletes copies older than `days` (a year for BK-6), keeping the newest.
pub async fn expire_older_than(target: &Target, days: i64, now: DateTime<Utc>) -> Result<PruneReport, BackupError> {
    let all = target.list_backups().await?;
    let newest = all.last().map(|s| s.name.clone());
    let mut report = PruneReport::default();
    let mut remaining = Vec::new();
    for s in all {
        let old = s.created().is_some_and(|c| now - c > chrono::Duration::days(days));
        if old && Some(&s.name) != newest.as_ref() {
            target.delete(&manifest::sidecar_path(&s.name)).await?;
            target.delete(&manifest::archive_path(&s.name)).await?;
            report.removed.push(s.name);
        } else {
            remaining.push(s);
        }
    }
    report.kept = remaining.len();
    report.objects_removed = delete_unreferenced_objects(target, &remaining).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(name: &str, t: &str) -> Sidecar {
        Sidecar {
            format: 1,
            name: name.into(),
            created_at: t.into(),
            backend: "sqlite".into(),
            baspa_version: "0".into(),
            bytes: 0,
            blake3: String::new(),
            rows: 0,
            media_files: 0,
            recipients_fingerprint: "f".into(),
            objects: vec![],
        }
    }

    #[test]
    fn bk6_grandfather_father_son_keeps_the_newest_of_each_period() {
        let mut all = Vec::new();
        // Two backups a day for 400 days.
        let start = chrono::DateTime::parse_from_rfc3339("2025-11-01T03:00:00Z").unwrap().with_timezone(&Utc);
        for d in 0..400 {
            for h in [0, 12] {
                let t = start + chrono::Duration::days(d) + chrono::Duration::hours(h);
                all.push(at(&format!("b{d}-{h}"), &t.to_rfc3339()));
            }
        }
        let keep = keep_set(&all, Retention { last: 1, daily: 7, weekly: 4, monthly: 12, quarterly: 4 });
        assert!(keep.contains("b399-12"), "the newest");
        for d in 393..=399 {
            assert!(keep.contains(&format!("b{d}-12")), "the newest of each of the last 7 days");
        }
        assert!(!keep.iter().any(|n| n.ends_with("-0")), "only the newest of a day is ever kept");
        // 7 days + at most 4 weeks + 12 months + 4 quarters, with overlaps.
        assert!(keep.len() <= 7 + 4 + 12 + 4 && keep.len() >= 12, "{}", keep.len());
        // A backup from the first month survives only as a monthly/quarterly representative.
        let first_month: Vec<_> = keep.iter().filter(|n| n.starts_with("b1-") || n.starts_with("b2-")).collect();
        assert!(first_month.is_empty(), "{first_month:?}");
    }
}
