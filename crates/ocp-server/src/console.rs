//! The web console: the built single-page app (`console/dist`, embedded in release builds and
//! read from the source tree in debug builds), served at `/` without authentication. A path
//! that is not a file of the build is a console route and answers `index.html`; API paths
//! never reach here but as a 404 envelope.
//!
//! Every answer carries a strict Content-Security-Policy: scripts, styles and everything else
//! only from this server, and styles injected by the design system only with the nonce put
//! into that `index.html`.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use ocp_api::ErrorCode;
use rand::Rng as _;

use crate::error::Failure;

#[derive(rust_embed::Embed)]
#[folder = "../../console/dist"]
#[allow_missing = true]
struct Assets;

/// Where `index.html` asks for its nonce.
const NONCE_PLACEHOLDER: &str = "__CSP_NONCE__";

/// Whether a path belongs to the console rather than to the API.
pub fn is_console_path(path: &str) -> bool {
    !(path == "/api"
        || path.starts_with("/api/")
        || path == "/metrics"
        || path.starts_with("/compute/"))
}

/// The router's fallback: a console file or route, or the API's 404 envelope.
pub async fn serve(request: Request) -> Response {
    let path = request.uri().path();
    if !is_console_path(path) {
        return Failure::new(ErrorCode::NotFound, "no such API path").into_response();
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return Failure::new(
            ErrorCode::MethodNotAllowed,
            "the console answers GET and HEAD",
        )
        .into_response();
    }
    let file = path.trim_start_matches('/');
    let response = match Assets::get(file).filter(|_| !file.is_empty() && file != "index.html") {
        Some(asset) => {
            // Vite names built assets by their content hash: they never change.
            let cache = if file.starts_with("assets/") {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            let mut response = asset.data.into_owned().into_response();
            set(
                &mut response,
                header::CONTENT_TYPE,
                asset.metadata.mimetype(),
            );
            set(&mut response, header::CACHE_CONTROL, cache);
            secure(&mut response, None);
            response
        }
        None if file.starts_with("assets/") => {
            let mut response = (StatusCode::NOT_FOUND, "no such console asset").into_response();
            secure(&mut response, None);
            response
        }
        None => index(),
    };
    crate::http::raw(response)
}

/// `index.html` with a fresh nonce, never cached; or, without a built console, a page that
/// says how to build it.
fn index() -> Response {
    let Some(page) = Assets::get("index.html") else {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            "The web console is not built into this server.\n\
             Build it with `cd console && npm ci && npm run build`, then build and start the \
             server again (scripts/start.sh does all of it). The API answers under /api/v2.\n",
        )
            .into_response();
        set(
            &mut response,
            header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        );
        secure(&mut response, None);
        return response;
    };
    let nonce = hex::encode(rand::thread_rng().gen::<[u8; 16]>());
    let html = String::from_utf8_lossy(&page.data).replace(NONCE_PLACEHOLDER, &nonce);
    let mut response = html.into_response();
    set(
        &mut response,
        header::CONTENT_TYPE,
        "text/html; charset=utf-8",
    );
    set(&mut response, header::CACHE_CONTROL, "no-store");
    secure(&mut response, Some(&nonce));
    response
}

fn set(response: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// The headers every console answer carries.
fn secure(response: &mut Response, nonce: Option<&str>) {
    let styles = match nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}'"),
        None => "'self'".to_string(),
    };
    let policy = format!(
        "default-src 'self'; style-src {styles}; img-src 'self' data:; font-src 'self' data:; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    set(response, header::CONTENT_SECURITY_POLICY, &policy);
    set(response, header::X_FRAME_OPTIONS, "DENY");
    set(response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(response, header::REFERRER_POLICY, "no-referrer");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_are_not_the_consoles() {
        for path in ["/api", "/api/v2/hosts", "/metrics", "/compute/hosts"] {
            assert!(!is_console_path(path), "{path}");
        }
        for path in ["/", "/login", "/tasks/12", "/assets/index-abc.js", "/apis"] {
            assert!(is_console_path(path), "{path}");
        }
    }
}
