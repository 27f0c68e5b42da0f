//! The contact steps' own CloudWatch metrics (EMF, through the kit's recorder):
//! names in one place, as the template's alarms use them.

/// Metric names.
pub mod names {
    /// Deliveries from the flow-log subscription (one per ingest invocation with data).
    pub const FLOW_LOG_DELIVERIES: &str = "FlowLogDeliveries";
    /// Log events those deliveries held.
    pub const FLOW_LOG_EVENTS: &str = "FlowLogEvents";
    /// 1 when a watch (in business hours) finds the subscription silent for longer
    /// than `FLOW_LOGS_SILENCE_SECONDS`, else 0: the `FlowLogsSilentAlarm` watches it.
    pub const FLOW_LOGS_SILENT: &str = "FlowLogsSilent";
    /// Poll messages a sweep sent, and contacts it left for a later sweep because
    /// the poll queue was full (Connect's quota sets the pace).
    pub const POLLS_SENT: &str = "PollsSent";
    pub const POLLS_DEFERRED: &str = "PollsDeferred";
}

pub fn flow_log_delivery(events: usize) {
    metrics::counter!(names::FLOW_LOG_DELIVERIES).increment(1);
    metrics::counter!(names::FLOW_LOG_EVENTS).increment(events as u64);
}

/// A histogram, not a gauge: the recorder writes a gauge's last value on every
/// flush (every sweep, all night), a histogram only what this watch recorded, so
/// outside business hours the metric has no data and the alarm stays quiet.
pub fn flow_logs_silent(silent: bool) {
    metrics::histogram!(names::FLOW_LOGS_SILENT).record(if silent { 1.0 } else { 0.0 });
}

pub fn polls(sent: usize, deferred: usize) {
    metrics::counter!(names::POLLS_SENT).increment(sent as u64);
    metrics::counter!(names::POLLS_DEFERRED).increment(deferred as u64);
}
