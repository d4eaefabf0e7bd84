//! The import graph of `src/`, checked: no module imports one of a higher layer,
//! no two top-level modules import each other (even within a layer), and no two
//! sibling files import each other. Read from the source text with `std` only, so it
//! runs with the unit tests and names the file and the import that broke the rule.
//! Test code (files named `tests.rs`, items under `#[cfg(test)]`) is not counted:
//! a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every top-level module of the library, by layer, bottom first. A module may
/// import its own layer's modules (without a cycle) and any below; never above.
const LAYERS: &[(&str, u8)] = &[
    // 0, the ground: plain values and process-wide plumbing that every component
    // shares (secrets, bounded durations, form bodies, metrics and log events, the
    // canonical event and its dead letter). Knows no component.
    ("secret", 0),
    ("settings", 0),
    ("form", 0),
    ("telemetry", 0),
    ("event", 0),
    // 1, the components: each does one job on ground values and owns its own
    // configuration section. Mapping may read verify's scheme specs, because a
    // mapping file declares its provider's signature scheme.
    ("verify", 1),
    ("mapping", 1),
    ("dedup", 1),
    ("output", 1),
    // 2, the decisions: the engine turns mapped items into a decision; a source
    // is a provider's mapping, keys and policy compiled for the engine.
    ("engine", 2),
    ("source", 2),
    // 3, the pipeline: the gateway puts sources, engine, dedup and output
    // together and knows nothing of HTTP or of the configuration file. The
    // fixture runner drives the engine over sample deliveries the same way, for
    // `hookgate check`, the load generator and the tests.
    ("gateway", 3),
    ("fixture", 3),
    // 4, the front ends on a running gateway: the HTTP listener (which emits
    // each answered delivery to an observer it does not know), replay of dead
    // letters, the admin pages and the inspector (`admin/inspector`) that observes.
    ("http", 4),
    ("replay", 4),
    ("admin", 4),
    // 5, the composition root: the only module that reads the whole configuration
    // file, so the only one that may know every section's type, and the one that
    // assembles the gateway from them.
    ("config", 5),
    // 6, the programs: the command line and the load generator, which load a
    // configuration and run what it assembles.
    ("cli", 6),
    ("loadgen", 6),
];

/// Sibling cycles left on purpose, each with why and when it goes: `(directory
/// under src/, reason)`. An entry that no longer matches a cycle fails the test,
/// so it is removed when its cycle is.
const KNOWN_SIBLING_CYCLES: &[(&str, &str)] = &[];

/// One `.rs` file of the library, its code without comments, literals or test
/// items, and the module path it defines (`["verify", "jwt"]`).
struct File {
    rel: String,
    module: Vec<String>,
    code: String,
}

/// A path the code names, resolved to an absolute module path, and where.
#[derive(Clone)]
struct Use {
    path: Vec<String>,
    line: usize,
    text: String,
    in_use_statement: bool,
    /// The name a `use` binds (the last segment, or its alias).
    binds: Option<String>,
}

#[test]
fn imports_follow_the_layers_and_siblings_do_not_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = read_tree(&src);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let uses: Vec<Vec<Use>> = files.iter().map(|f| uses_of(f, &modules)).collect();
    let mut problems = Vec::new();
    layer_violations(&files, &uses, &mut problems);
    sibling_cycles(&files, &uses, &modules, &mut problems);
    assert!(
        problems.is_empty(),
        "the import graph breaks its rules:\n  {}",
        problems.join("\n  ")
    );
}

