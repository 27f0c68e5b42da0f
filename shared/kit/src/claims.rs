//! Names listed in one JWT claim (`roles`, `cognito:groups`), read exactly as the
//! HTTP API's JWT authorizer hands the claim to the function.
//!
//! **What arrives.** With payload format 2.0 the verified claims sit in
//! `requestContext.authorizer.jwt.claims`, a map of strings: AWS's page on Lambda
//! integrations for HTTP APIs shows them as `"claim1": "value1"`
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>),
//! and `aws_lambda_events` types them `HashMap<String, String>`. A string claim arrives
//! as is. An array claim is flattened to its elements between brackets, separated by
//! single spaces: `["a","b","c"]` in the token arrives as `[a b c]`. The AWS pages found
//! do not spell this rendering out; it is what deployed HTTP APIs deliver, reported in
//! aws-solutions-library-samples/guidance-for-claude-code-with-amazon-bedrock issue 802
//! and PR 803 ("API Gateway HTTP API JWT authorizer serializes array claims as
//! bracketed space-separated strings", `'[id1 id2 id3]'`), and the rendering the local
//! stack reproduces (`local_stack::http_api::jwt::claims_as_strings`). Other front doors
//! differ and are not ours: REST APIs' Cognito authorizer renders arrays its own way, and
//! REST APIs' JWT authorizer passes each claim with its JSON type.
//!
//! **How it is read.** Each name is compared exactly: case-sensitive, nothing trimmed,
//! a plain string never split. So
//! * `[a b]` is `a` and `b` (split on single spaces only; empty pieces are dropped);
//! * a real JSON array of strings, `["a","b"]` (a claim some issuers put in the token as
//!   a string, e.g. a pre-token-generation trigger that can only add strings), is its
//!   elements, exactly;
//! * any other text is one name: `Night ops` is the name `Night ops`, `x,auditor` the name
//!   `x,auditor`, ` ops` the name ` ops`;
//! * the empty string and `[]` list nothing.
//!
//! **What cannot be told apart.** The flattening is lossy, and the function sees only
//! the string:
//! * `cognito:groups` is unambiguous: Cognito group names match
//!   `[\p{L}\p{M}\p{S}\p{N}\p{P}]+` (CreateGroup, `GroupName`), so no name holds a space
//!   and splitting `[a b]` on spaces gives back exactly the groups.
//! * A `roles` array whose element contains a space is split by that space:
//!   `["Night ops"]` arrives as `[Night ops]` and reads as `Night` and `ops`, which grants
//!   `ops`. Role names must therefore never contain spaces, and whoever issues tokens must
//!   not put a space-holding value into a `roles` array. (A plain string `Night ops` is
//!   safe: it is one name.)
//! * A plain string that happens to be bracketed (`"[a b]"`) reads as the array it looks
//!   like, and a one-element array whose element is itself JSON-array text reads as JSON;
//!   both need names with brackets or quotes in them, which the issuer controls.
//!
//! ```
//! use kit::claims::{names, names_include};
//!
//! assert_eq!(names("[requester auditor]"), ["requester", "auditor"]);
//! assert_eq!(names(r#"["requester","auditor"]"#), ["requester", "auditor"]);
//! assert_eq!(names("Night ops"), ["Night ops"]);
//! assert!(names_include("[admin ops]", "ops"));
//! assert!(!names_include("Night ops", "ops"));
//! assert!(!names_include("x,auditor", "auditor"));
//! ```

/// The names listed in one claim value, in order, each exactly as given.
pub fn names(value: &str) -> Vec<String> {
    let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) else {
        return if value.is_empty() { Vec::new() } else { vec![value.to_owned()] };
    };
    if let Ok(list) = serde_json::from_str::<Vec<String>>(value) {
        return list.into_iter().filter(|n| !n.is_empty()).collect();
    }
    // A flattened array: API Gateway separates elements by exactly one space.
    inner.split(' ').filter(|n| !n.is_empty()).map(str::to_owned).collect()
}

/// Whether `name` is exactly one of the names the claim value lists.
pub fn names_include(value: &str, name: &str) -> bool {
    !name.is_empty() && names(value).iter().any(|n| n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flattened_array_is_its_elements() {
        assert_eq!(names("[a b]"), ["a", "b"]);
        assert_eq!(names("[ops]"), ["ops"]);
        assert_eq!(names("[]"), Vec::<String>::new());
        // An empty element (`["a","","b"]`) leaves two spaces; it names nothing.
        assert_eq!(names("[a  b]"), ["a", "b"]);
    }

    #[test]
    fn a_json_array_is_its_elements_exactly() {
        assert_eq!(names(r#"["a","b"]"#), ["a", "b"]);
        assert_eq!(names(r#"["Night ops", "x,auditor"]"#), ["Night ops", "x,auditor"]);
        assert_eq!(names(r#"[" ops"]"#), [" ops"]);
        assert_eq!(names("[\"\"]"), Vec::<String>::new());
    }

    #[test]
    fn a_plain_string_is_one_name_never_split() {
        assert_eq!(names("a"), ["a"]);
        assert_eq!(names("Night ops"), ["Night ops"]);
        assert_eq!(names("x,auditor"), ["x,auditor"]);
        assert_eq!(names(" ops "), [" ops "]);
        assert_eq!(names(""), Vec::<String>::new());
        // Half a bracket is not an array, nor is JSON with text around it.
        assert_eq!(names("[ops"), ["[ops"]);
        assert_eq!(names(r#" ["ops"]"#), [r#" ["ops"]"#]);
    }

    #[test]
    fn only_the_exact_name_is_included() {
        assert!(names_include("ops", "ops"));
        assert!(names_include("[ops]", "ops"));
        assert!(names_include("[admin ops]", "ops"));
        assert!(names_include(r#"["admin","ops"]"#, "ops"));
        for refused in
            ["", "[]", "Night ops", "operations", "devops", "OPS", "Ops", " ops", "ops ", "admin,ops", "[operations]"]
        {
            assert!(!names_include(refused, "ops"), "{refused:?}");
        }
        assert!(!names_include("x,auditor", "auditor"));
        assert!(!names_include("[x,auditor]", "auditor"));
        assert!(names_include("operations", "operations") && !names_include("ops", "operations"));
        assert!(!names_include("", ""), "the empty name is never listed");
    }

    #[test]
    fn unicode_names_are_compared_as_given() {
        assert_eq!(names("[équipe opérations]"), ["équipe", "opérations"]);
        assert!(names_include("[équipe ops]", "équipe"));
        // Cyrillic `а`, a zero-width space, a non-breaking space: other names.
        assert!(!names_include("[аuditor]", "auditor"));
        assert!(!names_include("[auditor\u{200b}]", "auditor"));
        assert_eq!(names("[a\u{a0}ops]"), ["a\u{a0}ops"]);
        assert!(!names_include("ops\u{a0}admin", "ops"));
    }

    #[test]
    fn the_module_example_holds() {
        assert_eq!(names("[requester auditor]"), ["requester", "auditor"]);
        assert_eq!(names(r#"["requester","auditor"]"#), ["requester", "auditor"]);
        assert!(!names_include("Night ops", "ops"));
    }
}
