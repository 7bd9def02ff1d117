//! The docs stay true: every link between README.md, CONTRIBUTING.md and
//! docs/ reaches a file that exists and a heading it has. README.md links
//! to the repository's files by absolute URL only: `kwctl annotate -u
//! README.md` embeds it in the module, and Artifact Hub shows it there,
//! where a relative link breaks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the repository's files are published (metadata.yml's
/// `io.kubewarden.policy.url`).
const REPOSITORY: &str = "https://github.com/host-gateway-policy/host-gateway-policy";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, CONTRIBUTING.md and every page of docs/, relative to the
/// root.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    if root().join("CONTRIBUTING.md").exists() {
        pages.push(PathBuf::from("CONTRIBUTING.md"));
    }
    if let Ok(entries) = std::fs::read_dir(root().join("docs")) {
        for entry in entries {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".md") {
                pages.push(Path::new("docs").join(name));
            }
        }
    }
    pages.sort();
    pages
}

/// The text outside fenced code blocks and inline code.
fn prose(markdown: &str) -> String {
    let mut text = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Inline code holds no link: drop what lies between backticks.
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                text.push_str(part);
            }
        }
        text.push('\n');
    }
    text
}

/// Every link target in the prose: `[text](target)`.
fn links(markdown: &str) -> Vec<String> {
    let text = prose(markdown);
    let mut links = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            links.push(rest[..end].trim().to_string());
        }
    }
    links
}

/// The anchors GitHub gives a page's headings: lowercase, punctuation
/// dropped but `-` and `_`, spaces as `-`, repeats numbered.
fn anchors(markdown: &str) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let Some(heading) = line.strip_prefix('#').filter(|_| !fenced) else {
            continue;
        };
        let title = heading.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let count = seen.entry(slug.clone()).or_insert(0);
        anchors.push(match *count {
            0 => slug.clone(),
            n => format!("{slug}-{n}"),
        });
        *count += 1;
    }
    anchors
}

/// Why `target`, linked from `page`, does not resolve; `None` when it
/// does or lies outside the repository.
fn broken(page: &Path, target: &str) -> Option<String> {
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        page.to_path_buf()
    } else if let Some(local) = path.strip_prefix(REPOSITORY).and_then(|p| {
        p.strip_prefix("/blob/main/")
            .or(p.strip_prefix("/tree/main/"))
    }) {
        PathBuf::from(local)
    } else if path.contains("://") || path.starts_with("mailto:") {
        return None;
    } else if page == Path::new("README.md") {
        return Some("a relative link in README.md, which Artifact Hub breaks".into());
    } else {
        page.parent().unwrap_or(Path::new("")).join(path)
    };
    let full = root().join(&file);
    if !full.exists() {
        return Some(format!("{} does not exist", file.display()));
    }
    let anchor = anchor?;
    let text = std::fs::read_to_string(&full).ok()?;
    (!anchors(&text).iter().any(|a| a == anchor))
        .then(|| format!("{} has no heading #{anchor}", file.display()))
}

#[test]
fn every_link_reaches_a_page_and_a_heading() {
    let mut errors = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(root().join(&page)).unwrap();
        for target in links(&text) {
            checked += 1;
            if let Some(why) = broken(&page, &target) {
                errors.push(format!("{}: ({target}): {why}", page.display()));
            }
        }
    }
    assert!(checked > 10, "only {checked} links read");
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_checker_knows_githubs_anchors_and_notices_a_broken_link() {
    let page = "# Reach a Service under a public name (`dns:` targets)\n\
                ## Make `host.docker.internal` work in every pod\n\
                ## Why\n## Why\n```\n# not a heading\n```\n";
    assert_eq!(
        anchors(page),
        [
            "reach-a-service-under-a-public-name-dns-targets",
            "make-hostdockerinternal-work-in-every-pod",
            "why",
            "why-1",
        ]
    );
    assert_eq!(
        links("see [a](#why) and `[b](#code)`\n```\n[c](#fenced)\n```\n"),
        ["#why"]
    );
    let readme = Path::new("README.md");
    assert!(broken(readme, "#no-such-heading").is_some());
    assert!(broken(readme, "docs/x.md").is_some(), "relative in README");
    assert!(broken(readme, &format!("{REPOSITORY}/blob/main/NO_SUCH.md")).is_some());
    assert_eq!(broken(readme, "#why"), None);
    assert_eq!(broken(readme, "https://kubewarden.io"), None);
}

