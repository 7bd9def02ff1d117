//! Reading JSON text in place: the raw text of one field or of each array
//! element, as slices of the input, so an edit can splice bytes without
//! re-serialising (and so without losing or reformatting) anything else.
//!
//! Hand-written rather than serde_json's reader: that reader, with its
//! number parsing and error formatting, was a third of the module. This one
//! accepts exactly what serde_json reads into a value (checked against it
//! in the tests and by fuzzing), never builds a number, and says what is
//! wrong in serde_json's words.

use crate::messages::{JsonError, JsonReason};

/// Deepest nesting of arrays and objects read; serde_json refuses more.
const MAX_DEPTH: usize = 127;

/// The digits of 2^1024 - 2^970, the least value that rounds to infinity
/// as an `f64`: a number at or above it is out of range for any JSON
/// reader that reads numbers as `f64`.
const OVERFLOW_DIGITS: &[u8] = b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// The raw text of `key` in the JSON object `object`, or `None` when `object`
/// is not an object or lacks the key. A repeated key yields its last value,
/// as `serde_json::Value` (and so policy-server's diff) reads it.
pub fn field<'a>(object: &'a str, key: &str) -> Option<&'a str> {
    path(object, &[key])
}

/// The raw text at `keys`, a path of nested object keys, found in one pass
/// over the text. Anything of another shape on the way, or text that is not
/// one JSON value, means `None`.
pub fn path<'a>(object: &'a str, keys: &[&str]) -> Option<&'a str> {
    let mut reader = Reader::new(object);
    let found = reader.find(keys).ok()?;
    reader.end().ok()?;
    found
}

/// The raw text of each element of the JSON array `array`, or `None` when
/// `array` is not an array.
pub fn elements(array: &str) -> Option<Vec<&str>> {
    let mut reader = Reader::new(array);
    reader.skip_whitespace();
    if reader.peek() != Some(b'[') {
        return None;
    }
    let mut items = Vec::new();
    reader
        .array(|reader| {
            items.push(reader.raw_value()?);
            Ok(())
        })
        .ok()?;
    reader.end().ok()?;
    Some(items)
}

/// Each member of the JSON object `object` as its decoded key and the raw
/// text of its value, in order (repeated keys included), or `None` when
/// `object` is not an object.
pub fn members(object: &str) -> Option<Vec<(String, &str)>> {
    let mut reader = Reader::new(object);
    reader.skip_whitespace();
    if reader.peek() != Some(b'{') {
        return None;
    }
    let mut members = Vec::new();
    reader
        .object(|reader, key| {
            let value = reader.raw_value()?;
            members.push((key, value));
            Ok(())
        })
        .ok()?;
    reader.end().ok()?;
    decode_keys(members)
}

/// [`members`] of `object`, and in the same pass the members of its last
/// member named `inner` when that is an object: one read of a payload for
/// the fields at two levels, which also checks the whole text as [`check`]
/// does. `Ok(None)` when the text is JSON but not an object.
pub fn members_and_inner<'a>(
    object: &'a str,
    inner: &str,
) -> Result<Option<Members<'a>>, JsonError> {
    let mut reader = Reader::new(object);
    reader.skip_whitespace();
    let is_object = reader.peek() == Some(b'{');
    let mut members = Vec::new();
    let mut inner_members = None;
    let read = if is_object {
        reader.object(|reader, key| {
            reader.skip_whitespace();
            let is_inner = key.is(inner);
            if is_inner && reader.peek() == Some(b'{') {
                let start = reader.at;
                let mut found = Vec::new();
                reader.object(|reader, key| {
                    found.push((key, reader.raw_value()?));
                    Ok(())
                })?;
                members.push((key, &reader.text[start..reader.at]));
                inner_members = Some(found);
            } else {
                if is_inner {
                    inner_members = None;
                }
                members.push((key, reader.raw_value()?));
            }
            Ok(())
        })
    } else {
        reader.value()
    };
    read.and_then(|()| reader.end())
        .map_err(|(reason, at)| error_at(object, reason, at))?;
    if !is_object {
        return Ok(None);
    }
    // Keys the reader accepted always decode.
    let inner = match inner_members {
        Some(found) => decode_keys(found),
        None => None,
    };
    Ok(decode_keys(members).map(|outer| Members { outer, inner }))
}

