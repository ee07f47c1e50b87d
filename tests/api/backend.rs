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

/// Instances that start at the same time on a fresh PostgreSQL database take
/// turns migrating instead of racing (and one of them failing to boot).
#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL (PostgreSQL); CI's PostgreSQL + Redis run includes it"]
async fn instances_starting_together_on_postgresql_both_come_up() {
    let dir = tempfile::tempdir().unwrap();
    let settings = crate::helpers::test_settings(&dir);
    assert!(
        settings.database_url.starts_with("postgres"),
        "PostgreSQL only: SQLite is one instance's embedded store"
    );
    let (one, two, three) = tokio::join!(
        chattconnect::startup::Application::build(settings.clone()),
        chattconnect::startup::Application::build(settings.clone()),
        chattconnect::startup::Application::build(settings.clone()),
    );
    for app in [one, two, three] {
        app.expect("every instance migrates and starts");
    }
}
