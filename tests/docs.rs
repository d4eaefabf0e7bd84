//! The documentation stays navigable and complete: every relative link in README.md
//! and docs/*.md reaches a file (and a heading, when it names one), every docs page is
//! on the README's map, and every key of examples/full.toml is in the configuration
//! reference under its table's heading.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// README.md and every page of docs/, as paths relative to the repository root.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| {
            p.strip_prefix(root())
                .expect("under the root")
                .to_path_buf()
        })
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The lines of a Markdown text outside fenced code blocks, with their numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push((n + 1, line));
        }
    }
    out
}

/// A heading line's level and text.
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    let rest = &line[level..];
    (level > 0 && level <= 6 && rest.starts_with(' ')).then(|| (level, rest.trim()))
}

/// GitHub's anchor for a heading: lower case, punctuation dropped except `-` and
/// `_`, spaces turned into `-`.
fn slug(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter(|&c| c.is_alphanumeric() || c == '-' || c == '_' || c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every anchor a page's headings give, with GitHub's `-1`, `-2`… for repeats.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = BTreeSet::new();
    for (_, line) in prose(text) {
        if let Some((_, title)) = heading(line) {
            let base = slug(title);
            let count = seen.entry(base.clone()).or_insert(0);
            out.insert(match *count {
                0 => base.clone(),
                n => format!("{base}-{n}"),
            });
            *count += 1;
        }
    }
    out
}

/// The line without its inline code spans (a `[x](y)` in code is not a link).
fn without_code(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The targets of a line's inline links and images: `[text](target)`.
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code(line);
    let mut out = Vec::new();
    let mut rest = line.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let mut depth = 1;
        let end = after.char_indices().find_map(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i)
        });
        let Some(end) = end else { break };
        // A title (`(path "title")`) is not part of the target.
        let target = after[..end].split_whitespace().next().unwrap_or("");
        out.push(target.trim_matches(['<', '>']).to_owned());
        rest = &after[end..];
    }
    out
}

#[test]
fn slugs_follow_github() {
    assert_eq!(
        slug("Dead letters come back: `hookgate replay`"),
        "dead-letters-come-back-hookgate-replay"
    );
    assert_eq!(slug("`[output.spool]`"), "outputspool");
    assert_eq!(slug("Limitations (for now)"), "limitations-for-now");
    assert_eq!(
        slug("max_event_age and in-flight"),
        "max_event_age-and-in-flight"
    );
    let repeated = anchors("# A\n## Notes\n```\n# not a heading\n```\n## Notes\n");
    assert_eq!(
        repeated.into_iter().collect::<Vec<_>>(),
        ["a", "notes", "notes-1"]
    );
    assert_eq!(
        link_targets("see [a](x.md#b) and ![img](p.png) but not `[c](d)`"),
        ["x.md#b", "p.png"]
    );
}

