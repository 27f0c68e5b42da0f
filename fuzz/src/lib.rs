//! Fuzz targets live in `tests` modules below: proptest generates inputs, each
//! property says what must hold for any input (no panic, a classified error, no
//! input echoed into a reason, nothing forged accepted). The number of cases comes
//! from `PROPTEST_CASES` (`make fuzz` sets it high).

#[cfg(test)]
mod support;

// SQS bodies: every step's decoder, then the steps themselves.
#[cfg(test)]
mod approval_steps;
#[cfg(test)]
mod audit_steps;
#[cfg(test)]
mod bodies;
#[cfg(test)]
mod contact_steps;
#[cfg(test)]
mod envelopes;

// CloudWatch Logs subscription deliveries (ingest-connect-logs).
#[cfg(test)]
mod logs;

// The HTTP APIs' bodies, paths and query strings, and the claims they trust.
#[cfg(test)]
mod approval_api;
#[cfg(test)]
mod claims;
#[cfg(test)]
mod contacts_api;
#[cfg(test)]
mod query_api;
#[cfg(test)]
mod query_strings;
#[cfg(test)]
mod workflow_api;

// What the third parties answer (Zendesk, GOV.UK Notify).
#[cfg(test)]
mod providers;

// Domain validation after decoding, and credentials.
#[cfg(test)]
mod domain;
#[cfg(test)]
mod tokens;
