//! The example app served as its binary serves it (`cinder-runtime`'s embedded mode),
//! driven over the real wire protocol: a click reaches every open page.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use cinder_test::TestApp;

#[tokio::test]
async fn a_click_is_counted_on_every_open_page() {
    let app = TestApp::start(cinder_example::routes).await.unwrap();
    let dead = app.get("/").await.unwrap();
    assert_eq!(dead.status, 200);
    assert_eq!(dead.element("#seen").unwrap().text(), "0");

    let mut clicker = app.live("/").await.unwrap();
    let mut watcher = app.live("/").await.unwrap();
    clicker.click_element("#click").await.unwrap();
    assert_eq!(clicker.element("#mine").unwrap().text(), "1");
    watcher.next_diff().await.unwrap();
    assert_eq!(watcher.element("#seen").unwrap().text(), "1");
    assert_eq!(watcher.element("#mine").unwrap().text(), "0");
}
