//! JavaScript habits. Rule authors come from Auth0's JavaScript rules and write `&&`, `===`,
//! `roles.includes("admin")` or `// comments`; when pest stops at such a habit, [`javascript`]
//! gives the syntax error (E0001) a message and a help that name the `.rule` spelling.
//!
//! It reads the source text around the position where parsing failed, and runs only when
//! parsing failed: a program that parses never meets it. Suggestions are rewritten from the
//! source text (a receiver, the arguments, an arrow function's body), best effort and short;
//! past [`MAX_SNIPPET`] bytes, or for a shape the table does not know, the help is generic.

use crate::{Diagnostic, FileId, Span, codes};

/// The most text a suggestion is rewritten from (it also bounds every scan here).
const MAX_SNIPPET: usize = 240;

/// The E0001 diagnostic for a JavaScript habit at `pos` (a byte offset into `text` where
/// parsing stopped), if there is one there. `expression_expected`: the parser wanted an
/// expression at `pos` (a `/` there starts a regular expression literal, not a division).
pub(crate) fn javascript(file: FileId, text: &str, pos: usize, expression_expected: bool) -> Option<Diagnostic> {
    let h = habit(text, pos, expression_expected)?;
    Some(Diagnostic::error(codes::E0001, h.message).at(file, Span::new(h.start, h.end), h.label).help(h.help))
}

struct Habit {
    start: usize,
    end: usize,
    message: String,
    label: String,
    help: String,
}

fn hint(start: usize, end: usize, message: impl Into<String>, label: &str, help: impl Into<String>) -> Option<Habit> {
    Some(Habit { start, end, message: message.into(), label: label.into(), help: help.into() })
}

fn habit(text: &str, pos: usize, expression_expected: bool) -> Option<Habit> {
    let rest = text.get(pos..)?;
    let b = text.as_bytes();
    let prev = pos.checked_sub(1).map(|i| b[i]);
    // Comments: `// ...` and `/* ... */`. After an operand, pest stops at the second
    // character (the first parsed as a division).
    let slash = if prev == Some(b'/') && (rest.starts_with('/') || rest.starts_with('*')) { pos - 1 } else { pos };
    if text[slash..].starts_with("//") {
        return hint(
            slash,
            slash + 2,
            "`//` does not start a comment in rules",
            "JavaScript comment",
            "comments start with `#` and run to the end of the line: `# like this`",
        );
    }
    if text[slash..].starts_with("/*") {
        // The whole comment when it ends on the same line, not far away.
        let line = &b[slash..(slash + MAX_SNIPPET).min(b.len())];
        let line = &line[..line.iter().position(|c| *c == b'\n').unwrap_or(line.len())];
        let end = line[2..].windows(2).position(|w| w == b"*/").map_or(slash + 2, |e| slash + e + 4);
        return hint(
            slash,
            end,
            "`/* */` does not make a comment in rules",
            "JavaScript comment",
            "comments start with `#` and run to the end of the line: put `#` before each line",
        );
    }
    let c = rest.chars().next()?;
    match c {
        '/' if expression_expected => regex_literal(text, pos),
        '\'' => single_quotes(text, pos),
        '`' => template(text, pos),
        '&' if rest.starts_with("&&") => hint(
            pos,
            pos + 2,
            "`&&` is JavaScript: rules write `and`",
            "use `and`",
            "conditions combine with `and`, `or` and `not`: `a and not b`",
        ),
        '|' if rest.starts_with("||") => hint(
            pos,
            pos + 2,
            "`||` is JavaScript: rules write `or`",
            "use `or`",
            "conditions combine with `or`; for a default value write `??`: `user.name ?? \"anonymous\"`",
        ),
        '=' if pos >= 2 && (&b[pos - 2..pos] == b"==" || &b[pos - 2..pos] == b"!=") => strict_equality(text, pos - 2),
        '!' if !rest.starts_with("!=") => {
            let operand = &rest[1..chain_end(rest.as_bytes(), 1).unwrap_or(1)];
            let help = match translate(operand, 0) {
                Some(operand) if !operand.is_empty() => format!("write `not {operand}`"),
                _ => "negate a condition with `not`: `not user.blocked`".into(),
            };
            hint(pos, pos + 1, "`!` is JavaScript: rules negate with `not`", "use `not`", help)
        }
        '?' if rest.starts_with("?.") => hint(
            pos,
            pos + 2,
            "`?.` is JavaScript: rules read fields with `.`",
            "use `.`",
            "a field of a missing value is missing (`null`), so `a.b` is already safe: write `.`",
        ),
        '?' if !rest.starts_with("??") => hint(
            pos,
            pos + 1,
            "rules have no conditional expression `c ? a : b`",
            "JavaScript conditional",
            "use an `if` block with `else` (`if c { ... } else { ... }`), a modifier (`... if c`), or `??` for a default (`x ?? \"default\"`)",
        ),
        ';' => hint(
            pos,
            pos + 1,
            "rules do not end statements with `;`",
            "not needed",
            "remove the `;`: a statement ends where the next one starts",
        ),
        '(' => method_call(text, pos),
        _ => word(text, pos),
    }
}

