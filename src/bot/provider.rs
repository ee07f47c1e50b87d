//! What every provider of text gives: a stream of text pieces, or the reason
//! there is none. The remote client and the built-in model both speak it.
use std::pin::Pin;

use futures_util::Stream;

/// Why the model produced no (or no more) text.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum UpstreamError {
    /// Connection refused, DNS failure, connect timeout: the server is not there.
    #[error("the bot server cannot be reached")]
    Unreachable,
    /// It answered with an error status or something we cannot read.
    #[error("the bot server answered with an error")]
    Failed,
    /// It did not answer in time.
    #[error("the bot server did not answer in time")]
    Timeout,
    /// The local model's queue is full.
    #[error("the bot is busy")]
    Busy { retry_after: u64 },
}

/// The model's reply as it is written, piece by piece.
pub type TextStream = Pin<Box<dyn Stream<Item = Result<String, UpstreamError>> + Send>>;
