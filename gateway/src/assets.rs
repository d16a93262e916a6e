//! The client bundles and the page's app.js, served from the assets folder.
//!
//! Only three files are served, each at a fixed URL; nothing else under the folder is
//! reachable. The official bundles come from the pinned npm packages (`npm ci` in
//! `client/`), so a missing file usually means that step was skipped: the 404 says so
//! in the log. Files are read on each request, so a rebuilt app.js is picked up without
//! a restart.

use std::path::Path;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use crate::response::{Body, text};

/// A servable file: its path under the assets folder and how long browsers may keep it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct File {
    path: &'static str,
    cache_control: &'static str,
}

/// The pinned bundles never change under one URL; app.js may, so it is revalidated.
const VENDOR_CACHE: &str = "public, max-age=86400";
const APP_CACHE: &str = "no-cache";

/// The file served at `url_path`, if any.
pub(crate) fn file(url_path: &str) -> Option<File> {
    let (path, cache_control) = match url_path {
        "/assets/phoenix.min.js" => (
            "node_modules/phoenix/priv/static/phoenix.min.js",
            VENDOR_CACHE,
        ),
        "/assets/phoenix_live_view.min.js" => (
            "node_modules/phoenix_live_view/priv/static/phoenix_live_view.min.js",
            VENDOR_CACHE,
        ),
        "/assets/app.js" => ("app.js", APP_CACHE),
        _ => return None,
    };
    Some(File {
        path,
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
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/javascript"),
            );
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