/// `===` or `!==` starting at `start` (pest stops at the third character).
fn strict_equality(text: &str, start: usize) -> Option<Habit> {
    let (js, rule) = if text[start..].starts_with("!==") { ("!==", "!=") } else { ("===", "==") };
    let after = text[start + 3..].trim_start_matches([' ', '\t']);
    let help = if word_at(after) == "undefined" {
        format!("write `{rule} null`: a missing value is `null` in rules")
    } else {
        format!("write `{rule}`: values of different types are never equal in rules, as with `{js}`")
    };
    hint(start, start + 3, format!("`{js}` is JavaScript: rules write `{rule}`"), &format!("use `{rule}`"), help)
}

/// A word where a statement or an operator was expected: `const`, `var`, `return`,
/// `callback(...)`, `function`, `console.log(...)`, `typeof`.
fn word(text: &str, pos: usize) -> Option<Habit> {
    let rest = &text[pos..];
    let w = word_at(rest);
    // `typeof x`: pest stops at `x`, having read `typeof` as a name.
    let before = text[..pos].trim_end_matches([' ', '\t']);
    let word_before = |c: char| c.is_ascii() && is_ident(c as u8);
    if before.ends_with("typeof") && !before[..before.len() - 6].ends_with(word_before) {
        return type_of(text, before.len() - 6, before.len());
    }
    match w {
        "typeof" => type_of(text, pos, pos + 6),
        "const" | "var" => {
            let name = word_at(rest[w.len()..].trim_start());
            let name = if name.is_empty() { "name" } else { name };
            hint(
                pos,
                pos + w.len(),
                format!("`{w}` is JavaScript: rules name a value with `let`"),
                "use `let`",
                format!("write `let {name} = ...`"),
            )
        }
        "return" => {
            let after = rest[6..].trim_start();
            if word_at(after) == "callback" {
                return callback(text, pos, pos + (rest.len() - after.len()));
            }
            hint(
                pos,
                pos + 6,
                "`return` is JavaScript: a rule goes on to the next rule after its last statement",
                "not a statement",
                "to skip the rest of a rule, guard it with `when COND`; to stop the login, `deny \"message\"`",
            )
        }
        "callback" => callback(text, pos, pos),
        "function" => hint(
            pos,
            pos + w.len(),
            "`function` is JavaScript: a .rule file holds rules",
            "JavaScript function",
            "write `rule \"name\" { statements }`, or keep a JavaScript rule in a `.js` file of the pipeline (docs/javascript.md)",
        ),
        "console" if rest.starts_with("console.log(") => {
            let open = pos + "console.log".len();
            let (args, close) = call_args(text, open)?;
            let help = match args.as_slice() {
                [one] => format!("write `log {}`", translate(one, 0).unwrap_or_else(|| "\"...\"".into())),
                _ => "write `log \"text ${value}\"`".into(),
            };
            hint(pos, close + 1, "`console.log` is JavaScript: rules write `log`", "use `log`", help)
        }
        _ => None,
    }
}

