//! The constraint map: every unique key of the schema, with the request field it guards
//! and what a client is told when a write runs into it. `ApiError::from(DbErr)` reads it,
//! so a violation is a 409 naming the field wherever it happens; a constraint missing
//! here is a 409 with a generic message. The database's own text never reaches a client.
//!
//! SQLite names the columns (`UNIQUE constraint failed: users.email`), PostgreSQL the
//! constraint (`users_email_key`, or the index name `uq_…`): each entry knows both.

use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// One unique key of the schema.
#[derive(Debug, PartialEq, Eq)]
pub struct Constraint {
    /// PostgreSQL's name: the index (`uq_…`) or `<table>_<column>_key`.
    pub name: &'static str,
    pub table: &'static str,
    pub columns: &'static [&'static str],
    /// The request field a client can change to get past it, if any.
    pub field: Option<&'static str>,
    pub message: &'static str,
}

/// What a client is told for a constraint no entry names, or one it cannot act on.
pub const GENERIC_MESSAGE: &str = "This conflicts with a change made at the same time; try again";

macro_rules! constraints {
    ($($ident:ident: $name:literal on $table:literal ($($column:literal),+) => $field:expr, $message:expr;)+) => {
        $(
            #[doc = concat!("`", $name, "`.")]
            pub const $ident: Constraint = Constraint {
                name: $name,
                table: $table,
                columns: &[$($column),+],
                field: $field,
                message: $message,
            };
        )+
        /// Every unique key of the schema.
        pub const ALL: &[&Constraint] = &[$(&$ident),+];
    };
}

constraints! {
    USERS_EMAIL: "users_email_key" on "users" ("email") =>
        Some("email"), "User with this email already exists";
    USERS_REFERRAL_CODE: "users_referral_code_key" on "users" ("referral_code") =>
        None, GENERIC_MESSAGE;
    USERS_EXTERNAL_ID: "users_external_id_key" on "users" ("external_id") =>
        Some("externalId"), "Another user already has this SIS id";
    REFRESH_TOKENS_HASH: "refresh_tokens_token_hash_key" on "refresh_tokens" ("token_hash") =>
        None, GENERIC_MESSAGE;
    ACCESS_TOKENS_HASH: "access_tokens_token_hash_key" on "access_tokens" ("token_hash") =>
        None, GENERIC_MESSAGE;
    PARENT_LINKS_PAIR: "uq_parent_links_pair" on "parent_links" ("parent_id", "child_id") =>
        Some("childId"), "This parent is already linked to this child";
    CATEGORIES_SLUG: "categories_slug_key" on "categories" ("slug") =>
        Some("slug"), "Another category already uses this slug";
    COURSES_SLUG: "courses_slug_key" on "courses" ("slug") =>
        Some("slug"), "Another course already uses this slug";
    COURSES_EXTERNAL_ID: "courses_external_id_key" on "courses" ("external_id") =>
        Some("externalId"), "Another course already has this SIS id";
    COURSE_STAFF_PAIR: "uq_course_staff_pair" on "course_staff" ("course_id", "user_id") =>
        Some("userId"), "This user is already on the course's staff";
    REVIEWS_PAIR: "uq_reviews_pair" on "reviews" ("course_id", "student_id") =>
        Some("review"), "You have already reviewed this course";
    BATCHES_COURSE_NAME: "uq_batches_course_name" on "batches" ("course_id", "name") =>
        Some("name"), "This course already has a batch with this name";
    ENROLLMENTS_PAIR: "uq_enrollments_pair" on "enrollments" ("course_id", "student_id") =>
        Some("studentId"), "This student is already enrolled in this course";
    LESSON_PROGRESS_PAIR: "uq_lesson_progress_pair" on "lesson_progress" ("enrollment_id", "lesson_id") =>
        Some("lessonId"), "Progress for this lesson was recorded concurrently; retry";
    DOMAIN_EVENTS_ID: "domain_events_id_key" on "domain_events" ("id") =>
        None, GENERIC_MESSAGE;
    IDEMPOTENCY_KEYS_SCOPE_KEY: "uq_idempotency_keys_scope_key" on "idempotency_keys" ("scope", "key") =>
        None, GENERIC_MESSAGE;
    LIVE_CLASS_ATTENDANCE_PAIR: "uq_live_class_attendance_pair" on "live_class_attendance" ("live_class_id", "user_id") =>
        None, GENERIC_MESSAGE;
    CALENDAR_FEED_TOKENS_HASH: "calendar_feed_tokens_token_hash_key" on "calendar_feed_tokens" ("token_hash") =>
        None, GENERIC_MESSAGE;
    TEST_ATTEMPTS_NUMBER: "uq_test_attempts_number" on "test_attempts" ("test_id", "student_id", "number") =>
        Some("attempt"), "An attempt was started at the same moment; open it with GET /tests/{id}/attempts";
    ATTEMPT_ANSWERS_PAIR: "uq_attempt_answers_pair" on "attempt_answers" ("attempt_id", "question_id") =>
        None, GENERIC_MESSAGE;
    XP_AWARDS_CAUSE: "uq_xp_awards_user_cause" on "xp_awards" ("user_id", "cause") =>
        None, GENERIC_MESSAGE;
    LEADERBOARD_OPT_OUTS_USER: "leaderboard_opt_outs_user_id_key" on "leaderboard_opt_outs" ("user_id") =>
        None, GENERIC_MESSAGE;
    DOUBT_VOTES_PAIR: "uq_doubt_votes_target_user" on "doubt_votes" ("target_id", "user_id") =>
        None, "You have already voted for this";
    COUPONS_CODE: "coupons_code_key" on "coupons" ("code") =>
        Some("code"), "Another coupon already has this code";
    PAYMENT_ORDERS_GATEWAY_ID: "payment_orders_gateway_order_id_key" on "payment_orders" ("gateway_order_id") =>
        None, GENERIC_MESSAGE;
    PAYMENT_ORDERS_OPEN: "payment_orders_open_key_key" on "payment_orders" ("open_key") =>
        Some("courseId"), "An order for this course was opened at the same moment; retry to get it";
    PAYMENTS_ORDER: "payments_order_id_key" on "payments" ("order_id") =>
        Some("orderId"), "This order was paid at the same moment; retry to see the payment";
    PAYMENTS_GATEWAY_ID: "payments_gateway_payment_id_key" on "payments" ("gateway_payment_id") =>
        Some("paymentId"), "This payment is already recorded for another order";
    REFUNDS_GATEWAY_ID: "refunds_gateway_refund_id_key" on "refunds" ("gateway_refund_id") =>
        None, GENERIC_MESSAGE;
    ACTIVITY_USER_KEY: "uq_activity_user_key" on "activity" ("user_id", "key") =>
        None, GENERIC_MESSAGE;
}

