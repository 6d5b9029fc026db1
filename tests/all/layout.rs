//! The source layout: no module cycle in any crate (every `use crate::…`
//! points one way), and in `host/src` no file over 300 lines of code and no
//! function over 60. A hand-written scan of the sources, so it needs no
//! parser crate and runs in the ordinary test command.
//!
//! Test code (`#[cfg(test)]` modules, inline or in their own files) is left
//! out of both: tests may reach anywhere, and their size is not the point.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lines of code (not blank, not only a comment) a file may have.
const MAX_FILE_LINES: usize = 300;
/// Lines of code a function may have, its signature and closing brace included.
const MAX_FN_LINES: usize = 60;

/// Functions over the limit that are being replaced: `rpc.rs`'s reading
/// becomes the protocol crate's method table. Remove each once it is.
const NOT_YET: &[(&str, &str)] = &[("host/src/rpc.rs", "read")];

/// The repository root.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

/// Every `.rs` file under `src`: its path relative to `src`, and its text.
fn sources(src: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let relative = path.strip_prefix(src).expect("under src").to_path_buf();
                files.push((relative, text));
            }
        }
    }
    files.sort();
    files
}

/// The module a file is, as path segments: `lib.rs` and `main.rs` are the
/// crate root (`[]`), `a/mod.rs` and `a.rs` are `[a]`, `a/b.rs` is `[a, b]`.
fn module_of(relative: &Path) -> Vec<String> {
    let mut segments: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segments.last().is_some_and(|last| last == "mod") {
        segments.pop();
    }
    if segments.len() == 1 && (segments[0] == "lib" || segments[0] == "main") {
        segments.clear();
    }
    segments
}

/// `text` with comments, string and char literals blanked out (newlines
/// kept, so line numbers and brace depth still mean what they did).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&chars, i) {
            // A raw string: r"…", r#"…"#, and so on.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            let closes =
                |k: usize| chars[k] == '"' && (1..=hashes).all(|h| chars.get(k + h) == Some(&'#'));
            while j < chars.len() && !closes(j) {
                j += 1;
            }
            let end = (j + 1 + hashes).min(chars.len());
            out.push_str("\"\"");
            out.extend(chars[i + 2..end].iter().map(|&c| blank(c)));
            i = end;
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c == '\'' && is_char_literal(&chars, i) {
            let mut j = i + 1;
            if chars.get(j) == Some(&'\\') {
                j += 1;
            }
            j += 1;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            out.push_str("' ");
            out.extend((i + 2..=j.min(chars.len() - 1)).map(|_| ' '));
            i = j + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// A `'` that opens a char literal rather than naming a lifetime.
fn is_char_literal(chars: &[char], i: usize) -> bool {
    matches!(
        (chars.get(i + 1), chars.get(i + 2)),
        (Some('\\'), _) | (Some(_), Some('\''))
    )
}

/// One crate's code, test code left out: each file's module and its code.
struct Crate {
    files: Vec<(PathBuf, Vec<String>, String)>,
}

impl Crate {
    fn read(src: &Path) -> Crate {
        Crate::from_sources(sources(src))
    }

    fn from_sources(sources: Vec<(PathBuf, String)>) -> Crate {
        let mut files = Vec::new();
        let mut test_modules = BTreeSet::new();
        let parsed: Vec<_> = sources
            .into_iter()
            .map(|(path, text)| {
                let module = module_of(&path);
                let (code, tests) = without_tests(&code_only(&text));
                for name in tests {
                    let mut child = module.clone();
                    child.push(name);
                    test_modules.insert(child);
                }
                (path, module, code)
            })
            .collect();
        for (path, module, code) in parsed {
            let in_tests = (1..=module.len()).any(|n| test_modules.contains(&module[..n]));
            if !in_tests {
                files.push((path, module, code));
            }
        }
        Crate { files }
    }

    fn modules(&self) -> BTreeSet<Vec<String>> {
        self.files.iter().map(|(_, m, _)| m.clone()).collect()
    }

    /// The module graph: an edge `a -> b` when code in `a` (or below it)
    /// names `crate::…::b` (or below it) and `a` and `b` are siblings.
    fn graph(&self) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
        let modules = self.modules();
        let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
        for (_, from, code) in &self.files {
            for path in crate_paths(code) {
                let to = (0..=path.len())
                    .rev()
                    .map(|n| path[..n].to_vec())
                    .find(|prefix| modules.contains(prefix))
                    .unwrap_or_default();
                if let Some((a, b)) = siblings(from, &to) {
                    graph.entry(a).or_default().insert(b);
                }
            }
        }
        graph
    }

    /// Every cycle found, each as `a -> b -> a`.
    fn cycles(&self) -> Vec<String> {
        let graph = self.graph();
        let mut cycles = Vec::new();
        let mut done = BTreeSet::new();
        for start in graph.keys() {
            let mut stack = vec![start.clone()];
            find_cycles(&graph, &mut stack, &mut done, &mut cycles);
        }
        cycles
    }
}

