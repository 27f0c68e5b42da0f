//! The SDK's own HTTPS client (hyper 1, rustls with aws-lc-rs, proxy settings from the
//! environment), built the way the SDK builds its default, except that its TLS set-up
//! waits for the first request.
//!
//! The SDK's client builds a connector, loading and parsing the system's root
//! certificates, whenever an SDK client is constructed (`validate_base_client_config`),
//! so that the first request does not pay for it. In a Lambda function that is the
//! wrong trade: every client constructed at init parses every root again (three
//! clients, three parses), init is billed, and the first request builds the connector
//! it needs anyway. Measured on `record-login` (docs/benchmarks.md): init went from
//! 13.7 ms to 5.5 ms (median), its CPU from 12.5 ms to 4.6 ms. The connectors themselves, their connection pools and
//! their behaviour are the SDK's.
//!
//! Its roots are the kit's ([`crate::tls`]): read once per process, from the system's
//! bundle, and shared with the process's reqwest clients. The SDK's own loading decodes
//! the bundle and every file of the certificate directory: the first request paid
//! 7.4 ms for it here.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::config_bag::ConfigBag;

/// The SDK's default HTTPS client with its TLS set up on the first request.
pub fn http_client() -> SharedHttpClient {
    let sdk_default = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc)).tls_context(kits_roots());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    SetUpOnFirstRequest(sdk_default).into_shared()
}

/// The SDK's TLS context over the kit's roots (built when the first connector is).
fn kits_roots() -> TlsContext {
    let store = TrustStore::empty().with_native_roots(false).with_pem_certificate(crate::tls::system_roots().pem());
    match TlsContext::builder().with_trust_store(store).build() {
        Ok(context) => context,
        Err(e) => {
            // The builder has no failure today; the SDK's own roots are the fallback.
            tracing::warn!(error = %e, "the SDK's TLS context over the kit's roots was refused");
            TlsContext::default()
        }
    }
}

/// Delegates everything but the warm-up at client construction.
#[derive(Debug)]
struct SetUpOnFirstRequest(SharedHttpClient);

impl HttpClient for SetUpOnFirstRequest {
    /// Called per request attempt; the inner client builds a connector for these
    /// settings the first time and keeps it (with its connection pool).
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    /// The SDK's client builds a throw-away connector here, only to load the roots early.
    fn validate_base_client_config(&self, _: &RuntimeComponentsBuilder, _: &ConfigBag) -> Result<(), BoxError> {
        Ok(())
    }

    fn validate_final_config(&self, components: &RuntimeComponents, cfg: &ConfigBag) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorFuture};
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::result::ConnectorError;

    use super::*;

    /// An HTTP client that counts what the SDK asks of it; its connector refuses.
    #[derive(Debug, Default)]
    struct Counting {
        warm_ups: AtomicUsize,
        connectors: AtomicUsize,
    }

    #[derive(Debug)]
    struct Refusing;

    impl HttpConnector for Refusing {
        fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
            HttpConnectorFuture::ready(Err(ConnectorError::io("connection refused".into())))
        }
    }

    #[derive(Debug, Clone)]
    struct Shared(Arc<Counting>);

    impl HttpClient for Shared {
        fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
            self.0.connectors.fetch_add(1, Ordering::SeqCst);
            Refusing.into_shared()
        }

        fn validate_base_client_config(&self, _: &RuntimeComponentsBuilder, _: &ConfigBag) -> Result<(), BoxError> {
            self.0.warm_ups.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn dynamodb(http: SharedHttpClient) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-2"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .endpoint_url("http://127.0.0.1:9")
            .http_client(http)
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    #[tokio::test]
    async fn a_client_is_built_without_a_connector_and_its_first_request_builds_one() {
        // The SDK asks an HTTP client to warm up whenever an SDK client is built:
        // the default one then loads and parses every root certificate.
        let plain = Arc::new(Counting::default());
        let _ = dynamodb(Shared(plain.clone()).into_shared());
        assert_eq!(plain.warm_ups.load(Ordering::SeqCst), 1, "the SDK's warm-up at construction");

        let counted = Arc::new(Counting::default());
        let client = dynamodb(SetUpOnFirstRequest(Shared(counted.clone()).into_shared()).into_shared());
        assert_eq!(counted.warm_ups.load(Ordering::SeqCst), 0, "no warm-up: nothing loaded at init");
        assert_eq!(counted.connectors.load(Ordering::SeqCst), 0);

        let refused = client.list_tables().send().await;
        assert!(refused.is_err(), "the fake connector refuses");
        assert!(counted.connectors.load(Ordering::SeqCst) >= 1, "the first request asks for its connector");
    }

    #[test]
    fn the_client_is_the_sdks_hyper_client() {
        let metadata = http_client().connector_metadata().map(|m| m.to_string());
        assert!(metadata.is_some_and(|m| m.contains("hyper")), "the SDK's own stack");
    }
}
