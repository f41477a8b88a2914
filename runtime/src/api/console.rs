//! The web console: the single-page app built from `console/` and embedded in the binary
//! at compile time (`runtime/build_console.rs`), served at `/` by the router's fallback.
//!
//! A path that names a file of the build gets that file (hashed `assets/` for a year); any
//! other GET outside `/api/` and `/hooks/` gets `index.html`, so the console's own paths
//! (`/workflows/offboarding`) load on a reload or a shared link. A binary built without a
//! console build serves a page saying how to make one. Every answer carries a
//! Content-Security-Policy that admits the console's own scripts only (no inline script,
//! nothing from another origin), so a value from a run or a plugin that slipped into the
//! page as markup could still not run.

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::code::Code;

/// The console's files, `(path under console/dist, bytes)`; empty without a build.
static ASSETS: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// The Content-Security-Policy of every console answer. Scripts only from the binary's
/// own files; inline styles are allowed because the graph (React Flow) and the editor
/// (CodeMirror) position and theme elements with them; a style cannot run code.
pub const CSP: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Shown when the binary was built without `console/dist`.
const NOT_BUILT: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sluice console not built</title></head>
<body>
<h1>The Sluice console is not in this binary</h1>
<p>This <code>sluice</code> was built without the web console. The API is served as usual
under <a href=\"/api/v1/openapi.json\">/api/v1</a>.</p>
<p>To embed the console, build it (Node 20 and npm), then build Sluice again:</p>
<pre>cd console &amp;&amp; npm ci &amp;&amp; npm run build &amp;&amp; cd ..
cargo build --release -p sluice</pre>
<p><code>scripts/run</code> does both.</p>
</body></html>
";

/// Whether the binary embeds a console build.
pub fn embedded() -> bool {
    !ASSETS.is_empty()
}

/// The router's fallback: a console file or page for a GET outside the API, the API's
/// 404 otherwise.
pub(super) async fn fallback(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let api = path == "/api" || path.starts_with("/api/") || path.starts_with("/hooks/");
    if api || !(method == Method::GET || method == Method::HEAD) {
        return ApiError::new(Code::NotFound, "no such endpoint; see /api/v1/openapi.json")
            .into_response();
    }
    let mut response = page(path);
    if method == Method::HEAD {
        *response.body_mut() = axum::body::Body::empty();
    }
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn page(path: &str) -> Response {
    if !embedded() {
        return html(NOT_BUILT.as_bytes());
    }
    let rel = path.trim_start_matches('/');
    if let Some((name, bytes)) = ASSETS.iter().find(|(p, _)| *p == rel && !rel.is_empty()) {
        let cache = if name.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return (
            [
                (header::CONTENT_TYPE, content_type(name)),
                (header::CACHE_CONTROL, cache),
            ],
            *bytes,
        )
            .into_response();
    }
    // A missing build file is a 404, not the app: a stale page asking for an asset of an
    // older build must not get HTML back as a script.
    if rel.starts_with("assets/") {
        return (StatusCode::NOT_FOUND, "no such console file").into_response();
    }
    match ASSETS.iter().find(|(p, _)| *p == "index.html") {
        Some((_, bytes)) => html(bytes),
        None => html(NOT_BUILT.as_bytes()),
    }
}

fn html(bytes: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        bytes,
    )
        .into_response()
}

/// The media type of a build file, by its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_files_have_their_media_types() {
        assert_eq!(
            content_type("assets/index-abc.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("assets/index-abc.css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }

    #[tokio::test]
    async fn api_paths_and_other_methods_are_not_the_console() {
        for (method, path) in [
            (Method::GET, "/api/v1/nope"),
            (Method::GET, "/hooks/x"),
            (Method::POST, "/workflows"),
        ] {
            let r = fallback(method, path.parse().unwrap()).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
            assert!(r.headers().get(header::CONTENT_SECURITY_POLICY).is_none());
        }
        let r = fallback(Method::GET, "/workflows/offboarding".parse().unwrap()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], CSP);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
    }
}
