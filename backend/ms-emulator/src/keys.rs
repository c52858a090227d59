//! RSA signing keys (generated at start, TEST ONLY), self-signed X.509 certificates (`rcgen`) and
//! reading their keys (`x509-cert`),
//! JWKS rendering and client-assertion helpers.

use crate::util::{b64std, b64url};
use rsa::pkcs1::{EncodeRsaPrivateKey as _, EncodeRsaPublicKey as _};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha1::Digest as _;
use std::sync::{Arc, OnceLock};

/// One signing key of the emulated identity platform.
pub struct SigningKey {
    pub kid: String,
    pub cert_der: Vec<u8>,
    pub n: String,
    pub e: String,
    pub encoding: jsonwebtoken::EncodingKey,
    pub decoding: jsonwebtoken::DecodingKey,
}

impl SigningKey {
    pub fn generate(label: &str) -> anyhow::Result<SigningKey> {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
        Self::from_private(&key, label)
    }

    fn from_private(key: &RsaPrivateKey, label: &str) -> anyhow::Result<SigningKey> {
        let cert_der = self_signed_cert(key, label)?;
        let kid = b64url(&sha1::Sha1::digest(&cert_der));
        let public = key.to_public_key();
        let n = b64url(&public.n().to_bytes_be());
        let e = b64url(&public.e().to_bytes_be());
        let der = key.to_pkcs1_der()?;
        let encoding = jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes());
        let decoding = jsonwebtoken::DecodingKey::from_rsa_components(&n, &e)?;
        Ok(SigningKey { kid, cert_der, n, e, encoding, decoding })
    }

    pub fn jwk(&self, issuer: &str) -> serde_json::Value {
        serde_json::json!({
            "kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
            "n": self.n, "e": self.e, "x5c": [b64std(&self.cert_der)], "issuer": issuer,
        })
    }
}

static FIRST_KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();

/// The process-wide initial key (generated once per process so many emulators in one test binary
/// start fast).
pub fn initial_key() -> anyhow::Result<Arc<SigningKey>> {
    if let Some(k) = FIRST_KEY.get() {
        return Ok(k.clone());
    }
    let k = Arc::new(SigningKey::generate("EduGraph MS emulator signing key (TEST ONLY)")?);
    Ok(FIRST_KEY.get_or_init(|| k).clone())
}

// ---- X.509 ----

/// `rcgen` signs the certificate through this: RSA PKCS#1 v1.5 with SHA-256.
struct RsaSigner<'a> {
    key: &'a RsaPrivateKey,
    public_pkcs1_der: Vec<u8>,
}

impl rcgen::PublicKeyData for RsaSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public_pkcs1_der
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl rcgen::SigningKey for RsaSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.key.clone());
        Ok(signer.sign(msg).to_vec())
    }
}

/// A self-signed certificate for `key` with subject `CN=cn`, valid 2025-01-01 to 2049-12-31.
fn self_signed_cert(key: &RsaPrivateKey, cn: &str) -> anyhow::Result<Vec<u8>> {
    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.not_before = time::Date::from_calendar_date(2025, time::Month::January, 1)?.midnight().assume_utc();
    params.not_after =
        time::Date::from_calendar_date(2049, time::Month::December, 31)?.with_hms(23, 59, 59)?.assume_utc();
    let mut serial = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut serial);
    // A positive INTEGER whose first byte is not zero.
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let signer = RsaSigner { key, public_pkcs1_der: key.to_public_key().to_pkcs1_der()?.into_vec() };
    Ok(params.self_signed(&signer)?.der().to_vec())
}

/// Extracts the RSA public key from an X.509 certificate (DER).
pub fn cert_public_key(cert_der: &[u8]) -> Option<RsaPublicKey> {
    use x509_cert::der::{Decode as _, Encode as _};
    let cert = x509_cert::Certificate::from_der(cert_der).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    RsaPublicKey::from_public_key_der(&spki).ok()
}