/// Rule (a): no import of a higher layer, every module placed, no cycle between
/// top-level modules.
fn layer_violations(files: &[File], uses: &[Vec<Use>], problems: &mut Vec<String>) {
    let layer = |m: &str| LAYERS.iter().find(|(n, _)| *n == m).map(|(_, l)| *l);
    let mut edges = Edges::new();
    let mut reported = BTreeSet::new();
    for (f, us) in files.iter().zip(uses) {
        let Some(top) = f.module.first() else {
            continue;
        };
        let Some(from) = layer(top) else {
            problems.push(format!(
                "src/{}: top-level module `{top}` is not in the layer table of tests/layers.rs: place it",
                f.rel
            ));
            continue;
        };
        for u in us {
            let to = &u.path[0];
            if to == top || !LAYERS.iter().any(|(n, _)| n == to) {
                continue;
            }
            let evidence = format!("src/{}:{}: `{}`", f.rel, u.line, u.text);
            edges
                .entry(top.clone())
                .or_default()
                .entry(to.clone())
                .or_insert_with(|| evidence.clone());
            let first_in_file = reported.insert((f.rel.clone(), to.clone()));
            if let Some(l) = layer(to).filter(|l| *l > from && first_in_file) {
                problems.push(format!(
                    "{evidence}: `{top}` (layer {from}) imports `{to}` (layer {l}), a higher layer"
                ));
            }
        }
    }
    for lines in cycles(&edges) {
        problems.push(format!(
            "top-level modules import each other: {}",
            lines.join("; ")
        ));
    }
}

/// Rule (b): inside each module, its children and its own file (`mod.rs`) form a
/// graph: a child naming a sibling (or an item re-exported from one), a child
/// naming an item *defined* in `mod.rs`, and `mod.rs` using a child's items in its
/// own code (re-exports alone do not count). No cycle is allowed in it.
fn sibling_cycles(
    files: &[File],
    uses: &[Vec<Use>],
    modules: &BTreeSet<Vec<String>>,
    problems: &mut Vec<String>,
) {
    let mut known: BTreeSet<&str> = BTreeSet::new();
    for parent in modules.iter().filter(|m| !m.is_empty()) {
        let children: BTreeSet<String> = modules
            .iter()
            .filter(|m| m.len() == parent.len() + 1 && m.starts_with(parent))
            .map(|m| m[parent.len()].clone())
            .collect();
        if children.is_empty() {
            continue;
        }
        const OWN: &str = "(mod.rs)";
        let own = files.iter().position(|f| &f.module == parent);
        let defined = own.map(|i| definitions(&files[i].code)).unwrap_or_default();
        // What the parent's `use` statements bind, resolved: re-exports of children.
        let bound: BTreeMap<String, Vec<String>> = own
            .map(|i| {
                uses[i]
                    .iter()
                    .filter(|u| u.in_use_statement)
                    .filter_map(|u| Some((u.binds.clone()?, u.path.clone())))
                    .collect()
            })
            .unwrap_or_default();
        let child_of = |p: &[String]| -> Option<String> {
            (p.len() > parent.len() && p.starts_with(parent) && children.contains(&p[parent.len()]))
                .then(|| p[parent.len()].clone())
        };
        let mut edges = Edges::new();
        let mut add = |a: &str, b: String, evidence: String| {
            if a != b {
                edges
                    .entry(a.to_owned())
                    .or_default()
                    .entry(b)
                    .or_insert(evidence);
            }
        };
        for (f, us) in files.iter().zip(uses) {
            if &f.module == parent {
                let body = body_words(&f.code);
                for u in us {
                    let Some(c) = child_of(&u.path) else { continue };
                    let used = !u.in_use_statement
                        || u.binds.as_ref().is_some_and(|b| body.contains(b))
                        || u.path.last().is_some_and(|l| l == "*");
                    if used {
                        add(OWN, c, format!("src/{}:{}: `{}`", f.rel, u.line, u.text));
                    }
                }
                continue;
            }
            let Some(me) = child_of(&f.module) else {
                continue;
            };
            for u in us {
                let evidence = format!("src/{}:{}: `{}`", f.rel, u.line, u.text);
                if let Some(c) = child_of(&u.path) {
                    add(&me, c, evidence);
                    continue;
                }
                if u.path.len() <= parent.len() || !u.path.starts_with(parent) {
                    continue;
                }
                let name = &u.path[parent.len()];
                if name == "*" || defined.contains(name) {
                    add(&me, OWN.to_owned(), evidence);
                } else if let Some(c) = bound.get(name).and_then(|p| child_of(p)) {
                    add(
                        &me,
                        c,
                        format!("{evidence} (re-exported from `{}`)", bound[name].join("::")),
                    );
                }
            }
        }
        let dir = parent.join("/");
        for lines in cycles(&edges) {
            if let Some((d, _)) = KNOWN_SIBLING_CYCLES.iter().find(|(d, _)| *d == dir) {
                known.insert(d);
                continue;
            }
            problems.push(format!(
                "sibling files in src/{dir}/ import each other:\n      {}",
                lines.join("\n      ")
            ));
        }
    }
    for (d, why) in KNOWN_SIBLING_CYCLES {
        if !known.contains(d) {
            problems.push(format!(
                "src/{d}/ has no sibling cycle any more: remove its entry from \
                 KNOWN_SIBLING_CYCLES ({why})"
            ));
        }
    }
}

