//! The MySQL and SQLite migration trees define the same schema: the same files, tables,
//! columns and nullability. Both trees are applied to real databases (SQLite always; MySQL
//! when `EDUGRAPH_TEST_MYSQL_URL` is set, otherwise the MySQL tree's `CREATE TABLE`s are
//! parsed) and the catalogues compared.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sqlx::Connection as _;

use crate::support::{Backend, TestDb, mysql_url};

/// table → column → nullable.
type Schema = BTreeMap<String, BTreeMap<String, bool>>;

fn tree(dialect: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(dialect)
}

fn files(dialect: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(tree(dialect))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_migration_exists_in_both_trees() {
    assert_eq!(files("mysql"), files("sqlite"));
}

async fn sqlite_schema(t: &TestDb) -> Schema {
    let mut conn = sqlx::AnyConnection::connect(&t.url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for table in tables {
        let cols: Vec<(String, i64, i64)> = sqlx::query_as("SELECT name, \"notnull\", pk FROM pragma_table_info(?)")
            .bind(&table)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        // A primary key column is NOT NULL on MySQL, whatever SQLite says.
        schema.insert(table, cols.into_iter().map(|(c, notnull, pk)| (c, notnull == 0 && pk == 0)).collect());
    }
    schema
}

async fn mysql_schema(t: &TestDb) -> Schema {
    let mut conn = sqlx::AnyConnection::connect(&t.url).await.unwrap();
    let cols: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT CONVERT(table_name USING utf8mb4), CONVERT(column_name USING utf8mb4), CONVERT(is_nullable USING utf8mb4)
         FROM information_schema.columns
         WHERE table_schema = DATABASE() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (table, column, nullable) in cols {
        schema.entry(table).or_default().insert(column, nullable == "YES");
    }
    schema
}

/// The `CREATE TABLE` / `ALTER TABLE … ADD|DROP COLUMN` statements of a tree, applied in order.
fn parsed_schema(dialect: &str) -> Schema {
    let mut schema = Schema::new();
    for file in files(dialect) {
        let sql = std::fs::read_to_string(tree(dialect).join(&file)).unwrap();
        let sql: String = sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let words: Vec<&str> = stmt.split_whitespace().collect();
            let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
            let name = |i: usize| words[i].trim_matches('`').trim_end_matches('(').to_owned();
            if upper.starts_with(&["CREATE".into(), "TABLE".into()]) {
                let table = name(2);
                let body = &stmt[stmt.find('(').unwrap() + 1..stmt.rfind(')').unwrap()];
                let mut cols = BTreeMap::new();
                for part in split_top_level(body) {
                    let first = part.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    if ["PRIMARY", "UNIQUE", "KEY", "INDEX", "CONSTRAINT", "FOREIGN", "CHECK"].contains(&first.as_str())
                    {
                        continue;
                    }
                    let def = part.to_ascii_uppercase();
                    let column = part.split_whitespace().next().unwrap().trim_matches('`').to_owned();
                    cols.insert(column, !(def.contains("NOT NULL") || def.contains("PRIMARY KEY")));
                }
                schema.insert(table, cols);
            } else if upper.starts_with(&["ALTER".into(), "TABLE".into()]) {
                let table = name(2);
                match (upper.get(3).map(String::as_str), upper.get(4).map(String::as_str)) {
                    (Some("ADD"), Some("COLUMN")) => {
                        let def = upper[6..].join(" ");
                        schema.entry(table).or_default().insert(name(5), !def.contains("NOT NULL"));
                    }
                    (Some("DROP"), Some("COLUMN")) => {
                        schema.entry(table).or_default().remove(&name(5));
                    }
                    _ => {} // keys and indexes
                }
            }
        }
    }
    schema
}

fn split_top_level(body: &str) -> Vec<String> {
    let (mut parts, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in body.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    parts.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mysql_and_sqlite_trees_define_the_same_tables_and_columns() {
    // Arrange: both trees applied (MySQL parsed when no server is configured).
    let sqlite = TestDb::migrated(Backend::Sqlite).await;
    let sqlite = sqlite_schema(&sqlite).await;
    let mysql = if mysql_url().is_some() {
        let t = TestDb::migrated(Backend::MySql).await;
        mysql_schema(&t).await
    } else {
        eprintln!("NOTICE: EDUGRAPH_TEST_MYSQL_URL is not set: the MySQL tree was parsed, not applied.");
        parsed_schema("mysql")
    };

    // Assert
    assert!(sqlite.len() >= 20, "{} tables", sqlite.len());
    let tables = |s: &Schema| s.keys().cloned().collect::<Vec<_>>();
    assert_eq!(tables(&mysql), tables(&sqlite), "the same tables");
    for (table, cols) in &sqlite {
        assert_eq!(&mysql[table], cols, "columns (name → nullable) of {table}");
    }
    // The parser agrees with SQLite's own catalogue, so it can stand in for MySQL's.
    assert_eq!(parsed_schema("sqlite"), sqlite);
}
