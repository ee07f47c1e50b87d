//! Logging via tracing; `RUST_LOG` filters, `LOG_FORMAT=json` for machines.
//! Lines are written to stdout by a background thread, so a request never
//! waits on a slow terminal or pipe; nothing is dropped (a full buffer makes
//! the logging call wait instead).
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Keep the guard until exit: dropping it flushes what is still buffered.
pub fn init(format: &str) -> WorkerGuard {
    let (writer, guard) = NonBlockingBuilder::default().lossy(false).finish(std::io::stdout());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    if format == "json" {
        let _ = registry.with(fmt::layer().json().with_writer(writer)).try_init();
    } else {
        // Colour only on a terminal: a file or a log collector gets plain text.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
        let _ = registry
            .with(fmt::layer().with_ansi(ansi).with_writer(writer))
            .try_init();
    }
    guard
}
