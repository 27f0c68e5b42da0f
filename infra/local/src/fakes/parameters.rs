//! What the template learns about the fakes: the parameters that point
//! functions at them, and the secrets functions read their credentials from.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::Value;

use super::{LOCAL_NOTIFY_API_KEY, LOCAL_NOTIFY_TEMPLATE_ID, LOCAL_ZENDESK_EMAIL, LOCAL_ZENDESK_TOKEN};
use crate::template::Template;

pub const ZENDESK_BASE_URL_PARAM: &str = "ZendeskBaseUrl";
pub const ZENDESK_EMAIL_PARAM: &str = "ZendeskEmail";
pub const NOTIFY_BASE_URL_PARAM: &str = "NotifyBaseUrl";
pub const NOTIFY_TEMPLATE_ID_PARAM: &str = "NotifyTemplateId";
/// Parameters naming the secrets functions read the credentials from.
pub const ZENDESK_TOKEN_SECRET_PARAM: &str = "ZendeskApiTokenSecretName";
pub const NOTIFY_KEY_SECRET_PARAM: &str = "NotifyApiKeySecretName";
/// The Connect endpoint functions use (`AWS_ENDPOINT_URL_CONNECT`; empty = the real service).
pub const CONNECT_ENDPOINT_URL_PARAM: &str = "ConnectEndpointUrl";

