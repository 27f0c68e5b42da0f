//! HTTP API route matching, with API Gateway's precedence: the most specific
//! route wins (literal segments over `{param}` over `{proxy+}`, a method over
//! ANY), and `$default` catches what nothing else does.

use std::collections::BTreeMap;

use crate::template::{HttpRouteSpec, RouteAuthSpec};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

/// One route: `METHOD /path` → function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `GET /users/{user_id}/services`, `ANY /{proxy+}` or `$default`.
    pub route_key: String,
    /// `None` = ANY.
    method: Option<String>,
    /// `None` = `$default`.
    segments: Option<Vec<Segment>>,
    /// Logical id of the function.
    pub function: String,
    pub auth: RouteAuthSpec,
}

impl Route {
    pub fn new(function: &str, spec: &HttpRouteSpec) -> Self {
        let method = (spec.method != "ANY").then(|| spec.method.clone());
        let (route_key, segments) = if spec.path == "$default" {
            ("$default".to_owned(), None)
        } else {
            let segments = split(&spec.path)
                .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy.to_owned()),
                        None => Segment::Param(name.to_owned()),
                    },
                    None => Segment::Literal(s.to_owned()),
                })
                .collect();
            (format!("{} {}", spec.method, spec.path), Some(segments))
        };
        Self { route_key, method, segments, function: function.to_owned(), auth: spec.auth.clone() }
    }

    /// Path parameters if the route matches the (still percent-encoded) path.
    fn matches(&self, method: &str, path: &[&str]) -> Option<BTreeMap<String, String>> {
        if self.method.as_deref().is_some_and(|m| m != method) {
            return None;
        }
        let Some(segments) = &self.segments else {
            return Some(BTreeMap::new());
        };
        let mut params = BTreeMap::new();
        for (i, segment) in segments.iter().enumerate() {
            match segment {
                Segment::Literal(lit) => {
                    if path.get(i) != Some(&lit.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = path.get(i)?;
                    params.insert(name.clone(), decode(value));
                }
                Segment::Greedy(name) => {
                    let rest = path.get(i..).filter(|r| !r.is_empty())?;
                    params.insert(name.clone(), decode(&rest.join("/")));
                    return Some(params);
                }
            }
        }
        (segments.len() == path.len()).then_some(params)
    }

    /// Larger is more specific: per segment literal > param > greedy, then a
    /// method over ANY; `$default` is least specific of all.
    fn specificity(&self) -> (bool, Vec<u8>, bool) {
        let segments = self.segments.as_ref().map_or_else(Vec::new, |s| {
            s.iter()
                .map(|seg| match seg {
                    Segment::Literal(_) => 3,
                    Segment::Param(_) => 2,
                    Segment::Greedy(_) => 1,
                })
                .collect()
        });
        (self.segments.is_some(), segments, self.method.is_some())
    }
}

/// A matched route and its decoded path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    pub route: &'a Route,
    pub path_parameters: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    pub fn new(routes: Vec<Route>) -> Self {
        Self { routes }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The most specific route for `method` and the raw request path.
    pub fn find(&self, method: &str, raw_path: &str) -> Option<RouteMatch<'_>> {
        let path: Vec<&str> = split(raw_path).collect();
        self.routes
            .iter()
            .filter_map(|route| {
                route.matches(method, &path).map(|path_parameters| RouteMatch { route, path_parameters })
            })
            .max_by(|a, b| a.route.specificity().cmp(&b.route.specificity()))
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(function: &str, method: &str, path: &str) -> Route {
        Route::new(
            function,
            &HttpRouteSpec {
                name: function.into(),
                api: None,
                method: method.into(),
                path: path.into(),
                auth: RouteAuthSpec::None,
            },
        )
    }

    fn table() -> RouteTable {
        RouteTable::new(vec![
            route("services", "GET", "/users/{user_id}/services"),
            route("me", "GET", "/users/me/services"),
            route("any_user", "ANY", "/users/{user_id}/services"),
            route("proxy", "ANY", "/files/{proxy+}"),
            route("health", "GET", "/healthz"),
        ])
    }

    #[test]
    fn params_are_extracted_and_decoded() {
        let t = table();
        let m = t.find("GET", "/users/u%201/services").expect("match");
        assert_eq!(m.route.function, "services");
        assert_eq!(m.route.route_key, "GET /users/{user_id}/services");
        assert_eq!(m.path_parameters["user_id"], "u 1");
    }

    #[test]
    fn most_specific_route_wins() {
        let t = table();
        assert_eq!(t.find("GET", "/users/me/services").expect("m").route.function, "me");
        assert_eq!(t.find("POST", "/users/u1/services").expect("m").route.function, "any_user");
        assert_eq!(t.find("GET", "/users/u1/services").expect("m").route.function, "services");
    }

    #[test]
    fn greedy_and_missing_routes() {
        let t = table();
        let m = t.find("DELETE", "/files/a/b/c.txt").expect("match");
        assert_eq!(m.path_parameters["proxy"], "a/b/c.txt");
        assert!(t.find("GET", "/files").is_none());
        assert!(t.find("GET", "/users/u1").is_none());
        assert!(t.find("POST", "/healthz").is_none());
        assert!(t.find("GET", "/nothing").is_none());
    }

    #[test]
    fn default_route_catches_the_rest() {
        let mut routes = table().routes().to_vec();
        routes.push(route("fallback", "ANY", "$default"));
        let t = RouteTable::new(routes);
        assert_eq!(t.find("GET", "/nothing").expect("m").route.function, "fallback");
        assert_eq!(t.find("GET", "/healthz").expect("m").route.function, "health");
    }
}