/// An object's members, and those of one member within it.
pub struct Members<'a> {
    /// The object's members, decoded key and raw value, in order.
    pub outer: Vec<(String, &'a str)>,
    /// The members of the last member of the name asked for, when that is
    /// an object.
    pub inner: Option<Vec<(String, &'a str)>>,
}

/// The members with their keys decoded.
fn decode_keys<'a>(members: Vec<(Str<'a>, &'a str)>) -> Option<Vec<(String, &'a str)>> {
    members
        .into_iter()
        .map(|(key, value)| Some((key.decode()?, value)))
        .collect()
}

/// The string value of the raw JSON `value`, escapes decoded, or `None`
/// when it is not a string.
pub fn string(value: &str) -> Option<String> {
    let mut reader = Reader::new(value);
    reader.skip_whitespace();
    if reader.peek() != Some(b'"') {
        return None;
    }
    let text = reader.string().ok()?;
    reader.end().ok()?;
    text.decode()
}

/// Whether the raw JSON `value` is a string equal to `expected`, escapes
/// decoded.
pub fn is_string(value: &str, expected: &str) -> bool {
    let mut reader = Reader::new(value);
    reader.skip_whitespace();
    reader.peek() == Some(b'"')
        && reader
            .string()
            .is_ok_and(|text| reader.end().is_ok() && text.is(expected))
}

/// Reads the whole of `text` as a JSON reader does, numbers, escapes and
/// depth included, keeping nothing.
pub fn check(text: &str) -> Result<(), JsonError> {
    let mut reader = Reader::new(text);
    reader
        .value()
        .and_then(|()| reader.end())
        .map_err(|(reason, at)| error_at(text, reason, at))
}

/// The error for a fault at byte `at`, placed as serde_json places it: the
/// line, and the column of the byte (of the last one, at the end).
fn error_at(text: &str, reason: JsonReason, at: usize) -> JsonError {
    let before = &text.as_bytes()[..(at + 1).min(text.len())];
    let line_start = before
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |newline| newline + 1);
    JsonError {
        reason,
        line: 1 + before[..line_start].iter().filter(|b| **b == b'\n').count(),
        column: before.len() - line_start,
    }
}

/// Where `inner`, a slice of `outer`, starts in `outer`.
pub fn offset_in(outer: &str, inner: &str) -> Option<usize> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    (start + inner.len() <= outer.len()).then_some(start)
}

/// `text` as a JSON string, escaped as serde_json escapes it.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_quoted(&mut out, text);
    out
}

/// `items` as a JSON list of strings.
pub fn quoted_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_quoted(&mut out, item.as_ref());
    }
    out.push(']');
    out
}

/// Appends `text` as a JSON string.
pub fn push_quoted(out: &mut String, text: &str) {
    out.push('"');
    let mut copied = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[copied..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escape);
        }
        copied = i + 1;
    }
    out.push_str(&text[copied..]);
    out.push('"');
}

/// A string as written between its quotes.
#[derive(Clone, Copy)]
struct Str<'a> {
    raw: &'a str,
    escaped: bool,
}

impl Str<'_> {
    fn decode(self) -> Option<String> {
        if self.escaped {
            unescape(self.raw)
        } else {
            Some(self.raw.to_string())
        }
    }

    fn is(self, expected: &str) -> bool {
        if self.escaped {
            unescape(self.raw).is_some_and(|text| text == expected)
        } else {
            self.raw == expected
        }
    }
}

/// The text of a string's escaped body; `None` on an escape [`Reader`]
/// would have refused.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = rest.as_bytes().get(at + 1).copied().filter(u8::is_ascii)?;
        rest = &rest[at + 2..];
        let decoded = match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = hex4(rest.as_bytes())?;
                rest = &rest[4..];
                if (0xd800..0xdc00).contains(&high) {
                    let low = rest.strip_prefix("\\u").map(str::as_bytes).and_then(hex4)?;
                    rest = &rest[6..];
                    if !(0xdc00..0xe000).contains(&low) {
                        return None;
                    }
                    char::from_u32(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))?
                } else {
                    char::from_u32(high)?
                }
            }
            _ => return None,
        };
        out.push(decoded);
    }
    out.push_str(rest);
    Some(out)
}

