//! What the framework's own messages on a topic look like, so that nobody else's pass
//! for them.
//!
//! A session tells presence from app messages by the payload's `event`
//! (`{"event": "presence_diff", …}` from `subscribe_presence`, `{"event": "gap", …}`
//! from `subscribe_with_gaps`). A session's app subscriptions drop a message naming one
//! of [`FRAMEWORK_EVENTS`] on receipt, whoever published it (a view's broadcast, a Redis
//! client), and the view-node's topics API refuses to publish one.

/// Payload `event`s only the framework sends to a view.
pub const FRAMEWORK_EVENTS: [&str; 3] = ["presence_state", "presence_diff", "gap"];

/// The framework event `payload` names (`{"event": "presence_diff", …}`), if any: a
/// message only presence or gap delivery may carry.
pub fn framework_event(payload: &serde_json::Value) -> Option<&str> {
    let event = payload.get("event").and_then(serde_json::Value::as_str)?;
    FRAMEWORK_EVENTS.contains(&event).then_some(event)
}
