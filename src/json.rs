//! Reading parts of a JSON text in place, with serde_json. Each value comes
//! back as its raw text (`RawValue`), a slice of the text it was read from,
//! so the rewrite can splice new text between bytes it never touched.
//!
//! serde_json has no call for "the members of this object, in order, as raw
//! text", for "the raw value at this path, in one pass", nor for "where
//! does this slice start in its parent"; [`members`], [`field`], [`path`]
//! and [`offset_in`] are those, written as serde visitors and pointer
//! arithmetic.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// An object key, borrowed when it holds no escape.
#[derive(Deserialize)]
pub struct Key<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// An object's members in order: each key, decoded, and the raw text of its
/// value. `None` when `text` is not an object.
pub fn members(text: &str) -> Option<Vec<(Cow<'_, str>, &str)>> {
    struct Members;
    impl<'de> Visitor<'de> for Members {
        type Value = Vec<(Cow<'de, str>, &'de str)>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(Key(key)) = map.next_key()? {
                let value: &RawValue = map.next_value()?;
                out.push((key, value.get()));
            }
            Ok(out)
        }
    }
    serde_json::Deserializer::from_str(text)
        .deserialize_map(Members)
        .ok()
}

/// The raw text of the member `key` of the object `text` (the last one, as
/// serde_json's `Value` keeps it, when a key repeats). `None` when `text` is
/// not an object or has no such member.
pub fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    path(text, &[key])
}

/// The raw value at `keys` under the object `text`, found in one pass: each
/// level is read only while its parent is (the last of repeated keys, as
/// serde_json's `Value` keeps it).
pub fn path<'a>(text: &'a str, keys: &[&str]) -> Option<&'a str> {
    if keys.is_empty() {
        return serde_json::from_str::<&RawValue>(text)
            .ok()
            .map(RawValue::get);
    }
    serde_json::Deserializer::from_str(text)
        .deserialize_any(Path(keys))
        .ok()
        .flatten()
}

/// A walk down `keys`: the raw value there, `None` where a level is not an
/// object or lacks its key.
struct Path<'k>(&'k [&'k str]);

impl<'de> DeserializeSeed<'de> for Path<'_> {
    type Value = Option<&'de str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match self.0 {
            [] => <&RawValue>::deserialize(deserializer).map(|raw| Some(raw.get())),
            keys => deserializer.deserialize_any(Path(keys)),
        }
    }
}

impl<'de> Visitor<'de> for Path<'_> {
    type Value = Option<&'de str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(Key(key)) = map.next_key()? {
            if key == self.0[0] {
                found = map.next_value_seed(Path(&self.0[1..]))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    // Any other value holds no key: read past it.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// The raw text of each element of the array `text`; `None` for anything
/// else.
pub fn elements(text: &str) -> Option<Vec<&str>> {
    serde_json::from_str::<Vec<&RawValue>>(text)
        .ok()
        .map(|elements| elements.into_iter().map(RawValue::get).collect())
}

/// The string `text` holds, decoded; `None` for anything else.
pub fn string(text: &str) -> Option<Cow<'_, str>> {
    serde_json::from_str::<Key>(text).ok().map(|Key(s)| s)
}

/// Where `inner`, a slice of `outer`, starts in it.
pub fn offset_in(outer: &str, inner: &str) -> Option<usize> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    (start + inner.len() <= outer.len()).then_some(start)
}

/// The bytes `inner`, a slice of `outer`, covers in it.
pub fn range_in(outer: &str, inner: &str) -> Option<Range<usize>> {
    let start = offset_in(outer, inner)?;
    Some(start..start + inner.len())
}

/// `text` with the bytes of each edit's range replaced by its text. `None`
/// when two ranges overlap or one is not in `text`.
pub fn splice(text: &str, mut edits: Vec<(Range<usize>, String)>) -> Option<String> {
    // A few edits at most (an entry's `ip`, its `hostnames` and what it
    // gains): an insertion sort, where the slice sort would cost the
    // module 3 KB.
    for i in 1..edits.len() {
        let mut j = i;
        while j > 0 && edits[j - 1].0.start > edits[j].0.start {
            edits.swap(j - 1, j);
            j -= 1;
        }
    }
    let added: usize = edits.iter().map(|(_, new)| new.len()).sum();
    let mut out = String::with_capacity(text.len() + added);
    let mut copied = 0;
    for (range, new) in edits {
        out.push_str(text.get(copied..range.start)?);
        out.push_str(&new);
        copied = range.end;
    }
    out.push_str(text.get(copied..)?);
    Some(out)
}

/// `object` with `inner`, a slice of it, replaced by `text`.
pub fn replace(object: &str, inner: &str, text: &str) -> Option<String> {
    splice(object, vec![(range_in(object, inner)?, text.to_string())])
}

/// `object` with `member` (`"key":value`) added last to `map`, a slice of
/// it holding a JSON object.
pub fn insert_member(object: &str, map: &str, member: &str) -> Option<String> {
    let comma = if members(map)?.is_empty() { "" } else { "," };
    insert_before_end(object, map, &[comma, member].concat())
}

/// `object` with `element` added last to `list`, a slice of it holding a
/// JSON array.
pub fn push_element(object: &str, list: &str, element: &str) -> Option<String> {
    let comma = if elements(list)?.is_empty() { "" } else { "," };
    insert_before_end(object, list, &[comma, element].concat())
}

