//! Forms: the params of a `phx-change` / `phx-submit` event, read as one form.
//!
//! The client sends a form urlencoded (`user[name]=Jo&user[_unused_email]=&user[email]=`);
//! the session decodes it into nested params and merges in the event's `meta`, so a
//! handler receives:
//!
//! ```json
//! {"user": {"name": "Jo", "_unused_email": "", "email": ""}, "_target": "user[name]"}
//! ```
//!
//! [`Form`] reads that as Phoenix's `to_form/2` and `used_input?/1` do: the params under one
//! name, the input that changed ([`Form::target`]), which inputs the user has not touched
//! yet (the client adds `_unused_<field>` for them until they are focused or the form is
//! submitted), and the whole thing decoded into the app's own type through serde
//! ([`Form::decode`]). [`Errors`] collects per-field messages and hides those of untouched
//! inputs, so a template shows errors only where the user has been.
//!
//! Form recovery needs nothing from the view: after a rejoin the client replays the form's
//! `phx-change` with the values still in the inputs (and the same `_unused_` keys), so a
//! view that rebuilds its state from that event recovers the form.
//!
//! ```
//! use cinder::form::{Errors, Form};
//! use serde::Deserialize;
//! use serde_json::json;
//!
//! #[derive(Deserialize)]
//! struct User {
//!     name: String,
//!     age: Option<u32>,
//! }
//!
//! let value = json!({"user": {"name": "J", "age": "", "_unused_age": ""}, "_target": "user[name]"});
//! let form = Form::from_event(&value, "user");
//! let user: User = form.decode()?;
//! assert_eq!((user.name.as_str(), user.age), ("J", None));
//!
//! let mut errors = Errors::new();
//! errors.check("name", user.name.len() >= 2, "must have at least 2 characters");
//! errors.check("age", user.age.is_some(), "is required");
//! assert_eq!(errors.shown("name", &form), Some("must have at least 2 characters"));
//! assert_eq!(errors.shown("age", &form), None, "the age input was never touched");
//! assert_eq!(errors.get("age"), Some("is required"));
//! # Ok::<(), cinder::form::DecodeError>(())
//! ```

use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde_json::{Map, Value};

/// The prefix the client puts on the last key segment of an input the user has not touched.
const UNUSED: &str = "_unused_";

// === impl Form ===

/// The params of one form, as the client sent them in a form event.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Form {
    name: String,
    params: Map<String, Value>,
    target: Vec<String>,
}