/// Follows the edges out of the last module on `stack`; a module met again
/// on the stack closes a cycle.
fn find_cycles(
    graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    stack: &mut Vec<Vec<String>>,
    done: &mut BTreeSet<Vec<String>>,
    cycles: &mut Vec<String>,
) {
    let here = stack.last().expect("not empty").clone();
    if done.contains(&here) {
        return;
    }
    for next in graph.get(&here).into_iter().flatten() {
        if let Some(at) = stack.iter().position(|m| m == next) {
            let names: Vec<String> = stack[at..]
                .iter()
                .chain([next])
                .map(|m| m.join("::"))
                .collect();
            cycles.push(names.join(" -> "));
        } else {
            stack.push(next.clone());
            find_cycles(graph, stack, done, cycles);
            stack.pop();
        }
    }
    done.insert(here);
}

/// For a use of module `to` in module `from`: the two sibling modules it
/// links (the children of their common ancestor on each side), or `None`
/// when one is inside the other (a child naming its parent's items).
fn siblings(from: &[String], to: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    if common == from.len() || common == to.len() {
        return None;
    }
    Some((from[..=common].to_vec(), to[..=common].to_vec()))
}

/// Removes `#[cfg(test)]` items that are inline modules (`mod x { … }`);
/// returns the code left and the names of test modules in their own files
/// (`#[cfg(test)] mod x;`).
fn without_tests(code: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(code.len());
    let mut file_modules = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let item = after.trim_start();
        let item = item.strip_prefix("pub ").unwrap_or(item).trim_start();
        let Some(module) = item.strip_prefix("mod ") else {
            out.push_str("#[cfg(test)]");
            rest = after;
            continue;
        };
        let name: String = module
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let open = after.find(['{', ';']).unwrap_or(after.len());
        if after[open..].starts_with(';') {
            file_modules.push(name);
            rest = &after[open + 1..];
            continue;
        }
        let end = matching_brace(after, open).unwrap_or(after.len());
        // Keep the lines, so what follows keeps its line numbers.
        out.extend(after[..end].chars().filter(|&c| c == '\n'));
        rest = &after[end..];
    }
    out.push_str(rest);
    (out, file_modules)
}

/// The index just past the `}` closing the `{` at `open`.
fn matching_brace(code: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in code[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(open + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Every path named after `crate::` in `code`, as segments; a group
/// (`crate::a::{b, c::D}`) gives one path per member.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let bytes = code.as_bytes();
    let mut search = 0;
    while let Some(found) = code[search..].find("crate::") {
        let at = search + found;
        search = at + "crate::".len();
        let before = at.checked_sub(1).map(|i| bytes[i] as char);
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let mut chars = code[search..].chars().peekable();
        parse_tree(&mut chars, Vec::new(), &mut paths);
    }
    paths
}

/// Parses one use tree (`a::b::C`, `a::{b, c}`, `a::*`) after `prefix`.
fn parse_tree(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    mut prefix: Vec<String>,
    paths: &mut Vec<Vec<String>>,
) {
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            loop {
                parse_tree(chars, prefix.clone(), paths);
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                match chars.next() {
                    Some(',') => continue,
                    _ => return, // `}` or the end
                }
            }
        }
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| c.is_alphanumeric() || *c == '_')).collect();
        if name.is_empty() {
            paths.push(prefix);
            return;
        }
        prefix.push(name);
        let mut look = chars.clone();
        if look.next() == Some(':') && look.next() == Some(':') {
            chars.next();
            chars.next();
        } else {
            // A rename (`as x`) or the end of the path.
            if chars.peek() == Some(&' ') {
                let rest: String = chars.clone().take(4).collect();
                if rest.starts_with(" as ") {
                    for _ in 0..4 {
                        chars.next();
                    }
                    let _: String =
                        std::iter::from_fn(|| chars.next_if(|c| c.is_alphanumeric() || *c == '_'))
                            .collect();
                }
            }
            paths.push(prefix);
            return;
        }
    }
}

/// Lines that hold code: not blank once comments are gone.
fn code_lines(code: &str) -> usize {
    code.lines().filter(|line| !line.trim().is_empty()).count()
}

/// Every function in `code` with a body: its name, first line (1-based),
/// and its lines of code.
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let mut found = Vec::new();
    let mut offset = 0;
    for (number, line) in code.lines().enumerate() {
        let start = offset;
        offset += line.len() + 1;
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(fn_at) = words.iter().position(|w| *w == "fn") else {
            continue;
        };
        let qualifiers = [
            "pub",
            "pub(crate)",
            "pub(super)",
            "async",
            "const",
            "unsafe",
        ];
        if !words[..fn_at].iter().all(|w| qualifiers.contains(w)) {
            continue;
        }
        let Some(name) = words.get(fn_at + 1) else {
            continue;
        };
        let name: String = name
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let rest = &code[start..];
        let Some(open) = rest.find(['{', ';']) else {
            continue;
        };
        if rest[open..].starts_with(';') {
            continue; // a declaration without a body
        }
        let Some(end) = matching_brace(rest, open) else {
            continue;
        };
        found.push((name, number + 1, code_lines(&rest[..end])));
    }
    found
}

