//! Reading JSON text in place: the raw text of one field or of each array
//! element, as slices of the input, so an edit can splice bytes without
//! re-serialising (and so without losing or reformatting) anything else.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The raw text of `key` in the JSON object `object`, or `None` when `object`
/// is not an object or lacks the key. A repeated key yields its last value,
/// as `serde_json::Value` (and so policy-server's diff) reads it.
pub fn field<'a>(object: &'a str, key: &str) -> Option<&'a str> {
    path(object, &[key])
}

/// The raw text at `keys`, a path of nested object keys, found in one pass
/// over the text. Anything of another shape on the way means `None`.
pub fn path<'a>(object: &'a str, keys: &[&str]) -> Option<&'a str> {
    let mut de = serde_json::Deserializer::from_str(object);
    PathSeed { keys }
        .deserialize(&mut de)
        .ok()
        .flatten()
        .map(RawValue::get)
}

/// The raw text of each element of the JSON array `array`, or `None` when
/// `array` is not an array.
pub fn elements(array: &str) -> Option<Vec<&str>> {
    serde_json::from_str::<Vec<&RawValue>>(array)
        .ok()
        .map(|items| items.into_iter().map(RawValue::get).collect())
}

/// Each member of the JSON object `object` as its decoded key and the raw
/// text of its value, in order (repeated keys included), or `None` when
/// `object` is not an object.
pub fn members(object: &str) -> Option<Vec<(String, &str)>> {
    serde_json::from_str::<Members>(object)
        .ok()
        .map(|members| members.0)
}

/// The string value of the raw JSON `value`, escapes decoded, or `None`
/// when it is not a string.
pub fn string(value: &str) -> Option<String> {
    value
        .starts_with('"')
        .then(|| serde_json::from_str::<String>(value).ok())
        .flatten()
}

/// An object's members, borrowed from the input.
struct Members<'a>(Vec<(String, &'a str)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;

        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: &RawValue = map.next_value()?;
                    members.push((key, value.get()));
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(MembersVisitor)
    }
}

/// Whether the raw JSON `value` is a string equal to `expected`, escapes
/// decoded.
pub fn is_string(value: &str, expected: &str) -> bool {
    if !value.starts_with('"') {
        return false;
    }
    match serde_json::from_str::<&str>(value) {
        Ok(text) => text == expected,
        // Borrowing fails only when the string has escapes.
        Err(_) => serde_json::from_str::<String>(value).is_ok_and(|text| text == expected),
    }
}

/// Reads the whole of `text` as a JSON reader does, numbers, escapes and
/// depth included (what skipping unread does not check), keeping nothing.
pub fn check(text: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<Checked>(text).map(|_| ())
}

/// Any JSON value, read through and dropped.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_key::<Checked>()?.is_some() {
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

/// Where `inner`, a slice of `outer`, starts in `outer`.
pub fn offset_in(outer: &str, inner: &str) -> Option<usize> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    (start + inner.len() <= outer.len()).then_some(start)
}

/// Descends `keys`, skipping every other value unparsed.
struct PathSeed<'k> {
    keys: &'k [&'k str],
}

impl<'de> DeserializeSeed<'de> for PathSeed<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        if self.keys.is_empty() {
            <&RawValue>::deserialize(deserializer).map(Some)
        } else {
            deserializer.deserialize_any(self)
        }
    }
}