#[test]
fn every_relative_link_reaches_a_file_and_a_heading() {
    let root = root();
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = read(&root.join(&page));
        let dir = page.parent().unwrap_or(Path::new(""));
        for (n, line) in prose(&text) {
            for target in link_targets(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
                let file = if file.is_empty() {
                    page.clone()
                } else {
                    dir.join(file)
                };
                let at = format!("{}:{n}: link `{target}`", page.display());
                let path = root.join(&file);
                if !path.exists() {
                    broken.push(format!("{at}: {} does not exist", file.display()));
                    continue;
                }
                if anchor.is_empty() {
                    continue;
                }
                if path.extension().is_none_or(|e| e != "md") {
                    broken.push(format!("{at}: an anchor into a file that is not Markdown"));
                    continue;
                }
                if !anchors(&read(&path)).contains(anchor) {
                    broken.push(format!(
                        "{at}: no heading of {} has the anchor #{anchor}",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(checked > 0, "no relative link found: is the parser broken?");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_docs_page_opens_with_a_title_and_is_on_the_readme_map() {
    let readme = read(&root().join("README.md"));
    let linked: BTreeSet<String> = prose(&readme)
        .into_iter()
        .flat_map(|(_, line)| link_targets(line))
        .map(|t| t.split('#').next().unwrap_or("").to_owned())
        .collect();
    let mut problems = Vec::new();
    for page in pages().into_iter().skip(1) {
        let name = page.display().to_string();
        if !linked.contains(&name) {
            problems.push(format!("README.md does not link {name}"));
        }
        let text = read(&root().join(&page));
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        if !lines.next().is_some_and(|l| l.starts_with("# ")) {
            problems.push(format!("{name} does not open with a `# ` title"));
        }
        let first = lines.next().unwrap_or("");
        if first.starts_with('#') || first.starts_with("```") || first.starts_with('|') {
            problems.push(format!(
                "{name}: the title is not followed by a paragraph saying what the page covers"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A table written in a TOML text (`[output.spool]`, `[[source]]`): its path and the
/// header as written.
struct Header {
    path: Vec<String>,
    written: String,
}

/// The tables of a TOML text as written in it, in order.
fn table_headers(text: &str) -> Vec<Header> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('['))
        .filter_map(|l| {
            let written = &l[..=l.rfind(']')?];
            let path = written.trim_matches(['[', ']']).trim();
            Some(Header {
                path: path.split('.').map(|s| s.trim().to_owned()).collect(),
                written: written.to_owned(),
            })
        })
        .collect()
}

/// Every key of a TOML table as its path; arrays of tables go under their name.
fn key_paths(prefix: &[String], table: &toml::Table, out: &mut BTreeSet<Vec<String>>) {
    for (key, value) in table {
        let mut path = prefix.to_vec();
        path.push(key.clone());
        match value {
            toml::Value::Table(inner) => key_paths(&path, inner, out),
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(inner) = item {
                        key_paths(&path, inner, out);
                    }
                }
            }
            _ => {}
        }
        out.insert(path);
    }
}

/// A key path as dotted TOML (`output.librdkafka."linger.ms"`).
fn dotted(path: &[String]) -> String {
    path.iter()
        .map(|s| {
            if s.contains('.') {
                format!("\"{s}\"")
            } else {
                s.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The lines under the first heading that names `header`, up to the next heading of
/// the same or a higher level.
fn section<'a>(page: &[(usize, &'a str)], header: &str) -> Option<Vec<&'a str>> {
    let start = page
        .iter()
        .position(|(_, l)| heading(l).is_some_and(|(_, title)| title.contains(header)))?;
    let (level, _) = heading(page[start].1)?;
    Some(
        page[start + 1..]
            .iter()
            .map(|(_, l)| *l)
            .take_while(|l| heading(l).is_none_or(|(deeper, _)| deeper > level))
            .collect(),
    )
}

#[test]
fn every_key_of_the_full_example_is_in_the_configuration_reference() {
    let text = read(&root().join("examples/full.toml"));
    let parsed: toml::Table = text.parse().expect("examples/full.toml is TOML");
    let headers = table_headers(&text);
    let mut keys = BTreeSet::new();
    key_paths(&[], &parsed, &mut keys);
    let reference = read(&root().join("docs/configuration.md"));
    let page = prose(&reference);

    let mut missing = Vec::new();
    for header in &headers {
        if section(&page, &header.written).is_none() {
            missing.push(format!(
                "table {}: no heading of docs/configuration.md names it",
                header.written
            ));
        }
    }
    for key in &keys {
        if headers.iter().any(|h| &h.path == key) {
            continue;
        }
        // The innermost table written in the file that holds this key.
        let Some(table) = headers
            .iter()
            .filter(|h| key.len() > h.path.len() && key.starts_with(&h.path))
            .max_by_key(|h| h.path.len())
        else {
            missing.push(format!("{}: a key outside any table", dotted(key)));
            continue;
        };
        let Some(lines) = section(&page, &table.written) else {
            continue; // reported above
        };
        let leaf = key.last().map(String::as_str).unwrap_or_default();
        let documented = lines
            .iter()
            .any(|l| l.contains(&format!("`{leaf}`")) || l.contains(&format!("`\"{leaf}\"`")));
        if !documented {
            missing.push(format!(
                "{}: `{leaf}` is not documented under the heading naming {} in \
                 docs/configuration.md",
                dotted(key),
                table.written
            ));
        }
    }
    assert!(
        keys.len() > 30,
        "only {} keys found in full.toml",
        keys.len()
    );
    assert!(missing.is_empty(), "undocumented:\n{}", missing.join("\n"));
}
