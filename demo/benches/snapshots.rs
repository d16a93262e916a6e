//! What a session's move between view-nodes costs for the demo's views that take
//! snapshots (`LiveView::snapshot`): the snapshot's bytes (the envelope included), and the
//! time to write it (on the draining node) and to read it back (on the node that takes
//! the session over).
//!
//! Run: `cargo bench -p cinder-demo --bench snapshots` (`ROUNDS`, default 20000). Prints
//! one line per view.
#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a bench fails loudly and prints its figures"
)]

use std::time::Instant;

use cinder::snapshot::Envelope;
use cinder::{LiveView, Mount, Params, Socket};
use cinder_demo::views::chat::{Chat, Posted};
use cinder_demo::views::counter::Counter;
use cinder_demo::views::form::Form;
use serde_json::json;

fn mounted<V: LiveView>(url: &str, params: &Params) -> Socket<V> {
    let mut cx = Mount::<V>::new(params, url, true);
    let view = V::mount(&mut cx).expect("the demo view mounts");
    let mut socket = Socket::new(view);
    V::handle_params(&mut socket, params, url).expect("handle_params");
    socket.assigns.clear();
    socket
}

fn measure<V: LiveView>(name: &str, route: &str, url: &str, socket: &Socket<V>, rounds: u32) {
    let snapshots = V::snapshot().expect("the view takes snapshots");
    let channel = ("lv:phx-GJdJmQbSNcX_8QaB", Some("4"));
    let write = || {
        Envelope::save(
            &snapshots,
            &*socket.assigns,
            route,
            channel,
            url,
            Some(u64::MAX),
        )
        .expect("the snapshot is written")
        .encode()
    };
    let bytes = write();
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(write());
    }
    let encode = started.elapsed() / rounds;
    let started = Instant::now();
    for _ in 0..rounds {
        let envelope = Envelope::decode(std::hint::black_box(&bytes)).expect("decodes");
        std::hint::black_box(envelope.load(&snapshots).expect("loads"));
    }
    let decode = started.elapsed() / rounds;
    println!(
        "{name:<28} {:>6} bytes   write {:>6.2} µs   read {:>6.2} µs",
        bytes.len(),
        encode.as_secs_f64() * 1e6,
        decode.as_secs_f64() * 1e6
    );
}

fn main() {
    let rounds: u32 = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20_000);
    let none = Params::new();

    let mut counter = mounted::<Counter>("/counter", &none);
    for _ in 0..7 {
        Counter::handle_event(&mut counter, "inc", json!({})).expect("inc");
    }
    measure("/counter at 7", "/counter", "/counter", &counter, rounds);

    let mut form = mounted::<Form>("/form", &none);
    let typed = json!({"user": {"name": "Ada Lovelace", "email": "ada@example.com"}, "_target": ["user", "email"]});
    Form::handle_event(&mut form, "save", typed).expect("save");
    let half = json!({"user": {"name": "B", "email": "ada@example.com", "_unused_email": ""}, "_target": ["user", "name"]});
    Form::handle_event(&mut form, "validate", half).expect("validate");
    measure("/form, half-typed", "/form", "/form", &form, rounds);

    let mut params = Params::new();
    params.insert("room".into(), json!("lobby"));
    params.insert("user".into(), json!("alice"));
    let mut chat = mounted::<Chat>("/chat/lobby?user=alice", &params);
    let present: serde_json::Map<String, serde_json::Value> = (0..50)
        .map(|i| {
            (
                format!("user-{i:02}"),
                json!({"metas": [{"phx_ref": format!("F{i:016x}")}]}),
            )
        })
        .collect();
    let state = cinder::pubsub::Message {
        topic: "chat:lobby".into(),
        payload: std::sync::Arc::new(json!({"event": "presence_state", "payload": present})),
    };
    Chat::handle_info(&mut chat, Posted::from(state)).expect("presence_state");
    measure(
        "/chat, 50 users online",
        "/chat/:room",
        "/chat/lobby?user=alice",
        &chat,
        rounds,
    );
}
