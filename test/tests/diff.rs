//! What goes over the wire for a step: the exact diffs, as `diff_test.exs` asserts them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

mod support;

use serde_json::json;

#[tokio::test]
async fn a_click_sends_only_the_changed_count() {
    let app = support::demo().await;
    let mut live = app.live("/counter").await.unwrap();
    assert_eq!(live.last_diff(), None, "nothing yet after the join");
    live.click_element("#inc").await.unwrap();
    // `{@count}` is the template's first dynamic; the step did not change.
    assert_eq!(live.last_diff(), Some(&json!({"0": "1"})));
}

#[tokio::test]
async fn a_step_patch_sends_only_the_three_step_slots() {
    let app = support::demo().await;
    let mut live = app.live("/counter").await.unwrap();
    live.patch("/counter?step=5").await.unwrap();
    assert_eq!(
        live.last_diff(),
        Some(&json!({"1": "5", "2": "5", "3": "5"}))
    );
}

#[tokio::test]
async fn a_patch_to_the_same_step_sends_no_diff() {
    let app = support::demo().await;
    let mut live = app.live("/counter?step=5").await.unwrap();
    live.patch("/counter?step=5").await.unwrap();
    assert_eq!(live.last_diff(), None);
}
