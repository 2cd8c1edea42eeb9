//! `warden fmt`: rewrite `.rule` files in the canonical layout, or (`--check`) show the
//! difference and fail.

use std::path::{Path, PathBuf};

use crate::{EXIT_ERROR, EXIT_USAGE, FmtArgs, Output, render};

pub(crate) fn command(a: &FmtArgs, style: render::Style, out: &mut Output) -> u8 {
    let paths = if a.paths.is_empty() { vec![PathBuf::from(".")] } else { a.paths.clone() };
    let mut files = Vec::new();
    for p in &paths {
        if let Err(m) = collect(p, &mut files) {
            out.stderr.push_str(&format!("error: {m}\n"));
            return EXIT_USAGE;
        }
    }
    if files.is_empty() {
        out.stderr.push_str("error: no .rule files found\n");
        return EXIT_USAGE;
    }
    let (mut changed, mut failed) = (0, 0);
    for file in &files {
        let shown = file.display().to_string();
        let text = match read(file) {
            Ok(t) => t,
            Err(m) => {
                out.stderr.push_str(&format!("error: {shown}: {m}\n"));
                failed += 1;
                continue;
            }
        };
        let formatted = match warden::format_source(&text) {
            Ok(f) => f,
            Err(warden::FormatError::Syntax(diags)) => {
                let mut sources = warden::SourceMap::default();
                sources.add(shown.clone(), warden::files::strip_bom(&text).to_string());
                out.stderr.push_str(&render::render(&diags, &sources, style));
                out.stderr.push_str(&format!("error: {shown} was not formatted: it does not parse\n"));
                failed += 1;
                continue;
            }
            Err(e) => {
                out.stderr.push_str(&format!("error: {shown} was not formatted: {e}\n"));
                failed += 1;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        if a.check {
            out.stdout.push_str(&diff(&shown, &text, &formatted));
        } else if let Err(e) = std::fs::write(file, &formatted) {
            out.stderr.push_str(&format!("error: cannot write {shown}: {e}\n"));
            failed += 1;
        } else {
            out.stderr.push_str(&format!("formatted {shown}\n"));
        }
    }
    let n = files.len();
    let s = |k: usize| if k == 1 { "" } else { "s" };
    if a.check && changed > 0 {
        out.stderr.push_str(&format!("{changed} of {n} file{} would be reformatted (run `warden fmt`)\n", s(n)));
    } else if changed == 0 && failed == 0 {
        out.stderr.push_str(&format!("{n} file{} already formatted\n", s(n)));
    }
    if failed > 0 || (a.check && changed > 0) { EXIT_ERROR } else { 0 }
}

/// The text the diagnostics' offsets refer to (the formatter skips a byte-order mark).
/// A `.rule` file as every rule file is read (a regular file, at most 16 MiB, UTF-8), with its
/// byte-order mark, which the layout drops.
fn read(path: &Path) -> Result<String, String> {
    let bytes = warden::files::read_file(path, warden::files::MAX_FILE_BYTES).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| warden::files::ReadError::NotUtf8.to_string())
}

/// `.rule` files under `path` (a file is taken as named), sorted; hidden directories,
/// `target` and `node_modules` are skipped.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut found = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if !name.starts_with('.') && name != "target" && name != "node_modules" {
                    dirs.push(p);
                }
            } else if kind.is_file() && name.ends_with(".rule") {
                found.push(p);
            }
        }
    }
    found.sort();
    files.extend(found);
    Ok(())
}

/// A unified diff of a file's text and its formatted text.
fn diff(shown: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(shown, &format!("{shown} (formatted)"))
        .to_string()
}