/// The value of four hex digits at the start of `bytes`.
fn hex4(bytes: &[u8]) -> Option<u32> {
    let digits = bytes.get(..4)?;
    digits.iter().try_fold(0, |value, digit| {
        Some(value * 16 + char::from(*digit).to_digit(16)?)
    })
}

/// A failed read: why, and the index of the byte at fault (the length at
/// the end of the text).
type Step<T> = Result<T, (JsonReason, usize)>;

/// What tells an array from an object to [`Reader::container`].
struct Container {
    close: u8,
    eof: JsonReason,
    expected: JsonReason,
}

/// A reader over one JSON text, checking as it goes.
struct Reader<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            text,
            at: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn fail<T>(&self, reason: JsonReason) -> Step<T> {
        Err((reason, self.at))
    }

    /// A fault in the byte just read.
    fn fail_before<T>(&self, reason: JsonReason) -> Step<T> {
        Err((reason, self.at - 1))
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Nothing but whitespace is left.
    fn end(&mut self) -> Step<()> {
        self.skip_whitespace();
        match self.peek() {
            None => Ok(()),
            Some(_) => self.fail(JsonReason::TrailingCharacters),
        }
    }

    /// Reads one value and gives its text.
    fn raw_value(&mut self) -> Step<&'a str> {
        self.skip_whitespace();
        let start = self.at;
        self.value()?;
        Ok(&self.text[start..self.at])
    }

    /// Reads one value, leading whitespace included.
    fn value(&mut self) -> Step<()> {
        self.skip_whitespace();
        match self.peek() {
            None => self.fail(JsonReason::EofValue),
            Some(b'"') => self.string().map(drop),
            Some(b'{') => self.object(|reader, _| reader.value()),
            Some(b'[') => self.array(Reader::value),
            Some(b't') => self.word(b"true"),
            Some(b'f') => self.word(b"false"),
            Some(b'n') => self.word(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.fail(JsonReason::ExpectedValue),
        }
    }

    /// Reads the value, giving the text at `keys` within it if it has one.
    fn find(&mut self, keys: &[&str]) -> Step<Option<&'a str>> {
        let Some((key, rest)) = keys.split_first() else {
            return self.raw_value().map(Some);
        };
        self.skip_whitespace();
        if self.peek() != Some(b'{') {
            return self.value().map(|()| None);
        }
        let mut found = None;
        self.object(|reader, name| {
            if name.is(key) {
                found = reader.find(rest)?;
                Ok(())
            } else {
                reader.value()
            }
        })?;
        Ok(found)
    }

    fn word(&mut self, word: &[u8]) -> Step<()> {
        for expected in word {
            match self.peek() {
                None => return self.fail(JsonReason::EofValue),
                Some(byte) if byte == *expected => self.at += 1,
                Some(_) => return self.fail(JsonReason::ExpectedIdent),
            }
        }
        Ok(())
    }

    fn enter(&mut self) -> Step<()> {
        if self.depth == MAX_DEPTH {
            return self.fail(JsonReason::RecursionLimitExceeded);
        }
        self.depth += 1;
        self.at += 1;
        Ok(())
    }

    /// Reads an array, at its `[`, handing each element to `element`.
    fn array(&mut self, element: impl FnMut(&mut Self) -> Step<()>) -> Step<()> {
        let list = Container {
            close: b']',
            eof: JsonReason::EofList,
            expected: JsonReason::ExpectedListCommaOrEnd,
        };
        self.container(list, element)
    }

    /// Reads an object, at its `{`, handing each key to `member`, which
    /// reads the value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, Str<'a>) -> Step<()>) -> Step<()> {
        let object = Container {
            close: b'}',
            eof: JsonReason::EofObject,
            expected: JsonReason::ExpectedObjectCommaOrEnd,
        };
        self.container(object, |reader| {
            match reader.peek() {
                Some(b'"') => {}
                None => return reader.fail(JsonReason::EofValue),
                Some(_) => return reader.fail(JsonReason::KeyMustBeAString),
            }
            let key = reader.string()?;
            reader.skip_whitespace();
            match reader.peek() {
                Some(b':') => reader.at += 1,
                None => return reader.fail(JsonReason::EofObject),
                Some(_) => return reader.fail(JsonReason::ExpectedColon),
            }
            member(reader, key)
        })
    }

    /// Reads an array or an object, at its opening bracket: items read by
    /// `item`, separated by commas, up to the closing bracket.
    fn container(
        &mut self,
        kind: Container,
        mut item: impl FnMut(&mut Self) -> Step<()>,
    ) -> Step<()> {
        self.enter()?;
        self.skip_whitespace();
        match self.peek() {
            None => return self.fail(kind.eof),
            Some(byte) if byte == kind.close => {}
            Some(_) => loop {
                item(self)?;
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        self.skip_whitespace();
                        if self.peek() == Some(kind.close) {
                            return self.fail(JsonReason::TrailingComma);
                        }
                    }
                    Some(byte) if byte == kind.close => break,
                    None => return self.fail(kind.eof),
                    Some(_) => return self.fail(kind.expected),
                }
            },
        }
        self.at += 1;
        self.depth -= 1;
        Ok(())
    }

    /// Reads a string, at its opening quote.
    fn string(&mut self) -> Step<Str<'a>> {
        self.at += 1;
        let start = self.at;
        let bytes = self.text.as_bytes();
        let mut escaped = false;
        loop {
            // The next quote or backslash, found a word at a time; then
            // one pass, with no branch per byte, for a control character.
            let rest = bytes.get(self.at..).unwrap_or_default();
            let run = match memchr::memchr2(b'"', b'\\', rest) {
                Some(stop) => &rest[..stop],
                None => rest,
            };
            if run.iter().fold(false, |seen, byte| seen | (*byte < 0x20)) {
                self.at += run.iter().position(|byte| *byte < 0x20).unwrap_or(0);
                return self.fail(JsonReason::ControlCharacter);
            }
            self.at += run.len();
            match self.peek() {
                Some(b'"') => {
                    let raw = &self.text[start..self.at];
                    self.at += 1;
                    return Ok(Str { raw, escaped });
                }
                Some(b'\\') => {
                    escaped = true;
                    self.at += 1;
                    self.escape()?;
                }
                None => return self.fail(JsonReason::EofString),
                Some(_) => return self.fail(JsonReason::ControlCharacter),
            }
        }
    }

    /// Reads an escape, after its backslash.
    fn escape(&mut self) -> Step<()> {
        match self.peek() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.at += 1;
                Ok(())
            }
            Some(b'u') => {
                self.at += 1;
                let code = self.hex_escape()?;
                if (0xdc00..0xe000).contains(&code) {
                    return self.fail_before(JsonReason::LoneSurrogate);
                }
                if (0xd800..0xdc00).contains(&code) {
                    // A trailing surrogate escape must follow.
                    for expected in [b'\\', b'u'] {
                        match self.peek() {
                            None => return self.fail(JsonReason::EofString),
                            Some(byte) if byte == expected => self.at += 1,
                            Some(_) => return self.fail(JsonReason::UnexpectedEndOfHexEscape),
                        }
                    }
                    if !(0xdc00..0xe000).contains(&self.hex_escape()?) {
                        return self.fail_before(JsonReason::LoneSurrogate);
                    }
                }
                Ok(())
            }
            None => self.fail(JsonReason::EofString),
            Some(_) => self.fail(JsonReason::InvalidEscape),
        }
    }

    /// Four hex digits: the text must hold four more bytes, and a fault is
    /// placed on the last of them, as serde_json places it.
    fn hex_escape(&mut self) -> Step<u32> {
        let Some(digits) = self.text.as_bytes().get(self.at..self.at + 4) else {
            self.at = self.text.len();
            return self.fail(JsonReason::EofString);
        };
        self.at += 4;
        hex4(digits).ok_or((JsonReason::InvalidEscape, self.at - 1))
    }

    /// The digits from here on.
    fn digits(&mut self) -> &'a [u8] {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        &self.text.as_bytes()[start..self.at]
    }

    /// At least one digit, as after `.` or `e`.
    fn required_digits(&mut self) -> Step<&'a [u8]> {
        match self.peek() {
            Some(b'0'..=b'9') => Ok(self.digits()),
            None => self.fail(JsonReason::EofValue),
            Some(_) => self.fail(JsonReason::InvalidNumber),
        }
    }

    /// Reads a number, refusing one too large for an `f64`, as serde_json
    /// does.
    fn number(&mut self) -> Step<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let integer = match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return self.fail(JsonReason::InvalidNumber);
                }
                &b"0"[..]
            }
            _ => self.required_digits()?,
        };
        let fraction = if self.peek() == Some(b'.') {
            self.at += 1;
            self.required_digits()?
        } else {
            &[]
        };
        let mut exponent: i64 = 0;
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            let negative = match self.peek() {
                Some(b'-') => {
                    self.at += 1;
                    true
                }
                Some(b'+') => {
                    self.at += 1;
                    false
                }
                _ => false,
            };
            for digit in self.required_digits()? {
                // Past any exponent that matters: saturate.
                exponent = (exponent * 10 + i64::from(digit - b'0')).min(1 << 40);
            }
            if negative {
                exponent = -exponent;
            }
        }
        if out_of_range(integer, fraction, exponent) {
            return self.fail_before(JsonReason::NumberOutOfRange);
        }
        Ok(())
    }
}

