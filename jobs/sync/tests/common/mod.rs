//! Shared set-up of the sync tests: a per-test database (SQLite always; MySQL when
//! `EDUGRAPH_TEST_MYSQL_URL` is set), the emulator with the demo app's certificate
//! registered, onboarded tenants, deps for in-process runs.
#![allow(dead_code, reason = "each test binary uses a part")]

use std::time::Duration;

use edu_db::Db;
use edu_domain::TenantId;
use edu_ms_emulator::{AppRegistration, EmulatorConfig, RunningEmulator, Seed};
use edu_msgraph::{AssertionAlg, ClientCredential, GeneratedCertificate, GraphClient, GraphSettings};
use edu_sync::SyncDeps;
use secrecy::SecretString;

pub use edu_test_db::{Backend, TestDatabase};

/// Everything a sync test needs.
pub struct Env {
    pub emu: RunningEmulator,
    pub db: Db,
    pub url: String,
    pub cert: GeneratedCertificate,
    pub client_id: String,
    /// Contoso (demo tenant 0): Microsoft id and our id.
    pub ms_tenant: String,
    pub tenant: TenantId,
    pub http: reqwest::Client,
    _dbguard: TestDatabase,
}

impl Env {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, Seed::Demo).await
    }

    pub async fn start_with(backend: Backend, seed: Seed) -> Self {
        let emu = edu_ms_emulator::start(EmulatorConfig { seed, workers: 1, ..Default::default() })
            .await
            .expect("emulator starts");
        let demo = emu.demo();
        let cert = edu_msgraph::generate_self_signed_certificate("edugraph-sync-test", 30).expect("certificate");
        emu.register_app(AppRegistration {
            client_id: demo.app_client_id.clone(),
            certificate_der: Some(cert.cert_der.clone()),
            ..Default::default()
        });
        let (guard, url) = TestDatabase::create(backend).await;
        let db = Db::connect(&url, 8).await.expect("db");
        db.migrate().await.expect("migrate");
        let ms_tenant = demo.tenants[0].id.clone();
        let tenant = onboard(&db, &ms_tenant, &demo.tenants[0].display_name).await;
        Self {
            emu,
            db,
            url,
            cert,
            client_id: demo.app_client_id,
            ms_tenant,
            tenant,
            http: reqwest::Client::new(),
            _dbguard: guard,
        }
    }

    pub fn settings(&self) -> GraphSettings {
        let mut s = GraphSettings::new(self.emu.graph_url(), self.emu.base_url(), &self.client_id);
        s.base_backoff = Duration::from_millis(20);
        s.max_backoff = Duration::from_secs(5);
        s.max_retries = 8;
        s.timeout = Duration::from_secs(20);
        s
    }

    pub fn deps(&self, page_size: Option<u32>) -> SyncDeps {
        let cred = ClientCredential::certificate_from_pem(
            &self.cert.cert_pem,
            SecretString::from(secrecy::ExposeSecret::expose_secret(&self.cert.private_key_pem).to_owned()),
            AssertionAlg::Ps256,
        )
        .expect("credential");
        let graph = GraphClient::with_credential(self.settings(), Some(cred)).expect("graph client");
        let mut deps = SyncDeps::new(self.db.clone(), graph);
        deps.page_size = page_size;
        deps
    }

    pub fn sync_tenant(&self) -> edu_db::sync::SyncTenant {
        edu_db::sync::SyncTenant {
            id: self.tenant,
            ms_tenant_id: self.ms_tenant.clone(),
            display_name: "Contoso".into(),
        }
    }

    pub async fn profiles(&self) -> Vec<edu_db::sync::StoredProfile> {
        edu_db::sync::profiles(&self.db, self.tenant).await.expect("profiles")
    }

    fn admin(&self, path: &str) -> String {
        format!("{}{path}", self.emu.admin_url())
    }

    /// Creates a user in Contoso; returns its object id.
    pub async fn create_user(&self, nick: &str, display: &str) -> String {
        let r = self
            .http
            .post(self.admin(&format!("/tenants/{}/users", self.ms_tenant)))
            .json(&serde_json::json!({"mailNickname": nick, "displayName": display, "role": "student"}))
            .send()
            .await
            .expect("create user");
        assert_eq!(r.status().as_u16(), 201, "create user");
        let v: serde_json::Value = r.json().await.expect("json");
        v["id"].as_str().expect("id").to_owned()
    }

    pub async fn patch_user(&self, id: &str, body: serde_json::Value) {
        let r = self
            .http
            .patch(self.admin(&format!("/tenants/{}/users/{id}", self.ms_tenant)))
            .json(&body)
            .send()
            .await
            .expect("patch user");
        assert!(r.status().is_success(), "patch user: {}", r.status());
    }

    pub async fn delete_user(&self, id: &str, permanent: bool) {
        let q = if permanent { "?permanent=true" } else { "" };
        let r = self
            .http
            .delete(self.admin(&format!("/tenants/{}/users/{id}{q}", self.ms_tenant)))
            .send()
            .await
            .expect("delete user");
        assert!(r.status().is_success(), "delete user: {}", r.status());
    }
}

/// Records a tenant as consented (what the API's admin-consent callback does).
pub async fn onboard(db: &Db, ms_tenant: &str, name: &str) -> TenantId {
    let id = edu_db::tenants::upsert_by_ms_id(db, ms_tenant, name, 0).await.expect("tenant");
    edu_db::tenants::set_consented(db, id, "https://graph.microsoft.com/.default", None, 0).await.expect("consent");
    id
}

/// The comparable content of a tenant's profiles: data and state (not marks or times).
pub fn comparable(p: &[edu_db::sync::StoredProfile]) -> Vec<(edu_db::sync::ProfileData, String)> {
    p.iter().map(|p| (p.data.clone(), p.state.clone())).collect()
}
