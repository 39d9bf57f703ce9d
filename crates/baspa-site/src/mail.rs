//! Outgoing mail over SMTP (lettre): plain `smtp://` for a local relay, `smtps://` for TLS.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::admin::MailConfig;

pub async fn send(config: &MailConfig, to: &str, subject: &str, body: &str) -> Result<(), String> {
    let from: Mailbox = config.from.parse().map_err(|e| format!("mail.from {:?}: {e}", config.from))?;
    let to: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        // UTF-8 plain text; lettre picks quoted-printable or base64 for Kazakh and Russian.
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| format!("cannot build the message: {e}"))?;
    let url = url::Url::parse(&config.smtp_url).map_err(|e| format!("mail.smtp_url: {e}"))?;
    let host = url.host_str().ok_or("mail.smtp_url has no host")?.to_owned();
    let transport = match url.scheme() {
        "smtp" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(url.port().unwrap_or(25)).build(),
        "smtps" => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)
            .map_err(|e| format!("TLS to {host}: {e}"))?
            .port(url.port().unwrap_or(465))
            .build(),
        other => return Err(format!("mail.smtp_url scheme {other:?}: use smtp:// or smtps://")),
    };
    transport.send(message).await.map(|_| ()).map_err(|e| format!("SMTP: {e}"))
}
