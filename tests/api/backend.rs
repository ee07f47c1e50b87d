use sea_orm::DbBackend;

use crate::helpers::spawn_app;

/// CI sets `TEST_REQUIRE_SERVICES=1` for its PostgreSQL + Redis run: this fails
/// (rather than silently passing on SQLite) if that run did not really use them.
#[tokio::test]
async fn tests_ran_on_postgresql_and_redis() {
    let app = spawn_app().await;
    let backend = app.state_backend();
    if std::env::var_os("TEST_REQUIRE_SERVICES").is_some() {
        assert_eq!(
            backend,
            DbBackend::Postgres,
            "TEST_DATABASE_URL must point at PostgreSQL"
        );
        let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL must be set");
        let client = redis::Client::open(redis).expect("valid Redis URL");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("Redis is reachable");
        let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
        assert_eq!(pong, "PONG");
    } else {
        assert!(matches!(backend, DbBackend::Sqlite | DbBackend::Postgres));
    }
}
