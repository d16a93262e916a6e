//! The client bundles and app.js are served from the assets folder as JavaScript, app.css
//! as CSS, each with a Cache-Control; a missing one is a 404, and nothing else under the
//! folder is reachable.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use std::path::PathBuf;

use support::{FakeNode, config, get, start};

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn bundles_app_js_and_app_css_are_served() -> anyhow::Result<()> {
    let dir = TempDir(std::env::temp_dir().join(format!("cinder-assets-{}", std::process::id())));
    let phoenix = dir.0.join("node_modules/phoenix/priv/static");
    std::fs::create_dir_all(&phoenix)?;
    std::fs::write(phoenix.join("phoenix.min.js"), "var Phoenix={};")?;
    std::fs::write(dir.0.join("app.js"), "console.log('app');")?;
    std::fs::write(dir.0.join("app.css"), "body{margin:0}")?;
    std::fs::write(dir.0.join("secret.txt"), "no")?;

    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.assets = dir.0.clone();
    let gateway = start(config).await?;

    let file = get(gateway.addr, "/assets/phoenix.min.js").await?;
    assert_eq!(
        (file.status, file.text()),
        (200, "var Phoenix={};".to_owned())
    );
    assert_eq!(file.header("content-type"), Some("application/javascript"));
    assert!(file.header("cache-control").is_some());

    let app = get(gateway.addr, "/assets/app.js").await?;
    assert_eq!(
        (app.status, app.text()),
        (200, "console.log('app');".to_owned())
    );
    assert_eq!(app.header("content-type"), Some("application/javascript"));
    assert!(app.header("cache-control").is_some());

    let css = get(gateway.addr, "/assets/app.css").await?;
    assert_eq!((css.status, css.text()), (200, "body{margin:0}".to_owned()));
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), Some("no-cache"));

    let missing = get(gateway.addr, "/assets/phoenix_live_view.min.js").await?;
    assert_eq!(missing.status, 404);

    // Not an asset URL: it is a page, rendered by the node, never a file.
    let other = get(gateway.addr, "/assets/../secret.txt").await?;
    assert_eq!(other.header("x-node"), Some("a"));
    assert_ne!(other.text(), "no");
    Ok(())
}
