//! The client bundles and the page's app.js and app.css, served from the assets folder.
//!
//! Only four files are served, each at a fixed URL with its own content type; nothing
//! else under the folder is reachable. The official bundles come from the pinned npm
//! packages (`npm ci` in `client/`), so a missing file usually means that step was
//! skipped: the 404 says so in the log. Files are read on each request, so a rebuilt
//! app.js or app.css is picked up without a restart.

use std::path::Path;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use crate::response::{Body, text};

/// A servable file: its path under the assets folder, its content type and how long
/// browsers may keep it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct File {
    path: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
}

/// The pinned bundles never change under one URL; the page's own files may, so they
/// are revalidated.
const VENDOR_CACHE: &str = "public, max-age=86400";
const APP_CACHE: &str = "no-cache";

const JAVASCRIPT: &str = "application/javascript";
const CSS: &str = "text/css; charset=utf-8";

/// The file served at `url_path`, if any.
pub(crate) fn file(url_path: &str) -> Option<File> {
    let (path, content_type, cache_control) = match url_path {
        "/assets/phoenix.min.js" => (
            "node_modules/phoenix/priv/static/phoenix.min.js",
            JAVASCRIPT,
            VENDOR_CACHE,
        ),
        "/assets/phoenix_live_view.min.js" => (
            "node_modules/phoenix_live_view/priv/static/phoenix_live_view.min.js",
            JAVASCRIPT,
            VENDOR_CACHE,
        ),
        "/assets/app.js" => ("app.js", JAVASCRIPT, APP_CACHE),
        "/assets/app.css" => ("app.css", CSS, APP_CACHE),
        _ => return None,
    };
    Some(File {
        path,
        content_type,
        cache_control,
    })
}

/// Reads and serves `file` from the `assets` folder.
pub(crate) async fn serve(assets: &Path, file: File) -> Response<Body> {
    let full = assets.join(file.path);
    match tokio::fs::read(&full).await {
        Ok(contents) => {
            let mut response = Response::new(Full::new(Bytes::from(contents)));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(file.content_type));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static(file.cache_control));
            response
        }
        Err(error) => {
            tracing::warn!(
                path = %full.display(),
                %error,
                "asset missing (was `npm ci` run in the assets folder?)"
            );
            text(StatusCode::NOT_FOUND, "not found\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_has_its_own_content_type() {
        let types: Vec<_> = [
            "/assets/phoenix.min.js",
            "/assets/phoenix_live_view.min.js",
            "/assets/app.js",
            "/assets/app.css",
        ]
        .into_iter()
        .map(|url| file(url).map(|f| (f.path, f.content_type)))
        .collect();
        assert_eq!(
            types,
            [
                Some((
                    "node_modules/phoenix/priv/static/phoenix.min.js",
                    JAVASCRIPT
                )),
                Some((
                    "node_modules/phoenix_live_view/priv/static/phoenix_live_view.min.js",
                    JAVASCRIPT
                )),
                Some(("app.js", JAVASCRIPT)),
                Some(("app.css", "text/css; charset=utf-8")),
            ]
        );
    }

    #[test]
    fn other_urls_are_no_file() {
        for url in [
            "/assets/app.CSS",
            "/assets/",
            "/assets/../app.css",
            "/app.css",
        ] {
            assert_eq!(file(url), None, "{url}");
        }
    }
}