pub fn sha1_thumbprint_b64url(cert_der: &[u8]) -> String {
    b64url(&sha1::Sha1::digest(cert_der))
}

pub fn sha256_thumbprint_b64url(cert_der: &[u8]) -> String {
    b64url(&sha2::Sha256::digest(cert_der))
}

/// A client certificate + private key, for tests and demos that use the certificate credential
/// (client assertion) flow. TEST ONLY.
pub struct ClientCertificate {
    key: RsaPrivateKey,
    /// The certificate (DER) to put into [`crate::AppRegistration::certificate_der`].
    pub der: Vec<u8>,
}

/// Signature algorithm of a client assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionAlg {
    /// Current Microsoft guidance: PS256 with `x5t#S256`.
    Ps256,
    /// Legacy: RS256 with `x5t` (SHA-1 thumbprint).
    Rs256,
}

impl ClientCertificate {
    pub fn generate(common_name: &str) -> anyhow::Result<ClientCertificate> {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
        let der = self_signed_cert(&key, common_name)?;
        Ok(ClientCertificate { key, der })
    }

    /// Private key as PKCS#1 PEM (what a product would load from disk).
    pub fn private_key_pem(&self) -> anyhow::Result<String> {
        Ok(self.key.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)?.to_string())
    }

    /// Builds a client assertion JWT as MSAL does: `aud` = token endpoint, `iss` = `sub` =
    /// client id, `jti` = GUID, `nbf`/`iat` = now, `exp` = now + 10 min.
    pub fn client_assertion(&self, client_id: &str, token_endpoint: &str, alg: AssertionAlg) -> anyhow::Result<String> {
        let now = crate::util::now_secs();
        let claims = serde_json::json!({
            "aud": token_endpoint, "iss": client_id, "sub": client_id,
            "jti": crate::util::new_id(), "nbf": now, "iat": now, "exp": now + 600,
        });
        self.sign_assertion(&claims, alg)
    }

    /// Signs arbitrary assertion claims (for negative tests).
    pub fn sign_assertion(&self, claims: &serde_json::Value, alg: AssertionAlg) -> anyhow::Result<String> {
        let mut header = match alg {
            AssertionAlg::Ps256 => jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256),
            AssertionAlg::Rs256 => jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        };
        match alg {
            AssertionAlg::Ps256 => header.x5t_s256 = Some(sha256_thumbprint_b64url(&self.der)),
            AssertionAlg::Rs256 => header.x5t = Some(sha1_thumbprint_b64url(&self.der)),
        }
        let der = self.key.to_pkcs1_der()?;
        let key = jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes());
        Ok(jsonwebtoken::encode(&header, claims, &key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn cert_roundtrip() {
        let c = ClientCertificate::generate("unit").expect("gen");
        let pk = cert_public_key(&c.der).expect("parse");
        assert_eq!(pk, c.key.to_public_key());
        assert!(cert_public_key(&c.der[..20]).is_none());
    }

    #[test]
    fn certificates_keep_their_subject_validity_and_a_positive_serial() {
        use x509_cert::der::Decode as _;
        let c = ClientCertificate::generate("unit").expect("gen");
        let cert = x509_cert::Certificate::from_der(&c.der).expect("parse");
        let tbs = &cert.tbs_certificate;
        assert_eq!(tbs.subject.to_string(), "CN=unit");
        assert_eq!(tbs.issuer, tbs.subject);
        assert_eq!(tbs.validity.not_before.to_unix_duration().as_secs(), 1_735_689_600, "2025-01-01T00:00:00Z");
        assert_eq!(tbs.validity.not_after.to_unix_duration().as_secs(), 2_524_607_999, "2049-12-31T23:59:59Z");
        assert_eq!(tbs.serial_number.as_bytes().len(), 16);
        assert!(tbs.serial_number.as_bytes()[0] & 0x80 == 0, "positive");
    }
}
