//! Incident alerts by e-mail (HD-11): the handler of the `alert.incident` job that
//! `baspa_actions::security::raise_incident` queues once per new incident. Mail goes to
//! `security.alert_to`, or to every active administrator when that list is empty. Without SMTP
//! the incident still shows on the admin's security page; the job finishes with a warning.

use std::sync::Arc;

use baspa_actions::jobs::{Handler, JobRunner};
use baspa_actions::security::{ALERT_JOB, mark_notified};
use baspa_actions::{Actor, Ctx};
use sea_orm::DatabaseConnection;

use crate::admin::AdminConfig;

/// Adds the alert mailer to a job runner.
pub fn with_alert_jobs(runner: JobRunner, admin: Arc<AdminConfig>) -> JobRunner {
    let handler: Handler = Arc::new(move |db, job| {
        let admin = admin.clone();
        Box::pin(async move {
            let id = job
                .payload
                .get("incident_id")
                .and_then(|v| v.as_i64())
                .ok_or(("payload has no incident_id".to_owned(), false))?;
            send_alert(&db, &admin, id).await
        })
    });
    runner.with_handler(ALERT_JOB, handler)
}

async fn recipients(db: &DatabaseConnection, admin: &AdminConfig) -> Result<Vec<String>, (String, bool)> {
    if !admin.alert_to.is_empty() {
        return Ok(admin.alert_to.clone());
    }
    let users = baspa_db::users::list(db).await.map_err(|e| (e.to_string(), true))?;
    Ok(users
        .into_iter()
        .filter(|u| u.is_active && u.role == baspa_domain::Role::Administrator.as_str())
        .map(|u| u.email)
        .collect())
}

async fn send_alert(db: &DatabaseConnection, admin: &AdminConfig, id: i64) -> Result<(), (String, bool)> {
    let incident = baspa_db::security::get_incident(db, id).await.map_err(|e| (e.to_string(), false))?;
    if incident.notified_at.is_some() {
        return Ok(());
    }
    let Some(mail) = &admin.mail else {
        tracing::warn!(incident = id, summary = %incident.summary, "security incident: no SMTP configured, not mailed");
        return Ok(());
    };
    let to = recipients(db, admin).await?;
    if to.is_empty() {
        tracing::warn!(incident = id, "security incident: nobody to mail (no administrators, no security.alert_to)");
        return Ok(());
    }
    let subject = format!("[Baspa] Security incident: {}", one_line(&incident.summary, 120));
    let body = format!(
        "A security incident was detected.\n\n\
         What: {}\nCategory: {}\nSeverity: {}\nFirst seen: {} UTC\nCause: {}\n\n\
         Further occurrences of the same cause are counted on the admin's security page \
         ({}/security) without more mail until the incident is resolved there.\n",
        incident.summary,
        incident.category,
        incident.severity,
        incident.first_seen.format("%Y-%m-%d %H:%M:%S"),
        incident.cause,
        admin.path,
    );
    for address in &to {
        crate::mail::send(mail, address, &subject, &body).await.map_err(|e| (e, true))?;
    }
    let actor = Actor::system("alerts");
    mark_notified(&Ctx::new(db, &actor), id, &to).await.map_err(|e| (e.to_string(), true))
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() <= max { flat } else { format!("{}…", flat.chars().take(max).collect::<String>()) }
}
