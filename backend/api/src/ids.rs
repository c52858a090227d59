//! Typed identifiers taken from requests.

use std::fmt;

use crate::error::{ApiError, ErrorCode};

/// A Microsoft Graph object id (class, school, assignment, submission, person) taken from a
/// path or a body. Graph ids are opaque, but drawn from a small alphabet (GUIDs, and
/// base64url-like ids: ASCII letters and digits, `-`, `_`, `.`); anything outside it, and any
/// id made only of dots (`.`, `..`: a dot-segment, which a URL resolver would turn into "this
/// folder" or "the parent", e.g. `/education/schools/..` → `/education/users`, whether it
/// arrived as `..` or as `%2E%2E`) is refused before a Graph URL is built (404, like an
/// unknown id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GraphId(String);

impl GraphId {
    /// Whether `id` has the shape of a Graph id.
    #[must_use]
    pub fn is_valid(id: &str) -> bool {
        !id.is_empty()
            && id.len() <= 128
            && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !id.chars().all(|c| c == '.')
    }

    /// Parses an id; `404 not_found` ("No such class or school.") for anything else.
    ///
    /// # Errors
    /// The id is empty, too long or has a character a Graph id never has.
    pub fn parse(id: &str) -> Result<Self, ApiError> {
        if Self::is_valid(id) {
            Ok(Self(id.to_owned()))
        } else {
            Err(ApiError::not_found(ErrorCode::NotFound, "No such class or school."))
        }
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id, owned.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for GraphId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for GraphId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GraphId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::GraphId;

    #[test]
    fn only_graph_shaped_ids_are_accepted() {
        assert_eq!(GraphId::parse("a1-b_2.c").unwrap().as_str(), "a1-b_2.c");
        assert_eq!(GraphId::parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301").unwrap().as_str().len(), 36);
        let dot_segments_and_strangers = [
            "",
            ".",
            "..",
            "...",
            "%2E",
            "%2E%2E",
            "%2e%2e",
            ".%2E",
            "%252E%252E",
            "a/b",
            "a?b",
            "a#b",
            "a b",
            "..%2F",
            "a%2Fb",
            "a\\b",
            "a;b",
            "\u{FF0E}\u{FF0E}",
            "\u{2024}",
            "caf\u{e9}",
            "a\tb",
            "a\0b",
        ];
        for bad in dot_segments_and_strangers.iter().copied().chain([&*"x".repeat(129)]) {
            assert!(GraphId::parse(bad).is_err(), "{bad}");
        }
    }
}
