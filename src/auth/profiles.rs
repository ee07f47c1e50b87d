//! Users' rows, kept for `session_cache_secs` after they are read, so that a
//! request that needs no more than profiles (`GET /me`, the people shown in a
//! chat list) costs no query for them. A profile changed here is read fresh at once; on other instances at
//! once through the real-time bus (Redis), within the cache time without it.
//! Whatever decides a permission or checks a password reads the database.
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use moka::sync::Cache;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::{db::users, entity::user};

#[derive(Clone)]
pub struct Profiles {
    cached: Cache<Uuid, Arc<user::Model>>,
    /// Held to read for a fill (look-up and insert), to write for a change:
    /// a row read before a change is never stored after it.
    changes: Arc<RwLock<u64>>,
}

impl Profiles {
    pub fn new(cache_for: Duration) -> Self {
        Self {
            cached: Cache::builder().max_capacity(100_000).time_to_live(cache_for).build(),
            changes: Arc::default(),
        }
    }

    /// `id`'s row, from the cache when it was read lately; `None` when the
    /// account does not exist.
    pub async fn get(&self, db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Arc<user::Model>>, DbErr> {
        Ok(self.get_many(db, &[id]).await?.remove(&id))
    }

    /// The rows of `ids` that exist: cached ones from the cache, the others in
    /// one statement.
    pub async fn get_many(
        &self,
        db: &impl ConnectionTrait,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Arc<user::Model>>, DbErr> {
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match self.cached.get(id) {
                Some(hit) => {
                    found.insert(*id, hit);
                }
                None => missing.push(*id),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let seen = *self.changes.read().expect("profiles lock");
        let rows = users::find_many(db, &missing).await?;
        let changes = self.changes.read().expect("profiles lock");
        for (id, row) in rows {
            let row = Arc::new(row);
            if *changes == seen {
                self.cached.insert(id, row.clone());
            }
            found.insert(id, row);
        }
        Ok(found)
    }

    /// Drops `id`'s cached row after it changed.
    pub fn forget(&self, id: Uuid) {
        let mut changes = self.changes.write().expect("profiles lock");
        *changes += 1;
        self.cached.invalidate(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_profile_is_dropped_and_fills_from_before_the_change_are_refused() {
        let profiles = Profiles::new(Duration::from_secs(60));
        let id = Uuid::now_v7();
        let row = Arc::new(user::Model {
            id,
            username: "ada".into(),
            username_lower: "ada".into(),
            display_name: "Ada".into(),
            display_name_lower: "ada".into(),
            password_hash: String::new(),
            role: crate::domain::kinds::Role::User,
            level: crate::domain::kinds::Level::B1,
            created_at: chrono::Utc::now(),
            daily_goal: 3,
            email: None,
            email_confirmed: false,
        });
        profiles.cached.insert(id, row);
        let seen = *profiles.changes.read().unwrap();
        profiles.forget(id);
        assert!(profiles.cached.get(&id).is_none());
        // A fill that read the row before the change sees another count and stores nothing.
        assert_ne!(*profiles.changes.read().unwrap(), seen);
    }
}
