//! The product's own account mail (password reset, email verification — issue 17 item 5),
//! sent through a real SMTP server with `lettre`, or kept in an in-process outbox when no
//! server is configured (demo mode, so a person can follow the links from the browser).
//!
//! Class mail is not sent from here: it goes through Microsoft Graph `sendMail` as the teacher.
//!
//! Configuration: `EDUGRAPH_SMTP_URL` (`smtp://[user:pass@]host:port`; this build has no TLS
//! backend, so it talks to a local relay on the same host or network) and `EDUGRAPH_MAIL_FROM`.

use std::sync::{Arc, Mutex};

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Environment variable holding the SMTP relay's URL (`smtp://127.0.0.1:2525`).
pub const SMTP_URL_ENV: &str = "EDUGRAPH_SMTP_URL";
/// Environment variable holding the sender address (`EduGraph <no-reply@example.org>`).
pub const MAIL_FROM_ENV: &str = "EDUGRAPH_MAIL_FROM";

/// One message as the product composed it (also what the demo outbox shows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail configuration: {0}")]
    Config(String),
    #[error("bad address {0:?}")]
    Address(String),
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("SMTP delivery failed: {0}")]
    Smtp(String),
}

/// Where account mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// A real SMTP relay.
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    /// In-process outbox (demo mode and no SMTP configured): newest last.
    Outbox(Arc<Mutex<Vec<OutgoingMail>>>),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp { from, .. } => write!(f, "Mailer::Smtp(from {from})"),
            Self::Outbox(_) => f.write_str("Mailer::Outbox"),
        }
    }
}

impl Mailer {
    /// An SMTP mailer for `url` (`smtp://host:port`, plain, for a local relay).
    pub fn smtp(url: &str, from: &str) -> Result<Self, MailError> {
        let from: Mailbox = from.parse().map_err(|_| MailError::Address(from.to_owned()))?;
        let bad = |why: &str| MailError::Config(format!("{SMTP_URL_ENV}: {why}"));
        let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        if parsed.scheme() != "smtp" {
            return Err(bad("only smtp:// (a relay without TLS) is supported"));
        }
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("no host"))?;
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(parsed.port().unwrap_or(25));
        if !parsed.username().is_empty() {
            let decode = |v: &str| {
                url::form_urlencoded::parse(format!("v={}", v.replace('+', "%2B")).as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            builder = builder.credentials(Credentials::new(
                decode(parsed.username()),
                decode(parsed.password().unwrap_or_default()),
            ));
        }
        Ok(Self::Smtp { transport: builder.build(), from })
    }

    /// An empty in-process outbox.
    pub fn outbox() -> Self {
        Self::Outbox(Arc::default())
    }

    /// From `EDUGRAPH_SMTP_URL` + `EDUGRAPH_MAIL_FROM`; the outbox when no URL is set.
    /// A URL without a sender is a configuration error (refused at start, not at first mail).
    pub fn from_env() -> Result<Self, MailError> {
        match std::env::var(SMTP_URL_ENV).ok().filter(|v| !v.trim().is_empty()) {
            None => Ok(Self::outbox()),
            Some(url) => {
                let from = std::env::var(MAIL_FROM_ENV)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| MailError::Config(format!("{SMTP_URL_ENV} is set but {MAIL_FROM_ENV} is not")))?;
                Self::smtp(&url, &from)
            }
        }
    }

    /// Sends one plain-text message.
    pub async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::Address(mail.to.clone()))?;
        match self {
            Self::Outbox(outbox) => {
                outbox
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(OutgoingMail { to: to.to_string(), ..mail });
                Ok(())
            }
            Self::Smtp { transport, from } => {
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body)
                    .map_err(|e| MailError::Build(e.to_string()))?;
                transport.send(message).await.map(drop).map_err(|e| MailError::Smtp(e.to_string()))
            }
        }
    }

    /// The outbox's messages (newest last); empty for an SMTP mailer.
    pub fn outbox_messages(&self) -> Vec<OutgoingMail> {
        match self {
            Self::Outbox(outbox) => outbox.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone(),
            Self::Smtp { .. } => Vec::new(),
        }
    }
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The demo outbox as an HTML page (newest first). Every value is escaped; words of a body
/// that start with `public_url` (our own links) become links, nothing else does.
#[must_use]
pub fn render_outbox(messages: &[OutgoingMail], public_url: &str) -> String {
    let own = public_url.trim_end_matches('/');
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>EduGraph demo outbox</title></head>\
         <body><h1>Demo outbox</h1><p>Account mail the demo would have sent (no SMTP server is configured).</p>",
    );
    if messages.is_empty() {
        html.push_str("<p id=\"outbox-empty\">No mail yet.</p>");
    }
    for m in messages.iter().rev() {
        html.push_str("<article class=\"mail\"><h2>");
        html.push_str(&escape_html(&m.subject));
        html.push_str("</h2><p>To: <span class=\"to\">");
        html.push_str(&escape_html(&m.to));
        html.push_str("</span></p><pre>");
        // Words are separated by any whitespace (a link may end a line), which is kept as is.
        let mut rest = m.body.as_str();
        while !rest.is_empty() {
            let ws = rest.len() - rest.trim_start().len();
            html.push_str(&escape_html(&rest[..ws]));
            rest = &rest[ws..];
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let word = &rest[..end];
            if word.starts_with(&format!("{own}/")) {
                let e = escape_html(word);
                html.push_str(&format!("<a href=\"{e}\">{e}</a>"));
            } else {
                html.push_str(&escape_html(word));
            }
            rest = &rest[end..];
        }
        html.push_str("</pre></article>");
    }
    html.push_str("</body></html>");
    html
}

