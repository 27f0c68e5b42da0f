//! Error classification: the one question the batch runner asks of every failure.

use std::fmt;

/// Whether trying again can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A dependency was slow, throttled, unavailable or lost a race: the record goes
    /// back to the queue and comes back after a backoff.
    Retryable,
    /// The record itself is wrong (unparseable, invalid, unknown version, rejected by
    /// a provider): retrying cannot help, so it goes to the DLQ at once with its reason.
    Permanent,
}

impl ErrorClass {
    /// `retryable` or `permanent`, as logs and DLQ attributes show it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Retryable => "retryable",
            ErrorClass::Permanent => "permanent",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Implemented by every layer's error enum.
pub trait Classify {
    /// Whether trying again can help.
    fn class(&self) -> ErrorClass;
    /// A short, stable, machine-readable name (`invalid_event`, `dynamodb_throttled`):
    /// it becomes the DLQ message's `error_kind` attribute and a metric dimension.
    fn kind(&self) -> &'static str;
    /// The earliest a retry can help, when the dependency said so (an HTTP
    /// `Retry-After`): the runner keeps the record away at least this long.
    fn retry_after(&self) -> Option<std::time::Duration> {
        None
    }
    /// The outside dependency whose failure this is (`zendesk`, `notify`, `ses`,
    /// `connect`, `approval_api`): the runner counts retryable failures per
    /// dependency, and an alarm pages when one keeps failing (an outage).
    fn dependency(&self) -> Option<&'static str> {
        None
    }
}

/// Declares a step's error when all it does is carry other layers' errors: the enum,
/// `Display` and `source` as each variant's (transparent), a `From` per variant (so
/// `?` works), and a [`Classify`] impl that asks the variant. A step that adds its own
/// failures writes its enum with `thiserror` instead.
///
/// ```
/// use kit::publisher::PublishError;
/// use kit::store::StoreError;
/// use kit::{Classify, ErrorClass};
///
/// kit::step_error! {
///     /// Why recording an order failed.
///     pub enum RecordOrderError {
///         /// The orders table failed.
///         Store(StoreError),
///         /// `order.recorded` was not published.
///         Publish(PublishError),
///     }
/// }
///
/// let err = RecordOrderError::from(StoreError::malformed("order", "no total"));
/// assert_eq!((err.class(), err.kind()), (ErrorClass::Permanent, "malformed_item"));
/// assert_eq!(err.to_string(), "stored order is malformed: no total");
/// ```
#[macro_export]
macro_rules! step_error {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident($inner:ty) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant($inner) ),+
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self { $( $name::$variant(e) => ::std::fmt::Display::fmt(e, f) ),+ }
            }
        }

        impl ::std::error::Error for $name {
            fn source(&self) -> ::std::option::Option<&(dyn ::std::error::Error + 'static)> {
                match self { $( $name::$variant(e) => ::std::error::Error::source(e) ),+ }
            }
        }

        $(
            impl ::std::convert::From<$inner> for $name {
                fn from(e: $inner) -> Self {
                    $name::$variant(e)
                }
            }
        )+

        impl $crate::Classify for $name {
            fn class(&self) -> $crate::ErrorClass {
                match self { $( $name::$variant(e) => $crate::Classify::class(e) ),+ }
            }
            fn kind(&self) -> &'static str {
                match self { $( $name::$variant(e) => $crate::Classify::kind(e) ),+ }
            }
            fn retry_after(&self) -> ::std::option::Option<::std::time::Duration> {
                match self { $( $name::$variant(e) => $crate::Classify::retry_after(e) ),+ }
            }
            fn dependency(&self) -> ::std::option::Option<&'static str> {
                match self { $( $name::$variant(e) => $crate::Classify::dependency(e) ),+ }
            }
        }
    };
}

/// Renders an error with its chain of causes, for logs and DLQ reasons.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);
    #[derive(Debug, thiserror::Error)]
    #[error("inner cause")]
    struct Inner;

    #[test]
    fn chain_includes_every_cause_once() {
        assert_eq!(chain(&Outer(Inner)), "outer: inner cause");
    }
}