/// `object` with `text` inserted before the closing bracket of `container`.
fn insert_before_end(object: &str, container: &str, text: &str) -> Option<String> {
    let end = offset_in(object, container)? + container.len() - 1;
    Some([&object[..end], text, &object[end..]].concat())
}

/// The object `map` without its members `key`, the others as they were.
/// `None` when `map` is not an object.
pub fn without_member(map: &str, key: &str) -> Option<String> {
    let mut kept = String::from("{");
    for (member, raw) in members(map)? {
        if member != key {
            if kept.len() > 1 {
                kept.push(',');
            }
            kept.push_str(&quoted(&member));
            kept.push(':');
            kept.push_str(raw);
        }
    }
    kept.push('}');
    Some(kept)
}

/// `text` as a JSON string.
pub fn quoted(text: &str) -> String {
    // Serialising a string cannot fail.
    serde_json::to_string(text).unwrap_or_default()
}

/// `items` as a JSON list of strings.
pub fn quoted_list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&items).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_order_raw_text_and_repeats() {
        let text = r#"{ "b" : [1, 2.50] , "a\u0062":{"x":null},"b":"c" }"#;
        let read = members(text).unwrap();
        let pairs: Vec<(&str, &str)> = read.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
        assert_eq!(
            pairs,
            [("b", "[1, 2.50]"), ("ab", r#"{"x":null}"#), ("b", r#""c""#)]
        );
        assert!(members("[1]").is_none());
        assert!(members("\"x\"").is_none());
    }

    #[test]
    fn splice_applies_edits_in_order_of_position() {
        let text = r#"{"ip":"a","hostnames":["x"]}"#;
        let ip = range_in(text, field(text, "ip").unwrap()).unwrap();
        let names = range_in(text, field(text, "hostnames").unwrap()).unwrap();
        let end = text.len() - 1;
        let edits = vec![
            (end..end, r#","z":1"#.to_string()),
            (names, r#"["x","y"]"#.to_string()),
            (ip, r#""10.0.0.1""#.to_string()),
        ];
        assert_eq!(
            splice(text, edits).unwrap(),
            r#"{"ip":"10.0.0.1","hostnames":["x","y"],"z":1}"#
        );
    }

    #[test]
    fn splice_refuses_overlapping_or_outside_ranges() {
        assert_eq!(
            splice("abcdef", vec![(1..4, "x".into()), (3..5, "y".into())]),
            None
        );
        assert_eq!(splice("abc", vec![(2..9, "x".into())]), None);
        assert_eq!(range_in("abc", "abc"), Some(0..3));
        assert_eq!(range_in("abc", "xyz"), None);
    }

    #[test]
    fn field_takes_the_last_of_repeated_keys() {
        assert_eq!(field(r#"{"ip":"a","ip":"b"}"#, "ip"), Some(r#""b""#));
        assert_eq!(field(r#"{"ip":"a"}"#, "hostnames"), None);
        assert_eq!(field("null", "ip"), None);
    }

    #[test]
    fn path_follows_objects_only() {
        let text = r#"{"spec":{"template":{"spec":{"hostAliases":[]}}}}"#;
        assert_eq!(
            path(text, &["spec", "template", "spec", "hostAliases"]),
            Some("[]")
        );
        assert_eq!(path(text, &["spec", "template", "x"]), None);
        assert_eq!(path(r#"{"spec":[{"a":1}]}"#, &["spec", "a"]), None);
        assert_eq!(
            path(r#"{"spec":{"a":1},"spec":{"a":2}}"#, &["spec", "a"]),
            Some("2")
        );
        assert_eq!(path(r#"{"spec":{"a":1},"spec":3}"#, &["spec", "a"]), None);
        assert_eq!(path(" [1] ", &[]), Some("[1]"));
        for shape in ["null", "true", "1", "-1", "1.5", r#""s""#, "[]"] {
            assert_eq!(
                path(&format!(r#"{{"spec":{shape}}}"#), &["spec", "a"]),
                None
            );
        }
    }

    #[test]
    fn elements_strings_and_offsets() {
        let text = r#"[ "a" ,{"b":1}, null ]"#;
        let items = elements(text).unwrap();
        assert_eq!(items, [r#""a""#, r#"{"b":1}"#, "null"]);
        assert_eq!(offset_in(text, items[1]), Some(7));
        assert_eq!(offset_in(text, "elsewhere"), None);
        assert_eq!(string(items[0]).as_deref(), Some("a"));
        assert_eq!(
            string(r#""host\u002dgateway""#).as_deref(),
            Some("host-gateway")
        );
        assert_eq!(string("1"), None);
        assert!(elements(r#"{"a":1}"#).is_none());
    }

    #[test]
    fn without_member_drops_every_copy_of_the_key() {
        let map = r#"{"a": 1, "k": 2, "b" : {"k":3}, "k": 4}"#;
        assert_eq!(
            without_member(map, "k").as_deref(),
            Some(r#"{"a":1,"b":{"k":3}}"#)
        );
        assert_eq!(without_member(r#"{"k":1}"#, "k").as_deref(), Some("{}"));
        assert_eq!(without_member("[]", "k"), None);
    }

    #[test]
    fn quoting_round_trips() {
        let text = "a\"b\\c\n\u{1}é";
        assert_eq!(serde_json::from_str::<String>(&quoted(text)).unwrap(), text);
        assert_eq!(quoted_list(&["a", "b\""]), r#"["a","b\""]"#);
    }
}
