//! Binary pushes: what the browser sends for an upload chunk.
//!
//! Layout: `u8` kind (0, a push), four `u8` lengths, then the join ref, the ref, the topic
//! and the event (UTF-8, each at most 255 bytes; an empty ref means none), then the payload
//! bytes to the end of the frame.

/// The kind byte of a push.
const PUSH: u8 = 0;

/// A binary push, borrowed from its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Push<'a> {
    /// The channel's join ref; empty when none.
    pub join_ref: &'a str,
    /// This push's ref; empty when none.
    pub msg_ref: &'a str,
    /// The topic (`lvu:<entry ref>` for an upload chunk).
    pub topic: &'a str,
    /// The event (`chunk`).
    pub event: &'a str,
    /// The bytes after the header.
    pub payload: &'a [u8],
}

/// Why a frame is not a binary push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Shorter than its header says.
    TooShort,
    /// Another kind than a push.
    NotAPush,
    /// A header field is not UTF-8.
    NotUtf8,
    /// A header field is longer than 255 bytes (encoding only).
    FieldTooLong,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Malformed::TooShort => "too short",
            Malformed::NotAPush => "not a push",
            Malformed::NotUtf8 => "not UTF-8",
            Malformed::FieldTooLong => "a header field is longer than 255 bytes",
        })
    }
}

impl std::error::Error for Malformed {}

/// Reads a binary push.
///
/// # Errors
/// [`Malformed`] when the frame is not a push or its header does not fit.
pub fn decode(frame: &[u8]) -> Result<Push<'_>, Malformed> {
    let [kind, lens @ ..] = frame.get(..5).ok_or(Malformed::TooShort)? else {
        return Err(Malformed::TooShort);
    };
    if *kind != PUSH {
        return Err(Malformed::NotAPush);
    }
    let mut rest = &frame[5..];
    let mut fields = [""; 4];
    for (field, len) in fields.iter_mut().zip(lens) {
        let (bytes, after) = rest
            .split_at_checked(usize::from(*len))
            .ok_or(Malformed::TooShort)?;
        *field = std::str::from_utf8(bytes).map_err(|_| Malformed::NotUtf8)?;
        rest = after;
    }
    let [join_ref, msg_ref, topic, event] = fields;
    Ok(Push {
        join_ref,
        msg_ref,
        topic,
        event,
        payload: rest,
    })
}

/// Writes a binary push.
///
/// # Errors
/// [`Malformed::FieldTooLong`] when a header field is longer than 255 bytes.
pub fn encode(push: &Push<'_>) -> Result<Vec<u8>, Malformed> {
    let fields = [push.join_ref, push.msg_ref, push.topic, push.event];
    let header: usize = fields.iter().map(|f| f.len()).sum();
    let mut out = Vec::with_capacity(5 + header + push.payload.len());
    out.push(PUSH);
    for field in fields {
        out.push(u8::try_from(field.len()).map_err(|_| Malformed::FieldTooLong)?);
    }
    for field in fields {
        out.extend_from_slice(field.as_bytes());
    }
    out.extend_from_slice(push.payload);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_round_trips() {
        let push = Push {
            join_ref: "7",
            msg_ref: "",
            topic: "lvu:0",
            event: "chunk",
            payload: b"\x00\xffbytes",
        };
        let frame = encode(&push).unwrap_or_default();
        assert_eq!(&frame[..5], &[0, 1, 0, 5, 5]);
        assert_eq!(decode(&frame), Ok(push));
    }

    #[test]
    fn short_other_and_garbled_frames_are_refused() {
        assert_eq!(decode(&[0, 1, 0, 0]), Err(Malformed::TooShort));
        assert_eq!(decode(&[0, 3, 0, 0, 0, b'a']), Err(Malformed::TooShort));
        assert_eq!(decode(&[1, 0, 0, 0, 0]), Err(Malformed::NotAPush));
        assert_eq!(decode(&[0, 1, 0, 0, 0, 0xff]), Err(Malformed::NotUtf8));
        let long = "x".repeat(256);
        let push = Push {
            join_ref: "",
            msg_ref: "",
            topic: &long,
            event: "",
            payload: b"",
        };
        assert_eq!(encode(&push), Err(Malformed::FieldTooLong));
    }
}
