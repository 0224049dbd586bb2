//! The per-request session check served from memory: a signed-in request checks that
//! its user is active, its token version current and its session live; those answers
//! are kept here per session for [`SessionCache::TTL`] and forgotten at once when they
//! may have changed.
//!
//! Forgetting happens after the change committed ([`forget_user`](SessionCache::forget_user)
//! from `service::auth::credentials_changed` and `service::auth::user_changed`, and on
//! other instances through the fan-out's `recheck` and `user` messages). A lookup that
//! read the database while a change was committing could still hold the old answer, so
//! each forget bumps an epoch and an answer read under an older epoch is not kept.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::entity::user;

/// Cached sessions beyond this are dropped all at once (and reloaded as they are used).
const CAPACITY: usize = 100_000;

#[derive(Default)]
pub struct SessionCache {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    epoch: u64,
    sessions: HashMap<Uuid, Entry>,
}

struct Entry {
    user: user::Model,
    expires_at: DateTime<Utc>,
    loaded: Instant,
}

/// What a cached session says, to be checked against the token.
pub struct CachedSession {
    pub user: user::Model,
    pub expires_at: DateTime<Utc>,
}

impl SessionCache {
    /// How long an answer is trusted without a change being announced: the bound on
    /// staleness should an announcement be lost (for example between instances).
    pub const TTL: Duration = Duration::from_secs(30);

    /// The epoch to pass to [`put`](Self::put) for an answer about to be read.
    pub fn epoch(&self) -> u64 {
        self.inner.read().map_or(u64::MAX, |i| i.epoch)
    }

    /// The session `sid` as last read, if read within the TTL and not forgotten since.
    pub fn get(&self, sid: Uuid) -> Option<CachedSession> {
        let inner = self.inner.read().ok()?;
        let entry = inner.sessions.get(&sid)?;
        (entry.loaded.elapsed() < Self::TTL).then(|| CachedSession {
            user: entry.user.clone(),
            expires_at: entry.expires_at,
        })
    }

    /// Keeps a live session `sid` of `user` read under `epoch`, unless something was
    /// forgotten since (then the answer may predate the change).
    pub fn put(&self, epoch: u64, sid: Uuid, user: user::Model, expires_at: DateTime<Utc>) {
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        if inner.epoch != epoch {
            return;
        }
        if inner.sessions.len() >= CAPACITY {
            inner.sessions.clear();
        }
        inner.sessions.insert(
            sid,
            Entry {
                user,
                expires_at,
                loaded: Instant::now(),
            },
        );
    }

    /// Forgets every session of `user_id`: their user row or sessions changed.
    pub fn forget_user(&self, user_id: Uuid) {
        if let Ok(mut inner) = self.inner.write() {
            inner.epoch += 1;
            inner.sessions.retain(|_, e| e.user.id != user_id);
        }
    }

    /// Forgets everything (a bulk change of users).
    pub fn forget_all(&self) {
        if let Ok(mut inner) = self.inner.write() {
            inner.epoch += 1;
            inner.sessions.clear();
        }
    }
}
