//! Channel names: which Redis channel a topic or a node's direct messages travel on.
//!
//! Topics are `<prefix>:topic:<topic>` (the topic verbatim, colons and all) and direct
//! channels `<prefix>:node:<node>`. One channel per topic is what lets Redis deliver a
//! message only to the nodes that have a subscriber for it.

/// Names for one node under one prefix.
#[derive(Debug)]
pub(super) struct Channels {
    /// `<prefix>:topic:`.
    topic_prefix: String,
    /// `<prefix>:node:`.
    node_prefix: String,
    /// This node's direct channel.
    own: String,
}

/// What a received channel name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route<'a> {
    /// A topic's channel.
    Topic(&'a str),
    /// This node's direct channel.
    Direct,
}

impl Channels {
    pub(super) fn new(prefix: &str, node: &str) -> Self {
        let node_prefix = format!("{prefix}:node:");
        Channels {
            topic_prefix: format!("{prefix}:topic:"),
            own: format!("{node_prefix}{node}"),
            node_prefix,
        }
    }

    /// The channel of `topic`.
    pub(super) fn topic(&self, topic: &str) -> String {
        let mut channel = String::with_capacity(self.topic_prefix.len() + topic.len());
        channel.push_str(&self.topic_prefix);
        channel.push_str(topic);
        channel
    }

    /// The direct channel of `node`.
    pub(super) fn node(&self, node: &str) -> String {
        format!("{}{node}", self.node_prefix)
    }

    /// This node's direct channel.
    pub(super) fn own(&self) -> &str {
        &self.own
    }

    /// What `channel` refers to, if it is one of ours.
    pub(super) fn route<'a>(&self, channel: &'a str) -> Option<Route<'a>> {
        if let Some(topic) = channel.strip_prefix(self.topic_prefix.as_str()) {
            return Some(Route::Topic(topic));
        }
        (channel == self.own).then_some(Route::Direct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_routes_round_trip() {
        let channels = Channels::new("cinder", "node-a");
        assert_eq!(channels.topic("room:1"), "cinder:topic:room:1");
        assert_eq!(channels.node("node-b"), "cinder:node:node-b");
        assert_eq!(channels.own(), "cinder:node:node-a");
        assert_eq!(
            channels.route("cinder:topic:room:1"),
            Some(Route::Topic("room:1"))
        );
        assert_eq!(channels.route("cinder:node:node-a"), Some(Route::Direct));
        assert_eq!(channels.route("cinder:node:node-b"), None);
        assert_eq!(channels.route("other:topic:x"), None);
    }
}
