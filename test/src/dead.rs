//! The dead render: a page fetched over plain HTTP, as a browser's first request gets it.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::header::{COOKIE, HOST, LOCATION, SET_COOKIE};
use hyper_util::rt::TokioIo;

use crate::element::Element;
use crate::error::{Error, Result};

/// A page as the server answered a `GET`: no socket, no join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadRender {
    /// The absolute URL requested.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header of a redirect.
    pub location: Option<String>,
    /// The cookies set (`name=value; …`), ready for a `Cookie` header.
    pub cookie: Option<String>,
    /// The body.
    pub html: String,
}

impl DeadRender {
    /// The first element `selector` matches in the page (see [`crate::Selector`]).
    ///
    /// # Errors
    /// [`Error::NoElement`] when none does, [`Error::Selector`] for a bad selector.
    pub fn element(&self, selector: &str) -> Result<Element> {
        Element::find(&self.html, selector)?.ok_or_else(|| Error::NoElement(selector.to_owned()))
    }

    /// Whether `selector` matches an element of the page (`false` for a bad selector).
    pub fn has_element(&self, selector: &str) -> bool {
        matches!(Element::find(&self.html, selector), Ok(Some(_)))
    }

    /// A 3xx with a `Location`.
    pub(crate) fn redirect(&self) -> Option<&str> {
        (300..400)
            .contains(&self.status)
            .then_some(self.location.as_deref())
            .flatten()
    }
}

/// `GET url` (`http://host:port/path?query`) over one HTTP/1.1 connection.
pub(crate) async fn get(url: &str, cookie: Option<&str>) -> Result<DeadRender> {
    let failed = |reason: String| Error::Http {
        url: url.to_owned(),
        reason,
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| failed("only http:// URLs are fetched".into()))?;
    let (authority, target) = rest.find('/').map_or((rest, "/"), |at| rest.split_at(at));
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| failed(e.to_string()))?;
    // The connection task ends when the response is read and `sender` is dropped.
    tokio::spawn(connection);
    let mut request = Request::get(target)
        .header(HOST, authority)
        .header("accept", "text/html");
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| failed(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status().as_u16();
    let headers = response.headers();
    let location = headers
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let cookies: Vec<&str> = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .map(str::trim)
        .filter(|pair| pair.contains('='))
        .collect();
    let cookie = (!cookies.is_empty()).then(|| cookies.join("; "));
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| failed(e.to_string()))?
        .to_bytes();
    Ok(DeadRender {
        url: url.to_owned(),
        status,
        location,
        cookie,
        html: String::from_utf8_lossy(&body).into_owned(),
    })
}
