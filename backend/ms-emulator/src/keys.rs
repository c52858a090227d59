//! RSA signing keys (generated at start, TEST ONLY), minimal X.509 certificate building/parsing,
//! JWKS rendering and client-assertion helpers.

use crate::util::{b64std, b64url};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};
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

// ---- minimal DER ----

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut o = vec![tag];
    let n = content.len();
    if n < 128 {
        o.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        o.push(0x80 | bytes.len() as u8);
        o.extend_from_slice(&bytes);
    }
    o.extend_from_slice(content);
    o
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn name(cn: &str) -> Vec<u8> {
    let attr = seq(&[&[0x06, 0x03, 0x55, 0x04, 0x03], &tlv(0x0c, cn.as_bytes())]);
    seq(&[&tlv(0x31, &attr)])
}

fn self_signed_cert(key: &RsaPrivateKey, cn: &str) -> anyhow::Result<Vec<u8>> {
    let spki = key.to_public_key().to_public_key_der()?;
    let alg = seq(&[&[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b], &[0x05, 0x00]]);
    let mut serial = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut serial);
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let validity = seq(&[&tlv(0x17, b"250101000000Z"), &tlv(0x17, b"491231235959Z")]);
    let subject = name(cn);
    let tbs = seq(&[
        &[0xa0, 0x03, 0x02, 0x01, 0x02],
        &tlv(0x02, &serial),
        &alg,
        &subject,
        &validity,
        &subject,
        spki.as_bytes(),
    ]);
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let sig = signer.sign(&tbs).to_vec();
    let mut bits = vec![0u8];
    bits.extend_from_slice(&sig);
    Ok(seq(&[&tbs, &alg, &tlv(0x03, &bits)]))
}

/// Reads one DER TLV: (tag, content, whole element, rest).
#[allow(clippy::type_complexity)]
fn read_tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8], &[u8])> {
    let tag = *buf.first()?;
    let l0 = *buf.get(1)? as usize;
    let (len, hdr) = if l0 < 0x80 {
        (l0, 2)
    } else {
        let nb = l0 & 0x7f;
        if nb == 0 || nb > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..nb {
            len = (len << 8) | *buf.get(2 + i)? as usize;
        }
        (len, 2 + nb)
    };
    let end = hdr.checked_add(len)?;
    if buf.len() < end {
        return None;
    }
    Some((tag, &buf[hdr..end], &buf[..end], &buf[end..]))
}

/// Extracts the RSA public key from an X.509 certificate (DER).
pub fn cert_public_key(cert_der: &[u8]) -> Option<RsaPublicKey> {
    let (t, cert, _, _) = read_tlv(cert_der)?;
    if t != 0x30 {
        return None;
    }
    let (t, tbs, _, _) = read_tlv(cert)?;
    if t != 0x30 {
        return None;
    }
    let mut rest = tbs;
    let (tag, _, _, r) = read_tlv(rest)?;
    if tag == 0xa0 {
        rest = r;
    }
    // serial, signature alg, issuer, validity, subject
    for _ in 0..5 {
        let (_, _, _, r) = read_tlv(rest)?;
        rest = r;
    }
    let (_, _, spki, _) = read_tlv(rest)?;
    RsaPublicKey::from_public_key_der(spki).ok()
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
}
