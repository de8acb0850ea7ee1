//! Repository invariants, checked as plain tests (after rust-analyzer's `tidy.rs`).

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    path::{Path, PathBuf},
    process::Command,
};

use perf_runner::{
    data::{baseline, env::Testbed},
    scenario, tasks,
};

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() && name != "target" && name != "node_modules" && !name.starts_with('.') {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&project_root(), &mut files);
    assert!(files.len() > 10, "found only {files:?}");
    let undocumented: Vec<_> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            !(first.starts_with("//!") || first.starts_with("#![doc = include_str!"))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "files without a leading //! doc: {undocumented:?}"
    );
}

/// The js-libp2p node (nodes/js-libp2p) keeps the module-doc rule in its own language, and
/// its dependencies are exact versions, so that the lock file and package.json agree on what
/// is measured.
#[test]
fn the_js_node_documents_its_files_and_pins_its_dependencies() {
    let dir = project_root().join("nodes/js-libp2p");
    let mut undocumented = Vec::new();
    for entry in std::fs::read_dir(dir.join("src")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if path.extension().is_some_and(|e| e == "js") && !text.starts_with("// ") {
            undocumented.push(path);
        }
    }
    assert!(
        undocumented.is_empty(),
        "files that do not open with a // comment saying what they do: {undocumented:?}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&read("nodes/js-libp2p/package.json")).unwrap();
    let ranges: Vec<String> = manifest["dependencies"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| {
            !v.as_str()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
        })
        .map(|(k, v)| format!("{k}@{v}"))
        .collect();
    assert!(
        ranges.is_empty(),
        "nodes/js-libp2p/package.json: pin exact versions, not {ranges:?}"
    );
    assert!(
        read(".gitignore")
            .lines()
            .any(|l| l == "/nodes/js-libp2p/node_modules"),
        ".gitignore must keep nodes/js-libp2p/node_modules out of git"
    );
}

#[test]
fn ci_runs_exactly_the_readme_test_command() {
    let root = project_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(
        readme.contains("cargo xtask test"),
        "README must show the test command"
    );
    assert!(
        readme.contains("cargo xtask perf standard"),
        "README must show the main command"
    );
    assert!(
        ci.lines().any(|l| l.trim() == "exec cargo xtask test"),
        ".ci/run must run `cargo xtask test`"
    );
}

/// Under cargo-nextest every test is its own process, so the in-process lock a test binary
/// takes to run its tests one at a time serialises nothing: such a binary must be in a
/// one-at-a-time test group of .config/nextest.toml (`clusters` for the ones that start
/// clusters), or its tests would run beside each other and beside another binary's clusters.
#[test]
fn every_test_binary_that_takes_the_serial_lock_is_in_a_nextest_group() {
    let config = read(".config/nextest.toml");
    let filters: Vec<&str> = config
        .lines()
        .filter_map(|l| l.strip_prefix("filter = "))
        .collect();
    assert!(
        config.contains("clusters = { max-threads = 1 }") && !filters.is_empty(),
        "the clusters group and its filters are gone from .config/nextest.toml"
    );
    // Built so that this file does not match itself.
    let takes_lock = concat!("= serial", "();");
    let mut missing = Vec::new();
    let mut found = 0;
    for dir in ["node/tests", "perf-runner/tests", "xtask/tests"] {
        for entry in std::fs::read_dir(project_root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs")
                || !std::fs::read_to_string(&path).unwrap().contains(takes_lock)
            {
                continue;
            }
            found += 1;
            let binary = path.file_stem().unwrap().to_string_lossy().into_owned();
            let grouped = filters.iter().any(|f| {
                f.contains(&format!("binary(={binary})"))
                    || (dir == "node/tests" && f.contains("package(=swarm-node) & kind(test)"))
            });
            if !grouped {
                missing.push(format!("{dir}/{binary}.rs"));
            }
        }
    }
    assert!(
        found >= 5,
        "found only {found} test binaries taking the serial lock"
    );
    assert!(
        missing.is_empty(),
        "these test binaries take the serial lock but are in no one-at-a-time group of .config/nextest.toml: {missing:?}"
    );
}

#[test]
fn the_installed_iai_callgrind_runner_matches_the_benches_crate() {
    // iai-callgrind refuses a runner of another version; the installer and the check in
    // perf-runner use IAI_CALLGRIND_VERSION, which must be what benches/ pins.
    let manifest = std::fs::read_to_string(project_root().join("benches/Cargo.toml")).unwrap();
    let pinned = format!(
        "iai-callgrind = \"={}\"",
        perf_runner::tasks::bench::IAI_CALLGRIND_VERSION
    );
    assert!(
        manifest.contains(&pinned),
        "benches/Cargo.toml must pin {pinned}"
    );
}

fn read(relative: &str) -> String {
    let path = project_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rows of the Markdown table between `<!-- {name}: begin -->` and `<!-- {name}: end -->`,
/// header and separator dropped, each row split into trimmed cells.
fn marked_table(text: &str, name: &str) -> Vec<Vec<String>> {
    let (begin, end) = (
        format!("<!-- {name}: begin -->"),
        format!("<!-- {name}: end -->"),
    );
    let start = text
        .find(&begin)
        .unwrap_or_else(|| panic!("no {begin} marker"))
        + begin.len();
    let len = text[start..]
        .find(&end)
        .unwrap_or_else(|| panic!("no {end} marker"));
    let rows: Vec<_> = text[start..start + len]
        .lines()
        .filter(|l| l.trim_start().starts_with('|'))
        .collect();
    assert!(
        rows.len() > 2 && rows[1].starts_with("|---"),
        "no table with a header between the {name} markers"
    );
    rows[2..]
        .iter()
        .map(|row| {
            // An escaped `\|` is part of a cell, not a column boundary.
            let row = row.replace("\\|", "/");
            let cells = row.trim().trim_matches('|').split('|');
            cells.map(|c| c.trim().to_string()).collect()
        })
        .collect()
}

/// Every `--long` flag in `text`.
fn long_flags(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|word| word.len() > 2 && word.starts_with("--"))
        .map(String::from)
        .collect()
}

fn difference(a: &BTreeSet<String>, b: &BTreeSet<String>) -> Vec<String> {
    a.difference(b).cloned().collect()
}

#[test]
fn readme_lists_exactly_the_shipped_scenarios() {
    let readme = read("README.md");
    let rows = marked_table(&readme, "scenarios");
    let listed: BTreeSet<String> = rows.iter().map(|r| r[0].trim_matches('`').into()).collect();
    let shipped: BTreeSet<String> = scenario::shipped_names().into_iter().collect();
    assert!(shipped.len() >= 12, "found only {shipped:?}");
    assert!(
        listed == shipped,
        "README.md's scenario table must list every scenario in perf-runner/scenarios/ and no other; \
         missing: {:?}, not shipped: {:?}",
        difference(&shipped, &listed),
        difference(&listed, &shipped),
    );
    for row in &rows {
        let name = row[0].trim_matches('`');
        let nodes = scenario::resolve(name).unwrap().nodes;
        assert_eq!(
            row[1],
            nodes.to_string(),
            "README.md says {name} has {} nodes, its scenario file says {nodes}",
            row[1]
        );
    }
}

/// Every long option in the Options section of `cargo xtask <args> --help`, `--help` left out.
fn options_of(args: &[&str]) -> BTreeSet<String> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    let command = args.join(" ");
    assert!(
        output.status.success(),
        "`cargo xtask {command} --help` failed"
    );
    let help = String::from_utf8(output.stdout).unwrap();
    let options = help
        .split_once("\nOptions:\n")
        .unwrap_or_else(|| panic!("`{command} --help` has no Options section"))
        .1;
    // Option lines are indented by at most 6 spaces; their descriptions (which may mention other
    // flags) by 10, or follow the option after two spaces.
    let from_clap: BTreeSet<String> = options
        .lines()
        .filter(|l| l.trim_start().starts_with('-') && l.len() - l.trim_start().len() <= 6)
        .flat_map(|l| long_flags(l.trim().split("  ").next().unwrap()))
        .filter(|flag| flag != "--help")
        .collect();
    assert!(
        from_clap.contains("--quiet"),
        "could not read the options from:\n{help}"
    );
    from_clap
}

