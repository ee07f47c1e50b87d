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

/// A database made before the chat list had its own index (migration 12)
/// lists its chats as before after the upgrade (by activity, hidden ones left
/// out, newest message, unread counts): each member's activity and each
/// chat's newest message are filled in from what is there, and the triggers
/// keep them from then on. Runs on PostgreSQL in CI's second pass.
#[tokio::test]
async fn an_upgraded_database_lists_the_same_chats() {
    use chattconnect::{
        db::{self, chats::Listing},
        entity::{chat, chat_member, message, user},
    };
    use chrono::{Duration, Utc};
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::{sea_query::Query, ConnectionTrait};
    use uuid::Uuid;

    let dir = tempfile::tempdir().unwrap();
    let settings = crate::helpers::test_settings(&dir);
    let db = db::Db::connect(&settings).await.unwrap();
    Migrator::up(db.w(), Some(12)).await.unwrap();
    let conn = db.w();
    let start = Utc::now() - Duration::hours(1);
    let at = |minutes: i64| start + Duration::minutes(minutes);
    let mut people = Vec::new();
    for name in ["ada", "bea", "cy"] {
        let id = Uuid::now_v7();
        let mut insert = Query::insert();
        insert
            .into_table(user::Entity)
            .columns([
                user::Column::Id,
                user::Column::Username,
                user::Column::UsernameLower,
                user::Column::DisplayName,
                user::Column::DisplayNameLower,
                user::Column::PasswordHash,
                user::Column::Role,
                user::Column::Level,
                user::Column::CreatedAt,
            ])
            .values_panic([
                id.into(),
                name.into(),
                name.into(),
                name.into(),
                name.into(),
                "x".into(),
                "user".into(),
                "B1".into(),
                at(0).into(),
            ]);
        conn.execute(&insert).await.unwrap();
        people.push(id);
    }
    let (me, bea, cy) = (people[0], people[1], people[2]);
    // Migration 12's columns only.
    let new_chat = async |minutes: i64, members: &[(Uuid, bool)]| {
        let id = Uuid::now_v7();
        let mut insert = Query::insert();
        insert
            .into_table(chat::Entity)
            .columns([
                chat::Column::Id,
                chat::Column::Kind,
                chat::Column::CreatedAt,
                chat::Column::UpdatedAt,
            ])
            .values_panic([id.into(), "bot".into(), at(minutes).into(), at(minutes).into()]);
        conn.execute(&insert).await.unwrap();
        for &(user, hidden) in members {
            let mut insert = Query::insert();
            insert
                .into_table(chat_member::Entity)
                .columns([
                    chat_member::Column::ChatId,
                    chat_member::Column::UserId,
                    chat_member::Column::Hidden,
                    chat_member::Column::JoinedAt,
                ])
                .values_panic([id.into(), user.into(), hidden.into(), at(minutes).into()]);
            conn.execute(&insert).await.unwrap();
        }
        id
    };
    let post = async |chat_id: Uuid, sender: Uuid, minutes: i64| {
        let id = Uuid::now_v7();
        let mut insert = Query::insert();
        insert
            .into_table(message::Entity)
            .columns([
                message::Column::Id,
                message::Column::ChatId,
                message::Column::SenderId,
                message::Column::Role,
                message::Column::Content,
                message::Column::CreatedAt,
            ])
            .values_panic([
                id.into(),
                chat_id.into(),
                sender.into(),
                "user".into(),
                format!("at {minutes}").into(),
                at(minutes).into(),
            ]);
        conn.execute(&insert).await.unwrap();
        id
    };
    let with_bea = new_chat(1, &[(me, false), (bea, false)]).await;
    let quiet = new_chat(2, &[(me, false), (cy, false)]).await;
    let hidden = new_chat(3, &[(me, true), (cy, false)]).await;
    let older = post(with_bea, bea, 4).await;
    let newest = post(with_bea, me, 5).await;

    Migrator::up(db.w(), None).await.unwrap();
    let page = Listing::Page { after: None, limit: 10 };
    let after = db::chats::listed(db.r(), me, page).await.unwrap();
    let summary = |rows: &[db::chats::Listed]| -> Vec<(Uuid, Option<Uuid>, u64)> {
        rows.iter()
            .map(|l| (l.chat.id, l.last_message.as_ref().map(|m| m.id), l.unread))
            .collect()
    };
    assert_eq!(summary(&after), [(with_bea, Some(newest), 0), (quiet, None, 0)]);
    let theirs = db::chats::listed(db.r(), bea, page).await.unwrap();
    assert_eq!(summary(&theirs), [(with_bea, Some(newest), 1)]);

    // From now on the triggers keep the list: a message brings the hidden chat
    // back, on top, with that message.
    let back = db::messages::insert(
        &db,
        hidden,
        Some(cy),
        chattconnect::domain::kinds::MessageRole::User,
        "back".into(),
        None,
    )
    .await
    .unwrap();
    let after = db::chats::listed(db.r(), me, page).await.unwrap();
    assert_eq!(
        summary(&after),
        [
            (hidden, Some(back.id), 1),
            (with_bea, Some(newest), 0),
            (quiet, None, 0)
        ]
    );
    // Messages stored before `seq` existed are numbered in the order they had,
    // and the next one follows them; read markers kept their place.
    let history = db::messages::list(db.r(), with_bea, None, 10).await.unwrap();
    let numbered: Vec<(Uuid, i64)> = history.iter().map(|m| (m.id, m.seq)).collect();
    assert_eq!(numbered, [(newest, 2), (older, 1)]);
    let next = db::messages::insert(
        &db,
        with_bea,
        Some(me),
        chattconnect::domain::kinds::MessageRole::User,
        "next".into(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(next.seq, 3);
    let theirs = db::chats::listed(db.r(), bea, page).await.unwrap();
    assert_eq!(summary(&theirs), [(with_bea, Some(next.id), 2)]);
}
