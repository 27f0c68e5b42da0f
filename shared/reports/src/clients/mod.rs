//! HTTP adapters for the third parties: Zendesk and GOV.UK Notify.

pub mod http;
pub mod notify;
pub mod zendesk;