/// Asserts that the README's table between the `marker` comments lists exactly the options
/// of `cargo xtask <args>`.
fn assert_readme_lists_the_options_of(marker: &str, args: &[&str]) {
    let from_clap = options_of(args);
    let readme = read("README.md");
    let listed: BTreeSet<String> = marked_table(&readme, marker)
        .iter()
        .flat_map(|row| long_flags(&row[0]))
        .collect();
    assert!(
        listed == from_clap,
        "README.md's {marker} table must list every option of `cargo xtask {}` and no other; \
         missing: {:?}, not an option: {:?}",
        args.join(" "),
        difference(&from_clap, &listed),
        difference(&listed, &from_clap),
    );
}

#[test]
fn readme_lists_exactly_the_options_of_perf() {
    assert!(options_of(&["perf"]).contains("--nodes"));
    assert_readme_lists_the_options_of("perf-options", &["perf"]);
}

#[test]
fn readme_lists_exactly_the_options_of_scale_curve() {
    assert!(options_of(&["perf", "scale-curve"]).contains("--sizes"));
    assert_readme_lists_the_options_of("scale-curve-options", &["perf", "scale-curve"]);
}

/// The entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_committed_baseline_loads_from_its_place_in_the_layout() {
    let dir = project_root().join("baselines");
    let shipped = scenario::shipped_names();
    let mut loaded = Vec::new();
    for path in entries(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_file() {
            // Only the bench suite keeps the flat layout (and may still be schema 1).
            assert_eq!(
                name,
                format!("{}.json", tasks::bench::SCENARIO),
                "{}: scenario baselines live in <testbed>/<implementation>-<transport>/<scenario>.json",
                path.display()
            );
            let stored = baseline::load(&dir, tasks::bench::SCENARIO)
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap();
            assert!(
                !stored.sessions()[0].metrics.is_empty(),
                "{name}: no metrics"
            );
            loaded.push(name);
            continue;
        }
        let testbed = Testbed::named(&name, "the directory name")
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for variant in entries(&path) {
            assert!(
                variant.is_dir(),
                "{}: expected <implementation>-<transport>/",
                variant.display()
            );
            for file in entries(&variant) {
                let scenario = file.file_stem().unwrap().to_string_lossy().into_owned();
                assert!(
                    file.extension().is_some_and(|e| e == "json") && shipped.contains(&scenario),
                    "{}: a baseline for no shipped scenario",
                    file.display()
                );
                // Read from its own place: its content must name the testbed, implementation and
                // transport its path says.
                let content = std::fs::read_to_string(&file).unwrap();
                let value: serde_json::Value = serde_json::from_str(&content).unwrap();
                let key = baseline::BaselineKey {
                    testbed: testbed.clone(),
                    implementation: value["implementation"].as_str().unwrap_or_default().into(),
                    transport: value["transport"].as_str().unwrap_or_default().into(),
                    scenario: scenario.clone(),
                };
                assert_eq!(key.path(&dir), file, "{}: misplaced", file.display());
                let stored = baseline::load_exact(&dir, &key)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .unwrap();
                assert_eq!(
                    stored.schema_version,
                    baseline::SCHEMA_VERSION,
                    "{}: an older schema; regenerate it",
                    file.display()
                );
                assert!(
                    stored.sessions().iter().all(|s| !s.metrics.is_empty()),
                    "{}: a session without metrics",
                    file.display()
                );
                loaded.push(scenario);
            }
        }
    }
    assert!(
        loaded.iter().any(|n| n == "bench.json") && loaded.iter().any(|n| n == "standard"),
        "found only {loaded:?}"
    );
}