/// `typeof x` (`typeof` spans `start..word_end`), with `=== "undefined"` after it when so.
fn type_of(text: &str, start: usize, word_end: usize) -> Option<Habit> {
    let operand_start = word_end + (text[word_end..].len() - text[word_end..].trim_start_matches([' ', '\t']).len());
    let operand_end = chain_end(text.as_bytes(), operand_start).unwrap_or(operand_start);
    let operand = &text[operand_start..operand_end];
    let after = &text[operand_end..];
    let rest = after.trim_start_matches([' ', '\t']);
    let op = ["===", "!==", "==", "!="].into_iter().find(|op| rest.starts_with(op));
    if let Some(op) = op
        && !operand.is_empty()
    {
        let lit = rest[op.len()..].trim_start_matches([' ', '\t']);
        if lit.starts_with("\"undefined\"") || lit.starts_with("'undefined'") {
            let end = text.len() - lit.len() + "\"undefined\"".len();
            let rule = if op.starts_with('!') { "!=" } else { "==" };
            return hint(
                start,
                end,
                "`typeof` is JavaScript: rules test for a missing value with `== null`",
                "JavaScript type test",
                format!("write `{operand} {rule} null`"),
            );
        }
    }
    hint(
        start,
        word_end,
        "`typeof` is JavaScript: rules test for a missing value with `== null`",
        "JavaScript type test",
        "types are checked when the rule is compiled; test for a missing value with `x == null`",
    )
}

/// `callback(...)` at `call` (after `return` at `start`, if any).
fn callback(text: &str, start: usize, call: usize) -> Option<Habit> {
    let open = call + "callback".len();
    let parsed = if text[open..].starts_with('(') { call_args(text, open) } else { None };
    let end = parsed.as_ref().map_or(open, |(_, close)| close + 1);
    let first = parsed.as_ref().and_then(|(args, _)| args.first().copied()).unwrap_or("");
    if first.is_empty() || first == "null" {
        return hint(
            start,
            end,
            "rules need no `callback`: a rule goes on to the next rule after its last statement",
            "JavaScript callback",
            "remove it; to skip the rest of a rule, guard it with `when COND`",
        );
    }
    let denied = ["UnauthorizedError", "Error"].into_iter().find_map(|class| {
        let inner = first.strip_prefix("new")?.trim_start().strip_prefix(class)?.trim_start();
        let message = inner.strip_prefix('(')?.strip_suffix(')')?.trim();
        Some((class, message))
    });
    let help = match denied {
        Some((class, message)) => {
            let code = if class == "Error" { "access_denied " } else { "" };
            match translate(message, 0) {
                Some(m) if !m.is_empty() => format!("write `deny {code}{m}`"),
                _ => format!("write `deny {code}\"message\"`"),
            }
        }
        None => "deny the login with `deny \"message\"`".into(),
    };
    hint(start, end, "rules deny a login with `deny`, not `callback`", "JavaScript callback", help)
}

/// A regular expression literal `/.../flags` where an expression was expected.
fn regex_literal(text: &str, pos: usize) -> Option<Habit> {
    let (pattern, end) = regex_at(text, pos);
    let lit = pattern.as_deref().map_or("\"pattern\"".to_string(), |p| p.to_string());
    let mut span_end = end;
    let help = match text[end..].strip_prefix(".test(") {
        Some(_) if pattern.is_some() => match call_args(text, end + 5) {
            Some((args, close)) if args.len() == 1 => {
                span_end = close + 1;
                match translate(args[0], 0) {
                    Some(arg) => format!("write `matches({arg}, {lit})`"),
                    None => format!("write `matches(text, {lit})`"),
                }
            }
            _ => format!("write `matches(text, {lit})`"),
        },
        _ => format!("pass the pattern as a string: `matches(text, {lit})`, or `capture(text, {lit})` for its groups"),
    };
    hint(
        pos,
        span_end,
        "rules have no regular expression literals: patterns are strings",
        "JavaScript regular expression",
        help,
    )
}

