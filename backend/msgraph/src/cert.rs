//! Self-signed certificate for the sync job's `cert generate` command.

use std::fmt;

use base64::Engine as _;

use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use secrecy::SecretString;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::token::{x5t_s256, x5t_sha1};

/// A freshly generated certificate and key.
///
/// Register `cert_pem` (or `cert_der`) as a certificate credential of the app
/// registration in Entra; keep `private_key_pem` secret (mount it read-only).
#[derive(Clone)]
pub struct GeneratedCertificate {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    /// PKCS#8 PEM of the RSA private key.
    pub private_key_pem: SecretString,
    /// SubjectPublicKeyInfo PEM (handy to verify assertions in tests).
    pub public_key_pem: String,
    /// Upper-case hex SHA-1 thumbprint (what the Entra portal shows).
    pub thumbprint_sha1_hex: String,
    /// Upper-case hex SHA-256 thumbprint.
    pub thumbprint_sha256_hex: String,
    /// base64url SHA-1 thumbprint (`x5t` header).
    pub x5t: String,
    /// base64url SHA-256 thumbprint (`x5t#S256` header).
    pub x5t_s256: String,
}

impl fmt::Debug for GeneratedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedCertificate")
            .field("thumbprint_sha1_hex", &self.thumbprint_sha1_hex)
            .field("thumbprint_sha256_hex", &self.thumbprint_sha256_hex)
            .field("private_key_pem", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

impl GeneratedCertificate {
    /// Standard base64 of the DER certificate (the `key` of a Graph
    /// `keyCredential`, or the content of a `.cer` upload).
    pub fn cert_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.cert_der)
    }

    /// A Graph `keyCredential` object to add to the application's
    /// `keyCredentials` (PATCH /applications/{id}) to register this cert.
    pub fn key_credential_json(&self, display_name: &str) -> serde_json::Value {
        serde_json::json!({
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
            "key": self.cert_base64(),
            "displayName": display_name,
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("certificate generation failed: {0}")]
pub struct CertError(String);

struct RsaSigner {
    key: RsaPrivateKey,
    public_pkcs1_der: Vec<u8>,
}

impl rcgen::PublicKeyData for RsaSigner {
    fn der_bytes(&self) -> &[u8] {
        &self.public_pkcs1_der
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl rcgen::SigningKey for RsaSigner {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let digest = Sha256::digest(msg);
        self.key.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest).map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Generates an RSA-2048 key and a self-signed certificate (CN =
/// `common_name`) valid for `validity_days`.
pub fn generate_self_signed_certificate(
    common_name: &str,
    validity_days: u32,
) -> Result<GeneratedCertificate, CertError> {
    let mut rng = rsa::rand_core::OsRng;
    let key = RsaPrivateKey::new(&mut rng, 2048).map_err(|e| CertError(e.to_string()))?;
    let public = key.to_public_key();
    let public_pkcs1_der = public.to_pkcs1_der().map_err(|e| CertError(e.to_string()))?.as_bytes().to_vec();
    let public_key_pem = public.to_public_key_pem(LineEnding::LF).map_err(|e| CertError(e.to_string()))?;
    let private_key_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| CertError(e.to_string()))?.to_string();

    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, common_name);
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(i64::from(validity_days.max(1)));
    let serial: [u8; 16] = rand::random();
    let mut serial = serial.to_vec();
    // Positive INTEGER: clear the top bit.
    if let Some(first) = serial.first_mut() {
        *first &= 0x7f;
    }
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let signer = RsaSigner { key, public_pkcs1_der };
    let cert = params.self_signed(&signer).map_err(|e| CertError(e.to_string()))?;
    let cert_der = cert.der().to_vec();
    let cert_pem = cert.pem();
    Ok(GeneratedCertificate {
        thumbprint_sha1_hex: upper_hex(&Sha1::digest(&cert_der)),
        thumbprint_sha256_hex: upper_hex(&Sha256::digest(&cert_der)),
        x5t: x5t_sha1(&cert_der),
        x5t_s256: x5t_s256(&cert_der),
        cert_der,
        cert_pem,
        private_key_pem: SecretString::from(private_key_pem),
        public_key_pem,
    })
}
