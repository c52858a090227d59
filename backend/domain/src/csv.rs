//! CSV exports (seed 001: "users/groups as CSV"), shared by the `edugraph-sync export`
//! command and the admin API's streamed downloads, so both produce byte-identical files.
//!
//! - RFC 4180: fields are separated by `,`, records end with CRLF; a field containing `"`,
//!   `,`, `;`, CR or LF is enclosed in double quotes and its quotes are doubled (`;` because
//!   spreadsheets in many locales split on it when they guess the separator).
//! - Spreadsheet formula injection (OWASP "CSV Injection"): a cell whose first character is
//!   `=`, `+`, `-`, `@`, TAB, CR or LF, or their full-width forms `＝` `＋` `－` `＠` (which
//!   some spreadsheets fold to ASCII), also after leading spaces (` =1+2` is evaluated too), is
//!   prefixed with `'`, so Excel/LibreOffice/Sheets show it as text instead of evaluating it.
//!   Directory data is attacker-controlled (anyone may set their own job title or a group's
//!   name), the person opening the file is an admin.
//!
//! The writer appends to a `String` (one page of rows at a time): callers flush it as one
//! chunk of a streamed body or to a file, so memory holds one page, never the whole export.

use std::borrow::Cow;

/// Characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection), with
/// the full-width forms of `=` `+` `-` `@`.
const FORMULA_TRIGGERS: &[char] =
    &['=', '+', '-', '@', '\t', '\r', '\n', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}'];

/// Characters that make a field quoted.
const QUOTE_TRIGGERS: &[char] = &[',', ';', '"', '\r', '\n'];

/// The value as written: a leading `'` when it would start a formula, even after spaces.
fn neutralised(value: &str) -> Cow<'_, str> {
    if value.trim_start_matches(' ').starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// Appends one field, neutralised, and quoted when it contains `,` `;` `"` CR or LF.
pub fn push_field(out: &mut String, value: &str) {
    let value = neutralised(value);
    if value.contains(QUOTE_TRIGGERS) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&value);
    }
}

/// Appends one record (fields separated by `,`, terminated by CRLF). A record of one empty
/// field is written `""`, so it is not read as a blank line.
pub fn push_record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    let mut n = 0;
    let mut only_empty = true;
    for f in fields {
        if n > 0 {
            out.push(',');
        }
        push_field(out, f);
        only_empty &= f.is_empty();
        n += 1;
    }
    if n == 1 && only_empty {
        out.push_str("\"\"");
    }
    out.push_str("\r\n");
}

/// The columns of the users export, in order.
pub const USER_COLUMNS: &[&str] = &[
    "id",
    "display_name",
    "user_principal_name",
    "mail",
    "job_title",
    "department",
    "mobile_phone",
    "office_location",
    "account_enabled",
    "state",
    "synced_at",
];

/// The columns of the groups export, in order.
pub const GROUP_COLUMNS: &[&str] =
    &["id", "display_name", "description", "mail", "mail_nickname", "group_types", "security_enabled", "mail_enabled"];

/// One row of the users export (a synced profile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRow {
    /// Microsoft object id.
    pub id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// UPN.
    pub user_principal_name: Option<String>,
    /// Mail.
    pub mail: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Mobile phone.
    pub mobile_phone: Option<String>,
    /// Office location.
    pub office_location: Option<String>,
    /// Whether the account may sign in.
    pub account_enabled: bool,
    /// `active`, `disabled`, `archived` or `deleted`.
    pub state: String,
    /// When the sync last wrote it (unix ms).
    pub synced_at: i64,
}

/// One row of the groups export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRow {
    /// Microsoft object id.
    pub id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Mail.
    pub mail: Option<String>,
    /// Mail nickname.
    pub mail_nickname: Option<String>,
    /// `groupTypes`, joined with `;` (e.g. `Unified`).
    pub group_types: Vec<String>,
    /// Security group.
    pub security_enabled: Option<bool>,
    /// Mail-enabled.
    pub mail_enabled: Option<bool>,
}

