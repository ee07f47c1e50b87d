//! `chattconnect model pull` and `model list`, run as the real binary against a
//! stand-in for the Hugging Face Hub that publishes checksums as the Hub does
//! (`X-Linked-Etag` on a HEAD of the file) and honours `Range`.
use std::{
    path::Path,
    process::Output,
    sync::{Arc, Mutex},
};

use candle_core::{
    quantized::{gguf_file, GgmlDType, QTensor},
    DType, Device, Tensor,
};
use poem::{
    handler,
    http::{header, Method, StatusCode},
    listener::{Acceptor, Listener, TcpListener},
    web::Data,
    EndpointExt, Request, Response, Route,
};
use sha2::{Digest, Sha256};

/// The command that fetches the stand-in Hub's model.
const PULL: [&str; 4] = ["model", "pull", "someone/tiny-GGUF", "tiny.gguf"];

/// A small but real GGUF file.
fn tiny_model() -> Vec<u8> {
    let tensor = QTensor::quantize(
        &Tensor::zeros((4, 64), DType::F32, &Device::Cpu).unwrap(),
        GgmlDType::F32,
    )
    .unwrap();
    let architecture = gguf_file::Value::String("llama".into());
    let name = gguf_file::Value::String("Tiny Test Model".into());
    let mut out = std::io::Cursor::new(Vec::new());
    gguf_file::write(
        &mut out,
        &[("general.architecture", &architecture), ("general.name", &name)],
        &[("token_embd.weight", &tensor)],
    )
    .unwrap();
    out.into_inner()
}

#[derive(Clone)]
struct Hub {
    file: Arc<Vec<u8>>,
    /// What the HEAD publishes as the SHA-256.
    published: String,
    ranges: Arc<Mutex<Vec<String>>>,
}

#[handler]
fn resolve(req: &Request, hub: Data<&Hub>) -> Response {
    if !req.uri().path().ends_with("/resolve/main/tiny.gguf") {
        return StatusCode::NOT_FOUND.into();
    }
    let size = hub.file.len();
    if req.method() == Method::HEAD {
        return Response::builder()
            .header("x-linked-etag", format!("\"{}\"", hub.published))
            .header("x-linked-size", size.to_string())
            .finish();
    }
    let from = req.headers().get(header::RANGE).and_then(|r| r.to_str().ok()).map(|r| {
        hub.ranges.lock().unwrap().push(r.to_owned());
        r.trim_start_matches("bytes=")
            .trim_end_matches('-')
            .parse::<usize>()
            .unwrap()
    });
    match from {
        Some(from) => Response::builder()
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_RANGE, format!("bytes {from}-{}/{size}", size - 1))
            .body(hub.file[from..].to_vec()),
        None => Response::builder().body(hub.file.to_vec()),
    }
}

async fn start_hub(published: Option<String>) -> (String, Hub) {
    start_hub_serving(tiny_model(), published).await
}

/// A Hub that serves `file` (and publishes its checksum unless told otherwise).
async fn start_hub_serving(file: Vec<u8>, published: Option<String>) -> (String, Hub) {
    let hub = Hub {
        published: published.unwrap_or_else(|| hex::encode(Sha256::digest(&file))),
        file: Arc::new(file),
        ranges: Arc::default(),
    };
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
    let app = Route::new().at("/*path", resolve).data(hub.clone());
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    (format!("http://127.0.0.1:{port}"), hub)
}

async fn run(data_dir: &Path, endpoint: &str, args: &[&str]) -> (Output, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_chattconnect"))
        .args(args)
        .env("DATA_DIR", data_dir)
        .env("HF_ENDPOINT", endpoint)
        .env_remove("BOT_BASE_URL")
        .env_remove("BOT_LOCAL_MODEL")
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

#[tokio::test]
async fn model_pull_downloads_a_checked_model_that_model_list_shows_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let (endpoint, hub) = start_hub(None).await;
    let (out, text) = run(dir.path(), &endpoint, &["model", "list"]).await;
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("No models in") && text.contains("chattconnect model pull"),
        "{text}"
    );

    let (out, text) = run(dir.path(), &endpoint, &PULL).await;
    assert!(out.status.success(), "{text}");
    assert!(text.contains("SHA-256 verified"), "{text}");
    let saved = dir.path().join("models/tiny.gguf");
    assert_eq!(std::fs::read(&saved).unwrap(), *hub.file);
    assert!(!dir.path().join("models/tiny.gguf.part").exists());

    let (out, text) = run(dir.path(), &endpoint, &["model", "list"]).await;
    assert!(out.status.success(), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("tiny.gguf"))
        .expect("the model is listed");
    assert!(
        line.starts_with('*') && line.contains("Tiny Test Model") && line.contains("llama"),
        "{text}"
    );
    assert!(text.contains("the server uses this one"), "{text}");

    let (out, text) = run(dir.path(), &endpoint, &PULL).await;
    assert!(out.status.success() && text.contains("already there"), "{text}");
}

#[tokio::test]
async fn an_interrupted_download_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (endpoint, hub) = start_hub(None).await;
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("tiny.gguf.part"), &hub.file[..100]).unwrap();
    let (out, text) = run(dir.path(), &endpoint, &PULL).await;
    assert!(out.status.success(), "{text}");
    assert_eq!(*hub.ranges.lock().unwrap(), ["bytes=100-"]);
    assert_eq!(std::fs::read(models.join("tiny.gguf")).unwrap(), *hub.file);
}

