//! Keeps `migrations/sqlite` and `migrations/postgres` in lockstep: the same numbered files.

use std::collections::BTreeSet;
use std::path::Path;

fn names(engine: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(engine);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_engines_have_the_same_migrations() {
    let sqlite = names("sqlite");
    let postgres = names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "every migration must exist for both engines under the same name");
    for (i, name) in sqlite.iter().enumerate() {
        let expected = format!("{:04}_", i + 1);
        assert!(
            name.starts_with(&expected),
            "{name} should start with {expected}: numbers run 0001, 0002, ... without gaps"
        );
        assert!(name.ends_with(".sql"), "{name} must be a .sql file");
    }
}

#[test]
fn both_engines_create_the_same_tables_and_columns() {
    // A cheap structural check: the CREATE TABLE names and column names must match, so a
    // column added to one engine only is caught before any query runs.
    for name in names("sqlite") {
        let read = |engine: &str| {
            std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(engine).join(&name),
            )
            .unwrap()
        };
        assert_eq!(
            shape(&read("sqlite")),
            shape(&read("postgres")),
            "{name}: tables and columns differ between engines"
        );
    }
}

/// The first word of every non-comment line, which for our migrations are table, column
/// and index names plus SQL keywords.
fn shape(sql: &str) -> Vec<String> {
    sql.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .filter_map(|l| l.split_whitespace().next())
        .map(|w| w.trim_end_matches(',').to_lowercase())
        .collect()
}