/// `source` with comments removed and string and char literals emptied, so that what is left
/// is code: no path in a doc comment and no brace in a format string is counted.
fn code_only(source: &str) -> String {
    let s: Vec<char> = source.chars().collect();
    let at = |i: usize| s.get(i).copied().unwrap_or('\0');
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let (mut out, mut i) = (String::new(), 0);
    while i < s.len() {
        let raw_hashes = s[i + 1..].iter().take_while(|&&c| c == '#').count();
        if at(i) == '/' && at(i + 1) == '/' {
            while i < s.len() && at(i) != '\n' {
                i += 1;
            }
        } else if at(i) == '/' && at(i + 1) == '*' {
            while i < s.len() && !(at(i) == '*' && at(i + 1) == '/') {
                i += 1;
            }
            i += 2;
        } else if at(i) == 'r' && at(i + 1 + raw_hashes) == '"' && !is_ident(at(i.wrapping_sub(1)))
        {
            let close: Vec<char> = std::iter::once('"')
                .chain("#".repeat(raw_hashes).chars())
                .collect();
            i += 2 + raw_hashes;
            while i < s.len() && !s[i..].starts_with(&close) {
                i += 1;
            }
            i += close.len();
            out.push_str("\"\"");
        } else if at(i) == '"' {
            i += 1;
            while i < s.len() && at(i) != '"' {
                i += if at(i) == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if at(i) == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A char literal; a lifetime (`'a`) has no closing quote and stays.
            i += if at(i + 1) == '\\' { 3 } else { 2 };
            while i < s.len() && at(i) != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(at(i));
            i += 1;
        }
    }
    out
}

/// `code` without `#[cfg(test)]` items: what tests import does not make a module dependency.
fn without_test_items(code: &str) -> String {
    let mut code = code.to_string();
    while let Some(start) = code.find("#[cfg(test)]") {
        let item = start + code[start..].find(['{', ';']).unwrap();
        let mut end = item + 1;
        if code[item..].starts_with('{') {
            let mut depth = 1;
            for c in code[item + 1..].chars() {
                end += c.len_utf8();
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                if depth == 0 {
                    break;
                }
            }
        }
        code.replace_range(start..end, "");
    }
    code
}

/// Every path that starts with `crate::` or `super::` in `code`, `use` groups expanded:
/// `use crate::{a::x, b::{y, z}}` gives `crate a x`, `crate b y`, `crate b z`.
fn module_paths(code: &str) -> Vec<Vec<String>> {
    let s: Vec<char> = code.chars().collect();
    let mut paths = Vec::new();
    for (i, _) in code.char_indices().filter(|(i, _)| {
        let before = code[..*i].chars().next_back().unwrap_or(' ');
        let rest = &code[*i..];
        (rest.starts_with("crate::") || rest.starts_with("super::"))
            && !(before.is_alphanumeric() || before == '_' || before == ':')
    }) {
        let mut at = code[..i].chars().count();
        paths.extend(path_tree(&s, &mut at));
    }
    paths
}

/// Parses `seg::seg::{tree, tree}` at `s[*at..]` into the paths it names.
fn path_tree(s: &[char], at: &mut usize) -> Vec<Vec<String>> {
    let peek = |at: usize| s.get(at).copied().unwrap_or('\0');
    let skip_space = |at: &mut usize| {
        while peek(*at).is_whitespace() {
            *at += 1;
        }
    };
    let ident = |at: &mut usize| {
        let start = *at;
        while peek(*at).is_alphanumeric() || peek(*at) == '_' {
            *at += 1;
        }
        s[start..*at].iter().collect::<String>()
    };
    skip_space(at);
    if peek(*at) == '{' {
        *at += 1;
        let mut all = Vec::new();
        loop {
            skip_space(at);
            match peek(*at) {
                '}' | '\0' => break,
                ',' => *at += 1,
                _ => {
                    let before = *at;
                    all.extend(path_tree(s, at));
                    if *at == before {
                        *at += 1;
                    }
                }
            }
        }
        *at += 1;
        return all;
    }
    let segment = ident(at);
    if segment.is_empty() {
        return vec![vec![]];
    }
    if peek(*at) == ':' && peek(*at + 1) == ':' {
        *at += 2;
        let mut rest = path_tree(s, at);
        rest.iter_mut().for_each(|p| p.insert(0, segment.clone()));
        return rest;
    }
    // `x as y`: the alias names nothing new.
    let mut after = *at;
    skip_space(&mut after);
    if peek(after) == 'a' && peek(after + 1) == 's' && peek(after + 2).is_whitespace() {
        *at = after + 2;
        skip_space(at);
        ident(at);
    }
    vec![vec![segment]]
}

/// A `.rs` file under `src` and the module path it defines (`netem/mod.rs` is `netem`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut path: Vec<String> = relative
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    if matches!(path.last().map(String::as_str), Some("mod" | "lib")) {
        path.pop();
    }
    path
}

