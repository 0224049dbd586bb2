//! A person with one role; the password hash is absent for imported users until they set one.

use sea_orm::entity::prelude::*;

pub use crate::api::Role;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub phone: Option<String>,
    pub password_hash: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub avatar: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub bio: Option<String>,
    pub profile: Option<Json>,
    pub is_email_verified: bool,
    pub is_phone_verified: bool,
    pub is_active: bool,
    pub last_login: Option<DateTimeUtc>,
    #[sea_orm(unique)]
    pub referral_code: String,
    /// Bumped on password change, role change and deactivation: older access tokens die.
    pub token_version: i32,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    /// The last TOTP time step accepted, so a code works once.
    pub totp_last_step: Option<i64>,
    #[sea_orm(unique)]
    pub external_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
