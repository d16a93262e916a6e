//! The demo app served in the test process.

use cinder_test::TestApp;

/// The demo's routes, served as the demo binary serves them embedded.
pub(crate) async fn demo() -> TestApp {
    TestApp::start(cinder_demo::routes)
        .await
        .expect("the demo starts")
}