/// The dependencies between the children of module `parent` of perf-runner: an edge a → b
/// when code in a (or below it) names a path into b.
fn module_graph(parent: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let src = project_root().join("perf-runner/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let depth = parent.len();
    let in_parent = |path: &[String]| path.len() > depth && path[..depth] == *parent;
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        if !in_parent(&module) {
            continue;
        }
        let code = without_test_items(&code_only(&std::fs::read_to_string(file).unwrap()));
        for path in module_paths(&code) {
            // Resolve to a path from the crate root.
            let mut resolved = if path[0] == "crate" {
                Vec::new()
            } else {
                module.clone()
            };
            for segment in &path {
                match segment.as_str() {
                    "crate" | "self" => {}
                    "super" => {
                        resolved.pop();
                    }
                    _ => resolved.push(segment.clone()),
                }
            }
            if in_parent(&resolved) && resolved[depth] != module[depth] {
                let to = resolved[depth].clone();
                graph.entry(module[depth].clone()).or_default().insert(to);
            }
        }
    }
    // Only modules count, not items re-exported by the parent (`crate::Error`).
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| in_parent(m))
        .map(|m| m[depth].clone())
        .collect();
    for targets in graph.values_mut() {
        targets.retain(|t| modules.contains(t));
    }
    graph
}

