//! The `AuthUser` extractor every protected route takes, from `Authorization: Bearer`
//! (see [`crate::service::auth::caller`]), and the request facts auth needs.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::ApiError;
use crate::platform::state::AppState;
use crate::service::auth::AuthUser;
use crate::service::auth::caller::authenticate;
use crate::service::catalogue::Viewer;

/// The bearer token of a request, if any.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The client's IP address as seen on the socket.
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let safe_method = req.method().is_safe();
        Box::pin(async move {
            let state = state.ok_or_else(|| anyhow::anyhow!("AppState missing"))?;
            let token = token.ok_or_else(|| {
                ApiError::Unauthorized(
                    "Authentication required: send `Authorization: Bearer <token>` (log in with POST /api/v1/auth/login)".into(),
                )
            })?;
            authenticate(&state, &token, safe_method).await
        })
    }
}

/// A request that sends a token must send a valid one (401 otherwise); one without a
/// token is an anonymous [`Viewer`].
impl FromRequest for Viewer {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if bearer(req).is_none() {
            return Box::pin(async { Ok(Viewer(None)) });
        }
        let auth = AuthUser::from_request(req, payload);
        Box::pin(async move { auth.await.map(|a| Viewer(Some(a))) })
    }
}