/// `roles.includes("admin")`: pest stops at the `(` after a field.
fn method_call(text: &str, open: usize) -> Option<Habit> {
    let b = text.as_bytes();
    let before = text[..open].trim_end_matches([' ', '\t']);
    let name_start = before.len() - before.bytes().rev().take_while(|c| is_ident(*c)).count();
    if name_start == before.len() || name_start == 0 || b[name_start - 1] != b'.' {
        return None;
    }
    let name = &before[name_start..];
    let start = chain_start(b, name_start - 1)?;
    let end = chain_end(b, start).filter(|e| *e > open)?;
    // `x.indexOf(y) >= 0` as a whole.
    let last_call = text[start..end].rfind(".indexOf(").and_then(|at| call_args(text, start + at + 8));
    let end = match last_call {
        Some((_, close)) if close + 1 == end => end + index_of_test(&text[end..]).map_or(0, |(len, _)| len),
        _ => end,
    };
    let suggestion = translate(&text[start..end], 0).filter(|s| s.len() <= MAX_SNIPPET);
    let help = match suggestion {
        Some(s) => match (name, call_args(text, open)) {
            ("includes", Some((args, close))) if args.len() == 1 && close + 1 == end => format!(
                "write `{} in {}` for a list, or `{s}` (a list or a string)",
                translate(args[0], 0).unwrap_or_default(),
                &text[start..name_start - 1]
            ),
            _ => format!("write `{s}`"),
        },
        None => {
            "call a built-in function instead (docs/language.md lists them), or use a quantifier: `any x in LIST: COND`"
                .into()
        }
    };
    hint(start, end, format!("`.{name}()` is a JavaScript method: rules call built-in functions"), "method call", help)
}

/// A single-quoted string at `pos`.
fn single_quotes(text: &str, pos: usize) -> Option<Habit> {
    let end = string_end(text.as_bytes(), pos);
    let help = match end {
        Some(end) if end - pos <= MAX_SNIPPET => format!("write `{}`", double_quoted(&text[pos + 1..end - 1])),
        _ => "strings use double quotes: \"like this\"".into(),
    };
    hint(pos, end.unwrap_or(pos + 1), "strings use double quotes in rules", "single-quoted string", help)
}

/// A template literal at `pos`.
fn template(text: &str, pos: usize) -> Option<Habit> {
    let end = string_end(text.as_bytes(), pos);
    let help = match end {
        Some(end) if end - pos <= MAX_SNIPPET => {
            format!("write `\"{}\"`: `${{...}}` interpolates in any string", escape_quotes(&text[pos + 1..end - 1]))
        }
        _ => "strings use double quotes, and `${...}` interpolates in any string: \"Hello ${user.name}\"".into(),
    };
    hint(pos, end.unwrap_or(pos + 1), "strings use double quotes in rules", "template literal", help)
}

// ---------------------------------------------------------------------------------------------
// Rewriting a JavaScript expression in `.rule` syntax, best effort.