/// Overrides pointing the template at the fakes: only parameters the
/// template declares, and none the caller already set.
pub fn fake_parameters(
    template: &Template,
    zendesk: SocketAddr,
    notify: SocketAddr,
    caller: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    [
        (ZENDESK_BASE_URL_PARAM, format!("http://{zendesk}")),
        (ZENDESK_EMAIL_PARAM, LOCAL_ZENDESK_EMAIL.to_owned()),
        (NOTIFY_BASE_URL_PARAM, format!("http://{notify}")),
        (NOTIFY_TEMPLATE_ID_PARAM, LOCAL_NOTIFY_TEMPLATE_ID.to_owned()),
    ]
    .into_iter()
    .filter(|(name, _)| template.parameters.contains_key(*name) && !caller.contains_key(*name))
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// The Connect instance whose contacts are watched (DescribeContact is granted on it).
pub const CONNECT_INSTANCE_ARN_PARAM: &str = "ConnectInstanceArn";

/// The Connect instance as it is in AWS: in the stack's own account and
/// region. The parameter's default names the instance in a placeholder
/// account; left so, IAM (scoped to the instance's ARN) would refuse every
/// DescribeContact, whose resource is the instance in this account.
pub fn connect_instance_parameter(
    template: &Template,
    region: &str,
    account: &str,
    caller: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let name = CONNECT_INSTANCE_ARN_PARAM;
    let default = template.parameters.get(name).and_then(|p| p.default.as_ref()).and_then(Value::as_str);
    match default.and_then(|d| d.rsplit_once(":instance/")) {
        Some((_, instance)) if !caller.contains_key(name) => {
            BTreeMap::from([(name.to_owned(), format!("arn:aws:connect:{region}:{account}:instance/{instance}"))])
        }
        _ => BTreeMap::new(),
    }
}

/// The override pointing the template at the Connect fake, if the template
/// declares the parameter and the caller left it alone.
pub fn connect_parameters(
    template: &Template,
    connect: SocketAddr,
    caller: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let name = CONNECT_ENDPOINT_URL_PARAM;
    if template.parameters.contains_key(name) && !caller.contains_key(name) {
        BTreeMap::from([(name.to_owned(), format!("http://{connect}"))])
    } else {
        BTreeMap::new()
    }
}

/// The secrets the fakes' credentials live in, named by the resolved values
/// of the template's secret-name parameters (each only if declared).
/// `parameter` looks up a resolved parameter value.
pub fn fake_secrets<'a>(parameter: impl Fn(&str) -> Option<&'a Value>) -> BTreeMap<String, String> {
    [(ZENDESK_TOKEN_SECRET_PARAM, LOCAL_ZENDESK_TOKEN), (NOTIFY_KEY_SECRET_PARAM, LOCAL_NOTIFY_API_KEY)]
        .into_iter()
        .filter_map(|(param, value)| {
            let name = parameter(param)?.as_str()?.trim();
            (!name.is_empty()).then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEMPLATE: &str = r#"
Parameters:
  ZendeskBaseUrl: {Type: String, Default: "https://example.zendesk.com"}
  NotifyTemplateId: {Type: String, Default: "real-template"}
  ZendeskApiTokenSecretName: {Type: String, Default: workflows/zendesk-api-token}
Resources: {}
"#;

    #[test]
    fn overrides_only_declared_parameters_the_caller_left_alone() {
        let template = Template::parse(TEMPLATE).expect("template");
        let z = SocketAddr::from(([127, 0, 0, 1], 4571));
        let n = SocketAddr::from(([127, 0, 0, 1], 4572));
        let caller = BTreeMap::from([("NotifyTemplateId".to_owned(), "mine".to_owned())]);
        let got = fake_parameters(&template, z, n, &caller);
        assert_eq!(got, BTreeMap::from([("ZendeskBaseUrl".to_owned(), "http://127.0.0.1:4571".to_owned())]));
    }

    #[test]
    fn the_connect_endpoint_is_overridden_only_when_declared_and_not_set() {
        let connect = SocketAddr::from(([127, 0, 0, 1], 4573));
        let declared =
            Template::parse("Parameters:\n  ConnectEndpointUrl: {Type: String, Default: \"\"}\nResources: {}\n")
                .expect("template");
        let got = connect_parameters(&declared, connect, &BTreeMap::new());
        assert_eq!(got[CONNECT_ENDPOINT_URL_PARAM], "http://127.0.0.1:4573");
        let mine = BTreeMap::from([(CONNECT_ENDPOINT_URL_PARAM.to_owned(), "http://x".to_owned())]);
        assert!(connect_parameters(&declared, connect, &mine).is_empty());
        let undeclared = Template::parse(TEMPLATE).expect("template");
        assert!(connect_parameters(&undeclared, connect, &BTreeMap::new()).is_empty());
    }

    /// On AWS the provider base URLs must be https:// (AllowedPattern); the local stack
    /// does not read AllowedPattern, so its http:// fakes still resolve.
    #[test]
    fn the_real_templates_https_only_base_urls_still_take_the_fakes_overrides() {
        let text = include_str!("../../../template.yaml");
        let raw: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).expect("yaml");
        for name in [ZENDESK_BASE_URL_PARAM, NOTIFY_BASE_URL_PARAM] {
            assert_eq!(raw["Parameters"][name]["AllowedPattern"].as_str(), Some("^https://.+"), "{name}");
        }
        let template = Template::parse(text).expect("template");
        let z = SocketAddr::from(([127, 0, 0, 1], 4571));
        let n = SocketAddr::from(([127, 0, 0, 1], 4572));
        let overrides = fake_parameters(&template, z, n, &BTreeMap::new());
        let resolver =
            crate::template::Resolver::new(&template, crate::template::StackContext::new("s", "eu-west-2"), &overrides)
                .expect("resolver");
        assert_eq!(resolver.parameter(ZENDESK_BASE_URL_PARAM), Some(&json!("http://127.0.0.1:4571")));
        assert_eq!(resolver.parameter(NOTIFY_BASE_URL_PARAM), Some(&json!("http://127.0.0.1:4572")));
    }

    #[test]
    fn the_connect_instance_moves_into_the_stacks_account_and_region() {
        let declared = Template::parse(
            "Parameters:\n  ConnectInstanceArn: {Type: String, Default: \"arn:aws:connect:eu-west-2:000000000000:instance/i-1\"}\nResources: {}\n",
        )
        .expect("template");
        let got = connect_instance_parameter(&declared, "eu-west-1", "123456789012", &BTreeMap::new());
        assert_eq!(got[CONNECT_INSTANCE_ARN_PARAM], "arn:aws:connect:eu-west-1:123456789012:instance/i-1");
        let mine = BTreeMap::from([(CONNECT_INSTANCE_ARN_PARAM.to_owned(), "arn:x".to_owned())]);
        assert!(connect_instance_parameter(&declared, "r", "a", &mine).is_empty());
    }

    #[test]
    fn secrets_follow_the_declared_secret_name_parameters() {
        let name = json!("workflows/zendesk-api-token");
        let got = fake_secrets(|p| (p == ZENDESK_TOKEN_SECRET_PARAM).then_some(&name));
        assert_eq!(got, BTreeMap::from([("workflows/zendesk-api-token".to_owned(), LOCAL_ZENDESK_TOKEN.to_owned())]));
        assert!(fake_secrets(|_| None).is_empty());
    }
}