/// A cycle in `graph` as `a → b → … → a`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            return Some([&path[start..], &[node.to_string()]].concat());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn show(graph: &BTreeMap<String, BTreeSet<String>>) -> String {
    graph
        .iter()
        .map(|(from, to)| format!("  {from} -> {}\n", Vec::from_iter(to.clone()).join(", ")))
        .collect()
}

#[test]
fn the_module_path_parser_reads_use_groups_and_skips_comments_and_tests() {
    let code = code_only(
        "//! [`crate::report`]\n\
         use crate::{a::x, b::{self, y as z}, c};\n\
         use super::super::d; // crate::e\n\
         let s = \"crate::f {\"; let c = '{'; fn g<'a>() { crate::h::i() }\n\
         #[cfg(test)]\nmod tests { use crate::j; fn t() { let _ = \"}\"; } }\n\
         use crate::k;",
    );
    let found: Vec<String> = module_paths(&without_test_items(&code))
        .iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        found,
        [
            "crate::a::x",
            "crate::b::self",
            "crate::b::y",
            "crate::c",
            "super::super::d",
            "crate::h::i",
            "crate::k"
        ]
    );
}

#[test]
fn perf_runner_modules_form_no_cycle() {
    let mut graph = module_graph(&[]);
    // `error` holds `perf_runner::Error`, which wraps every module's error with `#[from]`: it
    // depends on every module that can fail by design, and modules return it, so it is the one
    // node allowed on both ends. It holds no logic, so no data flows through it.
    graph.remove("error");
    graph.values_mut().for_each(|targets| {
        targets.remove("error");
    });
    assert!(
        graph.get("run").is_some_and(|t| t.contains("cluster"))
            && graph.get("compare").is_some_and(|t| t.contains("stats")),
        "the parser missed known dependencies; it found:\n{}",
        show(&graph)
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "perf-runner's top-level modules form a cycle: {}\nall dependencies:\n{}",
            cycle.join(" -> "),
            show(&graph)
        );
    }
}

#[test]
fn netem_submodules_form_no_cycle() {
    // The switch starts the TCP proxy; what both need lives in netem/shared.rs, so the proxy
    // never reaches back into the switch.
    let graph = module_graph(&["netem"]);
    assert!(
        graph.get("proxy").is_some_and(|t| t.contains("shared"))
            && graph.get("switch").is_some_and(|t| t.contains("shared")),
        "the parser missed known dependencies; it found:\n{}",
        show(&graph)
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "netem's modules form a cycle: {}\nall dependencies:\n{}",
            cycle.join(" -> "),
            show(&graph)
        );
    }
}