/// `text` (a JavaScript expression) in `.rule` syntax: operators, quotes, `undefined`,
/// `.length` and the methods [`method`] knows. `None` when it holds a method call the table
/// does not know, or nests too deep.
fn translate(text: &str, depth: usize) -> Option<String> {
    if depth > 8 || text.len() > MAX_SNIPPET {
        return None;
    }
    let b = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        match b[i] {
            b'"' | b'\'' | b'`' => {
                let end = string_end(b, i)?;
                let inner = &text[i + 1..end - 1];
                match b[i] {
                    b'"' => out.push_str(&text[i..end]),
                    b'\'' => out.push_str(&double_quoted(inner)),
                    _ => out.push_str(&format!("\"{}\"", escape_quotes(inner))),
                }
                i = end;
            }
            _ if rest.starts_with("===") || rest.starts_with("!==") => {
                out.push_str(&rest[..2]);
                i += 3;
            }
            _ if rest.starts_with("==") || rest.starts_with("!=") || rest.starts_with("??") => {
                out.push_str(&rest[..2]);
                i += 2;
            }
            _ if rest.starts_with("&&") || rest.starts_with("||") => {
                spaced(&mut out, if b[i] == b'&' { "and" } else { "or" }, &rest[2..]);
                i += 2;
            }
            b'!' => {
                spaced(&mut out, "not", &rest[1..]);
                i += 1;
            }
            b'.' if rest[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => {
                let name = word_at(&rest[1..]);
                let after = i + 1 + name.len();
                let recv_start = chain_start(out.as_bytes(), out.len())?;
                let recv = out[recv_start..].to_string();
                let (rewritten, next) = if text[after..].starts_with('(') {
                    let (args, close) = call_args(text, after)?;
                    let (s, extra) = method(&recv, name, &args, &text[close + 1..], depth)?;
                    (s, close + 1 + extra)
                } else if name == "length" {
                    (format!("len({recv})"), after)
                } else {
                    (format!("{recv}.{name}"), after)
                };
                out.truncate(recv_start);
                // A quantifier's condition extends as far right as it can: enclose it unless
                // it is the whole expression.
                let quantifier = rewritten.starts_with("any ") || rewritten.starts_with("all ");
                if quantifier && (recv_start > 0 || !text[next..].trim().is_empty()) {
                    out.push_str(&format!("({rewritten})"));
                } else {
                    out.push_str(&rewritten);
                }
                i = next;
            }
            c if is_ident(c) => {
                let w = word_at(rest);
                out.push_str(if w == "undefined" { "null" } else { w });
                i += w.len().max(1);
            }
            _ => {
                let len = rest.chars().next().map_or(1, char::len_utf8);
                out.push_str(&rest[..len]);
                i += len;
            }
        }
    }
    Some(out)
}

/// The `.rule` spelling of `recv.name(args)`, and how many bytes of `after` (the text after
/// the call) it takes too (`indexOf(x) >= 0`).
fn method(recv: &str, name: &str, args: &[&str], after: &str, depth: usize) -> Option<(String, usize)> {
    let arg = |i: usize| translate(args[i], depth + 1);
    let s = match (name, args.len()) {
        ("includes", 1) => format!("contains({recv}, {})", arg(0)?),
        ("indexOf", 1) => {
            return Some(match index_of_test(after) {
                Some((len, false)) => (format!("contains({recv}, {})", arg(0)?), len),
                Some((len, true)) => (format!("not contains({recv}, {})", arg(0)?), len),
                None => (format!("index_of({recv}, {})", arg(0)?), 0),
            });
        }
        ("toLowerCase" | "toLocaleLowerCase", 0) => format!("lower({recv})"),
        ("toUpperCase" | "toLocaleUpperCase", 0) => format!("upper({recv})"),
        ("trim", 0) => format!("trim({recv})"),
        ("startsWith", 1) => format!("starts_with({recv}, {})", arg(0)?),
        ("endsWith", 1) => format!("ends_with({recv}, {})", arg(0)?),
        ("split", 1) => format!("split({recv}, {})", arg(0)?),
        ("join", 0) => format!("join({recv}, \",\")"),
        ("join", 1) => format!("join({recv}, {})", arg(0)?),
        ("replace" | "replaceAll", 2) => match regex_at(args[0], 0) {
            (Some(pattern), end) if end == args[0].len() => format!("replace_regex({recv}, {pattern}, {})", arg(1)?),
            _ => format!("replace({recv}, {}, {})", arg(0)?, arg(1)?),
        },
        ("match", 1) => match regex_at(args[0], 0) {
            (Some(pattern), end) if end == args[0].len() => format!("matches({recv}, {pattern})"),
            _ => format!("matches({recv}, {})", arg(0)?),
        },
        ("slice", 1) => format!("slice({recv}, {})", arg(0)?),
        ("slice", 2) => format!("slice({recv}, {}, {})", arg(0)?, arg(1)?),
        ("toString", 0) => format!("\"${{{recv}}}\""),
        ("some" | "every" | "filter" | "map" | "find", 1) => {
            let (var, body) = arrow(args[0])?;
            let body = translate(body, depth + 1)?;
            match name {
                "some" => format!("any {var} in {recv}: {body}"),
                "every" => format!("all {var} in {recv}: {body}"),
                "filter" => format!("[{var} for {var} in {recv} if {body}]"),
                "map" => format!("[{body} for {var} in {recv}]"),
                _ => format!("first([{var} for {var} in {recv} if {body}])"),
            }
        }
        ("keys" | "values", 1) if recv == "Object" => format!("{name}({})", arg(0)?),
        ("stringify", 1) if recv == "JSON" => format!("\"${{{}}}\"", arg(0)?),
        ("now", 0) if recv == "Date" => "now()".into(),
        _ => return None,
    };
    Some((s, 0))
}

