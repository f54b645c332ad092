//! No module cycle inside any crate: in each crate of the workspace, the top-level
//! modules (`app`, `domain`, `events`, `grpc`, `proto`, `store`… of a service; `config`,
//! `bus`, `outbox`, `consumer`… of the platform) and what their code (tests aside)
//! names through `crate::`, form a graph without cycles. So a service reads one way:
//! grpc → app → domain, app → store and events, and proto is used by grpc and events.
//!
//! Run it alone with `cargo test --test it layering`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the crate's top-level modules its code names.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let named = Regex::new(r"\bcrate::([a-z_][a-z0-9_]*)").expect("pattern");
    let grouped = Regex::new(r"crate::\{([^}]*)\}").expect("pattern");
    let word = Regex::new(r"\b([a-z_][a-z0-9_]*)\b").expect("pattern");
    let comment = Regex::new(r"//[^\n]*").expect("pattern");
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src");
        let first = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        let module = first.trim_end_matches(".rs");
        let module = if module == "lib" || module == "main" {
            "(root)"
        } else {
            module
        };
        let text = std::fs::read_to_string(&file).expect("readable source");
        // A file's unit tests may reach anywhere in the crate.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let code = comment.replace_all(code, "");
        let refs = graph.entry(module.to_string()).or_default();
        for captures in named.captures_iter(&code) {
            refs.insert(captures[1].to_string());
        }
        for group in grouped.captures_iter(&code) {
            for captures in word.captures_iter(&group[1]) {
                refs.insert(captures[1].to_string());
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for (module, refs) in graph.iter_mut() {
        refs.retain(|r| modules.contains(r) && r != module);
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        next: usize,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let low = s.low[v].min(s.low[w.as_str()]);
                s.low.insert(v, low);
            } else if s.stack.contains(&w.as_str()) {
                let low = s.low[v].min(s.index[w.as_str()]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        next: 0,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

#[test]
fn no_crate_has_a_module_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut crates = vec![root.join("src")];
    for parent in ["crates", "services"] {
        for entry in std::fs::read_dir(root.join(parent)).expect("a folder") {
            let src = entry.expect("an entry").path().join("src");
            if src.is_dir() {
                crates.push(src);
            }
        }
    }
    let mut found = Vec::new();
    for src in &crates {
        for cycle in cycles(&module_graph(src)) {
            found.push(format!(
                "{}: {}",
                src.strip_prefix(root).unwrap_or(src).display(),
                cycle.join(" ⇄ ")
            ));
        }
    }
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

/// The check sees a cycle when there is one.
#[test]
fn a_cycle_is_found() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("app", &["events", "domain"][..]),
        ("events", &["grpc"][..]),
        ("grpc", &["app"][..]),
        ("domain", &[][..]),
    ]
    .into_iter()
    .map(|(m, refs)| (m.to_string(), refs.iter().map(|r| r.to_string()).collect()))
    .collect();
    assert_eq!(cycles(&graph), [["app", "events", "grpc"]]);
}