#[test]
fn the_docs_name_only_rust_files_that_exist() {
    let mut files = Vec::new();
    rust_files(&project_root(), &mut files);
    let files: Vec<String> = files
        .iter()
        .map(|f| format!("/{}", f.strip_prefix(project_root()).unwrap().display()))
        .collect();
    for doc in ["README.md", "ARCHITECTURE.md"] {
        let text = read(doc);
        // Inline code spans are the odd-numbered pieces between backticks.
        let missing: Vec<&str> = text
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|span| span.ends_with(".rs") && !span.contains(' '))
            .filter(|span| !files.iter().any(|f| f.ends_with(&format!("/{span}"))))
            .collect();
        assert!(
            missing.is_empty(),
            "{doc} names files that do not exist: {missing:?}"
        );
    }
}
#[test]
fn only_the_output_module_names_the_output_root() {
    // ARCHITECTURE.md: every path under target/perf comes from perf-runner's data/output.rs.
    // Comments and unit tests may mention the default root; code may not build it.
    let root = project_root();
    let mut files = Vec::new();
    rust_files(&root.join("perf-runner/src"), &mut files);
    rust_files(&root.join("xtask/src"), &mut files);
    let output = root.join("perf-runner/src/data/output.rs");
    assert!(files.contains(&output), "found only {files:?}");
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| **f != output)
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("").to_owned();
            code.lines()
                .enumerate()
                .filter(|(_, l)| !l.trim_start().starts_with("//") && l.contains("target/perf"))
                .map(|(i, l)| format!("{}:{}: {}", f.display(), i + 1, l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "build output paths with data::output::OutputRoot instead:\n{}",
        offenders.join("\n")
    );
}

// One build of every dependency: the workspace-hack (workspace-hack/Cargo.toml says why).

/// The workspace tests, `cargo test --workspace`: the feature sets the others must match.
const WORKSPACE_TESTS: &[&str] = &["--workspace", "-e", "normal,build,dev"];

/// The other builds of a cold `cargo xtask test` (first two), and the narrower test runs of daily
/// work, which so reuse the same build too; as `cargo tree` selections.
const OTHER_BUILDS: [(&str, &[&str]); 4] = [
    ("cargo xtask", &["-p", "xtask", "-e", "normal,build"]),
    (
        "cargo bench -p swarmbench-benches (the bench CLI tests)",
        &["-p", "swarmbench-benches", "-e", "normal,build,dev"],
    ),
    (
        "cargo test -p xtask",
        &["-p", "xtask", "-e", "normal,build,dev"],
    ),
    (
        "cargo test -p perf-runner",
        &["-p", "perf-runner", "-e", "normal,build,dev"],
    ),
];

const HACK_MANIFEST: &str = "workspace-hack/Cargo.toml";
const HACK_BEGIN: &str = "### BEGIN GENERATED SECTION\n";
const HACK_END: &str = "### END GENERATED SECTION\n";
const REGENERATE_HACK: &str =
    "UPDATE_WORKSPACE_HACK=1 cargo test -p xtask --test tidy workspace_hack";

/// What a dependency is compiled for. Cargo resolves features apart for the two: the target
/// (linked into our binaries) and the host (build scripts, proc-macros and their dependencies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Target,
    Host,
}

/// One package on one side, as `cargo tree` names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Built {
    side: Side,
    name: String,
    version: String,
}

impl fmt::Display for Built {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Target => "",
            Side::Host => " (host)",
        };
        write!(f, "{} {}{side}", self.name, self.version)
    }
}

/// Every package one cargo command compiles, with its feature lists ("a,b,c", one per build).
type Resolved = BTreeMap<Built, BTreeSet<String>>;

/// The target triple of this machine, which `cargo tree` needs spelled out (see `resolve`).
fn host_triple() -> String {
    let out = Command::new(env!("CARGO")).arg("-vV").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("cargo -vV names the host")
        .to_owned()
}