/// Whether `integer.fraction` times ten to `exponent` rounds to infinity as
/// an `f64`.
fn out_of_range(integer: &[u8], fraction: &[u8], exponent: i64) -> bool {
    let digits = || integer.iter().chain(fraction);
    let Some(leading_zeros) = digits().position(|digit| *digit != b'0') else {
        return false;
    };
    // The power of ten of the first significant digit; the lengths are
    // those of a text, far from overflowing.
    let power = integer.len() as i64 - 1 - leading_zeros as i64 + exponent;
    match power.cmp(&308) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => {
            let mut significant = digits().skip(leading_zeros);
            let mut limit = OVERFLOW_DIGITS.iter();
            loop {
                match (significant.next(), limit.next()) {
                    (None, None) => return true,
                    (Some(digit), None) => {
                        if *digit != b'0' {
                            return true;
                        }
                    }
                    (digit, Some(bound)) => {
                        let digit = digit.copied().unwrap_or(b'0');
                        if digit != *bound {
                            return digit > *bound;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_json_reading;
    use proptest::prelude::*;
    use rstest::rstest;

    /// Each fault in serde_json's words, at serde_json's place.
    #[rstest]
    #[case::empty("", "EOF while parsing a value at line 1 column 0")]
    #[case::blank(" ", "EOF while parsing a value at line 1 column 1")]
    #[case::open_object("{", "EOF while parsing an object at line 1 column 1")]
    #[case::after_a_comma(r#"{"a":1, "#, "EOF while parsing a value at line 1 column 8")]
    #[case::escape_after_a_leading_surrogate(
        r#""\ud800\x""#,
        "unexpected end of hex escape at line 1 column 9"
    )]
    #[case::open_list("[1", "EOF while parsing a list at line 1 column 2")]
    #[case::open_string(r#"["ab"#, "EOF while parsing a string at line 1 column 4")]
    #[case::no_value("[x", "expected value at line 1 column 2")]
    #[case::later_line("\n\n  [\n x", "expected value at line 4 column 2")]
    #[case::misspelt("[nul]", "expected ident at line 1 column 5")]
    #[case::no_colon(r#"{"a" 1}"#, "expected `:` at line 1 column 6")]
    #[case::key_not_a_string("{1:2}", "key must be a string at line 1 column 2")]
    #[case::list_comma("[1 2]", "expected `,` or `]` at line 1 column 4")]
    #[case::object_comma(r#"{"a":1 "b":2}"#, "expected `,` or `}` at line 1 column 8")]
    #[case::trailing_comma_list("[1,]", "trailing comma at line 1 column 4")]
    #[case::trailing_comma_object(r#"{"a":1,}"#, "trailing comma at line 1 column 8")]
    #[case::trailing_characters("[1] x", "trailing characters at line 1 column 5")]
    #[case::leading_zero("01", "invalid number at line 1 column 2")]
    #[case::bare_minus("[-]", "invalid number at line 1 column 3")]
    #[case::bare_point("1.", "EOF while parsing a value at line 1 column 2")]
    #[case::out_of_range("1e400", "number out of range at line 1 column 5")]
    #[case::negative_out_of_range("-1e400", "number out of range at line 1 column 6")]
    #[case::just_past_the_largest(
        "1.7976931348623159e308",
        "number out of range at line 1 column 22"
    )]
    #[case::bad_escape(r#""\x""#, "invalid escape at line 1 column 3")]
    #[case::control_character(
        "\"a\u{1}\"",
        "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 3"
    )]
    #[case::lone_trailing_surrogate(
        r#""\udc00""#,
        "lone leading surrogate in hex escape at line 1 column 7"
    )]
    #[case::lone_leading_surrogate(
        r#""\ud800\u0041""#,
        "lone leading surrogate in hex escape at line 1 column 13"
    )]
    #[case::unpaired_leading_surrogate(
        r#""\ud800""#,
        "unexpected end of hex escape at line 1 column 8"
    )]
    fn faults_read_as_serde_json_words_them(#[case] text: &str, #[case] message: &str) {
        assert_eq!(
            check(text).map_err(|e| e.to_string()),
            Err(message.to_string())
        );
        check_json_reading(text);
    }

    #[rstest]
    #[case::zero_with_any_exponent("0e99999999999999999999")]
    #[case::tiny("1e-99999999999999")]
    #[case::largest_f64("1.7976931348623157e308")]
    #[case::rounds_down_to_the_largest("1.7976931348623158e308")]
    #[case::just_below_the_limit(
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.999"
    )]
    #[case::pair(r#""\ud83d\ude00""#)]
    #[case::every_escape(r#""\"\\\/\b\f\n\r\t\u00e9""#)]
    #[case::deepest(&format!("{}{}", "[".repeat(127), "]".repeat(127)))]
    fn what_serde_json_reads_is_read(#[case] text: &str) {
        assert_eq!(check(text), Ok(()));
        check_json_reading(text);
    }

    #[test]
    fn the_limit_itself_is_out_of_range() {
        let limit = std::str::from_utf8(OVERFLOW_DIGITS).unwrap();
        for text in [
            limit.to_string(),
            format!("{limit}.0"),
            format!("-{limit}"),
            format!("0.{limit}e309"),
            format!("{}.{}e308", &limit[..1], &limit[1..]),
        ] {
            assert_eq!(
                check(&text).map_err(|e| e.reason),
                Err(JsonReason::NumberOutOfRange),
                "{text}"
            );
            check_json_reading(&text);
        }
    }

    #[test]
    fn nesting_stops_where_serde_json_stops() {
        for (open, close) in [("[", "]"), (r#"{"a":"#, "}")] {
            for depth in [127, 128, 200] {
                let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
                check_json_reading(&text);
            }
        }
        let text = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert_eq!(
            check(&text).map_err(|e| e.to_string()),
            Err("recursion limit exceeded at line 1 column 128".to_string())
        );
    }

    /// Pieces of JSON, whole and broken, that random sequences of make
    /// texts near the edges of the grammar.
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        " ",
        "\n",
        "\"a\"",
        "\"\\u0061\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\ud800x\"",
        "\"\\ud800\\\"",
        "\"é\"",
        "\"\t\"",
        "\"\\x\"",
        "\"\\u12G4\"",
        "\"",
        "\\",
        "0",
        "-0",
        "01",
        "1.5e3",
        "1e",
        "1.",
        "-",
        "+1",
        "1e400",
        "1e-400",
        "1E+2",
        "2.5E-3",
        "1.7976931348623159e308",
        "true",
        "tru",
        "false",
        "null",
        "nul",
        "x",
    ];

    fn token_soup() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|t| t.concat())
    }

    /// Characters that strings must escape or that take more than a byte.
    const CHARS: &[char] = &[
        'a', 'b', ' ', '"', '\\', '/', '\u{8}', '\u{c}', '\n', '\r', '\t', '\u{1}', '\u{1f}',
        '\u{7f}', 'é', '\u{2028}', '😀',
    ];

    /// The text of a JSON string: written by serde_json, or with escapes
    /// of its own.
    fn string_text() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(prop::sample::select(CHARS), 0..6)
                .prop_map(|c| serde_json::to_string(&c.into_iter().collect::<String>()).unwrap()),
            prop::sample::select(&[r#""a""#, r#""\u0061""#, r#""\ud83d\ude00""#, r#""\/""#][..])
                .prop_map(str::to_string),
        ]
    }

    /// A value of a few levels, with keys that repeat (also as escapes),
    /// any whitespace, and numbers of every form.
    fn json_text() -> impl Strategy<Value = String> {
        let space = || prop::sample::select(&["", " ", "\n", "\t ", "\r\n"][..]);
        let leaf = prop_oneof![
            prop::sample::select(
                &[
                    "null", "true", "false", "0", "-0", "1E+2", "2.5e-3", "1e308"
                ][..]
            )
            .prop_map(str::to_string),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            string_text(),
        ];
        leaf.prop_recursive(4, 32, 6, move |inner| {
            let item = (space(), inner, space()).prop_map(|(a, v, b)| format!("{a}{v}{b}"));
            prop_oneof![
                prop::collection::vec(item.clone(), 0..5)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec((string_text(), item), 0..5).prop_map(|members| {
                    let members: Vec<String> = members
                        .into_iter()
                        .map(|(k, v)| format!("{k}:{v}"))
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    /// A valid text with one token put in somewhere, or a stretch cut out:
    /// texts one mistake away from JSON.
    fn near_json_text() -> impl Strategy<Value = String> {
        (
            json_text(),
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            prop::sample::select(TOKENS),
            any::<bool>(),
        )
            .prop_map(|(text, at, until, token, insert)| {
                let boundaries: Vec<usize> = (0..=text.len())
                    .filter(|i| text.is_char_boundary(*i))
                    .collect();
                let a = boundaries[at.index(boundaries.len())];
                let b = boundaries[until.index(boundaries.len())];
                let (a, b) = (a.min(b), a.max(b));
                if insert {
                    format!("{}{token}{}", &text[..a], &text[a..])
                } else {
                    format!("{}{}", &text[..a], &text[b..])
                }
            })
    }

    /// A number whose digits follow the limit's for a while, then differ
    /// or stop, with its point and exponent anywhere: the boundary of
    /// "out of range".
    fn number_near_the_limit() -> impl Strategy<Value = String> {
        (
            1..=OVERFLOW_DIGITS.len() + 3,
            0..3u8,
            0..4usize,
            0..4usize,
            -3..4i32,
            any::<bool>(),
        )
            .prop_map(|(kept, change, leading, trailing, shift, negative)| {
                let mut digits: Vec<u8> = OVERFLOW_DIGITS.iter().copied().take(kept).collect();
                if let Some(last) = digits.last_mut() {
                    *last = match change {
                        0 => *last,
                        1 => b'0' + (*last - b'0' + 1) % 10,
                        _ => b'0' + (*last - b'0' + 9) % 10,
                    };
                }
                digits.extend(std::iter::repeat_n(b'0', trailing));
                let digits = String::from_utf8(digits).unwrap();
                let zeros = "0".repeat(leading);
                // 0.000ddd...e(309 + leading + shift)
                let exponent = 309 + leading as i32 + shift;
                let sign = if negative { "-" } else { "" };
                format!("{sign}0.{zeros}{digits}e{exponent}")
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn token_soup_reads_as_serde_json_reads_it(text in token_soup()) {
            check_json_reading(&text);
        }

        #[test]
        fn generated_json_reads_as_serde_json_reads_it(text in json_text()) {
            check_json_reading(&text);
        }

        #[test]
        fn json_with_one_mistake_reads_as_serde_json_reads_it(text in near_json_text()) {
            check_json_reading(&text);
        }

        #[test]
        fn deep_nesting_reads_as_serde_json_reads_it(
            opens in prop::collection::vec(any::<bool>(), 120..135),
        ) {
            let open: String = opens.iter().map(|o| if *o { "[" } else { r#"{"a":"# }).collect();
            let close: String = opens.iter().rev().map(|o| if *o { "]" } else { "}" }).collect();
            check_json_reading(&format!("{open}0{close}"));
        }

        #[test]
        fn numbers_near_the_limit_read_as_serde_json_reads_them(text in number_near_the_limit()) {
            check_json_reading(&text);
        }

        #[test]
        fn any_string_is_quoted_as_serde_json_quotes_it(text in any::<String>()) {
            let quoted = quoted(&text);
            prop_assert_eq!(&quoted, &serde_json::to_string(&text).unwrap());
            prop_assert_eq!(string(&quoted), Some(text));
        }
    }

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