impl Form {
    /// An empty form named `name`, as a view holds before the first event: every input is
    /// untouched and empty.
    ///
    /// ```
    /// let form = cinder::form::Form::new("user");
    /// assert_eq!((form.get("name"), form.touched("name")), ("", false));
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Form {
            name: name.into(),
            ..Form::default()
        }
    }

    /// The params under `name` in a form event's value, with the event's `_target`.
    ///
    /// A value without params under `name` gives an empty form.
    ///
    /// ```
    /// use serde_json::json;
    ///
    /// let value = json!({"user": {"email": "ada@"}, "_target": "user[email]"});
    /// let form = cinder::form::Form::from_event(&value, "user");
    /// assert_eq!(form.get("email"), "ada@");
    /// assert_eq!(form.target(), ["user", "email"]);
    /// ```
    pub fn from_event(value: &Value, name: &str) -> Self {
        let params = match value.get(name) {
            Some(Value::Object(params)) => params.clone(),
            _ => Map::new(),
        };
        let target = value
            .get("_target")
            .and_then(Value::as_str)
            .map(target_path)
            .unwrap_or_default();
        Form {
            name: name.to_owned(),
            params,
            target,
        }
    }

    /// The form's name: the prefix of its inputs' names (`user` for `user[email]`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of the input whose change sent the event, split as Phoenix splits
    /// `_target`: `user[email]` is `["user", "email"]`. Empty for a submit, or when the
    /// client had no input to name (it sends `"undefined"`).
    pub fn target(&self) -> &[String] {
        &self.target
    }

    /// Whether the user has touched `field`, like Phoenix's `used_input?/1`: the form holds
    /// the field and the client did not mark it `_unused_<field>` (it stops once the input
    /// was focused, and a submit marks every input).
    ///
    /// ```
    /// use serde_json::json;
    ///
    /// let value = json!({"user": {"name": "Jo", "email": "", "_unused_email": ""}});
    /// let form = cinder::form::Form::from_event(&value, "user");
    /// assert!(form.touched("name"));
    /// assert!(!form.touched("email"));
    /// assert!(!form.touched("age"), "a field the form does not hold");
    /// ```
    pub fn touched(&self, field: &str) -> bool {
        self.params.contains_key(field) && !self.params.contains_key(&format!("{UNUSED}{field}"))
    }

    /// The text of `field`, or `""` when the form holds no text under it.
    pub fn get(&self, field: &str) -> &str {
        self.params.get(field).and_then(Value::as_str).unwrap_or("")
    }

    /// The raw params under the form's name, `_unused_` keys included.
    pub fn params(&self) -> &Map<String, Value> {
        &self.params
    }

    /// Decodes the form into the app's type through serde, reading the strings a form
    /// sends as the type asks: numbers are parsed, a bool is `true` for `"on"` (a checked
    /// checkbox), `"true"`, `"1"` or `"yes"` and `false` for `"false"`, `"off"`, `"0"`,
    /// `"no"` or `""`, and an `Option` is `None` for an empty or missing input. A unit enum
    /// variant is read from its name (a `<select>`). The `_unused_` keys are skipped.
    ///
    /// An unchecked checkbox sends nothing: give its field `#[serde(default)]`, or put a
    /// hidden input with `value="false"` before it, as Phoenix's `<.input type="checkbox">`
    /// does (the later value wins).
    ///
    /// ```
    /// use serde::Deserialize;
    /// use serde_json::json;
    ///
    /// #[derive(Debug, PartialEq, Deserialize)]
    /// #[serde(rename_all = "lowercase")]
    /// enum Plan { Free, Pro }
    ///
    /// #[derive(Debug, PartialEq, Deserialize)]
    /// struct Settings {
    ///     seats: u16,
    ///     plan: Plan,
    ///     #[serde(default)]
    ///     newsletter: bool,
    ///     tags: Vec<String>,
    ///     budget: Option<f64>,
    /// }
    ///
    /// let value = json!({"settings": {
    ///     "seats": "3", "plan": "pro", "newsletter": "on", "tags": ["a", "b"], "budget": ""
    /// }});
    /// let settings: Settings = cinder::form::Form::from_event(&value, "settings").decode()?;
    /// assert_eq!(settings, Settings {
    ///     seats: 3, plan: Plan::Pro, newsletter: true, tags: vec!["a".into(), "b".into()], budget: None,
    /// });
    ///
    /// let value = json!({"settings": {"seats": "many", "plan": "free", "tags": []}});
    /// let error = cinder::form::Form::from_event(&value, "settings").decode::<Settings>().unwrap_err();
    /// assert_eq!(error.field(), "settings[seats]");
    /// assert_eq!(error.to_string(), r#"settings[seats]: "many" is not a number"#);
    /// # Ok::<(), cinder::form::DecodeError>(())
    /// ```
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        T::deserialize(Input::Map(&self.params)).map_err(|e| e.within(&self.name))
    }
}

/// `user[address][city]` as `["user", "address", "city"]`; `undefined` (no input) as `[]`.
fn target_path(target: &str) -> Vec<String> {
    if target.is_empty() || target == "undefined" {
        return Vec::new();
    }
    let (head, mut rest) = match target.find('[') {
        Some(i) if i > 0 => (&target[..i], &target[i..]),
        _ => (target, ""),
    };
    let mut path = vec![head.to_owned()];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(end) = stripped.find(']') else { break };
        if end > 0 {
            path.push(stripped[..end].to_owned());
        }
        rest = &stripped[end + 1..];
    }
    path
}

// === impl Errors ===

