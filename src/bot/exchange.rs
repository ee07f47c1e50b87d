//! One bot request: reserve a unit of quota, store the learner's turn, stream the
//! model's reply while the tutor checks the learner's message alongside it, then
//! store the reply with that feedback. It runs in its own task, so a client that
//! goes away cancels the model calls but never leaves half-written state.
use std::{future::Future, pin::Pin, time::Duration};

use futures_util::StreamExt;
use tokio::{
    sync::{mpsc, oneshot, OwnedSemaphorePermit},
    time::Instant,
};
use tracing::Instrument;
use uuid::Uuid;

use super::{
    check::CheckError,
    client::BotClient,
    prompt,
    provider::UpstreamError,
    quota::{Charge, Denied, QuotaStatus},
    scenarios,
};
use crate::{
    db::{idempotency, messages, progress},
    domain::{
        chat::Message,
        feedback::Feedback,
        kinds::{Level, MessageRole},
    },
    entity::chat,
    error::{ApiError, ApiResult},
    realtime::events::Event as Notice,
    state::AppState,
};

/// How much history is read from the database before the budget trims it.
const HISTORY_ROWS: u64 = 60;
/// Retry-After for a request refused only because others are still in flight.
const BUSY_RETRY_SECS: u64 = 2;

#[derive(Debug)]
pub enum Event {
    /// Reply text as it arrives.
    Delta(String),
    /// The reply, stored, and the quota after this request.
    Done { reply: Box<Message>, quota: QuotaStatus },
    /// The model failed; the message says whether the request was counted.
    Failed(ApiError),
}

pub struct Started {
    pub message: Message,
    /// The quota with this request's unit taken.
    pub quota: QuotaStatus,
    pub events: mpsc::Receiver<Event>,
}

/// A place with the built-in model, held for as long as the request runs
/// (`None` with a remote model).
pub type Place = Option<OwnedSemaphorePermit>;

/// The configured bot, a place with it and one unit of the caller's quota,
/// or why not: no bot, too many requests in a short time, the model's queue
/// full, or no quota left. Every refusal comes before anything is stored,
/// broadcast or counted.
/// `message_id` is the learner's turn the unit answers, if any (stored next).
pub async fn reserve(
    state: &AppState,
    user_id: Uuid,
    message_id: Option<Uuid>,
) -> ApiResult<(BotClient, Charge, Place)> {
    let bot = state.bot.clone().map_err(ApiError::BotUnavailable)?;
    state.limits.bot(user_id)?;
    let place = bot.admit().map_err(|retry_after| ApiError::BotBusy { retry_after })?;
    let reservation = state
        .quota
        .reserve(state.db.w(), user_id, state.lease.id(), message_id)
        .await?
        .map_err(|denied| match denied {
            Denied::Exhausted(status) => ApiError::QuotaExceeded(status),
            Denied::Busy(status) => ApiError::QuotaBusy {
                retry_after: BUSY_RETRY_SECS,
            }
            .with_quota(status),
        })?;
    Ok((bot, Charge::new(state.db.clone(), reservation), place))
}

/// Runs `work` on one unit of `user`'s quota, in its own task: the unit is kept
/// when the work succeeds, and given back when it fails or the client leaves
/// (which also cancels the model call). Answers with the quota after it.
pub async fn charged<T, Fut>(
    state: &AppState,
    user: Uuid,
    work: impl FnOnce(BotClient) -> Fut,
) -> ApiResult<(T, QuotaStatus)>
where
    Fut: Future<Output = ApiResult<T>> + Send + 'static,
    T: Send + 'static,
{
    let (bot, charge, place) = reserve(state, user, None).await?;
    let work = work(bot);
    let (tx, rx) = oneshot::channel();
    tokio::spawn(
        async move {
            let _place = place;
            let mut tx = tx;
            if let Some(result) = charge.run(work, tx.closed()).await {
                let _ = tx.send(result);
            }
        }
        .in_current_span(),
    );
    let value = rx
        .await
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the bot task ended without a result")))??;
    let quota = state.quota.status(state.db.r(), user).await?;
    Ok((value, quota))
}

