//! Session and node lifecycle as processes (issue 11, items 7 and 8): a session's
//! topics leave Redis when it ends, whether it leaves or its socket closes; a view-node
//! started after a `SIGKILL` sweeps the upload files it left, and only its own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

mod support;

use cinder_protocol_client::Page;
use support::{RedisServer, STEP, eventually, gateway, view_node, view_node_with, wait_links};

#[tokio::test(flavor = "multi_thread")]
async fn ended_sessions_leave_no_redis_subscription_behind() {
    let redis = RedisServer::start().unwrap();
    let _node = view_node("n1", &redis.url());
    let g1 = gateway("g1", &redis.url());
    wait_links(&g1, 1);
    let feeds = |redis: &RedisServer| redis.channels("cinder:topic:feed:*").unwrap();
    assert!(feeds(&redis).is_empty());

    for i in 0..20 {
        let url = format!("http://{}/feed/f{i}", g1.addr);
        let page = Page::fetch(&url).await.unwrap();
        let client = page.connect().await.unwrap();
        let view = page.join(&client).await.unwrap();
        let channel = format!("cinder:topic:feed:f{i}");
        eventually("the feed's SUBSCRIBE", STEP, || {
            feeds(&redis).contains(&channel)
        });
        // Half leave their channel, half close their socket.
        if i % 2 == 0 {
            view.leave().await.unwrap();
        } else {
            client.close().await.unwrap();
        }
    }
    // No message was published on any feed: nothing but the sessions' end releases
    // the topics.
    eventually("every feed's UNSUBSCRIBE", STEP, || {
        feeds(&redis).is_empty()
    });
}

#[test]
fn a_restarted_view_node_sweeps_the_upload_files_it_left_and_no_others() {
    let redis = RedisServer::start().unwrap();
    let tmp = std::env::temp_dir().join(format!("cinder-test-sweep-{}", std::process::id()));
    let (mine, other) = (
        tmp.join("cinder-uploads").join("n1"),
        tmp.join("cinder-uploads").join("n2"),
    );
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(mine.join("cinder-upload-left-by-a-kill"), b"x").unwrap();
    std::fs::write(other.join("cinder-upload-live"), b"x").unwrap();

    // Ready means listening, which comes after the sweep.
    let tmpdir = tmp.to_str().unwrap();
    let _node = view_node_with("n1", &redis.url(), &[("TMPDIR", tmpdir)]);
    assert!(!mine.join("cinder-upload-left-by-a-kill").exists());
    assert!(other.join("cinder-upload-live").exists(), "n2's live file");
    std::fs::remove_dir_all(&tmp).unwrap();
}
