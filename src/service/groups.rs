//! Groups and lounges, the chats of several people: who is in them, who may
//! add and remove whom, and the system messages that tell the members.
//!
//! A group is made by its owner with 2..49 of their friends; any member may
//! add one of their own friends, up to 50 people. The owner renames it and
//! removes others; anyone removes themselves, which is how they leave. When
//! the owner leaves, the longest-standing member takes over; when the last
//! member leaves, the group is deleted. Lounges are joined by anyone and left
//! the same way; only an admin removes someone else from one.
use std::collections::HashSet;

use uuid::Uuid;

use super::{chats, presence};
use crate::{
    auth::profiles::Profiles,
    db::{
        chats::{self as store, AddRefused, Membership, Removed},
        friends, messages, Db,
    },
    domain::{
        chat::{ChatMember, Message},
        kinds::{ChatKind, MemberRole, MessageRole},
        people::User,
    },
    entity::chat,
    error::{ApiError, ApiResult},
    realtime::{events::Event, Realtime},
};

/// Most people in a group, its owner included.
pub const MAX_GROUP_MEMBERS: u64 = 50;

/// What the groups service needs: the database, the profile cache (names for
/// system messages) and the publisher.
#[derive(Clone, Copy)]
pub struct Groups<'a> {
    pub db: &'a Db,
    pub profiles: &'a Profiles,
    pub realtime: &'a Realtime,
}

