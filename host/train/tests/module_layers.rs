//! The crate's modules import each other in one direction only: the graph of `crate::module`
//! imports between the top-level modules of `src/` has no cycle, and the training core knows no
//! network.
//!
//! The graph is read from the sources (comments and string literals left out): an edge
//! `a -> b` for every `crate::b` path in a file of module `a` (`use crate::b::...`,
//! `use crate::{b, ...}`, `crate::b::f(...)`), and `super::` in a file below `src/a/` counts as
//! `a` itself. `lib.rs` is the root that re-exports everything and is not a node.
//!
//! `cargo test -p sentio-train --test module_layers -- --nocapture` prints the graph by layers.

#![allow(clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Modules that may import nothing that knows a network: the training core (the loop,
/// examples and batches, options, progress, checkpoints, atomic writes) and the job tail every
/// network's job shares (export check, evaluation, curves, report, manifest).
const GENERIC: [&str; 12] = [
    "progress",
    "data",
    "options",
    "files",
    "checkpoint",
    "trainer",
    "init",
    "export",
    "eval",
    "plot",
    "job",
    "images",
];
/// Modules that hold a network (or a job of one).
const NETWORKS: [&str; 5] = ["cnn", "fer", "ser", "anp", "emoji"];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The top-level module a file belongs to (`src/x.rs` and `src/x/**` are `x`); `None` for
/// `lib.rs`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (name != "lib").then_some(name)
}

/// `text` with comments, string and char literals blanked out (lifetimes kept), so a path in
/// a doc comment or a message is not an import.
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| peek(&c, i + k);
        if at(0) == '/' && at(1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if at(0) == '/' && at(1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if at(0) == 'r' && (at(1) == '"' || (at(1) == '#' && matches!(at(2), '#' | '"'))) {
            // A raw string: r"..." or r#"..."#.
            let mut hashes = 0;
            i += 1;
            while peek(&c, i) == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if at(0) == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if at(0) == '\'' && (at(1) == '\\' || at(2) == '\'') {
            // A char literal ('x', '\n', '\''); a lifetime ('a) has no closing quote there.
            i += 2;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn peek(c: &[char], i: usize) -> char {
    c.get(i).copied().unwrap_or('\0')
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The identifiers right after `prefix` (at a word boundary) in `code`; after `prefix{` every
/// first segment of the braced list (`crate::{a, b::c}` gives `a` and `b`).
fn targets_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        if code[..at].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            let mut fresh = true;
            for ch in list.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => fresh = true,
                    _ if fresh && is_ident(ch) => item.push(ch),
                    _ if fresh && !item.is_empty() => {
                        out.push(std::mem::take(&mut item));
                        fresh = false;
                    }
                    _ => {}
                }
            }
            if !item.is_empty() {
                out.push(item);
            }
        } else {
            let name: String = rest.chars().take_while(|ch| is_ident(*ch)).collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// The import graph of the top-level modules of `src`.
fn graph(src: &Path) -> Graph {
    let files = rust_files(src);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(src, f)).collect();
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for file in &files {
        let Some(from) = module_of(src, file) else {
            continue;
        };
        let text =
            fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let code = code_only(&text);
        let mut to: Vec<String> = targets_after(&code, "crate::");
        // `super::` below src/a/ is `a` (or a module inside it): no edge out of `a`. In
        // src/a.rs it is only found in inline modules (`mod tests`), which are `a` too.
        to.extend(
            targets_after(&code, "super::")
                .into_iter()
                .map(|_| from.clone()),
        );
        for target in to {
            if target != from && modules.contains(&target) {
                graph.entry(from.clone()).or_default().insert(target);
            }
        }
    }
    graph
}

/// A cycle of `graph` as the path `a -> b -> ... -> a`, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let start = path.iter().position(|p| p == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, graph, marks, path) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New
            && let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

/// The modules by layer: layer 0 imports no module, layer n imports only layers below n.
/// `None` when there is a cycle.
fn layers(graph: &Graph) -> Option<Vec<Vec<String>>> {
    let mut level: BTreeMap<&str, usize> = BTreeMap::new();
    while level.len() < graph.len() {
        let before = level.len();
        for (node, deps) in graph {
            if level.contains_key(node.as_str()) {
                continue;
            }
            let below: Option<Vec<usize>> = deps
                .iter()
                .map(|d| level.get(d.as_str()).copied())
                .collect();
            if let Some(below) = below {
                level.insert(node, below.into_iter().max().map_or(0, |l| l + 1));
            }
        }
        if level.len() == before {
            return None;
        }
    }
    let mut out = vec![Vec::new(); level.values().max().map_or(0, |l| l + 1)];
    for (node, l) in level {
        out[l].push(node.to_owned());
    }
    Some(out)
}

fn show(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(m, deps)| {
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            format!("  {m} -> {}", deps.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn modules_import_each_other_in_one_direction() {
    let graph = graph(&src());
    assert!(
        graph.len() > 5,
        "no modules found under {}",
        src().display()
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the modules import each other in a cycle: {}\nthe graph:\n{}",
            cycle.join(" -> "),
            show(&graph)
        );
    }
    for (i, layer) in layers(&graph).unwrap_or_default().iter().enumerate() {
        println!("layer {i}: {}", layer.join(", "));
    }
    println!("the graph:\n{}", show(&graph));
}

#[test]
fn the_training_core_and_the_job_tail_know_no_network() {
    let graph = graph(&src());
    let mut wrong = Vec::new();
    for core in GENERIC {
        let Some(deps) = graph.get(core) else {
            wrong.push(format!("{core} is not a module any more"));
            continue;
        };
        // What the core module reaches, directly or through other modules.
        let mut reached: BTreeSet<&str> = BTreeSet::new();
        let mut todo: Vec<&str> = deps.iter().map(String::as_str).collect();
        while let Some(m) = todo.pop() {
            if reached.insert(m) {
                todo.extend(graph.get(m).into_iter().flatten().map(String::as_str));
            }
        }
        for net in NETWORKS.iter().filter(|n| reached.contains(**n)) {
            wrong.push(format!("{core} reaches {net}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "a generic module imports a network: {}\nthe graph:\n{}",
        wrong.join("; "),
        show(&graph)
    );
}

#[test]
fn the_reader_sees_imports_and_skips_comments_and_strings() {
    let code = code_only(
        "use crate::{error::Error, rng::Rng};\n// crate::cnn in a comment\n\
         let s = \"crate::ser\"; let c = '\"'; fn f<'a>(x: &'a str) { crate::plot::curves(x) }\n\
         /* crate::anp /* nested */ crate::fer */ let r = r#\"crate::emoji\"#;",
    );
    let mut found = targets_after(&code, "crate::");
    found.sort();
    assert_eq!(found, ["error", "plot", "rng"]);
    let cyclic: Graph = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"])]
        .into_iter()
        .map(|(m, d)| (m.to_owned(), d.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(
        find_cycle(&cyclic).map(|c| c.join(" -> ")),
        Some("a -> b -> c -> a".to_owned())
    );
    assert!(layers(&cyclic).is_none());
}
