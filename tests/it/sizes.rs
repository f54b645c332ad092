//! The sizes a newcomer can read: no source file of the services or of the platform over
//! 600 lines (migrations aside), and no function over 60 lines unless its doc comment
//! says why, with the words "Over 60 lines". And every module of theirs opens with a
//! `//!` doc saying what it owns (the compiler's `missing_docs` covers public items,
//! not private modules). A longer function is usually several
//! steps that want names; where it is one table or one `match` (a message per refusal),
//! the doc says so and it stays whole.
//!
//! Run it alone with `cargo test --test it sizes`.

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 60;
const WHY: &str = "Over 60 lines";

/// Every `.rs` file under `dir`, migrations aside (each is one schema step, read alone).
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "migrations") {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The checked sources: every service's `src/` and the platform's.
fn checked() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("crates/platform/src"), &mut files);
    for entry in std::fs::read_dir(root.join("services")).expect("services/") {
        let src = entry.expect("an entry").path().join("src");
        if src.is_dir() {
            sources(&src, &mut files);
        }
    }
    files.sort();
    files
}

/// A function longer than [`MAX_FN_LINES`]: its name, first line, length and doc.
#[derive(Debug)]
struct LongFn {
    name: String,
    line: usize,
    lines: usize,
    doc: String,
}

/// The functions of `text` over [`MAX_FN_LINES`] lines, from their `fn` line to the
/// closing brace at the same indentation (rustfmt's layout).
fn long_functions(text: &str) -> Vec<LongFn> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let signature = trimmed
            .trim_start_matches("pub ")
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("const ")
            .trim_start_matches("async ");
        let Some(rest) = signature.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if line.trim_end().ends_with(';') || line.trim_end().ends_with('}') {
            continue; // a trait method without a body, or a one-line function
        }
        let closing = format!("{}}}", " ".repeat(indent));
        let Some(end) = lines[i + 1..]
            .iter()
            .position(|l| *l == closing)
            .map(|offset| i + 1 + offset)
        else {
            continue; // a declaration without a body
        };
        let length = end - i + 1;
        if length <= MAX_FN_LINES {
            continue;
        }
        let mut doc = Vec::new();
        for above in lines[..i].iter().rev() {
            let above = above.trim_start();
            if above.starts_with("#[") {
                continue;
            }
            match above.strip_prefix("///") {
                Some(text) => doc.push(text.trim()),
                None => break,
            }
        }
        doc.reverse();
        found.push(LongFn {
            name,
            line: i + 1,
            lines: length,
            doc: doc.join(" "),
        });
    }
    found
}

#[test]
fn no_source_file_is_over_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let long: Vec<String> = checked()
        .into_iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(&path)
                .expect("a source")
                .lines()
                .count();
            (lines > MAX_FILE_LINES).then(|| {
                format!(
                    "{}: {lines}",
                    path.strip_prefix(root).unwrap_or(&path).display()
                )
            })
        })
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_FILE_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn long_functions_say_why() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut unexplained = Vec::new();
    for path in checked() {
        let text = std::fs::read_to_string(&path).expect("a source");
        for f in long_functions(&text) {
            if !f.doc.contains(WHY) {
                unexplained.push(format!(
                    "{}:{} {} ({} lines)",
                    path.strip_prefix(root).unwrap_or(&path).display(),
                    f.line,
                    f.name,
                    f.lines
                ));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "functions over {MAX_FN_LINES} lines whose doc does not say why (\"{WHY}: …\"):\n{}",
        unexplained.join("\n")
    );
}

#[test]
fn every_module_says_what_it_owns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = checked();
    for dir in ["crates/platform/src", "services"] {
        let mut migrations = Vec::new();
        collect_migrations(&root.join(dir), &mut migrations);
        files.extend(migrations);
    }
    let silent: Vec<String> = files
        .iter()
        .filter(|path| {
            !std::fs::read_to_string(path)
                .expect("a source")
                .trim_start()
                .starts_with("//!")
        })
        .map(|path| {
            path.strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        silent.is_empty(),
        "modules without a //! doc:\n{}",
        silent.join("\n")
    );
}

/// The migrations' files, which [`checked`] leaves out of the size rules.
fn collect_migrations(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "migrations") {
                out.extend(walk(&path));
            } else {
                collect_migrations(&path, out);
            }
        }
    }
}

/// Every `.rs` file under `dir`, migrations included.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The measure sees a long function, its doc, and nothing in a short one.
#[test]
fn a_long_function_is_measured() {
    let body = "    step();\n".repeat(MAX_FN_LINES);
    let text = format!(
        "/// Short.\nfn short() {{\n    step();\n}}\n\n/// {WHY}: one table.\n#[inline]\npub async fn long() {{\n{body}}}\n"
    );
    let found = long_functions(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, "long");
    assert_eq!(found[0].lines, MAX_FN_LINES + 2);
    assert!(found[0].doc.starts_with(WHY));
}
