//! `/metrics`: Prometheus (OpenMetrics) text, from `prometheus-client`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoginLabels {
    pub pipeline: String,
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// `none` for an allow; else the outcome's cause (`denied`, `rule_error`, `timeout`,
    /// `resource_limit`).
    pub cause: &'static str,
    /// `native` or the hook adapter (`hydra`, `kratos`, `zitadel`, `opa`).
    pub api: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PipelineLabel {
    pub pipeline: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    pub pipeline: String,
    pub rule: String,
    /// `rule_error`, `timeout` or `resource_limit`.
    pub cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    pub pipeline: String,
    /// `reloaded`, `unchanged` or `failed`.
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectLabels {
    /// `bad_request`, `too_large`, `unauthorized`, `forbidden`, `not_found`, `overloaded`,
    /// `internal`.
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AnsweredLabels {
    /// The hook adapter.
    pub api: &'static str,
    /// The status sent.
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InfoLabels {
    pub pipeline: String,
    pub hash: String,
}

/// Every metric the server keeps.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub logins: Family<LoginLabels, Counter>,
    pub latency: Family<PipelineLabel, Histogram, fn() -> Histogram>,
    pub rule_failures: Family<RuleLabels, Counter>,
    pub reloads: Family<ReloadLabels, Counter>,
    pub rejected: Family<RejectLabels, Counter>,
    pub answered: Family<AnsweredLabels, Counter>,
    pub in_flight: Gauge,
    pub panics: Counter,
    pub decision_logs_dropped: Counter,
    pub pipeline_info: Family<InfoLabels, Gauge>,
}

fn latency_histogram() -> Histogram {
    // 10 us to about 40 s: .rule logins take tens of microseconds, JavaScript milliseconds.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(1e-5, 2.5, 17))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("warden");
        let m = Metrics {
            registry: Registry::default(),
            logins: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            rule_failures: Family::default(),
            reloads: Family::default(),
            rejected: Family::default(),
            answered: Family::default(),
            in_flight: Gauge::default(),
            panics: Counter::default(),
            decision_logs_dropped: Counter::default(),
            pipeline_info: Family::default(),
        };
        registry.register("logins", "Logins decided, by pipeline, decision, cause and API", m.logins.clone());
        registry.register(
            "login_duration_seconds",
            "Time to decide a login, from the request body read to the reply built",
            m.latency.clone(),
        );
        registry.register(
            "rule_failures",
            "Logins a rule ended with an error, a timeout (JavaScript included) or a resource limit",
            m.rule_failures.clone(),
        );
        registry.register("reloads", "Pipeline reloads, by result", m.reloads.clone());
        registry.register("rejected_requests", "Requests answered without a decision, by reason", m.rejected.clone());
        registry.register(
            "hook_answers_without_rules",
            "Hook requests answered without running rules (an OAuth2 client-credentials grant, a machine user, an undefined OPA document), by adapter and status",
            m.answered.clone(),
        );
        registry.register("in_flight_logins", "Logins being decided now", m.in_flight.clone());
        registry.register("panics", "Handler panics answered with 500 (the server kept serving)", m.panics.clone());
        registry.register(
            "decision_logs_dropped",
            "Decision log entries dropped because the log's queue was full",
            m.decision_logs_dropped.clone(),
        );
        registry.register("pipeline_info", "The version each pipeline serves (value 1)", m.pipeline_info.clone());
        Metrics { registry, ..m }
    }

    pub fn reject(&self, reason: &'static str) {
        self.rejected.get_or_create(&RejectLabels { reason }).inc();
    }

    /// The text `/metrics` serves.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The content type of [`Metrics::encode`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
