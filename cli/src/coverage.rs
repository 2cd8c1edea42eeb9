//! Coverage reports for `warden test --coverage`: a terminal summary and an lcov file.

use std::collections::BTreeMap;

pub use warden::FileCoverage;

/// `rules 4/4, statements 10/12, branches 14/20` per file, then what was missed.
pub fn summary(files: &BTreeMap<String, FileCoverage>) -> String {
    let mut out = String::from("coverage:\n");
    for (path, f) in files {
        let (rc, rt) = f.rules_covered();
        let (lc, lt) = f.lines_covered();
        let (bc, bt) = f.branches_covered();
        out.push_str(&format!("  {path}: rules {rc}/{rt}, statements {lc}/{lt}, branches {bc}/{bt}\n"));
        for (line, hits) in &f.lines {
            if *hits == 0 {
                out.push_str(&format!("    line {line}: statement never ran\n"));
            }
        }
        for b in &f.branches {
            if b.hits == 0 {
                out.push_str(&format!("    line {}: {}: never\n", b.line, b.what));
            }
        }
    }
    out
}

/// The lcov format that editors and CI services read.
pub fn lcov(files: &BTreeMap<String, FileCoverage>) -> String {
    let mut out = String::new();
    for (path, f) in files {
        out.push_str(&format!("TN:\nSF:{path}\n"));
        for r in &f.rules {
            out.push_str(&format!("FN:{},{}\n", r.line, r.name));
        }
        for r in &f.rules {
            out.push_str(&format!("FNDA:{},{}\n", r.hits, r.name));
        }
        let (rc, rt) = f.rules_covered();
        out.push_str(&format!("FNF:{rt}\nFNH:{rc}\n"));
        for b in &f.branches {
            out.push_str(&format!("BRDA:{},{},{},{}\n", b.line, b.block, b.branch, b.hits));
        }
        let (bc, bt) = f.branches_covered();
        out.push_str(&format!("BRF:{bt}\nBRH:{bc}\n"));
        for (line, hits) in &f.lines {
            out.push_str(&format!("DA:{line},{hits}\n"));
        }
        let (lc, lt) = f.lines_covered();
        out.push_str(&format!("LF:{lt}\nLH:{lc}\nend_of_record\n"));
    }
    out
}