/// `GET /api/demo/outbox`, registered only in demo mode ([`crate::Config::demo_outbox`]).
pub async fn outbox_page(state: actix_web::web::Data<crate::state::AppState>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(render_outbox(&state.mailer.outbox_messages(), state.config.public_url.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to: &str) -> OutgoingMail {
        OutgoingMail {
            to: to.into(),
            subject: "Reset your password".into(),
            body: "Open http://localhost/reset?t=abc".into(),
        }
    }

    #[tokio::test]
    async fn the_outbox_keeps_messages_in_order() {
        let mailer = Mailer::outbox();
        mailer.send(mail("a@example.org")).await.unwrap();
        mailer.send(mail("b@example.org")).await.unwrap();
        let got: Vec<_> = mailer.outbox_messages().into_iter().map(|m| m.to).collect();
        assert_eq!(got, ["a@example.org", "b@example.org"]);
    }

    #[tokio::test]
    async fn a_bad_recipient_is_refused_not_sent() {
        let mailer = Mailer::outbox();
        assert!(matches!(mailer.send(mail("not an address")).await, Err(MailError::Address(_))));
        assert!(mailer.outbox_messages().is_empty());
    }

    const SINK: &str = r#"
import asyncio, os, sys
from aiosmtpd.controller import Controller
out = sys.argv[1]
class Sink:
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(out, "%d.eml" % len(os.listdir(out)))
        with open(name + ".part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".part", name)
        return "250 OK"
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[2]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

    struct Sink(std::process::Child, std::path::PathBuf);
    impl Drop for Sink {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
            let _ = std::fs::remove_dir_all(&self.1);
        }
    }

    /// A real SMTP server (PyPI `aiosmtpd`, installed by `infra/scripts/ensure-aiosmtpd`)
    /// writing each message it accepts to a directory.
    fn start_sink() -> Option<(Sink, u16)> {
        use std::io::BufRead;
        if std::process::Command::new("python3").arg("--version").output().is_err() {
            eprintln!("SKIPPED: python3 is absent, so no SMTP server (aiosmtpd) can run");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("edugraph-smtp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = std::process::Command::new("python3")
            .args(["-c", SINK])
            .arg(&dir)
            .arg(port.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let sink = Sink(child, dir);
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start: run infra/scripts/ensure-aiosmtpd (pip install aiosmtpd)"
        );
        Some((sink, port))
    }

    #[tokio::test]
    async fn account_mail_goes_through_a_real_smtp_server() {
        let Some((sink, port)) = start_sink() else { return };
        let mailer = Mailer::smtp(&format!("smtp://127.0.0.1:{port}"), "EduGraph <no-reply@edugraph.test>").unwrap();
        mailer.send(mail("ada@example.org")).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&sink.1)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .collect();
        assert_eq!(files.len(), 1, "exactly one message reached the server");
        let raw = std::fs::read_to_string(files[0].path()).unwrap();
        assert!(raw.contains("To: ada@example.org"), "{raw}");
        assert!(raw.contains("From: EduGraph <no-reply@edugraph.test>"), "{raw}");
        assert!(raw.contains("Subject: Reset your password"), "{raw}");
        assert!(raw.contains("http://localhost/reset?t=abc"), "{raw}");
        assert!(mailer.outbox_messages().is_empty());
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_smtp_error_not_a_panic() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mailer = Mailer::smtp(&format!("smtp://127.0.0.1:{port}"), "no-reply@edugraph.test").unwrap();
        assert!(matches!(mailer.send(mail("ada@example.org")).await, Err(MailError::Smtp(_))));
    }

    #[test]
    fn the_outbox_page_escapes_everything_and_links_only_our_own_urls() {
        let messages = [OutgoingMail {
            to: "ada@example.org".into(),
            subject: "<script>x</script>".into(),
            body: "Open http://localhost:8080/reset?t=a&b=1 or http://evil.example/x\nhttp://localhost:8080/verify-email#token=abc\n\nBye".into(),
        }];
        let html = render_outbox(&messages, "http://localhost:8080/");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");
        assert!(html.contains("<a href=\"http://localhost:8080/reset?t=a&amp;b=1\">"), "{html}");
        assert!(!html.contains("href=\"http://evil.example"), "{html}");
        // A link at the end of a line ends there.
        assert!(html.contains("<a href=\"http://localhost:8080/verify-email#token=abc\">"), "{html}");
        assert!(html.contains("</a>\n\nBye"), "{html}");
        assert!(render_outbox(&[], "http://localhost:8080").contains("outbox-empty"));
    }

    #[test]
    fn a_bad_smtp_url_or_sender_is_a_configuration_error() {
        assert!(matches!(Mailer::smtp("ftp://x", "a@example.org"), Err(MailError::Config(_))));
        assert!(matches!(Mailer::smtp("smtp://", "a@example.org"), Err(MailError::Config(_))));
        assert!(matches!(Mailer::smtp("smtp://127.0.0.1:25", "nobody"), Err(MailError::Address(_))));
    }
}
