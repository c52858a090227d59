//! Small helpers: clock, timestamp formats used by Microsoft, deterministic ids, base64url.

use base64::Engine as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds and sub-second nanos since the Unix epoch.
pub fn now() -> (u64, u32) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_secs(), d.subsec_nanos())
}

pub fn now_secs() -> u64 {
    now().0
}

/// `secs` since the Unix epoch as UTC `(YYYY-MM-DD, hh:mm:ss)`.
fn utc(secs: u64) -> (String, String) {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    (
        format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
    )
}

/// Graph entity timestamp: `2021-09-03T23:57:14.6088791Z`.
pub fn iso_precise(secs: u64, nanos: u32) -> String {
    let (date, time) = utc(secs);
    format!("{date}T{time}.{:07}Z", nanos / 100)
}

/// Graph timestamp without fraction: `2021-09-03T23:57:14Z`.
pub fn iso(secs: u64) -> String {
    let (date, time) = utc(secs);
    format!("{date}T{time}Z")
}

pub fn iso_now() -> String {
    let (s, n) = now();
    iso_precise(s, n)
}

/// `innerError.date`: ISO without offset, e.g. `2021-05-18T19:03:10`.
pub fn inner_error_date() -> String {
    let (date, time) = utc(now_secs());
    format!("{date}T{time}")
}

/// OAuth error timestamp: `2016-01-09 02:02:12Z`.
pub fn oauth_timestamp() -> String {
    let (date, time) = utc(now_secs());
    format!("{date} {time}Z")
}

/// HTTP-date for cookies is not needed; we use Max-Age.
const NS: uuid::Uuid = uuid::Uuid::from_u128(0x6d2f_0e4c_5b7a_4c1e_9a3f_2b8d_1c0e_7f41);

/// Deterministic, name-based id (UUID v5) so the seed produces the same ids every run.
pub fn det_id(name: &str) -> String {
    uuid::Uuid::new_v5(&NS, name.as_bytes()).to_string()
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

pub fn b64std(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn b64std_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()
}

/// Random opaque token (URL safe).
pub fn random_token(len_bytes: usize) -> String {
    use rand::RngCore as _;
    let mut b = vec![0u8; len_bytes];
    rand::rng().fill_bytes(&mut b);
    b64url(&b)
}

pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn formats() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_536_361_411), "2018-09-07T23:03:31Z");
        assert_eq!(iso_precise(951_782_400, 500_000_000), "2000-02-29T00:00:00.5000000Z");
        assert_eq!(iso(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(iso(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(det_id("a"), det_id("a"));
        assert_ne!(det_id("a"), det_id("b"));
    }
}
