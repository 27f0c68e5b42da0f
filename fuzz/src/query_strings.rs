//! Query strings as an API's routes receive them: pairs of our parameter names and
//! anything, URL-encoded, or raw text; read by axum's own `Query` extractor, as the
//! functions' routers do. A query axum cannot read is a 400, never a 500.

use axum::extract::Query;
use axum::http::Uri;
use proptest::prelude::*;
use serde::de::DeserializeOwned;

use crate::support::text;

/// `name=value&…` from these names (and others), the values from `value`.
pub fn query_string(
    names: &'static [&'static str],
    value: impl Strategy<Value = String> + Clone,
) -> impl Strategy<Value = String> {
    let name = prop_oneof![6 => prop::sample::select(names).prop_map(str::to_owned), 1 => text()];
    let pairs = prop::collection::vec((name, value), 0..6)
        .prop_map(|pairs| form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish());
    prop_oneof![6 => pairs, 1 => "[ -~]{0,120}"]
}

/// The query read as `T`, `None` when this is not a URI at all (API Gateway would
/// not have delivered it); a query axum refuses must be refused as a 4xx.
pub fn read<T: DeserializeOwned>(path: &str, query: &str) -> Result<Option<T>, TestCaseError> {
    let Ok(uri) = format!("{path}?{query}").parse::<Uri>() else {
        return Ok(None);
    };
    match Query::<T>::try_from_uri(&uri) {
        Ok(Query(value)) => Ok(Some(value)),
        Err(rejection) => {
            prop_assert!(rejection.status().is_client_error(), "axum answers {} to {:?}", rejection.status(), query);
            Ok(None)
        }
    }
}
