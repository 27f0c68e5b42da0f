//! Settings the approval functions share. What every step reads (table, DLQ,
//! metrics, runner) is the kit's `StepConfig`; the state's table is named here.

use kit::config::Env;

/// The variable naming the approvals table (each step's `StepConfig::table`).
pub const TABLE: &str = "APPROVALS_TABLE_NAME";

pub use kit::config::metrics_namespace;

/// The sender address (an SES identity the template verifies).
pub fn sender(env: &mut Env) -> String {
    let sender = env.required("SENDER_EMAIL");
    if !sender.is_empty() && !crate::request::plausible_email(&sender) {
        env.reject("SENDER_EMAIL", "not an email address");
    }
    sender
}
