//! Logs never carry tokens, secrets, query strings or UPNs.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns; test code only

mod support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use edu_msgraph::{GraphAuth, GraphClient, ListUsersOptions};
use secrecy::SecretString;
use serde_json::json;
use support::{Resp, serve};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Minimal subscriber recording every event's fields as text.
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields(String);
impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut f = Fields(String::new());
        event.record(&mut f);
        self.0.lock().unwrap().push(f.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn logs_have_method_path_status_request_id_but_no_secrets() {
    let logs = Arc::new(Mutex::new(Vec::new()));
    let _guard = tracing::subscriber::set_default(Capture(logs.clone()));
    let server = serve(|req| async move {
        if req.path().starts_with("/auth/") {
            Resp::json(200, json!({"access_token": "APP-TOKEN-SECRET", "expires_in": 3599}))
        } else if req.path().contains("jane") {
            Resp::json(
                404,
                json!({"error": {"code": "Request_ResourceNotFound", "message": "jane@contoso.com not found"}}),
            )
            .header("request-id", "rid-42")
        } else {
            Resp::json(200, json!({"value": []})).header("request-id", "rid-43")
        }
    })
    .await;
    let mut settings = server.settings();
    settings.client_secret = Some(SecretString::from("CLIENT-SECRET-VALUE"));
    let c = GraphClient::new(settings).unwrap();
    let delegated = GraphAuth::delegated("t1", SecretString::from("USER-TOKEN-SECRET"));
    let _ = c.get_user(&delegated, "jane@contoso.com", &[]).await;
    let _ = c
        .list_users(
            &GraphAuth::app_only("t1"),
            &ListUsersOptions { filter: Some("mail eq 'bob@contoso.com'".into()), ..Default::default() },
        )
        .await
        .unwrap();
    let all = logs.lock().unwrap().join("\n");
    assert!(all.contains("graph.method=GET"), "{all}");
    assert!(all.contains("graph.status=404"), "{all}");
    assert!(all.contains("graph.request_id=\"rid-42\"") || all.contains("graph.request_id=rid-42"), "{all}");
    assert!(all.contains("graph.path=/graph/v1.0/users/{upn}"), "{all}");
    assert!(all.contains("duration_ms="), "{all}");
    assert!(all.contains("retry=0"), "{all}");
    for forbidden in
        ["APP-TOKEN-SECRET", "USER-TOKEN-SECRET", "CLIENT-SECRET-VALUE", "jane", "bob", "$filter", "$select", "?"]
    {
        assert!(!all.contains(forbidden), "log leaks {forbidden:?}:\n{all}");
    }
}
