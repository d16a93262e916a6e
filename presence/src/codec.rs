//! The wire form of a [`Message`]: a JSON object any [`cinder_pubsub::PubSub`] carries.
//!
//! Every message names its replicas once, in `refs` (`[name, vsn]`), and refers to them
//! by index after that: a delta holds a dot per change, and most of them belong to a
//! handful of replicas. A dot is `[ref, counter]`, a clock is a list of dots (the
//! highest contiguous counter per replica). A heartbeat from `a` carrying the delta of
//! one track and one untrack:
//!
//! ```json
//! {"v": 1, "type": "heartbeat", "refs": [["a", 1700000000000000]], "from": 0,
//!  "clocks": [[0, 2]],
//!  "delta": {"spans": [[0, 0, 2]], "dots": [[0, 1], [0, 2]],
//!            "values": [[0, 2, {"topic": "room:lobby", "key": "alice", "session": 7,
//!                               "meta": {"status": "online"}, "phx_ref": "…"}]]}}
//! ```
//!
//! Dot 1 is observed without a value: that is the removal record of the untracked
//! entry. The other types are `transfer_req` (`from`, `to`, `clocks`), `transfer_ack`
//! (`from`, `to`, and `delta` or `full`: `{"clock", "clouds", "values"}`) and
//! `graceful_permdown` (`from`).
//!
//! `v` is [`VERSION`]; a node refuses any other version, so a rolling upgrade that
//! changes the format has to bump it. [`decode`] refuses anything malformed with
//! [`Error::Malformed`], never panicking: the input comes from the network.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::clock::{Clock, Dot};
use crate::delta::{Delta, Extract, Span};
use crate::entry::{Entry, SessionId};
use crate::error::Error;
use crate::message::{Message, Payload};
use crate::replica::ReplicaRef;

/// The format version this build writes and reads (the `v` field).
pub const VERSION: u64 = 1;

/// The wire form of `message`.
pub fn encode(message: &Message) -> Value {
    let mut refs = Writer::default();
    let mut out = Map::new();
    let kind = match message {
        Message::Heartbeat {
            from,
            clocks,
            delta,
        } => {
            out.insert("from".into(), refs.replica(from));
            out.insert("clocks".into(), refs.clock(clocks));
            let delta = delta.as_ref().map_or(Value::Null, |d| refs.delta(d));
            out.insert("delta".into(), delta);
            "heartbeat"
        }
        Message::TransferReq { from, to, clocks } => {
            out.insert("from".into(), refs.replica(from));
            out.insert("to".into(), refs.replica(to));
            out.insert("clocks".into(), refs.clock(clocks));
            "transfer_req"
        }
        Message::TransferAck { from, to, payload } => {
            out.insert("from".into(), refs.replica(from));
            out.insert("to".into(), refs.replica(to));
            match payload {
                Payload::Delta(delta) => out.insert("delta".into(), refs.delta(delta)),
                Payload::Full(extract) => out.insert("full".into(), refs.extract(extract)),
            };
            "transfer_ack"
        }
        Message::GracefulPermdown { from } => {
            out.insert("from".into(), refs.replica(from));
            "graceful_permdown"
        }
    };
    out.insert("v".into(), VERSION.into());
    out.insert("type".into(), kind.into());
    out.insert("refs".into(), Value::Array(refs.table));
    Value::Object(out)
}

/// The message `value` encodes, or why it is not one.
pub fn decode(value: &Value) -> Result<Message, Error> {
    let object = value
        .as_object()
        .ok_or_else(|| malformed("not a JSON object"))?;
    let version = field(object, "v")?;
    if version.as_u64() != Some(VERSION) {
        return Err(malformed(format!(
            "version {version}, this node speaks {VERSION}"
        )));
    }
    let refs = Reader::new(field(object, "refs")?)?;
    let kind = field(object, "type")?
        .as_str()
        .ok_or_else(|| malformed("type is not a string"))?;
    let from = refs.replica(field(object, "from")?)?;
    match kind {
        "heartbeat" => Ok(Message::Heartbeat {
            from,
            clocks: refs.clock(field(object, "clocks")?)?,
            delta: match field(object, "delta")? {
                Value::Null => None,
                delta => Some(refs.delta(delta)?),
            },
        }),
        "transfer_req" => Ok(Message::TransferReq {
            from,
            to: refs.replica(field(object, "to")?)?,
            clocks: refs.clock(field(object, "clocks")?)?,
        }),
        "transfer_ack" => {
            let payload = match (object.get("delta"), object.get("full")) {
                (Some(delta), None) => Payload::Delta(refs.delta(delta)?),
                (None, Some(full)) => Payload::Full(refs.extract(full)?),
                _ => return Err(malformed("transfer_ack needs exactly one of delta, full")),
            };
            Ok(Message::TransferAck {
                from,
                to: refs.replica(field(object, "to")?)?,
                payload,
            })
        }
        "graceful_permdown" => Ok(Message::GracefulPermdown { from }),
        other => Err(malformed(format!("unknown message type {other:?}"))),
    }
}

