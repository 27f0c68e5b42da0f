//! An approver's link as it comes back: the request id from the path, `token` and
//! `action` from the query string (opening it) or the form body (deciding). Read
//! here, once, so both routes refuse the same things in the same words, and no
//! message echoes what was sent (the token is a credential).

use std::collections::HashMap;

use crate::request::RequestId;
use crate::state::Decision;
use crate::token::Token;
use crate::usecases::LinkRequest;

/// Why a link cannot be read. The text is what the approver's page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedLink {
    #[error("The request id in this link is malformed.")]
    RequestId,
    #[error("The link has no token, or a damaged one.")]
    Token,
    #[error("The link must say action=approve or action=reject.")]
    Action,
}

impl LinkRequest {
    /// A link's parts: the path's request id and the `token` and `action` fields.
    pub fn parse(raw_id: &str, fields: &HashMap<String, String>) -> Result<Self, MalformedLink> {
        let request_id = RequestId::parse(raw_id).ok_or(MalformedLink::RequestId)?;
        let token = Token::parse(fields.get("token").map(String::as_str).unwrap_or_default())
            .map_err(|_| MalformedLink::Token)?;
        let decision = fields.get("action").and_then(|a| Decision::from_link(a)).ok_or(MalformedLink::Action)?;
        Ok(Self { request_id: request_id.as_str().to_owned(), token, decision })
    }

    /// The confirmation page's form (`application/x-www-form-urlencoded`: token, action).
    pub fn from_form(raw_id: &str, body: &[u8]) -> Result<Self, MalformedLink> {
        let fields: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        Self::parse(raw_id, &fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(token: &str, action: &str) -> HashMap<String, String> {
        HashMap::from([("token".to_owned(), token.to_owned()), ("action".to_owned(), action.to_owned())])
    }

    #[test]
    fn a_link_is_read_from_the_query_or_the_form_alike() {
        let token = Token::generate().unwrap().expose();
        let from_query = LinkRequest::parse("req-1", &fields(&token, "approve")).unwrap();
        assert_eq!((from_query.request_id.as_str(), from_query.decision), ("req-1", Decision::Approved));
        assert_eq!(from_query.token.expose(), token);
        let body = format!("token={token}&action=reject");
        let from_form = LinkRequest::from_form("req-1", body.as_bytes()).unwrap();
        assert_eq!((from_form.token.expose(), from_form.decision), (token, Decision::Rejected));
    }

    #[test]
    fn each_part_is_refused_in_its_own_words() {
        let token = Token::generate().unwrap().expose();
        assert_eq!(LinkRequest::parse("bad id", &fields(&token, "approve")).unwrap_err(), MalformedLink::RequestId);
        assert_eq!(LinkRequest::parse("req-1", &fields("short", "approve")).unwrap_err(), MalformedLink::Token);
        assert_eq!(LinkRequest::parse("req-1", &fields(&token, "APPROVE")).unwrap_err(), MalformedLink::Action);
        assert_eq!(LinkRequest::from_form("req-1", b"\xff\xfe").unwrap_err(), MalformedLink::Token);
    }
}
