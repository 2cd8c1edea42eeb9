//! What each statement does with its evaluated operands: shared by every backend, so a
//! `claim` or a `persist` means the same everywhere.

use crate::Fault;
use crate::fault::fault;
use warden_ir::{Program, ScopeOp, StmtKind};

use crate::decode::MAX_INPUT_DEPTH;
use crate::outcome::{Cause, ErrorInfo};
use crate::{Txn, Value, ops};

/// The result of a statement.
#[derive(Debug)]
pub enum Applied {
    Next,
    Deny(ErrorInfo),
}

/// Where a statement failed: the index of the operand at fault, or `None` for the statement.
pub type StmtFailure = (Option<usize>, String);

/// Applies an effect statement (not `when`, `let` or `if`) given its operands, evaluated in
/// order: deny `[message]`, set `[value]`, unset `[]`, claim `[value]`, scope `[values..]`,
/// mfa `[remember?, options..]`, redirect `[url]`, persist `[value]`, log `[message]`.
pub fn apply(
    txn: &mut Txn,
    prog: &Program,
    stmt: &StmtKind,
    vals: &[Value],
    rule: &str,
) -> Result<Applied, StmtFailure> {
    let at = |i: usize| move |m: Fault| (Some(i), m.into_message());
    match stmt {
        StmtKind::Deny { code, .. } => {
            let description = match vals.first() {
                None | Some(Value::Null) => "Access denied.".to_string(),
                Some(v) => v.to_text(),
            };
            return Ok(Applied::Deny(ErrorInfo {
                code: code.as_str().into(),
                description,
                rule: rule.to_string(),
                cause: Cause::Denied,
                location: None,
            }));
        }
        StmtKind::SetUser { path, refresh, .. } => {
            not_too_deep(path.len(), &vals[0]).map_err(at(0))?;
            fits(prog.input.user.at(path), path, &vals[0]).map_err(at(0))?;
            txn.set_user(path, &vals[0]);
            txn.refresh(prog, prog.refreshed(*refresh)).map_err(breaks).map_err(at(0))?;
        }
        StmtKind::UnsetUser { path, refresh } => {
            txn.unset_user(path);
            txn.refresh(prog, prog.refreshed(*refresh)).map_err(|m| (None, breaks(m).into_message()))?;
        }
        StmtKind::Claim { token, name, .. } => txn.claim(*token, name, &vals[0], rule),
        StmtKind::Scope { op, .. } => {
            let mut scopes = Vec::new();
            for (i, v) in vals.iter().enumerate() {
                scopes_of(v, &mut scopes).map_err(at(i))?;
            }
            match op {
                ScopeOp::Add => scopes.iter().for_each(|s| txn.scope_add(s)),
                ScopeOp::Remove => scopes.iter().for_each(|s| txn.scope_remove(s)),
                ScopeOp::Set => txn.scope_set(scopes),
            }
        }
        StmtKind::Mfa { provider, remember, options } => {
            let (remember, first) = match remember {
                Some(_) => (ops::truth(&vals[0]).map_err(at(0))?, 1),
                None => (false, 0),
            };
            let mut opts = Vec::new();
            for (i, (k, _)) in options.iter().enumerate() {
                match &vals[first + i] {
                    Value::Null => {}
                    Value::Str(v) => opts.push((k.clone(), v.to_string())),
                    other => {
                        return Err((
                            Some(first + i),
                            format!("MFA option `{k}` must be a string, found {}", other.describe()),
                        ));
                    }
                }
            }
            txn.mfa(provider, remember, opts, rule);
        }
        StmtKind::Redirect(_) => match &vals[0] {
            Value::Str(url) => txn.redirect(url, rule).map_err(at(0))?,
            other => return Err((Some(0), format!("the redirect URL is {}, not a string", other.describe()))),
        },
        StmtKind::Persist { metadata, key, path: nested, refresh, .. } => {
            let mut path = vec![metadata.field().to_string(), key.clone()];
            path.extend(nested.iter().cloned());
            not_too_deep(path.len(), &vals[0]).map_err(at(0))?;
            fits(prog.input.user.at(&path), &path, &vals[0]).map_err(at(0))?;
            let top = if nested.is_empty() {
                vals[0].clone()
            } else {
                // The key's current value, changed below it: Auth0 merges top-level keys only.
                let current = txn.user.get(metadata.field()).and_then(|m| m.get(key));
                // A path that cannot be written is the statement's fault, not the value's.
                let updated = nested_update(current, key, nested, &vals[0]).map_err(|m| (None, m.into_message()))?;
                fits(prog.input.user.at(&path[..2]), &path[..2], &updated).map_err(at(0))?;
                updated
            };
            // So is a user without `user_id`.
            txn.persist(*metadata, key, &top, rule).map_err(|m| (None, m.into_message()))?;
            txn.refresh(prog, prog.refreshed(*refresh)).map_err(breaks).map_err(at(0))?;
        }
        StmtKind::Log(_) => txn.log(rule, "log", vals[0].to_text()),
        StmtKind::When(_) | StmtKind::Let(..) | StmtKind::If { .. } => {}
    }
    Ok(Applied::Next)
}

