//! `/users`: accounts, roles and parents' children (admins).

use edupro_server::api::{
    ChangeRole, CreatedUser, LinkChild, NewUser, PageQuery, User, UserFilter, UserList,
};
use serde_json::Value;
use uuid::Uuid;

use super::ApiClient;
use crate::error::Result;

impl ApiClient {
    /// `GET /users`: page `at` of the users `filter` matches (its own `page` and `limit`
    /// give way to `at`'s).
    pub async fn users(&self, filter: &UserFilter, at: PageQuery) -> Result<UserList> {
        let query = UserFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get("/users", &query).await
    }

    /// `GET /users/{key}`: the user `key` names (id, email or SIS id).
    pub async fn user(&self, key: &str) -> Result<User> {
        self.get(&format!("/users/{}", super::segment(key)), &())
            .await
    }

    /// `POST /users`: an account of any role (and a new admin's 2FA secret).
    pub async fn create_user(&self, body: &NewUser) -> Result<CreatedUser> {
        self.post_json("/users", body).await
    }

    /// `POST /users/{id}/deactivate`: signed out, and can't sign in.
    pub async fn deactivate_user(&self, id: Uuid) -> Result<User> {
        self.post_action(&format!("/users/{id}/deactivate")).await
    }

    /// `POST /users/{id}/reactivate`.
    pub async fn reactivate_user(&self, id: Uuid) -> Result<User> {
        self.post_action(&format!("/users/{id}/reactivate")).await
    }

    /// `PATCH /users/{id}/role`: their sessions end.
    pub async fn change_role(&self, id: Uuid, body: &ChangeRole) -> Result<User> {
        self.patch(&format!("/users/{id}/role"), &(), body).await
    }

    /// `POST /users/{parent}/children`: links a student to a parent (the answer has no
    /// wire type).
    pub async fn link_child(&self, parent: Uuid, body: &LinkChild) -> Result<Value> {
        self.post_json(&format!("/users/{parent}/children"), body)
            .await
    }
}