fn malformed(reason: impl Into<String>) -> Error {
    Error::Malformed(reason.into())
}

fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Result<&'a Value, Error> {
    object
        .get(name)
        .ok_or_else(|| malformed(format!("missing field {name:?}")))
}

fn list<'a>(value: &'a Value, what: &str) -> Result<&'a [Value], Error> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| malformed(format!("{what} is not a list")))
}

/// `value` as a list of exactly `N` items.
fn tuple<'a, const N: usize>(value: &'a Value, what: &str) -> Result<&'a [Value; N], Error> {
    value
        .as_array()
        .and_then(|items| <&[Value; N]>::try_from(items.as_slice()).ok())
        .ok_or_else(|| malformed(format!("{what} is not a list of {N}")))
}

fn number(value: &Value, what: &str) -> Result<u64, Error> {
    value
        .as_u64()
        .ok_or_else(|| malformed(format!("{what} is not an unsigned 64-bit integer")))
}

fn text(value: &Value, what: &str) -> Result<String, Error> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| malformed(format!("{what} is not a string")))
}

// === impl Writer ===

/// Encodes the parts of one message, collecting the replica table as it goes.
#[derive(Default)]
struct Writer {
    index: BTreeMap<ReplicaRef, usize>,
    table: Vec<Value>,
}

impl Writer {
    fn replica(&mut self, replica: &ReplicaRef) -> Value {
        let next = self.index.len();
        let index = *self.index.entry(replica.clone()).or_insert_with(|| {
            self.table.push(json!([replica.name(), replica.vsn()]));
            next
        });
        index.into()
    }

    fn dot(&mut self, dot: &Dot) -> Value {
        json!([self.replica(&dot.replica), dot.counter])
    }

    fn clock(&mut self, clock: &Clock) -> Value {
        clock
            .iter()
            .map(|(replica, counter)| json!([self.replica(replica), counter]))
            .collect()
    }

    fn dots<'a>(&mut self, dots: impl IntoIterator<Item = &'a Dot>) -> Value {
        dots.into_iter().map(|dot| self.dot(dot)).collect()
    }

    fn values(&mut self, values: &BTreeMap<Dot, Arc<Entry>>) -> Value {
        values
            .iter()
            .map(|(dot, entry)| json!([self.replica(&dot.replica), dot.counter, entry_json(entry)]))
            .collect()
    }

    fn delta(&mut self, delta: &Delta) -> Value {
        let spans: Value = delta
            .spans
            .iter()
            .map(|(replica, span)| json!([self.replica(replica), span.after, span.through]))
            .collect();
        json!({
            "spans": spans,
            "dots": self.dots(&delta.dots),
            "values": self.values(&delta.values),
        })
    }

    fn extract(&mut self, extract: &Extract) -> Value {
        json!({
            "clock": self.clock(&extract.clock),
            "clouds": self.dots(&extract.clouds),
            "values": self.values(&extract.values),
        })
    }
}

fn entry_json(entry: &Entry) -> Value {
    let mut out = Map::new();
    out.insert("topic".into(), entry.topic.clone().into());
    out.insert("key".into(), entry.key.clone().into());
    out.insert("session".into(), entry.session.0.into());
    out.insert("meta".into(), Value::Object(entry.meta.clone()));
    out.insert("phx_ref".into(), entry.phx_ref.clone().into());
    if let Some(prev) = &entry.phx_ref_prev {
        out.insert("phx_ref_prev".into(), prev.clone().into());
    }
    Value::Object(out)
}