/// The features cargo resolves for `selection`, from `cargo tree`, offline. An explicit
/// `--target` keeps a package's host and target builds apart in the output even where their
/// features agree.
fn resolve(selection: &[&str], host: &str) -> Resolved {
    let out = Command::new(env!("CARGO"))
        .current_dir(project_root())
        .args(["tree", "--quiet", "--offline", "--charset", "ascii"])
        .args(["--format", "{p} [{f}]", "--target", host])
        .args(selection)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree {selection:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_tree(&String::from_utf8(out.stdout).unwrap())
}

/// Reads `cargo tree --charset ascii --format "{p} [{f}]"`. A package is built for the host
/// when it is a proc-macro, follows a `[build-dependencies]` header, or hangs under a host one.
fn parse_tree(text: &str) -> Resolved {
    let mut resolved = Resolved::new();
    // By depth: whether the package last printed there is a host build, and whether the
    // entries printed there now follow a `[build-dependencies]` header.
    let mut host_at: Vec<bool> = Vec::new();
    let mut build_header_at: Vec<bool> = Vec::new();
    for line in text.lines() {
        let entry = line.trim_start_matches(['|', '`', '-', ' ']);
        if entry.is_empty() {
            continue;
        }
        let depth = (line.len() - entry.len()) / 4;
        if entry.starts_with('[') {
            // A header sits at its package's depth and applies to that package's children.
            build_header_at.resize(depth + 2, false);
            build_header_at[depth + 1] = entry == "[build-dependencies]";
            continue;
        }
        let (package, features) = entry
            .trim_end_matches(" (*)")
            .rsplit_once(" [")
            .unwrap_or_else(|| panic!("unexpected cargo tree line {line:?}"));
        let mut words = package.split(' ');
        let (name, version) = (words.next().unwrap(), words.next().unwrap());
        let host = (depth > 0 && host_at[depth - 1])
            || build_header_at.get(depth).copied().unwrap_or(false)
            || package.ends_with("(proc-macro)");
        host_at.truncate(depth);
        host_at.push(host);
        build_header_at.truncate(depth + 1);
        let built = Built {
            side: if host { Side::Host } else { Side::Target },
            name: name.to_owned(),
            version: version.trim_start_matches('v').to_owned(),
        };
        let features = features.strip_suffix(']').unwrap().to_owned();
        resolved.entry(built).or_default().insert(features);
    }
    resolved
}

/// The packages `selection` builds with other features than `workspace`, each with the features
/// `workspace` builds it with.
fn drift(selection: &Resolved, workspace: &Resolved) -> BTreeMap<Built, String> {
    selection
        .iter()
        .filter(|(built, features)| workspace.get(built) != Some(features))
        .map(|(built, _)| {
            let wanted = workspace.get(built).filter(|f| f.len() == 1);
            let wanted = wanted.unwrap_or_else(|| {
                panic!("the workspace tests build {built} with {wanted:?}, not one feature list")
            });
            (built.clone(), wanted.first().unwrap().clone())
        })
        .collect()
}

/// The generated section of the workspace-hack's manifest: every package of `wanted` with its
/// features, host builds as build-dependencies.
fn hack_section(wanted: &BTreeMap<Built, String>) -> String {
    let mut text = String::new();
    for (side, table) in [
        (Side::Target, "dependencies"),
        (Side::Host, "build-dependencies"),
    ] {
        let entries: Vec<(&Built, &String)> =
            wanted.iter().filter(|(b, _)| b.side == side).collect();
        if entries.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text += &format!("[{table}]\n");
        for (built, features) in &entries {
            // Two versions of one crate need two names.
            let versions = entries.iter().filter(|(b, _)| b.name == built.name).count();
            let key = if versions > 1 {
                format!(
                    "{}-{} = {{ package = \"{}\", ",
                    built.name,
                    built.version.replace('.', "-"),
                    built.name
                )
            } else {
                format!("{} = {{ ", built.name)
            };
            let features: Vec<String> = features
                .split(',')
                .filter(|f| !f.is_empty())
                .map(|f| format!("\"{f}\""))
                .collect();
            text += &format!(
                "{key}version = \"{}\", default-features = false, features = [{}] }}\n",
                built.version,
                features.join(", ")
            );
        }
    }
    text
}

fn write_hack_section(section: &str) {
    let path = project_root().join(HACK_MANIFEST);
    let text = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = text
        .split_once(HACK_BEGIN)
        .expect("the workspace-hack manifest has its begin marker");
    let (_, tail) = rest
        .split_once(HACK_END)
        .expect("the workspace-hack manifest has its end marker");
    // Atomically: cargo may read the manifest meanwhile (the other workspace_hack test).
    let temporary = path.with_extension("toml.new");
    std::fs::write(
        &temporary,
        format!("{head}{HACK_BEGIN}{section}{HACK_END}{tail}"),
    )
    .unwrap();
    std::fs::rename(temporary, path).unwrap();
}

/// Rewrites the generated section from scratch, so entries no longer needed go: empty, then
/// add what the tool builds lack until they lack nothing (new features can pull in new
/// packages, hence the rounds).
fn regenerate_workspace_hack(host: &str) {
    write_hack_section("");
    let mut wanted = BTreeMap::new();
    for _ in 0..5 {
        let workspace = resolve(WORKSPACE_TESTS, host);
        let lacking: BTreeMap<Built, String> = OTHER_BUILDS
            .iter()
            .flat_map(|(_, selection)| drift(&resolve(selection, host), &workspace))
            .collect();
        if lacking.is_empty() {
            return;
        }
        wanted.extend(lacking);
        write_hack_section(&hack_section(&wanted));
    }
    panic!("the workspace-hack still lacks features after five rounds");
}

#[test]
fn workspace_hack_gives_the_tools_the_features_of_the_workspace_tests() {
    let host = host_triple();
    if std::env::var_os("UPDATE_WORKSPACE_HACK").is_some() {
        regenerate_workspace_hack(&host);
    }
    let workspace = resolve(WORKSPACE_TESTS, &host);
    assert!(workspace.len() > 100, "cargo tree read as {workspace:?}");
    let mut problems = String::new();
    for (command, selection) in OTHER_BUILDS {
        let resolved = resolve(selection, &host);
        for (built, wanted) in drift(&resolved, &workspace) {
            let features = resolved[&built].iter().cloned().collect::<Vec<_>>();
            problems += &format!(
                "  {command} builds {built} with [{}], cargo test --workspace with [{wanted}]\n",
                features.join("] and [")
            );
        }
    }
    assert!(
        problems.is_empty(),
        "these builds resolve other features than `cargo test --workspace`, so they compile \
         these dependencies (and every crate above them) once more:\n{problems}\
         regenerate {HACK_MANIFEST}: {REGENERATE_HACK}"
    );
}

#[test]
fn workspace_hack_stays_out_of_the_release_node() {
    // The release node's size and speed are measured: it keeps the features it asks for.
    let node = resolve(&["-p", "swarm-node", "-e", "normal,build"], &host_triple());
    assert!(node.keys().any(|b| b.name == "libp2p"), "read as {node:?}");
    assert!(
        !node.keys().any(|b| b.name == "workspace-hack"),
        "swarm-node must not depend on workspace-hack"
    );
}

#[test]
fn the_cargo_tree_reader_tells_host_builds_from_target_builds() {
    let tree = "\
app v0.1.0 (/w/app) []
|-- serde v1.0.1 [default,std]
|   `-- serde_derive v1.0.1 (proc-macro) [default]
|       `-- syn v2.0.1 [full]
|-- ring v0.17.1 [alloc]
|   [build-dependencies]
|   `-- cc v1.2.0 []
|       `-- shlex v1.3.0 [std]
`-- shlex v1.3.0 [] (*)
[build-dependencies]
`-- cc v1.2.0 [parallel]
[dev-dependencies]
`-- tokio v1.0.0 [rt]
";
    let resolved = parse_tree(tree);
    let sides = |name: &str| -> Vec<(Side, Vec<&str>)> {
        resolved
            .iter()
            .filter(|(b, _)| b.name == name)
            .map(|(b, f)| (b.side, f.iter().map(String::as_str).collect()))
            .collect()
    };
    assert_eq!(sides("serde"), [(Side::Target, vec!["default,std"])]);
    assert_eq!(sides("serde_derive"), [(Side::Host, vec!["default"])]);
    assert_eq!(sides("syn"), [(Side::Host, vec!["full"])]);
    assert_eq!(sides("ring"), [(Side::Target, vec!["alloc"])]);
    assert_eq!(sides("cc"), [(Side::Host, vec!["", "parallel"])]);
    assert_eq!(
        sides("shlex"),
        [(Side::Target, vec![""]), (Side::Host, vec!["std"])]
    );
    assert_eq!(sides("tokio"), [(Side::Target, vec!["rt"])]);
    assert_eq!(resolved.keys().filter(|b| b.name == "app").count(), 1);
}