/// A value written into a known field of the user must have the field's shape (a missing
/// value removes the field).
fn fits(shape: Option<&warden_ir::Shape>, path: &[String], v: &Value) -> Result<(), Fault> {
    match shape {
        Some(shape) if !v.is_null() && *shape != warden_ir::Shape::Any => {
            crate::decode::check_input(&format!("user.{}", path.join(".")), shape, &v.to_json())
                .map_err(|e| Fault(e.to_string()))
        }
        _ => Ok(()),
    }
}

/// `current` (the value of metadata key `key`, maybe absent) with `value` written at `path`
/// below it: missing objects on the way are created, a missing value removes the last key,
/// and a value on the way that is not an object is an error.
fn nested_update(
    current: Option<&serde_json::Value>,
    key: &str,
    path: &[String],
    value: &Value,
) -> Result<Value, Fault> {
    use serde_json::{Map, Value as Json};
    let mut root = match current {
        None | Some(Json::Null) => Json::Object(Map::new()),
        Some(j @ Json::Object(_)) => j.clone(),
        Some(other) => {
            return Err(fault!(
                "cannot write below `{key}`: it holds {}, not an object",
                Value::from_json(other).describe()
            ));
        }
    };
    let Some((last, parents)) = path.split_last() else {
        return Ok(value.clone());
    };
    let mut cur = &mut root;
    let mut shown = key.to_string();
    for p in parents {
        let Json::Object(map) = cur else {
            return Err(fault!("cannot write below `{shown}`: it is not an object"));
        };
        let next = map.entry(p.clone()).or_insert_with(|| Json::Object(Map::new()));
        if next.is_null() {
            *next = Json::Object(Map::new());
        }
        shown = format!("{shown}.{p}");
        if !next.is_object() {
            return Err(fault!(
                "cannot write below `{shown}`: it holds {}, not an object",
                Value::from_json(next).describe()
            ));
        }
        cur = next;
    }
    let Json::Object(map) = cur else {
        return Err(fault!("cannot write below `{shown}`: it is not an object"));
    };
    if value.is_null() {
        map.shift_remove(last);
    } else {
        map.insert(last.clone(), value.to_json());
    }
    Ok(Value::from_json(&root))
}

/// The user stays within [`MAX_INPUT_DEPTH`] levels (inputs are refused past it): a value
/// written `path` fields below the user's top level may nest `MAX_INPUT_DEPTH - path` deep.
fn not_too_deep(path: usize, v: &Value) -> Result<(), Fault> {
    if v.nests_deeper_than(MAX_INPUT_DEPTH.saturating_sub(path)) {
        return Err(fault!("the value nests too deep: the user may nest at most {MAX_INPUT_DEPTH} levels"));
    }
    Ok(())
}

fn breaks(m: Fault) -> Fault {
    fault!("the change breaks a typed field: {m}")
}

/// The scopes an operand names: a string holds space-separated scopes, a list holds strings
/// (each split the same way). A missing operand, a missing element or a string without a
/// scope in it is a rule error: a scope statement never silently does nothing.
fn scopes_of(v: &Value, out: &mut Vec<String>) -> Result<(), Fault> {
    fn split(s: &str, out: &mut Vec<String>) -> Result<(), Fault> {
        let before = out.len();
        out.extend(s.split_whitespace().map(String::from));
        if out.len() == before {
            return Err(fault!("{s:?} names no scope"));
        }
        Ok(())
    }
    match v {
        Value::Null => return Err("the scope is missing".into()),
        Value::Str(s) => split(s, out)?,
        Value::List(items) => {
            for item in items.iter() {
                match item {
                    Value::Str(s) => split(s, out)?,
                    Value::Null => return Err("a scope in the list is missing".into()),
                    other => return Err(fault!("scopes are strings, found {}", other.describe())),
                }
            }
        }
        other => return Err(fault!("scopes are strings, found {}", other.describe())),
    }
    Ok(())
}