// === impl Reader ===

/// Decodes the parts of one message against its replica table.
struct Reader {
    table: Vec<ReplicaRef>,
}

impl Reader {
    fn new(refs: &Value) -> Result<Self, Error> {
        let table = list(refs, "refs")?
            .iter()
            .map(|item| {
                let [name, vsn] = tuple(item, "a ref")?;
                Ok(ReplicaRef::new(
                    text(name, "a ref's name")?,
                    number(vsn, "a ref's vsn")?,
                ))
            })
            .collect::<Result<_, Error>>()?;
        Ok(Reader { table })
    }

    fn replica(&self, value: &Value) -> Result<ReplicaRef, Error> {
        let index = number(value, "a ref index")?;
        usize::try_from(index)
            .ok()
            .and_then(|i| self.table.get(i))
            .cloned()
            .ok_or_else(|| malformed(format!("ref index {index} is not in refs")))
    }

    /// A dot from its replica index and counter; counters start at 1.
    fn dot_of(&self, replica: &Value, counter: &Value) -> Result<Dot, Error> {
        let counter = number(counter, "a dot's counter")?;
        if counter == 0 {
            return Err(malformed("a dot's counter is 0"));
        }
        Ok(Dot::new(self.replica(replica)?, counter))
    }

    fn dot(&self, value: &Value) -> Result<Dot, Error> {
        let [replica, counter] = tuple(value, "a dot")?;
        self.dot_of(replica, counter)
    }

    fn clock(&self, value: &Value) -> Result<Clock, Error> {
        let mut clock = Clock::new();
        for item in list(value, "a clock")? {
            let [replica, counter] = tuple(item, "a clock entry")?;
            let replica = self.replica(replica)?;
            if clock.contains(&replica) {
                return Err(malformed(format!("{replica} twice in a clock")));
            }
            clock.insert(replica, number(counter, "a clock's counter")?);
        }
        Ok(clock)
    }

    fn dots(&self, value: &Value, what: &str) -> Result<BTreeSet<Dot>, Error> {
        list(value, what)?.iter().map(|dot| self.dot(dot)).collect()
    }

    fn values(&self, value: &Value) -> Result<BTreeMap<Dot, Arc<Entry>>, Error> {
        list(value, "values")?
            .iter()
            .map(|item| {
                let [replica, counter, entry] = tuple(item, "a value")?;
                Ok((self.dot_of(replica, counter)?, Arc::new(entry_of(entry)?)))
            })
            .collect()
    }

    fn delta(&self, value: &Value) -> Result<Delta, Error> {
        let object = value
            .as_object()
            .ok_or_else(|| malformed("a delta is not an object"))?;
        let mut spans = BTreeMap::new();
        for item in list(field(object, "spans")?, "spans")? {
            let [replica, after, through] = tuple(item, "a span")?;
            let span = Span {
                after: number(after, "a span's start")?,
                through: number(through, "a span's end")?,
            };
            if span.after > span.through {
                return Err(malformed("a span ends before it starts"));
            }
            spans.insert(self.replica(replica)?, span);
        }
        Ok(Delta {
            spans,
            dots: self.dots(field(object, "dots")?, "dots")?,
            values: self.values(field(object, "values")?)?,
        })
    }

    fn extract(&self, value: &Value) -> Result<Extract, Error> {
        let object = value
            .as_object()
            .ok_or_else(|| malformed("a full state is not an object"))?;
        Ok(Extract {
            clock: self.clock(field(object, "clock")?)?,
            clouds: self.dots(field(object, "clouds")?, "clouds")?,
            values: self.values(field(object, "values")?)?,
        })
    }
}

