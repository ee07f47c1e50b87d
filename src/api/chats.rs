use poem::web::Data;
use poem_openapi::{
    param::{Path, Query},
    payload::Json,
    ApiResponse, Object, OpenApi, Union,
};
use uuid::Uuid;

use super::{
    json::JsonOut,
    pagination,
    text::{NotNull, Text},
    types::{trimmed, Chat, ChatKind, ChatPage, Level},
    ApiTags, NoContent,
};
use crate::{
    bot::scenarios,
    db::{chats, friends, users},
    error::{ApiError, ApiResult},
    service::chats as service,
    state::AppState,
};

pub struct ChatsApi;

/// A direct chat with an accepted friend.
#[derive(Debug, Object)]
pub struct NewDirectChat {
    /// The friend to chat with.
    pub user_id: Uuid,
}

/// A practice chat with the bot. `level` defaults to the caller's level.
#[derive(Debug, Object)]
pub struct NewBotChat {
    /// 1..100 characters after trimming; defaults to the scenario's title.
    pub title: NotNull<Text>,
    /// One of `GET /bot/scenarios`; defaults to `free_talk`.
    pub scenario_id: NotNull<Text>,
    pub level: NotNull<Level>,
}

/// A group of the caller (its owner) and 2..49 of their accepted friends.
#[derive(Debug, Object)]
pub struct NewGroupChat {
    /// 1..100 characters after trimming.
    pub title: Text,
    /// The friends to put in it (not the caller), 2..49 of them, each once.
    pub member_ids: Vec<Uuid>,
}

/// What to create, told apart by `kind`.
#[derive(Debug, Union)]
#[oai(discriminator_name = "kind")]
pub enum NewChat {
    #[oai(mapping = "direct")]
    Direct(NewDirectChat),
    #[oai(mapping = "bot")]
    Bot(NewBotChat),
    #[oai(mapping = "group")]
    Group(NewGroupChat),
}

/// Changes to a bot chat or a group; omitted fields stay as they are.
#[derive(Debug, Object)]
pub struct UpdateChat {
    /// Bot chats and groups (by their owner): 1..100 characters after trimming.
    pub title: NotNull<Text>,
    /// Bot chats only: one of `GET /bot/scenarios`.
    pub scenario_id: NotNull<Text>,
    pub level: NotNull<Level>,
}

#[derive(ApiResponse)]
pub enum ChatCreated {
    /// The chat was created.
    #[oai(status = 201)]
    Created(Json<Chat>),
    /// A direct chat with that friend already existed; here it is.
    #[oai(status = 200)]
    Existing(Json<Chat>),
}

async fn view(state: &AppState, me: Uuid, chat_id: Uuid) -> ApiResult<Chat> {
    service::view(&state.db, &state.profiles, &state.realtime, me, chat_id).await
}