/// Per-field error messages for a template, in the order they were found.
///
/// ```
/// use cinder::form::Errors;
///
/// let email = "ada.example.com";
/// let mut errors = Errors::new();
/// errors
///     .check("email", email.contains('@'), "must contain @")
///     .check("email", email.len() < 100, "is too long");
/// assert_eq!(errors.get("email"), Some("must contain @"));
/// assert_eq!(errors.get("name"), None);
/// assert!(!errors.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Errors {
    entries: Vec<(String, String)>,
}

impl Errors {
    /// No errors.
    pub fn new() -> Self {
        Errors::default()
    }

    /// Records `message` for `field` unless `valid` holds.
    pub fn check(&mut self, field: &str, valid: bool, message: impl Into<String>) -> &mut Self {
        if !valid {
            self.add(field, message);
        }
        self
    }

    /// Records `message` for `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) -> &mut Self {
        self.entries.push((field.to_owned(), message.into()));
        self
    }

    /// The first message recorded for `field`.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, message)| message.as_str())
    }

    /// The first message for `field` if the user has touched it in `form`: what a template
    /// shows, so that a field the user has not reached yet is not reported.
    pub fn shown(&self, field: &str, form: &Form) -> Option<&str> {
        self.get(field).filter(|_| form.touched(field))
    }

    /// Every `(field, message)`, in the order recorded.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(f, m)| (f.as_str(), m.as_str()))
    }

    /// Whether no message was recorded: the form is valid.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

// === impl DecodeError ===

/// A form that does not decode into the asked type: which input, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// From the form's name down to the failing input (`["user", "age"]`).
    path: Vec<String>,
    message: String,
}

impl DecodeError {
    /// The failing input's name as the form spells it: `user[age]`, `user[tags][1]`.
    pub fn field(&self) -> String {
        let mut segments = self.path.iter();
        let mut name = segments.next().cloned().unwrap_or_default();
        for segment in segments {
            name.push('[');
            name.push_str(segment);
            name.push(']');
        }
        name
    }

    /// The path from the form's name to the failing input.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// Why the input does not decode.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn within(mut self, segment: &str) -> Self {
        self.path.insert(0, segment.to_owned());
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field(), self.message)
        }
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DecodeError {
            path: Vec::new(),
            message: message.to_string(),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DecodeError {
            path: vec![field.to_owned()],
            message: "is missing".to_owned(),
        }
    }
}

// === impl Input ===