fn entry_of(value: &Value) -> Result<Entry, Error> {
    let object = value
        .as_object()
        .ok_or_else(|| malformed("an entry is not an object"))?;
    let meta = field(object, "meta")?
        .as_object()
        .cloned()
        .ok_or_else(|| malformed("an entry's meta is not an object"))?;
    let phx_ref_prev = match object.get("phx_ref_prev") {
        None => None,
        Some(prev) => Some(text(prev, "phx_ref_prev")?),
    };
    Ok(Entry {
        topic: text(field(object, "topic")?, "an entry's topic")?,
        key: text(field(object, "key")?, "an entry's key")?,
        session: SessionId(number(field(object, "session")?, "an entry's session")?),
        meta,
        phx_ref: text(field(object, "phx_ref")?, "phx_ref")?,
        phx_ref_prev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crdt::State;

    fn a() -> ReplicaRef {
        ReplicaRef::new("node-a", 1_700_000_000_000_001)
    }

    fn b() -> ReplicaRef {
        ReplicaRef::new("node-b", 1_700_000_000_000_002)
    }

    fn meta(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    /// A real delta from `a`: tracks, an untrack (a removal record) and an update (a
    /// `phx_ref_prev`).
    fn delta() -> Delta {
        let mut state = State::new(a());
        state.replica_up(&b());
        let room = "room:lobby";
        state
            .track(room, SessionId(1), "alice", meta(json!({"n": 1})))
            .unwrap();
        state
            .track(
                room,
                SessionId(2),
                "bob",
                meta(json!({"nested": {"x": [1, null]}})),
            )
            .unwrap();
        state.untrack(room, SessionId(2), "bob");
        state
            .update(room, SessionId(1), "alice", meta(json!({"n": 2})))
            .unwrap();
        let delta = state.take_delta().unwrap();
        assert!(delta.dots.iter().any(|d| !delta.values.contains_key(d)));
        assert!(delta.values.values().any(|e| e.phx_ref_prev.is_some()));
        delta
    }

    /// A full state of two replicas, with clouds (dots above a gap).
    fn extract() -> Extract {
        let entry = |replica: &ReplicaRef, counter: u64| {
            (
                Dot::new(replica.clone(), counter),
                Arc::new(Entry {
                    topic: "t".into(),
                    key: format!("k{counter}"),
                    session: SessionId(counter),
                    meta: Map::new(),
                    phx_ref: format!("r{counter}"),
                    phx_ref_prev: None,
                }),
            )
        };
        Extract {
            clock: [(a(), 3), (b(), 0)].into_iter().collect(),
            clouds: [Dot::new(a(), 5), Dot::new(b(), 2)].into_iter().collect(),
            values: [entry(&a(), 2), entry(&a(), 5), entry(&b(), 2)]
                .into_iter()
                .collect(),
        }
    }

    fn clocks() -> Clock {
        [(a(), 4), (b(), 9)].into_iter().collect()
    }

    fn every_variant() -> Vec<Message> {
        vec![
            Message::Heartbeat {
                from: a(),
                clocks: clocks(),
                delta: None,
            },
            Message::Heartbeat {
                from: a(),
                clocks: clocks(),
                delta: Some(delta()),
            },
            Message::Heartbeat {
                from: b(),
                clocks: Clock::new(),
                delta: Some(Delta::default()),
            },
            Message::TransferReq {
                from: a(),
                to: b(),
                clocks: clocks(),
            },
            Message::TransferAck {
                from: b(),
                to: a(),
                payload: Payload::Delta(delta()),
            },
            Message::TransferAck {
                from: b(),
                to: a(),
                payload: Payload::Full(extract()),
            },
            Message::TransferAck {
                from: b(),
                to: a(),
                payload: Payload::Full(Extract::default()),
            },
            Message::GracefulPermdown { from: a() },
        ]
    }

    #[test]
    fn every_variant_round_trips() {
        for message in every_variant() {
            let wire = encode(&message);
            assert_eq!(wire["v"], json!(VERSION));
            assert_eq!(decode(&wire), Ok(message.clone()));
            // And through text, as a pubsub backend carries it.
            let text = serde_json::to_string(&wire).unwrap();
            let parsed: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(decode(&parsed), Ok(message));
        }
    }

    #[test]
    fn replicas_are_named_once() {
        let wire = encode(&Message::TransferAck {
            from: b(),
            to: a(),
            payload: Payload::Full(extract()),
        });
        assert_eq!(
            wire["refs"],
            json!([["node-b", b().vsn()], ["node-a", a().vsn()]])
        );
        assert_eq!((&wire["from"], &wire["to"]), (&json!(0), &json!(1)));
    }

    #[test]
    fn a_graceful_permdown_is_exactly_this() {
        assert_eq!(
            encode(&Message::GracefulPermdown { from: a() }),
            json!({"v": 1, "type": "graceful_permdown", "refs": [["node-a", a().vsn()]], "from": 0})
        );
    }

    fn refused(value: &Value) -> String {
        match decode(value) {
            Err(Error::Malformed(reason)) => reason,
            other => panic!("{value} decoded as {other:?}"),
        }
    }

    #[test]
    fn other_versions_are_refused() {
        let mut wire = encode(&Message::GracefulPermdown { from: a() });
        wire["v"] = json!(2);
        assert_eq!(refused(&wire), "version 2, this node speaks 1");
        wire["v"] = json!("1");
        assert!(refused(&wire).starts_with("version"));
        wire.as_object_mut().unwrap().remove("v");
        assert_eq!(refused(&wire), "missing field \"v\"");
    }

    #[test]
    fn garbage_is_refused() {
        let from = json!([["a", 1]]);
        let base = |extra: Value| {
            let mut wire = json!({"v": 1, "type": "heartbeat", "refs": from, "from": 0,
                                  "clocks": [], "delta": null});
            // A field set to `false` in `extra` is removed.
            for (k, v) in extra.as_object().unwrap() {
                match v {
                    Value::Bool(false) => drop(wire.as_object_mut().unwrap().remove(k)),
                    v => wire[k] = v.clone(),
                }
            }
            wire
        };
        assert!(decode(&base(json!({}))).is_ok());
        for (garbage, reason) in [
            (json!(null), "not a JSON object"),
            (json!([1, 2]), "not a JSON object"),
            (json!("heartbeat"), "not a JSON object"),
            (
                base(json!({"type": "gossip"})),
                "unknown message type \"gossip\"",
            ),
            (base(json!({"type": 3})), "type is not a string"),
            (base(json!({"from": 1})), "ref index 1 is not in refs"),
            (
                base(json!({"from": -1})),
                "a ref index is not an unsigned 64-bit integer",
            ),
            (base(json!({"refs": [["a"]]})), "a ref is not a list of 2"),
            (
                base(json!({"refs": [[1, 1]]})),
                "a ref's name is not a string",
            ),
            (
                base(json!({"refs": [["a", 1.5]]})),
                "a ref's vsn is not an unsigned 64-bit integer",
            ),
            (base(json!({"clocks": {"a": 1}})), "a clock is not a list"),
            (
                base(json!({"clocks": [[0, 1], [0, 2]]})),
                "a@1 twice in a clock",
            ),
            (
                base(json!({"clocks": [[0, 1e30]]})),
                "a clock's counter is not an unsigned 64-bit integer",
            ),
            (base(json!({"delta": 1})), "a delta is not an object"),
            (
                base(json!({"delta": {"spans": [], "dots": []}})),
                "missing field \"values\"",
            ),
            (
                base(json!({"delta": {"spans": [[0, 3, 2]], "dots": [], "values": []}})),
                "a span ends before it starts",
            ),
            (
                base(json!({"delta": {"spans": [], "dots": [[0, 0]], "values": []}})),
                "a dot's counter is 0",
            ),
            (
                base(
                    json!({"delta": {"spans": [], "dots": [], "values": [[0, 1, {"topic": "t"}]]}}),
                ),
                "missing field \"meta\"",
            ),
            (
                base(
                    json!({"delta": {"spans": [], "dots": [], "values": [[0, 1, {
                "topic": "t", "key": "k", "session": 1, "meta": [], "phx_ref": "r"}]]}}),
                ),
                "an entry's meta is not an object",
            ),
            (
                base(json!({"type": "transfer_ack", "to": 0, "full": {}})),
                "transfer_ack needs exactly one of delta, full",
            ),
            (
                base(json!({"type": "transfer_ack", "to": 0, "delta": false,
                           "full": {"clock": [], "clouds": [[0]], "values": []}})),
                "a dot is not a list of 2",
            ),
        ] {
            assert_eq!(refused(&garbage), reason);
        }
    }

    #[test]
    fn every_missing_field_is_refused() {
        for message in every_variant() {
            let wire = encode(&message);
            for name in wire.as_object().unwrap().keys() {
                let mut broken = wire.clone();
                broken.as_object_mut().unwrap().remove(name);
                // A heartbeat without a delta still needs the field (as null).
                assert!(decode(&broken).is_err(), "{message:?} without {name}");
            }
        }
    }
}
