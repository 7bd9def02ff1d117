//! The test that lets nearly every request skip parsing: can the payload
//! hold one of a few strings at all?

/// Whether the JSON text may hold one of `needles`: it has the bytes of one,
/// or a `\u` escape of a character of one. No allocation and no parse; a
/// false positive only costs the parse it would have saved.
pub fn may_contain_any(json: &str, needles: &[&str]) -> bool {
    // core's substring search (two-way, linear), which the module has
    // anyway, rather than memchr's faster one, which would take the module
    // over its 300 KB budget.
    needles.iter().any(|needle| json.contains(needle))
        || json.match_indices('\\').any(|(i, _)| {
            escaped_char(&json.as_bytes()[i + 1..])
                .is_some_and(|c| needles.iter().any(|needle| needle.as_bytes().contains(&c)))
        })
}

/// The ASCII character a `uXXXX` escape body stands for, if any.
fn escaped_char(after_backslash: &[u8]) -> Option<u8> {
    let hex = after_backslash.strip_prefix(b"u")?.get(..4)?;
    let hex = std::str::from_utf8(hex).ok()?;
    u8::try_from(u16::from_str_radix(hex, 16).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const HOST_GATEWAY: &str = "host-gateway";

    #[rstest]
    #[case::literal(r#"{"ip":"host-gateway"}"#, true)]
    #[case::in_a_key(r#"{"host-gateway":1}"#, true)]
    #[case::escaped_hyphen(r#""host\u002dgateway""#, true)]
    #[case::escaped_letter(r#""\u0068ost-gateway""#, true)]
    #[case::escaped_upper_hex(r#""\u002Dx""#, true)]
    #[case::html_escape_only(r#"{"a":"\u003cb\u003e","b":"\n"}"#, false)]
    #[case::non_ascii_escape(r#""\u00e9\ud83d\ude00""#, false)]
    #[case::truncated_escape(r#""\u00"#, false)]
    #[case::near_miss(r#"{"ip":"host-gatewa"}"#, false)]
    #[case::uppercase(r#"{"ip":"HOST-GATEWAY"}"#, false)]
    #[case::empty("", false)]
    fn finds_host_gateway(#[case] json: &str, #[case] expected: bool) {
        assert_eq!(may_contain_any(json, &[HOST_GATEWAY]), expected);
    }

    #[test]
    fn finds_any_of_several() {
        let json = r#"{"settings":{"injectHostnames":["h"]}}"#;
        assert!(may_contain_any(json, &[HOST_GATEWAY, "injectHostnames"]));
        assert!(!may_contain_any(json, &[HOST_GATEWAY]));
        assert!(may_contain_any(
            r#"{"\u0069":1}"#,
            &[HOST_GATEWAY, "injectHostnames"]
        ));
    }

    #[test]
    fn never_misses_a_string_that_decodes_to_host_gateway() {
        // Every way to write each character: itself, \u00xx, \u00XX.
        for (i, c) in HOST_GATEWAY.char_indices() {
            for escaped in [
                format!("\\u{:04x}", c as u32),
                format!("\\u{:04X}", c as u32),
            ] {
                let text = format!(
                    "\"{}{}{}\"",
                    &HOST_GATEWAY[..i],
                    escaped,
                    &HOST_GATEWAY[i + 1..]
                );
                assert_eq!(serde_json::from_str::<String>(&text).unwrap(), HOST_GATEWAY);
                assert!(may_contain_any(&text, &[HOST_GATEWAY]), "{text}");
            }
        }
    }
}