/// A write that ran into a unique key.
#[derive(Debug, PartialEq, Eq)]
pub enum Violation {
    /// One the map names.
    Known(&'static Constraint),
    /// A unique key the map does not name (a primary key, say).
    Unknown,
}

/// The unique key `err` ran into, if it is a unique violation.
pub fn unique_violation(err: &DbErr) -> Option<Violation> {
    let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() else {
        return None;
    };
    let name = postgres_constraint(err);
    Some(identify(name.as_deref(), &detail).map_or(Violation::Unknown, Violation::Known))
}

/// Whether `err` ran into `constraint`.
pub fn violates(err: &DbErr, constraint: &Constraint) -> bool {
    matches!(unique_violation(err), Some(Violation::Known(c)) if c == constraint)
}

/// The constraint PostgreSQL names in its error, if it is one.
fn postgres_constraint(err: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    match &**e {
        sqlx::Error::Database(db) => db.constraint().map(str::to_owned),
        _ => None,
    }
}

/// The entry for a PostgreSQL constraint `name`, or for the columns SQLite lists in
/// `detail` (`UNIQUE constraint failed: t.a, t.b`).
fn identify(name: Option<&str>, detail: &str) -> Option<&'static Constraint> {
    if let Some(name) = name {
        return ALL.iter().copied().find(|c| c.name == name);
    }
    let listed = detail.split_once("UNIQUE constraint failed:")?.1;
    let mut columns: Vec<(&str, &str)> = listed
        .split(',')
        .filter_map(|c| c.trim().split_once('.'))
        .collect();
    columns.sort_unstable();
    ALL.iter().copied().find(|c| {
        let mut own: Vec<(&str, &str)> = c.columns.iter().map(|col| (c.table, *col)).collect();
        own.sort_unstable();
        own == columns
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_violations_are_found_by_their_columns_in_any_order() {
        assert_eq!(
            identify(None, "UNIQUE constraint failed: users.email"),
            Some(&USERS_EMAIL)
        );
        assert_eq!(
            identify(
                None,
                "UNIQUE constraint failed: enrollments.student_id, enrollments.course_id"
            ),
            Some(&ENROLLMENTS_PAIR)
        );
        assert_eq!(identify(None, "UNIQUE constraint failed: users.id"), None);
    }

    #[test]
    fn postgres_violations_are_found_by_their_constraint_name() {
        assert_eq!(
            identify(Some("uq_batches_course_name"), "duplicate key value"),
            Some(&BATCHES_COURSE_NAME)
        );
        assert_eq!(identify(Some("users_pkey"), "duplicate key value"), None);
    }

    #[test]
    fn every_constraint_is_listed_once() {
        for (i, c) in ALL.iter().enumerate() {
            assert!(
                ALL[i + 1..].iter().all(|o| o.name != c.name),
                "{} twice",
                c.name
            );
        }
    }
}
