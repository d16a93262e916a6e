//! Live links from `/`: navigation over the same socket, as the browser does it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

mod support;

use cinder_protocol_client::Status;
use serde_json::json;

#[tokio::test]
async fn a_live_link_mounts_the_next_view_on_the_same_socket() {
    let app = support::demo().await;
    let mut live = app.live("/").await.unwrap();
    assert_eq!(live.title().as_deref(), Some("Cinder demos"));
    let home = live.view().clone();
    let topic = home.topic().to_owned();

    let html = live.follow_link("#to-counter").await.unwrap();
    assert!(html.contains(r#"<h1 id="count">0</h1>"#), "{html}");
    assert_eq!(live.path(), "/counter");
    assert_eq!(live.title().as_deref(), Some("Counter"));
    assert_eq!(home.status(), Status::Left, "the old channel is left");
    assert_eq!(
        live.view().topic(),
        topic,
        "the container and its topic stay"
    );
    assert!(
        live.view().client().closed().is_none(),
        "no new socket: the first one is still open"
    );

    live.click_element("#inc").await.unwrap();
    assert_eq!(live.element("#count").unwrap().text(), "1");
}

#[tokio::test]
async fn there_and_back_again() {
    let app = support::demo().await;
    let mut live = app.live("/").await.unwrap();
    live.follow_link("#to-counter").await.unwrap();
    live.click_element("#inc").await.unwrap();
    live.follow_link("#home").await.unwrap();
    assert_eq!(live.path(), "/");
    assert_eq!(live.title().as_deref(), Some("Cinder demos"));
    live.follow_link("#to-form").await.unwrap();
    assert_eq!(live.path(), "/form");
    assert!(live.has_element("form#signup"));
    assert!(
        matches!(
            live.follow_link("#to-counter").await,
            Err(cinder_test::Error::NoElement(_))
        ),
        "the links of / are gone"
    );
    live.follow_link("#signup").await.unwrap_err();
}

#[tokio::test]
async fn follow_needs_a_redirect() {
    let app = support::demo().await;
    let mut live = app.live("/counter").await.unwrap();
    live.click("inc", json!({})).await.unwrap();
    assert_eq!(live.redirect(), None);
    assert!(matches!(
        live.follow().await,
        Err(cinder_test::Error::NoRedirect)
    ));
}

/// `#to-feed` is rendered by the `<.link navigate>` component, not written by hand.
#[tokio::test]
async fn a_link_component_navigates_live() {
    let app = support::demo().await;
    let mut live = app.live("/").await.unwrap();
    let anchor = live.element("#to-feed").unwrap();
    assert_eq!(anchor.attr("data-phx-link"), Some("redirect"));
    let html = live.follow_link("#to-feed").await.unwrap();
    assert!(html.contains(r#"<main id="feed">"#), "{html}");
    assert_eq!(live.path(), "/feed/news");
    assert_eq!(live.title().as_deref(), Some("Feed: news"));
}
