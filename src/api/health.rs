//! `/health`, outside `/api/v1`: whether a server answers at all (before anyone signs
//! in, so it needs no [`super::ApiClient`]).

/// Whether `server` answers `GET /health` with a success, through `http` (whose
/// timeout says how long to wait).
pub async fn is_up(http: &reqwest::Client, server: &str) -> bool {
    http.get(format!("{server}/health"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}
