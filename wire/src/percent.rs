//! `application/x-www-form-urlencoded` decoding, as query strings and form events carry
//! values.

/// Decodes `%XX` escapes and `+` (a space); an invalid escape is kept as written, and
/// bytes that are not UTF-8 become U+FFFD.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_escapes_and_plus_and_keeps_invalid_ones() {
        assert_eq!(decode("a+b%2"), "a b%2");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        // Not hex: `%` stays, and `+` is a space as everywhere.
        assert_eq!(decode("%+1"), "% 1");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(decode("a%2Db"), "a-b");
        assert_eq!(decode("%ff"), "\u{fffd}");
    }
}
