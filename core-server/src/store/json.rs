//! Stored JSON: the JSON columns whose shape the server owns, as Rust types. Each is a
//! newtype over what the column holds, written and read as the same JSON as before (no
//! data migration). A value that does not decode is an error naming table, column, row
//! and value — never a silent empty list.
//!
//! The free-form JSON columns stay `serde_json::Value`: a user's profile, a
//! notification's data (the event's payload), an import change's before-image, and the
//! domain events' payload (read through [`crate::domain::events::DomainEvent`]).

use std::ops::Deref;

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, QueryResult, TryGetError, TryGetable, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::enums::{row_id, undecodable};
use crate::api::NotificationType;

/// An option of a choice question as stored in `test_questions.options`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredOption {
    pub id: Uuid,
    pub text: String,
    pub is_correct: bool,
}

/// One question's place in an attempt: the question and its options in shown order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutItem {
    pub q: Uuid,
    pub o: Vec<Uuid>,
}

macro_rules! stored_json {
    ($($(#[$doc:meta])* $ty:ident($inner:ty) in $table:literal . $column:literal;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $ty(pub $inner);

        impl Deref for $ty {
            type Target = $inner;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl From<$inner> for $ty {
            fn from(inner: $inner) -> Self {
                Self(inner)
            }
        }

        impl From<$ty> for Value {
            fn from(value: $ty) -> Self {
                // A Vec of plain serde types always serializes.
                Value::Json(serde_json::to_value(value.0).ok().map(Box::new))
            }
        }

        impl TryGetable for $ty {
            fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
                let name = index.as_str().map(str::to_owned);
                let json = <serde_json::Value as TryGetable>::try_get_by(res, index)?;
                serde_json::from_value(json.clone()).map_err(|why| {
                    let index = name.as_deref().unwrap_or($column);
                    TryGetError::DbErr(undecodable(
                        $table,
                        $column,
                        &row_id(res, index, $column),
                        &json.to_string(),
                        &why.to_string(),
                    ))
                })
            }
        }

        impl ValueType for $ty {
            fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
                match value {
                    Value::Json(Some(json)) => {
                        serde_json::from_value(*json).map_err(|_| ValueTypeErr)
                    }
                    _ => Err(ValueTypeErr),
                }
            }

            fn type_name() -> String {
                stringify!($ty).to_owned()
            }

            fn array_type() -> ArrayType {
                ArrayType::Json
            }

            fn column_type() -> ColumnType {
                ColumnType::Json
            }
        }

        impl Nullable for $ty {
            fn null() -> Value {
                Value::Json(None)
            }
        }
    )+};
}

stored_json! {
    /// `courses.tags`: the course's tags.
    CourseTags(Vec<String>) in "courses"."tags";
    /// `test_questions.options`: a choice question's options with their keys.
    QuestionOptions(Vec<StoredOption>) in "test_questions"."options";
    /// `test_questions.accepted_answers`: a short-answer question's accepted answers.
    AcceptedAnswers(Vec<String>) in "test_questions"."accepted_answers";
    /// `test_attempts.layout`: the attempt's question and option order.
    AttemptLayout(Vec<LayoutItem>) in "test_attempts"."layout";
    /// `notification_preferences.muted_types`: the types a user muted.
    MutedTypes(Vec<NotificationType>) in "notification_preferences"."muted_types";
}

#[cfg(test)]
mod tests {
    use sea_orm::{Database, DbBackend, DbErr, FromQueryResult, Statement};

    use super::*;

    #[derive(Debug, FromQueryResult)]
    struct Row {
        #[allow(dead_code)]
        id: i64,
        tags: CourseTags,
    }

    async fn read(sql: &str) -> Result<Vec<Row>, DbErr> {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Row::find_by_statement(Statement::from_string(DbBackend::Sqlite, sql))
            .all(&db)
            .await
    }

    #[tokio::test]
    async fn stored_json_decodes_into_its_type() {
        let rows = read(r#"SELECT 1 AS id, '["rust","web"]' AS tags"#)
            .await
            .unwrap();
        assert_eq!(*rows[0].tags, vec!["rust".to_owned(), "web".to_owned()]);
    }

    #[tokio::test]
    async fn a_corrupt_value_is_an_error_naming_table_column_row_and_value() {
        let err = read(r#"SELECT 7 AS id, '{"rust":1}' AS tags"#)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("courses.tags") && err.contains("row 7") && err.contains(r#"{"rust":1}"#),
            "{err}"
        );
    }
}