/// Checks limits, reserves quota and stores the learner's message with the id
/// `message_id` (chosen beforehand, so that its `Idempotency-Key` names it);
/// the model call then runs in the background, reporting through `events`.
pub async fn start(
    state: &AppState,
    user_id: Uuid,
    chat: chat::Model,
    content: String,
    message_id: Uuid,
) -> ApiResult<Started> {
    let (bot, charge, place) = reserve(state, user_id, Some(message_id)).await?;
    let stored = messages::insert_as(
        &state.db,
        message_id,
        chat.id,
        Some(user_id),
        MessageRole::User,
        content.clone(),
        None,
    )
    .await;
    let user_message = match stored {
        Ok(m) => m,
        Err(e) => {
            charge.refund().await?;
            return Err(e.into());
        }
    };
    // Other tabs of the learner see both turns as they are stored.
    state
        .realtime
        .publish(vec![user_id], Notice::message_created(user_message.clone().into()));
    let history = messages::list(state.db.r(), chat.id, None, HISTORY_ROWS).await?;
    let scenario = scenarios::of_chat(chat.scenario_id.as_deref());
    let level = chat.level.unwrap_or(Level::DEFAULT);
    let turns = prompt::messages(
        scenario,
        level,
        &history,
        state.settings.bot_history_chars,
        (history.len() as u64) < HISTORY_ROWS,
    );
    let (tx, rx) = mpsc::channel(64);
    let quota = charge.reservation.status.clone();
    let task = Task {
        state: state.clone(),
        bot,
        charge,
        chat_id: chat.id,
        user_message_id: user_message.id,
        learner_text: content,
        tx,
        _place: place,
    };
    tokio::spawn(task.run(turns).in_current_span());
    Ok(Started {
        message: user_message.into(),
        quota,
        events: rx,
    })
}

struct Task {
    state: AppState,
    bot: BotClient,
    charge: Charge,
    chat_id: Uuid,
    user_message_id: Uuid,
    learner_text: String,
    tx: mpsc::Sender<Event>,
    /// Given back when the exchange is over.
    _place: Place,
}

type Checked = Result<Feedback, CheckError>;

enum Outcome {
    Finished,
    Failed(UpstreamError),
    /// The client went away.
    Cancelled,
}

impl Task {
    async fn run(self, turns: Vec<serde_json::Value>) {
        let started = Instant::now();
        let total_deadline = started + self.bot.total_timeout;
        let mut reply = String::new();
        // The check runs alongside the reply, on the same quota unit.
        let mut check = std::pin::pin!(self.state.tutor.check(
            &self.bot,
            self.charge.reservation.user_id,
            &self.learner_text,
            total_deadline
        ));
        let mut checked = None;
        let outcome = self
            .stream(turns, started, &mut reply, check.as_mut(), &mut checked)
            .await;
        // Once the reply has started, the request counts, so the learner gets
        // the check too: also when they stopped the reply or it broke off.
        let wanted = !reply.trim().is_empty();
        if wanted && checked.is_none() {
            checked = tokio::time::timeout_at(total_deadline, check).await.ok();
        }
        let feedback = match checked {
            Some(Ok(feedback)) => feedback,
            Some(Err(e)) => {
                tracing::info!(chat_id = %self.chat_id, error = %e, "the tutor's check gave no usable answer");
                Feedback::unchecked()
            }
            None => Feedback::unchecked(),
        };
        if let Err(e) = self.finish(outcome, reply, feedback).await {
            tracing::error!(error = ?e, chat_id = %self.chat_id, "storing the bot exchange failed");
            let _ = self.tx.send(Event::Failed(e)).await;
        }
    }

    /// Streams the reply into `reply`, noting the check's result if it comes first.
    async fn stream<F: Future<Output = Checked>>(
        &self,
        turns: Vec<serde_json::Value>,
        started: Instant,
        reply: &mut String,
        mut check: Pin<&mut F>,
        checked: &mut Option<Checked>,
    ) -> Outcome {
        let first_deadline = started + self.bot.first_token_timeout;
        let total_deadline = started + self.bot.total_timeout;
        let deadline = |reply: &str| {
            if reply.trim().is_empty() {
                first_deadline.min(total_deadline)
            } else {
                total_deadline
            }
        };
        // The check is sent once the reply's first words came: a server with
        // one slot (llama.cpp's default, Ollama's on small machines) answers
        // the reply first, and the built-in model never reads the check's
        // sentence while the learner waits for the reply's first words.
        let start = tokio::time::timeout_at(first_deadline.min(total_deadline), self.bot.stream(turns));
        let mut stream = tokio::select! {
            _ = self.tx.closed() => return Outcome::Cancelled,
            r = start => match r {
                Err(_) => return Outcome::Failed(UpstreamError::Timeout),
                Ok(Err(e)) => return Outcome::Failed(e),
                Ok(Ok(s)) => s,
            },
        };
        loop {
            tokio::select! {
                _ = self.tx.closed() => return Outcome::Cancelled,
                r = check.as_mut(), if checked.is_none() && !reply.is_empty() => *checked = Some(r),
                next = tokio::time::timeout_at(deadline(reply), stream.next()) => match next {
                    Err(_) => return Outcome::Failed(UpstreamError::Timeout),
                    Ok(None) => return Outcome::Finished,
                    Ok(Some(Err(e))) => return Outcome::Failed(e),
                    Ok(Some(Ok(text))) => {
                        // Leading blank lines are not shown; the text after them is.
                        let text = if reply.trim().is_empty() { text.trim_start() } else { text.as_str() };
                        if text.is_empty() {
                            continue;
                        }
                        reply.push_str(text);
                        if self.tx.send(Event::Delta(text.to_owned())).await.is_err() {
                            return Outcome::Cancelled;
                        }
                    }
                },
            }
        }
    }

