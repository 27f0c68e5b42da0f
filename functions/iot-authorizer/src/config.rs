//! iot-authorizer's configuration, read once at start.

use kit::config::{ConfigError, Env};

use crate::jwks::KeySource;
use crate::policy::PolicySettings;
use crate::token::Expected;

pub struct Config {
    /// The HTTP API's `JwtIssuer` and `JwtAudience`: the same tokens, the same checks.
    pub expected: Expected,
    pub keys: KeySource,
    pub policy: PolicySettings,
}

impl Config {
    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let issuer = env.required("JWT_ISSUER");
        let audience = env.required("JWT_AUDIENCE");
        let keys = match env.optional("JWKS_URL") {
            Some(url) => KeySource::Url(url),
            None => KeySource::Discovery { issuer: issuer.clone() },
        };
        let arn_prefix = env.required("IOT_ARN_PREFIX");
        let topic_prefix = env.optional("NOTIFICATION_TOPIC_PREFIX").unwrap_or_else(|| "notifications-".to_owned());
        let arn_like = arn_prefix.starts_with("arn:") && arn_prefix.contains(":iot:");
        if !arn_prefix.is_empty() && !arn_like {
            env.reject("IOT_ARN_PREFIX", "must be arn:{partition}:iot:{region}:{account}");
        }
        // The prefix goes into policy resources, where `*`, `?` and `$` are wildcards.
        if topic_prefix.contains(['#', '+', '*', '?', '$', '/']) {
            env.reject("NOTIFICATION_TOPIC_PREFIX", "MQTT or IoT policy wildcards are not allowed");
        }
        env.finish()?;
        Ok(Self {
            expected: Expected { issuer, audience },
            keys,
            policy: PolicySettings { arn_prefix: arn_prefix.trim_end_matches(':').to_owned(), topic_prefix },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn names_every_missing_or_invalid_variable() {
        let err = Config::read(env(&[("IOT_ARN_PREFIX", "x"), ("NOTIFICATION_TOPIC_PREFIX", "n*")]))
            .err()
            .unwrap()
            .to_string();
        for name in ["JWT_ISSUER", "JWT_AUDIENCE", "IOT_ARN_PREFIX", "NOTIFICATION_TOPIC_PREFIX"] {
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn keys_come_from_discovery_unless_a_jwks_url_is_given() {
        let base = [
            ("JWT_ISSUER", "https://issuer/"),
            ("JWT_AUDIENCE", "api"),
            ("IOT_ARN_PREFIX", "arn:aws:iot:eu-west-2:123456789012"),
        ];
        let c = Config::read(env(&base)).unwrap();
        assert_eq!(c.keys, KeySource::Discovery { issuer: "https://issuer/".into() });
        assert_eq!(c.policy.topic_prefix, "notifications-");
        let mut with_url = base.to_vec();
        with_url.push(("JWKS_URL", "http://127.0.0.1:1/jwks.json"));
        assert_eq!(Config::read(env(&with_url)).unwrap().keys, KeySource::Url("http://127.0.0.1:1/jwks.json".into()));
    }
}
