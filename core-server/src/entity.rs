//! SeaORM entities, one file per table. Queries live with the code that needs them.

pub mod access_token;
pub mod attempt_answer;
pub mod audit_event;
pub mod batch;
pub mod category;
pub mod course;
pub mod course_staff;
pub mod domain_event;
pub mod enrollment;
pub mod idempotency_key;
pub mod import_change;
pub mod import_run;
pub mod lesson;
pub mod lesson_progress;
pub mod one_time_code;
pub mod outbox_message;
pub mod parent_link;
pub mod recovery_code;
pub mod refresh_token;
pub mod review;
pub mod section;
pub mod session;
pub mod test;
pub mod test_attempt;
pub mod test_question;
pub mod user;
