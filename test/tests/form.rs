//! The demo sign-up form: errors only for the fields the user touched, then a submit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

mod support;

#[tokio::test]
async fn errors_show_only_for_touched_fields() {
    let app = support::demo().await;
    let mut live = app.live("/form").await.unwrap();
    assert_eq!(live.title().as_deref(), Some("Sign up"));
    assert!(!live.has_element("#name-error") && !live.has_element("#email-error"));

    // Typing one letter of the name: the browser marks the email as unused.
    live.change_form(
        "#signup",
        "user[name]=A&user[_unused_email]=&user[email]=",
        "user[name]",
    )
    .await
    .unwrap();
    assert_eq!(
        live.element("#name-error").unwrap().text(),
        "Name must have at least 2 characters"
    );
    assert!(!live.has_element("#email-error"), "the email is untouched");

    // Then the email, still without an @.
    live.change_form("#signup", "user[name]=Ad&user[email]=ada", "user[email]")
        .await
        .unwrap();
    assert!(!live.has_element("#name-error"), "the name is long enough");
    assert_eq!(
        live.element("#email-error").unwrap().text(),
        "Email must contain @"
    );
    assert_eq!(
        live.element(r#"input[name="user[name]"]"#)
            .unwrap()
            .attr("value"),
        Some("Ad")
    );
    assert!(!live.has_element("#signup-ok"));
}

#[tokio::test]
async fn an_invalid_submit_shows_every_error_and_a_valid_one_welcomes() {
    let app = support::demo().await;
    let mut live = app.live("/form").await.unwrap();
    live.submit_form("#signup", "user[name]=A&user[email]=a")
        .await
        .unwrap();
    assert!(live.has_element("#name-error") && live.has_element("#email-error"));
    assert!(!live.has_element("#signup-ok"));

    live.submit_form(
        "#signup",
        "user[name]=Ada%20L&user[email]=ada%40example.com",
    )
    .await
    .unwrap();
    assert!(!live.has_element("#name-error") && !live.has_element("#email-error"));
    assert_eq!(
        live.element("#signup-ok").unwrap().text(),
        "Welcome, Ada L!"
    );
}

#[tokio::test]
async fn a_form_without_the_binding_is_an_error() {
    let app = support::demo().await;
    let mut live = app.live("/counter").await.unwrap();
    let error = live.submit_form("#counter", "x=1").await.unwrap_err();
    assert!(
        matches!(error, cinder_test::Error::MissingAttribute { ref attribute, .. } if attribute == "phx-submit"),
        "{error:?}"
    );
    let error = live.submit_form("#nope", "x=1").await.unwrap_err();
    assert!(
        matches!(error, cinder_test::Error::NoElement(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_rejoined_session_recovers_the_form_from_the_replayed_change() {
    let app = support::demo().await;
    let mut live = app.live("/form").await.unwrap();
    live.change_form(
        "#signup",
        "user[name]=Jo&user[email]=jo.example",
        "user[email]",
    )
    .await
    .unwrap();
    assert!(live.has_element("#email-error"));

    // A rejoin mounts a blank form on a new session; the client then replays phx-change
    // with the inputs' values, naming the first input as the target.
    let mut rejoined = app.live("/form").await.unwrap();
    assert!(!rejoined.has_element("#email-error"));
    rejoined
        .change_form(
            "#signup",
            "user[name]=Jo&user[email]=jo.example",
            "user[name]",
        )
        .await
        .unwrap();
    assert_eq!(
        rejoined.html(),
        live.html(),
        "the recovered form renders as before"
    );
    assert_eq!(
        rejoined.element("#email-error").unwrap().text(),
        "Email must contain @"
    );
    assert_eq!(
        rejoined
            .element(r#"input[name="user[email]"]"#)
            .unwrap()
            .attr("value"),
        Some("jo.example")
    );
}