fn opt(v: Option<&String>) -> &str {
    v.map_or("", String::as_str)
}

fn flag(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
}

/// The header record of the users export.
pub fn push_user_header(out: &mut String) {
    push_record(out, USER_COLUMNS.iter().copied());
}

/// Appends one user record.
pub fn push_user(out: &mut String, u: &UserRow) {
    let synced = u.synced_at.to_string();
    push_record(
        out,
        [
            u.id.as_str(),
            opt(u.display_name.as_ref()),
            opt(u.user_principal_name.as_ref()),
            opt(u.mail.as_ref()),
            opt(u.job_title.as_ref()),
            opt(u.department.as_ref()),
            opt(u.mobile_phone.as_ref()),
            opt(u.office_location.as_ref()),
            flag(Some(u.account_enabled)),
            u.state.as_str(),
            synced.as_str(),
        ],
    );
}

/// The header record of the groups export.
pub fn push_group_header(out: &mut String) {
    push_record(out, GROUP_COLUMNS.iter().copied());
}

/// Appends one group record.
pub fn push_group(out: &mut String, g: &GroupRow) {
    let types = g.group_types.join(";");
    push_record(
        out,
        [
            g.id.as_str(),
            opt(g.display_name.as_ref()),
            opt(g.description.as_ref()),
            opt(g.mail.as_ref()),
            opt(g.mail_nickname.as_ref()),
            types.as_str(),
            flag(g.security_enabled),
            flag(g.mail_enabled),
        ],
    );
}

/// What an export contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The tenant's synced user profiles.
    Users,
    /// The tenant's groups (read from Graph page by page).
    Groups,
}

impl ExportKind {
    /// `users` or `groups`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Groups => "groups",
        }
    }
}

/// The `$select` of the groups export's Graph read.
pub const GROUP_SELECT: &[&str] =
    &["id", "displayName", "description", "mail", "mailNickname", "groupTypes", "securityEnabled", "mailEnabled"];

#[cfg(test)]
mod tests {
    use super::*;

    fn field(v: &str) -> String {
        let mut s = String::new();
        push_field(&mut s, v);
        s
    }

    #[test]
    fn plain_fields_are_written_as_is() {
        assert_eq!(field("Ann Smith"), "Ann Smith");
        assert_eq!(field(""), "");
        assert_eq!(field("a'b"), "a'b");
        // A minus or equals sign inside a value is harmless.
        assert_eq!(field("Smith-Jones = ok"), "Smith-Jones = ok");
    }

    #[test]
    fn rfc4180_quoting_of_quotes_commas_and_line_breaks() {
        assert_eq!(field("Smith, Ann"), "\"Smith, Ann\"");
        assert_eq!(field("the \"best\" teacher"), "\"the \"\"best\"\" teacher\"");
        assert_eq!(field("line1\nline2"), "\"line1\nline2\"");
        assert_eq!(field("line1\r\nline2"), "\"line1\r\nline2\"");
        assert_eq!(field("\""), "\"\"\"\"");
    }

    #[test]
    fn formula_triggers_get_a_leading_apostrophe() {
        // OWASP CSV injection: = + - @ TAB CR at the start.
        assert_eq!(field("=HYPERLINK(\"http://evil\",\"x\")"), "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"");
        assert_eq!(field("=1+2"), "'=1+2");
        assert_eq!(field("+1 555 0100"), "'+1 555 0100");
        assert_eq!(field("-2"), "'-2");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("\tcmd"), "'\tcmd");
        assert_eq!(field("\rcmd"), "\"'\rcmd\"");
        assert_eq!(field("=cmd|' /C calc'!A0,"), "\"'=cmd|' /C calc'!A0,\"");
    }

