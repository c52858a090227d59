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

fn civil(secs: u64) -> (i64, u32, u32, u64, u64, u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Graph entity timestamp: `2021-09-03T23:57:14.6088791Z`.
pub fn iso_precise(secs: u64, nanos: u32) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:07}Z", nanos / 100)
}

/// Graph timestamp without fraction: `2021-09-03T23:57:14Z`.
pub fn iso(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

pub fn iso_now() -> String {
    let (s, n) = now();
    iso_precise(s, n)
}

/// `innerError.date`: ISO without offset, e.g. `2021-05-18T19:03:10`.
pub fn inner_error_date() -> String {
    let (y, mo, d, h, mi, s) = civil(now_secs());
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
}

/// OAuth error timestamp: `2016-01-09 02:02:12Z`.
pub fn oauth_timestamp() -> String {
    let (y, mo, d, h, mi, s) = civil(now_secs());
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}Z")
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
        assert_eq!(det_id("a"), det_id("a"));
        assert_ne!(det_id("a"), det_id("b"));
    }
}