/// A comparison after `indexOf(...)` that tests presence: its length, and whether it tests
/// absence (`=== -1`, `< 0`).
fn index_of_test(after: &str) -> Option<(usize, bool)> {
    let t = after.trim_start_matches([' ', '\t']);
    let skipped = after.len() - t.len();
    let tests = [
        (">=", "0", false),
        (">", "-1", false),
        ("!==", "-1", false),
        ("!=", "-1", false),
        ("===", "-1", true),
        ("==", "-1", true),
        ("<", "0", true),
    ];
    tests.into_iter().find_map(|(op, n, absent)| {
        let r = t.strip_prefix(op)?;
        if r.starts_with('=') {
            return None;
        }
        let r2 = r.trim_start_matches([' ', '\t']).strip_prefix(n)?;
        if r2.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return None;
        }
        Some((skipped + t.len() - r2.len(), absent))
    })
}

/// `r => body`, `(r) => body`, `r => { return body; }` or `function (r) { return body; }`.
fn arrow(f: &str) -> Option<(&str, &str)> {
    let f = f.trim();
    let (params, body) = match f.strip_prefix("function") {
        Some(rest) => {
            let rest = rest.trim_start();
            let close = rest.find(')')?;
            (rest.strip_prefix('(')?.get(..close - 1)?, rest[close + 1..].trim())
        }
        None => {
            let (p, body) = f.split_once("=>")?;
            (p.trim().trim_start_matches('(').trim_end_matches(')'), body.trim())
        }
    };
    let var = params.trim();
    if var.is_empty() || !var.bytes().all(is_ident) {
        return None;
    }
    let body = match body.strip_prefix('{') {
        Some(block) => block.strip_suffix('}')?.trim().strip_prefix("return")?.trim().trim_end_matches(';').trim(),
        None => body,
    };
    Some((var, body))
}

/// Pushes a word operator with a space on each side.
fn spaced(out: &mut String, op: &str, rest: &str) {
    if !out.is_empty() && !out.ends_with([' ', '\t', '(']) {
        out.push(' ');
    }
    out.push_str(op);
    if !rest.starts_with([' ', '\t']) {
        out.push(' ');
    }
}

// ---------------------------------------------------------------------------------------------
// Scanning source text (every scan is bounded by MAX_SNIPPET bytes).

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// The name (ASCII letters, digits, `_`, `$`) at the start of `s`.
fn word_at(s: &str) -> &str {
    &s[..s.bytes().take_while(|c| is_ident(*c)).count()]
}

/// Where the operand that ends at `end` starts: a name with fields, indexes and calls
/// (`user.app_metadata["a"].roles`, `lower(x)`), a parenthesised expression, a list or a
/// string.
fn chain_start(b: &[u8], end: usize) -> Option<usize> {
    let floor = end.saturating_sub(MAX_SNIPPET);
    let mut i = end;
    loop {
        let last = *b.get(i.checked_sub(1)?)?;
        match last {
            b']' | b')' => {
                i = open_of(b, i - 1, floor)?;
                match i.checked_sub(1).map(|j| b[j]) {
                    Some(c) if is_ident(c) || c == b']' || c == b')' => {}
                    _ => return Some(i),
                }
            }
            b'"' => {
                let mut j = i - 1;
                loop {
                    j = j.checked_sub(1).filter(|j| *j >= floor)?;
                    if b[j] == b'"' && (j == 0 || b[j - 1] != b'\\') {
                        return Some(j);
                    }
                }
            }
            c if is_ident(c) => {
                while i > floor && is_ident(b[i - 1]) {
                    i -= 1;
                }
                if i > floor && b[i - 1] == b'.' {
                    i -= 1;
                } else {
                    return Some(i);
                }
            }
            _ => return None,
        }
        if i <= floor {
            return None;
        }
    }
}

