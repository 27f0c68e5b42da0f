//! The system's root certificates, read once per process, when the first TLS
//! handshake needs them, and shared by every HTTPS client in the process: the AWS
//! SDK's ([`crate::sdk::http_client`]) and reqwest's ([`crate::http`]).
//!
//! Left to themselves, each of them loads the roots through `rustls-native-certs`,
//! which on Linux decodes the bundle file the system's OpenSSL reads *and* every file
//! of its certificate directory: on Debian the same 145 certificates twice, from ~150
//! files; on Amazon Linux 2023 the bundle and its OpenSSL trust twin. PEM decoding is
//! most of that cost: 7.4 ms here against 1.4 ms for the bundle alone
//! (docs/benchmarks.md), paid by the SDK and again by every reqwest client, reqwest's
//! at construction, that is at init.
//!
//! So the kit reads only the bundle, unless the process says where its roots are:
//! `SSL_CERT_FILE` or `SSL_CERT_DIR` set means `rustls-native-certs`' own loading,
//! exactly. The directory holds the same certificates as the bundle on the systems we
//! run on (`update-ca-certificates` and `update-ca-trust` write both from one source);
//! a certificate dropped into the directory by hand without regenerating the bundle
//! is not trusted (docs/decisions.md), and neither is what else lies there: Debian
//! keeps the machine's self-signed `ssl-cert-snakeoil.pem` in `/etc/ssl/certs`, which
//! the full loading trusts as a root. A system with no bundle gets the full loading.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, OnceLock};

use base64::Engine;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The roots every HTTPS client of the process trusts.
pub struct Roots {
    store: Arc<RootCertStore>,
    pem: Vec<u8>,
}

impl Roots {
    /// The trust anchors, for rustls.
    pub fn store(&self) -> Arc<RootCertStore> {
        Arc::clone(&self.store)
    }

    /// The same certificates as PEM, for clients that take PEM (the SDK's). Only
    /// certificates rustls could parse are here, so a client that refuses an
    /// unparsable one (the SDK panics) never sees one.
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }

    /// How many roots there are.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether no root was found.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }
}

static SYSTEM_ROOTS: LazyLock<Roots> = LazyLock::new(|| Roots::from_certs(load(&Source::of_system())));

/// The system's roots, loaded on the first call.
pub fn system_roots() -> &'static Roots {
    &SYSTEM_ROOTS
}

/// Where the roots are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `rustls-native-certs`' loading: the environment's paths, or the bundle and directory.
    Native,
    /// Only this bundle file.
    Bundle(PathBuf),
}

impl Source {
    fn of_system() -> Self {
        let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        Self::choose(set("SSL_CERT_FILE") || set("SSL_CERT_DIR"), || openssl_probe::probe().cert_file)
    }

    /// The environment's paths win; then the bundle OpenSSL would read first.
    pub(crate) fn choose(environment_names_paths: bool, probe_bundle: impl FnOnce() -> Option<PathBuf>) -> Self {
        if environment_names_paths {
            return Self::Native;
        }
        probe_bundle().map_or(Self::Native, Self::Bundle)
    }
}

fn load(source: &Source) -> Vec<CertificateDer<'static>> {
    let (certs, errors) = match source {
        Source::Native => {
            let result = rustls_native_certs::load_native_certs();
            (result.certs, result.errors.iter().map(ToString::to_string).collect())
        }
        Source::Bundle(path) => read_bundle(path),
    };
    if !errors.is_empty() {
        tracing::warn!(?source, errors = ?errors, "some root certificates could not be read");
    }
    certs
}

/// A bundle's certificates; a section that is not valid PEM is skipped and reported.
pub(crate) fn read_bundle(path: &Path) -> (Vec<CertificateDer<'static>>, Vec<String>) {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return (Vec::new(), vec![format!("{}: {e}", path.display())]),
    };
    let (mut certs, mut errors) = (Vec::new(), Vec::new());
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        match cert {
            Ok(cert) => certs.push(cert),
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
    (certs, errors)
}

impl Roots {
    /// Keeps the certificates rustls can use as trust anchors, as reqwest and the SDK do.
    pub(crate) fn from_certs(certs: Vec<CertificateDer<'static>>) -> Self {
        let mut store = RootCertStore::empty();
        let mut pem = Vec::with_capacity(certs.len() * 2048);
        for cert in certs {
            if store.add(cert.clone()).is_ok() {
                push_pem(&mut pem, &cert);
            }
        }
        if store.is_empty() {
            tracing::warn!("no usable root certificate found: every TLS handshake will fail");
        }
        Self { store: Arc::new(store), pem }
    }
}

fn push_pem(out: &mut Vec<u8>, cert: &CertificateDer<'_>) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
    out.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END CERTIFICATE-----\n");
}

/// rustls's WebPKI verification over roots loaded at the first handshake, not when
/// the client is built: a reqwest client costs nothing at init. Every check is the
/// WebPKI verifier's.
#[derive(Debug)]
pub struct SystemRootsVerifier {
    provider: Arc<CryptoProvider>,
    roots: fn() -> Arc<RootCertStore>,
    webpki: OnceLock<Arc<WebPkiServerVerifier>>,
}

