//! The trace of one execution (`warden run --trace`, `Exec::trace`): per rule, its guards
//! and the statements that fired, and why the decision came out as it did. The interpreter
//! builds it; `--explain` and other readers use these types, never the JSON's keys. Its JSON
//! form is the outcome's `trace` field (`docs/outcome.md`).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// What happened in one execution, rule by rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Why the decision came out as it did; `None` when a rule stopped the pipeline without
    /// a recorded reason.
    pub decision: Option<TraceDecision>,
    /// Each `.rule` step that ran, in order (JavaScript steps are named in `decision`).
    pub rules: Vec<RuleTrace>,
}

/// The decision and what led to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TraceDecision {
    /// No rule denied the login; `applied` names the rules that applied, in order.
    Allow { applied: Vec<String> },
    /// A `deny` statement stopped the pipeline.
    Deny(Stop),
    /// A rule error stopped the pipeline.
    RuleError(Stop),
    /// A JavaScript rule denied the login or failed.
    Js(Stop),
}

/// The statement that stopped the pipeline, and the conditions that led to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    pub rule: String,
    /// `file:line:col`, when known.
    pub location: Option<String>,
    /// The statement, as the trace shows statements (`deny unauthorized "..."`).
    pub statement: String,
    /// The enclosing guards and `if` conditions, outermost first; empty when the statement
    /// ran unconditionally.
    pub because: Vec<Because>,
}

/// A condition on the way to a statement, and the values of its parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Because {
    /// The condition, as written (normalized).
    pub condition: String,
    /// What it evaluated to.
    pub was: bool,
    /// Its operands, from the data up to the condition.
    pub parts: Vec<Part>,
}

/// One sub-expression of a condition and its value (the string `"not evaluated"` when
/// evaluation short-circuited before it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub expr: String,
    pub value: Json,
}

/// One `.rule` step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleTrace {
    pub rule: String,
    /// `file:line:col` of the rule.
    pub location: String,
    pub status: RuleStatus,
    /// The `when` guards evaluated, in order.
    pub guards: Vec<Guard>,
    /// The statements that fired (effects, logs, denies), in order.
    pub fired: Vec<Fired>,
}

/// How a rule ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleStatus {
    /// It ran to its end.
    #[serde(rename = "completed")]
    Completed,
    /// A `when` guard did not hold, so the rest of the rule did not run.
    #[serde(rename = "skipped by a guard")]
    SkippedByGuard,
    /// A `deny` statement denied the login.
    #[serde(rename = "denied")]
    Denied,
    /// A rule error denied the login.
    #[serde(rename = "rule error")]
    RuleError,
}

/// A `when` guard: its line and whether it held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guard {
    pub line: u32,
    pub held: bool,
}

/// A statement that fired: its line and what it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fired {
    pub line: u32,
    pub statement: String,
}

impl Trace {
    /// The decision in plain words, as `warden run --explain` prints it.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        match &self.decision {
            Some(TraceDecision::Allow { .. }) => {
                out.push_str("allowed: no rule denied the login\n");
                for r in &self.rules {
                    match r.status {
                        RuleStatus::SkippedByGuard => out.push_str(&format!(
                            "  {:?} ({}) did not apply: a guard did not hold\n",
                            r.rule, r.location
                        )),
                        _ if r.fired.is_empty() => {
                            out.push_str(&format!("  {:?} applied and changed nothing\n", r.rule))
                        }
                        _ => {
                            out.push_str(&format!("  {:?} applied:\n", r.rule));
                            for f in &r.fired {
                                out.push_str(&format!("    line {}: {}\n", f.line, f.statement));
                            }
                        }
                    }
                }
            }
            Some(d @ (TraceDecision::Deny(stop) | TraceDecision::RuleError(stop) | TraceDecision::Js(stop))) => {
                let verb = if matches!(d, TraceDecision::Deny(_)) { "denied by" } else { "a rule error in" };
                out.push_str(&format!(
                    "{verb} rule {:?} at {}\n  {}\n",
                    stop.rule,
                    stop.location.as_deref().unwrap_or(""),
                    stop.statement
                ));
                if stop.because.is_empty() {
                    out.push_str("  unconditionally\n");
                }
                for c in &stop.because {
                    out.push_str(&format!("  because `{}` was {}\n", c.condition, c.was));
                    for p in &c.parts {
                        if p.expr != c.condition {
                            out.push_str(&format!("    `{}` was {}\n", p.expr, p.value));
                        }
                    }
                }
            }
            None => {}
        }
        out
    }
}