/// The matching opening bracket of the one at `close`.
fn open_of(b: &[u8], close: usize, floor: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = close + 1;
    while i > floor {
        i -= 1;
        match b[i] {
            b')' | b']' => depth += 1,
            b'(' | b'[' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where the operand starting at `start` ends: a name or a parenthesised expression followed
/// by fields, indexes and calls.
fn chain_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    match b.get(i)? {
        b'(' | b'[' => i = close_of(b, i)? + 1,
        b'"' | b'\'' => i = string_end(b, i)?,
        c if is_ident(*c) => i += b[i..].iter().take_while(|c| is_ident(**c)).count(),
        _ => return None,
    }
    loop {
        match b.get(i) {
            Some(b'.') if b.get(i + 1).is_some_and(|c| is_ident(*c)) => {
                i += 1 + b[i + 1..].iter().take_while(|c| is_ident(**c)).count();
            }
            Some(b'(' | b'[') => i = close_of(b, i)? + 1,
            _ => return Some(i),
        }
    }
}

/// The matching closing bracket of the one at `open`, skipping strings.
fn close_of(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    let ceiling = (open + MAX_SNIPPET).min(b.len());
    while i < ceiling {
        match b[i] {
            b'"' | b'\'' | b'`' => {
                i = string_end(b, i)?;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The arguments of the call whose `(` is at `open` (each trimmed; none for `()`), and the
/// position of its `)`.
fn call_args(text: &str, open: usize) -> Option<(Vec<&str>, usize)> {
    let b = text.as_bytes();
    let close = close_of(b, open)?;
    let mut args = Vec::new();
    let (mut depth, mut from, mut i) = (0usize, open + 1, open + 1);
    while i < close {
        match b[i] {
            b'"' | b'\'' | b'`' => {
                i = string_end(b, i)?;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                args.push(text[from..i].trim());
                from = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let last = text[from..close].trim();
    if !last.is_empty() || !args.is_empty() {
        args.push(last);
    }
    Some((args, close))
}

/// The end (past the closing quote) of the string literal whose quote is at `start`, on the
/// same line.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let quote = b[start];
    let mut i = start + 1;
    let ceiling = (start + MAX_SNIPPET).min(b.len());
    while i < ceiling {
        match b[i] {
            b'\\' => i += 1,
            b'\n' => return None,
            c if c == quote => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// A regular expression literal `/pattern/flags` at `start`: the pattern as a `.rule` string
/// literal (flags `i`, `m`, `s` as inline flags) when it is one, and where it ends.
fn regex_at(text: &str, start: usize) -> (Option<String>, usize) {
    let b = text.as_bytes();
    let mut i = start + 1;
    let ceiling = (start + MAX_SNIPPET).min(b.len());
    let mut class = false;
    while i < ceiling {
        match b[i] {
            b'\\' => i += 1,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => {
                let flags = word_at(&text[i + 1..]);
                let end = i + 1 + flags.len();
                let inline: String = flags.chars().filter(|f| matches!(f, 'i' | 'm' | 's')).collect();
                let mut pattern = text[start + 1..i].replace("\\/", "/");
                if !inline.is_empty() {
                    pattern = format!("(?{inline}){pattern}");
                }
                let escaped = pattern.replace('\\', "\\\\").replace('"', "\\\"").replace("${", "\\${");
                return (Some(format!("\"{escaped}\"")), end);
            }
            b'\n' => break,
            _ => {}
        }
        i += 1;
    }
    (None, start + 1)
}

/// The text of a single-quoted JavaScript string as a `.rule` string literal.
fn double_quoted(inner: &str) -> String {
    let unescaped = inner.replace("\\'", "'");
    format!("\"{}\"", escape_quotes(&unescaped).replace("${", "\\${"))
}

/// `"` escaped (a template literal's `` \` `` unescaped).
fn escape_quotes(s: &str) -> String {
    s.replace("\\`", "`").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn help(text: &str, pos: usize, expression_expected: bool) -> Option<(String, String)> {
        habit(text, pos, expression_expected).map(|h| (text[h.start..h.end].to_string(), h.help))
    }

    #[test]
    fn method_calls_are_rewritten() {
        for (js, rule) in [
            ("user.email.toLowerCase()", "lower(user.email)"),
            ("user.email.trim().toLowerCase().endsWith(\"@x.com\")", "ends_with(lower(trim(user.email)), \"@x.com\")"),
            ("roles.indexOf('a') >= 0", "contains(roles, \"a\")"),
            ("roles.indexOf(\"a\") === -1", "not contains(roles, \"a\")"),
            ("roles.some(r => r.startsWith('admin:'))", "any r in roles: starts_with(r, \"admin:\")"),
            ("roles.every(function (r) { return r !== 'x'; })", "all r in roles: r != \"x\""),
            ("roles.filter((r) => r.length > 3)", "[r for r in roles if len(r) > 3]"),
            ("roles.map(r => r.toUpperCase()).join(', ')", "join([upper(r) for r in roles], \", \")"),
            ("user.name.replace(/\\s+/g, ' ')", "replace_regex(user.name, \"\\\\s+\", \" \")"),
            ("user.email.match(/@EXAMPLE\\.com$/i)", "matches(user.email, \"(?i)@EXAMPLE\\\\.com$\")"),
            ("a.b.split(',').length", "len(split(a.b, \",\"))"),
            ("x.includes(y) && !z", "contains(x, y) and not z"),
        ] {
            assert_eq!(translate(js, 0).as_deref(), Some(rule), "{js}");
        }
        assert_eq!(translate("x.frobnicate()", 0), None);
    }

    #[test]
    fn includes_names_in_and_contains() {
        let text = "deny if context.authorization.roles.includes(\"admin\")\n";
        let (span, help) = help(text, text.find('(').unwrap_or(0), false).expect("a hint");
        assert_eq!(span, "context.authorization.roles.includes(\"admin\")");
        assert_eq!(
            help,
            "write `\"admin\" in context.authorization.roles` for a list, or `contains(context.authorization.roles, \"admin\")` (a list or a string)"
        );
    }

    #[test]
    fn strict_equality_with_undefined_says_null() {
        let text = "deny if user.x === undefined";
        let (span, help) = help(text, text.find("= u").unwrap_or(0), false).expect("a hint");
        assert_eq!((span.as_str(), help.as_str()), ("===", "write `== null`: a missing value is `null` in rules"));
    }

    /// Any position of any text: no panic (positions inside characters are skipped, as pest
    /// never reports them).
    #[test]
    fn no_panic_anywhere() {
        let texts = [
            "a.b(é'x\"y`z/*//",
            "'unterminated",
            "x.y(\"é\".z(",
            ")]\"'`(/[é]/i.test(",
            "typeof",
            "typeof x === 'undefined'",
            "return callback(new Error(",
            "callback(new UnauthorizedError('ü'))",
            "console.log(",
            "!==",
            "=",
            "?",
            "(((((((((((((((((((((((((((((((((((x.y()",
            "\"é\".a()",
            "[1,2].map(x => x).b.c(d)",
            "x.some(=>)",
            "x.some(function",
            "x.some(function () { return }",
            "/x",
            "/[/]/.test(1)",
            "const",
            "var é",
        ];
        for t in texts {
            for pos in 0..=t.len() + 1 {
                if t.is_char_boundary(pos.min(t.len())) {
                    let _ = habit(t, pos, true);
                    let _ = habit(t, pos, false);
                }
            }
            let _ = translate(t, 0);
        }
    }
}