/// The text of the tests, as the messages they assert read: Rust string
/// continuations joined, escaped quotes and backslashes unescaped.
fn test_sources() -> String {
    let mut files = vec![
        root().join("e2e.bats"),
        root().join("tests/cluster/cluster.bats"),
    ];
    for dir in ["tests", "src"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut text = String::new();
    for file in files {
        let source = std::fs::read_to_string(file).unwrap();
        let mut lines = source.lines().peekable();
        while let Some(line) = lines.next() {
            match line.strip_suffix('\\') {
                // A Rust string goes on after the next line's indentation.
                Some(head) => {
                    text.push_str(head);
                    if let Some(next) = lines.peek_mut() {
                        *next = next.trim_start();
                    }
                }
                None => {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    text.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// The message a troubleshooting row quotes: its first code span, without
/// kubectl's `Warning: `.
fn quoted_message(cell: &str) -> Option<&str> {
    let start = cell
        .find('`')
        .filter(|start| cell[..*start].trim().is_empty())?;
    let ticks = cell[start..].len() - cell[start..].trim_start_matches('`').len();
    let fence = &cell[start..start + ticks];
    let rest = &cell[start + ticks..];
    let message = rest[..rest.find(fence)?].trim();
    Some(message.strip_prefix("Warning: ").unwrap_or(message))
}

#[test]
fn every_message_in_troubleshooting_is_one_a_test_asserts() {
    // Not the policy's words: the API server's and policy-server's, which
    // the cluster tests and FACTS.md record.
    const OTHERS: [&str; 3] = [
        "spec.hostAliases[0].ip",
        "Policy execution interrupted",
        "Request rejected by policy",
    ];
    let sources = test_sources();
    let page = std::fs::read_to_string(root().join("docs/troubleshooting.md")).unwrap();
    let mut missing = Vec::new();
    let mut checked = 0;
    for row in page
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| message"))
    {
        let cell = row[1..].split(" | ").next().unwrap_or_default();
        let Some(message) = quoted_message(cell) else {
            continue;
        };
        if OTHERS.iter().any(|other| message.starts_with(other)) {
            continue;
        }
        checked += 1;
        for fragment in message.split('…').map(str::trim).filter(|f| f.len() > 3) {
            let fragment = fragment.trim_end_matches([',', ';']).trim();
            if !sources.contains(fragment) {
                missing.push(fragment.to_string());
            }
        }
    }
    assert!(checked > 20, "only {checked} messages read");
    assert!(
        missing.is_empty(),
        "quoted, but asserted by no test: {missing:#?}"
    );
}

/// How a shell block says where it runs, on the line before it: offline
/// (e2e.bats runs it as written), ci (the test command, which CI runs),
/// cluster, or registry (it pushes to or pulls from one).
const RUNS: [&str; 4] = ["offline", "ci", "cluster", "registry"];

#[test]
fn every_shell_block_says_where_it_runs() {
    let mut unmarked = Vec::new();
    let mut offline = 0;
    for page in pages() {
        let text = std::fs::read_to_string(root().join(&page)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim() != "```console" {
                continue;
            }
            let marker = i
                .checked_sub(1)
                .map(|j| lines[j].trim())
                .and_then(|prev| prev.strip_prefix("<!-- runs: "))
                .and_then(|rest| rest.strip_suffix(" -->"));
            match marker {
                Some(kind) if RUNS.contains(&kind) => offline += usize::from(kind == "offline"),
                _ => unmarked.push(format!("{}:{}", page.display(), i + 1)),
            }
        }
    }
    assert!(
        unmarked.is_empty(),
        "shell blocks that say nothing of where they run: {unmarked:?}"
    );
    // README's `make run` and kwctl run, CONTRIBUTING's real-DNS run.
    assert!(offline >= 3, "{offline} offline blocks");
}
