//! What the fuzz targets share: which JSON values serde_json gives back exactly when
//! they are written out and read again.

use serde_json::Value;

/// The key serde_json (with `raw_value`, which the workspace enables) reads as a
/// `RawValue` when it comes first in an object. A `Value` holding it elsewhere is
/// written with the key first (maps are sorted), so reading the text back fails.
/// Found by `view_node_frame` (a client payload `{"b":1,"$serde_json::private::RawValue":[]}`).
pub const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Whether `value` reads back equal after `to_string`: it holds no float (serde_json
/// reads floats best-effort without `float_roundtrip`) and no [`RAW_VALUE_TOKEN`] key.
/// An explicit stack: a target's checks must not recurse over input either.
pub fn reparses_exactly(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Number(n) if n.is_f64() => return false,
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                if map.contains_key(RAW_VALUE_TOKEN) {
                    return false;
                }
                stack.extend(map.values());
            }
            _ => {}
        }
    }
    true
}
