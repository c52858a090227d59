//! OData query-string and path helpers (percent-encoding done right).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters left as-is in query values. Spaces become `%20` (not `+`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'$')
    .remove(b',')
    .remove(b'(')
    .remove(b')')
    .remove(b'\'')
    .remove(b'/')
    .remove(b':')
    .remove(b'@')
    .remove(b'*')
    .remove(b'!');

/// Characters left as-is in one path segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'$');

/// Encodes one path segment (an id or a UPN). `#` becomes `%23`, `/` `%2F`;
/// the dot segments `.` and `..` are encoded so they cannot climb the path.
pub fn seg(value: &str) -> String {
    if value == "." || value == ".." {
        return value.replace('.', "%2E");
    }
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// Quotes a string literal for `$filter` (`'` doubled).
pub fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// OData query options. `$select` should be set on every call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    params: Vec<(String, String)>,
}

impl Query {
    pub fn new() -> Self {
        Self::default()
    }

    /// `$select=a,b,c`.
    pub fn select(self, fields: &[&str]) -> Self {
        self.param("$select", fields.join(","))
    }

    pub fn filter(self, filter: impl Into<String>) -> Self {
        self.param("$filter", filter)
    }

    pub fn top(self, top: u32) -> Self {
        self.param("$top", top.to_string())
    }

    /// `$count=true` (needs `ConsistencyLevel: eventual` to take effect).
    pub fn count(self) -> Self {
        self.param("$count", "true")
    }

    pub fn orderby(self, orderby: impl Into<String>) -> Self {
        self.param("$orderby", orderby)
    }

    pub fn expand(self, expand: impl Into<String>) -> Self {
        self.param("$expand", expand)
    }

    /// `$search="..."` (the value must carry its own quotes).
    pub fn search(self, search: impl Into<String>) -> Self {
        self.param("$search", search)
    }

    /// Any other parameter; later values for the same name replace earlier ones.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.params.retain(|(n, _)| *n != name);
        self.params.push((name, value.into()));
        self
    }

    pub fn has(&self, name: &str) -> bool {
        self.params.iter().any(|(n, _)| n == name)
    }

    /// `?a=b&c=d`, or an empty string without parameters.
    pub fn to_query_string(&self) -> String {
        if self.params.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, QUERY_VALUE), utf8_percent_encode(v, QUERY_VALUE)))
            .collect();
        format!("?{}", parts.join("&"))
    }

    /// `path` + query string.
    pub fn apply(&self, path: &str) -> String {
        format!("{path}{}", self.to_query_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_values_and_keeps_odata_syntax() {
        let q = Query::new()
            .select(&["id", "displayName"])
            .filter(format!(
                "startswith(displayName,{}) and mail eq {}",
                odata_string("O'Neil"),
                odata_string("a+b#c@x.com")
            ))
            .top(5)
            .count();
        assert_eq!(
            q.to_query_string(),
            "?$select=id,displayName&$filter=startswith(displayName,'O''Neil')%20and%20mail%20eq%20'a%2Bb%23c@x.com'&$top=5&$count=true"
        );
        assert_eq!(Query::new().to_query_string(), "");
        assert_eq!(Query::new().top(1).top(2).apply("/users"), "/users?$top=2");
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(seg("abc-123"), "abc-123");
        assert_eq!(seg("jane_contoso.com#EXT#@x.onmicrosoft.com"), "jane_contoso.com%23EXT%23@x.onmicrosoft.com");
        assert_eq!(seg("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(seg(".."), "%2E%2E");
    }
}
