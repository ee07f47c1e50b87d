//! What a browser is told about every response: a strict Content Security
//! Policy, no sniffing, no framing, no referrer, HSTS when the operator says the
//! service is behind HTTPS; and CORS for the origins the operator lists, so an
//! API consumer's own web front end can call the API (none by default).
use std::{collections::HashSet, sync::Arc};

use base64::Engine as _;
use poem::{
    http::{header, HeaderName, HeaderValue},
    middleware::{Cors, CorsEndpoint},
    Endpoint, IntoResponse, Middleware, Request, Response, Result,
};
use sha2::{Digest, Sha256};

/// The app's policy: its own scripts, styles and images only (the favicon
/// and icons are `data:` URLs); API calls and the WebSocket to this origin
/// (CSP 3's `'self'` covers `ws:`/`wss:` of the same host); no plugins, no
/// `<base>` tricks, forms post only here, and no one may frame it.
const APP_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; manifest-src 'self'; media-src 'self' blob:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Headers for every response, built once from the settings.
#[derive(Clone)]
pub struct Headers {
    app_policy: HeaderValue,
    docs_policy: HeaderValue,
    hsts: Option<HeaderValue>,
}

impl Headers {
    /// `docs_html` is the Swagger UI page: its inline script and style (the
    /// bundle and the spec are inlined) are allowed by their hashes, nothing
    /// else inline is.
    pub fn new(docs_html: &str, behind_https: bool) -> Self {
        let hashes = |tag: &str| {
            inline_blocks(docs_html, tag)
                .map(|block| {
                    let digest = Sha256::digest(block.as_bytes());
                    format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
                })
                .collect::<String>()
        };
        let docs_policy = format!(
            "default-src 'none'; script-src 'self'{}; style-src 'self'{}; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            hashes("script"),
            hashes("style"),
        );
        Self {
            app_policy: HeaderValue::from_static(APP_POLICY),
            docs_policy: HeaderValue::from_str(&docs_policy).expect("a policy is ASCII"),
            hsts: behind_https.then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains")),
        }
    }

    fn apply(&self, path: &str, resp: &mut Response) {
        let headers = resp.headers_mut();
        let policy = if path == "/docs" || path.starts_with("/docs/") {
            &self.docs_policy
        } else {
            &self.app_policy
        };
        headers.insert(header::CONTENT_SECURITY_POLICY, policy.clone());
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        );
        if let Some(hsts) = &self.hsts {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
        }
    }
}

/// The text of every inline `<tag …>…</tag>` block (those with no `src`).
fn inline_blocks<'a>(html: &'a str, tag: &str) -> impl Iterator<Item = &'a str> + 'a {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut rest = html;
    std::iter::from_fn(move || loop {
        let start = rest.find(&open)?;
        let after = &rest[start..];
        let head_end = after.find('>')?;
        let head = &after[..head_end];
        let body = &after[head_end + 1..];
        let end = body.find(&close)?;
        rest = &body[end + close.len()..];
        if !head.contains("src=") {
            return Some(&body[..end]);
        }
    })
}

/// Adds [`Headers`] to every response, errors included.
pub async fn with_headers<E: Endpoint>(ep: E, req: Request, headers: Arc<Headers>) -> Result<Response> {
    let path = req.uri().path().to_owned();
    let mut resp = match ep.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    headers.apply(&path, &mut resp);
    Ok(resp)
}

/// CORS for the listed origins only. A request from any other origin is
/// served as if CORS did not exist (no `Access-Control-*` headers, so the
/// browser keeps the answer from that page) rather than refused, which keeps
/// same-origin requests from the app itself working.
pub struct OptInCors {
    origins: HashSet<String>,
}

impl OptInCors {
    pub fn new(origins: &[String]) -> Self {
        Self {
            origins: origins.iter().map(|o| o.trim_end_matches('/').to_owned()).collect(),
        }
    }
}

impl<E: Endpoint> Middleware<E> for OptInCors {
    type Output = OptInCorsEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        let plain = Arc::new(ep);
        let cors = Cors::new()
            .allow_origins(self.origins.iter().map(String::as_str))
            .allow_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
            .expose_headers([
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "X-Request-Id",
            ])
            .max_age(600)
            .transform(plain.clone());
        OptInCorsEndpoint {
            plain,
            cors,
            origins: self.origins.clone(),
        }
    }
}

pub struct OptInCorsEndpoint<E> {
    plain: Arc<E>,
    cors: CorsEndpoint<Arc<E>>,
    origins: HashSet<String>,
}

impl<E: Endpoint> Endpoint for OptInCorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let listed = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .is_some_and(|o| self.origins.contains(o));
        if listed {
            self.cors.call(req).await
        } else {
            self.plain.call(req).await.map(IntoResponse::into_response)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_blocks_skip_external_scripts() {
        let html = "<style a>s1</style><script src=\"/x.js\"></script><script>one</script><script type=m>two</script>";
        assert_eq!(inline_blocks(html, "script").collect::<Vec<_>>(), ["one", "two"]);
        assert_eq!(inline_blocks(html, "style").collect::<Vec<_>>(), ["s1"]);
    }

    #[test]
    fn the_docs_policy_allows_exactly_its_inline_blocks() {
        let headers = Headers::new("<script>let a = 1;</script>", false);
        let policy = headers.docs_policy.to_str().unwrap();
        // echo -n 'let a = 1;' | openssl sha256 -binary | base64
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"let a = 1;"));
        assert!(
            policy.contains(&format!("script-src 'self' 'sha256-{digest}';")),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(headers.hsts.is_none());
    }
}
