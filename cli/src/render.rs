//! Rendering diagnostics: like rustc on a terminal (miette), plain for files and golden
//! tests, JSON for tools. The only place that turns diagnostics into text.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde_json::{Value as Json, json};
use warden::{Diagnostic, Severity, SourceMap};

/// The CLI's help for a manifest it could not read (no file was read at all): how to make
/// one, or how to name another. The checker leaves flags to the front end.
pub fn add_manifest_help(diagnostics: &mut [Diagnostic], sources: &SourceMap) {
    if sources.files.is_empty()
        && let [d] = diagnostics
        && d.help.is_none()
        && d.file.is_none()
    {
        d.help = Some("run `warden init` to create a project, or pass --manifest PATH".into());
    }
}

/// How to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Unicode art with colour (terminals).
    Color,
    /// Unicode art without colour (pipes, files, golden tests).
    Plain,
}

struct Report<'a> {
    d: &'a Diagnostic,
    src: Option<NamedSource<String>>,
    related: Vec<Report<'a>>,
    labels: Vec<LabeledSpan>,
}

impl<'a> Report<'a> {
    fn new(d: &'a Diagnostic, sources: &SourceMap) -> Report<'a> {
        let src = d.file.map(|f| {
            let file = sources.get(f);
            NamedSource::new(file.path.clone(), file.text.clone())
        });
        let mut labels = Vec::new();
        if let Some(span) = d.span {
            labels.push(LabeledSpan::new_primary_with_span(Some(d.label.clone()), to_span(span)));
        }
        let mut related = Vec::new();
        for r in &d.related {
            if Some(r.file) == d.file {
                labels.push(LabeledSpan::new_with_span(Some(r.message.clone()), to_span(r.span)));
            } else {
                related.push(Report {
                    d,
                    src: Some({
                        let file = sources.get(r.file);
                        NamedSource::new(file.path.clone(), file.text.clone())
                    }),
                    related: Vec::new(),
                    labels: vec![LabeledSpan::new_with_span(Some(r.message.clone()), to_span(r.span))],
                });
            }
        }
        Report { d, src, related, labels }
    }
}

fn to_span(s: warden::Span) -> SourceSpan {
    SourceSpan::new((s.start as usize).into(), s.len())
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.d.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.d.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.src.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
    }
}

/// Renders diagnostics one after another.
pub fn render(diags: &[Diagnostic], sources: &SourceMap, style: Style) -> String {
    let theme = match style {
        Style::Color => GraphicalTheme::unicode(),
        Style::Plain => GraphicalTheme::unicode_nocolor(),
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_links(false).with_width(100);
    let mut out = String::new();
    for d in diags {
        let report = Report::new(d, sources);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{}[{}]: {}\n", severity_word(d.severity), d.code, d.message));
        }
    }
    out
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Diagnostics as JSON for tools: one object each, with 1-based line and column.
pub fn to_json(diags: &[Diagnostic], sources: &SourceMap) -> Json {
    Json::Array(
        diags
            .iter()
            .map(|d| {
                let (file, line, column) = match (d.file, d.span) {
                    (Some(f), Some(s)) => {
                        let src = sources.get(f);
                        let (l, c) = src.line_col(s.start);
                        (Json::from(src.path.clone()), Json::from(l), Json::from(c))
                    }
                    (Some(f), None) => (Json::from(sources.get(f).path.clone()), Json::Null, Json::Null),
                    _ => (Json::Null, Json::Null, Json::Null),
                };
                json!({
                    "severity": severity_word(d.severity),
                    "code": d.code,
                    "message": d.message,
                    "file": file,
                    "line": line,
                    "column": column,
                    "span": d.span.map(|s| json!({ "start": s.start, "end": s.end })),
                    "label": d.label,
                    "help": d.help,
                })
            })
            .collect(),
    )
}

/// `2 errors, 1 warning`
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}
