//! Stored enums: the wire enums of [`crate::api`] as column types, kept in the same text
//! columns as before (no data migration). A value that is none of the enum's spellings
//! is an error naming table, column, row and value — never a silent default.

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};
use uuid::Uuid;

use crate::api::WebhookDeliveryStatus;
use crate::api::{
    ActivityKind, AttemptStatus, CouponKind, CourseLevel, CourseStatus, DoubtStatus,
    EnrollmentStatus, GatewayKind, ImportKind, ImportMode, ImportStatus, LessonType,
    LiveClassStatus, LivePlatform, MailStatus, MultipleSelectScoring, NotificationType,
    OrderStatus, PaymentStatus, QuestionType, RefundStatus, Role, ShowAnswers, StaffRole,
    TestStatus, TestType,
};

/// The error for a stored value that does not decode: which table, column and row.
pub fn undecodable(table: &str, column: &str, row: &str, value: &str, why: &str) -> DbErr {
    DbErr::Type(format!(
        "{table}.{column} of row {row} holds `{value}`, which does not decode: {why}"
    ))
}

/// The id of the row `res` is, for error messages: its `id` column (with the same
/// prefix as `column`'s, in a joined select), as a UUID or a number.
pub(super) fn row_id(res: &QueryResult, index: &str, column: &str) -> String {
    let prefix = index.strip_suffix(column).unwrap_or("");
    let id = format!("{prefix}id");
    if let Ok(id) = res.try_get_by::<Uuid, _>(id.as_str()) {
        return id.to_string();
    }
    if let Ok(id) = res.try_get_by::<i64, _>(id.as_str()) {
        return id.to_string();
    }
    "?".to_owned()
}

macro_rules! stored_enums {
    ($($ty:ident in $table:literal . $column:literal;)+) => {$(
        impl From<$ty> for Value {
            fn from(value: $ty) -> Self {
                Value::String(Some(value.as_str().to_owned()))
            }
        }

        impl TryGetable for $ty {
            fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
                let name = index.as_str().map(str::to_owned);
                let text = <String as TryGetable>::try_get_by(res, index)?;
                text.parse::<$ty>().map_err(|why| {
                    let index = name.as_deref().unwrap_or($column);
                    TryGetError::DbErr(undecodable(
                        $table,
                        $column,
                        &row_id(res, index, $column),
                        &text,
                        &why.to_string(),
                    ))
                })
            }
        }

        impl ValueType for $ty {
            fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
                match value {
                    Value::String(Some(text)) => text.parse().map_err(|_| ValueTypeErr),
                    _ => Err(ValueTypeErr),
                }
            }

            fn type_name() -> String {
                stringify!($ty).to_owned()
            }

            fn array_type() -> ArrayType {
                ArrayType::String
            }

            fn column_type() -> ColumnType {
                ColumnType::string(None)
            }
        }

        impl Nullable for $ty {
            fn null() -> Value {
                Value::String(None)
            }
        }
    )+};
}

stored_enums! {
    ActivityKind in "activity"."kind";
    Role in "users"."role";
    StaffRole in "course_staff"."role";
    CourseLevel in "courses"."level";
    CourseStatus in "courses"."status";
    LessonType in "lessons"."type";
    EnrollmentStatus in "enrollments"."status";
    ImportKind in "import_runs"."kind";
    ImportMode in "import_runs"."mode";
    ImportStatus in "import_runs"."status";
    LivePlatform in "live_classes"."platform";
    LiveClassStatus in "live_classes"."status";
    NotificationType in "notifications"."type";
    TestType in "tests"."test_type";
    TestStatus in "tests"."status";
    MultipleSelectScoring in "tests"."multiple_select_scoring";
    ShowAnswers in "tests"."show_answers";
    QuestionType in "test_questions"."question_type";
    AttemptStatus in "test_attempts"."status";
    MailStatus in "outbox_messages"."status";
    DoubtStatus in "doubts"."status";
    WebhookDeliveryStatus in "webhook_deliveries"."status";
    CouponKind in "coupons"."kind";
    GatewayKind in "payment_orders"."gateway";
    OrderStatus in "payment_orders"."status";
    PaymentStatus in "payments"."status";
    RefundStatus in "refunds"."status";
}

#[cfg(test)]
mod tests {
    use sea_orm::{Database, DbBackend, FromQueryResult, Statement};

    use super::*;

    #[derive(Debug, FromQueryResult)]
    struct Row {
        #[allow(dead_code)]
        id: i64,
        status: EnrollmentStatus,
    }

    async fn read(sql: &str) -> Result<Vec<Row>, DbErr> {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Row::find_by_statement(Statement::from_string(DbBackend::Sqlite, sql))
            .all(&db)
            .await
    }

    #[tokio::test]
    async fn stored_spellings_decode_into_the_enum() {
        let rows = read("SELECT 1 AS id, 'COMPLETED' AS status").await.unwrap();
        assert_eq!(rows[0].status, EnrollmentStatus::Completed);
    }

    #[tokio::test]
    async fn a_corrupt_value_is_an_error_naming_table_column_row_and_value() {
        let err = read("SELECT 7 AS id, 'ENROLED' AS status")
            .await
            .unwrap_err();
        let text = err.to_string();
        for part in ["enrollments.status", "row 7", "`ENROLED`"] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn values_are_written_in_their_stored_spelling() {
        assert_eq!(
            Value::from(Role::Teacher),
            Value::String(Some("TEACHER".to_owned()))
        );
    }
}
