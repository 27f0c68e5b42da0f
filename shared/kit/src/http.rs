//! Outbound HTTPS for the project's own clients (Zendesk, GOV.UK Notify, the
//! on-prem processor's calls, the local stack and the tests): the AWS SDK's TLS
//! stack, not a second one.
//!
//! The SDK links rustls with aws-lc-rs (and its post-quantum key exchange) and the
//! system's root certificates. reqwest's default TLS feature would add a second
//! crypto library (ring) and a compiled-in root store (webpki-roots) to every
//! binary that speaks HTTP, which put two functions' arm64 zips over the 4 MB
//! target (docs/decisions.md). So reqwest is built without a crypto provider, and
//! every client is made here, after aws-lc-rs is installed as the process's one.
//!
//! Its TLS configuration is the kit's, built once per process: the roots are the
//! kit's ([`crate::tls`]), loaded at the first handshake and shared with the SDK, so
//! building a client costs no root loading (reqwest's own configuration loads and
//! parses every root whenever a client is built: 7 ms of init for a function with
//! one client).

use std::sync::{Arc, LazyLock};

/// A reqwest client builder whose TLS uses aws-lc-rs and the system's roots.
/// reqwest refuses to build a client when no provider is installed, so every
/// client must come from here.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    match &*TLS {
        Ok(tls) => reqwest::Client::builder().use_preconfigured_tls(tls.clone()),
        // Cannot happen with aws-lc-rs; reqwest's own configuration is the fallback.
        Err(e) => {
            tracing::warn!(error = %e, "the kit's TLS configuration was refused; reqwest's own is used");
            reqwest::Client::builder()
        }
    }
}

/// What reqwest would configure (safe protocol versions, HTTP/1.1 by ALPN, no
/// client certificate), verified over the kit's roots.
static TLS: LazyLock<Result<rustls::ClientConfig, rustls::Error>> = LazyLock::new(|| {
    install_crypto_provider();
    let provider = match rustls::crypto::CryptoProvider::get_default() {
        Some(provider) => Arc::clone(provider),
        None => Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
    };
    let verifier = Arc::new(crate::tls::SystemRootsVerifier::new(Arc::clone(&provider)));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous() // the verifier is rustls's WebPKI one, built at the first handshake
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
});

/// A client with reqwest's defaults, for tools and tests; production clients set a
/// timeout through [`client_builder`].
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    client_builder().build()
}

fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An Err only says another thread installed a provider first: the state we want.
        drop(rustls::crypto::aws_lc_rs::default_provider().install_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_client_with_the_sdk_crypto_provider() {
        let client = client_builder().build();
        assert!(client.is_ok(), "{client:?}");
        let provider = rustls::crypto::CryptoProvider::get_default().expect("a provider is installed");
        // aws-lc-rs offers the post-quantum hybrid group first; ring has none.
        let groups: Vec<String> = provider.kx_groups.iter().map(|g| format!("{:?}", g.name())).collect();
        assert!(groups.iter().any(|g| g.contains("MLKEM")), "{groups:?}");
    }

    #[test]
    fn clients_use_the_kits_tls_configuration() {
        let tls = TLS.as_ref().expect("a TLS configuration");
        assert_eq!(tls.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(format!("{tls:?}").contains("SystemRootsVerifier"), "{tls:?}");
    }

    #[test]
    fn builds_clients_from_many_threads_at_once() {
        let built: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| client_builder().build().is_ok())).collect();
            handles.into_iter().map(|h| h.join().unwrap_or(false)).collect()
        });
        assert!(built.iter().all(|ok| *ok), "{built:?}");
    }
}
