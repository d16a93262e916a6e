//! The dead render: a LiveView page fetched over plain HTTP/1.1, and what the browser
//! reads from it to connect and join — the main container's id and tokens, the CSRF
//! meta tag and the session cookie.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::endpoint::Url;
use crate::error::{Error, Result};
use crate::html::{Tag, next_start_tag};
use crate::socket::Client;
use crate::view::View;

/// How long fetching a page may take, connect to last byte.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A LiveView page as served over HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The URL it was fetched from (sent as the join's `url`).
    pub url: String,
    /// The `id` of the `[data-phx-main]` container: the topic is `lv:<view_id>`.
    pub view_id: String,
    /// Its `data-phx-session` token.
    pub session: String,
    /// Its `data-phx-static` token; `None` when missing or empty (sent as `null`).
    pub static_token: Option<String>,
    /// The `<meta name="csrf-token">` content, sent as `_csrf_token` when connecting.
    pub csrf: String,
    /// The cookies the response set (`name=value; …`, among them `_cinder_key`), ready
    /// for a `Cookie` header; `None` if it set none.
    pub cookie: Option<String>,
    /// The response body.
    pub html: String,
}

impl Page {
    /// `GET`s `url` (`http://host:port/path`) and reads the page.
    pub async fn fetch(url: &str) -> Result<Page> {
        Page::fetch_with_cookie(url, None).await
    }

    /// [`Page::fetch`] sending a `Cookie` header.
    pub async fn fetch_with_cookie(url: &str, cookie: Option<&str>) -> Result<Page> {
        let response = tokio::time::timeout(FETCH_TIMEOUT, get(url, cookie))
            .await
            .map_err(|_| Error::Page(format!("GET {url} took longer than {FETCH_TIMEOUT:?}")))??;
        if response.status != 200 {
            let location = response
                .header("location")
                .map(|l| format!(" (location: {l})"))
                .unwrap_or_default();
            return Err(Error::Page(format!(
                "GET {url}: HTTP {}{location}",
                response.status
            )));
        }
        let cookies: Vec<&str> = response
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, value)| value.split(';').next())
            .map(str::trim)
            .filter(|pair| pair.contains('='))
            .collect();
        let cookie = (!cookies.is_empty()).then(|| cookies.join("; "));
        Page::parse(url, &response.body, cookie)
    }

    /// Reads a page's HTML: the first element with `data-phx-main` (its `id`,
    /// `data-phx-session`, `data-phx-static`) and `<meta name="csrf-token">`.
    pub fn parse(url: &str, html: &str, cookie: Option<String>) -> Result<Page> {
        let tags = start_tags(html);
        let main = tags
            .iter()
            .find(|tag| tag.attr("data-phx-main").is_some())
            .ok_or_else(|| Error::Page(format!("{url} has no [data-phx-main] element")))?;
        let required = |name: &str| {
            main.attr(name).map(str::to_owned).ok_or_else(|| {
                Error::Page(format!(
                    "the [data-phx-main] element of {url} has no {name}"
                ))
            })
        };
        let view_id = required("id")?;
        let session = required("data-phx-session")?;
        let static_token = main
            .attr("data-phx-static")
            .filter(|token| !token.is_empty())
            .map(str::to_owned);
        let csrf = tags
            .iter()
            .find(|tag| tag.name == "meta" && tag.attr("name") == Some("csrf-token"))
            .and_then(|tag| tag.attr("content"))
            .map(str::to_owned)
            .ok_or_else(|| Error::Page(format!("{url} has no <meta name=\"csrf-token\">")))?;
        Ok(Page {
            url: url.to_owned(),
            view_id,
            session,
            static_token,
            csrf,
            cookie,
            html: html.to_owned(),
        })
    }

    /// The socket URL of the page's host: `ws://host:port/live/websocket`.
    pub fn socket_url(&self) -> Result<String> {
        let url = Url::parse(&self.url)?;
        let scheme = if url.scheme == "https" { "wss" } else { "ws" };
        Ok(format!("{scheme}://{}/live/websocket", url.authority))
    }

    /// Connects as the page's JavaScript does: `_csrf_token` in the params, the page's
    /// cookies in the handshake.
    pub async fn connect(&self) -> Result<Client> {
        Client::connect(
            &self.socket_url()?,
            &[("_csrf_token", &self.csrf)],
            self.cookie.as_deref(),
        )
        .await
    }

    /// Joins the page's main view on `client`.
    pub async fn join(&self, client: &Client) -> Result<View> {
        client
            .join_page(
                &self.view_id,
                &self.session,
                self.static_token.as_deref(),
                &self.url,
            )
            .await
    }
}