/// Edges of an import graph, each with the first import that makes it.
type Edges = BTreeMap<String, BTreeMap<String, String>>;

/// Every cycle of the graph (each strongly connected component of more than one
/// node), as its edges with their evidence. The graphs have a few dozen nodes, so
/// reachability from each node suffices.
fn cycles(edges: &Edges) -> Vec<Vec<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for m in edges.get(&n).into_iter().flat_map(BTreeMap::keys) {
                if seen.insert(m.clone()) {
                    stack.push(m.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|n| (n, reach(n))).collect();
    let mut components: Vec<BTreeSet<String>> = Vec::new();
    for (n, r) in &reachable {
        if !r.contains(*n) || components.iter().any(|c| c.contains(*n)) {
            continue;
        }
        components.push(
            r.iter()
                .filter(|m| reachable.get(m).is_some_and(|rm| rm.contains(*n)))
                .cloned()
                .collect(),
        );
    }
    components
        .iter()
        .map(|c| {
            c.iter()
                .flat_map(|a| {
                    edges[a]
                        .iter()
                        .filter(|(b, _)| c.contains(*b))
                        .map(move |(b, evidence)| format!("{a} -> {b}: {evidence}"))
                })
                .collect()
        })
        .collect()
}

/// The library's source files, test files left out: `tests.rs`, and any module a
/// `#[cfg(test)] mod name;` declares.
fn read_tree(src: &Path) -> Vec<File> {
    let mut paths = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for e in entries {
            let p = e.unwrap_or_else(|e| panic!("{e}")).path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    let mut files = Vec::new();
    let mut test_modules: BTreeSet<Vec<String>> = BTreeSet::new();
    for p in &paths {
        let rel = p
            .strip_prefix(src)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/");
        // The binary is its own crate: it reaches the library as `hookgate::`.
        if rel == "main.rs" || rel.ends_with("/tests.rs") || rel == "tests.rs" {
            continue;
        }
        let module = module_path(&rel);
        let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let (code, tests) = strip_test_items(&code_only(&text));
        for t in tests {
            let mut m = module.clone();
            m.push(t);
            test_modules.insert(m);
        }
        files.push(File { rel, module, code });
    }
    files.retain(|f| !test_modules.iter().any(|t| f.module.starts_with(t)));
    files
}

fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The text with comments, string and character literals blanked (line breaks
/// kept), so neither a doc comment nor a message is read as an import.
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        if at(i) == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
                out.push(' ');
            }
        } else if at(i) == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if i >= c.len() {
                    break;
                }
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if at(i) == 'r'
            && (at(i + 1) == '"' || at(i + 1) == '#')
            && (i == 0 || !ident(at(i - 1)) || (at(i - 1) == 'b' && (i < 2 || !ident(at(i - 2)))))
        {
            // A raw string: r"…", r#"…"#, br#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            if at(j) != '"' {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#') {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &ch in &c[i..j.min(c.len())] {
                blank(&mut out, ch);
            }
            i = j;
        } else if at(i) == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            for &ch in &c[i..(j + 1).min(c.len())] {
                blank(&mut out, ch);
            }
            i = j + 1;
        } else if at(i) == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), or a lifetime ('a).
            let end = if at(i + 1) == '\\' {
                let mut j = i + 2;
                while j < c.len() && c[j] != '\'' {
                    j += 1;
                }
                Some(j)
            } else if at(i + 2) == '\'' {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(j) => {
                    for &ch in &c[i..(j + 1).min(c.len())] {
                        blank(&mut out, ch);
                    }
                    i = j + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Blanks every item under `#[cfg(test)]` (up to its `;`, or its closing brace),
/// and names the modules such items declare (`#[cfg(test)] mod tests;`).
fn strip_test_items(code: &str) -> (String, Vec<String>) {
    const ATTR: &str = "#[cfg(test)]";
    let mut c: Vec<char> = code.chars().collect();
    let mut modules = Vec::new();
    let s: String = c.iter().collect();
    let starts: Vec<usize> = s
        .match_indices(ATTR)
        .map(|(b, _)| s[..b].chars().count())
        .collect();
    for start in starts {
        if c[start] != '#' {
            continue; // already blanked inside an earlier test item
        }
        let mut i = start + ATTR.chars().count();
        let (mut paren, mut end) = (0i32, None);
        while i < c.len() {
            match c[i] {
                '(' | '[' => paren += 1,
                ')' | ']' => paren -= 1,
                ';' if paren == 0 => {
                    end = Some(i);
                    break;
                }
                '{' if paren == 0 => {
                    let mut depth = 0;
                    while i < c.len() {
                        match c[i] {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    end = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let end = end.unwrap_or(c.len() - 1).min(c.len() - 1);
        let item: String = c[start + ATTR.chars().count()..=end].iter().collect();
        let words: Vec<&str> = item
            .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        if let [.., "mod", name] = words.as_slice() {
            if item.trim_end().ends_with(';') {
                modules.push((*name).to_owned());
            }
        }
        for ch in &mut c[start..=end] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    }
    (c.into_iter().collect(), modules)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Sep,
    Open,
    Close,
    Comma,
    Star,
    Semi,
    Other(char),
}

fn tokens(code: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(c[start..i].iter().collect()), line));
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push((Tok::Sep, line));
            i += 2;
        } else {
            out.push((
                match ch {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    ',' => Tok::Comma,
                    '*' => Tok::Star,
                    ';' => Tok::Semi,
                    other => Tok::Other(other),
                },
                line,
            ));
            i += 1;
        }
    }
    out
}

/// Parses a path or a use tree at `t[*i]`: every full path it names, with the
/// name each binds (for `use`).
fn path_tree(
    t: &[(Tok, usize)],
    i: &mut usize,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let mut path = prefix;
    loop {
        match t.get(*i).map(|x| &x.0) {
            Some(Tok::Ident(s)) => {
                path.push(s.clone());
                *i += 1;
            }
            Some(Tok::Star) => {
                path.push("*".to_owned());
                *i += 1;
                out.push((path, None));
                return;
            }
            Some(Tok::Open) => {
                *i += 1;
                loop {
                    match t.get(*i).map(|x| &x.0) {
                        Some(Tok::Close) => {
                            *i += 1;
                            return;
                        }
                        Some(Tok::Comma) => *i += 1,
                        None => return,
                        _ => {
                            let before = *i;
                            path_tree(t, i, path.clone(), out);
                            if *i == before {
                                *i += 1;
                            }
                        }
                    }
                }
            }
            _ => {
                out.push((path, None));
                return;
            }
        }
        if t.get(*i).map(|x| &x.0) != Some(&Tok::Sep) {
            break;
        }
        *i += 1;
    }
    // `self` in a group names the prefix itself.
    if path.last().is_some_and(|l| l == "self") {
        path.pop();
    }
    let mut binds = path.last().cloned();
    if let (Some(Tok::Ident(a)), Some(Tok::Ident(alias))) =
        (t.get(*i).map(|x| &x.0), t.get(*i + 1).map(|x| &x.0))
    {
        if a == "as" {
            binds = Some(alias.clone());
            *i += 2;
        }
    }
    out.push((path, binds));
}

/// Every path of the file's code, resolved to an absolute module path; paths
/// into other crates and into local items are left out.
fn uses_of(f: &File, modules: &BTreeSet<Vec<String>>) -> Vec<Use> {
    let t = tokens(&f.code);
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let starts_path = matches!(&t[i].0, Tok::Ident(_))
            && (i == 0 || !matches!(t[i - 1].0, Tok::Sep | Tok::Other('.')));
        let is_use = t[i].0 == Tok::Ident("use".to_owned());
        if !(starts_path || is_use) {
            i += 1;
            continue;
        }
        let line = t[i].1;
        let from = if is_use { i + 1 } else { i };
        let mut j = from;
        let mut found = Vec::new();
        path_tree(&t, &mut j, Vec::new(), &mut found);
        let mut text = String::new();
        for (k, (x, _)) in t[from..j.min(t.len())].iter().enumerate() {
            let prev_ident = k > 0 && matches!(t[from + k - 1].0, Tok::Ident(_));
            match x {
                Tok::Ident(s) if prev_ident => {
                    text.push(' ');
                    text.push_str(s);
                }
                Tok::Ident(s) => text.push_str(s),
                Tok::Sep => text.push_str("::"),
                Tok::Open => text.push('{'),
                Tok::Close => text.push('}'),
                Tok::Comma => text.push_str(", "),
                Tok::Star => text.push('*'),
                Tok::Semi => text.push(';'),
                Tok::Other(c) => text.push(*c),
            }
        }
        for (p, binds) in found {
            if p.len() < 2 && !is_use {
                continue;
            }
            if let Some(abs) = resolve(&f.module, &p, modules) {
                out.push(Use {
                    path: abs,
                    line,
                    text: text.clone(),
                    in_use_statement: is_use,
                    binds: if is_use { binds } else { None },
                });
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// `crate::`, `super::`, `self::` and paths starting with a child module, made
/// absolute; `None` for anything else (another crate, a local item).
fn resolve(
    module: &[String],
    p: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let mut base: Vec<String> = module.to_vec();
    let mut rest = p;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some(first) => {
            let mut child = base.clone();
            child.push(first.to_owned());
            if !modules.contains(&child) {
                return None;
            }
        }
        None => return None,
    }
    if rest.is_empty() {
        return None;
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The names of the items a file defines itself.
fn definitions(code: &str) -> BTreeSet<String> {
    let t = tokens(code);
    t.windows(2)
        .filter_map(|w| match (&w[0].0, &w[1].0) {
            (Tok::Ident(k), Tok::Ident(name))
                if matches!(
                    k.as_str(),
                    "struct" | "enum" | "fn" | "trait" | "type" | "const" | "static" | "union"
                ) =>
            {
                Some(name.clone())
            }
            _ => None,
        })
        .collect()
}

/// The identifiers of a file outside its `use` and `mod` declarations: what its
/// own code uses.
fn body_words(code: &str) -> BTreeSet<String> {
    let t = tokens(code);
    let mut out = BTreeSet::new();
    let mut skipping = false;
    for (k, (tok, _)) in t.iter().enumerate() {
        match tok {
            Tok::Ident(s) if s == "use" => skipping = true,
            Tok::Ident(s)
                if s == "mod" && matches!(t.get(k + 2).map(|x| &x.0), Some(Tok::Semi)) =>
            {
                skipping = true
            }
            Tok::Semi => skipping = false,
            Tok::Ident(s) if !skipping => {
                out.insert(s.clone());
            }
            _ => {}
        }
    }
    out
}