fn validate_scenario(id: &str) -> ApiResult<String> {
    scenarios::find(id).map(|s| s.id.to_owned()).ok_or_else(|| {
        ApiError::validation(
            "scenario_id",
            format!(
                "unknown scenario '{}'; see GET /api/v1/bot/scenarios",
                crate::error::excerpt(id)
            ),
        )
    })
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Chats")]
impl ChatsApi {
    /// List my chats
    ///
    /// Direct, bot and group chats and joined lounges, most recently active
    /// first, each with its newest message (and its author's name), member
    /// count and the caller's unread count.
    #[oai(path = "/chats", method = "get", operation_id = "listChats")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: crate::auth::BearerAuth,
        /// Page size, 1..100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` from the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<JsonOut<ChatPage>> {
        let me = auth.0.id;
        let limit = pagination::limit(limit.0);
        let after = pagination::time_id_cursor(&cursor.0)?;
        let page = chats::Listing::Page {
            after,
            limit: limit + 1,
        };
        let rows = chats::listed(state.db.r(), me, page).await?;
        let (rows, next_cursor) =
            pagination::split(rows, limit, |l| pagination::time_id_key(l.chat.updated_at, l.chat.id));
        let items = service::views(&state.db, &state.profiles, &state.realtime, me, rows).await?;
        Ok(JsonOut(ChatPage { items, next_cursor }))
    }

    /// Start a chat
    ///
    /// `{"kind": "direct", "user_id"}` opens a chat with an accepted friend (403
    /// otherwise); if one exists it is returned with 200. `{"kind": "bot", ...}`
    /// starts a practice chat with the bot. `{"kind": "group", "title",
    /// "member_ids"}` makes a group of the caller (its owner) and 2..49 accepted
    /// friends (403 if any is not one).
    #[oai(path = "/chats", method = "post", operation_id = "createChat")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: crate::auth::BearerAuth,
        body: Json<NewChat>,
    ) -> ApiResult<ChatCreated> {
        match body.0 {
            NewChat::Direct(req) => create_direct(&state, auth.0.id, req.user_id).await,
            NewChat::Bot(req) => create_bot(&state, auth.0.id, req).await,
            NewChat::Group(req) => {
                let me = auth.0.id;
                let title = trimmed("title", &req.title, 1, state.settings.chat_title_max_len)?;
                let chat = super::groups::groups(&state).create(me, title, &req.member_ids).await?;
                Ok(ChatCreated::Created(Json(view(&state, me, chat.id).await?)))
            }
        }
    }

    /// Get a chat
    #[oai(path = "/chats/:id", method = "get", operation_id = "getChat")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: crate::auth::BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Chat>> {
        Ok(Json(view(&state, auth.0.id, id.0).await?))
    }

    /// Update a bot chat or a group
    ///
    /// Renames a bot chat or changes its scenario or level; omitted fields
    /// stay. A group's owner renames it (403 for other members; a system
    /// message tells everyone). Direct chats take their title from the friend,
    /// lounges are named by operators: neither can be changed (400).
    #[oai(path = "/chats/:id", method = "patch", operation_id = "updateChat")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: crate::auth::BearerAuth,
        id: Path<Uuid>,
        body: Json<UpdateChat>,
    ) -> ApiResult<Json<Chat>> {
        let me = auth.0.id;
        let membership = service::member_chat(&state.db, id.0, me).await?;
        let title = body
            .title
            .as_deref()
            .map(|t| trimmed("title", t, 1, state.settings.chat_title_max_len))
            .transpose()?;
        if membership.chat.kind == ChatKind::Group {
            if body.scenario_id.is_some() || body.level.is_some() {
                return Err(ApiError::validation("scenario_id", "groups have no scenario or level"));
            }
            if let Some(title) = title {
                super::groups::groups(&state).rename(me, membership, title).await?;
            }
            return Ok(Json(view(&state, me, id.0).await?));
        }
        let chat = membership.chat;
        if chat.kind != ChatKind::Bot {
            return Err(ApiError::Validation {
                message: "direct chats and lounges cannot be renamed or given a scenario or level".into(),
                field: None,
            });
        }
        let scenario = body.scenario_id.as_deref().map(validate_scenario).transpose()?;
        let level = body.level.0;
        chats::update(state.db.w(), chat, title, scenario, level).await?;
        Ok(Json(view(&state, me, id.0).await?))
    }

    /// Delete a chat
    ///
    /// A bot chat is deleted with its messages. A direct chat is only hidden from
    /// the caller's list, and comes back when a new message arrives. From a
    /// group or a lounge the caller leaves, as with `removeChatMember`.
    #[oai(path = "/chats/:id", method = "delete", operation_id = "deleteChat")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: crate::auth::BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let me = auth.0.id;
        let chat = service::member_chat(&state.db, id.0, me).await?.chat;
        if chat.kind == ChatKind::Bot {
            chats::delete(state.db.w(), chat.id).await?;
        } else if chat.kind.is_room() {
            super::groups::groups(&state).remove(me, false, chat.id, me).await?;
        } else {
            chats::set_hidden(state.db.w(), chat.id, auth.0.id, true).await?;
        }
        Ok(NoContent::Done)
    }
}

/// Opens the direct chat of `me` and the friend `peer`: 201 with a new chat, or
/// 200 with the one they already share (shown again if `me` had hidden it).
async fn create_direct(state: &AppState, me: Uuid, peer: Uuid) -> ApiResult<ChatCreated> {
    if peer == me {
        return Err(ApiError::validation(
            "user_id",
            "you cannot start a direct chat with yourself",
        ));
    }
    users::find_by_id(state.db.r(), peer)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if !friends::are_friends(state.db.r(), me, peer).await? {
        return Err(ApiError::Forbidden(
            "you can only chat directly with accepted friends".into(),
        ));
    }
    if let Some(existing) = chats::find_direct(state.db.r(), me, peer).await? {
        chats::set_hidden(state.db.w(), existing.id, me, false).await?;
        return Ok(ChatCreated::Existing(Json(view(state, me, existing.id).await?)));
    }
    let chat = match chats::create(state.db.w(), ChatKind::Direct, None, None, None, &[me, peer]).await {
        Ok(chat) => chat,
        // Both friends opened the chat at once: the other request won.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            let existing = chats::find_direct(state.db.r(), me, peer)
                .await?
                .ok_or_else(|| ApiError::internal(e))?;
            return Ok(ChatCreated::Existing(Json(view(state, me, existing.id).await?)));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(ChatCreated::Created(Json(view(state, me, chat.id).await?)))
}

/// Starts a practice chat with the bot; title, scenario and level default to
/// the scenario's title, `free_talk` and the learner's level.
async fn create_bot(state: &AppState, me: Uuid, req: NewBotChat) -> ApiResult<ChatCreated> {
    let scenario = validate_scenario(req.scenario_id.as_deref().unwrap_or(scenarios::DEFAULT_SCENARIO))?;
    let title = match req.title.as_deref() {
        Some(t) => trimmed("title", t, 1, state.settings.chat_title_max_len)?,
        None => scenarios::find(&scenario)
            .map(|s| s.title.to_owned())
            .unwrap_or_default(),
    };
    let level = match req.level.0 {
        Some(level) => level,
        None => crate::api::auth::current_user(state, me).await?.level,
    };
    let chat = chats::create(
        state.db.w(),
        ChatKind::Bot,
        Some(title),
        Some(scenario),
        Some(level),
        &[me],
    )
    .await?;
    Ok(ChatCreated::Created(Json(view(state, me, chat.id).await?)))
}