    async fn finish(&self, outcome: Outcome, reply: String, feedback: Feedback) -> ApiResult<()> {
        let db = &self.state.db;
        let reply_text = reply.trim().to_owned();
        if reply_text.is_empty() {
            // Nothing came back: the request does not count and leaves no trace.
            self.charge.refund().await?;
            messages::delete(db.w(), self.user_message_id).await?;
            // A retry with the same `Idempotency-Key` is a new request.
            idempotency::forget_message(db.w(), self.charge.reservation.user_id, self.user_message_id).await?;
            // The learner's other tabs showed the turn; it is gone now.
            self.state.realtime.publish(
                vec![self.charge.reservation.user_id],
                Notice::MessageDeleted {
                    chat_id: self.chat_id,
                    message_id: self.user_message_id,
                },
            );
            let error = match outcome {
                Outcome::Cancelled => {
                    tracing::info!(chat_id = %self.chat_id, "client left before the first words; request refunded");
                    return Ok(());
                }
                Outcome::Failed(e) => upstream_error(e),
                Outcome::Finished => upstream_error(UpstreamError::Failed),
            };
            let _ = self.tx.send(Event::Failed(error)).await;
            return Ok(());
        }
        let feedback_json = serde_json::to_string(&feedback).map_err(ApiError::internal)?;
        let reply: Message = messages::insert(
            db,
            self.chat_id,
            None,
            MessageRole::Assistant,
            reply_text,
            Some(feedback_json),
        )
        .await?
        .into();
        // Settled once the reply is stored: a crash in between leaves a unit
        // in flight whose turn has its reply, which recovery settles.
        self.charge.settle().await?;
        let practice = progress::Practice {
            user_id: self.charge.reservation.user_id,
            chat_id: self.chat_id,
            message_id: self.user_message_id,
            day: &self.charge.reservation.day,
            text: &self.learner_text,
            feedback: &feedback,
        };
        if let Err(e) = progress::record(db.w(), practice).await {
            // The reply is stored and shown; only the notebook misses this turn.
            tracing::error!(error = ?e, chat_id = %self.chat_id, "recording practice progress failed");
        }
        self.state.realtime.publish(
            vec![self.charge.reservation.user_id],
            Notice::message_created(reply.clone()),
        );
        match outcome {
            Outcome::Finished => {
                let quota = self.state.quota.status(db.r(), self.charge.reservation.user_id).await?;
                let _ = self
                    .tx
                    .send(Event::Done {
                        reply: Box::new(reply),
                        quota,
                    })
                    .await;
            }
            Outcome::Failed(e) => {
                tracing::warn!(chat_id = %self.chat_id, "bot reply cut short; partial reply stored");
                let _ = self.tx.send(Event::Failed(cut_short(e))).await;
            }
            Outcome::Cancelled => {
                tracing::info!(chat_id = %self.chat_id, "client left mid-reply; upstream cancelled, partial reply stored");
            }
        }
        Ok(())
    }
}

pub fn upstream_error(e: UpstreamError) -> ApiError {
    match e {
        UpstreamError::Unreachable => {
            ApiError::BotUnavailable("the bot server cannot be reached right now; this request was not counted".into())
        }
        UpstreamError::Failed => {
            ApiError::BotUpstream("the bot server answered with an error; this request was not counted".into())
        }
        UpstreamError::Timeout => {
            ApiError::BotTimeout("the bot did not answer in time; this request was not counted".into())
        }
        UpstreamError::Busy { retry_after } => ApiError::BotBusy { retry_after },
    }
}

/// The model stopped after it had started replying: the partial reply is kept
/// and the request counts.
fn cut_short(e: UpstreamError) -> ApiError {
    match e {
        UpstreamError::Timeout => {
            ApiError::BotTimeout("the bot's reply took too long and was cut short; the partial reply was saved".into())
        }
        _ => ApiError::BotUpstream("the bot's reply broke off; the partial reply was saved".into()),
    }
}

/// Waits for the end of an exchange: the reply, or the error.
pub async fn complete(mut started: Started, idle: Duration) -> ApiResult<(Message, QuotaStatus)> {
    loop {
        match tokio::time::timeout(idle, started.events.recv()).await {
            Ok(Some(Event::Delta(_))) => continue,
            Ok(Some(Event::Done { reply, quota })) => return Ok((*reply, quota)),
            Ok(Some(Event::Failed(e))) => return Err(e),
            Ok(None) | Err(_) => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "bot exchange ended without a result"
                )))
            }
        }
    }
}
