//! `/leaderboard`, `/courses/{key}/leaderboard` and `/leaderboard/visibility`.

use edupro_server::api::{Leaderboard, LeaderboardQuery, LeaderboardVisibility};

use super::ApiClient;
use super::courses::course_path;
use crate::error::Result;

impl ApiClient {
    /// `GET /courses/{key}/leaderboard`, or the school's `GET /leaderboard` without a
    /// course.
    pub async fn leaderboard(
        &self,
        course: Option<&str>,
        query: &LeaderboardQuery,
    ) -> Result<Leaderboard> {
        match course {
            Some(course) => {
                self.get(&format!("{}/leaderboard", course_path(course)), query)
                    .await
            }
            None => self.get("/leaderboard", query).await,
        }
    }

    /// `PUT /leaderboard/visibility`: hide the caller from every leaderboard, or not.
    pub async fn set_leaderboard_hidden(&self, hidden: bool) -> Result<LeaderboardVisibility> {
        self.put("/leaderboard/visibility", &LeaderboardVisibility { hidden })
            .await
    }
}
