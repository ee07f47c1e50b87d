//! Bot work left in flight by a process that died (`kill -9`, a crash, a lost
//! machine). Every unit of quota in flight names the lease of the process
//! answering it; when that lease is gone the unit is ended here, as the
//! contract says for a request that got no reply: a learner's turn whose reply
//! was stored is settled (it counts), one without a reply is removed and
//! refunded (its `Idempotency-Key` forgotten, so a retry runs anew), and a
//! check or a review is refunded. Runs at start and every few seconds on every
//! instance; each unit is ended exactly once, whoever gets there first.
use std::collections::HashMap;

use sea_orm::{DbErr, EntityTrait};
use uuid::Uuid;

use crate::{
    db::{
        idempotency, messages,
        quota::{self as store, End, Held},
    },
    entity::message,
    realtime::events::Event,
    state::AppState,
};

/// Ends every unit in flight whose process has died; how many it ended.
pub async fn sweep(state: &AppState) -> Result<usize, DbErr> {
    let held = store::held_by_others(state.db.r(), state.lease.id()).await?;
    let mut alive: HashMap<Uuid, bool> = HashMap::new();
    let mut ended = 0;
    for unit in held {
        let owner_alive = match alive.get(&unit.owner) {
            Some(known) => *known,
            None => {
                let known = state.lease.alive(state.db.w(), unit.owner).await?;
                *alive.entry(unit.owner).or_insert(known)
            }
        };
        if !owner_alive && end(state, &unit).await? {
            ended += 1;
        }
    }
    if ended > 0 {
        tracing::warn!(ended, "ended bot requests left in flight by a process that stopped");
    }
    Ok(ended)
}

/// Ends the units this process still holds as it stops; how many. Requests
/// cut off by the shutdown timeout end their own units as a client that left
/// does (a started reply kept and counted): they get up to `wait` for that.
pub async fn settle_own(state: &AppState, wait: std::time::Duration) -> Result<usize, DbErr> {
    let until = tokio::time::Instant::now() + wait;
    while !store::held_by(state.db.r(), state.lease.id()).await?.is_empty() && tokio::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut ended = 0;
    for unit in store::held_by(state.db.r(), state.lease.id()).await? {
        if end(state, &unit).await? {
            ended += 1;
        }
    }
    Ok(ended)
}

/// Ends one unit whose process died; `false` if something else ended it first.
async fn end(state: &AppState, unit: &Held) -> Result<bool, DbErr> {
    let db = state.db.w();
    let turn = match unit.message_id {
        Some(id) => message::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    // A turn without its reply is refunded and removed; one with it counts.
    let unanswered = match &turn {
        Some(t) => messages::reply_after(db, t.chat_id, t).await?.is_none().then_some(t),
        None => None,
    };
    let how = if turn.is_some() && unanswered.is_none() {
        End::Settle
    } else {
        End::Refund
    };
    let ended = store::end(db, unit.id, unit.user_id, &unit.day, how).await?;
    if let (true, Some(turn)) = (ended, unanswered) {
        remove(state, turn).await?;
    }
    Ok(ended)
}

/// A learner's turn stored by a process that died before its reply: removed
/// and, if its unit is still in flight, refunded.
pub async fn abandon_turn(state: &AppState, turn: &message::Model) -> Result<(), DbErr> {
    match store::held_for_message(state.db.w(), turn.id).await? {
        Some(unit) => {
            end(state, &unit).await?;
        }
        None => remove(state, turn).await?,
    }
    Ok(())
}

async fn remove(state: &AppState, turn: &message::Model) -> Result<(), DbErr> {
    let db = state.db.w();
    messages::delete(db, turn.id).await?;
    if let Some(user) = turn.sender_id {
        idempotency::forget_message(db, user, turn.id).await?;
        state.realtime.publish(
            vec![user],
            Event::MessageDeleted {
                chat_id: turn.chat_id,
                message_id: turn.id,
            },
        );
    }
    Ok(())
}
