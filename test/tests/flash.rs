//! The demo counter's flash: `#reset` shows `Reset`, a click on it clears it on the
//! server (`lv:clear-flash`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

mod support;

use serde_json::json;

#[tokio::test]
async fn reset_shows_the_flash_and_a_click_clears_it() {
    let app = support::demo().await;
    let mut live = app.live("/counter").await.unwrap();
    assert!(!live.has_element("#flash-info"), "no flash before a reset");

    live.click_element("#inc").await.unwrap();
    live.click_element("#reset").await.unwrap();
    assert_eq!(live.element("#count").unwrap().text(), "0");
    let flash = live.element("#flash-info").unwrap();
    assert_eq!(flash.text(), "Reset");
    assert_eq!(flash.attr("phx-click"), Some("lv:clear-flash"));

    live.click_element("#flash-info").await.unwrap();
    assert!(!live.has_element("#flash-info"), "the click clears it");
    assert_eq!(
        live.element("#count").unwrap().text(),
        "0",
        "and nothing else"
    );

    // Counting on does not bring it back; another reset does.
    live.click_element("#inc").await.unwrap();
    assert!(!live.has_element("#flash-info"));
    live.click("reset", json!({})).await.unwrap();
    assert_eq!(live.element("#flash-info").unwrap().text(), "Reset");
}

#[tokio::test]
async fn the_dead_render_has_no_flash() {
    let app = support::demo().await;
    let dead = app.get("/counter").await.unwrap();
    assert!(!dead.has_element("#flash-info"));
}