    /// OWASP CSV injection (the export is opened by an admin; no R- id covers it): every
    /// formula trigger, after spaces too, and the full-width forms; quoting on `,` `;` `"`.
    #[test]
    fn table_of_hostile_and_harmless_cells() {
        let table: &[(&str, &str)] = &[
            ("=1+2", "'=1+2"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            ("\nx", "\"'\nx\""),
            (" =1+2", "' =1+2"),
            ("   +1", "'   +1"),
            (" @x", "' @x"),
            (" -x", "' -x"),
            ("\u{FF1D}1+2", "'\u{FF1D}1+2"),
            ("\u{FF0B}1", "'\u{FF0B}1"),
            ("\u{FF0D}1", "'\u{FF0D}1"),
            ("\u{FF20}x", "'\u{FF20}x"),
            (" \u{FF1D}x", "' \u{FF1D}x"),
            ("=A1;B1", "\"'=A1;B1\""),
            ("a;b", "\"a;b\""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("a'b", "a'b"),
            ("Smith-Jones", "Smith-Jones"),
            (" plain", " plain"),
            ("x=1", "x=1"),
            ("", ""),
        ];
        for (cell, written) in table {
            assert_eq!(field(cell), *written, "cell {cell:?}");
        }
    }

    #[test]
    fn a_record_is_its_fields_joined_by_commas_and_ended_by_crlf() {
        let values = ["", "plain", "Smith, Ann", "\"q\"", "=1+2", "\rcmd", "line1\nline2", "-2", "#x", " a ", ""];
        let mut record = String::new();
        push_record(&mut record, values);
        let expected = values.iter().map(|v| field(v)).collect::<Vec<_>>().join(",") + "\r\n";
        assert_eq!(record, expected);
    }

    #[test]
    fn records_end_with_crlf_and_round_trip_through_a_reader() {
        let mut out = String::new();
        push_user_header(&mut out);
        push_user(
            &mut out,
            &UserRow {
                id: "id-1".into(),
                display_name: Some("Smith, \"Ann\"\nB".into()),
                job_title: Some("=EVIL()".into()),
                account_enabled: true,
                state: "active".into(),
                synced_at: 42,
                ..Default::default()
            },
        );
        assert!(out.starts_with("id,display_name,user_principal_name,mail,"));
        assert!(out.ends_with(",true,active,42\r\n"));
        let rows = parse(&out);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].len(), USER_COLUMNS.len());
        assert_eq!(rows[1][1], "Smith, \"Ann\"\nB");
        assert_eq!(rows[1][4], "'=EVIL()");
        assert_eq!(rows[1][2], "");
    }

    #[test]
    fn group_rows() {
        let mut out = String::new();
        push_group_header(&mut out);
        push_group(
            &mut out,
            &GroupRow {
                id: "g".into(),
                display_name: Some("All Teachers".into()),
                group_types: vec!["Unified".into(), "DynamicMembership".into()],
                security_enabled: Some(false),
                ..Default::default()
            },
        );
        let rows = parse(&out);
        assert_eq!(rows[0], GROUP_COLUMNS);
        assert_eq!(rows[1], ["g", "All Teachers", "", "", "", "Unified;DynamicMembership", "false", ""]);
    }

    /// A strict RFC 4180 reader, for the round-trip test.
    fn parse(s: &str) -> Vec<Vec<String>> {
        let mut rows = vec![];
        let mut row = vec![];
        let mut f = String::new();
        let mut chars = s.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            if quoted {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        f.push('"');
                    } else {
                        quoted = false;
                    }
                } else {
                    f.push(c);
                }
                continue;
            }
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut f)),
                '\r' => {
                    assert_eq!(chars.next(), Some('\n'), "bare CR outside quotes");
                    row.push(std::mem::take(&mut f));
                    rows.push(std::mem::take(&mut row));
                }
                '\n' => panic!("bare LF outside quotes"),
                c => f.push(c),
            }
        }
        assert!(f.is_empty() && row.is_empty(), "unterminated record");
        rows
    }
}
