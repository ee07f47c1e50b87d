use std::sync::Arc;

use crate::{auth::jwt::JwtKeys, config::Settings, db::Db, metrics::Metrics};

/// Everything a handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub jwt: JwtKeys,
    pub metrics: Metrics,
}
