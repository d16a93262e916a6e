//! Phoenix channel V2 frames: `[join_ref, ref, topic, event, payload]` as JSON text, and
//! the binary layout the `phoenix` 1.8 serializer uses for pushes with a binary payload.

use serde_json::Value;

use crate::error::{Error, Result};

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The ref of the channel's current `phx_join`; `None` for the `phoenix` topic.
    pub join_ref: Option<String>,
    /// This message's ref, echoed by its reply; `None` on server pushes.
    pub msg_ref: Option<String>,
    /// `lv:<view id>`, `phoenix`…
    pub topic: String,
    /// `phx_join`, `phx_reply`, `event`, `diff`…
    pub event: String,
    /// The JSON payload; `null` for a binary frame, whose bytes are in `binary`.
    pub payload: Value,
    /// The payload bytes of a binary frame.
    pub binary: Option<Vec<u8>>,
}

/// Binary frame kinds (`phoenix` `serializer.js`).
const KIND_PUSH: u8 = 0;
const KIND_REPLY: u8 = 1;
const KIND_BROADCAST: u8 = 2;

impl Frame {
    /// A frame with a JSON payload.
    pub fn new(
        join_ref: Option<&str>,
        msg_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> Frame {
        Frame {
            join_ref: join_ref.map(str::to_owned),
            msg_ref: msg_ref.map(str::to_owned),
            topic: topic.to_owned(),
            event: event.to_owned(),
            payload,
            binary: None,
        }
    }

    /// Encodes the frame as V2 JSON text.
    pub fn encode(&self) -> String {
        Value::Array(vec![
            self.join_ref.clone().map_or(Value::Null, Value::String),
            self.msg_ref.clone().map_or(Value::Null, Value::String),
            Value::String(self.topic.clone()),
            Value::String(self.event.clone()),
            self.payload.clone(),
        ])
        .to_string()
    }

    /// Decodes a V2 text frame.
    pub fn decode(text: &str) -> Result<Frame> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::MalformedFrame(format!("{e}: {text}")))?;
        let Value::Array(parts) = value else {
            return Err(Error::MalformedFrame(format!("not an array: {text}")));
        };
        let Ok([join_ref, msg_ref, topic, event, payload]) = <[Value; 5]>::try_from(parts) else {
            return Err(Error::MalformedFrame(format!("not 5 elements: {text}")));
        };
        Ok(Frame {
            join_ref: optional_string(join_ref, "join_ref")?,
            msg_ref: optional_string(msg_ref, "ref")?,
            topic: optional_string(topic, "topic")?
                .ok_or_else(|| Error::MalformedFrame("null topic".into()))?,
            event: optional_string(event, "event")?
                .ok_or_else(|| Error::MalformedFrame("null event".into()))?,
            payload,
            binary: None,
        })
    }

    /// Encodes a client push with a binary payload, as the browser sends upload chunks:
    /// `u8 kind=0, u8 len(join_ref), u8 len(ref), u8 len(topic), u8 len(event)`, those
    /// four strings, then the bytes. Each string is at most 255 bytes.
    pub fn encode_binary(
        join_ref: &str,
        msg_ref: &str,
        topic: &str,
        event: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>> {
        let push = cinder_wire::binary::Push {
            join_ref,
            msg_ref,
            topic,
            event,
            payload,
        };
        cinder_wire::binary::encode(&push)
            .map_err(|why| Error::MalformedFrame(format!("binary frame: {why}")))
    }

    /// Decodes a server binary frame: a push (`kind 0`: join_ref, topic, event), a reply
    /// (`kind 1`: join_ref, ref, topic, status; decoded as `phx_reply` with
    /// `{"status": …}`) or a broadcast (`kind 2`: topic, event).
    pub fn decode_binary(bytes: &[u8]) -> Result<Frame> {
        let malformed = |what: &str| Error::MalformedFrame(format!("binary frame: {what}"));
        let (&kind, rest) = bytes.split_first().ok_or_else(|| malformed("empty"))?;
        let fields = match kind {
            KIND_PUSH => 3,
            KIND_REPLY => 4,
            KIND_BROADCAST => 2,
            other => return Err(malformed(&format!("unknown kind {other}"))),
        };
        let lens = rest
            .get(..fields)
            .ok_or_else(|| malformed("truncated header"))?;
        let mut at = fields;
        let mut strings = Vec::with_capacity(fields);
        for &len in lens {
            let end = at + usize::from(len);
            let field = rest
                .get(at..end)
                .ok_or_else(|| malformed("truncated field"))?;
            strings.push(String::from_utf8_lossy(field).into_owned());
            at = end;
        }
        let bytes = rest.get(at..).unwrap_or_default().to_vec();
        let mut strings = strings.into_iter();
        let mut next = || strings.next().unwrap_or_default();
        let frame = match kind {
            KIND_PUSH => {
                let join_ref = next();
                Frame {
                    join_ref: Some(join_ref),
                    msg_ref: None,
                    topic: next(),
                    event: next(),
                    payload: Value::Null,
                    binary: Some(bytes),
                }
            }
            KIND_REPLY => {
                let join_ref = next();
                let msg_ref = next();
                let topic = next();
                let status = next();
                Frame {
                    join_ref: Some(join_ref),
                    msg_ref: Some(msg_ref),
                    topic,
                    event: "phx_reply".into(),
                    payload: serde_json::json!({ "status": status }),
                    binary: Some(bytes),
                }
            }
            _ => Frame {
                join_ref: None,
                msg_ref: None,
                topic: next(),
                event: next(),
                payload: Value::Null,
                binary: Some(bytes),
            },
        };
        Ok(frame)
    }
}

