//! Users, roles and role profiles, as the original contract names their fields.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Pagination;

/// The four roles of EduPro+.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Admin,
    Teacher,
    Student,
    Parent,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Teacher, Role::Student, Role::Parent];

    /// The stored and wire spelling: `ADMIN`, `TEACHER`, `STUDENT`, `PARENT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Teacher => "TEACHER",
            Self::Student => "STUDENT",
            Self::Parent => "PARENT",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("`{s}` is not a role; use ADMIN, TEACHER, STUDENT or PARENT"))
    }
}

/// A user as every endpoint returns it. Profiles appear for the user's own role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub phone: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub avatar: Option<String>,
    pub bio: Option<String>,
    pub is_email_verified: bool,
    pub is_phone_verified: bool,
    pub is_active: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub referral_code: String,
    pub two_factor_enabled: bool,
    /// The key of the user in the school's own systems (SIS `user_id`), when imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_profile: Option<StudentProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher_profile: Option<TeacherProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_profile: Option<ParentProfile>,
    pub created_at: DateTime<Utc>,
}

impl User {
    /// "First Last".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// What a student's profile records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StudentProfile {
    pub grade: Option<String>,
    pub school: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    /// Earned, never set: in an update these three are read and ignored.
    #[serde(default)]
    #[cfg_attr(
        feature = "server",
        schema(minimum = -9_223_372_036_854_775_808_i64, maximum = 9_223_372_036_854_775_807_i64)
    )]
    pub total_xp: i64,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(minimum = -2_147_483_648, maximum = 2_147_483_647))]
    pub level: i32,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(minimum = -2_147_483_648, maximum = 2_147_483_647))]
    pub current_streak: i32,
    /// The longest streak of days with learning activity (earned, like the above).
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(minimum = -2_147_483_648, maximum = 2_147_483_647))]
    pub longest_streak: i32,
    /// The last day (in the student's time zone) with learning activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_on: Option<NaiveDate>,
    /// Badges unlocked, oldest first (earned, like XP).
    #[serde(default)]
    pub badges: Vec<Badge>,
}

/// A badge a student unlocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Badge {
    pub code: String,
    pub title: String,
    pub unlocked_at: DateTime<Utc>,
}

/// What a teacher's profile records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeacherProfile {
    pub qualification: Option<String>,
    #[cfg_attr(feature = "server", schema(maximum = 65535))]
    pub experience_years: Option<u16>,
    #[serde(default)]
    pub specialization: Vec<String>,
}

/// What a parent's profile records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParentProfile {
    pub occupation: Option<String>,
}

/// `PATCH /users/me`: any of these; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMe {
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,98}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub first_name: Option<String>,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,98}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub last_name: Option<String>,
    #[cfg_attr(
        feature = "server",
        schema(pattern = r"^\s*\+?[ ()\-]*([0-9][ ()\-]*){7,15}\s*$")
    )]
    pub phone: Option<String>,
    #[cfg_attr(feature = "server", schema(max_length = 2000))]
    pub bio: Option<String>,
    pub avatar: Option<String>,
    pub student_profile: Option<StudentProfile>,
    pub teacher_profile: Option<TeacherProfile>,
    pub parent_profile: Option<ParentProfile>,
}

/// `POST /users` (admin): a new account of any role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUser {
    #[cfg_attr(feature = "server", schema(format = Email, max_length = 254))]
    pub email: String,
    /// Omit to have a set-password code mailed to the user.
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 8,
            max_length = 128,
            pattern = r"^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])(?=.*[!-/:-@\[-`{-~]).{8,128}$"
        )
    )]
    pub password: Option<String>,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,98}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub first_name: String,
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,98}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
        )
    )]
    pub last_name: String,
    #[cfg_attr(
        feature = "server",
        schema(pattern = r"^\s*(\+?[ ()\-]*([0-9][ ()\-]*){7,15})?\s*$")
    )]
    pub phone: Option<String>,
    pub role: Role,
}

/// `PATCH /users/{id}/role`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeRole {
    pub role: Role,
}

/// `POST /users/{id}/children` (admin): link a student to a parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkChild {
    pub child_id: Uuid,
}

/// Filters of `GET /users`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct UserFilter {
    pub page: Option<u64>,
    pub limit: Option<u64>,
    pub role: Option<Role>,
    /// Matches email, first or last name (case-insensitive).
    pub search: Option<String>,
    pub is_active: Option<bool>,
}

/// `GET /users`: a page of users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserList {
    pub users: Vec<User>,
    pub pagination: Pagination,
}

/// `POST /users` answer: the user, plus the 2FA secret of a new admin (shown once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedUser {
    pub user: User,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_factor: Option<super::TotpEnrollment>,
}

/// `POST /users/{id}/children`: the parent and the child now linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChildLinked {
    pub parent_id: Uuid,
    pub child_id: Uuid,
}
