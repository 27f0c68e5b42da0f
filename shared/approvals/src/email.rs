//! The two emails: the approval request with its links, and the notice to the
//! other approvers once somebody decided. Pure: built from the request and a token.

use chrono::SecondsFormat;

use crate::ports::OutgoingEmail;
use crate::state::{ApprovalRequest, Decision};
use crate::token::Token;

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `{base}/approvals/{id}?token=…&action=approve|reject`: opening it only shows a
/// confirmation page (mail scanners fetch links); the page's button decides.
pub fn link(base_url: &str, request_id: &str, token: &Token, decision: Decision) -> String {
    format!(
        "{}/approvals/{request_id}?token={}&action={}",
        base_url.trim_end_matches('/'),
        token.expose(),
        decision.link_word()
    )
}

fn parameters_text(req: &ApprovalRequest) -> String {
    serde_json::to_string_pretty(&req.action_parameters).unwrap_or_else(|_| "{}".to_owned())
}

/// The request email for one approver, carrying that approver's token.
pub fn approval_email(req: &ApprovalRequest, approver: usize, token: &Token, base_url: &str) -> OutgoingEmail {
    let approve = link(base_url, &req.request_id, token, Decision::Approved);
    let reject = link(base_url, &req.request_id, token, Decision::Rejected);
    let expires = req.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let params = parameters_text(req);
    let subject = format!("Approval needed: {} for issue {}", req.action, req.issue_id);
    let text = format!(
        "The monitoring service asks for approval to run an action.\n\n\
         Issue: {}\nAction: {}\nParameters:\n{params}\n\n\
         Approve: {approve}\nReject: {reject}\n\n\
         Each link opens a page where you confirm. The first answer from any approver decides; \
         the links stop working then, or at {expires}.\n",
        req.issue_id, req.action
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family: sans-serif\">\
         <p>The monitoring service asks for approval to run an action.</p>\
         <table><tr><th align=\"left\">Issue</th><td>{issue}</td></tr>\
         <tr><th align=\"left\">Action</th><td>{action}</td></tr></table>\
         <p>Parameters:</p><pre>{params}</pre>\
         <p><a href=\"{approve}\">Approve</a> &nbsp; <a href=\"{reject}\">Reject</a></p>\
         <p>Each link opens a page where you confirm. The first answer from any approver decides; \
         the links stop working then, or at {expires}.</p></body></html>",
        issue = escape_html(&req.issue_id),
        action = escape_html(&req.action),
        params = escape_html(&params),
        approve = escape_html(&approve),
        reject = escape_html(&reject),
    );
    OutgoingEmail { to: req.approvers[approver].email.clone(), subject, html, text }
}

/// The notice to an approver who did not decide.
pub fn decided_email(req: &ApprovalRequest, approver: usize) -> Option<OutgoingEmail> {
    let d = req.decision.as_ref()?;
    let when = d.decided_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let by = req.decider_if_revealed().map(|who| format!(" by {who}")).unwrap_or_default();
    let word = d.decision.past_tense();
    let subject = format!("{}: {} for issue {}", capitalised(word), req.action, req.issue_id);
    let text = format!(
        "The request to run {} for issue {} was {word}{by} at {when}. Your approval links no longer work; \
         nothing more is needed from you.\n",
        req.action, req.issue_id
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family: sans-serif\"><p>The request to run <b>{}</b> for issue \
         <b>{}</b> was <b>{word}</b>{} at {when}.</p><p>Your approval links no longer work; nothing more is \
         needed from you.</p></body></html>",
        escape_html(&req.action),
        escape_html(&req.issue_id),
        escape_html(&by),
    );
    Some(OutgoingEmail { to: req.approvers[approver].email.clone(), subject, html, text })
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{NewRequest, Submission};
    use crate::state::DecisionRecord;

    fn request(reveal: bool) -> ApprovalRequest {
        let sub: Submission = serde_json::from_value(serde_json::json!({
            "request_id": "r1", "issue_id": "INC <1>", "action": "restart",
            "action_parameters": {"host": "db&1"},
            "approvers": ["a@x.org", "b@x.org"], "expires_in_minutes": 10, "reveal_approver": reveal,
        }))
        .unwrap();
        ApprovalRequest::new(&NewRequest::parse(sub, "2024-06-01T12:00:00Z".parse().unwrap()).unwrap())
    }

    #[test]
    fn the_approval_email_carries_both_links_with_the_token_and_escapes_text() {
        let req = request(false);
        let token = Token::generate().unwrap();
        let email = approval_email(&req, 1, &token, "https://api.example/");
        assert_eq!(email.to, "b@x.org");
        let approve = format!("https://api.example/approvals/r1?token={}&action=approve", token.expose());
        assert!(email.text.contains(&approve), "{}", email.text);
        assert!(email.html.contains(&escape_html(&approve)));
        assert!(email.html.contains("action=reject"));
        assert!(email.html.contains("INC &lt;1&gt;") && email.html.contains("db&amp;1"));
        assert!(!format!("{email:?}").contains("b@x.org"), "Debug hides the address");
    }

    #[test]
    fn the_notice_says_how_and_only_says_who_if_allowed() {
        let decided = |reveal| {
            let mut req = request(reveal);
            req.decision = Some(DecisionRecord {
                decision: Decision::Rejected,
                decided_at: "2024-06-01T12:05:00Z".parse().unwrap(),
                decided_by: 0,
            });
            decided_email(&req, 1).unwrap()
        };
        let hidden = decided(false);
        assert!(hidden.subject.starts_with("Rejected: restart"), "{}", hidden.subject);
        assert!(!hidden.text.contains("a@x.org"));
        assert!(decided(true).text.contains("rejected by a@x.org"));
    }
}