fn optional_string(value: Value, what: &str) -> Result<Option<String>> {
    match value {
        Value::String(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        other => Err(Error::MalformedFrame(format!(
            "{what} is {other}, not a string or null"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_round_trip() {
        let frame = Frame::new(Some("4"), Some("7"), "lv:phx-F1", "event", json!({"a": 1}));
        let text = frame.encode();
        assert_eq!(text, r#"["4","7","lv:phx-F1","event",{"a":1}]"#);
        assert_eq!(Frame::decode(&text).unwrap(), frame);
        let heartbeat = Frame::decode(r#"[null,"12","phoenix","heartbeat",{}]"#).unwrap();
        assert_eq!(heartbeat.join_ref, None);
        assert!(Frame::decode(r#"["1","2","t"]"#).is_err());
        assert!(Frame::decode(r#"[1,"2","t","e",{}]"#).is_err());
    }

    /// The vectors of `phoenix` `assets/test/serializer_test.js`.
    #[test]
    fn binary_push_layout() {
        let bytes = Frame::encode_binary("12", "123", "topic", "fired", &[1, 2, 3]).unwrap();
        let mut expected = vec![0, 2, 3, 5, 5];
        expected.extend_from_slice(b"12123topicfired");
        expected.extend_from_slice(&[1, 2, 3]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn binary_server_frames() {
        let mut push = vec![0, 2, 5, 5];
        push.extend_from_slice(b"12topicfired");
        push.extend_from_slice(&[1, 2, 3]);
        let frame = Frame::decode_binary(&push).unwrap();
        assert_eq!(
            (
                frame.join_ref.as_deref(),
                frame.topic.as_str(),
                frame.event.as_str()
            ),
            (Some("12"), "topic", "fired")
        );
        assert_eq!(frame.binary.as_deref(), Some(&[1, 2, 3][..]));

        let mut reply = vec![1, 2, 3, 5, 2];
        reply.extend_from_slice(b"12123topicok");
        reply.extend_from_slice(&[1, 2, 3]);
        let frame = Frame::decode_binary(&reply).unwrap();
        assert_eq!(frame.event, "phx_reply");
        assert_eq!(frame.msg_ref.as_deref(), Some("123"));
        assert_eq!(frame.payload, json!({"status": "ok"}));

        let mut broadcast = vec![2, 5, 5];
        broadcast.extend_from_slice(b"topicfired");
        broadcast.extend_from_slice(&[1, 2, 3]);
        let frame = Frame::decode_binary(&broadcast).unwrap();
        assert_eq!(
            (frame.topic.as_str(), frame.event.as_str()),
            ("topic", "fired")
        );
        assert!(Frame::decode_binary(&[9]).is_err());
        assert!(Frame::decode_binary(&[0, 5, 0, 0]).is_err());
    }
}
