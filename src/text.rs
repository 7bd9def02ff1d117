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
    const ROOM: usize = MAX_EXCERPT_BYTES - "...".len();
    let mut escaped = String::new();
    // Where to cut, if it comes to that: after the last whole unit that
    // leaves room for `...`, never inside an escape.
    let mut cut = 0;
    let mut chars = item.chars();
    for c in chars.by_ref() {
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
        if escaped.len() <= ROOM {
            cut = escaped.len();
        }
        if escaped.len() > MAX_EXCERPT_BYTES {
            break;
        }
    }
    if escaped.len() > MAX_EXCERPT_BYTES || chars.next().is_some() {
        escaped.truncate(cut);
        escaped.push_str("...");
    }
    escaped
}

/// `items` with `separator` between them. One function for every list
/// the policy writes: `str::join` is instantiated anew for each element
/// type, 1.3 KB of module each.
pub fn join<'a>(items: impl IntoIterator<Item = &'a str>, separator: &str) -> String {
    let mut text = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            text.push_str(separator);
        }
        text.push_str(item);
    }
    text
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

    #[rstest]
    #[case::leading_space(&format!(" {}", "a".repeat(100)))]
    #[case::escapes(&"\u{a0}".repeat(40))]
    #[case::backslashes(&"\\".repeat(60))]
    fn as_written_cuts_between_whole_units(#[case] item: &str) {
        let written = as_written(item);
        assert!(written.len() <= MAX_EXCERPT_BYTES, "{}", written.len());
        let kept = written.strip_suffix("...").expect("cut");
        assert!(kept.len() >= MAX_EXCERPT_BYTES - 3 - 8, "{written}");
        // What is kept is a whole prefix of the whole escaping.
        assert!(as_written_whole(item).starts_with(kept), "{written}");
    }

    /// The escaping with no bound, for comparison.
    fn as_written_whole(item: &str) -> String {
        item.chars()
            .map(|c| match c {
                '"' | '\\' => format!("\\{c}"),
                ' '..='~' => c.to_string(),
                c => format!("\\u{{{:x}}}", u32::from(c)),
            })
            .collect()
    }

    #[test]
    fn as_written_is_bounded_however_long_the_item() {
        let written = as_written(&"\n".repeat(100_000));
        assert!(written.len() <= MAX_EXCERPT_BYTES, "{}", written.len());
        assert!(written.starts_with("\\n\\n"), "{written}");
    }

    #[rstest]
    #[case::none(&[], "")]
    #[case::one(&["a"], "a")]
    #[case::three(&["a", "b", "c"], "a, b, c")]
    #[case::empty_items(&["", ""], ", ")]
    fn join_puts_the_separator_between_items(#[case] items: &[&str], #[case] expected: &str) {
        assert_eq!(join(items.iter().copied(), ", "), expected);
    }

    #[test]
    fn excerpt_bounds_bytes_not_characters() {
        let cut = excerpt(&"é".repeat(500));
        assert!(cut.len() <= MAX_EXCERPT_BYTES, "{}", cut.len());
        assert!(cut.ends_with("..."));
    }
}