/// What is over the limits in `krate`, one line each.
fn over_limits(krate: &Crate, src: &str) -> Vec<String> {
    let mut over = Vec::new();
    for (path, _, code) in &krate.files {
        let lines = code_lines(code);
        if lines > MAX_FILE_LINES {
            over.push(format!("{src}/{}: {lines} lines of code", path.display()));
        }
        for (name, line, lines) in functions(code) {
            if lines > MAX_FN_LINES {
                over.push(format!(
                    "{src}/{}:{line}: fn {name} has {lines} lines of code",
                    path.display()
                ));
            }
        }
    }
    over
}

fn assert_no_cycle(src: &str) {
    let dir = repo().join(src);
    let krate = Crate::read(&dir);
    assert!(
        krate.files.len() > 1,
        "{src}: found no modules; is the path right?"
    );
    let cycles = krate.cycles();
    assert!(
        cycles.is_empty(),
        "{src} has module cycles (every `use crate::…` must point one way):\n{}",
        cycles.join("\n")
    );
}

#[test]
fn host_has_no_module_cycle() {
    assert_no_cycle("host/src");
}

#[test]
fn component_has_no_module_cycle() {
    assert_no_cycle("component/src");
}

#[test]
fn protocol_has_no_module_cycle() {
    if repo().join("protocol/src").is_dir() {
        assert_no_cycle("protocol/src");
    }
}

#[test]
fn host_files_and_functions_are_small() {
    let krate = Crate::read(&repo().join("host/src"));
    let over: Vec<String> = over_limits(&krate, "host/src")
        .into_iter()
        .filter(|line| {
            !NOT_YET.iter().any(|(file, name)| {
                line.starts_with(file) && line.contains(&format!(": fn {name} has "))
            })
        })
        .collect();
    assert!(
        over.is_empty(),
        "over {MAX_FILE_LINES} lines a file or {MAX_FN_LINES} a function:\n{}",
        over.join("\n")
    );
}

fn synthetic(files: &[(&str, &str)]) -> Crate {
    Crate::from_sources(
        files
            .iter()
            .map(|(path, text)| (PathBuf::from(path), text.to_string()))
            .collect(),
    )
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let krate = synthetic(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a.rs", "use crate::b::Thing;\n"),
        (
            "b/mod.rs",
            "pub struct Thing;\nuse crate::{a::Other as O, b};\n",
        ),
    ]);
    assert_eq!(krate.cycles(), ["a -> b -> a"]);
}

#[test]
fn the_cycle_check_allows_what_is_not_a_cycle() {
    let krate = synthetic(&[
        (
            "lib.rs",
            "pub mod a;\npub mod b;\npub mod c;\nfn f() { crate::a::g(); }\n",
        ),
        // A child naming its parent's items, and a parent its child's.
        ("a/mod.rs", "pub mod inner;\nuse crate::a::inner::X;\n"),
        ("a/inner.rs", "use crate::a::Y;\nuse crate::b::Z;\n"),
        // Named only in a comment, a string, a test module or a test file.
        (
            "b.rs",
            "// crate::a\nconst S: &str = \"crate::a\";\n#[cfg(test)]\nmod tests {\n    use crate::a;\n}\n#[cfg(test)]\nmod testing;\n",
        ),
        ("b/testing.rs", "use crate::a::X;\n"),
        ("c.rs", "use crate::a::{self, inner::{X, Y}};\n"),
    ]);
    assert_eq!(krate.cycles(), Vec::<String>::new());
    let edges: Vec<(String, String)> = krate
        .graph()
        .into_iter()
        .flat_map(|(from, to)| {
            to.into_iter()
                .map(move |to| (from.join("::"), to.join("::")))
        })
        .collect();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(edges, pairs(&[("a", "b"), ("c", "a")]));
}

#[test]
fn the_size_check_counts_code_outside_tests() {
    let body = "    let x = 1;\n".repeat(MAX_FN_LINES);
    let text = format!(
        "//! A comment line is not code.\n\npub fn long() {{\n{body}}}\n\nfn short() {{\n    \"{{\";\n}}\n#[cfg(test)]\nmod tests {{\n    fn long_test() {{\n{body}    }}\n}}\n"
    );
    let krate = synthetic(&[("lib.rs", &text)]);
    let over = over_limits(&krate, "src");
    assert_eq!(
        over,
        [format!(
            "src/lib.rs:3: fn long has {} lines of code",
            MAX_FN_LINES + 2
        )]
    );
}