/// Only an object can lead further; any other value is read past.
impl<'de> Visitor<'de> for PathSeed<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some((key, rest)) = self.keys.split_first() else {
            return Ok(None);
        };
        let mut found = None;
        while let Some(matches) = map.next_key_seed(KeyIs(key))? {
            if matches {
                found = map.next_value_seed(PathSeed { keys: rest })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Compares a map key without allocating it.
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::simple(r#"{"a": 1, "b": [2]}"#, "b", Some("[2]"))]
    #[case::missing(r#"{"a": 1}"#, "b", None)]
    #[case::not_an_object(r#"[1, 2]"#, "a", None)]
    #[case::a_string("\"a\"", "a", None)]
    #[case::null("null", "a", None)]
    #[case::last_of_repeated_keys(r#"{"a": 1, "a": {"x": 2}}"#, "a", Some(r#"{"x": 2}"#))]
    #[case::last_of_repeated_keys_null(r#"{"a": {"x": 2}, "a": null}"#, "a", Some("null"))]
    #[case::escaped_key(r#"{"\u0061": true}"#, "a", Some("true"))]
    #[case::nested_value_kept_verbatim(
        r#"{"a" :  { "x" : 1.50 } }"#,
        "a",
        Some(r#"{ "x" : 1.50 }"#)
    )]
    fn finds_fields(#[case] object: &str, #[case] key: &str, #[case] expected: Option<&str>) {
        assert_eq!(field(object, key), expected);
    }

    #[test]
    fn field_is_a_slice_of_the_input() {
        let object = r#"{ "spec" :  {"x": 1} }"#;
        let spec = field(object, "spec").unwrap();
        assert_eq!(offset_in(object, spec), Some(12));
        assert_eq!(&object[12..12 + spec.len()], spec);
    }

    #[test]
    fn follows_paths() {
        let object = r#"{"spec": {"template": {"spec": {"hostAliases": []}}}}"#;
        assert_eq!(
            path(object, &["spec", "template", "spec", "hostAliases"]),
            Some("[]")
        );
        assert_eq!(path(object, &["spec", "jobTemplate"]), None);
        assert_eq!(path(object, &[]), Some(object));
        assert_eq!(
            path(r#"{"spec": "x", "spec": {"a": [1]}}"#, &["spec", "a"]),
            Some("[1]")
        );
        assert_eq!(
            path(r#"{"spec": {"a": [1]}, "spec": 3}"#, &["spec", "a"]),
            None
        );
        assert_eq!(path(r#"{"spec": [{"a": 1}]}"#, &["spec", "a"]), None);
        assert_eq!(
            path(r#"{"spec": {"a": 1}"#, &["spec", "a"]),
            None,
            "truncated"
        );
    }

    #[rstest]
    #[case::array(r#"[1, {"a": 2}, "x"]"#, Some(vec!["1", r#"{"a": 2}"#, r#""x""#]))]
    #[case::empty("[]", Some(vec![]))]
    #[case::object("{}", None)]
    #[case::null("null", None)]
    fn splits_arrays(#[case] array: &str, #[case] expected: Option<Vec<&str>>) {
        assert_eq!(elements(array), expected);
    }

    #[rstest]
    #[case::plain(r#""host-gateway""#, true)]
    #[case::escaped(r#""host\u002dgateway""#, true)]
    #[case::other(r#""host-gateway ""#, false)]
    #[case::case_differs(r#""Host-Gateway""#, false)]
    #[case::not_a_string("42", false)]
    #[case::null("null", false)]
    fn compares_strings(#[case] value: &str, #[case] expected: bool) {
        assert_eq!(is_string(value, "host-gateway"), expected);
    }

    #[test]
    fn lists_members_in_order_with_raw_values() {
        let object = r#"{ "ip" : "x", "hostnames": [ "a" ], "\u0069p": 1.50 }"#;
        let members = members(object).unwrap();
        assert_eq!(
            members,
            [
                ("ip".to_string(), r#""x""#),
                ("hostnames".to_string(), r#"[ "a" ]"#),
                ("ip".to_string(), "1.50"),
            ]
        );
        assert!(offset_in(object, members[1].1).is_some());
        assert_eq!(super::members("[]"), None);
        assert_eq!(super::members("null"), None);
    }

    #[rstest]
    #[case::plain(r#""a""#, Some("a"))]
    #[case::escaped(r#""\u0061""#, Some("a"))]
    #[case::number("1", None)]
    #[case::null("null", None)]
    fn reads_strings(#[case] value: &str, #[case] expected: Option<&str>) {
        assert_eq!(string(value).as_deref(), expected);
    }

    #[test]
    fn offset_of_a_foreign_slice_is_none() {
        let outer = String::from("abc");
        let other = String::from("abcdef");
        assert_eq!(offset_in(&outer, &other[2..]), None);
    }
}