impl Groups<'_> {
    async fn name(&self, id: Uuid) -> ApiResult<String> {
        Ok(self
            .profiles
            .get(self.db.r(), id)
            .await?
            .map(|u| u.display_name.clone())
            .unwrap_or_else(|| "Someone".into()))
    }

    /// Stores a system message by `actor` and tells the members; returns
    /// who they are, for the event that goes with the note.
    async fn announce(&self, chat: &chat::Model, actor: Uuid, text: String) -> ApiResult<Vec<Uuid>> {
        let stored = messages::insert(self.db, chat.id, Some(actor), MessageRole::System, text, None).await?;
        let members = store::member_ids(self.db.r(), chat.id).await?;
        self.realtime
            .publish(members.clone(), Event::message_created(Message::from(stored)));
        Ok(members)
    }

    /// Makes a group of `me` (its owner) and `member_ids`, all of them `me`'s
    /// accepted friends, and says so in its history.
    pub async fn create(&self, me: Uuid, title: String, member_ids: &[Uuid]) -> ApiResult<chat::Model> {
        let mut seen = HashSet::new();
        if member_ids.iter().any(|id| !seen.insert(*id)) {
            return Err(ApiError::validation("member_ids", "member_ids must not repeat anyone"));
        }
        if seen.contains(&me) {
            return Err(ApiError::validation(
                "member_ids",
                "member_ids lists the others: you are in the group as its owner",
            ));
        }
        let most = MAX_GROUP_MEMBERS as usize - 1;
        if !(2..=most).contains(&member_ids.len()) {
            return Err(ApiError::validation(
                "member_ids",
                format!("member_ids must list 2..{most} of your friends"),
            ));
        }
        let friends = friends::accepted_among(self.db.r(), me, member_ids).await?;
        if friends.len() != member_ids.len() {
            return Err(ApiError::Forbidden(
                "a group can only be made with your accepted friends".into(),
            ));
        }
        let members: Vec<Uuid> = std::iter::once(me).chain(member_ids.iter().copied()).collect();
        let chat = store::create(self.db.w(), ChatKind::Group, Some(title.clone()), None, None, &members).await?;
        let who = self.name(me).await?;
        self.announce(&chat, me, format!("{who} created the group “{title}”"))
            .await?;
        Ok(chat)
    }

    /// A page of the chat's members, longest-standing first; presence shown
    /// only for the caller's friends and themself.
    pub async fn members(
        &self,
        me: Uuid,
        chat_id: Uuid,
        after: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
        limit: u64,
    ) -> ApiResult<Vec<ChatMember>> {
        chats::member_chat(self.db, chat_id, me).await?;
        let rows = store::members(self.db.r(), chat_id, after, limit).await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.user.id).collect();
        let online = presence::visible_online(self.db, self.realtime, me, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| ChatMember {
                user: User::from_model(&r.user, online.contains(&r.user.id)),
                role: r.member_role,
                joined_at: r.joined_at.into(),
            })
            .collect())
    }

    /// A member of the group `chat_id` adds their friend `user_id`.
    pub async fn add(&self, me: Uuid, chat_id: Uuid, user_id: Uuid) -> ApiResult<ChatMember> {
        let membership = chats::member_chat(self.db, chat_id, me).await?;
        if membership.chat.kind != ChatKind::Group {
            return Err(ApiError::validation(
                "chat",
                "people are added to groups only (a lounge is joined with POST /api/v1/lounges/{id}/join)",
            ));
        }
        if !friends::are_friends(self.db.r(), me, user_id).await? {
            return Err(ApiError::Forbidden("you can only add your accepted friends".into()));
        }
        let member = match store::add_member(self.db.w(), chat_id, user_id, Some(MAX_GROUP_MEMBERS)).await? {
            Ok(member) => member,
            Err(AddRefused::Already) => return Err(ApiError::Conflict("they are in the group already".into())),
            Err(AddRefused::Full) => {
                return Err(ApiError::Conflict(format!(
                    "the group is full ({MAX_GROUP_MEMBERS} people)"
                )))
            }
            Err(AddRefused::Gone) => return Err(ApiError::not_found("chat")),
        };
        let user = self
            .profiles
            .get(self.db.r(), user_id)
            .await?
            .ok_or_else(|| ApiError::not_found("user"))?;
        let online = presence::visible_online(self.db, self.realtime, me, &[user_id]).await?;
        let shown = ChatMember {
            user: User::from_model(&user, online.contains(&user_id)),
            role: member.role,
            joined_at: member.joined_at.into(),
        };
        let who = self.name(me).await?;
        let members = self
            .announce(&membership.chat, me, format!("{who} added {}", user.display_name))
            .await?;
        self.realtime.publish(
            members,
            Event::MemberJoined {
                chat_id,
                member: shown.clone(),
            },
        );
        Ok(shown)
    }

    /// `me` removes `user_id` from a group or lounge: themself (leaving), or,
    /// in a group they own, someone else; in a lounge only an admin removes
    /// others (`admin`).
    pub async fn remove(&self, me: Uuid, admin: bool, chat_id: Uuid, user_id: Uuid) -> ApiResult<()> {
        let membership = chats::member_chat(self.db, chat_id, me).await;
        let chat = match (membership, admin) {
            (Ok(Membership { chat, member, .. }), _) => {
                if !chat.kind.is_room() {
                    return Err(ApiError::validation(
                        "chat",
                        "only groups and lounges have members to remove; DELETE /api/v1/chats/{id} hides a direct chat",
                    ));
                }
                if user_id != me {
                    let allowed = match chat.kind {
                        ChatKind::Group => member.role == MemberRole::Owner,
                        _ => admin,
                    };
                    if !allowed {
                        return Err(ApiError::Forbidden(match chat.kind {
                            ChatKind::Group => "only the group's owner can remove others".into(),
                            _ => "only admins can remove others from a lounge".into(),
                        }));
                    }
                }
                chat
            }
            // An admin need not be in a lounge to remove someone from it.
            (Err(e), true) => store::lounge(self.db.r(), chat_id).await?.ok_or(e)?,
            (Err(e), false) => return Err(e),
        };
        let outcome = store::remove_member(self.db.w(), chat_id, user_id).await?;
        let (new_owner, deleted) = match outcome {
            Removed::NotMember => return Err(ApiError::not_found("member")),
            Removed::Left { new_owner } => (new_owner, false),
            Removed::ChatDeleted => (None, true),
        };
        if chat.kind == ChatKind::Lounge && user_id != me {
            tracing::info!(target: "audit", admin_id = %me, lounge = %chat_id, user_id = %user_id, "removed from a lounge");
        }
        let mut told = Vec::new();
        if chat.kind == ChatKind::Group && !deleted {
            let who = self.name(user_id).await?;
            let mut text = if user_id == me {
                format!("{who} left")
            } else {
                format!("{} removed {who}", self.name(me).await?)
            };
            if let Some(owner) = new_owner {
                text.push_str(&format!("; {} is now the owner", self.name(owner).await?));
            }
            told = self.announce(&chat, me, text).await?;
        }
        told.push(user_id);
        self.realtime.publish(
            told,
            Event::MemberLeft {
                chat_id,
                user_id,
                new_owner_id: new_owner,
                chat_deleted: deleted,
            },
        );
        Ok(())
    }

    /// The owner renames the group.
    pub async fn rename(&self, me: Uuid, membership: Membership, title: String) -> ApiResult<()> {
        if membership.member.role != MemberRole::Owner {
            return Err(ApiError::Forbidden("only the group's owner can rename it".into()));
        }
        let chat = store::update(self.db.w(), membership.chat, Some(title.clone()), None, None).await?;
        let who = self.name(me).await?;
        let members = self
            .announce(&chat, me, format!("{who} renamed the group to “{title}”"))
            .await?;
        self.realtime.publish(
            members,
            Event::ChatRenamed {
                chat_id: chat.id,
                title,
            },
        );
        Ok(())
    }
}
