//! Bounding text a person reads: user input and host output are cut where
//! a message quotes them, so no input turns an answer into a wall of text.

/// Longest excerpt of user input or host output quoted in a message.
const MAX_EXCERPT_BYTES: usize = 80;

/// `text` in at most `max` bytes: whole when it fits, else cut after the
/// last whole word that fits and marked with `...`.
pub fn fit(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let room = max.saturating_sub(3);
    let mut cut = room;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    // Never half a word: back up to the last space, if there is one.
    if let Some(space) = text[..cut].rfind(' ') {
        cut = space;
    }
    format!("{}...", text[..cut].trim_end())
}

/// An excerpt of `text` for a message: its first line, trimmed, at most
/// [`MAX_EXCERPT_BYTES`].
pub fn excerpt(text: &str) -> String {
    fit(text.lines().next().unwrap_or("").trim(), MAX_EXCERPT_BYTES)
}

/// An item of user input for a message, as it was written, nothing
/// trimmed: an ASCII control character, `"` and `\` escaped (`\n`, `\"`)
/// and every non-ASCII character too (`\u{a0}` for a non-breaking
/// space), so an item that fails never reads as a valid one; at most
/// [`MAX_EXCERPT_BYTES`]. Not `str::escape_debug`, whose Unicode tables
/// would cost the module 1.4 KB: a valid item is ASCII anyway.
pub fn as_written(item: &str) -> String {
    let mut escaped = String::new();
    for c in item.chars() {
        // Room to mark the cut: no item becomes a wall of text.
        if escaped.len() > MAX_EXCERPT_BYTES {
            break;
        }
        match c {
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push_str("\\t"),
            '\r' => escaped.push_str("\\r"),
            '"' | '\\' => {
                escaped.push('\\');
                escaped.push(c);
            }
            ' '..='~' => escaped.push(c),
            _ => escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    fit(&escaped, MAX_EXCERPT_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::short("Name does not resolve", "Name does not resolve")]
    #[case::first_line_only("failed\nstack backtrace:\n  0: foo", "failed")]
    #[case::trimmed("  spaced  ", "spaced")]
    #[case::empty("", "")]
    fn excerpt_keeps_the_first_line(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(excerpt(input), expected);
    }

    #[rstest]
    #[case::fits("one two", 7, "one two")]
    #[case::cut_between_words("one two three", 12, "one two...")]
    #[case::one_long_word("abcdefghij", 8, "abcde...")]
    #[case::multibyte_boundary("ééééé", 8, "éé...")]
    fn fit_cuts_whole_words_within_bytes(
        #[case] text: &str,
        #[case] max: usize,
        #[case] expected: &str,
    ) {
        assert_eq!(fit(text, max), expected);
        assert!(fit(text, max).len() <= max);
    }

    #[rstest]
    #[case::newline("host.docker.internal\n", "host.docker.internal\\n")]
    #[case::leading_space(" host.docker.internal", " host.docker.internal")]
    #[case::leading_nbsp("\u{a0}host.docker.internal", "\\u{a0}host.docker.internal")]
    #[case::quote("a\"b", "a\\\"b")]
    #[case::plain("host.docker.internal", "host.docker.internal")]
    #[case::zero_width_space("a\u{200b}b", "a\\u{200b}b")]
    #[case::control("a\u{7f}b\u{1}", "a\\u{7f}b\\u{1}")]
    fn as_written_shows_the_item_as_it_was(#[case] item: &str, #[case] expected: &str) {
        assert_eq!(as_written(item), expected);
    }

    #[test]
    fn as_written_is_bounded_however_long_the_item() {
        let written = as_written(&"\n".repeat(100_000));
        assert!(written.len() <= MAX_EXCERPT_BYTES, "{}", written.len());
        assert!(written.starts_with("\\n\\n"), "{written}");
    }

    #[test]
    fn excerpt_bounds_bytes_not_characters() {
        let cut = excerpt(&"é".repeat(500));
        assert!(cut.len() <= MAX_EXCERPT_BYTES, "{}", cut.len());
        assert!(cut.ends_with("..."));
    }
}
