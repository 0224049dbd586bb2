//! Leaderboards: who earned the most XP in a course, a batch or the school, this week
//! or all time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PersonRef;

wire_enum!(
    /// `week` counts from Monday 00:00 in the caller's time zone; `all` since the start.
    LeaderboardPeriod { Week = "week", All = "all" }
);

/// `GET /leaderboard` and `GET /courses/{id}/leaderboard`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct LeaderboardQuery {
    pub period: Option<LeaderboardPeriod>,
    /// Only this batch's members (a course's leaderboard).
    pub batch: Option<Uuid>,
    /// How many places to list, 1–100 (default 20).
    #[cfg_attr(feature = "server", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}

/// `GET /leaderboard`: the school's board has no batches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct SchoolLeaderboardQuery {
    pub period: Option<LeaderboardPeriod>,
    /// How many places to list, 1–100 (default 20).
    #[cfg_attr(feature = "server", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}

impl From<SchoolLeaderboardQuery> for LeaderboardQuery {
    fn from(q: SchoolLeaderboardQuery) -> Self {
        Self {
            period: q.period,
            batch: None,
            limit: q.limit,
        }
    }
}

/// One place on a leaderboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LeaderboardEntry {
    /// Equal XP, equal rank; the next rank skips (1, 2, 2, 4).
    pub rank: u32,
    pub student: PersonRef,
    pub xp: i64,
    /// This is the caller.
    pub me: bool,
}

/// A leaderboard, highest first, with the caller's own place when they are on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Leaderboard {
    /// The course's title, or "School".
    pub scope: String,
    pub period: LeaderboardPeriod,
    /// Where a weekly board starts.
    pub since: Option<DateTime<Utc>>,
    pub entries: Vec<LeaderboardEntry>,
    pub me: Option<LeaderboardEntry>,
    /// The caller hides from leaderboards (`PUT /leaderboard/visibility`).
    pub hidden: bool,
}

/// `PUT /leaderboard/visibility`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LeaderboardVisibility {
    pub hidden: bool,
}