#[tokio::test]
async fn a_download_that_fails_its_checksum_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (endpoint, _) = start_hub(Some("ab".repeat(32))).await;
    let (out, text) = run(dir.path(), &endpoint, &PULL).await;
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("corrupt") && text.contains(&"ab".repeat(32)), "{text}");
    let left: Vec<_> = std::fs::read_dir(dir.path().join("models")).unwrap().collect();
    assert!(left.is_empty(), "nothing is left behind: {left:?}");
}

#[tokio::test]
async fn pulling_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (endpoint, _) = start_hub(None).await;
    let (out, text) = run(
        dir.path(),
        &endpoint,
        &["model", "pull", "someone/tiny-GGUF", "other.gguf"],
    )
    .await;
    assert!(
        !out.status.success() && text.contains("has no file other.gguf"),
        "{text}"
    );
    let (out, text) = run(
        dir.path(),
        &endpoint,
        &["model", "pull", "someone/tiny-GGUF", "notes.txt"],
    )
    .await;
    assert!(
        !out.status.success() && text.contains("is not a .gguf file name"),
        "{text}"
    );
    let (out, text) = run(dir.path(), &endpoint, &["model", "pull", "someone/tiny-GGUF"]).await;
    assert!(
        !out.status.success() && text.contains("<FILE>"),
        "a repository needs a file: {text}"
    );
}

#[tokio::test]
async fn offline_pull_says_how_to_place_a_model_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (out, text) = run(dir.path(), &format!("http://{closed}"), &["model", "pull"]).await;
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("cannot reach"), "{text}");
    assert!(
        text.to_lowercase().contains("connection refused"),
        "the cause is named: {text}"
    );
    assert!(text.contains("Without internet") && text.contains("models"), "{text}");
    assert!(text.contains("BOT_LOCAL_MODEL"), "{text}");
}

/// The tiny model cut short, as an interrupted copy leaves it: the header
/// reads, the weights are missing.
fn cut_short() -> Vec<u8> {
    let mut file = tiny_model();
    file.truncate(file.len() - 500);
    file
}

#[tokio::test]
async fn a_model_cut_short_is_refused_by_pull_even_with_a_matching_checksum() {
    let dir = tempfile::tempdir().unwrap();
    // A mirror that serves the broken file and publishes its checksum.
    let (endpoint, _) = start_hub_serving(cut_short(), None).await;
    let (out, text) = run(dir.path(), &endpoint, &PULL).await;
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("not a usable model") && text.contains("cut short"),
        "{text}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path().join("models")).unwrap().collect();
    assert!(left.is_empty(), "nothing is left where the server looks: {left:?}");
}

#[tokio::test]
async fn model_list_names_a_damaged_file_and_does_not_mark_it_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("broken.gguf"), cut_short()).unwrap();
    std::fs::write(models.join("garbage.gguf"), b"not a model at all").unwrap();
    let (out, text) = run(dir.path(), "http://127.0.0.1:9", &["model", "list"]).await;
    assert!(out.status.success(), "{text}");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} listed: {text}"))
    };
    assert!(
        line("broken.gguf").contains("cannot be used: the file is cut short"),
        "{text}"
    );
    assert!(line("garbage.gguf").contains("cannot be used"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with('*')), "{text}");
    assert!(text.contains("None of these can be used"), "{text}");

    // A whole model beside them is the one in use.
    std::fs::write(models.join("good.gguf"), tiny_model()).unwrap();
    let (_, text) = run(dir.path(), "http://127.0.0.1:9", &["model", "list"]).await;
    let good = text.lines().find(|l| l.contains("good.gguf")).unwrap();
    assert!(good.starts_with('*'), "{text}");
}

#[tokio::test]
async fn pull_never_writes_through_a_symbolic_link() {
    let dir = tempfile::tempdir().unwrap();
    let (endpoint, _) = start_hub(None).await;
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, models.join("tiny.gguf.part")).unwrap();
    let (out, text) = run(dir.path(), &endpoint, &PULL).await;
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("tiny.gguf.part") && text.contains("link"), "{text}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!models.join("tiny.gguf").exists());
}

#[tokio::test]
async fn a_damaged_model_file_leaves_the_server_up_and_bot_endpoints_say_why() {
    let app = crate::helpers::spawn_app_with(|s| {
        let models = s.data_dir.join("models");
        std::fs::create_dir_all(&models).unwrap();
        std::fs::write(models.join("half.gguf"), cut_short()).unwrap();
    })
    .await;
    app.call(reqwest::Method::GET, "/readyz", None, None).await.expect(200);
    let user = app.signup("damaged_model").await;
    let chat = app.bot_chat(&user, None).await;
    let refused = app
        .post(
            &format!("/api/v1/chats/{chat}/messages"),
            &user.access,
            serde_json::json!({"content": "Hello there."}),
        )
        .await
        .expect_error(503, "bot_unavailable");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("half.gguf") && message.contains("cut short"),
        "{message}"
    );
    let quota = app.get("/api/v1/bot/quota", &user.access).await.expect(200);
    assert_eq!(quota["used"], 0, "{quota}");
    let page = app
        .get(&format!("/api/v1/chats/{chat}/messages"), &user.access)
        .await
        .expect(200);
    assert_eq!(page["items"], serde_json::json!([]), "nothing stored");
}