/// One value of the form params, or an input the form does not hold, as a serde
/// `Deserializer` that reads form strings as the target type asks.
#[derive(Clone, Copy)]
enum Input<'de> {
    Value(&'de Value),
    Map(&'de Map<String, Value>),
    Missing,
}

impl<'de> Input<'de> {
    fn text(self) -> Option<&'de str> {
        match self {
            Input::Value(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    fn is_blank(self) -> bool {
        match self {
            Input::Missing | Input::Value(Value::Null) => true,
            Input::Value(Value::String(s)) => s.is_empty(),
            _ => false,
        }
    }
}

macro_rules! parse_number {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            match self.text() {
                Some(text) => match text.trim().parse::<$ty>() {
                    Ok(n) => visitor.$visit(n),
                    Err(_) => Err(de::Error::custom(format_args!("{text:?} is not a number"))),
                },
                None => self.deserialize_any(visitor),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Input<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Input::Missing | Input::Value(Value::Null) => visitor.visit_unit(),
            Input::Value(Value::String(s)) => visitor.visit_borrowed_str(s),
            Input::Value(Value::Bool(b)) => visitor.visit_bool(*b),
            Input::Value(Value::Number(n)) => {
                if let Some(n) = n.as_u64() {
                    visitor.visit_u64(n)
                } else if let Some(n) = n.as_i64() {
                    visitor.visit_i64(n)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Input::Value(Value::Array(items)) => visitor.visit_seq(Items {
                items: items.iter(),
                index: 0,
            }),
            Input::Value(Value::Object(map)) | Input::Map(map) => visitor.visit_map(Fields {
                fields: map.iter(),
                current: None,
            }),
        }
    }

    parse_number! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128,
        deserialize_f32 => visit_f32: f32,
        deserialize_f64 => visit_f64: f64,
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.text() {
            Some("on" | "true" | "1" | "yes") => visitor.visit_bool(true),
            Some("off" | "false" | "0" | "no" | "") => visitor.visit_bool(false),
            Some(text) => Err(de::Error::custom(format_args!(
                "{text:?} is not a yes or no"
            ))),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if self.is_blank() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.text() {
            Some(text) => visitor.visit_enum(text.into_deserializer()),
            None => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// The entries of a nested map, `_unused_` markers skipped; errors name the entry.
struct Fields<'de> {
    fields: serde_json::map::Iter<'de>,
    /// The entry whose key was just read, for `next_value_seed`.
    current: Option<(&'de str, &'de Value)>,
}

impl<'de> de::MapAccess<'de> for Fields<'de> {
    type Error = DecodeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some((key, value)) = self.fields.by_ref().find(|(k, _)| !k.starts_with(UNUSED)) else {
            return Ok(None);
        };
        self.current = Some((key, value));
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        match self.current.take() {
            Some((key, value)) => seed
                .deserialize(Input::Value(value))
                .map_err(|e| e.within(key)),
            None => seed.deserialize(Input::Missing),
        }
    }
}

/// The items of a list (`tags[]=a&tags[]=b`); errors name the index.
struct Items<'de> {
    items: std::slice::Iter<'de, Value>,
    index: usize,
}

impl<'de> de::SeqAccess<'de> for Items<'de> {
    type Error = DecodeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(Input::Value(item))
            .map(Some)
            .map_err(|e| e.within(&index.to_string()))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::params;

    /// A form event's value as the session hands it to `handle_event`.
    fn event(urlencoded: &str, target: &str) -> Value {
        let mut value = params::decode(urlencoded).unwrap();
        value.insert("_target".into(), Value::String(target.into()));
        Value::Object(value)
    }

    #[test]
    fn reads_fields_target_and_touched_inputs() {
        let value = event(
            "user%5B_unused_email%5D=&user%5Bemail%5D=&user%5Bname%5D=Jo+Do",
            "user[name]",
        );
        let form = Form::from_event(&value, "user");
        assert_eq!(form.name(), "user");
        assert_eq!(form.get("name"), "Jo Do");
        assert_eq!(form.get("email"), "");
        assert_eq!(form.get("nope"), "");
        assert_eq!(form.target(), ["user", "name"]);
        assert!(form.touched("name"));
        assert!(!form.touched("email"));
        assert!(!form.touched("nope"));
    }

    #[test]
    fn splits_targets_like_phoenix() {
        assert_eq!(
            target_path("user[address][city]"),
            ["user", "address", "city"]
        );
        assert_eq!(target_path("tags[]"), ["tags"]);
        assert_eq!(target_path("q"), ["q"]);
        assert!(target_path("undefined").is_empty());
        let submit = json!({"user": {"name": "Jo"}});
        assert!(Form::from_event(&submit, "user").target().is_empty());
    }

    #[test]
    fn a_value_without_the_form_is_an_empty_form() {
        for value in [json!({}), json!({"user": "x"}), json!(null)] {
            let form = Form::from_event(&value, "user");
            assert_eq!(form, Form::new("user"));
            assert!(form.params().is_empty() && !form.touched("name"));
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Role {
        Admin,
        Guest,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Address {
        city: String,
        zip: Option<u32>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Profile {
        name: String,
        age: u8,
        score: f64,
        delta: i32,
        agree: bool,
        #[serde(default)]
        newsletter: bool,
        nickname: Option<String>,
        role: Role,
        address: Address,
        tags: Vec<String>,
        ids: Vec<u16>,
    }

    #[test]
    fn decodes_strings_into_the_apps_types() {
        let value = event(
            "p[name]=Ada&p[age]=+36+&p[score]=9.5&p[delta]=-2&p[agree]=on&p[nickname]=\
             &p[_unused_nickname]=&p[role]=guest&p[address][city]=London&p[address][zip]=\
             &p[tags][]=a&p[tags][]=b&p[ids][]=1&p[ids][]=20",
            "p[name]",
        );
        let profile: Profile = Form::from_event(&value, "p").decode().unwrap();
        assert_eq!(
            profile,
            Profile {
                name: "Ada".into(),
                age: 36,
                score: 9.5,
                delta: -2,
                agree: true,
                newsletter: false,
                nickname: None,
                role: Role::Guest,
                address: Address {
                    city: "London".into(),
                    zip: None
                },
                tags: vec!["a".into(), "b".into()],
                ids: vec![1, 20],
            }
        );
    }

    #[test]
    fn reads_checkbox_values_and_hidden_fallbacks() {
        #[derive(Deserialize)]
        struct Check {
            on: bool,
        }
        let decode = |query: &str| {
            Form::from_event(&Value::Object(params::decode(query).unwrap()), "c")
                .decode::<Check>()
                .map(|c| c.on)
        };
        assert_eq!(decode("c[on]=on"), Ok(true));
        assert_eq!(decode("c[on]=true"), Ok(true));
        assert_eq!(decode("c[on]=false"), Ok(false));
        assert_eq!(decode("c[on]="), Ok(false));
        // Phoenix's checkbox: a hidden "false" first, the checked box's "true" wins.
        assert_eq!(decode("c[on]=false&c[on]=true"), Ok(true));
        let error = decode("c[on]=maybe").unwrap_err();
        assert_eq!(error.to_string(), r#"c[on]: "maybe" is not a yes or no"#);
        let error = decode("").unwrap_err();
        assert_eq!(
            (error.field(), error.message()),
            ("c[on]".into(), "is missing")
        );
    }

    #[test]
    fn errors_name_the_failing_input() {
        #[derive(Debug, Deserialize)]
        struct Nested {
            #[expect(dead_code, reason = "only the error is read")]
            ids: Vec<u16>,
        }
        #[derive(Debug, Deserialize)]
        struct Outer {
            #[expect(dead_code, reason = "only the error is read")]
            inner: Nested,
        }
        let value = Value::Object(params::decode("o[inner][ids][]=1&o[inner][ids][]=x").unwrap());
        let error = Form::from_event(&value, "o").decode::<Outer>().unwrap_err();
        assert_eq!(error.path(), ["o", "inner", "ids", "1"]);
        assert_eq!(error.field(), "o[inner][ids][1]");
        assert_eq!(error.message(), r#""x" is not a number"#);

        let value = Value::Object(params::decode("o[inner]=flat").unwrap());
        let error = Form::from_event(&value, "o").decode::<Outer>().unwrap_err();
        assert_eq!(error.field(), "o[inner]");
        assert!(error.message().contains("invalid type"), "{error}");

        let error = Form::new("o").decode::<Role>().unwrap_err();
        assert_eq!(error.field(), "o");
    }

    #[test]
    fn decodes_into_a_map_without_unused_markers() {
        let value = event("u[a]=1&u[_unused_b]=&u[b]=", "u[a]");
        let map: std::collections::BTreeMap<String, String> =
            Form::from_event(&value, "u").decode().unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map["a"], "1");
    }

    #[test]
    fn errors_show_only_for_touched_fields() {
        let value = event(
            "user[name]=J&user[_unused_email]=&user[email]=",
            "user[name]",
        );
        let form = Form::from_event(&value, "user");
        let mut errors = Errors::new();
        assert!(errors.is_empty());
        errors
            .check("name", form.get("name").len() >= 2, "too short")
            .check("name", false, "second")
            .check("email", form.get("email").contains('@'), "must contain @")
            .check("ok", true, "never");
        assert!(!errors.is_empty());
        assert_eq!(errors.get("name"), Some("too short"));
        assert_eq!(errors.shown("name", &form), Some("too short"));
        assert_eq!(errors.get("email"), Some("must contain @"));
        assert_eq!(errors.shown("email", &form), None);
        assert_eq!(errors.get("ok"), None);
        assert_eq!(errors.iter().count(), 3);

        // A submit sends no _unused_ keys: every error shows.
        let submit = Value::Object(params::decode("user[name]=J&user[email]=").unwrap());
        assert_eq!(
            errors.shown("email", &Form::from_event(&submit, "user")),
            Some("must contain @")
        );
    }
}