/// A parsed HTTP response.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A one-shot HTTP/1.1 `GET` with `Connection: close`, read to the end.
async fn get(url: &str, cookie: Option<&str>) -> Result<Response> {
    let parsed = Url::parse(url)?;
    if parsed.scheme != "http" {
        return Err(Error::InvalidUrl {
            url: url.to_owned(),
            reason: "pages are fetched over plain http".into(),
        });
    }
    let (host, port) = parsed.host_port()?;
    let mut stream = TcpStream::connect((host.as_str(), port)).await?;
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: cinder-protocol-client\r\nAccept: text/html\r\nConnection: close\r\n",
        parsed.target, parsed.authority
    );
    if let Some(cookie) = cookie {
        request.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await?;
    parse_response(&bytes)
}

fn parse_response(bytes: &[u8]) -> Result<Response> {
    let malformed = |what: &str| Error::Page(format!("malformed HTTP response: {what}"));
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| malformed("no end of headers"))?;
    let head = String::from_utf8_lossy(&bytes[..split]);
    let raw_body = &bytes[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| malformed(status_line))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: String::new(),
    };
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(raw_body).ok_or_else(|| malformed("bad chunked body"))?
    } else {
        let length = response
            .header("content-length")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(raw_body.len());
        raw_body.get(..length).unwrap_or(raw_body).to_vec()
    };
    response.body = String::from_utf8_lossy(&body).into_owned();
    Ok(response)
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_line = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// The start tags of a document.
fn start_tags(html: &str) -> Vec<Tag> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some((tag, after)) = next_start_tag(rest) {
        tags.push(tag);
        rest = after;
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<meta name="csrf-token" content="Tok&amp;en+/=">
<title data-suffix=" · Cinder">Counter</title>
<script>var s = "<div data-phx-main id='fake'>";</script>
</head><body>
<!-- <div data-phx-main id="commented"> -->
<div id="phx-F1x" data-phx-main data-phx-session="SESS.sig" data-phx-static='STAT&quot;'>
<h1>0</h1></div>
</body></html>"#;

    #[test]
    fn reads_the_main_container_and_csrf() {
        let page = Page::parse("http://h:1/counter", PAGE, Some("_cinder_key=abc".into())).unwrap();
        assert_eq!(page.view_id, "phx-F1x");
        assert_eq!(page.session, "SESS.sig");
        assert_eq!(page.static_token.as_deref(), Some("STAT\""));
        assert_eq!(page.csrf, "Tok&en+/=");
        assert_eq!(page.socket_url().unwrap(), "ws://h:1/live/websocket");
    }

    #[test]
    fn missing_pieces_are_errors() {
        assert!(
            Page::parse(
                "u",
                "<div id=x></div><meta name=csrf-token content=a>",
                None
            )
            .is_err()
        );
        assert!(
            Page::parse(
                "u",
                "<div data-phx-main data-phx-session=s></div><meta name=csrf-token content=a>",
                None
            )
            .is_err()
        );
        let page = Page::parse("u", "<div data-phx-main id=v data-phx-session=s data-phx-static=\"\"></div><meta name=csrf-token content=a>", None).unwrap();
        assert_eq!(page.static_token, None);
        assert!(
            Page::parse(
                "u",
                "<div data-phx-main id=v data-phx-session=s></div>",
                None
            )
            .is_err()
        );
    }

    #[test]
    fn http_responses() {
        let plain = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=b; Path=/\r\n\r\nhelloextra",
        )
        .unwrap();
        assert_eq!((plain.status, plain.body.as_str()), (200, "hello"));
        assert_eq!(plain.header("set-cookie"), Some("a=b; Path=/"));
        let chunked = parse_response(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n").unwrap();
        assert_eq!(chunked.body, "hello world");
        assert!(parse_response(b"garbage").is_err());
    }
}