impl SystemRootsVerifier {
    /// A verifier over [`system_roots`].
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        Self::over(provider, || system_roots().store())
    }

    fn over(provider: Arc<CryptoProvider>, roots: fn() -> Arc<RootCertStore>) -> Self {
        Self { provider, roots, webpki: OnceLock::new() }
    }

    fn webpki(&self) -> Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        if let Some(verifier) = self.webpki.get() {
            return Ok(verifier);
        }
        // With no roots at all this fails, and so does the handshake, naming why.
        let built = WebPkiServerVerifier::builder_with_provider((self.roots)(), Arc::clone(&self.provider))
            .build()
            .map_err(|e| rustls::Error::General(format!("no TLS verifier over the system's roots: {e}")))?;
        Ok(self.webpki.get_or_init(|| built))
    }
}

impl ServerCertVerifier for SystemRootsVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.webpki()?.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }

    #[test]
    fn the_environments_paths_win_then_the_probed_bundle_then_the_full_loading() {
        let bundle = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
        assert_eq!(Source::choose(true, || Some(bundle.clone())), Source::Native);
        assert_eq!(Source::choose(false, || Some(bundle.clone())), Source::Bundle(bundle));
        assert_eq!(Source::choose(false, || None), Source::Native);
    }

    fn ders(certs: &[CertificateDer<'_>]) -> BTreeSet<Vec<u8>> {
        certs.iter().map(|c| c.as_ref().to_vec()).collect()
    }

    /// Every certificate of the distribution's CA store (Debian's `/usr/share/ca-certificates`).
    fn distribution_cas(dir: &Path) -> BTreeSet<Vec<u8>> {
        let mut found = BTreeSet::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(distribution_cas(&path));
            } else {
                found.extend(ders(&read_bundle(&path).0));
            }
        }
        found
    }

    #[test]
    fn the_bundle_alone_holds_every_ca_the_full_loading_finds_on_this_system() {
        let Some(bundle) = openssl_probe::probe().cert_file else { return };
        let (from_bundle, errors) = read_bundle(&bundle);
        assert!(errors.is_empty(), "{errors:?}");
        let bundle_only = ders(&from_bundle);
        let full = ders(&rustls_native_certs::load_native_certs().certs);
        assert!(!bundle_only.is_empty() && bundle_only.is_subset(&full));
        // The directory may hold more than CAs: Debian keeps the machine's own
        // self-signed `ssl-cert-snakeoil.pem` there, which the full loading trusts as
        // a root. No CA of the distribution is missing from the bundle.
        let cas = distribution_cas(Path::new("/usr/share/ca-certificates"));
        let missing: Vec<_> =
            full.difference(&bundle_only).filter(|der| cas.is_empty() || cas.contains(*der)).collect();
        assert!(missing.is_empty(), "{} roots only in the directory", missing.len());
    }

    #[test]
    fn the_pem_holds_exactly_the_usable_roots() {
        let Some(bundle) = openssl_probe::probe().cert_file else { return };
        let (mut certs, _) = read_bundle(&bundle);
        certs.push(CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01])); // DER, but no certificate
        let roots = Roots::from_certs(certs.clone());
        assert_eq!(roots.len(), certs.len() - 1);
        let again: Vec<_> = CertificateDer::pem_slice_iter(roots.pem()).collect::<Result<_, _>>().expect("valid PEM");
        assert_eq!(again.len(), roots.len());
        let mut store = RootCertStore::empty();
        for cert in again {
            store.add(cert).expect("the SDK adds each with expect()");
        }
    }

    #[test]
    fn a_bad_pem_section_is_reported_and_the_rest_kept() {
        let Some(bundle) = openssl_probe::probe().cert_file else { return };
        let (certs, _) = read_bundle(&bundle);
        let mut text = String::from_utf8(Roots::from_certs(certs[..2].to_vec()).pem).expect("ascii");
        text.push_str("-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n");
        let path = std::env::temp_dir().join(format!("kit-tls-{}.pem", std::process::id()));
        std::fs::write(&path, text).expect("write");
        let (read, errors) = read_bundle(&path);
        drop(std::fs::remove_file(&path));
        assert_eq!(read.len(), 2);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(read_bundle(Path::new("/nonexistent/bundle.pem")).1.len(), 1);
    }

    static LOADS: AtomicUsize = AtomicUsize::new(0);

    fn counted_roots() -> Arc<RootCertStore> {
        LOADS.fetch_add(1, Ordering::SeqCst);
        system_roots().store()
    }

    #[test]
    fn roots_are_loaded_at_the_first_certificate_check_once_and_every_check_is_webpkis() {
        let verifier = SystemRootsVerifier::over(provider(), counted_roots);
        assert!(!verifier.supported_verify_schemes().is_empty());
        assert_eq!(LOADS.load(Ordering::SeqCst), 0, "building and offering schemes loads nothing");

        let name = ServerName::try_from("example.com").expect("name");
        let not_a_cert = CertificateDer::from(vec![0x30, 0x00]);
        for _ in 0..2 {
            let refused = verifier.verify_server_cert(&not_a_cert, &[], &name, &[], UnixTime::now());
            assert!(matches!(refused, Err(rustls::Error::InvalidCertificate(_))), "{refused:?}");
        }
        assert_eq!(LOADS.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn without_roots_the_handshake_fails_naming_why() {
        let verifier = SystemRootsVerifier::over(provider(), || Arc::new(RootCertStore::empty()));
        let name = ServerName::try_from("example.com").expect("name");
        let refused =
            verifier.verify_server_cert(&CertificateDer::from(vec![0x30, 0x00]), &[], &name, &[], UnixTime::now());
        assert!(matches!(&refused, Err(rustls::Error::General(m)) if m.contains("system's roots")), "{refused:?}");
    }
}
