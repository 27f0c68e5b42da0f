//! Credentials from outside: Notify API keys, and bearer tokens at the API's door
//! (the local stack's authorizer applies API Gateway's JWT rules): no input panics,
//! no forged or altered token is accepted.

use local_stack::http_api::jwt::JwtVerifier;
use local_stack::template::JwtAuthorizerSpec;
use local_stack::{mint_token, TokenRequest};
use proptest::prelude::*;
use reports::clients::notify::ApiKey;

const SECRET: &str = "fuzz-secret";

fn authorizer() -> JwtAuthorizerSpec {
    JwtAuthorizerSpec {
        name: "UserJwt".into(),
        issuer: Some("https://issuer.test/".into()),
        audiences: vec!["workflows-api".into()],
    }
}

fn valid_token() -> String {
    mint_token(
        SECRET,
        &TokenRequest {
            subject: "user-1".into(),
            issuer: Some("https://issuer.test/".into()),
            audience: Some("workflows-api".into()),
            ttl: std::time::Duration::from_secs(600),
            claims: Default::default(),
        },
    )
    .unwrap()
}

proptest! {
    #[test]
    fn any_text_is_a_notify_key_or_not(text in "\\PC{0,120}") {
        let _ = ApiKey::parse(&text);
    }

    #[test]
    fn random_bearer_values_are_refused(text in "\\PC{0,400}") {
        let v = JwtVerifier::new(SECRET);
        let header = format!("Bearer {}", text);
        prop_assert!(v.verify(Some(&header), &authorizer()).is_err());
    }

    #[test]
    fn an_altered_token_is_refused(at in 0usize..400, c in "[A-Za-z0-9_-]") {
        let token = valid_token();
        let v = JwtVerifier::new(SECRET);
        prop_assert!(v.verify(Some(&token), &authorizer()).is_ok());
        let i = at % token.len();
        let mut bytes = token.clone().into_bytes();
        if bytes[i] == b'.' || bytes[i] == c.as_bytes()[0] {
            return Ok(());
        }
        bytes[i] = c.as_bytes()[0];
        let altered = String::from_utf8(bytes).unwrap();
        // Changing the last character of the signature may only flip unused bits.
        if i + 1 == token.len() {
            return Ok(());
        }
        prop_assert!(v.verify(Some(&altered), &authorizer()).is_err(), "accepted {altered}");
    }
}
