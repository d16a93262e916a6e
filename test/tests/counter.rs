//! The demo counter driven as a user would: clicks by the URL's step, the step patch
//! links, the dead render before the socket.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

mod support;

use serde_json::json;

#[tokio::test]
async fn the_dead_render_is_the_count_at_zero() {
    let app = support::demo().await;
    let dead = app.get("/counter?step=5").await.unwrap();
    assert_eq!(dead.status, 200);
    assert_eq!(dead.element("#count").unwrap().text(), "0");
    assert_eq!(dead.element("#inc").unwrap().text(), "+5");
    assert!(dead.has_element("[data-phx-main]"));
    assert_eq!(app.get("/nowhere").await.unwrap().status, 404);
}

#[tokio::test]
async fn clicks_count_by_the_step_in_the_url() {
    let app = support::demo().await;
    let mut live = app.live("/counter?step=5").await.unwrap();
    assert_eq!(live.title().as_deref(), Some("Counter"));
    assert_eq!(live.element("#step").unwrap().text(), "5");
    live.click_element("#inc").await.unwrap();
    live.click_element("#inc").await.unwrap();
    assert_eq!(live.element("#count").unwrap().text(), "10");
    live.click_element("#dec").await.unwrap();
    assert_eq!(live.element("#count").unwrap().text(), "5");
    live.click("reset", json!({})).await.unwrap();
    assert_eq!(live.element("#count").unwrap().text(), "0");
}

#[tokio::test]
async fn the_step_links_patch_the_url_and_the_step() {
    let app = support::demo().await;
    let mut live = app.live("/counter").await.unwrap();
    live.click("inc", json!({})).await.unwrap();
    assert_eq!(live.element("#count").unwrap().text(), "1");

    let html = live.follow_link("#step-5").await.unwrap();
    assert!(html.contains(r#"<span id="step">5</span>"#), "{html}");
    assert_eq!(live.path(), "/counter?step=5");
    assert_eq!(live.element("#inc").unwrap().text(), "+5");
    assert_eq!(
        live.element("#count").unwrap().text(),
        "1",
        "a patch keeps the view's state"
    );
    live.click_element("#inc").await.unwrap();
    assert_eq!(live.element("#count").unwrap().text(), "6");

    live.patch("?step=2").await.unwrap();
    assert_eq!(live.path(), "/counter?step=2");
    assert_eq!(live.element("#step").unwrap().text(), "2");
    live.follow_link("#step-1").await.unwrap();
    assert_eq!(live.path(), "/counter");
    assert_eq!(live.element("#step").unwrap().text(), "1");
}

#[tokio::test]
async fn an_unknown_event_is_refused_and_the_view_is_unchanged() {
    let app = support::demo().await;
    let mut live = app.live("/counter").await.unwrap();
    let error = live.click("explode", json!({})).await.unwrap_err();
    assert!(
        matches!(
            error,
            cinder_test::Error::Client(cinder_protocol_client::Error::PushRefused { .. })
        ),
        "{error:?}"
    );
    live.click_element("#inc").await.unwrap();
    assert_eq!(live.element("#count").unwrap().text(), "1");
}
