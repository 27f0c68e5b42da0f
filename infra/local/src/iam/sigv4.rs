//! Verifying AWS Signature Version 4, as API Gateway does for `AWS_IAM`
//! routes: the request is canonicalised as the signer did, the signature is
//! recomputed with the secret of the access key it names and compared, and
//! a signature older than 15 minutes is refused.

use axum::http::{HeaderMap, Method};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// How far a request's `X-Amz-Date` may be from now, either way.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// Why a signature was refused, in API Gateway's words where it has them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    #[error("Missing Authentication Token")]
    Missing,
    #[error("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' ({0})")]
    Malformed(&'static str),
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    #[error("Signature expired: {0} is more than 15 minutes from now")]
    Expired(String),
    #[error("The request signature we calculated does not match the signature you provided.")]
    Mismatch,
}

/// The verified signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
}

/// One request as received: the path and query exactly as sent (still encoded).
pub struct Received<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Verifies the request's signature with `secret_of(access key id)`.
pub fn verify(
    request: &Received<'_>,
    now: chrono::DateTime<chrono::Utc>,
    secret_of: impl Fn(&str) -> Option<String>,
) -> Result<Signed, SigV4Error> {
    let auth = request.headers.get("authorization").and_then(|v| v.to_str().ok()).ok_or(SigV4Error::Missing)?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or(SigV4Error::Malformed("algorithm"))?;
    let field = |name: &str| {
        rest.split(',').map(str::trim).find_map(|part| part.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    let credential = field("Credential").ok_or(SigV4Error::Malformed("Credential"))?;
    let signed_headers = field("SignedHeaders").ok_or(SigV4Error::Malformed("SignedHeaders"))?;
    let signature = field("Signature").ok_or(SigV4Error::Malformed("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(SigV4Error::Malformed("Credential scope"));
    };
    let secret = secret_of(key).ok_or(SigV4Error::UnknownKey)?;
    let amz_date =
        request.headers.get("x-amz-date").and_then(|v| v.to_str().ok()).ok_or(SigV4Error::Malformed("X-Amz-Date"))?;
    let at = chrono::NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| SigV4Error::Malformed("X-Amz-Date"))?
        .and_utc();
    if (now - at).num_seconds().abs() > MAX_SKEW_SECONDS {
        return Err(SigV4Error::Expired(amz_date.to_owned()));
    }
    if !amz_date.starts_with(date) {
        return Err(SigV4Error::Mismatch);
    }
    let canonical = canonical_request(request, signed_headers);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut signing_key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [*region, *service, "aws4_request"] {
        signing_key = hmac(&signing_key, part.as_bytes());
    }
    let expected = hex::decode(signature).map_err(|_| SigV4Error::Mismatch)?;
    let mut mac = HmacSha256::new_from_slice(&signing_key).map_err(|_| SigV4Error::Mismatch)?;
    mac.update(string_to_sign.as_bytes());
    // Constant-time comparison.
    mac.verify_slice(&expected).map_err(|_| SigV4Error::Mismatch)?;
    Ok(Signed { access_key_id: (*key).to_owned(), region: (*region).to_owned(), service: (*service).to_owned() })
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 unreserved characters stay; everything else is `%XX`.
fn uri_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn canonical_request(request: &Received<'_>, signed_headers: &str) -> String {
    // Every service but S3 signs the path encoded twice: the path as sent
    // (encoded once) is encoded again, segment by segment.
    let path = if request.path.is_empty() { "/" } else { request.path };
    let canonical_path = path.split('/').map(uri_encode).collect::<Vec<_>>().join("/");
    let mut pairs: Vec<(String, String)> = request
        .query
        .map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (uri_encode(&k), uri_encode(&v))).collect())
        .unwrap_or_default();
    pairs.sort();
    let canonical_query = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = request
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = request
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| hex::encode(Sha256::digest(request.body)), str::to_owned);
    format!(
        "{}\n{canonical_path}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        request.method.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    use std::time::SystemTime;

    /// Signs with the SDK's own signer (an independent implementation).
    fn signed(
        method: &str,
        url: &str,
        body: &[u8],
        key: &str,
        secret: &str,
        at: SystemTime,
    ) -> (String, Option<String>, HeaderMap) {
        let identity = aws_sdk_sqs::config::Credentials::new(key, secret, None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-2")
            .name("execute-api")
            .time(at)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let uri: axum::http::Uri = url.parse().unwrap();
        let host = uri.authority().unwrap().to_string();
        let headers = [("host", host.as_str())];
        let request = SignableRequest::new(method, url, headers.into_iter(), SignableBody::Bytes(body)).unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut map = HeaderMap::new();
        map.insert("host", host.parse().unwrap());
        for (name, value) in instructions.headers() {
            map.insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        (uri.path().to_owned(), uri.query().map(str::to_owned), map)
    }

    fn check(method: &str, url: &str, body: &[u8], secret_used: &str, now_offset: i64) -> Result<Signed, SigV4Error> {
        let at = SystemTime::now();
        let (path, query, headers) = signed(method, url, body, "AKIAPROCESSOR", secret_used, at);
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let received = Received { method: &m, path: &path, query: query.as_deref(), headers: &headers, body };
        let now = chrono::Utc::now() + chrono::Duration::seconds(now_offset);
        verify(&received, now, |key| (key == "AKIAPROCESSOR").then(|| "right-secret".to_owned()))
    }

    #[test]
    fn a_request_signed_by_the_sdk_verifies() {
        let ok = check(
            "POST",
            "http://127.0.0.1:3000/approval-requests/r-1/execution",
            br#"{"status":"EXECUTED"}"#,
            "right-secret",
            0,
        )
        .unwrap();
        assert_eq!(
            (ok.access_key_id.as_str(), ok.service.as_str(), ok.region.as_str()),
            ("AKIAPROCESSOR", "execute-api", "eu-west-2")
        );
        check("GET", "http://127.0.0.1:3000/approval-requests/a%20b?x=1&a=b%2Fc", b"", "right-secret", 0).unwrap();
    }

    #[test]
    fn a_wrong_secret_an_old_signature_or_no_signature_is_refused() {
        assert_eq!(check("POST", "http://h/approval-requests", b"{}", "wrong-secret", 0), Err(SigV4Error::Mismatch));
        assert!(matches!(
            check("POST", "http://h/approval-requests", b"{}", "right-secret", 16 * 60),
            Err(SigV4Error::Expired(_))
        ));
        let m = Method::GET;
        let headers = HeaderMap::new();
        let bare = Received { method: &m, path: "/", query: None, headers: &headers, body: b"" };
        assert_eq!(verify(&bare, chrono::Utc::now(), |_| None), Err(SigV4Error::Missing));
    }

    #[test]
    fn a_tampered_body_or_unknown_key_is_refused() {
        let at = SystemTime::now();
        let (path, query, headers) =
            signed("POST", "http://h/approval-requests", b"{\"a\":1}", "AKIAPROCESSOR", "right-secret", at);
        let m = Method::POST;
        let tampered =
            Received { method: &m, path: &path, query: query.as_deref(), headers: &headers, body: b"{\"a\":2}" };
        assert_eq!(verify(&tampered, chrono::Utc::now(), |_| Some("right-secret".into())), Err(SigV4Error::Mismatch));
        assert_eq!(verify(&tampered, chrono::Utc::now(), |_| None), Err(SigV4Error::UnknownKey));
    }
}
