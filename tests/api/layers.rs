//! The module graph keeps its shape: imports point down (`api` → `service` →
//! `bot`, `realtime`, `db` → `domain`, `entity`), never back up into the API,
//! and no file imports, directly or around a circle, a file that imports it.
//! Read off the source: every `use crate::…`, `use super::…` and inline
//! `crate::…` path outside `#[cfg(test)]` modules is an edge between files.
use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

/// Layers that must never import `crate::api`.
const BELOW_THE_API: [&str; 6] = ["db", "bot", "realtime", "domain", "entity", "service"];

type Graph = BTreeMap<String, BTreeSet<String>>;

/// `src/a/b.rs` → `a::b`; `src/a/mod.rs` → `a`; `lib.rs` → `crate`.
fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" {
        parts.push(stem.to_owned());
    }
    match parts.as_slice() {
        [only] if only == "lib" || only == "main" => "crate".into(),
        _ => parts.join("::"),
    }
}

fn sources(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = module_of(path.strip_prefix(root).unwrap());
            if path.file_name().is_some_and(|n| n == "main.rs") {
                continue;
            }
            out.insert(module, std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The code that ships: comments and the unit-test module left out.
fn shipped(source: &str) -> String {
    let code: String = source
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    match code.find("#[cfg(test)]\nmod ") {
        Some(at) => code[..at].to_owned(),
        None => code,
    }
}

/// Paths of a use tree: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    // Renames (`x as y`) keep only the path; then spacing means nothing.
    let tree = tree
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" as ", "@");
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    walk("", &tree, &mut out);
    out
}

fn walk(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let Some(open) = tree.find('{') else {
        let path = tree.split('@').next().unwrap_or(tree);
        out.push(format!("{prefix}{path}"));
        return;
    };
    let head = format!("{prefix}{}", &tree[..open]);
    let inner = &tree[open + 1..tree.len() - 1];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                walk(&head, &inner[start..i], out);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < inner.len() {
        walk(&head, &inner[start..], out);
    }
}

/// The file a path names: its longest prefix that is a module.
fn resolve(path: &str, modules: &BTreeMap<String, String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty() && *p != "self").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|m| modules.contains_key(m))
}

/// Every `use <start>…;` statement's paths.
fn uses(code: &str, start: &str) -> Vec<String> {
    let needle = format!("use {start}");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        let end = after.find(';').unwrap_or(after.len());
        out.extend(expand(&after[..end]));
        rest = &after[end..];
    }
    out
}

fn graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    sources(&root, &root, &mut modules);
    let mut graph = Graph::new();
    for (module, source) in &modules {
        let code = shipped(source);
        let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
        let mut targets: Vec<String> = uses(&code, "crate::");
        // Inline paths: `crate::a::b::f(...)`.
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let end = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(after.len());
            targets.push(after[..end].to_owned());
            rest = &after[end..];
        }
        for path in uses(&code, "super::") {
            targets.push(if parent.is_empty() {
                path
            } else {
                format!("{parent}::{path}")
            });
        }
        let edges = graph.entry(module.clone()).or_default();
        for target in targets {
            if let Some(file) = resolve(&target, &modules).filter(|f| f != module) {
                edges.insert(file);
            }
        }
    }
    graph
}

fn layer(module: &str) -> &str {
    module.split("::").next().unwrap()
}

#[test]
fn no_layer_below_the_api_imports_it() {
    let upward: Vec<String> = graph()
        .iter()
        .filter(|(from, _)| BELOW_THE_API.contains(&layer(from)))
        .flat_map(|(from, to)| {
            to.iter()
                .filter(|t| layer(t) == "api")
                .map(move |t| format!("{from} -> {t}"))
        })
        .collect();
    assert!(upward.is_empty(), "imports that run back up into the API: {upward:#?}");
}

#[test]
fn no_file_imports_itself_around_a_circle() {
    // A file is on a circle when it can reach itself.
    let circles = on_circles(&graph());
    assert!(circles.is_empty(), "files on an import circle: {circles:#?}");
}

/// The browser app's modules and what each imports (`import … from './x.js'`),
/// by path under `static/js`.
fn browser_graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("static/js");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "js") {
                files.push(path);
            }
        }
    }
    let mut graph = Graph::new();
    for file in files {
        let name = file.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&file).unwrap();
        let edges = graph.entry(name).or_default();
        for line in source.lines().filter(|l| l.starts_with("import ")) {
            let Some(spec) = line.split(['\'', '"']).nth(1) else {
                continue;
            };
            let target = file.parent().unwrap().join(spec);
            let target = std::path::absolute(&target).unwrap();
            // `a/../b` spelled out: normalise by walking the components.
            let mut clean = std::path::PathBuf::new();
            for part in target.components() {
                match part {
                    std::path::Component::ParentDir => {
                        clean.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => clean.push(other),
                }
            }
            edges.insert(clean.strip_prefix(&root).unwrap().to_string_lossy().into_owned());
        }
    }
    graph
}

fn on_circles(graph: &Graph) -> Vec<String> {
    let mut circles = Vec::new();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&String> = graph[start].iter().collect();
        while let Some(next) = todo.pop() {
            if next == start {
                circles.push(start.clone());
                break;
            }
            if seen.insert(next) {
                todo.extend(graph.get(next).into_iter().flatten());
            }
        }
    }
    circles
}

#[test]
fn the_browser_app_has_no_import_circle_and_views_never_import_the_entry_point() {
    let graph = browser_graph();
    assert!(
        graph["views/chats.js"].contains("store.js"),
        "{:?}",
        graph["views/chats.js"]
    );
    let circles = on_circles(&graph);
    assert!(circles.is_empty(), "browser modules on an import circle: {circles:#?}");
    let up: Vec<&String> = graph
        .iter()
        .filter(|(_, to)| to.contains("app.js"))
        .map(|(from, _)| from)
        .collect();
    assert!(up.is_empty(), "modules that import the entry point: {up:?}");
}

#[test]
fn the_reader_sees_use_trees_and_circles() {
    assert_eq!(expand("a::{b, c::{d, e as f}}"), ["a::b", "a::c::d", "a::c::e"]);
    // The real graph has the edges the layers are made of, so the checks above
    // are reading it, not an empty map.
    let graph = graph();
    assert!(
        graph["api::messages"].contains("service::messages"),
        "{:?}",
        graph["api::messages"]
    );
    assert!(graph["service::chats"].contains("db::chats"));
    assert!(graph["entity::chat"].contains("domain::kinds"));
}
