use std::process::ExitCode;

use chattconnect::{
    api,
    cli::{AdminCommand, Cli, Command, LoungeCommand, ModelCommand},
    config::Settings,
    db::{self, Db},
    model_files,
    startup::Application,
    telemetry,
};
use clap::Parser;

/// mimalloc returns freed memory to the system. glibc's malloc keeps each
/// thread's freed 19 MiB argon2 blocks in per-thread arenas, so a burst of
/// sign-ins left the process hundreds of MiB larger for good.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", api::spec_json());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::load(cli.config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    // candle reads its thread count from the environment when it first runs a
    // model; set it while this process has one thread, before the runtime starts.
    std::env::set_var("CANDLE_NUM_THREADS", settings.local_threads().to_string());
    // Held until `main` returns: dropping it flushes the last log lines.
    let _log = telemetry::init(&settings.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            tracing::info!(database = %db::redact_url(&settings.database_url), bind = %settings.bind, "starting ChattConnect");
            let app = Application::build(settings).await?;
            let base = format!("http://{}:{}", bind_host(&app), app.port());
            tracing::info!("ChattConnect is at {base}/ (API docs at {base}/docs)");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = Db::connect(&settings).await?;
            db.migrate(&settings).await?;
            tracing::info!("migrations applied");
        }
        Command::Admin {
            command: AdminCommand::Promote { username },
        } => {
            let db = Db::connect(&settings).await?;
            db.migrate(&settings).await?;
            match db::users::set_role(db.w(), &username, chattconnect::domain::kinds::Role::Admin).await? {
                Some(user) => {
                    tracing::info!(user_id = %user.id, username = %user.username, "promoted to admin")
                }
                None => anyhow::bail!("no user named '{username}'"),
            }
        }
        Command::Admin {
            command: AdminCommand::ResetLink { username },
        } => {
            let db = Db::connect(&settings).await?;
            db.migrate(&settings).await?;
            let Some(user) = db::users::find_by_username(db.w(), &username).await? else {
                anyhow::bail!("no user named '{username}'");
            };
            let token = db::links::create(db.w(), user.id, db::links::Purpose::Reset, None, db::now()).await?;
            // The link alone goes to standard output (it is a secret: never
            // logged), so it can be piped; the note goes to standard error.
            println!("{}/#/reset/{token}", settings.app_url());
            eprintln!(
                "A link for {} to choose a new password: it works once, for an hour.",
                user.username
            );
        }
        Command::Admin {
            command: AdminCommand::Lounge {
                command: LoungeCommand::Create { name },
            },
        } => {
            let name = name.trim().to_owned();
            if !(1..=settings.chat_title_max_len).contains(&name.chars().count()) {
                anyhow::bail!("a lounge's name must be 1..{} characters", settings.chat_title_max_len);
            }
            let db = Db::connect(&settings).await?;
            db.migrate(&settings).await?;
            let lounge = db::chats::create(
                db.w(),
                chattconnect::domain::kinds::ChatKind::Lounge,
                Some(name),
                None,
                None,
                &[],
            )
            .await?;
            // The id alone goes to standard output, so it can be piped.
            println!("{}", lounge.id);
            eprintln!("Lounge “{}” created.", lounge.title.unwrap_or_default());
        }
        Command::Model {
            command: ModelCommand::Pull { repo, file },
        } => {
            let (repo, file) = match (repo, file) {
                (Some(repo), Some(file)) => (repo, file),
                _ => (
                    model_files::RECOMMENDED.0.to_owned(),
                    model_files::RECOMMENDED.1.to_owned(),
                ),
            };
            model_files::pull(&settings, &repo, &file).await?;
        }
        Command::Model {
            command: ModelCommand::List,
        } => print!("{}", model_files::list(&settings)?),
        Command::Openapi => unreachable!("handled before configuration is loaded"),
    }
    Ok(())
}

fn bind_host(app: &Application) -> String {
    app.state().settings.bind.ip().to_string()
}
