//! The demo app served in the test process.

use cinder_test::TestApp;

/// The demo's routes on an in-process view-node and gateway, with in-process presence.
pub(crate) async fn demo() -> TestApp {
    TestApp::start(|secret| {
        let cluster = cinder_demo::Cluster::local("cinder-test", None).expect("local presence");
        cinder_demo::router(secret, &cluster)
    })
    .await
    .expect("the demo starts")
}
