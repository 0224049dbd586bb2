//! The constraint map names every unique key of the migrated schema, on this database,
//! and nothing that is not one: a new unique key without an entry fails here.

use std::collections::BTreeSet;

use edupro_server::store::constraints::ALL;
use sea_orm::{FromQueryResult, JsonValue, Statement};

use crate::helpers::spawn_app;

async fn rows(app: &crate::helpers::TestApp, sql: &str) -> Vec<JsonValue> {
    let backend = app.state.db.get_database_backend();
    JsonValue::find_by_statement(Statement::from_string(backend, sql))
        .all(&app.state.db)
        .await
        .expect("reading the schema")
}

#[tokio::test]
async fn every_unique_key_of_the_schema_is_in_the_constraint_map() {
    let app = spawn_app().await;
    let in_schema: BTreeSet<String> = if app.backend == "postgres" {
        rows(
            &app,
            "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexdef LIKE 'CREATE UNIQUE INDEX%' AND indexname NOT LIKE '%_pkey'",
        )
        .await
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
    } else {
        let mut found = BTreeSet::new();
        let indexes = rows(
            &app,
            "SELECT m.name AS tbl, il.name AS idx FROM sqlite_master m \
             JOIN pragma_index_list(m.name) il \
             WHERE m.type = 'table' AND il.\"unique\" = 1 AND il.origin <> 'pk'",
        )
        .await;
        for index in indexes {
            let table = index["tbl"].as_str().unwrap();
            let idx = index["idx"].as_str().unwrap();
            let mut columns: Vec<String> = rows(
                &app,
                &format!("SELECT name FROM pragma_index_info('{idx}') ORDER BY seqno"),
            )
            .await
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect();
            columns.sort();
            found.insert(format!("{table}({})", columns.join(",")));
        }
        found
    };
    let in_map: BTreeSet<String> = ALL
        .iter()
        .map(|c| {
            if app.backend == "postgres" {
                c.name.to_owned()
            } else {
                let mut columns: Vec<&str> = c.columns.to_vec();
                columns.sort();
                format!("{}({})", c.table, columns.join(","))
            }
        })
        .collect();
    assert_eq!(in_schema, in_map);
}
