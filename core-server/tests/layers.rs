//! The server's layers hold (see `docs/ARCHITECTURE.md`, "Layout and layers"): read
//! from the source tree, so a change that breaks one fails here with the file named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, by module path (`http/routes/courses`), with its text
/// (unit-test modules cut off: tests may reach anywhere).
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("reading src")
            .map(|e| e.expect("reading src").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = path
                    .strip_prefix(root)
                    .expect("under src")
                    .with_extension("")
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&path).expect("reading a source file");
                let text = match text.find("#[cfg(test)]\nmod tests") {
                    Some(at) => text[..at].to_owned(),
                    None => text,
                };
                out.insert(module, text);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

/// The lines of `text` that are code, not comments.
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
}

/// The modules `text` (of `module`) names through `crate::` paths: each path resolved to
/// the longest module file that exists.
fn imports(module: &str, text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in code_lines(text) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let path: String = rest[at + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            for n in (1..=segments.len()).rev() {
                let target = segments[..n].join("/");
                if modules.contains(&target) {
                    if target != module && !module.starts_with(&format!("{target}/")) {
                        found.insert(target);
                    }
                    break;
                }
            }
            rest = &rest[at + 7..];
        }
    }
    found
}

fn offenders(predicate: impl Fn(&str, &str) -> bool) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|(module, text)| predicate(module, text))
        .map(|(module, _)| module)
        .collect()
}

fn uses(text: &str, krate: &str) -> bool {
    code_lines(text).any(|l| {
        l.contains(&format!("{krate}::"))
            || l.starts_with(&format!("use {krate}"))
            || l.contains(&format!("{krate}::{{"))
    })
}

#[test]
fn no_file_of_the_http_layer_touches_the_database() {
    let found = offenders(|module, text| module.starts_with("http") && uses(text, "sea_orm"));
    assert!(found.is_empty(), "HTTP files importing sea_orm: {found:?}");
}

#[test]
fn nothing_below_the_http_layer_imports_actix() {
    let below = ["service", "store", "domain", "realtime", "error", "api"];
    let found = offenders(|module, text| {
        below
            .iter()
            .any(|layer| module == *layer || module.starts_with(&format!("{layer}/")))
            && (uses(text, "actix_web") || uses(text, "actix_ws"))
    });
    assert!(found.is_empty(), "actix imported below HTTP: {found:?}");
}

#[test]
fn unique_violations_are_recognised_only_by_the_constraint_map() {
    // Everything else asks `store::constraints` (`violates`, or `ApiError::from`), so a
    // constraint and what a client is told about it are written in one place.
    let found = offenders(|module, text| {
        module != "store/constraints"
            && code_lines(text).any(|l| l.contains("UniqueConstraintViolation"))
    });
    assert!(
        found.is_empty(),
        "files matching unique violations by hand: {found:?}"
    );
}

#[test]
fn only_startup_imports_the_http_layer() {
    let found = offenders(|module, text| {
        !module.starts_with("http")
            && module != "platform/startup"
            && code_lines(text).any(|l| l.contains("crate::http"))
    });
    assert!(
        found.is_empty(),
        "files importing the HTTP layer: {found:?}"
    );
}

#[test]
fn no_two_modules_import_each_other_in_a_circle() {
    let sources = sources();
    let modules: BTreeSet<String> = sources
        .keys()
        .map(|m| m.trim_end_matches("/mod").to_owned())
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let edges: BTreeMap<&str, BTreeSet<String>> = sources
        .iter()
        .filter(|(m, _)| modules.contains(m.as_str()))
        .map(|(m, text)| (m.as_str(), imports(m, text, &modules)))
        .collect();
    // Every module that reaches itself again through its imports is in a circle.
    let mut circled = Vec::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = edges[start].iter().map(String::as_str).collect();
        while let Some(next) = stack.pop() {
            if next == *start {
                circled.push(*start);
                break;
            }
            if seen.insert(next)
                && let Some(more) = edges.get(next)
            {
                stack.extend(more.iter().map(String::as_str));
            }
        }
    }
    assert!(
        circled.is_empty(),
        "modules in an import circle: {circled:?}"
    );
}

#[test]
fn every_query_string_is_read_through_the_one_checking_extractor() {
    // `http::extract::Query` refuses control characters and bounds `page` and `limit`
    // for every list; actix's own `web::Query` would skip those checks.
    let found = offenders(|module, text| {
        module.starts_with("http/")
            && code_lines(text).any(|l| l.contains("web::Query") || l.contains("QueryConfig"))
    });
    assert!(
        found.is_empty(),
        "files reading a query without the checks: {found:?}"
    );
}

#[test]
fn the_openapi_document_is_serialised_once_not_per_request() {
    // Swagger UI given the document serialises it again for every GET of
    // /api/v1/openapi.json: a few hundred KiB anyone may ask for, so 500 requests at
    // once kept every worker busy for seconds (scripts/drills/slow-reader.sh). Startup
    // serialises it once and serves the bytes; the viewer only gets its URL.
    let found = offenders(|_, text| {
        text.contains("SwaggerUi")
            && code_lines(text).any(|l| l.contains(".url(") || l.contains(".urls("))
    });
    assert!(
        found.is_empty(),
        "files handing Swagger UI the document to serve: {found:?}"
    );
}
